use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_model::StageBase;
use layercake_model::resolve_path;
use layercake_syntax::{Args, Keyword};

/// `WORKDIR` with a relative path.
pub struct RelativeWorkdir;

static META: RuleMeta = RuleMeta {
    code: "LC502",
    name: "relative-workdir",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "WORKDIR with a relative path depends on the directory set before it",
    doc: r#"## What it does
Reports a `WORKDIR` whose path (after ARG and ENV expansion) is relative.

## Why is this bad?
A relative `WORKDIR` is joined to the working directory in force at that
point: an earlier `WORKDIR`, possibly in another stage, or the base image's
own `WORKDIR`, which the Dockerfile does not show (`golang` images use `/go`,
`php` images `/var/www/html`). Moving a line or changing the base image then
silently moves every file the following steps write, and a reader has to
replay the whole stage to know where they are.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /srv
WORKDIR app
COPY . .
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /srv/app
COPY . .
```

## Fix safety
When an earlier `WORKDIR` of the Dockerfile (in the stage or a stage it is
built FROM) or a `FROM scratch` fixes the directory, the fix writes the
absolute path the relative one resolves to, which keeps the meaning: it is
safe. When the directory comes from the base image, the fix is display-only:
it shows the path the `WORKDIR` would resolve to if the base image set none.
No fix is offered when the path uses variables.

## Equivalents
hadolint: DL3000 (use absolute WORKDIR). BuildKit: `WorkdirRelativePath`,
which only reports a relative WORKDIR with no WORKDIR before it.
"#,
};

impl Rule for RelativeWorkdir {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Workdir {
                continue;
            }
            let Args::Text(word) = &instruction.args else {
                continue;
            };
            let Ok(expanded) = ctx.model.expand_at(index, &word.text) else {
                continue;
            };
            let path = expanded.value.as_str();
            if !expanded.unmatched.is_empty() || path.is_empty() || is_absolute(path) {
                continue;
            }
            let Some(state) = ctx.model.state_at(index) else {
                continue;
            };
            let resolved = resolve_path(&state.workdir, path);
            let shown = code_span(&resolved);
            let literal = !word.text.contains('$');
            let subject = if literal {
                code_span(&format!("WORKDIR {}", word.text.trim()))
            } else {
                format!(
                    "{} ({})",
                    code_span(&format!("WORKDIR {}", word.text.trim())),
                    code_span(path)
                )
            };
            let previous = previous_workdir(ctx, index);
            let (message, applicability) = match (&previous.root, previous.nearest) {
                (Root::Absolute | Root::Scratch, Some(line)) => (
                    format!(
                        "{subject} is relative: it means {shown} only because of the WORKDIR on line {line}; write the absolute path"
                    ),
                    Applicability::Safe,
                ),
                (Root::Absolute | Root::Scratch, None) => (
                    format!("{subject} is relative: write the absolute path {shown}"),
                    Applicability::Safe,
                ),
                (Root::BaseImage(image), _) => (
                    format!(
                        "{subject} is relative to the working directory of `{image}`, which this Dockerfile does not set ({shown} if the image sets none); write the absolute path"
                    ),
                    Applicability::DisplayOnly,
                ),
                (Root::Unknown(line), _) => (
                    format!(
                        "{subject} is relative to a directory that depends on variables this Dockerfile does not set (the WORKDIR on line {line}); write the absolute path"
                    ),
                    Applicability::DisplayOnly,
                ),
            };
            let fix = (literal && !matches!(previous.root, Root::Unknown(_))).then(|| Fix {
                description: format!("Use the absolute path {shown}"),
                edits: vec![Edit {
                    range: word.range,
                    replacement: resolved.clone(),
                }],
                applicability,
            });
            sink.report(instruction.range, message, fix);
        }
    }
}

/// What a relative WORKDIR is joined to: the nearest earlier WORKDIR (its
/// line), and what the chain of WORKDIRs starts from.
struct Previous {
    nearest: Option<usize>,
    root: Root,
}

enum Root {
    /// An absolute WORKDIR of this Dockerfile, all expanded.
    Absolute,
    /// `FROM scratch`: `/`.
    Scratch,
    /// The base image's own WORKDIR, unknown here.
    BaseImage(String),
    /// A WORKDIR (on this line) uses variables the Dockerfile does not set.
    Unknown(usize),
}

fn previous_workdir(ctx: &LintContext<'_>, index: usize) -> Previous {
    let instructions = &ctx.dockerfile.instructions;
    let mut nearest = None;
    let mut stage = ctx.model.stage_of_instruction(index);
    let mut before = index;
    let mut seen = Vec::new();
    while let Some(stage_index) = stage {
        let Some(current) = ctx.model.stages.get(stage_index) else {
            break;
        };
        if seen.contains(&stage_index) {
            break;
        }
        seen.push(stage_index);
        let end = before.min(current.instructions.end);
        for position in (current.instructions.start..end).rev() {
            let Some(instruction) = instructions.get(position) else {
                continue;
            };
            let Args::Text(word) = &instruction.args else {
                continue;
            };
            if instruction.keyword != Keyword::Workdir {
                continue;
            }
            let line = ctx.line_of(instruction.range.start());
            nearest.get_or_insert(line);
            let root = match ctx.model.expand_at(position, &word.text) {
                Ok(e) if e.unmatched.is_empty() => is_absolute(&e.value).then_some(Root::Absolute),
                _ => Some(Root::Unknown(line)),
            };
            if let Some(root) = root {
                return Previous { nearest, root };
            }
        }
        let root = match &current.base {
            StageBase::Stage { index } => {
                stage = Some(*index);
                before = usize::MAX;
                continue;
            }
            base if base.is_scratch() => Root::Scratch,
            StageBase::Image { reference, .. } => Root::BaseImage(reference.clone()),
        };
        return Previous { nearest, root };
    }
    Previous {
        nearest,
        root: Root::BaseImage(String::from("the base image")),
    }
}

/// Absolute on Linux (`/app`) or Windows (`C:\app`, `\app`).
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_cleans() {
        assert_eq!(resolve_path("/", "app"), "/app");
        assert_eq!(resolve_path("/srv", "app/../lib/"), "/srv/lib");
        assert_eq!(resolve_path("/srv", ".."), "/");
    }

    #[test]
    fn recognises_absolute_paths() {
        assert!(is_absolute("/app"));
        assert!(is_absolute("C:\\app"));
        assert!(!is_absolute("app"));
        assert!(!is_absolute("./app"));
    }
}
