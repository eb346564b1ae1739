use crate::dependency_install::{Ecosystem, dependency_install};
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::{SimpleCommand, run_commands};
use layercake_syntax::{Args, Instruction, Keyword, TextRange};

/// `COPY . .` before the dependency install, so every source change reinstalls.
pub struct BroadCopyBeforeInstall;

static META: RuleMeta = RuleMeta {
    code: "LC201",
    name: "broad-copy-before-install",
    category: Category::Cache,
    default_severity: Severity::Warning,
    summary: "The whole build context is copied before dependencies are installed",
    doc: r#"## What it does
Reports a `COPY` or `ADD` of the whole build context (`.`, `./`, `*`) that
comes before a dependency install in the same stage: `npm ci`, `yarn
install`, `pnpm install`, `pip install -r`, `poetry install`, `uv sync`,
`pipenv install`, `go mod download`, `cargo build`/`fetch`, `bundle install`,
`composer install`, `mvn package`/`dependency:go-offline`, `gradle build`.

## Why is this bad?
A layer is reused only when everything before it is unchanged. Copying the
whole context first ties the install layer to every source file: editing one
line of code reinstalls every dependency (often minutes) on every build.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY . .
RUN npm ci
RUN npm run build
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm ci
COPY . .
RUN npm run build
```

## Fix safety
The fix copies the manifests first and moves the install before the broad
copy. It is unsafe: an install script (`postinstall`, a local `file:`
dependency, a `setup.py`) may need files that are now copied later. It is
offered only when the install is alone in its RUN and no WORKDIR, USER, ENV
or ARG sits between the copy and the install; for Cargo, Maven and Gradle,
which compile the sources in the same step, the message explains the
dependency-only step instead.

## Equivalents
hadolint: none (requested in hadolint #1199 and #947). BuildKit checks: none.
"#,
};

impl Rule for BroadCopyBeforeInstall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let instructions = &ctx.dockerfile.instructions;
        for stage in &ctx.model.stages {
            let mut broad_copy: Option<usize> = None;
            for index in stage.instructions.clone() {
                let Some(instruction) = instructions.get(index) else {
                    continue;
                };
                if broad_copy.is_none() && is_broad_copy(instruction) {
                    broad_copy = Some(index);
                    continue;
                }
                let Some(copy_index) = broad_copy else {
                    continue;
                };
                if instruction.keyword != Keyword::Run {
                    continue;
                }
                let commands = run_commands(instruction);
                let Some((install, ecosystem)) = commands
                    .iter()
                    .find_map(|c| dependency_install(c).map(|e| (c, e)))
                else {
                    continue;
                };
                let Some(copy) = instructions.get(copy_index) else {
                    break;
                };
                report(
                    ctx,
                    sink,
                    copy,
                    instruction,
                    install,
                    &ecosystem,
                    &commands,
                    &instructions[copy_index + 1..index],
                );
                break;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    copy: &Instruction,
    run: &Instruction,
    install: &SimpleCommand,
    ecosystem: &Ecosystem,
    commands: &[SimpleCommand],
    between: &[Instruction],
) {
    let copy_text = copy.range.slice(ctx.source);
    let install_line = ctx.line_of(run.range.start());
    let mut message = format!(
        "`{copy_text}` copies the whole build context before `{}` (line {install_line}), so any source change re-runs the install",
        install.display()
    );
    if !ecosystem.manifests_suffice {
        message.push_str(&format!(
            "; copy {} first and build the dependencies alone (e.g. with a stub source), then copy the rest",
            ecosystem.manifests
        ));
    }
    let fix = reorder_fix(ctx, copy, run, ecosystem, commands, between);
    sink.report(copy.range, message, fix);
}

/// Copy the manifests and install before the broad copy; delete the old install.
fn reorder_fix(
    ctx: &LintContext<'_>,
    copy: &Instruction,
    run: &Instruction,
    ecosystem: &Ecosystem,
    commands: &[SimpleCommand],
    between: &[Instruction],
) -> Option<Fix> {
    let install_only = commands
        .iter()
        .all(|c| dependency_install(c).is_some() || c.program() == "cd");
    let context_changes = between.iter().any(|i| {
        matches!(
            i.keyword,
            Keyword::Workdir | Keyword::User | Keyword::Env | Keyword::Arg
        )
    });
    if !ecosystem.manifests_suffice || !install_only || context_changes || !run.heredocs.is_empty()
    {
        return None;
    }
    let Args::Files {
        dest: Some(dest), ..
    } = &copy.args
    else {
        return None;
    };
    let dest = if dest.text.ends_with('/') {
        dest.text.clone()
    } else {
        format!("{}/", dest.text)
    };
    let flags: String = copy
        .flags
        .iter()
        .filter(|f| matches!(f.name.as_str(), "chown" | "chmod" | "link"))
        .map(|f| format!("{} ", f.range.slice(ctx.source)))
        .collect();
    let keyword = &copy.keyword_word.text;
    let line_start = ctx.line_index.line_start(ctx.line_of(copy.range.start()));
    let insert = format!(
        "{keyword} {flags}{} {dest}\n{}\n",
        ecosystem.manifests,
        run.range.slice(ctx.source)
    );
    let run_line_start = ctx.line_index.line_start(ctx.line_of(run.range.start()));
    let run_end = ctx.source[run.range.end()..]
        .find('\n')
        .map_or(ctx.source.len(), |i| run.range.end() + i + 1);
    Some(Fix {
        description: format!(
            "Copy {} and install before copying the rest",
            ecosystem.manifests
        ),
        edits: vec![
            Edit {
                range: TextRange::empty(line_start),
                replacement: insert,
            },
            Edit {
                range: TextRange::new(run_line_start, run_end),
                replacement: String::new(),
            },
        ],
        applicability: Applicability::Unsafe,
    })
}

/// A COPY/ADD from the build context of everything at its root.
fn is_broad_copy(instruction: &Instruction) -> bool {
    if !matches!(instruction.keyword, Keyword::Copy | Keyword::Add)
        || instruction.flag("from").is_some()
    {
        return false;
    }
    let Args::Files {
        sources,
        dest: Some(_),
        ..
    } = &instruction.args
    else {
        return false;
    };
    sources
        .iter()
        .any(|s| matches!(s.text.as_str(), "." | "./" | "*" | "./*" | "./." | "/"))
}
