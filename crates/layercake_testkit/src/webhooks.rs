//! Real GitHub webhook payloads (octokit/webhooks, MIT), kept in this crate's
//! `fixtures/github-webhooks/` with their licence and origin, so tests find
//! them in any checkout.

use std::path::{Path, PathBuf};

/// The folder of the payloads: one sub-folder per `X-GitHub-Event` value.
pub fn webhook_payload_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/github-webhooks")
}

/// The payload at `relative` (e.g. `pull_request/opened.payload.json`), as JSON.
///
/// # Panics
///
/// When the file is missing or is not JSON: the test's fixture name is wrong.
pub fn webhook_payload(relative: &str) -> serde_json::Value {
    let path = webhook_payload_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// One stored delivery: its event (the folder), file name and body.
#[derive(Clone, Debug)]
pub struct WebhookPayload {
    /// The `X-GitHub-Event` value it is delivered as.
    pub event: String,
    /// The file name; it starts with the payload's `action`.
    pub name: String,
    /// The body, as GitHub sends it.
    pub body: Vec<u8>,
}

/// Every stored payload, sorted by event and name.
///
/// # Panics
///
/// When the folder cannot be read.
pub fn webhook_payloads() -> Vec<WebhookPayload> {
    let root = webhook_payload_dir();
    let read_dir = |dir: &Path| -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| {
                entry
                    .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
                    .path()
            })
            .collect();
        paths.sort();
        paths
    };
    let mut payloads = Vec::new();
    for folder in read_dir(&root).into_iter().filter(|path| path.is_dir()) {
        let event = file_name(&folder);
        for file in read_dir(&folder) {
            let body =
                std::fs::read(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            payloads.push(WebhookPayload {
                event: event.clone(),
                name: file_name(&file),
                body,
            });
        }
    }
    payloads
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The real `pull_request` payload of `action` (e.g. `opened`), made to name
/// commits `base` and `head` of a repository cloned from `clone_url`, through
/// the installation `installation`: the delivery GitHub would send for it.
pub fn pull_request_payload(
    action: &str,
    base: &str,
    head: &str,
    clone_url: &Path,
    installation: u64,
) -> serde_json::Value {
    use serde_json::Value;
    let mut payload = webhook_payload(&format!("pull_request/{action}.payload.json"));
    payload["pull_request"]["base"]["sha"] = Value::from(base);
    payload["pull_request"]["head"]["sha"] = Value::from(head);
    let clone_url = Value::from(clone_url.to_string_lossy().into_owned());
    payload["repository"]["clone_url"] = clone_url.clone();
    payload["pull_request"]["head"]["repo"]["clone_url"] = clone_url.clone();
    payload["pull_request"]["base"]["repo"]["clone_url"] = clone_url;
    payload["installation"] = serde_json::json!({"id": installation, "node_id": "x"});
    payload
}
