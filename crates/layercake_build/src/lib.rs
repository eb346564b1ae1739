//! layercake's builder edge: builds images with BuildKit through the docker CLI and
//! reads them back for analysis.
//!
//! | question | item |
//! |---|---|
//! | which docker can build here, and how | [`Docker::detect`] → [`Docker`], [`BuildMode`], or [`DockerUnavailable`] with a reason to report |
//! | build a Dockerfile, with a time limit, following its steps | [`Docker::build`] → [`BuildOutcome`], [`BuildEvent`] as it goes |
//! | the command line of a build | [`build_command`] |
//! | steps from `--progress=plain` text | [`parse_plain_progress`] |
//! | why a build failed, from its whole log | [`BuildOutcome::cause`], [`failure_cause`] → [`FailureCause`] |
//! | what the built image is made of | [`Docker::read_image`] (the engine's layer store when readable, else streams `docker save` into [`layercake_image`]), [`Docker::image_size`] |
//! | the same, kept by image ID, with compressed sizes measured only where asked | [`Docker::scan_image_cached`], then [`Docker::measure_compressed`]; [`ImageCache`] |
//! | clean up | [`Docker::remove_image`] |
//!
//! Two ways to reach BuildKit are supported: `docker buildx build --load` when the
//! CLI has buildx, and `DOCKER_BUILDKIT=1 docker build` for clients before 23.0 that
//! have no buildx (Debian's `docker.io` 20.10 is one). Everything runs as child
//! processes of the docker binary; there is no async runtime and no daemon API client.
//! Images are read from the engine's overlay2 layer store when this process may
//! read it (checked against what `docker image inspect` says), else through
//! `docker save`.
#![deny(missing_docs)]

mod build;
mod builder_spec;
mod cache;
mod docker;
mod failure;
mod layer_store;
mod process;
mod progress;
mod redact;
mod request;
mod seconds;

pub use build::{BuildEvent, BuildOutcome, BuildStatus, LOG_TAIL_LINES};
pub use builder_spec::{BuilderSpec, BuilderTarget};
pub use cache::{
    ImageCache, MAX_ENTRIES as IMAGE_CACHE_ENTRIES, MAX_LAYER_ENTRIES as IMAGE_CACHE_LAYER_ENTRIES,
};
pub use docker::{
    AnalysisOrigin, BuildMode, Deflated, Docker, DockerError, DockerSelection, DockerUnavailable,
    ImageSource,
};
pub use failure::{FailureCause, MAX_CAUSE_LINES, failure_cause};
pub use progress::{BuildStep, parse_plain_progress};
pub use request::{BuildRequest, BuildSecret, SecretSource, build_command};
