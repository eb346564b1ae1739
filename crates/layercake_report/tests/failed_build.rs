//! A failed head build as people read it, from a real `layercake diff` run
//! (Docker Engine 20.10.24) on a pull request that adds an npm dependency the
//! registry does not have, with SHAs and timings made stable. The npm in the
//! image was a script printing npm 9's real output for that case.

use layercake_report::{
    CommentOptions, DiffReport, render_comment, render_json, render_markdown, render_text,
};

fn failed() -> DiffReport {
    serde_json::from_str(include_str!("fixtures/failed-head-report.json"))
        .expect("the fixture is a version 1 report")
}

#[test]
fn the_json_keeps_the_tail_beside_the_cause() {
    let report = failed();
    let build = report.images[0].head.build.as_ref().expect("build");
    assert_eq!(build.log_tail.len(), 40);
    assert_eq!(build.cause.len(), 3);
    let value: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/failed-head-report.json")).expect("json");
    let rendered: serde_json::Value = serde_json::from_str(&render_json(&report)).expect("json");
    assert_eq!(rendered, value, "no field is lost or renamed");
}

#[test]
fn text() {
    insta::assert_snapshot!(render_text(&failed()));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render_markdown(&failed()));
}

#[test]
fn comment() {
    insta::assert_snapshot!(render_comment(&failed(), &CommentOptions::default()));
}

/// A report written before causes were picked (or a timeout, which has none):
/// the renderers fall back to the log's last lines and the reason.
#[test]
fn without_a_cause_the_tail_is_shown() {
    let mut report = failed();
    let head = &mut report.images[0].head;
    head.reason = Some("the build failed: executor failed running".to_string());
    let build = head.build.as_mut().expect("build");
    build.cause.clear();
    build.failed_step = None;
    let text = render_text(&report);
    assert!(text.contains("  head      the build failed: executor failed running\n"));
    assert!(text.contains("| #10 0.688 npm ERR! 404 Note that you can also install from a\n"));
    assert!(!text.contains("npm ERR! code E404"), "{text}");
    let comment = render_comment(&report, &CommentOptions::default());
    assert!(comment.contains("failed:** the build failed: executor failed running\n"));
    assert!(!comment.contains("```text\nnpm ERR! code E404\nnpm ERR! 404 Not Found"));
}

/// A report from a pull request's workflow is bounded before it is posted, its
/// cause and failed step too.
#[test]
fn an_untrusted_cause_is_bounded() {
    let mut report = failed();
    let build = report.images[0].head.build.as_mut().expect("build");
    build.cause = vec!["E: x".repeat(1250); 200];
    if let Some(step) = build.failed_step.as_mut() {
        step.instruction = "RUN x".repeat(1000);
    }
    let read =
        layercake_report::read_untrusted_report(render_json(&report).as_bytes()).expect("a report");
    let build = read.images[0].head.build.as_ref().expect("build");
    assert_eq!(build.cause.len(), 40);
    assert!(build.cause.iter().all(|l| l.chars().count() == 4000));
    let step = build.failed_step.as_ref().expect("failed step");
    assert_eq!(step.instruction.chars().count(), 4000);
}
