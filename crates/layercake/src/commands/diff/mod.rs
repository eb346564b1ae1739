//! `layercake diff`: the Dockerfiles a change affects, built with BuildKit
//! at the merge-base and at head, measured down to the layer, the line and
//! the file, and linted on both sides (findings new, fixed or unchanged).
//!
//! Without a Docker daemon (or with `--no-build`) the report is lint-only
//! and says why. The JSON report is documented in `docs/diff-report.md`.

mod compare;
mod measure;
mod probe;
mod progress;

use crate::cli::FailOn as CliFailOn;
use anyhow::Context;
use clap::{Args, ValueEnum};
use compare::AttributedLayers;
use layercake_build::{BuildRequest, BuildSecret, Docker, DockerSelection, SecretSource};
use layercake_config::{
    Budget, CliOverrides, ConfigResolver, ImageSpec, ResolvedSettings, SecretSourceSpec,
};
use layercake_git::{AffectedReason, AffectedTarget, BuildTarget, Commit, CommitTree};
use layercake_lint::{FileReport, LintSettings, lint_source};
use layercake_model::DockerfilePairing;
use layercake_report::{
    BudgetReport, BudgetViolation, BuildPackages, BuilderInfo, Change, DiffFinding, DiffReport,
    DroppedFinding, ImageReport, LintedVersion, REPORT_VERSION, RefInfo, SideReport, SideStatus,
    StageFindings, StageScope,
};
use measure::{CompressedScope, MeasuredSide, ParsedSide};
use progress::{Progress, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// `layercake diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base branch, tag or commit (what the pull request merges into).
    #[arg(long, value_name = "REF")]
    pub base: String,
    /// The head branch, tag or commit (the pull request).
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub head: String,
    /// Only these Dockerfiles, or the Dockerfiles under these directories (repository-relative).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Also write the JSON report to this file (whatever `--format` prints).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The git repository (any directory inside its work tree).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
    /// Exit 1 when a new finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<CliFailOn>,
    /// How images are built.
    #[command(flatten)]
    pub build: BuildFlags,
    /// How many Dockerfiles to build at once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Run the cache-bust probe even without a cache-ordering finding.
    #[arg(long, conflicts_with = "no_probe")]
    pub probe: bool,
    /// Never run the cache-bust probe.
    #[arg(long)]
    pub no_probe: bool,
    /// Also measure the compressed size of a changed base image (a bump, another
    /// base): it deflates the whole base image, most of a cold run's time.
    #[arg(long)]
    pub compressed_base_images: bool,
    /// Keep the images built (tagged `layercake-diff/…`) instead of removing them.
    #[arg(long)]
    pub keep_images: bool,
    /// Report findings in every stage, also those the target does not build.
    #[arg(long)]
    pub all_stages: bool,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// How images are built: the same flags (and environment variables) for
/// `diff`, `action` and `serve`.
#[derive(Clone, Debug, Args)]
pub struct BuildFlags {
    /// Lint only: build nothing, measure nothing.
    #[arg(long, env = "LAYERCAKE_NO_BUILD")]
    pub no_build: bool,
    /// The docker CLI to build with (default: the first on PATH that can use BuildKit).
    #[arg(long, value_name = "PATH", env = "LAYERCAKE_DOCKER")]
    pub docker: Option<PathBuf>,
    /// A buildx builder (remote and Kubernetes BuildKit builders work); needs buildx.
    #[arg(long, value_name = "NAME", env = "BUILDX_BUILDER")]
    pub builder: Option<String>,
    /// Give up on a build after this many seconds (it is then reported as failed).
    #[arg(
        long,
        value_name = "SECONDS",
        env = "LAYERCAKE_TIMEOUT",
        default_value_t = 1800
    )]
    pub timeout: u64,
    /// Where image analyses are kept, by image ID and each layer by `diff_id`:
    /// an image built again unchanged is not read again, and a new image reads
    /// only the layers no kept image has (default: `~/.cache/layercake/images`).
    #[arg(long, value_name = "DIR", env = "LAYERCAKE_IMAGE_CACHE")]
    pub image_cache: Option<PathBuf>,
    /// Keep no image analyses.
    #[arg(long, env = "LAYERCAKE_NO_IMAGE_CACHE", conflicts_with = "image_cache")]
    pub no_image_cache: bool,
}

impl BuildFlags {
    /// The image cache these flags ask for.
    pub fn cache(&self) -> Option<layercake_build::ImageCache> {
        if self.no_image_cache {
            return None;
        }
        self.image_cache
            .clone()
            .or_else(layercake_build::ImageCache::default_dir)
            .map(layercake_build::ImageCache::new)
    }
}

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For people.
    Text,
    /// The versioned JSON report (docs/diff-report.md).
    Json,
    /// Markdown, for a PR comment or job summary.
    Markdown,
}

/// Runs `layercake diff`; returns the exit status.
pub fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let DiffOutcome { report, failed, .. } = build_report(args)?;
    if let Some(path) = &args.report {
        std::fs::write(path, layercake_report::render_json(&report))
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let out = match args.format {
        DiffFormat::Json => layercake_report::render_json(&report),
        DiffFormat::Text => layercake_report::render_text(&report),
        DiffFormat::Markdown => layercake_report::render_markdown(&report),
    };
    crate::output::write_stdout(&out).context("writing the report")?;
    Ok(if failed {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    })
}

fn git_error(error: layercake_git::GitError) -> anyhow::Error {
    anyhow::Error::new(error)
}

/// One affected image, planned: where its Dockerfile is on each side and how it is built.
struct Job {
    affected: AffectedTarget,
    base_path: PathBuf,
    head_path: PathBuf,
    base_text: Option<String>,
    head_text: Option<String>,
    settings: ResolvedSettings,
    secrets: Vec<BuildSecret>,
}

/// What the builds need that is the same for every image.
struct BuildEnv<'a> {
    docker: &'a Docker,
    cache: Option<layercake_build::ImageCache>,
    base_root: &'a Path,
    head_root: &'a Path,
    timeout: Duration,
    probe: ProbeMode,
    keep_images: bool,
    compressed_base_images: bool,
    progress: &'a Progress,
    run_id: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ProbeMode {
    WhenFindings,
    Always,
    Never,
}

/// One image's report, by its position in the plan: (index, report, whether
/// it fails the run, head's lint results).
type ImageOutcome = (usize, ImageReport, bool, Option<FileReport>);

/// What a `diff` run produced.
pub struct DiffOutcome {
    /// The report.
    pub report: DiffReport,
    /// Whether it fails the run (a new finding at the threshold, a broken
    /// head build, a budget exceeded).
    pub failed: bool,
    /// The head side's lint results (for SARIF).
    pub head_lint: Vec<FileReport>,
}

/// Resolves the refs, finds the affected images, builds and lints both sides.
pub fn build_report(args: &DiffArgs) -> anyhow::Result<DiffOutcome> {
    let repo = args.repo.as_path();
    let top = layercake_git::toplevel(repo).map_err(git_error)?;
    let base = layercake_git::resolve(repo, &args.base).map_err(git_error)?;
    let head = layercake_git::resolve(repo, &args.head).map_err(git_error)?;
    // Pull-request semantics: compare head with the commit it branched from,
    // so changes the base branch made since do not show up as "fixed".
    let fork = layercake_git::merge_base_of(repo, &base, &head).map_err(git_error)?;
    let head_tree = CommitTree::write(repo, &head).map_err(git_error)?;

    let overrides = CliOverrides {
        fail_on: args.fail_on.map(CliFailOn::to_config),
        ..CliOverrides::default()
    };
    let mut resolver = ConfigResolver::new();
    let changes = layercake_git::diff_commits(repo, &fork, &head).map_err(git_error)?;
    let at_base = configured_targets(repo, &fork, head_tree.path(), &mut resolver)?;
    let at_head = configured_targets(repo, &head, head_tree.path(), &mut resolver)?;
    let affected = layercake_git::affected_targets(&at_base, &at_head, &changes, |path| {
        let bytes = layercake_git::show_file(repo, &head, path).ok().flatten()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    });
    let affected: Vec<AffectedTarget> = affected
        .into_iter()
        .filter(|a| selected(&args.paths, &a.target.dockerfile))
        .collect();

    let mut jobs = Vec::with_capacity(affected.len());
    for target in affected {
        let head_path = target.target.dockerfile.clone();
        let base_path = match &target.reason {
            AffectedReason::DockerfileRenamed { from } => from.clone(),
            _ => head_path.clone(),
        };
        let settings = resolver
            .settings_for(&head_tree.path().join(&head_path), &overrides)
            .context("reading the configuration")?;
        let spec = image_spec(&mut resolver, head_tree.path(), &head_path)?;
        let secrets = spec
            .map(|spec| build_secrets(&top, &spec.secrets))
            .unwrap_or_default();
        jobs.push(Job {
            head_text: read_at(repo, &head, &head_path)?,
            base_text: read_at(repo, &fork, &base_path)?,
            affected: target,
            base_path,
            head_path,
            settings,
            secrets,
        });
    }

    // Decide whether to build.
    let mut not_measured = None;
    let docker = if args.build.no_build {
        not_measured = Some("--no-build was given".to_string());
        None
    } else if jobs.is_empty() {
        None
    } else {
        match Docker::detect(&DockerSelection {
            binary: args.build.docker.clone(),
            builder: args.build.builder.clone(),
        }) {
            Ok(docker) => Some(docker),
            Err(unavailable) => {
                not_measured = Some(format!("images were not built: {}", unavailable.reason));
                None
            }
        }
    };
    let base_tree = match &docker {
        Some(_) => Some(CommitTree::write(repo, &fork).map_err(git_error)?),
        None => None,
    };
    let progress = Progress::new(ProgressStyle::detect(args.quiet));
    let env = match (&docker, &base_tree) {
        (Some(docker), Some(base_tree)) => Some(BuildEnv {
            docker,
            cache: args.build.cache(),
            base_root: base_tree.path(),
            head_root: head_tree.path(),
            timeout: Duration::from_secs(args.build.timeout.max(1)),
            probe: if args.no_probe {
                ProbeMode::Never
            } else if args.probe {
                ProbeMode::Always
            } else {
                ProbeMode::WhenFindings
            },
            keep_images: args.keep_images,
            compressed_base_images: args.compressed_base_images,
            progress: &progress,
            run_id: format!("{}-{}", std::process::id(), short_sha(&head.sha)),
        }),
        _ => None,
    };

    // Each image on a worker; base before head within an image, so head's
    // build finds base's steps in BuildKit's cache.
    let stage_scope = if args.all_stages {
        StageScope::All
    } else {
        StageScope::Built
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<ImageOutcome>> = Mutex::new(Vec::new());
    let workers = args.jobs.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(index) else { break };
                    let (image, failed, head_lint) =
                        image_report(job, head_tree.path(), env.as_ref(), index, stage_scope);
                    if let Ok(mut results) = results.lock() {
                        results.push((index, image, failed, head_lint));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(index, ..)| *index);
    let failed = results.iter().any(|(_, _, failed, _)| *failed);
    let mut images = Vec::with_capacity(results.len());
    let mut head_lint = Vec::new();
    for (_, image, _, lint) in results {
        images.push(image);
        head_lint.extend(lint);
    }

    let report = DiffReport {
        version: REPORT_VERSION,
        base: RefInfo {
            name: args.base.clone(),
            sha: base.sha.clone(),
        },
        head: RefInfo {
            name: args.head.clone(),
            sha: head.sha.clone(),
        },
        merge_base: fork.sha.clone(),
        measured: env.is_some(),
        not_measured_reason: not_measured,
        builder: docker.as_ref().map(|d| BuilderInfo {
            binary: d.binary().display().to_string(),
            mode: match d.mode() {
                layercake_build::BuildMode::Buildx => "buildx".to_string(),
                layercake_build::BuildMode::ClassicBuildKit => "docker-build".to_string(),
            },
            server_version: d.server_version().to_string(),
        }),
        pull_request: None,
        images,
    };
    drop(base_tree);
    drop(head_tree);
    Ok(DiffOutcome {
        report,
        failed,
        head_lint,
    })
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
    repo: &Path,
    commit: &Commit,
    head_root: &Path,
    resolver: &mut ConfigResolver,
) -> anyhow::Result<Vec<BuildTarget>> {
    let mut targets = layercake_git::discover_targets(repo, commit).map_err(git_error)?;
    for target in &mut targets {
        if let Some(spec) = image_spec(resolver, head_root, &target.dockerfile)? {
            apply_spec(target, &spec);
        }
    }
    if let Some(config) = resolver
        .config_for(&head_root.join("Dockerfile"))
        .context("reading the configuration")?
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
            if layercake_git::show_file(repo, commit, &dockerfile)
                .map_err(git_error)?
                .is_some()
            {
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
) -> anyhow::Result<Option<ImageSpec>> {
    let absolute = head_root.join(dockerfile);
    let Some(config) = resolver
        .config_for(&absolute)
        .context("reading the configuration")?
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
        spec.context = spec.context.map(|c| normalize(&config_dir.join(c)));
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

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
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

fn shown(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn read_at(repo: &Path, commit: &Commit, path: &Path) -> anyhow::Result<Option<String>> {
    let bytes = layercake_git::show_file(repo, commit, path).map_err(git_error)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// The whole report for one image, whether it fails the run, and head's
/// lint results. Never fails: what goes wrong is in the report.
fn image_report(
    job: &Job,
    head_root: &Path,
    env: Option<&BuildEnv<'_>>,
    index: usize,
    scope: StageScope,
) -> (ImageReport, bool, Option<FileReport>) {
    let target = &job.affected.target;
    // Both sides parsed once, as the build sees them (target, arguments,
    // platform); the lint, the pairing and the measurements all use them.
    let parsed = |text: &Option<String>| {
        text.as_deref().map(|text| {
            ParsedSide::new(
                text.to_string(),
                target.target.as_deref(),
                &target.build_args,
                target.platform.as_deref(),
            )
        })
    };
    let base_parsed = parsed(&job.base_text);
    let head_parsed = parsed(&job.head_text);
    let pairing = match (&base_parsed, &head_parsed) {
        (Some(base), Some(head)) => Some(DockerfilePairing::new(base.version(), head.version())),
        _ => None,
    };
    let mut lint_settings = job.settings.lint.clone();
    if lint_settings.target.is_none() {
        lint_settings.target = target.target.clone();
    }
    let lint = |path: &Path, side: &Option<ParsedSide>, root: Option<&Path>| {
        side.as_ref()
            .map(|side| lint_one(path, &side.source, &lint_settings, root, &target.context))
    };
    let head_lint = lint(&job.head_path, &head_parsed, Some(head_root));
    let base_lint = lint(&job.base_path, &base_parsed, env.map(|e| e.base_root));
    let classified = layercake_report::classify(
        linted(base_lint.as_ref(), base_parsed.as_ref()),
        linted(head_lint.as_ref(), head_parsed.as_ref()),
        pairing.as_ref(),
        scope,
    );
    let mut findings = classified.findings;

    let (reason, renamed_from, changed_paths, changed_path_count) = match &job.affected.reason {
        AffectedReason::DockerfileAdded => ("dockerfile-added", None, None, None),
        AffectedReason::DockerfileDeleted => ("dockerfile-deleted", None, None, None),
        AffectedReason::DockerfileModified => ("dockerfile-modified", None, None, None),
        AffectedReason::DockerfileRenamed { from } => {
            ("dockerfile-renamed", Some(shown(from)), None, None)
        }
        AffectedReason::ContextChanged { paths, count } => (
            "context-changed",
            None,
            Some(paths.iter().map(|p| shown(p)).collect()),
            Some(*count),
        ),
    };
    let mut image = ImageReport {
        dockerfile: shown(&job.head_path),
        context: shown(&target.context),
        target: target.target.clone(),
        platform: target.platform.clone(),
        reason: reason.to_string(),
        renamed_from,
        changed_paths,
        changed_path_count,
        base: SideReport::skipped(job.base_text.is_some(), "not built"),
        head: SideReport::skipped(job.head_text.is_some(), "not built"),
        delta_bytes: None,
        compressed_delta_bytes: None,
        own_compressed_delta_bytes: None,
        layer_deltas: Vec::new(),
        stage_deltas: Vec::new(),
        files: None,
        wasted_bytes: None,
        wasted: Vec::new(),
        build_packages: None,
        budget: None,
        findings: Vec::new(),
        findings_outside_target: classified
            .outside_target
            .into_iter()
            .map(|(stage, findings)| StageFindings { stage, findings })
            .collect(),
        dropped: Vec::new(),
        probe: None,
    };
    let mut budget_failed = false;
    if let Some(env) = env {
        let sides = Sides {
            base: base_parsed.as_ref(),
            head: head_parsed.as_ref(),
            pairing: pairing.as_ref(),
        };
        budget_failed = measure_image(job, env, index, &sides, &mut image, &mut findings);
    } else {
        for side in [&mut image.base, &mut image.head] {
            side.reason = Some(if side.dockerfile_present {
                "not built (lint-only report)".to_string()
            } else {
                "no Dockerfile on this side".to_string()
            });
        }
    }
    let lint_failed = findings.iter().any(|f| {
        f.change == Change::New
            && layercake_lint::Severity::parse(&f.severity)
                .is_some_and(|severity| job.settings.fail_on.fails(severity))
    });
    image.findings = findings;
    // A pull request that breaks its image's build fails the check.
    let head_broken = image.head.status == SideStatus::Failed;
    (
        image,
        lint_failed || budget_failed || head_broken,
        head_lint,
    )
}

fn linted<'a>(
    lint: Option<&'a FileReport>,
    side: Option<&'a ParsedSide>,
) -> Option<LintedVersion<'a>> {
    Some(LintedVersion {
        lint: lint?,
        version: side?.version(),
    })
}

/// Both sides of one image, parsed, and how they pair.
struct Sides<'a> {
    base: Option<&'a ParsedSide>,
    head: Option<&'a ParsedSide>,
    pairing: Option<&'a DockerfilePairing>,
}

/// Lints one side; with its checkout at hand, the rules see the build context too.
fn lint_one(
    path: &Path,
    text: &str,
    settings: &LintSettings,
    root: Option<&Path>,
    context: &Path,
) -> FileReport {
    let mut report = lint_source(&shown(path), text, settings);
    if let Some(root) = root
        && let Some(info) =
            crate::build_context::read_build_context_at(&root.join(path), &root.join(context))
    {
        report = layercake_lint::lint_source_in_context(&shown(path), text, settings, Some(&info));
    }
    report
}

/// Builds and measures both sides, fills the image report in, and marks
/// findings with what the build showed. Returns whether the budget failed.
fn measure_image(
    job: &Job,
    env: &BuildEnv<'_>,
    index: usize,
    sides: &Sides<'_>,
    image: &mut ImageReport,
    findings: &mut Vec<DiffFinding>,
) -> bool {
    let target = &job.affected.target;
    let request = |root: &Path, dockerfile: &Path, side: &str| BuildRequest {
        context: root.join(&target.context),
        dockerfile: root.join(dockerfile),
        target: target.target.clone(),
        build_args: target
            .build_args
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        platform: target.platform.clone(),
        secrets: job.secrets.clone(),
        tag: format!("layercake-diff/{}-{index}:{side}", env.run_id),
        timeout: env.timeout,
        no_cache: false,
    };
    let title = |side: &str| format!("{side} {}", shown(&job.head_path));
    let (base_parsed, head_parsed) = (sides.base, sides.head);
    let base_request = request(env.base_root, &job.base_path, "base");
    let head_request = request(env.head_root, &job.head_path, "head");
    // Base builds first, so head finds base's steps in BuildKit's cache;
    // base's image is read while head builds.
    let build = |request: &BuildRequest, parsed: &ParsedSide, side: &str| {
        measure::build_side(env.docker, request, parsed, title(side), env.progress)
    };
    let base_built = base_parsed.map(|p| build(&base_request, p, "base"));
    let (mut base, head_built) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            base_built.zip(base_parsed).map(|(built, parsed)| {
                measure::read_side(env.docker, built, parsed, None, env.cache.as_ref())
            })
        });
        let head_built = head_parsed.map(|p| build(&head_request, p, "head"));
        let base = reading.join().unwrap_or_else(|_| {
            Some(measure::MeasuredSide::failed(SideReport::failed(
                "reading the built image stopped unexpectedly",
            )))
        });
        (base, head_built)
    });
    // Head's read skips the layers base's read already measured.
    let previous = base.as_ref().and_then(|side| side.image.as_ref());
    let mut head = head_built.zip(head_parsed).map(|(built, parsed)| {
        measure::read_side(env.docker, built, parsed, previous, env.cache.as_ref())
    });
    let budget = &job.settings.budget;
    let scope = if budget.compressed && budget.has_limits() {
        CompressedScope::Whole
    } else if env.compressed_base_images {
        CompressedScope::Changed
    } else {
        CompressedScope::ChangedAboveBaseImages
    };
    measure::measure_compressed(
        env.docker,
        base.as_mut(),
        head.as_mut(),
        scope,
        env.cache.as_ref(),
    );

    let take = |side: &Option<MeasuredSide>, present: bool| match side {
        Some(side) => side.report.clone(),
        None => SideReport::skipped(present, "no Dockerfile on this side"),
    };
    image.base = take(&base, job.base_text.is_some());
    image.head = take(&head, job.head_text.is_some());
    let base_image = base.as_ref().and_then(|s| s.image.as_ref());
    let head_image = head.as_ref().and_then(|s| s.image.as_ref());

    if let Some(head_image) = head_image {
        if let (Some(base_size), Some(base_image)) = (image.base.size_bytes, base_image) {
            image.delta_bytes =
                Some(compare::signed(head_image.size_bytes) - compare::signed(base_size));
            image.compressed_delta_bytes =
                layercake_image::compressed_delta(&base_image.layers, &head_image.layers);
        }
        // The Dockerfile's own layers: against base's, or against nothing for
        // an added Dockerfile (not for a base whose build failed).
        if let Some(head) = &head
            && (base_image.is_some() || job.base_text.is_none())
        {
            let base_own = base.as_ref().map_or(&[][..], MeasuredSide::own_layers);
            image.own_compressed_delta_bytes =
                layercake_image::compressed_delta(base_own, head.own_layers());
        }
        if let Some(head_layers) = AttributedLayers::of(head.as_ref(), head_parsed) {
            let base_layers = AttributedLayers::of(base.as_ref(), base_parsed);
            image.layer_deltas = compare::layer_deltas(base_layers, &head_layers, sides.pairing);
            image.stage_deltas = compare::stage_deltas(base_layers, &head_layers, sides.pairing);
        }
        if let Some(base_image) = base_image {
            image.files = Some(compare::file_changes(base_image, head_image));
        }
        if let Some(base_layers) = AttributedLayers::of(base.as_ref(), base_parsed)
            && let Some(base_image) = base_image
        {
            image.base.wasted =
                Some(compare::wasted(base_image, base_layers.base_image_layers()).0);
        }
        if let Some(head_layers) = AttributedLayers::of(head.as_ref(), head_parsed) {
            let (summary, paths) = compare::wasted(head_image, head_layers.base_image_layers());
            image.wasted_bytes = Some(summary.bytes);
            image.head.wasted = Some(summary);
            image.wasted = paths;
        }
        let packages = layercake_measure::build_packages(&head_image.installed_packages());
        if let Some(summary) = packages.summary(layercake_report::format_bytes) {
            image.build_packages = Some(BuildPackages {
                count: packages.packages.len(),
                bytes: packages.bytes,
                largest: packages
                    .packages
                    .iter()
                    .take(5)
                    .map(|p| p.name.clone())
                    .collect(),
                summary,
            });
        }
    }
    attach_image_evidence(image, findings);

    // The probe, on head, when a cache-ordering finding is there to test.
    let probed: Vec<&DiffFinding> = findings
        .iter()
        .filter(|f| f.code == probe::PROBED_RULE && f.change != Change::Fixed)
        .collect();
    let wants_probe = match env.probe {
        ProbeMode::Never => false,
        ProbeMode::Always => true,
        ProbeMode::WhenFindings => !probed.is_empty(),
    };
    if wants_probe
        && head_image.is_some()
        && let Some(head_parsed) = head_parsed
        && let Some(outcome) = probe::run(&probe::ProbeInput {
            docker: env.docker,
            request: &head_request,
            parsed: head_parsed,
            findings: &probed,
            progress: env.progress,
            title: title("head"),
        })
    {
        let mut dropped = Vec::new();
        for (line, verdict) in outcome.verdicts {
            match verdict {
                probe::Verdict::Confirmed { evidence } => {
                    for finding in findings.iter_mut().filter(|f| {
                        f.code == probe::PROBED_RULE && f.line == line && f.change != Change::Fixed
                    }) {
                        finding.measured = true;
                        finding.evidence.push(evidence.clone());
                    }
                }
                probe::Verdict::Refuted { why } => dropped.push((line, why)),
            }
        }
        for (line, why) in dropped {
            drop_findings(image, findings, probe::PROBED_RULE, Some(line), &why);
        }
        image.probe = Some(outcome.report);
    }

    if !env.keep_images {
        let _ = env
            .docker
            .remove_images(&[&base_request.tag, &head_request.tag]);
    }
    judge_budget(image, &job.settings.budget)
}

/// Moves head findings (of `code`, at `line` if given) from `findings` to `image.dropped`.
fn drop_findings(
    image: &mut ImageReport,
    findings: &mut Vec<DiffFinding>,
    code: &str,
    line: Option<usize>,
    why: &str,
) {
    findings.retain(|f| {
        let refuted =
            f.code == code && f.change != Change::Fixed && line.is_none_or(|l| f.line == l);
        if refuted {
            image.dropped.push(DroppedFinding {
                code: f.code.clone(),
                line: f.line,
                why: why.to_string(),
            });
        }
        !refuted
    });
}

/// What the built head image shows about the findings: the user it runs as
/// (a base that already drops root is not flagged) and the build packages
/// it holds (evidence for the multi-stage findings).
fn attach_image_evidence(image: &mut ImageReport, findings: &mut Vec<DiffFinding>) {
    if image.head.status != SideStatus::Built {
        return;
    }
    if let Some(user) = image.head.user.clone()
        && !is_root(&user)
    {
        drop_findings(
            image,
            findings,
            "LC401",
            None,
            &format!("the built image runs as user {user}, set by its base image"),
        );
    }
    if let Some(packages) = &image.build_packages {
        for finding in findings.iter_mut().filter(|f| {
            matches!(f.code.as_str(), "LC107" | "LC108" | "LC109") && f.change != Change::Fixed
        }) {
            finding
                .evidence
                .push(format!("measured: {}", packages.summary));
        }
    }
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name.is_empty() || name == "root" || name == "0"
}

/// The budget verdict; returns whether it failed.
fn judge_budget(image: &mut ImageReport, budget: &Budget) -> bool {
    if !budget.has_limits() {
        return false;
    }
    let limits = budget.limits();
    let pick = |side: &SideReport| {
        if budget.compressed {
            side.compressed_bytes
        } else {
            side.size_bytes
        }
    };
    let Some(head) = pick(&image.head).filter(|_| image.head.status == SideStatus::Built) else {
        image.budget = Some(BudgetReport {
            verdict: "not-measured".to_string(),
            limits,
            violations: Vec::new(),
        });
        return false;
    };
    let base = pick(&image.base).filter(|_| image.base.status == SideStatus::Built);
    let violations: Vec<BudgetViolation> = budget
        .check(base, head)
        .into_iter()
        .map(|v| BudgetViolation {
            limit: v.limit.key().to_string(),
            allowed: v.allowed,
            actual: v.actual,
        })
        .collect();
    let failed = !violations.is_empty();
    image.budget = Some(BudgetReport {
        verdict: if failed { "fail" } else { "pass" }.to_string(),
        limits,
        violations,
    });
    failed
}
