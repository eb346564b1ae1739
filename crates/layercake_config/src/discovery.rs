//! Finding the configuration file that covers a Dockerfile.

use crate::config::{CliOverrides, Config, ResolvedSettings, load, normalize};
use crate::error::ConfigError;
use crate::hadolint::HADOLINT_FILE_NAMES;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file names looked for, in order: in a directory holding both, the first wins.
pub const CONFIG_FILE_NAMES: &[&str] = &[".layercake.yml", ".layercake.yaml"];

/// The first of `names` in `dir` itself, if there is one.
fn file_in(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// The configuration file that covers a Dockerfile in `start`: the nearest
/// `.layercake.yml` (or `.layercake.yaml`) in `start` or above, stopping
/// after the root of a git repository; when there is none, the nearest
/// `.hadolint.yaml` (or `.hadolint.yml`) the same way.
fn find_config_file(start: &Path) -> Option<PathBuf> {
    [CONFIG_FILE_NAMES, HADOLINT_FILE_NAMES]
        .into_iter()
        .find_map(|names| {
            let mut dir = Some(start);
            while let Some(current) = dir {
                if let Some(path) = file_in(current, names) {
                    return Some(path);
                }
                if is_repository_root(current) {
                    break;
                }
                dir = current.parent();
            }
            None
        })
}

/// Whether the walk up stops at `dir`: the root of a repository (`.git` as a
/// directory, or as a file in a worktree or submodule).
fn is_repository_root(dir: &Path) -> bool {
    dir.join(".git").exists()
}

/// The directory a Dockerfile's configuration is searched from: its own, made absolute.
fn start_dir(dockerfile: &Path) -> PathBuf {
    let absolute = normalize(dockerfile);
    absolute
        .parent()
        .map_or(absolute.clone(), Path::to_path_buf)
}

/// Finds and loads the configuration for `dockerfile`: the first `.layercake.yml`
/// (or `.layercake.yaml`) in its directory or above, stopping after the root of
/// a git repository; without one, the first `.hadolint.yaml` (or
/// `.hadolint.yml`) found the same way, read for what it means in layercake.
/// `None` when there is none.
///
/// To resolve many Dockerfiles, use a [`ConfigResolver`]: it reads each file once.
pub fn discover(dockerfile: &Path) -> Result<Option<Config>, ConfigError> {
    find_config_file(&start_dir(dockerfile))
        .map(|path| load(&path))
        .transpose()
}

/// Resolves the configuration of many Dockerfiles, reading each file once.
///
/// With an explicit configuration (`--config PATH`) every Dockerfile uses it;
/// otherwise each is searched for as [`discover`] does, and what a directory
/// resolved to is remembered for the Dockerfiles beside it.
#[derive(Debug, Default)]
pub struct ConfigResolver {
    explicit: Option<Arc<Config>>,
    by_dir: HashMap<PathBuf, Option<Arc<Config>>>,
    by_file: HashMap<PathBuf, Arc<Config>>,
}

impl ConfigResolver {
    /// A resolver that discovers configuration files.
    pub fn new() -> Self {
        ConfigResolver::default()
    }

    /// A resolver that uses `config` for every Dockerfile (`--config PATH`).
    pub fn with_explicit(config: Config) -> Self {
        ConfigResolver {
            explicit: Some(Arc::new(config)),
            ..ConfigResolver::default()
        }
    }

    /// The configuration that covers `dockerfile`, if any.
    pub fn config_for(&mut self, dockerfile: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Some(explicit) = &self.explicit {
            return Ok(Some(Arc::clone(explicit)));
        }
        let start = start_dir(dockerfile);
        if let Some(cached) = self.by_dir.get(&start) {
            return Ok(cached.clone());
        }
        let found = match find_config_file(&start) {
            Some(path) => Some(match self.by_file.get(&path) {
                Some(config) => Arc::clone(config),
                None => {
                    let config = Arc::new(load(&path)?);
                    self.by_file.insert(path, Arc::clone(&config));
                    config
                }
            }),
            None => None,
        };
        self.by_dir.insert(start, found.clone());
        Ok(found)
    }

    /// The settings for `dockerfile`: its configuration (if any) under the command line.
    pub fn settings_for(
        &mut self,
        dockerfile: &Path,
        cli: &CliOverrides,
    ) -> Result<ResolvedSettings, ConfigError> {
        Ok(match self.config_for(dockerfile)? {
            Some(config) => config.settings_for(dockerfile, cli),
            None => cli.settings(),
        })
    }
}
