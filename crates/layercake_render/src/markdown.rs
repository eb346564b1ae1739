//! A Markdown report for a PR comment or a job's step summary.
//!
//! A heading with the counts, then per file with findings a
//! `### path · N findings` section: a table (severity, line, code, message)
//! and each fix as a diff inside `<details>`.
//!
//! Everything that came from a Dockerfile or a path is escaped: Markdown and
//! HTML syntax is neutralised, `|` cannot split a table cell, `@mentions` and
//! `#123` references are broken with an invisible word joiner so a comment
//! never pings anyone, and every code fence is longer than any backtick run
//! inside it.

use crate::fix_diff::{DiffLineKind, fix_hunks, longest_run};
use crate::position::{SourceLines, count_noun};
use crate::summary::Totals;
use layercake_lint::{Applicability, FileReport, Finding, Fix};
use std::fmt::Write as _;

/// U+2060 WORD JOINER: invisible, and enough to stop GitHub linking `@user` or `#1`.
const WORD_JOINER: char = '\u{2060}';

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
            escape_inline(&report.path),
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
                inline_code(finding.code),
                escape_inline(finding.name),
                escape_inline(&finding.message)
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
        let _ = writeln!(
            out,
            "\n{}{}",
            escape_inline(&title),
            escape_inline(&fix.description)
        );
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
    let fence = "`".repeat(longest_run(&diff, '`').max(2) + 1);
    let _ = write!(
        out,
        "\n<details><summary>{}{}</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n",
        escape_html(&title),
        escape_html(&fix.description)
    );
}

/// `text` as a code span, with a fence longer than any backtick run inside.
fn inline_code(text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`') + 1);
    let text = text.replace('|', "\\|").replace(['\n', '\r'], " ");
    // A space on each side keeps a leading or trailing backtick off the fence.
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Escapes text for Markdown outside code: in a table cell, a heading or a
/// paragraph. Newlines become `<br>`.
pub fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        match c {
            // Every inline context here is one line that does not start a block,
            // so only inline syntax needs escaping (`$` opens GitHub's math).
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("<br>"),
            '\r' => {}
            _ => push_html_char(&mut out, c),
        }
    }
    out
}

/// Escapes text for raw HTML (a `<summary>`), where Markdown is not read.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            _ => push_html_char(&mut out, c),
        }
    }
    out
}

fn push_html_char(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '@' | '#' => {
            out.push(c);
            out.push(WORD_JOINER);
        }
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_cannot_break_out() {
        assert_eq!(escape_inline("a|b"), "a\\|b");
        assert_eq!(escape_inline("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(
            escape_inline("cc @octocat #12"),
            "cc @\u{2060}octocat #\u{2060}12"
        );
        assert_eq!(
            escape_inline("`x` *y* [z](u) $HOME"),
            "\\`x\\` \\*y\\* \\[z\\](u) \\$HOME"
        );
        assert_eq!(escape_inline("a\r\nb"), "a<br>b");
    }

    #[test]
    fn code_spans_outlast_backticks_inside() {
        assert_eq!(inline_code("LC201"), "`LC201`");
        assert_eq!(inline_code("a``b"), "```a``b```");
        assert_eq!(inline_code("`x"), "`` `x ``");
    }
}
