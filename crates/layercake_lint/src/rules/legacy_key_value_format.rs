use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Args, Keyword};

/// `ENV key value` / `LABEL key value`: the legacy space-separated form.
pub struct LegacyKeyValueFormat;

static META: RuleMeta = RuleMeta {
    code: "LC514",
    name: "legacy-key-value-format",
    category: Category::Correctness,
    default_severity: Severity::Info,
    summary: "`ENV key value` or `LABEL key value` in the legacy form instead of `key=value`",
    doc: r#"## What it does
Reports `ENV` and `LABEL` written in the legacy form, a key and a value
separated by whitespace, instead of `key=value`.

## Why is this bad?
The legacy form sets one variable to the whole rest of the line:
`ENV PATH /opt/bin PATH2 /x` sets `PATH` to `/opt/bin PATH2 /x`, where the
`key=value` form would set two. It cannot set several keys in one
instruction, and Docker's documentation marks it deprecated.

## Example
```dockerfile
FROM debian:bookworm-slim
ENV LANG C.UTF-8
LABEL maintainer Jane Doe
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
ENV LANG=C.UTF-8
LABEL maintainer="Jane Doe"
```

## Fix safety
The fix rewrites the pair as `key=value`, in double quotes when the value
holds whitespace (a value that is one quoted string is kept as written). It
is safe: the value stays the same. Any other value with quotes, backslashes
or backquotes gets no fix, because the two forms can read those differently.

## Equivalents
hadolint: none. BuildKit: `LegacyKeyValueFormat`.
"#,
};

impl Rule for LegacyKeyValueFormat {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for instruction in &ctx.dockerfile.instructions {
            if !matches!(instruction.keyword, Keyword::Env | Keyword::Label) {
                continue;
            }
            let Args::KeyValues(pairs) = &instruction.args else {
                continue;
            };
            for pair in pairs.iter().filter(|p| p.legacy) {
                let key = &pair.key.text;
                // `ENV PATH` alone is a parse error (LC001), not a legacy pair.
                let Some(value) = pair.value.as_ref().map(|v| v.text.as_str()) else {
                    continue;
                };
                if value.trim().is_empty() {
                    continue;
                }
                let rewritten = rewrite(key, value, ctx.dockerfile.escape);
                let keyword = instruction.keyword.as_str();
                let message = format!(
                    "{} uses the legacy `{keyword} key value` form, which takes the rest of the line as one value; write {}",
                    code_span(&format!("{keyword} {key} {value}")),
                    code_span(&format!(
                        "{keyword} {}",
                        rewritten.as_deref().unwrap_or("key=value")
                    ))
                );
                let fix = rewritten.map(|replacement| Fix {
                    description: format!("Rewrite as {}", code_span(&replacement)),
                    edits: vec![Edit {
                        range: pair.range,
                        replacement,
                    }],
                    applicability: Applicability::Safe,
                });
                sink.report(pair.range, message, fix);
            }
        }
    }
}

/// `key=value`, the value in double quotes when it holds whitespace; `None`
/// when quoting could change what the value means.
fn rewrite(key: &str, value: &str, escape: char) -> Option<String> {
    // One quoted string, `"a b"` or `'a b'`, reads the same in both forms.
    let quoted = ['"', '\''].iter().any(|&q| {
        value.len() >= 2
            && value.starts_with(q)
            && value.ends_with(q)
            && !value[1..value.len() - 1].contains([q, '\\', '`', escape, '\n'])
    });
    if quoted {
        return Some(format!("{key}={value}"));
    }
    if value.contains(['"', '\'', '\\', '`', escape, '\n']) {
        return None;
    }
    if value.is_empty() || value.contains(char::is_whitespace) {
        Some(format!("{key}=\"{value}\""))
    } else {
        Some(format!("{key}={value}"))
    }
}
