use crate::code_span;
use crate::dependency_install::{Ecosystem, dependency_install};
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::SimpleCommand;
use layercake_model::resolve_path;
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
A COPY of one directory (`COPY app/ /app/`) counts too when the install then
runs in the directory it was copied to (the WORKDIR, or a `cd` in the RUN):
the manifests came with everything else in it.

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

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let instructions = &ctx.dockerfile.instructions;
        for stage in &ctx.model.stages {
            let mut broad_copies: Vec<(usize, BroadCopy)> = Vec::new();
            for index in stage.instructions.clone() {
                let Some(instruction) = instructions.get(index) else {
                    continue;
                };
                if let Some(kind) = broad_copy(ctx, index, instruction) {
                    let first_root = !matches!(kind, BroadCopy::Context)
                        || !broad_copies
                            .iter()
                            .any(|(_, k)| matches!(k, BroadCopy::Context));
                    if first_root {
                        broad_copies.push((index, kind));
                    }
                    continue;
                }
                if broad_copies.is_empty() || instruction.keyword != Keyword::Run {
                    continue;
                }
                let commands = ctx.commands_of(instruction);
                let Some(position) = commands
                    .iter()
                    .position(|c| dependency_install(c).is_some())
                else {
                    continue;
                };
                let Some((install, ecosystem)) = commands
                    .get(position)
                    .and_then(|c| dependency_install(c).map(|e| (c, e)))
                else {
                    continue;
                };
                let install_dir = install_directory(ctx, index, &commands[..position]);
                let Some((copy_index, kind)) = broad_copies.iter().find(|(_, kind)| match kind {
                    BroadCopy::Context => true,
                    BroadCopy::Directory { dest, .. } => install_dir.as_deref() == Some(dest),
                }) else {
                    continue;
                };
                let Some(copy) = instructions.get(*copy_index) else {
                    break;
                };
                report(
                    ctx,
                    sink,
                    copy,
                    kind,
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

/// What a broad COPY copies.
enum BroadCopy {
    /// The whole context (`.`, `./`, `*`).
    Context,
    /// One directory of the context, into the directory the install later runs in.
    Directory {
        /// The source directory as written, without a trailing `/`.
        source: String,
        /// The destination, absolute, without a trailing `/`.
        dest: String,
    },
}

/// The directory a RUN's install runs in: the WORKDIR, changed by the `cd`
/// commands before it; `None` when a `cd` cannot be followed.
fn install_directory(
    ctx: &LintContext<'_>,
    index: usize,
    before: &[SimpleCommand],
) -> Option<String> {
    let mut dir = ctx.model.state_at(index)?.workdir.clone();
    for command in before.iter().filter(|c| c.program() == "cd") {
        let target = command.args().first()?;
        if target.contains('$') || target.starts_with('~') || target == "-" {
            return None;
        }
        dir = resolve_path(&dir, target);
    }
    Some(dir)
}

#[allow(clippy::too_many_arguments)]
fn report(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    copy: &Instruction,
    kind: &BroadCopy,
    run: &Instruction,
    install: &SimpleCommand,
    ecosystem: &Ecosystem,
    commands: &[SimpleCommand],
    between: &[Instruction],
) {
    let copy_text = copy.range.slice(ctx.source);
    let install_line = ctx.line_of(run.range.start());
    let (mut message, manifests) = match kind {
        BroadCopy::Context => (
            format!(
                "{} copies the whole build context before {} (line {install_line}), so any source change re-runs the install",
                code_span(copy_text),
                code_span(&install.display())
            ),
            context_manifests(ctx, copy, &ecosystem.manifests),
        ),
        BroadCopy::Directory { source, dest } => (
            format!(
                "{} copies the whole {} directory into {dest}, where {} (line {install_line}) then runs, so any change under {} re-runs the install",
                code_span(copy_text),
                code_span(&format!("{source}/")),
                code_span(&install.display()),
                code_span(&format!("{source}/"))
            ),
            ecosystem
                .manifests
                .split_whitespace()
                .map(|m| (!m.starts_with('/')).then(|| format!("{source}/{m}")))
                .collect::<Option<Vec<_>>>()
                .map(|m| m.join(" ")),
        ),
    };
    if !ecosystem.manifests_suffice {
        let manifests = manifests.as_deref().unwrap_or(&ecosystem.manifests);
        message.push_str(&format!(
            "; copy {manifests} first and build the dependencies alone (e.g. with a stub source), then copy the rest"
        ));
    }
    let fix = manifests.and_then(|manifests| {
        reorder_fix(ctx, copy, run, ecosystem, &manifests, commands, between)
    });
    sink.report(copy.range, message, fix);
}

/// The manifests as paths in the build context: a manifest named by its
/// path in the image (`pip install -r /app/requirements.txt` after `COPY .
/// /app`) is made relative to the copy's destination; `None` when one lies
/// elsewhere.
fn context_manifests(ctx: &LintContext<'_>, copy: &Instruction, manifests: &str) -> Option<String> {
    if !manifests.split_whitespace().any(|m| m.starts_with('/')) {
        return Some(manifests.to_string());
    }
    let Args::Files {
        dest: Some(dest), ..
    } = &copy.args
    else {
        return None;
    };
    let index = ctx
        .dockerfile
        .instructions
        .iter()
        .position(|i| std::ptr::eq(i, copy))?;
    let dest = resolve_path(&ctx.model.state_at(index)?.workdir, &dest.text);
    let prefix = if dest == "/" {
        dest
    } else {
        format!("{dest}/")
    };
    manifests
        .split_whitespace()
        .map(|m| {
            if m.starts_with('/') {
                m.strip_prefix(&prefix).map(str::to_string)
            } else {
                Some(m.to_string())
            }
        })
        .collect::<Option<Vec<_>>>()
        .map(|m| m.join(" "))
}

/// Copy the manifests and install before the broad copy; delete the old install.
fn reorder_fix(
    ctx: &LintContext<'_>,
    copy: &Instruction,
    run: &Instruction,
    ecosystem: &Ecosystem,
    manifests: &str,
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
        "{keyword} {flags}{manifests} {dest}\n{}\n",
        run.range.slice(ctx.source)
    );
    let run_line_start = ctx.line_index.line_start(ctx.line_of(run.range.start()));
    let run_end = ctx.source[run.range.end()..]
        .find('\n')
        .map_or(ctx.source.len(), |i| run.range.end() + i + 1);
    Some(Fix {
        description: format!("Copy {manifests} and install before copying the rest"),
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

/// A COPY/ADD from the build context of everything at its root, or of one
/// directory (`COPY app/ /app/`).
fn broad_copy(ctx: &LintContext<'_>, index: usize, instruction: &Instruction) -> Option<BroadCopy> {
    if !matches!(instruction.keyword, Keyword::Copy | Keyword::Add)
        || instruction.flag("from").is_some()
    {
        return None;
    }
    let Args::Files {
        sources,
        dest: Some(dest),
        ..
    } = &instruction.args
    else {
        return None;
    };
    if sources
        .iter()
        .any(|s| matches!(s.text.as_str(), "." | "./" | "*" | "./*" | "./." | "/"))
    {
        return Some(BroadCopy::Context);
    }
    let [source] = sources.as_slice() else {
        return None;
    };
    let source = source.text.trim_start_matches("./");
    let special =
        |t: &str| t.contains(['$', '*', '?', '[']) || t.contains("://") || t.starts_with("<<");
    if special(source) || special(&dest.text) || source.contains("..") {
        return None;
    }
    let trimmed = source.trim_end_matches('/');
    let last = trimmed.rsplit('/').next().unwrap_or(trimmed);
    let is_directory = !trimmed.is_empty()
        && (source.ends_with('/')
            || ctx.build_context.is_some_and(|c| {
                c.entries
                    .iter()
                    .any(|e| e.strip_suffix('/') == Some(trimmed))
            })
            || (!last.contains('.') && last.starts_with(|c: char| c.is_ascii_lowercase())));
    if !is_directory {
        return None;
    }
    let workdir = ctx.model.state_at(index)?.workdir.clone();
    Some(BroadCopy::Directory {
        source: trimmed.to_string(),
        dest: resolve_path(&workdir, &dest.text),
    })
}
