//! GitHub Actions workflow commands: one annotation per finding.
//!
//! ```text
//! ::warning file=Dockerfile,line=5,col=1,endLine=5,endColumn=9,title=LC201 broad-copy-before-install::message
//! ```
//!
//! Escaping follows `@actions/core` (`toolkit/packages/core/src/command.ts`):
//! the message escapes `%`, `\r` and `\n`; property values also escape `:` and `,`.

use crate::position::SourceLines;
use layercake_lint::{FileReport, Severity};
use std::fmt::Write as _;

/// Renders one workflow command per finding, each on its own line.
pub fn render_github(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let lines = SourceLines::new(&report.source);
        for finding in &report.findings {
            let span = lines.span(finding.range);
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let _ = writeln!(
                out,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                escape_property(&report.path),
                span.start.line,
                span.start.column,
                span.end.line,
                span.end.column,
                escape_property(&format!("{} {}", finding.code, finding.name)),
                escape_data(&finding.message),
            );
        }
    }
    out
}

/// Escapes a command's message as the toolkit's `escapeData` does.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a property value as the toolkit's `escapeProperty` does.
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            _ => out.push(c),
        }
    }
    out
}
