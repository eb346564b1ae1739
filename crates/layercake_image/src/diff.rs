//! The file-level difference between two images' final filesystems.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ImageSummary;
use crate::layer::FileKind;

/// One path that differs between base and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathChange {
    /// Absolute path in the image.
    pub path: String,
    /// Its size in the base image (0 when absent).
    pub base_bytes: u64,
    /// Its size in the head image (0 when absent).
    pub head_bytes: u64,
}

impl PathChange {
    /// `head_bytes − base_bytes`.
    pub fn delta_bytes(&self) -> i64 {
        signed(self.head_bytes) - signed(self.base_bytes)
    }
}

/// The changes below one directory (the first two components of the parent path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryDelta {
    /// The directory, like `/usr/lib` or `/` for files at the root.
    pub path: String,
    /// Bytes added or grown below it.
    pub added_bytes: u64,
    /// Bytes removed or shrunk below it.
    pub removed_bytes: u64,
    /// `added_bytes − removed_bytes`.
    pub delta_bytes: i64,
    /// How many paths below it changed.
    pub changed_paths: usize,
}

/// What changed between two images' final filesystems. Directories themselves are not
/// compared; a file whose content changed but whose size did not is not detected
/// (only headers are read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageDiff {
    /// Paths only in head, largest first.
    pub added: Vec<PathChange>,
    /// Paths only in base, largest first.
    pub removed: Vec<PathChange>,
    /// Paths larger in head, largest growth first.
    pub grown: Vec<PathChange>,
    /// Paths smaller in head, largest shrink first.
    pub shrunk: Vec<PathChange>,
    /// Changes grouped by directory, largest absolute delta first.
    pub directories: Vec<DirectoryDelta>,
    /// Bytes of regular files in the base's final filesystem.
    pub base_bytes: u64,
    /// Bytes of regular files in the head's final filesystem.
    pub head_bytes: u64,
    /// `head_bytes − base_bytes`.
    pub delta_bytes: i64,
}

/// Compares the final filesystems of `base` and `head`.
pub fn diff_images(base: &ImageSummary, head: &ImageSummary) -> ImageDiff {
    let base_fs = base.final_filesystem();
    let head_fs = head.final_filesystem();
    let base_files: BTreeMap<&str, u64> = base_fs
        .iter()
        .filter(|(_, e)| e.kind != FileKind::Directory)
        .map(|(p, e)| (p, e.size))
        .collect();
    let head_files: BTreeMap<&str, u64> = head_fs
        .iter()
        .filter(|(_, e)| e.kind != FileKind::Directory)
        .map(|(p, e)| (p, e.size))
        .collect();

    let mut diff = ImageDiff::default();
    for (path, &head_bytes) in &head_files {
        match base_files.get(path) {
            None => diff.added.push(PathChange {
                path: (*path).to_owned(),
                base_bytes: 0,
                head_bytes,
            }),
            Some(&base_bytes) if head_bytes > base_bytes => diff.grown.push(PathChange {
                path: (*path).to_owned(),
                base_bytes,
                head_bytes,
            }),
            Some(&base_bytes) if head_bytes < base_bytes => diff.shrunk.push(PathChange {
                path: (*path).to_owned(),
                base_bytes,
                head_bytes,
            }),
            Some(_) => {}
        }
    }
    for (path, &base_bytes) in &base_files {
        if !head_files.contains_key(path) {
            diff.removed.push(PathChange {
                path: (*path).to_owned(),
                base_bytes,
                head_bytes: 0,
            });
        }
    }

    let mut groups: BTreeMap<String, DirectoryDelta> = BTreeMap::new();
    for change in diff
        .added
        .iter()
        .chain(&diff.removed)
        .chain(&diff.grown)
        .chain(&diff.shrunk)
    {
        let dir = group_of(&change.path);
        let group = groups.entry(dir.clone()).or_insert_with(|| DirectoryDelta {
            path: dir,
            added_bytes: 0,
            removed_bytes: 0,
            delta_bytes: 0,
            changed_paths: 0,
        });
        let delta = change.delta_bytes();
        if delta >= 0 {
            group.added_bytes = group.added_bytes.saturating_add(delta.unsigned_abs());
        } else {
            group.removed_bytes = group.removed_bytes.saturating_add(delta.unsigned_abs());
        }
        group.delta_bytes = group.delta_bytes.saturating_add(delta);
        group.changed_paths += 1;
    }
    diff.directories = groups.into_values().collect();
    diff.directories.sort_by(|a, b| {
        b.delta_bytes
            .unsigned_abs()
            .cmp(&a.delta_bytes.unsigned_abs())
            .then_with(|| a.path.cmp(&b.path))
    });

    let by_size = |a: &PathChange, b: &PathChange| {
        b.delta_bytes()
            .unsigned_abs()
            .cmp(&a.delta_bytes().unsigned_abs())
            .then_with(|| a.path.cmp(&b.path))
    };
    diff.added.sort_by(by_size);
    diff.removed.sort_by(by_size);
    diff.grown.sort_by(by_size);
    diff.shrunk.sort_by(by_size);

    diff.base_bytes = base_files.values().sum();
    diff.head_bytes = head_files.values().sum();
    diff.delta_bytes = signed(diff.head_bytes) - signed(diff.base_bytes);
    diff
}

/// The first two components of a path's parent: `/usr/lib/x/y.so` → `/usr/lib`,
/// `/app/server.js` → `/app`, `/README` → `/`.
fn group_of(path: &str) -> String {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let parent = components.len().saturating_sub(1);
    let keep = parent.min(2);
    let dirs = components.get(..keep).unwrap_or(&[]);
    if dirs.is_empty() {
        "/".to_owned()
    } else {
        format!("/{}", dirs.join("/"))
    }
}

fn signed(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}
