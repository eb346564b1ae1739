//! A Dockerfile parser that agrees with BuildKit's on every input, and keeps a
//! byte range for every instruction, flag, argument, heredoc and comment.
//!
//! [`parse`] never fails and never panics: what BuildKit rejects is recorded in
//! [`Dockerfile::errors`] and the rest of the file is still read.
#![deny(missing_docs)]

mod ast;
mod mount;
mod parser;
pub mod shell;
mod text;

pub use ast::{
    Args, Command, Comment, Directive, Dockerfile, Flag, Heredoc, Instruction, KeyValue, Keyword,
    ParseError, ParseWarning, Word,
};
pub use mount::{Mount, MountType};
pub use parser::parse;
pub use text::{LineColumn, LineIndex, TextRange};
