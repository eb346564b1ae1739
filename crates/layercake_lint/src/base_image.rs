//! What layercake knows about well-known base images: toolchain or runtime,
//! full or slim, which smaller variant exists, whether it drops root.

use layercake_model::ImageRef;

/// The language or distribution an image is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFamily {
    /// `node`.
    Node,
    /// `python`.
    Python,
    /// `golang`.
    Go,
    /// `rust`.
    Rust,
    /// A JDK: `eclipse-temurin`, `openjdk`, `amazoncorretto`, `maven`, `gradle`.
    Java,
    /// `mcr.microsoft.com/dotnet/*`.
    Dotnet,
    /// `ruby`.
    Ruby,
    /// `php`.
    Php,
    /// A plain distribution: `debian`, `ubuntu`, `alpine`, `fedora`, …
    Distribution,
    /// `gcr.io/distroless/*`, `cgr.dev/chainguard/*`.
    Distroless,
    /// `scratch`.
    Scratch,
    /// Anything else.
    Other,
}

/// Facts about a base image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFacts {
    /// The family.
    pub family: ImageFamily,
    /// A compiler or SDK image (golang, rust, maven, gradle, a JDK, dotnet/sdk,
    /// the full node image): the build belongs in a builder stage.
    pub is_toolchain: bool,
    /// The full (Debian with build tools) variant, where `-slim`/`-alpine` exist.
    pub is_full_variant: bool,
    /// A smaller tag or image for the runtime stage, when one is known.
    pub slimmer: Option<String>,
    /// Known to run as a non-root user by default (distroless `:nonroot`, Chainguard).
    pub runs_as_non_root: bool,
}

/// What is known about `image`.
pub fn image_facts(image: &ImageRef) -> ImageFacts {
    let repository = image.repository.as_str();
    let name = image.name();
    let tag = image.tag.as_deref().unwrap_or("latest");
    let registry = image.registry.as_deref().unwrap_or("docker.io");
    let slim_tag = tag.contains("slim") || tag.contains("alpine") || tag.contains("distroless");
    let variant = |suffix: &str| -> Option<String> {
        let base = if tag == "latest" { "" } else { tag };
        let tag = if base.is_empty() {
            suffix.trim_start_matches('-').to_string()
        } else {
            format!("{base}{suffix}")
        };
        Some(format!("{repository}:{tag}"))
    };
    let mut facts = ImageFacts {
        family: ImageFamily::Other,
        is_toolchain: false,
        is_full_variant: false,
        slimmer: None,
        runs_as_non_root: false,
    };
    if registry == "gcr.io" && repository.starts_with("distroless/") || registry == "cgr.dev" {
        facts.family = ImageFamily::Distroless;
        facts.runs_as_non_root = tag.contains("nonroot") || registry == "cgr.dev";
        return facts;
    }
    if repository == "scratch" {
        facts.family = ImageFamily::Scratch;
        return facts;
    }
    if repository.starts_with("dotnet/sdk")
        || registry == "mcr.microsoft.com" && repository.contains("dotnet")
    {
        facts.family = ImageFamily::Dotnet;
        facts.is_toolchain = repository.contains("sdk");
        // Chiseled and distroless .NET images set `USER app` (uid 1654).
        facts.runs_as_non_root = tag.contains("chiseled") || tag.contains("distroless");
        facts.slimmer = facts
            .is_toolchain
            .then(|| format!("mcr.microsoft.com/dotnet/aspnet:{tag}"));
        return facts;
    }
    // Images documented to set a non-root USER themselves.
    facts.runs_as_non_root = name.ends_with("-unprivileged")
        || repository.starts_with("bitnami/") && name != "minideb"
        || repository == "jenkins/jenkins";
    match name {
        "node" => {
            facts.family = ImageFamily::Node;
            facts.is_full_variant = !slim_tag;
            facts.is_toolchain = !slim_tag;
            facts.slimmer = facts.is_full_variant.then(|| variant("-slim")).flatten();
        }
        "python" => {
            facts.family = ImageFamily::Python;
            facts.is_full_variant = !slim_tag;
            facts.slimmer = facts
                .is_full_variant
                .then(|| slim_before_codename(repository, tag));
        }
        "golang" => {
            facts.family = ImageFamily::Go;
            facts.is_toolchain = true;
            facts.slimmer = Some("gcr.io/distroless/static-debian12:nonroot".into());
        }
        "rust" => {
            facts.family = ImageFamily::Rust;
            facts.is_toolchain = true;
            facts.slimmer = Some("gcr.io/distroless/cc-debian12:nonroot".into());
        }
        "maven" | "gradle" => {
            facts.family = ImageFamily::Java;
            facts.is_toolchain = true;
            facts.slimmer = Some("eclipse-temurin:21-jre".into());
        }
        "eclipse-temurin" | "openjdk" | "amazoncorretto" | "ibm-semeru-runtimes" => {
            facts.family = ImageFamily::Java;
            facts.is_toolchain = !tag.contains("jre");
            facts.slimmer = facts.is_toolchain.then(|| {
                let version = tag
                    .split(['-', '.'])
                    .next()
                    .filter(|v| v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty());
                format!("eclipse-temurin:{}-jre", version.unwrap_or("21"))
            });
        }
        "ruby" | "php" => {
            facts.family = if name == "ruby" {
                ImageFamily::Ruby
            } else {
                ImageFamily::Php
            };
            facts.is_full_variant = !slim_tag && !tag.contains("fpm-alpine") && name == "ruby";
            facts.slimmer = facts
                .is_full_variant
                .then(|| slim_before_codename(repository, tag));
        }
        "debian" | "ubuntu" | "alpine" | "fedora" | "centos" | "rockylinux" | "almalinux"
        | "amazonlinux" | "busybox" => {
            facts.family = ImageFamily::Distribution;
            facts.slimmer = (name == "debian" && !slim_tag)
                .then(|| variant("-slim"))
                .flatten();
        }
        "buildpack-deps" => {
            facts.family = ImageFamily::Distribution;
            facts.is_toolchain = true;
            facts.is_full_variant = true;
            facts.slimmer = Some("debian:bookworm-slim".into());
        }
        _ => {}
    }
    facts
}

/// The `-slim` tag of the python and ruby images, which put `slim` before
/// the Debian codename (`3.12-slim-bookworm`, not `3.12-bookworm-slim`).
fn slim_before_codename(repository: &str, tag: &str) -> String {
    const CODENAMES: &[&str] = &["-bookworm", "-bullseye", "-buster", "-trixie"];
    let tag = match CODENAMES.iter().find(|c| tag.ends_with(*c)) {
        Some(codename) => format!("{}-slim{codename}", &tag[..tag.len() - codename.len()]),
        None if tag == "latest" => "slim".to_string(),
        None => format!("{tag}-slim"),
    };
    format!("{repository}:{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(reference: &str) -> ImageFacts {
        image_facts(&ImageRef::parse(reference).expect("reference"))
    }

    #[test]
    fn knows_toolchains_and_slim_variants() {
        let node = facts("node:22");
        assert!(node.is_toolchain && node.is_full_variant);
        assert_eq!(node.slimmer.as_deref(), Some("node:22-slim"));
        assert!(!facts("node:22-slim").is_full_variant);
        assert_eq!(facts("python").slimmer.as_deref(), Some("python:slim"));
        assert_eq!(
            facts("python:3.12-bookworm").slimmer.as_deref(),
            Some("python:3.12-slim-bookworm")
        );
        assert_eq!(facts("ruby:3.3").slimmer.as_deref(), Some("ruby:3.3-slim"));
        assert!(facts("golang:1.22-alpine").is_toolchain);
        assert_eq!(
            facts("eclipse-temurin:21-jdk").slimmer.as_deref(),
            Some("eclipse-temurin:21-jre")
        );
        assert!(!facts("eclipse-temurin:21-jre").is_toolchain);
        assert!(facts("mcr.microsoft.com/dotnet/sdk:8.0").is_toolchain);
    }

    #[test]
    fn knows_non_root_bases() {
        assert!(facts("gcr.io/distroless/static-debian12:nonroot").runs_as_non_root);
        assert!(!facts("gcr.io/distroless/static-debian12").runs_as_non_root);
        assert!(facts("cgr.dev/chainguard/node").runs_as_non_root);
        assert!(facts("nginxinc/nginx-unprivileged:1.27").runs_as_non_root);
        assert!(facts("mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled").runs_as_non_root);
        assert!(!facts("mcr.microsoft.com/dotnet/aspnet:8.0").runs_as_non_root);
        assert!(!facts("bitnami/minideb:bookworm").runs_as_non_root);
        assert!(!facts("node:22").runs_as_non_root);
    }
}
