//! The `layercake diff` report: what a pull request does to each image it
//! affects, as versioned JSON (`docs/diff-report.md`), text and Markdown.
//!
//! The report is plain data: the binary fills it in (builds, reads images,
//! lints) and every renderer, including the pull-request publisher, reads it
//! back from JSON. Pure: nothing here does I/O.
#![deny(missing_docs)]

mod classify;
mod markdown;
mod text;
mod types;

pub use classify::classify;
/// Sizes for people, in SI units (`12.3 MB`, `+4.0 kB`), as budgets print them.
pub use layercake_config::{format_bytes, format_signed_bytes};
pub use markdown::render_markdown;
pub use text::render_text;
pub use types::*;

/// Serialises a report as pretty JSON ending in a newline.
pub fn render_json(report: &DiffReport) -> String {
    // Plain structs of strings and numbers always serialise.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}
