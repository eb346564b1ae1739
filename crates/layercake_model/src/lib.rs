//! What a Dockerfile means: stages, their graph, the build target, and the
//! effective USER, WORKDIR, SHELL, ENV and ARG scope at every instruction.
//!
//! [`DockerfileModel::new`] computes everything once, from the syntax tree,
//! following BuildKit's semantics; rules then ask the model instead of reading
//! raw text. Nothing here does I/O or panics on any input.
#![deny(missing_docs)]

mod image_ref;
mod pairing;
mod stage_closure;

use imbl::OrdMap;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use layercake_syntax::{Args, Command, Dockerfile, Instruction, Keyword, TextRange, Word};
use serde::Serialize;

pub use image_ref::ImageRef;
pub use pairing::{DockerfilePairing, DockerfileVersion, PairKind, instruction_key};
pub use stage_closure::{Follow, StageClosure};

use layercake_syntax::shell::expand_word;
pub use layercake_syntax::shell::{ExpandedWord, ShellError};

/// The shell BuildKit uses for shell-form commands when no SHELL is given.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// The platform assumed when [`ModelOptions::platform`] is not given.
pub const DEFAULT_PLATFORM: &str = "linux/amd64";

/// Options that change what the Dockerfile means.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// The build target stage name (case-insensitive); `None` means the last stage.
    pub target: Option<String>,
    /// `--build-arg NAME=value`: overrides the default of a declared ARG.
    pub build_args: BTreeMap<String, String>,
    /// The build and target platform (`os/arch[/variant]`) behind BuildKit's
    /// automatic ARGs (`TARGETPLATFORM`, `BUILDARCH`, …); `None` means
    /// [`DEFAULT_PLATFORM`].
    pub platform: Option<String>,
    /// What a stage built FROM an image starts with, when that image's
    /// configuration is known: its ENV, USER, WORKDIR and SHELL (the `args`
    /// are ignored: an image carries no build arguments). `None`, the
    /// default, knows nothing of the image. The ONBUILD triggers of a stage
    /// run in a child build right after its FROM, on this stage's final state.
    pub image_state: Option<InstructionState>,
}

/// The model of one Dockerfile.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DockerfileModel {
    /// The stages, one per FROM, in file order.
    pub stages: Vec<Stage>,
    /// Every reference from a stage to another stage or an image, in file order.
    pub edges: Vec<StageEdge>,
    /// The global ARGs (declared before the first FROM) with their values after
    /// build-arg overrides; `None` when declared without a default and not given.
    pub global_args: OrdMap<String, Option<String>>,
    /// The state in effect at each instruction, indexed like
    /// `Dockerfile::instructions`.
    pub instructions: Vec<InstructionState>,
    /// The stage being built: the requested target, or the last stage.
    /// `None` only when there are no stages.
    pub target: Option<usize>,
    /// Why the requested target could not be used (then `target` is the last stage).
    pub target_error: Option<String>,
    /// The escape character used to expand words.
    pub escape: char,
    #[serde(skip)]
    platform: Platform,
    /// Indexes of `edges` held by each stage.
    #[serde(skip)]
    edges_by_stage: Vec<Vec<usize>>,
    /// Indexes of `edges` that name each stage, from other stages.
    #[serde(skip)]
    edges_to_stage: Vec<Vec<usize>>,
    /// Lower-cased stage name → the first stage with it.
    #[serde(skip)]
    stage_by_name: HashMap<String, usize>,
    /// For each stage, the stage at the root of its `FROM <stage>` chain.
    #[serde(skip)]
    root_of_stage: Vec<usize>,
}

/// One build stage: a FROM and the instructions up to the next FROM.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    /// Position among the stages (what `COPY --from=0` refers to).
    pub index: usize,
    /// The `AS name`, if any.
    pub name: Option<StageName>,
    /// Index of the FROM instruction.
    pub from_instruction: usize,
    /// Instruction indexes belonging to the stage, its FROM included.
    pub instructions: Range<usize>,
    /// What the stage starts from.
    pub base: StageBase,
    /// `FROM --platform=…`, expanded against the global ARGs.
    pub platform: Option<ExpandedValue>,
    /// ONBUILD instructions of this stage (indexes); they are recorded for
    /// images built FROM this one and do not change this stage's state.
    pub onbuild_triggers: Vec<usize>,
    /// The state after the stage's last instruction (what a `FROM <stage>` inherits).
    pub final_state: InstructionState,
    /// Whether the target is this stage or depends on it, transitively.
    pub reaches_target: bool,
}

impl Stage {
    /// Whether `name` (any case) names this stage.
    pub fn is_named(&self, name: &str) -> bool {
        self.name
            .as_ref()
            .is_some_and(|n| n.normalized == name.to_lowercase())
    }
}

/// The name of a stage: BuildKit compares stage names case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StageName {
    /// The name lower-cased, as BuildKit compares it.
    pub normalized: String,
    /// The name word as written.
    pub written: Word,
}

/// What a stage starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageBase {
    /// `FROM <earlier stage>`: the stage inherits that stage's filesystem and config.
    Stage {
        /// The earlier stage's index.
        index: usize,
    },
    /// `FROM <image>` (including `scratch`).
    Image {
        /// The reference after global-ARG expansion.
        reference: String,
        /// The image word as written.
        raw: Word,
        /// Names used in the reference that no global ARG sets.
        unresolved: Vec<String>,
        /// The reference split into parts; `None` when it is not a usable
        /// reference (empty after expansion, or the expansion failed).
        image: Option<ImageRef>,
        /// Why the expansion failed, if it did (`${V?msg}`, bad syntax).
        expansion_error: Option<String>,
    },
}

impl StageBase {
    /// Whether the stage starts from the empty image.
    pub fn is_scratch(&self) -> bool {
        matches!(self, StageBase::Image { reference, .. } if reference == "scratch")
    }

    /// The image reference, when the base is an image and the reference is usable.
    pub fn image(&self) -> Option<&ImageRef> {
        match self {
            StageBase::Image { image, .. } => image.as_ref(),
            StageBase::Stage { .. } => None,
        }
    }

    /// The parent stage, when the base is a stage.
    pub fn stage(&self) -> Option<usize> {
        match self {
            StageBase::Stage { index } => Some(*index),
            StageBase::Image { .. } => None,
        }
    }
}

/// A flag value or word after variable expansion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpandedValue {
    /// As written.
    pub written: String,
    /// After expansion (the written text when the expansion failed).
    pub value: String,
    /// Names referenced that are neither set nor declared.
    pub unresolved: Vec<String>,
    /// Where it is written (for a flag: the whole `--name=value` word).
    pub range: TextRange,
}

/// How a stage refers to another stage or to an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// `FROM <stage or image>`.
    Base,
    /// `COPY --from=<stage, index or image>`.
    CopyFrom,
    /// `RUN --mount=…,from=<stage or image>` (any mount type).
    MountFrom,
}

/// What a `FROM`, `COPY --from` or `--mount from=` names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum StageRef {
    /// An earlier stage, by name or index: what BuildKit allows.
    Stage(usize),
    /// This stage or a later one (by name, or by an index not below this
    /// stage's). A FROM never resolves to this; it reads such a name as an image.
    LaterStage(usize),
    /// No stage: BuildKit reads it as an image reference (this includes a
    /// misspelt stage name). The value is the expanded reference.
    Image(String),
    /// Nothing usable: empty, a value with variables or quotes (BuildKit does
    /// not expand `--from` and rejects it), or a stage index with no such stage.
    Invalid,
}

impl StageRef {
    /// The stage referred to, earlier or later.
    pub fn stage(&self) -> Option<usize> {
        match self {
            StageRef::Stage(i) | StageRef::LaterStage(i) => Some(*i),
            StageRef::Image(_) | StageRef::Invalid => None,
        }
    }
}

/// A reference from one stage to another stage or to an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StageEdge {
    /// The stage that holds the reference (the dependent).
    pub stage: usize,
    /// The instruction holding it.
    pub instruction: usize,
    /// Which kind of reference.
    pub kind: EdgeKind,
    /// What it names.
    pub target: StageRef,
    /// The name as written and expanded; the range is the FROM image word, the
    /// `--from` flag or the `--mount` flag.
    pub name: ExpandedValue,
}

/// The state in effect when an instruction runs (before its own effect).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstructionState {
    /// The stage the instruction belongs to; `None` before the first FROM.
    pub stage: Option<usize>,
    /// The effective USER, expanded; `None` when no USER was set in this stage
    /// or the stages it is built FROM (the base image's user is unknown).
    pub user: Option<String>,
    /// The working directory, absolute; `/` when never set.
    pub workdir: String,
    /// The shell for shell-form commands.
    pub shell: Vec<String>,
    /// ENV variables with expanded values, inherited through `FROM <stage>`.
    /// A persistent map: every instruction has its own state, and cloning one
    /// is O(1), so a file with many ENV lines stays linear.
    pub env: OrdMap<String, String>,
    /// ARGs in scope with their values; `None` when declared without a value.
    /// In a stage these are the ARGs declared in that stage and in the stages
    /// it is built FROM (a global ARG must be re-declared with `ARG NAME` to
    /// be visible); before the first FROM, the global ARGs declared so far.
    pub args: OrdMap<String, Option<String>>,
}

impl InstructionState {
    fn initial(stage: Option<usize>) -> Self {
        InstructionState {
            stage,
            user: None,
            workdir: "/".to_string(),
            shell: DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
            env: OrdMap::new(),
            args: OrdMap::new(),
        }
    }

    /// The value of a variable as BuildKit expands it in this stage: ENV wins over ARG.
    fn lookup(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| self.args.get(name).cloned().flatten())
    }
}

impl DockerfileModel {
    /// Builds the model from a parsed Dockerfile.
    pub fn new(dockerfile: &Dockerfile, source: &str, options: &ModelOptions) -> Self {
        // Everything needed is in the tree; the source is kept in the signature
        // for rules that will need exact text.
        let _ = source;
        Builder::new(dockerfile, options).build()
    }

    /// The target stage.
    pub fn target_stage(&self) -> Option<&Stage> {
        self.target.and_then(|i| self.stages.get(i))
    }

    /// Whether the stage is the target or the target depends on it (so what it
    /// does can end up in the built image, or at least costs build time).
    pub fn reaches_target(&self, stage: usize) -> bool {
        self.stages.get(stage).is_some_and(|s| s.reaches_target)
    }

    /// The stage an instruction belongs to; `None` before the first FROM.
    pub fn stage_of_instruction(&self, instruction: usize) -> Option<usize> {
        self.instructions.get(instruction).and_then(|s| s.stage)
    }

    /// The state in effect when the instruction runs.
    pub fn state_at(&self, instruction: usize) -> Option<&InstructionState> {
        self.instructions.get(instruction)
    }

    /// The first stage with this name (any case).
    pub fn stage_by_name(&self, name: &str) -> Option<&Stage> {
        let index = self.stage_by_name.get(&name.to_lowercase())?;
        self.stages.get(*index)
    }

    /// The stage at the root of `stage`'s `FROM <stage>` chain: the one built
    /// FROM an image (the stage itself when it is). Its `base` is the image
    /// the stage's filesystem starts from.
    pub fn root_stage(&self, stage: usize) -> Option<&Stage> {
        self.stages.get(*self.root_of_stage.get(stage)?)
    }

    /// The references held by a stage (its FROM, COPY --from, RUN --mount from=).
    pub fn edges_from(&self, stage: usize) -> impl Iterator<Item = &StageEdge> {
        self.edge_list(self.edges_by_stage.get(stage))
    }

    /// The references to a stage from other stages.
    pub fn edges_to(&self, stage: usize) -> impl Iterator<Item = &StageEdge> {
        self.edge_list(self.edges_to_stage.get(stage))
    }

    fn edge_list<'m>(
        &'m self,
        indexes: Option<&'m Vec<usize>>,
    ) -> impl Iterator<Item = &'m StageEdge> {
        indexes
            .into_iter()
            .flatten()
            .filter_map(|&i| self.edges.get(i))
    }

    /// Expands a word as BuildKit would at this instruction: with the global
    /// ARGs for a FROM (or before the first FROM), else with the stage's ENV
    /// and ARGs. `unmatched` holds the names neither set nor declared by an ARG
    /// in scope (what BuildKit reports as undefined). An index past the end
    /// expands with nothing in scope.
    pub fn expand_at(&self, instruction: usize, text: &str) -> Result<ExpandedWord, ShellError> {
        let Some(state) = self.instructions.get(instruction) else {
            return expand_word(text, self.escape, &|_| None);
        };
        let from_instruction = state
            .stage
            .and_then(|s| self.stages.get(s))
            .is_some_and(|s| s.from_instruction == instruction);
        if state.stage.is_none() || from_instruction {
            let args = if from_instruction {
                &self.global_args
            } else {
                &state.args
            };
            global_expand(text, self.escape, args, &self.platform)
        } else {
            stage_expand(text, self.escape, state)
        }
    }
}

/// Longest expanded value the model stores (longer ones are kept as written).
const MAX_EXPANDED_VALUE: usize = 4096;

/// Total bytes of expanded values one model may store.
const EXPANSION_BUDGET: usize = 16 << 20;

/// BuildKit's automatic platform ARGs, all derived from one platform.
#[derive(Clone, Debug)]
struct Platform {
    os: String,
    arch: String,
    variant: String,
}

impl Default for Platform {
    fn default() -> Self {
        Platform::parse(DEFAULT_PLATFORM)
    }
}

impl Platform {
    fn parse(text: &str) -> Platform {
        let mut parts = text.split('/');
        Platform {
            os: parts.next().unwrap_or("linux").to_string(),
            arch: parts.next().unwrap_or("amd64").to_string(),
            variant: parts.next().unwrap_or("").to_string(),
        }
    }

    fn arg(&self, name: &str) -> Option<String> {
        let platform = || {
            let mut p = format!("{}/{}", self.os, self.arch);
            if !self.variant.is_empty() {
                p.push('/');
                p.push_str(&self.variant);
            }
            p
        };
        match name {
            "BUILDPLATFORM" | "TARGETPLATFORM" => Some(platform()),
            "BUILDOS" | "TARGETOS" => Some(self.os.clone()),
            "BUILDARCH" | "TARGETARCH" => Some(self.arch.clone()),
            "BUILDVARIANT" | "TARGETVARIANT" => Some(self.variant.clone()),
            _ => None,
        }
    }
}

/// Expansion in the global scope (before the first FROM, and FROM itself):
/// a global ARG declared without a value expands to the empty string, as in
/// BuildKit, and the automatic platform ARGs are set.
fn global_expand(
    text: &str,
    escape: char,
    args: &OrdMap<String, Option<String>>,
    platform: &Platform,
) -> Result<ExpandedWord, ShellError> {
    let lookup = |name: &str| match args.get(name) {
        Some(value) => Some(value.clone().unwrap_or_default()),
        None => platform.arg(name),
    };
    expand_word(text, escape, &lookup)
}

fn stage_expand(
    text: &str,
    escape: char,
    state: &InstructionState,
) -> Result<ExpandedWord, ShellError> {
    let mut expanded = expand_word(text, escape, &|name| state.lookup(name))?;
    expanded
        .unmatched
        .retain(|name| !state.args.contains_key(name));
    Ok(expanded)
}

/// Expansion where a failure leaves the text as written: the state must be
/// computed whatever the input; rules report the failure via `expand_at`.
fn expand_or_keep(result: Result<ExpandedWord, ShellError>, text: &str) -> (ExpandedWord, bool) {
    match result {
        Ok(expanded) => (expanded, true),
        Err(_) => (
            ExpandedWord {
                value: text.to_string(),
                unmatched: Vec::new(),
            },
            false,
        ),
    }
}

/// `path` resolved against the absolute directory `base` (an absolute `path`
/// stands alone) and cleaned like Go's `path.Clean`, as BuildKit resolves
/// `WORKDIR` and container paths: always absolute, no `.`, `..`, repeated or
/// trailing `/`. An empty `path` is `base`.
pub fn resolve_path(base: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

struct Builder<'a> {
    dockerfile: &'a Dockerfile,
    options: &'a ModelOptions,
    model: DockerfileModel,
    /// Lower-cased names of all stages (a COPY --from may name a later one).
    stage_names: Vec<Option<String>>,
    /// Lower-cased name → first stage with it, over all stages.
    first_stage_named: HashMap<String, usize>,
    /// Bytes of expanded values the model may still store (see `bounded`).
    expansion_budget: Cell<usize>,
}

impl<'a> Builder<'a> {
    fn new(dockerfile: &'a Dockerfile, options: &'a ModelOptions) -> Self {
        let platform = options
            .platform
            .as_deref()
            .map(Platform::parse)
            .unwrap_or_default();
        let stage_names: Vec<Option<String>> = dockerfile
            .instructions
            .iter()
            .filter_map(|i| match (&i.keyword, &i.args) {
                (Keyword::From, Args::From { alias, .. }) => {
                    Some(alias.as_ref().map(|a| a.text.to_lowercase()))
                }
                (Keyword::From, _) => Some(None),
                _ => None,
            })
            .collect();
        let mut first_stage_named = HashMap::new();
        for (index, name) in stage_names.iter().enumerate() {
            if let Some(name) = name {
                first_stage_named.entry(name.clone()).or_insert(index);
            }
        }
        Builder {
            first_stage_named,
            expansion_budget: Cell::new(EXPANSION_BUDGET),
            dockerfile,
            options,
            model: DockerfileModel {
                escape: dockerfile.escape,
                platform,
                ..DockerfileModel::default()
            },
            stage_names,
        }
    }

    fn build(mut self) -> DockerfileModel {
        let instructions = &self.dockerfile.instructions;
        let from_indexes: Vec<usize> = instructions
            .iter()
            .enumerate()
            .filter(|(_, i)| i.keyword == Keyword::From)
            .map(|(index, _)| index)
            .collect();
        let first_from = from_indexes.first().copied().unwrap_or(instructions.len());

        for instruction in &instructions[..first_from] {
            self.model.instructions.push(InstructionState {
                args: self.model.global_args.clone(),
                ..InstructionState::initial(None)
            });
            if instruction.keyword == Keyword::Arg {
                self.declare_global_args(instruction);
            }
        }

        for (stage_index, &from) in from_indexes.iter().enumerate() {
            let end = from_indexes
                .get(stage_index + 1)
                .copied()
                .unwrap_or(instructions.len());
            self.add_stage(stage_index, from..end);
        }

        self.index_edges();
        self.choose_target();
        self.mark_reachable();
        self.model
    }

    fn declare_global_args(&mut self, instruction: &Instruction) {
        let Args::KeyValues(pairs) = &instruction.args else {
            return;
        };
        for pair in pairs {
            let key = pair.key.text.clone();
            let value = if let Some(given) = self.options.build_args.get(&key) {
                Some(given.clone())
            } else {
                pair.value.as_ref().map(|v| {
                    let result = global_expand(
                        &v.text,
                        self.model.escape,
                        &self.model.global_args,
                        &self.model.platform,
                    );
                    expand_or_keep(result, &v.text).0.value
                })
            };
            self.model.global_args.insert(key, value);
        }
    }

    fn add_stage(&mut self, index: usize, range: Range<usize>) {
        let instructions = &self.dockerfile.instructions;
        let from = &instructions[range.start];
        let escape = self.model.escape;

        let (image_word, alias) = match &from.args {
            Args::From { image, alias, .. } => (image.clone(), alias.clone()),
            // A FROM without arguments: BuildKit rejects it; model an empty base.
            _ => (
                Word {
                    text: String::new(),
                    range: from.args_text.range,
                },
                None,
            ),
        };
        let base_name = self.global_value(&image_word.text, image_word.range);
        let earlier = self
            .first_stage_named
            .get(&base_name.value.to_lowercase())
            .copied()
            .filter(|&i| i < index);
        let base = match earlier {
            Some(parent) => StageBase::Stage { index: parent },
            None => {
                let error = global_expand(
                    &image_word.text,
                    escape,
                    &self.model.global_args,
                    &self.model.platform,
                )
                .err()
                .map(|e| e.message);
                StageBase::Image {
                    reference: base_name.value.clone(),
                    raw: image_word.clone(),
                    unresolved: base_name.unresolved.clone(),
                    image: if error.is_some() {
                        None
                    } else {
                        ImageRef::parse(&base_name.value)
                    },
                    expansion_error: error,
                }
            }
        };
        let base_target = match &base {
            StageBase::Stage { index } => StageRef::Stage(*index),
            StageBase::Image {
                image: Some(_),
                reference,
                ..
            } => StageRef::Image(reference.clone()),
            StageBase::Image { .. } => StageRef::Invalid,
        };
        self.model.edges.push(StageEdge {
            stage: index,
            instruction: range.start,
            kind: EdgeKind::Base,
            target: base_target,
            name: base_name,
        });
        let platform = from
            .flag("platform")
            .map(|f| self.global_value(f.value.as_deref().unwrap_or(""), f.range));

        let mut state = match base.stage().and_then(|p| self.model.stages.get(p)) {
            // BuildKit's `dispatchState.init` carries the parent stage's
            // build args (and ENV, USER, WORKDIR) into a stage built FROM it.
            Some(parent) => InstructionState {
                stage: Some(index),
                ..parent.final_state.clone()
            },
            None => match &self.options.image_state {
                Some(image) => InstructionState {
                    stage: Some(index),
                    args: OrdMap::new(),
                    ..image.clone()
                },
                None => InstructionState::initial(Some(index)),
            },
        };
        let mut onbuild_triggers = Vec::new();
        for position in range.clone() {
            self.model.instructions.push(state.clone());
            if position == range.start {
                continue;
            }
            let instruction = &instructions[position];
            match instruction.keyword {
                Keyword::Onbuild => onbuild_triggers.push(position),
                Keyword::Copy => {
                    if let Some(flag) = instruction.flag("from") {
                        let written = flag.value.clone().unwrap_or_default();
                        self.add_edge(
                            index,
                            position,
                            EdgeKind::CopyFrom,
                            &state,
                            &written,
                            flag.range,
                        );
                    }
                }
                Keyword::Run => {
                    for mount in instruction.mounts() {
                        if let Some(written) = &mount.from {
                            self.add_edge(
                                index,
                                position,
                                EdgeKind::MountFrom,
                                &state,
                                written,
                                mount.range,
                            );
                        }
                    }
                }
                _ => {}
            }
            state = self.apply(state, instruction);
        }

        self.model.stages.push(Stage {
            index,
            name: alias.map(|word| StageName {
                normalized: word.text.to_lowercase(),
                written: word,
            }),
            from_instruction: range.start,
            instructions: range,
            base,
            platform,
            onbuild_triggers,
            final_state: state,
            reaches_target: false,
        });
    }

    /// Expands a FROM word in the global scope.
    fn global_value(&self, written: &str, range: TextRange) -> ExpandedValue {
        let result = global_expand(
            written,
            self.model.escape,
            &self.model.global_args,
            &self.model.platform,
        );
        let (expanded, _) = expand_or_keep(result, written);
        ExpandedValue {
            written: written.to_string(),
            value: expanded.value,
            unresolved: expanded.unmatched,
            range,
        }
    }

    fn add_edge(
        &mut self,
        stage: usize,
        instruction: usize,
        kind: EdgeKind,
        state: &InstructionState,
        written: &str,
        range: TextRange,
    ) {
        let (expanded, ok) =
            expand_or_keep(stage_expand(written, self.model.escape, state), written);
        // BuildKit does not expand `--from` or a mount's `from=`: a value that
        // shell processing would change is an error ("variable expansion is
        // not supported for --from"), whatever the variables hold.
        let processed = expand_word(written, self.model.escape, &|_| None);
        let expands = processed.map_or(true, |p| p.value != written);
        let target = if ok && !expands {
            self.resolve_reference(stage, &expanded.value)
        } else {
            StageRef::Invalid
        };
        self.model.edges.push(StageEdge {
            stage,
            instruction,
            kind,
            target,
            name: ExpandedValue {
                written: written.to_string(),
                value: expanded.value,
                unresolved: expanded.unmatched,
                range,
            },
        });
    }

    /// BuildKit's lookup for `--from`: a stage name first, then a stage index,
    /// else an image.
    fn resolve_reference(&self, current: usize, name: &str) -> StageRef {
        if name.is_empty() {
            return StageRef::Invalid;
        }
        if let Some(&found) = self.first_stage_named.get(&name.to_lowercase()) {
            return if found < current {
                StageRef::Stage(found)
            } else {
                StageRef::LaterStage(found)
            };
        }
        if name.bytes().all(|b| b.is_ascii_digit()) {
            return match name.parse::<usize>() {
                Ok(i) if i < current => StageRef::Stage(i),
                Ok(i) if i < self.stage_names.len() => StageRef::LaterStage(i),
                _ => StageRef::Invalid,
            };
        }
        StageRef::Image(name.to_string())
    }

    /// The effect of one instruction on the state.
    fn apply(&self, mut state: InstructionState, instruction: &Instruction) -> InstructionState {
        let escape = self.model.escape;
        let expand = |state: &InstructionState, text: &str| {
            let value = expand_or_keep(stage_expand(text, escape, state), text)
                .0
                .value;
            self.bounded(value, text)
        };
        match (&instruction.keyword, &instruction.args) {
            (Keyword::Arg, Args::KeyValues(pairs)) => {
                // Each ARG sees the ones declared before it, even in the same instruction.
                for pair in pairs {
                    let key = pair.key.text.clone();
                    let value = if let Some(given) = self.options.build_args.get(&key) {
                        Some(given.clone())
                    } else if let Some(default) = &pair.value {
                        Some(expand(&state, &default.text))
                    } else {
                        self.model
                            .global_args
                            .get(&key)
                            .cloned()
                            .unwrap_or_else(|| self.model.platform.arg(&key))
                    };
                    state.args.insert(key, value);
                }
            }
            (Keyword::Env, Args::KeyValues(pairs)) => {
                // All values of one ENV see the state before it (BuildKit expands
                // the whole instruction first).
                let values: Vec<(String, String)> = pairs
                    .iter()
                    .map(|p| {
                        let value = p
                            .value
                            .as_ref()
                            .map(|v| expand(&state, &v.text))
                            .unwrap_or_default();
                        (p.key.text.clone(), value)
                    })
                    .collect();
                state.env.extend(values);
            }
            (Keyword::User, Args::Text(word)) => state.user = Some(expand(&state, &word.text)),
            (Keyword::Workdir, Args::Text(word)) => {
                let path = expand(&state, &word.text);
                state.workdir = resolve_path(&state.workdir, &path);
            }
            (Keyword::Shell, Args::Command(Command::Exec { args })) => {
                state.shell = args.iter().map(|a| a.text.clone()).collect();
            }
            _ => {}
        }
        state
    }

    /// Keeps what the model stores linear in the input: an expanded value
    /// longer than `MAX_EXPANDED_VALUE`, or one past the overall budget, is
    /// stored as written instead (`ENV PATH=/x:$PATH` repeated 100,000 times
    /// would otherwise hold gigabytes of ever-longer copies).
    fn bounded(&self, value: String, written: &str) -> String {
        let left = self.expansion_budget.get();
        if value.len() > MAX_EXPANDED_VALUE || value.len() > left {
            return written.to_string();
        }
        self.expansion_budget.set(left - value.len());
        value
    }

    fn choose_target(&mut self) {
        let stages = &self.model.stages;
        let last = stages.len().checked_sub(1);
        let (target, error) = match &self.options.target {
            None => (last, None),
            Some(name) => match self.first_stage_named.get(&name.to_lowercase()) {
                Some(&index) => (Some(index), None),
                None => (
                    last,
                    Some(format!("target stage {name:?} could not be found")),
                ),
            },
        };
        self.model.target = target;
        self.model.target_error = error;
    }

    fn index_edges(&mut self) {
        let count = self.model.stages.len();
        let mut by_stage = vec![Vec::new(); count];
        let mut to_stage = vec![Vec::new(); count];
        for (i, edge) in self.model.edges.iter().enumerate() {
            if let Some(list) = by_stage.get_mut(edge.stage) {
                list.push(i);
            }
            if let Some(target) = edge.target.stage().filter(|&t| t != edge.stage)
                && let Some(list) = to_stage.get_mut(target)
            {
                list.push(i);
            }
        }
        self.model.edges_by_stage = by_stage;
        // A stage's parent is always an earlier stage, so one pass suffices.
        let mut roots: Vec<usize> = Vec::with_capacity(count);
        for stage in &self.model.stages {
            let root = match stage.base.stage() {
                Some(parent) => roots.get(parent).copied().unwrap_or(stage.index),
                None => stage.index,
            };
            roots.push(root);
        }
        self.model.root_of_stage = roots;
        self.model.edges_to_stage = to_stage;
        self.model.stage_by_name = self
            .first_stage_named
            .iter()
            .filter(|&(_, &i)| i < count)
            .map(|(name, &i)| (name.clone(), i))
            .collect();
    }

    fn mark_reachable(&mut self) {
        let reached = self.model.stage_closure(self.model.target, Follow::All);
        for stage in &mut self.model.stages {
            stage.reaches_target = reached.contains(stage.index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_workdir() {
        assert_eq!(resolve_path("/", "app"), "/app");
        assert_eq!(resolve_path("/app", "src/../lib/"), "/app/lib");
        assert_eq!(resolve_path("/app", "/srv//x/."), "/srv/x");
        assert_eq!(resolve_path("/app", ".."), "/");
    }

    #[test]
    fn expands_like_buildkit() {
        let vars = |name: &str| match name {
            "V" => Some("22".to_string()),
            "EMPTY" => Some(String::new()),
            "P" => Some("/usr/local/bin".to_string()),
            _ => None,
        };
        let value = |text: &str| expand_word(text, '\\', &vars).map(|e| e.value);
        assert_eq!(value("node:${V}-slim").as_deref(), Ok("node:22-slim"));
        assert_eq!(value("${EMPTY:-d} ${EMPTY-d}").as_deref(), Ok("d "));
        assert_eq!(value("${V:+x}${NONE:+y}").as_deref(), Ok("x"));
        assert_eq!(value("'$V' \"$V\" \\$V").as_deref(), Ok("$V 22 $V"));
        assert_eq!(
            value("${P#*/} ${P##*/} ${P%/*} ${P/local/opt}").as_deref(),
            Ok("usr/local/bin bin /usr/local /usr/opt/bin")
        );
        assert!(value("${NONE?required}").is_err());
        let unmatched = expand_word("$A ${B:-x} $V", '\\', &vars).map(|e| e.unmatched);
        assert_eq!(unmatched, Ok(vec!["A".to_string(), "B".to_string()]));
    }
}
