//! The report as Markdown (a job summary or a pull-request comment).

use crate::failed::shown_lines;
use crate::text::{count, reason_text, short};
use crate::types::{
    Change, DiffReport, ImageReport, LayerDelta, ProbeStatus, SideReport, SideStatus,
};
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
    out.push_str("| Dockerfile | why | base | head | change | compressed | budget | new | fixed | unchanged |\n|---|---|---:|---:|---:|---:|---|---:|---:|---:|\n");
    for image in &report.images {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code_in_cell(&image.dockerfile),
            plain(&reason_text(image)),
            side_size(&image.base),
            side_size(&image.head),
            image
                .delta_bytes
                .map(format_signed_bytes)
                .unwrap_or_else(|| "–".into()),
            match image.compressed_change() {
                Some((delta, false)) => format_signed_bytes(delta),
                Some((delta, true)) => format!("{} (own layers)", format_signed_bytes(delta)),
                None => "–".into(),
            },
            image.budget.as_ref().map_or("–", |b| b.verdict.as_str()),
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
            match side.build.as_ref().and_then(|b| b.failed_step.as_ref()) {
                Some(step) => {
                    let _ = writeln!(
                        out,
                        "**{name} build failed** {}\n",
                        step.describe_markdown()
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "**{name} build failed:** {}\n",
                        plain(side.reason.as_deref().unwrap_or(""))
                    );
                }
            }
            let lines = side
                .build
                .as_ref()
                .map_or(&[][..], |b| shown_lines(b, usize::MAX));
            if !lines.is_empty() {
                let _ = writeln!(out, "{}\n", fenced(&lines.join("\n"), ""));
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
                instruction_cell(delta),
                format_bytes(delta.base_bytes),
                format_bytes(delta.head_bytes),
                format_signed_bytes(delta.delta_bytes)
            );
        }
        out.push('\n');
    }
    stage_table(out, image);
    if let Some(files) = &image.files {
        let rows: Vec<_> = files.by_size().into_iter().take(ROWS).collect();
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
    if let Some(line) = wasted_sentence(image) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(probe) = &image.probe
        && probe.status == ProbeStatus::Ran
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
            finding.severity.as_str(),
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
    if let Some(sentence) = outside_target_sentence(image) {
        let _ = writeln!(out, "\n{sentence}");
    }
}

/// Says how many findings are in stages the target does not build.
pub(crate) fn outside_target_sentence(image: &ImageReport) -> Option<String> {
    let (total, stages) = crate::text::outside_target(image)?;
    let stages: Vec<String> = stages.iter().map(|s| code(s)).collect();
    Some(format!(
        "{total} finding{} in stage{} {}, which this target does not build, {} not reported.",
        if total == 1 { "" } else { "s" },
        if stages.len() == 1 { "" } else { "s" },
        stages.join(", "),
        if total == 1 { "is" } else { "are" }
    ))
}

/// An instruction in a table cell: with what it was, when head edited it.
pub(crate) fn instruction_cell(delta: &LayerDelta) -> String {
    match (&delta.base_instruction, delta.base_line_start) {
        (Some(was), _) => format!(
            "{} (was {})",
            code_in_cell(&delta.instruction),
            code_in_cell(was)
        ),
        (None, Some(line)) if delta.line_start.is_none() => {
            format!("{} (line {line} at base)", code_in_cell(&delta.instruction))
        }
        _ => code_in_cell(&delta.instruction),
    }
}

/// Size per stage, base against head, when there is more than the base
/// image and one stage, or a stage was renamed.
pub(crate) fn stage_table(out: &mut String, image: &ImageReport) {
    let worth_showing =
        image.stage_deltas.len() > 2 || image.stage_deltas.iter().any(|d| d.base_stage.is_some());
    if !worth_showing {
        return;
    }
    out.push_str("| stage | base | head | change |\n|---|---:|---:|---:|\n");
    for delta in &image.stage_deltas {
        let stage = match &delta.base_stage {
            Some(was) => format!("{} (was {})", code_in_cell(&delta.stage), code_in_cell(was)),
            None => code_in_cell(&delta.stage),
        };
        let _ = writeln!(
            out,
            "| {stage} | {} | {} | {} |",
            format_bytes(delta.base_bytes),
            format_bytes(delta.head_bytes),
            format_signed_bytes(delta.delta_bytes)
        );
    }
    out.push('\n');
}

/// Wasted space in one sentence: head against base, and how much of it is
/// the base image's own.
pub(crate) fn wasted_sentence(image: &ImageReport) -> Option<String> {
    let head = image.head.wasted.as_ref().filter(|w| w.bytes > 0)?;
    let mut line = format!(
        "Wasted space: {} hidden by later layers in {} path{}",
        format_bytes(head.bytes),
        head.paths,
        if head.paths == 1 { "" } else { "s" }
    );
    line.push_str(&crate::text::wasted_against_base(image));
    if head.base_image_bytes > 0 {
        let _ = write!(
            line,
            "; {} of it is inside the base image's own layers, which this Dockerfile cannot change, and {} comes from its own layers",
            format_bytes(head.base_image_bytes),
            format_bytes(head.dockerfile_bytes())
        );
    }
    line.push('.');
    Some(line)
}

fn side_size(side: &SideReport) -> String {
    match side.status {
        SideStatus::Built => side.size_bytes.map(format_bytes).unwrap_or_default(),
        SideStatus::Failed => "failed".into(),
        SideStatus::Skipped => "–".into(),
    }
}
