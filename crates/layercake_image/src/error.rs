//! The one error type of this crate.

use std::io;

/// What went wrong while reading an image archive.
///
/// Each variant names the archive member it is about, so the message can be
/// shown to a user as it is.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The input does not start with a tar header.
    #[error("not a tar archive: {0}")]
    NotATar(#[source] io::Error),
    /// The archive is a tar but could not be read to its end (truncated or corrupt).
    #[error("the image archive is truncated or corrupt: {0}")]
    Archive(#[source] io::Error),
    /// Neither `manifest.json` (docker save) nor `index.json` (OCI layout) is in the archive.
    #[error(
        "no manifest.json or index.json in the archive: not a `docker save` or OCI image archive"
    )]
    NoManifest,
    /// The manifest lists no image.
    #[error("{path} lists no image")]
    EmptyManifest {
        /// The manifest's path in the archive.
        path: String,
    },
    /// A JSON member could not be parsed.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The member's path in the archive.
        path: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A JSON member is larger than the limit this reader buffers.
    #[error("{path}: {size} bytes, more than the {limit} bytes allowed for a JSON file")]
    TooLarge {
        /// The member's path in the archive.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The image configuration named by the manifest is not in the archive.
    #[error("the manifest names the image config {path}, which is not in the archive")]
    ConfigMissing {
        /// The path the manifest names.
        path: String,
    },
    /// A layer named by the manifest is not in the archive.
    #[error("the manifest names layer {path}, which is not in the archive")]
    LayerMissing {
        /// The path the manifest names.
        path: String,
    },
    /// A layer is not a readable tar (or gzip-compressed tar).
    #[error("layer {path} cannot be read: {source}")]
    Layer {
        /// The layer's path in the archive.
        path: String,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
    /// An OCI descriptor is malformed (for example a digest that is not `algorithm:hex`).
    #[error("{path}: {message}")]
    BadDescriptor {
        /// The member that holds the descriptor.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}
