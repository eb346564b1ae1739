//! Workflow commands escape exactly as GitHub's toolkit (`@actions/core`) does.

use layercake_lint::{Category, FileReport, Finding, Severity};
use layercake_render::github::{escape_data, escape_property, render_github};
use layercake_syntax::TextRange;

#[test]
fn data_escapes_percent_and_line_breaks_only() {
    assert_eq!(
        escape_data("100% done\r\nnext: a, b"),
        "100%25 done%0D%0Anext: a, b"
    );
    assert_eq!(
        escape_data("%0A is not a newline"),
        "%250A is not a newline"
    );
    assert_eq!(escape_data("::error::x"), "::error::x");
}

#[test]
fn properties_also_escape_colon_and_comma() {
    assert_eq!(escape_property("a,b:c%d\re\nf"), "a%2Cb%3Ac%25d%0De%0Af");
    assert_eq!(escape_property("dir/Dockerfile"), "dir/Dockerfile");
}

#[test]
fn one_command_per_finding_with_its_severity() {
    let source = "FROM a\nRUN b\n";
    let finding = |severity, start: usize, end: usize| Finding {
        code: "LC100",
        name: "some-rule",
        category: Category::Correctness,
        severity,
        message: "line one\nline two: 50%, done".to_string(),
        range: TextRange::new(start, end),
        fix: None,
    };
    let reports = [FileReport {
        path: "a,b:c/Dockerfile".to_string(),
        source: source.to_string(),
        findings: vec![
            finding(Severity::Error, 0, 4),
            finding(Severity::Warning, 7, 12),
            finding(Severity::Info, 7, 14),
        ],
    }];
    let props = "file=a%2Cb%3Ac/Dockerfile";
    let message = "line one%0Aline two: 50%25, done";
    assert_eq!(
        render_github(&reports),
        format!(
            "::error {props},line=1,col=1,endLine=1,endColumn=5,title=LC100 some-rule::{message}\n\
             ::warning {props},line=2,col=1,endLine=2,endColumn=6,title=LC100 some-rule::{message}\n\
             ::notice {props},line=2,col=1,endLine=3,endColumn=1,title=LC100 some-rule::{message}\n"
        )
    );
}
