//! `.dockerignore` patterns, matched as BuildKit matches them
//! (`moby/patternmatcher` with `ignorefile.ReadAll`): patterns are relative
//! to the context root (a leading `/` is dropped), cleaned like
//! `filepath.Clean`; `*` and `?` stop at `/`, `**` spans directories; a
//! pattern that matches a parent directory matches everything under it; a
//! `!` line re-includes, and the last matching line wins.

/// The patterns of one `.dockerignore`.
#[derive(Clone, Debug, Default)]
pub struct DockerIgnore {
    patterns: Vec<IgnorePattern>,
}

/// One non-comment line of a `.dockerignore`.
#[derive(Clone, Debug)]
pub struct IgnorePattern {
    /// The cleaned pattern, without `!`.
    pub pattern: String,
    /// A `!` line: re-includes what it matches.
    pub exception: bool,
    /// The 1-based line in the file.
    pub line: usize,
    /// The line as written, trimmed.
    pub written: String,
    kind: MatchKind,
}

#[derive(Clone, Debug)]
enum MatchKind {
    Exact,
    Prefix,
    Suffix,
    Glob(Vec<Token>),
    /// The pattern cannot be compiled (BuildKit rejects the file); it matches nothing.
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    Question,
    /// `**` followed by more: nothing, or anything ending in `/`.
    AnyDirs,
    /// `**` at the end: anything.
    AnyRest,
    /// `[...]`.
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl DockerIgnore {
    /// Reads the text of a `.dockerignore` as BuildKit does.
    pub fn parse(text: &str) -> DockerIgnore {
        let mut patterns = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let raw = if index == 0 {
                raw.trim_start_matches('\u{feff}')
            } else {
                raw
            };
            if raw.starts_with('#') {
                continue;
            }
            let written = raw.trim();
            if written.is_empty() {
                continue;
            }
            let (exception, rest) = match written.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, written),
            };
            if rest.is_empty() {
                continue;
            }
            let mut pattern = clean(rest);
            if pattern.len() > 1 && pattern.starts_with('/') {
                pattern.remove(0);
            }
            let kind = compile(&pattern);
            patterns.push(IgnorePattern {
                pattern,
                exception,
                line: index + 1,
                written: written.to_string(),
                kind,
            });
        }
        DockerIgnore { patterns }
    }

    /// The patterns, in file order.
    pub fn patterns(&self) -> &[IgnorePattern] {
        &self.patterns
    }

    /// Whether `path` (relative to the context root, `/`-separated) is
    /// excluded, and the last line that decided it when it is.
    pub fn excluded_by(&self, path: &str) -> Option<&IgnorePattern> {
        let path = clean(path.trim_start_matches('/'));
        if path == "." || path.is_empty() {
            return None;
        }
        let parents: Vec<&str> = match path.rfind('/') {
            Some(end) => path[..end].split('/').collect(),
            None => Vec::new(),
        };
        let mut decided: Option<&IgnorePattern> = None;
        for pattern in &self.patterns {
            // As in patternmatcher: an exception only matters once something
            // matched, an exclusion only while nothing has.
            if pattern.exception != decided.is_some() {
                continue;
            }
            let matched = pattern.matches(&path)
                || (1..=parents.len()).any(|n| pattern.matches(&parents[..n].join("/")));
            if matched {
                decided = (!pattern.exception).then_some(pattern);
            }
        }
        decided
    }

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

impl IgnorePattern {
    /// Whether the pattern matches `path` itself (not its parents).
    pub fn matches(&self, path: &str) -> bool {
        match &self.kind {
            MatchKind::Exact => path == self.pattern,
            MatchKind::Prefix => {
                let prefix = &self.pattern[..self.pattern.len().saturating_sub(2)];
                path.starts_with(prefix)
            }
            MatchKind::Suffix => {
                let suffix = self.pattern.get(2..).unwrap_or("");
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            MatchKind::Glob(tokens) => {
                let chars: Vec<char> = path.chars().collect();
                glob_match(tokens, &chars)
            }
            MatchKind::Invalid => false,
        }
    }
}

/// `filepath.Clean` for `/`-separated paths.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// patternmatcher's `compile`: exact, prefix (`foo**`), suffix (`**foo`) or a glob.
fn compile(pattern: &str) -> MatchKind {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Glob,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut detected = Detected::Exact;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        let first = i == 0;
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    detected = if detected == Detected::Exact {
                        Detected::Prefix
                    } else {
                        Detected::Glob
                    };
                    tokens.push(Token::AnyRest);
                } else {
                    detected = Detected::Glob;
                    tokens.push(Token::AnyDirs);
                }
                if first {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                detected = Detected::Glob;
                tokens.push(Token::Star);
            }
            '?' => {
                detected = Detected::Glob;
                tokens.push(Token::Question);
            }
            '\\' => match chars.get(i) {
                Some(&next) => {
                    i += 1;
                    detected = Detected::Glob;
                    tokens.push(Token::Literal(next));
                }
                None => tokens.push(Token::Literal('\\')),
            },
            '[' => {
                detected = Detected::Glob;
                match parse_class(&chars, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => return MatchKind::Invalid,
                }
            }
            other => tokens.push(Token::Literal(other)),
        }
    }
    match detected {
        Detected::Exact => MatchKind::Exact,
        Detected::Prefix => MatchKind::Prefix,
        Detected::Suffix => MatchKind::Suffix,
        Detected::Glob => MatchKind::Glob(tokens),
    }
}

/// A `[...]` class starting after `[` at `start`; the token and the index after `]`.
fn parse_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let ch = *chars.get(i)?;
        i += 1;
        if ch == ']' && !first {
            break;
        }
        first = false;
        let low = if ch == '\\' {
            let escaped = *chars.get(i)?;
            i += 1;
            escaped
        } else {
            ch
        };
        let high = if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|c| *c != ']') {
            let mut high = *chars.get(i + 1)?;
            i += 2;
            if high == '\\' {
                high = *chars.get(i)?;
                i += 1;
            }
            high
        } else {
            low
        };
        if high < low {
            return None;
        }
        items.push((low, high));
    }
    Some((Token::Class { negated, items }, i))
}

fn glob_match(tokens: &[Token], path: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return path.is_empty();
    };
    match token {
        Token::Literal(c) => path.first() == Some(c) && glob_match(rest, &path[1..]),
        Token::Question => path.first().is_some_and(|c| *c != '/') && glob_match(rest, &path[1..]),
        Token::Class { negated, items } => {
            path.first().is_some_and(|c| {
                let inside = items.iter().any(|(low, high)| (*low..=*high).contains(c));
                inside != *negated
            }) && glob_match(rest, &path[1..])
        }
        Token::Star => {
            let run = path.iter().take_while(|c| **c != '/').count();
            (0..=run).any(|n| glob_match(rest, &path[n..]))
        }
        Token::AnyDirs => {
            glob_match(rest, path)
                || (0..path.len()).any(|n| path[n] == '/' && glob_match(rest, &path[n + 1..]))
        }
        Token::AnyRest => true,
    }
}

/// Whether `pattern` could match a path strictly inside the directory `dir`.
fn could_match_below(pattern: &str, dir: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    for (n, part) in parts.iter().enumerate() {
        if part.contains("**") {
            return true;
        }
        let Some(segment) = dir.get(n) else {
            // The pattern goes deeper than `dir` and every segment so far fits.
            return true;
        };
        let one = IgnorePattern {
            pattern: (*part).to_string(),
            exception: false,
            line: 0,
            written: String::new(),
            kind: compile(part),
        };
        if !one.matches(segment) {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(ignore: &str, path: &str) -> bool {
        DockerIgnore::parse(ignore).excluded_by(path).is_some()
    }

    // The examples of https://docs.docker.com/build/concepts/context/#dockerignore-files
    #[test]
    fn documented_wildcards() {
        let ignore = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
        assert!(excluded(ignore, "somedir/temporary.txt"));
        assert!(excluded(ignore, "somedir/temp"));
        assert!(excluded(ignore, "somedir/subdir/temporary.txt"));
        assert!(excluded(ignore, "tempa"));
        assert!(excluded(ignore, "tempb"));
        assert!(!excluded(ignore, "temp"));
        assert!(!excluded(ignore, "temporary.txt"));
        assert!(!excluded(ignore, "a/b/c/temp"));
        assert!(!excluded(ignore, "comment"));
    }

    #[test]
    fn double_star_spans_directories_including_none() {
        let ignore = "**/*.go\n";
        assert!(excluded(ignore, "main.go"));
        assert!(excluded(ignore, "cmd/server/main.go"));
        assert!(!excluded(ignore, "main.gox"));
        assert!(excluded("**/node_modules\n", "node_modules"));
        assert!(excluded("**/node_modules\n", "web/node_modules/x/index.js"));
        assert!(excluded("docs/**\n", "docs/a/b.md"));
        assert!(!excluded("docs/**\n", "docs"));
        assert!(excluded("a/**/b\n", "a/b"));
        assert!(excluded("a/**/b\n", "a/x/y/b"));
    }

    #[test]
    fn documented_exceptions_later_lines_win() {
        let ignore = "*.md\n!README.md\n";
        assert!(excluded(ignore, "CHANGES.md"));
        assert!(!excluded(ignore, "README.md"));

        let ignore = "*.md\n!README*.md\nREADME-secret.md\n";
        assert!(excluded(ignore, "CHANGES.md"));
        assert!(!excluded(ignore, "README.md"));
        assert!(!excluded(ignore, "README-public.md"));
        assert!(excluded(ignore, "README-secret.md"));

        let ignore = "*.md\nREADME-secret.md\n!README*.md\n";
        assert!(!excluded(ignore, "README-secret.md"));
        assert!(excluded(ignore, "CHANGES.md"));
    }

    #[test]
    fn parents_leading_slash_and_cleaning() {
        assert!(excluded("node_modules\n", "node_modules/express/index.js"));
        assert!(excluded("/dist/\n", "dist"));
        assert!(excluded("./build\n", "build/out.js"));
        assert!(excluded(".git\n", "./.git"));
        assert!(!excluded("node_modules\n", "web/node_modules"));
        assert!(!excluded("*\n", "."));
        assert!(excluded("*\n", "anything/at/all"));
        assert!(excluded("*\n!src\n", "Dockerfile"));
        assert!(!excluded("*\n!src\n", "src/main.rs"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(excluded("file[0-9].txt\n", "file3.txt"));
        assert!(!excluded("file[0-9].txt\n", "filex.txt"));
        assert!(excluded("file[^0-9].txt\n", "filex.txt"));
        assert!(excluded("a\\*b\n", "a*b"));
        assert!(!excluded("a\\*b\n", "axb"));
        assert!(!excluded("bad[\n", "bad["));
    }

    #[test]
    fn the_deciding_line_is_reported() {
        let ignore = DockerIgnore::parse("# c\n\nnode_modules\n*.log\n");
        let hit = ignore.excluded_by("debug.log");
        assert_eq!(hit.map(|p| p.line), Some(4));
        assert_eq!(hit.map(|p| p.written.as_str()), Some("*.log"));
    }

    #[test]
    fn exceptions_inside_an_excluded_directory() {
        let ignore = DockerIgnore::parse("config\n!config/default.yml\n");
        assert!(ignore.excluded_by("config").is_some());
        assert!(ignore.may_reinclude_under("config"));
        let ignore = DockerIgnore::parse("config\n!docs\n");
        assert!(!ignore.may_reinclude_under("config"));
        let ignore = DockerIgnore::parse("*\n!**/*.json\n");
        assert!(ignore.may_reinclude_under("anything"));
    }
}
