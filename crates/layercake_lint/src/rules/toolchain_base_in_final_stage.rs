use crate::base_image::{ImageFamily, image_facts};
use crate::build_step::{BuildTool, build_steps_in, runtime_base};
use crate::code_span;
use crate::finding::{Category, Severity};
use crate::package_install::{OsPackageAction, is_build_package, os_package_command};
use crate::rule::{FindingSink, FindingSubject, LintContext, Rule, RuleMeta};
use crate::rules::dev_environment::is_dev_environment;
use crate::shipped_stages::shipped_stage_chain;
use layercake_model::StageBase;
use layercake_syntax::Keyword;

/// The shipped image is a compiler or SDK image that builds the application in place.
pub struct ToolchainBaseInFinalStage;

static META: RuleMeta = RuleMeta {
    code: "LC107",
    name: "toolchain-base-in-final-stage",
    category: Category::MultiStage,
    default_severity: Severity::Warning,
    summary: "The shipped image is built on a toolchain image and compiles the application in it",
    doc: r#"## What it does
Reports the `FROM` of the shipped image (the build target, following
`FROM <stage>` back to an image) when that image is a compiler or SDK image
(`golang`, `rust`, `maven`, `gradle`, a JDK such as `eclipse-temurin:21-jdk`
or `openjdk`, `mcr.microsoft.com/dotnet/sdk`, the full `node` image, the full
`python` image) and the shipped stages also run a build step: `go build`,
`cargo build`, `mvn package`, `gradle build`, `npm run build`, `tsc`,
`dotnet publish` (for `python`, only a compile such as `setup.py build_ext`, or an install
of build packages such as `build-essential`, `gcc` or `-dev` headers, which
means a dependency compiles).

It stays silent when the build happens in an earlier stage whose output is
copied with `COPY --from`, when the shipped image is already a runtime image
(`-slim`, `-alpine`, a JRE, `dotnet/aspnet`, distroless, `scratch`), and when
the target is named as a development or CI environment (`dev`,
`devcontainer`, `test`, `ci`, …).

## Why is this bad?
The image ships the compiler, the SDK, the sources and the build caches: often
a gigabyte where the application needs tens of megabytes, with a far larger
attack surface. A builder stage keeps all of that out of the image.

## Example
```dockerfile
FROM golang:1.22
WORKDIR /src
COPY . .
RUN go build -o /app .
CMD ["/app"]
```

## Use instead
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /app .
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /app /app
CMD ["/app"]
```

## Fix safety
No fix here; for a single-stage Dockerfile, LC109 `single-stage-build` shows
a multi-stage skeleton.

## Equivalents
hadolint: none. BuildKit: none.
"#,
};

impl Rule for ToolchainBaseInFinalStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn subject(&self) -> FindingSubject {
        FindingSubject::Image
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let model = ctx.model;
        let chain = shipped_stage_chain(model);
        if is_dev_environment(model, &chain) {
            return;
        }
        let Some(root) = chain.last().and_then(|&i| model.stages.get(i)) else {
            return;
        };
        let StageBase::Image {
            raw,
            image: Some(image),
            ..
        } = &root.base
        else {
            return;
        };
        let facts = image_facts(image);
        let full_python = facts.family == ImageFamily::Python && facts.is_full_variant;
        if !facts.is_toolchain && !full_python {
            return;
        }
        let mut indexes: Vec<usize> = chain
            .iter()
            .filter_map(|&i| model.stages.get(i))
            .flat_map(|s| s.instructions.clone())
            .collect();
        indexes.sort_unstable();
        let steps = build_steps_in(&ctx.dockerfile.instructions, indexes.iter().copied());
        let found = steps.iter().find(|(_, step)| {
            // A full Python image is a toolchain only when something compiles in it.
            facts.is_toolchain || step.tool == BuildTool::Python
        });
        let Some((index, step)) = found else {
            if full_python && let Some((index, package)) = build_package_install(ctx, &indexes) {
                let line = ctx
                    .dockerfile
                    .instructions
                    .get(index)
                    .map_or(0, |i| ctx.line_of(i.range.start()));
                let slim = facts
                    .slimmer
                    .clone()
                    .unwrap_or_else(|| "python:slim".to_string());
                let message = format!(
                    "The shipped image is built FROM `{image}`, the full image with compilers, and installs build tools too ({package}, line {line}), so everything needed to compile ships; build the virtualenv in a builder stage and copy only `/opt/venv` into a runtime stage FROM `{slim}`",
                    package = code_span(&package)
                );
                sink.report(raw.range, message, None);
            }
            return;
        };
        let line = ctx
            .dockerfile
            .instructions
            .get(*index)
            .map_or(0, |i| ctx.line_of(i.range.start()));
        let runtime = runtime_base(image, step.tool);
        let runtime_hint = match step.tool {
            BuildTool::Go => format!("`scratch` or `{runtime}` (build with `CGO_ENABLED=0`)"),
            BuildTool::Node | BuildTool::TypeScript => format!("`{runtime}` (or an `-alpine` tag)"),
            BuildTool::Maven | BuildTool::Gradle => format!("a JRE such as `{runtime}`"),
            _ => format!("`{runtime}`"),
        };
        let kind = if facts.is_toolchain {
            "a toolchain image"
        } else {
            "the full image with compilers"
        };
        let message = format!(
            "The shipped image is built FROM `{image}`, {kind}, and builds in it ({}, line {line}), so the compiler, sources and build caches ship too; build in a builder stage and copy only the output into a runtime stage FROM {runtime_hint}",
            code_span(&step.command.display())
        );
        sink.report(raw.range, message, None);
    }
}

/// The first OS install of a build package (`build-essential`, `gcc`, a
/// `-dev` package) among `indexes`: a sign that something compiles.
fn build_package_install(ctx: &LintContext<'_>, indexes: &[usize]) -> Option<(usize, String)> {
    indexes.iter().find_map(|&index| {
        let run = ctx
            .dockerfile
            .instructions
            .get(index)
            .filter(|i| i.keyword == Keyword::Run)?;
        ctx.commands_of(run)
            .iter()
            .find_map(|command| match os_package_command(command)?.action {
                OsPackageAction::Install { packages } => packages
                    .into_iter()
                    .find(|p| is_build_package(p))
                    .map(|p| (index, p)),
                _ => None,
            })
    })
}
