//! Every file of `../shared/corpus` parses exactly as BuildKit's parser parses
//! it: same verdict, and for every instruction the same keyword, start line,
//! end line, flag count and heredoc count. No per-file exceptions.

use layercake_syntax::{LineIndex, parse};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

#[derive(Default)]
struct Expected {
    verdict: String,
    rows: Vec<String>,
}

fn read_expected() -> BTreeMap<String, Expected> {
    let tsv =
        std::fs::read_to_string(corpus_dir().join("expected.tsv")).expect("read expected.tsv");
    let mut files: BTreeMap<String, Expected> = BTreeMap::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let entry = files.entry(cols[0].to_string()).or_default();
        match cols[1] {
            "OK" | "ERROR" => entry.verdict = cols[1].to_string(),
            _ => entry.rows.push(cols[1..].join("\t")),
        }
    }
    files
}

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

#[test]
fn every_corpus_file_parses_as_buildkit_does() {
    let expected = read_expected();
    assert_eq!(expected.len(), 666, "the corpus has 666 files");
    let mut failures = String::new();
    let mut failed = 0;
    for (path, want) in &expected {
        let bytes =
            std::fs::read(corpus_dir().join("dockerfiles").join(path)).expect("read corpus file");
        let source = String::from_utf8(bytes).expect("corpus files are UTF-8");
        let (verdict, rows) = actual_rows(&source);
        let rows_match = want.verdict == "ERROR" || rows == want.rows;
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
                if rows.len() != want.rows.len() {
                    let _ = writeln!(
                        failures,
                        "  {} instructions, BuildKit {}",
                        rows.len(),
                        want.rows.len()
                    );
                }
            }
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} files disagree with BuildKit:\n{failures}",
        expected.len()
    );
}
