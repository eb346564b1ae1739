use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{OsPackageAction, OsPackageManager, os_package_command};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::{Cache, LaterRemovals, shipped_runs};
use crate::rules::run_words::{append_offset, located_run_commands};
use layercake_syntax::TextRange;

/// yum/dnf/microdnf/zypper install whose cache stays in the shipped layer.
pub struct YumWithoutClean;

static META: RuleMeta = RuleMeta {
    code: "LC307",
    name: "yum-without-clean",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "A yum, dnf or zypper install is not followed by a clean in the same RUN",
    doc: r#"## What it does
Reports a RUN in a stage whose layers ship (the build target and the stages
it is built `FROM`) that installs or upgrades with `yum`, `dnf`, `microdnf`
or `zypper` (`install`, dnf's `in`, `reinstall`, `update`/`upgrade`/`up`,
`upgrade-minimal`, `distro-sync`, zypper's `dup`) and does not run `yum clean all` / `dnf clean all` / `zypper clean --all` (or
remove `/var/cache/yum`, `/var/cache/dnf`, `/var/cache/zypp`) after it in the
same RUN. `zypper cc` is zypper's short form of `clean`.

It stays silent when a BuildKit cache or tmpfs mount holds the manager's
cache directory, in builder stages, and when a later RUN cleans (that is
LC301, `cleanup-in-later-layer`).

## Why is this bad?
The repository metadata (often 100 MB and more for RHEL-family repositories)
and, depending on `keepcache`, the downloaded packages stay in the layer. An
upgrade downloads the same metadata as an install.

## Example
```dockerfile
FROM rockylinux:9-minimal
RUN microdnf install -y tar gzip
```

## Use instead
```dockerfile
FROM rockylinux:9-minimal
RUN microdnf install -y tar gzip && microdnf clean all
```

## Fix safety
The fix appends ` && <manager> clean all` (` && zypper clean --all` for
zypper; with `sudo` when the install used it) after the RUN's last command.
It is safe: the installed packages are unchanged. A heredoc RUN gets no fix.

## Equivalents
hadolint: DL3032 (yum), DL3040 (dnf), DL3036 (zypper); all apply to every
stage and ignore cache mounts.
BuildKit checks: none.
"#,
};

impl Rule for YumWithoutClean {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let removals = LaterRemovals::new(ctx, Cache::Rpm);
        for (index, run) in shipped_runs(ctx) {
            let commands = ctx.run_commands_at(index);
            let kept = Cache::Rpm.kept_by(run, commands, ctx.model.state_at(index));
            let install = kept.iter().rev().copied().find(|&i| {
                commands
                    .get(i)
                    .and_then(os_package_command)
                    .is_some_and(|c| {
                        matches!(
                            c.action,
                            OsPackageAction::Install { .. } | OsPackageAction::Upgrade
                        )
                    })
            });
            let Some(install) = install else {
                continue;
            };
            let Some(command) = commands.get(install) else {
                continue;
            };
            if removals.after(ctx, index).is_some() {
                continue;
            }
            let Some(package) = os_package_command(command) else {
                continue;
            };
            let program = package.command.program().to_string();
            let sudo = if command.program() == "sudo" {
                "sudo "
            } else {
                ""
            };
            let clean = if package.manager == OsPackageManager::Zypper {
                format!("{sudo}zypper clean --all")
            } else {
                format!("{sudo}{program} clean all")
            };
            let located = located_run_commands(run, ctx.source, ctx.dockerfile.escape);
            let range = located
                .as_ref()
                .and_then(|l| l.get(install))
                .and_then(|c| c.range())
                .unwrap_or(run.range);
            let message = format!(
                "{} leaves {program}'s repository metadata and cache in this layer of the shipped image; add `&& {clean}` to the same RUN",
                code_span(&command.display())
            );
            let fix = located.as_deref().and_then(append_offset).map(|at| Fix {
                description: format!("Append `{clean}` to the RUN"),
                edits: vec![Edit {
                    range: TextRange::empty(at),
                    replacement: format!(" && {clean}"),
                }],
                applicability: Applicability::Safe,
            });
            sink.report(range, message, fix);
        }
    }
}
