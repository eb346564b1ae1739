use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_model::Follow;

/// A stage the build target does not need (it may be another target).
pub struct StageOutsideTarget;

static META: RuleMeta = RuleMeta {
    code: "LC103",
    name: "stage-outside-target",
    category: Category::MultiStage,
    default_severity: Severity::Info,
    summary: "A stage the build target does not reach (built only with another --target)",
    doc: r#"## What it does
Reports a stage that the build target (the last stage, or `target:` in
configuration, or `--target`) does not depend on, but that some other target
could build: a named stage such as `test` or `dev`, or a stage one of those
needs.

## Why is this bad?
It is often fine (a `test` stage run with `--target test`), so this is only
information; but a stage meant to feed the image that does not reach it means
a `COPY --from` is missing, and nothing in the image comes from that work.

## Example
```dockerfile
FROM node:22 AS build
RUN npm ci && npm run build
FROM node:22 AS test
RUN npm test
FROM node:22-slim
COPY --from=build /app/dist ./dist
```

## Use instead
Keep it and build it with `--target test` in CI, or set `target:` in
`.layercake.yml` to the stage you ship, or turn the rule off.

## Fix safety
No fix.

## Equivalents
hadolint: none. BuildKit: none.
"#,
};

impl Rule for StageOutsideTarget {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let model = ctx.model;
        let Some(target) = model.target_stage() else {
            return;
        };
        let Some(last) = model.stages.len().checked_sub(1) else {
            return;
        };
        let roots = model
            .stages
            .iter()
            .filter(|s| s.index == last || s.name.is_some())
            .map(|s| s.index);
        let buildable = model.stage_closure(roots, Follow::All);
        let target_name = match &target.name {
            Some(name) => format!("`{}`", name.written.text),
            None => match ctx.dockerfile.instructions.get(target.from_instruction) {
                Some(from) => format!(
                    "(stage {}, line {})",
                    target.index,
                    ctx.line_of(from.range.start())
                ),
                None => format!("(stage {})", target.index),
            },
        };
        for stage in model
            .stages
            .iter()
            .filter(|s| buildable.contains(s.index) && !s.reaches_target)
        {
            let Some(from) = ctx.dockerfile.instructions.get(stage.from_instruction) else {
                continue;
            };
            let label = match &stage.name {
                Some(name) => format!("Stage `{}`", name.written.text),
                None => format!("Stage {}", stage.index),
            };
            let how = match &stage.name {
                Some(name) => format!(
                    "unless `--target {}` or a stage that needs it is built",
                    name.written.text
                ),
                None => "unless another target that needs it is built".to_string(),
            };
            let message = format!(
                "{label} is not part of the build target {target_name}: `docker build` skips it {how}"
            );
            sink.report(from.range, message, None);
        }
    }
}
