//! Builds image archives in memory that look like real `docker save` output.
#![allow(dead_code)]

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// One entry of a layer tar.
pub enum Item {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    /// `.wh.<name>` for the given path.
    Whiteout(&'static str),
    /// `.wh..wh..opq` in the given directory.
    Opaque(&'static str),
}

/// A file of `size` compressible bytes.
pub fn file(path: &'static str, size: usize) -> Item {
    Item::File(path, vec![b'a'; size])
}

/// A layer tar as the Docker Engine writes it (paths without a leading `/`).
pub fn layer_tar(items: &[Item]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(0);
        match item {
            Item::File(path, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(content.len() as u64);
                builder
                    .append_data(&mut header, path, content.as_slice())
                    .expect("writing to memory");
            }
            Item::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{path}/"), std::io::empty())
                    .expect("writing to memory");
            }
            Item::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .expect("writing to memory");
            }
            Item::Whiteout(path) => {
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                let wh = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(0);
                builder
                    .append_data(&mut header, wh, std::io::empty())
                    .expect("writing to memory");
            }
            Item::Opaque(dir) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{dir}/.wh..wh..opq"), std::io::empty())
                    .expect("writing to memory");
            }
        }
    }
    builder.into_inner().expect("writing to memory")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// One history entry: `(created_by, empty_layer)`.
pub type History = (&'static str, bool);

/// An image as `docker save` of Docker Engine 20.10 writes it.
pub struct DockerSave {
    pub layers: Vec<Vec<u8>>,
    pub history: Vec<History>,
    pub user: Option<&'static str>,
    /// Engine 20.10 writes members sorted by name, so the manifest comes last;
    /// `true` puts `manifest.json` first instead.
    pub manifest_first: bool,
    /// Write the second layer's `layer.tar` as a symlink to the first (docker save does
    /// this for repeated layers).
    pub link_second_to_first: bool,
    pub config_override: Option<Vec<u8>>,
    pub omit_layer: Option<usize>,
}

impl DockerSave {
    pub fn new(layers: Vec<Vec<u8>>, history: Vec<History>) -> Self {
        Self {
            layers,
            history,
            user: None,
            manifest_first: false,
            link_second_to_first: false,
            config_override: None,
            omit_layer: None,
        }
    }

    pub fn layer_id(index: usize) -> String {
        format!("{:064x}", 0xabc000 + index)
    }

    pub fn diff_id(index: usize) -> String {
        format!("sha256:{:064x}", 0xd1f000 + index)
    }

    pub fn config_json(&self) -> Value {
        let history: Vec<Value> = self
            .history
            .iter()
            .map(|(created_by, empty)| {
                let mut entry =
                    json!({"created": "2024-01-01T00:00:00Z", "created_by": created_by});
                if *empty {
                    entry["empty_layer"] = json!(true);
                } else {
                    entry["comment"] = json!("buildkit.dockerfile.v0");
                }
                entry
            })
            .collect();
        json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "User": self.user.unwrap_or(""),
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"],
                "Entrypoint": null,
                "Cmd": ["node", "dist/server.js"],
                "WorkingDir": "/app",
                "ExposedPorts": {"3000/tcp": {}}
            },
            "rootfs": {"type": "layers", "diff_ids": (0..self.layers.len()).map(Self::diff_id).collect::<Vec<_>>()},
            "history": history,
        })
    }

    pub fn build(&self) -> Vec<u8> {
        let config_name = format!("{:064x}.json", 0xc0f);
        let config = self
            .config_override
            .clone()
            .unwrap_or_else(|| serde_json::to_vec(&self.config_json()).expect("writing to memory"));
        let manifest = serde_json::to_vec(&json!([{
            "Config": config_name,
            "RepoTags": ["example/app:head"],
            "Layers": (0..self.layers.len()).map(|i| format!("{}/layer.tar", Self::layer_id(i))).collect::<Vec<_>>(),
        }]))
        .expect("writing to memory");
        let repositories =
            serde_json::to_vec(&json!({"example/app": {"head": format!("{:064x}", 0xc0f)}}))
                .expect("writing to memory");

        let mut builder = tar::Builder::new(Vec::new());
        if self.manifest_first {
            append(&mut builder, "manifest.json", &manifest);
        }
        append(&mut builder, &config_name, &config);
        for (index, layer) in self.layers.iter().enumerate() {
            if self.omit_layer == Some(index) {
                continue;
            }
            let id = Self::layer_id(index);
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder
                .append_data(&mut header, format!("{id}/"), std::io::empty())
                .expect("writing to memory");
            append(&mut builder, &format!("{id}/VERSION"), b"1.0");
            append(
                &mut builder,
                &format!("{id}/json"),
                format!("{{\"id\":\"{id}\"}}").as_bytes(),
            );
            if self.link_second_to_first && index == 1 {
                let mut header = tar::Header::new_ustar();
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder
                    .append_link(
                        &mut header,
                        format!("{id}/layer.tar"),
                        format!("../{}/layer.tar", Self::layer_id(0)),
                    )
                    .expect("writing to memory");
            } else {
                append(&mut builder, &format!("{id}/layer.tar"), layer);
            }
        }
        if !self.manifest_first {
            append(&mut builder, "manifest.json", &manifest);
        }
        append(&mut builder, "repositories", &repositories);
        builder.into_inner().expect("writing to memory")
    }
}

pub fn append(builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    builder
        .append_data(&mut header, path, data)
        .expect("writing to memory");
}

/// An OCI image layout archive with gzip layers (`buildx --output type=oci`).
pub fn oci_archive(
    layers: &[Vec<u8>],
    history: Vec<History>,
    with_docker_manifest: bool,
) -> Vec<u8> {
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut digest_counter = 0u64;
    let mut add_blob = |blobs: &mut Vec<(String, Vec<u8>)>, data: Vec<u8>| {
        digest_counter += 1;
        let hex = format!("{:064x}", 0xb10b_0000 + digest_counter);
        blobs.push((hex.clone(), data));
        hex
    };
    let image = DockerSave::new(layers.to_vec(), history);
    let config_hex = add_blob(
        &mut blobs,
        serde_json::to_vec(&image.config_json()).expect("writing to memory"),
    );
    let layer_hexes: Vec<String> = layers
        .iter()
        .map(|l| add_blob(&mut blobs, gzip(l)))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config_hex}"), "size": 1},
        "layers": layer_hexes.iter().map(|h| json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": format!("sha256:{h}"), "size": 1})).collect::<Vec<_>>(),
    });
    let manifest_hex = add_blob(
        &mut blobs,
        serde_json::to_vec(&manifest).expect("writing to memory"),
    );
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{manifest_hex}"), "size": 1,
                       "annotations": {"io.containerd.image.name": "example/app:oci"}}],
    });
    let mut builder = tar::Builder::new(Vec::new());
    for (hex, data) in &blobs {
        append(&mut builder, &format!("blobs/sha256/{hex}"), data);
    }
    append(
        &mut builder,
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    );
    append(
        &mut builder,
        "index.json",
        &serde_json::to_vec(&index).expect("writing to memory"),
    );
    if with_docker_manifest {
        let docker = json!([{
            "Config": format!("blobs/sha256/{config_hex}"),
            "RepoTags": ["example/app:25"],
            "Layers": layer_hexes.iter().map(|h| format!("blobs/sha256/{h}")).collect::<Vec<_>>(),
        }]);
        append(
            &mut builder,
            "manifest.json",
            &serde_json::to_vec(&docker).expect("writing to memory"),
        );
    }
    builder.into_inner().expect("writing to memory")
}
