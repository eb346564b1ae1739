//! The images a repository builds: a Dockerfile, its build context, and how
//! it is built.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::GitError;
use crate::repository::{Commit, ls_tree};

/// One image a repository builds.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BuildTarget {
    /// The Dockerfile, relative to the repository root.
    pub dockerfile: PathBuf,
    /// The build context directory, relative to the repository root (empty
    /// for the root itself).
    pub context: PathBuf,
    /// The stage to build (`--target`), if not the last.
    pub target: Option<String>,
    /// Build arguments (`--build-arg NAME=VALUE`).
    pub build_args: BTreeMap<String, String>,
    /// The platform to build for (`--platform`), if not the builder's own.
    pub platform: Option<String>,
}

impl BuildTarget {
    /// The default target for a Dockerfile: its own directory as context,
    /// the last stage, no build arguments, the builder's platform.
    pub fn for_dockerfile(dockerfile: impl Into<PathBuf>) -> Self {
        let dockerfile = dockerfile.into();
        let context = dockerfile
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        BuildTarget {
            dockerfile,
            context,
            ..BuildTarget::default()
        }
    }
}

/// Whether a file name is one layercake treats as a Dockerfile:
/// `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `Containerfile`. A
/// Dockerfile's own ignore file (`Dockerfile.dockerignore`) is not one.
pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") {
        return false;
    }
    name == "Dockerfile"
        || name == "Containerfile"
        || name
            .strip_prefix("Dockerfile.")
            .is_some_and(|rest| !rest.is_empty())
        || name
            .strip_suffix(".Dockerfile")
            .is_some_and(|rest| !rest.is_empty())
}

/// Every Dockerfile in the tree of `commit` (`git ls-tree -r`), each with
/// its directory as build context, in path order.
pub fn discover_targets(repo: &Path, commit: &Commit) -> Result<Vec<BuildTarget>, GitError> {
    let mut targets: Vec<BuildTarget> = ls_tree(repo, commit, true, None)?
        .into_iter()
        .filter(|entry| entry.kind == "blob")
        .filter(|entry| {
            entry
                .path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_dockerfile_name)
        })
        .map(|entry| BuildTarget::for_dockerfile(entry.path))
        .collect();
    targets.sort_by(|a, b| a.dockerfile.cmp(&b.dockerfile));
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "Dockerfile.dev",
            "Dockerfile.prod.arm64",
            "api.Dockerfile",
            "Containerfile",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            "Dockerfile.",
            ".Dockerfile",
            "Dockerfile.dockerignore",
            "api.Dockerfile.dockerignore",
            ".dockerignore",
            "dockerfile.md",
            "MyDockerfile",
            "Dockerfiles",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn default_context_is_the_dockerfiles_directory() {
        let target = BuildTarget::for_dockerfile("services/api/Dockerfile");
        assert_eq!(target.context, Path::new("services/api"));
        let target = BuildTarget::for_dockerfile("Dockerfile");
        assert_eq!(target.context, Path::new(""));
    }
}
