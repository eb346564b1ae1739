//! Dockerfiles parse exactly as BuildKit's parser parses them: same verdict,
//! and for every instruction the same keyword, start line, end line, flag count
//! and heredoc count. No per-file exceptions. Each set is a directory with the
//! files under `dockerfiles/` and BuildKit's parse of each in `expected.tsv`:
//!
//! - `tests/conformance`: the repository's own small cases, one construct of
//!   `docs/parser.md` each, checked always (`check-with-buildkit.sh` beside them
//!   checks the expectations against a Docker Engine's BuildKit);
//! - the 666-file corpus kept outside the repository (`LAYERCAKE_CORPUS`,
//!   default: `shared/corpus` beside the repository), checked when it is there.

use layercake_syntax::{LineIndex, parse};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What BuildKit makes of one file: a verdict, and for `OK` the instruction
/// count of the header row and one row per instruction.
#[derive(Default)]
struct Expected {
    verdict: String,
    count: usize,
    rows: Vec<String>,
}

/// `expected.tsv` of a conformance set, by path under `dockerfiles/`.
fn read_expected(set: &Path) -> BTreeMap<String, Expected> {
    let tsv = std::fs::read_to_string(set.join("expected.tsv")).expect("read expected.tsv");
    let mut files: BTreeMap<String, Expected> = BTreeMap::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 3, "expected.tsv: short row `{line}`");
        let entry = files.entry(cols[0].to_string()).or_default();
        match cols[1] {
            "OK" => {
                entry.verdict = "OK".to_string();
                entry.count = cols[2].parse().expect("expected.tsv: OK count");
            }
            "ERROR" => entry.verdict = "ERROR".to_string(),
            _ => entry.rows.push(cols[1..].join("\t")),
        }
    }
    files
}

/// Our parse of `source` in `expected.tsv`'s terms: the verdict and one row per
/// instruction.
fn actual_rows(source: &str) -> (String, Vec<String>) {
    let dockerfile = parse(source);
    let index = LineIndex::new(source);
    let verdict = if dockerfile.is_ok() { "OK" } else { "ERROR" };
    let rows = dockerfile
        .instructions
        .iter()
        .enumerate()
        .map(|(i, ins)| {
            format!(
                "{i}\t{}\t{}\t{}\t{}\t{}",
                ins.keyword_word.text,
                index.line_of(ins.range.start()),
                index.line_of(ins.range.end()),
                ins.flags.len(),
                ins.heredocs.len()
            )
        })
        .collect();
    (verdict.to_string(), rows)
}

/// Parses every file of a conformance set and asserts that all agree with
/// BuildKit, naming each file that does not and where.
fn assert_set_parses_as_buildkit_does(set: &Path, expected: &BTreeMap<String, Expected>) {
    let mut failures = String::new();
    let mut failed = 0;
    for (path, want) in expected {
        let bytes = std::fs::read(set.join("dockerfiles").join(path)).expect("read Dockerfile");
        let source = String::from_utf8(bytes).expect("conformance files are UTF-8");
        let (verdict, rows) = actual_rows(&source);
        let rows_match = want.verdict == "ERROR" || (rows == want.rows && rows.len() == want.count);
        if verdict != want.verdict || !rows_match {
            failed += 1;
            let _ = writeln!(
                failures,
                "{path}: verdict {verdict} (BuildKit {})",
                want.verdict
            );
            if want.verdict == "OK" {
                for (i, (a, b)) in rows.iter().zip(&want.rows).enumerate() {
                    if a != b {
                        let _ = writeln!(
                            failures,
                            "  first difference at #{i}: got `{a}`, BuildKit `{b}`"
                        );
                        break;
                    }
                }
                if rows.len() != want.count || rows.len() != want.rows.len() {
                    let _ = writeln!(
                        failures,
                        "  {} instructions, BuildKit {} ({} rows)",
                        rows.len(),
                        want.count,
                        want.rows.len()
                    );
                }
            }
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} files in {} disagree with BuildKit:\n{failures}",
        expected.len(),
        set.display()
    );
}

#[test]
fn every_own_case_parses_as_buildkit_does() {
    let set = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let expected = read_expected(&set);
    let mut cases: Vec<String> = std::fs::read_dir(set.join("dockerfiles"))
        .expect("tests/conformance/dockerfiles")
        .map(|entry| {
            let name = entry.expect("case directory").file_name();
            format!("{}/Dockerfile", name.to_string_lossy())
        })
        .collect();
    cases.sort();
    let listed: Vec<&String> = expected.keys().collect();
    assert_eq!(
        listed,
        cases.iter().collect::<Vec<_>>(),
        "every case in tests/conformance/dockerfiles has rows in expected.tsv, and no more"
    );
    assert_set_parses_as_buildkit_does(&set, &expected);
}

#[test]
fn every_corpus_file_parses_as_buildkit_does() {
    let Some(corpus) = layercake_testkit::corpus_or_skip() else {
        return;
    };
    let expected = read_expected(&corpus);
    assert_eq!(expected.len(), 666, "the corpus has 666 files");
    assert_set_parses_as_buildkit_does(&corpus, &expected);
}
