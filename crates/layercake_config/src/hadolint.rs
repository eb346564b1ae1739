//! A `.hadolint.yaml`, turned into the `.layercake.yml` that means the same.
//!
//! One way for the data to flow: [`migrate_hadolint`] writes the
//! `.layercake.yml` text (what `layercake migrate hadolint` prints), and a
//! discovered `.hadolint.yaml` is that text, read by [`Config::from_yaml`].
//! Every line says in a comment where it comes from; what has no layercake
//! equivalent is listed in comments at the end.
//!
//! [`Config::from_yaml`]: crate::Config::from_yaml

use crate::error::ConfigError;
use layercake_lint::{RULES, Severity, equivalents_of, rules_for_hadolint};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// hadolint's configuration file names, in the order hadolint reads them.
pub const HADOLINT_FILE_NAMES: &[&str] = &[".hadolint.yaml", ".hadolint.yml"];

/// Whether `path` is named like a hadolint configuration file.
pub fn is_hadolint_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| HADOLINT_FILE_NAMES.contains(&name))
}

/// What hadolint reads. Keys layercake has no use for are listed, not refused:
/// the file is hadolint's, and its schema is hadolint's to grow.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawHadolint {
    ignored: Vec<String>,
    #[serde(rename = "failure-threshold")]
    failure_threshold: Option<String>,
    #[serde(rename = "no-fail")]
    no_fail: Option<bool>,
    #[serde(rename = "override")]
    severity_override: RawOverride,
    #[serde(rename = "trustedRegistries")]
    trusted_registries: Vec<String>,
}

/// `override:`: hadolint severity → codes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawOverride {
    error: Vec<String>,
    warning: Vec<String>,
    info: Vec<String>,
    style: Vec<String>,
}

/// The keys [`RawHadolint`] reads.
const READ_KEYS: &[&str] = &[
    "ignored",
    "failure-threshold",
    "no-fail",
    "override",
    "trustedRegistries",
];

/// The `.layercake.yml` text equivalent to the hadolint configuration `text`
/// (read from `path`, which errors name).
pub fn migrate_hadolint(path: &Path, text: &str) -> Result<String, ConfigError> {
    let keys: BTreeMap<String, IgnoredAny> = if text.trim().is_empty() {
        BTreeMap::new()
    } else {
        serde_saphyr::from_str::<Option<BTreeMap<String, IgnoredAny>>>(text)
            .map_err(|error| ConfigError::from_yaml(path, &error))?
            .unwrap_or_default()
    };
    let raw: RawHadolint = if keys.is_empty() {
        RawHadolint::default()
    } else {
        serde_saphyr::from_str(text).map_err(|error| ConfigError::from_yaml(path, &error))?
    };
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut notes: Vec<String> = Vec::new();
    let mut out = format!(
        "# .layercake.yml written by `layercake migrate hadolint` from {file_name}.\n\
         # Each line says what it comes from; what has no layercake equivalent is at the end.\n"
    );

    match fail_on(&raw) {
        Some((value, from)) => {
            let _ = writeln!(out, "fail-on: {value}  # {from}");
        }
        None => {
            if let Some(threshold) = &raw.failure_threshold {
                notes.push(format!(
                    "failure-threshold: {} is not a hadolint level; not carried over",
                    printable(threshold)
                ));
            }
        }
    }

    // Rule → (level, why), in code order. `ignored` wins over `override`, as in hadolint.
    let mut rules: BTreeMap<&'static str, (Level, Vec<String>)> = BTreeMap::new();
    let overrides = [
        ("error", &raw.severity_override.error, Severity::Error),
        ("warning", &raw.severity_override.warning, Severity::Warning),
        ("info", &raw.severity_override.info, Severity::Info),
        ("style", &raw.severity_override.style, Severity::Info),
    ];
    for (hadolint_level, codes, severity) in overrides {
        for code in codes {
            let mapped = rules_for_hadolint(code);
            if mapped.is_empty() {
                notes.push(no_rule(&format!("override.{hadolint_level}"), code));
            }
            for rule in mapped {
                let (level, why) = rules
                    .entry(rule)
                    .or_insert((Level::Severity(severity), Vec::new()));
                if let Level::Severity(current) = level {
                    // Two codes of one rule at different levels: the stricter wins.
                    *current = (*current).max(severity);
                }
                why.push(format!(
                    "override.{hadolint_level}: {}",
                    printable(&code.to_ascii_uppercase())
                ));
            }
        }
    }
    for code in &raw.ignored {
        let mapped = rules_for_hadolint(code);
        if mapped.is_empty() {
            notes.push(no_rule("ignored", code));
        }
        for rule in mapped {
            let (level, why) = rules.entry(rule).or_insert((Level::Off, Vec::new()));
            *level = Level::Off;
            why.push(format!(
                "ignored: {}",
                printable(&code.to_ascii_uppercase())
            ));
        }
    }
    if !rules.is_empty() {
        out.push_str("rules:\n");
    }
    for rule in RULES.iter().map(|r| r.meta().code) {
        let Some((level, why)) = rules.get(rule) else {
            continue;
        };
        let mut comment = why.join(", ");
        let also: Vec<&str> = equivalents_of(rule)
            .hadolint
            .iter()
            .copied()
            .filter(|dl| !why.iter().any(|w| w.ends_with(dl)))
            .collect();
        if !also.is_empty() {
            let _ = write!(comment, " (the rule also stands for {})", also.join(", "));
        }
        let _ = writeln!(out, "  {rule}: {}  # {comment}", level.as_str());
    }

    if !raw.trusted_registries.is_empty() {
        notes.push(format!(
            "trustedRegistries: {}: layercake does not restrict registries (hadolint's DL3026)",
            raw.trusted_registries
                .iter()
                .map(|r| printable(r))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for key in keys.keys().filter(|k| !READ_KEYS.contains(&k.as_str())) {
        notes.push(format!("{}: no layercake equivalent", printable(key)));
    }
    if !notes.is_empty() {
        out.push_str("# Not carried over:\n");
        for note in notes {
            let _ = writeln!(out, "# - {note}");
        }
    }
    Ok(out)
}

/// `fail-on` from `no-fail` or `failure-threshold`, and where it comes from.
fn fail_on(raw: &RawHadolint) -> Option<(&'static str, String)> {
    if raw.no_fail == Some(true) {
        return Some(("none", "no-fail: true".to_string()));
    }
    let threshold = raw.failure_threshold.as_deref()?;
    // layercake has no `style`: its lowest level, `info`, fails on every finding.
    let value = match threshold.trim().to_ascii_lowercase().as_str() {
        "error" => "error",
        "warning" => "warning",
        "info" | "style" => "info",
        "ignore" | "none" => "none",
        _ => return None,
    };
    Some((
        value,
        format!("failure-threshold: {}", printable(threshold)),
    ))
}

/// What a rule is set to.
#[derive(Clone, Copy, Debug)]
enum Level {
    Off,
    Severity(Severity),
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Severity(severity) => severity.as_str(),
        }
    }
}

/// The note for a hadolint code no layercake rule stands for.
fn no_rule(key: &str, code: &str) -> String {
    let why = if code.to_ascii_uppercase().starts_with("SC") {
        "a ShellCheck code; layercake does not run ShellCheck"
    } else {
        "no layercake rule reports the same problem (docs/comparison.md says why)"
    };
    format!("{key}: {}: {why}", printable(code))
}

/// `text` as it may stand in a YAML comment: one line, no control characters.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
