use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};

/// Two stages with the same `AS name`.
pub struct DuplicateStageName;

static META: RuleMeta = RuleMeta {
    code: "LC105",
    name: "duplicate-stage-name",
    category: Category::MultiStage,
    default_severity: Severity::Error,
    summary: "Two stages have the same name",
    doc: r#"## What it does
Reports a `FROM … AS name` whose name (compared case-insensitively, as
BuildKit does) an earlier stage already uses.

## Why is this bad?
`COPY --from=name`, `FROM name` and `--target name` can then mean either
stage, and which one each of them picks depends on where it stands in the
file: a copy-paste of a stage silently changes what a later stage copies.
BuildKit flags it with its `DuplicateStageName` check.

## Example
```dockerfile
FROM node:22 AS build
RUN npm ci && npm run build
FROM node:22 AS Build
RUN npm run build:docs
FROM node:22-slim
COPY --from=build /app/dist ./dist
```

## Use instead
```dockerfile
FROM node:22 AS build
RUN npm ci && npm run build
FROM node:22 AS docs
RUN npm run build:docs
FROM node:22-slim
COPY --from=build /app/dist ./dist
```

## Fix safety
No fix: which of the stages the references mean is a choice.

## Equivalents
hadolint: DL3024 (`FROM` aliases must be unique). BuildKit: the
`DuplicateStageName` check.
"#,
};

impl Rule for DuplicateStageName {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let stages = &ctx.model.stages;
        for stage in stages {
            let Some(name) = &stage.name else {
                continue;
            };
            // `stage_by_name` is the first stage with the name (any case).
            let Some(first) = ctx
                .model
                .stage_by_name(&name.normalized)
                .filter(|first| first.index < stage.index)
            else {
                continue;
            };
            let first_line = ctx
                .dockerfile
                .instructions
                .get(first.from_instruction)
                .map_or(0, |from| ctx.line_of(from.range.start()));
            let first_written = first
                .name
                .as_ref()
                .map_or(name.written.text.as_str(), |n| n.written.text.as_str());
            let same_case = if first_written == name.written.text {
                String::new()
            } else {
                format!(" as `{first_written}`")
            };
            let message = format!(
                "Stage name `{}` is already used by stage {} (line {first_line}){same_case}; stage names are compared case-insensitively, so `--from={}` and `--target` may pick either stage",
                name.written.text, first.index, name.normalized
            );
            sink.report(name.written.range, message, None);
        }
    }
}
