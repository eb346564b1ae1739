//! `layercake explain CODE`: a rule's documentation, generated from the rule.

use crate::cli::ExplainArgs;
use layercake_lint::{rule_by_code, rule_by_name};

/// Prints the documentation of one rule.
pub fn run(args: &ExplainArgs) -> anyhow::Result<u8> {
    let Some(rule) = rule_by_code(&args.rule).or_else(|| rule_by_name(&args.rule)) else {
        anyhow::bail!("unknown rule `{}` (see `layercake rules`)", args.rule);
    };
    crate::output::write_stdout(&layercake_lint::rule_doc_markdown(rule.meta()))?;
    Ok(crate::EXIT_OK)
}
