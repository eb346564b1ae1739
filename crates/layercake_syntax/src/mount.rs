//! `RUN --mount=...` options, typed.

use crate::text::TextRange;
use serde::Serialize;

/// The kind of a RUN mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// `type=bind` (the default): a read-only view of the context or a stage.
    Bind,
    /// `type=cache`: a persistent cache directory (package manager caches).
    Cache,
    /// `type=tmpfs`: a scratch directory in memory.
    Tmpfs,
    /// `type=secret`: a secret file or environment variable.
    Secret,
    /// `type=ssh`: an SSH agent socket.
    Ssh,
    /// Anything else (BuildKit rejects it when building).
    Other,
}

/// One `--mount=` option of a RUN, parsed like BuildKit's CSV mount spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// The mount type.
    pub kind: MountType,
    /// `target=` / `dst=` / `destination=`.
    pub target: Option<String>,
    /// `source=` / `src=`.
    pub source: Option<String>,
    /// `from=`: a stage or image to mount from.
    pub from: Option<String>,
    /// `id=`: the cache or secret id.
    pub id: Option<String>,
    /// `env=`: the environment variable a secret is exposed as.
    pub env: Option<String>,
    /// `sharing=` of a cache mount.
    pub sharing: Option<String>,
    /// `readonly` / `ro` (or `rw=false`) was given.
    pub readonly: bool,
    /// Keys this parser does not know, as written.
    pub unknown_keys: Vec<String>,
    /// The `--mount=...` flag word.
    pub range: TextRange,
}

impl Mount {
    /// Parses the value of a `--mount` flag. Never fails: unknown keys are kept.
    pub fn parse(spec: &str, range: TextRange) -> Mount {
        let mut mount = Mount {
            kind: MountType::Bind,
            target: None,
            source: None,
            from: None,
            id: None,
            env: None,
            sharing: None,
            readonly: false,
            unknown_keys: Vec::new(),
            range,
        };
        for field in csv_fields(spec) {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
                None => (field.to_ascii_lowercase(), None),
            };
            match (key.as_str(), value) {
                ("readonly" | "ro", None) => mount.readonly = true,
                ("readonly" | "ro", Some(v)) => mount.readonly = parse_bool(&v).unwrap_or(false),
                ("readwrite" | "rw", None) => mount.readonly = false,
                ("readwrite" | "rw", Some(v)) => mount.readonly = !parse_bool(&v).unwrap_or(true),
                ("type", Some(v)) => {
                    mount.kind = match v.to_ascii_lowercase().as_str() {
                        "bind" => MountType::Bind,
                        "cache" => MountType::Cache,
                        "tmpfs" => MountType::Tmpfs,
                        "secret" => MountType::Secret,
                        "ssh" => MountType::Ssh,
                        _ => MountType::Other,
                    }
                }
                ("target" | "dst" | "destination", Some(v)) => mount.target = Some(v),
                ("source" | "src", Some(v)) => mount.source = Some(v),
                ("from", Some(v)) => mount.from = Some(v),
                ("id", Some(v)) => mount.id = Some(v),
                ("env", Some(v)) => mount.env = Some(v),
                ("sharing", Some(v)) => mount.sharing = Some(v),
                ("required" | "size" | "mode" | "uid" | "gid", _) => {}
                (_, _) => mount.unknown_keys.push(field.to_string()),
            }
        }
        mount
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Splits one CSV record: commas separate fields, double quotes group (`""` is a quote).
fn csv_fields(spec: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = spec.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields.push(std::mem::take(&mut field)),
            _ => field.push(ch),
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cache_mount() {
        let m = Mount::parse(
            "type=cache,target=/root/.npm,sharing=locked",
            TextRange::default(),
        );
        assert_eq!(m.kind, MountType::Cache);
        assert_eq!(m.target.as_deref(), Some("/root/.npm"));
        assert_eq!(m.sharing.as_deref(), Some("locked"));
    }

    #[test]
    fn defaults_to_bind_and_reads_quoted_fields() {
        let m = Mount::parse(
            "\"source=a,b\",target=/x,ro,from=build",
            TextRange::default(),
        );
        assert_eq!(m.kind, MountType::Bind);
        assert_eq!(m.source.as_deref(), Some("a,b"));
        assert!(m.readonly);
        assert_eq!(m.from.as_deref(), Some("build"));
    }
}
