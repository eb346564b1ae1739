//! Matching findings across base and head.

use crate::types::{Change, DiffFinding, Edit, Fix, SuggestedLines};
use layercake_lint::{FileReport, Finding};
use layercake_render::json::applicability_name;
use layercake_syntax::{LineIndex, TextRange};
use std::collections::{HashMap, HashSet};

/// The key a finding is matched by across base and head: its code, the
/// trimmed source text of the lines it spans (so moving an instruction does
/// not make its finding new), and its occurrence among findings with the
/// same code and text (so a second identical `COPY . .` is one new finding).
type MatchKey = (&'static str, String, usize);

fn keyed(report: &FileReport) -> Vec<(MatchKey, DiffFinding)> {
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
            let fingerprint = fingerprint(&report.path, &key);
            (
                key,
                DiffFinding {
                    fingerprint,
                    ..parts
                },
            )
        })
        .collect()
}

/// FNV-1a (64 bits) of the file and the match key, as 16 hex digits: stable
/// across runs, platforms and Rust versions (unlike `DefaultHasher`).
fn fingerprint(path: &str, (code, text, occurrence): &MatchKey) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let key = format!("{path}\0{code}\0{text}\0{occurrence}");
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Head findings are `new` or `unchanged`; base findings not in head are
/// `fixed`. A missing side (Dockerfile added or deleted) has no findings.
pub fn classify(base: Option<&FileReport>, head: Option<&FileReport>) -> Vec<DiffFinding> {
    let base_keyed = base.map(keyed).unwrap_or_default();
    let head_keyed = head.map(keyed).unwrap_or_default();
    let base_keys: HashSet<&MatchKey> = base_keyed.iter().map(|(k, _)| k).collect();
    let head_keys: HashSet<&MatchKey> = head_keyed.iter().map(|(k, _)| k).collect();
    let mut out = Vec::new();
    for (key, finding) in &head_keyed {
        let change = if base_keys.contains(key) {
            Change::Unchanged
        } else {
            Change::New
        };
        out.push(DiffFinding {
            change,
            ..finding.clone()
        });
    }
    for (key, finding) in &base_keyed {
        if !head_keys.contains(key) {
            out.push(DiffFinding {
                change: Change::Fixed,
                ..finding.clone()
            });
        }
    }
    out
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
        applicability: applicability_name(fix.applicability).to_string(),
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
        category: finding.category.as_str().to_string(),
        severity: finding.severity.as_str().to_string(),
        message: finding.message.clone(),
        fix,
        change: Change::Unchanged,
        fingerprint: String::new(),
        measured: false,
        evidence: Vec::new(),
    }
}
