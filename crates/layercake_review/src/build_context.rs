//! What the rules see of a Dockerfile's build context.

use layercake_lint::BuildContextInfo;
use std::path::{Path, PathBuf};

/// The build context `dir` of `dockerfile`, as `docker build -f dockerfile
/// dir` gets it: its top-level names (directories end with `/`) and the
/// ignore file BuildKit would use — `<Dockerfile name>.dockerignore` next to
/// the Dockerfile first, then `.dockerignore` at the context root. Paths are
/// shown as `shown` makes them (relative to the repository, say). `None`
/// when the directory cannot be read.
pub fn read_build_context_at(
    dockerfile: &Path,
    dir: &Path,
    shown: impl Fn(&Path) -> PathBuf,
) -> Option<BuildContextInfo> {
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Follows symlinks, as the context transfer does.
            let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
            if is_dir { format!("{name}/") } else { name }
        })
        .collect();
    entries.sort();
    let name = dockerfile.file_name()?.to_string_lossy();
    let beside = dockerfile.parent().unwrap_or(dir);
    let text = |path: &Path| {
        let text = shown(path).to_string_lossy().replace('\\', "/");
        text.strip_prefix("./").map(str::to_string).unwrap_or(text)
    };
    let dockerignore = [
        beside.join(format!("{name}.dockerignore")),
        dir.join(".dockerignore"),
    ]
    .iter()
    .find_map(|path| {
        let bytes = std::fs::read(path).ok()?;
        Some((text(path), String::from_utf8_lossy(&bytes).into_owned()))
    });
    let dir_text = text(dir);
    Some(BuildContextInfo {
        dir: if dir_text.is_empty() {
            ".".to_string()
        } else {
            dir_text
        },
        entries,
        dockerignore,
    })
}
