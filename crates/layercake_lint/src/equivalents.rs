//! The one table of what other tools call layercake's rules: hadolint's DL
//! codes and BuildKit's check names (`docker build --check`).
//!
//! Suppressions users already wrote for those tools go through it:
//! `# hadolint ignore=DL3015`, `.hadolint.yaml` and BuildKit's
//! `# check=skip=JSONArgsRecommended` turn off the layercake rules listed
//! here. `layercake explain`, the rule pages and the table in
//! `docs/comparison.md` are generated from it.
//!
//! A name is listed only where the rules report the same problem, so that
//! silencing one silences the other and nothing more: DL1000 (hadolint's own
//! parser failing, mostly on files BuildKit accepts) is not LC001, and DL3010
//! (use ADD to extract archives) is not LC301.

use crate::registry::RULES;

/// What other tools call one layercake rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Equivalents {
    /// The layercake rule.
    pub code: &'static str,
    /// hadolint's codes for the same problem.
    pub hadolint: &'static [&'static str],
    /// BuildKit's checks for the same problem.
    pub buildkit: &'static [&'static str],
}

/// Every layercake rule that another tool has, in code order.
pub static EQUIVALENTS: &[Equivalents] = &[
    rule("LC002", &[], &["NoEmptyContinuation"]),
    rule("LC101", &["DL3022"], &[]),
    rule("LC104", &["DL3022", "DL3023"], &[]),
    rule("LC105", &["DL3024"], &["DuplicateStageName"]),
    rule("LC106", &["DL3067"], &[]),
    rule("LC206", &[], &["CopyIgnoredFile"]),
    rule("LC302", &["DL3015"], &[]),
    rule("LC303", &["DL3009"], &[]),
    rule("LC304", &["DL3019"], &[]),
    rule("LC305", &["DL3042"], &[]),
    rule("LC306", &["DL3060"], &[]),
    rule("LC307", &["DL3032", "DL3036", "DL3040"], &[]),
    rule("LC309", &["DL3020"], &[]),
    rule("LC401", &["DL3002"], &[]),
    rule("LC402", &["DL3064"], &["SecretsUsedInArgOrEnv"]),
    rule("LC403", &["DL3006", "DL3007"], &[]),
    rule("LC405", &["DL3004"], &[]),
    rule("LC501", &["DL3025"], &["JSONArgsRecommended"]),
    rule("LC502", &["DL3000"], &["WorkdirRelativePath"]),
    rule("LC503", &["DL3011"], &["ExposeInvalidFormat"]),
    rule(
        "LC504",
        &["DL3012", "DL4003", "DL4004"],
        &["MultipleInstructionsDisallowed"],
    ),
    rule("LC505", &[], &["UndefinedVar"]),
    rule("LC506", &[], &["UndefinedArgInFrom"]),
    rule("LC507", &["DL3014", "DL3030", "DL3034", "DL3038"], &[]),
    rule("LC508", &["DL3003"], &[]),
    rule("LC509", &["DL3061"], &[]),
    rule("LC511", &["DL3003"], &[]),
    rule("LC512", &["DL3029"], &["FromPlatformFlagConstDisallowed"]),
    rule("LC513", &[], &["InvalidDefaultArgInFrom"]),
    rule("LC514", &[], &["LegacyKeyValueFormat"]),
];

const fn rule(
    code: &'static str,
    hadolint: &'static [&'static str],
    buildkit: &'static [&'static str],
) -> Equivalents {
    Equivalents {
        code,
        hadolint,
        buildkit,
    }
}

/// What other tools call the rule with `code`; empty lists when nothing.
pub fn equivalents_of(code: &'static str) -> Equivalents {
    EQUIVALENTS
        .iter()
        .copied()
        .find(|e| e.code == code)
        .unwrap_or(Equivalents {
            code,
            hadolint: &[],
            buildkit: &[],
        })
}

/// The layercake rules hadolint's `dl_code` (any case) stands for.
pub fn rules_for_hadolint(dl_code: &str) -> Vec<&'static str> {
    EQUIVALENTS
        .iter()
        .filter(|e| e.hadolint.iter().any(|c| c.eq_ignore_ascii_case(dl_code)))
        .map(|e| e.code)
        .collect()
}

/// The layercake rules BuildKit's check `name` (any case, as BuildKit
/// compares them) stands for.
pub fn rules_for_buildkit_check(name: &str) -> Vec<&'static str> {
    EQUIVALENTS
        .iter()
        .filter(|e| e.buildkit.iter().any(|c| c.eq_ignore_ascii_case(name)))
        .map(|e| e.code)
        .collect()
}

/// The table in `docs/comparison.md`, between its `equivalents` markers.
pub fn equivalents_markdown() -> String {
    let mut out = String::from("| layercake | hadolint | BuildKit check |\n|---|---|---|\n");
    let names = |list: &[&str]| {
        if list.is_empty() {
            "—".to_string()
        } else {
            list.join(", ")
        }
    };
    for e in EQUIVALENTS {
        let name = RULES
            .iter()
            .map(|r| r.meta())
            .find(|m| m.code == e.code)
            .map_or("", |m| m.name);
        out.push_str(&format!(
            "| {} {} | {} | {} |\n",
            e.code,
            name,
            names(e.hadolint),
            names(e.buildkit)
        ));
    }
    out
}
