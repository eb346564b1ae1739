use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::shipped_runs;
use crate::rules::run_words::{located_run_commands, word_range};
use crate::shell_command::SimpleCommand;
use crate::shipped_stages::lineage_of_instruction;
use layercake_syntax::{Args, Keyword, TextRange};

/// `apt-get install` that also installs every recommended package.
pub struct AptWithoutNoInstallRecommends;

static META: RuleMeta = RuleMeta {
    code: "LC302",
    name: "apt-without-no-install-recommends",
    category: Category::Size,
    default_severity: Severity::Info,
    summary: "`apt-get install` without `--no-install-recommends` in the shipped image",
    doc: r#"## What it does
Reports `apt-get install` (or `apt install`) without `--no-install-recommends`,
and `aptitude install` without `--without-recommends` (`-R`), in a stage whose layers ship (the build target and the stages it is built
`FROM`; builder stages are left alone).

It stays silent when recommends are turned off another way: `-o
APT::Install-Recommends=false` (or `=0`) on the command, an earlier command
of the stage that writes `APT::Install-Recommends` into an apt configuration
file, or a COPY into `/etc/apt/apt.conf.d/`. A simulation (`apt-get install
-s`, `--simulate`, `--dry-run`, …) installs nothing and is not reported.

## Why is this bad?
By default apt also installs every *recommended* package, which often
doubles what lands in the image (documentation tools, X libraries, extra
language packs). Listing what the image needs keeps it small and makes the
dependencies explicit.

The default severity is *info*: recommends are sometimes needed without
anyone having listed them (`curl` over HTTPS needs `ca-certificates`, which
is only a recommendation), so this is advice to act on with a test run, not
an error.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
The fix inserts ` --no-install-recommends` (aptitude: ` --without-recommends`)
right after `install`. It is
unsafe: a recommended package the image needs (often `ca-certificates`) is
no longer installed and must be listed.

## Equivalents
hadolint: DL3015 (which applies to every stage). BuildKit checks: none.
"#,
};

impl Rule for AptWithoutNoInstallRecommends {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let mut located = None;
            for (position, command) in commands.iter().enumerate() {
                let Some(install) = os_package_command(command) else {
                    continue;
                };
                let OsPackageAction::Install { packages } = &install.action else {
                    continue;
                };
                if install.manager != OsPackageManager::Apt
                    || packages.is_empty()
                    || skips_recommends(ctx, index, command)
                    || configured_earlier(ctx, index, &commands[..position])
                {
                    continue;
                }
                let located = located.get_or_insert_with(|| {
                    located_run_commands(run, ctx.source, ctx.dockerfile.escape)
                });
                let this = located.as_ref().and_then(|l| l.get(position));
                let range = this.and_then(|c| c.range()).unwrap_or(run.range);
                let flag = recommends_flag(&install.command);
                let shown: Vec<&str> = packages.iter().take(3).map(String::as_str).collect();
                let more = if packages.len() > 3 { ", …" } else { "" };
                let message = format!(
                    "`{} install` also installs the packages recommended by {}{more}, often as much again; add `{flag}` and list what the image needs",
                    install
                        .command
                        .words
                        .first()
                        .map_or("apt-get", String::as_str),
                    shown.join(", "),
                );
                let fix = this.and_then(|c| word_range(c, "install")).map(|word| Fix {
                    description: format!("Add `{flag}` after `install`"),
                    edits: vec![Edit {
                        range: TextRange::empty(word.end()),
                        replacement: format!(" {flag}"),
                    }],
                    applicability: Applicability::Unsafe,
                });
                sink.report(range, message, fix);
            }
        }
    }
}

/// The command turns recommends off itself, or hides its options in a
/// variable this linter cannot see through.
fn skips_recommends(ctx: &LintContext<'_>, index: usize, command: &SimpleCommand) -> bool {
    let aptitude = command.program() == "aptitude";
    command.has_flag("--no-install-recommends")
        || (aptitude
            && (command.has_flag("--without-recommends")
                || command
                    .args()
                    .iter()
                    .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('R'))))
        || command.args().iter().any(|a| {
            let lower = a.to_ascii_lowercase();
            if lower.contains("install-recommends") {
                return lower.ends_with("=false")
                    || lower.ends_with("=0")
                    || lower.ends_with("=no");
            }
            a.contains('$')
                && ctx.model.expand_at(index, a).map_or(true, |e| {
                    !e.unmatched.is_empty() || e.value.contains("--no-install-recommends")
                })
        })
}

/// The option that turns recommends off: aptitude spells it differently.
fn recommends_flag(command: &SimpleCommand) -> &'static str {
    if command.program() == "aptitude" {
        "--without-recommends"
    } else {
        "--no-install-recommends"
    }
}

/// An earlier command of this RUN, or an earlier instruction of the stages
/// the RUN builds on, configures apt's recommends.
fn configured_earlier(
    ctx: &LintContext<'_>,
    index: usize,
    before_in_run: &[SimpleCommand],
) -> bool {
    let mentions = |commands: &[SimpleCommand]| {
        commands.iter().any(|c| {
            c.words
                .iter()
                .any(|w| w.to_ascii_lowercase().contains("apt::install-recommends"))
        })
    };
    if mentions(before_in_run) {
        return true;
    }
    let lineage = lineage_of_instruction(ctx.model, index);
    ctx.dockerfile
        .instructions
        .iter()
        .enumerate()
        .take(index)
        .filter(|(i, _)| {
            ctx.model
                .stage_of_instruction(*i)
                .is_some_and(|s| lineage.contains(&s))
        })
        .any(|(_, instruction)| match instruction.keyword {
            Keyword::Run => mentions(&ctx.commands_of(instruction)),
            Keyword::Copy | Keyword::Add => matches!(
                &instruction.args,
                Args::Files { dest: Some(dest), .. } if dest.text.starts_with("/etc/apt/")
            ),
            _ => false,
        })
}
