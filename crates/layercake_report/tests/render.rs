//! The report as people read it, from a real `layercake diff` run on the
//! demo repository (`examples/demo/`), with SHAs and timings made stable.

use layercake_report::{DiffReport, render_json, render_markdown, render_text};

fn demo() -> DiffReport {
    let text = include_str!("fixtures/demo-report.json");
    serde_json::from_str(text).expect("the fixture is a version 1 report")
}

#[test]
fn the_json_reads_back_unchanged() {
    let report = demo();
    let again: DiffReport = serde_json::from_str(&render_json(&report)).expect("round trip");
    assert_eq!(again, report);
    let value: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/demo-report.json")).expect("json");
    let rendered: serde_json::Value = serde_json::from_str(&render_json(&report)).expect("json");
    assert_eq!(rendered, value, "no field is lost or renamed");
}

#[test]
fn text() {
    insta::assert_snapshot!(render_text(&demo()));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render_markdown(&demo()));
}

#[test]
fn markdown_escapes_what_the_repository_wrote() {
    let mut report = demo();
    let image = &mut report.images[0];
    image.dockerfile = "a|b`c/Dockerfile".to_string();
    image.findings[0].message = "<img src=x> @octocat | `x`".to_string();
    image.findings[0].change = layercake_report::Change::New;
    let md = render_markdown(&report);
    assert!(md.contains("``a\\|b`c/Dockerfile``"), "{md}");
    assert!(
        md.contains("&lt;img src=x&gt; @\u{200b}octocat \\| `x`"),
        "{md}"
    );
    assert!(!md.contains("<img"), "{md}");
}
