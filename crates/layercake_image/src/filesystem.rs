//! The filesystem an image's layers add up to.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::layer::{FileKind, LayerSummary};

/// One path of a filesystem and the layer that last wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FsEntry {
    /// Size in bytes (0 for anything but a regular file).
    pub size: u64,
    /// The entry's kind.
    pub kind: FileKind,
    /// Index of the layer that wrote this copy.
    pub layer: usize,
}

/// A filesystem built by applying layers in order, honouring whiteouts and opaque
/// directories. Holds headers only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filesystem {
    entries: BTreeMap<String, FsEntry>,
}

impl Filesystem {
    /// The filesystem of `layers` applied in order.
    pub fn from_layers(layers: &[LayerSummary]) -> Self {
        let mut filesystem = Self::default();
        for layer in layers {
            filesystem.apply(layer, &mut |_, _| {});
        }
        filesystem
    }

    /// The entry at `path` (absolute, like `/etc/passwd`).
    pub fn get(&self, path: &str) -> Option<&FsEntry> {
        self.entries.get(path)
    }

    /// Every entry, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FsEntry)> {
        self.entries
            .iter()
            .map(|(path, entry)| (path.as_str(), entry))
    }

    /// Number of entries (directories included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sum of the sizes of the regular files.
    pub fn total_bytes(&self) -> u64 {
        self.entries.values().map(|e| e.size).sum()
    }

    /// Applies one layer; `discarded` sees every entry of a lower layer (or an earlier
    /// entry of the same layer) that this layer overwrites or deletes.
    pub(crate) fn apply(&mut self, layer: &LayerSummary, discarded: &mut dyn FnMut(&str, FsEntry)) {
        // Whiteouts hide lower layers only, so they go before the layer's own entries.
        for dir in &layer.opaque_dirs {
            self.remove_children(dir, discarded);
        }
        for path in &layer.whiteouts {
            if let Some(entry) = self.entries.remove(path) {
                discarded(path, entry);
            }
            self.remove_children(path, discarded);
        }
        for file in &layer.files {
            let entry = FsEntry {
                size: file.size,
                kind: file.kind,
                layer: layer.index,
            };
            if let Some(old) = self.entries.insert(file.path.clone(), entry) {
                discarded(&file.path, old);
            }
            // A non-directory replaces a directory together with everything below it.
            if file.kind != FileKind::Directory {
                self.remove_children(&file.path, discarded);
            }
        }
    }

    fn remove_children(&mut self, dir: &str, discarded: &mut dyn FnMut(&str, FsEntry)) {
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(path, _)| path.starts_with(&prefix))
            .map(|(path, _)| path.clone())
            .collect();
        for path in doomed {
            if let Some(entry) = self.entries.remove(&path) {
                discarded(&path, entry);
            }
        }
    }
}
