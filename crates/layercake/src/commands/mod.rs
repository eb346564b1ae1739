//! One module per subcommand.

mod action;
mod diff;
mod explain;
mod fix;
mod lint;
mod migrate;
mod parse;
mod publish;
mod rules;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand; returns the exit status.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Lint(args) => lint::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Parse(args) => parse::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Action(args) => action::run(&args),
        Command::Publish(args) => publish::run(&args),
        Command::Serve(args) => crate::serve::run(&args),
        Command::Migrate(command) => migrate::run(&command),
    }
}
