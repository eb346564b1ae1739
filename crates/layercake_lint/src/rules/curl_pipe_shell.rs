use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::{SimpleCommand, run_scripts, split_pipelines};
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};

/// `curl … | sh`: running a script fetched from the network, unverified.
pub struct CurlPipeShell;

static META: RuleMeta = RuleMeta {
    code: "LC404",
    name: "curl-pipe-shell",
    category: Category::Security,
    default_severity: Severity::Warning,
    summary: "A RUN pipes a download into a shell or interpreter without verifying it",
    doc: r#"## What it does
Reports a `RUN` (in a stage the target needs) that runs code straight from
the network:
- a pipeline from `curl` or `wget` (writing to standard output) into a shell
  or interpreter that reads its program from standard input: `curl … | sh`,
  `wget -qO- … | bash`, `curl … | sudo -E bash -s -- --flag`, `… | python3`;
- a shell or interpreter given a download as its program:
  `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -qO- …)"`,
  `source <(curl …)`.

Downloads piped into a program that treats them as data are not reported:
`curl … | tar xz`, `curl … | gpg --import`, `curl … | python3 -c
'import json,sys; …'` (the program is the `-c` argument, not the download).

## Why is this bad?
The script runs with the build's privileges (usually root) without anyone
having seen it: a compromised or hijacked host, a truncated download (the
shell runs half a script), or a changed installer silently changes the
image. There is no record of what ran, and the step is not reproducible.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN curl -fsSL https://deb.nodesource.com/setup_22.x | bash -
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
ARG NODESOURCE_SHA256=<sha256 of the reviewed script>
RUN curl -fsSLo /tmp/setup.sh https://deb.nodesource.com/setup_22.x \
 && echo "${NODESOURCE_SHA256}  /tmp/setup.sh" | sha256sum -c - \
 && bash /tmp/setup.sh && rm /tmp/setup.sh
```
Better still, install from a package repository with a pinned signing key,
or download the release binary and verify its checksum or signature.

## Fix safety
The fix is display-only: it downloads to a file, checks a SHA-256 digest you
must fill in, then runs the file. The digest has to come from a copy of the
script you reviewed.

## Equivalents
hadolint: none (DL4006 asks for `set -o pipefail` before any pipe, which does
not make the downloaded code any safer). BuildKit checks: none.
"#,
};

/// Programs that run the program text they are given.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ash", "ksh", "mksh", "fish", "python", "python2", "python3",
    "perl", "ruby", "node", "php", "pwsh",
];

impl Rule for CurlPipeShell {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Run
                || !ctx
                    .model
                    .stage_of_instruction(index)
                    .is_some_and(|s| ctx.model.reaches_target(s))
            {
                continue;
            }
            let mut cursor = instruction.range.start();
            for script in run_scripts(instruction) {
                for pipeline in split_pipelines(&script) {
                    if let Some(found) = piped_download(&pipeline) {
                        report_pipe(ctx, sink, instruction, &found, &mut cursor);
                    }
                    for command in &pipeline {
                        if let Some((interpreter, download)) = substituted_download(command) {
                            report_substitution(
                                ctx,
                                sink,
                                instruction,
                                &interpreter,
                                &download,
                                &mut cursor,
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A download piped into an interpreter that runs it.
struct PipedDownload {
    download: SimpleCommand,
    interpreter: SimpleCommand,
    /// `sudo` (with its options) in front of the interpreter, if any.
    prefix: Vec<String>,
}

fn piped_download(pipeline: &[SimpleCommand]) -> Option<PipedDownload> {
    let (at, download) = pipeline
        .iter()
        .enumerate()
        .map(|(i, c)| (i, unwrapped(c).1))
        .find(|(_, c)| writes_download_to_stdout(c))?;
    pipeline.get(at + 1..)?.iter().find_map(|command| {
        let (prefix, inner) = unwrapped(command);
        runs_stdin(&inner).then(|| PipedDownload {
            download: download.clone(),
            interpreter: inner,
            prefix,
        })
    })
}

/// The command without a leading `sudo`/`env` and their options:
/// (the words taken off, the command).
fn unwrapped(command: &SimpleCommand) -> (Vec<String>, SimpleCommand) {
    let mut words = command.words.as_slice();
    let mut prefix = Vec::new();
    loop {
        let program = words
            .first()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .unwrap_or("");
        match program {
            "sudo" | "env" | "doas" => {
                let skip = 1 + words
                    .get(1..)
                    .unwrap_or(&[])
                    .iter()
                    .take_while(|w| w.starts_with('-') || (program == "env" && w.contains('=')))
                    .count();
                prefix.extend(words.iter().take(skip).cloned());
                words = words.get(skip..).unwrap_or(&[]);
            }
            _ => break,
        }
    }
    (
        prefix,
        SimpleCommand {
            words: words.to_vec(),
        },
    )
}

/// `curl URL` (no `-o`/`-O`), `wget -O- URL`, `wget -qO - URL`.
fn writes_download_to_stdout(command: &SimpleCommand) -> bool {
    let args = command.args();
    let short_cluster = |a: &str| a.starts_with('-') && !a.starts_with("--") && a.len() > 1;
    match command.program() {
        "curl" => !args.iter().enumerate().any(|(i, a)| {
            let next_is_stdout = args.get(i + 1).is_some_and(|n| n == "-");
            a == "--remote-name"
                || a == "--remote-name-all"
                || a.starts_with("--output=") && a != "--output=-"
                || a == "--output" && !next_is_stdout
                || short_cluster(a) && a.contains('O')
                || short_cluster(a) && a.ends_with('o') && !next_is_stdout
                || short_cluster(a) && a.contains('o') && !a.ends_with('o')
        }),
        "wget" => args.iter().enumerate().any(|(i, a)| {
            let next_is_stdout = args.get(i + 1).is_some_and(|n| n == "-");
            a == "--output-document=-"
                || a == "--output-document" && next_is_stdout
                || short_cluster(a) && a.ends_with("O-")
                || short_cluster(a) && a.ends_with('O') && next_is_stdout
        }),
        _ => false,
    }
}

/// An interpreter that reads its program from standard input: `sh`,
/// `bash -s -- args`, `python3 -`; not `python3 -c '…'` or `bash script.sh`.
fn runs_stdin(command: &SimpleCommand) -> bool {
    let program = command.program();
    let Some(base) = interpreter_name(program) else {
        return false;
    };
    let shell = matches!(
        base,
        "sh" | "bash" | "zsh" | "dash" | "ash" | "ksh" | "mksh" | "fish"
    );
    for arg in command.args() {
        if arg == "-" || arg == "-s" || arg == "--" {
            return true;
        }
        if let Some(flags) = arg.strip_prefix('-').filter(|f| !f.starts_with('-')) {
            if shell && flags.contains('c')
                || !shell && flags.starts_with(['c', 'e', 'm', 'p', 'r'])
            {
                return false;
            }
            if shell && flags.contains('s') {
                return true;
            }
            continue;
        }
        if arg.starts_with("--") {
            continue;
        }
        // The first operand is a script file: the download is its input, not code.
        return false;
    }
    true
}

/// `python3.12` → `python3`, `bash` → `bash`; `None` for non-interpreters.
fn interpreter_name(program: &str) -> Option<&'static str> {
    let trimmed = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INTERPRETERS
        .iter()
        .copied()
        .find(|&i| i == program || i == trimmed)
}

/// `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -qO- …)"`: the
/// interpreter and the download it runs.
fn substituted_download(command: &SimpleCommand) -> Option<(SimpleCommand, SimpleCommand)> {
    let (_, inner) = unwrapped(command);
    let program = inner.program();
    let runs_code =
        interpreter_name(program).is_some() || matches!(program, "eval" | "source" | ".");
    if !runs_code {
        return None;
    }
    inner.args().iter().find_map(|arg| {
        let body = arg
            .strip_prefix("<(")
            .or_else(|| arg.strip_prefix("$("))
            .map(|b| b.strip_suffix(')').unwrap_or(b))
            .or_else(|| {
                arg.strip_prefix('`')
                    .map(|b| b.strip_suffix('`').unwrap_or(b))
            })?;
        split_pipelines(body)
            .into_iter()
            .flatten()
            .map(|c| unwrapped(&c).1)
            .find(writes_download_to_stdout)
            .map(|download| (inner.clone(), download))
    })
}

fn url_of(command: &SimpleCommand) -> Option<&str> {
    command
        .args()
        .iter()
        .map(String::as_str)
        .find(|a| a.contains("://"))
}

fn report_pipe(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    instruction: &Instruction,
    found: &PipedDownload,
    cursor: &mut usize,
) {
    let mut interpreter_shown = found.prefix.clone();
    interpreter_shown.extend(found.interpreter.words.iter().cloned());
    let message = format!(
        "{} runs a script fetched from the network without checking it; download it to a file, verify its checksum or signature, then run it",
        code_span(&format!(
            "{} | {}",
            found.download.display(),
            interpreter_shown.join(" ")
        ))
    );
    let range = pipe_range(ctx, instruction, found, *cursor);
    if let Some(range) = range {
        *cursor = range.end();
    }
    let fix = range.and_then(|range| verify_fix(instruction, found, range));
    sink.report(range.unwrap_or(instruction.range), message, fix);
}

fn report_substitution(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    instruction: &Instruction,
    interpreter: &SimpleCommand,
    download: &SimpleCommand,
    cursor: &mut usize,
) {
    let message = format!(
        "{} runs the output of {}, a script fetched from the network, without checking it; download it to a file, verify its checksum or signature, then run it",
        code_span(interpreter.program()),
        code_span(&download.display())
    );
    let range = substitution_range(ctx, instruction, download.program(), *cursor);
    if let Some(range) = range {
        *cursor = range.end();
    }
    sink.report(range.unwrap_or(instruction.range), message, None);
}

/// From the download's program word to the end of the interpreter word after
/// the `|`, searched in the source from `from`.
fn pipe_range(
    ctx: &LintContext<'_>,
    instruction: &Instruction,
    found: &PipedDownload,
    from: usize,
) -> Option<TextRange> {
    let end = instruction.range.end();
    let text = ctx.source.get(from..end)?;
    let bytes = text.as_bytes();
    let interpreter = found.interpreter.words.first()?;
    let downloader = found.download.words.first()?;
    for (pipe, _) in text.match_indices('|') {
        if bytes.get(pipe + 1) == Some(&b'|') || pipe > 0 && bytes.get(pipe - 1) == Some(&b'|') {
            continue;
        }
        let after = &text[pipe + 1..];
        let Some(at) = after.find(interpreter.as_str()) else {
            continue;
        };
        // Only continuation whitespace and the sudo/env prefix may stand between.
        let between = &after[..at];
        let prefix_ok = between
            .split_whitespace()
            .all(|w| w == "\\" || found.prefix.iter().any(|p| p == w));
        if !prefix_ok {
            continue;
        }
        let start = last_word_start(&text[..pipe], downloader)?;
        let interpreter_end = pipe + 1 + at + interpreter.len();
        let end = interpreter_end + command_rest_len(&text[interpreter_end..]);
        return Some(TextRange::new(from + start, from + end));
    }
    None
}

/// How far the arguments of a command go on its line: up to a list or pipe
/// operator, a closing parenthesis, a line continuation or a line break
/// outside quotes, trailing blanks excluded.
fn command_rest_len(text: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut end = text.len();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') if matches!(chars.peek(), Some((_, '\n' | '\r'))) => {
                end = i;
                break;
            }
            (None, '&' | ';' | '|' | ')' | '\n') => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    text[..end].trim_end().len()
}

/// The last occurrence of `word` in `text` that starts a word (not `curl`
/// inside `https://x/curl-install`).
fn last_word_start(text: &str, word: &str) -> Option<usize> {
    let mut end = text.len();
    while let Some(at) = text.get(..end)?.rfind(word) {
        let before = text[..at].chars().next_back();
        if before.is_none_or(|c| c.is_whitespace() || ";&|(`\"'".contains(c)) {
            return Some(at);
        }
        end = at;
    }
    None
}

/// The `<(…)` or `$(…)` holding the download.
fn substitution_range(
    ctx: &LintContext<'_>,
    instruction: &Instruction,
    downloader: &str,
    from: usize,
) -> Option<TextRange> {
    let text = ctx.source.get(from..instruction.range.end())?;
    let (open, _) = text.match_indices('(').find(|(i, _)| {
        *i > 0
            && matches!(text.as_bytes().get(i - 1), Some(b'<' | b'$'))
            && text[i + 1..].trim_start().starts_with(downloader)
    })?;
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(TextRange::new(from + open - 1, from + open + i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// Display-only: download to a file, check a digest, run the file.
fn verify_fix(instruction: &Instruction, found: &PipedDownload, range: TextRange) -> Option<Fix> {
    if matches!(instruction.args, Args::Command(Command::Exec { .. })) {
        return None;
    }
    let url = url_of(&found.download)?;
    let file = "/tmp/install.sh";
    let fetch = match found.download.program() {
        "wget" => format!("wget -qO {file} {url}"),
        _ => format!("curl -fsSLo {file} {url}"),
    };
    let args: Vec<&str> = found
        .interpreter
        .args()
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "-s" && *a != "-")
        .skip_while(|a| *a == "--")
        .collect();
    let mut run: Vec<&str> = found.prefix.iter().map(String::as_str).collect();
    run.push(found.interpreter.words.first()?.as_str());
    run.push(file);
    run.extend(args);
    Some(Fix {
        description: format!(
            "Download {} to a file, check its SHA-256 against a reviewed copy, then run it",
            code_span(url)
        ),
        edits: vec![Edit {
            range,
            replacement: format!(
                "{fetch} && echo \"<sha256>  {file}\" | sha256sum -c - && {}",
                run.join(" ")
            ),
        }],
        applicability: Applicability::DisplayOnly,
    })
}
