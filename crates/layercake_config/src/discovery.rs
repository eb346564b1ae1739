//! Finding the configuration file that covers a Dockerfile.

use crate::config::{CliOverrides, Config, ResolvedSettings, load, normalize};
use crate::error::ConfigError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file names looked for, in order: in a directory holding both, the first wins.
pub const CONFIG_FILE_NAMES: &[&str] = &[".layercake.yml", ".layercake.yaml"];

/// The configuration file in `dir` itself, if there is one.
fn config_file_in(dir: &Path) -> Option<PathBuf> {
    CONFIG_FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
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
/// a git repository. `None` when there is none.
///
/// To resolve many Dockerfiles, use a [`ConfigResolver`]: it reads each file once.
pub fn discover(dockerfile: &Path) -> Result<Option<Config>, ConfigError> {
    let mut dir = Some(start_dir(dockerfile));
    while let Some(current) = dir {
        if let Some(path) = config_file_in(&current) {
            return load(&path).map(Some);
        }
        if is_repository_root(&current) {
            break;
        }
        dir = current.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

/// Resolves the configuration of many Dockerfiles, reading each file once.
///
/// With an explicit configuration (`--config PATH`) every Dockerfile uses it;
/// otherwise each is searched for as [`discover`] does, and what a directory
/// resolved to is remembered for the Dockerfiles beside and below it.
#[derive(Debug, Default)]
pub struct ConfigResolver {
    explicit: Option<Arc<Config>>,
    by_dir: HashMap<PathBuf, Option<Arc<Config>>>,
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
            by_dir: HashMap::new(),
        }
    }

    /// The configuration that covers `dockerfile`, if any.
    pub fn config_for(&mut self, dockerfile: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Some(explicit) = &self.explicit {
            return Ok(Some(Arc::clone(explicit)));
        }
        let mut visited = Vec::new();
        let mut dir = Some(start_dir(dockerfile));
        let found = loop {
            let Some(current) = dir else { break None };
            if let Some(cached) = self.by_dir.get(&current) {
                break cached.clone();
            }
            if let Some(path) = config_file_in(&current) {
                let config = Arc::new(load(&path)?);
                visited.push(current);
                break Some(config);
            }
            let stop = is_repository_root(&current);
            dir = current.parent().map(Path::to_path_buf);
            visited.push(current);
            if stop {
                break None;
            }
        };
        for dir in visited {
            self.by_dir.insert(dir, found.clone());
        }
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
