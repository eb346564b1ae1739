use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::similar::closest;
use layercake_syntax::Keyword;

/// An instruction word Docker does not know.
pub struct UnknownInstruction;

static META: RuleMeta = RuleMeta {
    code: "LC510",
    name: "unknown-instruction",
    category: Category::Correctness,
    default_severity: Severity::Error,
    summary: "An instruction word Docker does not know",
    doc: r#"## What it does
Reports an instruction whose first word is not a Dockerfile instruction
(`FROM`, `RUN`, `COPY`, …), with the closest known word when there is one.

## Why is this bad?
BuildKit's parser keeps unknown words (so the rest of the file still
parses), but building fails at once with `unknown instruction`. It is usually
a typo (`RUNN`, `COPPY`) or a line that lost its continuation `\`.

## Example
```dockerfile
FROM alpine:3.20
RUN apk add --no-cache curl
    wget
```

## Use instead
```dockerfile
FROM alpine:3.20
RUN apk add --no-cache curl \
    wget
```

## Fix safety
No fix: a typo and a lost continuation need different edits.

## Equivalents
hadolint: DL1000 for some (its parser rejects the file). BuildKit: the build
error `unknown instruction`.
"#,
};

const KNOWN: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

impl Rule for UnknownInstruction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for instruction in &ctx.dockerfile.instructions {
            if instruction.keyword != Keyword::Unknown {
                continue;
            }
            let word = &instruction.keyword_word.text;
            let message = match closest(word, KNOWN, 2) {
                Some(known) => {
                    format!(
                        "{} is not a Dockerfile instruction, so the build fails; did you mean `{known}`?",
                        code_span(word)
                    )
                }
                None => format!(
                    "{} is not a Dockerfile instruction, so the build fails; if it continues the line above, that line lacks a `\\` at its end",
                    code_span(word)
                ),
            };
            sink.report(instruction.keyword_word.range, message, None);
        }
    }
}
