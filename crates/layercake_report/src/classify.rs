//! Matching findings across base and head, through the pairing of the
//! two Dockerfiles (`layercake_model::DockerfilePairing`).

use crate::types::{Change, DiffFinding, Edit, Fix, SuggestedLines};
use layercake_lint::{FileReport, Finding, FindingSubject};
use layercake_model::{DockerfilePairing, DockerfileVersion};
use layercake_syntax::{LineIndex, TextRange};
use std::collections::HashMap;

/// What a finding's fingerprint is made of: its code, the trimmed source
/// text of the lines it spans (so moving an instruction keeps it), and its
/// occurrence among findings with the same code and text.
type FingerprintKey = (&'static str, String, usize);

/// The report's findings with their JSON fields and fingerprints.
fn with_fingerprints(report: &FileReport) -> Vec<DiffFinding> {
    let index = LineIndex::new(&report.source);
    let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
    report
        .findings
        .iter()
        .map(|finding| {
            let parts = finding_fields(&report.path, &report.source, &index, finding);
            let text = (parts.line..=parts.end_line.max(parts.line))
                .map(|line| index.line_text(&report.source, line).trim())
                .collect::<Vec<_>>()
                .join("\n");
            let occurrence = seen.entry((finding.code, text.clone())).or_insert(0);
            let key = (finding.code, text, *occurrence);
            *occurrence += 1;
            DiffFinding {
                fingerprint: fingerprint(&report.path, &key),
                ..parts
            }
        })
        .collect()
}

/// FNV-1a (64 bits) of the file and the fingerprint key, as 16 hex digits: stable
/// across runs, platforms and Rust versions (unlike `DefaultHasher`).
fn fingerprint(path: &str, (code, text, occurrence): &FingerprintKey) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let key = format!("{path}\0{code}\0{text}\0{occurrence}");
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// One side of a change as linted: its findings and the Dockerfile they
/// are about, parsed with the build's target and arguments.
#[derive(Clone, Copy, Debug)]
pub struct LintedVersion<'a> {
    /// The lint results.
    pub lint: &'a FileReport,
    /// The parsed Dockerfile and its model.
    pub version: DockerfileVersion<'a>,
}

/// Which stages' findings a review reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StageScope {
    /// The stages the target builds (itself and what it is built from or
    /// copies from): a finding in a `dev` stage the build never runs is no
    /// news about this image.
    #[default]
    Built,
    /// Every stage.
    All,
}

/// The findings of a change, each marked new, fixed or unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassifiedFindings {
    /// Head's findings (`new` or `unchanged`), then base's `fixed` ones.
    pub findings: Vec<DiffFinding>,
    /// Head findings left out because their stage is not built, by stage.
    pub outside_target: Vec<(String, usize)>,
}

/// Where a finding is matched across the change: what it must share with
/// a finding on the other side to be the same problem.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum MatchSlot {
    /// An image finding: the same rule.
    Image(&'static str),
    /// An instruction finding: the same rule on the paired instruction
    /// (named by its base index).
    Instruction(&'static str, usize),
    /// A head finding on an instruction base does not have: nothing to match.
    Unpaired,
    /// A finding outside every instruction: the same rule.
    File(&'static str),
}

/// A finding with what matching needs.
struct Placed {
    finding: DiffFinding,
    slot: MatchSlot,
    message: String,
}

/// Marks head's findings `new` or `unchanged` and base's missing ones
/// `fixed`, matching them through `pairing`: a finding is new only where
/// the change introduced the problem (a base-image bump, a renamed stage or
/// a reformatted `RUN` moves no finding), fixed only where it removed it.
/// A missing side (a Dockerfile added or deleted) has no findings.
pub fn classify(
    base: Option<LintedVersion<'_>>,
    head: Option<LintedVersion<'_>>,
    pairing: Option<&DockerfilePairing>,
    scope: StageScope,
) -> ClassifiedFindings {
    let mut outside_target: Vec<(String, usize)> = Vec::new();
    let base_placed = base
        .map(|side| place(side, scope, &mut Vec::new(), Some))
        .unwrap_or_default();
    let head_placed = head
        .map(|side| {
            place(side, scope, &mut outside_target, |i| {
                pairing.and_then(|p| p.base_of(i)).map(|(b, _)| b)
            })
        })
        .unwrap_or_default();

    // In each slot, findings with the same message pair first, then in order.
    let mut base_taken = vec![false; base_placed.len()];
    let mut head_match: Vec<Option<usize>> = vec![None; head_placed.len()];
    for same_message in [true, false] {
        for (h, head) in head_placed.iter().enumerate() {
            if head_match[h].is_some() || head.slot == MatchSlot::Unpaired {
                continue;
            }
            let found = base_placed.iter().enumerate().position(|(b, base)| {
                !base_taken[b]
                    && base.slot == head.slot
                    && (!same_message || base.message == head.message)
            });
            if let Some(b) = found {
                base_taken[b] = true;
                head_match[h] = Some(b);
            }
        }
    }
    let mut findings = Vec::with_capacity(head_placed.len() + base_placed.len());
    for (placed, matched) in head_placed.into_iter().zip(&head_match) {
        findings.push(DiffFinding {
            change: if matched.is_some() {
                Change::Unchanged
            } else {
                Change::New
            },
            ..placed.finding
        });
    }
    for (placed, taken) in base_placed.into_iter().zip(base_taken) {
        if !taken {
            findings.push(DiffFinding {
                change: Change::Fixed,
                ..placed.finding
            });
        }
    }
    ClassifiedFindings {
        findings,
        outside_target,
    }
}

/// One side's findings with their match slots; findings in stages the
/// target does not build are counted in `outside_target` and left out
/// (unless `scope` is `All`). `base_index` names an instruction of this side
/// by its base index (itself for base, its partner's for head).
fn place(
    side: LintedVersion<'_>,
    scope: StageScope,
    outside_target: &mut Vec<(String, usize)>,
    base_index: impl Fn(usize) -> Option<usize>,
) -> Vec<Placed> {
    let instructions = &side.version.dockerfile.instructions;
    let model = side.version.model;
    let instruction_at = |offset: usize| {
        // Instructions are in file order and do not overlap.
        let after = instructions.partition_point(|i| i.range.start() <= offset);
        after
            .checked_sub(1)
            .filter(|&i| instructions.get(i).is_some_and(|i| offset <= i.range.end()))
    };
    let mut placed = Vec::with_capacity(side.lint.findings.len());
    for (finding, fields) in side.lint.findings.iter().zip(with_fingerprints(side.lint)) {
        let instruction = instruction_at(finding.range.start());
        let stage = instruction.and_then(|i| model.stage_of_instruction(i));
        if scope == StageScope::Built
            && let Some(stage) = stage.and_then(|s| model.stages.get(s))
            && !stage.reaches_target
        {
            let label = match &stage.name {
                Some(name) => name.written.text.clone(),
                None => format!("stage-{}", stage.index),
            };
            match outside_target.iter_mut().find(|(l, _)| *l == label) {
                Some((_, count)) => *count += 1,
                None => outside_target.push((label, 1)),
            }
            continue;
        }
        let subject = layercake_lint::rule_by_code(finding.code).map(|rule| rule.subject());
        let slot = match (subject, instruction) {
            (Some(FindingSubject::Image), _) => MatchSlot::Image(finding.code),
            (_, Some(index)) => match base_index(index) {
                Some(base) => MatchSlot::Instruction(finding.code, base),
                None => MatchSlot::Unpaired,
            },
            (_, None) => MatchSlot::File(finding.code),
        };
        placed.push(Placed {
            finding: fields,
            slot,
            message: finding.message.clone(),
        });
    }
    placed
}

/// The same fields `layercake lint --format json` gives a finding.
fn finding_fields(path: &str, source: &str, index: &LineIndex, finding: &Finding) -> DiffFinding {
    let span = |range: TextRange| {
        let start = index.line_column(source, range.start());
        let end = index.line_column(source, range.end().max(range.start()));
        (start, end)
    };
    let (start, end) = span(finding.range);
    let fix = finding.fix.as_ref().map(|fix| Fix {
        description: fix.description.clone(),
        applicability: fix.applicability,
        edits: fix
            .edits
            .iter()
            .map(|edit| {
                let (s, e) = span(edit.range);
                Edit {
                    start_line: s.line,
                    start_column: s.column,
                    end_line: e.line,
                    end_column: e.column,
                    replacement: edit.replacement.clone(),
                }
            })
            .collect(),
    });
    let preview = finding
        .fix
        .as_ref()
        .and_then(|fix| layercake_render::fix_preview(source, fix));
    DiffFinding {
        fix_diff: preview.as_ref().map(|p| p.diff.clone()),
        suggestion: preview.and_then(|p| p.suggestion).map(|s| SuggestedLines {
            start_line: s.start_line,
            end_line: s.end_line,
            text: s.text,
        }),
        file: path.to_string(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        code: finding.code.to_string(),
        name: finding.name.to_string(),
        category: finding.category,
        severity: finding.severity,
        message: finding.message.clone(),
        fix,
        change: Change::Unchanged,
        fingerprint: String::new(),
        measured: false,
        evidence: Vec::new(),
    }
}
