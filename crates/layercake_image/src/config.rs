//! The image configuration (`<sha>.json` in `docker save`, the config blob in OCI).

use serde::{Deserialize, Serialize};

/// The parts of the image configuration that describe how the image runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `config.User`; `None` when unset or empty (the image runs as root).
    pub user: Option<String>,
    /// `config.Env`, as `NAME=value` strings.
    pub env: Vec<String>,
    /// `config.Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `config.Cmd`.
    pub cmd: Vec<String>,
    /// `config.WorkingDir`; `None` when unset or empty.
    pub workdir: Option<String>,
}

/// One `history[]` entry of the configuration.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawHistory {
    #[serde(default)]
    pub(crate) created_by: Option<String>,
    #[serde(default)]
    pub(crate) comment: Option<String>,
    #[serde(default)]
    pub(crate) empty_layer: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawConfigFile {
    #[serde(default)]
    config: Option<RawContainerConfig>,
    #[serde(default)]
    rootfs: Option<RawRootfs>,
    #[serde(default)]
    history: Option<Vec<RawHistory>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawContainerConfig {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Option<Vec<String>>,
}

impl RawConfigFile {
    pub(crate) fn image_config(&self) -> ImageConfig {
        let Some(c) = &self.config else {
            return ImageConfig::default();
        };
        ImageConfig {
            user: c.user.clone().filter(|u| !u.is_empty()),
            env: c.env.clone().unwrap_or_default(),
            entrypoint: c.entrypoint.clone().unwrap_or_default(),
            cmd: c.cmd.clone().unwrap_or_default(),
            workdir: c.working_dir.clone().filter(|w| !w.is_empty()),
        }
    }

    pub(crate) fn diff_ids(&self) -> &[String] {
        self.rootfs
            .as_ref()
            .and_then(|r| r.diff_ids.as_deref())
            .unwrap_or(&[])
    }

    /// The history entries that created a layer, in order (`empty_layer: true` skipped).
    pub(crate) fn layer_history(&self) -> Vec<RawHistory> {
        self.history
            .iter()
            .flatten()
            .filter(|h| h.empty_layer != Some(true))
            .cloned()
            .collect()
    }
}
