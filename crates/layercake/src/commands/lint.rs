//! `layercake lint`: find Dockerfiles, resolve their settings, lint, render.

use crate::cli::{ColorChoice, FailOn as CliFailOn, LintArgs, OutputFormat};
use crate::discover::{display_path, find_dockerfiles, workspace_path};
use anyhow::Context;
use layercake_config::{CliOverrides, ConfigResolver, ResolvedSettings, resolve_rule};
use layercake_lint::{FileReport, lint_source_in_context};
use layercake_render::{Format, RenderOptions, render};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Lints the Dockerfiles under `args.paths`; returns the exit status.
pub fn run(args: &LintArgs) -> anyhow::Result<u8> {
    let overrides = cli_overrides(args)?;
    let mut resolver = match &args.config {
        Some(path) => ConfigResolver::with_explicit(layercake_config::load(path)?),
        None => ConfigResolver::new(),
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let files = find_dockerfiles(&paths)?;
    if files.is_empty() {
        eprintln!("layercake: no Dockerfiles found in {}", shown(&paths));
    }

    // Settings come from a cache that reads each config once, so they are
    // resolved in order; the linting itself runs on every core.
    let mut had_error = false;
    let mut jobs: Vec<LintJob> = Vec::with_capacity(files.len());
    for file in &files {
        match resolver.settings_for(file, &overrides) {
            Ok(settings) => jobs.push(LintJob {
                file: file.clone(),
                shown: shown_path(file, args.format),
                settings,
            }),
            Err(error) => {
                eprintln!("layercake: error: {error}");
                had_error = true;
            }
        }
    }
    let fix = (args.fix || args.unsafe_fixes).then_some(args.unsafe_fixes);
    let mut reports = Vec::with_capacity(jobs.len());
    let mut failed = false;
    for (job, outcome) in jobs.iter().zip(lint_in_parallel(&jobs, fix)) {
        match outcome {
            Ok(report) => {
                failed |= job.settings.fails(&report.findings);
                reports.push(report);
            }
            Err(error) => {
                eprintln!("layercake: error: {error:#}");
                had_error = true;
            }
        }
    }

    let options = RenderOptions {
        color: use_color(args.color),
    };
    crate::output::write_stdout(&render(format_of(args.format), &reports, &options))
        .context("writing the report")?;
    Ok(if had_error {
        crate::EXIT_ERROR
    } else if failed {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    })
}

/// One Dockerfile to lint, with its resolved settings.
struct LintJob {
    file: PathBuf,
    /// The path the report shows (see `shown_path`).
    shown: String,
    settings: ResolvedSettings,
}

/// How a Dockerfile's path is shown: relative to the working directory, but
/// in GitHub annotations inside a workflow relative to the workspace, so an
/// annotation lands on the file also when the step ran in a subdirectory or
/// was given an absolute path.
fn shown_path(file: &std::path::Path, format: OutputFormat) -> String {
    match format {
        OutputFormat::Github => workspace_path(file).unwrap_or_else(|| display_path(file)),
        _ => display_path(file),
    }
}

/// Lints `jobs` on as many threads as there are cores; results come back in
/// the order of `jobs`. `fix` is `Some(include_unsafe)` for `--fix`.
fn lint_in_parallel(jobs: &[LintJob], fix: Option<bool>) -> Vec<anyhow::Result<FileReport>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<anyhow::Result<FileReport>>> =
        (0..jobs.len()).map(|_| None).collect();
    let done: Vec<Vec<(usize, anyhow::Result<FileReport>)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(index) else { break };
                        mine.push((index, lint_one(job, fix)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (index, result) in done.into_iter().flatten() {
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(result);
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a lint worker stopped"))))
        .collect()
}

/// Reads, lints (and with `fix`, fixes) one Dockerfile.
fn lint_one(job: &LintJob, fix: Option<bool>) -> anyhow::Result<FileReport> {
    let file = &job.file;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // The context is taken to be the Dockerfile's directory, as
    // `docker build -f dir/Dockerfile dir` would have it.
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    let context = layercake_review::read_build_context_at(file, dir, |path| {
        std::path::PathBuf::from(crate::discover::display_path(path))
    });
    let shown = &job.shown;
    let lint =
        |text: &str| lint_source_in_context(shown, text, &job.settings.lint, context.as_ref());
    match fix {
        Some(include_unsafe) => apply_fixes_to_file(file, shown, &bytes, include_unsafe, lint),
        None => Ok(lint(&String::from_utf8_lossy(&bytes))),
    }
}

/// Applies fixes to one file and writes it back; returns what remains.
fn apply_fixes_to_file(
    file: &std::path::Path,
    shown: &str,
    bytes: &[u8],
    include_unsafe: bool,
    lint: impl Fn(&str) -> FileReport,
) -> anyhow::Result<FileReport> {
    let Ok(source) = std::str::from_utf8(bytes) else {
        eprintln!("layercake: {shown}: not UTF-8, so no fixes were applied");
        return Ok(lint(&String::from_utf8_lossy(bytes)));
    };
    let fixed = super::fix::fix_source(source, include_unsafe, lint);
    if fixed.applied > 0 {
        std::fs::write(file, &fixed.source)
            .with_context(|| format!("cannot write {}", file.display()))?;
        let plural = if fixed.applied == 1 { "" } else { "es" };
        eprintln!("layercake: {shown}: applied {} fix{plural}", fixed.applied);
    }
    Ok(fixed.report)
}

fn cli_overrides(args: &LintArgs) -> anyhow::Result<CliOverrides> {
    let resolve = |selectors: &[String]| -> anyhow::Result<Vec<&'static str>> {
        selectors
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                resolve_rule(s.trim())
                    .with_context(|| format!("unknown rule `{s}` (see `layercake rules`)"))
            })
            .collect()
    };
    Ok(CliOverrides {
        fail_on: args.fail_on.map(CliFailOn::to_config),
        target: args.target.clone(),
        select: resolve(&args.select)?,
        ignore: resolve(&args.ignore)?,
    })
}

fn format_of(format: OutputFormat) -> Format {
    match format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Github => Format::Github,
        OutputFormat::Markdown => Format::Markdown,
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

fn shown(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
