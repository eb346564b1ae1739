//! What to build, and the docker command line that builds it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::BuildMode;

/// One build: a Dockerfile, its context and the flags `docker build` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest {
    /// The build context directory.
    pub context: PathBuf,
    /// The Dockerfile (`-f`). A relative path is taken by docker from the current
    /// directory, not from the context, so prefer an absolute one.
    pub dockerfile: PathBuf,
    /// The stage to build (`--target`); `None` builds the last stage.
    pub target: Option<String>,
    /// `--build-arg NAME=VALUE`, in order. These end up on the command line, where
    /// other local users can read them: never pass secrets here.
    pub build_args: Vec<(String, String)>,
    /// `--platform`, like `linux/amd64`.
    pub platform: Option<String>,
    /// Secrets mounted with `RUN --mount=type=secret`; their values are masked in the log.
    pub secrets: Vec<BuildSecret>,
    /// The tag the image gets (`-t`).
    pub tag: String,
    /// How long the build may run before it is canceled.
    pub timeout: Duration,
    /// Build without the cache (`--no-cache`).
    pub no_cache: bool,
}

impl BuildRequest {
    /// The default time a build may take: 30 minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    /// A request with no target, build arguments, platform or secrets, using the
    /// cache, with [`BuildRequest::DEFAULT_TIMEOUT`].
    pub fn new(
        context: impl Into<PathBuf>,
        dockerfile: impl Into<PathBuf>,
        tag: impl Into<String>,
    ) -> BuildRequest {
        BuildRequest {
            context: context.into(),
            dockerfile: dockerfile.into(),
            target: None,
            build_args: Vec::new(),
            platform: None,
            secrets: Vec::new(),
            tag: tag.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            no_cache: false,
        }
    }
}

/// A build secret (`--secret id=ID,src=PATH` or `--secret id=ID,env=NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSecret {
    /// The id `RUN --mount=type=secret,id=…` names.
    pub id: String,
    /// Where the docker CLI reads the value from.
    pub source: SecretSource,
}

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file's contents.
    File(PathBuf),
    /// An environment variable of the docker CLI (which inherits this process's).
    Env(String),
}

/// The arguments (after the docker binary) and extra environment that build `request`
/// in `mode`, writing the image id to `iidfile`.
///
/// [`BuildMode::Buildx`] runs `buildx build --load` (with `--builder` when one is
/// given) so the image lands in the engine's image store where `docker save` finds it;
/// [`BuildMode::ClassicBuildKit`] runs `build` with `DOCKER_BUILDKIT=1`.
pub fn build_command(
    mode: BuildMode,
    builder: Option<&str>,
    request: &BuildRequest,
    iidfile: &Path,
) -> (Vec<OsString>, Vec<(String, String)>) {
    let mut args: Vec<OsString> = Vec::new();
    let mut env = Vec::new();
    match mode {
        BuildMode::Buildx => {
            args.extend(["buildx".into(), "build".into()]);
            if let Some(builder) = builder {
                args.extend(["--builder".into(), builder.into()]);
            }
            args.push("--load".into());
            // Provenance attestations would add an attestation manifest that a `--load`
            // into the docker driver drops anyway, and that the containerd image
            // store keeps beside the image; layercake measures the image only.
            env.push((
                "BUILDX_NO_DEFAULT_ATTESTATIONS".to_string(),
                "1".to_string(),
            ));
        }
        BuildMode::ClassicBuildKit => {
            args.push("build".into());
            env.push(("DOCKER_BUILDKIT".to_string(), "1".to_string()));
        }
    }
    args.push("--progress=plain".into());
    args.push("--iidfile".into());
    args.push(iidfile.into());
    args.push("-t".into());
    args.push(request.tag.clone().into());
    args.push("-f".into());
    args.push(request.dockerfile.clone().into());
    if let Some(target) = &request.target {
        args.push("--target".into());
        args.push(target.into());
    }
    for (name, value) in &request.build_args {
        args.push("--build-arg".into());
        args.push(format!("{name}={value}").into());
    }
    if let Some(platform) = &request.platform {
        args.push("--platform".into());
        args.push(platform.into());
    }
    for secret in &request.secrets {
        args.push("--secret".into());
        args.push(secret_spec(secret));
    }
    if request.no_cache {
        args.push("--no-cache".into());
    }
    args.push(request.context.clone().into());
    (args, env)
}

/// `id=ID,src=PATH`: the CLI reads it as one CSV record, so a field holding a comma
/// or a quote is quoted.
fn secret_spec(secret: &BuildSecret) -> OsString {
    let source = match &secret.source {
        SecretSource::File(path) => format!("src={}", path.display()),
        SecretSource::Env(name) => format!("env={name}"),
    };
    let fields = [format!("id={}", secret.id), source];
    fields
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",")
        .into()
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    fn full_request() -> BuildRequest {
        BuildRequest {
            context: PathBuf::from("/src/app"),
            dockerfile: PathBuf::from("/src/app/Dockerfile"),
            target: Some("runtime".to_string()),
            build_args: vec![
                ("VERSION".to_string(), "1.2".to_string()),
                ("EMPTY".to_string(), String::new()),
            ],
            platform: Some("linux/amd64".to_string()),
            secrets: vec![
                BuildSecret {
                    id: "npmrc".to_string(),
                    source: SecretSource::File(PathBuf::from("/home/u/.npmrc")),
                },
                BuildSecret {
                    id: "token".to_string(),
                    source: SecretSource::Env("GH_TOKEN".to_string()),
                },
            ],
            tag: "layercake/app:head".to_string(),
            timeout: Duration::from_secs(60),
            no_cache: true,
        }
    }

    #[test]
    fn buildx_with_builder_loads_into_the_engine() {
        let (args, env) = build_command(
            BuildMode::Buildx,
            Some("ci-builder"),
            &full_request(),
            Path::new("/tmp/x/iid"),
        );
        assert_eq!(
            strings(&args),
            [
                "buildx",
                "build",
                "--builder",
                "ci-builder",
                "--load",
                "--progress=plain",
                "--iidfile",
                "/tmp/x/iid",
                "-t",
                "layercake/app:head",
                "-f",
                "/src/app/Dockerfile",
                "--target",
                "runtime",
                "--build-arg",
                "VERSION=1.2",
                "--build-arg",
                "EMPTY=",
                "--platform",
                "linux/amd64",
                "--secret",
                "id=npmrc,src=/home/u/.npmrc",
                "--secret",
                "id=token,env=GH_TOKEN",
                "--no-cache",
                "/src/app",
            ]
        );
        assert!(!env.iter().any(|(name, _)| name == "DOCKER_BUILDKIT"));
        assert!(env.contains(&(
            "BUILDX_NO_DEFAULT_ATTESTATIONS".to_string(),
            "1".to_string()
        )));
    }

    #[test]
    fn buildx_without_builder_uses_the_current_one() {
        let request = BuildRequest::new("/c", "/c/Dockerfile", "t:1");
        let (args, _) = build_command(BuildMode::Buildx, None, &request, Path::new("/i"));
        assert_eq!(
            strings(&args),
            [
                "buildx",
                "build",
                "--load",
                "--progress=plain",
                "--iidfile",
                "/i",
                "-t",
                "t:1",
                "-f",
                "/c/Dockerfile",
                "/c",
            ]
        );
    }

    #[test]
    fn classic_sets_docker_buildkit() {
        let (args, env) = build_command(
            BuildMode::ClassicBuildKit,
            None,
            &full_request(),
            Path::new("/tmp/x/iid"),
        );
        let args = strings(&args);
        assert_eq!(
            &args[..4],
            ["build", "--progress=plain", "--iidfile", "/tmp/x/iid"]
        );
        assert!(!args.iter().any(|arg| arg == "--load" || arg == "buildx"));
        assert!(args.windows(2).any(|w| w == ["--target", "runtime"]));
        assert!(
            args.windows(2)
                .any(|w| w == ["--secret", "id=token,env=GH_TOKEN"])
        );
        assert_eq!(args.last().map(String::as_str), Some("/src/app"));
        assert_eq!(env, [("DOCKER_BUILDKIT".to_string(), "1".to_string())]);
    }

    #[test]
    fn secret_fields_with_commas_are_quoted() {
        let secret = BuildSecret {
            id: "k".to_string(),
            source: SecretSource::File(PathBuf::from("/a,b/\"c\"")),
        };
        assert_eq!(
            secret_spec(&secret),
            OsString::from("id=k,\"src=/a,b/\"\"c\"\"\"")
        );
    }
}
