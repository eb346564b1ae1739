//! Counts over all reports, and the sentence that says them.

use crate::position::count_noun;
use layercake_lint::{FileReport, Severity};

/// How many findings of each severity, in how many files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) findings: usize,
    pub(crate) errors: usize,
    pub(crate) warnings: usize,
    pub(crate) infos: usize,
    pub(crate) files: usize,
    pub(crate) files_with_findings: usize,
}

impl Totals {
    pub(crate) fn of(reports: &[FileReport]) -> Totals {
        let mut totals = Totals {
            files: reports.len(),
            ..Totals::default()
        };
        for report in reports {
            if !report.findings.is_empty() {
                totals.files_with_findings += 1;
            }
            for finding in &report.findings {
                totals.findings += 1;
                match finding.severity {
                    Severity::Error => totals.errors += 1,
                    Severity::Warning => totals.warnings += 1,
                    Severity::Info => totals.infos += 1,
                }
            }
        }
        totals
    }

    /// `3 findings (1 error, 2 warnings) in 2 files`, `… in 2 of 3 files` when
    /// some files are clean, or `No findings in 3 files`.
    pub(crate) fn sentence(&self) -> String {
        if self.findings == 0 {
            return format!("No findings in {}", count_noun(self.files, "file"));
        }
        let mut parts = Vec::new();
        if self.errors > 0 {
            parts.push(count_noun(self.errors, "error"));
        }
        if self.warnings > 0 {
            parts.push(count_noun(self.warnings, "warning"));
        }
        if self.infos > 0 {
            // "info" is a mass noun: `2 info`, not `2 infos`.
            parts.push(format!("{} info", self.infos));
        }
        let files = if self.files_with_findings == self.files {
            count_noun(self.files, "file")
        } else {
            format!(
                "{} of {}",
                self.files_with_findings,
                count_noun(self.files, "file")
            )
        };
        format!(
            "{} ({}) in {files}",
            count_noun(self.findings, "finding"),
            parts.join(", ")
        )
    }
}
