//! SARIF 2.1.0, for code-scanning tools (GitHub code scanning and others).
//!
//! One run; `tool.driver.rules` lists every rule in [`layercake_lint::RULES`]
//! with its documentation, results point at their rule by `ruleId` and
//! `ruleIndex`, and safe fixes travel as `fixes` with replacements. Columns
//! count Unicode code points (`run.columnKind` says so) and end positions are
//! exclusive, as SARIF defines them.

use crate::position::{SourceLines, Span};
use layercake_lint::{Applicability, FileReport, Finding, RULES, RuleMeta, Severity};
use serde_json::{Value, json};

/// The `$schema` of the output.
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders a SARIF 2.1.0 log whose driver lists every rule in [`RULES`].
pub fn render_sarif(reports: &[FileReport]) -> String {
    let rules: Vec<&'static RuleMeta> = RULES.iter().map(|rule| rule.meta()).collect();
    render_sarif_with_rules(reports, &rules)
}

/// Renders a SARIF 2.1.0 log whose driver lists `rules`; findings whose code is
/// not among them still appear, with a `ruleId` but no `ruleIndex`.
pub fn render_sarif_with_rules(reports: &[FileReport], rules: &[&RuleMeta]) -> String {
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|report| {
            let lines = SourceLines::new(&report.source);
            let uri = artifact_uri(&report.path);
            report
                .findings
                .iter()
                .map(move |finding| sarif_result(&lines, &uri, finding, rules))
                .collect::<Vec<_>>()
        })
        .collect();
    let log = json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "layercake",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules.iter().map(|meta| sarif_rule(meta)).collect::<Vec<_>>(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    // A `Value` built from strings and numbers always serialises.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn sarif_rule(meta: &RuleMeta) -> Value {
    json!({
        "id": meta.code,
        "name": meta.name,
        "shortDescription": { "text": meta.summary },
        "fullDescription": { "text": doc_section(meta.doc, "What it does").unwrap_or(meta.summary) },
        "help": { "text": meta.doc, "markdown": meta.doc },
        "defaultConfiguration": { "level": level(meta.default_severity) },
        "properties": { "tags": [meta.category.as_str()] },
    })
}

fn sarif_result(
    lines: &SourceLines<'_>,
    uri: &str,
    finding: &Finding,
    rules: &[&RuleMeta],
) -> Value {
    let mut result = json!({
        "ruleId": finding.code,
        "level": level(finding.severity),
        "message": { "text": finding.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri },
                "region": region(lines.span(finding.range)),
            }
        }],
    });
    if let Some(index) = rules.iter().position(|meta| meta.code == finding.code) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(fix) = finding
        .fix
        .as_ref()
        .filter(|fix| fix.applicability == Applicability::Safe)
    {
        let replacements: Vec<Value> = fix
            .edits
            .iter()
            .map(|edit| {
                json!({
                    "deletedRegion": region(lines.span(edit.range)),
                    "insertedContent": { "text": edit.replacement },
                })
            })
            .collect();
        result["fixes"] = json!([{
            "description": { "text": fix.description },
            "artifactChanges": [{
                "artifactLocation": { "uri": uri },
                "replacements": replacements,
            }],
        }]);
    }
    result
}

fn region(span: Span) -> Value {
    json!({
        "startLine": span.start.line,
        "startColumn": span.start.column,
        "endLine": span.end.line,
        "endColumn": span.end.column,
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The body of the `## {heading}` section of a rule's documentation.
fn doc_section<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("## {heading}\n");
    let start = doc.find(&marker)? + marker.len();
    let rest = &doc[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|section| !section.is_empty())
}

/// A path as a SARIF artifact URI: relative paths stay relative, with forward
/// slashes; absolute paths become `file://` URIs; everything but unreserved
/// characters and `/` is percent-encoded.
pub fn artifact_uri(path: &str) -> String {
    let mut path = path.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    let absolute = path.starts_with('/');
    let mut uri = String::with_capacity(path.len() + 8);
    if absolute {
        uri.push_str("file://");
    }
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris() {
        assert_eq!(
            artifact_uri("./services/api/Dockerfile"),
            "services/api/Dockerfile"
        );
        assert_eq!(
            artifact_uri("services\\web\\Dockerfile"),
            "services/web/Dockerfile"
        );
        assert_eq!(
            artifact_uri("my app/Dockerfile.prod"),
            "my%20app/Dockerfile.prod"
        );
        assert_eq!(artifact_uri("/abs/Dockerfile"), "file:///abs/Dockerfile");
        assert_eq!(artifact_uri("é:x"), "%C3%A9%3Ax");
    }

    #[test]
    fn doc_sections_are_found_by_heading() {
        let doc = "## What it does\nReports a thing.\n\n## Why is this bad?\nBecause.\n";
        assert_eq!(doc_section(doc, "What it does"), Some("Reports a thing."));
        assert_eq!(doc_section(doc, "Why is this bad?"), Some("Because."));
        assert_eq!(doc_section(doc, "Example"), None);
    }
}
