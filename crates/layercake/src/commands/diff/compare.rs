//! Base against head: what the measurements of two built images say
//! together. Pure: inputs are image summaries already read and attributed.

use layercake_image::{ImageSummary, diff_images, wasted_space};
use layercake_report::{
    DirectoryChange, FileChange, FileChanges, LayerDelta, LayerReport, StageDelta, WastedPath,
};
use std::collections::HashMap;

/// How many entries each list in the report keeps.
pub const LISTED: usize = 20;

/// Size change per instruction: layers are matched by their instruction's
/// text (and occurrence), the base image's layers grouped under their `FROM`.
pub fn layer_deltas(base: &[LayerReport], head: &[LayerReport]) -> Vec<LayerDelta> {
    let group = |layers: &[LayerReport]| {
        let mut groups: Vec<(String, LayerReport)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for layer in layers {
            let key = if layer.from_base_image {
                format!("base\0{}", layer.instruction)
            } else {
                let n = seen.entry(layer.instruction.clone()).or_insert(0);
                *n += 1;
                format!("{}\0{}", layer.instruction, n)
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, total)) => total.size_bytes += layer.size_bytes,
                None => groups.push((key, layer.clone())),
            }
        }
        groups
    };
    let base_groups = group(base);
    let head_groups = group(head);
    // Exact text first; then an edited instruction pairs with the base one
    // it most resembles (`RUN dd … count=10` → `RUN dd … count=310`).
    let mut paired: Vec<Option<usize>> = head_groups
        .iter()
        .map(|(key, _)| base_groups.iter().position(|(k, _)| k == key))
        .collect();
    for (h, (_, layer)) in head_groups.iter().enumerate() {
        if paired[h].is_some() || layer.from_base_image {
            continue;
        }
        let best = base_groups
            .iter()
            .enumerate()
            .filter(|(b, (key, base))| {
                !base.from_base_image
                    && !paired.contains(&Some(*b))
                    && !head_groups.iter().any(|(k, _)| k == key)
            })
            .map(|(b, (_, base))| (b, resemblance(&base.instruction, &layer.instruction)))
            .filter(|(_, score)| *score > 0)
            .max_by_key(|(b, score)| (*score, std::cmp::Reverse(*b)));
        paired[h] = best.map(|(b, _)| b);
    }
    let mut out: Vec<LayerDelta> = Vec::new();
    for (h, (_, layer)) in head_groups.iter().enumerate() {
        let base_bytes = paired[h].map_or(0, |b| base_groups[b].1.size_bytes);
        out.push(LayerDelta {
            instruction: layer.instruction.clone(),
            line_start: layer.line_start,
            line_end: layer.line_end,
            from_base_image: layer.from_base_image,
            base_bytes,
            head_bytes: layer.size_bytes,
            delta_bytes: signed(layer.size_bytes) - signed(base_bytes),
        });
    }
    for (b, (_, layer)) in base_groups.iter().enumerate() {
        if !paired.contains(&Some(b)) {
            out.push(LayerDelta {
                instruction: layer.instruction.clone(),
                line_start: None,
                line_end: None,
                from_base_image: layer.from_base_image,
                base_bytes: layer.size_bytes,
                head_bytes: 0,
                delta_bytes: -signed(layer.size_bytes),
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

/// How alike two instructions are: the number of leading words they share,
/// when that is the keyword and two more words, or all of the shorter one;
/// 0 (not alike) otherwise.
fn resemblance(a: &str, b: &str) -> usize {
    let a: Vec<&str> = a.split_whitespace().collect();
    let b: Vec<&str> = b.split_whitespace().collect();
    let shared = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let needed = 3.min(a.len()).min(b.len()).max(2);
    if shared >= needed { shared } else { 0 }
}

/// Size change per stage of the `FROM` chain (layers grouped by `stage`;
/// base-image layers as `base image`).
pub fn stage_deltas(base: &[LayerReport], head: &[LayerReport]) -> Vec<StageDelta> {
    let totals = |layers: &[LayerReport]| {
        let mut totals: Vec<(String, u64)> = Vec::new();
        for layer in layers {
            let name = if layer.from_base_image {
                "base image".to_string()
            } else {
                layer.stage.clone().unwrap_or_else(|| "?".to_string())
            };
            match totals.iter_mut().find(|(n, _)| *n == name) {
                Some((_, bytes)) => *bytes += layer.size_bytes,
                None => totals.push((name, layer.size_bytes)),
            }
        }
        totals
    };
    let base_totals = totals(base);
    let head_totals = totals(head);
    let mut names: Vec<&String> = head_totals.iter().map(|(n, _)| n).collect();
    for (name, _) in &base_totals {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let get = |totals: &[(String, u64)], name: &str| {
        totals
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b)
    };
    names
        .into_iter()
        .map(|name| {
            let base_bytes = get(&base_totals, name);
            let head_bytes = get(&head_totals, name);
            StageDelta {
                stage: name.clone(),
                base_bytes,
                head_bytes,
                delta_bytes: signed(head_bytes) - signed(base_bytes),
            }
        })
        .collect()
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
    }
}

/// Wasted space of head: the total and the [`LISTED`] worst paths.
pub fn wasted(head: &ImageSummary) -> (u64, Vec<WastedPath>) {
    let wasted = wasted_space(head);
    let paths = wasted
        .top(LISTED)
        .iter()
        .map(|w| WastedPath {
            path: w.path.clone(),
            copies: w.copies,
            wasted_bytes: w.wasted_bytes,
            removed: w.removed,
        })
        .collect();
    (wasted.total_bytes, paths)
}

pub fn signed(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(instruction: &str, line: Option<usize>, base: bool, bytes: u64) -> LayerReport {
        LayerReport {
            index: 0,
            line_start: line,
            line_end: line,
            instruction: instruction.to_string(),
            stage: Some("stage-0".to_string()),
            from_base_image: base,
            size_bytes: bytes,
            compressed_bytes: None,
        }
    }

    #[test]
    fn resemblance_needs_the_keyword_and_two_words() {
        assert_eq!(resemblance("RUN make", "RUN make -j4"), 2);
        assert_eq!(
            resemblance(
                "RUN apt-get install -y gcc",
                "RUN apt-get install -y gcc make"
            ),
            5
        );
        assert_eq!(
            resemblance("RUN apt-get update", "RUN apt-get install -y x"),
            0
        );
        assert_eq!(resemblance("RUN make", "RUN apt-get install"), 0);
        assert_eq!(resemblance("COPY . .", "COPY src/ ./src/"), 0);
    }

    #[test]
    fn deltas_match_instructions_by_text_and_group_the_base_image() {
        let base = [
            layer("FROM debian", Some(1), true, 100),
            layer("FROM debian", Some(1), true, 50),
            layer("COPY . /app", Some(2), false, 10),
            layer("RUN make", Some(3), false, 500),
            layer("RUN dd if=/dev/zero count=1", Some(4), false, 1),
        ];
        let head = [
            layer("FROM debian", Some(1), true, 150),
            layer("COPY . /app", Some(2), false, 12),
            layer("RUN apt-get install -y gcc", Some(4), false, 9000),
            layer("RUN dd if=/dev/zero count=5", Some(5), false, 5),
        ];
        let deltas = layer_deltas(&base, &head);
        let summary: Vec<(String, Option<usize>, i64)> = deltas
            .iter()
            .map(|d| (d.instruction.clone(), d.line_start, d.delta_bytes))
            .collect();
        assert_eq!(
            summary,
            [
                ("RUN apt-get install -y gcc".to_string(), Some(4), 9000),
                ("RUN make".to_string(), None, -500),
                ("RUN dd if=/dev/zero count=5".to_string(), Some(5), 4),
                ("COPY . /app".to_string(), Some(2), 2),
                ("FROM debian".to_string(), Some(1), 0),
            ]
        );
        let stages = stage_deltas(&base, &head);
        assert_eq!(stages[0].stage, "base image");
        assert_eq!(stages[0].delta_bytes, 0);
        assert_eq!(stages[1].delta_bytes, 9017 - 511);
    }
}
