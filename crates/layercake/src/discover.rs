//! Finding Dockerfiles under the paths a user names.

use std::path::{Path, PathBuf};

/// Whether a file name is a Dockerfile by convention: `Dockerfile`,
/// `Dockerfile.*`, `*.Dockerfile`, `Containerfile`, `Containerfile.*`
/// (case-insensitive, as editors and hadolint treat them).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

/// Expands `paths` into Dockerfiles: a file is taken as given (whatever its
/// name); a directory is walked, respecting `.gitignore`, `.ignore` and hidden
/// files. The result is sorted and free of duplicates.
pub fn find_dockerfiles(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| DiscoverError {
            path: path.clone(),
            source,
        })?;
        if meta.is_file() {
            found.push(path.clone());
            continue;
        }
        let walker = ignore::WalkBuilder::new(path)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = entry.map_err(|e| DiscoverError {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            let name = entry.file_name().to_string_lossy();
            if is_file && is_dockerfile_name(&name) {
                found.push(entry.into_path());
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// A path that could not be read.
#[derive(Debug)]
pub struct DiscoverError {
    /// The path the user gave.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for DiscoverError {}

/// The path as shown to the user: relative to the current directory when inside it.
pub fn display_path(path: &Path) -> String {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// `path` relative to the repository a GitHub Actions job checked out
/// (`GITHUB_WORKSPACE`): GitHub resolves an annotation's `file=` against it,
/// whatever directory the step ran in. `None` outside a workflow, or for a
/// file outside the workspace. The directory is resolved (symlinks, `..`),
/// the file name kept, so a linked Dockerfile is shown under its own name.
pub fn workspace_path(path: &Path) -> Option<String> {
    let workspace = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty())?;
    let workspace = std::fs::canonicalize(workspace).ok()?;
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file = std::fs::canonicalize(dir).ok()?.join(name);
    let relative = file.strip_prefix(&workspace).ok()?;
    Some(relative.to_string_lossy().replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_dockerfile_names() {
        for yes in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.dev",
            "api.Dockerfile",
            "Containerfile",
            "x.containerfile",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "Dockerfile-old",
            "README.md",
            "dockerfiles",
            "mydockerfile",
            ".dockerignore",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }
}
