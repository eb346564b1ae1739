use crate::base_image::image_facts;
use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::SimpleCommand;
use layercake_model::Stage;
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};

/// `sudo` in a RUN.
pub struct SudoInRun;

static META: RuleMeta = RuleMeta {
    code: "LC405",
    name: "sudo-in-run",
    category: Category::Security,
    default_severity: Severity::Warning,
    summary: "A RUN uses `sudo`",
    doc: r#"## What it does
Reports a `RUN` (in a stage the target needs) that calls `sudo`, in any
command of the RUN, pipelines and shell heredocs included. Installing the
`sudo` package is not reported.

## Why is this bad?
`RUN` runs as root unless a `USER` says otherwise, so `sudo` there is
redundant, and fails in the many base images that do not ship it. After a
non-root `USER`, `sudo` works only if the image ships sudo and a sudoers rule
for that user: a way back to root for anyone who gets a shell in the
container, which is what the non-root `USER` was meant to prevent. Run the
privileged steps before `USER` instead (or between `USER root` and
`USER app`).

## Example
```dockerfile
FROM debian:bookworm-slim
RUN sudo apt-get update && sudo apt-get install -y --no-install-recommends curl
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
```

## Fix safety
When the RUN runs as root (no `USER`, or `USER root`), the fix removes each
`sudo` and its options. It is unsafe because a base image could set a
non-root user that layercake does not know about. It is not offered when a
`sudo` switches to another user (`-u`, `-g`, `-i`, `-s`), in exec form, or when
the sudo words in the source cannot be matched one to one with the commands.

## Equivalents
hadolint: DL3004 (do not use sudo). BuildKit checks: none.
"#,
};

impl Rule for SudoInRun {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Run {
                continue;
            }
            let Some(stage) = ctx
                .model
                .stage_of_instruction(index)
                .and_then(|s| ctx.model.stages.get(s))
                .filter(|s| s.reaches_target)
            else {
                continue;
            };
            let sudos: Vec<SimpleCommand> = ctx
                .commands_of(instruction)
                .iter()
                .filter(|c| c.program() == "sudo")
                .cloned()
                .collect();
            let Some(first) = sudos.first() else {
                continue;
            };
            let user = effective_user(ctx, index, stage);
            let occurrences = sudo_words(ctx, instruction);
            let range = occurrences
                .first()
                .map_or(instruction.range, |&at| TextRange::new(at, at + 4));
            let more = if sudos.len() > 1 {
                format!(" (and {} more)", sudos.len() - 1)
            } else {
                String::new()
            };
            match user {
                RunUser::NonRoot(name) => {
                    let message = format!(
                        "{}{more} needs sudo to get back to root from `USER {name}`: the image then ships sudo and a path to root for anyone with a shell in the container; run privileged steps before `USER {name}`",
                        code_span(&first.display())
                    );
                    sink.report(range, message, None);
                }
                RunUser::Root(why) => {
                    let message = format!(
                        "{}{more} uses sudo, but this RUN already runs as root ({why}), and many base images do not ship sudo",
                        code_span(&first.display())
                    );
                    let fix = remove_sudo_fix(ctx, instruction, &sudos, &occurrences);
                    sink.report(range, message, fix);
                }
            }
        }
    }
}

enum RunUser {
    Root(&'static str),
    NonRoot(String),
}

fn effective_user(ctx: &LintContext<'_>, index: usize, stage: &Stage) -> RunUser {
    match ctx.model.state_at(index).and_then(|s| s.user.as_deref()) {
        Some(user) if is_root(user) => RunUser::Root("`USER root`"),
        Some("") => RunUser::NonRoot("$…".to_string()),
        Some(user) => RunUser::NonRoot(user.to_string()),
        None => {
            let mut base = stage;
            while let Some(parent) = base
                .base
                .stage()
                .filter(|&p| p < base.index)
                .and_then(|p| ctx.model.stages.get(p))
            {
                base = parent;
            }
            if base
                .base
                .image()
                .is_some_and(|i| image_facts(i).runs_as_non_root)
            {
                RunUser::NonRoot("the base image's user".to_string())
            } else {
                RunUser::Root("no `USER` is set")
            }
        }
    }
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

/// Byte offsets of `sudo` words in the RUN's source that start a command.
fn sudo_words(ctx: &LintContext<'_>, instruction: &Instruction) -> Vec<usize> {
    // After the RUN flags: the command text (and heredoc bodies).
    let start = instruction
        .flags
        .last()
        .map_or(instruction.keyword_word.range.end(), |f| f.range.end());
    let Some(text) = ctx.source.get(start..instruction.range.end()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (at, _) in text.match_indices("sudo") {
        let after = text[at + 4..].chars().next();
        if !after.is_some_and(char::is_whitespace) {
            continue;
        }
        if starts_command(&text[..at]) {
            found.push(start + at);
        }
    }
    found
}

/// Whether the text before a word ends where a command can start: after
/// `&&`, `||`, `;`, `|`, `(`, a backquote, at the start, or after a line
/// break that is not a continuation.
fn starts_command(before: &str) -> bool {
    let mut rest = before;
    loop {
        let trimmed = rest.trim_end_matches([' ', '\t']);
        if let Some(stripped) = trimmed.strip_suffix('\n') {
            let stripped = stripped.strip_suffix('\r').unwrap_or(stripped);
            match stripped.strip_suffix('\\') {
                // A continuation: keep looking before it.
                Some(before_continuation) => rest = before_continuation,
                None => return true,
            }
            continue;
        }
        return match trimmed.chars().next_back() {
            None => true,
            Some(c) => ";&|(`{".contains(c),
        };
    }
}

/// Remove each `sudo` and its options, when every one can be matched.
fn remove_sudo_fix(
    ctx: &LintContext<'_>,
    instruction: &Instruction,
    sudos: &[SimpleCommand],
    occurrences: &[usize],
) -> Option<Fix> {
    if matches!(instruction.args, Args::Command(Command::Exec { .. }))
        || sudos.len() != occurrences.len()
    {
        return None;
    }
    let switches_user = sudos.iter().any(|c| {
        c.args().iter().take_while(|a| a.starts_with('-')).any(|a| {
            matches!(a.as_str(), "-u" | "-g" | "-i" | "-s" | "--user" | "--group")
                || a.starts_with("--user=")
                || a.starts_with("--group=")
                || a.starts_with("-u")
                || a.starts_with("-g")
        })
    });
    if switches_user {
        return None;
    }
    let mut edits = Vec::new();
    for &at in occurrences {
        let mut end = at + 4;
        loop {
            let rest = ctx.source.get(end..)?;
            let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let word_end = rest[spaces..]
                .find(char::is_whitespace)
                .unwrap_or(rest.len() - spaces);
            let word = &rest[spaces..spaces + word_end];
            end += spaces;
            if word.starts_with('-') && end + word_end <= instruction.range.end() {
                end += word_end;
            } else {
                break;
            }
        }
        edits.push(Edit {
            range: TextRange::new(at, end),
            replacement: String::new(),
        });
    }
    Some(Fix {
        description: "Remove `sudo`: the RUN already runs as root".to_string(),
        edits,
        applicability: Applicability::Unsafe,
    })
}
