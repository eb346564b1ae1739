//! One layer: streaming a layer tar (plain or gzip) into headers only.

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::packages::{PackageDatabase, PackageManager, parse_database};

/// The largest package database whose contents are kept (16 MiB); the rest is skipped.
pub const PACKAGE_DATABASE_LIMIT: u64 = 16 * 1024 * 1024;

/// What a layer entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A regular file; the only kind whose size counts.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A hard link to another entry of the same layer (no bytes of its own).
    Hardlink,
    /// A device, FIFO or anything else.
    Other,
}

/// One entry of a layer tar (whiteouts excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Absolute path in the image, like `/usr/lib/libc.so.6`.
    pub path: String,
    /// Size in bytes (0 for anything but a regular file).
    pub size: u64,
    /// The entry's kind.
    pub kind: FileKind,
    /// Permission bits and set-id bits from the tar header.
    pub mode: u32,
}

/// One filesystem layer of an image: what it writes and what it deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Position in the image, from 0 (the base-most layer).
    pub index: usize,
    /// The member of the archive that holds the layer (`<id>/layer.tar`, `blobs/sha256/<hex>`).
    pub archive_path: String,
    /// `rootfs.diff_ids[index]` from the config, when present.
    pub diff_id: Option<String>,
    /// The sum of the sizes of the layer's regular files.
    pub size_bytes: u64,
    /// The size of the uncompressed layer tar.
    pub tar_bytes: u64,
    /// The size of the layer gzip-compressed, as a registry stores it: the blob's own size
    /// for a gzip layer, else the plain tar streamed through gzip. `None` when it was not
    /// measured: no gzip level was asked for, or the deflate was left for later
    /// ([`crate::compressed_sizes`]) because nothing may need it.
    pub compressed_bytes: Option<u64>,
    /// `created_by` of the history entry that made this layer.
    pub created_by: Option<String>,
    /// `comment` of the history entry that made this layer.
    pub comment: Option<String>,
    /// Every entry the layer writes, in tar order.
    pub files: Vec<FileEntry>,
    /// Paths deleted by `.wh.<name>` whiteout files.
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents are hidden by a `.wh..wh..opq` opaque whiteout.
    pub opaque_dirs: Vec<String>,
    /// Package databases this layer writes, parsed (the only file contents kept).
    pub package_databases: Vec<PackageDatabase>,
    /// The member's size and a hash of its first 4 KiB: how a later read
    /// recognises this layer before its config (and `diff_id`) has been read
    /// (see [`crate::ReadOptions::known_layers`]).
    pub content_key: (u64, u64),
}

impl LayerSummary {
    /// The Dockerfile instruction that created the layer, from `created_by`, without the
    /// `# buildkit` marker BuildKit appends or the classic builder's `/bin/sh -c #(nop) ` prefix.
    pub fn instruction(&self) -> Option<&str> {
        let created_by = self.created_by.as_deref()?.trim();
        let created_by = created_by
            .strip_suffix("# buildkit")
            .unwrap_or(created_by)
            .trim_end();
        let created_by = created_by
            .strip_prefix("/bin/sh -c #(nop) ")
            .unwrap_or(created_by)
            .trim();
        Some(created_by)
    }
}

/// A layer as scanned, before the manifest tells its position and history.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScannedLayer {
    pub(crate) size_bytes: u64,
    pub(crate) tar_bytes: u64,
    pub(crate) compressed_bytes: Option<u64>,
    pub(crate) files: Vec<FileEntry>,
    pub(crate) whiteouts: Vec<String>,
    pub(crate) opaque_dirs: Vec<String>,
    pub(crate) package_databases: Vec<PackageDatabase>,
    pub(crate) content_key: (u64, u64),
}

impl From<&LayerSummary> for ScannedLayer {
    fn from(layer: &LayerSummary) -> Self {
        Self {
            content_key: layer.content_key,
            size_bytes: layer.size_bytes,
            tar_bytes: layer.tar_bytes,
            compressed_bytes: layer.compressed_bytes,
            files: layer.files.clone(),
            whiteouts: layer.whiteouts.clone(),
            opaque_dirs: layer.opaque_dirs.clone(),
            package_databases: layer.package_databases.clone(),
        }
    }
}

/// How many leading bytes of a layer member its content key hashes.
pub(crate) const CONTENT_KEY_BYTES: usize = 4096;

/// The content key of a layer member: its size and FNV-1a of its first bytes.
pub(crate) fn content_key(size: u64, head: &[u8]) -> (u64, u64) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in head {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (size, hash)
}

/// Counts the bytes that pass through a reader.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A writer that keeps nothing but the number of bytes written.
#[derive(Default)]
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How many bytes the gzip meter hands its encoder at a time.
const GZIP_BLOCK_BYTES: usize = 64 * 1024;

/// A gzip encoder whose output is only counted, fed in fixed blocks: zlib-rs
/// (like zlib-ng) compresses a stream differently depending on how its input
/// is split, and reads from a pipe split it differently every time, so the
/// same layer would measure a few bytes apart from one read to the next.
struct GzipMeter {
    encoder: GzEncoder<CountingSink>,
    pending: Vec<u8>,
}

impl GzipMeter {
    fn new(level: u32) -> Self {
        Self {
            encoder: GzEncoder::new(CountingSink::default(), Compression::new(level.min(9))),
            pending: Vec::with_capacity(GZIP_BLOCK_BYTES),
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let room = GZIP_BLOCK_BYTES - self.pending.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = later;
            if self.pending.len() == GZIP_BLOCK_BYTES {
                self.encoder.write_all(&self.pending)?;
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// The compressed size of everything fed, gzip header and trailer included.
    fn finish(mut self) -> io::Result<u64> {
        self.encoder.write_all(&self.pending)?;
        Ok(self.encoder.finish()?.0)
    }
}

/// Feeds every byte read into a [`GzipMeter`], when there is one.
struct MeteredReader<R> {
    inner: R,
    meter: Option<GzipMeter>,
}

impl<R: Read> Read for MeteredReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let (Some(meter), Some(read)) = (self.meter.as_mut(), buf.get(..n)) {
            meter.feed(read)?;
        }
        Ok(n)
    }
}

/// Scans a plain layer tar; `gzip_level` (0–9) measures its compressed size, `None` skips that.
pub(crate) fn scan_plain_layer(
    reader: impl Read,
    gzip_level: Option<u32>,
) -> io::Result<ScannedLayer> {
    let mut meter = MeteredReader {
        inner: CountingReader {
            inner: reader,
            count: 0,
        },
        meter: gzip_level.map(GzipMeter::new),
    };
    let mut layer = scan_entries(&mut meter)?;
    // The tar reader stops at the end-of-archive blocks; the rest is still part of the blob.
    io::copy(&mut meter, &mut io::sink())?;
    layer.tar_bytes = meter.inner.count;
    layer.compressed_bytes = meter.meter.take().map(GzipMeter::finish).transpose()?;
    Ok(layer)
}

/// The gzip size of everything `reader` gives, at `level` (0–9): what
/// [`scan_plain_layer`] measures of the same bytes, without reading the tar.
pub(crate) fn gzip_size(mut reader: impl Read, level: u32) -> io::Result<u64> {
    let mut meter = GzipMeter::new(level);
    let mut block = vec![0; GZIP_BLOCK_BYTES];
    loop {
        let n = match reader.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        meter.feed(block.get(..n).unwrap_or_default())?;
    }
    meter.finish()
}

/// Scans a gzip-compressed layer tar.
pub(crate) fn scan_gzip_layer(reader: impl Read) -> io::Result<ScannedLayer> {
    let mut compressed = CountingReader {
        inner: reader,
        count: 0,
    };
    let mut tar = CountingReader {
        inner: GzDecoder::new(&mut compressed),
        count: 0,
    };
    let mut layer = scan_entries(&mut tar)?;
    io::copy(&mut tar, &mut io::sink())?;
    layer.tar_bytes = tar.count;
    drop(tar);
    io::copy(&mut compressed, &mut io::sink())?;
    layer.compressed_bytes = Some(compressed.count);
    Ok(layer)
}

fn scan_entries(reader: impl Read) -> io::Result<ScannedLayer> {
    let mut layer = ScannedLayer::default();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => FileKind::File,
            tar::EntryType::Directory => FileKind::Directory,
            tar::EntryType::Symlink => FileKind::Symlink,
            tar::EntryType::Link => FileKind::Hardlink,
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => FileKind::Other,
            // Extension headers (PAX, GNU long names) are folded into the next entry by `tar`.
            _ => continue,
        };
        let Some(path) = normalize_layer_path(&entry.path_bytes()) else {
            continue;
        };
        let (parent, name) = split_parent(&path);
        if name == ".wh..wh..opq" {
            layer.opaque_dirs.push(parent.to_owned());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            // `.wh..wh.*` other than the opaque marker is aufs bookkeeping, not a deletion.
            if !hidden.starts_with(".wh.") {
                layer.whiteouts.push(join(parent, hidden));
            }
            continue;
        }
        let size = if kind == FileKind::File {
            entry.size()
        } else {
            0
        };
        let mode = entry.header().mode().unwrap_or(0);
        if kind == FileKind::File
            && let Some(manager) = PackageManager::for_path(&path)
        {
            let mut contents = Vec::new();
            (&mut entry)
                .take(PACKAGE_DATABASE_LIMIT)
                .read_to_end(&mut contents)?;
            let text = String::from_utf8_lossy(&contents);
            layer.package_databases.push(PackageDatabase {
                path: path.clone(),
                manager,
                packages: parse_database(manager, &text),
                truncated: size > PACKAGE_DATABASE_LIMIT,
            });
        }
        layer.size_bytes = layer.size_bytes.saturating_add(size);
        layer.files.push(FileEntry {
            path,
            size,
            kind,
            mode,
        });
    }
    Ok(layer)
}

/// `./usr/bin/` → `/usr/bin`; `None` for the root itself.
pub(crate) fn normalize_layer_path(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut path = String::with_capacity(text.len() + 1);
    for component in text.split('/') {
        if component.is_empty() || component == "." {
            continue;
        }
        path.push('/');
        path.push_str(component);
    }
    (!path.is_empty()).then_some(path)
}

/// `/a/b` → (`/a`, `b`); `/a` → (`/`, `a`).
fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", path.get(1..).unwrap_or("")),
        Some(i) => (
            path.get(..i).unwrap_or("/"),
            path.get(i + 1..).unwrap_or(""),
        ),
        None => ("/", path),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes in reads of the given sizes, in turn, like a pipe.
    struct Chunked<'a> {
        bytes: &'a [u8],
        sizes: Vec<usize>,
        turn: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.turn % self.sizes.len()];
            self.turn += 1;
            let n = size.min(buf.len()).min(self.bytes.len());
            let (now, later) = self.bytes.split_at(n);
            buf[..n].copy_from_slice(now);
            self.bytes = later;
            Ok(n)
        }
    }

    fn layer_tar() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        // Compressible but not trivially: a pseudo-random walk over a small alphabet.
        let mut state: u32 = 7;
        let content: Vec<u8> = (0..600_000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                b"abcdefgh"[(state >> 16) as usize % 8]
            })
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "app/data.bin", content.as_slice())
            .expect("append");
        builder.into_inner().expect("tar")
    }

    #[test]
    fn the_compressed_size_does_not_depend_on_how_reads_split_the_stream() {
        let tar = layer_tar();
        let measure = |sizes: Vec<usize>| {
            let reader = Chunked {
                bytes: &tar,
                sizes,
                turn: 0,
            };
            scan_plain_layer(reader, Some(6))
                .expect("scan")
                .compressed_bytes
                .expect("measured")
        };
        let whole = measure(vec![usize::MAX]);
        assert!(whole > 0 && whole < tar.len() as u64, "{whole}");
        assert_eq!(gzip_size(tar.as_slice(), 6).expect("deflate"), whole);
        for sizes in [
            vec![1],
            vec![4096],
            vec![65_536],
            vec![3, 70_001, 512, 9_999],
        ] {
            assert_eq!(measure(sizes.clone()), whole, "reads of {sizes:?}");
        }
    }
}
