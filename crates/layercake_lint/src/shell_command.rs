//! The simple commands of a RUN: enough shell to see `npm ci` in
//! `cd /app && npm ci --omit=dev`, not a shell interpreter.

use layercake_syntax::{Args, Command, Instruction};

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

/// Splits shell text into simple commands at `&&`, `||`, `;`, `|`, `&` and
/// newlines, dropping comments and leading variable assignments.
pub fn split_script(script: &str) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let finish_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    let finish_command = |words: &mut Vec<String>, commands: &mut Vec<SimpleCommand>| {
        let start = words
            .iter()
            .position(|w| !is_assignment(w) && !is_leading_keyword(w))
            .unwrap_or(words.len());
        let rest: Vec<String> = words.drain(..).skip(start).collect();
        if !rest.is_empty() {
            commands.push(SimpleCommand { words: rest });
        }
    };
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(next) = chars.next() {
                                word.push(next);
                            }
                        }
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(next) = chars.next().filter(|&c| c != '\n') {
                    in_word = true;
                    word.push(next);
                }
            }
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                finish_word(&mut word, &mut in_word, &mut words);
                finish_command(&mut words, &mut commands);
            }
            // `2>&1`, `>&2` and `&>file` are redirections, not `&` lists.
            '&' if word.ends_with('>') || chars.peek() == Some(&'>') => {
                in_word = true;
                word.push('&');
            }
            '&' | '|' | ';' | '\n' | '(' | ')' => {
                finish_word(&mut word, &mut in_word, &mut words);
                finish_command(&mut words, &mut commands);
            }
            c if c.is_whitespace() => finish_word(&mut word, &mut in_word, &mut words),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut words);
    finish_command(&mut words, &mut commands);
    commands
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
    let mut pipelines: Vec<Vec<SimpleCommand>> = Vec::new();
    let mut pipeline: Vec<SimpleCommand> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();

    fn end_word(word: &mut String, in_word: &mut bool, words: &mut Vec<String>) {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    }
    fn end_command(words: &mut Vec<String>, pipeline: &mut Vec<SimpleCommand>) {
        let start = words
            .iter()
            .position(|w| !is_assignment(w))
            .unwrap_or(words.len());
        let rest: Vec<String> = words.drain(..).skip(start).collect();
        if !rest.is_empty() {
            pipeline.push(SimpleCommand { words: rest });
        }
    }
    fn end_pipeline(pipeline: &mut Vec<SimpleCommand>, pipelines: &mut Vec<Vec<SimpleCommand>>) {
        if !pipeline.is_empty() {
            pipelines.push(std::mem::take(pipeline));
        }
    }
    /// Copies a balanced `(…)` (the opening parenthesis already taken) into `word`.
    fn take_balanced(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, word: &mut String) {
        let mut depth = 1;
        while let Some(c) = chars.next() {
            word.push(c);
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                '\'' => {
                    for q in chars.by_ref() {
                        word.push(q);
                        if q == '\'' {
                            break;
                        }
                    }
                }
                '\\' => {
                    if let Some(next) = chars.next() {
                        word.push(next);
                    }
                }
                _ => {}
            }
        }
    }

    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(next) = chars.next() {
                                word.push(next);
                            }
                        }
                        '$' if chars.peek() == Some(&'(') => {
                            word.push('$');
                            if let Some(open) = chars.next() {
                                word.push(open);
                            }
                            take_balanced(&mut chars, &mut word);
                        }
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(next) = chars.next().filter(|&c| c != '\n') {
                    in_word = true;
                    word.push(next);
                }
            }
            '`' => {
                in_word = true;
                word.push('`');
                for c in chars.by_ref() {
                    word.push(c);
                    if c == '`' {
                        break;
                    }
                }
            }
            '>' if chars.peek() == Some(&'&') => {
                // `2>&1`: a redirection, not a list separator.
                in_word = true;
                word.push('>');
                if let Some(amp) = chars.next() {
                    word.push(amp);
                }
            }
            '&' if chars.peek() == Some(&'>') => {
                // `&>file`: a redirection.
                in_word = true;
                word.push('&');
            }
            '$' | '<' | '>' if chars.peek() == Some(&'(') => {
                in_word = true;
                word.push(ch);
                if let Some(open) = chars.next() {
                    word.push(open);
                }
                take_balanced(&mut chars, &mut word);
            }
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                end_word(&mut word, &mut in_word, &mut words);
                end_command(&mut words, &mut pipeline);
                end_pipeline(&mut pipeline, &mut pipelines);
            }
            '|' => {
                end_word(&mut word, &mut in_word, &mut words);
                end_command(&mut words, &mut pipeline);
                match chars.peek() {
                    Some('|') => {
                        chars.next();
                        end_pipeline(&mut pipeline, &mut pipelines);
                    }
                    Some('&') => {
                        chars.next();
                    }
                    _ => {}
                }
            }
            '&' | ';' | '\n' | '(' | ')' => {
                end_word(&mut word, &mut in_word, &mut words);
                end_command(&mut words, &mut pipeline);
                end_pipeline(&mut pipeline, &mut pipelines);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut words),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut words);
    end_command(&mut words, &mut pipeline);
    end_pipeline(&mut pipeline, &mut pipelines);
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
    fn drops_comments_and_continuations() {
        assert_eq!(
            programs("apt-get update \\\n  # note\n  && apt-get install -y curl"),
            ["apt-get update", "apt-get install -y curl"]
        );
    }
}
