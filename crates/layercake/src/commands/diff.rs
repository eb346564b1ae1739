//! `layercake diff`: the review of a change between two git refs
//! (`layercake_review`), printed as text, JSON or Markdown.

use crate::cli::{DiffArgs, DiffFormat};
use crate::progress::{Progress, ProgressStyle};
use anyhow::Context;

/// Runs `layercake diff`; returns the exit status.
pub fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let progress = Progress::new(ProgressStyle::detect(args.quiet));
    let outcome = layercake_review::review(&args.request(), &args.building(), &progress)?;
    let report = &outcome.report;
    if let Some(path) = &args.report {
        std::fs::write(path, layercake_report::render_json(report))
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let out = match args.format {
        DiffFormat::Json => layercake_report::render_json(report),
        DiffFormat::Text => layercake_report::render_text(report),
        DiffFormat::Markdown => layercake_report::render_markdown(report),
    };
    crate::output::write_stdout(&out).context("writing the report")?;
    Ok(if outcome.verdict.failed() {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    })
}
