//! What a review is asked to do, and what it gives back.

use layercake_build::{DockerSelection, ImageCache};
use layercake_lint::FileReport;
use layercake_report::{DiffReport, StageScope};
use std::path::PathBuf;
use std::time::Duration;

/// The change to review: two refs of a git repository.
#[derive(Clone, Debug)]
pub struct ReviewRequest {
    /// The repository (any directory inside its work tree, or a bare one).
    pub repository: PathBuf,
    /// The base branch, tag or commit (what the pull request merges into).
    pub base: String,
    /// The head branch, tag or commit (the pull request).
    pub head: String,
    /// Only these Dockerfiles, or the Dockerfiles under these directories
    /// (repository-relative); all when empty.
    pub paths: Vec<PathBuf>,
    /// The fail threshold, over the configuration's (`--fail-on`).
    pub fail_on: Option<layercake_config::FailOn>,
    /// Which stages' findings are reported.
    pub stages: StageScope,
    /// Names the images this review builds: `layercake-diff/{run_name}-{image}:{side}`.
    /// `None`: the process ID and the head commit. The App's jobs name
    /// theirs `job-{id}`, so that a server finds a crashed job's images again.
    pub run_name: Option<String>,
}

/// Whether and how images are built.
#[derive(Clone, Debug)]
pub enum Building {
    /// Lint only: nothing is built, and the report says why.
    LintOnly {
        /// Why, in a phrase (`--no-build was given`).
        reason: String,
    },
    /// Build both sides with BuildKit and measure them.
    Build(BuildOptions),
}

/// How images are built and measured.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The docker CLI and buildx builder to use (found on `PATH` when unset).
    pub docker: DockerSelection,
    /// A build's time limit.
    pub timeout: Duration,
    /// How many images are built at once.
    pub jobs: usize,
    /// When the cache-bust probe runs.
    pub probe: ProbeMode,
    /// Where image analyses are kept between runs.
    pub image_cache: Option<ImageCache>,
    /// Keep the images built (tagged `layercake-diff/…`) instead of removing them.
    pub keep_images: bool,
    /// Also deflate a changed base image for its compressed size.
    pub compressed_base_images: bool,
    /// Builders to spread the images over (`--build-on`), each taking its
    /// number of images at once, base and head of an image on the same one.
    /// Empty: `docker`, `jobs` images at once. The pool's builders use
    /// `docker`'s CLI binary.
    pub pool: Vec<layercake_build::BuilderSpec>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            docker: DockerSelection::default(),
            timeout: Duration::from_secs(1800),
            jobs: 2,
            probe: ProbeMode::WhenFindings,
            image_cache: None,
            keep_images: false,
            compressed_base_images: false,
            pool: Vec::new(),
        }
    }
}

/// When the cache-bust probe runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeMode {
    /// When head has a cache-ordering finding to test.
    WhenFindings,
    /// Always (every broad COPY of the context is tested).
    Always,
    /// Never.
    Never,
}

/// What a review produced.
#[derive(Clone, Debug)]
pub struct ReviewOutcome {
    /// The report.
    pub report: DiffReport,
    /// Whether the change passes.
    pub verdict: Verdict,
    /// The head side's lint results (for SARIF).
    pub head_lint: Vec<FileReport>,
}

/// Whether a change passes, and if not, why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Every reason it fails; none when it passes.
    pub failures: Vec<Failure>,
}

impl Verdict {
    /// Whether the change fails.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// One reason a change fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A new finding at or above the fail threshold.
    NewFindings {
        /// The Dockerfile (repository-relative).
        dockerfile: String,
    },
    /// The pull request breaks its image's build.
    HeadBuildFailed {
        /// The Dockerfile.
        dockerfile: String,
    },
    /// The image exceeds its budget.
    BudgetExceeded {
        /// The Dockerfile.
        dockerfile: String,
    },
}
