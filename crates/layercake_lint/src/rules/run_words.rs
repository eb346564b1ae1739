//! Where the words of a RUN's commands stand in the source, so size fixes can
//! insert a flag right after `install` or append a cleanup to the command.
//!
//! The words are found by `shell_command::split_script`'s own tokenizer,
//! over the source text (continuation lines and comment lines in them
//! included). The result is only returned when it reads exactly the commands
//! `run_commands` reads; otherwise a rule offers no precise edit.

use crate::shell_command::{Reading, SimpleCommand, located_commands, run_commands};
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
    let reading = Reading {
        dockerfile_lines,
        ..Reading::default()
    };
    located_commands(text, reading)
        .into_iter()
        .map(|(command, ranges)| LocatedCommand {
            command,
            word_ranges: ranges
                .into_iter()
                .map(|r| TextRange::new(base + r.start, base + r.end))
                .collect(),
            in_heredoc,
        })
        .collect()
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
    fn reads_redirections_and_reserved_words_as_run_commands_does() {
        let source = "FROM x\nRUN if apt-get update >/dev/null 2>&1; then \\\n  apt-get install -y x &>log; fi\n";
        assert_eq!(
            slices(source),
            [
                vec!["apt-get", "update", ">/dev/null", "2>&1"],
                vec!["apt-get", "install", "-y", "x", "&>log"],
                vec!["fi"]
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
