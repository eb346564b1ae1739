//! Rule documentation, generated from the rules themselves: `layercake
//! explain` prints it and `docs/rules/` holds it (a test keeps them equal).

use crate::registry::RULES;
use crate::rule::RuleMeta;
use std::fmt::Write;

/// The Markdown page of one rule.
pub fn rule_doc_markdown(meta: &RuleMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} {}\n", meta.code, meta.name);
    let _ = writeln!(
        out,
        "Category: **{}** · default severity: **{}**\n\n{}.\n",
        meta.category.as_str(),
        meta.default_severity.as_str(),
        meta.summary
    );
    out.push_str(meta.doc.trim());
    out.push('\n');
    out
}

/// The index page `docs/rules/README.md`: every rule with a link to its page.
pub fn rules_index_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rules' own documentation (`layercake explain CODE` prints the same text).\n\n| code | name | category | severity | summary |\n|---|---|---|---|---|\n",
    );
    for rule in RULES {
        let m = rule.meta();
        let _ = writeln!(
            out,
            "| [{}]({}.md) | {} | {} | {} | {} |",
            m.code,
            m.code,
            m.name,
            m.category.as_str(),
            m.default_severity.as_str(),
            m.summary
        );
    }
    out
}

/// The sections every rule's documentation has, in order.
pub const DOC_SECTIONS: [&str; 6] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
    "## Equivalents",
];
