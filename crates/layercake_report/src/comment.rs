//! The sticky pull-request comment: one per PR, found again by its marker,
//! always under GitHub's 65,536-character limit.

use crate::text::short;
use crate::types::{
    BudgetVerdict, Change, DiffFinding, DiffReport, ImageReason, ImageReport, ProbeStatus,
    SideReport, SideStatus,
};
use crate::{format_bytes, format_signed_bytes};
use layercake_lint::{Applicability, Severity};
use layercake_render::escape::{
    code, code_in_cell, fenced, html_code, html_text, plain, text, text_in_cell,
};
use std::fmt::Write as _;

/// GitHub's limit on a comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// How the comment is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentOptions {
    /// Tells apart comments of several workflows on one PR (`comment-key`).
    pub key: String,
    /// The most characters the body may have.
    pub limit: usize,
    /// Where the full report is (the workflow run), linked when the comment is shortened.
    pub details_url: Option<String>,
}

impl Default for CommentOptions {
    fn default() -> Self {
        CommentOptions {
            key: "default".to_string(),
            limit: COMMENT_LIMIT,
            details_url: None,
        }
    }
}

/// The hidden first line that finds the comment again.
pub fn comment_marker(key: &str) -> String {
    let key: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    format!("<!-- layercake:summary key={key} -->")
}

/// What goes in, from most to least: each step down leaves out one more
/// kind of detail, until the comment fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    Full,
    NoCharts,
    NoLayers,
    NoFixes,
    /// At most this many new findings.
    Capped(usize),
    Minimal,
}

/// The comment for `report`, as detailed as fits in `options.limit`.
pub fn render_comment(report: &DiffReport, options: &CommentOptions) -> String {
    let new_findings: usize = report
        .images
        .iter()
        .map(|i| {
            i.findings
                .iter()
                .filter(|f| f.change == Change::New)
                .count()
        })
        .sum();
    let mut levels = vec![
        Detail::Full,
        Detail::NoCharts,
        Detail::NoLayers,
        Detail::NoFixes,
    ];
    let mut cap = new_findings;
    while cap > 0 {
        cap /= 2;
        levels.push(Detail::Capped(cap));
    }
    levels.push(Detail::Minimal);
    for detail in levels {
        let body = render(report, options, detail);
        if body.chars().count() <= options.limit {
            return body;
        }
    }
    // Not even the minimal form fits (thousands of images): the marker and a line.
    let mut body = comment_marker(&options.key);
    body.push_str(
        "\n## layercake\n\nThe report is too large for a comment; see the job summary.\n",
    );
    body
}

fn render(report: &DiffReport, options: &CommentOptions, detail: Detail) -> String {
    let mut out = comment_marker(&options.key);
    out.push_str("\n## layercake\n\n");
    let _ = writeln!(
        out,
        "Base {} → head {} · {} image{} affected\n",
        code(short(&report.merge_base)),
        code(short(&report.head.sha)),
        report.images.len(),
        if report.images.len() == 1 { "" } else { "s" }
    );
    if let Some(reason) = &report.not_measured_reason {
        let _ = writeln!(out, "> Sizes were not measured: {}.\n", text(reason));
    }
    if report.images.is_empty() {
        out.push_str("No Dockerfile is affected by this pull request.\n");
        return out;
    }
    size_table(&mut out, report, detail);
    if detail != Detail::Minimal {
        failed_builds(&mut out, report);
        new_findings(&mut out, report, detail);
        fixed_findings(&mut out, report, detail);
        evidence(&mut out, report);
        if detail < Detail::NoLayers {
            for image in &report.images {
                layers(&mut out, image, detail < Detail::NoCharts);
            }
        }
    } else {
        let counts = count_findings(report);
        let _ = writeln!(
            out,
            "{} new, {} fixed, {} unchanged findings.\n",
            counts.0, counts.1, counts.2
        );
    }
    if detail > Detail::Full {
        out.push_str("*Shortened to fit a comment");
        if let Some(url) = &options.details_url {
            let _ = write!(
                out,
                ": the full report is in the [job summary]({})",
                url.replace(['(', ')', ' '], "")
            );
        } else {
            out.push_str(": the full report is in the job summary");
        }
        out.push_str(".*\n");
    }
    out
}

fn count_findings(report: &DiffReport) -> (usize, usize, usize) {
    (
        report.count(Change::New),
        report.count(Change::Fixed),
        report.count(Change::Unchanged),
    )
}

fn size_table(out: &mut String, report: &DiffReport, detail: Detail) {
    let rows = if detail == Detail::Minimal {
        50
    } else {
        usize::MAX
    };
    if !report.measured {
        // Lint-only: no sizes to show, so the table counts findings.
        out.push_str("| Image | Why | New | Fixed | Unchanged |\n|---|---|---:|---:|---:|\n");
        for image in report.images.iter().take(rows) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code_in_cell(&image.dockerfile),
                plain(&crate::text::reason_text(image)),
                image.count(Change::New),
                image.count(Change::Fixed),
                image.count(Change::Unchanged)
            );
        }
        if report.images.len() > rows {
            let _ = writeln!(out, "\n…and {} more images.", report.images.len() - rows);
        }
        out.push('\n');
        return;
    }
    out.push_str("| Image | Base | Head | Change | Budget |\n|---|---:|---:|---:|---|\n");
    for image in report.images.iter().take(rows) {
        let change = match (image.delta_bytes, image.base.size_bytes) {
            (Some(delta), Some(base)) if base > 0 => format!(
                "**{}** ({:+.1}%)",
                format_signed_bytes(delta),
                delta as f64 * 100.0 / base as f64
            ),
            (Some(delta), _) => format!("**{}**", format_signed_bytes(delta)),
            (None, _) => reason_short(image),
        };
        let change = match image.compressed_change() {
            Some((compressed, false)) => {
                format!("{change}, {} compressed", format_signed_bytes(compressed))
            }
            Some((compressed, true)) => format!(
                "{change}, {} compressed in the Dockerfile's own layers",
                format_signed_bytes(compressed)
            ),
            None => change,
        };
        let budget = match &image.budget {
            None => "–".to_string(),
            Some(b) if b.verdict == BudgetVerdict::Pass => "✅ within budget".to_string(),
            Some(b) if b.verdict == BudgetVerdict::Fail => {
                let over: Vec<String> = b
                    .violations
                    .iter()
                    .map(|v| format!("{} {}: {}", v.limit, v.allowed, v.actual))
                    .collect();
                format!("❌ {}", text_in_cell(&over.join("; ")))
            }
            Some(_) => "not measured".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {change} | {budget} |",
            code_in_cell(&image.dockerfile),
            side_size(&image.base),
            side_size(&image.head)
        );
    }
    if report.images.len() > rows {
        let _ = writeln!(out, "\n…and {} more images.", report.images.len() - rows);
    }
    out.push('\n');
}

fn reason_short(image: &ImageReport) -> String {
    match image.reason {
        ImageReason::DockerfileAdded => "new".to_string(),
        ImageReason::DockerfileDeleted => "deleted".to_string(),
        _ => "–".to_string(),
    }
}

fn side_size(side: &SideReport) -> String {
    match side.status {
        SideStatus::Built => side.size_bytes.map(format_bytes).unwrap_or_default(),
        SideStatus::Failed => "build failed".to_string(),
        SideStatus::Skipped => "–".to_string(),
    }
}

fn failed_builds(out: &mut String, report: &DiffReport) {
    for image in &report.images {
        if image.head.status != SideStatus::Failed {
            continue;
        }
        let build = image.head.build.as_ref();
        match build.and_then(|b| b.failed_step.as_ref()) {
            Some(step) => {
                let _ = writeln!(
                    out,
                    "**The head build of {} failed** {}\n",
                    code(&image.dockerfile),
                    step.describe_markdown()
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "**The head build of {} failed:** {}\n",
                    code(&image.dockerfile),
                    plain(&shorten(image.head.reason.as_deref().unwrap_or(""), 500))
                );
            }
        }
        if let Some(build) = build.filter(|b| !b.cause.is_empty()) {
            let cause: Vec<String> = build.cause.iter().map(|l| shorten(l, 300)).collect();
            let _ = writeln!(out, "{}\n", fenced(&cause.join("\n"), "text"));
        }
        if let Some(build) = build.filter(|b| !b.log_tail.is_empty()) {
            let tail: Vec<String> = build
                .log_tail
                .iter()
                .rev()
                .take(15)
                .rev()
                .map(|l| shorten(l, 300))
                .collect();
            let _ = writeln!(
                out,
                "<details><summary>Last log lines</summary>\n\n{}\n\n</details>\n",
                fenced(&tail.join("\n"), "text")
            );
        }
    }
}

/// Errors first.
fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

fn new_findings(out: &mut String, report: &DiffReport, detail: Detail) {
    let mut findings: Vec<&DiffFinding> = report.new_findings().collect();
    if findings.is_empty() {
        out.push_str("No new findings.\n\n");
        return;
    }
    findings.sort_by_key(|f| (severity_rank(f.severity), f.file.clone(), f.line));
    let shown = match detail {
        Detail::Capped(cap) => cap,
        _ => findings.len(),
    };
    let _ = writeln!(out, "### New findings ({})\n", findings.len());
    let mut heading = "";
    for finding in findings.iter().take(shown) {
        let group = match severity_rank(finding.severity) {
            0 => "#### ⛔ Errors",
            1 => "#### ⚠️ Warnings",
            _ => "#### ℹ️ Info",
        };
        if group != heading {
            let _ = writeln!(out, "{group}\n");
            heading = group;
        }
        let _ = writeln!(
            out,
            "**{}** {} · {} line {}{}\n",
            code(&finding.code),
            text(&finding.name),
            code(&finding.file),
            finding.line,
            if finding.measured { " · measured" } else { "" }
        );
        let _ = writeln!(out, "{}\n", text(&shorten(&finding.message, 2000)));
        for evidence in &finding.evidence {
            let _ = writeln!(out, "> {}\n", text(&shorten(evidence, 1000)));
        }
        if detail < Detail::NoFixes
            && let (Some(fix), Some(diff)) = (&finding.fix, &finding.fix_diff)
        {
            let safety = match fix.applicability {
                Applicability::Safe => "",
                _ => " (review it before applying)",
            };
            let _ = writeln!(
                out,
                "<details><summary>Fix: {}{safety}</summary>\n\n{}\n\n</details>\n",
                html_text(&shorten(&fix.description, 300)),
                fenced(&shorten_lines(diff, 60), "diff")
            );
        }
    }
    if shown < findings.len() {
        let _ = writeln!(out, "…and {} more new findings.\n", findings.len() - shown);
    }
}

fn fixed_findings(out: &mut String, report: &DiffReport, detail: Detail) {
    let fixed: Vec<&DiffFinding> = report
        .images
        .iter()
        .flat_map(|i| &i.findings)
        .filter(|f| f.change == Change::Fixed)
        .collect();
    let unchanged = report.count(Change::Unchanged);
    if !fixed.is_empty() {
        let _ = writeln!(out, "### Fixed since base ({})\n", fixed.len());
        let shown = if matches!(detail, Detail::Capped(_)) {
            10
        } else {
            fixed.len()
        };
        for finding in fixed.iter().take(shown) {
            let _ = writeln!(
                out,
                "- {} {} ({} line {})",
                code(&finding.code),
                text(&finding.name),
                code(&finding.file),
                finding.line
            );
        }
        if shown < fixed.len() {
            let _ = writeln!(out, "- …and {} more", fixed.len() - shown);
        }
        out.push('\n');
    }
    if unchanged > 0 {
        let _ = writeln!(
            out,
            "{unchanged} finding{} the base already had {} not listed.\n",
            if unchanged == 1 { "" } else { "s" },
            if unchanged == 1 { "is" } else { "are" }
        );
    }
    for image in &report.images {
        if let Some(sentence) = crate::markdown::outside_target_sentence(image) {
            let _ = writeln!(out, "{}: {sentence}\n", code(&image.dockerfile));
        }
    }
}

fn evidence(out: &mut String, report: &DiffReport) {
    let mut lines = Vec::new();
    for image in &report.images {
        if let Some(packages) = &image.build_packages {
            lines.push(format!(
                "- {}: {}",
                code(&image.dockerfile),
                text(&packages.summary)
            ));
        }
        if let Some(probe) = image
            .probe
            .as_ref()
            .filter(|p| p.status == ProbeStatus::Ran)
        {
            let seconds = probe.rerun.iter().fold(0.0, |sum, s| sum + s.seconds);
            lines.push(format!(
                "- {}: changing {} re-ran {} build step{} ({seconds:.1} s)",
                code(&image.dockerfile),
                code(probe.file.as_deref().unwrap_or("?")),
                probe.rerun.len(),
                if probe.rerun.len() == 1 { "" } else { "s" }
            ));
        }
        if image.wasted_bytes.is_some_and(|w| w >= 1_000_000)
            && let Some(sentence) = crate::markdown::wasted_sentence(image)
        {
            lines.push(format!("- {}: {sentence}", code(&image.dockerfile)));
        }
        for dropped in &image.dropped {
            lines.push(format!(
                "- {}: {} line {} not reported: {}",
                code(&image.dockerfile),
                code(&dropped.code),
                dropped.line,
                text(&dropped.why)
            ));
        }
    }
    if !lines.is_empty() {
        out.push_str("### Measured\n\n");
        out.push_str(&lines.join("\n"));
        out.push_str("\n\n");
    }
}

fn layers(out: &mut String, image: &ImageReport, chart: bool) {
    let rows: Vec<_> = image.layer_deltas.iter().take(30).collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>Layers of {}: base vs head</summary>\n",
        html_code(&image.dockerfile)
    );
    crate::markdown::stage_table(out, image);
    out.push_str("| line | instruction | base | head | change |\n|---:|---|---:|---:|---:|\n");
    for delta in &rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            delta.line_start.map_or("–".to_string(), |l| l.to_string()),
            crate::markdown::instruction_cell(delta),
            format_bytes(delta.base_bytes),
            format_bytes(delta.head_bytes),
            format_signed_bytes(delta.delta_bytes)
        );
    }
    if chart && rows.len() >= 2 {
        let mut sorted = rows.clone();
        sorted.sort_by_key(|d| (d.line_start.is_none(), d.line_start));
        let labels: Vec<String> = sorted
            .iter()
            .map(|d| match d.line_start {
                Some(line) if d.from_base_image => format!("\"FROM (line {line})\""),
                Some(line) => format!("\"line {line}\""),
                None => "\"removed\"".to_string(),
            })
            .collect();
        let megabytes = |bytes: u64| format!("{:.2}", bytes as f64 / 1e6);
        let base: Vec<String> = sorted.iter().map(|d| megabytes(d.base_bytes)).collect();
        let head: Vec<String> = sorted.iter().map(|d| megabytes(d.head_bytes)).collect();
        let _ = writeln!(
            out,
            "\n```mermaid\nxychart-beta\n    title \"Layer sizes, base and head (MB)\"\n    x-axis [{}]\n    y-axis \"MB\"\n    bar [{}]\n    bar [{}]\n```",
            labels.join(", "),
            base.join(", "),
            head.join(", ")
        );
    }
    out.push_str("\n</details>\n\n");
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn shorten_lines(text: &str, max: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max {
        return text.trim_end_matches('\n').to_string();
    }
    let mut out = lines[..max].join("\n");
    let _ = write!(out, "\n… {} more lines", lines.len() - max);
    out
}
