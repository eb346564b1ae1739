//! The one table of rules: code → rule. Codes are never reused.

use crate::rule::Rule;
use crate::rules;

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &rules::parse_error::ParseError,
    &rules::copy_from_unknown_stage::CopyFromUnknownStage,
    &rules::unused_stage::UnusedStage,
    &rules::stage_outside_target::StageOutsideTarget,
    &rules::broad_copy_before_install::BroadCopyBeforeInstall,
];

/// The rule with `code` (e.g. `LC201`), case-insensitively.
pub fn rule_by_code(code: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}

/// The rule named `name` (e.g. `broad-copy-before-install`).
pub fn rule_by_name(name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().name == name)
}
