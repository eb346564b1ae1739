//! `layercake lint`: find Dockerfiles, resolve their settings, lint, render.

use crate::cli::{ColorChoice, FailOn as CliFailOn, LintArgs, OutputFormat};
use crate::discover::{display_path, find_dockerfiles};
use anyhow::Context;
use layercake_config::{CliOverrides, ConfigResolver, FailOn, resolve_rule};
use layercake_lint::{FileReport, Severity, lint_source_in_context};
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

    let mut reports = Vec::with_capacity(files.len());
    let mut failed = false;
    let mut had_error = false;
    for file in &files {
        let settings = match resolver.settings_for(file, &overrides) {
            Ok(settings) => settings,
            Err(error) => {
                eprintln!("layercake: error: {error}");
                had_error = true;
                continue;
            }
        };
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("layercake: error: cannot read {}: {error}", file.display());
                had_error = true;
                continue;
            }
        };
        let source = String::from_utf8_lossy(&bytes);
        let context = crate::build_context::read_build_context(file);
        let shown = display_path(file);
        let lint =
            |text: &str| lint_source_in_context(&shown, text, &settings.lint, context.as_ref());
        let report: FileReport = if args.fix || args.unsafe_fixes {
            match apply_fixes_to_file(file, &shown, &bytes, args.unsafe_fixes, lint) {
                Ok(report) => report,
                Err(error) => {
                    eprintln!("layercake: error: {error:#}");
                    had_error = true;
                    continue;
                }
            }
        } else {
            lint(&source)
        };
        failed |= settings.fails(&report.findings);
        reports.push(report);
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
        fail_on: args.fail_on.map(|f| match f {
            CliFailOn::Error => FailOn::Severity(Severity::Error),
            CliFailOn::Warning => FailOn::Severity(Severity::Warning),
            CliFailOn::Info => FailOn::Severity(Severity::Info),
            CliFailOn::None => FailOn::Never,
        }),
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
