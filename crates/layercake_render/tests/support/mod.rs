//! Hand-built reports that exercise every corner a renderer has to handle.
#![allow(dead_code)]

use layercake_lint::{Applicability, Category, Edit, FileReport, Finding, Fix, RuleMeta, Severity};
use layercake_syntax::TextRange;

/// The byte range of the `nth` (0-based) occurrence of `needle` in `source`.
pub fn range_of(source: &str, needle: &str, nth: usize) -> TextRange {
    let start = source
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} is not in the source"));
    TextRange::new(start, start + needle.len())
}

/// A Node Dockerfile with a tab-indented, non-ASCII, multi-line RUN.
pub const API_DOCKERFILE: &str = concat!(
    "FROM node:22\n",
    "WORKDIR /app\n",
    "COPY package*.json ./\n",
    "COPY . .\n",
    "RUN npm ci\n",
    "RUN apt-get update && \\\n",
    "\tapt-get install -y curl && \\\n",
    "\techo \"héllo 世界\" && \\\n",
    "    true\n",
    "EXPOSE 3000\n",
    "CMD [\"node\", \"dist/server.js\"]\n",
);

/// A file with text that Markdown, HTML and workflow commands must not interpret.
pub const HOSTILE_DOCKERFILE: &str =
    "FROM alpine\nRUN echo \"100% | `id` <b>hi</b> ```x``` @octocat\"\n";

/// The reports every snapshot test renders: findings with a multi-line range,
/// one at the end of the file, fixes of every applicability, a tab, wide
/// characters, a clean file and hostile text.
pub fn sample_reports() -> Vec<FileReport> {
    let api = API_DOCKERFILE;
    let copy_line = range_of(api, "COPY . .\n", 0);
    let run_npm_ci_end = range_of(api, "RUN npm ci\n", 0).end();
    let apt_start = range_of(api, "RUN apt-get", 0).start();
    let apt_end = range_of(api, "    true", 0).end();
    let api_findings = vec![
        Finding {
            code: "LC201",
            name: "broad-copy-before-install",
            category: Category::Cache,
            severity: Severity::Warning,
            message: "`COPY . .` comes before `RUN npm ci` (line 5), so any source change reinstalls all dependencies."
                .to_string(),
            range: TextRange::new(copy_line.start(), copy_line.end() - 1),
            fix: Some(Fix {
                description: "Copy the sources after installing dependencies".to_string(),
                edits: vec![
                    Edit { range: copy_line, replacement: String::new() },
                    Edit { range: TextRange::empty(run_npm_ci_end), replacement: "COPY . .\n".to_string() },
                ],
                applicability: Applicability::Safe,
            }),
        },
        Finding {
            code: "LC301",
            name: "apt-lists-not-removed",
            category: Category::Size,
            severity: Severity::Warning,
            message: "The apt lists stay in this layer; remove `/var/lib/apt/lists/*` in the same RUN.".to_string(),
            range: TextRange::new(apt_start, apt_end),
            fix: Some(Fix {
                description: "Remove the apt lists at the end of the RUN".to_string(),
                edits: vec![Edit { range: range_of(api, "true", 0), replacement: "rm -rf /var/lib/apt/lists/*".to_string() }],
                applicability: Applicability::Unsafe,
            }),
        },
        Finding {
            code: "LC902",
            name: "non-ascii-in-run",
            category: Category::Correctness,
            severity: Severity::Info,
            message: "Non-ASCII text `世界` in a RUN; the build's locale decides how it is read.".to_string(),
            range: range_of(api, "世界", 0),
            fix: None,
        },
        Finding {
            code: "LC401",
            name: "missing-user",
            category: Category::Security,
            severity: Severity::Error,
            message: "The final stage runs as root: no `USER` after `FROM node:22`.".to_string(),
            range: TextRange::empty(api.len()),
            fix: Some(Fix {
                description: "Run as the image's `node` user".to_string(),
                edits: vec![Edit { range: TextRange::empty(api.len()), replacement: "USER node\n".to_string() }],
                applicability: Applicability::Safe,
            }),
        },
    ];

    let hostile = HOSTILE_DOCKERFILE;
    let hostile_findings = vec![Finding {
        code: "LC002",
        name: "hostile-text",
        category: Category::Correctness,
        severity: Severity::Error,
        message: "Echoes \"100% | `id` <b>hi</b> ```x``` @octocat\",\r\nthen: more: text, and #12."
            .to_string(),
        range: range_of(hostile, "echo", 0),
        fix: Some(Fix {
            description: "Quote with ```` and <tags> for @octocat".to_string(),
            edits: vec![Edit {
                range: range_of(hostile, "<b>hi</b>", 0),
                replacement: "````".to_string(),
            }],
            applicability: Applicability::DisplayOnly,
        }),
    }];

    vec![
        FileReport {
            path: "services/api/Dockerfile".to_string(),
            source: api.to_string(),
            findings: api_findings,
        },
        FileReport {
            path: "web/Dockerfile".to_string(),
            source: "FROM nginx:1.27\n".to_string(),
            findings: vec![],
        },
        FileReport {
            path: "odd, dir: x/Dockerfile".to_string(),
            source: hostile.to_string(),
            findings: hostile_findings,
        },
    ]
}

/// Rule metadata for the codes [`sample_reports`] uses (LC902 is left out on
/// purpose: a finding whose rule the driver does not list).
pub static SAMPLE_RULES: [RuleMeta; 4] = [
    RuleMeta {
        code: "LC002",
        name: "hostile-text",
        category: Category::Correctness,
        default_severity: Severity::Error,
        summary: "Text that renderers must escape",
        doc: "## What it does\nReports text with `|`, `<b>` and @octocat.\n\n## Why is this bad?\nIt is a test.\n",
    },
    RuleMeta {
        code: "LC201",
        name: "broad-copy-before-install",
        category: Category::Cache,
        default_severity: Severity::Warning,
        summary: "`COPY . .` before the dependency install",
        doc: "## What it does\nFinds `COPY . .` before `npm ci`.\n\n## Fix safety\nSafe.\n",
    },
    RuleMeta {
        code: "LC301",
        name: "apt-lists-not-removed",
        category: Category::Size,
        default_severity: Severity::Warning,
        summary: "apt lists left in the layer",
        doc: "## What it does\nFinds apt-get install without removing the lists.\n",
    },
    RuleMeta {
        code: "LC401",
        name: "missing-user",
        category: Category::Security,
        default_severity: Severity::Error,
        summary: "The final stage runs as root",
        doc: "No sections here: the full description falls back to the summary.",
    },
];

/// [`SAMPLE_RULES`] as the slice of references the SARIF renderer takes.
pub fn sample_rules() -> Vec<&'static RuleMeta> {
    SAMPLE_RULES.iter().collect()
}
