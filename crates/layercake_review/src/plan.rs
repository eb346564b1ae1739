//! Which images a change affects, and how each is built: the plan of a review.

use crate::ReviewError;
use layercake_build::{BuildSecret, SecretSource};
use layercake_config::{
    CliOverrides, ConfigResolver, ImageSpec, ResolvedSettings, SecretSourceSpec,
};
use layercake_dockerignore::LexicalPath;
use layercake_git::{AffectedReason, AffectedTarget, BuildTarget, Commit};
use std::path::{Path, PathBuf};

/// One affected image: where its Dockerfile is on each side, what it says
/// there, and how it is built.
pub(crate) struct PlannedImage {
    /// Why it is affected, and its build target at head.
    pub affected: AffectedTarget,
    /// The Dockerfile at base (a renamed one's old path).
    pub base_path: PathBuf,
    /// The Dockerfile at head.
    pub head_path: PathBuf,
    /// The Dockerfile's text at base; `None` when it has none there.
    pub base_text: Option<String>,
    /// At head.
    pub head_text: Option<String>,
    /// The configuration for it (lint settings, fail threshold, budget).
    pub settings: ResolvedSettings,
    /// Build secrets, from the user's checkout.
    pub secrets: Vec<BuildSecret>,
}

/// The commits a review compares.
pub(crate) struct Commits {
    /// The repository's top directory.
    pub top: PathBuf,
    /// `--base` resolved.
    pub base: Commit,
    /// `--head` resolved.
    pub head: Commit,
    /// Where head branched from `base`: the base side of every comparison, so
    /// changes the base branch made since do not show up as fixed.
    pub merge_base: Commit,
}

impl Commits {
    pub fn resolve(repository: &Path, base: &str, head: &str) -> Result<Commits, ReviewError> {
        let top = layercake_git::toplevel(repository)?;
        let base = layercake_git::resolve(repository, base)?;
        let head = layercake_git::resolve(repository, head)?;
        let merge_base = layercake_git::merge_base_of(repository, &base, &head)?;
        Ok(Commits {
            top,
            base,
            head,
            merge_base,
        })
    }
}

/// The images the change from `commits.merge_base` to `commits.head`
/// affects (at or under `paths`, when given), in Dockerfile path order; the
/// configuration is read from `head_root`, head's files.
pub(crate) fn plan_images(
    repository: &Path,
    commits: &Commits,
    head_root: &Path,
    paths: &[PathBuf],
    overrides: &CliOverrides,
) -> Result<Vec<PlannedImage>, ReviewError> {
    let (merge_base, head) = (&commits.merge_base, &commits.head);
    let mut resolver = ConfigResolver::new();
    let changes = layercake_git::diff_commits(repository, merge_base, head)?;
    let at_base = configured_targets(repository, merge_base, head_root, &mut resolver)?;
    let at_head = configured_targets(repository, head, head_root, &mut resolver)?;
    let affected = layercake_git::affected_targets(&at_base, &at_head, &changes, |path| {
        let bytes = layercake_git::show_file(repository, head, path)
            .ok()
            .flatten()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    });
    let mut planned = Vec::new();
    for target in affected {
        if !selected(paths, &target.target.dockerfile) {
            continue;
        }
        let head_path = target.target.dockerfile.clone();
        let base_path = match &target.reason {
            AffectedReason::DockerfileRenamed { from } => from.clone(),
            _ => head_path.clone(),
        };
        let settings = resolver
            .settings_for(&head_root.join(&head_path), overrides)
            .map_err(ReviewError::Config)?;
        let spec = image_spec(&mut resolver, head_root, &head_path)?;
        let secrets = spec
            .map(|spec| build_secrets(&commits.top, &spec.secrets))
            .unwrap_or_default();
        planned.push(PlannedImage {
            head_text: read_at(repository, head, &head_path)?,
            base_text: read_at(repository, merge_base, &base_path)?,
            affected: target,
            base_path,
            head_path,
            settings,
            secrets,
        });
    }
    Ok(planned)
}

/// Whether `dockerfile` is one of `paths` or under one (all when empty).
fn selected(paths: &[PathBuf], dockerfile: &Path) -> bool {
    paths.is_empty()
        || paths.iter().any(|p| {
            let p = p.strip_prefix("./").unwrap_or(p);
            p.as_os_str().is_empty() || p == Path::new(".") || dockerfile.starts_with(p)
        })
}

/// The Dockerfiles of `commit`, each built as the head's configuration says
/// (`images:` entries set context, target, build args and platform, and may
/// name Dockerfiles discovery would not find).
fn configured_targets(
    repository: &Path,
    commit: &Commit,
    head_root: &Path,
    resolver: &mut ConfigResolver,
) -> Result<Vec<BuildTarget>, ReviewError> {
    let mut targets = layercake_git::discover_targets(repository, commit)?;
    for target in &mut targets {
        if let Some(spec) = image_spec(resolver, head_root, &target.dockerfile)? {
            apply_spec(target, &spec);
        }
    }
    if let Some(config) = resolver
        .config_for(&head_root.join("Dockerfile"))
        .map_err(ReviewError::Config)?
    {
        let config_dir = config
            .dir()
            .strip_prefix(head_root)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        for spec in config.images() {
            let dockerfile = config_dir.join(&spec.dockerfile);
            if targets.iter().any(|t| t.dockerfile == dockerfile) {
                continue;
            }
            if layercake_git::show_file(repository, commit, &dockerfile)?.is_some() {
                let mut target = BuildTarget::for_dockerfile(dockerfile);
                apply_spec(&mut target, spec);
                targets.push(target);
            }
        }
        targets.sort_by(|a, b| a.dockerfile.cmp(&b.dockerfile));
    }
    Ok(targets)
}

/// The `images:` entry for a repository-relative Dockerfile, from the
/// configuration that covers it at head.
fn image_spec(
    resolver: &mut ConfigResolver,
    head_root: &Path,
    dockerfile: &Path,
) -> Result<Option<ImageSpec>, ReviewError> {
    let absolute = head_root.join(dockerfile);
    let Some(config) = resolver
        .config_for(&absolute)
        .map_err(ReviewError::Config)?
    else {
        return Ok(None);
    };
    let Ok(relative) = absolute.strip_prefix(config.dir()) else {
        return Ok(None);
    };
    let spec = config.image_for(relative).cloned().map(|mut spec| {
        // Paths in the entry are relative to the configuration file.
        let config_dir = config
            .dir()
            .strip_prefix(head_root)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        spec.context = spec
            .context
            .map(|c| LexicalPath::of(&config_dir.join(c)).clamped());
        spec
    });
    Ok(spec)
}

fn apply_spec(target: &mut BuildTarget, spec: &ImageSpec) {
    if let Some(context) = &spec.context {
        target.context = context.clone();
    }
    if spec.target.is_some() {
        target.target = spec.target.clone();
    }
    target.build_args = spec.build_args.clone();
    if spec.platform.is_some() {
        target.platform = spec.platform.clone();
    }
}

/// Secrets for BuildKit; files are read from the user's checkout (secret
/// files are rarely committed), relative to the repository root.
fn build_secrets(top: &Path, secrets: &[layercake_config::SecretSpec]) -> Vec<BuildSecret> {
    secrets
        .iter()
        .map(|secret| BuildSecret {
            id: secret.id.clone(),
            source: match &secret.source {
                SecretSourceSpec::File(path) => SecretSource::File(top.join(path)),
                SecretSourceSpec::Env(name) => SecretSource::Env(name.clone()),
            },
        })
        .collect()
}

fn read_at(repository: &Path, commit: &Commit, path: &Path) -> Result<Option<String>, ReviewError> {
    let bytes = layercake_git::show_file(repository, commit, path)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// A repository-relative path as the report writes it (`.` for the root).
pub(crate) fn shown(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}
