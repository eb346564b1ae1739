use crate::code_span;
use crate::finding::{Applicability, Category, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Args, Instruction, Keyword};

/// `COPY . .` with `.git/` and `node_modules/` in the context and no `.dockerignore`.
pub struct MissingDockerignore;

static META: RuleMeta = RuleMeta {
    code: "LC205",
    name: "missing-dockerignore",
    category: Category::Cache,
    default_severity: Severity::Warning,
    summary: "The whole build context is copied and there is no .dockerignore to keep out .git, dependencies and build output",
    doc: r#"## What it does
Reports a `COPY .` (or `ADD .`) of the whole build context, in a stage the
target needs, when the context has no `.dockerignore` (nor a
`<Dockerfile>.dockerignore` next to the Dockerfile) and holds what should
not be sent: `.git/`, `node_modules/`, `target/`, a virtualenv (`.venv/`,
`venv/`), build output (`dist/`, `build/`) or a `.env` file. It needs to see
the build context, so it runs from `layercake lint` on files, not on text
alone.

## Why is this bad?
Everything in the context is sent to the builder and, with `COPY . .`,
lands in the image. `.git/` changes with every commit, so the COPY layer
and every step after it miss the cache on every build even when no source
changed; `node_modules/` or `target/` are large and built for the host, not
the image; a `.env` file puts secrets into a layer.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
```
in a directory holding `.git/` and `node_modules/`, with no `.dockerignore`.

## Use instead
A `.dockerignore` next to the Dockerfile:
```text
.git
node_modules
dist
.env
```

## Fix safety
The fix is display-only: it lists what to put in a new `.dockerignore`;
layercake does not create files.

## Equivalents
hadolint: none. BuildKit checks: none.
"#,
};

/// Top-level names that should stay out of the build context, and why.
const UNWANTED: &[(&str, &str)] = &[
    (".git/", "changes on every commit"),
    ("node_modules/", "host-built dependencies"),
    ("target/", "build output"),
    (".venv/", "a virtualenv"),
    ("venv/", "a virtualenv"),
    ("dist/", "build output"),
    ("build/", "build output"),
    (".env", "secrets"),
    (".env/", "a virtualenv"),
];

impl Rule for MissingDockerignore {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let Some(context) = ctx.build_context else {
            return;
        };
        if context.dockerignore.is_some() {
            return;
        }
        let found: Vec<&(&str, &str)> = UNWANTED
            .iter()
            .filter(|(name, _)| context.entries.iter().any(|e| e == name))
            .collect();
        if found.is_empty() {
            return;
        }
        let copy = ctx
            .model
            .stages
            .iter()
            .filter(|s| s.reaches_target)
            .flat_map(|s| s.instructions.clone())
            .filter_map(|i| ctx.dockerfile.instructions.get(i))
            .find(|i| copies_whole_context(i));
        let Some(copy) = copy else {
            return;
        };
        let listed: Vec<String> = found
            .iter()
            .map(|(name, why)| format!("`{name}` ({why})"))
            .collect();
        let message = format!(
            "{} copies the whole build context {}, which has no .dockerignore: {} are sent to the builder and copied into the image",
            code_span(
                copy.range
                    .slice(ctx.source)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
            ),
            code_span(&context.dir),
            listed.join(", ")
        );
        let lines: Vec<&str> = found
            .iter()
            .map(|(name, _)| name.trim_end_matches('/'))
            .collect();
        let fix = Fix {
            description: format!(
                "Create {}/.dockerignore with the lines: {}",
                context.dir.trim_end_matches('/'),
                lines.join(", ")
            ),
            edits: Vec::new(),
            applicability: Applicability::DisplayOnly,
        };
        sink.report(copy.range, message, Some(fix));
    }
}

/// A COPY/ADD from the build context of everything at its root.
fn copies_whole_context(instruction: &Instruction) -> bool {
    if !matches!(instruction.keyword, Keyword::Copy | Keyword::Add)
        || instruction.flag("from").is_some()
    {
        return false;
    }
    let Args::Files {
        sources,
        dest: Some(_),
        ..
    } = &instruction.args
    else {
        return false;
    };
    sources
        .iter()
        .any(|s| matches!(s.text.as_str(), "." | "./" | "*" | "./*" | "./." | "/"))
}
