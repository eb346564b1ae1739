//! Reading an image from the engine's layer store instead of a `docker save` archive.
//!
//! Docker Engine keeps, for every layer, its *tar-split* metadata
//! (`image/<driver>/layerdb/sha256/<chain id>/tar-split.json.gz`: every tar
//! header of the layer as it was first written, byte for byte, and the name
//! and size of each file between them) beside the layer's files (overlay2's
//! `<cache id>/diff`). `docker save` rebuilds each layer tar from those two,
//! then writes the whole archive before streaming it. Here the same layer tar
//! is rebuilt in memory, as a stream, and scanned like an archive member: the
//! summary is the one `docker save` would give, without the archive.
//!
//! File contents are only needed for the compressed size, for package
//! databases and for the content key's first 4 KiB; without a gzip
//! measurement every other payload is streamed as zeros, so nothing but
//! metadata is read from disk. The compressed size of chosen layers can be
//! measured afterwards ([`compressed_sizes`]): a caller comparing two images
//! deflates only the layers they do not share.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use flate2::read::GzDecoder;
use serde::Deserialize;

use crate::archive::summarize;
use crate::config::RawConfigFile;
use crate::error::ImageError;
use crate::layer::{
    CONTENT_KEY_BYTES, ScannedLayer, content_key, gzip_size, normalize_layer_path, scan_plain_layer,
};
use crate::{ArchiveFormat, ImageSummary, PackageManager, ReadOptions};

/// One layer as the engine stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLayer {
    /// The layer's `diff_id` (`sha256:…` of its uncompressed tar).
    pub diff_id: String,
    /// Where the layer's metadata is, for messages (and [`crate::LayerSummary::archive_path`]).
    pub location: String,
    /// The layer's tar-split metadata: gzip-compressed JSON lines, as in `tar-split.json.gz`.
    pub tar_split: Vec<u8>,
    /// The directory holding the layer's files (overlay2's `diff`).
    pub files: PathBuf,
}

/// Reads an image from its configuration (the bytes whose digest is the
/// image ID) and its layers, base-most first, as the engine stores them.
///
/// Up to `threads` layers are read at once. Layers in
/// [`ReadOptions::known_layers`] with the same `diff_id` are not read again.
/// `repo_tags` is what a `docker save` of the same name would list.
pub fn read_stored_image(
    config: &[u8],
    layers: &[StoredLayer],
    repo_tags: Vec<String>,
    options: &ReadOptions,
    threads: usize,
) -> Result<ImageSummary, ImageError> {
    let raw: RawConfigFile = serde_json::from_slice(config).map_err(|source| ImageError::Json {
        path: "the image configuration".to_owned(),
        source,
    })?;
    let listed: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    if raw.diff_ids() != listed.as_slice() {
        return Err(ImageError::BadDescriptor {
            path: "the image configuration".to_owned(),
            message: format!(
                "lists the layers {:?}, but {:?} were given",
                raw.diff_ids(),
                listed
            ),
        });
    }
    let scanned = scan_layers(layers, options, threads.max(1))?;
    let scanned = layers
        .iter()
        .map(|l| l.location.clone())
        .zip(scanned)
        .collect();
    Ok(summarize(
        ArchiveFormat::LayerStore,
        repo_tags,
        &raw,
        scanned,
    ))
}

/// Scans every layer, `threads` at a time; the first error wins.
fn scan_layers(
    layers: &[StoredLayer],
    options: &ReadOptions,
    threads: usize,
) -> Result<Vec<ScannedLayer>, ImageError> {
    in_parallel(layers, threads, |layer| scan_stored_layer(layer, options))
}

/// The gzip size at `gzip_level` (0–9) of each layer's tar, in order: the
/// figure [`read_stored_image`] gives as [`crate::LayerSummary::compressed_bytes`]
/// (the same 64 KiB-block meter over the same bytes), for layers a read left
/// unmeasured. Up to `threads` layers are deflated at once, each on one core
/// (a layer's deflate is one stream: cut into pieces it would measure
/// something else), so give the largest first. The first error wins.
pub fn compressed_sizes(
    layers: &[StoredLayer],
    gzip_level: u32,
    threads: usize,
) -> Result<Vec<u64>, ImageError> {
    in_parallel(layers, threads.max(1), |layer| {
        let mut stream = LayerStream::new(layer, true);
        let size = gzip_size(&mut stream, gzip_level);
        // An error the stream returned is the one to report (it names the file).
        match (stream.failure.take(), size) {
            (Some(source), _) | (None, Err(source)) => Err(ImageError::Layer {
                path: layer.location.clone(),
                source,
            }),
            (None, Ok(size)) => Ok(size),
        }
    })
}

/// `work` on every item, up to `threads` items at a time, on scoped threads
/// taking the next item as they finish one; the results in the items' order.
/// After an error no more items are started, and the first error wins.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> Result<R, ImageError> + Sync,
) -> Result<Vec<R>, ImageError> {
    let results: Mutex<Vec<Option<Result<R, ImageError>>>> =
        Mutex::new(items.iter().map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let worker = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else {
                break;
            };
            let result = work(item);
            let failed = result.is_err();
            if let Ok(mut results) = results.lock()
                && let Some(slot) = results.get_mut(index)
            {
                *slot = Some(result);
            }
            if failed {
                // No point doing more: skip the rest.
                next.store(items.len(), Ordering::Relaxed);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(items.len()) {
            scope.spawn(worker);
        }
        worker();
    });
    let results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut done = Vec::with_capacity(items.len());
    for result in results {
        match result {
            Some(Ok(one)) => done.push(one),
            Some(Err(error)) => return Err(error),
            // Left undone after an error in another item, which comes up here too.
            None => {}
        }
    }
    Ok(done)
}

fn scan_stored_layer(
    layer: &StoredLayer,
    options: &ReadOptions,
) -> Result<ScannedLayer, ImageError> {
    if let Some(known) = options
        .known_layers
        .iter()
        .find(|known| known.diff_id.as_deref() == Some(layer.diff_id.as_str()))
    {
        return Ok(ScannedLayer::from(known));
    }
    let error = |source| ImageError::Layer {
        path: layer.location.clone(),
        source,
    };
    let mut stream = LayerStream::new(layer, options.gzip_level.is_some());
    let mut scanned = scan_plain_layer(&mut stream, options.gzip_level).map_err(error)?;
    // The scanner stops at the first error it sees in the stream; one it
    // reports as the end of the tar is still an error here.
    if let Some(source) = stream.failure.take() {
        return Err(error(source));
    }
    scanned.content_key = content_key(scanned.tar_bytes, &stream.head);
    Ok(scanned)
}

/// One line of tar-split: a raw segment of the tar, or a file's payload.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_raw: Option<String>,
    #[serde(default)]
    size: i64,
    #[serde(default)]
    payload: Option<String>,
}

/// tar-split's entry types.
const FILE_ENTRY: u8 = 1;
const SEGMENT_ENTRY: u8 = 2;

/// What the stream is in the middle of.
enum Part {
    Nothing,
    Segment {
        bytes: Vec<u8>,
        at: usize,
    },
    /// A file's bytes, then `then_zeros` zeros standing for the rest of it.
    File {
        reader: io::Take<File>,
        name: String,
        then_zeros: u64,
    },
    Zeros {
        left: u64,
    },
}

/// A layer's tar, rebuilt from its tar-split lines and its files.
struct LayerStream<'a> {
    lines: BufReader<GzDecoder<&'a [u8]>>,
    line: String,
    line_number: usize,
    files: &'a Path,
    real_payloads: bool,
    position: u64,
    part: Part,
    /// The stream's first bytes, for the content key.
    head: Vec<u8>,
    /// An error already returned to the scanner.
    failure: Option<io::Error>,
}

impl<'a> LayerStream<'a> {
    fn new(layer: &'a StoredLayer, real_payloads: bool) -> Self {
        Self {
            lines: BufReader::new(GzDecoder::new(layer.tar_split.as_slice())),
            line: String::new(),
            line_number: 0,
            files: &layer.files,
            real_payloads,
            position: 0,
            part: Part::Nothing,
            head: Vec::with_capacity(CONTENT_KEY_BYTES),
            failure: None,
        }
    }

    fn invalid(&self, message: impl std::fmt::Display) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("tar-split line {}: {message}", self.line_number),
        )
    }

    /// Moves to the next entry; `false` at the end of the metadata.
    fn advance(&mut self) -> io::Result<bool> {
        loop {
            self.line.clear();
            if self.lines.read_line(&mut self.line)? == 0 {
                return Ok(false);
            }
            self.line_number += 1;
            if self.line.trim().is_empty() {
                continue;
            }
            let entry: Entry =
                serde_json::from_str(&self.line).map_err(|error| self.invalid(error))?;
            let base64 = base64::engine::general_purpose::STANDARD;
            match entry.kind {
                SEGMENT_ENTRY => {
                    let bytes = match entry.payload {
                        Some(payload) => base64
                            .decode(payload)
                            .map_err(|error| self.invalid(format!("segment payload: {error}")))?,
                        None => Vec::new(),
                    };
                    self.part = Part::Segment { bytes, at: 0 };
                }
                FILE_ENTRY => {
                    let size = u64::try_from(entry.size)
                        .map_err(|_| self.invalid(format!("negative size {}", entry.size)))?;
                    if size == 0 {
                        continue;
                    }
                    let name = match (entry.name_raw, entry.name) {
                        (Some(raw), _) => base64
                            .decode(raw)
                            .map_err(|error| self.invalid(format!("name_raw: {error}")))?,
                        (None, Some(name)) => name.into_bytes(),
                        (None, None) => return Err(self.invalid("a file entry without a name")),
                    };
                    self.part = self.payload(&name, size)?;
                }
                other => return Err(self.invalid(format!("unknown entry type {other}"))),
            }
            return Ok(true);
        }
    }

    /// The payload of the file `name` (as the tar header spells it), `size` bytes.
    fn payload(&self, name: &[u8], size: u64) -> io::Result<Part> {
        let path = normalize_layer_path(name)
            .ok_or_else(|| self.invalid("a file entry named like the root"))?;
        if path.split('/').any(|component| component == "..") {
            return Err(self.invalid(format!("{path:?} leaves the layer")));
        }
        // Without the gzip measurement, only package databases and what
        // falls in the content key's first bytes are read.
        let read = if self.real_payloads || PackageManager::for_path(&path).is_some() {
            size
        } else {
            (CONTENT_KEY_BYTES as u64)
                .saturating_sub(self.position)
                .min(size)
        };
        if read == 0 {
            return Ok(Part::Zeros { left: size });
        }
        let on_disk = self.files.join(path.trim_start_matches('/'));
        let file = File::open(&on_disk).map_err(|error| {
            io::Error::new(error.kind(), format!("{}: {error}", on_disk.display()))
        })?;
        Ok(Part::File {
            reader: file.take(read),
            name: on_disk.display().to_string(),
            then_zeros: size - read,
        })
    }

    fn read_part(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = match &mut self.part {
                Part::Nothing => {
                    if !self.advance()? {
                        return Ok(0);
                    }
                    continue;
                }
                Part::Segment { bytes, at } => {
                    let rest = bytes.get(*at..).unwrap_or_default();
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    *at += n;
                    n
                }
                Part::File {
                    reader,
                    name,
                    then_zeros,
                } => {
                    let n = reader.read(buf)?;
                    if n == 0 && reader.limit() > 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("{name} is shorter than the layer says"),
                        ));
                    }
                    if n == 0 && *then_zeros > 0 {
                        self.part = Part::Zeros { left: *then_zeros };
                        continue;
                    }
                    n
                }
                Part::Zeros { left } => {
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                    buf[..n].fill(0);
                    *left -= n as u64;
                    n
                }
            };
            if n == 0 {
                self.part = Part::Nothing;
                continue;
            }
            return Ok(n);
        }
    }
}

impl Read for LayerStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = match self.read_part(buf) {
            Ok(n) => n,
            Err(error) => {
                let returned = io::Error::new(error.kind(), error.to_string());
                self.failure = Some(error);
                return Err(returned);
            }
        };
        if self.head.len() < CONTENT_KEY_BYTES {
            let wanted = (CONTENT_KEY_BYTES - self.head.len()).min(n);
            self.head.extend_from_slice(&buf[..wanted]);
        }
        self.position += n as u64;
        Ok(n)
    }
}
