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
fn text_gives_the_compressed_change_alone_when_the_sizes_were_not_measured_whole() {
    let mut report = demo();
    let image = &mut report.images[0];
    image.base.compressed_bytes = None;
    image.head.compressed_bytes = None;
    let text = render_text(&report);
    assert!(
        text.contains(
            "  size      base 2.3 MB → head 8.3 MB  +6.0 MB (+262.9%); compressed +6.4 kB\n"
        ),
        "{text}"
    );
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
    // `|` is escaped in code only inside a table cell.
    assert!(md.contains("| ``a\\|b`c/Dockerfile`` |"), "{md}");
    assert!(md.contains("### ``a|b`c/Dockerfile``"), "{md}");
    assert!(
        md.contains("\\<img src=x\\> @\u{2060}octocat \\| `x`"),
        "{md}"
    );
    assert!(!md.replace("\\<", "").contains("<img"), "{md}");
}

#[test]
fn comment() {
    let body =
        layercake_report::render_comment(&demo(), &layercake_report::CommentOptions::default());
    assert!(body.starts_with("<!-- layercake:summary key=default -->\n"));
    insta::assert_snapshot!(body);
}

/// Every fence that opens also closes: an odd count of fence lines of one
/// length would leave the rest of the comment inside a code block.
fn fences_balanced(body: &str) -> bool {
    let mut open: Option<usize> = None;
    for line in body.lines() {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        if ticks < 3 {
            continue;
        }
        match open {
            None => open = Some(ticks),
            Some(n) if ticks >= n && line.trim_end().chars().all(|c| c == '`') => open = None,
            Some(_) => {}
        }
    }
    open.is_none()
}

#[test]
fn a_huge_report_degrades_in_steps_and_stays_under_the_limit() {
    let mut report = demo();
    let template = report.images[0].clone();
    report.images.clear();
    for i in 0..60 {
        let mut image = template.clone();
        image.dockerfile = format!("services/s{i}/Dockerfile");
        for finding in &mut image.findings {
            finding.change = layercake_report::Change::New;
            finding.message = format!("{} {}", finding.message, "```\nbreak out ".repeat(40));
        }
        report.images.push(image);
    }
    let options = layercake_report::CommentOptions::default();
    let body = layercake_report::render_comment(&report, &options);
    assert!(
        body.chars().count() <= layercake_report::COMMENT_LIMIT,
        "{}",
        body.chars().count()
    );
    assert!(fences_balanced(&body), "a fence was cut");
    assert!(body.contains("Shortened to fit a comment"), "{body}");
    assert!(
        body.contains("services/s59/Dockerfile"),
        "the size table keeps every image"
    );
    // A small limit still gives a well-formed comment with the marker.
    let tiny = layercake_report::CommentOptions {
        limit: 3000,
        ..options
    };
    let body = layercake_report::render_comment(&report, &tiny);
    assert!(body.chars().count() <= 3000);
    assert!(body.starts_with("<!-- layercake:summary key=default -->"));
    assert!(fences_balanced(&body));
}

#[test]
fn inline_comments_only_on_changed_lines_with_suggestions_for_safe_fixes() {
    use std::collections::{BTreeSet, HashMap};
    let report = demo();
    // The PR's patch of the Dockerfile: lines 3 to 6 are new.
    let patch = "@@ -1,7 +1,8 @@\n FROM layercake-demo/node:22\n WORKDIR /app\n-COPY package.json package-lock.json ./\n+COPY . .\n RUN npm ci\n-COPY src/ ./src/\n+RUN wget x\n+RUN rm /tmp/tool.tgz\n USER 1000\n CMD [\"node\", \"src/index.js\"]\n";
    let lines: BTreeSet<usize> = layercake_report::commentable_lines(patch);
    let diff_lines = HashMap::from([("Dockerfile".to_string(), lines)]);
    let comments = layercake_report::inline_comments(&report, &diff_lines);
    let summary: Vec<String> = comments
        .iter()
        .map(|c| {
            format!(
                "{}:{:?}-{} {}",
                c.path,
                c.start_line,
                c.line,
                c.body.lines().next().unwrap_or("")
            )
        })
        .collect();
    insta::assert_debug_snapshot!(summary);
    for comment in &comments {
        assert!(
            comment
                .body
                .ends_with(&layercake_report::finding_marker(&comment.fingerprint))
        );
    }
    // Nothing in the diff, nothing inline.
    assert!(layercake_report::inline_comments(&report, &HashMap::new()).is_empty());
}
