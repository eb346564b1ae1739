use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Args, Command, Keyword};

/// `RUN cd /opt`: a step whose only effect would be a directory change,
/// which ends with the step.
pub struct RunOnlyChangesDirectory;

static META: RuleMeta = RuleMeta {
    code: "LC511",
    name: "run-only-changes-directory",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "A RUN that only runs `cd` does nothing: the directory change ends with the step",
    doc: r#"## What it does
Reports a shell-form `RUN` whose only commands are `cd` (`RUN cd /opt`,
`RUN cd /opt && cd app`).

## Why is this bad?
Each RUN starts a new shell in the WORKDIR, and the directory a shell
changes to ends with it: the step adds an empty layer and the later steps
still run where they ran before. The author almost certainly meant `WORKDIR
/opt`, and the steps after it may be working in the wrong directory.

## Example
```dockerfile
FROM alpine:3.20
RUN cd /opt
COPY app.tar.gz .
```

## Use instead
```dockerfile
FROM alpine:3.20
WORKDIR /opt
COPY app.tar.gz .
```

## Fix safety
For a single `cd` to a plain path, the fix replaces the RUN with `WORKDIR
<path>`. It is unsafe: the later steps, and the container, then run in
that directory, which is what the RUN seems to mean but not what it did.

## Equivalents
hadolint: DL3003 (use WORKDIR to switch to a directory), which reports any
`cd`. BuildKit checks: none.
"#,
};

impl Rule for RunOnlyChangesDirectory {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, run) in ctx.dockerfile.instructions.iter().enumerate() {
            if run.keyword != Keyword::Run
                || !matches!(run.args, Args::Command(Command::Shell { .. }))
                || ctx.model.stage_of_instruction(index).is_none()
            {
                continue;
            }
            let commands = ctx.run_commands_at(index);
            if commands.is_empty() || !commands.iter().all(|c| c.program() == "cd") {
                continue;
            }
            let last = commands.last().map(|c| c.display()).unwrap_or_default();
            let workdir = ctx
                .model
                .state_at(index)
                .map_or("/", |s| s.workdir.as_str());
            let message = format!(
                "{} is all this RUN does, and a directory change ends with the RUN: the next steps still start in {}; to work in that directory, use WORKDIR",
                code_span(&last),
                code_span(workdir)
            );
            let target = match commands {
                [only] => match only.args() {
                    [dir] if dir.starts_with('/') && is_plain_path(dir) => Some(dir.clone()),
                    _ => None,
                },
                _ => None,
            };
            let fix = target.map(|dir| Fix {
                description: format!("Replace the RUN with `WORKDIR {dir}`"),
                edits: vec![Edit {
                    range: run.range,
                    replacement: format!("WORKDIR {dir}"),
                }],
                applicability: Applicability::Unsafe,
            });
            sink.report(run.range, message, fix);
        }
    }
}

/// A path with nothing a shell would expand or a WORKDIR would read
/// differently.
fn is_plain_path(dir: &str) -> bool {
    dir.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@".contains(c))
}
