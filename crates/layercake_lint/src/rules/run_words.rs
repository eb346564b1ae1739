//! Where the words of a RUN's commands stand in the source, so size fixes can
//! insert a flag right after `install` or append a cleanup to the command.
//!
//! The words are found by the same splitting as `shell_command::split_script`,
//! over the source text (continuation lines and comment lines in them
//! included). The result is only returned when it reads exactly the commands
//! `run_commands` reads; otherwise a rule offers no precise edit.

use crate::shell_command::{SimpleCommand, is_assignment, run_commands};
use layercake_syntax::{Args, Command, Instruction, TextRange};

/// A command of a RUN with the source range of each of its words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedCommand {
    /// The command, as `run_commands` reads it.
    pub command: SimpleCommand,
    /// The range of each word (quotes included), parallel to `command.words`.
    pub word_ranges: Vec<TextRange>,
    /// Whether the command is in a heredoc body rather than the RUN line.
    pub in_heredoc: bool,
}

impl LocatedCommand {
    /// From the first word to the last.
    pub fn range(&self) -> Option<TextRange> {
        let first = self.word_ranges.first()?;
        let last = self.word_ranges.last()?;
        Some(first.cover(*last))
    }
}

/// The commands of a shell-form RUN with their word ranges; `None` for exec
/// form, a non-default escape character, or text this splitter reads
/// differently from `run_commands`.
pub fn located_run_commands(
    instruction: &Instruction,
    source: &str,
    escape: char,
) -> Option<Vec<LocatedCommand>> {
    let Args::Command(Command::Shell { text }) = &instruction.args else {
        return None;
    };
    if escape != '\\' {
        return None;
    }
    if !instruction.heredocs.is_empty() && !heredoc_is_shell_script(&text.text) {
        return None;
    }
    let mut located = split_located(source, text.range, true, false);
    if !text.text.contains('>') {
        for heredoc in &instruction.heredocs {
            located.extend(split_located(source, heredoc.body_range, false, true));
        }
    }
    let expected = run_commands(instruction);
    let same = located.len() == expected.len()
        && located
            .iter()
            .zip(&expected)
            .all(|(l, e)| l.command == *e && l.word_ranges.len() == e.words.len());
    same.then_some(located)
}

/// The range of the first word equal to `word` after the program (a leading
/// `sudo` and its options counted as part of the program), for inserting a
/// flag right after a subcommand such as `install`.
pub fn word_range(command: &LocatedCommand, word: &str) -> Option<TextRange> {
    command
        .command
        .words
        .iter()
        .skip(1)
        .position(|w| w == word)
        .and_then(|i| command.word_ranges.get(i + 1).copied())
}

/// Whether the RUN line hands its heredoc to a shell (`RUN <<EOF`,
/// `RUN bash <<EOF`, `RUN set -e && sh -e <<EOF`…), so the body is shell.
fn heredoc_is_shell_script(line: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with("<<") {
        return true;
    }
    let mut words = line.split_whitespace();
    let program = words.next().unwrap_or("");
    let program = program.rsplit('/').next().unwrap_or(program);
    matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh")
        && words.all(|w| w.starts_with('-') || w.starts_with("<<"))
}

/// The offset right after the last word of the last command on the RUN line
/// (not in a heredoc): where ` && cleanup` can be appended so it runs last and
/// stays outside a trailing shell comment.
pub fn append_offset(commands: &[LocatedCommand]) -> Option<usize> {
    if commands.iter().any(|c| c.in_heredoc) {
        return None;
    }
    commands
        .last()
        .and_then(|c| c.word_ranges.last())
        .map(|r| r.end())
}

/// `split_script` over `source[range]`, keeping byte ranges. With
/// `dockerfile_lines`, a line continuation followed by comment or empty lines
/// joins as BuildKit joins them.
fn split_located(
    source: &str,
    range: TextRange,
    dockerfile_lines: bool,
    in_heredoc: bool,
) -> Vec<LocatedCommand> {
    let Some(text) = source.get(range.start()..range.end()) else {
        return Vec::new();
    };
    let base = range.start();
    let mut commands = Vec::new();
    let mut words: Vec<(String, TextRange)> = Vec::new();
    let mut word = String::new();
    let mut word_start: Option<usize> = None;
    let mut word_end = 0;
    // After a continuation, until the first character of a real line.
    let mut continued = false;
    let mut chars = text.char_indices().peekable();

    fn finish_word(
        word: &mut String,
        word_start: &mut Option<usize>,
        word_end: usize,
        base: usize,
        words: &mut Vec<(String, TextRange)>,
    ) {
        if let Some(start) = word_start.take() {
            words.push((
                std::mem::take(word),
                TextRange::new(base + start, base + word_end),
            ));
        }
    }
    fn finish_command(
        words: &mut Vec<(String, TextRange)>,
        commands: &mut Vec<LocatedCommand>,
        in_heredoc: bool,
    ) {
        let start = words
            .iter()
            .position(|(w, _)| !is_assignment(w))
            .unwrap_or(words.len());
        let rest: Vec<(String, TextRange)> = words.drain(..).skip(start).collect();
        if !rest.is_empty() {
            let (words, word_ranges) = rest.into_iter().unzip();
            commands.push(LocatedCommand {
                command: SimpleCommand { words },
                word_ranges,
                in_heredoc,
            });
        }
    }

    while let Some((at, ch)) = chars.next() {
        if continued && dockerfile_lines {
            match ch {
                '\n' => continue,
                '#' => {
                    for (_, c) in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                    continue;
                }
                c if c.is_whitespace() => {
                    finish_word(&mut word, &mut word_start, word_end, base, &mut words);
                    continue;
                }
                _ => continued = false,
            }
        }
        match ch {
            '\'' => {
                word_start.get_or_insert(at);
                word_end = at + 1;
                for (i, c) in chars.by_ref() {
                    word_end = i + c.len_utf8();
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                word_start.get_or_insert(at);
                word_end = at + 1;
                while let Some((i, c)) = chars.next() {
                    word_end = i + c.len_utf8();
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some((j, next)) = chars.next() {
                                word_end = j + next.len_utf8();
                                word.push(next);
                            }
                        }
                        _ => word.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                Some((_, '\n')) => continued = true,
                Some((j, next)) => {
                    word_start.get_or_insert(at);
                    word_end = j + next.len_utf8();
                    word.push(next);
                }
                None => {}
            },
            '#' if word_start.is_none() => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                finish_word(&mut word, &mut word_start, word_end, base, &mut words);
                finish_command(&mut words, &mut commands, in_heredoc);
            }
            '&' | '|' | ';' | '\n' | '(' | ')' => {
                finish_word(&mut word, &mut word_start, word_end, base, &mut words);
                finish_command(&mut words, &mut commands, in_heredoc);
            }
            c if c.is_whitespace() => {
                finish_word(&mut word, &mut word_start, word_end, base, &mut words)
            }
            c => {
                word_start.get_or_insert(at);
                word_end = at + c.len_utf8();
                word.push(c);
            }
        }
    }
    finish_word(&mut word, &mut word_start, word_end, base, &mut words);
    finish_command(&mut words, &mut commands, in_heredoc);
    commands
}

#[cfg(test)]
mod tests {
    use super::*;
    use layercake_syntax::Keyword;

    fn located(source: &str) -> Option<Vec<LocatedCommand>> {
        let dockerfile = layercake_syntax::parse(source);
        let run = dockerfile
            .instructions
            .iter()
            .find(|i| i.keyword == Keyword::Run)?;
        located_run_commands(run, source, dockerfile.escape)
    }

    fn slices(source: &str) -> Vec<Vec<String>> {
        located(source)
            .unwrap_or_default()
            .iter()
            .map(|c| {
                c.word_ranges
                    .iter()
                    .map(|r| r.slice(source).to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn finds_words_across_continuations_and_comment_lines() {
        let source = "FROM x\nRUN apt-get update \\\n  # why\n\n  && apt-get install -y \\\n  'curl' \"git\"\n";
        assert_eq!(
            slices(source),
            [
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "'curl'", "\"git\""]
            ]
        );
    }

    #[test]
    fn appends_after_the_last_word_not_after_a_comment() {
        let source = "FROM x\nRUN apt-get update && apt-get install -y curl # tools\n";
        let commands = located(source).unwrap_or_default();
        let at = append_offset(&commands).unwrap_or(0);
        assert_eq!(
            &source[..at],
            "FROM x\nRUN apt-get update && apt-get install -y curl"
        );
    }

    #[test]
    fn reads_heredoc_bodies_but_appends_nowhere() {
        let source = "FROM x\nRUN <<EOF\napk add curl\nEOF\n";
        assert_eq!(slices(source), [vec!["<<EOF"], vec!["apk", "add", "curl"]]);
        assert_eq!(append_offset(&located(source).unwrap_or_default()), None);
    }

    #[test]
    fn a_heredoc_fed_to_another_program_is_not_shell() {
        assert_eq!(located("FROM x\nRUN python3 <<EOF\nimport os\nEOF\n"), None);
        assert!(located("FROM x\nRUN bash -e <<EOF\napk add x\nEOF\n").is_some());
    }

    #[test]
    fn exec_form_has_no_located_words() {
        assert_eq!(located("FROM x\nRUN [\"apk\", \"add\", \"curl\"]\n"), None);
    }
}
