//! How much more or less an image weighs compressed than another, from the
//! layers that differ only.
//!
//! A layer's `diff_id` is the digest of its tar, and its compressed size is a
//! function of that tar, so a layer both images hold adds the same to both
//! and drops out of the difference. Base and head of a pull request share
//! most of their bytes (the base image, the steps before the first edited
//! one): the difference needs none of those deflated.

use std::collections::{BTreeMap, BTreeSet};

use crate::LayerSummary;

/// How many times each image holds each layer, by `diff_id`; layers without
/// one are left out (nothing can tell them equal to another).
fn counts(layers: &[LayerSummary]) -> BTreeMap<&str, (usize, Option<u64>)> {
    let mut counts = BTreeMap::new();
    for layer in layers {
        if let Some(diff_id) = layer.diff_id.as_deref() {
            let count: &mut (usize, Option<u64>) = counts.entry(diff_id).or_default();
            count.0 += 1;
            count.1 = count.1.or(layer.compressed_bytes);
        }
    }
    counts
}

/// The `diff_id`s of the layers whose compressed sizes [`compressed_delta`]
/// needs: those one list holds more times than the other. A layer both
/// hold equally often is not among them. The lists are two images' layers,
/// or the same parts of them (the layers above their base images).
pub fn differing_layers(base: &[LayerSummary], head: &[LayerSummary]) -> BTreeSet<String> {
    let (base, head) = (counts(base), counts(head));
    let differs = |diff_id: &str| base.get(diff_id).map(|c| c.0) != head.get(diff_id).map(|c| c.0);
    base.keys()
        .chain(head.keys())
        .filter(|diff_id| differs(diff_id))
        .map(|diff_id| (*diff_id).to_owned())
        .collect()
}

/// Head's layers' compressed size minus base's, exactly, from the
/// compressed sizes of the [`differing_layers`] alone (a layer both hold
/// equally often adds the same to both). `None` when one of those was not
/// measured, or when a layer without a `diff_id` was not.
pub fn compressed_delta(base: &[LayerSummary], head: &[LayerSummary]) -> Option<i64> {
    let unnamed = |layers: &[LayerSummary]| -> Option<i128> {
        layers
            .iter()
            .filter(|layer| layer.diff_id.is_none())
            .map(|layer: &LayerSummary| layer.compressed_bytes.map(i128::from))
            .sum()
    };
    let (base_counts, head_counts) = (counts(base), counts(head));
    let mut delta = unnamed(head)? - unnamed(base)?;
    for diff_id in differing_layers(base, head) {
        let (base_count, base_size) = base_counts
            .get(diff_id.as_str())
            .copied()
            .unwrap_or_default();
        let (head_count, head_size) = head_counts
            .get(diff_id.as_str())
            .copied()
            .unwrap_or_default();
        let size = i128::from(head_size.or(base_size)?);
        let times = i128::try_from(head_count).ok()? - i128::try_from(base_count).ok()?;
        delta += times * size;
    }
    i64::try_from(delta).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArchiveFormat, ImageConfig, ImageSummary};

    /// An image of layers given as (`diff_id` number, compressed size).
    fn image(layers: &[(Option<u32>, Option<u64>)]) -> ImageSummary {
        let layers: Vec<LayerSummary> = layers
            .iter()
            .enumerate()
            .map(|(index, (id, compressed))| LayerSummary {
                index,
                archive_path: String::new(),
                diff_id: id.map(|id| format!("sha256:{id:064x}")),
                size_bytes: 0,
                tar_bytes: 0,
                compressed_bytes: *compressed,
                created_by: None,
                comment: None,
                files: Vec::new(),
                whiteouts: Vec::new(),
                opaque_dirs: Vec::new(),
                package_databases: Vec::new(),
                content_key: (0, 0),
            })
            .collect();
        ImageSummary {
            format: ArchiveFormat::LayerStore,
            repo_tags: Vec::new(),
            config: ImageConfig::default(),
            size_bytes: 0,
            tar_bytes: 0,
            compressed_bytes: layers.iter().map(|l| l.compressed_bytes).sum(),
            layers,
        }
    }

    fn ids(ids: &[u32]) -> BTreeSet<String> {
        ids.iter().map(|id| format!("sha256:{id:064x}")).collect()
    }

    #[test]
    fn shared_layers_drop_out_of_the_delta_unmeasured() {
        // Base: 1 2 3; head: 1 2 4 5. Layers 1 and 2 were never deflated.
        let base = image(&[(Some(1), None), (Some(2), None), (Some(3), Some(30))]);
        let head = image(&[
            (Some(1), None),
            (Some(2), None),
            (Some(4), Some(400)),
            (Some(5), Some(5_000)),
        ]);
        assert_eq!(
            differing_layers(&base.layers, &head.layers),
            ids(&[3, 4, 5])
        );
        assert_eq!(
            compressed_delta(&base.layers, &head.layers),
            Some(5_400 - 30)
        );
        assert_eq!(
            compressed_delta(&head.layers, &base.layers),
            Some(30 - 5_400)
        );
        // The same as the difference of the whole images, once those are known.
        let full_base = image(&[(Some(1), Some(1)), (Some(2), Some(20)), (Some(3), Some(30))]);
        let full_head = image(&[
            (Some(1), Some(1)),
            (Some(2), Some(20)),
            (Some(4), Some(400)),
            (Some(5), Some(5_000)),
        ]);
        let whole = |image: &ImageSummary| {
            i64::try_from(image.compressed_bytes.expect("all")).expect("fits")
        };
        assert_eq!(
            compressed_delta(&full_base.layers, &full_head.layers),
            Some(whole(&full_head) - whole(&full_base))
        );
    }

    #[test]
    fn a_differing_layer_not_measured_leaves_the_delta_unknown() {
        let base = image(&[(Some(1), None)]);
        let head = image(&[(Some(1), None), (Some(2), None)]);
        assert_eq!(differing_layers(&base.layers, &head.layers), ids(&[2]));
        assert_eq!(compressed_delta(&base.layers, &head.layers), None);
        // Either side may have measured it.
        let measured = image(&[(Some(2), Some(7))]);
        assert_eq!(
            compressed_delta(&measured.layers, &head.layers),
            None,
            "layer 1 differs too"
        );
        assert_eq!(
            compressed_delta(
                &image(&[(Some(1), None), (Some(2), Some(7))]).layers,
                &head.layers
            ),
            Some(0)
        );
    }

    #[test]
    fn a_layer_held_more_often_on_one_side_counts_for_the_difference() {
        // An empty layer twice in base, once in head; one image against nothing.
        let base = image(&[(Some(9), Some(32)), (Some(1), None), (Some(9), Some(32))]);
        let head = image(&[(Some(9), Some(32)), (Some(1), None)]);
        assert_eq!(differing_layers(&base.layers, &head.layers), ids(&[9]));
        assert_eq!(compressed_delta(&base.layers, &head.layers), Some(-32));
        let nothing = image(&[]);
        assert_eq!(
            differing_layers(&nothing.layers, &head.layers),
            ids(&[1, 9])
        );
        assert_eq!(compressed_delta(&nothing.layers, &head.layers), None);
    }

    #[test]
    fn layers_without_a_diff_id_always_count() {
        let base = image(&[(Some(1), None), (None, Some(10))]);
        let head = image(&[(Some(1), None), (None, Some(25))]);
        assert!(differing_layers(&base.layers, &head.layers).is_empty());
        assert_eq!(compressed_delta(&base.layers, &head.layers), Some(15));
        let unmeasured = image(&[(Some(1), None), (None, None)]);
        assert_eq!(compressed_delta(&base.layers, &unmeasured.layers), None);
    }
}
