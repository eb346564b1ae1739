use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{
    OsPackageAction, OsPackageManager, has_cache_mount_for, os_package_command, without_sudo,
};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::shipped_runs;
use crate::rules::run_words::located_run_commands;
use crate::shell_command::SimpleCommand;
use crate::shipped_stages::lineage_of_instruction;
use layercake_syntax::{Keyword, TextRange};

/// An apt install after `docker-clean` was removed, with no cache mount on
/// `/var/cache/apt`: the downloaded packages stay in the layer.
pub struct AptArchivesKept;

static META: RuleMeta = RuleMeta {
    code: "LC310",
    name: "apt-archives-kept",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "apt keeps its downloaded packages (`docker-clean` removed) and no cache mount holds `/var/cache/apt`",
    doc: r#"## What it does
Reports an `apt-get`/`apt`/`aptitude` install or upgrade in a stage whose
layers ship (the build target and the stages it is built `FROM`) when
`/etc/apt/apt.conf.d/docker-clean` was removed, in this RUN or an earlier one
of the stage, and the RUN has no BuildKit cache or tmpfs mount on
`/var/cache/apt` (or `/var/cache/apt/archives`) and does not run `apt-get
clean` (or remove `/var/cache/apt`) after the install.

This is the half-done cache-mount recipe: the file is removed so that apt
keeps the packages it downloads in a cache mount, but the mount is only on
`/var/lib/apt` (the lists), or on nothing. It stays silent when the
archives directory is linked elsewhere (`ln -s … /var/cache/apt/archives`)
or moved by `Dir::Cache` configuration.

## Why is this bad?
Debian and Ubuntu images delete every downloaded `.deb` after each install
through `docker-clean`. Without it, apt keeps them in
`/var/cache/apt/archives`: the layer carries every package twice, once
installed and once as its archive, often tens or hundreds of megabytes.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends gcc
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends gcc
```

## Fix safety
The fix adds `--mount=type=cache,target=/var/cache/apt,sharing=locked` right
after `RUN`. It is unsafe: cache mounts need BuildKit (the default builder
since Docker 23).

## Equivalents
hadolint: none. BuildKit checks: none.
"#,
};

impl Rule for AptArchivesKept {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let Some(install) = commands.iter().position(downloads_packages) else {
                continue;
            };
            if has_cache_mount_for(run, &["/var/cache/apt/archives"])
                || commands[install..].iter().any(cleans_archives)
                || moves_archives(commands)
            {
                continue;
            }
            let removed_here = commands[..install].iter().any(removes_docker_clean);
            let earlier = if removed_here {
                None
            } else {
                match earlier_setup(ctx, index) {
                    EarlierSetup::RemovesDockerClean(line) => Some(line),
                    EarlierSetup::MovesArchives | EarlierSetup::None => continue,
                }
            };
            let Some(command) = commands.get(install) else {
                continue;
            };
            let where_removed = match earlier {
                Some(line) => format!("on line {line}"),
                None => "in this RUN".to_string(),
            };
            let mounts_lists = has_cache_mount_for(run, &["/var/lib/apt"]);
            let mount_note = if mounts_lists {
                "the cache mount covers only /var/lib/apt"
            } else {
                "no cache mount holds them"
            };
            let message = format!(
                "{} keeps every downloaded .deb in /var/cache/apt/archives in this layer of the shipped image: docker-clean was removed {where_removed} and {mount_note}; mount a cache on /var/cache/apt as well, or run `apt-get clean` at the end of the RUN",
                code_span(&command.display())
            );
            let range = located_run_commands(run, ctx.source, ctx.dockerfile.escape)
                .as_ref()
                .and_then(|l| l.get(install))
                .and_then(|c| c.range())
                .unwrap_or(run.range);
            let mount = "--mount=type=cache,target=/var/cache/apt,sharing=locked";
            let fix = Fix {
                description: format!("Add `{mount}`"),
                edits: vec![Edit {
                    range: TextRange::empty(run.keyword_word.range.end()),
                    replacement: format!(" {mount}"),
                }],
                applicability: Applicability::Unsafe,
            };
            sink.report(range, message, Some(fix));
        }
    }
}

/// An apt install or upgrade: it downloads packages into the archives.
fn downloads_packages(command: &SimpleCommand) -> bool {
    os_package_command(command).is_some_and(|c| {
        c.manager == OsPackageManager::Apt
            && match &c.action {
                OsPackageAction::Install { packages } => !packages.is_empty(),
                OsPackageAction::Upgrade => true,
                _ => false,
            }
    })
}

/// `apt-get clean`, or an `rm` of `/var/cache/apt` or what is under it.
fn cleans_archives(command: &SimpleCommand) -> bool {
    let command = without_sudo(command);
    os_package_command(&command)
        .is_some_and(|c| c.manager == OsPackageManager::Apt && c.action == OsPackageAction::Clean)
        || (command.program() == "rm"
            && command
                .args()
                .iter()
                .any(|a| a.starts_with("/var/cache/apt")))
}

/// `rm … /etc/apt/apt.conf.d/docker-clean`.
fn removes_docker_clean(command: &SimpleCommand) -> bool {
    let command = without_sudo(command);
    command.program() == "rm"
        && command
            .args()
            .iter()
            .any(|a| a.trim_end_matches('*').ends_with("apt.conf.d/docker-clean"))
}

/// The archives linked elsewhere (`ln -s /cache /var/cache/apt/archives`) or
/// moved by `Dir::Cache` configuration: where they go is not this layer, or
/// not something a linter can see.
fn moves_archives(commands: &[SimpleCommand]) -> bool {
    commands.iter().any(|c| {
        let c = without_sudo(c);
        (c.program() == "ln" && c.args().iter().any(|a| a.starts_with("/var/cache/apt")))
            || c.words
                .iter()
                .any(|w| w.to_ascii_lowercase().contains("dir::cache"))
    })
}

/// What the RUNs before `index` in its stage (and the stages it is built
/// FROM) did to apt's archives.
enum EarlierSetup {
    /// Removed `docker-clean`, on this line.
    RemovesDockerClean(usize),
    /// Linked or configured the archives elsewhere.
    MovesArchives,
    /// Neither.
    None,
}

fn earlier_setup(ctx: &LintContext<'_>, index: usize) -> EarlierSetup {
    let lineage = lineage_of_instruction(ctx.model, index);
    let mut removed = None;
    for (i, instruction) in ctx.dockerfile.instructions.iter().enumerate().take(index) {
        if instruction.keyword != Keyword::Run
            || !ctx
                .model
                .stage_of_instruction(i)
                .is_some_and(|s| lineage.contains(&s))
        {
            continue;
        }
        let commands = ctx.run_commands_at(i);
        if moves_archives(commands) {
            return EarlierSetup::MovesArchives;
        }
        if removed.is_none() && commands.iter().any(removes_docker_clean) {
            removed = Some(ctx.line_of(instruction.range.start()));
        }
    }
    removed.map_or(EarlierSetup::None, EarlierSetup::RemovesDockerClean)
}
