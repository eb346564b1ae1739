use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_model::DEFAULT_SHELL;
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};

/// The shipped image's CMD or ENTRYPOINT is in shell form, so the process
/// does not get `docker stop`'s SIGTERM.
pub struct ShellFormEntrypoint;

static META: RuleMeta = RuleMeta {
    code: "LC501",
    name: "shell-form-entrypoint",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "The shipped image's CMD or ENTRYPOINT is in shell form, so the process may never see SIGTERM",
    doc: r#"## What it does
Reports the `CMD` and `ENTRYPOINT` that the built image ends up with (the
last ones of the target stage, or inherited from the stage it is built FROM)
when they are written in shell form (`CMD node server.js`) rather than exec
form (`CMD ["node", "server.js"]`). A shell-form command that starts with
`exec ` is fine, and so is any shell form once the Dockerfile chose a shell
with `SHELL`. Earlier, overridden CMDs are LC504's business.

## Why is this bad?
Shell form runs `/bin/sh -c "node server.js"`: the shell is PID 1 and your
program is its child (unless that shell happens to replace itself with the
command, which some do for a single command and none promise). `docker stop`
sends SIGTERM to PID 1, the shell does not pass it on, and after ten seconds
the container is killed: no graceful shutdown, dropped connections, slow
deploys. A shell-form `ENTRYPOINT` also ignores `CMD` and `docker run`
arguments.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY . .
CMD node dist/server.js
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY . .
CMD ["node", "dist/server.js"]
```
When the command needs the shell (variables, `&&`, pipes), start it with
`exec` so the program replaces the shell: `CMD exec node "$APP"`, or move it
into an entrypoint script that ends with `exec "$@"`.

## Fix safety
When the command is plain words (no variables, quotes holding `$`,
redirections, pipes, `&&`, globs), the fix rewrites it in exec form. It is
unsafe: your program becomes PID 1, and a program that installs no SIGTERM
handler then ignores the signal (run with `docker run --init` or add
`tini`). Otherwise no fix is offered.

## Equivalents
hadolint: DL3025 (use JSON notation for CMD and ENTRYPOINT), which checks
every stage and every CMD. BuildKit: `JSONArgsRecommended`.
"#,
};

impl Rule for ShellFormEntrypoint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let Some(target) = ctx.model.target else {
            return;
        };
        let effective = effective_commands(ctx, target);
        let instructions = &ctx.dockerfile.instructions;
        let shell_text = |index: Option<usize>| {
            let instruction = instructions.get(index?)?;
            match &instruction.args {
                Args::Command(Command::Shell { text }) => Some((instruction, text.text.as_str())),
                _ => None,
            }
        };
        let entrypoint = shell_text(effective.entrypoint);
        let cmd = shell_text(effective.cmd);
        if let Some((instruction, text)) = entrypoint
            && let Some(index) = effective.entrypoint
        {
            let mut message = signal_message(instruction, text);
            if let Some(cmd_index) = effective.cmd
                && let Some(cmd) = instructions.get(cmd_index)
            {
                message.push_str(&format!(
                    "; a shell-form ENTRYPOINT also ignores the CMD on line {}",
                    ctx.line_of(cmd.range.start())
                ));
            }
            report(ctx, sink, index, instruction, text, message);
        }
        if let Some((instruction, text)) = cmd
            && let Some(index) = effective.cmd
            && entrypoint.is_none()
        {
            let message = signal_message(instruction, text);
            report(ctx, sink, index, instruction, text, message);
        }
    }
}

fn signal_message(instruction: &Instruction, text: &str) -> String {
    let keyword = instruction.keyword.as_str();
    let program = text.split_whitespace().next().unwrap_or(text);
    format!(
        "Shell-form {keyword} runs {} under `/bin/sh -c`, so `docker stop` sends SIGTERM to the shell, not to {program}, and kills the container after the timeout",
        code_span(&text.split_whitespace().collect::<Vec<_>>().join(" ")),
        program = code_span(program)
    )
}

fn report(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    index: usize,
    instruction: &Instruction,
    text: &str,
    message: String,
) {
    let trimmed = text.trim_start();
    if trimmed == "exec" || trimmed.starts_with("exec ") || trimmed.starts_with("exec\t") {
        return;
    }
    // BuildKit stays quiet once the Dockerfile chose a shell with SHELL: the
    // shell form is then deliberate (and bash replaces itself with a single
    // command).
    let chose_shell = ctx
        .model
        .state_at(index)
        .is_some_and(|state| state.shell.iter().map(String::as_str).ne(DEFAULT_SHELL));
    if chose_shell {
        return;
    }
    let fix = exec_form_fix(ctx, instruction, text);
    sink.report(instruction.range, message, fix);
}

/// The CMD and ENTRYPOINT a stage's image ends up with, as instruction indexes.
#[derive(Default)]
struct Effective {
    cmd: Option<usize>,
    entrypoint: Option<usize>,
}

/// BuildKit's rules: the last CMD/ENTRYPOINT of the stage wins; otherwise the
/// parent stage's; an ENTRYPOINT clears an inherited CMD unless the stage
/// sets its own.
fn effective_commands(ctx: &LintContext<'_>, stage_index: usize) -> Effective {
    // The chain from the stage to its first image-based ancestor.
    let mut chain = Vec::new();
    let mut current = Some(stage_index);
    while let Some(index) = current {
        let Some(stage) = ctx.model.stages.get(index) else {
            break;
        };
        if chain.contains(&index) {
            break;
        }
        chain.push(index);
        current = stage.base.stage();
    }
    let mut effective = Effective::default();
    for &index in chain.iter().rev() {
        let Some(stage) = ctx.model.stages.get(index) else {
            continue;
        };
        let mut cmd = None;
        let mut entrypoint = None;
        for position in stage.instructions.clone() {
            match ctx.dockerfile.instructions.get(position).map(|i| i.keyword) {
                Some(Keyword::Cmd) => cmd = Some(position),
                Some(Keyword::Entrypoint) => entrypoint = Some(position),
                _ => {}
            }
        }
        if cmd.is_some() {
            effective.cmd = cmd;
        } else if entrypoint.is_some() {
            effective.cmd = None;
        }
        if entrypoint.is_some() {
            effective.entrypoint = entrypoint;
        }
    }
    effective
}

/// `CMD node server.js` → `CMD ["node", "server.js"]`, when the text is
/// plain words on one line.
fn exec_form_fix(ctx: &LintContext<'_>, instruction: &Instruction, text: &str) -> Option<Fix> {
    if instruction.range.slice(ctx.source).contains('\n') {
        return None;
    }
    let words = plain_words(text)?;
    let array = words
        .iter()
        .map(|w| json_string(w))
        .collect::<Vec<_>>()
        .join(", ");
    let start = instruction.args_text.range.start();
    let end = instruction.range.end();
    if start > end {
        return None;
    }
    Some(Fix {
        description: format!("Use exec form: {} [{array}]", instruction.keyword_word.text),
        edits: vec![Edit {
            range: TextRange::new(start, end),
            replacement: format!("[{array}]"),
        }],
        applicability: Applicability::Unsafe,
    })
}

/// The words of a command with nothing for a shell to do: no variables,
/// globs, redirections, lists, pipes, comments, escapes or substitutions.
/// Quoted words are allowed when their content is literal.
fn plain_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' | '\\' => return None,
                        c => word.push(c),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' | '~' if !in_word => return None,
            '$' | '`' | '\\' | '|' | '&' | ';' | '<' | '>' | '(' | ')' | '*' | '?' | '[' | ']'
            | '{' | '}' => return None,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    (!words.is_empty()).then_some(words)
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_accepts_literal_commands_only() {
        assert_eq!(
            plain_words("node dist/server.js --port=3000"),
            Some(vec![
                "node".to_string(),
                "dist/server.js".to_string(),
                "--port=3000".to_string()
            ])
        );
        assert_eq!(
            plain_words("echo 'say \"hi\"'"),
            Some(vec!["echo".to_string(), "say \"hi\"".to_string()])
        );
        for text in [
            "node $APP",
            "a && b",
            "a | b",
            "a > log",
            "ls *.js",
            "echo \"$X\"",
            "~/bin/x",
            "a # c",
        ] {
            assert_eq!(plain_words(text), None, "{text}");
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("say \"hi\""), "\"say \\\"hi\\\"\"");
    }
}
