//! Base against head: what the measurements of two built images say
//! together. Pure: inputs are image summaries already read and attributed.

use crate::side::{MeasuredSide, ParsedSide};
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
    let mut paired: Vec<Option<usize>> = head_groups
        .iter()
        .map(|(group, ..)| {
            let want = partner(*group)?;
            let b = base_groups.iter().position(|(k, ..)| *k == want)?;
            (!base_used[b]).then(|| {
                base_used[b] = true;
                b
            })
        })
        .collect();
    // An instruction's partner may be outside the other image (base's
    // single stage paired with head's builder, while head's runtime repeats
    // `COPY package*.json ./`): in the image, the same text is the same row.
    for (h, (group, layer, _)) in head_groups.iter().enumerate() {
        if paired[h].is_some() || *group == LayerGroup::BaseImage {
            continue;
        }
        if let Some(b) = base_groups
            .iter()
            .enumerate()
            .position(|(b, (k, base, _))| {
                !base_used[b]
                    && *k != LayerGroup::BaseImage
                    && base.instruction == layer.instruction
            })
        {
            base_used[b] = true;
            paired[h] = Some(b);
        }
    }
    let mut out: Vec<LayerDelta> = Vec::new();
    for ((_, layer, head_bytes), paired) in head_groups.iter().zip(&paired) {
        let (base_bytes, base_layer) = match *paired {
            Some(b) => (base_groups[b].2, Some(&base_groups[b].1)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A side: the Dockerfile, and its image's layers as (instruction index
    /// or `None` for a base-image layer, bytes).
    struct Side {
        parsed: ParsedSide,
        layers: Vec<LayerReport>,
        origins: Vec<LayerOrigin>,
    }

    fn side(text: &str, layers: &[(Option<usize>, u64)]) -> Side {
        let parsed = ParsedSide::new(text.to_string(), None, &BTreeMap::new(), None);
        let root_from = parsed.model.target_stage().map_or(0, |s| {
            parsed
                .model
                .root_stage(s.index)
                .map_or(0, |r| r.from_instruction)
        });
        let origins: Vec<LayerOrigin> = layers
            .iter()
            .map(|(instruction, _)| match instruction {
                Some(instruction) => LayerOrigin::Instruction {
                    instruction: *instruction,
                },
                None => LayerOrigin::BaseImage {
                    from_instruction: root_from,
                },
            })
            .collect();
        let layers = layers
            .iter()
            .zip(&origins)
            .enumerate()
            .map(|(index, ((_, bytes), origin))| {
                let instruction = origin.instruction();
                let lines = parsed.lines(instruction);
                LayerReport {
                    index,
                    line_start: lines.map(|l| l.0),
                    line_end: lines.map(|l| l.1),
                    instruction: parsed.instruction_text(instruction),
                    stage: parsed.stage_label(instruction),
                    from_base_image: matches!(origin, LayerOrigin::BaseImage { .. }),
                    size_bytes: *bytes,
                    compressed_bytes: None,
                }
            })
            .collect();
        Side {
            parsed,
            layers,
            origins,
        }
    }

    fn attributed(side: &Side) -> AttributedLayers<'_> {
        AttributedLayers {
            layers: &side.layers,
            origins: &side.origins,
            parsed: &side.parsed,
        }
    }

    fn compare(base: &Side, head: &Side) -> (Vec<String>, Vec<String>) {
        let pairing = DockerfilePairing::new(base.parsed.version(), head.parsed.version());
        let layers = layer_deltas(Some(attributed(base)), &attributed(head), Some(&pairing))
            .iter()
            .map(|d| {
                format!(
                    "{:?} {} <- {:?} {:?}: {}",
                    d.line_start,
                    d.instruction,
                    d.base_line_start,
                    d.base_instruction,
                    d.delta_bytes
                )
            })
            .collect();
        let stages = stage_deltas(Some(attributed(base)), &attributed(head), Some(&pairing))
            .iter()
            .map(|d| format!("{} <- {:?}: {}", d.stage, d.base_stage, d.delta_bytes))
            .collect();
        (layers, stages)
    }

    #[test]
    fn a_bumped_from_is_one_row_and_a_renamed_stage_one_stage() {
        let base = side(
            "FROM python:3.9-slim\nRUN pip install flask\n",
            &[(None, 100), (None, 50), (Some(1), 10)],
        );
        let head = side(
            "FROM python:3.11-slim AS base\nRUN pip install flask\n",
            &[(None, 170), (Some(1), 12)],
        );
        let (layers, stages) = compare(&base, &head);
        assert_eq!(
            layers,
            [
                "Some(1) FROM python:3.11-slim AS base <- Some(1) Some(\"FROM python:3.9-slim\"): 20",
                "Some(2) RUN pip install flask <- Some(2) None: 2",
            ]
        );
        assert_eq!(
            stages,
            ["base image <- None: 20", "base <- Some(\"stage-0\"): 2"]
        );
    }

    #[test]
    fn an_instruction_whose_partner_is_outside_the_image_pairs_by_its_text() {
        // Base's only stage pairs with head's builder, but the runtime
        // repeats the manifest COPY: that is the row's partner in the image.
        let base = side(
            "FROM node:22\nCOPY package.json ./\nRUN npm ci\n",
            &[(None, 1000), (Some(1), 1), (Some(2), 300)],
        );
        let head = side(
            "FROM node:22 AS build\nCOPY package.json ./\nRUN npm ci\nFROM node:22-slim\nCOPY package.json ./\nRUN npm ci --omit=dev\n",
            &[(None, 200), (Some(4), 1), (Some(5), 100)],
        );
        let (layers, _) = compare(&base, &head);
        assert_eq!(
            layers,
            [
                "Some(4) FROM node:22-slim <- Some(1) Some(\"FROM node:22\"): -800",
                "None RUN npm ci <- Some(3) None: -300",
                "Some(6) RUN npm ci --omit=dev <- None None: 100",
                "Some(5) COPY package.json ./ <- Some(2) None: 0",
            ]
        );
    }
}
