use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};

/// BuildKit's parser rejects the file.
pub struct ParseError;

static META: RuleMeta = RuleMeta {
    code: "LC001",
    name: "parse-error",
    category: Category::Correctness,
    default_severity: Severity::Error,
    summary: "BuildKit cannot parse the Dockerfile",
    doc: r#"## What it does
Reports what BuildKit's Dockerfile parser rejects: an unterminated heredoc,
`ENV` or `LABEL` without a value, a JSON array with non-strings, a repeated
or invalid parser directive, a file with no instructions.

## Why is this bad?
`docker build` stops before the first step. layercake still reads the rest of
the file and reports what else it finds.

## Example
```dockerfile
FROM alpine
ENV DEBUG
```

## Use instead
```dockerfile
FROM alpine
ENV DEBUG=1
```

## Fix safety
No fix: what was meant cannot be known.

## Equivalents
hadolint: DL1000 (hadolint's own parser, which rejects more than BuildKit).
BuildKit: the parse error `docker build` prints.
"#,
};

impl Rule for ParseError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for error in &ctx.dockerfile.errors {
            let mut message = error.message.clone();
            if let Some(first) = message.get(..1) {
                message.replace_range(..1, &first.to_uppercase());
            }
            sink.report(error.range, message, None);
        }
    }
}
