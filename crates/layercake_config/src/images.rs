//! `images:`: how each Dockerfile is built when `layercake diff` measures it.

use crate::budget::{Budget, BudgetLayer, check_budget};
use crate::error::{ConfigError, ConfigLocation, printable};
use crate::schema::{RawBuildArgs, RawImage, RawSecret};
use layercake_dockerignore::LexicalPath;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How one Dockerfile is built. Paths are relative to the configuration
/// file's directory, with `.` and `..` resolved; `.` is that directory itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpec {
    /// The Dockerfile (`dockerfile`).
    pub dockerfile: PathBuf,
    /// The build context (`context`); `None`: the Dockerfile's directory
    /// (see [`ImageSpec::context_dir`]).
    pub context: Option<PathBuf>,
    /// The stage to build (`target`); `None`: the last stage.
    pub target: Option<String>,
    /// `--build-arg` name → value (`build-args`).
    pub build_args: BTreeMap<String, String>,
    /// `--platform`, as `os/arch` or `os/arch/variant` (`platform`).
    pub platform: Option<String>,
    /// `--secret`s (`secrets`), in file order.
    pub secrets: Vec<SecretSpec>,
    /// What this entry's `budget:` says: the limits it sets, with those it
    /// does not set `None` (and `compressed` false unless set). The budget
    /// that applies, merged with the top level and the overrides, is
    /// `ResolvedSettings::budget`.
    pub budget: Option<Budget>,
}

impl ImageSpec {
    /// The build context: `context`, or else the Dockerfile's directory.
    pub fn context_dir(&self) -> PathBuf {
        if let Some(context) = &self.context {
            return context.clone();
        }
        match self.dockerfile.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// A BuildKit secret (`--secret id=…`). Its value is never read here, and
/// should never be printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretSpec {
    /// The id the Dockerfile mounts it by (`RUN --mount=type=secret,id=…`).
    pub id: String,
    /// Where its value comes from.
    pub source: SecretSourceSpec,
}

/// Where a secret's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSourceSpec {
    /// A file (`src`), relative to the configuration file's directory.
    File(PathBuf),
    /// An environment variable (`env`), by name.
    Env(String),
}

/// A checked `images` entry, with what it adds to the settings of its Dockerfile.
#[derive(Clone, Debug)]
pub(crate) struct CheckedImage {
    pub spec: ImageSpec,
    pub budget: BudgetLayer,
}

/// Checks the `images` entries: each valid, no Dockerfile twice.
pub(crate) fn check_images(
    path: &Path,
    raw: Vec<Spanned<RawImage>>,
) -> Result<Vec<CheckedImage>, ConfigError> {
    let mut images: Vec<CheckedImage> = Vec::new();
    let mut seen: Vec<ConfigLocation> = Vec::new();
    for entry in raw {
        let at = ConfigLocation::new(path, Some(entry.value.dockerfile.referenced));
        let image = check_image(path, entry.value)?;
        if let Some(index) = images
            .iter()
            .position(|other| other.spec.dockerfile == image.spec.dockerfile)
        {
            return Err(ConfigError::Duplicate {
                at,
                key: "images.dockerfile".to_string(),
                value: printable(&slash_separated(&image.spec.dockerfile)),
                first_line: seen[index].line,
                first_column: seen[index].column,
            });
        }
        images.push(image);
        seen.push(at);
    }
    Ok(images)
}

fn check_image(path: &Path, raw: RawImage) -> Result<CheckedImage, ConfigError> {
    let invalid = |key: &str, value: &Spanned<String>, reason: &str| ConfigError::InvalidSetting {
        at: ConfigLocation::new(path, Some(value.referenced)),
        key: format!("images.{key}"),
        value: printable(&value.value),
        reason: reason.to_string(),
    };
    let dockerfile = file_path(&raw.dockerfile.value)
        .map_err(|reason| invalid("dockerfile", &raw.dockerfile, reason))?;
    let context = raw
        .context
        .map(|context| {
            relative_path(&context.value).map_err(|reason| invalid("context", &context, reason))
        })
        .transpose()?;
    let target = raw
        .target
        .map(|target| {
            if target.value.trim().is_empty() {
                Err(invalid("target", &target, "must name a stage"))
            } else {
                Ok(target.value)
            }
        })
        .transpose()?;
    let platform = raw
        .platform
        .map(|platform| {
            if is_platform(&platform.value) {
                Ok(platform.value)
            } else {
                Err(invalid(
                    "platform",
                    &platform,
                    "expected os/arch or os/arch/variant, such as linux/amd64 or linux/arm64/v8",
                ))
            }
        })
        .transpose()?;
    let build_args = check_build_args(path, raw.build_args.unwrap_or_default())?;
    let secrets = check_secrets(path, raw.secrets.unwrap_or_default())?;
    let budget = raw
        .budget
        .map(|budget| check_budget(path, "images.budget", budget))
        .transpose()?;
    Ok(CheckedImage {
        spec: ImageSpec {
            dockerfile,
            context,
            target,
            build_args,
            platform,
            secrets,
            budget: budget.map(BudgetLayer::to_budget),
        },
        budget: budget.unwrap_or_default(),
    })
}

fn check_build_args(
    path: &Path,
    raw: RawBuildArgs,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut args = BTreeMap::new();
    // The parser rejects a name written twice (merges with `<<` resolved).
    for (name, value) in raw.0 {
        if name.value.is_empty()
            || name
                .value
                .chars()
                .any(|c| c == '=' || c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::InvalidSetting {
                at: ConfigLocation::new(path, Some(name.referenced)),
                key: "images.build-args".to_string(),
                value: printable(&name.value),
                reason: "a build argument's name must not be empty or contain '=' or whitespace"
                    .to_string(),
            });
        }
        let Some(text) = value.value else {
            return Err(ConfigError::InvalidSetting {
                at: ConfigLocation::new(path, Some(value.referenced)),
                key: format!("images.build-args.{}", printable(&name.value)),
                value: "null".to_string(),
                reason: "a build argument needs a value (write '' for an empty one)".to_string(),
            });
        };
        args.insert(name.value, text);
    }
    Ok(args)
}

fn check_secrets(
    path: &Path,
    raw: Vec<Spanned<RawSecret>>,
) -> Result<Vec<SecretSpec>, ConfigError> {
    let mut secrets: Vec<SecretSpec> = Vec::new();
    let mut seen: Vec<ConfigLocation> = Vec::new();
    for entry in raw {
        let RawSecret { id, src, env } = entry.value;
        let id_at = ConfigLocation::new(path, Some(id.referenced));
        let invalid =
            |key: &str, value: &Spanned<String>, reason: &str| ConfigError::InvalidSetting {
                at: ConfigLocation::new(path, Some(value.referenced)),
                key: format!("images.secrets.{key}"),
                value: printable(&value.value),
                reason: reason.to_string(),
            };
        if id.value.is_empty() {
            return Err(invalid("id", &id, "must not be empty"));
        }
        if id
            .value
            .chars()
            .any(|c| matches!(c, ',' | '=' | '"' | '\'') || c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "id",
                &id,
                "must not contain whitespace, ',', '=' or quotes",
            ));
        }
        if let Some(index) = secrets.iter().position(|s| s.id == id.value) {
            return Err(ConfigError::Duplicate {
                at: id_at,
                key: "images.secrets.id".to_string(),
                value: printable(&id.value),
                first_line: seen[index].line,
                first_column: seen[index].column,
            });
        }
        let source = match (src, env) {
            (Some(src), None) => SecretSourceSpec::File(
                file_path(&src.value).map_err(|reason| invalid("src", &src, reason))?,
            ),
            (None, Some(env)) => {
                if env.value.is_empty()
                    || env
                        .value
                        .chars()
                        .any(|c| c == '=' || c.is_whitespace() || c.is_control())
                {
                    return Err(invalid(
                        "env",
                        &env,
                        "an environment variable's name must not be empty or contain '=' or whitespace",
                    ));
                }
                SecretSourceSpec::Env(env.value)
            }
            (src, _) => {
                return Err(ConfigError::SecretSource {
                    at: ConfigLocation::new(path, Some(entry.referenced)),
                    id: printable(&id.value),
                    both: src.is_some(),
                });
            }
        };
        secrets.push(SecretSpec {
            id: id.value,
            source,
        });
        seen.push(id_at);
    }
    Ok(secrets)
}

/// Whether `text` is `os/arch` or `os/arch/variant`: two or three non-empty
/// parts of letters, digits, `_`, `.` and `-`.
fn is_platform(text: &str) -> bool {
    let parts: Vec<&str> = text.split('/').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        })
}

/// A path written in the file, relative to its directory, with `.` and `..`
/// resolved by spelling; `.` for the directory itself. `/` separates parts.
fn relative_path(text: &str) -> Result<PathBuf, &'static str> {
    if text.is_empty() {
        return Err("must not be empty");
    }
    if is_absolute(text) {
        return Err(
            "absolute paths are not allowed: write it relative to the configuration file's directory",
        );
    }
    let path = normalize_relative(Path::new(text))
        .ok_or("'..' leaves the configuration file's directory")?;
    Ok(if path.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        path
    })
}

/// [`relative_path`] for a file: not the directory itself.
fn file_path(text: &str) -> Result<PathBuf, &'static str> {
    let path = relative_path(text)?;
    if path == Path::new(".") {
        return Err("must name a file, not the configuration file's directory");
    }
    Ok(path)
}

/// Absolute on any system: `/…`, `\…`, or a drive (`C:…`).
fn is_absolute(text: &str) -> bool {
    let mut chars = text.chars();
    let drive = matches!(
        (chars.next(), chars.next()),
        (Some(letter), Some(':')) if letter.is_ascii_alphabetic()
    );
    text.starts_with('/') || text.starts_with('\\') || drive || Path::new(text).is_absolute()
}

/// `path` with `/` between its parts, as the file writes it.
fn slash_separated(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A relative path with `.` and `..` resolved by spelling; `None` when it is
/// absolute, or leaves the directory it is relative to.
pub(crate) fn normalize_relative(path: &Path) -> Option<PathBuf> {
    LexicalPath::of(path).inside()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_dots_and_stay_inside() {
        assert_eq!(relative_path("a/./b//c/"), Ok(PathBuf::from("a/b/c")));
        assert_eq!(relative_path("./a/../b"), Ok(PathBuf::from("b")));
        assert_eq!(relative_path("."), Ok(PathBuf::from(".")));
        assert_eq!(relative_path("a/.."), Ok(PathBuf::from(".")));
        assert!(relative_path("../a").is_err());
        assert!(relative_path("a/../../b").is_err());
        assert!(relative_path("/etc/passwd").is_err());
        assert!(relative_path("C:/x").is_err());
        assert!(relative_path("\\\\server\\x").is_err());
        assert!(relative_path("").is_err());
        assert!(file_path(".").is_err());
        assert!(file_path("a/..").is_err());
    }

    #[test]
    fn platforms_have_two_or_three_parts() {
        for good in [
            "linux/amd64",
            "linux/arm64/v8",
            "windows/amd64",
            "linux/arm/v7",
        ] {
            assert!(is_platform(good), "{good}");
        }
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "linux/arm/v7/x",
            "linux//amd64",
            "linux/amd 64",
            "",
        ] {
            assert!(!is_platform(bad), "{bad}");
        }
    }

    #[test]
    fn context_defaults_to_the_dockerfiles_directory() {
        let mut spec = ImageSpec {
            dockerfile: PathBuf::from("services/api/Dockerfile"),
            context: None,
            target: None,
            build_args: BTreeMap::new(),
            platform: None,
            secrets: Vec::new(),
            budget: None,
        };
        assert_eq!(spec.context_dir(), Path::new("services/api"));
        spec.dockerfile = PathBuf::from("Dockerfile");
        assert_eq!(spec.context_dir(), Path::new("."));
        spec.context = Some(PathBuf::from("."));
        assert_eq!(spec.context_dir(), Path::new("."));
    }
}
