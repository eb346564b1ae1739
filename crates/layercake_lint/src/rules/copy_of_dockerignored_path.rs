use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_dockerignore::DockerIgnore;
use layercake_syntax::{Args, Keyword};

/// `COPY config/ …` while `.dockerignore` excludes `config`.
pub struct CopyOfDockerignoredPath;

static META: RuleMeta = RuleMeta {
    code: "LC206",
    name: "copy-of-dockerignored-path",
    category: Category::Cache,
    default_severity: Severity::Warning,
    summary: "A COPY names a path that .dockerignore keeps out of the build context",
    doc: r#"## What it does
Reports a source of `COPY` or `ADD` (from the build context, not `--from`)
that the `.dockerignore` excludes, matching as BuildKit does: patterns are
relative to the context root (a leading `/` is ignored), `*` and `?` stay
within one directory, `**` spans any number, a pattern that matches a
directory excludes everything in it, `!` lines re-include, and the last
matching line wins. The `<Dockerfile>.dockerignore` next to the Dockerfile
takes precedence over the context's `.dockerignore`. Sources with wildcards
or unresolved variables, and directories with re-included content, are not
judged. A source that is the whole context (`COPY . .`) is reported when
the `.dockerignore` excludes every top-level entry of the context and
re-includes nothing (`*` alone): the COPY then copies nothing. It needs to
see the build context, so it runs from `layercake lint` on files, not on
text alone.

## Why is this bad?
An excluded path is never sent to the builder: the COPY fails with `"/x":
not found`, or, for a directory with a few re-included files, copies much
less than it seems to; `COPY . .` under a `.dockerignore` of `*` succeeds
and copies nothing. The Dockerfile and the `.dockerignore` disagree, and
the fix is to change one of them.

## Example
With a `.dockerignore` holding `config`:
```dockerfile
FROM python:3.12-slim
COPY config/ /etc/app/
```

## Use instead
Remove `config` from `.dockerignore`, or re-include what the image needs:
```text
config
!config/app.yml
```

## Fix safety
No fix: which of the two files is wrong is for a person to decide.

## Equivalents
hadolint: none. BuildKit: `CopyIgnoredFile`, which reports a COPY or ADD
source the `.dockerignore` excludes.
"#,
};

impl Rule for CopyOfDockerignoredPath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let Some((ignore_path, ignore_text)) =
            ctx.build_context.and_then(|c| c.dockerignore.as_ref())
        else {
            return;
        };
        let ignore = DockerIgnore::parse(ignore_text);
        if ignore.patterns().is_empty() {
            return;
        }
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if !matches!(instruction.keyword, Keyword::Copy | Keyword::Add)
                || instruction.flag("from").is_some()
                || ctx.model.stage_of_instruction(index).is_none()
            {
                continue;
            }
            let Args::Files {
                sources,
                dest: Some(_),
                ..
            } = &instruction.args
            else {
                continue;
            };
            for source in sources {
                let text = source.text.as_str();
                if text.starts_with("<<") || text.contains("://") || text.starts_with("git@") {
                    continue;
                }
                let path = if text.contains('$') {
                    match ctx.model.expand_at(index, text) {
                        Ok(expanded) if expanded.unmatched.is_empty() => expanded.value,
                        _ => continue,
                    }
                } else {
                    text.to_string()
                };
                if path.contains(['*', '?', '[']) || path.split('/').any(|p| p == "..") {
                    continue;
                }
                if is_context_root(&path) {
                    if let Some(pattern) = excludes_whole_context(ctx, &ignore) {
                        sink.report(
                            source.range,
                            format!(
                                "{} copies nothing: {} (line {} of {ignore_path}) excludes everything in the build context; re-include what the image needs with `!` lines",
                                code_span(text),
                                code_span(&pattern.written),
                                pattern.line,
                            ),
                            None,
                        );
                    }
                    continue;
                }
                let Some(pattern) = ignore.excluded_by(&path) else {
                    continue;
                };
                if ignore.may_reinclude_under(&path) {
                    continue;
                }
                sink.report(
                    source.range,
                    format!(
                        "{} is excluded by {} (line {} of {ignore_path}), so it is not in the build context and this {} fails with \"not found\"",
                        code_span(text),
                        code_span(&pattern.written),
                        pattern.line,
                        instruction.keyword.as_str()
                    ),
                    None,
                );
            }
        }
    }
}

/// `.`, `./` or `/`: the whole build context.
fn is_context_root(path: &str) -> bool {
    path.split('/').all(|part| part.is_empty() || part == ".")
}

/// The pattern that excludes the first top-level entry, when the
/// `.dockerignore` excludes every entry of the context and re-includes
/// nothing under any of them (`*` alone, say).
fn excludes_whole_context<'i>(
    ctx: &LintContext<'_>,
    ignore: &'i DockerIgnore,
) -> Option<&'i layercake_dockerignore::Pattern> {
    let entries = &ctx.build_context?.entries;
    let mut first = None;
    for entry in entries {
        let path = entry.trim_end_matches('/');
        let pattern = ignore.excluded_by(path)?;
        if ignore.may_reinclude_under(path) {
            return None;
        }
        first.get_or_insert(pattern);
    }
    first
}
