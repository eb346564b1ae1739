//! `.dockerignore` matching with the semantics of BuildKit's
//! `moby/patternmatcher` (read through `ignorefile.ReadAll`).
//!
//! - Lines starting with `#` are comments; blank lines are skipped; each
//!   line is trimmed.
//! - A line starting with `!` is an exception: it re-includes what it matches.
//! - Patterns are cleaned like Go's `filepath.Clean` (so `./a//b/` is `a/b`)
//!   and are relative to the context root (a leading `/` is dropped).
//! - `*` matches any run of characters except `/`, `?` one character except
//!   `/`, `[…]` a character class (`^` negates, `a-z` ranges), `\` escapes the
//!   next character, `**` any number of directories including none.
//! - A pattern that matches a parent directory of a path matches the path.
//! - Every line is tried in order, and the last one that matches decides.
//!
//! [`LexicalPath`] is the crate's path cleaning, shared by every crate that
//! compares paths by spelling (build contexts, configuration entries).
//!
//! This duplicates `layercake_lint::dockerignore` on purpose for now (this
//! crate must not depend on the linter); the two should become one small
//! shared crate.
#![deny(missing_docs)]

mod lexical;

use std::borrow::Cow;
use std::path::Path;

pub use lexical::LexicalPath;

/// The patterns of one `.dockerignore` file.
#[derive(Clone, Debug, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// One pattern line of a `.dockerignore`.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The cleaned pattern, without the leading `!`.
    pub pattern: String,
    /// Whether the line starts with `!` (re-includes what it matches).
    pub exception: bool,
    /// The 1-based line number in the file.
    pub line: usize,
    /// The line as written, trimmed (for messages).
    pub written: String,
    matcher: Matcher,
}

/// How patternmatcher compiles a pattern: plain comparisons where it can, a
/// glob otherwise.
#[derive(Clone, Debug)]
enum Matcher {
    /// No wildcard: the path equals the pattern.
    Exact,
    /// `prefix**`: the path starts with the prefix.
    Prefix(String),
    /// `**suffix` with no other wildcard: the path ends with the suffix, or
    /// equals it without its leading `/`.
    Suffix(String),
    /// Anything else.
    Glob(Vec<Token>),
    /// A pattern BuildKit rejects (an unclosed or empty `[`, a reversed
    /// range). BuildKit fails the build; here it matches nothing.
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`
    AnyChar,
    /// `*`
    AnyRun,
    /// `**` followed by more pattern: nothing, or anything ending in `/`.
    AnyDirs,
    /// `**` at the end of a pattern: anything.
    AnyRest,
    /// `[…]`
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl DockerIgnore {
    /// Reads the text of a `.dockerignore` file.
    pub fn parse(text: &str) -> DockerIgnore {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            if raw.starts_with('#') {
                continue;
            }
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, rest) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if rest.is_empty() {
                // BuildKit rejects a lone `!`; it can match nothing.
                continue;
            }
            let mut pattern = clean(rest);
            if pattern.len() > 1 && pattern.starts_with('/') {
                pattern.remove(0);
            }
            let matcher = compile(&pattern);
            patterns.push(Pattern {
                pattern,
                exception,
                line: index + 1,
                written: line.to_string(),
                matcher,
            });
        }
        DockerIgnore { patterns }
    }

    /// The patterns, in file order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left
    /// out of the build context.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.excluded_by(path).is_some()
    }

    /// The pattern that leaves `path` out of the build context, if any (the
    /// last matching line; `None` when the path is sent).
    pub fn excluded_by(&self, path: &str) -> Option<&Pattern> {
        let path = clean(path);
        let path = path.trim_start_matches('/');
        if path.is_empty() || path == "." {
            return None;
        }
        let parents: Vec<&str> = path
            .char_indices()
            .filter(|&(_, c)| c == '/')
            .map(|(i, _)| &path[..i])
            .collect();
        let mut decided: Option<&Pattern> = None;
        for pattern in &self.patterns {
            // patternmatcher skips exceptions while nothing matched and
            // exclusions once something has: neither could change the answer.
            if pattern.exception != decided.is_some() {
                continue;
            }
            let matched =
                pattern.matches(path) || parents.iter().any(|parent| pattern.matches(parent));
            if matched {
                decided = (!pattern.exception).then_some(pattern);
            }
        }
        decided
    }
}

impl DockerIgnore {
    /// Whether an exception (`!`) line could re-include something inside the
    /// directory `path`: then BuildKit still sends part of it.
    pub fn may_reinclude_under(&self, path: &str) -> bool {
        let path = clean(path.trim_start_matches('/'));
        let segments: Vec<&str> = path.split('/').collect();
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| could_match_below(&p.pattern, &segments))
    }
}

/// Whether `pattern` could match a path below the directory `dir` (given as
/// its segments): each of its segments matches the directory's, as far as
/// both go, or a `**` lets it reach anywhere.
fn could_match_below(pattern: &str, dir: &[&str]) -> bool {
    for (n, part) in pattern.split('/').enumerate() {
        if part.contains("**") {
            return true;
        }
        let Some(segment) = dir.get(n) else {
            // The pattern goes deeper than `dir` and every segment so far fits.
            return true;
        };
        let one = Pattern {
            pattern: part.to_string(),
            exception: false,
            line: 0,
            written: String::new(),
            matcher: compile(part),
        };
        if !one.matches(segment) {
            return false;
        }
    }
    false
}

impl Pattern {
    /// Whether the pattern matches `path` itself (its parents are not tried).
    pub fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.pattern,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|bare| path == bare)
            }
            Matcher::Glob(tokens) => {
                let chars: Vec<char> = path.chars().collect();
                GlobRun::new(tokens, &chars).matches(0, 0)
            }
            Matcher::Invalid => false,
        }
    }

    /// Whether BuildKit would reject this pattern.
    pub fn is_invalid(&self) -> bool {
        matches!(self.matcher, Matcher::Invalid)
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean(path: &str) -> String {
    let lexical = LexicalPath::of(Path::new(path));
    let mut parts = vec![Cow::Borrowed(".."); lexical.climbs];
    parts.extend(lexical.names.iter().map(|name| name.to_string_lossy()));
    let joined = parts.join("/");
    if lexical.is_rooted() {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// patternmatcher's `compile`, producing tokens instead of a regular expression.
fn compile(pattern: &str) -> Matcher {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Glob,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut kind = Kind::Exact;
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at_start = i == 0;
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    kind = if kind == Kind::Exact {
                        Kind::Prefix
                    } else {
                        Kind::Glob
                    };
                    tokens.push(Token::AnyRest);
                } else {
                    kind = Kind::Glob;
                    tokens.push(Token::AnyDirs);
                }
                if at_start {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                kind = Kind::Glob;
                tokens.push(Token::AnyRun);
            }
            '?' => {
                kind = Kind::Glob;
                tokens.push(Token::AnyChar);
            }
            '\\' => match chars.get(i) {
                Some(&next) => {
                    i += 1;
                    kind = Kind::Glob;
                    tokens.push(Token::Literal(next));
                }
                None => tokens.push(Token::Literal('\\')),
            },
            '[' => {
                kind = Kind::Glob;
                match parse_class(&chars, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => return Matcher::Invalid,
                }
            }
            other => tokens.push(Token::Literal(other)),
        }
    }
    match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_string()),
        Kind::Suffix => Matcher::Suffix(pattern[2..].to_string()),
        Kind::Glob => Matcher::Glob(tokens),
    }
}

/// A `[…]` class whose body starts at `start` (just after `[`): the token
/// and the index just after the closing `]`; `None` when malformed.
fn parse_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let ch = *chars.get(i)?;
        i += 1;
        if ch == ']' {
            // `[]` and `[^]` are errors for filepath.Match, which BuildKit
            // uses to validate patterns.
            if ranges.is_empty() {
                return None;
            }
            break;
        }
        let low = class_char(ch, chars, &mut i)?;
        let high = if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|c| *c != ']') {
            let first = *chars.get(i + 1)?;
            i += 2;
            class_char(first, chars, &mut i)?
        } else {
            low
        };
        if high < low {
            return None;
        }
        ranges.push((low, high));
    }
    Some((Token::Class { negated, ranges }, i))
}

/// One character of a class, resolving a `\` escape.
fn class_char(ch: char, chars: &[char], i: &mut usize) -> Option<char> {
    if ch == '\\' {
        let escaped = *chars.get(*i)?;
        *i += 1;
        Some(escaped)
    } else {
        Some(ch)
    }
}

/// Matching a token list against a path, memoised on (token, position) so
/// that patterns with many wildcards stay linear in practice.
struct GlobRun<'a> {
    tokens: &'a [Token],
    path: &'a [char],
    failed: Vec<bool>,
}

impl<'a> GlobRun<'a> {
    fn new(tokens: &'a [Token], path: &'a [char]) -> Self {
        GlobRun {
            tokens,
            path,
            failed: vec![false; (tokens.len() + 1) * (path.len() + 1)],
        }
    }

    fn matches(&mut self, token: usize, at: usize) -> bool {
        let memo = token * (self.path.len() + 1) + at;
        if self.failed[memo] {
            return false;
        }
        let found = self.step(token, at);
        if !found {
            self.failed[memo] = true;
        }
        found
    }

    fn step(&mut self, token: usize, at: usize) -> bool {
        let Some(current) = self.tokens.get(token) else {
            return at == self.path.len();
        };
        let next = self.path.get(at).copied();
        match current {
            Token::Literal(c) => next == Some(*c) && self.matches(token + 1, at + 1),
            Token::AnyChar => next.is_some_and(|c| c != '/') && self.matches(token + 1, at + 1),
            Token::Class { negated, ranges } => {
                next.is_some_and(|c| {
                    ranges.iter().any(|(low, high)| (*low..=*high).contains(&c)) != *negated
                }) && self.matches(token + 1, at + 1)
            }
            Token::AnyRun => {
                let run = self.path[at..].iter().take_while(|c| **c != '/').count();
                (0..=run).any(|n| self.matches(token + 1, at + n))
            }
            Token::AnyDirs => {
                self.matches(token + 1, at)
                    || (at..self.path.len())
                        .any(|n| self.path[n] == '/' && self.matches(token + 1, n + 1))
            }
            Token::AnyRest => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(ignore: &str, path: &str) -> bool {
        DockerIgnore::parse(ignore).is_excluded(path)
    }

    /// The example file of
    /// <https://docs.docker.com/build/concepts/context/#dockerignore-files>.
    #[test]
    fn documented_example_file() {
        let ignore = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
        // `*/temp*`: names starting with temp in any immediate subdirectory.
        assert!(excluded(ignore, "somedir/temporary.txt"));
        assert!(excluded(ignore, "somedir/temp"));
        // `*/*/temp*`: two levels below the root.
        assert!(excluded(ignore, "somedir/subdir/temporary.txt"));
        // `temp?`: one character after temp, in the root.
        assert!(excluded(ignore, "tempa"));
        assert!(excluded(ignore, "tempb"));
        assert!(!excluded(ignore, "temp"));
        assert!(!excluded(ignore, "temporary.txt"));
        assert!(!excluded(ignore, "a/b/c/temporary.txt"));
        // The comment is not a pattern.
        assert!(!excluded(ignore, "comment"));
        assert!(!excluded(ignore, "# comment"));
    }

    /// "`**/*.go` excludes all files that end with .go found anywhere in the
    /// build context."
    #[test]
    fn documented_double_star() {
        assert!(excluded("**/*.go\n", "main.go"));
        assert!(excluded("**/*.go\n", "cmd/server/main.go"));
        assert!(!excluded("**/*.go\n", "main.gox"));
        assert!(excluded("**/node_modules\n", "node_modules"));
        assert!(excluded("**/node_modules\n", "web/node_modules/x/index.js"));
        assert!(!excluded("**/node_modules\n", "web/my_node_modules"));
        assert!(excluded("docs/**\n", "docs/a/b.md"));
        assert!(!excluded("docs/**\n", "docs"));
        assert!(!excluded("docs/**\n", "documents/a"));
        assert!(excluded("a/**/b\n", "a/b"));
        assert!(excluded("a/**/b\n", "a/x/y/b"));
        assert!(!excluded("a/**/b\n", "a/xb"));
        assert!(excluded("**\n", "anything/at/all"));
    }

    /// The `!` examples of the documentation: the last matching line wins.
    #[test]
    fn documented_exceptions() {
        let ignore = "*.md\n!README.md\n";
        assert!(excluded(ignore, "CHANGES.md"));
        assert!(!excluded(ignore, "README.md"));

        let ignore = "*.md\n!README*.md\nREADME-secret.md\n";
        assert!(excluded(ignore, "CHANGES.md"));
        assert!(!excluded(ignore, "README.md"));
        assert!(!excluded(ignore, "README-public.md"));
        assert!(excluded(ignore, "README-secret.md"));

        let ignore = "*.md\nREADME-secret.md\n!README*.md\n";
        assert!(excluded(ignore, "CHANGES.md"));
        assert!(!excluded(ignore, "README-secret.md"));
    }

    #[test]
    fn parents_leading_slash_and_cleaning() {
        assert!(excluded("node_modules\n", "node_modules/express/index.js"));
        assert!(!excluded("node_modules\n", "web/node_modules"));
        assert!(excluded("/dist/\n", "dist/app.js"));
        assert!(excluded("./build\n", "build/out.js"));
        assert!(excluded("a//b/../c/\n", "a/c/file"));
        assert!(excluded(".git\n", "./.git/HEAD"));
        assert!(!excluded("*\n", "."));
        assert!(!excluded("*\n", ""));
        assert!(excluded("*\n", "deep/path/file"));
        assert!(excluded("  *.log  \r\n", "debug.log"));
    }

    #[test]
    fn exception_inside_an_excluded_directory() {
        let ignore = "config\n!config/default.yml\n";
        assert!(excluded(ignore, "config/secret.yml"));
        assert!(!excluded(ignore, "config/default.yml"));
        let ignore = "*\n!src\n";
        assert!(excluded(ignore, "Dockerfile"));
        assert!(!excluded(ignore, "src/main.rs"));
    }

    #[test]
    fn exceptions_inside_an_excluded_directory_may_reinclude() {
        let ignore = DockerIgnore::parse("config\n!config/default.yml\n");
        assert!(ignore.excluded_by("config").is_some());
        assert!(ignore.may_reinclude_under("config"));
        let ignore = DockerIgnore::parse("config\n!docs\n");
        assert!(!ignore.may_reinclude_under("config"));
        let ignore = DockerIgnore::parse("*\n!**/*.json\n");
        assert!(ignore.may_reinclude_under("anything"));
    }

    #[test]
    fn classes_escapes_and_invalid_patterns() {
        assert!(excluded("file[0-9].txt\n", "file3.txt"));
        assert!(!excluded("file[0-9].txt\n", "filex.txt"));
        assert!(excluded("file[^0-9].txt\n", "filex.txt"));
        assert!(!excluded("file[^0-9].txt\n", "file3.txt"));
        assert!(excluded("[ab]c\n", "bc"));
        assert!(excluded("a\\*b\n", "a*b"));
        assert!(!excluded("a\\*b\n", "axb"));
        // `.` and other regular-expression characters are literal.
        assert!(!excluded("a.b\n", "axb"));
        assert!(excluded("a+(b)\n", "a+(b)"));
        for bad in ["bad[\n", "x[]\n", "[z-a]\n"] {
            let ignore = DockerIgnore::parse(bad);
            assert!(ignore.patterns()[0].is_invalid(), "{bad:?}");
        }
        assert!(!excluded("bad[\n", "bad["));
    }

    #[test]
    fn comments_blank_lines_and_the_deciding_line() {
        let ignore = DockerIgnore::parse("\u{feff}# c\n\nnode_modules\n!\n*.log\n");
        assert_eq!(ignore.patterns().len(), 2);
        let hit = ignore.excluded_by("debug.log");
        assert_eq!(hit.map(|p| p.line), Some(5));
        assert_eq!(hit.map(|p| p.pattern.as_str()), Some("*.log"));
        // `*` does not cross `/`, so `*.log` only matches in the root…
        assert!(!excluded("*.log\n", "logs/debug.log"));
        // …but it matches a parent directory named like it.
        assert!(excluded("*.log\n", "old.log/x"));
        assert!(ignore.excluded_by("src/main.rs").is_none());
    }
}
