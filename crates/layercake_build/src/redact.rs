//! Keeps secret values out of the build log.

use crate::request::{BuildSecret, SecretSource};

/// Values shorter than this are not redacted: replacing every `1` or `yes` in a log
/// would ruin it, and such a value is no secret worth the name.
const MIN_SECRET_CHARS: usize = 4;

/// The marker a secret value is replaced with.
pub(crate) const MASK: &str = "***";

/// Replaces the values of a build's secrets in log lines.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// Longest first, so a value that contains another is masked whole.
    values: Vec<String>,
}

impl Redactor {
    /// Reads the values of `secrets`: a file's contents (trimmed, and each of its
    /// lines, since a multi-line value is printed line by line) or an environment
    /// variable of this process, which is where the docker CLI reads it from.
    pub(crate) fn for_secrets(secrets: &[BuildSecret]) -> Redactor {
        let mut values = Vec::new();
        for secret in secrets {
            let value = match &secret.source {
                SecretSource::File(path) => std::fs::read(path)
                    .ok()
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
                SecretSource::Env(name) => {
                    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
                }
            };
            if let Some(value) = value {
                values.push(value.trim().to_string());
                values.extend(value.lines().map(|line| line.trim().to_string()));
            }
        }
        Redactor::from_values(values)
    }

    /// A redactor for these values (those too short are dropped).
    pub(crate) fn from_values(values: impl IntoIterator<Item = String>) -> Redactor {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|value| value.chars().count() >= MIN_SECRET_CHARS)
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Redactor { values }
    }

    /// `line` with every secret value replaced by `***`.
    pub(crate) fn redact(&self, line: &str) -> String {
        let mut line = line.to_string();
        for value in &self.values {
            if line.contains(value.as_str()) {
                line = line.replace(value.as_str(), MASK);
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn masks_every_occurrence() {
        let redactor = Redactor::from_values(["hunter22".to_string()]);
        assert_eq!(
            redactor.redact("#5 0.1 hunter22 and hunter22"),
            "#5 0.1 *** and ***"
        );
        assert_eq!(redactor.redact("#5 DONE 0.1s"), "#5 DONE 0.1s");
    }

    #[test]
    fn longer_values_first_and_short_values_ignored() {
        let redactor =
            Redactor::from_values(["abcd".to_string(), "abcdefgh".to_string(), "ab".to_string()]);
        assert_eq!(redactor.redact("abcdefgh abcd ab"), "*** *** ab");
    }

    #[test]
    fn file_contents_trimmed_and_by_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        std::fs::write(&path, "first-line-secret\nsecond-line-secret\n").expect("write");
        let redactor = Redactor::for_secrets(&[BuildSecret {
            id: "key".to_string(),
            source: SecretSource::File(path),
        }]);
        assert_eq!(redactor.redact("#5 0.2 first-line-secret"), "#5 0.2 ***");
        assert_eq!(redactor.redact("#5 0.2 second-line-secret"), "#5 0.2 ***");
    }

    #[test]
    fn environment_values_and_missing_sources() {
        // PATH is always set and long; reading it proves the env source is used.
        let path = std::env::var("PATH").expect("PATH is set");
        let redactor = Redactor::for_secrets(&[
            BuildSecret {
                id: "p".to_string(),
                source: SecretSource::Env("PATH".to_string()),
            },
            BuildSecret {
                id: "gone".to_string(),
                source: SecretSource::File(PathBuf::from("/nonexistent/secret")),
            },
            BuildSecret {
                id: "unset".to_string(),
                source: SecretSource::Env("LAYERCAKE_TEST_UNSET_VARIABLE".to_string()),
            },
        ]);
        assert_eq!(redactor.redact(&format!("x {path} y")), "x *** y");
    }
}
