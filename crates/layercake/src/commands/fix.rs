//! `layercake lint --fix`: apply fixes, re-lint, repeat until nothing changes.

use layercake_lint::{Applicability, FileReport, apply_fixes};

/// At most this many rounds: a fix can enable another (two fixes on one line).
const MAX_ROUNDS: usize = 10;

/// The result of fixing one file.
pub struct Fixed {
    /// The file's text after the fixes.
    pub source: String,
    /// The findings that remain.
    pub report: FileReport,
    /// How many fixes were applied.
    pub applied: usize,
}

/// Applies the fixes `lint` reports for `source` (safe ones; unsafe ones too
/// when `include_unsafe`), re-linting after each round.
pub fn fix_source(source: &str, include_unsafe: bool, lint: impl Fn(&str) -> FileReport) -> Fixed {
    let applicable =
        |a: Applicability| a == Applicability::Safe || include_unsafe && a == Applicability::Unsafe;
    let mut source = source.to_string();
    let mut report = lint(&source);
    let mut applied = 0;
    for _ in 0..MAX_ROUNDS {
        let fixes: Vec<_> = report
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .filter(|f| applicable(f.applicability))
            .collect();
        if fixes.is_empty() {
            break;
        }
        let (fixed, count) = apply_fixes(&source, fixes);
        if count == 0 || fixed == source {
            break;
        }
        applied += count;
        source = fixed;
        report = lint(&source);
    }
    Fixed {
        source,
        report,
        applied,
    }
}
