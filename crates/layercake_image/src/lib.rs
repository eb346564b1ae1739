//! layercake's image analysis: what an image is made of, read by streaming its archive.
//!
//! The input is the tar that `docker save` writes (Engine ≤ 24: `manifest.json`,
//! `<sha>.json`, `<id>/layer.tar`; Engine ≥ 25 and `buildx --output type=oci`: an
//! OCI layout with `index.json` and `blobs/sha256/…`, layers plain or gzip). It is
//! read in one pass, in whatever order its members come, without unpacking to disk:
//! only small JSON members and package databases are buffered; of every other file
//! only the tar header (path, size, kind, mode) is kept.
//!
//! | question | function |
//! |---|---|
//! | sizes per layer (uncompressed and gzip), who made each layer, the config `User` | [`read_image`] → [`ImageSummary`] |
//! | how much more or less head weighs compressed, deflating only the layers that differ | [`differing_layers`], [`compressed_delta`] |
//! | bytes hidden by later layers | [`wasted_space`] |
//! | what a change added, removed, grew | [`diff_images`] |
//! | dpkg/apk packages in the final image | [`ImageSummary::installed_packages`] |
//!
//! An image can also be read from the engine's layer store ([`read_stored_image`]):
//! the same layer tars, rebuilt from the metadata Docker keeps for `docker save`,
//! without the archive. There a layer's compressed size can also be measured
//! later, on its own ([`compressed_sizes`]): deflating is most of the cost of
//! reading an image, and a layer base and head share needs no compressed size
//! for the difference between them.
//!
//! Nothing here does I/O beyond reading the given reader, or, for the layer
//! store, the layer files under the directories given.
#![deny(missing_docs)]

mod archive;
mod compressed;
mod config;
mod diff;
mod error;
mod filesystem;
mod layer;
mod packages;
mod store;
mod wasted;

use std::io::Read;

use serde::{Deserialize, Serialize};

pub use archive::JSON_LIMIT;
pub use compressed::{compressed_delta, differing_layers};
pub use config::ImageConfig;
pub use diff::{DirectoryDelta, ImageDiff, PathChange, diff_images};
pub use error::ImageError;
pub use filesystem::{Filesystem, FsEntry};
pub use layer::{FileEntry, FileKind, LayerSummary, PACKAGE_DATABASE_LIMIT};
pub use packages::{
    Package, PackageDatabase, PackageManager, parse_apk_installed, parse_dpkg_status,
};
pub use store::{StoredLayer, compressed_sizes, read_stored_image};
pub use wasted::{WastedPath, WastedSpace, wasted_space};

/// How the archive was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveFormat {
    /// `manifest.json` at the top (`docker save`; Docker 25+ writes it beside an OCI layout).
    DockerSave,
    /// OCI image layout: `index.json` and content-addressed blobs only.
    Oci,
    /// No archive: the engine's layer store, read by [`read_stored_image`].
    LayerStore,
}

/// Everything measured about one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// The archive's layout.
    pub format: ArchiveFormat,
    /// Tags the archive gives the image (`RepoTags`, or the OCI image name annotation).
    pub repo_tags: Vec<String>,
    /// How the image runs.
    pub config: ImageConfig,
    /// Filesystem layers, base-most first.
    pub layers: Vec<LayerSummary>,
    /// Sum of the layers' file sizes.
    pub size_bytes: u64,
    /// Sum of the layers' uncompressed tar sizes.
    pub tar_bytes: u64,
    /// Sum of the layers' gzip sizes (what a registry stores and a pull downloads);
    /// `None` unless every layer's was measured ([`LayerSummary::compressed_bytes`]).
    pub compressed_bytes: Option<u64>,
}

impl ImageSummary {
    /// The filesystem a container of this image starts with.
    pub fn final_filesystem(&self) -> Filesystem {
        Filesystem::from_layers(&self.layers)
    }

    /// Packages installed in the final image, from the dpkg and apk databases that the
    /// final filesystem holds (the last layer that wrote a database wins; a whiteout
    /// removes it). Sorted by manager, then name.
    pub fn installed_packages(&self) -> Vec<Package> {
        let filesystem = self.final_filesystem();
        let mut packages = Vec::new();
        for (path, entry) in filesystem.iter() {
            if entry.kind != FileKind::File || PackageManager::for_path(path).is_none() {
                continue;
            }
            let database = self.layers.get(entry.layer).and_then(|layer| {
                layer
                    .package_databases
                    .iter()
                    .rev()
                    .find(|db| db.path == path)
            });
            if let Some(database) = database {
                packages.extend(database.packages.iter().cloned());
            }
        }
        packages.sort_by(|a, b| a.manager.cmp(&b.manager).then_with(|| a.name.cmp(&b.name)));
        packages
    }
}

/// Options for [`read_image_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// gzip level (0–9) at which plain layers are compressed to measure their compressed
    /// size; `None` skips that (the slowest part of reading) and leaves it `None`.
    pub gzip_level: Option<u32>,
    /// Layers already read from another archive: a member with the same
    /// content key (size and first 4 KiB, [`LayerSummary::content_key`]) is
    /// skipped unread and that summary used instead (base and head share most
    /// layers, so reading head after base costs only its new layers). A key
    /// is not a digest: the caller checks that the `diff_id`s agree. From the
    /// layer store, where `diff_id`s are known before reading, a layer is
    /// skipped when its `diff_id` matches. A known layer is taken as it is,
    /// its compressed size too (`None` stays `None`).
    pub known_layers: Vec<LayerSummary>,
}

impl Default for ReadOptions {
    /// Level 6, gzip's and Docker's default; no known layers.
    fn default() -> Self {
        Self {
            gzip_level: Some(6),
            known_layers: Vec::new(),
        }
    }
}

/// Reads an image archive (`docker save` output or an OCI layout tar) in one pass.
pub fn read_image(reader: impl Read) -> Result<ImageSummary, ImageError> {
    read_image_with(reader, &ReadOptions::default())
}

/// [`read_image`] with options.
pub fn read_image_with(
    reader: impl Read,
    options: &ReadOptions,
) -> Result<ImageSummary, ImageError> {
    archive::read(reader, options)
}
