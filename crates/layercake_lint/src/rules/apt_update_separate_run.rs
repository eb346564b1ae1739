use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shell_command::SimpleCommand;
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};

/// `RUN apt-get update` alone, then `RUN apt-get install` in a later layer.
pub struct AptUpdateSeparateRun;

static META: RuleMeta = RuleMeta {
    code: "LC202",
    name: "apt-update-separate-run",
    category: Category::Cache,
    default_severity: Severity::Warning,
    summary: "The package index is refreshed in an earlier RUN than the install that needs it",
    doc: r#"## What it does
Reports a RUN that installs OS packages (`apt-get install`, `apk add`, `yum
install`, `dnf install`, `zypper install`) without refreshing the package
index itself, when an earlier RUN of the same stage did the refresh
(`apt-get update`, `apk update`, `yum makecache`, `dnf makecache`, `zypper
refresh`). An install whose RUN also refreshes the index is fine, and an
install with no refresh anywhere before it in the stage is not this rule's
business.

## Why is this bad?
Each RUN is a cached layer. The refresh layer is reused for as long as its
line is unchanged: weeks later, adding a package to the install line re-runs
only the install, against a stale index. Versions the mirror no longer has
fail to download (`404 Not Found`), or old packages are installed without
security fixes. Refreshing and installing in one RUN ties them together.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl
```

## Use instead
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
The fix prepends the refresh (as written in the earlier RUN) to the install
RUN, and deletes the earlier RUN when it only refreshed the index and this
is the only install that relied on it. It is unsafe: the install now gets
current packages, which is the point but may change versions. For exec-form
and heredoc RUNs the fix is shown, not applied.

## Equivalents
hadolint: none (DL3009 is about the lists left behind, not the split).
BuildKit checks: none.
"#,
};

/// The refresh seen earlier in a stage, for one package manager.
struct Refresh {
    manager: OsPackageManager,
    /// The RUN that refreshed.
    index: usize,
    /// The refresh command as written (e.g. `apt-get update -qq`).
    command: String,
    /// Whether that RUN did nothing but refresh indexes.
    only_refreshes: bool,
    /// Whether that RUN deleted the index again (`rm -rf /var/lib/apt/lists/*`).
    deletes_index: bool,
}

impl Rule for AptUpdateSeparateRun {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let instructions = &ctx.dockerfile.instructions;
        for stage in &ctx.model.stages {
            let refreshes = collect_refreshes(ctx, stage.instructions.clone());
            // (install RUN, its manager, the install as written, the refresh it relies on)
            let mut stale: Vec<(usize, OsPackageManager, String, &Refresh)> = Vec::new();
            for index in stage.instructions.clone() {
                let Some(instruction) = instructions.get(index) else {
                    continue;
                };
                if instruction.keyword != Keyword::Run {
                    continue;
                }
                let os: Vec<_> = ctx
                    .commands_of(instruction)
                    .iter()
                    .filter_map(os_package_command)
                    .collect();
                for command in &os {
                    let manager = command.manager;
                    let refreshes_here = os.iter().any(|c| {
                        same_family(c.manager, manager) && c.action == OsPackageAction::Update
                    });
                    if !matches!(command.action, OsPackageAction::Install { .. })
                        || refreshes_here
                        || stale
                            .iter()
                            .any(|(i, m, _, _)| *i == index && same_family(*m, manager))
                    {
                        continue;
                    }
                    if let Some(refresh) = refreshes
                        .iter()
                        .rev()
                        .find(|r| r.index < index && same_family(r.manager, manager))
                    {
                        stale.push((index, manager, install_verb(&command.command), refresh));
                    }
                }
            }
            for (index, manager, verb, refresh) in &stale {
                let (index, manager) = (*index, *manager);
                let Some(run) = instructions.get(index) else {
                    continue;
                };
                let sole_dependant =
                    relying_runs(ctx, refresh.index + 1..stage.instructions.end, manager) == 1;
                report(ctx, sink, run, verb, refresh, sole_dependant);
            }
        }
    }
}

/// How many RUNs in `range` use the package index of `manager` without
/// refreshing it themselves (installs, upgrades, `apt-cache` and the like).
fn relying_runs(
    ctx: &LintContext<'_>,
    range: std::ops::Range<usize>,
    manager: OsPackageManager,
) -> usize {
    range
        .filter_map(|index| ctx.dockerfile.instructions.get(index))
        .filter(|i| i.keyword == Keyword::Run)
        .filter(|run| {
            let os: Vec<_> = ctx
                .commands_of(run)
                .iter()
                .filter_map(os_package_command)
                .filter(|c| same_family(c.manager, manager))
                .collect();
            let refreshes = os.iter().any(|c| c.action == OsPackageAction::Update);
            let relies = os.iter().any(|c| {
                matches!(
                    c.action,
                    OsPackageAction::Install { .. }
                        | OsPackageAction::Upgrade
                        | OsPackageAction::Other
                )
            });
            relies && !refreshes
        })
        .count()
}

/// Every refresh of a package index in the RUNs of `range`, in order.
fn collect_refreshes(ctx: &LintContext<'_>, range: std::ops::Range<usize>) -> Vec<Refresh> {
    let mut out = Vec::new();
    for index in range {
        let Some(instruction) = ctx.dockerfile.instructions.get(index) else {
            continue;
        };
        if instruction.keyword != Keyword::Run {
            continue;
        }
        let commands = ctx.commands_of(instruction);
        let only_refreshes = !commands.is_empty()
            && commands.iter().all(|c| {
                os_package_command(c).is_some_and(|o| o.action == OsPackageAction::Update)
            });
        for command in commands.iter().filter_map(os_package_command) {
            if command.action == OsPackageAction::Update {
                out.push(Refresh {
                    manager: command.manager,
                    index,
                    command: refresh_text(&command.command),
                    only_refreshes,
                    deletes_index: deletes_index(&commands, command.manager),
                });
            }
        }
    }
    out
}

/// Whether `commands` delete the package index of `manager` (`apt-get clean`
/// keeps the lists; `yum clean all` does not).
fn deletes_index(commands: &[SimpleCommand], manager: OsPackageManager) -> bool {
    let index_dir = match manager {
        OsPackageManager::Apt => "/var/lib/apt/lists",
        OsPackageManager::Apk => "/var/cache/apk",
        OsPackageManager::Yum | OsPackageManager::Dnf => "/var/cache/",
        OsPackageManager::Zypper => "/var/cache/zypp",
    };
    commands.iter().any(|c| {
        let removes = c.program() == "rm" && c.args().iter().any(|a| a.starts_with(index_dir));
        let cleans = manager != OsPackageManager::Apt
            && os_package_command(c).is_some_and(|o| {
                same_family(o.manager, manager) && o.action == OsPackageAction::Clean
            });
        removes || cleans
    })
}

/// yum and dnf share one package index on the systems that have both.
fn same_family(a: OsPackageManager, b: OsPackageManager) -> bool {
    let family = |m| match m {
        OsPackageManager::Yum | OsPackageManager::Dnf => OsPackageManager::Dnf,
        other => other,
    };
    family(a) == family(b)
}

/// The refresh command to prepend: as written when it is plain words.
fn refresh_text(command: &SimpleCommand) -> String {
    let plain = command.words.iter().all(|w| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=./:".contains(c))
    });
    if plain {
        command.display()
    } else {
        match os_package_command(command).map(|c| c.manager) {
            Some(OsPackageManager::Apk) => "apk update".to_string(),
            Some(OsPackageManager::Yum) => "yum makecache".to_string(),
            Some(OsPackageManager::Dnf) => "dnf makecache".to_string(),
            Some(OsPackageManager::Zypper) => "zypper refresh".to_string(),
            _ => "apt-get update".to_string(),
        }
    }
}

/// The install as its RUN writes it, program and subcommand (`aptitude
/// install`, `microdnf install`), for the message.
fn install_verb(command: &SimpleCommand) -> String {
    match command.subcommand() {
        Some(sub) => format!("{} {sub}", command.program()),
        None => command.program().to_string(),
    }
}

fn report(
    ctx: &LintContext<'_>,
    sink: &mut FindingSink<'_>,
    run: &Instruction,
    verb: &str,
    refresh: &Refresh,
    sole_dependant: bool,
) {
    let refresh_line = ctx.line_of(
        ctx.dockerfile
            .instructions
            .get(refresh.index)
            .map_or(0, |i| i.range.start()),
    );
    let message = if refresh.deletes_index {
        format!(
            "`{verb}` runs after the package index that {} fetched (line {refresh_line}) was deleted in that same RUN, so it has no index to download from; refresh it in this RUN",
            code_span(&refresh.command)
        )
    } else {
        format!(
            "`{verb}` relies on {} from an earlier RUN (line {refresh_line}): that layer stays cached while this one changes, so the install runs against a stale package index",
            code_span(&refresh.command)
        )
    };
    let fix = prepend_fix(ctx, run, refresh, sole_dependant);
    sink.report(run.range, message, fix);
}

fn prepend_fix(
    ctx: &LintContext<'_>,
    run: &Instruction,
    refresh: &Refresh,
    sole_dependant: bool,
) -> Option<Fix> {
    let prefix = format!("{} && ", refresh.command);
    let mut edits = Vec::new();
    let mut applicability = Applicability::Unsafe;
    if let Some(heredoc) = run.heredocs.first() {
        applicability = Applicability::DisplayOnly;
        edits.push(Edit {
            range: TextRange::empty(heredoc.body_range.start()),
            replacement: format!("{}\n", refresh.command),
        });
    } else {
        match &run.args {
            Args::Command(Command::Shell { text }) => edits.push(Edit {
                range: TextRange::empty(text.range.start()),
                replacement: prefix,
            }),
            Args::Command(Command::Exec { args }) => {
                applicability = Applicability::DisplayOnly;
                let words: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
                edits.push(Edit {
                    range: run.args_text.range,
                    replacement: format!("{prefix}{}", words.join(" ")),
                });
            }
            _ => return None,
        }
    }
    let refresh_run = ctx.dockerfile.instructions.get(refresh.index)?;
    if sole_dependant && refresh.only_refreshes {
        let start = ctx
            .line_index
            .line_start(ctx.line_of(refresh_run.range.start()));
        let end = ctx.source[refresh_run.range.end()..]
            .find('\n')
            .map_or(ctx.source.len(), |i| refresh_run.range.end() + i + 1);
        edits.insert(
            0,
            Edit {
                range: TextRange::new(start, end),
                replacement: String::new(),
            },
        );
    }
    let removes = edits.len() > 1;
    Some(Fix {
        description: if removes {
            format!(
                "Run {} in this RUN and delete the RUN that only refreshed",
                code_span(&refresh.command)
            )
        } else {
            format!("Run {} in this RUN", code_span(&refresh.command))
        },
        edits,
        applicability,
    })
}
