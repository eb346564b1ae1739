//! What a rule reports: a finding with a range, and optionally a fix.

use layercake_syntax::TextRange;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a build by default.
    Info,
    /// Should be fixed.
    Warning,
    /// Breaks the build or ships something wrong.
    Error,
}

impl Severity {
    /// The lower-case name used in JSON and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning` or `info`.
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about. Every rule belongs to exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Stages: what reaches the shipped image, what could stay behind.
    MultiStage,
    /// Layer-cache ordering: what makes unchanged steps re-run.
    Cache,
    /// Bytes in the image that need not be there.
    Size,
    /// Users, secrets, supply chain.
    Security,
    /// What fails or misbehaves (parse errors included).
    Correctness,
}

impl Category {
    /// The kebab-case name used in JSON (`multi-stage`, `cache`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::MultiStage => "multi-stage",
            Category::Cache => "cache",
            Category::Size => "size",
            Category::Security => "security",
            Category::Correctness => "correctness",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a fix can be applied without a person looking at it (as in ruff and clippy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps the meaning of the Dockerfile; `lint --fix` applies it.
    Safe,
    /// Probably right, but may change behaviour; shown, applied only on request.
    Unsafe,
    /// A sketch for a person (e.g. a multi-stage skeleton); never applied.
    DisplayOnly,
}

/// Replace the text in `range` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Byte range in the source to replace (empty to insert).
    pub range: TextRange,
    /// The new text.
    pub replacement: String,
}

/// A proposed change: edits that belong together, and how safe they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What the fix does, in a sentence.
    pub description: String,
    /// Non-overlapping edits, in source order.
    pub edits: Vec<Edit>,
    /// How safe it is to apply.
    pub applicability: Applicability,
}

/// One finding of one rule in one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule code, e.g. `LC201`.
    pub code: &'static str,
    /// The rule name, e.g. `broad-copy-before-install`.
    pub name: &'static str,
    /// The rule's category.
    pub category: Category,
    /// Severity after configuration.
    pub severity: Severity,
    /// What is wrong here, in one or two sentences: text with `` `code` ``
    /// spans, which the Markdown renderers show as code. Text from the
    /// Dockerfile goes in through [`code_span`].
    pub message: String,
    /// Where: byte range in the source.
    pub range: TextRange,
    /// A fix, when the rule has one.
    pub fix: Option<Fix>,
}

/// The findings of one file, with its source so renderers can show line and column.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The path as the user gave it (or as found under a directory).
    pub path: String,
    /// The file's text.
    pub source: String,
    /// Findings, sorted by position then code.
    pub findings: Vec<Finding>,
}

/// `value` as a CommonMark code span for a message or a fix description:
/// the fence is longer than any backtick run inside, so text from a
/// Dockerfile (`` echo `uname -m` ``) cannot end the span early; a space pads
/// a value that starts or ends with a backtick, or with a space at both
/// ends (CommonMark strips one there). Newlines become spaces.
pub fn code_span(value: &str) -> String {
    let value = value.replace("\r\n", " ").replace(['\n', '\r'], " ");
    if value.is_empty() {
        return String::new();
    }
    let longest = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let all_spaces = value.bytes().all(|b| b == b' ');
    let pad = if value.starts_with('`')
        || value.ends_with('`')
        || (!all_spaces && value.starts_with(' ') && value.ends_with(' '))
    {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{value}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::code_span;

    #[test]
    fn code_spans_hold_any_dockerfile_text() {
        assert_eq!(code_span("COPY . ."), "`COPY . .`");
        assert_eq!(code_span("echo `uname -m`"), "`` echo `uname -m` ``");
        assert_eq!(code_span("a ``` b"), "````a ``` b````");
        assert_eq!(code_span(" x "), "`  x  `");
        assert_eq!(code_span("  "), "`  `");
        assert_eq!(code_span("a\nb"), "`a b`");
        assert_eq!(code_span(""), "");
    }
}
