use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Keyword, TextRange};

/// A CMD, ENTRYPOINT or HEALTHCHECK that a later one of the same stage overrides.
pub struct MultipleCmdOrEntrypoint;

static META: RuleMeta = RuleMeta {
    code: "LC504",
    name: "multiple-cmd-or-entrypoint",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "A stage has more than one CMD, ENTRYPOINT or HEALTHCHECK, and only the last takes effect",
    doc: r#"## What it does
Reports every `CMD`, `ENTRYPOINT` or `HEALTHCHECK` that a later instruction
of the same kind in the same stage overrides.

## Why is this bad?
An image has one command, one entrypoint and one health check: each of these
instructions replaces what the previous one set, so only the last of a stage
counts. The earlier ones are dead code that looks alive, typically a leftover
from an edit or a misunderstanding (two `CMD`s do not run two processes).

## Example
```dockerfile
FROM python:3.12-slim
CMD ["python", "migrate.py"]
CMD ["gunicorn", "app:app"]
```

## Use instead
```dockerfile
FROM python:3.12-slim
CMD ["gunicorn", "app:app"]
```
To run several steps, use an entrypoint script that runs them and ends with
`exec "$@"`.

## Fix safety
The fix deletes the overridden instruction. It is safe: the built image is
the same.

## Equivalents
hadolint: DL4003 (multiple CMD), DL4004 (multiple ENTRYPOINT), DL3012
(multiple HEALTHCHECK). BuildKit:
`MultipleInstructionsDisallowed`.
"#,
};

impl Rule for MultipleCmdOrEntrypoint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let instructions = &ctx.dockerfile.instructions;
        for stage in &ctx.model.stages {
            for keyword in [Keyword::Cmd, Keyword::Entrypoint, Keyword::Healthcheck] {
                let of_kind: Vec<usize> = stage
                    .instructions
                    .clone()
                    .filter(|&i| instructions.get(i).is_some_and(|x| x.keyword == keyword))
                    .collect();
                let Some((&last, earlier)) = of_kind.split_last() else {
                    continue;
                };
                let Some(last) = instructions.get(last) else {
                    continue;
                };
                let last_line = ctx.line_of(last.range.start());
                for &index in earlier {
                    let Some(instruction) = instructions.get(index) else {
                        continue;
                    };
                    let name = keyword.as_str();
                    let message = format!(
                        "This {name} is overridden by the {name} on line {last_line} of the same stage, so it has no effect"
                    );
                    let fix = Fix {
                        description: format!("Delete the overridden {name}"),
                        edits: vec![Edit {
                            range: whole_lines(ctx, instruction.range),
                            replacement: String::new(),
                        }],
                        applicability: Applicability::Safe,
                    };
                    sink.report(instruction.range, message, Some(fix));
                }
            }
        }
    }
}

/// `range` widened to whole lines, with the final line break.
fn whole_lines(ctx: &LintContext<'_>, range: TextRange) -> TextRange {
    let start = ctx.line_index.line_start(ctx.line_of(range.start()));
    let end = ctx
        .source
        .get(range.end()..)
        .and_then(|rest| rest.find('\n'))
        .map_or(ctx.source.len(), |i| range.end() + i + 1);
    TextRange::new(start, end)
}
