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
with that ARG empty is not a valid one by Docker's reference grammar
(`alpine:`, an empty name, `docker:-dind` where a tag cannot start with
`-`). A use with its own default (`${TAG:-3.20}`) is left alone.

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

/// Whether BuildKit reads an expanded FROM value as an image reference, by
/// Docker's reference grammar: `[host[:port]/]path[:tag][@digest]`, path
/// components of lowercase letters and digits joined by `.`, `_`, `__` or
/// dashes, a tag of letters, digits, `_`, `.` and `-` that starts with
/// neither of the last two, a digest `algorithm:hex`. `docker:-dind` (a tag
/// starting with `-`), `alpine:`, `my-image-` and `/base` are not references.
fn is_valid_reference(value: &str) -> bool {
    const MAX_NAME: usize = 255;
    const MAX_TAG: usize = 128;
    let (rest, digest) = match value.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (value, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    // Docker takes the first component for a registry host when it looks
    // like one; otherwise the whole name is a path on Docker Hub.
    let (host, path) = match name.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), path)
        }
        _ => (None, name),
    };
    let is_identifier = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
    !is_identifier
        && name.len() <= MAX_NAME
        && host.is_none_or(is_host_and_port)
        && !path.is_empty()
        && path.split('/').all(is_path_component)
        && tag.is_none_or(|t| {
            t.len() <= MAX_TAG
                && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        })
        && digest.is_none_or(is_digest)
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn is_path_component(component: &str) -> bool {
    let is_alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !component.is_empty()
        && component.starts_with(is_alphanumeric)
        && component.ends_with(is_alphanumeric)
        && component
            .split(is_alphanumeric)
            .all(|sep| matches!(sep, "" | "." | "_" | "__") || sep.bytes().all(|b| b == b'-'))
}

/// A registry host (DNS labels joined by `.`, or a bracketed IPv6 address)
/// with an optional numeric port.
fn is_host_and_port(host: &str) -> bool {
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) if !h.starts_with('[') || h.ends_with(']') => (h, Some(p)),
        _ => (host, None),
    };
    let is_label = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => !ipv6.is_empty() && ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':'),
        None => host.split('.').all(is_label),
    };
    host_ok && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `algorithm:hex`, the algorithm `[A-Za-z][A-Za-z0-9]*` parts joined by
/// `-`, `_`, `+` or `.`, at least 32 hex digits.
fn is_digest(digest: &str) -> bool {
    const MIN_HEX: usize = 32;
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    algorithm.split(['-', '_', '+', '.']).all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    }) && hex.len() >= MIN_HEX
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::is_valid_reference;

    #[test]
    fn reads_references_as_docker_does() {
        for valid in [
            "alpine",
            "alpine:3.20",
            "python:3.12-slim",
            "docker:dind",
            "library/alpine:latest",
            "ghcr.io/owner/image:v1.2_3",
            "localhost:5000/app",
            "localhost:5000",
            "Registry.Example.com/app:1",
            "[::1]:5000/app:1",
            "my__image/a-b--c.d_e:1",
            "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_valid_reference(valid), "{valid} is a reference");
        }
        for invalid in [
            "",
            "alpine:",
            "docker:-dind",
            "docker:.1",
            "my-image-",
            "-base:1",
            "/base",
            "base/",
            "a//b",
            "Alpine:3.20",
            "app:1@",
            "alpine@sha256:abc",
            "alpine@:0123456789abcdef0123456789abcdef",
            "my___image",
            "my..image",
            "bad-.host/app",
            "host:port/app",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(!is_valid_reference(invalid), "{invalid} is no reference");
        }
    }
}
