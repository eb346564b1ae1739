//! What can be wrong with a configuration file, said with the file and line.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A place in a configuration file: the path as given, and a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigLocation {
    /// The configuration file.
    pub path: PathBuf,
    /// 1-based line; 0 when the YAML parser could not say.
    pub line: u64,
    /// 1-based column (in characters); 0 when unknown.
    pub column: u64,
}

impl ConfigLocation {
    pub(crate) fn new(path: &Path, location: Option<serde_saphyr::Location>) -> Self {
        let (line, column) = location.map_or((0, 0), |l| (l.line(), l.column()));
        ConfigLocation {
            path: path.to_path_buf(),
            line,
            column,
        }
    }
}

impl fmt::Display for ConfigLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.path.display()),
            (line, 0) => write!(f, "{}:{line}", self.path.display()),
            (line, column) => write!(f, "{}:{line}:{column}", self.path.display()),
        }
    }
}

/// Why a configuration file could not be used. Every case names the file, and
/// every case about its content names the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read configuration: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file is not valid YAML, or a value has the wrong shape (a list where
    /// a string belongs, a duplicate key, …).
    #[error("{at}: {message}")]
    Syntax {
        /// Where.
        at: ConfigLocation,
        /// The YAML parser's message, without its location.
        message: String,
    },
    /// A key the schema does not know.
    #[error("{at}: unknown key '{key}' (expected one of: {})", expected.join(", "))]
    UnknownKey {
        /// Where the key is.
        at: ConfigLocation,
        /// The key as written.
        key: String,
        /// The keys allowed there.
        expected: Vec<&'static str>,
    },
    /// A rule code or name that no rule has.
    #[error("{at}: unknown rule '{rule}' (expected a rule code such as LC001 or a rule name)")]
    UnknownRule {
        /// Where the rule is named.
        at: ConfigLocation,
        /// The code or name as written.
        rule: String,
    },
    /// A value outside the allowed set (e.g. `fail-on: sometimes`).
    #[error("{at}: invalid value '{value}' for {key} (expected one of: {})", expected.join(", "))]
    InvalidValue {
        /// Where the value is.
        at: ConfigLocation,
        /// What the value is for (`fail-on`, `rules.LC201`, …).
        key: String,
        /// The value as written.
        value: String,
        /// The values allowed there.
        expected: Vec<&'static str>,
    },
    /// A path pattern in `overrides` that is not a valid glob.
    #[error("{at}: invalid glob '{glob}': {message}")]
    InvalidGlob {
        /// Where the pattern is.
        at: ConfigLocation,
        /// The pattern as written.
        glob: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value of the right shape that is not valid there: a size with an
    /// unknown unit, a path that leaves the configuration file's directory, …
    #[error("{at}: invalid value '{value}' for {key}: {reason}")]
    InvalidSetting {
        /// Where the value is.
        at: ConfigLocation,
        /// What the value is for (`budget.max-growth`, `images.platform`, …).
        key: String,
        /// The value as written (control characters escaped).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value that must be unique where it is, written twice (two `images`
    /// entries for one Dockerfile, two secrets with one id).
    #[error("{at}: duplicate {key} '{value}' (first at line {first_line})")]
    Duplicate {
        /// Where the second one is.
        at: ConfigLocation,
        /// What the value is (`images.dockerfile`, `images.secrets.id`).
        key: String,
        /// The value (a path with `.` and `..` resolved).
        value: String,
        /// The 1-based line of the first one, in the same file.
        first_line: u64,
        /// The 1-based column of the first one.
        first_column: u64,
    },
    /// A secret with both or neither of `src` and `env`.
    #[error(
        "{at}: secret '{id}' must set exactly one of src, env (it sets {})",
        if *both { "both" } else { "neither" }
    )]
    SecretSource {
        /// Where the secret is.
        at: ConfigLocation,
        /// The secret's id.
        id: String,
        /// Whether it sets both (else neither).
        both: bool,
    },
}

impl ConfigError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::Read { path, .. } => path,
            ConfigError::Syntax { at, .. }
            | ConfigError::UnknownKey { at, .. }
            | ConfigError::UnknownRule { at, .. }
            | ConfigError::InvalidValue { at, .. }
            | ConfigError::InvalidGlob { at, .. }
            | ConfigError::InvalidSetting { at, .. }
            | ConfigError::Duplicate { at, .. }
            | ConfigError::SecretSource { at, .. } => &at.path,
        }
    }

    /// Turns a YAML deserialization error into a located error.
    pub(crate) fn from_yaml(path: &Path, error: &serde_saphyr::Error) -> Self {
        use serde_saphyr::MessageFormatter;
        let error = error.without_snippet();
        let at = ConfigLocation::new(path, error.location());
        match error {
            serde_saphyr::Error::SerdeUnknownField {
                field, expected, ..
            } => ConfigError::UnknownKey {
                at,
                key: field.clone(),
                expected: expected.clone(),
            },
            other => {
                // The formatter's message carries no location suffix; ours goes in front.
                let message = serde_saphyr::DefaultMessageFormatter.format_message(other);
                // Control characters from the file must not reach the terminal.
                let message = message
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                ConfigError::Syntax { at, message }
            }
        }
    }
}

/// `text` with control characters escaped, so a value from the file cannot
/// drive the terminal it is shown on.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
