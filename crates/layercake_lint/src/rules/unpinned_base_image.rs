use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_model::{EdgeKind, ImageRef, StageBase, StageRef};

/// `FROM image` without a tag, or with `:latest`.
pub struct UnpinnedBaseImage;

static META: RuleMeta = RuleMeta {
    code: "LC403",
    name: "unpinned-base-image",
    category: Category::Security,
    default_severity: Severity::Warning,
    summary: "A base image is untagged or `:latest`, so each build may get a different image",
    doc: r#"## What it does
Reports a `FROM` (in a stage the target needs) and a `COPY --from` or
`RUN --mount=…,from=` naming an image, whose reference has no tag or the tag
`latest`, and no digest. The reference is judged after `ARG` expansion, as
BuildKit resolves it: `FROM node:${NODE_VERSION}` is pinned when
`ARG NODE_VERSION=22` is declared before the first `FROM`, and floats when the
default is `latest`.

It is silent for `FROM scratch`, for `FROM <stage>`, for a reference that
names an `ARG` declared without a default (`ARG NODE_VERSION` then
`FROM node:${NODE_VERSION}`: the build fails on the empty tag unless the
caller passes `--build-arg NODE_VERSION=…`, so the caller pins it), and for
a bare `COPY --from=name` (`copy-from-unknown-stage` reports that).

## Why is this bad?
`latest` is whatever the publisher pushed last. Two builds of the same
commit can get different operating systems, language versions and
vulnerabilities; a release that breaks the app arrives without any change
in the repository, and a compromised publisher account reaches every build.
A version tag makes upgrades a reviewed change; a digest also guards against
a re-pushed tag.

## Example
```dockerfile
FROM node
WORKDIR /app
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
```
or, reproducibly, `FROM node:22-slim@sha256:<digest>` (Dependabot and Renovate
keep digests current).

## Fix safety
No fix: which version the application is tested against is not in the
Dockerfile.

## Equivalents
hadolint: DL3006 (always tag the version of an image explicitly) and DL3007
(using latest is prone to errors), which also report `FROM <stage>` names
that look like images and do not expand ARGs. BuildKit checks: none.
"#,
};

impl Rule for UnpinnedBaseImage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for stage in ctx.model.stages.iter().filter(|s| s.reaches_target) {
            let StageBase::Image {
                reference,
                raw,
                unresolved,
                image: Some(image),
                ..
            } = &stage.base
            else {
                continue;
            };
            if stage.base.is_scratch() || !unresolved.is_empty() || !image.is_latest_or_untagged() {
                continue;
            }
            let written = if raw.text.contains('$') {
                format!("`FROM {}` resolves to `{reference}`, so", raw.text)
            } else if image.tag.is_some() {
                format!("`FROM {}` follows `latest`, so", raw.text)
            } else {
                format!("`FROM {}` has no tag, so", raw.text)
            };
            sink.report(raw.range, floating_message(&written, image), None);
        }
        for edge in &ctx.model.edges {
            if edge.kind == EdgeKind::Base || !ctx.model.reaches_target(edge.stage) {
                continue;
            }
            let StageRef::Image(name) = &edge.target else {
                continue;
            };
            // A bare word is more likely a misspelt stage (LC101 reports it).
            if !name.contains(['/', ':', '.']) || !edge.name.unresolved.is_empty() {
                continue;
            }
            let Some(image) = ImageRef::parse(name) else {
                continue;
            };
            if !image.is_latest_or_untagged() {
                continue;
            }
            let flag = if edge.kind == EdgeKind::CopyFrom {
                "COPY --from"
            } else {
                "RUN --mount=…,from"
            };
            let how = if image.tag.is_some() {
                "follows `latest`"
            } else {
                "has no tag"
            };
            let written = format!("`{flag}={name}` {how}, so");
            sink.report(edge.name.range, floating_message(&written, &image), None);
        }
    }
}

fn floating_message(written: &str, image: &ImageRef) -> String {
    let mut repository = image.repository.clone();
    if let Some(registry) = &image.registry {
        repository = format!("{registry}/{repository}");
    }
    let example = example_tag(image.name())
        .map(|tag| format!("`{repository}:{tag}`"))
        .unwrap_or_else(|| format!("`{repository}:<version>`"));
    format!(
        "{written} each build gets whatever `{repository}:latest` is that day; pin a version tag such as {example}, or a digest (`{repository}:<tag>@sha256:<digest>`)"
    )
}

/// A current, well-known tag to show as an example for common images.
fn example_tag(name: &str) -> Option<&'static str> {
    Some(match name {
        "node" => "22-slim",
        "python" => "3.12-slim",
        "golang" => "1.23",
        "rust" => "1.83",
        "debian" => "bookworm-slim",
        "ubuntu" => "24.04",
        "alpine" => "3.20",
        "nginx" => "1.27",
        "eclipse-temurin" => "21-jre",
        "ruby" => "3.3-slim",
        "php" => "8.3-fpm",
        "postgres" => "16",
        "redis" => "7",
        "busybox" => "1.36",
        _ => return None,
    })
}
