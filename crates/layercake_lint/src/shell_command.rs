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
    let mut commands = Vec::new();
    match &instruction.args {
        Args::Command(Command::Shell { text }) => {
            commands.extend(split_script(&text.text));
            let feeds_shell = !text.text.contains('>');
            if feeds_shell {
                for heredoc in &instruction.heredocs {
                    commands.extend(split_script(&heredoc.content));
                }
            }
        }
        Args::Command(Command::Exec { args }) => {
            let words: Vec<String> = args.iter().map(|w| w.text.clone()).collect();
            let is_shell = matches!(
                words.first().map(String::as_str),
                Some("sh" | "bash" | "/bin/sh" | "/bin/bash")
            );
            match words.iter().position(|w| w == "-c") {
                Some(i) if is_shell => {
                    if let Some(script) = words.get(i + 1) {
                        commands.extend(split_script(script));
                    }
                }
                _ => commands.push(SimpleCommand { words }),
            }
        }
        _ => {}
    }
    commands
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
            .position(|w| !is_assignment(w))
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

fn is_assignment(word: &str) -> bool {
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
    fn keeps_quoted_words_whole() {
        assert_eq!(
            programs("echo 'a && b' \"c; d\" e\\ f"),
            ["echo a && b c; d e f"]
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
