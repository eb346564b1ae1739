use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_model::Follow;

/// A stage that no build can ever need.
pub struct UnusedStage;

static META: RuleMeta = RuleMeta {
    code: "LC102",
    name: "unused-stage",
    category: Category::MultiStage,
    default_severity: Severity::Warning,
    summary: "A stage no build can reach: unnamed, not last, and nothing depends on it",
    doc: r#"## What it does
Reports a stage that can never be built: it is not the last stage, it has no
name (so `--target` cannot select it), and neither the last stage nor any
named stage depends on it through `FROM`, `COPY --from` or `--mount=from=`.

## Why is this bad?
BuildKit skips stages the target does not need, so the stage is dead code: it
costs readers, and the work someone thinks it does never happens, often
because a `COPY --from` points at the wrong stage.

## Example
```dockerfile
FROM node:22 AS deps
RUN npm ci
FROM node:22
RUN npm run lint
FROM node:22-slim
COPY --from=deps /app/node_modules ./node_modules
```

## Use instead
Remove the stage, give it a name if it is meant to be built with
`--target`, or make the stage that needs it depend on it.

## Fix safety
No fix: whether to delete or wire the stage is a choice.

## Equivalents
hadolint: none. BuildKit: none (it silently skips the stage).
"#,
};

impl Rule for UnusedStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let stages = &ctx.model.stages;
        let Some(last) = stages.len().checked_sub(1) else {
            return;
        };
        let roots = stages
            .iter()
            .filter(|s| s.index == last || s.name.is_some())
            .map(|s| s.index);
        let needed = ctx.model.stage_closure(roots, Follow::All);
        for stage in stages.iter().filter(|s| !needed.contains(s.index)) {
            let Some(from) = ctx.dockerfile.instructions.get(stage.from_instruction) else {
                continue;
            };
            let message = format!(
                "Stage {} (line {}) is never built: it has no name for `--target`, and no stage that can be built depends on it",
                stage.index,
                ctx.line_of(from.range.start())
            );
            sink.report(from.range, message, None);
        }
    }
}
