//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    Diff(crate::commands::diff::DiffArgs),
    /// Review the pull request of a GitHub Actions `pull_request` event.
    Action(crate::commands::action::ActionArgs),
    /// Post a report made by `action` from a `workflow_run` workflow (fork-safe).
    Publish(crate::commands::publish::PublishArgs),
    /// Run the GitHub App's webhook server.
    Serve(crate::serve::ServeArgs),
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
    /// A rule code (`LC201`) or name (`broad-copy-before-install`).
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
