//! Reading an image archive in one pass: `docker save` (Engine ≤ 24) and OCI layout
//! (`docker save` of Engine ≥ 25, `buildx --output type=oci`).
//!
//! Members can come in any order, so nothing is resolved while reading: small JSON
//! members are buffered by path, layers are scanned into headers by path, and the
//! manifest is followed at the end.

use std::collections::HashMap;
use std::io::{self, Cursor, Read};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::RawConfigFile;
use crate::error::ImageError;
use crate::layer::{
    CONTENT_KEY_BYTES, LayerSummary, ScannedLayer, content_key, scan_gzip_layer, scan_plain_layer,
};
use crate::{ArchiveFormat, ImageSummary, ReadOptions};

/// The largest JSON member (manifest, index, config) that is buffered.
pub const JSON_LIMIT: u64 = 16 * 1024 * 1024;

enum Member {
    Json(Vec<u8>),
    TooLarge(u64),
    Layer(ScannedLayer),
}

#[derive(Default)]
struct Members {
    by_path: HashMap<String, Member>,
    /// Symlinks and hard links between members (`docker save` links repeated layers).
    links: HashMap<String, String>,
}

impl Members {
    /// The member path that `path` names, following links between members.
    fn canonical(&self, path: &str) -> Option<String> {
        let mut path = path.to_owned();
        for _ in 0..16 {
            if self.by_path.contains_key(&path) {
                return Some(path);
            }
            path = self.links.get(&path)?.clone();
        }
        None
    }

    fn json<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ImageError> {
        let member = self.canonical(path).and_then(|p| self.by_path.get(&p));
        match member {
            Some(Member::Json(bytes)) => {
                serde_json::from_slice(bytes)
                    .map(Some)
                    .map_err(|source| ImageError::Json {
                        path: path.to_owned(),
                        source,
                    })
            }
            Some(Member::TooLarge(size)) => Err(ImageError::TooLarge {
                path: path.to_owned(),
                size: *size,
                limit: JSON_LIMIT,
            }),
            _ => Ok(None),
        }
    }
}

pub(crate) fn read(reader: impl Read, options: &ReadOptions) -> Result<ImageSummary, ImageError> {
    let members = scan(reader, options)?;
    if members.by_path.contains_key("manifest.json") {
        resolve_docker(members)
    } else if members.by_path.contains_key("index.json") {
        resolve_oci(members)
    } else {
        Err(ImageError::NoManifest)
    }
}

fn scan(reader: impl Read, options: &ReadOptions) -> Result<Members, ImageError> {
    let mut members = Members::default();
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(ImageError::NotATar)?;
    let mut seen_entry = false;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            if seen_entry {
                ImageError::Archive(e)
            } else {
                ImageError::NotATar(e)
            }
        })?;
        seen_entry = true;
        let path = normalize_member_path(&String::from_utf8_lossy(&entry.path_bytes()));
        match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let is_symlink = entry.header().entry_type() == tar::EntryType::Symlink;
                if let Some(target) = entry.link_name_bytes() {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let target = if is_symlink {
                        resolve_relative(&path, &target)
                    } else {
                        normalize_member_path(&target)
                    };
                    members.links.insert(path, target);
                }
                continue;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            _ => continue,
        }
        let size = entry.size();
        let head = read_head(&mut entry, CONTENT_KEY_BYTES).map_err(ImageError::Archive)?;
        let key = content_key(size, &head);
        if let Some(known) = options
            .known_layers
            .iter()
            .find(|known| known.content_key == key)
        {
            // Read before from another archive: the tar reader skips the rest.
            members
                .by_path
                .insert(path, Member::Layer(ScannedLayer::from(known)));
            continue;
        }
        let member = match classify(&path, &head) {
            Kind::Json if size > JSON_LIMIT => Member::TooLarge(size),
            Kind::Json => {
                let mut bytes = head;
                (&mut entry)
                    .take(JSON_LIMIT)
                    .read_to_end(&mut bytes)
                    .map_err(ImageError::Archive)?;
                Member::Json(bytes)
            }
            Kind::PlainTar => {
                let stream = Cursor::new(head).chain(&mut entry);
                let mut layer = scan_plain_layer(stream, options.gzip_level).map_err(|source| {
                    ImageError::Layer {
                        path: path.clone(),
                        source,
                    }
                })?;
                layer.content_key = key;
                Member::Layer(layer)
            }
            Kind::GzipTar => {
                let stream = Cursor::new(head).chain(&mut entry);
                let mut layer = scan_gzip_layer(stream).map_err(|source| ImageError::Layer {
                    path: path.clone(),
                    source,
                })?;
                layer.content_key = key;
                Member::Layer(layer)
            }
            Kind::Other => continue,
        };
        members.by_path.insert(path, member);
    }
    Ok(members)
}

enum Kind {
    Json,
    PlainTar,
    GzipTar,
    Other,
}

/// Decides from the first bytes what a member is: OCI blobs have no file extension.
fn classify(path: &str, head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Kind::GzipTar;
    }
    if head.get(257..262) == Some(b"ustar".as_slice()) {
        return Kind::PlainTar;
    }
    if let Some(b'{' | b'[') = head.iter().find(|b| !b.is_ascii_whitespace()) {
        return Kind::Json;
    }
    // An empty layer is an empty file or end-of-archive zero blocks, without a ustar magic.
    if path.ends_with(".tar") || (head.len() == 512 && head.iter().all(|b| *b == 0)) {
        return Kind::PlainTar;
    }
    Kind::Other
}

fn read_head(reader: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(len);
    reader.take(len as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// `./blobs/sha256/ab` → `blobs/sha256/ab`.
fn normalize_member_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// A symlink target relative to the link's directory, as a member path.
fn resolve_relative(link: &str, target: &str) -> String {
    if target.starts_with('/') {
        return normalize_member_path(target);
    }
    let dir = link.rsplit_once('/').map_or("", |(dir, _)| dir);
    normalize_member_path(&format!("{dir}/{target}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Option<Vec<String>>,
}

fn resolve_docker(members: Members) -> Result<ImageSummary, ImageError> {
    let manifest: Vec<DockerManifestEntry> = members.json("manifest.json")?.unwrap_or_default();
    let Some(image) = manifest.into_iter().next() else {
        return Err(ImageError::EmptyManifest {
            path: "manifest.json".to_owned(),
        });
    };
    let config_path = normalize_member_path(&image.config);
    let layers = image
        .layers
        .unwrap_or_default()
        .iter()
        .map(|p| normalize_member_path(p))
        .collect::<Vec<_>>();
    assemble(
        members,
        ArchiveFormat::DockerSave,
        &config_path,
        &layers,
        image.repo_tags.unwrap_or_default(),
    )
}

#[derive(Deserialize)]
struct OciDescriptor {
    digest: String,
    #[serde(default)]
    annotations: Option<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct OciIndexOrManifest {
    #[serde(default)]
    manifests: Option<Vec<OciDescriptor>>,
    #[serde(default)]
    config: Option<OciDescriptor>,
    #[serde(default)]
    layers: Option<Vec<OciDescriptor>>,
}

fn resolve_oci(members: Members) -> Result<ImageSummary, ImageError> {
    let mut path = "index.json".to_owned();
    let mut repo_tags = Vec::new();
    // An index may point at a nested index (Docker 25 does, for multi-platform images).
    for _ in 0..8 {
        let Some(document) = members.json::<OciIndexOrManifest>(&path)? else {
            return Err(ImageError::ConfigMissing { path });
        };
        if let Some(manifests) = document.manifests {
            let Some(first) = manifests.into_iter().next() else {
                return Err(ImageError::EmptyManifest { path });
            };
            if let Some(name) = first
                .annotations
                .as_ref()
                .and_then(|a| a.get("io.containerd.image.name"))
            {
                repo_tags.push(name.clone());
            }
            path = blob_path(&path, &first.digest)?;
            continue;
        }
        let Some(config) = document.config else {
            return Err(ImageError::BadDescriptor {
                path,
                message: "neither `manifests` nor `config`".to_owned(),
            });
        };
        let config_path = blob_path(&path, &config.digest)?;
        let layers = document
            .layers
            .unwrap_or_default()
            .iter()
            .map(|l| blob_path(&path, &l.digest))
            .collect::<Result<Vec<_>, _>>()?;
        return assemble(
            members,
            ArchiveFormat::Oci,
            &config_path,
            &layers,
            repo_tags,
        );
    }
    Err(ImageError::BadDescriptor {
        path,
        message: "indexes nested too deep".to_owned(),
    })
}

/// `sha256:ab12` → `blobs/sha256/ab12`.
fn blob_path(holder: &str, digest: &str) -> Result<String, ImageError> {
    let bad = || ImageError::BadDescriptor {
        path: holder.to_owned(),
        message: format!("malformed digest {digest:?}"),
    };
    let (algorithm, hex) = digest.split_once(':').ok_or_else(bad)?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '.' || c == '_' || c == '-')
    };
    if !plain(algorithm) || !plain(hex) || hex.contains("..") {
        return Err(bad());
    }
    Ok(format!("blobs/{algorithm}/{hex}"))
}

fn assemble(
    mut members: Members,
    format: ArchiveFormat,
    config_path: &str,
    layer_paths: &[String],
    repo_tags: Vec<String>,
) -> Result<ImageSummary, ImageError> {
    let Some(config) = members.json::<RawConfigFile>(config_path)? else {
        return Err(ImageError::ConfigMissing {
            path: config_path.to_owned(),
        });
    };
    let mut scanned: Vec<(String, ScannedLayer)> = Vec::with_capacity(layer_paths.len());
    // Layers are moved out of the scan; one listed twice is copied from its first use.
    let mut used: HashMap<String, usize> = HashMap::new();
    // Resolved before any layer is moved out, since moving ends a path's resolution.
    let canonicals: Vec<Option<String>> =
        layer_paths.iter().map(|p| members.canonical(p)).collect();
    for (index, (path, canonical)) in layer_paths.iter().zip(canonicals).enumerate() {
        let missing = || ImageError::LayerMissing { path: path.clone() };
        let canonical = canonical.ok_or_else(missing)?;
        let layer = match (members.by_path.remove(&canonical), used.get(&canonical)) {
            (Some(Member::Layer(layer)), _) => layer,
            (None, Some(&first)) => scanned
                .get(first)
                .map(|(_, layer)| layer.clone())
                .ok_or_else(missing)?,
            _ => return Err(missing()),
        };
        used.insert(canonical, index);
        scanned.push((path.clone(), layer));
    }
    Ok(summarize(format, repo_tags, &config, scanned))
}

/// The image summary of scanned layers (base-most first, each with the path
/// it was read from) and the configuration that lists them.
pub(crate) fn summarize(
    format: ArchiveFormat,
    repo_tags: Vec<String>,
    config: &RawConfigFile,
    scanned: Vec<(String, ScannedLayer)>,
) -> ImageSummary {
    let history = config.layer_history();
    let diff_ids = config.diff_ids();
    let layers: Vec<LayerSummary> = scanned
        .into_iter()
        .enumerate()
        .map(|(index, (path, scanned))| {
            let entry = history.get(index);
            LayerSummary {
                index,
                archive_path: path,
                diff_id: diff_ids.get(index).cloned(),
                size_bytes: scanned.size_bytes,
                tar_bytes: scanned.tar_bytes,
                compressed_bytes: scanned.compressed_bytes,
                created_by: entry.and_then(|h| h.created_by.clone()),
                comment: entry.and_then(|h| h.comment.clone()),
                files: scanned.files,
                whiteouts: scanned.whiteouts,
                opaque_dirs: scanned.opaque_dirs,
                package_databases: scanned.package_databases,
                content_key: scanned.content_key,
            }
        })
        .collect();
    ImageSummary {
        format,
        repo_tags,
        config: config.image_config(),
        size_bytes: layers.iter().map(|l| l.size_bytes).sum(),
        tar_bytes: layers.iter().map(|l| l.tar_bytes).sum(),
        compressed_bytes: layers.iter().map(|l| l.compressed_bytes).sum(),
        layers,
    }
}
