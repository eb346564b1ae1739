//! BuildKit's shell-word lexer: word splitting, quotes and `$VAR` expansion.
