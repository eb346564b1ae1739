//! `layercake explain CODE`: a rule's documentation, generated from the rule.

use crate::cli::ExplainArgs;
use layercake_lint::{rule_by_code, rule_by_name, rules_for_buildkit_check, rules_for_hadolint};

/// Prints the documentation of one rule, or of the rules a hadolint code or
/// a BuildKit check name stands for.
pub fn run(args: &ExplainArgs) -> anyhow::Result<u8> {
    let rules: Vec<_> = match rule_by_code(&args.rule).or_else(|| rule_by_name(&args.rule)) {
        Some(rule) => vec![rule],
        None => rules_for_hadolint(&args.rule)
            .into_iter()
            .chain(rules_for_buildkit_check(&args.rule))
            .filter_map(rule_by_code)
            .collect(),
    };
    if rules.is_empty() {
        anyhow::bail!(
            "unknown rule `{}` (see `layercake rules`; hadolint codes and BuildKit checks without a layercake rule are listed in docs/comparison.md)",
            args.rule
        );
    }
    let pages: Vec<String> = rules
        .iter()
        .map(|rule| layercake_lint::rule_doc_markdown(rule.meta()))
        .collect();
    crate::output::write_stdout(&pages.join("\n"))?;
    Ok(crate::EXIT_OK)
}
