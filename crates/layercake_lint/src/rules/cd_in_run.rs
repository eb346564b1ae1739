use crate::code_span;
use crate::finding::{Category, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::split_script;
use layercake_syntax::{Args, Command, Keyword, TextRange};

/// `RUN cd DIR && …`, where a WORKDIR says the same for every later step.
pub struct CdInRun;

static META: RuleMeta = RuleMeta {
    code: "LC508",
    name: "cd-in-run",
    category: Category::Correctness,
    default_severity: Severity::Info,
    summary: "A RUN starts with `cd DIR &&` where WORKDIR would set the directory for good",
    doc: r#"## What it does
Reports a shell-form `RUN` whose first command is `cd DIR` followed by `&&`
or `;` and more commands. It stays quiet when the RUN changes directory
again, removes that directory, or works in a temporary directory (`/tmp`),
and for a `cd` to a computed or special place (`cd "$DIR"`, `cd -`, `cd ~`):
those are not a place the following steps should work in.

## Why is this bad?
The directory change lasts only for that RUN: the next `RUN`, `COPY` or the
container's `CMD` start again in the WORKDIR. A reader who sees
`RUN cd /app && npm ci` easily assumes later steps also run in `/app`, and
repeating `cd` in every step is how a missed one builds in the wrong place.
`WORKDIR /app` says it once, creates the directory if needed, and holds for
the rest of the stage and the running container.

## Example
```dockerfile
FROM node:22-slim
COPY . /app
RUN cd /app && npm ci
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY . .
RUN npm ci
```

## Fix safety
No fix: a WORKDIR also changes where the later steps and the container run,
which only the author can decide.

## Equivalents
hadolint: DL3003 (use WORKDIR to switch to a directory), which reports any
`cd`. BuildKit: none.
"#,
};

impl Rule for CdInRun {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Run
                || !instruction.heredocs.is_empty()
                || ctx.model.stage_of_instruction(index).is_none()
            {
                continue;
            }
            let Args::Command(Command::Shell { text }) = &instruction.args else {
                continue;
            };
            let Some(leading) = leading_cd(&text.text) else {
                continue;
            };
            let workdir = ctx
                .model
                .state_at(index)
                .map_or("/", |s| s.workdir.as_str());
            let absolute = if leading.dir.starts_with('/') {
                leading.dir.to_string()
            } else {
                format!("{}/{}", workdir.trim_end_matches('/'), leading.dir)
            };
            let message = format!(
                "{} lasts only for this RUN: later steps start again in the WORKDIR; if they belong in {} too, say so once with {}",
                code_span(&format!("cd {}", leading.dir)),
                code_span(&absolute),
                code_span(&format!("WORKDIR {absolute}"))
            );
            // Point at `cd DIR` when it is written as is on the first line.
            let source_args = text.range.slice(ctx.source);
            let range = if source_args
                .get(leading.start..leading.end)
                .is_some_and(|s| text.text.get(leading.start..leading.end) == Some(s))
            {
                TextRange::new(
                    text.range.start() + leading.start,
                    text.range.start() + leading.end,
                )
            } else {
                instruction.range
            };
            sink.report(range, message, None);
        }
    }
}

/// A `cd DIR` that opens a RUN, with where it is in the shell text.
struct LeadingCd<'a> {
    dir: &'a str,
    start: usize,
    end: usize,
}

/// `cd DIR && rest` (or `;`) when DIR is a plain path the rest keeps working in.
fn leading_cd(text: &str) -> Option<LeadingCd<'_>> {
    let start = text.len() - text.trim_start().len();
    let after_cd = text[start..].strip_prefix("cd")?;
    if !after_cd.starts_with([' ', '\t']) {
        return None;
    }
    let dir_at = text.len() - after_cd.trim_start().len();
    let rest = &text[dir_at..];
    let dir_len = rest
        .find(|c: char| c.is_whitespace() || c == ';' || c == '&')
        .unwrap_or(rest.len());
    let dir = &rest[..dir_len];
    let special = |c: char| "$`'\"(){}~*?[]\\<>|".contains(c);
    if dir.is_empty() || dir.starts_with('-') || dir.contains(special) {
        return None;
    }
    let trimmed = dir.trim_end_matches('/');
    if trimmed.is_empty()
        || ["/tmp", "/var/tmp", "/dev/shm"]
            .iter()
            .any(|t| trimmed == *t || trimmed.starts_with(&format!("{t}/")))
    {
        return None;
    }
    let after_dir = rest[dir_len..].trim_start();
    let remaining = if let Some(r) = after_dir.strip_prefix("&&") {
        r
    } else if let Some(r) = after_dir.strip_prefix(';') {
        if r.starts_with(';') {
            return None;
        }
        r
    } else {
        return None;
    };
    let commands = split_script(remaining);
    if commands.is_empty() {
        return None;
    }
    let changes_again = commands.iter().any(|c| c.program() == "cd");
    let removes_it = commands.iter().any(|c| {
        c.program() == "rm"
            && c.args().iter().any(|a| {
                let a = a.trim_end_matches('/');
                a == trimmed || a == "." || trimmed.starts_with(&format!("{a}/"))
            })
    });
    if changes_again || removes_it {
        return None;
    }
    Some(LeadingCd {
        dir,
        start,
        end: dir_at + dir_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(text: &str) -> Option<&str> {
        leading_cd(text).map(|l| l.dir)
    }

    #[test]
    fn only_a_leading_plain_cd() {
        assert_eq!(dir("cd /app && npm ci"), Some("/app"));
        assert_eq!(dir("  cd src; make"), Some("src"));
        assert_eq!(dir("npm ci && cd /app"), None);
        assert_eq!(dir("cd /app || exit 1"), None);
        assert_eq!(dir("cd /app"), None);
        assert_eq!(dir("cd - && ls"), None);
        assert_eq!(dir("cd \"$DIR\" && make"), None);
        assert_eq!(dir("cd /tmp/x && make"), None);
        assert_eq!(
            dir("cd /src/x && make install && cd / && rm -rf /src/x"),
            None
        );
        assert_eq!(dir("cd /src/x && make install && rm -rf /src"), None);
        assert_eq!(dir("(cd /app && make)"), None);
        assert_eq!(dir("cdx /app && make"), None);
    }
}
