use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::arg_in_from_not_declared::uses_without_default;
use layercake_model::EdgeKind;

/// `ARG TAG` without a default, used in `FROM image:$TAG`.
pub struct FromArgWithoutDefault;

static META: RuleMeta = RuleMeta {
    code: "LC513",
    name: "from-arg-without-default",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "A FROM uses a global ARG without a default, so it names no image unless `--build-arg` sets it",
    doc: r#"## What it does
Reports a `FROM` whose image uses a global ARG (declared before the first
`FROM`) that has no default value, when the image reference it expands to
with that ARG empty is not a valid one (`alpine:`, an empty name). A use
with its own default (`${TAG:-3.20}`) is left alone.

## Why is this bad?
Without `--build-arg TAG=…` the ARG is empty, `FROM alpine:$TAG` becomes
`FROM alpine:`, and the build fails with an invalid reference. A default
documents the version the Dockerfile is written for and lets a plain
`docker build` work; `--build-arg` still overrides it.

## Example
```dockerfile
ARG ALPINE_VERSION
FROM alpine:${ALPINE_VERSION}
```

## Use instead
```dockerfile
ARG ALPINE_VERSION=3.20
FROM alpine:${ALPINE_VERSION}
```

## Fix safety
No fix: which default is right is for the author to say.

## Equivalents
hadolint: none. BuildKit: `InvalidDefaultArgInFrom`.
"#,
};

impl Rule for FromArgWithoutDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for stage in &ctx.model.stages {
            let Some(edge) = ctx
                .model
                .edges_from(stage.index)
                .find(|e| e.kind == EdgeKind::Base)
            else {
                continue;
            };
            let image = &edge.name;
            let without_default: Vec<&String> = ctx
                .model
                .global_args
                .iter()
                .filter(|(name, default)| {
                    default.is_none() && mentions(&image.written, name) && {
                        uses_without_default(&image.written, name)
                    }
                })
                .map(|(name, _)| name)
                .collect();
            let Some(name) = without_default.first() else {
                continue;
            };
            if is_valid_reference(&image.value) {
                continue;
            }
            let expanded = if image.value.is_empty() {
                "an empty image name".to_string()
            } else {
                code_span(&image.value)
            };
            sink.report(
                image.range,
                format!(
                    "`ARG {name}` has no default, so without `--build-arg {name}=…` this FROM is {expanded}, not an image, and the build fails; give the ARG a default"
                ),
                None,
            );
        }
    }
}

/// Whether `$NAME` or `${NAME…}` occurs in `written`.
fn mentions(written: &str, name: &str) -> bool {
    written.match_indices('$').any(|(at, _)| {
        let after = &written[at + 1..];
        let after = after.strip_prefix('{').unwrap_or(after);
        after
            .strip_prefix(name)
            .is_some_and(|tail| !tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// Whether an expanded FROM value can be an image reference: not empty, no
/// empty tag, digest or path part.
fn is_valid_reference(value: &str) -> bool {
    let edges = |c: char| ":@/-._".contains(c);
    !value.is_empty()
        && !value.starts_with(edges)
        && !value.ends_with(edges)
        && !["::", ":@", "//", "/:", ":/", "@:"]
            .iter()
            .any(|bad| value.contains(bad))
}
