//! A Markdown report for a PR comment or a job's step summary.
//!
//! A heading with the counts, then per file with findings a
//! `### path · N findings` section: a table (severity, line, code, message)
//! and each fix as a diff inside `<details>`.
//!
//! Everything that came from a Dockerfile or a path goes through
//! [`crate::escape`]: the code spans of a message stay code, exactly as
//! written; its prose shows as written and can neither ping anyone nor
//! inject HTML; `|` cannot split a table cell; every code fence is longer
//! than any backtick run inside it.

use crate::escape::{code_in_cell, fenced, html_text, plain, text, text_in_cell};
use crate::fix_diff::{DiffLineKind, fix_hunks};
use crate::position::{SourceLines, count_noun};
use crate::summary::Totals;
use layercake_lint::{Applicability, FileReport, Finding, Fix};
use std::fmt::Write as _;

/// Renders the report as GitHub-flavoured Markdown.
pub fn render_markdown(reports: &[FileReport]) -> String {
    let mut out = String::new();
    let totals = Totals::of(reports);
    let _ = writeln!(out, "## layercake · {}", totals.sentence());
    for report in reports.iter().filter(|report| !report.findings.is_empty()) {
        let lines = SourceLines::new(&report.source);
        let _ = writeln!(
            out,
            "\n### {} · {}\n",
            plain(&report.path),
            count_noun(report.findings.len(), "finding")
        );
        out.push_str("| severity | line | code | message |\n|---|---|---|---|\n");
        for finding in &report.findings {
            let span = lines.span(finding.range);
            // A range that ends just after a newline does not reach into the next line.
            let end_line = if span.end.column == 1 && span.end.line > span.start.line {
                span.end.line - 1
            } else {
                span.end.line
            };
            let line = if end_line > span.start.line {
                format!("{}–{end_line}", span.start.line)
            } else {
                span.start.line.to_string()
            };
            let _ = writeln!(
                out,
                "| {} | {line} | {} {} | {} |",
                finding.severity,
                code_in_cell(finding.code),
                text_in_cell(finding.name),
                text_in_cell(&finding.message)
            );
        }
        for finding in &report.findings {
            if let Some(fix) = &finding.fix {
                write_fix(&mut out, &lines, finding, fix);
            }
        }
    }
    out
}

fn write_fix(out: &mut String, lines: &SourceLines<'_>, finding: &Finding, fix: &Fix) {
    let span = lines.span(finding.range);
    let applicability = match fix.applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display only",
    };
    let title = format!(
        "fix for {} on line {} ({applicability}): ",
        finding.code, span.start.line
    );
    let hunks = fix_hunks(lines, fix).unwrap_or_default();
    if hunks.is_empty() {
        let _ = writeln!(out, "\n{}{}", plain(&title), text(&fix.description));
        return;
    }
    let mut diff = String::new();
    for hunk in &hunks {
        diff.push_str(&hunk.header());
        diff.push('\n');
        for line in &hunk.lines {
            diff.push(match line.kind {
                DiffLineKind::Context => ' ',
                DiffLineKind::Removed => '-',
                DiffLineKind::Added => '+',
            });
            diff.push_str(&line.text);
            diff.push('\n');
        }
    }
    let _ = write!(
        out,
        "\n<details><summary>{}{}</summary>\n\n{}\n\n</details>\n",
        html_text(&title),
        html_text(&fix.description),
        fenced(diff.trim_end_matches('\n'), "diff")
    );
}
