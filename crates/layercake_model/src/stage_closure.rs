//! Which stages some stages depend on: the one walk of the stage graph that
//! the target's reach, the shipped stages and the unused stages all ask.

use std::collections::HashSet;

use crate::{DockerfileModel, EdgeKind};

/// The references a [`DockerfileModel::stage_closure`] follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// `FROM <stage>` only: the stages whose layers lie under a stage's own
    /// (and ship with it when it is the target).
    Base,
    /// Every reference (`FROM <stage>`, `COPY --from`, `RUN --mount from=`):
    /// the stages BuildKit builds to build a stage.
    All,
}

/// The stages reached by a [`DockerfileModel::stage_closure`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageClosure {
    order: Vec<usize>,
    reached: HashSet<usize>,
}

impl StageClosure {
    /// Whether `stage` was reached.
    pub fn contains(&self, stage: usize) -> bool {
        self.reached.contains(&stage)
    }

    /// The stages reached, each once, in the order the walk reached them.
    /// From one stage following [`Follow::Base`], that is the stage and its
    /// `FROM <stage>` ancestors, nearest first.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// [`StageClosure::order`], owned.
    pub fn into_order(self) -> Vec<usize> {
        self.order
    }
}

impl DockerfileModel {
    /// The stages of `roots` and those they depend on through the references
    /// `follow` names, transitively. Indexes with no stage are skipped. The
    /// work is proportional to what is reached, not to the whole file, so
    /// rules may ask it once per instruction.
    pub fn stage_closure(
        &self,
        roots: impl IntoIterator<Item = usize>,
        follow: Follow,
    ) -> StageClosure {
        let mut closure = StageClosure::default();
        let mut pending: Vec<usize> = roots.into_iter().collect();
        pending.reverse();
        while let Some(stage) = pending.pop() {
            if stage >= self.stages.len() || !closure.reached.insert(stage) {
                continue;
            }
            closure.order.push(stage);
            let next = self
                .edges_from(stage)
                .filter(|edge| follow == Follow::All || edge.kind == EdgeKind::Base)
                .filter_map(|edge| edge.target.stage());
            pending.extend(next);
        }
        closure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelOptions;

    fn model(source: &str) -> DockerfileModel {
        let dockerfile = layercake_syntax::parse(source);
        DockerfileModel::new(&dockerfile, source, &ModelOptions::default())
    }

    // 0 ← 1 (FROM), 2 copies from 0 and mounts 1, 3 is built FROM 2.
    const GRAPH: &str = "FROM alpine AS a\n\
        FROM a AS b\n\
        FROM alpine AS c\nCOPY --from=a /x /x\nRUN --mount=from=b,target=/b true\n\
        FROM c\n";

    #[test]
    fn base_follows_only_from_nearest_first() {
        let m = model(GRAPH);
        assert_eq!(m.stage_closure([1], Follow::Base).order(), [1, 0]);
        assert_eq!(m.stage_closure([3], Follow::Base).order(), [3, 2]);
    }

    #[test]
    fn all_follows_copies_and_mounts() {
        let m = model(GRAPH);
        let closure = m.stage_closure([3], Follow::All);
        let mut reached = closure.order().to_vec();
        reached.sort_unstable();
        assert_eq!(reached, [0, 1, 2, 3]);
        assert!(closure.contains(0) && !m.stage_closure([2], Follow::Base).contains(0));
    }

    #[test]
    fn missing_stages_and_cycles_end_the_walk() {
        let m =
            model("FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n");
        let closure = m.stage_closure([0, 0, 99], Follow::All);
        assert_eq!(closure.order(), [0, 1]);
        assert!(!closure.contains(99));
        assert!(m.stage_closure(None, Follow::All).order().is_empty());
    }
}
