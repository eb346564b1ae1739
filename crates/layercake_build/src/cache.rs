//! Image analyses kept on disk, by image ID. An image ID is the digest of
//! the image's configuration, which names every layer by content and holds
//! the history, so the same ID is the same image: what was read once need
//! not be read (through `docker save`) again. BuildKit gives a rebuild whose
//! steps all come from its cache the same ID, so the base side of a pull
//! request is read once, not on every push.

use layercake_image::{ImageSummary, ReadOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The version of what an analysis holds: raised whenever `layercake_image`
/// changes what it measures, so analyses kept by an older build are not used.
pub const FORMAT: u32 = 2;

/// The most analyses kept; the least recently written go first.
pub const MAX_ENTRIES: usize = 256;

/// A directory of image analyses.
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

    /// The file for an image read with `options`: the analyser's version and
    /// the gzip level are part of the name, since both change the result.
    fn path(&self, image_id: &str, options: &ReadOptions) -> Option<PathBuf> {
        let hex = image_id.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let gzip = options
            .gzip_level
            .map_or_else(|| "none".to_string(), |level| level.to_string());
        Some(self.dir.join(format!(
            "v{}-f{FORMAT}-gzip{gzip}-{hex}.json",
            env!("CARGO_PKG_VERSION")
        )))
    }

    /// The analysis of `image_id`, if one was kept; anything unreadable is a miss.
    pub fn get(&self, image_id: &str, options: &ReadOptions) -> Option<ImageSummary> {
        let bytes = std::fs::read(self.path(image_id, options)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `summary` as the analysis of `image_id` (written to a temporary
    /// file and renamed, so a reader never sees half of one), then drops the
    /// oldest entries beyond [`MAX_ENTRIES`].
    pub fn put(
        &self,
        image_id: &str,
        options: &ReadOptions,
        summary: &ImageSummary,
    ) -> io::Result<()> {
        let Some(path) = self.path(image_id, options) else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        serde_json::to_writer(&mut temp, summary).map_err(io::Error::other)?;
        temp.persist(&path).map_err(|e| e.error)?;
        self.prune()
    }

    fn prune(&self) -> io::Result<()> {
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.dir)?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= MAX_ENTRIES {
            return Ok(());
        }
        entries.sort();
        for (_, path) in &entries[..entries.len() - MAX_ENTRIES] {
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
        assert!(cache.path("sha256:abc", &options).is_none());
        assert!(
            cache
                .path(&format!("sha256:{}", "../".repeat(21) + "x"), &options)
                .is_none()
        );
        let id = format!("sha256:{}", "a".repeat(64));
        let path = cache.path(&id, &options).expect("a path");
        assert!(
            path.to_string_lossy()
                .ends_with(&format!("-gzip6-{}.json", "a".repeat(64)))
        );
        assert!(cache.get(&id, &options).is_none());
    }
}
