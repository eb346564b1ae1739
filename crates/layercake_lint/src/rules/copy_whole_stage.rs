use crate::base_image::image_facts;
use crate::build_step::build_steps_in;
use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shipped_stages::shipped_stage_chain;
use layercake_model::{DockerfileModel, EdgeKind, StageRef};
use layercake_syntax::Args;

/// `COPY --from=<stage> / /`: the whole builder filesystem, toolchain included.
pub struct CopyWholeStage;

static META: RuleMeta = RuleMeta {
    code: "LC106",
    name: "copy-whole-stage",
    category: Category::MultiStage,
    default_severity: Severity::Warning,
    summary: "`COPY --from` copies the whole filesystem of a stage into the shipped image",
    doc: r#"## What it does
Reports a `COPY --from=STAGE` in a stage that ships (the build target or a
stage it is built `FROM`) whose source is the root of that stage: `/`, `/.`,
`/*`, or a relative `.`, `./` or `*`, since `COPY --from` resolves source
paths from the root of the stage, not from its `WORKDIR`.

Left alone, because copying everything is the point: a source stage that
starts `FROM scratch` (an artifact or root-filesystem stage), a stage that is
only `FROM image AS name` (tool images such as `tonistiigi/xx` are made to be
copied whole), and the squash idiom `FROM scratch` + `COPY --from=rootfs / /`
unless the stage squashed is a builder (a toolchain image, or a build step).

## Why is this bad?
The builder's whole filesystem, its base image, compilers, package caches,
sources and intermediate files included, lands in the runtime image, which
undoes what the multi-stage build was for.

## Example
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
RUN CGO_ENABLED=0 go build -o /out/app .
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build / /
```

## Use instead
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
RUN CGO_ENABLED=0 go build -o /out/app .
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
```

## Fix safety
No fix: which files the runtime needs is not visible in the Dockerfile.

## Equivalents
hadolint: DL3067, which also fires in stages that do not ship and on
`COPY --from=stage / /` squashes of a finished image. BuildKit: none.
"#,
};

impl Rule for CopyWholeStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let model = ctx.model;
        let shipped = shipped_stage_chain(model);
        for edge in &model.edges {
            let (EdgeKind::CopyFrom, StageRef::Stage(source)) = (edge.kind, &edge.target) else {
                continue;
            };
            if !shipped.contains(&edge.stage)
                || starts_from_scratch(model, *source)
                || is_image_alias(model, *source)
            {
                continue;
            }
            let Some(copy) = ctx.dockerfile.instructions.get(edge.instruction) else {
                continue;
            };
            let Args::Files {
                sources,
                dest: Some(dest),
                ..
            } = &copy.args
            else {
                continue;
            };
            let Some(root) = sources.iter().find(|s| is_root(&s.text)) else {
                continue;
            };
            let Some(stage) = model.stages.get(*source) else {
                continue;
            };
            // `FROM scratch` + `COPY --from=rootfs / /` squashes a finished
            // image into one layer; only a builder copied that way is a mistake.
            let squash = starts_from_scratch(model, edge.stage)
                && dest.text.trim_end_matches('/').is_empty();
            if squash && !is_builder(ctx, *source) {
                continue;
            }
            let stage_label = stage.name.as_ref().map_or_else(
                || format!("stage {source}"),
                |n| format!("stage `{}`", n.written.text),
            );
            let relative = if root.text.starts_with('/') {
                ""
            } else {
                " (`COPY --from` reads paths from the stage's root, not its WORKDIR)"
            };
            let hint = match stage.final_state.workdir.as_str() {
                "/" => String::from("copy only the build output"),
                workdir => format!("copy only the build output (e.g. from under `{workdir}`)"),
            };
            let message = format!(
                "{} copies the whole filesystem of {stage_label}{relative}, its base image, toolchain and sources included, into the shipped image; {hint}",
                code_span(&format!(
                    "COPY --from={} {} {}",
                    edge.name.written, root.text, dest.text
                ))
            );
            sink.report(copy.range, message, None);
        }
    }
}

/// `/`, `.` and friends: the root of the source stage.
fn is_root(path: &str) -> bool {
    matches!(path, "/" | "/." | "/*" | "." | "./" | "./." | "*" | "./*")
}

/// A stage that is only `FROM image AS name`: copying all of it is copying
/// an image, which tool images such as `tonistiigi/xx` are made for.
fn is_image_alias(model: &DockerfileModel, stage: usize) -> bool {
    model
        .stages
        .get(stage)
        .is_some_and(|s| s.base.image().is_some() && s.instructions.len() <= 1)
}

/// Whether the stage (with the stages it is built FROM) compiles something or
/// starts from a toolchain image.
fn is_builder(ctx: &LintContext<'_>, stage: usize) -> bool {
    let model = ctx.model;
    let mut chain = vec![stage];
    while let Some(parent) = chain
        .last()
        .and_then(|&i| model.stages.get(i)?.base.stage())
        .filter(|p| !chain.contains(p))
    {
        chain.push(parent);
    }
    let toolchain = chain
        .last()
        .and_then(|&i| model.stages.get(i)?.base.image())
        .is_some_and(|image| image_facts(image).is_toolchain);
    let indexes = chain
        .iter()
        .filter_map(|&i| model.stages.get(i))
        .flat_map(|s| s.instructions.clone());
    toolchain || !build_steps_in(&ctx.dockerfile.instructions, indexes).is_empty()
}

/// Whether the stage, following `FROM <stage>`, starts from `scratch`.
fn starts_from_scratch(model: &DockerfileModel, stage: usize) -> bool {
    model
        .root_stage(stage)
        .is_some_and(|root| root.base.is_scratch())
}
