use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::{Cache, LaterRemovals, shipped_runs};
use crate::rules::run_words::{append_offset, located_run_commands};
use crate::shipped_stages::lineage_of_instruction;
use layercake_syntax::{Keyword, TextRange};

/// `apt-get update` whose package lists stay in the shipped layer.
pub struct AptListsKept;

static META: RuleMeta = RuleMeta {
    code: "LC303",
    name: "apt-lists-kept",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "`apt-get update` leaves the package lists in the shipped image",
    doc: r#"## What it does
Reports a RUN in a stage whose layers ship (the build target and the stages
it is built `FROM`) that runs `apt-get update` (or `apt update`) and does not
remove `/var/lib/apt/lists/*` later in the same RUN.

It stays silent when a BuildKit cache or tmpfs mount holds `/var/lib/apt`
or `/var/lib/apt/lists`, in builder stages whose layers do not ship (only
what `COPY --from` takes does), and when a later RUN removes the lists (that
is LC301, `cleanup-in-later-layer`, which folds the removal back).

## Why is this bad?
The package lists are tens of megabytes that nothing in a running container
needs. Once a layer holds them, removing them in a later layer does not
shrink the image.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```
or keep the lists in a cache mount, outside the image:
```dockerfile
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends curl
```

## Fix safety
The fix appends ` && rm -rf /var/lib/apt/lists/*` after the RUN's last
command. It is safe: `apt-get install` is done with the lists by then. When
a later RUN installs without its own `apt-get update` (it relies on the lists
this RUN leaves), no fix is offered, since that RUN would fail. In a heredoc
RUN the fix adds the line at the end of the script and is display-only.

## Equivalents
hadolint: DL3009 (which applies to every stage and ignores cache mounts).
BuildKit checks: none.
"#,
};

impl Rule for AptListsKept {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let removals = LaterRemovals::new(ctx, Cache::AptLists);
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let kept = Cache::AptLists.kept_by(run, commands, ctx.model.state_at(index));
            let Some(&update) = kept.last() else {
                continue;
            };
            if removals.after(ctx, index).is_some() {
                continue;
            }
            let located = located_run_commands(run, ctx.source, ctx.dockerfile.escape);
            let range = located
                .as_ref()
                .and_then(|l| l.get(update))
                .and_then(|c| c.range())
                .unwrap_or(run.range);
            let written = code_span(
                &commands
                    .get(update)
                    .map_or_else(|| "apt-get update".to_string(), |c| c.display()),
            );
            let mut message = format!(
                "{written} leaves the package lists (/var/lib/apt/lists, tens of MB) in this layer of the shipped image; remove them at the end of the same RUN or keep them in a cache mount"
            );
            let needs_lists = later_install_without_update(ctx, index);
            if let Some(later) = needs_lists {
                message.push_str(&format!(
                    " (the RUN on line {} installs without its own `apt-get update`: give it one first)",
                    ctx.line_of(later)
                ));
            }
            let fix = if needs_lists.is_some() {
                None
            } else if let Some(at) = located.as_deref().and_then(append_offset) {
                Some(Fix {
                    description: "Remove the apt lists at the end of the RUN".to_string(),
                    edits: vec![Edit {
                        range: TextRange::empty(at),
                        replacement: " && rm -rf /var/lib/apt/lists/*".to_string(),
                    }],
                    applicability: Applicability::Safe,
                })
            } else if located.is_some() {
                run.heredocs.last().map(|heredoc| Fix {
                    description: "Remove the apt lists as the last line of the script".to_string(),
                    edits: vec![Edit {
                        range: TextRange::empty(heredoc.body_range.end()),
                        replacement: "rm -rf /var/lib/apt/lists/*\n".to_string(),
                    }],
                    applicability: Applicability::DisplayOnly,
                })
            } else {
                None
            };
            sink.report(range, message, fix);
        }
    }
}

/// A later RUN built on this one whose first apt command installs or upgrades
/// with no `apt-get update` before it: it relies on the lists this RUN leaves.
/// Returns its start offset.
fn later_install_without_update(ctx: &LintContext<'_>, index: usize) -> Option<usize> {
    let stage = ctx.model.stage_of_instruction(index)?;
    ctx.dockerfile
        .instructions
        .iter()
        .enumerate()
        .skip(index + 1)
        .filter(|(later, i)| {
            i.keyword == Keyword::Run && lineage_of_instruction(ctx.model, *later).contains(&stage)
        })
        .find(|(_, run)| {
            let first_apt = ctx
                .commands_of(run)
                .iter()
                .filter_map(os_package_command)
                .find(|c| c.manager == OsPackageManager::Apt)
                .map(|c| c.action);
            matches!(
                first_apt,
                Some(OsPackageAction::Install { .. } | OsPackageAction::Upgrade)
            )
        })
        .map(|(_, run)| run.range.start())
}
