//! layercake's renderers: lint results as text for people and tools.
//!
//! Every renderer is a pure function from `&[FileReport]` to a `String`; none
//! does I/O. Findings carry byte ranges; line and column are computed here,
//! at render time, with [`layercake_syntax::LineIndex`].
//!
//! | format | for | module |
//! |---|---|---|
//! | `text` | people at a terminal | [`text`] |
//! | `json` | scripts; a versioned contract (`docs/json-format.md`) | [`json`] |
//! | `sarif` | code-scanning tools (SARIF 2.1.0) | [`sarif`] |
//! | `github` | GitHub Actions annotations (workflow commands) | [`github`] |
//! | `markdown` | a PR comment or a job summary | [`markdown`] |
//!
//! [`escape`] writes repository text into Markdown so that GitHub shows it as
//! written; the `markdown` format and the `diff` report's comment share it.
#![deny(missing_docs)]

pub mod escape;
pub mod github;
pub mod json;
pub mod markdown;
pub mod parse_tree;
pub mod sarif;
pub mod text;

mod fix_diff;
mod position;
mod summary;

pub use fix_diff::{FixPreview, Suggestion, fix_preview};

use layercake_lint::FileReport;
use std::fmt;
use std::str::FromStr;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Human output with code frames, like ruff or rustc.
    Text,
    /// The versioned JSON contract.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A Markdown report for a PR comment or a step summary.
    Markdown,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Markdown,
    ];

    /// The name used on the command line and in config (`text`, `json`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Markdown => "markdown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of [`Format::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format `{0}` (expected one of: text, json, sarif, github, markdown)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses a format name, case-insensitively.
    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFormat(name.to_string()))
    }
}

/// Choices that change how a report looks, not what it says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Colour the `text` format with ANSI escapes (the CLI sets it on a TTY).
    /// The other formats ignore it.
    pub color: bool,
}

/// Renders `reports` in `format`.
pub fn render(format: Format, reports: &[FileReport], options: &RenderOptions) -> String {
    match format {
        Format::Text => text::render_text(reports, options),
        Format::Json => json::render_json(reports),
        Format::Sarif => sarif::render_sarif(reports),
        Format::Github => github::render_github(reports),
        Format::Markdown => markdown::render_markdown(reports),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        assert_eq!(
            "xml".parse::<Format>(),
            Err(UnknownFormat("xml".to_string()))
        );
    }
}
