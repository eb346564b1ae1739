//! One rule per file, named after the pattern it reports.

pub mod parse_error;
