use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::similar::edit_distance;
use layercake_model::{EdgeKind, StageRef};

/// `COPY --from` or `RUN --mount=from=` names no stage.
pub struct CopyFromUnknownStage;

static META: RuleMeta = RuleMeta {
    code: "LC101",
    name: "copy-from-unknown-stage",
    category: Category::MultiStage,
    default_severity: Severity::Error,
    summary: "`COPY --from` or `--mount=from=` names no stage",
    doc: r#"## What it does
Reports a `COPY --from=NAME` or `RUN --mount=…,from=NAME` whose `NAME` is not
a stage of the Dockerfile and does not look like an image reference (no tag,
registry or path), and a numeric `--from=N` with no stage `N`.

## Why is this bad?
BuildKit reads a name that is not a stage as an image: `COPY --from=biuld`
tries to pull `docker.io/library/biuld`, and the build fails far from the
typo, or, worse, copies from an unrelated public image of that name.

## Example
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/app ./cmd/app
FROM scratch
COPY --from=biuld /out/app /app
```

## Use instead
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/app ./cmd/app
FROM scratch
COPY --from=build /out/app /app
```

## Fix safety
When a stage has a name close to the one written, the fix replaces it; it is
unsafe because the name might really be an image.

## Equivalents
hadolint: DL3022 (`COPY --from` should reference a previously defined `FROM`
alias), which also fires on real images such as `--from=nginx:1.27`.
BuildKit: none before the build fails.
"#,
};

impl Rule for CopyFromUnknownStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for edge in &ctx.model.edges {
            if edge.kind == EdgeKind::Base {
                continue;
            }
            let written = code_span(&match edge.kind {
                EdgeKind::MountFrom => format!("--mount=…,from={}", edge.name.written),
                _ => format!("--from={}", edge.name.written),
            });
            match &edge.target {
                StageRef::Invalid if edge.name.written.contains(['$', '"', '\'']) => {
                    let message = format!(
                        "{written}: BuildKit does not expand variables in `--from` and fails; declare the ARG before the first FROM, add a stage `FROM ${{…}} AS name`, and copy from that stage"
                    );
                    sink.report(edge.name.range, message, None);
                }
                StageRef::Invalid => {
                    let message = format!("{written} names no stage of this Dockerfile");
                    sink.report(edge.name.range, message, None);
                }
                StageRef::Image(name) if looks_like_stage_name(name) => {
                    let suggestion = closest_stage_name(ctx, name);
                    let mut message = format!(
                        "{} names no stage, so BuildKit will pull an image called {}",
                        written,
                        code_span(name)
                    );
                    if let Some(stage) = &suggestion {
                        message.push_str(&format!("; did you mean `{stage}`?"));
                    }
                    let fix = suggestion
                        .filter(|_| edge.kind == EdgeKind::CopyFrom)
                        .map(|stage| Fix {
                            description: format!("Copy from stage `{stage}`"),
                            edits: vec![Edit {
                                range: edge.name.range,
                                replacement: format!("--from={stage}"),
                            }],
                            applicability: Applicability::Unsafe,
                        });
                    sink.report(edge.name.range, message, fix);
                }
                _ => {}
            }
        }
    }
}

/// A bare word (no tag, digest, registry or path) reads as a stage name.
fn looks_like_stage_name(name: &str) -> bool {
    !name.is_empty() && !name.contains([':', '/', '@', '.']) && name != "scratch"
}

fn closest_stage_name(ctx: &LintContext<'_>, name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    // A stage whose name has the written word as a whole part (`set` in
    // `license-set`) is a better guess than one a letter or two away.
    let is_part = |candidate: &str| candidate.split(['-', '_', '.']).any(|part| part == name);
    ctx.model
        .stages
        .iter()
        .filter_map(|s| s.name.as_ref().map(|n| n.normalized.clone()))
        .map(|candidate| (edit_distance(&name, &candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2 || candidate.contains(name.as_str()) || name.contains(candidate.as_str())
        })
        .min_by_key(|(distance, candidate)| (!is_part(candidate), *distance))
        .map(|(_, candidate)| candidate)
}
