//! Rule documentation, generated from the rules themselves: `layercake
//! explain` prints it and `docs/rules/` holds it (a test keeps them equal).

use crate::equivalents::equivalents_of;
use crate::registry::RULES;
use crate::rule::RuleMeta;
use std::fmt::Write;

/// The Markdown page of one rule.
pub fn rule_doc_markdown(meta: &RuleMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} {}\n", meta.code, meta.name);
    let _ = writeln!(
        out,
        "Category: **{}** · default severity: **{}** · ONBUILD triggers: **{}**\n\n{}.\n",
        meta.category.as_str(),
        meta.default_severity.as_str(),
        onbuild_word(meta),
        meta.summary
    );
    let equivalents = equivalents_of(meta.code);
    let names = |list: &[&str]| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    // What suppressions written for hadolint and BuildKit name this rule by.
    let _ = writeln!(
        out,
        "hadolint: **{}** · BuildKit check: **{}**\n",
        names(equivalents.hadolint),
        names(equivalents.buildkit)
    );
    out.push_str(meta.doc.trim());
    out.push('\n');
    out
}

/// The index page `docs/rules/README.md`: every rule with a link to its page.
pub fn rules_index_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rules' own documentation (`layercake explain CODE` prints the same text).\n\n\
        An `ONBUILD` instruction registers a trigger that runs in every build `FROM` this image, right after that FROM. \
        The rules marked *checked* in the ONBUILD column also check the triggered instruction, as the instruction it is \
        (`ONBUILD RUN apt-get install …` gets the apt rules' findings, on the ONBUILD line), with the triggers of one stage \
        taken as a stage of their own that starts with the ENV, USER and WORKDIR the stage ends with. \
        The others do not: what they conclude from stage order, the stage graph, the layers below, the rest of the \
        Dockerfile or the build context cannot hold for a child build nobody has written yet. \
        A fix that would add or move whole instructions is not offered on a trigger.\n\n\
        | code | name | category | severity | ONBUILD | summary |\n|---|---|---|---|---|---|\n",
    );
    for rule in RULES {
        let m = rule.meta();
        let _ = writeln!(
            out,
            "| [{}]({}.md) | {} | {} | {} | {} | {} |",
            m.code,
            m.code,
            m.name,
            m.category.as_str(),
            m.default_severity.as_str(),
            onbuild_word(m),
            m.summary
        );
    }
    out
}

/// Whether the rule checks ONBUILD triggers, as the docs say it.
fn onbuild_word(meta: &RuleMeta) -> &'static str {
    let applies = RULES
        .iter()
        .any(|rule| rule.meta().code == meta.code && rule.applies_to_onbuild_triggers());
    if applies { "checked" } else { "not checked" }
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
