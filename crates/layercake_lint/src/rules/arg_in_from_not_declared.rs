use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::similar::edit_distance;
use layercake_model::{EdgeKind, ExpandedValue};
use layercake_syntax::{Args, Keyword, TextRange};

/// A FROM uses `$VAR` that no global ARG declares.
pub struct ArgInFromNotDeclared;

static META: RuleMeta = RuleMeta {
    code: "LC506",
    name: "arg-in-from-not-declared",
    category: Category::Correctness,
    default_severity: Severity::Error,
    summary: "A FROM uses a variable that no ARG before the first FROM declares",
    doc: r#"## What it does
Reports a variable in a `FROM` image or `--platform` that is not a global
ARG (an `ARG` before the first `FROM`) nor one of BuildKit's automatic
platform ARGs. Uses with a default (`${BASE:-alpine}`) are left alone.

## Why is this bad?
FROM lines see only the global ARGs. An undeclared variable expands to an
empty string, so `FROM node:${NODE_VERSION}-slim` becomes `node:-slim` and
the build fails, and `--build-arg NODE_VERSION=22` does not help: a build
argument only sets an ARG that is declared. An `ARG` written inside a stage
is not visible to any FROM, not even the next one.

## Example
```dockerfile
FROM node:${NODE_VERSION}-slim
ARG NODE_VERSION=22
```

## Use instead
```dockerfile
ARG NODE_VERSION=22
FROM node:${NODE_VERSION}-slim
```

## Fix safety
The fix declares the missing names before the first FROM, with the default
of a same-named ARG inside a stage when there is one. It is unsafe: the
value the FROM sees changes, and without a default the build still needs a
`--build-arg`. When a global ARG with a similar name exists, the message
suggests it and no fix is offered.

## Equivalents
hadolint: none. BuildKit: `UndefinedArgInFrom`.
"#,
};

impl Rule for ArgInFromNotDeclared {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let mut problems: Vec<(&ExpandedValue, String)> = Vec::new();
        for stage in &ctx.model.stages {
            let base = ctx
                .model
                .edges_from(stage.index)
                .find(|e| e.kind == EdgeKind::Base)
                .map(|e| &e.name);
            for value in base.into_iter().chain(stage.platform.as_ref()) {
                for name in &value.unresolved {
                    if uses_without_default(&value.written, name)
                        && !problems
                            .iter()
                            .any(|(v, n)| std::ptr::eq(*v, value) && n == name)
                    {
                        problems.push((value, name.clone()));
                    }
                }
            }
        }
        problems.sort_by_key(|(value, _)| value.range.start());
        let mut missing: Vec<&str> = Vec::new();
        for (_, name) in &problems {
            if similar_global_arg(ctx, name).is_none() && !missing.contains(&name.as_str()) {
                missing.push(name);
            }
        }
        let fix = declare_fix(ctx, &missing);
        for (value, name) in &problems {
            let mut message = format!(
                "`{name}` is not declared by an ARG before the first FROM, so `{}` expands it to an empty string",
                value.written
            );
            let similar = similar_global_arg(ctx, name);
            if let Some(similar) = &similar {
                message.push_str(&format!("; did you mean `{similar}`?"));
            } else if let Some(line) = stage_arg(ctx, name).map(|(line, _)| line) {
                message.push_str(&format!(
                    "; the `ARG {name}` on line {line} is inside a stage, which FROM lines cannot see"
                ));
            }
            let fix = if similar.is_none() { fix.clone() } else { None };
            sink.report(value.range, message, fix);
        }
    }
}

/// Whether `written` uses `name` somewhere without a default or alternative
/// (`${NAME:-x}`, `${NAME-x}`, `${NAME:+x}`, `${NAME+x}` are deliberate).
pub(crate) fn uses_without_default(written: &str, name: &str) -> bool {
    let mut rest = written;
    let mut found_any = false;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            if let Some(tail) = braced.strip_prefix(name)
                && !tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                found_any = true;
                let guarded = [":-", "-", ":+", "+"].iter().any(|op| tail.starts_with(op));
                if !guarded {
                    return true;
                }
            }
        } else if let Some(tail) = after.strip_prefix(name)
            && !tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            return true;
        }
        rest = after;
    }
    // Could not find it (escapes, odd syntax): trust the model.
    !found_any
}

/// A global ARG whose name is one or two edits away (a typo).
fn similar_global_arg(ctx: &LintContext<'_>, name: &str) -> Option<String> {
    ctx.model
        .global_args
        .keys()
        .filter(|k| k.as_str() != name)
        .map(|k| (edit_distance(&k.to_lowercase(), &name.to_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// The first ARG inside a stage that declares `name`: its line and default.
fn stage_arg(ctx: &LintContext<'_>, name: &str) -> Option<(usize, Option<String>)> {
    ctx.dockerfile
        .instructions
        .iter()
        .enumerate()
        .filter(|(i, x)| x.keyword == Keyword::Arg && ctx.model.stage_of_instruction(*i).is_some())
        .find_map(|(_, instruction)| match &instruction.args {
            Args::KeyValues(pairs) => pairs.iter().find(|p| p.key.text == name).map(|p| {
                (
                    ctx.line_of(instruction.range.start()),
                    p.value.as_ref().map(|v| v.text.clone()),
                )
            }),
            _ => None,
        })
}

/// Declares the missing names on the lines before the first FROM.
fn declare_fix(ctx: &LintContext<'_>, names: &[&str]) -> Option<Fix> {
    if names.is_empty() {
        return None;
    }
    let first_from = ctx.model.stages.first()?.from_instruction;
    let from = ctx.dockerfile.instructions.get(first_from)?;
    let at = ctx.line_index.line_start(ctx.line_of(from.range.start()));
    let lines: String = names
        .iter()
        .map(|name| match stage_arg(ctx, name).and_then(|(_, d)| d) {
            Some(default) => format!("ARG {name}={default}\n"),
            None => format!("ARG {name}\n"),
        })
        .collect();
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Fix {
        description: format!("Declare {list} before the first FROM"),
        edits: vec![Edit {
            range: TextRange::empty(at),
            replacement: lines,
        }],
        applicability: Applicability::Unsafe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_deliberate() {
        assert!(uses_without_default("node:${V}-slim", "V"));
        assert!(uses_without_default("node:$V", "V"));
        assert!(uses_without_default("${V:-a}/$V", "V"));
        assert!(!uses_without_default("${V:-alpine}", "V"));
        assert!(!uses_without_default("${BASE-alpine}", "BASE"));
        assert!(uses_without_default("${VERSION}-${V:-x}", "VERSION"));
        assert!(!uses_without_default("${VERSION}-${V:-x}", "V"));
    }
}
