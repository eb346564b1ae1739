//! A checked configuration file, and how it resolves into settings for one Dockerfile.

use crate::budget::{Budget, BudgetLayer, check_budget};
use crate::error::{ConfigError, ConfigLocation};
use crate::hadolint::{is_hadolint_file, migrate_hadolint};
use crate::images::{CheckedImage, ImageSpec, check_images, normalize_relative};
use crate::schema::{RawBudget, RawConfig, RawOverride, RawRules};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use layercake_dockerignore::LexicalPath;
use layercake_lint::{Finding, LintSettings, RULES, Severity, rule_by_code, rule_by_name};
use serde_saphyr::Spanned;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// When a lint run fails (exits 1): at a severity and above, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailOn {
    /// Findings at this severity or above fail the run.
    Severity(Severity),
    /// No finding fails the run (`none`).
    Never,
}

impl FailOn {
    /// The words `fail-on` and `--fail-on` accept.
    pub const NAMES: &'static [&'static str] = &["error", "warning", "info", "none"];

    /// Parses `error`, `warning`, `info` or `none`.
    pub fn parse(text: &str) -> Option<FailOn> {
        match text {
            "none" => Some(FailOn::Never),
            other => Severity::parse(other).map(FailOn::Severity),
        }
    }

    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Severity(threshold) => severity >= threshold,
            FailOn::Never => false,
        }
    }
}

impl Default for FailOn {
    fn default() -> Self {
        FailOn::Severity(LintSettings::default().fail_threshold)
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailOn::Severity(severity) => severity.fmt(f),
            FailOn::Never => f.write_str("none"),
        }
    }
}

/// `--fail-on` was given something other than `error`, `warning`, `info` or `none`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid fail-on level '{0}' (expected one of: error, warning, info, none)")]
pub struct InvalidFailOn(pub String);

impl FromStr for FailOn {
    type Err = InvalidFailOn;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FailOn::parse(text).ok_or_else(|| InvalidFailOn(text.to_string()))
    }
}

/// What `rules:` says about one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleLevel {
    /// The rule does not run.
    Off,
    /// The rule runs at its default severity (undoes an `off` from a wider layer).
    On,
    /// The rule runs, and its findings have this severity.
    Severity(Severity),
}

impl RuleLevel {
    /// The words a rule's value accepts.
    pub const NAMES: &'static [&'static str] = &["off", "on", "error", "warning", "info"];

    /// Parses `off`, `on`, `error`, `warning` or `info`.
    pub fn parse(text: &str) -> Option<RuleLevel> {
        match text {
            "off" => Some(RuleLevel::Off),
            "on" => Some(RuleLevel::On),
            other => Severity::parse(other).map(RuleLevel::Severity),
        }
    }
}

/// The code of the rule named by `selector`: a code (any case, e.g. `lc001`) or
/// a rule name (e.g. `parse-error`, any case). `None` when no rule has it.
pub fn resolve_rule(selector: &str) -> Option<&'static str> {
    let selector = selector.trim();
    rule_by_code(selector)
        .or_else(|| rule_by_name(&selector.to_ascii_lowercase()))
        .map(|rule| rule.meta().code)
}

/// What the command line says; it wins over everything in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliOverrides {
    /// `--fail-on`.
    pub fail_on: Option<FailOn>,
    /// `--target`.
    pub target: Option<String>,
    /// `--select`: when not empty, exactly these rules run (codes, see [`resolve_rule`]).
    pub select: Vec<&'static str>,
    /// `--ignore`: these rules do not run, selected or not.
    pub ignore: Vec<&'static str>,
}

impl CliOverrides {
    /// The settings for a Dockerfile that no configuration file covers.
    pub fn settings(&self) -> ResolvedSettings {
        let mut builder = SettingsBuilder::default();
        builder.apply_cli(self);
        builder.finish()
    }
}

/// Settings for one Dockerfile: what to lint with, when the run fails, and
/// how much its image may grow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedSettings {
    /// The lint settings. `lint.fail_threshold` mirrors `fail_on` (and is
    /// `error` for `none`); `fail_on` is the one to decide with.
    pub lint: LintSettings,
    /// When the run fails.
    pub fail_on: FailOn,
    /// The size budget of the Dockerfile's image: the top level's `budget`,
    /// then each matching override's, then its `images` entry's, limit by
    /// limit. The command line sets none (yet).
    pub budget: Budget,
}

impl ResolvedSettings {
    /// Whether any of `findings` fails the run.
    pub fn fails(&self, findings: &[Finding]) -> bool {
        findings
            .iter()
            .any(|finding| self.fail_on.fails(finding.severity))
    }
}

impl Default for ResolvedSettings {
    fn default() -> Self {
        CliOverrides::default().settings()
    }
}

/// Settings one part of the file sets: the top level, one override, or one
/// `images` entry (which sets only `target` and `budget`).
#[derive(Clone, Debug, Default)]
struct Layer {
    fail_on: Option<FailOn>,
    target: Option<String>,
    rules: Vec<(&'static str, RuleLevel)>,
    budget: BudgetLayer,
}

/// One `overrides` entry: globs relative to the configuration file's directory.
#[derive(Clone, Debug)]
struct Override {
    globs: GlobSet,
    layer: Layer,
}

/// A checked `.layercake.yml`: every rule known, every value valid.
#[derive(Clone, Debug)]
pub struct Config {
    path: PathBuf,
    dir: PathBuf,
    top: Layer,
    overrides: Vec<Override>,
    images: Vec<ImageSpec>,
    /// Per entry of `images`, what it sets for its Dockerfile.
    image_layers: Vec<Layer>,
}

/// Reads and checks the configuration file at `path` (as `--config PATH` names it).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if is_hadolint_file(path) {
        Config::from_hadolint_yaml(path, &text)
    } else {
        Config::from_yaml(path, &text)
    }
}

impl Config {
    /// Checks `text` as the content of the file at `path`. `path` names the
    /// file in errors, and its directory is what override globs are relative to.
    /// Reads nothing from disk.
    pub fn from_yaml(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            serde_saphyr::from_str(text).map_err(|error| ConfigError::from_yaml(path, &error))?;
        let top = check_layer(path, "", raw.fail_on, raw.target, raw.rules, raw.budget)?;
        let overrides = raw
            .overrides
            .unwrap_or_default()
            .into_iter()
            .map(|o| check_override(path, o))
            .collect::<Result<_, _>>()?;
        let (images, image_layers) = check_images(path, raw.images.unwrap_or_default())?
            .into_iter()
            .map(|CheckedImage { spec, budget }| {
                let layer = Layer {
                    target: spec.target.clone(),
                    budget,
                    ..Layer::default()
                };
                (spec, layer)
            })
            .unzip();
        let absolute = normalize(path);
        let dir = absolute
            .parent()
            .map_or_else(|| absolute.clone(), Path::to_path_buf);
        Ok(Config {
            path: path.to_path_buf(),
            dir,
            top,
            overrides,
            images,
            image_layers,
        })
    }

    /// Reads `text` as hadolint's configuration (`.hadolint.yaml`): what
    /// [`migrate_hadolint`] turns it into. Keys with no layercake
    /// equivalent are left out.
    pub fn from_hadolint_yaml(path: &Path, text: &str) -> Result<Config, ConfigError> {
        Config::from_yaml(path, &migrate_hadolint(path, text)?)
    }

    /// The file, as given or as found.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The absolute directory of the file: override globs are relative to it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings for `dockerfile`: the file's top level, then each override
    /// whose globs match (in file order, later wins), then its `images` entry
    /// (its `target` and `budget`), then the command line.
    pub fn settings_for(&self, dockerfile: &Path, cli: &CliOverrides) -> ResolvedSettings {
        let mut builder = SettingsBuilder::default();
        builder.apply_layer(&self.top);
        let dockerfile = normalize(dockerfile);
        // A Dockerfile outside the file's directory matches no override and no image.
        if let Ok(relative) = dockerfile.strip_prefix(&self.dir) {
            for o in self.overrides.iter().filter(|o| o.globs.is_match(relative)) {
                builder.apply_layer(&o.layer);
            }
            if let Some(index) = self.image_index(relative) {
                builder.apply_layer(&self.image_layers[index]);
            }
        }
        builder.apply_cli(cli);
        builder.finish()
    }

    /// The `images` entries, in file order.
    pub fn images(&self) -> &[ImageSpec] {
        &self.images
    }

    /// The `images` entry for `dockerfile`, a path relative to the file's
    /// directory (`.` and `..` resolved by spelling). An absolute path is
    /// taken relative to [`Config::dir`] first.
    pub fn image_for(&self, dockerfile: &Path) -> Option<&ImageSpec> {
        let relative = if dockerfile.is_absolute() {
            normalize(dockerfile)
                .strip_prefix(&self.dir)
                .ok()?
                .to_path_buf()
        } else {
            dockerfile.to_path_buf()
        };
        self.image_index(&relative).map(|index| &self.images[index])
    }

    fn image_index(&self, relative: &Path) -> Option<usize> {
        let relative = normalize_relative(relative)?;
        self.images
            .iter()
            .position(|image| image.dockerfile == relative)
    }
}

/// Settings being put together, layer after layer.
#[derive(Default)]
struct SettingsBuilder {
    lint: LintSettings,
    fail_on: FailOn,
    budget: Budget,
}

impl SettingsBuilder {
    fn apply_layer(&mut self, layer: &Layer) {
        if let Some(fail_on) = layer.fail_on {
            self.fail_on = fail_on;
        }
        if let Some(target) = &layer.target {
            self.lint.target = Some(target.clone());
        }
        layer.budget.apply(&mut self.budget);
        for &(code, level) in &layer.rules {
            match level {
                RuleLevel::Off => {
                    self.lint.disabled.insert(code);
                }
                RuleLevel::On => {
                    self.lint.disabled.remove(code);
                }
                RuleLevel::Severity(severity) => {
                    self.lint.disabled.remove(code);
                    self.lint.severity.insert(code, severity);
                }
            }
        }
    }

    fn apply_cli(&mut self, cli: &CliOverrides) {
        if let Some(fail_on) = cli.fail_on {
            self.fail_on = fail_on;
        }
        if let Some(target) = &cli.target {
            self.lint.target = Some(target.clone());
        }
        if !cli.select.is_empty() {
            for rule in RULES {
                let code = rule.meta().code;
                if cli.select.contains(&code) {
                    self.lint.disabled.remove(code);
                } else {
                    self.lint.disabled.insert(code);
                }
            }
        }
        self.lint.disabled.extend(cli.ignore.iter().copied());
    }

    fn finish(mut self) -> ResolvedSettings {
        self.lint.fail_threshold = match self.fail_on {
            FailOn::Severity(severity) => severity,
            FailOn::Never => Severity::Error,
        };
        ResolvedSettings {
            lint: self.lint,
            fail_on: self.fail_on,
            budget: self.budget,
        }
    }
}

/// Checks the settings of the top level (`prefix` empty) or of an override
/// (`prefix` `overrides.`, for the keys errors name).
fn check_layer(
    path: &Path,
    prefix: &str,
    fail_on: Option<Spanned<String>>,
    target: Option<String>,
    rules: Option<RawRules>,
    budget: Option<RawBudget>,
) -> Result<Layer, ConfigError> {
    let fail_on = fail_on
        .map(|value| {
            FailOn::parse(&value.value).ok_or_else(|| ConfigError::InvalidValue {
                at: ConfigLocation::new(path, Some(value.referenced)),
                key: "fail-on".to_string(),
                value: value.value.clone(),
                expected: FailOn::NAMES.to_vec(),
            })
        })
        .transpose()?;
    let mut checked = Vec::new();
    for (rule, level) in rules.unwrap_or_default().0 {
        let code = resolve_rule(&rule.value).ok_or_else(|| ConfigError::UnknownRule {
            at: ConfigLocation::new(path, Some(rule.referenced)),
            rule: rule.value.clone(),
        })?;
        let parsed = RuleLevel::parse(&level.value).ok_or_else(|| ConfigError::InvalidValue {
            at: ConfigLocation::new(path, Some(level.referenced)),
            key: format!("rules.{}", rule.value),
            value: level.value.clone(),
            expected: RuleLevel::NAMES.to_vec(),
        })?;
        checked.push((code, parsed));
    }
    let budget = budget
        .map(|budget| check_budget(path, &format!("{prefix}budget"), budget))
        .transpose()?
        .unwrap_or_default();
    Ok(Layer {
        fail_on,
        target,
        rules: checked,
        budget,
    })
}

fn check_override(path: &Path, raw: RawOverride) -> Result<Override, ConfigError> {
    let mut globs = GlobSetBuilder::new();
    for pattern in &raw.paths {
        let at = || ConfigLocation::new(path, Some(pattern.referenced));
        let text = pattern.value.trim();
        let text = text.strip_prefix("./").unwrap_or(text);
        let glob = GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map_err(|error| ConfigError::InvalidGlob {
                at: at(),
                glob: pattern.value.clone(),
                message: error.kind().to_string(),
            })?;
        globs.add(glob);
    }
    let globs = globs.build().map_err(|error| ConfigError::InvalidGlob {
        at: ConfigLocation::new(path, None),
        glob: raw
            .paths
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        message: error.to_string(),
    })?;
    let layer = check_layer(
        path,
        "overrides.",
        raw.fail_on,
        raw.target,
        raw.rules,
        raw.budget,
    )?;
    Ok(Override { globs, layer })
}

/// `path` made absolute (against the current directory) with `.` and `..`
/// removed by spelling alone: paths in one run compare without touching the disk.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    LexicalPath::of(&absolute).clamped()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_parses_and_decides() {
        assert_eq!(FailOn::parse("none"), Some(FailOn::Never));
        assert_eq!(
            "error".parse::<FailOn>(),
            Ok(FailOn::Severity(Severity::Error))
        );
        assert!("loud".parse::<FailOn>().is_err());
        assert!(!FailOn::Never.fails(Severity::Error));
        assert!(FailOn::Severity(Severity::Warning).fails(Severity::Error));
        assert!(!FailOn::Severity(Severity::Warning).fails(Severity::Info));
    }

    #[test]
    fn rules_resolve_by_code_or_name_in_any_case() {
        assert_eq!(resolve_rule("LC001"), Some("LC001"));
        assert_eq!(resolve_rule("lc001"), Some("LC001"));
        assert_eq!(resolve_rule("Parse-Error"), Some("LC001"));
        assert_eq!(resolve_rule("LC999"), None);
    }

    #[test]
    fn normalize_removes_dots() {
        let path = normalize(Path::new("/a/./b/../c/Dockerfile"));
        assert_eq!(path, Path::new("/a/c/Dockerfile"));
    }
}
