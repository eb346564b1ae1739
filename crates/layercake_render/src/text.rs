//! Human output, like ruff or rustc: a header line per finding, a code frame
//! with carets under the range, the fix with a small diff, and a summary.
//!
//! ```text
//! Dockerfile:5:1: LC201 [warning] `COPY . .` comes before `RUN npm ci`
//!   |
//! 5 | COPY . .
//!   | ^^^^^^^^
//!   = fix: Copy the sources after installing dependencies (safe)
//! ```
//!
//! Tabs are expanded to the next multiple of [`TAB_WIDTH`] columns and wide
//! characters count as two, in the frame and the caret line alike, so carets
//! stay under the text they mark.

use crate::RenderOptions;
use crate::fix_diff::{DiffLineKind, fix_hunks};
use crate::position::SourceLines;
use crate::summary::Totals;
use layercake_lint::{Applicability, FileReport, Finding, Severity};
use std::fmt::Write as _;
use unicode_width::UnicodeWidthChar;

/// Tab stops in code frames are this many columns apart.
pub const TAB_WIDTH: usize = 4;

/// A multi-line range shows at most this many source lines; longer ones keep
/// their first and last two lines.
const MAX_FRAME_LINES: usize = 5;

/// Renders every finding with a code frame, then a summary line.
pub fn render_text(reports: &[FileReport], options: &RenderOptions) -> String {
    let paint = Palette { on: options.color };
    let mut out = String::new();
    for report in reports {
        let lines = SourceLines::new(&report.source);
        for finding in &report.findings {
            write_finding(&mut out, &report.path, &lines, finding, &paint);
            out.push('\n');
        }
    }
    let totals = Totals::of(reports);
    let mut sentence = totals.sentence();
    if totals.findings == 0 {
        sentence.push('.');
    }
    let _ = writeln!(out, "{}", paint.bold(&sentence));
    out
}

fn write_finding(
    out: &mut String,
    path: &str,
    lines: &SourceLines<'_>,
    finding: &Finding,
    paint: &Palette,
) {
    let span = lines.span(finding.range);
    let frame = Frame::new(lines, finding);
    let hunks = match &finding.fix {
        Some(fix) if fix.applicability != Applicability::DisplayOnly => {
            fix_hunks(lines, fix).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let widest_line = hunks
        .iter()
        .flat_map(|hunk| hunk.lines.iter().filter_map(|line| line.old_line))
        .chain([frame.last_line])
        .max()
        .unwrap_or(1);
    let gutter = Gutter {
        width: widest_line.to_string().len(),
    };

    let _ = writeln!(
        out,
        "{}: {} {} {}",
        paint.bold(&format!(
            "{}:{}:{}",
            terminal_safe(path),
            span.start.line,
            span.start.column
        )),
        paint.bold(finding.code),
        paint.severity(finding.severity, &format!("[{}]", finding.severity)),
        terminal_safe(&finding.message).replace('\n', "\n    ")
    );
    frame.write(out, &gutter, paint, finding.severity);

    let Some(fix) = &finding.fix else { return };
    let applicability = match fix.applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display only",
    };
    let _ = writeln!(
        out,
        "{} {} {} ({applicability})",
        gutter.blank(paint, "="),
        paint.fix("fix:"),
        terminal_safe(&fix.description).replace('\n', " ")
    );
    for hunk in &hunks {
        let _ = writeln!(out, "{}", gutter.blank(paint, "|"));
        for line in &hunk.lines {
            let text = DisplayLine::new(&line.text).text;
            let row = match line.kind {
                DiffLineKind::Context => format!(" {text}"),
                DiffLineKind::Removed => paint.removed(&format!("-{text}")),
                DiffLineKind::Added => paint.added(&format!("+{text}")),
            };
            push_row(
                out,
                &format!("{}{row}", gutter.numbered(paint, line.old_line)),
            );
        }
    }
}

/// The source lines a finding covers, and where its range starts and ends in them.
struct Frame<'a> {
    lines: &'a SourceLines<'a>,
    first_line: usize,
    last_line: usize,
    /// Byte offsets of the range within the first and the last line.
    start_in_line: usize,
    end_in_line: usize,
}

impl<'a> Frame<'a> {
    fn new(lines: &'a SourceLines<'a>, finding: &Finding) -> Frame<'a> {
        let len = lines.source.len();
        let start = finding.range.start().min(len);
        let end = finding.range.end().clamp(start, len);
        let first_line = lines.line_of(start);
        let mut last_line = lines.line_of(end);
        let mut end_in_line = end - lines.line_start(last_line);
        // A range that ends just after a newline marks its line to the end, not
        // the start of the next one.
        if end > start && last_line > first_line && end_in_line == 0 {
            last_line -= 1;
            end_in_line = lines.line_text(last_line).len();
        }
        let start_in_line = start - lines.line_start(first_line);
        Frame {
            lines,
            first_line,
            last_line,
            start_in_line,
            end_in_line,
        }
    }

    fn write(&self, out: &mut String, gutter: &Gutter, paint: &Palette, severity: Severity) {
        let _ = writeln!(out, "{}", gutter.blank(paint, "|"));
        if self.first_line == self.last_line {
            let line = DisplayLine::new(self.lines.line_text(self.first_line));
            let start = line.column_at(self.start_in_line);
            let end = line.column_at(self.end_in_line).max(start + 1);
            push_row(
                out,
                &format!(
                    "{}{}",
                    gutter.numbered(paint, Some(self.first_line)),
                    line.text
                ),
            );
            let carets = "^".repeat(end - start);
            let _ = writeln!(
                out,
                "{}{}{}",
                gutter.blank(paint, "|") + " ",
                " ".repeat(start),
                paint.severity(severity, &carets)
            );
            return;
        }

        // Multi-line: rustc's style, a bar in a marker column joins the start and the end.
        let first = DisplayLine::new(self.lines.line_text(self.first_line));
        let start = first.column_at(self.start_in_line);
        let count = self.last_line - self.first_line + 1;
        let shown: Vec<Option<usize>> = if count <= MAX_FRAME_LINES {
            (self.first_line..=self.last_line).map(Some).collect()
        } else {
            let mut shown: Vec<Option<usize>> =
                (self.first_line..self.first_line + 2).map(Some).collect();
            shown.push(None);
            shown.extend((self.last_line - 1..=self.last_line).map(Some));
            shown
        };
        for row in shown {
            let Some(number) = row else {
                let _ = writeln!(
                    out,
                    "{}{} ...",
                    gutter.blank(paint, "|") + " ",
                    paint.severity(severity, "|")
                );
                continue;
            };
            let text = if number == self.first_line {
                first.text.clone()
            } else {
                DisplayLine::new(self.lines.line_text(number)).text
            };
            let marker = match (number == self.first_line, start == 0) {
                (true, true) => "/",
                (true, false) => " ",
                (false, _) => "|",
            };
            let row = format!(
                "{}{} {text}",
                gutter.numbered(paint, Some(number)),
                paint.severity(severity, marker)
            );
            push_row(out, &row);
            if number == self.first_line && start != 0 {
                let underline = format!(" {}^", "_".repeat(start + 1));
                let _ = writeln!(
                    out,
                    "{}{}",
                    gutter.blank(paint, "|") + " ",
                    paint.severity(severity, &underline)
                );
            }
        }
        let last = DisplayLine::new(self.lines.line_text(self.last_line));
        let end = last.column_at(self.end_in_line).max(1);
        let underline = format!("|{}^", "_".repeat(end));
        let _ = writeln!(
            out,
            "{}{}",
            gutter.blank(paint, "|") + " ",
            paint.severity(severity, &underline)
        );
    }
}

/// Appends `row` and a newline, without the trailing spaces an empty source line leaves.
fn push_row(out: &mut String, row: &str) {
    out.push_str(row.trim_end_matches(' '));
    out.push('\n');
}

/// The line-number column on the left of a frame.
struct Gutter {
    width: usize,
}

impl Gutter {
    /// `12 | ` with the line number, or no number when `None`.
    fn numbered(&self, paint: &Palette, line: Option<usize>) -> String {
        let number = line.map(|n| n.to_string()).unwrap_or_default();
        paint.gutter(&format!("{number:>width$} |", width = self.width)) + " "
    }

    /// The gutter without a number, ending in `mark`: `   |`, `   =`.
    fn blank(&self, paint: &Palette, mark: &str) -> String {
        paint.gutter(&format!("{:width$} {mark}", "", width = self.width))
    }
}

/// A source line as it is shown: tabs expanded, control characters made
/// visible, with the display column of every character.
struct DisplayLine {
    text: String,
    /// `(byte offset in the source line, display column)` of each character, in order.
    columns: Vec<(usize, usize)>,
    width: usize,
}

impl DisplayLine {
    fn new(line: &str) -> DisplayLine {
        let mut text = String::with_capacity(line.len());
        let mut columns = Vec::with_capacity(line.len());
        let mut column = 0;
        for (offset, c) in line.char_indices() {
            columns.push((offset, column));
            if c == '\t' {
                let next = (column / TAB_WIDTH + 1) * TAB_WIDTH;
                text.extend(std::iter::repeat_n(' ', next - column));
                column = next;
                continue;
            }
            let shown = visible_char(c);
            text.push(shown);
            column += shown.width().unwrap_or(1);
        }
        DisplayLine {
            text,
            columns,
            width: column,
        }
    }

    /// The display column where the character at byte `offset` starts; the
    /// width of the line at or past its end.
    fn column_at(&self, offset: usize) -> usize {
        match self
            .columns
            .binary_search_by_key(&offset, |&(byte, _)| byte)
        {
            Ok(i) => self.columns[i].1,
            // Inside a character: where that character starts.
            Err(i) if i < self.columns.len() => self.columns[i.saturating_sub(1)].1,
            Err(_) => self.width,
        }
    }
}

/// Text from a Dockerfile with every control character but `\n` made visible,
/// so it cannot move the cursor or change colours; `\r\n` counts as `\n`.
fn terminal_safe(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\n' { c } else { visible_char(c) })
        .collect()
}

/// Control characters would move the cursor; show their Unicode pictures instead.
fn visible_char(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' => '\u{fffd}',
        _ => c,
    }
}

/// ANSI colours, or plain text when off.
struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, sgr: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn severity(&self, severity: Severity, text: &str) -> String {
        let sgr = match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(sgr, text)
    }

    fn gutter(&self, text: &str) -> String {
        self.paint("1;34", text)
    }

    fn fix(&self, text: &str) -> String {
        self.paint("1;32", text)
    }

    fn added(&self, text: &str) -> String {
        self.paint("32", text)
    }

    fn removed(&self, text: &str) -> String {
        self.paint("31", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_wide_characters_have_display_columns() {
        let line = DisplayLine::new("a\tb中c");
        assert_eq!(line.text, "a   b中c");
        assert_eq!(line.column_at(0), 0);
        assert_eq!(line.column_at(1), 1);
        assert_eq!(line.column_at(2), 4);
        assert_eq!(line.column_at(3), 5);
        assert_eq!(line.column_at(4), 5, "inside a character: its start");
        assert_eq!(line.column_at(6), 7);
        assert_eq!(line.column_at(7), 8);
        assert_eq!(line.column_at(100), 8);
    }

    #[test]
    fn control_characters_are_shown_as_pictures() {
        assert_eq!(DisplayLine::new("a\u{1b}[31m").text, "a\u{241b}[31m");
        assert_eq!(terminal_safe("a\r\nb\rc\u{7}"), "a\nb\u{240d}c\u{2407}");
    }
}
