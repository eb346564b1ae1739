use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Args, Instruction, Keyword, TextRange};
use std::ops::Range;

/// `ARG GIT_SHA` at the top of a stage, so every build re-runs every step.
pub struct VolatileValueBeforeExpensiveStep;

static META: RuleMeta = RuleMeta {
    code: "LC203",
    name: "volatile-value-before-expensive-step",
    category: Category::Cache,
    default_severity: Severity::Warning,
    summary: "A value that changes on every build is declared before steps that do not need it",
    doc: r#"## What it does
Reports an `ARG`, `ENV` or `LABEL` whose value changes on every build (a
build date, a commit SHA, a CI build number: `BUILD_DATE`, `GIT_SHA`,
`VCS_REF`, `GITHUB_SHA`, `org.opencontainers.image.created`, …) declared
before RUN, COPY or ADD steps of the same stage that do not use it, and
says how many steps it makes re-run. An ENV or LABEL that copies such an ARG
(`ENV GIT_SHA=$GIT_SHA`) is reported together with the ARG.

## Why is this bad?
BuildKit passes every ARG in scope to each later RUN as an environment
variable, so the value is part of the cache key of every RUN after the
declaration (an ENV too). When the value differs on every build, the first
RUN after it misses the cache, and every step after that re-runs: package
installs and dependency downloads happen on every build although nothing
they use changed. (With the classic builder and Podman a changed LABEL has
the same effect.)

## Example
```dockerfile
FROM golang:1.22 AS build
ARG GIT_SHA
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -ldflags "-X main.commit=${GIT_SHA}" -o /out/app .
```

## Use instead
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG GIT_SHA
RUN go build -ldflags "-X main.commit=${GIT_SHA}" -o /out/app .
```

## Fix safety
The fix moves the declaration (with the ENV and LABEL lines that copy it)
down to just before the first step that names the variable, or to the end of
the stage when none does. It is unsafe: a script run by a RUN in between may
read the variable from its environment without naming it in the
Dockerfile. The fix is offered only when every moved line declares
build-specific values alone.

## Equivalents
hadolint: none. BuildKit checks: none.
"#,
};

/// Variable names whose value is, by convention, different on every build.
const VOLATILE_NAMES: &[&str] = &[
    "BUILD_DATE",
    "BUILD_TIME",
    "BUILD_TIMESTAMP",
    "BUILD_NUMBER",
    "BUILD_ID",
    "GIT_COMMIT",
    "GIT_SHA",
    "GIT_HASH",
    "GIT_REV",
    "GIT_REVISION",
    "COMMIT_SHA",
    "COMMIT_HASH",
    "VCS_REF",
    "SOURCE_COMMIT",
    "CI_COMMIT_SHA",
    "GITHUB_SHA",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_NUMBER",
];

/// Label keys that carry the build time or the revision.
const VOLATILE_LABELS: &[&str] = &[
    "org.opencontainers.image.created",
    "org.opencontainers.image.revision",
    "org.label-schema.build-date",
    "org.label-schema.vcs-ref",
];

fn is_volatile_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    VOLATILE_NAMES
        .iter()
        .any(|v| upper == *v || upper.ends_with(&format!("_{v}")))
}

/// A declaration that starts a chain of build-specific values in a stage.
struct Chain {
    /// The declaring instruction.
    root: usize,
    /// The variable names of the chain (the root's, plus ENVs copied from it).
    names: Vec<String>,
    /// ENV/LABEL instructions that copy the value, after the root.
    members: Vec<usize>,
}

impl Rule for VolatileValueBeforeExpensiveStep {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for stage in &ctx.model.stages {
            let range = stage.instructions.start + 1..stage.instructions.end;
            let findings: Vec<(Chain, Option<usize>, usize)> = chains(ctx, range.clone())
                .into_iter()
                .filter_map(|chain| {
                    let consumer = first_consumer(ctx, &chain, range.end);
                    let steps = invalidated_steps(ctx, &chain, consumer.unwrap_or(range.end));
                    (steps > 0).then_some((chain, consumer, steps))
                })
                .collect();
            if findings.is_empty() {
                continue;
            }
            let fix = move_fix(ctx, &findings, range.end);
            for (chain, consumer, steps) in &findings {
                report(ctx, sink, chain, *consumer, *steps, fix.clone());
            }
        }
    }
}

/// The chains of build-specific values declared in `range`.
fn chains(ctx: &LintContext<'_>, range: Range<usize>) -> Vec<Chain> {
    let instructions = &ctx.dockerfile.instructions;
    let mut chains: Vec<Chain> = Vec::new();
    for index in range {
        let Some(instruction) = instructions.get(index) else {
            continue;
        };
        let Args::KeyValues(pairs) = &instruction.args else {
            continue;
        };
        for pair in pairs {
            let key = pair.key.text.as_str();
            let value = pair.value.as_ref().map_or("", |v| v.text.as_str());
            let copied_from = chains
                .iter()
                .position(|c| c.names.iter().any(|n| references(value, n)));
            if let Some(chain) = copied_from.and_then(|i| chains.get_mut(i)) {
                if instruction.keyword != Keyword::Label {
                    chain.names.push(key.to_string());
                }
                if !chain.members.contains(&index) && chain.root != index {
                    chain.members.push(index);
                }
                continue;
            }
            let volatile = match instruction.keyword {
                Keyword::Arg => is_volatile_name(key),
                Keyword::Env => {
                    value.contains('$')
                        && is_volatile_name(key)
                        && value_in_scope(ctx, index, value)
                }
                Keyword::Label => {
                    value.contains('$')
                        && (VOLATILE_LABELS.contains(&key.to_ascii_lowercase().as_str())
                            || is_volatile_name(key))
                        && value_in_scope(ctx, index, value)
                }
                _ => false,
            };
            if volatile {
                let names = match instruction.keyword {
                    Keyword::Label => Vec::new(),
                    _ => vec![key.to_string()],
                };
                chains.push(Chain {
                    root: index,
                    names,
                    members: Vec::new(),
                });
            }
        }
    }
    chains
}

/// Whether an ENV or LABEL value names a variable in its scope (an unset
/// variable expands to nothing, which never changes).
fn value_in_scope(ctx: &LintContext<'_>, index: usize, value: &str) -> bool {
    ctx.model.state_at(index).is_some_and(|state| {
        state
            .env
            .keys()
            .chain(state.args.keys())
            .any(|name| references(value, name))
    })
}

/// Whether `text` names `$name` or `${name…}`.
fn references(text: &str, name: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let braced = rest.strip_prefix('{');
        let after = braced.unwrap_or(rest);
        if let Some(tail) = after.strip_prefix(name) {
            let boundary = tail
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            if boundary {
                return true;
            }
        }
    }
    false
}

/// The first instruction after the root, not part of the chain, that names
/// one of its variables.
fn first_consumer(ctx: &LintContext<'_>, chain: &Chain, end: usize) -> Option<usize> {
    (chain.root + 1..end).find(|&index| {
        !chain.members.contains(&index)
            && ctx.dockerfile.instructions.get(index).is_some_and(|i| {
                let text = i.range.slice(ctx.source);
                chain.names.iter().any(|n| references(text, n))
            })
    })
}

/// The RUN/COPY/ADD steps between the root and `until` that re-run because
/// of it: from the first RUN after an ARG or ENV (they are part of its cache
/// key), from the first step after a LABEL.
fn invalidated_steps(ctx: &LintContext<'_>, chain: &Chain, until: usize) -> usize {
    let instructions = &ctx.dockerfile.instructions;
    let is_label = instructions
        .get(chain.root)
        .is_some_and(|i| i.keyword == Keyword::Label);
    let mut started = is_label;
    let mut steps = 0;
    for index in chain.root + 1..until {
        let Some(instruction) = instructions.get(index) else {
            continue;
        };
        started |= instruction.keyword == Keyword::Run;
        if started
            && matches!(
                instruction.keyword,
                Keyword::Run | Keyword::Copy | Keyword::Add
            )
        {
            steps += 1;
        }
    }
    steps
}

fn report(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    chain: &Chain,
    consumer: Option<usize>,
    steps: usize,
    fix: Option<Fix>,
) {
    let Some(root) = ctx.dockerfile.instructions.get(chain.root) else {
        return;
    };
    let what = match chain.names.first() {
        Some(name) => code_span(name),
        None => code_span(first_line(root.range.slice(ctx.source))),
    };
    let steps_text = if steps == 1 {
        "1 step that does not use it, so it re-runs".to_string()
    } else {
        format!("{steps} steps that do not use it, so they re-run")
    };
    let with = match chain.members.as_slice() {
        [] => String::new(),
        members => {
            let lines: Vec<String> = members
                .iter()
                .filter(|m| consumer.is_none_or(|c| **m < c))
                .filter_map(|m| ctx.dockerfile.instructions.get(*m))
                .map(|i| {
                    format!(
                        "{} on line {}",
                        i.keyword.as_str(),
                        ctx.line_of(i.range.start())
                    )
                })
                .collect();
            if lines.is_empty() {
                String::new()
            } else {
                format!(" (with the {})", lines.join(" and the "))
            }
        }
    };
    let place = match consumer {
        Some(index) => {
            let line = ctx.line_of(
                ctx.dockerfile
                    .instructions
                    .get(index)
                    .map_or(0, |i| i.range.start()),
            );
            format!("declare it{with} just before line {line}, where it is first used")
        }
        None => format!("no step uses it: declare it{with} at the end of the stage"),
    };
    let message = format!(
        "{what} changes on every build and is declared before {steps_text} on every build; {place}"
    );
    sink.report(root.range, message, fix);
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

/// One fix for all the chains of a stage (moving one at a time would leave
/// the others to re-trigger): their lines go just before the first use of
/// any of them, or to the end of the stage.
fn move_fix(
    ctx: &LintContext<'_>,
    findings: &[(Chain, Option<usize>, usize)],
    stage_end: usize,
) -> Option<Fix> {
    let instructions = &ctx.dockerfile.instructions;
    // One destination for every moved line, the earliest first use: lines
    // that copy several values (a LABEL with two of them) keep what they
    // read declared before them. A later round of fixes moves the rest on.
    let destination = findings
        .iter()
        .map(|(_, consumer, _)| consumer.unwrap_or(stage_end))
        .min()
        .unwrap_or(stage_end);
    let mut moved: Vec<(usize, usize)> = Vec::new(); // (instruction, destination)
    for (chain, _, _) in findings {
        for index in std::iter::once(chain.root).chain(chain.members.iter().copied()) {
            if index >= destination || moved.iter().any(|(i, _)| *i == index) {
                continue;
            }
            let instruction = instructions.get(index)?;
            if !only_build_values(instruction) {
                return None;
            }
            moved.push((index, destination));
        }
    }
    moved.sort_unstable();
    let mut deletions = Vec::new();
    let mut insertions: Vec<(usize, String)> = Vec::new();
    for &(index, destination) in &moved {
        let instruction = instructions.get(index)?;
        let lines = whole_lines(ctx, instruction);
        let text = ctx.source.get(lines.start()..lines.end())?.to_string();
        let text = if text.ends_with('\n') {
            text
        } else {
            format!("{text}\n")
        };
        deletions.push(Edit {
            range: lines,
            replacement: String::new(),
        });
        let at = match instructions.get(destination) {
            Some(next) if destination < stage_end => {
                ctx.line_index.line_start(ctx.line_of(next.range.start()))
            }
            _ => {
                let last = instructions.get(stage_end.checked_sub(1)?)?;
                whole_lines(ctx, last).end()
            }
        };
        match insertions.iter_mut().find(|(offset, _)| *offset == at) {
            Some((_, existing)) => existing.push_str(&text),
            None => insertions.push((at, text)),
        }
    }
    let mut edits = deletions;
    for (at, mut text) in insertions {
        if at == ctx.source.len() && !ctx.source.ends_with('\n') {
            text.insert(0, '\n');
            text.pop();
        }
        edits.push(Edit {
            range: TextRange::empty(at),
            replacement: text,
        });
    }
    edits.sort_by_key(|e| (e.range.start(), e.range.end()));
    // An insertion at the end of a deleted range touches it; merge them.
    let mut merged: Vec<Edit> = Vec::new();
    for edit in edits {
        match merged.last_mut() {
            Some(last) if last.range.end() == edit.range.start() => {
                last.range = TextRange::new(last.range.start(), edit.range.end());
                last.replacement.push_str(&edit.replacement);
            }
            _ => merged.push(edit),
        }
    }
    Some(Fix {
        description: "Move the build-specific declarations down to where they are used".to_string(),
        edits: merged,
        applicability: Applicability::Unsafe,
    })
}

/// Whether every pair of an ARG/ENV/LABEL is build-specific (a LABEL may
/// carry anything: labels do not change what RUN steps see).
fn only_build_values(instruction: &Instruction) -> bool {
    match (&instruction.keyword, &instruction.args) {
        (Keyword::Label, _) => true,
        (Keyword::Arg | Keyword::Env, Args::KeyValues(pairs)) => pairs.iter().all(|p| {
            is_volatile_name(&p.key.text)
                || p.value.as_ref().is_some_and(|v| {
                    VOLATILE_NAMES
                        .iter()
                        .any(|n| v.text.to_ascii_uppercase().contains(n))
                })
        }),
        _ => false,
    }
}

/// From the start of the instruction's first line to after its last line break.
fn whole_lines(ctx: &LintContext<'_>, instruction: &Instruction) -> TextRange {
    let start = ctx
        .line_index
        .line_start(ctx.line_of(instruction.range.start()));
    let end = ctx.source[instruction.range.end()..]
        .find('\n')
        .map_or(ctx.source.len(), |i| instruction.range.end() + i + 1);
    TextRange::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_need_a_name_boundary() {
        assert!(references("-X main.sha=${GIT_SHA}", "GIT_SHA"));
        assert!(references("$GIT_SHA-dirty", "GIT_SHA"));
        assert!(!references("$GIT_SHAX", "GIT_SHA"));
        assert!(!references("GIT_SHA", "GIT_SHA"));
        assert!(references("${GIT_SHA:-unknown}", "GIT_SHA"));
    }

    #[test]
    fn volatile_names() {
        assert!(is_volatile_name("BUILD_DATE"));
        assert!(is_volatile_name("app_git_sha"));
        assert!(!is_volatile_name("VERSION"));
        assert!(!is_volatile_name("NODE_VERSION"));
    }
}
