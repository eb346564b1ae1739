//! What `layercake lint` shows the rules of a Dockerfile's build context.

use crate::discover::display_path;
use layercake_lint::BuildContextInfo;
use std::path::Path;

/// The build context of `dockerfile`, taken to be the Dockerfile's directory
/// (as `docker build -f dir/Dockerfile dir` would): its top-level names
/// (directories end with `/`) and the ignore file BuildKit would use —
/// `<Dockerfile name>.dockerignore` next to the Dockerfile first, then
/// `.dockerignore` at the context root. `None` when the directory cannot be
/// read.
pub fn read_build_context(dockerfile: &Path) -> Option<BuildContextInfo> {
    let dir = match dockerfile.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    read_build_context_at(dockerfile, dir)
}

/// [`read_build_context`] for a context directory given explicitly (a
/// configured context, as `docker build -f dockerfile dir` gets it).
pub fn read_build_context_at(dockerfile: &Path, dir: &Path) -> Option<BuildContextInfo> {
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
    let dockerignore = [
        beside.join(format!("{name}.dockerignore")),
        dir.join(".dockerignore"),
    ]
    .iter()
    .find_map(|path| {
        let text = std::fs::read(path).ok()?;
        Some((
            display_path(path),
            String::from_utf8_lossy(&text).into_owned(),
        ))
    });
    let shown = display_path(dir);
    Some(BuildContextInfo {
        dir: if shown.is_empty() {
            ".".to_string()
        } else {
            shown
        },
        entries,
        dockerignore,
    })
}
