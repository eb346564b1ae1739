//! One rule per file, named after the pattern it reports.

/// LC001: BuildKit cannot parse the file.
pub mod parse_error;
