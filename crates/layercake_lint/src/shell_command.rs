//! The simple commands of a RUN: enough shell to see `npm ci` in
//! `cd /app && npm ci --omit=dev`, not a shell interpreter.

use layercake_syntax::{Args, Command, Instruction};
use std::iter::Peekable;
use std::ops::Range;
use std::str::CharIndices;

/// One simple command: its words with quotes removed, leading `VAR=value`
/// assignments dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The words; the first is the program.
    pub words: Vec<String>,
}

impl SimpleCommand {
    /// The program name without its directory (`/usr/bin/npm` → `npm`).
    pub fn program(&self) -> &str {
        let first = self.words.first().map_or("", String::as_str);
        first.rsplit('/').next().unwrap_or(first)
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// Whether an argument equals `flag` or starts with `flag=`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.args().iter().any(|a| {
            a == flag
                || a.strip_prefix(flag)
                    .is_some_and(|rest| rest.starts_with('='))
        })
    }

    /// The first argument that is not an option.
    pub fn subcommand(&self) -> Option<&str> {
        self.args()
            .iter()
            .map(String::as_str)
            .find(|a| !a.starts_with('-'))
    }

    /// The command as one line, for messages.
    pub fn display(&self) -> String {
        self.words.join(" ")
    }
}

/// The simple commands a RUN executes: its shell-form text, its exec-form
/// arguments, and the bodies of heredocs that feed a shell.
pub fn run_commands(instruction: &Instruction) -> Vec<SimpleCommand> {
    let scripts = run_scripts(instruction);
    match &instruction.args {
        // Exec form without a shell script: the array is the command.
        Args::Command(Command::Exec { args }) if scripts.is_empty() => {
            vec![SimpleCommand {
                words: args.iter().map(|w| w.text.clone()).collect(),
            }]
        }
        _ => scripts
            .iter()
            .flat_map(|script| split_script(script))
            .collect(),
    }
}

/// Splits shell text into simple commands at `&&`, `||`, `;`, `|`, `&`,
/// parentheses and newlines, dropping comments and leading variable
/// assignments and reserved words. What `$(…)` runs reads as commands of
/// its own.
pub fn split_script(script: &str) -> Vec<SimpleCommand> {
    located_commands(script, Reading::default())
        .into_iter()
        .map(|(command, _)| command)
        .collect()
}

/// [`split_script`] with the byte range of each word in `text` (quotes
/// included), parallel to the command's words.
pub(crate) fn located_commands(
    text: &str,
    reading: Reading,
) -> Vec<(SimpleCommand, Vec<Range<usize>>)> {
    let mut commands = Vec::new();
    let mut words: Vec<ShellWord> = Vec::new();
    for token in tokenize(text, reading) {
        match token {
            ShellToken::Word(word) => words.push(word),
            ShellToken::Control(_) => {
                let (command, ranges) = end_command(&mut words, true);
                if !command.is_empty() {
                    commands.push((SimpleCommand { words: command }, ranges));
                }
            }
        }
    }
    let (command, ranges) = end_command(&mut words, true);
    if !command.is_empty() {
        commands.push((SimpleCommand { words: command }, ranges));
    }
    commands
}

/// The words of a finished simple command and their ranges, without the
/// leading `NAME=value` assignments (and, with `reserved`, the reserved
/// words such as `then` that stand before it). `words` is left empty.
fn end_command(words: &mut Vec<ShellWord>, reserved: bool) -> (Vec<String>, Vec<Range<usize>>) {
    let start = words
        .iter()
        .position(|w| {
            let leading = is_assignment(&w.text) || (reserved && is_leading_keyword(&w.text));
            !leading
        })
        .unwrap_or(words.len());
    words
        .drain(..)
        .skip(start)
        .map(|w| (w.text, w.range))
        .unzip()
}

/// How [`tokenize`] reads its text.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reading {
    /// Keep a command substitution `$(…)`, a backquoted command and a
    /// process substitution `<(…)` inside its word, verbatim. Otherwise
    /// `(` and `)` separate commands, so what they run reads as commands.
    pub substitutions_in_words: bool,
    /// The text is Dockerfile source, not the line BuildKit joins from it:
    /// after a line continuation, empty lines and comment lines are skipped
    /// as BuildKit skips them.
    pub dockerfile_lines: bool,
}

/// A word or a control operator of shell text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ShellToken {
    /// A word, quotes removed.
    Word(ShellWord),
    /// What ends a simple command.
    Control(Control),
}

/// A word of shell text: its value with quotes and escapes removed, and its
/// byte range in the text (quotes included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShellWord {
    pub text: String,
    pub range: Range<usize>,
}

/// The control operators that end a simple command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    /// `&&`
    And,
    /// `||`
    Or,
    /// `|`
    Pipe,
    /// `|&`: a pipe that carries standard error too.
    PipeWithErrors,
    /// `;`
    Semicolon,
    /// `&`
    Background,
    /// A newline, or the end of a comment.
    LineEnd,
    /// `(`
    Open,
    /// `)`
    Close,
}

/// The words and control operators of shell text: enough shell for the
/// rules, not an interpreter. Quotes (`'…'`, `"…"` with `\` escapes) and
/// `\` escapes keep text in one word; `\` before a newline continues the
/// line; a `#` that starts a word comments out the rest of the line;
/// `2>&1`, `>&2` and `&>file` are redirections within a word.
pub(crate) fn tokenize(text: &str, reading: Reading) -> Vec<ShellToken> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    // After a continuation, until the first character of a real line.
    let mut continued = false;
    let mut chars = text.char_indices().peekable();
    let end_word =
        |word: &mut String, start: &mut Option<usize>, end: usize, tokens: &mut Vec<ShellToken>| {
            if let Some(start) = start.take() {
                tokens.push(ShellToken::Word(ShellWord {
                    text: std::mem::take(word),
                    range: start..end,
                }));
            }
        };
    let substitutions = reading.substitutions_in_words;

    while let Some((at, ch)) = chars.next() {
        if continued && reading.dockerfile_lines {
            match ch {
                '\n' => continue,
                '#' => {
                    skip_line(&mut chars);
                    continue;
                }
                c if c.is_whitespace() => {
                    end_word(&mut word, &mut start, end, &mut tokens);
                    continue;
                }
                _ => continued = false,
            }
        }
        let next = chars.peek().map(|&(_, c)| c);
        let control = match ch {
            '\'' => {
                start.get_or_insert(at);
                end = at + 1;
                for (i, c) in chars.by_ref() {
                    end = i + c.len_utf8();
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
                None
            }
            '"' => {
                start.get_or_insert(at);
                end = at + 1;
                while let Some((i, c)) = chars.next() {
                    end = i + c.len_utf8();
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some((j, escaped)) = chars.next() {
                                end = j + escaped.len_utf8();
                                word.push(escaped);
                            }
                        }
                        '$' if substitutions && chars.peek().is_some_and(|&(_, c)| c == '(') => {
                            word.push('$');
                            end = take_balanced(&mut chars, &mut word).unwrap_or(end);
                        }
                        _ => word.push(c),
                    }
                }
                None
            }
            '\\' => {
                match chars.next() {
                    Some((_, '\n')) => continued = true,
                    Some((j, escaped)) => {
                        start.get_or_insert(at);
                        end = j + escaped.len_utf8();
                        word.push(escaped);
                    }
                    None => {}
                }
                None
            }
            '`' if substitutions => {
                start.get_or_insert(at);
                word.push('`');
                end = at + 1;
                for (i, c) in chars.by_ref() {
                    word.push(c);
                    end = i + c.len_utf8();
                    if c == '`' {
                        break;
                    }
                }
                None
            }
            // `2>&1`, `>&2` and `&>file` are redirections, not `&` lists.
            '>' if next == Some('&') => {
                start.get_or_insert(at);
                word.push('>');
                word.push('&');
                chars.next();
                end = at + 2;
                None
            }
            '&' if next == Some('>') => {
                start.get_or_insert(at);
                word.push('&');
                end = at + 1;
                None
            }
            '$' | '<' | '>' if substitutions && next == Some('(') => {
                start.get_or_insert(at);
                word.push(ch);
                end = take_balanced(&mut chars, &mut word).unwrap_or(at + 1);
                None
            }
            '#' if start.is_none() => {
                skip_line(&mut chars);
                Some(Control::LineEnd)
            }
            '|' => Some(match next {
                Some('|') => {
                    chars.next();
                    Control::Or
                }
                Some('&') => {
                    chars.next();
                    Control::PipeWithErrors
                }
                _ => Control::Pipe,
            }),
            '&' if next == Some('&') => {
                chars.next();
                Some(Control::And)
            }
            '&' => Some(Control::Background),
            ';' => Some(Control::Semicolon),
            '\n' => Some(Control::LineEnd),
            '(' => Some(Control::Open),
            ')' => Some(Control::Close),
            c if c.is_whitespace() => {
                end_word(&mut word, &mut start, end, &mut tokens);
                None
            }
            c => {
                start.get_or_insert(at);
                word.push(c);
                end = at + c.len_utf8();
                None
            }
        };
        if let Some(control) = control {
            end_word(&mut word, &mut start, end, &mut tokens);
            tokens.push(ShellToken::Control(control));
        }
    }
    end_word(&mut word, &mut start, end, &mut tokens);
    tokens
}

/// Skips the rest of the line, its newline included.
fn skip_line(chars: &mut Peekable<CharIndices<'_>>) {
    for (_, c) in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

/// Copies a balanced `(…)` into `word`, the opening parenthesis next in
/// `chars`; the end of what it took, if anything.
fn take_balanced(chars: &mut Peekable<CharIndices<'_>>, word: &mut String) -> Option<usize> {
    let mut depth = 0;
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        word.push(c);
        end = Some(i + c.len_utf8());
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            '\'' => {
                for (j, q) in chars.by_ref() {
                    word.push(q);
                    end = Some(j + q.len_utf8());
                    if q == '\'' {
                        break;
                    }
                }
            }
            '\\' => {
                if let Some((j, escaped)) = chars.next() {
                    word.push(escaped);
                    end = Some(j + escaped.len_utf8());
                }
            }
            _ => {}
        }
    }
    end
}

/// The shell scripts a RUN hands to a shell: its shell-form text, the bodies
/// of heredocs that feed the shell, and the script of an exec-form `sh -c`.
pub fn run_scripts(instruction: &Instruction) -> Vec<String> {
    let mut scripts = Vec::new();
    match &instruction.args {
        Args::Command(Command::Shell { text }) => {
            scripts.push(text.text.clone());
            if !text.text.contains('>') {
                scripts.extend(instruction.heredocs.iter().map(|h| h.content.clone()));
            }
        }
        Args::Command(Command::Exec { args }) => {
            let is_shell = args.first().is_some_and(|w| {
                matches!(
                    w.text.rsplit('/').next(),
                    Some("sh" | "bash" | "ash" | "dash" | "zsh")
                )
            });
            if let Some(i) = args.iter().position(|w| w.text == "-c")
                && is_shell
                && let Some(script) = args.get(i + 1)
            {
                scripts.push(script.text.clone());
            }
        }
        _ => {}
    }
    scripts
}

/// Splits shell text into pipelines (at `&&`, `||`, `;`, `&`, parentheses
/// and newlines), each a list of the simple commands joined by `|`. Unlike
/// [`split_script`], a command substitution `$(…)`, a backquoted command or a
/// process substitution `<(…)` stays inside its word, verbatim: `bash <(curl
/// -fsSL x)` is one command whose second word is `<(curl -fsSL x)`.
pub fn split_pipelines(script: &str) -> Vec<Vec<SimpleCommand>> {
    let reading = Reading {
        substitutions_in_words: true,
        ..Reading::default()
    };
    let mut pipelines: Vec<Vec<SimpleCommand>> = Vec::new();
    let mut pipeline: Vec<SimpleCommand> = Vec::new();
    let mut words: Vec<ShellWord> = Vec::new();
    let mut end = |words: &mut Vec<ShellWord>, pipeline: &mut Vec<SimpleCommand>, last: bool| {
        let (command, _) = end_command(words, false);
        if !command.is_empty() {
            pipeline.push(SimpleCommand { words: command });
        }
        if last && !pipeline.is_empty() {
            pipelines.push(std::mem::take(pipeline));
        }
    };
    for token in tokenize(script, reading) {
        match token {
            ShellToken::Word(word) => words.push(word),
            ShellToken::Control(Control::Pipe | Control::PipeWithErrors) => {
                end(&mut words, &mut pipeline, false);
            }
            ShellToken::Control(_) => end(&mut words, &mut pipeline, true),
        }
    }
    end(&mut words, &mut pipeline, true);
    pipelines
}

/// Shell reserved words that can stand before a command (`then apt-get
/// purge …`, `do make`, `! grep`): the command is what follows them.
fn is_leading_keyword(word: &str) -> bool {
    matches!(
        word,
        "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "time"
    )
}

/// Whether `word` is a `NAME=value` assignment (which a shell does not run).
pub fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(script: &str) -> Vec<String> {
        split_script(script)
            .iter()
            .map(SimpleCommand::display)
            .collect()
    }

    #[test]
    fn splits_lists_and_pipes() {
        assert_eq!(
            programs("cd /app && NODE_ENV=production npm ci --omit=dev; curl -fsSL x | sh"),
            ["cd /app", "npm ci --omit=dev", "curl -fsSL x", "sh"]
        );
    }

    #[test]
    fn redirections_are_not_command_separators() {
        assert_eq!(programs("make 2>&1 | tee log"), ["make 2>&1", "tee log"]);
        assert_eq!(
            programs("echo err >&2 && cmd &>/dev/null"),
            ["echo err >&2", "cmd &>/dev/null"]
        );
    }

    #[test]
    fn keeps_quoted_words_whole() {
        assert_eq!(
            programs("echo 'a && b' \"c; d\" e\\ f"),
            ["echo a && b c; d e f"]
        );
    }

    #[test]
    fn splits_pipelines_and_keeps_substitutions_whole() {
        let pipelines: Vec<Vec<String>> = split_pipelines(
            "curl -fsSL x 2>&1 | sudo bash -s -- -y && bash <(curl y) || sh -c \"$(wget -qO- z)\"",
        )
        .iter()
        .map(|p| p.iter().map(SimpleCommand::display).collect())
        .collect();
        assert_eq!(
            pipelines,
            [
                vec!["curl -fsSL x 2>&1", "sudo bash -s -- -y"],
                vec!["bash <(curl y)"],
                vec!["sh -c $(wget -qO- z)"],
            ]
        );
    }

    #[test]
    fn tokens_are_words_with_ranges_and_control_operators() {
        let text = "a && 'b c' || d; e | f |& g & h\n(i) # j";
        let tokens: Vec<String> = tokenize(text, Reading::default())
            .into_iter()
            .map(|token| match token {
                ShellToken::Word(word) => format!("{}@{}", word.text, &text[word.range]),
                ShellToken::Control(control) => format!("{control:?}"),
            })
            .collect();
        assert_eq!(
            tokens,
            [
                "a@a",
                "And",
                "b c@'b c'",
                "Or",
                "d@d",
                "Semicolon",
                "e@e",
                "Pipe",
                "f@f",
                "PipeWithErrors",
                "g@g",
                "Background",
                "h@h",
                "LineEnd",
                "Open",
                "i@i",
                "Close",
                "LineEnd"
            ]
        );
    }

    #[test]
    fn substitutions_are_commands_or_words_as_asked() {
        assert_eq!(
            programs("echo $(apt-get install -y x) `id`"),
            ["echo $", "apt-get install -y x", "`id`"]
        );
        let in_words = Reading {
            substitutions_in_words: true,
            ..Reading::default()
        };
        let words: Vec<String> = tokenize("echo $(a 'b)' \\)) `c d` <(e)", in_words)
            .into_iter()
            .filter_map(|token| match token {
                ShellToken::Word(word) => Some(word.text),
                ShellToken::Control(_) => None,
            })
            .collect();
        assert_eq!(words, ["echo", "$(a 'b)' \\))", "`c d`", "<(e)"]);
    }

    #[test]
    fn reserved_words_before_a_command_are_dropped() {
        assert_eq!(
            programs("if apt-get update; then A=1 apt-get install x; fi"),
            ["apt-get update", "apt-get install x", "fi"]
        );
    }

    #[test]
    fn drops_comments_and_continuations() {
        assert_eq!(
            programs("apt-get update \\\n  # note\n  && apt-get install -y curl"),
            ["apt-get update", "apt-get install -y curl"]
        );
    }
}
