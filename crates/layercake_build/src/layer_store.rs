//! Finding an image in the engine's overlay2 layer store, so it can be read
//! without `docker save` (see [`layercake_image::read_stored_image`]).
//!
//! The store is the daemon's root directory (`docker info` `DockerRootDir`,
//! usually `/var/lib/docker`):
//!
//! - `image/overlay2/imagedb/content/sha256/<image id>`: the image's config,
//!   whose SHA-256 is the image ID;
//! - `image/overlay2/layerdb/sha256/<chain id>/`: per layer, `diff` (its
//!   `diff_id`), `cache-id` and `tar-split.json.gz`;
//! - `overlay2/<cache id>/diff`: the layer's files.
//!
//! Reading it needs the daemon on this machine, the overlay2 driver and the
//! right to read the root directory (root, as `dockerd` runs). Every fact is
//! checked against the daemon's own answer (the config's digest against the
//! image ID, each layer's `diff` against the config), so a store that is not
//! this daemon's, or that changed meanwhile, is never read as if it were.

use std::path::{Path, PathBuf};

use layercake_image::StoredLayer;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// What `docker image inspect` says that matters here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Inspected {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) repo_tags: Option<Vec<String>>,
    #[serde(rename = "RootFS")]
    pub(crate) root_fs: InspectedRootFs,
    pub(crate) graph_driver: InspectedDriver,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InspectedRootFs {
    #[serde(default)]
    pub(crate) layers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InspectedDriver {
    pub(crate) name: String,
}

/// An image's config and layers, found in the store and checked.
#[derive(Debug)]
pub(crate) struct StoredImage {
    pub(crate) config: Vec<u8>,
    pub(crate) layers: Vec<StoredLayer>,
    pub(crate) repo_tags: Vec<String>,
}

/// The image `requested` (a name or an ID) that `inspected` describes, in the
/// store under `root`; the reason, when it cannot be read there.
pub(crate) fn find(
    root: &Path,
    requested: &str,
    inspected: &Inspected,
) -> Result<StoredImage, String> {
    if inspected.graph_driver.name != "overlay2" {
        return Err(format!(
            "the storage driver is {}, not overlay2",
            inspected.graph_driver.name
        ));
    }
    let id_hex = sha256_hex(&inspected.id)?;
    let image_db = root.join("image/overlay2");
    let config_path = image_db.join("imagedb/content/sha256").join(id_hex);
    let config = read(&config_path)?;
    if hex(&Sha256::digest(&config)) != id_hex {
        return Err(format!(
            "{} is not the config of {}",
            config_path.display(),
            inspected.id
        ));
    }
    let diff_ids = inspected.root_fs.layers.clone().unwrap_or_default();
    let mut layers = Vec::with_capacity(diff_ids.len());
    let mut chain: Option<String> = None;
    for diff_id in diff_ids {
        let chain_id = match &chain {
            None => diff_id.clone(),
            Some(parent) => format!(
                "sha256:{}",
                hex(&Sha256::digest(format!("{parent} {diff_id}").as_bytes()))
            ),
        };
        let layer_dir = image_db.join("layerdb/sha256").join(sha256_hex(&chain_id)?);
        let recorded = read_text(&layer_dir.join("diff"))?;
        if recorded != diff_id {
            return Err(format!(
                "{} records {recorded}, not {diff_id}",
                layer_dir.display()
            ));
        }
        let cache_id = read_text(&layer_dir.join("cache-id"))?;
        if cache_id.is_empty() || cache_id.contains(['/', '.']) {
            return Err(format!(
                "{} holds an unusable cache-id {cache_id:?}",
                layer_dir.display()
            ));
        }
        let files = root.join("overlay2").join(&cache_id).join("diff");
        if !files.is_dir() {
            return Err(format!("{} is not a directory", files.display()));
        }
        layers.push(StoredLayer {
            diff_id,
            location: layer_dir.display().to_string(),
            tar_split: read(&layer_dir.join("tar-split.json.gz"))?,
            files,
        });
        chain = Some(chain_id);
    }
    Ok(StoredImage {
        config,
        layers,
        repo_tags: repo_tags(requested, inspected),
    })
}

/// What `docker save REQUESTED` lists as the image's tags: the name, when it
/// is one of the image's tags (`:latest` when it names none), else nothing.
fn repo_tags(requested: &str, inspected: &Inspected) -> Vec<String> {
    let last = requested.rsplit('/').next().unwrap_or(requested);
    let name = if last.contains(':') || last.contains('@') {
        requested.to_string()
    } else {
        format!("{requested}:latest")
    };
    let tags = inspected.repo_tags.as_deref().unwrap_or_default();
    if tags.contains(&name) {
        vec![name]
    } else {
        Vec::new()
    }
}

fn sha256_hex(digest: &str) -> Result<&str, String> {
    digest
        .strip_prefix("sha256:")
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("{digest:?} is not a sha256 digest"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = read(path)?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_string())
}

/// The daemon's root directory, from `docker info` output.
pub(crate) fn root_dir(info_output: &str) -> Option<PathBuf> {
    let root = info_output.trim();
    (!root.is_empty() && root.starts_with('/')).then(|| PathBuf::from(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspected(tags: &[&str]) -> Inspected {
        Inspected {
            id: format!("sha256:{}", "a".repeat(64)),
            repo_tags: Some(tags.iter().map(|t| t.to_string()).collect()),
            root_fs: InspectedRootFs { layers: None },
            graph_driver: InspectedDriver {
                name: "overlay2".into(),
            },
        }
    }

    #[test]
    fn repo_tags_are_what_docker_save_of_the_name_lists() {
        let image = inspected(&["app:1", "busybox:latest", "registry:5000/team/app:2"]);
        assert_eq!(repo_tags("app:1", &image), ["app:1"]);
        assert_eq!(repo_tags("busybox", &image), ["busybox:latest"]);
        assert_eq!(
            repo_tags("registry:5000/team/app:2", &image),
            ["registry:5000/team/app:2"]
        );
        assert!(repo_tags("sha256:aaaa", &image).is_empty());
        assert!(repo_tags("other", &image).is_empty());
    }

    #[test]
    fn only_sha256_digests_name_files() {
        assert!(sha256_hex(&format!("sha256:{}", "0".repeat(64))).is_ok());
        assert!(sha256_hex("sha256:../../etc").is_err());
        assert!(sha256_hex(&format!("sha512:{}", "0".repeat(64))).is_err());
    }

    #[test]
    fn a_store_without_the_image_says_which_file_is_missing() {
        let root = tempfile::tempdir().expect("tempdir");
        let error = find(root.path(), "app:1", &inspected(&[])).expect_err("empty store");
        assert!(error.contains("imagedb/content/sha256/aaaa"), "{error}");
    }
}
