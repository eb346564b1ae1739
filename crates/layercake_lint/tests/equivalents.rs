//! The table of hadolint and BuildKit names (`equivalents.rs`) agrees with
//! the rules' own `## Equivalents` sections and with `docs/comparison.md`,
//! whose table of names is generated from it (`UPDATE_DOCS=1` rewrites it).

use layercake_lint::{EQUIVALENTS, RULES, equivalents_markdown, equivalents_of};
use std::path::PathBuf;

/// Names a rule's `## Equivalents` prose mentions that are related, not the
/// same problem: suppressing them must not silence the rule.
const MENTIONED_NOT_EQUIVALENT: &[(&str, &str)] = &[
    ("LC001", "DL1000"),
    ("LC202", "DL3009"),
    ("LC301", "DL3009"),
    ("LC301", "DL3019"),
    ("LC404", "DL4006"),
    ("LC406", "DL3020"),
    ("LC510", "DL1000"),
];

/// hadolint codes (`DL` and four digits) and BuildKit check names (a
/// back-quoted CamelCase word) in `text`.
fn names_in(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '`'));
    for word in words {
        if word.len() == 6
            && word.starts_with("DL")
            && word[2..].bytes().all(|b| b.is_ascii_digit())
        {
            names.push(word.to_string());
        }
        if let Some(inner) = word.strip_prefix('`').and_then(|w| w.strip_suffix('`'))
            && inner.chars().all(|c| c.is_ascii_alphabetic())
            && inner.starts_with(|c: char| c.is_ascii_uppercase())
            && inner.chars().any(|c| c.is_ascii_lowercase())
            && inner.chars().filter(char::is_ascii_uppercase).count() >= 2
        {
            names.push(inner.to_string());
        }
    }
    names
}

#[test]
fn the_table_and_the_rules_equivalents_sections_name_the_same() {
    for rule in RULES {
        let meta = rule.meta();
        let section = meta.doc.split("## Equivalents").nth(1).unwrap_or("");
        let mentioned = names_in(section);
        let listed = equivalents_of(meta.code);
        for name in listed.hadolint.iter().chain(listed.buildkit) {
            assert!(
                mentioned.iter().any(|m| m == name),
                "{}: the table lists {name}, its ## Equivalents does not mention it",
                meta.code
            );
        }
        for name in &mentioned {
            let in_table = listed
                .hadolint
                .iter()
                .chain(listed.buildkit)
                .any(|n| n == name);
            let related = MENTIONED_NOT_EQUIVALENT.contains(&(meta.code, name.as_str()));
            assert!(
                in_table || related,
                "{}: ## Equivalents mentions {name}; add it to equivalents.rs, or to \
                 MENTIONED_NOT_EQUIVALENT if it is a different problem",
                meta.code
            );
        }
    }
    for entry in EQUIVALENTS {
        assert!(
            RULES.iter().any(|r| r.meta().code == entry.code),
            "{} is no rule",
            entry.code
        );
    }
}

fn comparison_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/comparison.md")
}

#[test]
fn comparison_md_has_the_generated_table() {
    const START: &str = "<!-- equivalents:start -->\n";
    const END: &str = "<!-- equivalents:end -->";
    let path = comparison_path();
    let text = std::fs::read_to_string(&path).expect("docs/comparison.md");
    let start = text.find(START).expect("start marker") + START.len();
    let end = text.find(END).expect("end marker");
    let current = &text[start..end];
    let generated = equivalents_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() && current != generated {
        let updated = format!("{}{generated}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).expect("write docs/comparison.md");
        return;
    }
    assert!(
        current == generated,
        "docs/comparison.md's table of names is stale: run `UPDATE_DOCS=1 cargo test -p layercake_lint --test equivalents`"
    );
}

/// In "Every hadolint 2.15.1 rule and its layercake counterpart", a DL code
/// the table maps names its rules, and a row that starts with a rule is mapped.
#[test]
fn comparison_md_hadolint_rows_agree_with_the_table() {
    let text = std::fs::read_to_string(comparison_path()).expect("docs/comparison.md");
    let section = text
        .split("## Every hadolint 2.15.1 rule and its layercake counterpart")
        .nth(1)
        .expect("section");
    let mut rows = 0;
    for line in section.lines().filter(|l| l.starts_with("| DL")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let (dl, layercake) = (
            cells[0].trim_start_matches("| "),
            cells[cells.len() - 1].trim_end_matches(" |"),
        );
        let mapped = layercake_lint::rules_for_hadolint(dl);
        for code in &mapped {
            assert!(
                layercake.contains(code),
                "{dl} maps to {code} in equivalents.rs, its row says: {layercake}"
            );
        }
        // Related, not the same problem: DL1000 is hadolint's parser failing
        // (mostly on files BuildKit accepts), DL3010 asks for ADD to extract.
        if layercake.starts_with("LC") && !["DL1000", "DL3010"].contains(&dl) {
            assert!(
                !mapped.is_empty(),
                "{dl}'s row names {layercake}, equivalents.rs nothing"
            );
        }
        rows += 1;
    }
    assert!(rows > 60, "only {rows} hadolint rows found");
}
