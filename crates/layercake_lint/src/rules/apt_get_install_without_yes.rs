use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::SimpleCommand;
use layercake_syntax::{Args, Instruction, Keyword, TextRange};

/// A package-manager command that asks for confirmation in a build, where
/// nobody can answer.
pub struct AptGetInstallWithoutYes;

static META: RuleMeta = RuleMeta {
    code: "LC507",
    name: "apt-get-install-without-yes",
    category: Category::Correctness,
    default_severity: Severity::Error,
    summary: "A package install, upgrade or removal without `-y` asks for a confirmation nobody can give",
    doc: r#"## What it does
Reports `apt-get`/`apt`/`aptitude` `install`, `upgrade` and `remove`/`purge`, `yum` and
`dnf` `install`, `update`/`upgrade` and `remove`, and `zypper install` or
`remove` run without the option that answers yes: `-y`/`--yes`/
`--assume-yes` or `-qq` for apt (quiet level 2 implies yes; not for
aptitude), `-y`/
`--assumeyes` for yum and dnf, `-n`/`--non-interactive` or `-y`/
`--no-confirm` for zypper. It stays quiet when the answer is configured
earlier in the stage (`APT::Get::Assume-Yes`, `assumeyes=1`, a copied
`apt.conf`), when `yes |` feeds the command, and for `microdnf`, which never
asks.

## Why is this bad?
A build has no terminal: the question `Do you want to continue? [Y/n]`
reads end-of-file, apt prints `Abort.` and the RUN fails (yum and dnf
answer `Exiting on user command`). Whether apt asks at all depends on
whether extra dependencies are pulled in, so the step can work today and
fail after a package update. `DEBIAN_FRONTEND=noninteractive` silences
debconf questions, not this one.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install --no-install-recommends curl
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
```

## Fix safety
The fix inserts ` -y` right after the subcommand (`install -y`). It is
safe: without it the command cannot succeed in a build.

## Equivalents
hadolint: DL3014 (apt-get), DL3030 (yum), DL3038 (dnf), DL3034 (zypper),
which only check installs. BuildKit: none.
"#,
};

impl Rule for AptGetInstallWithoutYes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Run
                || ctx.model.stage_of_instruction(index).is_none()
            {
                continue;
            }
            let commands = ctx.run_commands_at(index);
            for (position, command) in commands.iter().enumerate() {
                let Some(package) = os_package_command(command) else {
                    continue;
                };
                let prompts = match &package.action {
                    OsPackageAction::Install { packages }
                    | OsPackageAction::Remove { packages } => {
                        // `apt-get -f install` repairs dependencies: it asks too.
                        let fix_broken = package.command.has_flag("-f")
                            || package.command.has_flag("--fix-broken");
                        !packages.is_empty() || fix_broken
                    }
                    OsPackageAction::Upgrade => true,
                    _ => false,
                };
                if !prompts
                    || package.command.program() == "microdnf"
                    || answers_yes(package.manager, &package.command)
                    || (position > 0 && commands[position - 1].program() == "yes")
                    || configured_yes(ctx, index, package.manager)
                {
                    continue;
                }
                let program = package.command.program().to_string();
                let Some(sub) = package.command.subcommand().map(str::to_string) else {
                    continue;
                };
                let occurrence = commands[..position]
                    .iter()
                    .filter(|c| is_same_command(c, &program, &sub))
                    .count();
                let located = locate(ctx, instruction, &program, &sub, occurrence);
                let option = match package.manager {
                    OsPackageManager::Zypper => "`-n` (or `-y`)",
                    _ => "`-y`",
                };
                let outcome = match package.manager {
                    OsPackageManager::Apt => {
                        "apt reads end-of-file, prints `Abort.` and the RUN fails".to_string()
                    }
                    _ => format!("`{program}` takes end-of-file as no and the RUN fails"),
                };
                let message = format!(
                    "`{program} {sub}` without {option} asks for confirmation, and a build has no terminal: {outcome}"
                );
                let (range, fix) = match located {
                    Some((range, insert_at)) => (
                        range,
                        Some(Fix {
                            description: format!("Add `-y` to `{program} {sub}`"),
                            edits: vec![Edit {
                                range: TextRange::empty(insert_at),
                                replacement: " -y".to_string(),
                            }],
                            applicability: Applicability::Safe,
                        }),
                    ),
                    None => (instruction.range, None),
                };
                sink.report(range, message, fix);
            }
        }
    }
}

/// Whether the command's own options answer the question.
fn answers_yes(manager: OsPackageManager, command: &SimpleCommand) -> bool {
    let args = command.args();
    let short_clusters = || {
        args.iter()
            .filter(|a| a.starts_with('-') && !a.starts_with("--"))
            .map(|a| a.trim_start_matches('-'))
    };
    let long = |names: &[&str]| args.iter().any(|a| names.contains(&a.as_str()));
    let mentions = |needle: &str| args.iter().any(|a| a.to_ascii_lowercase().contains(needle));
    match manager {
        OsPackageManager::Apt if command.program() == "aptitude" => {
            // aptitude has no quiet level that answers yes.
            short_clusters().any(|c| !c.contains('=') && c.contains('y'))
                || long(&["--assume-yes"])
                || mentions("assume-yes")
        }
        OsPackageManager::Apt => {
            // `-qq` (quiet level 2) implies `-y`; so do `-q -q` and `-q=2`.
            let quiet: usize = short_clusters()
                .map(|c| match c.strip_prefix("q=") {
                    Some(level) => level.parse().unwrap_or(1),
                    None => c.split('=').next().unwrap_or(c).matches('q').count(),
                })
                .sum::<usize>()
                + args.iter().filter(|a| *a == "--quiet").count()
                + args
                    .iter()
                    .filter_map(|a| a.strip_prefix("--quiet="))
                    .map(|n| n.parse().unwrap_or(1))
                    .sum::<usize>();
            short_clusters().any(|c| !c.contains('=') && c.contains('y'))
                || long(&["--yes", "--assume-yes"])
                || quiet >= 2
                || mentions("assume-yes")
        }
        OsPackageManager::Yum | OsPackageManager::Dnf => {
            short_clusters().any(|c| !c.contains('=') && c.contains('y'))
                || long(&["--assumeyes"])
                || mentions("assumeyes")
        }
        OsPackageManager::Zypper => {
            short_clusters().any(|c| c.contains('y') || c.contains('n'))
                || long(&["--non-interactive", "--no-confirm"])
        }
        OsPackageManager::Apk => true,
    }
}

/// Whether the answer is configured earlier in the stage (or a stage it is
/// built FROM), or in this RUN: an `APT::Get::Assume-Yes` setting, yum's or
/// dnf's `assumeyes`, or a copied configuration file.
fn configured_yes(ctx: &LintContext<'_>, index: usize, manager: OsPackageManager) -> bool {
    let (setting, file) = match manager {
        OsPackageManager::Apt => ("assume-yes", "apt.conf"),
        OsPackageManager::Yum | OsPackageManager::Dnf => ("assumeyes", ".conf"),
        _ => return false,
    };
    let mut stage = ctx.model.stage_of_instruction(index);
    let mut end = index + 1;
    let mut visited = Vec::new();
    while let Some(stage_index) = stage {
        let Some(current) = ctx.model.stages.get(stage_index) else {
            break;
        };
        if visited.contains(&stage_index) {
            break;
        }
        visited.push(stage_index);
        let last = end.min(current.instructions.end);
        for position in current.instructions.start..last {
            let Some(instruction) = ctx.dockerfile.instructions.get(position) else {
                continue;
            };
            if configures(ctx, instruction, setting, file) {
                return true;
            }
        }
        stage = current.base.stage();
        end = usize::MAX;
    }
    false
}

fn configures(ctx: &LintContext<'_>, instruction: &Instruction, setting: &str, file: &str) -> bool {
    match instruction.keyword {
        Keyword::Run => instruction
            .range
            .slice(ctx.source)
            .to_ascii_lowercase()
            .contains(setting),
        Keyword::Copy | Keyword::Add => match &instruction.args {
            Args::Files { sources, dest, .. } => sources
                .iter()
                .chain(dest.iter())
                .any(|w| w.text.contains(file) || w.text.contains("apt.conf.d")),
            _ => false,
        },
        _ => false,
    }
}

fn is_same_command(command: &SimpleCommand, program: &str, sub: &str) -> bool {
    let command = crate::package_install::without_sudo(command);
    command.program() == program && command.subcommand() == Some(sub)
}

/// Where `program … sub` is written (the `occurrence`-th such command of the
/// instruction), and the offset right after `sub`.
fn locate(
    ctx: &LintContext<'_>,
    instruction: &Instruction,
    program: &str,
    sub: &str,
    occurrence: usize,
) -> Option<(TextRange, usize)> {
    let base = instruction.range.start();
    let text = instruction.range.slice(ctx.source);
    let escape = ctx.dockerfile.escape;
    let mut found = 0;
    for (at, _) in text.match_indices(program) {
        let before = text[..at].chars().next_back();
        let after = text[at + program.len()..].chars().next();
        let starts_word = before.is_none_or(|c| c.is_whitespace() || "/;&|(".contains(c));
        let ends_word = after.is_some_and(|c| c.is_whitespace() || c == escape);
        if !starts_word || !ends_word {
            continue;
        }
        let Some(sub_end) = subcommand_end(text, at + program.len(), escape, sub) else {
            continue;
        };
        if found == occurrence {
            return Some((TextRange::new(base + at, base + sub_end), base + sub_end));
        }
        found += 1;
    }
    None
}

/// After the program name at `from`: skips options and line continuations;
/// the end of the first operand if it is `sub`.
fn subcommand_end(text: &str, from: usize, escape: char, sub: &str) -> Option<usize> {
    let mut at = from;
    loop {
        let rest = text.get(at..)?;
        let trimmed = rest.trim_start_matches([' ', '\t']);
        at += rest.len() - trimmed.len();
        if let Some(after_escape) = trimmed.strip_prefix(escape) {
            let after_newline = after_escape
                .strip_prefix("\r\n")
                .or_else(|| after_escape.strip_prefix('\n'))?;
            at += trimmed.len() - after_newline.len();
            continue;
        }
        let token_len = trimmed
            .find(|c: char| c.is_whitespace())
            .unwrap_or(trimmed.len());
        let token = &trimmed[..token_len];
        if token.is_empty() {
            return None;
        }
        if token.starts_with('-') {
            at += token_len;
            continue;
        }
        return (token == sub).then_some(at + token_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell_command::split_script;

    fn yes(script: &str) -> bool {
        let command = &split_script(script)[0];
        let Some(package) = os_package_command(command) else {
            return false;
        };
        answers_yes(package.manager, &package.command)
    }

    #[test]
    fn recognises_the_answers() {
        assert!(yes("apt-get install -y curl"));
        assert!(yes("apt-get -qy install curl"));
        assert!(yes("apt-get install -qq curl"));
        assert!(yes("apt-get -q -q install curl"));
        assert!(yes("apt-get --yes install curl"));
        assert!(yes("apt-get -o APT::Get::Assume-Yes=true install curl"));
        assert!(!yes("apt-get install -q curl"));
        assert!(!yes("apt-get install --no-install-recommends curl"));
        assert!(yes("yum install -y gcc"));
        assert!(yes("dnf --assumeyes install gcc"));
        assert!(!yes("dnf install gcc"));
        assert!(yes("zypper -n install gcc"));
        assert!(yes("zypper --non-interactive install gcc"));
        assert!(!yes("zypper install gcc"));
    }

    #[test]
    fn finds_the_subcommand_across_continuations() {
        let text = "RUN apt-get \\\n  -q install curl";
        let end = subcommand_end(text, 11, '\\', "install");
        assert_eq!(
            end.map(|e| &text[..e]),
            Some("RUN apt-get \\\n  -q install")
        );
    }
}
