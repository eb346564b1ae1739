use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Keyword, TextRange};

/// An instruction other than ARG before the first FROM, or no FROM at all.
pub struct InstructionBeforeFrom;

static META: RuleMeta = RuleMeta {
    code: "LC509",
    name: "instruction-before-from",
    category: Category::Correctness,
    default_severity: Severity::Error,
    summary: "An instruction other than ARG before the first FROM, or no FROM at all",
    doc: r#"## What it does
Reports the first instruction other than `ARG` that comes before the first
`FROM`, and a Dockerfile with no `FROM` at all.

## Why is this bad?
BuildKit's parser accepts such a file, but building it fails: an instruction
before `FROM` has no stage to belong to (`no build stage in current
context`), and a file without `FROM` has nothing to build. Only `ARG` may
come first, to parameterise the `FROM` lines.

## Example
```dockerfile
ENV NODE_ENV=production
FROM node:22-slim
```

## Use instead
```dockerfile
FROM node:22-slim
ENV NODE_ENV=production
```

## Fix safety
No fix: where the instruction belongs is for a person to decide.

## Equivalents
hadolint: DL3061 (invalid instruction order). BuildKit: the build error
`no build stage in current context`.
"#,
};

impl Rule for InstructionBeforeFrom {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let instructions = &ctx.dockerfile.instructions;
        let first_from = instructions.iter().position(|i| i.keyword == Keyword::From);
        let before = &instructions[..first_from.unwrap_or(instructions.len())];
        // An unknown word is LC510's finding (BuildKit stops at it first).
        if let Some(early) = before
            .iter()
            .find(|i| !matches!(i.keyword, Keyword::Arg | Keyword::Unknown))
        {
            let message = match first_from {
                Some(_) => format!(
                    "{} comes before the first FROM, so it belongs to no stage and the build fails (`no build stage in current context`); only ARG may come first",
                    code_span(&early.keyword_word.text)
                ),
                None => format!(
                    "{} and everything else here belongs to no stage: the Dockerfile has no FROM, so the build fails",
                    code_span(&early.keyword_word.text)
                ),
            };
            sink.report(early.keyword_word.range, message, None);
        } else if first_from.is_none() && !instructions.is_empty() {
            let start = instructions.first().map_or(0, |i| i.range.start());
            let message = "The Dockerfile has no FROM, so there is nothing to build";
            sink.report(TextRange::empty(start), message, None);
        }
    }
}
