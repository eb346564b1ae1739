//! Finding the configuration file that covers a Dockerfile.

use crate::config::{CliOverrides, Config, ResolvedSettings, load, normalize};
use crate::error::ConfigError;
use crate::hadolint::HADOLINT_FILE_NAMES;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file names looked for, in order: in a directory holding both, the first wins.
pub const CONFIG_FILE_NAMES: &[&str] = &[".layercake.yml", ".layercake.yaml"];

/// What a walk up needs to know of one directory.
#[derive(Clone, Debug)]
struct DirFacts {
    /// The first of [`CONFIG_FILE_NAMES`] in it.
    layercake: Option<PathBuf>,
    /// The first of [`HADOLINT_FILE_NAMES`] in it.
    hadolint: Option<PathBuf>,
    /// Whether it is the root of a repository (`.git` as a directory, or as
    /// a file in a worktree or submodule): the walk up stops after it.
    repository_root: bool,
}

impl DirFacts {
    fn read(dir: &Path) -> DirFacts {
        let first = |names: &[&str]| {
            names
                .iter()
                .map(|name| dir.join(name))
                .find(|path| path.is_file())
        };
        DirFacts {
            layercake: first(CONFIG_FILE_NAMES),
            hadolint: first(HADOLINT_FILE_NAMES),
            repository_root: dir.join(".git").exists(),
        }
    }
}

/// The configuration file that covers a Dockerfile in `start`: the nearest
/// `.layercake.yml` (or `.layercake.yaml`) in `start` or above, stopping
/// after the root of a git repository; when there is none, the nearest
/// `.hadolint.yaml` (or `.hadolint.yml`) the same way. `facts` tells what a
/// directory holds (a resolver remembers it: Dockerfiles share ancestors).
fn find_config_file(start: &Path, facts: &mut impl FnMut(&Path) -> DirFacts) -> Option<PathBuf> {
    let mut walked = Vec::new();
    let mut dir = Some(start);
    while let Some(current) = dir {
        let known = facts(current);
        if let Some(path) = known.layercake {
            return Some(path);
        }
        let root = known.repository_root;
        walked.push(known.hadolint);
        if root {
            break;
        }
        dir = current.parent();
    }
    walked.into_iter().flatten().next()
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
    find_config_file(&start_dir(dockerfile), &mut |dir| DirFacts::read(dir))
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
    dirs: HashMap<PathBuf, DirFacts>,
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
        let dirs = &mut self.dirs;
        let mut facts = |dir: &Path| {
            dirs.entry(dir.to_path_buf())
                .or_insert_with(|| DirFacts::read(dir))
                .clone()
        };
        let found = match find_config_file(&start, &mut facts) {
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
