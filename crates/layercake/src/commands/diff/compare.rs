//! Base against head: what the measurements of two built images say
//! together. Pure: inputs are image summaries already read and attributed.

use super::measure::{MeasuredSide, ParsedSide};
use layercake_image::{ImageSummary, diff_images, wasted_space};
use layercake_measure::LayerOrigin;
use layercake_model::DockerfilePairing;
use layercake_report::{
    DirectoryChange, FileChange, FileChanges, LayerDelta, LayerReport, StageDelta, WastedPath,
    WastedSummary,
};

/// How many entries each list in the report keeps.
pub const LISTED: usize = 20;

/// One side's layers with what made each (parallel slices) and the
/// Dockerfile they were attributed to.
#[derive(Clone, Copy)]
pub struct AttributedLayers<'a> {
    pub layers: &'a [LayerReport],
    pub origins: &'a [LayerOrigin],
    pub parsed: &'a ParsedSide,
}

impl<'a> AttributedLayers<'a> {
    /// The layers of a side that was built and read.
    pub fn of(side: Option<&'a MeasuredSide>, parsed: Option<&'a ParsedSide>) -> Option<Self> {
        let side = side.filter(|s| s.image.is_some())?;
        Some(AttributedLayers {
            layers: &side.report.layers,
            origins: &side.origins,
            parsed: parsed?,
        })
    }

    /// How many of the layers, from the bottom, are the base image's.
    pub fn base_image_layers(&self) -> usize {
        self.origins
            .iter()
            .take_while(|o| matches!(o, LayerOrigin::BaseImage { .. }))
            .count()
    }
}

/// What a group of layers is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LayerGroup {
    /// The base image's layers, whichever `FROM` names it.
    BaseImage,
    /// The layers of one instruction, or of one stage.
    Own(usize),
}

/// The layers of one side summed per group, in image order: the group, its
/// first layer (for the text and lines) and its bytes.
fn grouped(
    side: &AttributedLayers<'_>,
    group_of: impl Fn(LayerOrigin) -> Option<usize>,
) -> Vec<(LayerGroup, LayerReport, u64)> {
    let mut groups: Vec<(LayerGroup, LayerReport, u64)> = Vec::new();
    for (layer, origin) in side.layers.iter().zip(side.origins) {
        let key = match origin {
            LayerOrigin::BaseImage { .. } => LayerGroup::BaseImage,
            LayerOrigin::Instruction { .. } => match group_of(*origin) {
                Some(index) => LayerGroup::Own(index),
                None => continue,
            },
        };
        match groups.iter_mut().find(|(k, ..)| *k == key) {
            Some((_, _, bytes)) => *bytes += layer.size_bytes,
            None => groups.push((key, layer.clone(), layer.size_bytes)),
        }
    }
    groups
}

/// Size change per instruction. Layers are tied to instructions, and head's
/// instructions to base's through the Dockerfiles' pairing: an edited
/// instruction (a bumped `FROM`, a `RUN` that installs one more package) is
/// one row with its before and after; the base image's layers are one row.
pub fn layer_deltas(
    base: Option<AttributedLayers<'_>>,
    head: &AttributedLayers<'_>,
    pairing: Option<&DockerfilePairing>,
) -> Vec<LayerDelta> {
    let by_instruction = |origin: LayerOrigin| Some(origin.instruction());
    let base_groups = base
        .map(|b| grouped(&b, by_instruction))
        .unwrap_or_default();
    let head_groups = grouped(head, by_instruction);
    let partner = |group: LayerGroup| match group {
        LayerGroup::BaseImage => Some(LayerGroup::BaseImage),
        LayerGroup::Own(h) => pairing
            .and_then(|p| p.base_of(h))
            .map(|(b, _)| LayerGroup::Own(b)),
    };
    let mut base_used = vec![false; base_groups.len()];
    let mut out: Vec<LayerDelta> = Vec::new();
    for (group, layer, head_bytes) in &head_groups {
        let paired = partner(*group).and_then(|want| {
            base_groups
                .iter()
                .position(|(k, ..)| *k == want)
                .filter(|&b| !base_used[b])
        });
        let (base_bytes, base_layer) = match paired {
            Some(b) => {
                base_used[b] = true;
                (base_groups[b].2, Some(&base_groups[b].1))
            }
            None => (0, None),
        };
        out.push(LayerDelta {
            instruction: layer.instruction.clone(),
            line_start: layer.line_start,
            line_end: layer.line_end,
            base_instruction: base_layer
                .filter(|b| b.instruction != layer.instruction)
                .map(|b| b.instruction.clone()),
            base_line_start: base_layer.and_then(|b| b.line_start),
            from_base_image: layer.from_base_image,
            base_bytes,
            head_bytes: *head_bytes,
            delta_bytes: signed(*head_bytes) - signed(base_bytes),
        });
    }
    for ((_, layer, bytes), used) in base_groups.iter().zip(base_used) {
        if !used {
            out.push(LayerDelta {
                instruction: layer.instruction.clone(),
                line_start: None,
                line_end: None,
                base_instruction: None,
                base_line_start: layer.line_start,
                from_base_image: layer.from_base_image,
                base_bytes: *bytes,
                head_bytes: 0,
                delta_bytes: -signed(*bytes),
            });
        }
    }
    out.sort_by(|a, b| {
        b.delta_bytes
            .unsigned_abs()
            .cmp(&a.delta_bytes.unsigned_abs())
            .then(a.line_start.cmp(&b.line_start))
    });
    out
}

/// Size change per stage of the target's `FROM` chain (the base image's
/// layers as `base image`), stages paired as the Dockerfiles' pairing says:
/// a renamed stage is one row.
pub fn stage_deltas(
    base: Option<AttributedLayers<'_>>,
    head: &AttributedLayers<'_>,
    pairing: Option<&DockerfilePairing>,
) -> Vec<StageDelta> {
    let by_stage = |side: &AttributedLayers<'_>| {
        let model = &side.parsed.model;
        grouped(side, |origin| {
            model.stage_of_instruction(origin.instruction())
        })
    };
    let base_groups = base.map(|b| by_stage(&b)).unwrap_or_default();
    let head_groups = by_stage(head);
    let label = |group: LayerGroup, layer: &LayerReport| match group {
        LayerGroup::BaseImage => "base image".to_string(),
        LayerGroup::Own(_) => layer.stage.clone().unwrap_or_else(|| "?".to_string()),
    };
    let mut base_used = vec![false; base_groups.len()];
    let mut out = Vec::new();
    for (group, layer, head_bytes) in &head_groups {
        let want = match group {
            LayerGroup::BaseImage => Some(LayerGroup::BaseImage),
            LayerGroup::Own(h) => pairing
                .and_then(|p| p.base_of_stage(*h))
                .map(LayerGroup::Own),
        };
        let paired = want.and_then(|want| {
            base_groups
                .iter()
                .position(|(k, ..)| *k == want)
                .filter(|&b| !base_used[b])
        });
        let stage = label(*group, layer);
        let (base_bytes, base_stage) = match paired {
            Some(b) => {
                base_used[b] = true;
                let (g, l, bytes) = &base_groups[b];
                (*bytes, Some(label(*g, l)).filter(|name| *name != stage))
            }
            None => (0, None),
        };
        out.push(StageDelta {
            stage,
            base_stage,
            base_bytes,
            head_bytes: *head_bytes,
            delta_bytes: signed(*head_bytes) - signed(base_bytes),
        });
    }
    for ((group, layer, bytes), used) in base_groups.iter().zip(base_used) {
        if !used {
            out.push(StageDelta {
                stage: label(*group, layer),
                base_stage: None,
                base_bytes: *bytes,
                head_bytes: 0,
                delta_bytes: -signed(*bytes),
            });
        }
    }
    out
}

/// The file-level difference, cut to [`LISTED`] entries per list.
pub fn file_changes(base: &ImageSummary, head: &ImageSummary) -> FileChanges {
    let diff = diff_images(base, head);
    let list = |changes: &[layercake_image::PathChange], removed: bool| {
        changes
            .iter()
            .take(LISTED)
            .map(|c| FileChange {
                path: c.path.clone(),
                bytes: if removed { c.base_bytes } else { c.head_bytes },
                delta_bytes: c.delta_bytes(),
            })
            .collect()
    };
    FileChanges {
        added: list(&diff.added, false),
        removed: list(&diff.removed, true),
        grown: list(&diff.grown, false),
        shrunk: list(&diff.shrunk, false),
        directories: diff
            .directories
            .iter()
            .take(LISTED)
            .map(|d| DirectoryChange {
                path: d.path.clone(),
                delta_bytes: d.delta_bytes,
                changed_paths: d.changed_paths,
            })
            .collect(),
        added_count: diff.added.len(),
        removed_count: diff.removed.len(),
        grown_count: diff.grown.len(),
        shrunk_count: diff.shrunk.len(),
    }
}

/// Wasted space of one image whose first `base_image_layers` layers are
/// its base image's: the summary, and the [`LISTED`] worst paths.
pub fn wasted(image: &ImageSummary, base_image_layers: usize) -> (WastedSummary, Vec<WastedPath>) {
    let wasted = wasted_space(image);
    let base_image_bytes = wasted.hidden_by_layer.iter().take(base_image_layers).sum();
    let paths = wasted
        .top(LISTED)
        .iter()
        .map(|w| WastedPath {
            path: w.path.clone(),
            copies: w.copies,
            wasted_bytes: w.wasted_bytes,
            removed: w.removed,
            in_base_image: w.last_hidden_by_layer < base_image_layers,
        })
        .collect();
    let summary = WastedSummary {
        bytes: wasted.total_bytes,
        paths: wasted.paths.len(),
        base_image_bytes,
    };
    (summary, paths)
}

pub fn signed(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}
