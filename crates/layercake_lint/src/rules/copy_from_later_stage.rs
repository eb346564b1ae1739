use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_model::{EdgeKind, StageRef};

/// `COPY --from` or `--mount=from=` names this stage or a later one.
pub struct CopyFromLaterStage;

static META: RuleMeta = RuleMeta {
    code: "LC104",
    name: "copy-from-later-stage",
    category: Category::MultiStage,
    default_severity: Severity::Error,
    summary: "`COPY --from` or `--mount=from=` names the current stage or a later one",
    doc: r#"## What it does
Reports a `COPY --from=NAME` or `RUN --mount=…,from=NAME` whose `NAME` (a
stage name, any case, or a stage index) is the stage the instruction is in, or
a stage defined further down the file.

## Why is this bad?
A stage cannot copy from itself: BuildKit fails with `circular dependency
detected on stage`. A forward reference builds with BuildKit only while it
makes no cycle, and the legacy builder rejects it outright. Either way it
usually means a typo in the name or stages in the wrong order, and a reader
following the file top to bottom cannot see where the files come from.

## Example
```dockerfile
FROM alpine:3.20 AS runtime
COPY --from=build /out/app /usr/local/bin/app
FROM golang:1.22 AS build
RUN go build -o /out/app .
```

## Use instead
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/app .
FROM alpine:3.20 AS runtime
COPY --from=build /out/app /usr/local/bin/app
```

## Fix safety
No fix: moving stages around changes which stage is the default target.

## Equivalents
hadolint: DL3023 (`COPY --from` cannot reference its own `FROM` alias) for the
current stage; DL3022 for names it does not know. BuildKit: the build fails
with `circular dependency detected on stage` for a cycle; no check for a
forward reference.
"#,
};

impl Rule for CopyFromLaterStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for edge in &ctx.model.edges {
            let StageRef::LaterStage(target) = edge.target else {
                continue;
            };
            let written = code_span(&match edge.kind {
                EdgeKind::Base => continue,
                EdgeKind::MountFrom => format!("--mount=…,from={}", edge.name.written),
                EdgeKind::CopyFrom => format!("--from={}", edge.name.written),
            });
            let message = if target == edge.stage {
                format!(
                    "{written} names the stage it is in; a stage cannot copy from itself (BuildKit fails with a circular dependency)"
                )
            } else {
                let line = ctx
                    .model
                    .stages
                    .get(target)
                    .and_then(|s| ctx.dockerfile.instructions.get(s.from_instruction))
                    .map_or(0, |from| ctx.line_of(from.range.start()));
                format!(
                    "{written} names stage {target} (line {line}), which comes later in the file; the legacy builder rejects this and BuildKit accepts it only without a cycle: move that stage above this one or fix the name"
                )
            };
            sink.report(edge.name.range, message, None);
        }
    }
}
