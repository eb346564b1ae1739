//! Byte ranges and the line index that turns them into line/column.

use serde::Serialize;

/// A half-open byte range `start..end` into the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TextRange {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl TextRange {
    /// A range from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        TextRange {
            start: to_u32(start),
            end: to_u32(end),
        }
    }

    /// An empty range at `offset`.
    pub fn empty(offset: usize) -> Self {
        TextRange::new(offset, offset)
    }

    /// The start as a `usize` offset.
    pub fn start(self) -> usize {
        self.start as usize
    }

    /// The end as a `usize` offset.
    pub fn end(self) -> usize {
        self.end as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the range is empty.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest range covering both.
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Whether `offset` lies inside the range (end exclusive).
    pub fn contains(self, offset: usize) -> bool {
        self.start() <= offset && offset < self.end()
    }

    /// The text the range covers.
    pub fn slice(self, source: &str) -> &str {
        source.get(self.start()..self.end()).unwrap_or("")
    }
}

fn to_u32(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

/// A 1-based line and 1-based column; the column counts Unicode scalar values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LineColumn {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Start offsets of every line of a text, to turn byte offsets into line/column.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `source`; lines end at `\n` (a `\r` before it belongs to the line).
    pub fn new(source: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { line_starts }
    }

    /// Number of lines (a trailing newline opens an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 1-based line holding `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Byte offset where 1-based `line` starts (clamped to the last line).
    pub fn line_start(&self, line: usize) -> usize {
        let i = line.saturating_sub(1).min(self.line_starts.len() - 1);
        self.line_starts[i]
    }

    /// The text of 1-based `line`, without its line ending.
    pub fn line_text<'a>(&self, source: &'a str, line: usize) -> &'a str {
        let start = self.line_start(line).min(source.len());
        let end = if line < self.line_starts.len() {
            self.line_starts[line]
        } else {
            source.len()
        };
        let text = source.get(start..end.max(start)).unwrap_or("");
        text.trim_end_matches('\n').trim_end_matches('\r')
    }

    /// Line and column of `offset` in `source`.
    pub fn line_column(&self, source: &str, offset: usize) -> LineColumn {
        let offset = offset.min(source.len());
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let column = source
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        LineColumn { line, column }
    }

    /// Byte offset of a 1-based line and column (clamped into the text).
    pub fn offset(&self, source: &str, at: LineColumn) -> usize {
        let start = self.line_start(at.line).min(source.len());
        let line = self.line_text(source, at.line);
        let within = line
            .char_indices()
            .nth(at.column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i);
        start + within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_columns_count_characters_and_lines() {
        let src = "FROM a\r\nRUN é x\n\nCMD y";
        let index = LineIndex::new(src);
        assert_eq!(index.line_count(), 4);
        assert_eq!(index.line_column(src, 0), LineColumn { line: 1, column: 1 });
        let x = src.find('x').unwrap();
        assert_eq!(index.line_column(src, x), LineColumn { line: 2, column: 7 });
        assert_eq!(index.line_text(src, 1), "FROM a");
        assert_eq!(index.line_text(src, 3), "");
        assert_eq!(index.line_text(src, 4), "CMD y");
        assert_eq!(index.offset(src, LineColumn { line: 2, column: 7 }), x);
    }
}
