//! The PR comment, the Markdown report and the inline review comments read
//! by a CommonMark + GFM parser with the extensions GitHub turns on (tables,
//! strikethrough, autolinks, task lists): what a reader sees of each
//! instruction, message, evidence and fix is exactly its text, whatever the
//! Dockerfile holds (`&`, `<`, `>`, `|`, backticks, `@user`, `#123`, HTML,
//! emoji), no repository text becomes HTML, and nobody is mentioned.

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options, parse_document};
use layercake_lint::code_span;
use layercake_lint::{Applicability, Severity};
use layercake_report::{
    Change, CommentOptions, DiffFinding, DiffReport, ImageReport, InlineComment, classify,
    inline_comments, render_comment, render_markdown,
};
use std::collections::{BTreeSet, HashMap};

const WORD_JOINER: char = '\u{2060}';

/// Lines as a Dockerfile might really have them; each becomes a layer row.
const NASTY_LINES: [&str; 9] = [
    "FROM gcr.io/distroless/base:<version>@sha256:abc AS b|c",
    "RUN npm ci && npm cache clean --force || true",
    "RUN echo \"<img src=x onerror=alert(1)>\" > /tmp/a.html && echo '<details>'",
    "RUN echo `uname -m` ``two`` '```' | tee /tmp/x",
    "LABEL maintainer=\"@octocat\" fixes=\"#123\" emoji=\"🚀 ✨\"",
    "RUN printf '%s' *bold* _it_ ~~gone~~ [l](http://e) $HOME \\n",
    "`starts with a backtick",
    " x ",
    "ends with a backtick`",
];

fn demo() -> DiffReport {
    serde_json::from_str(include_str!("fixtures/demo-report.json"))
        .expect("the fixture is a version 1 report")
}

fn gfm() -> Options<'static> {
    let mut options = Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options
}

/// One message as its author wrote it: prose and code, in order.
enum Part {
    Prose(&'static str),
    Code(&'static str),
}

fn message(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|part| match part {
            Part::Prose(prose) => prose.to_string(),
            Part::Code(code) => code_span(code),
        })
        .collect()
}

/// What a reader of the rendered text should see, and which code elements.
#[derive(Clone, Debug)]
struct Expected {
    visible: String,
    codes: Vec<String>,
}

/// What a message means: its code spans, paired as CommonMark pairs
/// backtick runs (found by comrak, read alone), and everything else as
/// written. A reader must see exactly this wherever the message is shown.
fn meaning(raw: &str) -> Expected {
    // One line, as the renderers fold it; a leading word keeps it a
    // paragraph, whatever the message starts with.
    let line = format!("w {}", raw.replace('\n', " ").trim());
    let arena = Arena::new();
    let root = parse_document(&arena, &line, &gfm());
    let mut spans = Vec::new();
    for node in root.descendants() {
        let data = node.data.borrow();
        if let NodeValue::Code(code) = &data.value {
            let start = data.sourcepos.start.column - 1;
            let end = data.sourcepos.end.column;
            spans.push((start, end, code.literal.clone()));
        }
    }
    let mut visible = String::new();
    let mut at = 2;
    for (start, end, literal) in &spans {
        visible.push_str(&line[at..*start]);
        visible.push_str(literal);
        at = *end;
    }
    visible.push_str(&line[at..]);
    Expected {
        visible,
        codes: spans.into_iter().map(|(_, _, literal)| literal).collect(),
    }
}

/// A block of rendered text as a reader sees it.
#[derive(Debug)]
struct Seen {
    /// Visible text, word joiners removed (they are allowed in prose only).
    visible: String,
    codes: Vec<String>,
}

/// Everything a reader sees in one rendered body, checked on the way.
struct Reading {
    /// Paragraphs, table cells, headings and `<summary>` texts.
    blocks: Vec<Seen>,
}

impl Reading {
    fn shows(&self, expected: &Expected) -> bool {
        self.blocks.iter().any(|block| {
            block.visible.contains(&expected.visible)
                && (expected.codes.is_empty()
                    || block
                        .codes
                        .windows(expected.codes.len())
                        .any(|w| w == expected.codes.as_slice()))
        })
    }

    fn cell_is_code(&self, code: &str) -> bool {
        self.blocks
            .iter()
            .any(|b| b.visible == code && b.codes == [code])
    }
}

/// Parses `markdown` as GitHub would and checks what must hold of any body:
/// raw HTML only where layercake writes it, no code with an entity or an
/// invisible character, no mention or issue reference GitHub would link.
fn read(markdown: &str) -> Reading {
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &gfm());
    let mut blocks = Vec::new();
    for node in root.descendants() {
        let value = node.data.borrow().value.clone();
        match value {
            NodeValue::Paragraph | NodeValue::TableCell | NodeValue::Heading(_) => {
                blocks.push(seen(node));
            }
            NodeValue::HtmlInline(html) => {
                panic!("repository text became inline HTML `{html}` in:\n{markdown}")
            }
            NodeValue::HtmlBlock(block) => {
                if let Some(summary) = our_summary(&block.literal) {
                    blocks.push(summary);
                } else {
                    let html = block.literal.trim_end();
                    assert!(
                        html == "</details>" || html.starts_with("<!-- layercake:"),
                        "an HTML block layercake did not write: `{html}` in:\n{markdown}"
                    );
                }
            }
            NodeValue::Code(code) => assert_plain_code(&code.literal),
            NodeValue::CodeBlock(block) => assert_plain_code(&block.literal),
            NodeValue::Text(text) => assert_links_nobody(&text, markdown),
            _ => {}
        }
    }
    Reading { blocks }
}

fn assert_plain_code(code: &str) {
    assert!(
        !code.contains(WORD_JOINER) && !code.contains('\u{200b}'),
        "an invisible character in code: {code:?}"
    );
}

/// GitHub links `@name` and `#123` in text (not in code or links).
fn assert_links_nobody(text: &str, markdown: &str) {
    let chars: Vec<char> = text.chars().collect();
    for pair in chars.windows(2) {
        let linked = match pair {
            ['@', next] => next.is_ascii_alphanumeric(),
            ['#', next] => next.is_ascii_digit(),
            _ => false,
        };
        assert!(!linked, "GitHub would link `{text}` in:\n{markdown}");
    }
}

/// The visible text and code of a paragraph, cell or heading.
fn seen<'a>(node: &'a AstNode<'a>) -> Seen {
    let mut visible = String::new();
    let mut codes = Vec::new();
    for child in node.descendants().skip(1) {
        match &child.data.borrow().value {
            NodeValue::Text(text) => visible.push_str(text),
            NodeValue::SoftBreak | NodeValue::LineBreak => visible.push(' '),
            NodeValue::Code(code) => {
                visible.push_str(&code.literal);
                codes.push(code.literal.clone());
            }
            _ => {}
        }
    }
    Seen {
        visible: visible.replace(WORD_JOINER, ""),
        codes,
    }
}

/// `<details><summary>…</summary>`, layercake's collapsed blocks: the text
/// inside may hold `<code>` and entities, and no other tag.
fn our_summary(html: &str) -> Option<Seen> {
    let inner = html
        .trim_end()
        .strip_prefix("<details><summary>")?
        .strip_suffix("</summary>")?;
    let mut visible = String::new();
    let mut codes = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let (prose, after) = rest.split_once("<code>").unwrap_or((rest, ""));
        assert!(!prose.contains('<'), "a tag in a summary: {html}");
        let prose = decode(prose);
        assert_links_nobody(&prose, html);
        visible.push_str(&prose);
        if after.is_empty() {
            break;
        }
        let (code, after) = after
            .split_once("</code>")
            .unwrap_or_else(|| panic!("an unclosed <code> in {html}"));
        assert!(!code.contains('<'), "a tag in a summary's code: {html}");
        let code = decode(code);
        assert_plain_code(&code);
        visible.push_str(&code);
        codes.push(code);
        rest = after;
    }
    Some(Seen {
        visible: visible.replace(WORD_JOINER, ""),
        codes,
    })
}

fn decode(html: &str) -> String {
    assert!(
        html.match_indices('&').all(|(i, _)| {
            ["&amp;", "&lt;", "&gt;", "&quot;"]
                .iter()
                .any(|e| html[i..].starts_with(e))
        }),
        "a bare or unknown entity: {html}"
    );
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The demo image turned hostile: its path, every layer row and its
/// findings hold what the Dockerfile or a message may hold.
fn nasty_image(findings: Vec<DiffFinding>) -> ImageReport {
    let mut image = demo().images.remove(0);
    image.dockerfile = "svc/a|b `x` @team #1 <i>/Dockerfile".to_string();
    let template = image.layer_deltas[0].clone();
    image.layer_deltas = NASTY_LINES
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut delta = template.clone();
            delta.instruction = line.to_string();
            delta.line_start = Some(i + 1);
            delta.line_end = Some(i + 1);
            delta.head_bytes += 1_000_000 * i as u64;
            delta.delta_bytes += 1_000_000 * i as i64;
            delta
        })
        .collect();
    image.findings = findings;
    image
}

/// Findings whose messages, evidence and fixes embed nasty code.
fn hand_written_findings(file: &str) -> Vec<DiffFinding> {
    let template = demo().images[0].findings[0].clone();
    let texts = [
        message(&[
            Part::Code("RUN npm ci && npm cache clean --force"),
            Part::Prose(" keeps <b>caches</b> & more; ask @octocat about #123 :rocket: 🚀"),
        ]),
        message(&[
            Part::Prose("Pin "),
            Part::Code("gcr.io/distroless/base:<version>"),
            Part::Prose(" by digest: "),
            Part::Code("@sha256:"),
            Part::Prose(" | *not* _this_ [x](y) ~~z~~"),
        ]),
        message(&[
            Part::Code("echo `uname -m` ``two`` '```'"),
            Part::Prose(" runs "),
            Part::Code("`"),
            Part::Prose(" and "),
            Part::Code("a|b"),
            Part::Prose(" <img src=x onerror=alert(1)> <details>"),
        ]),
        // Unbalanced backticks stay text and open nothing.
        "An odd `` pair, then `code` and a lone ``` <script>".to_string(),
        message(&[Part::Prose("- looks like a list "), Part::Code(" x ")]),
        "1. looks like a numbered list".to_string(),
    ];
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut finding = template.clone();
            finding.file = file.to_string();
            finding.line = 2;
            finding.end_line = 2;
            finding.code = format!("LC9{i:02}");
            finding.severity = [Severity::Error, Severity::Warning, Severity::Info][i % 3];
            finding.change = Change::New;
            finding.fingerprint = format!("{i:016x}");
            finding.message = text.clone();
            finding.evidence = vec![format!("Evidence for {text}")];
            if let Some(fix) = &mut finding.fix {
                fix.description = format!("Fix: {text}");
                fix.applicability = Applicability::Unsafe;
            }
            finding.fix_diff = Some(format!("@@ -2,1 +2,1 @@\n-{}\n+{text}\n", NASTY_LINES[1]));
            finding.suggestion = None;
            finding
        })
        .collect()
}

fn report_of(image: ImageReport) -> DiffReport {
    let mut report = demo();
    report.images = vec![image];
    report
}

/// Every line of the file is in the pull request's diff.
fn whole_file(file: &str) -> HashMap<String, BTreeSet<usize>> {
    HashMap::from([(file.to_string(), (1..=100).collect())])
}

/// The comment, the Markdown report and each inline comment show every
/// finding's message, evidence and fix description as written.
fn assert_findings_read_right(report: &DiffReport) {
    let comment = render_comment(report, &CommentOptions::default());
    let markdown = render_markdown(report);
    let file = report.images[0].findings[0].file.clone();
    let inline: Vec<InlineComment> = inline_comments(report, &whole_file(&file));
    let comment_seen = read(&comment);
    let markdown_seen = read(&markdown);
    for finding in &report.images[0].findings {
        let message = meaning(&finding.message);
        for (what, reading, body) in [
            ("comment", &comment_seen, &comment),
            ("markdown", &markdown_seen, &markdown),
        ] {
            assert!(
                reading.shows(&message),
                "{what} does not show {message:?}:\n{body}"
            );
            for evidence in &finding.evidence {
                let evidence = meaning(evidence);
                assert!(
                    reading.shows(&evidence),
                    "{what} does not show {evidence:?}:\n{body}"
                );
            }
        }
        if let Some(fix) = &finding.fix {
            let description = meaning(&fix.description);
            assert!(
                comment_seen.shows(&description),
                "the comment does not show {description:?}:\n{comment}"
            );
        }
        let comment = inline
            .iter()
            .find(|c| c.fingerprint == finding.fingerprint)
            .unwrap_or_else(|| panic!("no inline comment for {}", finding.code));
        let seen = read(&comment.body);
        assert!(seen.shows(&message), "{:?}\n{}", message, comment.body);
        if let (Some(fix), None) = (&finding.fix, &finding.suggestion) {
            let description = meaning(&fix.description);
            assert!(
                seen.shows(&description),
                "{description:?}\n{}",
                comment.body
            );
        }
    }
}

#[test]
fn instructions_in_layer_rows_read_as_written() {
    let image = nasty_image(Vec::new());
    let report = report_of(image);
    for body in [
        render_comment(&report, &CommentOptions::default()),
        render_markdown(&report),
    ] {
        let seen = read(&body);
        for line in NASTY_LINES {
            assert!(
                seen.cell_is_code(line),
                "no table cell shows {line:?} as code:\n{body}"
            );
        }
        assert!(
            seen.blocks
                .iter()
                .any(|b| b.codes == ["svc/a|b `x` @team #1 <i>/Dockerfile"]),
            "the path reads as written:\n{body}"
        );
    }
}

#[test]
fn messages_evidence_and_fixes_read_as_written() {
    let file = "svc/a|b `x` @team #1 <i>/Dockerfile";
    let report = report_of(nasty_image(hand_written_findings(file)));
    assert_findings_read_right(&report);
    // The code of the messages is each a code element of its own.
    let comment = read(&render_comment(&report, &CommentOptions::default()));
    for code in [
        "RUN npm ci && npm cache clean --force",
        "gcr.io/distroless/base:<version>",
        "@sha256:",
        "echo `uname -m` ``two`` '```'",
        "`",
        "a|b",
        " x ",
    ] {
        assert!(
            comment
                .blocks
                .iter()
                .any(|b| b.codes.iter().any(|c| c == code)),
            "{code:?} is not a code element of the comment"
        );
    }
    // An unbalanced backtick is text: the rest of the message is no code.
    assert!(comment.blocks.iter().any(|b| {
        b.visible == "An odd `` pair, then code and a lone ``` <script>" && b.codes == ["code"]
    }));
}

/// The Dockerfile a repository might really have, linted: the real rule
/// messages and fixes quote its text, backticks and all.
const NASTY_DOCKERFILE: &str = r#"FROM node:22
WORKDIR /app
COPY . .
RUN npm install && npm cache clean --force && echo "<img src=x onerror=alert(1)> <details>" > /tmp/x.html | tee /tmp/y
RUN apt-get update && apt-get install curl && echo `uname -m` @octocat #123 ``two`` '```' 🚀
RUN pip install flask`true` && cd /tmp/`date`
RUN curl -fsSL "https://example.com/install.sh?a=1&b=<2>" | sh
EXPOSE 80|81
COPY --from=b`x` /a /b
USER root
"#;

#[test]
fn real_rule_messages_read_as_written() {
    let settings = layercake_lint::LintSettings::default();
    let head = layercake_lint::lint_source("svc/Dockerfile", NASTY_DOCKERFILE, &settings);
    let dockerfile = layercake_syntax::parse(NASTY_DOCKERFILE);
    let model = layercake_model::DockerfileModel::new(
        &dockerfile,
        NASTY_DOCKERFILE,
        &layercake_model::ModelOptions::default(),
    );
    let version = layercake_model::DockerfileVersion {
        dockerfile: &dockerfile,
        model: &model,
    };
    let findings = classify(
        None,
        Some(layercake_report::LintedVersion {
            lint: &head,
            version,
        }),
        None,
        layercake_report::StageScope::Built,
    )
    .findings;
    assert!(findings.len() >= 8, "{findings:#?}");
    let report = report_of(nasty_image(findings));
    assert_findings_read_right(&report);
    // The rules quote the Dockerfile's own text as one code element each.
    let comment = read(&render_comment(&report, &CommentOptions::default()));
    for code in [
        "pip install flask`true`",
        "--from=b`x`",
        "b`x`",
        "EXPOSE 80|81",
        "curl -fsSL https://example.com/install.sh?a=1&b=<2> | sh",
        "https://example.com/install.sh?a=1&b=<2>",
        "USER root",
    ] {
        assert!(
            comment
                .blocks
                .iter()
                .any(|b| b.codes.iter().any(|c| c == code)),
            "{code:?} is not a code element of the comment"
        );
    }
}
