//! The `layercake diff` report: what a pull request does to each image it
//! affects, as versioned JSON (`docs/diff-report.md`), text and Markdown.
//!
//! The report is plain data: the binary fills it in (builds, reads images,
//! lints) and every renderer, including the pull-request publisher, reads it
//! back from JSON. Pure: nothing here does I/O.
#![deny(missing_docs)]

mod classify;
mod comment;
mod failed;
mod markdown;
mod review;
mod text;
mod types;
mod untrusted;

pub use classify::{ClassifiedFindings, LintedVersion, StageScope, classify};
pub use comment::{COMMENT_LIMIT, CommentOptions, comment_marker, render_comment};
/// Sizes for people, in SI units (`12.3 MB`, `+4.0 kB`), as budgets print them.
pub use layercake_config::{format_bytes, format_signed_bytes};
pub use markdown::render_markdown;
pub use review::{InlineComment, commentable_lines, finding_marker, inline_comments};
pub use text::render_text;
pub use types::*;
pub use untrusted::{MAX_REPORT_BYTES, read_untrusted_report};

/// Serialises a report as pretty JSON ending in a newline.
pub fn render_json(report: &DiffReport) -> String {
    // Plain structs of strings and numbers always serialise.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}
