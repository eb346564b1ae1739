//! The versioned JSON contract (`docs/json-format.md`).
//!
//! ```json
//! {"version": 1, "findings": [{"file": "Dockerfile", "line": 5, "column": 1, …}]}
//! ```
//!
//! Within a version fields are only added; removing or renaming one bumps
//! [`JSON_FORMAT_VERSION`].

use crate::position::SourceLines;
use layercake_lint::{Applicability, FileReport, Finding, Fix};
use serde::Serialize;

/// The `version` field of the JSON output.
pub const JSON_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    code: &'a str,
    name: &'a str,
    category: &'static str,
    severity: &'static str,
    message: &'a str,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    description: &'a str,
    applicability: &'static str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    replacement: &'a str,
}

/// The name of an applicability in JSON: `safe`, `unsafe` or `display-only`.
pub fn applicability_name(applicability: Applicability) -> &'static str {
    match applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display-only",
    }
}

/// Renders all findings as one JSON document (pretty-printed, ending in a newline).
pub fn render_json(reports: &[FileReport]) -> String {
    let mut findings = Vec::new();
    for report in reports {
        let lines = SourceLines::new(&report.source);
        findings.extend(
            report
                .findings
                .iter()
                .map(|finding| json_finding(&report.path, &lines, finding)),
        );
    }
    let document = JsonReport {
        version: JSON_FORMAT_VERSION,
        findings,
    };
    // Serialising plain structs of strings and numbers cannot fail.
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}

fn json_finding<'a>(
    path: &'a str,
    lines: &SourceLines<'_>,
    finding: &'a Finding,
) -> JsonFinding<'a> {
    let span = lines.span(finding.range);
    JsonFinding {
        file: path,
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        code: finding.code,
        name: finding.name,
        category: finding.category.as_str(),
        severity: finding.severity.as_str(),
        message: &finding.message,
        fix: finding.fix.as_ref().map(|fix| json_fix(lines, fix)),
    }
}

fn json_fix<'a>(lines: &SourceLines<'_>, fix: &'a Fix) -> JsonFix<'a> {
    let edits = fix
        .edits
        .iter()
        .map(|edit| {
            let span = lines.span(edit.range);
            JsonEdit {
                start_line: span.start.line,
                start_column: span.start.column,
                end_line: span.end.line,
                end_column: span.end.column,
                replacement: &edit.replacement,
            }
        })
        .collect();
    JsonFix {
        description: &fix.description,
        applicability: applicability_name(fix.applicability),
        edits,
    }
}
