//! A builder named on the command line: a Docker Engine by endpoint or a
//! buildx builder by name, with how many builds it takes at once.

use crate::DockerSelection;
use std::path::PathBuf;
use std::str::FromStr;

/// One builder as configured: `docker=ENDPOINT` or `buildx=NAME`, with
/// `@N` for how many jobs build on it at once (default 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderSpec {
    /// As written, without the `@N`: the builder's name in logs and metrics.
    pub name: String,
    /// What it is.
    pub target: BuilderTarget,
    /// Jobs building on it at once.
    pub concurrency: usize,
}

/// Where a builder's builds run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuilderTarget {
    /// A Docker Engine, as `DOCKER_HOST` names it (`unix:///…`, `tcp://…`, `ssh://…`).
    Engine(String),
    /// A buildx builder by name (remote BuildKit, Kubernetes, docker-container).
    Buildx(String),
}

impl FromStr for BuilderSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<BuilderSpec, String> {
        let text = text.trim();
        // `@N` at the very end; an `ssh://user@host` keeps its `@`.
        let (spec, concurrency) = match text.rsplit_once('@') {
            Some((spec, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                let n: usize = n
                    .parse()
                    .map_err(|_| format!("{text:?}: the number after @ is too large"))?;
                if n == 0 {
                    return Err(format!(
                        "{text:?}: a builder runs at least 1 job at once (@1)"
                    ));
                }
                (spec, n)
            }
            _ => (text, 1),
        };
        let target = match spec.split_once('=') {
            Some(("docker", endpoint)) if !endpoint.is_empty() => {
                BuilderTarget::Engine(endpoint.to_string())
            }
            Some(("buildx", name)) if !name.is_empty() => BuilderTarget::Buildx(name.to_string()),
            _ => {
                return Err(format!(
                    "{text:?}: expected docker=ENDPOINT or buildx=NAME, optionally followed by @JOBS (docker=unix:///run/docker.sock@2, buildx=k8s@4)"
                ));
            }
        };
        Ok(BuilderSpec {
            name: spec.to_string(),
            target,
            concurrency,
        })
    }
}

impl BuilderSpec {
    /// The docker selection that builds on it, with the CLI `binary` (found
    /// on `PATH` when `None`).
    pub fn selection(&self, binary: Option<PathBuf>) -> DockerSelection {
        match &self.target {
            BuilderTarget::Engine(host) => DockerSelection {
                binary,
                builder: None,
                host: Some(host.clone()),
            },
            BuilderTarget::Buildx(name) => DockerSelection {
                binary,
                builder: Some(name.clone()),
                host: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_are_written_as_a_target_and_a_number_of_jobs() {
        let spec = |text: &str| text.parse::<BuilderSpec>();
        assert_eq!(
            spec("docker=unix:///run/b.sock@2"),
            Ok(BuilderSpec {
                name: "docker=unix:///run/b.sock".to_string(),
                target: BuilderTarget::Engine("unix:///run/b.sock".to_string()),
                concurrency: 2,
            })
        );
        assert_eq!(
            spec("buildx=k8s").map(|s| (s.target, s.concurrency)),
            Ok((BuilderTarget::Buildx("k8s".to_string()), 1))
        );
        // An ssh endpoint keeps its user.
        assert_eq!(
            spec("docker=ssh://ci@builder-1").map(|s| s.target),
            Ok(BuilderTarget::Engine("ssh://ci@builder-1".to_string()))
        );
        assert_eq!(
            spec("docker=ssh://ci@builder-1@3").map(|s| s.concurrency),
            Ok(3)
        );
        for bad in [
            "",
            "docker",
            "docker=",
            "buildx=@2",
            "podman=x",
            "unix:///run/docker.sock",
            "docker=unix:///x@0",
            "docker=unix:///x@99999999999999999999999",
        ] {
            let error = spec(bad).expect_err(bad);
            assert!(error.starts_with(&format!("{:?}", bad.trim())), "{error}");
        }
    }
}
