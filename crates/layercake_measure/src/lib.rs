//! What a built image's numbers mean for its Dockerfile. Pure: every function
//! takes what was read or built and returns an answer; nothing here runs
//! Docker or touches the disk.
//!
//! | question | function |
//! |---|---|
//! | which stages make up the image | [`stage_chain`] |
//! | which instruction (and lines) made each layer | [`attribute_layers`] |
//! | which instruction a BuildKit step (`[build 2/4] RUN …`) ran | [`StepMap`] |
//! | which build packages the final image still holds | [`build_packages`] |
//! | which file the cache-bust probe should change | [`choose_probe_file`] |
#![deny(missing_docs)]

mod layers;
mod packages;
mod probe;
mod steps;

pub use layers::{LayerOrigin, attribute_layers, stage_chain};
pub use packages::{BuildPackages, build_packages};
pub use probe::{ProbeFile, choose_probe_file, copy_sources, is_dependency_manifest};
pub use steps::StepMap;

/// The instruction keywords whose BuildKit steps (and image layers) exist:
/// the ones that change the filesystem.
pub(crate) fn makes_layer(keyword: layercake_syntax::Keyword) -> bool {
    use layercake_syntax::Keyword;
    matches!(
        keyword,
        Keyword::Run | Keyword::Copy | Keyword::Add | Keyword::Workdir
    )
}
