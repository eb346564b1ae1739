//! Whether stages are meant as development environments rather than shipped.

use layercake_model::DockerfileModel;

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
