use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::{Cache, LaterRemovals, pip_install_word, shipped_runs};
use crate::rules::run_words::located_run_commands;
use layercake_syntax::TextRange;

/// `pip install` that keeps pip's download cache in the shipped layer.
pub struct PipWithoutNoCacheDir;

static META: RuleMeta = RuleMeta {
    code: "LC305",
    name: "pip-without-no-cache-dir",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "`pip install` without `--no-cache-dir` keeps pip's cache in the shipped image",
    doc: r#"## What it does
Reports `pip install` (also `pip3`, `python -m pip`) without `--no-cache-dir`
in a stage whose layers ship (the build target and the stages it is built
`FROM`).

It stays silent when `PIP_NO_CACHE_DIR` is set by ENV or ARG or in the RUN
(`PIP_NO_CACHE_DIR=1 pip install …`, `export PIP_NO_CACHE_DIR=1 && …`; any
value, `0` included, turns pip's cache off), when a BuildKit
cache or tmpfs mount holds `~/.cache` or `~/.cache/pip` (or `$PIP_CACHE_DIR`),
when the same RUN later runs `pip cache purge` or removes `~/.cache/pip`, for
`uv pip install` (uv's cache is another matter), in builder stages (a
virtualenv copied out of a builder leaves the cache behind), and for
`pip install --upgrade pip setuptools wheel` alone, whose few megabytes of
wheels are not worth a finding.

## Why is this bad?
pip keeps every downloaded wheel and sdist under `~/.cache/pip`: for a data
or ML stack that is hundreds of megabytes in the image, used by nothing.

## Example
```dockerfile
FROM python:3.12-slim
COPY requirements.txt .
RUN pip install -r requirements.txt
```

## Use instead
```dockerfile
FROM python:3.12-slim
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
```
or, to reuse downloads between builds,
`RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt`.

## Fix safety
The fix inserts ` --no-cache-dir` right after `install`. It is safe: the same
packages are installed; only the cache is not written.

## Equivalents
hadolint: DL3042 (which applies to every stage and ignores cache mounts).
BuildKit checks: none.
"#,
};

impl Rule for PipWithoutNoCacheDir {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let removals = LaterRemovals::new(ctx, Cache::Pip);
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let kept = Cache::Pip.kept_by(run, commands, ctx.model.state_at(index));
            if kept.is_empty() || removals.after(ctx, index).is_some() {
                continue;
            }
            let located = located_run_commands(run, ctx.source, ctx.dockerfile.escape);
            for position in kept {
                let Some(command) = commands.get(position) else {
                    continue;
                };
                let this = located.as_ref().and_then(|l| l.get(position));
                let range = this.and_then(|c| c.range()).unwrap_or(run.range);
                let message = format!(
                    "{} keeps every downloaded package in pip's cache (~/.cache/pip) in this layer of the shipped image; add `--no-cache-dir`",
                    code_span(&command.display())
                );
                // The words may start with `sudo …`, which `pip_install_word` skips.
                let sudo_words =
                    command.words.len() - crate::package_install::without_sudo(command).words.len();
                let install = pip_install_word(&crate::package_install::without_sudo(command))
                    .map(|i| i + sudo_words);
                let fix = this
                    .zip(install)
                    .and_then(|(c, i)| c.word_ranges.get(i))
                    .map(|word| Fix {
                        description: "Add `--no-cache-dir` after `pip install`".to_string(),
                        edits: vec![Edit {
                            range: TextRange::empty(word.end()),
                            replacement: " --no-cache-dir".to_string(),
                        }],
                        applicability: Applicability::Safe,
                    });
                sink.report(range, message, fix);
            }
        }
    }
}
