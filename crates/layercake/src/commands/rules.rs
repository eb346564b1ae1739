//! `layercake rules`: every rule, one line each.

use crate::cli::{ListFormat, RulesArgs};
use layercake_lint::RULES;
use serde_json::json;
use std::fmt::Write;

/// Lists the rules.
pub fn run(args: &RulesArgs) -> anyhow::Result<u8> {
    let text = match args.format {
        ListFormat::Text => rules_table(),
        ListFormat::Json => {
            let rules: Vec<_> = RULES
                .iter()
                .map(|r| {
                    let m = r.meta();
                    json!({"code": m.code, "name": m.name, "category": m.category.as_str(),
                           "severity": m.default_severity.as_str(), "summary": m.summary})
                })
                .collect();
            serde_json::to_string_pretty(&rules)? + "\n"
        }
    };
    crate::output::write_stdout(&text)?;
    Ok(crate::EXIT_OK)
}

/// The rules as an aligned table.
pub fn rules_table() -> String {
    let name_width = RULES.iter().map(|r| r.meta().name.len()).max().unwrap_or(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<6} {:<name_width$} {:<12} {:<8} summary",
        "code", "name", "category", "severity"
    );
    for rule in RULES {
        let m = rule.meta();
        let _ = writeln!(
            out,
            "{:<6} {:<name_width$} {:<12} {:<8} {}",
            m.code,
            m.name,
            m.category.as_str(),
            m.default_severity.as_str(),
            m.summary
        );
    }
    out
}
