//! Package-manager caches a RUN can leave in its layer: which commands write
//! them, which commands remove them, and which mounts or settings keep them
//! out of the layer. The size rules (LC301, LC303–LC307) share this so they
//! agree on what "kept" means.

use crate::package_install::{
    OsPackageAction, OsPackageManager, has_cache_mount_for, os_package_command, without_sudo,
};
use crate::rule::LintContext;
use crate::shell_command::{SimpleCommand, run_scripts};
use crate::shipped_stages::{lineage_of_instruction, shipped_instructions};
use layercake_model::InstructionState;
use layercake_syntax::{Instruction, Keyword, MountType};

/// A cache or index directory a package manager fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// `/var/lib/apt/lists`, filled by `apt-get update`.
    AptLists,
    /// `/var/cache/apk`, filled by `apk add`/`apk update` without `--no-cache`.
    Apk,
    /// `/var/cache/{yum,dnf,zypp}`, filled by yum/dnf/microdnf/zypper.
    Rpm,
    /// `~/.cache/pip`, filled by `pip install` without `--no-cache-dir`.
    Pip,
    /// `~/.npm`, filled by `npm install`/`npm ci`.
    Npm,
    /// Yarn v1's `/usr/local/share/.cache/yarn`, filled by `yarn install`.
    Yarn,
}

impl Cache {
    /// Every cache, for rules that look at all of them.
    pub const ALL: [Cache; 6] = [
        Cache::AptLists,
        Cache::Apk,
        Cache::Rpm,
        Cache::Pip,
        Cache::Npm,
        Cache::Yarn,
    ];

    /// What it is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Cache::AptLists => "the apt package lists (/var/lib/apt/lists)",
            Cache::Apk => "the apk index cache (/var/cache/apk)",
            Cache::Rpm => "the package-manager cache (/var/cache/yum, dnf or zypp)",
            Cache::Pip => "pip's download cache (~/.cache/pip)",
            Cache::Npm => "npm's cache (~/.npm)",
            Cache::Yarn => "yarn's cache",
        }
    }

    /// Whether `command` writes this cache (ignoring mounts and environment).
    pub fn is_written_by(self, command: &SimpleCommand) -> bool {
        let command = without_sudo(command);
        match self {
            Cache::AptLists => os_package_command(&command).is_some_and(|c| {
                c.manager == OsPackageManager::Apt && c.action == OsPackageAction::Update
            }),
            Cache::Apk => os_package_command(&command).is_some_and(|c| {
                c.manager == OsPackageManager::Apk
                    && matches!(
                        c.action,
                        OsPackageAction::Install { .. } | OsPackageAction::Update
                    )
                    && !command.has_flag("--no-cache")
            }),
            Cache::Rpm => os_package_command(&command).is_some_and(|c| {
                matches!(
                    c.manager,
                    OsPackageManager::Yum | OsPackageManager::Dnf | OsPackageManager::Zypper
                ) && matches!(
                    c.action,
                    OsPackageAction::Install { .. }
                        | OsPackageAction::Update
                        | OsPackageAction::Upgrade
                )
            }),
            Cache::Pip => pip_install_word(&command).is_some_and(|at| {
                !command.has_flag("--no-cache-dir") && !upgrades_only_pip(&command, at)
            }),
            Cache::Npm => {
                command.program() == "npm"
                    && matches!(
                        command.subcommand(),
                        Some("install" | "i" | "ci" | "add" | "update")
                    )
                    && !command.has_flag("--cache")
            }
            Cache::Yarn => {
                // Bare `yarn` installs; `yarn --version` or `yarn --help` does not.
                let info_only = ["--version", "-v", "--help", "-h"]
                    .iter()
                    .any(|f| command.has_flag(f));
                command.program() == "yarn"
                    && matches!(command.subcommand(), None | Some("install" | "add"))
                    && !info_only
                    && !command.has_flag("--cache-folder")
            }
        }
    }

    /// Whether `command` removes this cache.
    pub fn is_removed_by(self, command: &SimpleCommand) -> bool {
        let command = without_sudo(command);
        let removes = |matches: &dyn Fn(&str) -> bool| removed_paths(&command).any(matches);
        match self {
            Cache::AptLists => {
                removes(&|p| {
                    p.starts_with("/var/lib/apt/lists")
                        || p == "/var/lib/apt"
                        || p == "/var/lib/apt/*"
                }) || (matches!(command.program(), "apt-get" | "apt")
                    && command.subcommand() == Some("dist-clean"))
            }
            Cache::Apk => {
                removes(&|p| p.starts_with("/var/cache/apk") || p.starts_with("/etc/apk/cache"))
                    || os_package_command(&command).is_some_and(|c| {
                        c.manager == OsPackageManager::Apk && c.action == OsPackageAction::Clean
                    })
            }
            Cache::Rpm => {
                removes(&|p| {
                    [
                        "/var/cache/yum",
                        "/var/cache/dnf",
                        "/var/cache/zypp",
                        "/var/cache/libdnf5",
                    ]
                    .iter()
                    .any(|d| p.starts_with(d))
                }) || os_package_command(&command).is_some_and(|c| {
                    c.manager != OsPackageManager::Apt
                        && c.manager != OsPackageManager::Apk
                        && c.action == OsPackageAction::Clean
                })
            }
            Cache::Pip => {
                removes(&|p| {
                    let p = p.trim_end_matches(['/', '*']);
                    p.ends_with("/.cache") || p.ends_with(".cache/pip") || p == "~/.cache"
                }) || (pip_program(&command).is_some_and(|at| {
                    command.words.get(at).map(String::as_str) == Some("cache")
                        && matches!(
                            command.words.get(at + 1).map(String::as_str),
                            Some("purge" | "remove")
                        )
                }))
            }
            Cache::Npm => {
                removes(&|p| {
                    let p = p.trim_end_matches(['/', '*']);
                    p.ends_with("/.npm") || p == "~/.npm" || p.contains(".npm/_cacache")
                }) || (command.program() == "npm"
                    && command.subcommand() == Some("cache")
                    && command
                        .args()
                        .iter()
                        .any(|a| a == "clean" || a == "rm" || a == "clear"))
            }
            Cache::Yarn => {
                removes(&|p| p.contains(".cache/yarn") || p.contains("yarn-cache"))
                    || (command.program() == "yarn"
                        && command.subcommand() == Some("cache")
                        && command.args().iter().any(|a| a == "clean"))
            }
        }
    }

    /// Whether a cache or tmpfs mount of `run` holds this cache, or the
    /// environment keeps it out of the layer.
    pub fn is_held_elsewhere(self, run: &Instruction, state: Option<&InstructionState>) -> bool {
        let var = |name: &str| -> Option<String> {
            let state = state?;
            state
                .env
                .get(name)
                .cloned()
                .or_else(|| state.args.get(name).cloned().flatten())
                .filter(|v| !v.is_empty())
        };
        let mount_ends_with = |suffixes: &[&str]| {
            run.mounts().any(|m| {
                matches!(m.kind, MountType::Cache | MountType::Tmpfs)
                    && m.target.as_deref().is_some_and(|t| {
                        let t = t.trim_end_matches('/');
                        suffixes.iter().any(|s| t.ends_with(s))
                    })
            })
        };
        let mount_at_var =
            |name: &str| var(name).is_some_and(|dir| has_cache_mount_for(run, &[dir.as_str()]));
        match self {
            Cache::AptLists => has_cache_mount_for(run, &["/var/lib/apt/lists"]),
            Cache::Apk => has_cache_mount_for(run, OsPackageManager::Apk.cache_dirs()),
            Cache::Rpm => [
                OsPackageManager::Yum,
                OsPackageManager::Dnf,
                OsPackageManager::Zypper,
            ]
            .iter()
            .any(|m| has_cache_mount_for(run, m.cache_dirs())),
            Cache::Pip => {
                pip_cache_turned_off(run, state)
                    || mount_at_var("PIP_CACHE_DIR")
                    || mount_ends_with(&["/.cache", "/.cache/pip"])
            }
            Cache::Npm => {
                mount_at_var("npm_config_cache")
                    || mount_at_var("NPM_CONFIG_CACHE")
                    || mount_ends_with(&["/.npm"])
            }
            Cache::Yarn => {
                mount_at_var("YARN_CACHE_FOLDER")
                    || mount_ends_with(&["/.cache/yarn", "/yarn", "/.yarn/cache", "/.yarn-cache"])
            }
        }
    }

    /// The commands of one RUN that leave this cache in its layer: those that
    /// write it with no removal after them in the same RUN. Empty when a mount
    /// or the environment keeps the cache out of the layer.
    pub fn kept_by(
        self,
        run: &Instruction,
        commands: &[SimpleCommand],
        state: Option<&InstructionState>,
    ) -> Vec<usize> {
        if self.is_held_elsewhere(run, state) {
            return Vec::new();
        }
        let last_removal = commands.iter().rposition(|c| self.is_removed_by(c));
        commands
            .iter()
            .enumerate()
            .filter(|(i, c)| last_removal.is_none_or(|r| r < *i) && self.is_written_by(c))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Whether pip runs without its cache in `run`: `PIP_NO_CACHE_DIR` set by ENV
/// or ARG, or assigned in the RUN itself (`PIP_NO_CACHE_DIR=1 pip install …`,
/// `export PIP_NO_CACHE_DIR=1 && …`). Any value turns the cache off, `0` and
/// `false` too: pip keeps that old behaviour for compatibility.
pub fn pip_cache_turned_off(run: &Instruction, state: Option<&InstructionState>) -> bool {
    const NAME: &str = "PIP_NO_CACHE_DIR";
    let in_state = state.is_some_and(|state| {
        state.env.get(NAME).is_some_and(|v| !v.is_empty())
            || state
                .args
                .get(NAME)
                .is_some_and(|v| v.as_deref().is_some_and(|v| !v.is_empty()))
    });
    in_state
        || run_scripts(run)
            .iter()
            .any(|script| assigns_non_empty(script, NAME))
}

/// Whether shell text assigns a non-empty value to `name` as a word of its
/// own (`NAME=1 cmd`, `export NAME=1`, `env NAME=1 cmd`). A miss only means a
/// finding the author can silence; a wrong match would hide a real one
/// rarely, since the name is specific.
fn assigns_non_empty(script: &str, name: &str) -> bool {
    script.match_indices(name).any(|(at, _)| {
        let starts_word = script[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || ";&|(".contains(c));
        let value = script[at + name.len()..].strip_prefix('=');
        starts_word
            && value.is_some_and(|v| {
                let v = v.trim_start_matches(['"', '\'']);
                v.starts_with(|c: char| !c.is_whitespace() && !";&|)".contains(c))
            })
    })
}

/// The shipped RUN instructions, in file order, with their index.
pub fn shipped_runs<'a>(
    ctx: &'a LintContext<'_>,
) -> impl Iterator<Item = (usize, &'a Instruction)> + 'a {
    shipped_instructions(ctx.model)
        .into_iter()
        .filter_map(|index| {
            ctx.dockerfile
                .instructions
                .get(index)
                .filter(|i| i.keyword == Keyword::Run)
                .map(|i| (index, i))
        })
}

/// The RUNs that remove one cache, found once per rule so that asking about
/// every RUN of a file stays linear.
pub struct LaterRemovals {
    /// Indexes of the RUNs that remove the cache from the layers below (a
    /// cache mount on it would only empty the mount), in order.
    runs: Vec<usize>,
}

impl LaterRemovals {
    /// Finds the RUNs of the file that remove `cache`.
    pub fn new(ctx: &LintContext<'_>, cache: Cache) -> Self {
        let runs = ctx
            .dockerfile
            .instructions
            .iter()
            .enumerate()
            .filter(|(_, i)| i.keyword == Keyword::Run)
            .filter(|(index, run)| {
                ctx.run_commands_at(*index)
                    .iter()
                    .any(|c| cache.is_removed_by(c))
                    && !cache.is_held_elsewhere(run, ctx.model.state_at(*index))
            })
            .map(|(index, _)| index)
            .collect();
        LaterRemovals { runs }
    }

    /// The first RUN after `index`, built on top of its layer (same stage or
    /// a stage built FROM it), that removes the cache from the layers below:
    /// the cleanup-in-a-later-layer case, which LC301 reports instead.
    pub fn after(&self, ctx: &LintContext<'_>, index: usize) -> Option<usize> {
        let stage = ctx.model.stage_of_instruction(index)?;
        let first_later = self.runs.partition_point(|&run| run <= index);
        self.runs[first_later..]
            .iter()
            .copied()
            .find(|&later| lineage_of_instruction(ctx.model, later).contains(&stage))
    }
}

/// The operands of an `rm` (or `find … -delete`'s start directory), as written.
fn removed_paths(command: &SimpleCommand) -> Box<dyn Iterator<Item = &str> + '_> {
    match command.program() {
        "rm" => Box::new(
            command
                .args()
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str),
        ),
        "find" if command.args().iter().any(|a| a == "-delete") => {
            Box::new(command.args().first().map(String::as_str).into_iter())
        }
        _ => Box::new(std::iter::empty()),
    }
}

/// The index of the word after the pip program: 1 for `pip …`, 3 for
/// `python3 -m pip …`.
fn pip_program(command: &SimpleCommand) -> Option<usize> {
    let program = command.program();
    let is_pip = program == "pip"
        || program
            .strip_prefix("pip")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if is_pip {
        return Some(1);
    }
    let is_python = program
        .strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    match command.words.get(1..3) {
        Some([m, pip]) if is_python && m == "-m" && (pip == "pip" || pip == "pip3") => Some(3),
        _ => None,
    }
}

/// The word index of `install` in `pip install …` / `python -m pip install …`.
pub fn pip_install_word(command: &SimpleCommand) -> Option<usize> {
    let at = pip_program(command)?;
    (command.words.get(at).map(String::as_str) == Some("install")).then_some(at)
}

/// `pip install --upgrade pip setuptools wheel`: a few megabytes of wheels,
/// not worth a finding.
fn upgrades_only_pip(command: &SimpleCommand, install_at: usize) -> bool {
    let operands: Vec<&str> = command
        .words
        .iter()
        .skip(install_at + 1)
        .map(String::as_str)
        .filter(|w| !w.starts_with('-'))
        .collect();
    !operands.is_empty()
        && operands.iter().all(|w| {
            let name = w.split(['=', '<', '>', '~', '!', '[']).next().unwrap_or(w);
            matches!(name, "pip" | "setuptools" | "wheel")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell_command::split_script;

    fn kept(cache: Cache, script: &str) -> Vec<usize> {
        let source = format!("FROM x\nRUN {script}\n");
        let dockerfile = layercake_syntax::parse(&source);
        let Some(run) = dockerfile.instructions.get(1) else {
            return vec![usize::MAX];
        };
        cache.kept_by(run, &split_script(script), None)
    }

    #[test]
    fn apt_lists_need_removal_after_the_update() {
        assert_eq!(
            kept(Cache::AptLists, "apt-get update && apt-get install -y x"),
            [0]
        );
        assert!(
            kept(
                Cache::AptLists,
                "apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*"
            )
            .is_empty()
        );
        assert_eq!(
            kept(
                Cache::AptLists,
                "rm -rf /var/lib/apt/lists/* && apt-get update"
            ),
            [1]
        );
        assert!(
            kept(
                Cache::AptLists,
                "--mount=type=cache,target=/var/lib/apt apt-get update"
            )
            .is_empty()
        );
    }

    #[test]
    fn pip_and_apk_flags() {
        assert_eq!(kept(Cache::Pip, "python3 -m pip install -r r.txt"), [0]);
        assert!(kept(Cache::Pip, "pip install --no-cache-dir -r r.txt").is_empty());
        assert!(kept(Cache::Pip, "pip install --upgrade pip setuptools").is_empty());
        assert!(kept(Cache::Pip, "uv pip install x").is_empty());
        assert!(kept(Cache::Pip, "pip install x && pip cache purge").is_empty());
        assert!(kept(Cache::Pip, "PIP_NO_CACHE_DIR=1 pip install x").is_empty());
        assert!(kept(Cache::Pip, "export PIP_NO_CACHE_DIR=0 && pip install x").is_empty());
        assert_eq!(kept(Cache::Pip, "PIP_NO_CACHE_DIR= pip install x"), [0]);
        assert_eq!(
            kept(Cache::Pip, "echo $PIP_NO_CACHE_DIR && pip install x"),
            [1]
        );
        assert_eq!(kept(Cache::Apk, "apk add curl"), [0]);
        assert!(kept(Cache::Apk, "apk --no-cache add curl").is_empty());
        assert!(kept(Cache::Apk, "apk add curl && rm -rf /var/cache/apk/*").is_empty());
    }
}
