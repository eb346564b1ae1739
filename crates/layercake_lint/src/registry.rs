//! The one table of rules: code → rule. Codes are never reused.
//!
//! Codes by category: LC0xx the file itself, LC1xx multi-stage, LC2xx cache,
//! LC3xx size, LC4xx security, LC5xx correctness. Keep each section in code
//! order.

use crate::rule::Rule;
use crate::rules;

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    // ── file (LC0xx) ──
    &rules::parse_error::ParseError,
    // ── multi-stage (LC1xx) ──
    &rules::copy_from_unknown_stage::CopyFromUnknownStage,
    &rules::unused_stage::UnusedStage,
    &rules::stage_outside_target::StageOutsideTarget,
    // ── cache (LC2xx) ──
    &rules::broad_copy_before_install::BroadCopyBeforeInstall,
    // ── size (LC3xx) ──
    // ── security (LC4xx) ──
    // ── correctness (LC5xx) ──
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
