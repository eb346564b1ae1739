//! Finding a docker CLI that can build with BuildKit, and the image commands.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::Duration;

use layercake_image::{ImageError, ImageSummary, LayerSummary, ReadOptions, StoredLayer};

use crate::layer_store;
use crate::process::{Captured, capture, docker_command, first_line};

/// How long a probe like `docker version` may take before the daemon counts as
/// not answering.
const PROBE_LIMIT: Duration = Duration::from_secs(30);
/// How long `docker image inspect` / `docker image rm` may take.
const IMAGE_COMMAND_LIMIT: Duration = Duration::from_secs(300);
/// The first docker release whose `docker build` ignores `DOCKER_BUILDKIT=1` without
/// buildx (BuildKit became buildx's job in 23.0).
const FIRST_CLIENT_WITHOUT_BUILTIN_BUILDKIT: u32 = 23;

/// How the docker CLI is chosen: `--docker PATH` / env `LAYERCAKE_DOCKER`,
/// `--builder NAME` / env `BUILDX_BUILDER`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerSelection {
    /// This docker binary and no other; `None` searches `PATH`, then `/usr/bin/docker`.
    pub binary: Option<PathBuf>,
    /// The buildx builder to build with; `None` uses buildx's current builder.
    pub builder: Option<String>,
    /// The Docker Engine to talk to, as `DOCKER_HOST` names one
    /// (`unix:///run/other.sock`, `tcp://host:2376`, `ssh://user@host`);
    /// `None` leaves the CLI's own choice (its environment, its context).
    pub host: Option<String>,
}

impl DockerSelection {
    /// The environment variable naming the docker binary.
    pub const BINARY_ENV: &'static str = "LAYERCAKE_DOCKER";
    /// The environment variable naming the buildx builder (buildx's own).
    pub const BUILDER_ENV: &'static str = "BUILDX_BUILDER";

    /// The selection the environment makes: `LAYERCAKE_DOCKER` and `BUILDX_BUILDER`,
    /// each ignored when empty.
    pub fn from_env() -> DockerSelection {
        let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        DockerSelection {
            binary: non_empty(Self::BINARY_ENV).map(PathBuf::from),
            builder: non_empty(Self::BUILDER_ENV).map(|value| value.to_string_lossy().into_owned()),
            host: None,
        }
    }
}

/// How builds are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuildMode {
    /// `docker buildx build [--builder NAME] --load`.
    Buildx,
    /// `DOCKER_BUILDKIT=1 docker build`, for clients before 23.0 without buildx.
    ClassicBuildKit,
}

/// Where [`Docker::read_image`] reads an image from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImageSource {
    /// The engine's layer store when this process can read it, else `docker save`.
    #[default]
    LayerStoreOrSave,
    /// `docker save` only (what the layer store path is checked against).
    Save,
}

/// Where [`Docker::scan_image_cached`]'s analysis came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisOrigin {
    /// The image cache, kept by an earlier read of the same image ID: the
    /// image was not read.
    Cache,
    /// The engine: the image was read (only the layers no known analysis had).
    Engine,
}

/// When a read deflates the layers it reads, to measure their compressed size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deflate {
    /// As it reads them.
    Now,
    /// Later, and only those asked for, when the layers can be read again
    /// cheaply (from the layer store); through `docker save`, now.
    Later,
}

/// What [`Docker::measure_compressed`] deflated: the layers whose compressed
/// size no image and no cache knew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deflated {
    /// How many layers (each `diff_id` once).
    pub layers: usize,
    /// Their uncompressed tar bytes.
    pub tar_bytes: u64,
}

/// A docker CLI that can build with BuildKit, and a daemon that answers it.
#[derive(Debug, Clone)]
pub struct Docker {
    pub(crate) binary: PathBuf,
    pub(crate) mode: BuildMode,
    pub(crate) builder: Option<String>,
    /// `DOCKER_HOST` for every command, when the selection named an engine.
    pub(crate) host: Option<String>,
    pub(crate) client_version: String,
    pub(crate) server_version: String,
    pub(crate) image_source: ImageSource,
    /// Answers of the engine that cannot change while this process runs.
    pub(crate) answers: Arc<EngineAnswers>,
}

/// What the engine said that stays true: its root directory, and what it
/// said of an image named by its ID (an ID names one image for ever). Each
/// `docker` command costs tens of milliseconds, and a review asks these of
/// each image three or four times.
#[derive(Debug, Default)]
pub(crate) struct EngineAnswers {
    root_dir: OnceLock<String>,
    inspected: Mutex<HashMap<String, String>>,
}

/// Why no docker could be used: a sentence for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerUnavailable {
    /// The reason, like `the Docker daemon is not running (docker version: …)`.
    pub reason: String,
}

impl fmt::Display for DockerUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DockerUnavailable {}

/// What went wrong running a docker image command. Every message names the command,
/// and so the image.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The docker binary could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command, like `docker save app:1`.
        command: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The command exited with a failure.
    #[error("`{command}` failed: {stderr}")]
    Failed {
        /// The command.
        command: String,
        /// What docker printed on stderr (trimmed), or the exit status if nothing.
        stderr: String,
    },
    /// The command did not finish in time and was killed.
    #[error("`{command}` did not finish within {}s and was stopped", limit.as_secs())]
    TimedOut {
        /// The command.
        command: String,
        /// The time it had.
        limit: Duration,
    },
    /// The command printed something this crate cannot read.
    #[error("`{command}` printed {output:?}, which is not {expected}")]
    UnexpectedOutput {
        /// The command.
        command: String,
        /// What it printed (trimmed).
        output: String,
        /// What was expected, like `a size in bytes`.
        expected: &'static str,
    },
    /// `docker save` succeeded but its archive could not be read.
    #[error("reading the `docker save` archive of {image}: {source}")]
    Image {
        /// The image.
        image: String,
        /// The reader's error.
        #[source]
        source: ImageError,
    },
    /// The image could not be read from the engine's layer store.
    #[error("reading {image} from the engine's layer store: {reason}")]
    LayerStore {
        /// The image.
        image: String,
        /// Why not, naming the file or fact that did not hold.
        reason: String,
    },
    /// Reading `docker save`'s output failed.
    #[error("reading the output of `{command}`: {source}")]
    Io {
        /// The command.
        command: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl Docker {
    /// Finds a working CLI and a reachable daemon.
    ///
    /// Candidates: `selection.binary` if given (only that one); else every `docker` on
    /// `PATH`, then `/usr/bin/docker` (the same file found twice is tried once). A
    /// candidate with `docker buildx version` builds with buildx; one without builds with
    /// `DOCKER_BUILDKIT=1` only if the client is older than 23.0, since newer clients
    /// need buildx for BuildKit; otherwise the next candidate is tried. A builder name
    /// needs buildx, and must be known to it. The daemon must answer `docker version`.
    pub fn detect(selection: &DockerSelection) -> Result<Docker, DockerUnavailable> {
        let candidates = match &selection.binary {
            Some(binary) => vec![binary.clone()],
            None => candidates_on_path(),
        };
        if candidates.is_empty() {
            return Err(DockerUnavailable {
                reason: "no docker CLI found on PATH or at /usr/bin/docker; install docker or set LAYERCAKE_DOCKER"
                    .to_string(),
            });
        }
        let mut reasons = Vec::new();
        for binary in &candidates {
            match probe(
                binary,
                selection.builder.as_deref(),
                selection.host.as_deref(),
            ) {
                Ok(docker) => return Ok(docker),
                // The daemon is the same for every client: no other candidate helps,
                // and this is the reason a user can act on.
                Err(Probe::Daemon(reason)) => return Err(DockerUnavailable { reason }),
                Err(Probe::Client(reason)) => reasons.push(reason),
            }
        }
        Err(DockerUnavailable {
            reason: reasons.join("; "),
        })
    }

    /// A `docker ARGS…` command for this CLI and engine.
    pub(crate) fn command<I, S>(&self, args: I) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        on_host(docker_command(&self.binary, args), self.host.as_deref())
    }

    /// The engine this docker talks to (`DOCKER_HOST`), when one was named.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The same docker, reading images from `source`.
    pub fn reading_images_from(mut self, source: ImageSource) -> Docker {
        self.image_source = source;
        self
    }

    /// Where images are read from.
    pub fn image_source(&self) -> ImageSource {
        self.image_source
    }

    /// The docker binary in use.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// How builds are run.
    pub fn mode(&self) -> BuildMode {
        self.mode
    }

    /// The buildx builder builds use, when one was chosen.
    pub fn builder(&self) -> Option<&str> {
        self.builder.as_deref()
    }

    /// The client's version, like `20.10.24+dfsg1`.
    pub fn client_version(&self) -> &str {
        &self.client_version
    }

    /// The daemon's version, like `20.10.24+dfsg1`.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// [`Docker::read_image`] for an image that shares layers with `previous`
    /// (head after base): layers `previous` already read are skipped unread,
    /// so only the new ones are scanned and gzip-measured (see
    /// [`Docker::read_image_knowing`]).
    pub fn read_image_after(
        &self,
        image: &str,
        options: &ReadOptions,
        previous: &ImageSummary,
    ) -> Result<ImageSummary, DockerError> {
        self.read_image_knowing(image, options, &previous.layers)
    }

    /// [`Docker::read_image`], skipping the layers among `known` unread. From
    /// the layer store they are recognised by `diff_id`; from `docker save`,
    /// by their content key (size and first 4 KiB; archive member names
    /// differ between saves), and a reused layer whose `diff_id` then turns
    /// out to differ from the one it stood for makes it read the image again
    /// in full.
    pub fn read_image_knowing(
        &self,
        image: &str,
        options: &ReadOptions,
        known: &[LayerSummary],
    ) -> Result<ImageSummary, DockerError> {
        self.read_knowing(image, options, known, Deflate::Now)
    }

    fn read_knowing(
        &self,
        image: &str,
        options: &ReadOptions,
        known: &[LayerSummary],
        deflate: Deflate,
    ) -> Result<ImageSummary, DockerError> {
        if known.is_empty() {
            return self.read(image, options, deflate);
        }
        let with_known = ReadOptions {
            known_layers: known.to_vec(),
            ..options.clone()
        };
        let summary = self.read(image, &with_known, deflate)?;
        // A reused layer must be the layer its diff_id (read last, from the
        // config) says it is; a content key is only a shortcut to find it.
        let consistent = summary.layers.iter().all(|layer| {
            known
                .iter()
                .find(|known| known.content_key == layer.content_key)
                .is_none_or(|known| known.diff_id.is_some() && known.diff_id == layer.diff_id)
        });
        if consistent {
            Ok(summary)
        } else {
            self.read(image, options, deflate)
        }
    }

    /// An image's analysis, every layer's compressed size included: from
    /// `cache` when an earlier read kept it (no read at all then), else read
    /// — skipping the layers `previous` (when given) or any image kept in
    /// `cache` already measured — and kept in `cache`. `image_id` must be
    /// the image's ID (`sha256:…`, what a build reports), the key.
    pub fn read_image_cached(
        &self,
        image_id: &str,
        options: &ReadOptions,
        previous: Option<&ImageSummary>,
        cache: Option<&crate::ImageCache>,
    ) -> Result<ImageSummary, DockerError> {
        let (mut summary, _) = self.scan_image_cached(image_id, options, previous, cache)?;
        let every: BTreeSet<String> = summary
            .layers
            .iter()
            .filter_map(|layer| layer.diff_id.clone())
            .collect();
        self.measure_compressed(&mut [(image_id, &mut summary)], &every, options, cache)?;
        Ok(summary)
    }

    /// [`Docker::read_image_cached`], leaving what can be deflated later
    /// undeflated: layers read from the engine's layer store keep
    /// `compressed_bytes: None` until [`Docker::measure_compressed`] is asked
    /// for them (a layer two images share needs no compressed size for their
    /// difference). Through `docker save` the layers not known are deflated
    /// as they stream past, since reading them again would take another
    /// `docker save`. Also says where the analysis came from (a report shows
    /// whether the image was read).
    pub fn scan_image_cached(
        &self,
        image_id: &str,
        options: &ReadOptions,
        previous: Option<&ImageSummary>,
        cache: Option<&crate::ImageCache>,
    ) -> Result<(ImageSummary, AnalysisOrigin), DockerError> {
        if let Some(summary) = cache.and_then(|c| c.get(image_id, options)) {
            return Ok((summary, AnalysisOrigin::Cache));
        }
        let mut known: Vec<LayerSummary> = previous.map(|p| p.layers.clone()).unwrap_or_default();
        if let Some(cache) = cache {
            // Unknown diff_ids only cost the cache's help, not the read.
            let diff_ids = self.diff_ids(image_id).unwrap_or_default();
            known.extend(cache.layers(&diff_ids, options));
        }
        let summary = self.read_knowing(image_id, options, &known, Deflate::Later)?;
        if let Some(cache) = cache {
            // A cache that cannot be written only costs the next run time.
            let _ = cache.put(image_id, options, &summary);
        }
        Ok((summary, AnalysisOrigin::Engine))
    }

    /// Measures the compressed size (at `options.gzip_level`; nothing without
    /// one) of every layer of `images` whose `diff_id` is in `wanted` and
    /// whose size none of them knows yet, and fills it in wherever that
    /// `diff_id` occurs (the same `diff_id` is the same tar, so the same
    /// size). Each such layer is deflated once, whichever image holds it,
    /// and the layers of all the images are deflated together on every core,
    /// largest first; from the layer store when it can be read, else each
    /// image that needs it is read again through `docker save`. `images`
    /// pairs each image's ID with its summary; the sizes are kept in `cache`.
    pub fn measure_compressed(
        &self,
        images: &mut [(&str, &mut ImageSummary)],
        wanted: &BTreeSet<String>,
        options: &ReadOptions,
        cache: Option<&crate::ImageCache>,
    ) -> Result<Deflated, DockerError> {
        let Some(level) = options.gzip_level else {
            return Ok(Deflated::default());
        };
        let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
        for (_, summary) in images.iter() {
            for layer in &summary.layers {
                if let (Some(diff_id), Some(size)) = (&layer.diff_id, layer.compressed_bytes) {
                    sizes.insert(diff_id.clone(), size);
                }
            }
        }
        let mut missing: Vec<String> = wanted
            .iter()
            .filter(|diff_id| !sizes.contains_key(*diff_id))
            .cloned()
            .collect();
        if let Some(cache) = cache
            && !missing.is_empty()
        {
            // Another image's read (a job beside this one) may have measured it.
            for layer in cache.layers(&missing, options) {
                if let (Some(diff_id), Some(size)) = (layer.diff_id, layer.compressed_bytes) {
                    sizes.insert(diff_id, size);
                }
            }
            missing.retain(|diff_id| !sizes.contains_key(diff_id));
        }
        let mut deflated = Deflated::default();
        if !missing.is_empty() {
            let stored = match self.image_source {
                ImageSource::Save => None,
                ImageSource::LayerStoreOrSave => self.deflate_stored(images, &missing, level).ok(),
            };
            let measured = match stored {
                Some(measured) => measured,
                // Not readable here: `docker save` gives the same tars.
                None => self.deflate_saved(images, &missing, options)?,
            };
            for (diff_id, tar_bytes, size) in measured {
                deflated.layers += 1;
                deflated.tar_bytes += tar_bytes;
                sizes.insert(diff_id, size);
            }
        }
        for (image_id, summary) in images.iter_mut() {
            let mut changed = false;
            for layer in &mut summary.layers {
                if layer.compressed_bytes.is_none()
                    && let Some(size) = layer.diff_id.as_ref().and_then(|id| sizes.get(id))
                {
                    layer.compressed_bytes = Some(*size);
                    changed = true;
                }
            }
            if changed {
                summary.compressed_bytes = summary.layers.iter().map(|l| l.compressed_bytes).sum();
                if let Some(cache) = cache {
                    // A cache that cannot be written only costs the next run time.
                    let _ = cache.put(image_id, options, summary);
                }
            }
        }
        Ok(deflated)
    }

    /// Deflates the layers `missing` names from the engine's layer store, all
    /// images' together: (`diff_id`, tar bytes, compressed size) of each.
    fn deflate_stored(
        &self,
        images: &[(&str, &mut ImageSummary)],
        missing: &[String],
        level: u32,
    ) -> Result<Vec<(String, u64, u64)>, DockerError> {
        let mut layers: Vec<(u64, StoredLayer)> = Vec::with_capacity(missing.len());
        let mut found: BTreeSet<&str> = BTreeSet::new();
        for (image_id, summary) in images {
            let holds = |diff_id: &String| {
                summary
                    .layers
                    .iter()
                    .any(|layer| layer.diff_id.as_ref() == Some(diff_id))
            };
            if !missing
                .iter()
                .any(|diff_id| !found.contains(diff_id.as_str()) && holds(diff_id))
            {
                continue;
            }
            let stored = self.stored_image(image_id)?;
            for (layer, summary_layer) in stored.layers.into_iter().zip(&summary.layers) {
                if let Some(diff_id) = missing.iter().find(|id| **id == layer.diff_id)
                    && found.insert(diff_id.as_str())
                {
                    layers.push((summary_layer.tar_bytes, layer));
                }
            }
        }
        // The largest first: a big layer started last would run alone at the end.
        layers.sort_by_key(|(tar_bytes, _)| std::cmp::Reverse(*tar_bytes));
        let (tar_bytes, layers): (Vec<u64>, Vec<StoredLayer>) = layers.into_iter().unzip();
        let threads = thread::available_parallelism().map_or(1, usize::from);
        let sizes =
            layercake_image::compressed_sizes(&layers, level, threads).map_err(|error| {
                DockerError::LayerStore {
                    image: images
                        .iter()
                        .map(|(id, _)| *id)
                        .collect::<Vec<_>>()
                        .join(", "),
                    reason: error.to_string(),
                }
            })?;
        Ok(layers
            .into_iter()
            .zip(tar_bytes)
            .zip(sizes)
            .map(|((layer, tar_bytes), size)| (layer.diff_id, tar_bytes, size))
            .collect())
    }

    /// Deflates the layers `missing` names by reading each image that holds
    /// one again through `docker save`, every other layer skipped unread.
    fn deflate_saved(
        &self,
        images: &[(&str, &mut ImageSummary)],
        missing: &[String],
        options: &ReadOptions,
    ) -> Result<Vec<(String, u64, u64)>, DockerError> {
        let mut measured: Vec<(String, u64, u64)> = Vec::new();
        for (image_id, summary) in images {
            let left = |measured: &[(String, u64, u64)], diff_id: &String| {
                missing.contains(diff_id) && !measured.iter().any(|(done, _, _)| done == diff_id)
            };
            if !summary
                .layers
                .iter()
                .any(|layer| layer.diff_id.as_ref().is_some_and(|id| left(&measured, id)))
            {
                continue;
            }
            let others: Vec<LayerSummary> = summary
                .layers
                .iter()
                .filter(|layer| {
                    !layer
                        .diff_id
                        .as_ref()
                        .is_some_and(|id| missing.contains(id))
                })
                .cloned()
                .collect();
            let read = self.read_knowing(image_id, options, &others, Deflate::Now)?;
            for layer in read.layers {
                if let (Some(diff_id), Some(size)) = (layer.diff_id, layer.compressed_bytes)
                    && left(&measured, &diff_id)
                {
                    measured.push((diff_id, layer.tar_bytes, size));
                }
            }
        }
        Ok(measured)
    }

    /// The image's layers' `diff_id`s, base-most first (`docker image inspect`).
    pub fn diff_ids(&self, image: &str) -> Result<Vec<String>, DockerError> {
        Ok(self.inspected(image)?.root_fs.layers.unwrap_or_default())
    }

    /// The image as `docker image inspect` describes it.
    fn inspected(&self, image: &str) -> Result<layer_store::Inspected, DockerError> {
        let (command_text, output) = self.inspect_json(image)?;
        serde_json::from_str(&output).map_err(|_| DockerError::UnexpectedOutput {
            command: command_text,
            output: output.chars().take(200).collect(),
            expected: "the image as JSON",
        })
    }

    /// `docker image inspect IMAGE` as JSON, and the command's text for
    /// errors; asked once per process for an image ID.
    fn inspect_json(&self, image: &str) -> Result<(String, String), DockerError> {
        let command_text = format!("docker image inspect {image}");
        let by_id = image.starts_with("sha256:");
        if by_id
            && let Ok(known) = self.answers.inspected.lock()
            && let Some(json) = known.get(image)
        {
            return Ok((command_text, json.clone()));
        }
        let captured = self.run(
            &command_text,
            &["image", "inspect", "--format", "{{json .}}", image],
            IMAGE_COMMAND_LIMIT,
        )?;
        if !captured.success() {
            return Err(failed(command_text, &captured));
        }
        let json = captured.stdout.trim().to_string();
        if by_id && let Ok(mut known) = self.answers.inspected.lock() {
            known.insert(image.to_string(), json.clone());
        }
        Ok((command_text, json))
    }

    /// The engine's root directory (`docker info`), asked once per process.
    fn root_dir(&self) -> Result<String, DockerError> {
        if let Some(root) = self.answers.root_dir.get() {
            return Ok(root.clone());
        }
        let command_text = "docker info".to_string();
        let captured = self.run(
            &command_text,
            &["info", "--format", "{{.DockerRootDir}}"],
            PROBE_LIMIT,
        )?;
        if !captured.success() {
            return Err(failed(command_text, &captured));
        }
        Ok(self
            .answers
            .root_dir
            .get_or_init(|| captured.stdout.clone())
            .clone())
    }

    /// What the image is made of: read from the engine's layer store when
    /// this process can ([`Docker::read_image_stored`], no archive written),
    /// else through `docker save` ([`Docker::read_image_saved`]); only the
    /// latter with [`ImageSource::Save`]. Both give the same summary but for
    /// [`ImageSummary::format`] and the layers' `archive_path`.
    pub fn read_image(
        &self,
        image: &str,
        options: &ReadOptions,
    ) -> Result<ImageSummary, DockerError> {
        self.read(image, options, Deflate::Now)
    }

    fn read(
        &self,
        image: &str,
        options: &ReadOptions,
        deflate: Deflate,
    ) -> Result<ImageSummary, DockerError> {
        if self.image_source == ImageSource::Save {
            return self.read_image_saved(image, options);
        }
        let stored_options = match deflate {
            Deflate::Now => options.clone(),
            // Only metadata is read then: file contents wait for
            // `measure_compressed`, if anything needs them.
            Deflate::Later => ReadOptions {
                gzip_level: None,
                ..options.clone()
            },
        };
        match self.read_image_stored(image, &stored_options) {
            Ok(summary) => Ok(summary),
            // Not readable here (another driver, a remote daemon, no root):
            // `docker save` answers the same question, only slower.
            Err(_) => self.read_image_saved(image, options),
        }
    }

    /// Reads the image straight from the engine's overlay2 layer store (see
    /// [`layercake_image::read_stored_image`]): needs the daemon on this
    /// machine and read access to its root directory.
    pub fn read_image_stored(
        &self,
        image: &str,
        options: &ReadOptions,
    ) -> Result<ImageSummary, DockerError> {
        let stored = self.stored_image(image)?;
        let threads = thread::available_parallelism().map_or(1, usize::from);
        layercake_image::read_stored_image(
            &stored.config,
            &stored.layers,
            stored.repo_tags,
            options,
            threads,
        )
        .map_err(|error| DockerError::LayerStore {
            image: image.to_string(),
            reason: error.to_string(),
        })
    }

    /// The image's config and layers in the engine's layer store, checked.
    fn stored_image(&self, image: &str) -> Result<layer_store::StoredImage, DockerError> {
        let unavailable = |reason: String| DockerError::LayerStore {
            image: image.to_string(),
            reason,
        };
        let root = layer_store::root_dir(&self.root_dir()?)
            .ok_or_else(|| unavailable("`docker info` names no root directory".to_string()))?;
        let inspected = self.inspected(image)?;
        layer_store::find(&root, image, &inspected).map_err(unavailable)
    }

    /// Streams `docker save IMAGE` straight into [`layercake_image::read_image_with`]:
    /// no temporary file, nothing unpacked.
    pub fn read_image_saved(
        &self,
        image: &str,
        options: &ReadOptions,
    ) -> Result<ImageSummary, DockerError> {
        let command_text = format!("docker save {image}");
        let mut command = self.command(["save", image]);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| DockerError::Spawn {
            command: command_text.clone(),
            source,
        })?;
        let stderr = child.stderr.take().map(|mut pipe| {
            let (sender, receiver) = mpsc::channel();
            thread::spawn(move || {
                let mut text = Vec::new();
                let _ = io::Read::read_to_end(&mut pipe, &mut text);
                let _ = sender.send(text);
            });
            receiver
        });
        let (summary, drained) = match child.stdout.take() {
            Some(mut stdout) => {
                let summary = layercake_image::read_image_with(&mut stdout, options);
                // The reader may stop before the end of the archive (on an error, or
                // after the last member it needs); reading the rest lets docker finish
                // writing instead of dying of a broken pipe.
                let drained = io::copy(&mut stdout, &mut io::sink());
                (summary, drained)
            }
            None => (
                Err(ImageError::NoManifest),
                Err(io::Error::other("docker's stdout was not captured")),
            ),
        };
        let status = child.wait().map_err(|source| DockerError::Io {
            command: command_text.clone(),
            source,
        })?;
        let stderr = stderr
            .and_then(|receiver| receiver.recv().ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
            .unwrap_or_default();
        if !status.success() {
            return Err(DockerError::Failed {
                command: command_text,
                stderr: if stderr.is_empty() {
                    status.to_string()
                } else {
                    stderr
                },
            });
        }
        let summary = summary.map_err(|source| DockerError::Image {
            image: image.to_string(),
            source,
        })?;
        drained.map_err(|source| DockerError::Io {
            command: command_text,
            source,
        })?;
        Ok(summary)
    }

    /// The image's size as the engine reports it (`docker image inspect` `.Size`, bytes).
    pub fn image_size(&self, image: &str) -> Result<u64, DockerError> {
        let command_text = format!("docker image inspect {image}");
        let captured = self.run(
            &command_text,
            &["image", "inspect", "--format", "{{.Size}}", image],
            IMAGE_COMMAND_LIMIT,
        )?;
        if !captured.success() {
            return Err(failed(command_text, &captured));
        }
        let output = captured.stdout.trim();
        output.parse().map_err(|_| DockerError::UnexpectedOutput {
            command: command_text,
            output: output.to_string(),
            expected: "a size in bytes",
        })
    }

    /// The tagged images (`repository:tag`) whose repository starts with
    /// `repository_prefix` (`docker image ls`, as a reference filter:
    /// `layercake-diff/job-` lists `layercake-diff/job-*`), sorted.
    pub fn tagged_images(&self, repository_prefix: &str) -> Result<Vec<String>, DockerError> {
        let filter = format!("reference={repository_prefix}*");
        let command_text = format!("docker image ls --filter {filter}");
        let captured = self.run(
            &command_text,
            &[
                "image",
                "ls",
                "--filter",
                &filter,
                "--format",
                "{{.Repository}}:{{.Tag}}",
            ],
            IMAGE_COMMAND_LIMIT,
        )?;
        if !captured.success() {
            return Err(failed(command_text, &captured));
        }
        let mut images: Vec<String> = captured
            .stdout
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with(repository_prefix) && !line.ends_with(":<none>"))
            .map(str::to_string)
            .collect();
        images.sort();
        images.dedup();
        Ok(images)
    }

    /// Removes the image (`docker image rm -f`); an image that does not exist is no error.
    pub fn remove_image(&self, image: &str) -> Result<(), DockerError> {
        self.remove_images(&[image])
    }

    /// Removes the images in one `docker image rm -f`; those that do not
    /// exist are no error.
    pub fn remove_images(&self, images: &[&str]) -> Result<(), DockerError> {
        if images.is_empty() {
            return Ok(());
        }
        let command_text = format!("docker image rm -f {}", images.join(" "));
        let mut args = vec!["image", "rm", "-f"];
        args.extend_from_slice(images);
        let captured = self.run(&command_text, &args, IMAGE_COMMAND_LIMIT)?;
        let only_missing = captured
            .stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .all(|line| line.contains("No such image"));
        if captured.success() || only_missing {
            return Ok(());
        }
        Err(failed(command_text, &captured))
    }

    fn run(
        &self,
        command_text: &str,
        args: &[&str],
        limit: Duration,
    ) -> Result<Captured, DockerError> {
        let captured = capture(self.command(args), limit).map_err(|source| DockerError::Spawn {
            command: command_text.to_string(),
            source,
        })?;
        if captured.status.is_none() {
            return Err(DockerError::TimedOut {
                command: command_text.to_string(),
                limit,
            });
        }
        Ok(captured)
    }
}

fn failed(command: String, captured: &Captured) -> DockerError {
    let stderr = captured.stderr.trim();
    DockerError::Failed {
        command,
        stderr: if stderr.is_empty() {
            captured
                .status
                .map_or_else(|| "no exit status".to_string(), |status| status.to_string())
        } else {
            stderr.to_string()
        },
    }
}

/// Every `docker` on `PATH`, then `/usr/bin/docker`, each file once.
fn candidates_on_path() -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("docker");
            if candidate.is_file() {
                found.push(candidate);
            }
        }
    }
    found.push(PathBuf::from("/usr/bin/docker"));
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|candidate| candidate.is_file())
        .filter(|candidate| {
            let identity = std::fs::canonicalize(candidate).unwrap_or_else(|_| candidate.clone());
            seen.insert(identity)
        })
        .collect()
}

enum Probe {
    /// This client cannot be used; another might.
    Client(String),
    /// The client is fine, the daemon did not answer.
    Daemon(String),
}

fn probe(binary: &Path, builder: Option<&str>, host: Option<&str>) -> Result<Docker, Probe> {
    let shown = binary.display();
    let run = |args: &[&str]| {
        capture(on_host(docker_command(binary, args), host), PROBE_LIMIT)
            .map_err(|error| Probe::Client(format!("cannot run {shown}: {error}")))
    };
    // `docker version` prints the client's version even when the daemon is down (and
    // then exits 1), so stdout is read whatever the status.
    let client = run(&["version", "--format", "{{.Client.Version}}"])?;
    let client_version = first_line(&client.stdout).to_string();
    if client_version.is_empty() {
        let detail = client.stderr_line();
        return Err(Probe::Client(format!(
            "{shown} did not report a docker client version{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            }
        )));
    }
    let has_buildx = run(&["buildx", "version"])?.success();
    let mode = if has_buildx {
        BuildMode::Buildx
    } else {
        if let Some(builder) = builder {
            return Err(Probe::Client(format!(
                "the builder {builder:?} was asked for, but docker {client_version} at {shown} has no buildx; install buildx or leave the builder (BUILDX_BUILDER, --builder) unset"
            )));
        }
        match major_version(&client_version) {
            Some(major) if major < FIRST_CLIENT_WITHOUT_BUILTIN_BUILDKIT => {
                BuildMode::ClassicBuildKit
            }
            Some(_) => {
                return Err(Probe::Client(format!(
                    "docker {client_version} at {shown} has no buildx, so it cannot build with BuildKit; {}",
                    other_client_hint(binary)
                )));
            }
            None => {
                return Err(Probe::Client(format!(
                    "docker at {shown} has no buildx and reports the version {client_version:?}, so whether it can build with BuildKit is unknown; {}",
                    other_client_hint(binary)
                )));
            }
        }
    };
    let server = run(&["version", "--format", "{{.Server.Version}}"])?;
    let server_version = first_line(&server.stdout).to_string();
    if !server.success() || server_version.is_empty() {
        return Err(Probe::Daemon(daemon_reason(&server)));
    }
    if let Some(builder) = builder {
        let inspect = run(&["buildx", "inspect", builder])?;
        if !inspect.success() {
            return Err(Probe::Client(format!(
                "buildx at {shown} does not know the builder {builder:?} ({})",
                inspect.stderr_line()
            )));
        }
    }
    Ok(Docker {
        binary: binary.to_path_buf(),
        mode,
        builder: builder.map(str::to_string),
        host: host.map(str::to_string),
        client_version,
        server_version,
        image_source: ImageSource::default(),
        answers: Arc::default(),
    })
}

/// `command` talking to `host` (`DOCKER_HOST`), when one is named.
fn on_host(mut command: std::process::Command, host: Option<&str>) -> std::process::Command {
    if let Some(host) = host {
        command.env("DOCKER_HOST", host);
    }
    command
}

fn daemon_reason(server: &Captured) -> String {
    if server.status.is_none() {
        return format!(
            "the Docker daemon did not answer `docker version` within {}s",
            PROBE_LIMIT.as_secs()
        );
    }
    let detail = server.stderr_line();
    let detail = detail
        .strip_suffix(" Is the docker daemon running?")
        .map(|rest| rest.trim_end_matches('.'))
        .unwrap_or(detail);
    if detail.contains("Cannot connect to the Docker daemon") {
        format!("the Docker daemon is not running (docker version: {detail})")
    } else if detail.is_empty() {
        "the Docker daemon did not answer (docker version printed no server version)".to_string()
    } else {
        format!("the Docker daemon did not answer (docker version: {detail})")
    }
}

fn other_client_hint(binary: &Path) -> String {
    let debian = Path::new("/usr/bin/docker");
    let same = std::fs::canonicalize(binary).ok() == std::fs::canonicalize(debian).ok();
    if debian.is_file() && !same {
        "set LAYERCAKE_DOCKER=/usr/bin/docker or install buildx".to_string()
    } else {
        "install buildx, or set LAYERCAKE_DOCKER to a docker client older than 23.0".to_string()
    }
}

/// `20.10.24+dfsg1` → 20; `28.2.2` → 28.
fn major_version(version: &str) -> Option<u32> {
    let version = version.trim().trim_start_matches('v');
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_is_shared_between_threads() {
        fn shareable<T: Clone + Send + Sync>() {}
        shareable::<Docker>();
    }

    #[test]
    fn major_versions() {
        assert_eq!(major_version("20.10.24+dfsg1"), Some(20));
        assert_eq!(major_version("28.2.2"), Some(28));
        assert_eq!(major_version("v23.0.0-rc.1"), Some(23));
        assert_eq!(major_version("dev"), None);
    }

    #[test]
    fn daemon_reasons_are_sentences() {
        let captured = capture(
            docker_command(
                Path::new("/bin/sh"),
                [
                    "-c",
                    "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1",
                ],
            ),
            Duration::from_secs(10),
        )
        .expect("runs");
        assert_eq!(
            daemon_reason(&captured),
            "the Docker daemon is not running (docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock)"
        );
    }

    #[test]
    fn candidates_are_distinct_files() {
        let candidates = candidates_on_path();
        let unique: HashSet<_> = candidates
            .iter()
            .map(|c| std::fs::canonicalize(c).expect("exists"))
            .collect();
        assert_eq!(unique.len(), candidates.len());
    }
}
