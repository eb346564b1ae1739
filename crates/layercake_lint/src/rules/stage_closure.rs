//! Which stages a set of stages needs, following FROM, `COPY --from` and `--mount=from=`.

use layercake_model::DockerfileModel;

/// `needed[i]` is true when stage `i` is one of `roots` or a stage they depend on.
pub fn stages_needed_by(
    model: &DockerfileModel,
    roots: impl IntoIterator<Item = usize>,
) -> Vec<bool> {
    let mut needed = vec![false; model.stages.len()];
    let mut pending: Vec<usize> = roots.into_iter().collect();
    while let Some(stage) = pending.pop() {
        match needed.get_mut(stage) {
            Some(seen) if !*seen => *seen = true,
            _ => continue,
        }
        pending.extend(
            model
                .edges_from(stage)
                .filter_map(|edge| edge.target.stage()),
        );
    }
    needed
}
