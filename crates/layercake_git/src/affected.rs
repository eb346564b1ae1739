//! Which build targets a change affects, and why.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::repository::{ChangeStatus, ChangedPath};
use crate::targets::BuildTarget;
use layercake_dockerignore::{DockerIgnore, LexicalPath};

/// How many changed paths a [`AffectedReason::ContextChanged`] lists.
pub const LISTED_CONTEXT_PATHS: usize = 5;

/// A build target the change affects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffectedTarget {
    /// The target (from the head's targets; from the base's when deleted).
    pub target: BuildTarget,
    /// Why it is affected.
    pub reason: AffectedReason,
}

/// Why a build target is affected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AffectedReason {
    /// The Dockerfile is new.
    DockerfileAdded,
    /// The Dockerfile is gone.
    DockerfileDeleted,
    /// The Dockerfile's text changed.
    DockerfileModified,
    /// The Dockerfile moved (and may have changed).
    DockerfileRenamed {
        /// Its repository-relative path before.
        from: PathBuf,
    },
    /// Files the build sends changed: inside the context and not excluded
    /// by its `.dockerignore` (or a change to that ignore file).
    ContextChanged {
        /// The first [`LISTED_CONTEXT_PATHS`] such paths, repository-relative.
        paths: Vec<PathBuf>,
        /// How many there are in all.
        count: usize,
    },
}

/// The targets a change affects.
///
/// A target of `targets_at_head` is affected when its Dockerfile was added,
/// modified or renamed, or when a changed path (either side of a rename)
/// lies inside its context and is not excluded by the ignore file BuildKit
/// would use. A target of `targets_at_base` is affected when its Dockerfile
/// was deleted.
///
/// `read_file` returns the text of a repository-relative file at head, or
/// `None` when there is none; it is asked for `<Dockerfile>.dockerignore`
/// first (BuildKit prefers it) and then `<context>/.dockerignore`. A change
/// to the ignore file in use always counts as a context change.
pub fn affected_targets(
    targets_at_base: &[BuildTarget],
    targets_at_head: &[BuildTarget],
    changes: &[ChangedPath],
    read_file: impl Fn(&Path) -> Option<String>,
) -> Vec<AffectedTarget> {
    let by_path: HashMap<&Path, &ChangedPath> = changes
        .iter()
        .map(|change| (change.path.as_path(), change))
        .collect();
    let mut affected = Vec::new();
    for target in targets_at_head {
        let dockerfile = normalize(&target.dockerfile);
        let reason = match by_path.get(dockerfile.as_path()).map(|c| (c.status, c)) {
            Some((ChangeStatus::Added, _)) => Some(AffectedReason::DockerfileAdded),
            Some((ChangeStatus::Modified, _)) => Some(AffectedReason::DockerfileModified),
            Some((ChangeStatus::Renamed, change)) => Some(AffectedReason::DockerfileRenamed {
                from: change.old_path.clone().unwrap_or_default(),
            }),
            // A head target whose Dockerfile the diff deletes: the caller's
            // lists disagree with the diff; judge it by its context.
            Some((ChangeStatus::Deleted, _)) | None => context_change(target, changes, &read_file),
        };
        if let Some(reason) = reason {
            affected.push(AffectedTarget {
                target: target.clone(),
                reason,
            });
        }
    }
    let deleted: Vec<&Path> = changes
        .iter()
        .filter(|change| change.status == ChangeStatus::Deleted)
        .map(|change| change.path.as_path())
        .collect();
    for target in targets_at_base {
        if deleted.contains(&normalize(&target.dockerfile).as_path()) {
            affected.push(AffectedTarget {
                target: target.clone(),
                reason: AffectedReason::DockerfileDeleted,
            });
        }
    }
    affected
}

/// The context change affecting `target`, if any.
fn context_change(
    target: &BuildTarget,
    changes: &[ChangedPath],
    read_file: &impl Fn(&Path) -> Option<String>,
) -> Option<AffectedReason> {
    let context = normalize(&target.context);
    let dockerfile = normalize(&target.dockerfile);
    let own_ignore = {
        let mut name = dockerfile.file_name().unwrap_or_default().to_os_string();
        name.push(".dockerignore");
        dockerfile.with_file_name(name)
    };
    let context_ignore = context.join(".dockerignore");
    let text = read_file(&own_ignore).or_else(|| read_file(&context_ignore));
    let ignore = DockerIgnore::parse(text.as_deref().unwrap_or_default());
    let mut hits: Vec<PathBuf> = Vec::new();
    for change in changes {
        let sides = std::iter::once(&change.path).chain(change.old_path.as_ref());
        // A file moved out of the context changed it too: report the side inside.
        let counted = sides.into_iter().find(|path| {
            // Either ignore file changing (added, edited, deleted) changes
            // what is sent, even when it excludes itself.
            if **path == own_ignore || **path == context_ignore {
                return true;
            }
            let Ok(inside) = path.strip_prefix(&context) else {
                return false;
            };
            let relative = inside
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            !ignore.is_excluded(&relative)
        });
        if let Some(path) = counted {
            hits.push(path.clone());
        }
    }
    if hits.is_empty() {
        return None;
    }
    let count = hits.len();
    hits.truncate(LISTED_CONTEXT_PATHS);
    Some(AffectedReason::ContextChanged { paths: hits, count })
}

/// A repository-relative path as git writes it (so `./Dockerfile` and
/// `Dockerfile`, and `.` and the empty context, compare equal); a leading
/// `/` is the repository root too, and a `..` above the root is kept so the
/// path matches nothing in the repository.
fn normalize(path: &Path) -> PathBuf {
    let path = path.strip_prefix("/").unwrap_or(path);
    LexicalPath::of(path).cleaned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, status: ChangeStatus) -> ChangedPath {
        ChangedPath {
            path: path.into(),
            old_path: None,
            status,
        }
    }

    fn no_files(_: &Path) -> Option<String> {
        None
    }

    #[test]
    fn root_context_written_as_dot() {
        let mut target = BuildTarget::for_dockerfile("./Dockerfile");
        target.context = PathBuf::from(".");
        let changes = [change("src/main.rs", ChangeStatus::Modified)];
        let found = affected_targets(&[], std::slice::from_ref(&target), &changes, no_files);
        assert_eq!(found.len(), 1);
        let changes = [change("Dockerfile", ChangeStatus::Modified)];
        let found = affected_targets(&[], &[target], &changes, no_files);
        assert_eq!(found[0].reason, AffectedReason::DockerfileModified);
    }

    #[test]
    fn dockerfile_paths_compare_by_spelling() {
        let changes = [change("Dockerfile", ChangeStatus::Modified)];
        let found = affected_targets(
            &[],
            &[BuildTarget::for_dockerfile("app/../Dockerfile")],
            &changes,
            no_files,
        );
        assert_eq!(found[0].reason, AffectedReason::DockerfileModified);
        // Above the repository root: nothing in the change is that file.
        let outside = BuildTarget::for_dockerfile("../Dockerfile");
        assert!(affected_targets(&[], &[outside], &changes, no_files).is_empty());
    }

    #[test]
    fn context_paths_are_capped_but_counted() {
        let target = BuildTarget::for_dockerfile("app/Dockerfile");
        let changes: Vec<ChangedPath> = (0..8)
            .map(|n| change(&format!("app/src/{n}.rs"), ChangeStatus::Modified))
            .collect();
        let found = affected_targets(&[], &[target], &changes, no_files);
        let AffectedReason::ContextChanged { paths, count } = &found[0].reason else {
            panic!("{found:?}");
        };
        assert_eq!(*count, 8);
        assert_eq!(paths.len(), LISTED_CONTEXT_PATHS);
    }

    #[test]
    fn dockerfile_specific_ignore_file_is_preferred() {
        let target = BuildTarget::for_dockerfile("app/Dockerfile");
        let read = |path: &Path| match path.to_str() {
            Some("app/Dockerfile.dockerignore") => Some("*.md\n".to_string()),
            Some("app/.dockerignore") => Some("*.rs\n".to_string()),
            _ => None,
        };
        let changes = [change("app/notes.md", ChangeStatus::Modified)];
        assert!(affected_targets(&[], std::slice::from_ref(&target), &changes, read).is_empty());
        let changes = [change("app/main.rs", ChangeStatus::Modified)];
        assert_eq!(
            affected_targets(&[], std::slice::from_ref(&target), &changes, read).len(),
            1
        );
        // Editing the ignore file itself is a context change, even outside the context.
        let mut elsewhere = target.clone();
        elsewhere.context = PathBuf::from("other");
        let changes = [change(
            "app/Dockerfile.dockerignore",
            ChangeStatus::Modified,
        )];
        assert_eq!(affected_targets(&[], &[elsewhere], &changes, read).len(), 1);
    }

    #[test]
    fn a_file_moved_out_of_the_context_is_reported_where_it_was() {
        let target = BuildTarget::for_dockerfile("app/Dockerfile");
        let changes = [ChangedPath {
            path: "lib/util.rs".into(),
            old_path: Some("app/util.rs".into()),
            status: ChangeStatus::Renamed,
        }];
        let found = affected_targets(&[], &[target], &changes, no_files);
        assert_eq!(
            found[0].reason,
            AffectedReason::ContextChanged {
                paths: vec!["app/util.rs".into()],
                count: 1
            }
        );
    }

    #[test]
    fn sibling_paths_are_not_inside_the_context() {
        let target = BuildTarget::for_dockerfile("app/Dockerfile");
        let changes = [change("application/main.rs", ChangeStatus::Modified)];
        assert!(affected_targets(&[], &[target], &changes, no_files).is_empty());
    }
}
