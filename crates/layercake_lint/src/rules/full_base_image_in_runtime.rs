use crate::base_image::{ImageFamily, image_facts};
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, FindingSubject, LintContext, Rule, RuleMeta};
use crate::shipped_stages::shipped_stage_chain;
use layercake_model::StageBase;

/// The shipped image starts from a full image where a slim variant exists.
pub struct FullBaseImageInRuntime;

static META: RuleMeta = RuleMeta {
    code: "LC308",
    name: "full-base-image-in-runtime",
    category: Category::Size,
    default_severity: Severity::Info,
    summary: "The shipped image is built on a full base image where a slim variant exists",
    doc: r#"## What it does
Reports the base image of the shipped image (the build target's `FROM`,
followed through `FROM <stage>` chains) when it is the full variant of an
image that has a smaller one: `node:22` → `node:22-slim`, `python:3.12` →
`python:3.12-slim`, `ruby:3.3` → `ruby:3.3-slim`, `debian:bookworm` →
`debian:bookworm-slim`. The message also names the `-alpine` and distroless
alternatives.

Builder stages are left alone: a full image with compilers is the right base
for a stage whose files are only copied out.

## Why is this bad?
The full variants carry compilers, headers, version control and
documentation: several hundred megabytes that the running application does not
use, which every pull downloads and every scanner reports vulnerabilities in.
The `-slim` variant has the same runtime and libc, so it is usually a
drop-in change. `-alpine` is smaller still but uses musl libc (glibc-only
binaries and some native modules break); distroless images have no shell or
package manager at all.

## Example
```dockerfile
FROM node:22
WORKDIR /app
COPY . .
CMD ["node", "server.js"]
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY . .
CMD ["node", "server.js"]
```

## Fix safety
The fix replaces the image with its `-slim` tag. It is unsafe: a RUN step
that compiles native code, or a program that needs a tool only the full
image has (`git`, `make`, `curl`, `gcc`), fails or misbehaves until it is
installed or moved into a builder stage. No fix is offered when the image
is written with variables or pinned by digest.

## Equivalents
hadolint: none. BuildKit checks: none.
"#,
};

impl Rule for FullBaseImageInRuntime {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn subject(&self) -> FindingSubject {
        FindingSubject::Image
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let chain = shipped_stage_chain(ctx.model);
        let Some(root) = chain.last().and_then(|&i| ctx.model.stages.get(i)) else {
            return;
        };
        let StageBase::Image {
            reference,
            raw,
            image: Some(image),
            ..
        } = &root.base
        else {
            return;
        };
        let facts = image_facts(image);
        let tag = image.tag.as_deref().unwrap_or("latest");
        let debian = facts.family == ImageFamily::Distribution && image.name() == "debian";
        // buildpack-deps is a toolchain image (LC107's concern), and its
        // release has no slim twin of the same name.
        let language = matches!(
            facts.family,
            ImageFamily::Node | ImageFamily::Python | ImageFamily::Ruby
        );
        if !(facts.is_full_variant && language || debian)
            || tag.contains("windows")
            || tag.contains("nanoserver")
            || tag.contains("backports")
        {
            return;
        }
        let Some(mut slimmer) = facts.slimmer.clone() else {
            return;
        };
        if debian && tag == "latest" {
            slimmer = format!("{}:stable-slim", image.repository);
        }
        if let Some(registry) = &image.registry {
            slimmer = format!("{registry}/{slimmer}");
        }
        let via = if chain.len() > 1 {
            format!(
                " (through stage `{}`, which the target is built FROM)",
                root.name
                    .as_ref()
                    .map_or_else(|| root.index.to_string(), |n| n.written.text.clone())
            )
        } else {
            String::new()
        };
        let alternatives = match facts.family {
            ImageFamily::Node | ImageFamily::Python => {
                "; smaller still: an `-alpine` tag (musl libc: glibc-only binaries and some native modules break) or a distroless image (no shell, no package manager)"
            }
            _ => {
                "; smaller still: an `-alpine` image (musl libc: glibc-only binaries break) or a distroless image (no shell, no package manager)"
            }
        };
        // The full language images are built on buildpack-deps (compilers,
        // headers); full Debian has no compilers, only more of the rest.
        let extra = if debian {
            "with documentation, locales and tools"
        } else {
            "with compilers, headers and docs"
        };
        let message = format!(
            "The shipped image is built on the full `{reference}`{via}, {extra} the application does not run; `{slimmer}` has the same runtime{alternatives}"
        );
        let fix = (raw.text == *reference && image.digest.is_none()).then(|| Fix {
            description: format!("Use `{slimmer}`"),
            edits: vec![Edit {
                range: raw.range,
                replacement: slimmer.clone(),
            }],
            applicability: Applicability::Unsafe,
        });
        sink.report(raw.range, message, fix);
    }
}
