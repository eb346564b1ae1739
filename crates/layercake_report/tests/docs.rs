//! `docs/diff-report.md` documents every field the report has.

use serde_json::Value;

/// Every key of `value`, as `parent.key` paths with `[]` for array items.
fn keys(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.push(path.clone());
                keys(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                keys(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Whether `doc` names `name` as a field: inside backticks, alone or at the
/// end of a dotted path (`name`, `images[].name`, `….name[]`, `a`, `name`).
fn names_field(doc: &str, name: &str) -> bool {
    doc.match_indices(name).any(|(at, _)| {
        let before = doc[..at].chars().next_back();
        let after = doc[at + name.len()..].chars().next();
        matches!(before, Some('`' | '.')) && matches!(after, Some('`' | '[' | ','))
    })
}

#[test]
fn every_field_of_the_demo_report_is_documented() {
    let doc = include_str!("../../../docs/diff-report.md");
    // The finding objects are the lint JSON's, documented there.
    let lint_doc = include_str!("../../../docs/json-format.md");
    let mut all = Vec::new();
    // The demo, and a failed build's fields.
    for fixture in [
        include_str!("fixtures/demo-report.json"),
        include_str!("fixtures/failed-head-report.json"),
    ] {
        let report: Value = serde_json::from_str(fixture).expect("fixture");
        keys(&report, "", &mut all);
    }
    all.sort();
    all.dedup();
    let missing: Vec<&String> = all
        .iter()
        .filter(|path| {
            let name = path.rsplit(['.', ']']).next().unwrap_or(path);
            let in_findings = path.starts_with("images[].findings[].");
            let documented = names_field(doc, name) || (in_findings && names_field(lint_doc, name));
            !documented
        })
        .collect();
    assert!(
        missing.is_empty(),
        "undocumented report fields: {missing:?}"
    );
}

#[test]
fn the_check_can_fail() {
    assert!(names_field("| `images[].dockerfile` |", "dockerfile"));
    assert!(names_field("`….layers[]` |", "layers"));
    assert!(!names_field("the dockerfile path", "dockerfile"));
}
