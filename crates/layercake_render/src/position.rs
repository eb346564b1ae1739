//! Byte ranges to 1-based line/column positions, once per file.

use layercake_syntax::{LineColumn, LineIndex, TextRange};

/// A file's text with its line index, to turn byte ranges into positions.
pub(crate) struct SourceLines<'a> {
    pub(crate) source: &'a str,
    pub(crate) index: LineIndex,
}

/// Start and exclusive end of a range, as 1-based lines and character columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: LineColumn,
    pub(crate) end: LineColumn,
}

impl<'a> SourceLines<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        SourceLines {
            source,
            index: LineIndex::new(source),
        }
    }

    /// The positions of `range`; offsets past the end are clamped to it.
    pub(crate) fn span(&self, range: TextRange) -> Span {
        let start = self.index.line_column(self.source, range.start());
        let end = self
            .index
            .line_column(self.source, range.end().max(range.start()));
        Span { start, end }
    }

    /// The text of 1-based `line`, without its line ending.
    pub(crate) fn line_text(&self, line: usize) -> &'a str {
        self.index.line_text(self.source, line)
    }

    /// The 1-based line holding `offset` (clamped into the text).
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.index.line_of(offset.min(self.source.len()))
    }

    /// Byte offset where 1-based `line` starts.
    pub(crate) fn line_start(&self, line: usize) -> usize {
        self.index.line_start(line).min(self.source.len())
    }

    /// Byte offset just past `line` and its line ending (the next line's start, or the end).
    pub(crate) fn line_end_with_newline(&self, line: usize) -> usize {
        if line < self.index.line_count() {
            self.line_start(line + 1)
        } else {
            self.source.len()
        }
    }

    /// Number of lines (a trailing newline opens an empty last line).
    pub(crate) fn line_count(&self) -> usize {
        self.index.line_count()
    }
}

/// Singular or plural `noun` with its count: `1 finding`, `2 findings`.
pub(crate) fn count_noun(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
