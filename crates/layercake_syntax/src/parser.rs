//! BuildKit's Dockerfile parser, reimplemented with ranges.

use crate::ast::*;

/// Parses a Dockerfile the way BuildKit's parser does.
pub fn parse(source: &str) -> Dockerfile {
    let _ = source;
    Dockerfile {
        directives: Vec::new(),
        instructions: Vec::new(),
        comments: Vec::new(),
        escape: '\\',
        errors: Vec::new(),
        warnings: Vec::new(),
    }
}
