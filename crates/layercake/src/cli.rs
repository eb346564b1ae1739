//! Command-line arguments: every subcommand's flags, and how they become
//! the typed requests the libraries take.

use clap::{Args, Parser, Subcommand, ValueEnum};
use layercake_report::StageScope;
use layercake_review::{BuildOptions, Building, ProbeMode, ReviewRequest};
use std::path::PathBuf;
use std::time::Duration;

/// layercake reviews Dockerfiles: multi-stage builds, layer-cache ordering,
/// image size and security hygiene, every finding stage-aware.
#[derive(Debug, Parser)]
#[command(name = "layercake", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint Dockerfiles (files, or directories searched for Dockerfiles).
    Lint(LintArgs),
    /// List every rule.
    Rules(RulesArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
    /// Print the parse of a Dockerfile, for tools and editors.
    Parse(ParseArgs),
    /// Build and compare the Dockerfiles a change affects between two git refs.
    Diff(DiffArgs),
    /// Review the pull request of a GitHub Actions `pull_request` event.
    Action(ActionArgs),
    /// Post a report made by `action` from a `workflow_run` workflow (fork-safe).
    Publish(PublishArgs),
    /// Run the GitHub App's webhook server.
    Serve(ServeArgs),
    /// Print the `.layercake.yml` equivalent to another tool's configuration.
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

/// `layercake migrate`: the tools whose configuration it reads.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Print, as YAML on stdout, the `.layercake.yml` equivalent to a
    /// `.hadolint.yaml`; comments say where each line comes from and what has
    /// no equivalent.
    Hadolint(MigrateHadolintArgs),
}

/// `layercake migrate hadolint`.
#[derive(Debug, Args)]
pub struct MigrateHadolintArgs {
    /// The hadolint configuration file, or a directory holding one.
    /// Default: `.hadolint.yaml` (or `.hadolint.yml`) in the current directory.
    pub path: Option<PathBuf>,
}

/// `layercake lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Dockerfiles, or directories to search (`Dockerfile`, `*.Dockerfile`,
    /// `Dockerfile.*`, `Containerfile`; `.gitignore` is respected). Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Use this configuration file instead of finding `.layercake.yml`.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// The build target stage (default: the last stage).
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Run only these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Do not run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Apply safe fixes to the files, then report what remains.
    #[arg(long)]
    pub fix: bool,
    /// Apply unsafe fixes too (implies --fix): review the result.
    #[arg(long)]
    pub unsafe_fixes: bool,
}

/// Output formats of `lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human output with code frames.
    Text,
    /// The versioned JSON contract (docs/json-format.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// Markdown, for a PR comment or job summary.
    Markdown,
}

/// The `--fail-on` threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only errors fail.
    Error,
    /// Warnings and errors fail.
    Warning,
    /// Every finding fails.
    Info,
    /// Never fail on findings.
    None,
}

impl FailOn {
    /// The configuration's threshold for this flag value.
    pub fn to_config(self) -> layercake_config::FailOn {
        use layercake_lint::Severity;
        match self {
            FailOn::Error => layercake_config::FailOn::Severity(Severity::Error),
            FailOn::Warning => layercake_config::FailOn::Severity(Severity::Warning),
            FailOn::Info => layercake_config::FailOn::Severity(Severity::Info),
            FailOn::None => layercake_config::FailOn::Never,
        }
    }
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `layercake rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Formats for `rules` and `parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Text,
    /// JSON.
    Json,
}

/// `layercake explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule code (`LC201`) or name (`broad-copy-before-install`), or a
    /// hadolint code (`DL3015`) or BuildKit check (`JSONArgsRecommended`):
    /// then the layercake rules it stands for.
    pub rule: String,
}

/// `layercake parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The Dockerfile.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Json)]
    pub format: ListFormat,
}

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
    pub fail_on: Option<FailOn>,
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
    /// Build on a pool of builders, this one among them (repeat it; the
    /// environment variable takes a comma-separated list): `docker=ENDPOINT`
    /// (a Docker Engine, as DOCKER_HOST names it) or `buildx=NAME`, followed
    /// by `@JOBS` for how many images (or, for `serve`, jobs) it builds at
    /// once (default 1). Base and head of an image build on the same one.
    #[arg(
        long,
        value_name = "BUILDER",
        env = "LAYERCAKE_BUILD_ON",
        value_delimiter = ',',
        value_parser = parse_builder,
        conflicts_with = "builder"
    )]
    pub build_on: Vec<layercake_build::BuilderSpec>,
}

fn parse_builder(text: &str) -> Result<layercake_build::BuilderSpec, String> {
    text.parse()
}

impl BuildFlags {
    /// The image cache these flags ask for.
    fn cache(&self) -> Option<layercake_build::ImageCache> {
        if self.no_image_cache {
            return None;
        }
        self.image_cache
            .clone()
            .or_else(layercake_build::ImageCache::default_dir)
            .map(layercake_build::ImageCache::new)
    }

    /// Whether and how to build, as these flags say; `options` gives what
    /// is not a build flag (jobs, the probe, …).
    pub fn building(&self, options: BuildOptions) -> Building {
        if self.no_build {
            return Building::LintOnly {
                reason: "--no-build was given".to_string(),
            };
        }
        Building::Build(BuildOptions {
            docker: layercake_build::DockerSelection {
                binary: self.docker.clone(),
                builder: self.builder.clone(),
                host: None,
            },
            timeout: Duration::from_secs(self.timeout.max(1)),
            image_cache: self.cache(),
            pool: self.build_on.clone(),
            ..options
        })
    }
}

impl DiffArgs {
    /// The review these arguments ask for.
    pub fn request(&self) -> ReviewRequest {
        ReviewRequest {
            repository: self.repo.clone(),
            base: self.base.clone(),
            head: self.head.clone(),
            paths: self.paths.clone(),
            fail_on: self.fail_on.map(FailOn::to_config),
            stages: if self.all_stages {
                StageScope::All
            } else {
                StageScope::Built
            },
            run_name: None,
        }
    }

    /// Whether and how to build.
    pub fn building(&self) -> Building {
        self.build.building(BuildOptions {
            jobs: self.jobs,
            probe: if self.no_probe {
                ProbeMode::Never
            } else if self.probe {
                ProbeMode::Always
            } else {
                ProbeMode::WhenFindings
            },
            keep_images: self.keep_images,
            compressed_base_images: self.compressed_base_images,
            ..BuildOptions::default()
        })
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

/// `layercake action` (its flags are the action's inputs; `action.yml` passes them as env).
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// The token to publish with (`github.token`, or an App's).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Post or update the sticky summary comment.
    #[arg(long, env = "LAYERCAKE_COMMENT", default_value_t = true, action = clap::ArgAction::Set)]
    pub comment: bool,
    /// Post inline review comments on changed lines.
    #[arg(long, env = "LAYERCAKE_REVIEW", default_value_t = true, action = clap::ArgAction::Set)]
    pub review: bool,
    /// Tells this workflow's comment apart from other layercake workflows' on the same PR.
    #[arg(long, env = "LAYERCAKE_COMMENT_KEY", default_value = "default")]
    pub comment_key: String,
    /// Where to write the JSON report (for `layercake publish` in a `workflow_run`).
    #[arg(
        long,
        env = "LAYERCAKE_REPORT_FILE",
        default_value = "layercake-report.json"
    )]
    pub report_file: PathBuf,
    /// Where to write SARIF for `github/codeql-action/upload-sarif`.
    #[arg(long, env = "LAYERCAKE_SARIF_FILE", default_value = "layercake.sarif")]
    pub sarif_file: PathBuf,
    /// Exit 1 when a new finding is at or above this severity.
    #[arg(long, env = "LAYERCAKE_FAIL_ON", value_enum)]
    pub fail_on: Option<FailOn>,
    /// How images are built.
    #[command(flatten)]
    pub build: BuildFlags,
    /// Dockerfiles built at once.
    #[arg(long, env = "LAYERCAKE_JOBS", default_value_t = 2)]
    pub jobs: usize,
    /// Only these Dockerfiles or directories (space-separated).
    #[arg(long, env = "LAYERCAKE_PATHS", value_delimiter = ' ')]
    pub paths: Vec<PathBuf>,
}

/// `layercake publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The report `layercake action` wrote (downloaded from the run's artifact).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    /// The token to publish with (needs pull-requests: write).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The repository being reviewed (`owner/name`); the report must name it.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repository: String,
    /// The GitHub API (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub api_url: String,
    /// Tells this workflow's comment apart from other layercake workflows'.
    #[arg(long, env = "LAYERCAKE_COMMENT_KEY", default_value = "default")]
    pub comment_key: String,
    /// Post inline review comments too.
    #[arg(long, env = "LAYERCAKE_REVIEW", default_value_t = true, action = clap::ArgAction::Set)]
    pub review: bool,
}

/// `layercake serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LAYERCAKE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Webhook secrets, comma-separated (several while rotating).
    #[arg(
        long,
        env = "LAYERCAKE_WEBHOOK_SECRET",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub webhook_secret: Vec<String>,
    /// A file holding the webhook secrets (one per line), instead of the flag.
    #[arg(long, env = "LAYERCAKE_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// The GitHub App's id.
    #[arg(long, env = "LAYERCAKE_APP_ID")]
    pub app_id: u64,
    /// The GitHub App's private key (PEM file).
    #[arg(long, env = "LAYERCAKE_PRIVATE_KEY_PATH")]
    pub private_key: PathBuf,
    /// The job database: a SQLite file (created if missing; a path or
    /// `sqlite:PATH`) for one server, or `postgres://…` for several replicas.
    #[arg(long, env = "LAYERCAKE_DATABASE", default_value = "layercake.db")]
    pub database: String,
    /// The GitHub API (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub api_url: String,
    /// Jobs run at once.
    #[arg(long, env = "LAYERCAKE_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Largest delivery accepted, in bytes (GitHub sends at most 25 MB).
    #[arg(long, env = "LAYERCAKE_MAX_BODY_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Build pull requests from forks: `never` (lint only, said plainly),
    /// `members` (authors who are owners, members or collaborators), or
    /// `label:NAME` (a maintainer's label on the pull request).
    #[arg(long, env = "LAYERCAKE_FORK_BUILDS", default_value = "never")]
    pub fork_builds: String,
    /// How images are built (`--builder`: several servers can share one
    /// remote or Kubernetes BuildKit).
    #[command(flatten)]
    pub build: BuildFlags,
    /// Seconds a running job's lease lasts without a heartbeat (a crashed
    /// server's jobs run again once it expires).
    #[arg(long, env = "LAYERCAKE_LEASE_SECONDS", default_value_t = 120)]
    pub lease_seconds: u64,
    /// Attempts before a job that keeps crashing is given up.
    #[arg(long, env = "LAYERCAKE_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,
    /// Seconds between reconciliations (open pull requests whose head has no job); 0 turns it off.
    #[arg(long, env = "LAYERCAKE_RECONCILE_SECONDS", default_value_t = 600)]
    pub reconcile_seconds: u64,
    /// Where the reconciler clones a repository from when no delivery said
    /// (`{repo}` becomes `owner/name`); deliveries carry their own clone URL.
    #[arg(
        long,
        env = "LAYERCAKE_CLONE_URL",
        default_value = "https://github.com/{repo}.git"
    )]
    pub clone_url: String,
    /// Seconds a graceful shutdown waits for running jobs before re-queueing them.
    #[arg(long, env = "LAYERCAKE_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
}
