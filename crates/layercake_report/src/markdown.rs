//! The report as Markdown (a job summary or a pull-request comment).

use crate::text::{count, reason_text, short};
use crate::types::{Change, DiffReport, ImageReport, SideReport, SideStatus};
use crate::{format_bytes, format_signed_bytes};
use layercake_render::escape::{code, code_in_cell, fenced, plain, text};
use std::fmt::Write as _;

/// How many rows each table shows.
const ROWS: usize = 10;

/// The report as Markdown.
pub fn render_markdown(report: &DiffReport) -> String {
    let mut out = String::from("## layercake diff\n\n");
    if let Some(reason) = &report.not_measured_reason {
        let _ = writeln!(out, "> **Lint-only report:** {}.\n", text(reason));
    }
    let _ = writeln!(
        out,
        "Base {} ({}) → head {} ({}), compared from merge-base {}.\n",
        code(&report.base.name),
        code(short(&report.base.sha)),
        code(&report.head.name),
        code(short(&report.head.sha)),
        code(short(&report.merge_base))
    );
    if report.images.is_empty() {
        out.push_str("No Dockerfile is affected by this change.\n");
        return out;
    }
    out.push_str("| Dockerfile | why | base | head | change | budget | new | fixed | unchanged |\n|---|---|---:|---:|---:|---|---:|---:|---:|\n");
    for image in &report.images {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code_in_cell(&image.dockerfile),
            plain(&reason_text(image)),
            side_size(&image.base),
            side_size(&image.head),
            image
                .delta_bytes
                .map(format_signed_bytes)
                .unwrap_or_else(|| "–".into()),
            image
                .budget
                .as_ref()
                .map_or_else(|| "–".into(), |b| plain(&b.verdict)),
            count(image, Change::New),
            count(image, Change::Fixed),
            count(image, Change::Unchanged)
        );
    }
    for image in &report.images {
        render_image(&mut out, image);
    }
    out
}

fn render_image(out: &mut String, image: &ImageReport) {
    let _ = writeln!(out, "\n### {}\n", code(&image.dockerfile));
    for (name, side) in [("Base", &image.base), ("Head", &image.head)] {
        if side.status == SideStatus::Failed {
            let _ = writeln!(
                out,
                "**{name} build failed:** {}\n",
                text(side.reason.as_deref().unwrap_or(""))
            );
            if let Some(build) = side.build.as_ref().filter(|b| !b.log_tail.is_empty()) {
                let body = build.log_tail.join("\n");
                let _ = writeln!(out, "{}\n", fenced(&body, ""));
            }
        }
    }
    let changed: Vec<_> = image
        .layer_deltas
        .iter()
        .filter(|d| d.delta_bytes != 0)
        .take(ROWS)
        .collect();
    if !changed.is_empty() {
        out.push_str("| line | instruction | base | head | change |\n|---:|---|---:|---:|---:|\n");
        for delta in changed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                delta
                    .line_start
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "–".into()),
                code_in_cell(&delta.instruction),
                format_bytes(delta.base_bytes),
                format_bytes(delta.head_bytes),
                format_signed_bytes(delta.delta_bytes)
            );
        }
        out.push('\n');
    }
    if let Some(files) = &image.files {
        let rows: Vec<_> = files
            .added
            .iter()
            .map(|f| ("added", f))
            .chain(files.grown.iter().map(|f| ("grown", f)))
            .chain(files.removed.iter().map(|f| ("removed", f)))
            .take(ROWS)
            .collect();
        if !rows.is_empty() {
            out.push_str("<details><summary>Files that changed</summary>\n\n| path | change | bytes |\n|---|---|---:|\n");
            for (kind, file) in rows {
                let _ = writeln!(
                    out,
                    "| {} | {kind} | {} |",
                    code_in_cell(&file.path),
                    format_signed_bytes(file.delta_bytes)
                );
            }
            out.push_str("\n</details>\n\n");
        }
    }
    if let Some(wasted) = image.wasted_bytes.filter(|&w| w > 0) {
        let _ = writeln!(
            out,
            "Wasted space in head: {} hidden by later layers.\n",
            format_bytes(wasted)
        );
    }
    if let Some(probe) = &image.probe
        && probe.status == "ran"
    {
        let total = probe.rerun.iter().fold(0.0, |sum, s| sum + s.seconds);
        let _ = writeln!(
            out,
            "Cache-bust probe: changing {} re-ran {} steps ({total:.1} s).\n",
            code(probe.file.as_deref().unwrap_or("?")),
            probe.rerun.len()
        );
    }
    for finding in image
        .findings
        .iter()
        .filter(|f| f.change != Change::Unchanged)
    {
        let _ = writeln!(
            out,
            "- **{}** {} {} line {}: {}{}",
            finding.change.as_str(),
            code(&finding.code),
            plain(&finding.severity),
            finding.line,
            text(&finding.message),
            if finding.measured {
                " *(measured)*"
            } else {
                ""
            }
        );
        for evidence in &finding.evidence {
            let _ = writeln!(out, "  - {}", text(evidence));
        }
    }
}

fn side_size(side: &SideReport) -> String {
    match side.status {
        SideStatus::Built => side.size_bytes.map(format_bytes).unwrap_or_default(),
        SideStatus::Failed => "failed".into(),
        SideStatus::Skipped => "–".into(),
    }
}
