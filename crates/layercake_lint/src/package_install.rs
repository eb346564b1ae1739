//! Package-manager commands in RUN steps: what they install and how.
//!
//! Rules about size (caches kept, recommends), cache (update and install in
//! separate layers) and multi-stage (build tools shipped) all read the same
//! commands; this module is the one place that understands them.

use crate::shell_command::SimpleCommand;
use layercake_syntax::{Instruction, MountType};

/// An operating-system package manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsPackageManager {
    /// Debian/Ubuntu `apt-get`, `apt` or `aptitude`.
    Apt,
    /// Alpine `apk`.
    Apk,
    /// Red Hat `yum`.
    Yum,
    /// Fedora/RHEL `dnf` or `microdnf`.
    Dnf,
    /// SUSE `zypper`.
    Zypper,
}

impl OsPackageManager {
    /// The program as usually written.
    pub fn program(self) -> &'static str {
        match self {
            OsPackageManager::Apt => "apt-get",
            OsPackageManager::Apk => "apk",
            OsPackageManager::Yum => "yum",
            OsPackageManager::Dnf => "dnf",
            OsPackageManager::Zypper => "zypper",
        }
    }

    /// The directories its download cache and indexes live in, which a
    /// BuildKit cache mount can hold instead of the layer.
    pub fn cache_dirs(self) -> &'static [&'static str] {
        match self {
            OsPackageManager::Apt => &["/var/cache/apt", "/var/lib/apt", "/var/lib/apt/lists"],
            OsPackageManager::Apk => &["/var/cache/apk", "/etc/apk/cache"],
            OsPackageManager::Yum => &["/var/cache/yum"],
            OsPackageManager::Dnf => &["/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5"],
            OsPackageManager::Zypper => &["/var/cache/zypp"],
        }
    }
}

/// What one OS package-manager command does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OsPackageAction {
    /// Refresh the package index (`apt-get update`, `apk update`, `yum makecache`).
    Update,
    /// Install packages.
    Install {
        /// Package names (options removed; `pkg=1.2` kept as written).
        packages: Vec<String>,
    },
    /// Remove packages (`apt-get purge`, `apk del`, `yum remove`).
    Remove {
        /// Package names.
        packages: Vec<String>,
    },
    /// Clean caches (`apt-get clean`, `yum clean all`, `dnf clean all`, `apk cache clean`).
    Clean,
    /// Upgrade installed packages (`apt-get upgrade`, `apk upgrade`, `dnf
    /// upgrade-minimal`, `zypper dup`).
    Upgrade,
    /// Anything else (`apt-cache`, `apt-get download`, …), and a simulation
    /// (`apt-get install -s`), which changes nothing.
    Other,
}

/// An OS package-manager command in a RUN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsPackageCommand {
    /// Which manager.
    pub manager: OsPackageManager,
    /// What it does.
    pub action: OsPackageAction,
    /// The command itself, for flag checks.
    pub command: SimpleCommand,
}

/// Reads `command` as an OS package-manager command (a leading `sudo` is
/// looked through).
pub fn os_package_command(command: &SimpleCommand) -> Option<OsPackageCommand> {
    let command = without_sudo(command);
    let manager = match command.program() {
        "apt-get" | "apt" | "aptitude" => OsPackageManager::Apt,
        "apk" => OsPackageManager::Apk,
        "yum" => OsPackageManager::Yum,
        "dnf" | "microdnf" | "dnf5" => OsPackageManager::Dnf,
        "zypper" => OsPackageManager::Zypper,
        _ => return None,
    };
    let operands: Vec<String> = command
        .args()
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let sub = operands.first().map(String::as_str).unwrap_or("");
    let rest = || {
        operands
            .iter()
            .skip(1)
            .filter(|p| !p.contains('$') || p.len() > 1)
            .cloned()
            .collect::<Vec<_>>()
    };
    let action = match (manager, sub) {
        (OsPackageManager::Apt | OsPackageManager::Apk, "update") => OsPackageAction::Update,
        (OsPackageManager::Zypper, "refresh" | "ref") => OsPackageAction::Update,
        (OsPackageManager::Yum | OsPackageManager::Dnf, "makecache") => OsPackageAction::Update,
        (OsPackageManager::Apk, "add") => OsPackageAction::Install { packages: rest() },
        (OsPackageManager::Zypper, "install" | "in") => {
            OsPackageAction::Install { packages: rest() }
        }
        (OsPackageManager::Apt | OsPackageManager::Yum | OsPackageManager::Dnf, "install") => {
            OsPackageAction::Install { packages: rest() }
        }
        // `dnf in` is dnf's alias of install; `reinstall` downloads the
        // packages again, and asks, like an install.
        (OsPackageManager::Dnf, "in")
        | (OsPackageManager::Yum | OsPackageManager::Dnf, "reinstall") => {
            OsPackageAction::Install { packages: rest() }
        }
        (OsPackageManager::Apk, "del") => OsPackageAction::Remove { packages: rest() },
        (OsPackageManager::Apt, "remove" | "purge" | "autoremove") => {
            OsPackageAction::Remove { packages: rest() }
        }
        (
            OsPackageManager::Yum | OsPackageManager::Dnf | OsPackageManager::Zypper,
            "remove" | "erase" | "rm",
        ) => OsPackageAction::Remove { packages: rest() },
        (
            OsPackageManager::Apt
            | OsPackageManager::Yum
            | OsPackageManager::Dnf
            | OsPackageManager::Zypper,
            "clean",
        )
        | (OsPackageManager::Zypper, "cc") => OsPackageAction::Clean,
        (OsPackageManager::Apk, "cache")
            if operands
                .get(1)
                .is_some_and(|o| o == "clean" || o == "purge") =>
        {
            OsPackageAction::Clean
        }
        (
            _,
            "upgrade" | "dist-upgrade" | "full-upgrade" | "safe-upgrade" | "up" | "update"
            | "upgrade-minimal" | "distro-sync" | "dup",
        ) => OsPackageAction::Upgrade,
        _ => OsPackageAction::Other,
    };
    let action = match action {
        OsPackageAction::Install { .. }
        | OsPackageAction::Remove { .. }
        | OsPackageAction::Upgrade
            if manager == OsPackageManager::Apt && simulates(&command) =>
        {
            OsPackageAction::Other
        }
        action => action,
    };
    Some(OsPackageCommand {
        manager,
        action,
        command,
    })
}

/// Whether an apt command only simulates (`-s`, `--simulate`, `--dry-run`,
/// `--just-print`, `--no-act`, `--recon`, or `s` among clustered short
/// options such as `-qs`): it prints what it would do and installs or
/// removes nothing.
fn simulates(command: &SimpleCommand) -> bool {
    // apt-get's short options that take no value, which may be clustered.
    const FLAGS: &str = "bdfhmqsuvVy";
    command.args().iter().any(|a| match a.strip_prefix("--") {
        Some(long) => matches!(
            long,
            "simulate" | "dry-run" | "just-print" | "no-act" | "recon"
        ),
        None => a
            .strip_prefix('-')
            .is_some_and(|short| short.contains('s') && short.chars().all(|c| FLAGS.contains(c))),
    })
}

/// The command with a leading `sudo` (and its options) removed.
pub fn without_sudo(command: &SimpleCommand) -> SimpleCommand {
    if command.program() != "sudo" {
        return command.clone();
    }
    let words: Vec<String> = command
        .args()
        .iter()
        .skip_while(|a| a.starts_with('-'))
        .cloned()
        .collect();
    SimpleCommand { words }
}

/// Whether a RUN has a BuildKit cache (or tmpfs) mount on one of `dirs` (or
/// a parent or child of one).
pub fn has_cache_mount_for(instruction: &Instruction, dirs: &[&str]) -> bool {
    instruction.mounts().any(|mount| {
        matches!(mount.kind, MountType::Cache | MountType::Tmpfs)
            && mount.target.as_deref().is_some_and(|target| {
                let target = target.trim_end_matches('/');
                dirs.iter().any(|dir| {
                    let dir = dir.trim_end_matches('/');
                    target == dir
                        || dir.starts_with(&format!("{target}/"))
                        || target.starts_with(&format!("{dir}/"))
                })
            })
    })
}

/// Packages that compile or build software: they belong in a builder stage.
pub fn is_build_package(name: &str) -> bool {
    let name = name.split(['=', ':']).next().unwrap_or(name);
    const EXACT: &[&str] = &[
        "build-essential",
        "build-base",
        "gcc",
        "g++",
        "clang",
        "llvm",
        "make",
        "cmake",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
        "gfortran",
        "musl-dev",
        "linux-headers",
        "golang",
        "golang-go",
        "rustc",
        "cargo",
        "default-jdk",
        "openjdk-17-jdk",
        "openjdk-21-jdk",
        "maven",
        "gradle",
        "nodejs-dev",
        "python3-dev",
        "python-dev",
        "gcc-c++",
        "kernel-devel",
    ];
    EXACT.contains(&name)
        || name.ends_with("-dev")
        || name.ends_with("-devel")
        || (name.starts_with("gcc-") && name[4..].chars().all(|c| c.is_ascii_digit()))
        || (name.starts_with("g++-") && name[4..].chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell_command::split_script;

    fn action(script: &str) -> Option<OsPackageAction> {
        split_script(script)
            .iter()
            .find_map(os_package_command)
            .map(|c| c.action)
    }

    #[test]
    fn reads_install_update_clean() {
        assert_eq!(
            action("apt-get install -y --no-install-recommends curl ca-certificates"),
            Some(OsPackageAction::Install {
                packages: vec!["curl".into(), "ca-certificates".into()]
            })
        );
        assert_eq!(action("sudo apt-get update"), Some(OsPackageAction::Update));
        assert_eq!(
            action("apk add --no-cache build-base"),
            Some(OsPackageAction::Install {
                packages: vec!["build-base".into()]
            })
        );
        assert_eq!(action("yum clean all"), Some(OsPackageAction::Clean));
        assert_eq!(
            action("dnf -y install gcc"),
            Some(OsPackageAction::Install {
                packages: vec!["gcc".into()]
            })
        );
        assert_eq!(
            action("apk del .build-deps"),
            Some(OsPackageAction::Remove {
                packages: vec![".build-deps".into()]
            })
        );
        assert_eq!(action("echo apt-get"), None);
        for simulation in [
            "apt-get install -s curl",
            "apt-get -qs install curl",
            "apt-get --simulate install curl",
            "apt-get install --dry-run curl",
            "apt install --just-print curl",
            "aptitude --no-act install curl",
            "apt-get --recon purge curl",
            "apt-get -s upgrade",
        ] {
            assert_eq!(
                action(simulation),
                Some(OsPackageAction::Other),
                "{simulation}"
            );
        }
        assert_eq!(
            action("apt-get -y -oAPT::Install-Suggests=0 install curl"),
            Some(OsPackageAction::Install {
                packages: vec!["curl".into()]
            })
        );
    }

    #[test]
    fn reads_aliases_and_other_front_ends() {
        let gcc = || OsPackageAction::Install {
            packages: vec!["gcc".into()],
        };
        assert_eq!(action("dnf -y in gcc"), Some(gcc()));
        assert_eq!(action("yum reinstall -y gcc"), Some(gcc()));
        assert_eq!(action("aptitude install -y gcc"), Some(gcc()));
        assert_eq!(action("aptitude clean"), Some(OsPackageAction::Clean));
        assert_eq!(action("zypper cc -a"), Some(OsPackageAction::Clean));
        for upgrade in [
            "dnf upgrade -y",
            "yum update -y",
            "microdnf up",
            "dnf upgrade-minimal -y",
            "zypper -n dup",
            "aptitude safe-upgrade -y",
        ] {
            assert_eq!(action(upgrade), Some(OsPackageAction::Upgrade), "{upgrade}");
        }
    }

    #[test]
    fn knows_build_packages() {
        for yes in [
            "build-essential",
            "gcc",
            "gcc-12",
            "libpq-dev",
            "openssl-devel",
            "build-base",
            "musl-dev",
        ] {
            assert!(is_build_package(yes), "{yes}");
        }
        for no in ["curl", "ca-certificates", "libpq5", "tini", "devscripts-x"] {
            assert!(!is_build_package(no), "{no}");
        }
    }
}
