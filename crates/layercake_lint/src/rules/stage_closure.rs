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

/// Whether one of `stages` is named as a development, test or CI
/// environment (`dev`, `devcontainer`, `test`, `ci`, `debug`, …): an image
/// that is meant to hold toolchains, not to be shipped.
pub fn is_dev_environment(model: &DockerfileModel, stages: &[usize]) -> bool {
    const WORDS: &[&str] = &[
        "dev",
        "devel",
        "develop",
        "development",
        "devcontainer",
        "test",
        "tests",
        "testing",
        "ci",
        "debug",
        "lint",
        "toolbox",
        "sdk",
    ];
    stages
        .iter()
        .filter_map(|&i| model.stages.get(i)?.name.as_ref())
        .any(|name| {
            name.normalized
                .split(['-', '_', '.'])
                .any(|word| WORDS.contains(&word))
        })
}
