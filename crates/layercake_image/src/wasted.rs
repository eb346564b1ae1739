//! Wasted space: bytes an image stores but its final filesystem does not show.

use std::collections::HashMap;

use serde::Serialize;

use crate::ImageSummary;
use crate::filesystem::Filesystem;
use crate::layer::FileKind;

/// One path whose earlier copies waste space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WastedPath {
    /// Absolute path in the image.
    pub path: String,
    /// How many layers stored a copy of it.
    pub copies: u32,
    /// Bytes of the copies that are overwritten or deleted.
    pub wasted_bytes: u64,
    /// True when the final image does not have the path at all (a whiteout deleted it).
    pub removed: bool,
    /// The last layer that hid a copy of it (overwrote or deleted one).
    pub last_hidden_by_layer: usize,
}

/// Bytes stored in layers but hidden by later layers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WastedSpace {
    /// Total wasted bytes.
    pub total_bytes: u64,
    /// Every path that wastes bytes, most wasteful first.
    pub paths: Vec<WastedPath>,
    /// The wasted bytes by the layer that hid them (indexed like the image's
    /// layers): with the base image's layers first, the sum over its layers
    /// is what the base image wastes by itself.
    pub hidden_by_layer: Vec<u64>,
}

impl WastedSpace {
    /// The `n` most wasteful paths.
    pub fn top(&self, n: usize) -> &[WastedPath] {
        self.paths.get(..n.min(self.paths.len())).unwrap_or(&[])
    }
}

/// Wasted space of an image: a file written in N layers wastes its first N−1 copies
/// (the last one is what the image shows); a file later deleted by a whiteout or an
/// opaque directory wastes every copy. dive counts all N copies (dive #684); this does not.
pub fn wasted_space(image: &ImageSummary) -> WastedSpace {
    // Per path: copies hidden, bytes hidden, the last layer that hid one.
    let mut by_path: HashMap<String, (u32, u64, usize)> = HashMap::new();
    let mut hidden_by_layer = vec![0u64; image.layers.len()];
    let mut filesystem = Filesystem::default();
    for (position, layer) in image.layers.iter().enumerate() {
        let hidden_here = &mut hidden_by_layer[position];
        filesystem.apply(layer, &mut |path, old| {
            if old.kind == FileKind::File {
                let slot = by_path.entry(path.to_owned()).or_default();
                slot.0 += 1;
                slot.1 = slot.1.saturating_add(old.size);
                slot.2 = position;
                *hidden_here = hidden_here.saturating_add(old.size);
            }
        });
    }
    let mut paths: Vec<WastedPath> = by_path
        .into_iter()
        .filter(|(_, (_, wasted, _))| *wasted > 0)
        .map(|(path, (discarded, wasted_bytes, last_hidden_by_layer))| {
            let present = filesystem
                .get(&path)
                .is_some_and(|e| e.kind == FileKind::File);
            WastedPath {
                copies: discarded + u32::from(present),
                removed: filesystem.get(&path).is_none(),
                path,
                wasted_bytes,
                last_hidden_by_layer,
            }
        })
        .collect();
    paths.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then_with(|| a.path.cmp(&b.path))
    });
    WastedSpace {
        total_bytes: paths.iter().map(|p| p.wasted_bytes).sum(),
        paths,
        hidden_by_layer,
    }
}
