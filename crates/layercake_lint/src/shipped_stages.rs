//! The stages whose layers ship: the build target and the stages it is
//! built `FROM`, transitively.
//!
//! `Stage::reaches_target` also counts stages the target only copies from
//! (`COPY --from`, `RUN --mount=from=`); their layers stay behind and only the
//! copied files ship. Size rules judge layers, so they ask this module instead:
//! a cache left in a builder stage costs nothing in the shipped image, one left
//! in the target's base stage ships with it.

use layercake_model::{DockerfileModel, Follow, StageClosure};

/// The target stage and its `FROM <stage>` ancestors, target first.
///
/// Empty when there is no stage.
pub fn shipped_stage_chain(model: &DockerfileModel) -> Vec<usize> {
    shipped_stages(model).into_order()
}

/// The stages whose layers end up in the built image.
pub fn shipped_stages(model: &DockerfileModel) -> StageClosure {
    model.stage_closure(model.target, Follow::Base)
}

/// The stages whose filesystem the instruction at `index` builds on, the
/// instruction's own stage first: its stage and that stage's `FROM`
/// ancestors. Files written by earlier instructions of these stages are in
/// the layers below it.
pub fn lineage_of_instruction(model: &DockerfileModel, index: usize) -> Vec<usize> {
    model
        .stage_closure(model.stage_of_instruction(index), Follow::Base)
        .into_order()
}

/// The instructions (indexes) of the shipped stages, in file order.
pub fn shipped_instructions(model: &DockerfileModel) -> Vec<usize> {
    let shipped = shipped_stages(model);
    model
        .stages
        .iter()
        .filter(|s| shipped.contains(s.index))
        .flat_map(|s| s.instructions.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use layercake_model::ModelOptions;

    fn model(source: &str, target: Option<&str>) -> DockerfileModel {
        let dockerfile = layercake_syntax::parse(source);
        DockerfileModel::new(
            &dockerfile,
            source,
            &ModelOptions {
                target: target.map(str::to_string),
                ..ModelOptions::default()
            },
        )
    }

    const MULTI: &str = "FROM node:22 AS build\nRUN npm ci\n\
        FROM node:22-slim AS base\nRUN true\n\
        FROM base AS runtime\nCOPY --from=build /app /app\n\
        FROM base AS test\nRUN npm test\n\
        FROM runtime\nUSER node\n";

    #[test]
    fn target_and_from_ancestors_ship_copied_stages_do_not() {
        let m = model(MULTI, None);
        assert_eq!(shipped_stage_chain(&m), [4, 2, 1]);
        let shipped: Vec<bool> = (0..5).map(|i| shipped_stages(&m).contains(i)).collect();
        assert_eq!(shipped, [false, true, true, false, true]);
        // The builder reaches the target (it is copied from) but does not ship.
        assert!(m.stages[0].reaches_target);
    }

    #[test]
    fn follows_the_requested_target() {
        let m = model(MULTI, Some("test"));
        assert_eq!(shipped_stage_chain(&m), [3, 1]);
        assert_eq!(shipped_instructions(&m), [2, 3, 6, 7]);
    }

    #[test]
    fn lineage_is_the_instructions_stage_and_its_bases() {
        let m = model(MULTI, None);
        assert_eq!(lineage_of_instruction(&m, 9), [4, 2, 1]);
        assert_eq!(lineage_of_instruction(&m, 1), [0]);
        assert!(lineage_of_instruction(&model("ARG X\n", None), 0).is_empty());
    }
}
