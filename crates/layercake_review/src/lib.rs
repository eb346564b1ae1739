//! The review of one change: the images it affects, built with BuildKit on
//! both sides, measured down to the layer, the line and the file, compared,
//! linted, probed and judged, as one [`DiffReport`]; and that report put
//! where people read it ([`publish`]).
//!
//! A review starts at [`review`] with a [`ReviewRequest`] (which repository,
//! which refs) and [`Building`] (whether and how to build), and ends with a
//! [`ReviewOutcome`]: the report, the [`Verdict`] and head's lint results.
//! The command line, the GitHub Action and the App server only adapt their
//! inputs to these types and render or publish the outcome.
//!
//! How it flows, by module: `plan` (which images, how each is built),
//! `image` (one image: lint, pair, measure, judge), `side` (build and read
//! one side), `compare` (base against head, pure), `probe` (the cache-bust
//! probe), `evidence` (what the images and the probe show about the
//! findings), `judge` (the budget), then [`publish`].
#![deny(missing_docs)]

mod build_context;
mod compare;
mod evidence;
mod image;
mod judge;
mod plan;
mod probe;
mod progress;
pub mod publish;
mod request;
mod side;

pub use build_context::read_build_context_at;
pub use progress::{BuildProgress, NoProgress, Progress};
pub use request::{
    BuildOptions, Building, Failure, ProbeMode, ReviewOutcome, ReviewRequest, Verdict,
};

use layercake_build::{BuildMode, Docker};
use layercake_config::CliOverrides;
use layercake_git::CommitTree;
use layercake_report::{BuilderInfo, DiffReport, REPORT_VERSION, RefInfo};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a review could not be made at all (what goes wrong with one image's
/// build is in its report instead).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// A git command failed: an unknown ref, not a repository, …
    #[error(transparent)]
    Git(#[from] layercake_git::GitError),
    /// The configuration could not be read.
    #[error("reading the configuration: {0}")]
    Config(layercake_config::ConfigError),
}

/// What the builds of a review need that is the same for every image.
pub(crate) struct BuildEnv<'a> {
    docker: &'a Docker,
    options: &'a BuildOptions,
    base_root: &'a Path,
    head_root: &'a Path,
    progress: &'a dyn Progress,
    /// Names this run's images apart from other runs'.
    run_id: String,
}

/// The builders `options` builds on, each with how many images it takes at
/// once: `options.docker` with `options.jobs`, or the answering builders of
/// `options.pool` (those that do not answer are left out, with a note).
/// `Err` says why none can build.
fn detect_builders(
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<Vec<(Docker, usize)>, String> {
    if options.pool.is_empty() {
        return Docker::detect(&options.docker)
            .map(|docker| vec![(docker, options.jobs.max(1))])
            .map_err(|unavailable| unavailable.reason);
    }
    let mut builders = Vec::new();
    let mut reasons = Vec::new();
    for spec in &options.pool {
        match Docker::detect(&spec.selection(options.docker.binary.clone())) {
            Ok(docker) => builders.push((docker, spec.concurrency)),
            Err(unavailable) => {
                progress.note(&format!(
                    "builder {} left out: {}",
                    spec.name, unavailable.reason
                ));
                reasons.push(format!("{}: {}", spec.name, unavailable.reason));
            }
        }
    }
    if builders.is_empty() {
        return Err(format!("no builder answers ({})", reasons.join("; ")));
    }
    Ok(builders)
}

/// Reviews the change `request` names: each affected image linted on both
/// sides, and built and measured as `building` says.
pub fn review(
    request: &ReviewRequest,
    building: &Building,
    progress: &dyn Progress,
) -> Result<ReviewOutcome, ReviewError> {
    let repository = request.repository.as_path();
    let commits = plan::Commits::resolve(repository, &request.base, &request.head)?;
    let head_tree = CommitTree::write(repository, &commits.head)?;
    let overrides = CliOverrides {
        fail_on: request.fail_on,
        ..CliOverrides::default()
    };
    let images = plan::plan_images(
        repository,
        &commits,
        head_tree.path(),
        &request.paths,
        &overrides,
    )?;

    let (builders, not_measured, options) = match building {
        Building::LintOnly { reason } => (Vec::new(), Some(reason.clone()), None),
        Building::Build(_) if images.is_empty() => (Vec::new(), None, None),
        Building::Build(options) => match detect_builders(options, progress) {
            Ok(builders) => (builders, None, Some(options)),
            Err(reason) => (
                Vec::new(),
                Some(format!("images were not built: {reason}")),
                None,
            ),
        },
    };
    let base_tree = match (builders.is_empty(), options) {
        (false, Some(_)) => Some(CommitTree::write(repository, &commits.merge_base)?),
        _ => None,
    };
    let run_id = request.run_name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            std::process::id(),
            commits.head.sha.get(..12).unwrap_or(&commits.head.sha)
        )
    });
    // One environment per builder; each worker builds on one of them.
    let envs: Vec<BuildEnv> = match (&base_tree, options) {
        (Some(base_tree), Some(options)) => builders
            .iter()
            .map(|(docker, _)| BuildEnv {
                docker,
                options,
                base_root: base_tree.path(),
                head_root: head_tree.path(),
                progress,
                run_id: run_id.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let worker_envs: Vec<Option<&BuildEnv>> = if envs.is_empty() {
        vec![None]
    } else {
        let mut bound = Vec::new();
        for (env, (_, slots)) in envs.iter().zip(&builders) {
            bound.extend(std::iter::repeat_n(Some(env), *slots));
        }
        bound
    };

    // Each image on a worker; base before head within an image, on the
    // worker's builder, so head's build finds base's steps in its cache.
    let next = AtomicUsize::new(0);
    let reviewed: Mutex<Vec<(usize, image::ImageReview)>> = Mutex::new(Vec::new());
    let workers = worker_envs.len().clamp(1, images.len().max(1));
    std::thread::scope(|scope| {
        for env in worker_envs.iter().take(workers).copied() {
            let (next, reviewed, images, head_tree) = (&next, &reviewed, &images, &head_tree);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(planned) = images.get(index) else {
                        break;
                    };
                    let review =
                        image::review_image(planned, head_tree.path(), env, index, request.stages);
                    if let Ok(mut reviewed) = reviewed.lock() {
                        reviewed.push((index, review));
                    }
                }
            });
        }
    });
    let mut reviewed = reviewed.into_inner().unwrap_or_default();
    reviewed.sort_by_key(|(index, _)| *index);
    let mut verdict = Verdict::default();
    let mut head_lint = Vec::new();
    let mut image_reports = Vec::with_capacity(reviewed.len());
    for (_, review) in reviewed {
        verdict.failures.extend(review.failures);
        head_lint.extend(review.head_lint);
        image_reports.push(review.report);
    }

    let report = DiffReport {
        version: REPORT_VERSION,
        base: RefInfo {
            name: request.base.clone(),
            sha: commits.base.sha.clone(),
        },
        head: RefInfo {
            name: request.head.clone(),
            sha: commits.head.sha.clone(),
        },
        merge_base: commits.merge_base.sha.clone(),
        measured: !envs.is_empty(),
        not_measured_reason: not_measured,
        builder: builders.first().map(|(d, _)| BuilderInfo {
            binary: d.binary().display().to_string(),
            mode: match d.mode() {
                BuildMode::Buildx => layercake_report::BuilderMode::Buildx,
                BuildMode::ClassicBuildKit => layercake_report::BuilderMode::DockerBuild,
            },
            server_version: d.server_version().to_string(),
        }),
        pull_request: None,
        images: image_reports,
    };
    Ok(ReviewOutcome {
        report,
        verdict,
        head_lint,
    })
}
