//! BuildKit's Dockerfile parser (`frontend/dockerfile/parser`), reimplemented
//! with byte ranges and error recovery.
//!
//! The structure follows BuildKit's: physical lines are read one at a time;
//! comment lines and the escape character at a line end join continuation
//! lines into one logical line; the logical line is split into keyword, flags
//! and arguments; RUN/COPY/ADD lines are then searched for heredoc markers
//! whose bodies follow. Where BuildKit gives up on the whole file, this parser
//! records a [`ParseError`] and goes on with the next instruction.

use crate::ast::*;
use crate::shell::{self, Mode};
use crate::text::TextRange;

/// BuildKit's scanner cannot read a line of this many bytes or more.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Parses a Dockerfile the way BuildKit's parser does. Never panics.
pub fn parse(source: &str) -> Dockerfile {
    Parser::new(source).run()
}

/// One physical line: `start..end` excludes trailing `\r`/`\n`; `next` is the
/// start of the following line.
#[derive(Clone, Copy, Debug)]
struct PhysicalLine {
    start: usize,
    end: usize,
    next: usize,
}

/// A logical line: pieces of physical lines joined, with the source offset of
/// each piece so logical offsets map back to the file.
#[derive(Default)]
struct LogicalLine {
    text: String,
    /// (offset in `text`, offset in source) at the start of each piece.
    pieces: Vec<(usize, usize)>,
}

impl LogicalLine {
    fn push(&mut self, source: &str, start: usize, end: usize) {
        self.pieces.push((self.text.len(), start));
        self.text.push_str(&source[start..end]);
    }

    /// Source offset of logical offset `at`, for the start of a range.
    fn map_start(&self, at: usize) -> usize {
        let i = self.pieces.partition_point(|&(logical, _)| logical <= at);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(logical, source)) => source + (at - logical),
            None => at,
        }
    }

    /// Source offset of logical offset `at`, for the end of a range (an offset
    /// at a piece boundary stays at the end of the earlier piece).
    fn map_end(&self, at: usize) -> usize {
        let i = self.pieces.partition_point(|&(logical, _)| logical < at);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(logical, source)) => source + (at - logical),
            None => self.map_start(at),
        }
    }

    fn range(&self, start: usize, end: usize) -> TextRange {
        let s = self.map_start(start);
        let e = self.map_end(end).max(s);
        TextRange::new(s, e)
    }

    fn word(&self, text: &str, start: usize, end: usize) -> Word {
        Word {
            text: text.to_string(),
            range: self.range(start, end),
        }
    }
}

/// `unicode.IsSpace` on one byte taken as a rune, as BuildKit's flag splitter does.
fn is_space_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0)
}

/// BuildKit's `reWhitespace`: `[\t\v\f\r ]`.
fn is_separator(ch: char) -> bool {
    matches!(ch, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

fn trim_leading_whitespace(text: &str) -> &str {
    text.trim_start_matches(char::is_whitespace)
}

fn is_comment(text: &str) -> bool {
    trim_leading_whitespace(text).starts_with('#')
}

/// Parser directives: only at the very top, each at most once.
#[derive(Default)]
struct DirectiveState {
    done: bool,
    seen: Vec<String>,
}

impl DirectiveState {
    /// BuildKit's `DirectiveParser.ParseLine`: `Ok(Some((name, value)))` for a directive.
    fn parse_line(&mut self, line: &str) -> Result<Option<(String, String)>, String> {
        if self.done {
            return Ok(None);
        }
        let Some(rest) = line.strip_prefix('#') else {
            self.done = true;
            return Ok(None);
        };
        let rest = trim_leading_whitespace(rest);
        let Some((name, value)) = match_directive(rest) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&name) {
            return Err(format!("only one {name} parser directive can be used"));
        }
        self.seen.push(name.clone());
        Ok(Some((name, value.to_string())))
    }
}

/// `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` with RE2's `\s` = `[\t\n\f\r ]`.
fn match_directive(text: &str) -> Option<(&str, &str)> {
    let re_space = |c: char| matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ');
    let first = text.chars().next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let name_end = text
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let rest = text[name_end..].trim_start_matches(re_space);
    let rest = rest.strip_prefix('=')?;
    let value = rest.trim_start_matches(re_space).trim_end_matches(re_space);
    if value.is_empty() {
        // `.+?` needs one character; only whitespace remained.
        return None;
    }
    Some((name, value))
}

struct Parser<'a> {
    source: &'a str,
    lines: Vec<PhysicalLine>,
    next_line: usize,
    escape: char,
    directives: DirectiveState,
    out: Dockerfile,
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Self {
        Parser {
            source,
            lines: physical_lines(source),
            next_line: 0,
            escape: '\\',
            directives: DirectiveState::default(),
            out: Dockerfile {
                directives: Vec::new(),
                instructions: Vec::new(),
                comments: Vec::new(),
                escape: '\\',
                errors: Vec::new(),
                warnings: Vec::new(),
            },
        }
    }

    fn error(&mut self, message: impl Into<String>, range: TextRange) {
        self.out.errors.push(ParseError {
            message: message.into(),
            range,
        });
    }

    fn take_line(&mut self) -> Option<PhysicalLine> {
        let line = *self.lines.get(self.next_line)?;
        self.next_line += 1;
        if line.end - line.start >= MAX_LINE_BYTES
            && !self
                .out
                .errors
                .iter()
                .any(|e| e.message.starts_with("dockerfile line"))
        {
            self.error(
                format!(
                    "dockerfile line greater than max allowed size of {}",
                    MAX_LINE_BYTES - 1
                ),
                TextRange::new(line.start, line.end),
            );
        }
        Some(line)
    }

    fn record_comment(&mut self, line: PhysicalLine) {
        let text = &self.source[line.start..line.end];
        let offset = text.len() - trim_leading_whitespace(text).len();
        let hash = line.start + offset;
        let body = self.source[hash + 1..line.end].trim();
        self.out.comments.push(Comment {
            text: body.to_string(),
            range: TextRange::new(hash, line.end),
        });
    }

    /// BuildKit's line-continuation regex: the escape character, then only
    /// spaces and tabs, not preceded by another escape character. Returns the
    /// end of the kept text when the line continues.
    fn continuation_end(&self, start: usize, end: usize) -> Option<usize> {
        let text = &self.source[start..end];
        let trimmed = text.trim_end_matches([' ', '\t']);
        let before = trimmed.strip_suffix(self.escape)?;
        match before.chars().next_back() {
            Some(c) if c == self.escape => None,
            _ => Some(start + before.len()),
        }
    }

    fn run(mut self) -> Dockerfile {
        let mut first = true;
        while let Some(line) = self.take_line() {
            let mut start = line.start;
            if first {
                first = false;
                if self.source[start..line.end].starts_with('\u{feff}') {
                    start += '\u{feff}'.len_utf8();
                }
            }
            let raw = &self.source[start..line.end];
            let trimmed = trim_leading_whitespace(raw);
            let content_start = line.end - trimmed.len();
            match self.directives.parse_line(trimmed) {
                Ok(Some((name, value))) => {
                    let range = TextRange::new(content_start, line.end);
                    if name == "escape" {
                        match value.as_str() {
                            "\\" => self.escape = '\\',
                            "`" => self.escape = '`',
                            _ => self.error(
                                format!("invalid escape token '{value}' does not match ` or \\"),
                                range,
                            ),
                        }
                    }
                    self.out.directives.push(Directive { name, value, range });
                    continue;
                }
                Ok(None) => {}
                Err(message) => {
                    self.error(message, TextRange::new(content_start, line.end));
                    continue;
                }
            }
            if is_comment(raw) {
                // From after a byte order mark, which is not part of the comment.
                self.record_comment(PhysicalLine { start, ..line });
                continue;
            }
            let (kept_end, mut at_end) = match self.continuation_end(content_start, line.end) {
                Some(kept) => (kept, false),
                None => (line.end, true),
            };
            if at_end && kept_end == content_start {
                continue;
            }
            let mut logical = LogicalLine::default();
            logical.push(self.source, content_start, kept_end);
            let mut last_end = line.end;
            let mut empty_continuation = false;
            while !at_end {
                let Some(next) = self.take_line() else { break };
                self.directives.done = true;
                last_end = next.end;
                let text = &self.source[next.start..next.end];
                if is_comment(text) {
                    self.record_comment(next);
                    continue;
                }
                if trim_leading_whitespace(text).is_empty() {
                    empty_continuation = true;
                    continue;
                }
                let kept = match self.continuation_end(next.start, next.end) {
                    Some(kept) => kept,
                    None => {
                        at_end = true;
                        next.end
                    }
                };
                logical.push(self.source, next.start, kept);
            }
            let line_range = TextRange::new(content_start, last_end);
            if empty_continuation {
                self.out.warnings.push(ParseWarning {
                    message:
                        "empty continuation line; BuildKit will reject these in a future release"
                            .into(),
                    range: line_range,
                });
            }
            let mut errors = Vec::new();
            let mut instruction = build_instruction(&logical, 0, self.escape, &mut errors);
            let heredoc_host = match &instruction.args {
                Args::Onbuild(inner) => inner.as_ref(),
                _ => &instruction,
            };
            let mut heredocs = Vec::new();
            if can_contain_heredoc(heredoc_host) && logical.text.contains("<<") {
                match heredoc_markers(&logical.text) {
                    Ok(markers) => {
                        for marker in markers {
                            let (heredoc, end) = self.read_heredoc_body(marker, &logical);
                            if heredoc.terminator_range.is_empty() {
                                errors.push(("unterminated heredoc".to_string(), None));
                            }
                            if let Some(end) = end {
                                last_end = end;
                            }
                            heredocs.push(heredoc);
                        }
                    }
                    Err(message) => errors.push((message, None)),
                }
            }
            instruction.range = TextRange::new(content_start, last_end.max(content_start));
            instruction.heredocs = heredocs;
            for (message, range) in errors {
                let range = range.unwrap_or(instruction.range);
                self.error(message, range);
            }
            self.out.instructions.push(instruction);
        }
        if self.out.instructions.is_empty() {
            self.error(
                "file with no instructions",
                TextRange::empty(self.source.len()),
            );
        }
        self.out.escape = self.escape;
        self.out
    }

    /// Reads the body of one heredoc; returns it and the end of its last line.
    fn read_heredoc_body(
        &mut self,
        marker: HeredocMarker,
        logical: &LogicalLine,
    ) -> (Heredoc, Option<usize>) {
        let body_start = self
            .lines
            .get(self.next_line)
            .map_or(self.source.len(), |l| l.start);
        let mut last_end = None;
        let mut body_end = body_start;
        let mut terminator_range = TextRange::empty(self.source.len());
        while let Some(line) = self.take_line() {
            last_end = Some(line.end);
            let text = &self.source[line.start..line.end];
            let candidate = if marker.chomp {
                text.trim_start_matches('\t')
            } else {
                text
            };
            if candidate == marker.name {
                terminator_range = TextRange::new(line.start, line.end);
                break;
            }
            body_end = line.next;
        }
        let content = self.source[body_start..body_end].to_string();
        let heredoc = Heredoc {
            name: marker.name,
            file_descriptor: marker.file_descriptor,
            expand: marker.expand,
            chomp: marker.chomp,
            content,
            marker_range: logical.range(marker.start, marker.end),
            body_range: TextRange::new(body_start, body_end.max(body_start)),
            terminator_range,
        };
        (heredoc, last_end)
    }
}

fn physical_lines(source: &str) -> Vec<PhysicalLine> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = source.as_bytes();
    while start < bytes.len() {
        let newline = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| start + i);
        let (raw_end, next) = match newline {
            Some(i) => (i, i + 1),
            None => (bytes.len(), bytes.len()),
        };
        let mut end = raw_end;
        while end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        lines.push(PhysicalLine { start, end, next });
        start = next;
    }
    lines
}

fn can_contain_heredoc(instruction: &Instruction) -> bool {
    let json = match &instruction.args {
        Args::Command(Command::Exec { .. }) => true,
        Args::Files { json, .. } => *json,
        _ => false,
    };
    matches!(
        instruction.keyword,
        Keyword::Run | Keyword::Copy | Keyword::Add
    ) && !json
}

/// A heredoc marker found in an instruction line.
struct HeredocMarker {
    name: String,
    file_descriptor: u32,
    expand: bool,
    chomp: bool,
    /// Logical-line offsets of the marker word.
    start: usize,
    end: usize,
}

/// BuildKit's `heredocsFromLine`: lex the line keeping quotes and escapes,
/// and take every word of the form `[fd]<<[-]NAME`.
fn heredoc_markers(line: &str) -> Result<Vec<HeredocMarker>, String> {
    let mode = Mode {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset_env: true,
    };
    let Ok(words) = shell::split_words(line, '\\', mode) else {
        return Ok(Vec::new());
    };
    let mut markers = Vec::new();
    for (word, start, end) in words {
        if let Some(marker) = parse_heredoc_word(&word)? {
            markers.push(HeredocMarker {
                start,
                end,
                ..marker
            });
        }
    }
    Ok(markers)
}

/// BuildKit's `ParseHeredoc`: `^(\d*)<<(-?)\s*([^<]*)$`, then the name must lex to one word.
fn parse_heredoc_word(word: &str) -> Result<Option<HeredocMarker>, String> {
    let digits_end = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let Some(after) = word[digits_end..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, after) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    let rest = after.trim_start_matches(['\t', '\n', '\x0c', '\r', ' ']);
    if rest.contains('<') || rest.is_empty() {
        return Ok(None);
    }
    let file_descriptor = word[..digits_end]
        .parse::<u64>()
        .map_or(0, |fd| u32::try_from(fd).unwrap_or(u32::MAX));
    let plain = Mode {
        raw_quotes: false,
        raw_escapes: false,
        skip_unset_env: true,
    };
    let words = shell::split_words(rest, '\\', plain).map_err(|e| e.message)?;
    if words.len() != 1 {
        return Ok(None);
    }
    let raw = shell::split_words(
        rest,
        '\\',
        Mode {
            raw_quotes: true,
            ..plain
        },
    )
    .map_err(|e| e.message)?;
    if raw.len() != words.len() {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |w: &str| w.chars().filter(|&c| c == '\'' || c == '"').count();
    let name = words[0].0.clone();
    let expand = quotes(&name) == quotes(&raw[0].0);
    Ok(Some(HeredocMarker {
        name,
        file_descriptor,
        expand,
        chomp,
        start: 0,
        end: 0,
    }))
}

/// Errors found while building one instruction: message and optional narrower range.
type InstructionErrors = Vec<(String, Option<TextRange>)>;

/// BuildKit's `newNodeFromLine` on the logical line from `offset` on.
fn build_instruction(
    logical: &LogicalLine,
    offset: usize,
    escape: char,
    errors: &mut InstructionErrors,
) -> Instruction {
    let text = &logical.text[offset..];
    let trimmed_start = offset + (text.len() - text.trim_start().len());
    let trimmed_end = offset + text.trim_end().len();
    let line = &logical.text[trimmed_start..trimmed_end];
    let keyword_len = line.find(is_separator).unwrap_or(line.len());
    let keyword_text = &line[..keyword_len];
    let keyword_word = logical.word(keyword_text, trimmed_start, trimmed_start + keyword_len);
    let keyword = Keyword::from_word(keyword_text);
    let after_keyword = line[keyword_len..].trim_start_matches(is_separator);
    let rest_start = trimmed_end - after_keyword.len();
    let (flags, args_start) = if keyword_len < line.len() {
        extract_flags(logical, rest_start, trimmed_end, escape)
    } else {
        (Vec::new(), trimmed_end)
    };
    let args_slice = &logical.text[args_start..trimmed_end];
    let args_trim_start = args_start + (args_slice.len() - args_slice.trim_start().len());
    let args_trim_end = args_start + args_slice.trim_end().len();
    let args = ArgsText {
        logical,
        start: args_trim_start,
        end: args_trim_end.max(args_trim_start),
        escape,
    };
    let whole = logical.range(trimmed_start, trimmed_end);
    let mut fail = |message: String| errors.push((message, Some(whole)));
    let parsed = match keyword {
        Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell => args
            .maybe_json(&mut fail)
            .map_or(Args::Empty, Args::Command),
        Keyword::Copy | Keyword::Add => {
            let (words, json) = args.maybe_json_list(&mut fail);
            match words.split_last() {
                None => Args::Empty,
                Some((last, [])) => Args::Files {
                    sources: vec![last.clone()],
                    dest: None,
                    json,
                },
                Some((last, sources)) => Args::Files {
                    sources: sources.to_vec(),
                    dest: Some(last.clone()),
                    json,
                },
            }
        }
        Keyword::Volume => {
            let (words, json) = args.maybe_json_list(&mut fail);
            if words.is_empty() {
                Args::Empty
            } else {
                Args::Words { words, json }
            }
        }
        Keyword::Expose => {
            let words = args.whitespace_delimited();
            if words.is_empty() {
                Args::Empty
            } else {
                Args::Words { words, json: false }
            }
        }
        Keyword::From => {
            let words = args.whitespace_delimited();
            match words.first() {
                None => Args::Empty,
                Some(image) => {
                    let alias = match words.as_slice() {
                        [_, as_word, name] if as_word.text.eq_ignore_ascii_case("as") => {
                            Some(name.clone())
                        }
                        _ => None,
                    };
                    Args::From {
                        image: image.clone(),
                        alias,
                        words: words.clone(),
                    }
                }
            }
        }
        Keyword::Arg => {
            let pairs: Vec<KeyValue> = args
                .words()
                .into_iter()
                .map(|(word, start, end)| {
                    let range = logical.range(start, end);
                    match word.split_once('=') {
                        Some((k, v)) => KeyValue {
                            key: logical.word(k, start, start + k.len()),
                            value: Some(logical.word(v, start + k.len() + 1, end)),
                            legacy: false,
                            range,
                        },
                        None => KeyValue {
                            key: logical.word(&word, start, end),
                            value: None,
                            legacy: false,
                            range,
                        },
                    }
                })
                .collect();
            if pairs.is_empty() {
                Args::Empty
            } else {
                Args::KeyValues(pairs)
            }
        }
        Keyword::Env | Keyword::Label => {
            let name = if keyword == Keyword::Env {
                "ENV"
            } else {
                "LABEL"
            };
            let pairs = args.name_values(name, &mut fail);
            if pairs.is_empty() {
                Args::Empty
            } else {
                Args::KeyValues(pairs)
            }
        }
        Keyword::Healthcheck => args.healthcheck(&mut fail),
        Keyword::Maintainer | Keyword::Stopsignal | Keyword::User | Keyword::Workdir => {
            if args.is_empty() {
                Args::Empty
            } else {
                Args::Text(args.whole())
            }
        }
        Keyword::Onbuild => {
            if args.is_empty() {
                Args::Empty
            } else {
                let mut inner_errors = Vec::new();
                let mut inner = build_instruction(logical, args.start, escape, &mut inner_errors);
                inner.range = logical.range(args.start, args.end);
                errors.extend(inner_errors);
                Args::Onbuild(Box::new(inner))
            }
        }
        Keyword::Unknown => {
            if args.is_empty() {
                Args::Empty
            } else {
                Args::Unknown(args.whole())
            }
        }
    };
    Instruction {
        keyword,
        keyword_word,
        range: whole,
        flags,
        args: parsed,
        heredocs: Vec::new(),
        args_text: args.whole(),
    }
}

/// BuildKit's `extractBuilderFlags` over `logical.text[start..end]`: leading
/// `--flag` words. Returns the flags and where the arguments start.
fn extract_flags(
    logical: &LogicalLine,
    start: usize,
    end: usize,
    escape: char,
) -> (Vec<Flag>, usize) {
    let bytes = &logical.text.as_bytes()[start..end];
    let len = bytes.len();
    let escape = u8::try_from(escape).unwrap_or(b'\\');
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let mut flags = Vec::new();
    let mut phase = Phase::Spaces;
    let mut buf: Vec<u8> = Vec::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut word_start = 0;
    let mut push = |buf: &mut Vec<u8>, from: usize, to: usize| {
        flags.push(make_flag(logical, buf, start + from, start + to));
        buf.clear();
    };
    let mut pos = 0;
    while pos <= len {
        let ch = bytes.get(pos).copied().unwrap_or(0);
        if phase == Phase::Spaces {
            if pos == len {
                break;
            }
            if is_space_byte(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == len || bytes[pos + 1] != b'-' {
                return (flags, start + pos);
            }
            phase = Phase::Word;
            word_start = pos;
        }
        if pos == len {
            if buf != b"--" && (blank_ok || !buf.is_empty()) {
                push(&mut buf, word_start, pos);
            }
            break;
        }
        if phase == Phase::Word {
            if is_space_byte(ch) {
                phase = Phase::Spaces;
                if buf == b"--" {
                    return (flags, start + pos);
                }
                if blank_ok || !buf.is_empty() {
                    push(&mut buf, word_start, pos);
                }
                buf.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            let mut c = ch;
            if c == escape {
                if pos + 1 == len {
                    pos += 1;
                    continue;
                }
                pos += 1;
                c = bytes[pos];
            }
            buf.push(c);
            pos += 1;
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        let mut c = ch;
        if c == escape {
            if pos + 1 == len {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            c = bytes[pos];
        }
        buf.push(c);
        pos += 1;
    }
    (flags, end)
}

fn make_flag(logical: &LogicalLine, word: &[u8], start: usize, end: usize) -> Flag {
    let text = String::from_utf8_lossy(word);
    let body = text.strip_prefix("--").unwrap_or(&text);
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (body.to_string(), None),
    };
    Flag {
        name,
        value,
        range: logical.range(start, end),
    }
}

/// The argument text of one instruction, with the per-keyword splitters.
struct ArgsText<'l> {
    logical: &'l LogicalLine,
    start: usize,
    end: usize,
    escape: char,
}

impl ArgsText<'_> {
    fn text(&self) -> &str {
        &self.logical.text[self.start..self.end]
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    fn whole(&self) -> Word {
        self.logical.word(self.text(), self.start, self.end)
    }

    /// BuildKit's `parseJSON`: `Ok(Some(words))` for a JSON array of strings,
    /// `Ok(None)` when the text is not a JSON array, `Err` for a JSON array with
    /// something other than strings.
    fn json(&self) -> Result<Option<Vec<Word>>, String> {
        let text = self.text();
        if !text.starts_with('[') {
            return Ok(None);
        }
        let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
            return Ok(None);
        };
        let mut strings = Vec::with_capacity(values.len());
        for value in values {
            match value {
                serde_json::Value::String(s) => strings.push(s),
                _ => {
                    return Err(
                        "when using JSON array syntax, arrays must be comprised of strings only"
                            .into(),
                    );
                }
            }
        }
        let spans = json_string_spans(text);
        Ok(Some(
            strings
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let (a, b) = spans.get(i).copied().unwrap_or((0, text.len()));
                    self.logical.word(&s, self.start + a, self.start + b)
                })
                .collect(),
        ))
    }

    fn maybe_json(&self, fail: &mut dyn FnMut(String)) -> Option<Command> {
        if self.is_empty() {
            return None;
        }
        match self.json() {
            Ok(Some(args)) => Some(Command::Exec { args }),
            Ok(None) => Some(Command::Shell { text: self.whole() }),
            Err(message) => {
                fail(message);
                Some(Command::Shell { text: self.whole() })
            }
        }
    }

    fn maybe_json_list(&self, fail: &mut dyn FnMut(String)) -> (Vec<Word>, bool) {
        match self.json() {
            Ok(Some(words)) => (words, true),
            Ok(None) => (self.whitespace_delimited(), false),
            Err(message) => {
                fail(message);
                (self.whitespace_delimited(), false)
            }
        }
    }

    /// BuildKit's `parseStringsWhitespaceDelimited`: split on `[\t\v\f\r ]+`.
    fn whitespace_delimited(&self) -> Vec<Word> {
        let text = self.text();
        let mut words = Vec::new();
        let mut word_start = None;
        for (i, ch) in text.char_indices() {
            match (is_separator(ch), word_start) {
                (true, Some(s)) => {
                    words.push(
                        self.logical
                            .word(&text[s..i], self.start + s, self.start + i),
                    );
                    word_start = None;
                }
                (false, None) => word_start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = word_start {
            words.push(
                self.logical
                    .word(&text[s..], self.start + s, self.start + text.len()),
            );
        }
        words
    }

    /// BuildKit's `parseWords`: whitespace-separated words, quotes kept, with
    /// logical offsets.
    fn words(&self) -> Vec<(String, usize, usize)> {
        let text = self.text();
        #[derive(PartialEq)]
        enum Phase {
            Spaces,
            Word,
            Quote,
        }
        let mut words = Vec::new();
        let mut phase = Phase::Spaces;
        let mut quote = '\0';
        let mut blank_ok = false;
        let mut buf = String::new();
        let mut word_start = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((pos, ch)) = chars.next() {
            if phase == Phase::Spaces {
                if ch.is_whitespace() {
                    continue;
                }
                phase = Phase::Word;
                word_start = pos;
            }
            if phase == Phase::Word {
                if ch.is_whitespace() {
                    phase = Phase::Spaces;
                    if blank_ok || !buf.is_empty() {
                        words.push((
                            std::mem::take(&mut buf),
                            self.start + word_start,
                            self.start + pos,
                        ));
                    }
                    buf.clear();
                    blank_ok = false;
                    continue;
                }
                if ch == '\'' || ch == '"' {
                    quote = ch;
                    blank_ok = true;
                    phase = Phase::Quote;
                }
                if ch == self.escape {
                    match chars.next() {
                        None => continue,
                        Some((_, next)) => {
                            buf.push(ch);
                            buf.push(next);
                            continue;
                        }
                    }
                }
                buf.push(ch);
                continue;
            }
            // Phase::Quote
            if ch == quote {
                phase = Phase::Word;
            }
            if ch == self.escape && quote != '\'' {
                match chars.next() {
                    None => {
                        phase = Phase::Word;
                        continue;
                    }
                    Some((_, next)) => {
                        buf.push(ch);
                        buf.push(next);
                        continue;
                    }
                }
            }
            buf.push(ch);
        }
        if phase != Phase::Spaces && (blank_ok || !buf.is_empty()) {
            words.push((buf, self.start + word_start, self.end));
        }
        words
    }

    /// BuildKit's `parseNameVal` for ENV and LABEL.
    fn name_values(&self, keyword: &str, fail: &mut dyn FnMut(String)) -> Vec<KeyValue> {
        let words = self.words();
        let Some(first) = words.first() else {
            return Vec::new();
        };
        if !first.0.contains('=') {
            let text = self.text();
            let key_end = text.find(is_separator).unwrap_or(text.len());
            let value_start = key_end
                + (text[key_end..].len() - text[key_end..].trim_start_matches(is_separator).len());
            let key = self
                .logical
                .word(&text[..key_end], self.start, self.start + key_end);
            if key_end == text.len() {
                fail(format!("{keyword} must have two arguments"));
                return vec![KeyValue {
                    key,
                    value: None,
                    legacy: true,
                    range: self.whole().range,
                }];
            }
            let value = self
                .logical
                .word(&text[value_start..], self.start + value_start, self.end);
            return vec![KeyValue {
                key,
                value: Some(value),
                legacy: true,
                range: self.whole().range,
            }];
        }
        let mut pairs = Vec::new();
        for (word, start, end) in words {
            let range = self.logical.range(start, end);
            match word.split_once('=') {
                Some((k, v)) => pairs.push(KeyValue {
                    key: self.logical.word(k, start, start + k.len()),
                    value: Some(self.logical.word(v, start + k.len() + 1, end)),
                    legacy: false,
                    range,
                }),
                None => {
                    fail(format!(
                        "Syntax error - can't find = in {word:?}. Must be of the form: name=value"
                    ));
                    pairs.push(KeyValue {
                        key: self.logical.word(&word, start, end),
                        value: None,
                        legacy: false,
                        range,
                    });
                }
            }
        }
        pairs
    }

    /// BuildKit's `parseHealthConfig`: a type word (`CMD`/`NONE`) then a command.
    fn healthcheck(&self, fail: &mut dyn FnMut(String)) -> Args {
        let text = self.text();
        let bytes = text.as_bytes();
        let sep = bytes
            .iter()
            .position(|&b| is_space_byte(b))
            .unwrap_or(bytes.len());
        if sep == 0 {
            return Args::Empty;
        }
        let next = bytes[sep..]
            .iter()
            .position(|&b| !is_space_byte(b))
            .map_or(bytes.len(), |i| sep + i);
        let kind_text = String::from_utf8_lossy(&bytes[..sep]).into_owned();
        let kind = self.logical.word(&kind_text, self.start, self.start + sep);
        let rest_start = if text.is_char_boundary(next) {
            next
        } else {
            bytes.len()
        };
        let command_args = ArgsText {
            logical: self.logical,
            start: self.start + rest_start,
            end: self.end,
            escape: self.escape,
        };
        let command = command_args.maybe_json(fail);
        Args::Healthcheck { kind, command }
    }
}

/// Byte spans (quotes included) of the string tokens of a valid JSON array.
fn json_string_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}
