//! The report for a terminal.

use crate::failed::shown_lines;
use crate::types::{
    Change, DiffReport, ImageReason, ImageReport, LayerDelta, ProbeStatus, SideReport, SideStatus,
    StageDelta,
};
use crate::{format_bytes, format_signed_bytes};
use std::fmt::Write as _;

/// How many entries of each list (layers, files, wasted paths) text shows.
const SHOWN: usize = 5;

/// The report as text: one block per image.
pub fn render_text(report: &DiffReport) -> String {
    let mut out = String::new();
    if let Some(reason) = &report.not_measured_reason {
        let _ = writeln!(out, "Lint-only report: {reason}.");
    }
    let _ = writeln!(
        out,
        "base {} ({}) → head {} ({}), compared from merge-base {}",
        report.base.name,
        short(&report.base.sha),
        report.head.name,
        short(&report.head.sha),
        short(&report.merge_base)
    );
    if let Some(builder) = &report.builder {
        let _ = writeln!(
            out,
            "built with {} ({}, Docker Engine {})",
            builder.binary,
            builder.mode.as_str(),
            builder.server_version
        );
    }
    if report.images.is_empty() {
        out.push_str("\nNo Dockerfile is affected by this change.\n");
        return out;
    }
    for image in &report.images {
        render_image(&mut out, image);
    }
    out
}

fn render_image(out: &mut String, image: &ImageReport) {
    let _ = writeln!(
        out,
        "\n{} (context {}{}): {}",
        image.dockerfile,
        image.context,
        image
            .target
            .as_deref()
            .map(|t| format!(", target {t}"))
            .unwrap_or_default(),
        reason_text(image)
    );
    render_sizes(out, image);
    if let Some(budget) = &image.budget {
        let limits = budget.limits.join(", ");
        let _ = write!(out, "  budget    {} ({limits})", budget.verdict.as_str());
        for violation in &budget.violations {
            let _ = write!(
                out,
                "; {} {} over {}",
                violation.limit, violation.actual, violation.allowed
            );
        }
        out.push('\n');
    }
    let mut label = "by line";
    for delta in image
        .layer_deltas
        .iter()
        .filter(|d| d.delta_bytes != 0)
        .take(SHOWN)
    {
        let line = match delta.line_start {
            Some(line) => format!("line {line}"),
            None => "removed".to_string(),
        };
        let _ = writeln!(
            out,
            "  {label:<9} {:>10}  {line:<8} {}",
            format_signed_bytes(delta.delta_bytes),
            layer_delta_text(delta)
        );
        label = "";
    }
    render_stages(out, image);
    if let Some(files) = &image.files {
        let mut label = "files";
        let changes = files.by_size();
        for (kind, file) in changes.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "  {label:<9} {:>10}  {kind:<8} {}",
                format_signed_bytes(file.delta_bytes),
                file.path
            );
            label = "";
        }
        let more = files
            .changed_count()
            .saturating_sub(SHOWN.min(changes.len()));
        if more > 0 {
            let _ = writeln!(
                out,
                "            and {more} more changed path{}",
                plural(more)
            );
        }
    }
    render_wasted(out, image);
    if let Some(packages) = &image.build_packages {
        let _ = writeln!(out, "  packages  {}", packages.summary);
    }
    if let Some(probe) = &image.probe {
        let _ = write!(out, "  probe     ");
        match probe.status {
            ProbeStatus::Ran => {
                let total = probe.rerun.iter().fold(0.0, |sum, s| sum + s.seconds);
                let _ = writeln!(
                    out,
                    "changing {} re-ran {} step{} ({total:.1} s), {} cached",
                    probe.file.as_deref().unwrap_or("?"),
                    probe.rerun.len(),
                    if probe.rerun.len() == 1 { "" } else { "s" },
                    probe.cached_steps
                );
                for step in &probe.rerun {
                    let line = step.line.map(|l| format!("line {l}")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "            {:>6.1} s  {line:<8} {}",
                        step.seconds, step.instruction
                    );
                }
            }
            ProbeStatus::NothingToChange => {
                let _ = writeln!(
                    out,
                    "the broad COPY takes only dependency manifests: nothing to change"
                );
            }
            ProbeStatus::Failed => {
                let _ = writeln!(
                    out,
                    "failed: {}",
                    probe.error.as_deref().unwrap_or("the rebuild failed")
                );
            }
        }
    }
    let _ = write!(
        out,
        "  findings  {} new, {} fixed, {} unchanged",
        count(image, Change::New),
        count(image, Change::Fixed),
        count(image, Change::Unchanged)
    );
    if let Some((total, stages)) = outside_target(image) {
        let _ = write!(
            out,
            "; {total} more in stage{} {} (not built for this target; --all-stages shows them)",
            plural(stages.len()),
            stages.join(", ")
        );
    }
    out.push('\n');
    for finding in image
        .findings
        .iter()
        .filter(|f| f.change != Change::Unchanged)
    {
        let _ = writeln!(
            out,
            "    {:<5} {}:{}:{} {} [{}] {}{}",
            finding.change.as_str(),
            finding.file,
            finding.line,
            finding.column,
            finding.code,
            finding.severity,
            finding.message,
            if finding.measured { " (measured)" } else { "" }
        );
        for evidence in &finding.evidence {
            let _ = writeln!(out, "          ↳ {evidence}");
        }
    }
    for dropped in &image.dropped {
        let _ = writeln!(
            out,
            "    dropped {} line {}: {}",
            dropped.code, dropped.line, dropped.why
        );
    }
}

/// An instruction as a size row shows it: with what it was, when edited.
pub(crate) fn layer_delta_text(delta: &LayerDelta) -> String {
    match (&delta.base_instruction, delta.base_line_start) {
        (Some(was), Some(line)) if delta.line_start != Some(line) => {
            format!("{} (was line {line}: {was})", delta.instruction)
        }
        (Some(was), _) => format!("{} (was {was})", delta.instruction),
        (None, Some(line)) if delta.line_start.is_none() => {
            format!("{} (line {line} at base)", delta.instruction)
        }
        _ => delta.instruction.clone(),
    }
}

/// A stage's name as a size row shows it: with its old name, when renamed.
pub(crate) fn stage_delta_text(delta: &StageDelta) -> String {
    match &delta.base_stage {
        Some(was) => format!("{} (was {was})", delta.stage),
        None => delta.stage.clone(),
    }
}

/// Size per stage, when the image has more than its base image and one
/// stage, or a stage was renamed.
fn render_stages(out: &mut String, image: &ImageReport) {
    let worth_showing =
        image.stage_deltas.len() > 2 || image.stage_deltas.iter().any(|d| d.base_stage.is_some());
    if !worth_showing {
        return;
    }
    let mut label = "by stage";
    for delta in &image.stage_deltas {
        let _ = writeln!(
            out,
            "  {label:<9} {:>10}  {} ({} → {})",
            format_signed_bytes(delta.delta_bytes),
            stage_delta_text(delta),
            format_bytes(delta.base_bytes),
            format_bytes(delta.head_bytes)
        );
        label = "";
    }
}

/// Wasted space, head against base, split into what the base image wastes
/// by itself and what the Dockerfile's layers cause.
fn render_wasted(out: &mut String, image: &ImageReport) {
    let Some(head) = image.head.wasted.as_ref().filter(|w| w.bytes > 0) else {
        return;
    };
    let own = head.dockerfile_bytes();
    let mut line = format!(
        "  wasted    {} hidden by later layers in {} path{}",
        format_bytes(head.bytes),
        head.paths,
        plural(head.paths)
    );
    line.push_str(&wasted_against_base(image));
    let largest = image
        .wasted
        .iter()
        .find(|w| !w.in_base_image)
        .map(|w| {
            if w.removed {
                format!(", most in {} (deleted by a later layer)", w.path)
            } else {
                format!(", most in {} (written {} times)", w.path, w.copies)
            }
        })
        .unwrap_or_default();
    if head.base_image_bytes == 0 {
        let _ = writeln!(out, "{line}{largest}");
        return;
    }
    let _ = writeln!(out, "{line}");
    let _ = writeln!(
        out,
        "            {} of it inside the base image's own layers, which this Dockerfile cannot change",
        format_bytes(head.base_image_bytes)
    );
    if own > 0 {
        let change = image
            .base
            .wasted
            .as_ref()
            .map(|b| {
                format!(
                    " ({})",
                    format_signed_bytes(signed(own) - signed(b.dockerfile_bytes()))
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "            {} from this Dockerfile's layers{change}{largest}",
            format_bytes(own)
        );
    }
}

/// Head's wasted space against base's, as ` (base 1.0 MB, +2.0 MB)`, ` (as
/// at base)`, or nothing when base has none measured.
pub(crate) fn wasted_against_base(image: &ImageReport) -> String {
    match (&image.base.wasted, &image.head.wasted) {
        (Some(base), Some(head)) if base.bytes == head.bytes => " (as at base)".to_string(),
        (Some(base), Some(head)) => format!(
            " (base {}, {})",
            format_bytes(base.bytes),
            format_signed_bytes(signed(head.bytes) - signed(base.bytes))
        ),
        _ => String::new(),
    }
}

/// Findings left out because the target does not build their stage: how
/// many, and the stages.
pub(crate) fn outside_target(image: &ImageReport) -> Option<(usize, Vec<&str>)> {
    let total: usize = image
        .findings_outside_target
        .iter()
        .map(|s| s.findings)
        .sum();
    let stages = image
        .findings_outside_target
        .iter()
        .map(|s| s.stage.as_str())
        .collect();
    (total > 0).then_some((total, stages))
}

pub(crate) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn signed(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

fn render_sizes(out: &mut String, image: &ImageReport) {
    if image.base.status == SideStatus::Skipped && image.head.status == SideStatus::Skipped {
        return; // Lint-only: the report's first line says why.
    }
    let side = |side: &SideReport| match side.status {
        SideStatus::Built => side.size_bytes.map(format_bytes).unwrap_or_default(),
        SideStatus::Failed => "build failed".to_string(),
        SideStatus::Skipped if !side.dockerfile_present => "(no Dockerfile)".to_string(),
        SideStatus::Skipped => "not built".to_string(),
    };
    let mut line = format!(
        "  size      base {} → head {}",
        side(&image.base),
        side(&image.head)
    );
    if let (Some(delta), Some(base)) = (image.delta_bytes, image.base.size_bytes) {
        let _ = write!(line, "  {}", format_signed_bytes(delta));
        if base > 0 {
            let _ = write!(line, " ({:+.1}%)", delta as f64 * 100.0 / base as f64);
        }
    }
    if let (Some(delta), Some(head)) = (image.compressed_delta_bytes, image.head.compressed_bytes) {
        let _ = write!(
            line,
            "; compressed {} ({})",
            format_bytes(head),
            format_signed_bytes(delta)
        );
    } else if let Some(head) = image.head.compressed_bytes {
        let _ = write!(line, "; compressed {}", format_bytes(head));
    } else if let Some(delta) = image.compressed_delta_bytes {
        // Head's whole compressed size was not measured, only what changed.
        let _ = write!(line, "; compressed {}", format_signed_bytes(delta));
    } else if let Some(own) = image.own_compressed_delta_bytes {
        let _ = write!(
            line,
            "; compressed {} in this Dockerfile's layers (the base image's not measured)",
            format_signed_bytes(own)
        );
    }
    out.push_str(&line);
    out.push('\n');
    for (name, side) in [("base", &image.base), ("head", &image.head)] {
        if side.status == SideStatus::Built || !side.dockerfile_present {
            continue;
        }
        if let Some(reason) = &side.reason {
            let _ = writeln!(out, "  {name:<9} {reason}");
        }
        if let Some(build) = &side.build {
            for line in shown_lines(build, 10) {
                let _ = writeln!(out, "            | {line}");
            }
        }
    }
}

pub(crate) fn count(image: &ImageReport, change: Change) -> usize {
    image.count(change)
}

pub(crate) fn reason_text(image: &ImageReport) -> String {
    match image.reason {
        ImageReason::DockerfileAdded => "Dockerfile added".to_string(),
        ImageReason::DockerfileDeleted => "Dockerfile deleted".to_string(),
        ImageReason::DockerfileModified => "Dockerfile modified".to_string(),
        ImageReason::DockerfileRenamed => format!(
            "Dockerfile renamed from {}",
            image.renamed_from.as_deref().unwrap_or("?")
        ),
        ImageReason::ContextChanged => {
            let paths = image.changed_paths.clone().unwrap_or_default();
            let total = image.changed_path_count.unwrap_or(paths.len());
            let more = total.saturating_sub(paths.len());
            let mut text = format!("build context changed: {}", paths.join(", "));
            if more > 0 {
                let _ = write!(text, " and {more} more");
            }
            text
        }
    }
}

pub(crate) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
