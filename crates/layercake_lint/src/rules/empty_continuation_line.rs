use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::TextRange;

/// An empty line inside an instruction continued with `\`.
pub struct EmptyContinuationLine;

static META: RuleMeta = RuleMeta {
    code: "LC002",
    name: "empty-continuation-line",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "An empty line inside an instruction continued with `\\`, which BuildKit will reject",
    doc: r#"## What it does
Reports an instruction continued over several lines with the escape
character (`\`) that has an empty line in the middle.

## Why is this bad?
BuildKit skips the empty line today and warns that it will reject it in a
future release. To a reader, the empty line looks like the end of the
instruction, and the line after it like a new one.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && \

    apt-get install -y --no-install-recommends curl
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && \
    apt-get install -y --no-install-recommends curl
```

## Fix safety
The fix deletes the empty lines. It is safe: BuildKit ignores them.

## Equivalents
hadolint: none. BuildKit: `NoEmptyContinuation`.
"#,
};

impl Rule for EmptyContinuationLine {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for warning in &ctx.dockerfile.warnings {
            if !warning.message.starts_with("empty continuation line") {
                continue;
            }
            let empty = empty_lines(ctx.source, warning.range);
            if empty.is_empty() {
                continue;
            }
            let lines: Vec<String> = empty
                .iter()
                .map(|r| ctx.line_of(r.start()).to_string())
                .collect();
            let (noun, list) = match lines.as_slice() {
                [one] => ("line", one.clone()),
                _ => ("lines", lines.join(", ")),
            };
            let them = if empty.len() == 1 { "it" } else { "them" };
            let message = format!(
                "Empty {noun} {list} inside this continued instruction: BuildKit skips {them} today and will reject {them} in a future release; delete {them}"
            );
            let fix = Fix {
                description: format!("Delete the empty {noun}"),
                edits: empty
                    .iter()
                    .map(|range| Edit {
                        range: *range,
                        replacement: String::new(),
                    })
                    .collect(),
                applicability: Applicability::Safe,
            };
            sink.report(warning.range, message, Some(fix));
        }
    }
}

/// The whitespace-only lines after the first line of `range`, each with its
/// line break.
fn empty_lines(source: &str, range: TextRange) -> Vec<TextRange> {
    let Some(text) = source.get(range.start()..range.end()) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut at = range.start();
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let start = at;
        at += line.len();
        if number > 0 && line.trim().is_empty() && line.ends_with('\n') {
            lines.push(TextRange::new(start, at));
        }
    }
    lines
}
