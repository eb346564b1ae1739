//! Tying the layers of a built image to the Dockerfile instructions that made them.

use crate::makes_layer;
use layercake_model::{DockerfileModel, StageBase};
use layercake_syntax::{Dockerfile, Keyword};
use serde::Serialize;

/// Where one layer of a built image came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayerOrigin {
    /// An instruction of the Dockerfile (index into `Dockerfile::instructions`).
    Instruction {
        /// The instruction's index.
        instruction: usize,
    },
    /// The base image, which the `FROM` of the stage chain's root names.
    BaseImage {
        /// The index of that `FROM` instruction.
        from_instruction: usize,
    },
}

impl LayerOrigin {
    /// The instruction to show for the layer: its own, or the `FROM` that pulled it in.
    pub fn instruction(self) -> usize {
        match self {
            LayerOrigin::Instruction { instruction } => instruction,
            LayerOrigin::BaseImage { from_instruction } => from_instruction,
        }
    }
}

/// The stages whose filesystems make up the image of `target`: the root of
/// its `FROM <stage>` chain first, `target` last. Empty when `target` is not
/// a stage; a cycle (which BuildKit rejects) ends the chain.
pub fn stage_chain(model: &DockerfileModel, target: usize) -> Vec<usize> {
    let mut chain = Vec::new();
    let mut current = Some(target);
    while let Some(index) = current {
        let Some(stage) = model.stages.get(index) else {
            break;
        };
        if chain.contains(&index) {
            break;
        }
        chain.push(index);
        current = match stage.base {
            StageBase::Stage { index } => Some(index),
            StageBase::Image { .. } => None,
        };
    }
    chain.reverse();
    chain
}

/// Pairs each layer of an image built from `dockerfile` for `target` with the
/// instruction that made it, given each layer's history `created_by`
/// (base-most first, as `layercake_image::LayerSummary` lists them).
///
/// The image's last layers are the chain's own: walking both lists from the
/// end, a layer whose `created_by` starts with the instruction's keyword is
/// that instruction's (a `WORKDIR` makes a layer only when it created the
/// directory, so an unmatched one is skipped). The first layer that pairs
/// with nothing, and every layer before it, came with the base image. An
/// image whose history doesn't fit (another builder, a squash) has all its
/// layers attributed to the base image's `FROM` line rather than guessed.
pub fn attribute_layers(
    dockerfile: &Dockerfile,
    model: &DockerfileModel,
    target: usize,
    created_by: &[Option<&str>],
) -> Vec<LayerOrigin> {
    let chain = stage_chain(model, target);
    let Some(root) = chain.first().and_then(|&i| model.stages.get(i)) else {
        return Vec::new();
    };
    let base = LayerOrigin::BaseImage {
        from_instruction: root.from_instruction,
    };
    let own: Vec<usize> = chain
        .iter()
        .filter_map(|&i| model.stages.get(i))
        .flat_map(|stage| stage.instructions.clone())
        .filter(|&i| {
            dockerfile
                .instructions
                .get(i)
                .is_some_and(|instruction| makes_layer(instruction.keyword))
        })
        .collect();

    let mut origins = vec![base; created_by.len()];
    let mut next_instruction = own.len();
    let mut layer = created_by.len();
    while layer > 0 && next_instruction > 0 {
        let instruction = own[next_instruction - 1];
        let Some(keyword) = dockerfile.instructions.get(instruction).map(|i| i.keyword) else {
            break;
        };
        let layer_keyword = created_by[layer - 1].and_then(history_keyword);
        if layer_keyword == Some(keyword) {
            origins[layer - 1] = LayerOrigin::Instruction { instruction };
            layer -= 1;
            next_instruction -= 1;
        } else if keyword == Keyword::Workdir {
            next_instruction -= 1;
        } else {
            break;
        }
    }
    if next_instruction > 0
        && own[..next_instruction].iter().any(|&i| {
            dockerfile
                .instructions
                .get(i)
                .is_some_and(|instruction| instruction.keyword != Keyword::Workdir)
        })
    {
        // Instructions left without layers: the history is not this
        // Dockerfile's (or not BuildKit's). Claim nothing.
        return vec![base; created_by.len()];
    }
    origins
}

/// The instruction keyword a history `created_by` starts with: BuildKit
/// writes `RUN /bin/sh -c …`, `COPY src dst # buildkit`, `WORKDIR /app`;
/// the classic builder `/bin/sh -c #(nop) COPY …` or `/bin/sh -c cmd`.
fn history_keyword(created_by: &str) -> Option<Keyword> {
    let text = created_by.trim();
    let text = text
        .strip_prefix("/bin/sh -c #(nop) ")
        .unwrap_or(text)
        .trim_start();
    if text.starts_with("/bin/sh -c ") || text.starts_with("|") {
        return Some(Keyword::Run);
    }
    let word = text.split_whitespace().next()?;
    match Keyword::from_word(word) {
        Keyword::Unknown => None,
        keyword => Some(keyword),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layercake_model::ModelOptions;

    fn attribute(source: &str, target: Option<&str>, created_by: &[&str]) -> Vec<String> {
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(
            &dockerfile,
            source,
            &ModelOptions {
                target: target.map(str::to_string),
                ..ModelOptions::default()
            },
        );
        let created: Vec<Option<&str>> = created_by
            .iter()
            .map(|c| if c.is_empty() { None } else { Some(*c) })
            .collect();
        let target = model.target.expect("a target");
        attribute_layers(&dockerfile, &model, target, &created)
            .into_iter()
            .map(|origin| {
                let instruction = &dockerfile.instructions[origin.instruction()];
                let text = instruction.range.slice(source).lines().next().unwrap_or("");
                match origin {
                    LayerOrigin::BaseImage { .. } => format!("base: {text}"),
                    LayerOrigin::Instruction { .. } => text.to_string(),
                }
            })
            .collect()
    }

    #[test]
    fn buildkit_history_pairs_from_the_end() {
        let source = "FROM golang:1.22 AS build\nRUN go build -o /app\n\
                      FROM debian:bookworm-slim\nWORKDIR /srv\nENV A=1\nCOPY --from=build /app /srv/app\nRUN echo hi > /x\nUSER 1000\n";
        let layers = attribute(
            source,
            None,
            &[
                "/bin/sh -c #(nop) ADD file:abc in / ",
                "",
                "WORKDIR /srv",
                "COPY /app /srv/app # buildkit",
                "RUN /bin/sh -c echo hi > /x # buildkit",
            ],
        );
        insta::assert_debug_snapshot!(layers, @r#"
        [
            "base: FROM debian:bookworm-slim",
            "base: FROM debian:bookworm-slim",
            "WORKDIR /srv",
            "COPY --from=build /app /srv/app",
            "RUN echo hi > /x",
        ]
        "#);
    }

    #[test]
    fn workdir_without_a_layer_is_skipped() {
        let source = "FROM busybox\nWORKDIR /\nCOPY a /a\n";
        let layers = attribute(source, None, &["Imported from -", "COPY a /a # buildkit"]);
        assert_eq!(layers, ["base: FROM busybox", "COPY a /a"]);
    }

    #[test]
    fn a_chain_of_stages_is_attributed_through_from_stage() {
        let source = "FROM busybox AS deps\nRUN echo deps\nFROM deps AS app\nCOPY . /app\nFROM busybox AS other\nRUN echo other\n";
        let layers = attribute(
            source,
            Some("app"),
            &[
                "",
                "RUN /bin/sh -c echo deps # buildkit",
                "COPY . /app # buildkit",
            ],
        );
        assert_eq!(
            layers,
            ["base: FROM busybox AS deps", "RUN echo deps", "COPY . /app"]
        );
    }

    #[test]
    fn build_args_in_run_history_still_pair() {
        let source = "FROM busybox\nARG TOKEN\nRUN echo $TOKEN\n";
        let layers = attribute(
            source,
            None,
            &["", "RUN |1 TOKEN=x /bin/sh -c echo $TOKEN # buildkit"],
        );
        assert_eq!(layers, ["base: FROM busybox", "RUN echo $TOKEN"]);
    }

    #[test]
    fn history_that_does_not_fit_claims_nothing() {
        let source = "FROM busybox\nRUN a\nCOPY b /b\n";
        // The last layer is a RUN, but the Dockerfile ends with a COPY.
        let layers = attribute(source, None, &["", "RUN /bin/sh -c a", "RUN /bin/sh -c b"]);
        assert_eq!(
            layers,
            [
                "base: FROM busybox",
                "base: FROM busybox",
                "base: FROM busybox"
            ]
        );
    }

    #[test]
    fn scratch_images_have_only_their_own_layers() {
        let source = "FROM scratch\nCOPY app /app\n";
        let layers = attribute(source, None, &["COPY app /app # buildkit"]);
        assert_eq!(layers, ["COPY app /app"]);
    }

    #[test]
    fn chains_stop_at_cycles_and_unknown_stages() {
        let source = "FROM busybox AS a\nFROM a AS b\n";
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(&dockerfile, source, &ModelOptions::default());
        assert_eq!(stage_chain(&model, 1), [0, 1]);
        assert_eq!(stage_chain(&model, 7), Vec::<usize>::new());
    }
}
