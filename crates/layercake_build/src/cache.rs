//! Image analyses kept on disk: each image by its ID, each layer by its
//! `diff_id`. An image ID is the digest of the image's configuration, which
//! names every layer by content and holds the history, so the same ID is the
//! same image: what was read once need not be read again. BuildKit gives a
//! rebuild whose steps all come from its cache the same ID, so the base side
//! of a pull request is read once, not on every push. A `diff_id` is the
//! digest of a layer's tar, so a layer read in one image is known in every
//! other: when the base branch moves, a base image rebuilt on the same
//! `FROM` and install steps reads only the layers that changed.
//!
//! An image entry holds the image's summary without its layers' file lists;
//! those are in the layer entries, each kept once however many images share
//! it. A layer's compressed size may be unknown when it is first kept (it is
//! measured only when something needs it, see
//! [`crate::Docker::measure_compressed`]); the entry gains it once measured.

use layercake_image::{ImageSummary, LayerSummary, ReadOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The version of what an analysis holds: raised whenever `layercake_image`
/// changes what it measures, so analyses kept by an older build are not used.
/// (4: a compressed size may be `null`, not measured; 3 wrote 0 for that.)
pub const FORMAT: u32 = 4;

/// The most image analyses kept; the least recently written go first.
pub const MAX_ENTRIES: usize = 256;

/// The most layer analyses kept; the least recently used go first (an image
/// whose layer went is read again).
pub const MAX_LAYER_ENTRIES: usize = 1024;

/// What an entry is of.
#[derive(Clone, Copy)]
enum Entry {
    Image,
    Layer,
}

impl Entry {
    fn infix(self) -> &'static str {
        match self {
            Entry::Image => "image",
            Entry::Layer => "layer",
        }
    }

    fn limit(self) -> usize {
        match self {
            Entry::Image => MAX_ENTRIES,
            Entry::Layer => MAX_LAYER_ENTRIES,
        }
    }
}

/// A directory of image and layer analyses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageCache {
    dir: PathBuf,
}

impl ImageCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> ImageCache {
        ImageCache { dir: dir.into() }
    }

    /// `$LAYERCAKE_IMAGE_CACHE`, else `$XDG_CACHE_HOME/layercake/images`,
    /// else `$HOME/.cache/layercake/images`; `None` when none is set.
    pub fn default_dir() -> Option<PathBuf> {
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("LAYERCAKE_IMAGE_CACHE")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("layercake/images")))
            .or_else(|| env("HOME").map(|d| d.join(".cache/layercake/images")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the entry for `digest` (an image ID or a `diff_id`) read
    /// with `options`: the analyser's version and the gzip level are part of
    /// the name, since both change the result.
    fn path(&self, entry: Entry, digest: &str, options: &ReadOptions) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let gzip = options
            .gzip_level
            .map_or_else(|| "none".to_string(), |level| level.to_string());
        Some(self.dir.join(format!(
            "v{}-f{FORMAT}-gzip{gzip}-{}-{hex}.json",
            env!("CARGO_PKG_VERSION"),
            entry.infix()
        )))
    }

    fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// The analysis of `image_id`, if it and all its layers were kept;
    /// anything unreadable is a miss. A layer's compressed size is the layer
    /// entry's, which may have been measured since the image was kept.
    pub fn get(&self, image_id: &str, options: &ReadOptions) -> Option<ImageSummary> {
        let mut summary: ImageSummary = Self::read(&self.path(Entry::Image, image_id, options)?)?;
        for layer in &mut summary.layers {
            let kept = self.layer(layer.diff_id.as_deref()?, options)?;
            if (kept.size_bytes, kept.tar_bytes) != (layer.size_bytes, layer.tar_bytes) {
                return None;
            }
            layer.compressed_bytes = kept.compressed_bytes.or(layer.compressed_bytes);
            layer.files = kept.files;
            layer.whiteouts = kept.whiteouts;
            layer.opaque_dirs = kept.opaque_dirs;
            layer.package_databases = kept.package_databases;
        }
        summary.compressed_bytes = summary.layers.iter().map(|l| l.compressed_bytes).sum();
        Some(summary)
    }

    /// The analyses kept of the layers among `diff_ids` (for
    /// [`ReadOptions::known_layers`]: an image not kept whole may still share
    /// layers with one that was).
    pub fn layers(&self, diff_ids: &[String], options: &ReadOptions) -> Vec<LayerSummary> {
        diff_ids
            .iter()
            .filter_map(|diff_id| self.layer(diff_id, options))
            .collect()
    }

    fn layer(&self, diff_id: &str, options: &ReadOptions) -> Option<LayerSummary> {
        let path = self.path(Entry::Layer, diff_id, options)?;
        let layer: LayerSummary = Self::read(&path)?;
        // Used: the last to go when layers are pruned.
        let _ = std::fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|file| file.set_modified(SystemTime::now()));
        (layer.diff_id.as_deref() == Some(diff_id)).then_some(layer)
    }

    /// Keeps `summary` as the analysis of `image_id`: each layer by its
    /// `diff_id` (unless kept already, with its compressed size if `summary`
    /// knows it), then the image without its layers'
    /// file lists. Each file is written to a temporary file and renamed, so a
    /// reader never sees half of one; the oldest entries beyond
    /// [`MAX_ENTRIES`] images and [`MAX_LAYER_ENTRIES`] layers go.
    pub fn put(
        &self,
        image_id: &str,
        options: &ReadOptions,
        summary: &ImageSummary,
    ) -> io::Result<()> {
        let Some(image_path) = self.path(Entry::Image, image_id, options) else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.dir)?;
        let mut outline = summary.clone();
        for layer in &mut outline.layers {
            let Some(diff_id) = layer.diff_id.clone() else {
                // A layer no digest names cannot be found again: neither can the image.
                return Ok(());
            };
            let kept = self.layer(&diff_id, options);
            let news = kept.is_none_or(|kept| {
                kept.compressed_bytes.is_none() && layer.compressed_bytes.is_some()
            });
            if news && let Some(path) = self.path(Entry::Layer, &diff_id, options) {
                self.write(&path, layer)?;
            }
            layer.files = Vec::new();
            layer.whiteouts = Vec::new();
            layer.opaque_dirs = Vec::new();
            layer.package_databases = Vec::new();
        }
        self.write(&image_path, &outline)?;
        self.prune(Entry::Image)?;
        self.prune(Entry::Layer)
    }

    fn write(&self, path: &Path, value: &impl serde::Serialize) -> io::Result<()> {
        let temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        // Buffered: serde_json writes each token on its own.
        let mut writer = io::BufWriter::new(temp);
        serde_json::to_writer(&mut writer, value).map_err(io::Error::other)?;
        let temp = writer.into_inner().map_err(|e| e.into_error())?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    fn prune(&self, entry: Entry) -> io::Result<()> {
        let infix = format!("-{}-", entry.infix());
        let mut entries: Vec<(SystemTime, PathBuf)> = std::fs::read_dir(&self.dir)?
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".json") && name.contains(&infix)
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= entry.limit() {
            return Ok(());
        }
        entries.sort();
        for (_, path) in &entries[..entries.len() - entry.limit()] {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_image_ids_have_entries() {
        let cache = ImageCache::new("/nonexistent");
        let options = ReadOptions::default();
        assert!(cache.path(Entry::Image, "sha256:abc", &options).is_none());
        assert!(
            cache
                .path(
                    Entry::Layer,
                    &format!("sha256:{}", "../".repeat(21) + "x"),
                    &options
                )
                .is_none()
        );
        let id = format!("sha256:{}", "a".repeat(64));
        let path = cache.path(Entry::Image, &id, &options).expect("a path");
        assert!(
            path.to_string_lossy()
                .ends_with(&format!("-gzip6-image-{}.json", "a".repeat(64)))
        );
        assert!(cache.get(&id, &options).is_none());
    }

    fn image(diff_ids: &[u32]) -> ImageSummary {
        let layers: Vec<LayerSummary> = diff_ids
            .iter()
            .enumerate()
            .map(|(index, n)| LayerSummary {
                index,
                archive_path: format!("{n}/layer.tar"),
                diff_id: Some(format!("sha256:{n:064x}")),
                size_bytes: u64::from(*n) * 10,
                tar_bytes: u64::from(*n) * 10 + 1024,
                compressed_bytes: Some(u64::from(*n)),
                created_by: Some(format!("RUN step {n}")),
                comment: None,
                files: vec![layercake_image::FileEntry {
                    path: format!("/file-of-layer-{n}"),
                    size: u64::from(*n) * 10,
                    kind: layercake_image::FileKind::File,
                    mode: 0o644,
                }],
                whiteouts: vec![format!("/gone-{n}")],
                opaque_dirs: Vec::new(),
                package_databases: Vec::new(),
                content_key: (u64::from(*n) * 10 + 1024, u64::from(*n)),
            })
            .collect();
        ImageSummary {
            format: layercake_image::ArchiveFormat::LayerStore,
            repo_tags: Vec::new(),
            config: layercake_image::ImageConfig::default(),
            size_bytes: layers.iter().map(|l| l.size_bytes).sum(),
            tar_bytes: layers.iter().map(|l| l.tar_bytes).sum(),
            compressed_bytes: layers.iter().map(|l| l.compressed_bytes).sum(),
            layers,
        }
    }

    fn entries(dir: &Path, infix: &str) -> usize {
        std::fs::read_dir(dir)
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(infix))
            .count()
    }

    #[test]
    fn layers_are_kept_once_and_known_to_every_image_that_shares_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ImageCache::new(dir.path());
        let options = ReadOptions::default();
        let (a, b) = (image(&[1, 2]), image(&[1, 3]));
        let (a_id, b_id) = (
            format!("sha256:{:064x}", 0xa),
            format!("sha256:{:064x}", 0xb),
        );
        cache.put(&a_id, &options, &a).expect("put");
        assert_eq!(cache.get(&a_id, &options), Some(a.clone()));
        // The image entry holds no file list: those are the layers'.
        let image_file = cache.path(Entry::Image, &a_id, &options).expect("path");
        let text = std::fs::read_to_string(image_file).expect("read");
        assert!(!text.contains("/file-of-layer-1"), "{text}");
        // B is not kept, but its first layer is known.
        assert_eq!(cache.get(&b_id, &options), None);
        let known = cache.layers(
            &[format!("sha256:{:064x}", 1), format!("sha256:{:064x}", 3)],
            &options,
        );
        assert_eq!(known, vec![a.layers[0].clone()]);
        cache.put(&b_id, &options, &b).expect("put");
        assert_eq!(cache.get(&b_id, &options), Some(b));
        assert_eq!(entries(dir.path(), "-layer-"), 3, "layer 1 kept once");
        assert_eq!(entries(dir.path(), "-image-"), 2);
        // An image whose layer went is a miss, not half an image.
        let layer_2 = cache
            .path(Entry::Layer, &format!("sha256:{:064x}", 2), &options)
            .expect("path");
        std::fs::remove_file(layer_2).expect("rm");
        assert_eq!(cache.get(&a_id, &options), None);
        // Another gzip level is another analysis.
        let other = ReadOptions {
            gzip_level: None,
            ..ReadOptions::default()
        };
        assert!(
            cache
                .layers(&[format!("sha256:{:064x}", 1)], &other)
                .is_empty()
        );
    }

    #[test]
    fn a_compressed_size_measured_later_reaches_every_image_with_the_layer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ImageCache::new(dir.path());
        let options = ReadOptions::default();
        let unmeasured = |mut image: ImageSummary| {
            for layer in &mut image.layers {
                layer.compressed_bytes = None;
            }
            image.compressed_bytes = None;
            image
        };
        let (a, b) = (unmeasured(image(&[1, 2])), unmeasured(image(&[1, 3])));
        let (a_id, b_id) = (
            format!("sha256:{:064x}", 0xa),
            format!("sha256:{:064x}", 0xb),
        );
        cache.put(&a_id, &options, &a).expect("put");
        cache.put(&b_id, &options, &b).expect("put");
        assert_eq!(cache.get(&b_id, &options), Some(b.clone()));
        // B's layers are measured (layer 1 is A's too); A's entry is not rewritten.
        cache.put(&b_id, &options, &image(&[1, 3])).expect("put");
        assert_eq!(cache.get(&b_id, &options), Some(image(&[1, 3])));
        let a_now = cache.get(&a_id, &options).expect("kept");
        assert_eq!(a_now.layers[0].compressed_bytes, Some(1));
        assert_eq!(a_now.layers[1].compressed_bytes, None);
        assert_eq!(a_now.compressed_bytes, None, "layer 2 is still unmeasured");
        // A size once measured is not lost to a later put that lacks it.
        cache.put(&a_id, &options, &a).expect("put");
        assert_eq!(
            cache.get(&a_id, &options).expect("kept").layers[0].compressed_bytes,
            Some(1)
        );
    }
}
