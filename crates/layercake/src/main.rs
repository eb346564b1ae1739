//! The `layercake` command line: `lint`, `diff`, `action`, `publish`, `serve`, `rules`, `explain`, `parse`.

mod cli;
mod commands;
mod discover;
mod output;
mod progress;
mod serve;

use clap::Parser;
use std::process::ExitCode;

/// Exit status: nothing at or above the fail threshold.
pub const EXIT_OK: u8 = 0;
/// Exit status: findings at or above the fail threshold.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: a usage, configuration or I/O error.
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) if output::is_broken_pipe(&error) => ExitCode::from(EXIT_OK),
        Err(error) => {
            eprintln!("layercake: error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
