//! Resolved lint settings for one file: what configuration and flags decided.

use crate::finding::Severity;
use std::collections::{BTreeMap, BTreeSet};

/// The settings a lint run uses for one Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintSettings {
    /// Rule codes turned off.
    pub disabled: BTreeSet<&'static str>,
    /// Severity overrides by rule code.
    pub severity: BTreeMap<&'static str, Severity>,
    /// Findings at or above this severity make the run fail (exit 1).
    pub fail_threshold: Severity,
    /// The build target stage; `None` means the last stage.
    pub target: Option<String>,
}

impl Default for LintSettings {
    fn default() -> Self {
        LintSettings {
            disabled: BTreeSet::new(),
            severity: BTreeMap::new(),
            fail_threshold: Severity::Warning,
            target: None,
        }
    }
}

impl LintSettings {
    /// Whether the rule with `code` runs.
    pub fn is_enabled(&self, code: &str) -> bool {
        !self.disabled.contains(code)
    }

    /// The severity of `code`'s findings.
    pub fn severity_of(&self, code: &str, default: Severity) -> Severity {
        self.severity.get(code).copied().unwrap_or(default)
    }
}
