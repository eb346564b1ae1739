use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::{Cache, LaterRemovals, shipped_runs};
use crate::rules::run_words::{append_offset, located_run_commands};
use layercake_syntax::TextRange;

/// `npm install`/`npm ci`/`yarn install` whose cache stays in the shipped layer.
pub struct PackageManagerCacheKept;

static META: RuleMeta = RuleMeta {
    code: "LC306",
    name: "package-manager-cache-kept",
    category: Category::Size,
    default_severity: Severity::Info,
    summary: "An npm or yarn install leaves its download cache in the shipped image",
    doc: r#"## What it does
Reports a RUN in a stage whose layers ship (the build target and the stages
it is built `FROM`) that runs `npm install`/`npm ci` without `npm cache clean
--force` after it, or `yarn install` without `yarn cache clean`.

It stays silent with a BuildKit cache or tmpfs mount on the cache
(`/root/.npm` or any `…/.npm`; yarn's `…/.cache/yarn`, or the directory in
`npm_config_cache` / `YARN_CACHE_FOLDER`), with `--cache`/`--cache-folder`
pointing elsewhere, in builder stages (only what `COPY --from` takes ships,
usually `node_modules` or `dist`), and when a later RUN cleans the cache (that
is LC301, `cleanup-in-later-layer`).

## Why is this bad?
npm keeps a copy of every tarball it fetched in `~/.npm/_cacache`, yarn v1 in
`/usr/local/share/.cache/yarn`: often as large as `node_modules` itself, and
nothing in the running container reads it.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev
```
or `RUN npm ci --omit=dev && npm cache clean --force`.

## Fix safety
The fix appends ` && npm cache clean --force` (or ` && yarn cache clean`) to
the RUN. It is safe: the installed packages are unchanged. A heredoc RUN gets
no fix.

## Equivalents
hadolint: DL3060 (`yarn cache clean` missing after `yarn install`, in every
stage); nothing for npm. BuildKit checks: none.
"#,
};

impl Rule for PackageManagerCacheKept {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let npm = LaterRemovals::new(ctx, Cache::Npm);
        let yarn = LaterRemovals::new(ctx, Cache::Yarn);
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let mut located = None;
            let mut edits = Vec::new();
            let mut reports = Vec::new();
            for (cache, clean, removals) in [
                (Cache::Npm, "npm cache clean --force", &npm),
                (Cache::Yarn, "yarn cache clean", &yarn),
            ] {
                let kept = cache.kept_by(run, commands, ctx.model.state_at(index));
                let Some(&last) = kept.last() else {
                    continue;
                };
                if removals.after(ctx, index).is_some() {
                    continue;
                }
                let located = located.get_or_insert_with(|| {
                    located_run_commands(run, ctx.source, ctx.dockerfile.escape)
                });
                let range = located
                    .as_ref()
                    .and_then(|l| l.get(last))
                    .and_then(|c| c.range())
                    .unwrap_or(run.range);
                let written =
                    code_span(&commands.get(last).map(|c| c.display()).unwrap_or_default());
                let message = format!(
                    "{written} leaves {} in the shipped image; add `&& {clean}` to this RUN or hold the cache in a `--mount=type=cache`",
                    cache.describe()
                );
                if let Some(at) = located.as_deref().and_then(append_offset) {
                    edits.push(Edit {
                        range: TextRange::empty(at),
                        replacement: format!(" && {clean}"),
                    });
                }
                reports.push((range, message, clean));
            }
            // One fix per RUN, shared by its findings, so applying one does
            // not skip the other as overlapping.
            let fix = (!edits.is_empty()).then(|| Fix {
                description: "Clean the package-manager cache at the end of the RUN".to_string(),
                edits: vec![Edit {
                    range: edits[0].range,
                    replacement: edits.iter().map(|e| e.replacement.as_str()).collect(),
                }],
                applicability: Applicability::Safe,
            });
            for (range, message, _) in reports {
                sink.report(range, message, fix.clone());
            }
        }
    }
}
