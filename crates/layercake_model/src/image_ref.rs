//! Image references as Docker reads them: `[registry/]repository[:tag][@digest]`.

use serde::Serialize;

/// An image reference split into its parts, as written (not normalised:
/// `node` stays `node`, it does not become `docker.io/library/node`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    /// The registry host (`ghcr.io`, `localhost:5000`); `None` means Docker Hub.
    pub registry: Option<String>,
    /// The repository path without the registry: `node`, `library/node`, `x/y`.
    pub repository: String,
    /// The tag after `:`; `None` when untagged (Docker then uses `latest`
    /// unless a digest is given).
    pub tag: Option<String>,
    /// The digest after `@`, e.g. `sha256:…`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Splits a reference. `None` for text that cannot be one (empty, or with
    /// whitespace or an unexpanded `$`).
    pub fn parse(reference: &str) -> Option<ImageRef> {
        if reference.is_empty() || reference.contains(|c: char| c.is_whitespace() || c == '$') {
            return None;
        }
        let (name, digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_string())),
            None => (reference, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (
                &name[..last_slash + i],
                Some(name[last_slash + i + 1..].to_string()),
            ),
            None => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_string()), rest.to_string())
            }
            _ => (None, name.to_string()),
        };
        if repository.is_empty() {
            return None;
        }
        Some(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The last path component of the repository: `node` for `node`,
    /// `library/node` and `docker.io/library/node`; `static-debian12` for
    /// `gcr.io/distroless/static-debian12`. Rules use it to tell the image family.
    pub fn name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// Whether the image comes from Docker Hub (no registry, or `docker.io`,
    /// `index.docker.io`, `registry-1.docker.io`).
    pub fn is_docker_hub(&self) -> bool {
        matches!(
            self.registry.as_deref(),
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        )
    }

    /// Whether it is a Docker Hub official image (`node`, `library/node`).
    pub fn is_official(&self) -> bool {
        self.is_docker_hub()
            && (!self.repository.contains('/') || self.repository.starts_with("library/"))
    }

    /// Whether the reference floats: neither a digest nor a tag other than `latest`.
    pub fn is_latest_or_untagged(&self) -> bool {
        self.digest.is_none() && self.tag.as_deref().is_none_or(|t| t == "latest")
    }

    /// Whether the reference is pinned by digest.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(r: &str) -> (Option<String>, String, Option<String>, Option<String>) {
        let i = ImageRef::parse(r).expect("parses");
        (i.registry, i.repository, i.tag, i.digest)
    }

    #[test]
    fn splits_references() {
        assert_eq!(
            parts("node:22-slim"),
            (None, "node".into(), Some("22-slim".into()), None)
        );
        assert_eq!(
            parts("docker.io/library/node:22@sha256:abc"),
            (
                Some("docker.io".into()),
                "library/node".into(),
                Some("22".into()),
                Some("sha256:abc".into())
            )
        );
        assert_eq!(
            parts("localhost:5000/x/y:1"),
            (
                Some("localhost:5000".into()),
                "x/y".into(),
                Some("1".into()),
                None
            )
        );
        assert_eq!(
            parts("localhost:5000/x"),
            (Some("localhost:5000".into()), "x".into(), None, None)
        );
        assert_eq!(parts("golang"), (None, "golang".into(), None, None));
        assert_eq!(
            parts("bitnami/node"),
            (None, "bitnami/node".into(), None, None)
        );
    }

    #[test]
    fn answers_rule_questions() {
        let golang = ImageRef::parse("golang").expect("parses");
        assert!(golang.is_latest_or_untagged() && golang.is_official());
        assert_eq!(golang.name(), "golang");
        let pinned = ImageRef::parse("ghcr.io/org/node@sha256:abc").expect("parses");
        assert!(!pinned.is_latest_or_untagged() && !pinned.is_docker_hub());
        assert_eq!(pinned.name(), "node");
        assert!(ImageRef::parse("").is_none());
        assert!(ImageRef::parse("node:$V").is_none());
        assert_eq!(pinned.to_string(), "ghcr.io/org/node@sha256:abc");
    }
}
