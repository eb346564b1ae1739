use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};

/// `FROM --platform=linux/amd64`: a stage pinned to one platform.
pub struct FromPlatformConstant;

static META: RuleMeta = RuleMeta {
    code: "LC512",
    name: "from-platform-constant",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "`FROM --platform=` with a constant platform pins the stage to one architecture",
    doc: r#"## What it does
Reports `FROM --platform=<value>` where the value is a constant
(`linux/amd64`) rather than a variable such as `$BUILDPLATFORM` or
`$TARGETPLATFORM`. A stage whose name contains the platform's architecture
or OS (`AS build-amd64`) is left alone: that is the pattern of one stage per
platform picked by `FROM build-${TARGETARCH}`.

## Why is this bad?
The stage is built for that platform whatever the build asks for: a
multi-platform build (`--platform linux/amd64,linux/arm64`) ships the
amd64 stage in the arm64 image, and a build on an arm64 machine runs the
stage under emulation, slowly, or fails where emulation is not installed.

## Example
```dockerfile
FROM --platform=linux/amd64 golang:1.22 AS build
```

## Use instead
```dockerfile
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
```
or no `--platform` at all, with the platform given to `docker build`.

## Fix safety
No fix: whether the stage should run on the build machine
(`$BUILDPLATFORM`) or the target (`$TARGETPLATFORM`, the default) is the
author's choice.

## Equivalents
hadolint: DL3029 (which reports every `--platform`, variables included).
BuildKit: `FromPlatformFlagConstDisallowed`.
"#,
};

impl Rule for FromPlatformConstant {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for stage in &ctx.model.stages {
            let Some(platform) = &stage.platform else {
                continue;
            };
            let written = platform.written.trim();
            if written.is_empty() || written.contains('$') {
                continue;
            }
            let stage_name = stage
                .name
                .as_ref()
                .map(|n| n.normalized.to_ascii_lowercase())
                .unwrap_or_default();
            let names_platform = written
                .to_ascii_lowercase()
                .split('/')
                .take(2)
                .any(|part| !part.is_empty() && stage_name.contains(part));
            if names_platform {
                continue;
            }
            sink.report(
                platform.range,
                format!(
                    "{} pins this stage to one platform: a multi-platform build ships it in every image, and another machine runs it under emulation; use `$BUILDPLATFORM` for build steps, or leave `--platform` out and give the platform to the build",
                    code_span(&format!("--platform={written}"))
                ),
                None,
            );
        }
    }
}
