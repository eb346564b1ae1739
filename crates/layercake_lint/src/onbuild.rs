//! ONBUILD triggers, presented to the rules as the stage they become.
//!
//! `ONBUILD RUN apt-get install …` does nothing here: it runs in every build
//! `FROM` this image, right after that FROM, on this stage's final state.
//! So the triggers of one stage are linted as a stage of their own: a FROM
//! standing for the child's base (this stage's root image, for what it says
//! about the distribution) followed by the triggered instructions, whose
//! ranges stay on the ONBUILD lines. The stage starts with this stage's ENV,
//! USER, WORKDIR and SHELL, and no build arguments (an image carries none).
//!
//! Only rules that say so ([`Rule::applies_to_onbuild_triggers`]) see it:
//! what a rule concludes from stage order, the stage graph, the layers below,
//! the rest of the child's Dockerfile or the build context cannot hold for a
//! build nobody has written yet.
//!
//! [`Rule::applies_to_onbuild_triggers`]: crate::Rule::applies_to_onbuild_triggers

use crate::finding::{Edit, Finding};
use layercake_model::{DockerfileModel, ModelOptions, StageBase};
use layercake_syntax::{Args, Dockerfile, Instruction, Keyword, TextRange, Word};

/// The triggers of one stage, as the Dockerfile of the build they run in.
pub(crate) struct TriggerFile {
    /// A FROM, then the triggered instructions in file order.
    pub dockerfile: Dockerfile,
    /// Its model, starting from the registering stage's final state.
    pub model: DockerfileModel,
}

/// One [`TriggerFile`] per stage that registers ONBUILD triggers, in file order.
pub(crate) fn trigger_files(
    dockerfile: &Dockerfile,
    model: &DockerfileModel,
    source: &str,
) -> Vec<TriggerFile> {
    let mut files = Vec::new();
    for stage in &model.stages {
        let triggers: Vec<&Instruction> = stage
            .onbuild_triggers
            .iter()
            .filter_map(|&index| dockerfile.instructions.get(index))
            .filter_map(Instruction::onbuild_trigger)
            .collect();
        let Some(first) = triggers.first() else {
            continue;
        };
        let image = match model.root_stage(stage.index).map(|root| &root.base) {
            Some(StageBase::Image { reference, .. }) => reference.clone(),
            _ => String::new(),
        };
        let mut instructions = Vec::with_capacity(triggers.len() + 1);
        instructions.push(stand_in_from(image, TextRange::empty(first.range.start())));
        instructions.extend(triggers.into_iter().cloned());
        let trigger_dockerfile = Dockerfile {
            directives: dockerfile.directives.clone(),
            instructions,
            comments: Vec::new(),
            escape: dockerfile.escape,
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let trigger_model = DockerfileModel::new(
            &trigger_dockerfile,
            source,
            &ModelOptions {
                image_state: Some(stage.final_state.clone()),
                ..ModelOptions::default()
            },
        );
        files.push(TriggerFile {
            dockerfile: trigger_dockerfile,
            model: trigger_model,
        });
    }
    files
}

/// `FROM image`, written nowhere: an empty range where the triggers start.
fn stand_in_from(image: String, at: TextRange) -> Instruction {
    let word = |text: &str| Word {
        text: text.to_string(),
        range: at,
    };
    let image_word = word(&image);
    Instruction {
        keyword: Keyword::From,
        keyword_word: word("FROM"),
        range: at,
        flags: Vec::new(),
        args: Args::From {
            image: image_word.clone(),
            alias: None,
            words: vec![image_word.clone()],
        },
        heredocs: Vec::new(),
        args_text: image_word,
    }
}

impl TriggerFile {
    /// Drops `finding`'s fix unless every edit stays inside one triggered
    /// instruction and adds no line: an edit that inserts or moves whole
    /// instructions would write them without their `ONBUILD`, into this image.
    pub(crate) fn confine_fix(&self, finding: &mut Finding) {
        let triggers = self.dockerfile.instructions.get(1..).unwrap_or_default();
        let inside = |edit: &Edit| {
            !edit.replacement.contains('\n')
                && triggers.iter().any(|trigger| {
                    trigger.range.start() <= edit.range.start()
                        && edit.range.end() <= trigger.range.end()
                })
        };
        if finding
            .fix
            .as_ref()
            .is_some_and(|fix| !fix.edits.iter().all(inside))
        {
            finding.fix = None;
        }
    }
}
