//! Tying BuildKit's progress steps (`[build 2/4] RUN …`) to instructions.

use crate::makes_layer;
use layercake_model::{DockerfileModel, StageBase};
use layercake_syntax::Dockerfile;
use std::collections::HashMap;

/// Which instruction each BuildKit step of a Dockerfile runs.
///
/// BuildKit names a step `[<stage> <i>/<n>] …`: `<stage>` is the stage's
/// name, or `stage-<index>` when it has none, and is left out (`[<i>/<n>]`)
/// when the Dockerfile has a single stage; the steps counted are the
/// `FROM` of an image (not of `scratch` or another stage) and every `RUN`,
/// `COPY`, `ADD` and `WORKDIR` (BuildKit's `dispatchState.cmdTotal`).
#[derive(Clone, Debug, Default)]
pub struct StepMap {
    /// (lower-cased stage label, position) → instruction index.
    steps: HashMap<(String, usize), usize>,
}

impl StepMap {
    /// The map for a parsed Dockerfile and its model.
    pub fn new(dockerfile: &Dockerfile, model: &DockerfileModel) -> StepMap {
        let mut steps = HashMap::new();
        let single = model.stages.len() == 1;
        for stage in &model.stages {
            let label = match &stage.name {
                _ if single => String::new(),
                Some(name) => name.normalized.clone(),
                None => format!("stage-{}", stage.index),
            };
            let mut position = 0;
            let counts_from =
                matches!(stage.base, StageBase::Image { .. }) && !stage.base.is_scratch();
            if counts_from {
                position += 1;
                steps.insert((label.clone(), position), stage.from_instruction);
            }
            for index in stage.instructions.clone() {
                if index == stage.from_instruction {
                    continue;
                }
                let Some(instruction) = dockerfile.instructions.get(index) else {
                    continue;
                };
                if makes_layer(instruction.keyword) {
                    position += 1;
                    steps.insert((label.clone(), position), index);
                }
            }
        }
        StepMap { steps }
    }

    /// The instruction of the step BuildKit labelled `[<stage> <position>/…]`
    /// (`stage` is `""` for `[<position>/…]`).
    pub fn instruction(&self, stage: &str, position: usize) -> Option<usize> {
        self.steps.get(&(stage.to_lowercase(), position)).copied()
    }

    /// The instruction of the step BuildKit named `name` and labelled `[<stage>
    /// <position>/…]`, if it runs that instruction's keyword: a step BuildKit
    /// shares with another build running at the same time may carry that build's
    /// name and position.
    pub fn instruction_of_step(
        &self,
        dockerfile: &Dockerfile,
        stage: &str,
        position: usize,
        name: &str,
    ) -> Option<usize> {
        self.instruction(stage, position).filter(|&i| {
            dockerfile.instructions.get(i).is_some_and(|found| {
                name.split_whitespace()
                    .next()
                    .is_some_and(|word| word.eq_ignore_ascii_case(found.keyword.as_str()))
            })
        })
    }

    /// The step label and position of an instruction, if BuildKit runs it as a step.
    pub fn step_of(&self, instruction: usize) -> Option<(&str, usize)> {
        self.steps
            .iter()
            .find(|&(_, &i)| i == instruction)
            .map(|((label, position), _)| (label.as_str(), *position))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layercake_model::ModelOptions;

    #[test]
    fn positions_follow_buildkit_numbering() {
        // The numbering BuildKit 0.8 (Engine 20.10) printed for this file:
        // [stage-0 1/2] FROM, [stage-0 2/2] RUN, [two 2/4] WORKDIR,
        // [two 3/4] COPY, [two 4/4] RUN.
        let source = "FROM busybox\nARG V=1\nRUN echo $V > /v\nFROM busybox AS Two\nENV A=b\nARG X\nWORKDIR /w\nCOPY --from=0 /v /v\nRUN echo two\nFROM two\nRUN echo three\nFROM scratch\nCOPY --from=two /v /v\n";
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(&dockerfile, source, &ModelOptions::default());
        let map = StepMap::new(&dockerfile, &model);
        let line = |stage: &str, position: usize| {
            map.instruction(stage, position)
                .map(|i| dockerfile.instructions[i].range.slice(source).to_string())
        };
        assert_eq!(line("stage-0", 1).as_deref(), Some("FROM busybox"));
        assert_eq!(line("stage-0", 2).as_deref(), Some("RUN echo $V > /v"));
        assert_eq!(line("two", 1).as_deref(), Some("FROM busybox AS Two"));
        assert_eq!(line("two", 2).as_deref(), Some("WORKDIR /w"));
        assert_eq!(line("TWO", 3).as_deref(), Some("COPY --from=0 /v /v"));
        assert_eq!(line("two", 4).as_deref(), Some("RUN echo two"));
        assert_eq!(line("two", 5), None);
        // FROM <stage> and FROM scratch are not steps.
        assert_eq!(line("stage-2", 1).as_deref(), Some("RUN echo three"));
        assert_eq!(line("stage-3", 1).as_deref(), Some("COPY --from=two /v /v"));
        assert_eq!(map.step_of(2), Some(("stage-0", 2)));
    }

    #[test]
    fn a_single_stage_has_no_label() {
        // BuildKit prints `[1/3] FROM …` when there is one stage, named or not.
        let source = "FROM busybox AS only\nWORKDIR /app\nRUN true\n";
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(&dockerfile, source, &ModelOptions::default());
        let map = StepMap::new(&dockerfile, &model);
        assert_eq!(map.instruction("", 3), Some(2));
        assert_eq!(map.instruction("only", 3), None);
    }

    #[test]
    fn a_step_is_its_instruction_only_if_it_runs_its_keyword() {
        let source = "FROM busybox\nWORKDIR /app\nRUN npm ci\n";
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(&dockerfile, source, &ModelOptions::default());
        let map = StepMap::new(&dockerfile, &model);
        assert_eq!(
            map.instruction_of_step(&dockerfile, "", 3, "RUN npm ci"),
            Some(2)
        );
        assert_eq!(
            map.instruction_of_step(&dockerfile, "", 3, "run npm ci"),
            Some(2)
        );
        // Another build's step that BuildKit ran for both.
        assert_eq!(
            map.instruction_of_step(&dockerfile, "", 3, "COPY . ."),
            None
        );
        assert_eq!(
            map.instruction_of_step(&dockerfile, "", 4, "RUN npm ci"),
            None
        );
    }
}
