use crate::base_image::image_facts;
use crate::build_step::build_steps_in;
use crate::code_span;
use crate::finding::{Category, Severity};
use crate::package_install::{
    OsPackageAction, OsPackageManager, is_build_package, os_package_command,
};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::dev_environment::is_dev_environment;
use crate::shell_command::SimpleCommand;
use crate::shipped_stages::shipped_stage_chain;
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};

/// Compilers, `-dev` packages or devDependencies left in the shipped image.
pub struct BuildToolsInFinalStage;

static META: RuleMeta = RuleMeta {
    code: "LC108",
    name: "build-tools-in-final-stage",
    category: Category::MultiStage,
    default_severity: Severity::Warning,
    summary: "Build tools or dev dependencies are installed in the shipped image",
    doc: r#"## What it does
In the stages that ship (the build target and the stages it is built
`FROM`), reports:

- an OS package install of build tools (`build-essential`, `build-base`,
  `gcc`, `g++`, `make`, `cmake`, `-dev`/`-devel` packages, compilers) that the
  same RUN does not remove again (`apt-get purge`, `apk del` of the packages
  or of the `--virtual` group they were installed in, or the docker-library
  `apt-mark auto` + `apt-get purge --auto-remove` pattern);
- a Node.js dependency install (`npm ci`, `npm install`, `yarn install`,
  `pnpm install`) that keeps devDependencies (no `--omit=dev`,
  `--production`, `--prod`, `NODE_ENV=production`) when the shipped stages
  also run a build step and do not prune them afterwards (`npm prune
  --omit=dev`, a production reinstall, `rm -rf node_modules`).

Builder stages that are only copied from are never reported, nor targets
named as development or CI environments (`dev`, `devcontainer`, `test`,
`ci`, …). OS build tools are reported only for images that run something (a
`CMD` or `ENTRYPOINT` other than a bare shell) on a base without compilers
(not `buildpack-deps`, `golang`, or a full `python`/`node` image, which the
base-image rules report), so toolbox and CI images stay quiet.

## Why is this bad?
Compilers and headers are only needed to build; in the runtime image they add
hundreds of megabytes and give an attacker a compiler. devDependencies
(TypeScript, bundlers, test runners) are usually larger than the production
dependencies themselves.

## Example
```dockerfile
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "app:app"]
```

## Use instead
```dockerfile
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev
RUN python -m venv /opt/venv
COPY requirements.txt .
RUN /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
CMD ["gunicorn", "app:app"]
```

## Fix safety
No fix: which runtime libraries replace the `-dev` packages, and what the
build produces, is for a person to decide.

## Equivalents
hadolint: none. BuildKit: none.
"#,
};

impl Rule for BuildToolsInFinalStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let model = ctx.model;
        let instructions = &ctx.dockerfile.instructions;
        let chain = shipped_stage_chain(model);
        if is_dev_environment(model, &chain) {
            return;
        }
        let mut indexes: Vec<usize> = chain
            .iter()
            .filter_map(|&i| model.stages.get(i))
            .flat_map(|s| s.instructions.clone())
            .collect();
        indexes.sort_unstable();
        // On a base that already ships compilers (buildpack-deps, golang, the
        // full python or node image), a few more headers change little: the
        // base is what to replace, and the base-image rules say so.
        let base_has_compilers = chain
            .last()
            .and_then(|&i| model.stages.get(i)?.base.image())
            .is_some_and(|image| {
                let facts = image_facts(image);
                facts.is_toolchain || facts.is_full_variant
            });
        if !base_has_compilers && runs_an_application(instructions, &indexes) {
            for &index in &indexes {
                if let Some(run) = instructions.get(index)
                    && run.keyword == Keyword::Run
                {
                    report_os_build_packages(ctx, sink, run);
                }
            }
        }
        report_dev_dependencies(ctx, sink, &indexes);
    }
}

/// Whether the image's last CMD/ENTRYPOINT starts something other than a shell.
fn runs_an_application(instructions: &[Instruction], indexes: &[usize]) -> bool {
    indexes
        .iter()
        .rev()
        .filter_map(|&i| instructions.get(i))
        .find(|i| matches!(i.keyword, Keyword::Cmd | Keyword::Entrypoint))
        .is_some_and(|i| {
            let program = match &i.args {
                Args::Command(Command::Exec { args }) => {
                    args.first().map(|w| w.text.clone()).unwrap_or_default()
                }
                Args::Command(Command::Shell { text }) => text
                    .text
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                _ => String::new(),
            };
            let program = program.rsplit('/').next().unwrap_or_default();
            !matches!(program, "" | "sh" | "bash" | "ash" | "zsh" | "dash")
        })
}

fn report_os_build_packages(ctx: &LintContext<'_>, sink: &mut FindingSink<'_>, run: &Instruction) {
    let commands = ctx.commands_of(run);
    let package_commands: Vec<_> = commands.iter().filter_map(os_package_command).collect();
    let removed: Vec<&str> = package_commands
        .iter()
        .filter_map(|c| match &c.action {
            OsPackageAction::Remove { packages } => Some(packages),
            _ => None,
        })
        .flatten()
        .map(String::as_str)
        .collect();
    // docker-library: `apt-mark auto '.*'` then `apt-get purge --auto-remove`
    // removes everything this RUN installed.
    let auto_removes_all = commands.iter().any(|c| {
        c.words
            .windows(2)
            .any(|w| w[0] == "apt-mark" && w[1] == "auto")
    }) && package_commands.iter().any(|c| {
        c.manager == OsPackageManager::Apt
            && matches!(c.action, OsPackageAction::Remove { .. })
            && (c.command.has_flag("--auto-remove") || c.command.subcommand() == Some("autoremove"))
    });
    let mut kept: Vec<(&str, String)> = Vec::new();
    for command in &package_commands {
        let OsPackageAction::Install { packages } = &command.action else {
            continue;
        };
        if command.manager == OsPackageManager::Apt && auto_removes_all {
            continue;
        }
        let group = virtual_group(&command.command);
        if group.is_some_and(|g| removed.contains(&g.as_str())) {
            continue;
        }
        for package in packages {
            if is_build_package(package) && !removed.contains(&package.as_str()) {
                kept.push((command.manager.program(), package.clone()));
            }
        }
    }
    let Some((program, _)) = kept.first() else {
        return;
    };
    let program = *program;
    let names: Vec<String> = kept.iter().map(|(_, p)| code_span(p)).collect();
    let removal = if program == "apk" {
        "install them with `apk add --virtual .build-deps` and `apk del .build-deps` in the same RUN"
    } else {
        "remove them in the same RUN once they are used"
    };
    let message = format!(
        "`{program}` installs build tools ({}) into the shipped image; install them in a builder stage and copy only what they build, or {removal}",
        names.join(", ")
    );
    let range = cover_words(ctx.source, run.range, kept.iter().map(|(_, p)| p.as_str()));
    sink.report(range, message, None);
}

/// The `--virtual NAME` / `-t NAME` group of an `apk add`.
fn virtual_group(command: &SimpleCommand) -> Option<String> {
    let args = command.args();
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.as_str() {
            "--virtual" | "-t" => args.get(i + 1).cloned(),
            _ => arg.strip_prefix("--virtual=").map(str::to_string),
        })
}

/// The range from the first to the last of `words` as written in `range`,
/// or `range` when they cannot be found.
fn cover_words<'a>(
    source: &str,
    range: TextRange,
    words: impl Iterator<Item = &'a str>,
) -> TextRange {
    let text = range.slice(source);
    let mut found: Option<TextRange> = None;
    for word in words {
        let at = text.match_indices(word).find(|(i, _)| {
            let before = text[..*i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            let boundary = |c: Option<char>| {
                c.is_none_or(|c| !(c.is_ascii_alphanumeric() || "-_.+=:".contains(c)))
            };
            boundary(before) && boundary(after)
        });
        if let Some((i, _)) = at {
            let start = range.start() + i;
            let word_range = TextRange::new(start, start + word.len());
            found = Some(found.map_or(word_range, |f| f.cover(word_range)));
        }
    }
    found.unwrap_or(range)
}

/// A Node.js install that keeps devDependencies, followed by a build and no prune.
fn report_dev_dependencies(ctx: &LintContext<'_>, sink: &mut FindingSink<'_>, indexes: &[usize]) {
    let instructions = &ctx.dockerfile.instructions;
    let builds = build_steps_in(instructions, indexes.iter().copied());
    let Some((build_index, build)) = builds.iter().find(|(_, s)| s.tool.is_node()) else {
        return;
    };
    // Every command of the shipped stages in order, with its instruction.
    let commands: Vec<(usize, SimpleCommand)> = indexes
        .iter()
        .filter_map(|&i| instructions.get(i).map(|ins| (i, ins)))
        .filter(|(_, ins)| ins.keyword == Keyword::Run)
        .flat_map(|(i, ins)| {
            ctx.commands_of(ins)
                .iter()
                .cloned()
                .map(move |c| (i, c))
                .collect::<Vec<_>>()
        })
        .collect();
    for (position, (index, command)) in commands.iter().enumerate() {
        if !installs_node_dependencies(command) || omits_dev(command) {
            continue;
        }
        let Some(run) = instructions.get(*index) else {
            continue;
        };
        let production_env = ctx
            .model
            .state_at(*index)
            .is_some_and(|s| s.env.get("NODE_ENV").is_some_and(|v| v == "production"))
            || run.range.slice(ctx.source).contains("NODE_ENV=production");
        let pruned_later = commands[position + 1..]
            .iter()
            .any(|(_, c)| prunes_dev(c) || installs_node_dependencies(c) && omits_dev(c));
        if production_env || pruned_later {
            continue;
        }
        let build_line = instructions
            .get(*build_index)
            .map_or(0, |i| ctx.line_of(i.range.start()));
        let (production, prune) = match command.program() {
            "yarn" => ("yarn install --production", "`yarn install --production`"),
            "pnpm" => ("pnpm install --prod", "`pnpm prune --prod`"),
            _ => ("npm ci --omit=dev", "`npm prune --omit=dev`"),
        };
        let message = format!(
            "{} installs devDependencies, and the shipped image keeps them after {} (line {build_line}); build in a builder stage and install with `{production}` in the runtime stage, or run {prune} after the build",
            code_span(&command.display()),
            code_span(&build.command.display())
        );
        sink.report(run.range, message, None);
        return;
    }
}

fn installs_node_dependencies(command: &SimpleCommand) -> bool {
    let sub = command.subcommand();
    let named = command.args().iter().skip(1).any(|a| !a.starts_with('-'));
    match command.program() {
        "npm" => {
            sub == Some("ci")
                || matches!(sub, Some("install" | "i"))
                    && !named
                    && !command.has_flag("-g")
                    && !command.has_flag("--global")
        }
        "yarn" => matches!(sub, None | Some("install")),
        "pnpm" => matches!(sub, Some("install" | "i")) && !named,
        _ => false,
    }
}

fn omits_dev(command: &SimpleCommand) -> bool {
    let args = command.args();
    args.iter().enumerate().any(|(i, a)| {
        matches!(
            a.as_str(),
            "--omit=dev"
                | "--production"
                | "--production=true"
                | "--prod"
                | "-P"
                | "--only=prod"
                | "--only=production"
        ) || a == "--omit" && args.get(i + 1).is_some_and(|v| v == "dev")
            || a == "--only" && args.get(i + 1).is_some_and(|v| v.starts_with("prod"))
    })
}

/// `npm prune --omit=dev`, `pnpm prune --prod`, `rm -rf node_modules`, `yarn workspaces focus --production`.
fn prunes_dev(command: &SimpleCommand) -> bool {
    match command.program() {
        "npm" | "pnpm" | "yarn" => {
            let prune = command.subcommand() == Some("prune")
                || command.args().iter().any(|a| a == "focus");
            prune && (omits_dev(command) || command.program() == "yarn")
        }
        "rm" => command
            .args()
            .iter()
            .any(|a| a.trim_end_matches('/').ends_with("node_modules")),
        _ => false,
    }
}
