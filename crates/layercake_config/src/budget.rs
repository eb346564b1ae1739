//! Size budgets: how much an image may grow, and how big it may be.
//!
//! Sizes are written as whole bytes (`10000000`) or with a unit (`10MB`,
//! `1.5 GiB`); [`parse_size`] reads them, and [`format_bytes`] shows sizes back.

use crate::error::{ConfigError, ConfigLocation, printable};
use crate::schema::RawBudget;
use serde_saphyr::Spanned;
use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

/// The units a size accepts, with their size in bytes.
const UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

/// The unit names, for messages.
const UNIT_NAMES: &str = "B, kB, KB, MB, GB, KiB, MiB, GiB";

/// Limits on one image's size, and which size they judge.
///
/// The default has no limits: nothing violates it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    /// The most the image may grow from base to head, in bytes (`max-growth`).
    pub max_growth_bytes: Option<u64>,
    /// The most the image may grow, in percent of the base size (`max-growth-percent`).
    pub max_growth_percent: Option<f64>,
    /// The most the head image may weigh, in bytes (`max-size`).
    pub max_size_bytes: Option<u64>,
    /// Whether the limits judge compressed (gzip) sizes rather than
    /// uncompressed ones (`compressed`). [`Budget::check`] compares whatever
    /// sizes it is given; this says which ones the caller should give it.
    pub compressed: bool,
}

// `max_growth_percent` compares by its bits, so equality is reflexive and
// `Budget` (and the settings holding it) can stay `Eq`.
impl PartialEq for Budget {
    fn eq(&self, other: &Self) -> bool {
        let percent = match (self.max_growth_percent, other.max_growth_percent) {
            (Some(a), Some(b)) => a.total_cmp(&b) == Ordering::Equal,
            (a, b) => a.is_none() && b.is_none(),
        };
        percent
            && self.max_growth_bytes == other.max_growth_bytes
            && self.max_size_bytes == other.max_size_bytes
            && self.compressed == other.compressed
    }
}

impl Eq for Budget {}

impl Budget {
    /// Whether any limit is set.
    pub fn has_limits(&self) -> bool {
        self.max_growth_bytes.is_some()
            || self.max_growth_percent.is_some()
            || self.max_size_bytes.is_some()
    }

    /// The limits set, each as its key and value in the spelling
    /// [`BudgetViolation::allowed`] uses: `max-growth 10MB`,
    /// `max-growth-percent 5%`, `max-size 1GiB`. Empty when none is set.
    pub fn limits(&self) -> Vec<String> {
        let mut limits = Vec::new();
        if let Some(bytes) = self.max_growth_bytes {
            limits.push(format!(
                "{} {}",
                BudgetLimit::MaxGrowth,
                format_size_limit(bytes)
            ));
        }
        if let Some(percent) = self.max_growth_percent {
            limits.push(format!("{} {percent}%", BudgetLimit::MaxGrowthPercent));
        }
        if let Some(bytes) = self.max_size_bytes {
            limits.push(format!(
                "{} {}",
                BudgetLimit::MaxSize,
                format_size_limit(bytes)
            ));
        }
        limits
    }

    /// The limits an image of `head` bytes breaks, grown from `base` bytes
    /// (`None`: the image is new, so only `max-size` applies). Growth limits
    /// judge growth only: an image that shrinks never breaks them. The percent
    /// limit is skipped when the base is 0 bytes. At the limit is within it.
    pub fn check(&self, base: Option<u64>, head: u64) -> Vec<BudgetViolation> {
        let mut violations = Vec::new();
        let growth = base.and_then(|base| head.checked_sub(base).map(|growth| (base, growth)));
        if let (Some(limit), Some((_, growth))) = (self.max_growth_bytes, growth)
            && growth > limit
        {
            violations.push(BudgetViolation {
                limit: BudgetLimit::MaxGrowth,
                allowed: format_size_limit(limit),
                actual: format!("+{}", format_bytes_beyond(growth, limit)),
            });
        }
        if let (Some(limit), Some((base, growth))) = (self.max_growth_percent, growth)
            && base > 0
        {
            let percent = growth as f64 * 100.0 / base as f64;
            if percent > limit {
                violations.push(BudgetViolation {
                    limit: BudgetLimit::MaxGrowthPercent,
                    allowed: format!("{limit}%"),
                    actual: format!("+{}%", format_percent_beyond(percent, limit)),
                });
            }
        }
        if let Some(limit) = self.max_size_bytes
            && head > limit
        {
            violations.push(BudgetViolation {
                limit: BudgetLimit::MaxSize,
                allowed: format_size_limit(limit),
                actual: format_bytes_beyond(head, limit),
            });
        }
        violations
    }
}

/// Which limit of a [`Budget`] an image broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetLimit {
    /// `max-growth`.
    MaxGrowth,
    /// `max-growth-percent`.
    MaxGrowthPercent,
    /// `max-size`.
    MaxSize,
}

impl BudgetLimit {
    /// The key that sets the limit: `max-growth`, `max-growth-percent` or `max-size`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetLimit::MaxGrowth => "max-growth",
            BudgetLimit::MaxGrowthPercent => "max-growth-percent",
            BudgetLimit::MaxSize => "max-size",
        }
    }

    /// The same as [`BudgetLimit::as_str`].
    pub fn key(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for BudgetLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A limit an image broke, ready to show: `max-growth 10MB exceeded: +12.3 MB`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BudgetViolation {
    /// The limit.
    pub limit: BudgetLimit,
    /// The limit's value in its shortest exact spelling: `10MB`, `500MiB`,
    /// `1.5GB`, `123456B`, `5%`.
    pub allowed: String,
    /// What the image did: `+12.3 MB` or `+7.1%` for growth, `612.0 MB` for
    /// size. Shown with as many decimals as it takes to differ from `allowed`.
    pub actual: String,
}

impl fmt::Display for BudgetViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} exceeded: {}",
            self.limit, self.allowed, self.actual
        )
    }
}

/// Reads a size: whole bytes (`1048576`), or a number with a unit, with or
/// without a space: `B`, `kB`/`KB`/`MB`/`GB` (powers of 1000) or
/// `KiB`/`MiB`/`GiB` (powers of 1024). The number may have a fraction
/// (`1.5GB`); the result is rounded to the nearest byte.
///
/// The error says what is wrong, without repeating the text.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("a size cannot be negative".to_string());
    }
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_len);
    let (whole, fraction) = split_decimal(number).ok_or_else(|| {
        "expected a number of bytes, optionally with a unit, such as 10MB or 1.5GiB".to_string()
    })?;
    let unit = unit.trim_start();
    let multiplier = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|&(_, bytes)| bytes)
            .ok_or_else(|| {
                format!(
                    "unknown unit '{}' (expected one of: {UNIT_NAMES})",
                    printable(unit)
                )
            })?
    };
    let too_large = || format!("too large (the largest size is {} bytes)", u64::MAX);
    // Exact decimal arithmetic: digits × multiplier ÷ 10^(fraction digits),
    // rounded. Twelve decimals are finer than a byte in every unit; more are dropped.
    let fraction = &fraction[..fraction.len().min(12)];
    let fraction = fraction.trim_end_matches('0');
    let mut digits: u128 = 0;
    for c in whole.chars().chain(fraction.chars()) {
        digits = digits
            .checked_mul(10)
            .and_then(|d| d.checked_add(u128::from(c as u8 - b'0')))
            .ok_or_else(too_large)?;
    }
    let scale = u32::try_from(fraction.len())
        .ok()
        .and_then(|exponent| 10u128.checked_pow(exponent))
        .ok_or_else(too_large)?;
    let scaled = digits
        .checked_mul(u128::from(multiplier))
        .ok_or_else(too_large)?;
    let bytes = (scaled + scale / 2) / scale;
    u64::try_from(bytes).map_err(|_| too_large())
}

/// Splits `digits[.digits]` into its whole and fractional digits; `None` when
/// `text` is not such a number (no digit at all, or a second `.`).
fn split_decimal(text: &str) -> Option<(&str, &str)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    (is_digits(whole) && is_digits(fraction) && !(whole.is_empty() && fraction.is_empty()))
        .then_some((whole, fraction))
}

/// Reads a percentage: a number that may have a fraction, with or without a
/// trailing `%` (`5`, `2.5`, `5%`).
fn parse_percent(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("a percentage cannot be negative".to_string());
    }
    let number = text.strip_suffix('%').map_or(text, str::trim_end);
    split_decimal(number)
        .and_then(|_| number.parse::<f64>().ok())
        .filter(|percent| percent.is_finite())
        .ok_or_else(|| "expected a percentage, such as 5 or 2.5".to_string())
}

/// The SI unit `bytes` is shown in (bytes per unit, and its name), chosen so
/// the value rounded to one decimal is below 1000; `None` below 1 kB.
fn display_unit(bytes: u64) -> Option<(u128, &'static str)> {
    if bytes < 1000 {
        return None;
    }
    let mut unit: u128 = 1000;
    for name in ["kB", "MB", "GB", "TB", "PB"] {
        let tenths = (u128::from(bytes) * 10 + unit / 2) / unit;
        if tenths < 10_000 {
            return Some((unit, name));
        }
        unit *= 1000;
    }
    Some((unit, "EB"))
}

/// `bytes` in `unit`, rounded to `decimals` decimals, as a number of
/// 10^-decimals units.
fn scaled(bytes: u64, unit: u128, decimals: u32) -> u128 {
    let scale = 10u128.pow(decimals);
    (u128::from(bytes) * scale + unit / 2) / unit
}

/// `value` (a count of 10^-decimals) written with `decimals` decimals.
fn with_decimals(value: u128, decimals: u32) -> String {
    let scale = 10u128.pow(decimals);
    if decimals == 0 {
        value.to_string()
    } else {
        format!(
            "{}.{:0width$}",
            value / scale,
            value % scale,
            width = decimals as usize
        )
    }
}

/// A size for people: SI units with one decimal (`12.3 MB`), whole bytes
/// below 1 kB (`512 B`).
pub fn format_bytes(bytes: u64) -> String {
    match display_unit(bytes) {
        None => format!("{bytes} B"),
        Some((unit, name)) => format!("{} {name}", with_decimals(scaled(bytes, unit, 1), 1)),
    }
}

/// A change in size for people, as [`format_bytes`] with a sign: `+12.3 MB`,
/// `-1.0 kB`, and `0 B` for no change.
pub fn format_signed_bytes(delta: i64) -> String {
    let size = format_bytes(delta.unsigned_abs());
    match delta.cmp(&0) {
        Ordering::Greater => format!("+{size}"),
        Ordering::Less => format!("-{size}"),
        Ordering::Equal => size,
    }
}

/// `bytes` as [`format_bytes`] shows it, with more decimals when one would
/// make it look no larger than `limit` (which it exceeds).
fn format_bytes_beyond(bytes: u64, limit: u64) -> String {
    let Some((unit, name)) = display_unit(bytes) else {
        return format!("{bytes} B");
    };
    let mut decimals = 1;
    let mut shown = scaled(bytes, unit, decimals);
    // Exact once the decimals reach the unit's power of ten (18 for EB), so the
    // loop always ends with a value shown above `limit`.
    while shown * unit <= u128::from(limit) * 10u128.pow(decimals) && decimals < 18 {
        decimals += 1;
        shown = scaled(bytes, unit, decimals);
    }
    format!("{} {name}", with_decimals(shown, decimals))
}

/// `percent` with one decimal, or more when one would make it look no larger
/// than `limit` (which it exceeds).
fn format_percent_beyond(percent: f64, limit: f64) -> String {
    let mut decimals = 1;
    loop {
        let shown = format!("{percent:.decimals$}");
        if decimals >= 6 || shown.parse::<f64>().is_ok_and(|value| value > limit) {
            return shown;
        }
        decimals += 1;
    }
}

/// A size limit in its shortest exact spelling with at most two decimals,
/// the largest unit first: `10MB`, `500MiB`, `1.5GB`, `123456B`.
fn format_size_limit(bytes: u64) -> String {
    const BY_SIZE: &[(&str, u64)] = &[
        ("GiB", 1 << 30),
        ("GB", 1_000_000_000),
        ("MiB", 1 << 20),
        ("MB", 1_000_000),
        ("KiB", 1 << 10),
        ("kB", 1_000),
    ];
    for &(name, unit) in BY_SIZE {
        if bytes < unit {
            continue;
        }
        for decimals in 0..=2 {
            let scale = 10u128.pow(decimals);
            let total = u128::from(bytes) * scale;
            if total % u128::from(unit) == 0 {
                let value = with_decimals(total / u128::from(unit), decimals);
                return format!("{value}{name}");
            }
        }
    }
    format!("{bytes}B")
}

/// What one part of the file (top level, override, image entry) says about
/// the budget; unset limits are inherited from the layers below.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BudgetLayer {
    pub max_growth_bytes: Option<u64>,
    pub max_growth_percent: Option<f64>,
    pub max_size_bytes: Option<u64>,
    pub compressed: Option<bool>,
}

impl BudgetLayer {
    /// Sets on `budget` what this layer sets.
    pub fn apply(&self, budget: &mut Budget) {
        if let Some(bytes) = self.max_growth_bytes {
            budget.max_growth_bytes = Some(bytes);
        }
        if let Some(percent) = self.max_growth_percent {
            budget.max_growth_percent = Some(percent);
        }
        if let Some(bytes) = self.max_size_bytes {
            budget.max_size_bytes = Some(bytes);
        }
        if let Some(compressed) = self.compressed {
            budget.compressed = compressed;
        }
    }

    /// This layer alone, as a budget.
    pub fn to_budget(self) -> Budget {
        let mut budget = Budget::default();
        self.apply(&mut budget);
        budget
    }
}

/// Checks a `budget:` mapping. `prefix` names where it is (`budget`,
/// `overrides.budget`, `images.budget`) in errors.
pub(crate) fn check_budget(
    path: &Path,
    prefix: &str,
    raw: RawBudget,
) -> Result<BudgetLayer, ConfigError> {
    let invalid =
        |key: &str, value: &Spanned<String>, reason: String| ConfigError::InvalidSetting {
            at: ConfigLocation::new(path, Some(value.referenced)),
            key: format!("{prefix}.{key}"),
            value: printable(&value.value),
            reason,
        };
    let size = |key: &str, value: Option<Spanned<String>>| {
        value
            .map(|value| parse_size(&value.value).map_err(|reason| invalid(key, &value, reason)))
            .transpose()
    };
    let max_growth_bytes = size("max-growth", raw.max_growth)?;
    let max_size_bytes = size("max-size", raw.max_size)?;
    let max_growth_percent = raw
        .max_growth_percent
        .map(|value| {
            parse_percent(&value.value)
                .map_err(|reason| invalid("max-growth-percent", &value, reason))
        })
        .transpose()?;
    Ok(BudgetLayer {
        max_growth_bytes,
        max_growth_percent,
        max_size_bytes,
        compressed: raw.compressed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units() {
        let table: &[(&str, u64)] = &[
            ("0", 0),
            ("512", 512),
            ("18446744073709551615", u64::MAX),
            ("10B", 10),
            ("1kB", 1_000),
            ("1KB", 1_000),
            ("10MB", 10_000_000),
            ("10 MB", 10_000_000),
            ("  10MB  ", 10_000_000),
            ("1.5GB", 1_500_000_000),
            ("1GB", 1_000_000_000),
            ("1KiB", 1_024),
            ("500MiB", 524_288_000),
            ("1GiB", 1_073_741_824),
            ("1.5GiB", 1_610_612_736),
            ("0.5kB", 500),
            (".5kB", 500),
            ("2.kB", 2_000),
            ("1.1KiB", 1_126), // 1126.4, rounded
            ("0.0005kB", 1),   // 0.5 B, rounded up
            ("1.000000000000000000000000000000000000001GB", 1_000_000_000),
        ];
        for &(text, bytes) in table {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn bad_sizes_say_why() {
        let table: &[(&str, &str)] = &[
            ("-1", "a size cannot be negative"),
            ("-5MB", "a size cannot be negative"),
            (
                "10mb",
                "unknown unit 'mb' (expected one of: B, kB, KB, MB, GB, KiB, MiB, GiB)",
            ),
            (
                "10 TB",
                "unknown unit 'TB' (expected one of: B, kB, KB, MB, GB, KiB, MiB, GiB)",
            ),
            (
                "10MB5",
                "unknown unit 'MB5' (expected one of: B, kB, KB, MB, GB, KiB, MiB, GiB)",
            ),
            (
                "",
                "expected a number of bytes, optionally with a unit, such as 10MB or 1.5GiB",
            ),
            (
                "MB",
                "expected a number of bytes, optionally with a unit, such as 10MB or 1.5GiB",
            ),
            (
                "1.2.3MB",
                "expected a number of bytes, optionally with a unit, such as 10MB or 1.5GiB",
            ),
            (
                ".",
                "expected a number of bytes, optionally with a unit, such as 10MB or 1.5GiB",
            ),
            (
                "+5",
                "expected a number of bytes, optionally with a unit, such as 10MB or 1.5GiB",
            ),
            (
                "1e9",
                "unknown unit 'e9' (expected one of: B, kB, KB, MB, GB, KiB, MiB, GiB)",
            ),
            (
                "18446744073709551616",
                "too large (the largest size is 18446744073709551615 bytes)",
            ),
            (
                "18446744073.709551616GB",
                "too large (the largest size is 18446744073709551615 bytes)",
            ),
            (
                "99999999999999999999999999999999999999999",
                "too large (the largest size is 18446744073709551615 bytes)",
            ),
        ];
        for &(text, message) in table {
            assert_eq!(parse_size(text), Err(message.to_string()), "{text}");
        }
    }

    #[test]
    fn percentages_parse() {
        assert_eq!(parse_percent("5"), Ok(5.0));
        assert_eq!(parse_percent("2.5"), Ok(2.5));
        assert_eq!(parse_percent("5%"), Ok(5.0));
        assert_eq!(parse_percent("0.5 %"), Ok(0.5));
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("five").is_err());
        assert!(parse_percent("inf").is_err());
        assert!(parse_percent("1e3").is_err());
    }

    #[test]
    fn bytes_format_in_si_units() {
        let table: &[(u64, &str)] = &[
            (0, "0 B"),
            (512, "512 B"),
            (999, "999 B"),
            (1_000, "1.0 kB"),
            (1_024, "1.0 kB"),
            (12_345_678, "12.3 MB"),
            (999_949, "999.9 kB"),
            (999_950, "1.0 MB"),
            (1_500_000_000, "1.5 GB"),
            (u64::MAX, "18.4 EB"),
        ];
        for &(bytes, text) in table {
            assert_eq!(format_bytes(bytes), text, "{bytes}");
        }
        assert_eq!(format_signed_bytes(12_345_678), "+12.3 MB");
        assert_eq!(format_signed_bytes(-1_000), "-1.0 kB");
        assert_eq!(format_signed_bytes(0), "0 B");
        assert_eq!(format_signed_bytes(i64::MIN), "-9.2 EB");
    }

    #[test]
    fn limits_show_in_their_shortest_exact_spelling() {
        let table: &[(&str, &str)] = &[
            ("10MB", "10MB"),
            ("10 MB", "10MB"),
            ("500MiB", "500MiB"),
            ("1.5GB", "1.5GB"),
            ("1GiB", "1GiB"),
            ("1.5GiB", "1.5GiB"),
            ("1000KB", "1MB"),
            ("1024KiB", "1MiB"),
            ("512", "512B"),
            ("123456", "123456B"),
            ("1000", "1kB"),
            ("0", "0B"),
        ];
        for &(written, shown) in table {
            let bytes = parse_size(written).unwrap();
            assert_eq!(format_size_limit(bytes), shown, "{written}");
        }
    }

    #[test]
    fn actual_values_get_the_decimals_that_tell_them_from_the_limit() {
        assert_eq!(format_bytes_beyond(12_345_678, 10_000_000), "12.3 MB");
        assert_eq!(format_bytes_beyond(10_000_001, 10_000_000), "10.000001 MB");
        assert_eq!(format_bytes_beyond(10_040_000, 10_000_000), "10.04 MB");
        assert_eq!(format_bytes_beyond(u64::MAX, u64::MAX - 1), "18.45 EB");
        assert_eq!(format_bytes_beyond(700, 600), "700 B");
        assert_eq!(format_percent_beyond(7.1234, 5.0), "7.1");
        assert_eq!(format_percent_beyond(5.04, 5.0), "5.04");
    }
}
