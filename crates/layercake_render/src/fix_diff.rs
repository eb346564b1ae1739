//! A fix's edits as a small line diff: which lines go, which lines come.

use crate::position::SourceLines;
use layercake_lint::{Edit, Fix};

/// What a diff line does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiffLineKind {
    /// Unchanged, shown to place an insertion.
    Context,
    /// In the file now, gone after the fix.
    Removed,
    /// New with the fix.
    Added,
}

/// One line of a hunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DiffLine {
    pub(crate) kind: DiffLineKind,
    /// The 1-based line number in the file as it is, for context and removed lines.
    pub(crate) old_line: Option<usize>,
    pub(crate) text: String,
}

/// Consecutive changed lines, with the header numbers of a unified diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hunk {
    pub(crate) old_start: usize,
    pub(crate) old_len: usize,
    pub(crate) new_start: usize,
    pub(crate) new_len: usize,
    pub(crate) lines: Vec<DiffLine>,
}

impl Hunk {
    /// `@@ -5,2 +5,1 @@`, as in a unified diff.
    pub(crate) fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_len, self.new_start, self.new_len
        )
    }
}

/// The hunks `fix` makes in `lines`, or `None` when its edits do not fit the
/// text (out of range, inside a character, overlapping): then no diff is shown.
pub(crate) fn fix_hunks(lines: &SourceLines<'_>, fix: &Fix) -> Option<Vec<Hunk>> {
    let source = lines.source;
    let mut edits: Vec<&Edit> = fix.edits.iter().collect();
    edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut previous_end = 0;
    for edit in &edits {
        let (start, end) = (edit.range.start(), edit.range.end());
        let fits = start <= end
            && end <= source.len()
            && source.is_char_boundary(start)
            && source.is_char_boundary(end)
            && start >= previous_end;
        if !fits {
            return None;
        }
        previous_end = end;
    }

    // Group edits whose lines touch, so each group becomes one hunk.
    let mut groups: Vec<(usize, usize, Vec<&Edit>)> = Vec::new();
    for edit in edits {
        let (first, last) = edit_lines(lines, edit);
        match groups.last_mut() {
            Some((_, group_last, group)) if first <= *group_last + 1 => {
                *group_last = (*group_last).max(last);
                group.push(edit);
            }
            _ => groups.push((first, last, vec![edit])),
        }
    }

    let mut hunks = Vec::new();
    // New line numbers shift by what earlier hunks added or removed.
    let mut delta: isize = 0;
    for (first, last, group) in groups {
        let span_start = lines.line_start(first);
        let span_end = lines.line_end_with_newline(last);
        let old_text = source.get(span_start..span_end)?;
        let mut new_text = String::with_capacity(old_text.len());
        let mut cursor = span_start;
        for edit in group {
            new_text.push_str(source.get(cursor..edit.range.start())?);
            new_text.push_str(&edit.replacement);
            cursor = edit.range.end();
        }
        new_text.push_str(source.get(cursor..span_end)?);

        if let Some(hunk) = hunk_of(lines, first, old_text, &new_text, delta) {
            delta += hunk.new_len as isize - hunk.old_len as isize;
            hunks.push(hunk);
        }
    }
    Some(hunks)
}

/// A fix as a reviewer sees it: the line diff, and when the fix is one
/// block of lines, the text that replaces them (a GitHub ```` ```suggestion ````).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixPreview {
    /// Unified-diff lines (`@@ … @@`, ` context`, `-removed`, `+added`), newline-terminated.
    pub diff: String,
    /// The replacement for one block of lines, when the fix makes one hunk.
    pub suggestion: Option<Suggestion>,
}

/// Lines `start_line..=end_line` (1-based) of the file as it is, replaced by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// First line replaced.
    pub start_line: usize,
    /// Last line replaced.
    pub end_line: usize,
    /// The new lines, without a final newline (empty: the lines are deleted).
    pub text: String,
}

/// The preview of `fix` on `source`; `None` when its edits do not fit the text.
pub fn fix_preview(source: &str, fix: &Fix) -> Option<FixPreview> {
    let lines = SourceLines::new(source);
    let hunks = fix_hunks(&lines, fix)?;
    if hunks.is_empty() {
        return None;
    }
    let diff = unified(&hunks);
    let suggestion = match hunks.as_slice() {
        [hunk] => {
            let old: Vec<usize> = hunk.lines.iter().filter_map(|l| l.old_line).collect();
            match (old.iter().min(), old.iter().max()) {
                (Some(&start_line), Some(&end_line)) => Some(Suggestion {
                    start_line,
                    end_line,
                    text: hunk
                        .lines
                        .iter()
                        .filter(|l| l.kind != DiffLineKind::Removed)
                        .map(|l| l.text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                }),
                _ => None,
            }
        }
        _ => None,
    };
    Some(FixPreview { diff, suggestion })
}

/// Hunks as the body of a unified diff.
pub(crate) fn unified(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for hunk in hunks {
        out.push_str(&hunk.header());
        out.push('\n');
        for line in &hunk.lines {
            out.push(match line.kind {
                DiffLineKind::Context => ' ',
                DiffLineKind::Removed => '-',
                DiffLineKind::Added => '+',
            });
            out.push_str(&line.text);
            out.push('\n');
        }
    }
    out
}

/// The first and last line an edit touches. A range that ends just after a
/// newline does not touch the next line.
fn edit_lines(lines: &SourceLines<'_>, edit: &Edit) -> (usize, usize) {
    let (start, end) = (edit.range.start(), edit.range.end());
    let first = lines.line_of(start);
    let mut last = lines.line_of(end);
    if end > start && last > first && lines.line_start(last) == end {
        last -= 1;
    }
    (first, last)
}

/// The hunk for lines `first..` whose text goes from `old_text` to `new_text`,
/// trimmed to the lines that differ; `None` when none do.
fn hunk_of(
    lines: &SourceLines<'_>,
    first: usize,
    old_text: &str,
    new_text: &str,
    delta: isize,
) -> Option<Hunk> {
    let old: Vec<&str> = old_text.lines().collect();
    let new: Vec<&str> = new_text.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let removed = &old[prefix..old.len() - suffix];
    let added = &new[prefix..new.len() - suffix];
    if removed.is_empty() && added.is_empty() {
        return None;
    }
    let change_start = first + prefix;

    let mut hunk_lines = Vec::new();
    let mut hunk_start = change_start;
    // A pure insertion shows one unchanged line so the reader sees where it
    // goes: the line before it, or at the start of the file the line after.
    let mut context_after = None;
    if removed.is_empty() {
        if change_start > 1 {
            hunk_start = change_start - 1;
            hunk_lines.push(DiffLine {
                kind: DiffLineKind::Context,
                old_line: Some(hunk_start),
                text: lines.line_text(hunk_start).to_string(),
            });
        } else if change_start <= text_line_count(lines) {
            context_after = Some(change_start);
        }
    }
    for (i, text) in removed.iter().enumerate() {
        hunk_lines.push(DiffLine {
            kind: DiffLineKind::Removed,
            old_line: Some(change_start + i),
            text: (*text).to_string(),
        });
    }
    for text in added {
        hunk_lines.push(DiffLine {
            kind: DiffLineKind::Added,
            old_line: None,
            text: (*text).to_string(),
        });
    }
    if let Some(line) = context_after {
        hunk_lines.push(DiffLine {
            kind: DiffLineKind::Context,
            old_line: Some(line),
            text: lines.line_text(line).to_string(),
        });
    }

    let old_len = hunk_lines
        .iter()
        .filter(|l| l.kind != DiffLineKind::Added)
        .count();
    let new_len = hunk_lines
        .iter()
        .filter(|l| l.kind != DiffLineKind::Removed)
        .count();
    let new_start = (hunk_start as isize + delta).max(1) as usize;
    // A unified diff numbers an empty side by the line before it.
    let old_start = if old_len == 0 {
        hunk_start.saturating_sub(1)
    } else {
        hunk_start
    };
    let new_start = if new_len == 0 {
        new_start.saturating_sub(1)
    } else {
        new_start
    };
    Some(Hunk {
        old_start,
        old_len,
        new_start,
        new_len,
        lines: hunk_lines,
    })
}

/// Lines that hold text: the empty line after a final newline does not count.
fn text_line_count(lines: &SourceLines<'_>) -> usize {
    if lines.source.is_empty() {
        0
    } else if lines.source.ends_with('\n') {
        lines.line_count() - 1
    } else {
        lines.line_count()
    }
}

/// The longest run of `c` in `text`.
pub(crate) fn longest_run(text: &str, c: char) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for ch in text.chars() {
        if ch == c {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;
    use layercake_lint::Applicability;
    use layercake_syntax::TextRange;

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix {
            description: "d".to_string(),
            edits,
            applicability: Applicability::Safe,
        }
    }

    fn render(hunks: &[Hunk]) -> String {
        unified(hunks)
    }

    #[test]
    fn preview_suggests_the_lines_that_replace_one_block() {
        let source = "FROM x\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
        let start = source.find("COPY").unwrap();
        let preview = fix_preview(
            source,
            &fix(vec![Edit {
                range: TextRange::new(start, start + "COPY . .".len()),
                replacement: "COPY package*.json ./".to_string(),
            }]),
        )
        .expect("fits");
        assert_eq!(
            preview.diff,
            "@@ -3,1 +3,1 @@\n-COPY . .\n+COPY package*.json ./\n"
        );
        assert_eq!(
            preview.suggestion,
            Some(Suggestion {
                start_line: 3,
                end_line: 3,
                text: "COPY package*.json ./".to_string()
            })
        );
        // Two separate blocks: a diff, but no single suggestion.
        let end = source.find("npm ci").unwrap();
        let two = fix_preview(
            source,
            &fix(vec![
                Edit {
                    range: TextRange::new(0, 6),
                    replacement: "FROM y".to_string(),
                },
                Edit {
                    range: TextRange::new(end, end + 6),
                    replacement: "npm ci --omit=dev".to_string(),
                },
            ]),
        )
        .expect("fits");
        assert_eq!(two.suggestion, None);
        assert!(two.diff.contains("+FROM y\n"), "{}", two.diff);
    }

    #[test]
    fn moving_a_line_is_a_deletion_and_an_insertion() {
        let src = "FROM a\nCOPY . .\nRUN x\nRUN y\n";
        let copy = src.find("COPY").unwrap_or(0);
        let y = src.find("RUN y").unwrap_or(0);
        let edits = vec![
            Edit {
                range: TextRange::new(copy, copy + "COPY . .\n".len()),
                replacement: String::new(),
            },
            Edit {
                range: TextRange::empty(y),
                replacement: "COPY . .\n".to_string(),
            },
        ];
        let lines = SourceLines::new(src);
        let hunks = fix_hunks(&lines, &fix(edits)).unwrap_or_default();
        assert_eq!(
            render(&hunks),
            "@@ -2,1 +1,0 @@\n-COPY . .\n@@ -3,1 +2,2 @@\n RUN x\n+COPY . .\n"
        );
    }

    #[test]
    fn insertion_at_the_start_shows_the_line_after() {
        let src = "FROM a\n";
        let edits = vec![Edit {
            range: TextRange::empty(0),
            replacement: "# syntax=docker/dockerfile:1\n".to_string(),
        }];
        let lines = SourceLines::new(src);
        let hunks = fix_hunks(&lines, &fix(edits)).unwrap_or_default();
        assert_eq!(
            render(&hunks),
            "@@ -1,1 +1,2 @@\n+# syntax=docker/dockerfile:1\n FROM a\n"
        );
    }

    #[test]
    fn insertion_at_the_end_shows_the_line_before() {
        let src = "FROM a\nRUN x\n";
        let edits = vec![Edit {
            range: TextRange::empty(src.len()),
            replacement: "USER app\n".to_string(),
        }];
        let lines = SourceLines::new(src);
        let hunks = fix_hunks(&lines, &fix(edits)).unwrap_or_default();
        assert_eq!(render(&hunks), "@@ -2,1 +2,2 @@\n RUN x\n+USER app\n");
    }

    #[test]
    fn edits_that_do_not_fit_give_no_diff() {
        let src = "FROM é\n";
        let inside_char = src.find('é').unwrap_or(0) + 1;
        let lines = SourceLines::new(src);
        let bad = [
            TextRange::new(0, 100),
            TextRange::new(inside_char, inside_char),
        ];
        for range in bad {
            let edits = vec![Edit {
                range,
                replacement: String::new(),
            }];
            assert_eq!(fix_hunks(&lines, &fix(edits)), None);
        }
        let overlapping = vec![
            Edit {
                range: TextRange::new(0, 4),
                replacement: String::new(),
            },
            Edit {
                range: TextRange::new(2, 6),
                replacement: String::new(),
            },
        ];
        assert_eq!(fix_hunks(&lines, &fix(overlapping)), None);
    }
}
