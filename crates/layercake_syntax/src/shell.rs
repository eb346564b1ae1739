//! BuildKit's shell-word lexer: word splitting, quotes and `$VAR` expansion.
//!
//! BuildKit runs the same lexer in several modes: to find heredoc markers in a
//! RUN line (quotes and escapes kept, unset variables left as written), and to
//! expand instruction arguments against the build's ARG and ENV values. This
//! module reproduces its behaviour, quirks included, because the parser's
//! verdict and the model's expansions must agree with BuildKit's.

use std::fmt;

/// A word after expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandedWord {
    /// The expanded text, quotes removed.
    pub value: String,
    /// Variables the word referenced that are not set, in order of first use.
    pub unmatched: Vec<String>,
}

/// What the lexer rejects, with BuildKit's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellError {
    /// BuildKit's message, e.g. `syntax error: missing '}'`.
    pub message: String,
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShellError {}

fn error<T>(message: impl Into<String>) -> Result<T, ShellError> {
    Err(ShellError {
        message: message.into(),
    })
}

/// Expands one word as BuildKit does for instruction arguments: quotes removed,
/// `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:+x}`, `${VAR+x}`,
/// `${VAR?msg}`, `${VAR#p}`, `${VAR%p}`, `${VAR/a/b}`. `escape` is the
/// Dockerfile's escape character.
pub fn expand_word(
    text: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ExpandedWord, ShellError> {
    let mut lexer = Lexer::new(text, escape, Mode::default(), lookup);
    let (value, _) = lexer.process_stop_on(None, false)?;
    Ok(ExpandedWord {
        value,
        unmatched: lexer.unmatched,
    })
}

/// Splits `text` into words as BuildKit's `ProcessWords` does with `mode`,
/// with the byte range of each word in `text`.
pub(crate) fn split_words(
    text: &str,
    escape: char,
    mode: Mode,
) -> Result<Vec<SpannedWord>, ShellError> {
    let no_env = |_: &str| None;
    let mut lexer = Lexer::new(text, escape, mode, &no_env);
    let raw_escapes = mode.raw_escapes;
    let (_, words) = lexer.process_stop_on(None, raw_escapes)?;
    Ok(words)
}

/// Lexer switches, as in BuildKit's `shell.Lex`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Mode {
    /// Keep quote characters in the output.
    pub raw_quotes: bool,
    /// Keep escape characters in the output.
    pub raw_escapes: bool,
    /// Leave unset variables as written instead of expanding them to nothing.
    pub skip_unset_env: bool,
}

/// A word and the byte range of the text it came from.
pub(crate) type SpannedWord = (String, usize, usize);

/// Processed text and the words it splits into.
type Processed = (String, Vec<SpannedWord>);

/// Accumulates words; each word remembers the source span it came from.
struct WordsBuilder {
    buf: String,
    in_word: bool,
    start: usize,
    end: usize,
    words: Vec<SpannedWord>,
}

impl WordsBuilder {
    fn new() -> Self {
        WordsBuilder {
            buf: String::new(),
            in_word: false,
            start: 0,
            end: 0,
            words: Vec::new(),
        }
    }

    fn add_char(&mut self, ch: char, start: usize, end: usize) {
        if ch.is_whitespace() && self.in_word {
            if !self.buf.is_empty() {
                self.flush();
                self.in_word = false;
            }
        } else if !ch.is_whitespace() {
            self.add_raw_char(ch, start, end);
        }
    }

    fn note_span(&mut self, start: usize, end: usize) {
        if self.buf.is_empty() {
            self.start = start;
        }
        self.end = end;
    }

    fn add_raw_char(&mut self, ch: char, start: usize, end: usize) {
        self.note_span(start, end);
        self.buf.push(ch);
        self.in_word = true;
    }

    /// Text from a `$` expansion: split on whitespace inside it.
    fn add_string(&mut self, text: &str, start: usize, end: usize) {
        for ch in text.chars() {
            self.add_char(ch, start, end);
        }
    }

    /// Text from quotes or `<<`: kept whole.
    fn add_raw_string(&mut self, text: &str, start: usize, end: usize) {
        self.note_span(start, end);
        self.buf.push_str(text);
        self.in_word = true;
    }

    fn flush(&mut self) {
        let word = std::mem::take(&mut self.buf);
        self.words.push((word, self.start, self.end));
    }

    fn finish(mut self) -> Vec<SpannedWord> {
        if !self.buf.is_empty() {
            self.flush();
        }
        self.words
    }
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    escape: char,
    mode: Mode,
    raw_escapes: bool,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unmatched: Vec<String>,
}

impl<'a> Lexer<'a> {
    fn new(
        text: &'a str,
        escape: char,
        mode: Mode,
        lookup: &'a dyn Fn(&str) -> Option<String>,
    ) -> Self {
        Lexer {
            text,
            pos: 0,
            escape,
            mode,
            raw_escapes: mode.raw_escapes,
            lookup,
            unmatched: Vec::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        let value = (self.lookup)(name);
        if value.is_none() && !self.unmatched.iter().any(|n| n == name) {
            self.unmatched.push(name.to_string());
        }
        value
    }

    /// BuildKit's `processStopOn`: reads up to `stop` (or the end), returning the
    /// processed text and the words it splits into.
    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<Processed, ShellError> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let result = self.process_stop_on_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn process_stop_on_inner(&mut self, stop: Option<char>) -> Result<Processed, ShellError> {
        let mut result = String::new();
        let mut words = WordsBuilder::new();
        while let Some(ch) = self.peek() {
            let start = self.pos;
            if stop == Some(ch) {
                self.next();
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let tmp = self.process_dollar()?;
                    result.push_str(&tmp);
                    words.add_string(&tmp, start, self.pos);
                }
                '<' => {
                    let tmp = self.process_possible_heredoc();
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp, start, self.pos);
                }
                '\'' => {
                    let tmp = self.process_single_quote()?;
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp, start, self.pos);
                }
                '"' => {
                    let tmp = self.process_double_quote()?;
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp, start, self.pos);
                }
                _ => {
                    self.next();
                    if ch == self.escape {
                        if self.raw_escapes {
                            words.add_raw_char(ch, start, self.pos);
                            result.push(ch);
                        }
                        let Some(escaped) = self.next() else { break };
                        words.add_raw_char(escaped, start, self.pos);
                        result.push(escaped);
                    } else {
                        words.add_char(ch, start, self.pos);
                        result.push(ch);
                    }
                }
            }
        }
        if let Some(stop) = stop {
            return error(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn process_single_quote(&mut self) -> Result<String, ShellError> {
        let mut result = String::new();
        let quote = self.next().unwrap_or('\'');
        if self.mode.raw_quotes {
            result.push(quote);
        }
        loop {
            match self.next() {
                None => {
                    return error(
                        "unexpected end of statement while looking for matching single-quote",
                    );
                }
                Some('\'') => {
                    if self.mode.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(ch) => result.push(ch),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, ShellError> {
        let mut result = String::new();
        let quote = self.next().unwrap_or('"');
        if self.mode.raw_quotes {
            result.push(quote);
        }
        loop {
            match self.peek() {
                None => {
                    return error(
                        "unexpected end of statement while looking for matching double-quote",
                    );
                }
                Some('"') => {
                    self.next();
                    if self.mode.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let value = self.process_dollar()?;
                    result.push_str(&value);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or_default();
                    if ch == self.escape {
                        if self.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                ch = self.next().unwrap_or_default();
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn process_dollar(&mut self) -> Result<String, ShellError> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.get_env(&name) {
                Some(value) => value,
                None if self.mode.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return error("syntax error: missing '}'"),
            Some('{' | '}' | ':') => return error("syntax error: bad substitution"),
            Some(_) => {}
        }
        let name = self.process_name();
        let ch = self.next();
        let mut modifier = ch.map_or('\u{FFFD}'.to_string(), String::from);
        match ch {
            Some('}') => Ok(match self.get_env(&name) {
                Some(value) => value,
                None if self.mode.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':' | '+' | '-' | '?' | '#' | '%') => {
                let null_is_unset = ch == Some(':');
                let op = if null_is_unset {
                    let op = self.next();
                    modifier.push(op.unwrap_or('\u{FFFD}'));
                    op
                } else {
                    ch
                };
                let raw_escapes = matches!(op, Some('#' | '%'));
                if null_is_unset && raw_escapes {
                    return error(format!("unsupported modifier ({modifier}) in substitution"));
                }
                let word = self.stop_on_brace('}', raw_escapes)?;
                let value = self.get_env(&name);
                if self.mode.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}{modifier}{word}}}"));
                }
                let empty = value
                    .as_deref()
                    .is_none_or(|v| null_is_unset && v.is_empty());
                match op {
                    Some('-') => Ok(if empty {
                        word
                    } else {
                        value.unwrap_or_default()
                    }),
                    Some('+') => Ok(if empty { String::new() } else { word }),
                    Some('?') => match value {
                        None => {
                            let message = if word.is_empty() {
                                "is not allowed to be unset".to_string()
                            } else {
                                word
                            };
                            error(format!("{name}: {message}"))
                        }
                        Some(v) if null_is_unset && v.is_empty() => {
                            let message = if word.is_empty() {
                                "is not allowed to be empty".to_string()
                            } else {
                                word
                            };
                            error(format!("{name}: {message}"))
                        }
                        Some(v) => Ok(v),
                    },
                    Some(op @ ('%' | '#')) => {
                        let value = value.unwrap_or_default();
                        let (greedy, pattern) = match word.strip_prefix(op) {
                            Some(rest) => (true, rest.to_string()),
                            None => (false, word),
                        };
                        let pattern = Glob::parse(&pattern)?;
                        Ok(if op == '%' {
                            pattern.trim_suffix(&value, greedy)
                        } else {
                            pattern.trim_prefix(&value, greedy)
                        })
                    }
                    _ => error(format!("unsupported modifier ({modifier}) in substitution")),
                }
            }
            Some('/') => {
                let replace_all = self.peek() == Some('/');
                if replace_all {
                    self.next();
                }
                let pattern = self.stop_on_brace('/', true).map_err(|e| {
                    if e.message.contains("missing '}'") {
                        ShellError {
                            message: "syntax error: missing '/' in ${}".into(),
                        }
                    } else {
                        e
                    }
                })?;
                let replacement = self.stop_on_brace('}', true)?;
                let value = self.get_env(&name);
                if self.mode.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
                }
                let glob = Glob::parse(&pattern)?;
                Ok(glob.replace(&value.unwrap_or_default(), &replacement, replace_all))
            }
            _ => error(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    /// `processStopOn(stop)` inside `${…}`, with BuildKit's end-of-input message.
    fn stop_on_brace(&mut self, stop: char, raw_escapes: bool) -> Result<String, ShellError> {
        match self.process_stop_on(Some(stop), raw_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.peek().is_none() => error("syntax error: missing '}'"),
            Err(e) => Err(e),
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && is_digit(ch) {
                while let Some(d) = self.peek().filter(|c| is_digit(*c)) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphabetic() && !is_digit(ch) && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".to_string();
        }
        self.next();
        let mut result = "<<".to_string();
        while let Some(ch) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            self.next();
            result.push(ch);
        }
        result
    }
}

fn is_digit(ch: char) -> bool {
    ch.is_ascii_digit() || (!ch.is_ascii() && ch.is_numeric())
}

/// A shell pattern (`*`, `?`, `\` escapes) as used in `${VAR#pattern}`.
struct Glob {
    tokens: Vec<GlobToken>,
}

#[derive(Clone, Copy)]
enum GlobToken {
    Any,
    One,
    Literal(char),
}

impl Glob {
    fn parse(pattern: &str) -> Result<Glob, ShellError> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '*' => tokens.push(GlobToken::Any),
                '?' => tokens.push(GlobToken::One),
                '\\' => match chars.peek().copied() {
                    Some('}' | '/') => {}
                    Some(next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        tokens.push(GlobToken::Literal(next));
                    }
                    Some(other) => {
                        return error(format!(
                            "invalid pattern ({pattern}) in substitution: invalid escape '\\{other}'"
                        ));
                    }
                    None => {
                        return error(format!(
                            "invalid pattern ({pattern}) in substitution: invalid escape '\\'"
                        ));
                    }
                },
                other => tokens.push(GlobToken::Literal(other)),
            }
        }
        Ok(Glob { tokens })
    }

    fn matches(&self, text: &[char]) -> bool {
        fn go(tokens: &[GlobToken], text: &[char]) -> bool {
            match tokens.split_first() {
                None => text.is_empty(),
                Some((GlobToken::Any, rest)) => (0..=text.len()).any(|i| go(rest, &text[i..])),
                Some((GlobToken::One, rest)) => !text.is_empty() && go(rest, &text[1..]),
                Some((GlobToken::Literal(c), rest)) => {
                    text.first() == Some(c) && go(rest, &text[1..])
                }
            }
        }
        go(&self.tokens, text)
    }

    /// Length in chars of the shortest (or longest) prefix of `text` the pattern matches.
    fn prefix_match(&self, text: &[char], greedy: bool) -> Option<usize> {
        let mut lengths: Box<dyn Iterator<Item = usize>> = if greedy {
            Box::new((0..=text.len()).rev())
        } else {
            Box::new(0..=text.len())
        };
        lengths.find(|&len| self.matches(&text[..len]))
    }

    fn trim_prefix(&self, value: &str, greedy: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        match self.prefix_match(&chars, greedy) {
            Some(len) => chars[len..].iter().collect(),
            None => value.to_string(),
        }
    }

    fn trim_suffix(&self, value: &str, greedy: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let start = if greedy {
            (0..=n).find(|&s| self.matches(&chars[s..]))
        } else {
            (0..=n).rev().find(|&s| self.matches(&chars[s..]))
        };
        match start {
            Some(s) => chars[..s].iter().collect(),
            None => value.to_string(),
        }
    }

    fn replace(&self, value: &str, replacement: &str, all: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        let mut replaced = false;
        while i <= chars.len() {
            if let Some(len) = (!replaced || all)
                .then(|| self.prefix_match(&chars[i..], true))
                .flatten()
            {
                out.push_str(replacement);
                replaced = true;
                if len > 0 {
                    i += len;
                    continue;
                }
            }
            if let Some(c) = chars.get(i) {
                out.push(*c);
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            "PATHV" => Some("/usr/local/bin/node".into()),
            _ => None,
        }
    }

    fn expand(text: &str) -> Result<String, ShellError> {
        expand_word(text, '\\', &env).map(|w| w.value)
    }

    #[test]
    fn expands_variables_and_modifiers() {
        assert_eq!(expand("$A-${A}").unwrap(), "alpha-alpha");
        assert_eq!(expand("${B:-def}").unwrap(), "def");
        assert_eq!(expand("${EMPTY:-def}").unwrap(), "def");
        assert_eq!(expand("${EMPTY-def}").unwrap(), "");
        assert_eq!(expand("${A:+set}").unwrap(), "set");
        assert_eq!(expand("${B:+set}").unwrap(), "");
        assert_eq!(expand("${PATHV##*/}").unwrap(), "node");
        assert_eq!(expand("${PATHV%/*}").unwrap(), "/usr/local/bin");
        assert_eq!(expand("${A/l/L}").unwrap(), "aLpha");
        assert_eq!(expand("${A//a/A}").unwrap(), "AlphA");
        assert_eq!(expand("'$A' \"$A\"").unwrap(), "$A alpha");
        assert!(
            expand("${B?need B}")
                .unwrap_err()
                .message
                .contains("need B")
        );
        assert!(expand("${A").is_err());
    }

    #[test]
    fn records_unmatched_names() {
        let w = expand_word("$NOPE ${ALSO:-x} $A", '\\', &env).unwrap();
        assert_eq!(w.unmatched, vec!["NOPE".to_string(), "ALSO".to_string()]);
    }

    #[test]
    fn splits_heredoc_words_raw() {
        let mode = Mode {
            raw_quotes: true,
            raw_escapes: true,
            skip_unset_env: true,
        };
        let words = split_words("RUN <<A sh && << \"B\" cat $X", '\\', mode).unwrap();
        let texts: Vec<&str> = words.iter().map(|w| w.0.as_str()).collect();
        assert_eq!(texts, ["RUN", "<<A", "sh", "&&", "<< \"B\"", "cat", "$X"]);
        assert_eq!(words[4].1, 14);
        assert_eq!(words[4].2, 20);
    }
}
