//! Which parts of two versions of a Dockerfile are the same thing: stages
//! paired with stages, instructions with instructions.
//!
//! A review compares the base and head of a pull request through this
//! pairing, never by line number or raw text: a base-image bump edits a
//! `FROM` (one instruction, before and after), a stage gains a name or is
//! renamed, a `RUN` is reformatted over several lines, an instruction moves.
//! None of these is a removal plus an addition.
//!
//! How it pairs, in order (each step only looks at what is still unpaired):
//! 1. Stages by name (BuildKit compares names case-insensitively), then the
//!    rest by resemblance: the instructions they share, the image they start
//!    from, whether each is its file's target, and their position. A renamed
//!    or newly named stage pairs with its old self.
//! 2. Within each pair of stages, the `FROM`s pair, and the other
//!    instructions by a diff of their normalised form ([`instruction_key`]):
//!    whitespace, line continuations, comments inside continuations and the
//!    order of flags do not matter, and a stage is referred to by its pairing,
//!    not its name (`COPY --from=build` and `COPY --from=builder` are the same
//!    instruction once `build` was renamed `builder`).
//! 3. Instructions equal in normalised form anywhere in the file: an
//!    instruction moved to another stage (a stage split in two).
//! 4. Within each pair of stages, an edited instruction with the one it
//!    replaced: same keyword, most of their words shared, in file order.
//!
//! Pure: no I/O; cost near-linear in the file for the usual small diffs, and
//! bounded for pathological ones.

use crate::{DockerfileModel, StageBase};
use layercake_syntax::{Args, Command, Dockerfile, Instruction, Keyword};
use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::collections::HashMap;

/// One version of a Dockerfile: its syntax tree and its model.
#[derive(Clone, Copy, Debug)]
pub struct DockerfileVersion<'a> {
    /// The syntax tree.
    pub dockerfile: &'a Dockerfile,
    /// The model built from it (with the build's target and arguments).
    pub model: &'a DockerfileModel,
}

/// How two paired instructions relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairKind {
    /// The same instruction: equal normalised forms.
    Same,
    /// One instruction edited into the other.
    Edited,
}

/// The pairing of a base and a head version of one Dockerfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DockerfilePairing {
    /// Head stage index → base stage index.
    head_stage_to_base: Vec<Option<usize>>,
    /// Base stage index → head stage index.
    base_stage_to_head: Vec<Option<usize>>,
    /// Head instruction index → base instruction index and how they relate.
    head_to_base: Vec<Option<(usize, PairKind)>>,
    /// Base instruction index → head instruction index.
    base_to_head: Vec<Option<(usize, PairKind)>>,
}

impl DockerfilePairing {
    /// Pairs the stages and instructions of `base` and `head`.
    pub fn new(base: DockerfileVersion<'_>, head: DockerfileVersion<'_>) -> DockerfilePairing {
        let mut pairing = DockerfilePairing {
            head_stage_to_base: vec![None; head.model.stages.len()],
            base_stage_to_head: vec![None; base.model.stages.len()],
            head_to_base: vec![None; head.dockerfile.instructions.len()],
            base_to_head: vec![None; base.dockerfile.instructions.len()],
        };
        pairing.pair_stages(base, head);
        let base_keys = keys(base, Some);
        let head_keys = keys(head, |stage| pairing.base_of_stage(stage));
        pairing.pair_within_stages(base, head, &base_keys, &head_keys);
        pairing.pair_moved(&base_keys, &head_keys);
        pairing.pair_edited(base, head, &base_keys, &head_keys);
        pairing
    }

    /// The base stage paired with head stage `stage`.
    pub fn base_of_stage(&self, stage: usize) -> Option<usize> {
        self.head_stage_to_base.get(stage).copied().flatten()
    }

    /// The head stage paired with base stage `stage`.
    pub fn head_of_stage(&self, stage: usize) -> Option<usize> {
        self.base_stage_to_head.get(stage).copied().flatten()
    }

    /// The base instruction paired with head instruction `instruction`.
    pub fn base_of(&self, instruction: usize) -> Option<(usize, PairKind)> {
        self.head_to_base.get(instruction).copied().flatten()
    }

    /// The head instruction paired with base instruction `instruction`.
    pub fn head_of(&self, instruction: usize) -> Option<(usize, PairKind)> {
        self.base_to_head.get(instruction).copied().flatten()
    }

    fn link_stages(&mut self, base: usize, head: usize) {
        if let (Some(b), Some(h)) = (
            self.base_stage_to_head.get_mut(base),
            self.head_stage_to_base.get_mut(head),
        ) {
            *b = Some(head);
            *h = Some(base);
        }
    }

    fn link(&mut self, base: usize, head: usize, kind: PairKind) {
        if let (Some(b), Some(h)) = (
            self.base_to_head.get_mut(base),
            self.head_to_base.get_mut(head),
        ) {
            *b = Some((head, kind));
            *h = Some((base, kind));
        }
    }

    fn is_paired_base(&self, base: usize) -> bool {
        self.head_of(base).is_some()
    }

    fn is_paired_head(&self, head: usize) -> bool {
        self.base_of(head).is_some()
    }

    /// Step 1: stages by name, then by resemblance.
    fn pair_stages(&mut self, base: DockerfileVersion<'_>, head: DockerfileVersion<'_>) {
        let base_names = unique_stage_names(base.model);
        for (name, head_stage) in unique_stage_names(head.model) {
            if let (Some(head_stage), Some(Some(base_stage))) = (head_stage, base_names.get(name)) {
                self.link_stages(*base_stage, head_stage);
            }
        }

        // The rest by resemblance, best pair first. Keys here refer to
        // stages by a placeholder: which stage is which is being decided.
        let base_keys = keys(base, |_| None);
        let head_keys = keys(head, |_| None);
        let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
        for head_stage in &head.model.stages {
            if self.base_of_stage(head_stage.index).is_some() {
                continue;
            }
            for base_stage in &base.model.stages {
                if self.head_of_stage(base_stage.index).is_some() {
                    continue;
                }
                let score = stage_resemblance(
                    (base, base_stage.index, &base_keys),
                    (head, head_stage.index, &head_keys),
                );
                if score > 0 {
                    candidates.push((score, head_stage.index, base_stage.index));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, head_stage, base_stage) in candidates {
            if self.base_of_stage(head_stage).is_none() && self.head_of_stage(base_stage).is_none()
            {
                self.link_stages(base_stage, head_stage);
            }
        }
    }

    /// Step 2: the `FROM`s of paired stages, and equal instructions by a diff.
    fn pair_within_stages(
        &mut self,
        base: DockerfileVersion<'_>,
        head: DockerfileVersion<'_>,
        base_keys: &[String],
        head_keys: &[String],
    ) {
        for (base_range, head_range) in stage_ranges(self, base, head) {
            let (base_body, head_body) = match (&base_range, &head_range) {
                (
                    StageSpan::Stage { from: b, body: bb },
                    StageSpan::Stage { from: h, body: hb },
                ) => {
                    let kind = if base_keys.get(*b) == head_keys.get(*h) {
                        PairKind::Same
                    } else {
                        PairKind::Edited
                    };
                    self.link(*b, *h, kind);
                    (bb.clone(), hb.clone())
                }
                (StageSpan::Global(b), StageSpan::Global(h)) => (b.clone(), h.clone()),
                _ => continue,
            };
            let old: Vec<&String> = base_body.clone().filter_map(|i| base_keys.get(i)).collect();
            let new: Vec<&String> = head_body.clone().filter_map(|i| head_keys.get(i)).collect();
            for op in capture_diff_slices(Algorithm::Myers, &old, &new) {
                if let DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } = op
                {
                    for k in 0..len {
                        self.link(
                            base_body.start + old_index + k,
                            head_body.start + new_index + k,
                            PairKind::Same,
                        );
                    }
                }
            }
        }
    }

    /// Step 3: an instruction equal to one still unpaired anywhere in base
    /// (moved to another stage, or out of a stage split in two).
    fn pair_moved(&mut self, base_keys: &[String], head_keys: &[String]) {
        let mut unpaired_base: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, key) in base_keys.iter().enumerate().rev() {
            if !self.is_paired_base(index) && !key.starts_with("FROM") {
                unpaired_base.entry(key.as_str()).or_default().push(index);
            }
        }
        for (index, key) in head_keys.iter().enumerate() {
            if self.is_paired_head(index) || key.starts_with("FROM") {
                continue;
            }
            if let Some(base_index) = unpaired_base.get_mut(key.as_str()).and_then(Vec::pop) {
                self.link(base_index, index, PairKind::Same);
            }
        }
    }

    /// Step 4: within paired stages, edited instructions with the ones they
    /// replaced, in order (a weighted longest common subsequence over the
    /// instructions still unpaired).
    fn pair_edited(
        &mut self,
        base: DockerfileVersion<'_>,
        head: DockerfileVersion<'_>,
        base_keys: &[String],
        head_keys: &[String],
    ) {
        /// Above this many cells the stage pair is left as it is.
        const MAX_CELLS: usize = 250_000;
        for (base_range, head_range) in stage_ranges(self, base, head) {
            let base_body = base_range.body();
            let head_body = head_range.body();
            let old: Vec<usize> = base_body.filter(|&i| !self.is_paired_base(i)).collect();
            let new: Vec<usize> = head_body.filter(|&i| !self.is_paired_head(i)).collect();
            if old.is_empty() || new.is_empty() || old.len().saturating_mul(new.len()) > MAX_CELLS {
                continue;
            }
            let score = |b: usize, h: usize| -> u32 {
                let (Some(bi), Some(hi)) = (
                    base.dockerfile.instructions.get(b),
                    head.dockerfile.instructions.get(h),
                ) else {
                    return 0;
                };
                if bi.keyword != hi.keyword {
                    return 0;
                }
                let (Some(bk), Some(hk)) = (base_keys.get(b), head_keys.get(h)) else {
                    return 0;
                };
                edit_resemblance(bk, hk)
            };
            // best[i][j]: the best total score pairing old[i..] with new[j..].
            let width = new.len() + 1;
            let mut best = vec![0u32; (old.len() + 1) * width];
            for i in (0..old.len()).rev() {
                for j in (0..new.len()).rev() {
                    let skip = best[(i + 1) * width + j].max(best[i * width + j + 1]);
                    let s = score(old[i], new[j]);
                    let take = if s > 0 {
                        s + best[(i + 1) * width + j + 1]
                    } else {
                        0
                    };
                    best[i * width + j] = skip.max(take);
                }
            }
            let (mut i, mut j) = (0, 0);
            while i < old.len() && j < new.len() {
                let s = score(old[i], new[j]);
                if s > 0 && best[i * width + j] == s + best[(i + 1) * width + j + 1] {
                    self.link(old[i], new[j], PairKind::Edited);
                    i += 1;
                    j += 1;
                } else if best[i * width + j] == best[(i + 1) * width + j] {
                    i += 1;
                } else {
                    j += 1;
                }
            }
        }
    }
}

/// Stage names that name one stage only, lower-cased, with that stage.
fn unique_stage_names(model: &DockerfileModel) -> HashMap<&str, Option<usize>> {
    let mut names: HashMap<&str, Option<usize>> = HashMap::new();
    for stage in &model.stages {
        if let Some(name) = &stage.name {
            names
                .entry(name.normalized.as_str())
                .and_modify(|seen| *seen = None)
                .or_insert(Some(stage.index));
        }
    }
    names
}

/// The part of a file a stage pair covers: a stage's `FROM` and the
/// instructions after it, or the global instructions before the first `FROM`.
#[derive(Clone, Debug)]
enum StageSpan {
    Global(std::ops::Range<usize>),
    Stage {
        from: usize,
        body: std::ops::Range<usize>,
    },
}

impl StageSpan {
    fn body(&self) -> std::ops::Range<usize> {
        match self {
            StageSpan::Global(range) | StageSpan::Stage { body: range, .. } => range.clone(),
        }
    }
}

/// The spans of every stage pair, the global instructions first.
fn stage_ranges(
    pairing: &DockerfilePairing,
    base: DockerfileVersion<'_>,
    head: DockerfileVersion<'_>,
) -> Vec<(StageSpan, StageSpan)> {
    let global = |version: DockerfileVersion<'_>| {
        let end = version
            .model
            .stages
            .first()
            .map_or(version.dockerfile.instructions.len(), |s| {
                s.from_instruction
            });
        StageSpan::Global(0..end)
    };
    let span = |version: DockerfileVersion<'_>, stage: usize| {
        version.model.stages.get(stage).map(|s| StageSpan::Stage {
            from: s.from_instruction,
            body: (s.from_instruction + 1).min(s.instructions.end)..s.instructions.end,
        })
    };
    let mut out = vec![(global(base), global(head))];
    for head_stage in 0..head.model.stages.len() {
        if let Some(base_stage) = pairing.base_of_stage(head_stage)
            && let (Some(b), Some(h)) = (span(base, base_stage), span(head, head_stage))
        {
            out.push((b, h));
        }
    }
    out
}

/// How alike two stages are, 0 when not at all: the instructions they share
/// (besides `FROM`), the image they start from, whether both are their
/// file's target, and their position.
fn stage_resemblance(
    (base, base_stage, base_keys): (DockerfileVersion<'_>, usize, &[String]),
    (head, head_stage, head_keys): (DockerfileVersion<'_>, usize, &[String]),
) -> usize {
    let (Some(b), Some(h)) = (
        base.model.stages.get(base_stage),
        head.model.stages.get(head_stage),
    ) else {
        return 0;
    };
    let body = |stage: &crate::Stage, keys: &[String]| {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for index in (stage.from_instruction + 1)..stage.instructions.end {
            if let Some(key) = keys.get(index) {
                *counts.entry(key.clone()).or_insert(0) += 1;
            }
        }
        counts
    };
    let base_body = body(b, base_keys);
    let head_body = body(h, head_keys);
    let shared: usize = head_body
        .iter()
        .map(|(key, n)| (*n).min(base_body.get(key).copied().unwrap_or(0)))
        .sum();
    let mut score = 2 * shared;
    if base_keys.get(b.from_instruction) == head_keys.get(h.from_instruction) {
        score += 3;
    } else if repository(&b.base).is_some() && repository(&b.base) == repository(&h.base) {
        score += 2;
    }
    let evidence = score;
    if base.model.target == Some(base_stage) && head.model.target == Some(head_stage) {
        score += 1;
    }
    if base_stage == head_stage {
        score += 1;
    }
    // Position and target alone do not make two stages the same; a single
    // stage on each side does (its instructions may all have changed).
    let only_stages = base.model.stages.len() == 1 && head.model.stages.len() == 1;
    if evidence == 0 && !only_stages {
        return 0;
    }
    score
}

/// The image a stage starts from, without tag or digest (`python` for
/// `python:3.9-slim`); `None` for a stage built from another stage.
fn repository(base: &StageBase) -> Option<String> {
    base.image().map(|image| image.repository.clone())
}

/// How alike two instructions of the same keyword are, as a score where 0
/// means "not an edit of one another": the share of words they have in
/// common (Dice's coefficient on word multisets), in percent, when at least
/// half.
fn edit_resemblance(base_key: &str, head_key: &str) -> u32 {
    let words = |key: &str| -> Vec<String> {
        key.split(|c: char| c.is_whitespace() || c == '=')
            .skip(1) // the keyword
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let a = words(base_key);
    let b = words(head_key);
    if a.is_empty() && b.is_empty() {
        return 50;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in &a {
        *counts.entry(word).or_insert(0) += 1;
    }
    let mut common = 0;
    for word in &b {
        if let Some(n) = counts.get_mut(word.as_str())
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    let percent = (200 * common / (a.len() + b.len()).max(1)) as u32;
    if percent >= 50 { percent } else { 0 }
}

/// Every instruction's normalised form, with references to stages written
/// as `#N`, N the base stage index `stage_id` gives (`#?` when it gives none).
fn keys(version: DockerfileVersion<'_>, stage_id: impl Fn(usize) -> Option<usize>) -> Vec<String> {
    let stage_ref = |instruction: usize, name: &str| -> Option<String> {
        let stage = version.model.stages.iter().find(|s| s.is_named(name))?;
        // BuildKit resolves a name to an earlier stage only; a number too.
        let own = version.model.stage_of_instruction(instruction);
        if own.is_some_and(|own| stage.index >= own) {
            return None;
        }
        Some(match stage_id(stage.index) {
            Some(id) => format!("#{id}"),
            None => "#?".to_string(),
        })
    };
    version
        .dockerfile
        .instructions
        .iter()
        .enumerate()
        .map(|(index, instruction)| {
            instruction_key(instruction, &|name: &str| stage_ref(index, name))
        })
        .collect()
}

/// The normalised form of an instruction: keyword upper-cased, flags sorted,
/// words separated by single spaces (continuations and comments inside them
/// are already gone from the parsed arguments), heredoc bodies appended with
/// their lines trimmed, and the stage a `FROM` or `--from` names replaced by
/// what `stage_ref` gives for it. The `AS name` of a `FROM` is left out: a
/// stage's name is the stage pairing's business.
pub fn instruction_key(
    instruction: &Instruction,
    stage_ref: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut key = instruction.keyword_word.text.to_ascii_uppercase();
    let mut flags: Vec<String> = instruction
        .flags
        .iter()
        .map(|flag| {
            let value = flag.value.as_deref().map(|value| {
                if flag.name == "from" {
                    stage_ref(value).unwrap_or_else(|| value.to_string())
                } else {
                    value.to_string()
                }
            });
            match value {
                Some(value) => format!("--{}={value}", flag.name),
                None => format!("--{}", flag.name),
            }
        })
        .collect();
    flags.sort();
    for flag in flags {
        key.push(' ');
        key.push_str(&flag);
    }
    match (&instruction.keyword, &instruction.args) {
        (Keyword::From, Args::From { image, .. }) => {
            key.push(' ');
            key.push_str(&stage_ref(&image.text).unwrap_or_else(|| image.text.clone()));
        }
        (_, Args::Command(Command::Exec { args })) => {
            // `["a", "b"]` and `[ "a","b" ]` are the same command.
            key.push_str(" [");
            let words: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
            key.push_str(&words.join(", "));
            key.push(']');
        }
        _ => {
            for word in instruction.args_text.text.split_whitespace() {
                key.push(' ');
                key.push_str(word);
            }
        }
    }
    for heredoc in &instruction.heredocs {
        key.push_str(" <<");
        for line in heredoc
            .content
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            key.push('\n');
            key.push_str(line);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelOptions;

    struct Parsed {
        dockerfile: Dockerfile,
        model: DockerfileModel,
    }

    fn parse(source: &str) -> Parsed {
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(&dockerfile, source, &ModelOptions::default());
        Parsed { dockerfile, model }
    }

    fn version(parsed: &Parsed) -> DockerfileVersion<'_> {
        DockerfileVersion {
            dockerfile: &parsed.dockerfile,
            model: &parsed.model,
        }
    }

    /// Each head instruction's first line, with its base partner's (or `-`)
    /// and `=` for the same instruction, `~` for an edit.
    fn pairs(base: &str, head: &str) -> Vec<String> {
        let (b, h) = (parse(base), parse(head));
        let pairing = DockerfilePairing::new(version(&b), version(&h));
        let first_line = |source: &str, instruction: &Instruction| {
            instruction
                .range
                .slice(source)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        };
        h.dockerfile
            .instructions
            .iter()
            .enumerate()
            .map(|(index, instruction)| {
                let head_text = first_line(head, instruction);
                match pairing.base_of(index) {
                    Some((base_index, kind)) => {
                        let base_text = first_line(base, &b.dockerfile.instructions[base_index]);
                        let sign = if kind == PairKind::Same { '=' } else { '~' };
                        format!("{head_text} {sign} {base_text}")
                    }
                    None => format!("{head_text} -"),
                }
            })
            .collect()
    }

    #[test]
    fn a_base_image_bump_is_one_edited_from() {
        let base = "FROM python:3.9-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n";
        let head = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD [ \"python\",\"app.py\" ]\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM python:3.11-slim ~ FROM python:3.9-slim",
                "WORKDIR /app = WORKDIR /app",
                "COPY . . = COPY . .",
                "CMD [ \"python\",\"app.py\" ] = CMD [\"python\", \"app.py\"]",
            ]
        );
    }

    #[test]
    fn naming_a_stage_changes_nothing_else() {
        let base = "FROM node:22\nRUN npm ci\n";
        let head = "FROM node:22 AS base\nRUN npm ci\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM node:22 AS base = FROM node:22",
                "RUN npm ci = RUN npm ci"
            ]
        );
    }

    #[test]
    fn a_renamed_stage_pairs_with_its_old_self_and_so_do_its_references() {
        let base = "FROM golang:1.23 AS build\nRUN go build -o /out/app .\nFROM gcr.io/distroless/base\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n";
        let head = "FROM golang:1.23 AS builder\nRUN go build -o /out/app .\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=builder /out/app /app\nENTRYPOINT [\"/app\"]\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM golang:1.23 AS builder = FROM golang:1.23 AS build",
                "RUN go build -o /out/app . = RUN go build -o /out/app .",
                "FROM gcr.io/distroless/static:nonroot ~ FROM gcr.io/distroless/base",
                "COPY --from=builder /out/app /app = COPY --from=build /out/app /app",
                "ENTRYPOINT [\"/app\"] = ENTRYPOINT [\"/app\"]",
            ]
        );
    }

    #[test]
    fn a_reformatted_run_and_reordered_flags_are_the_same_instruction() {
        let base = "FROM x\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\nCOPY --chown=1 --link a b\n";
        let head = "FROM x\nRUN apt-get update \\\n    # the compiler\n    && apt-get install -y gcc \\\n    && rm -rf /var/lib/apt/lists/*\nCOPY --link --chown=1 a  b\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM x = FROM x",
                "RUN apt-get update \\ = RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*",
                "COPY --link --chown=1 a  b = COPY --chown=1 --link a b",
            ]
        );
    }

    #[test]
    fn an_edited_instruction_pairs_with_the_one_it_replaced() {
        let base = "FROM x\nRUN apt-get update\nRUN apt-get install -y gcc\nCOPY . .\nRUN make\n";
        let head = "FROM x\nRUN apt-get update\nRUN apt-get install -y gcc make\nCOPY . .\nRUN pip install flask\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM x = FROM x",
                "RUN apt-get update = RUN apt-get update",
                "RUN apt-get install -y gcc make ~ RUN apt-get install -y gcc",
                "COPY . . = COPY . .",
                "RUN pip install flask -",
            ]
        );
    }

    #[test]
    fn a_moved_instruction_keeps_its_partner() {
        let base = "FROM x\nCOPY . .\nRUN npm ci\nRUN npm run build\n";
        let head = "FROM x\nRUN npm ci\nRUN npm run build\nCOPY . .\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM x = FROM x",
                "RUN npm ci = RUN npm ci",
                "RUN npm run build = RUN npm run build",
                "COPY . . = COPY . .",
            ]
        );
    }

    #[test]
    fn of_two_identical_instructions_one_is_new() {
        let base = "FROM x\nCOPY . .\nRUN make\n";
        let head = "FROM x\nCOPY . .\nRUN make\nCOPY . .\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM x = FROM x",
                "COPY . . = COPY . .",
                "RUN make = RUN make",
                "COPY . . -",
            ]
        );
    }

    #[test]
    fn a_stage_split_in_two_keeps_its_instructions() {
        let base = "FROM node:22\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n";
        let head = "FROM node:22 AS builder\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n\nFROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY --from=builder /app/dist ./dist\nUSER node\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM node:22 AS builder = FROM node:22",
                "WORKDIR /app = WORKDIR /app",
                "COPY package*.json ./ = COPY package*.json ./",
                "RUN npm ci = RUN npm ci",
                "COPY . . = COPY . .",
                "RUN npm run build = RUN npm run build",
                "FROM node:22-slim -",
                "WORKDIR /app -",
                "COPY package*.json ./ -",
                "RUN npm ci --omit=dev -",
                "COPY --from=builder /app/dist ./dist -",
                "USER node -",
                "EXPOSE 3000 = EXPOSE 3000",
                "CMD [\"node\", \"dist/server.js\"] = CMD [\"node\", \"dist/server.js\"]",
            ]
        );
    }

    #[test]
    fn a_bump_with_a_new_dev_stage_and_a_named_base() {
        let base = "FROM python:3.9-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"gunicorn\", \"app:app\"]\n";
        let head = "FROM python:3.11-slim AS base\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install \\\n    -r requirements.txt\n\nFROM base AS dev\nRUN pip install pytest\n\nFROM base AS final\nCOPY . .\nCMD [\"gunicorn\", \"app:app\"]\n";
        assert_eq!(
            pairs(base, head),
            [
                "FROM python:3.11-slim AS base ~ FROM python:3.9-slim",
                "WORKDIR /app = WORKDIR /app",
                "COPY requirements.txt . = COPY requirements.txt .",
                "RUN pip install \\ = RUN pip install -r requirements.txt",
                "FROM base AS dev -",
                "RUN pip install pytest -",
                "FROM base AS final -",
                "COPY . . = COPY . .",
                "CMD [\"gunicorn\", \"app:app\"] = CMD [\"gunicorn\", \"app:app\"]",
            ]
        );
    }

    #[test]
    fn global_args_pair_too() {
        let base = "ARG VERSION=1\nFROM x:$VERSION\n";
        let head = "ARG VERSION=2\nFROM x:$VERSION\n";
        assert_eq!(
            pairs(base, head),
            [
                "ARG VERSION=2 ~ ARG VERSION=1",
                "FROM x:$VERSION = FROM x:$VERSION"
            ]
        );
    }

    #[test]
    fn unrelated_files_pair_little_and_nothing_panics() {
        assert_eq!(pairs("", "FROM x\n"), ["FROM x -"]);
        assert_eq!(pairs("FROM x\n", ""), Vec::<String>::new());
        assert_eq!(
            pairs(
                "FROM a AS one\nRUN x\nFROM b AS two\n",
                "FROM c AS three\nRUN y\n"
            ),
            ["FROM c AS three -", "RUN y -"]
        );
        // A single stage on each side pairs whatever it holds.
        assert_eq!(
            pairs("FROM a\nRUN x\n", "FROM b\nRUN y\n"),
            ["FROM b ~ FROM a", "RUN y -"]
        );
    }
}
