//! What a Dockerfile means: stages, their graph, the build target, and the
//! effective USER, WORKDIR, SHELL, ENV and ARG scope at every instruction.
#![deny(missing_docs)]

use layercake_syntax::Dockerfile;

/// Options that change what the Dockerfile means.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// The build target stage name; `None` means the last stage.
    pub target: Option<String>,
}

/// The model of one Dockerfile.
#[derive(Clone, Debug, Default)]
pub struct DockerfileModel {}

impl DockerfileModel {
    /// Builds the model from a parsed Dockerfile.
    pub fn new(dockerfile: &Dockerfile, source: &str, options: &ModelOptions) -> Self {
        let _ = (dockerfile, source, options);
        DockerfileModel {}
    }
}
