//! `layercake migrate hadolint [PATH]`: the `.layercake.yml` equivalent to a
//! `.hadolint.yaml`, on stdout.

use crate::cli::{MigrateCommand, MigrateHadolintArgs};
use anyhow::Context;
use layercake_config::{HADOLINT_FILE_NAMES, migrate_hadolint};
use std::path::{Path, PathBuf};

/// Prints the migrated configuration.
pub fn run(command: &MigrateCommand) -> anyhow::Result<u8> {
    match command {
        MigrateCommand::Hadolint(args) => hadolint(args),
    }
}

fn hadolint(args: &MigrateHadolintArgs) -> anyhow::Result<u8> {
    let path = hadolint_file(args.path.as_deref().unwrap_or(Path::new(".")))?;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let yaml = migrate_hadolint(&path, &text)?;
    crate::output::write_stdout(&yaml)?;
    Ok(crate::EXIT_OK)
}

/// `path` itself, or the hadolint file in the directory `path`.
fn hadolint_file(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    HADOLINT_FILE_NAMES
        .iter()
        .map(|name| path.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| {
            format!(
                "no {} in {}",
                HADOLINT_FILE_NAMES.join(" or "),
                path.display()
            )
        })
}
