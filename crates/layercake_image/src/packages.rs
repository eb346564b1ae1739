//! Package databases: dpkg's `status` and apk's `installed`.

use serde::{Deserialize, Serialize};

/// Which package manager wrote a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    /// Debian's dpkg: `/var/lib/dpkg/status` (and distroless's `/var/lib/dpkg/status.d/*`).
    Dpkg,
    /// Alpine's apk: `/lib/apk/db/installed`.
    Apk,
}

impl PackageManager {
    /// The manager whose database lives at `path` (an absolute image path), if any.
    pub fn for_path(path: &str) -> Option<Self> {
        match path {
            "/var/lib/dpkg/status" => Some(Self::Dpkg),
            "/lib/apk/db/installed" => Some(Self::Apk),
            _ => path
                .strip_prefix("/var/lib/dpkg/status.d/")
                .filter(|name| {
                    !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums")
                })
                .map(|_| Self::Dpkg),
        }
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The package name (`gcc-12`, `musl`).
    pub name: String,
    /// Its version, when the database has one.
    pub version: Option<String>,
    /// Installed size in bytes (dpkg records KiB; this is that times 1024).
    pub installed_bytes: u64,
    /// The database it came from.
    pub manager: PackageManager,
}

/// A package database file found in a layer, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDatabase {
    /// Its absolute path in the image.
    pub path: String,
    /// Its format.
    pub manager: PackageManager,
    /// The installed packages it lists.
    pub packages: Vec<Package>,
    /// True when the file was larger than the limit and only its start was parsed.
    pub truncated: bool,
}

pub(crate) fn parse_database(manager: PackageManager, text: &str) -> Vec<Package> {
    match manager {
        PackageManager::Dpkg => parse_dpkg_status(text),
        PackageManager::Apk => parse_apk_installed(text),
    }
}

/// Parses dpkg's `status` file: one paragraph per package; only packages whose
/// `Status` says `installed` are listed (a paragraph without `Status`, as in
/// distroless's `status.d`, counts as installed).
pub fn parse_dpkg_status(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for paragraph in paragraphs(text) {
        let mut name = None;
        let mut version = None;
        let mut kib = 0u64;
        let mut installed = true;
        for line in paragraph {
            // Continuation lines (descriptions, conffiles) start with a space.
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match field {
                "Package" => name = Some(value.to_owned()),
                "Version" => version = Some(value.to_owned()),
                "Installed-Size" => kib = value.parse().unwrap_or(0),
                "Status" => installed = value.split_whitespace().nth(2) == Some("installed"),
                _ => {}
            }
        }
        if let (Some(name), true) = (name, installed) {
            packages.push(Package {
                name,
                version,
                installed_bytes: kib.saturating_mul(1024),
                manager: PackageManager::Dpkg,
            });
        }
    }
    packages
}

/// Parses apk's `installed` database: one block per package, `P:` name,
/// `V:` version, `I:` installed size in bytes.
pub fn parse_apk_installed(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for block in paragraphs(text) {
        let mut name = None;
        let mut version = None;
        let mut bytes = 0u64;
        for line in block {
            if let Some(value) = line.strip_prefix("P:") {
                name = Some(value.trim().to_owned());
            } else if let Some(value) = line.strip_prefix("V:") {
                version = Some(value.trim().to_owned());
            } else if let Some(value) = line.strip_prefix("I:") {
                bytes = value.trim().parse().unwrap_or(0);
            }
        }
        if let Some(name) = name {
            packages.push(Package {
                name,
                version,
                installed_bytes: bytes,
                manager: PackageManager::Apk,
            });
        }
    }
    packages
}

/// Blank-line separated groups of lines (CRLF tolerated).
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut groups = Vec::new();
    let mut current = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}
