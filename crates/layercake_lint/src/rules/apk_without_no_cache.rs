use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::{Cache, LaterRemovals, shipped_runs};
use crate::rules::run_words::{located_run_commands, word_range};
use layercake_syntax::TextRange;

/// `apk add` that keeps the package index in the shipped layer.
pub struct ApkWithoutNoCache;

static META: RuleMeta = RuleMeta {
    code: "LC304",
    name: "apk-without-no-cache",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "`apk add` without `--no-cache` keeps the package index in the shipped image",
    doc: r#"## What it does
Reports `apk add` without `--no-cache` in a stage whose layers ship (the build
target and the stages it is built `FROM`).

It stays silent when a BuildKit cache or tmpfs mount holds `/var/cache/apk`
(or `/etc/apk/cache`), when the same RUN later removes `/var/cache/apk/*` or
runs `apk cache clean`, in builder stages, and when a later RUN removes the
cache (that is LC301, `cleanup-in-later-layer`).

## Why is this bad?
Without `--no-cache`, apk stores the package index (a few megabytes per
repository) under `/var/cache/apk` in the layer, where nothing uses it again.

## Example
```dockerfile
FROM alpine:3.20
RUN apk update && apk add curl
```

## Use instead
```dockerfile
FROM alpine:3.20
RUN apk add --no-cache curl
```

## Fix safety
The fix inserts ` --no-cache` right after `add`. It is safe: apk fetches a
fresh index for the command and keeps nothing, and the same packages are
installed.

## Equivalents
hadolint: DL3019 (which applies to every stage and ignores cache mounts).
BuildKit checks: none.
"#,
};

impl Rule for ApkWithoutNoCache {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let removals = LaterRemovals::new(ctx, Cache::Apk);
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let kept = Cache::Apk.kept_by(run, commands, ctx.model.state_at(index));
            if kept.is_empty() || removals.after(ctx, index).is_some() {
                continue;
            }
            let located = located_run_commands(run, ctx.source, ctx.dockerfile.escape);
            for position in kept {
                let Some(command) = commands.get(position) else {
                    continue;
                };
                let is_add = os_package_command(command).is_some_and(|c| {
                    c.manager == OsPackageManager::Apk
                        && matches!(c.action, OsPackageAction::Install { .. })
                });
                if !is_add {
                    continue;
                }
                let this = located.as_ref().and_then(|l| l.get(position));
                let range = this.and_then(|c| c.range()).unwrap_or(run.range);
                let message = format!(
                    "{} keeps the apk package index in /var/cache/apk in this layer of the shipped image; add `--no-cache`",
                    code_span(&command.display())
                );
                let fix = this.and_then(|c| word_range(c, "add")).map(|word| Fix {
                    description: "Add `--no-cache` after `apk add`".to_string(),
                    edits: vec![Edit {
                        range: TextRange::empty(word.end()),
                        replacement: " --no-cache".to_string(),
                    }],
                    applicability: Applicability::Safe,
                });
                sink.report(range, message, fix);
            }
        }
    }
}
