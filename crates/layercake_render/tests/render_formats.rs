//! Snapshots of every format over the same hand-built reports.

mod support;

use layercake_lint::{Category, FileReport, Finding, Severity};
use layercake_render::{Format, RenderOptions, render, sarif};
use layercake_syntax::TextRange;
use support::{sample_reports, sample_rules};

const PLAIN: RenderOptions = RenderOptions { color: false };

#[test]
fn text() {
    insta::assert_snapshot!(render(Format::Text, &sample_reports(), &PLAIN));
}

#[test]
fn text_without_findings() {
    let clean = vec![
        FileReport {
            path: "a/Dockerfile".to_string(),
            source: "FROM a\n".to_string(),
            findings: vec![],
        },
        FileReport {
            path: "b/Dockerfile".to_string(),
            source: String::new(),
            findings: vec![],
        },
    ];
    assert_eq!(
        render(Format::Text, &clean, &PLAIN),
        "No findings in 2 files.\n"
    );
    assert_eq!(
        render(Format::Text, &[], &PLAIN),
        "No findings in 0 files.\n"
    );
}

#[test]
fn text_is_coloured_only_when_asked() {
    let reports = sample_reports();
    let plain = render(Format::Text, &reports, &PLAIN);
    let coloured = render(Format::Text, &reports, &RenderOptions { color: true });
    assert!(!plain.contains('\x1b'));
    assert!(coloured.contains("\x1b[1;31m[error]\x1b[0m"));
    assert_eq!(
        strip_ansi(&coloured),
        plain,
        "colour must not change the text"
    );
}

#[test]
fn json() {
    insta::assert_snapshot!(render(Format::Json, &sample_reports(), &PLAIN));
}

#[test]
fn json_without_findings() {
    assert_eq!(
        render(Format::Json, &[], &PLAIN),
        "{\n  \"version\": 1,\n  \"findings\": []\n}\n"
    );
}

#[test]
fn sarif() {
    let output = sarif::render_sarif_with_rules(&sample_reports(), &sample_rules());
    insta::assert_snapshot!(without_tool_version(&output));
}

#[test]
fn github() {
    insta::assert_snapshot!(render(Format::Github, &sample_reports(), &PLAIN));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render(Format::Markdown, &sample_reports(), &PLAIN));
}

#[test]
fn markdown_without_findings() {
    let clean = vec![FileReport {
        path: "Dockerfile".to_string(),
        source: "FROM a\n".to_string(),
        findings: vec![],
    }];
    assert_eq!(
        render(Format::Markdown, &clean, &PLAIN),
        "## layercake · No findings in 1 file\n"
    );
}

/// The driver's version changes with every release; the snapshot should not.
fn without_tool_version(sarif: &str) -> String {
    let mut log: serde_json::Value = serde_json::from_str(sarif).expect("SARIF output is JSON");
    log["runs"][0]["tool"]["driver"]["version"] = serde_json::json!("[version]");
    serde_json::to_string_pretty(&log).expect("a Value serialises")
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn text_elides_the_middle_of_long_ranges() {
    let source = "FROM a\nRUN set -e; \\\n  one \\\n  two \\\n  three \\\n  four \\\n  five \\\n\tsix\nCMD x\n";
    let start = source.find("set").unwrap_or(0);
    let end = source.find("six").map_or(0, |i| i + 3);
    let finding = Finding {
        code: "LC300",
        name: "long-run",
        category: Category::Size,
        severity: Severity::Error,
        message: "A long RUN.".to_string(),
        range: TextRange::new(start, end),
        fix: None,
    };
    let reports = [FileReport {
        path: "Dockerfile".to_string(),
        source: source.to_string(),
        findings: vec![finding],
    }];
    insta::assert_snapshot!(render(Format::Text, &reports, &PLAIN));
}

#[test]
fn markdown_neutralises_dockerfile_text() {
    let output = render(Format::Markdown, &sample_reports(), &PLAIN);
    // Inside a code block GitHub links nothing; outside one, nothing may link.
    let mut in_fence = false;
    for line in output.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            assert!(!line.contains("@octocat"), "mentions must not ping: {line}");
            assert!(
                !line.contains("#12"),
                "issue references must not link: {line}"
            );
        }
    }
    assert!(!in_fence, "every fence is closed");
    let hostile_row = output
        .lines()
        .find(|line| line.contains("LC002"))
        .unwrap_or_default();
    assert!(
        !hostile_row.contains("<b>"),
        "HTML must be escaped: {hostile_row}"
    );
    let unescaped_pipes = hostile_row
        .match_indices('|')
        .filter(|&(i, _)| !hostile_row[..i].ends_with('\\'))
        .count();
    assert_eq!(
        unescaped_pipes, 5,
        "four cells, whatever the message holds: {hostile_row}"
    );
    // The diff holds a run of four backticks, so its fence has five.
    assert!(output.contains("\n`````diff\n"));
    assert_eq!(output.matches("\n`````\n").count(), 1);
}

/// Ranges from a buggy rule (inside a character, past the end, backwards) must
/// not make any renderer panic.
#[test]
fn no_range_makes_a_renderer_panic() {
    let source = "FROM é\r\n\tRUN 世\n";
    let limit = source.len() as u32 + 2;
    for start in 0..limit {
        for end in 0..limit {
            let range = TextRange { start, end };
            let finding = Finding {
                code: "LC100",
                name: "any",
                category: Category::Correctness,
                severity: Severity::Warning,
                message: "m".to_string(),
                range,
                fix: Some(layercake_lint::Fix {
                    description: "d".to_string(),
                    edits: vec![layercake_lint::Edit {
                        range,
                        replacement: "x\n".to_string(),
                    }],
                    applicability: layercake_lint::Applicability::Safe,
                }),
            };
            let reports = [FileReport {
                path: "Dockerfile".to_string(),
                source: source.to_string(),
                findings: vec![finding],
            }];
            for format in Format::ALL {
                let output = render(format, &reports, &RenderOptions { color: true });
                assert!(
                    !output.is_empty(),
                    "{format} rendered nothing for {start}..{end}"
                );
            }
        }
    }
}
