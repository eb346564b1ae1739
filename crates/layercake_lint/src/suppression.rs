//! Suppressions: comments in the Dockerfile that turn findings off.
//!
//! layercake's own:
//! - `# layercake ignore=LC201,LC202` on the comment lines directly above an
//!   instruction (other comment lines may stand between; a blank line breaks
//!   the link) suppresses those rules' findings that start inside the instruction.
//! - `# layercake ignore-file=LC201` anywhere suppresses those rules everywhere.
//!
//! Codes are matched case-insensitively and rule names are accepted too
//! (`broad-copy-before-install`). Codes may be separated by commas and/or
//! spaces; text after ` -- ` is a free reason. A code no rule has is returned
//! as an [`UnknownSuppression`] so the caller can report it.
//!
//! And those written for other tools, through the table of equivalent names
//! (`equivalents.rs`):
//! - hadolint's `# hadolint ignore=DL3015,DL3009` (placed like
//!   `layercake ignore`) and `# hadolint global ignore=DL3015` (the whole
//!   file) suppress the layercake rules those DL codes stand for. Codes with
//!   no layercake rule (ShellCheck's, DL3008) are hadolint's business: they
//!   are neither applied nor reported.
//! - BuildKit's `# check=skip=JSONArgsRecommended,…` parser directive
//!   suppresses the rules those checks stand for in the whole file;
//!   `skip=all` every rule that has a BuildKit check. `error=true` (BuildKit
//!   then fails the build on a check's warning) raises the findings of the
//!   rules with a BuildKit check that is not skipped to `error`.

use crate::equivalents::{EQUIVALENTS, rules_for_buildkit_check, rules_for_hadolint};
use crate::finding::Finding;
use crate::finding::Severity;
use crate::registry::{rule_by_code, rule_by_name};
use layercake_syntax::{Comment, Dockerfile, LineIndex, TextRange};
use std::collections::{BTreeSet, HashMap};

/// A suppression comment names a code that no rule has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownSuppression {
    /// The code or name as written.
    pub code: String,
    /// Where the code is written, inside the comment.
    pub range: TextRange,
    /// The whole comment line, from `#`.
    pub comment: TextRange,
}

/// Whether a suppression covers one instruction or the whole file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Instruction,
    File,
}

/// One `layercake ignore…` comment, read.
struct IgnoreComment {
    scope: Scope,
    codes: BTreeSet<&'static str>,
    unknown: Vec<UnknownSuppression>,
}

/// The suppressions of one Dockerfile.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    file: BTreeSet<&'static str>,
    /// Instruction range → the codes suppressed inside it.
    instructions: Vec<(TextRange, BTreeSet<&'static str>)>,
    /// Rules whose findings are errors (`# check=error=true`).
    errors: BTreeSet<&'static str>,
    unknown: Vec<UnknownSuppression>,
}

impl Suppressions {
    /// Reads every suppression comment of `dockerfile` (parsed from `source`).
    pub fn new(dockerfile: &Dockerfile, source: &str) -> Suppressions {
        let mut suppressions = Suppressions::default();
        let index = LineIndex::new(source);

        // Comment lines by line number; each links upwards to the next instruction.
        let mut ignores_by_line: HashMap<usize, Option<IgnoreComment>> = HashMap::new();
        for comment in &dockerfile.comments {
            let ignore = read_ignore_comment(comment, source)
                .or_else(|| read_hadolint_comment(comment, source));
            if let Some(ignore) = &ignore {
                suppressions.unknown.extend(ignore.unknown.iter().cloned());
                if ignore.scope == Scope::File {
                    suppressions.file.extend(ignore.codes.iter().copied());
                }
            }
            ignores_by_line.insert(index.line_of(comment.range.start()), ignore);
        }
        for directive in dockerfile.directives.iter().filter(|d| d.name == "check") {
            let check = read_check_directive(&directive.value);
            suppressions.file.extend(check.skipped.iter().copied());
            if check.error {
                suppressions.errors.extend(
                    EQUIVALENTS
                        .iter()
                        .filter(|e| !e.buildkit.is_empty() && !check.skipped.contains(e.code))
                        .map(|e| e.code),
                );
            }
        }
        // Parser directives look like comments to a reader: they do not break the link.
        for directive in &dockerfile.directives {
            ignores_by_line
                .entry(index.line_of(directive.range.start()))
                .or_insert(None);
        }

        for instruction in &dockerfile.instructions {
            let mut codes = BTreeSet::new();
            let mut line = index.line_of(instruction.range.start());
            while line > 1 {
                line -= 1;
                match ignores_by_line.get(&line) {
                    Some(Some(ignore)) if ignore.scope == Scope::Instruction => {
                        codes.extend(ignore.codes.iter().copied());
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            if !codes.is_empty() {
                suppressions.instructions.push((instruction.range, codes));
            }
        }
        suppressions
    }

    /// Whether `finding` is suppressed: its rule is ignored file-wide, or in
    /// the instruction its range starts in.
    pub fn is_suppressed(&self, finding: &Finding) -> bool {
        if self.file.contains(finding.code) {
            return true;
        }
        let start = finding.range.start;
        // Inclusive end: an empty range at the end of the instruction's last line is still in it.
        self.instructions.iter().any(|(range, codes)| {
            range.start <= start && start <= range.end && codes.contains(finding.code)
        })
    }

    /// The severity `finding` has in this file: `error` where
    /// `# check=error=true` makes BuildKit fail on its check.
    pub fn severity_of(&self, finding: &Finding) -> Severity {
        if self.errors.contains(finding.code) {
            Severity::Error
        } else {
            finding.severity
        }
    }

    /// Codes in suppression comments that no rule has, in file order.
    pub fn unknown(&self) -> &[UnknownSuppression] {
        &self.unknown
    }
}

/// Drops the findings that suppression comments and `# check=skip=` remove,
/// raises those `# check=error=true` makes errors, and returns the codes
/// `# layercake ignore` comments name that no rule has.
pub fn apply_suppressions(
    dockerfile: &Dockerfile,
    source: &str,
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<UnknownSuppression>) {
    let suppressions = Suppressions::new(dockerfile, source);
    let kept = findings
        .into_iter()
        .filter(|f| !suppressions.is_suppressed(f))
        .map(|f| Finding {
            severity: suppressions.severity_of(&f),
            ..f
        })
        .collect();
    (kept, suppressions.unknown)
}

/// The rule code `selector` names: a code in any case, or a rule name.
fn resolve(selector: &str) -> Option<&'static str> {
    rule_by_code(selector)
        .or_else(|| rule_by_name(&selector.to_ascii_lowercase()))
        .map(|rule| rule.meta().code)
}

/// Reads `# layercake ignore[-file] = CODE[, CODE]… [-- reason]`; `None` for
/// any other comment.
fn read_ignore_comment(comment: &Comment, source: &str) -> Option<IgnoreComment> {
    let line = comment.range.slice(source);
    let body = line.strip_prefix('#')?;
    // Byte offset of `rest` in the source, to give each code its own range.
    let offset_of = |rest: &str| comment.range.start() + (line.len() - rest.len());

    let rest = body.trim_start();
    let rest = strip_prefix_ignore_case(rest, "layercake")?;
    let after_tool = rest.trim_start();
    if after_tool.len() == rest.len() {
        return None; // `# layercakeignore=…` or `# layercake-foo`: not ours.
    }
    let (scope, rest) = if let Some(rest) = strip_prefix_ignore_case(after_tool, "ignore-file") {
        (Scope::File, rest)
    } else {
        (
            Scope::Instruction,
            strip_prefix_ignore_case(after_tool, "ignore")?,
        )
    };
    let rest = rest.trim_start().strip_prefix('=')?;

    let mut ignore = IgnoreComment {
        scope,
        codes: BTreeSet::new(),
        unknown: Vec::new(),
    };
    let mut rest = rest;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let token_len = rest
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        if token_len == 0 {
            break;
        }
        let (token, after) = rest.split_at(token_len);
        if token == "--" || token.starts_with('#') {
            break; // a reason follows
        }
        match resolve(token) {
            Some(code) => {
                ignore.codes.insert(code);
            }
            None => {
                let start = offset_of(rest);
                ignore.unknown.push(UnknownSuppression {
                    code: token.to_string(),
                    range: TextRange::new(start, start + token.len()),
                    comment: comment.range,
                });
            }
        }
        rest = after;
    }
    Some(ignore)
}

/// Reads `# hadolint [global] ignore=DL3015,DL3009`: the layercake rules
/// those codes stand for. `None` for any other comment.
fn read_hadolint_comment(comment: &Comment, source: &str) -> Option<IgnoreComment> {
    let body = comment.range.slice(source).strip_prefix('#')?.trim_start();
    let rest = strip_prefix_ignore_case(body, "hadolint")?;
    let rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
    let (scope, rest) = match strip_prefix_ignore_case(rest, "global") {
        Some(after) if after.starts_with(char::is_whitespace) => (Scope::File, after.trim_start()),
        _ => (Scope::Instruction, rest),
    };
    let list = strip_prefix_ignore_case(rest, "ignore")?
        .trim_start()
        .strip_prefix('=')?;
    let codes = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .take_while(|token| !token.starts_with('#'))
        .flat_map(rules_for_hadolint)
        .collect();
    Some(IgnoreComment {
        scope,
        codes,
        unknown: Vec::new(),
    })
}

/// What BuildKit's `# check=` directive says.
struct CheckDirective {
    /// The rules of the skipped checks.
    skipped: BTreeSet<&'static str>,
    /// `error=true`.
    error: bool,
}

/// Reads the value of `# check=skip=A,B;error=true` as BuildKit does:
/// `;`-separated `key=value` pairs; `skip=all` skips every check.
fn read_check_directive(value: &str) -> CheckDirective {
    let mut check = CheckDirective {
        skipped: BTreeSet::new(),
        error: false,
    };
    for pair in value.split(';') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "skip" => {
                for name in value.split(',').map(str::trim) {
                    if name.eq_ignore_ascii_case("all") {
                        check.skipped.extend(
                            EQUIVALENTS
                                .iter()
                                .filter(|e| !e.buildkit.is_empty())
                                .map(|e| e.code),
                        );
                    } else {
                        check.skipped.extend(rules_for_buildkit_check(name));
                    }
                }
            }
            "error" => check.error = value.trim().eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    check
}

/// `text` without `prefix`, compared ASCII-case-insensitively.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Category, Severity};

    /// A finding of rule `code` starting where `needle` first occurs in `source`.
    fn finding_at(source: &str, code: &'static str, needle: &str) -> Finding {
        let start = source
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in source"));
        Finding {
            code,
            name: "test-rule",
            category: Category::Correctness,
            severity: Severity::Warning,
            message: format!("{code} at {needle}"),
            range: TextRange::new(start, start + needle.len()),
            fix: None,
        }
    }

    /// The messages of the findings left after suppression, and the unknown codes.
    fn run(source: &str, findings: &[(&'static str, &str)]) -> (Vec<String>, Vec<String>) {
        let dockerfile = layercake_syntax::parse(source);
        let findings = findings
            .iter()
            .map(|&(code, needle)| finding_at(source, code, needle));
        let (kept, unknown) = apply_suppressions(&dockerfile, source, findings.collect());
        let kept = kept.into_iter().map(|f| f.message).collect();
        let unknown = unknown.into_iter().map(|u| u.code).collect();
        (kept, unknown)
    }

    #[test]
    fn ignore_above_an_instruction_suppresses_only_there() {
        let source = "FROM alpine\n# layercake ignore=LC001\nRUN one\nRUN two\n";
        let (kept, unknown) = run(source, &[("LC001", "RUN one"), ("LC001", "RUN two")]);
        assert_eq!(kept, ["LC001 at RUN two"]);
        assert!(unknown.is_empty());
    }

    #[test]
    fn ignore_covers_the_whole_instruction_but_not_other_codes() {
        let source = "FROM alpine\n# layercake ignore=LC001\nRUN a \\\n  && b\nRUN c\n";
        let (kept, _) = run(
            source,
            &[("LC001", "&& b"), ("LC002", "RUN a"), ("LC001", "RUN c")],
        );
        assert_eq!(kept, ["LC002 at RUN a", "LC001 at RUN c"]);
    }

    #[test]
    fn other_comment_lines_keep_the_link_and_blank_lines_break_it() {
        let linked = "FROM a\n# layercake ignore=LC001\n# why: legacy base\nRUN x\n";
        assert!(run(linked, &[("LC001", "RUN x")]).0.is_empty());

        let broken = "FROM a\n# layercake ignore=LC001\n\nRUN x\n";
        assert_eq!(run(broken, &[("LC001", "RUN x")]).0, ["LC001 at RUN x"]);
    }

    #[test]
    fn ignore_file_suppresses_everywhere() {
        let source = "FROM a\nRUN x\n# layercake ignore-file=LC001\n\nRUN y\n";
        let (kept, _) = run(
            source,
            &[("LC001", "FROM a"), ("LC001", "RUN y"), ("LC002", "RUN x")],
        );
        assert_eq!(kept, ["LC002 at RUN x"]);
    }

    #[test]
    fn names_case_and_whitespace_are_tolerated() {
        for comment in [
            "#layercake ignore = lc001, LC002",
            "# LayerCake Ignore=parse-error LC002",
            "#   layercake   ignore=  LC001 ,LC002,",
            "# layercake ignore=Parse-Error,lc002 -- reviewed, see #12",
        ] {
            let source = format!("FROM a\n{comment}\nRUN x\n");
            let (kept, unknown) = run(&source, &[("LC001", "RUN x")]);
            assert!(kept.is_empty(), "{comment}: {kept:?}");
            // LC002 may not exist yet; it is the only code allowed to be unknown here.
            assert!(
                unknown.iter().all(|c| c.eq_ignore_ascii_case("LC002")),
                "{comment}: {unknown:?}"
            );
        }
    }

    #[test]
    fn other_comments_are_not_suppressions() {
        for comment in [
            "# layercakeignore=LC001",
            "# layercake ignored LC001",
            "# layercake ignore LC001",
            "# ignore=LC001",
            "# hadolint ignore=LC001",
        ] {
            let source = format!("FROM a\n{comment}\nRUN x\n");
            let (kept, unknown) = run(&source, &[("LC001", "RUN x")]);
            assert_eq!(kept, ["LC001 at RUN x"], "{comment}");
            assert!(unknown.is_empty(), "{comment}");
        }
    }

    #[test]
    fn unknown_codes_are_returned_with_their_ranges() {
        let source =
            "FROM a\n# layercake ignore=LC001,LC9999\nRUN x\n# layercake ignore-file = nope\n";
        let dockerfile = layercake_syntax::parse(source);
        let findings = vec![finding_at(source, "LC001", "RUN x")];
        let (kept, unknown) = apply_suppressions(&dockerfile, source, findings);
        assert!(kept.is_empty(), "the known code still applies");
        let unknown: Vec<_> = unknown
            .iter()
            .map(|u| {
                (
                    u.code.as_str(),
                    u.range.slice(source),
                    u.comment.slice(source),
                )
            })
            .collect();
        assert_eq!(
            unknown,
            [
                ("LC9999", "LC9999", "# layercake ignore=LC001,LC9999"),
                ("nope", "nope", "# layercake ignore-file = nope"),
            ]
        );
    }

    #[test]
    fn a_comment_inside_a_heredoc_is_not_a_suppression() {
        let source = "FROM a\nRUN <<EOF\n# layercake ignore-file=LC001\necho hi\nEOF\nRUN y\n";
        let (kept, _) = run(source, &[("LC001", "RUN y")]);
        assert_eq!(kept, ["LC001 at RUN y"]);
    }

    #[test]
    fn hadolint_ignore_suppresses_the_rules_its_codes_stand_for() {
        // DL3015 is LC302; DL3009 is LC303; DL3008 and SC2086 have no rule.
        let source = "FROM debian\n# hadolint ignore=DL3015, DL3008,SC2086\nRUN a\nRUN b\n";
        let (kept, unknown) = run(
            source,
            &[("LC302", "RUN a"), ("LC303", "RUN a"), ("LC302", "RUN b")],
        );
        assert_eq!(kept, ["LC303 at RUN a", "LC302 at RUN b"]);
        assert!(unknown.is_empty(), "hadolint's own codes are not reported");

        let one_code_many_rules = "FROM a\n#hadolint ignore=dl3022\nCOPY --from=x / /\n";
        let (kept, _) = run(
            one_code_many_rules,
            &[("LC101", "COPY"), ("LC104", "COPY"), ("LC106", "COPY")],
        );
        assert_eq!(kept, ["LC106 at COPY"]);

        let linked = "FROM a\n# hadolint ignore=DL3025\n# why\nCMD x\n";
        assert!(run(linked, &[("LC501", "CMD x")]).0.is_empty());
        let broken = "FROM a\n# hadolint ignore=DL3025\n\nCMD x\n";
        assert_eq!(run(broken, &[("LC501", "CMD x")]).0, ["LC501 at CMD x"]);
    }

    #[test]
    fn hadolint_global_ignore_covers_the_file() {
        let source = "FROM a\nRUN x\n# hadolint global ignore=DL3002,DL3006\nRUN y\n";
        let (kept, _) = run(
            source,
            &[("LC401", "FROM a"), ("LC403", "FROM a"), ("LC302", "RUN y")],
        );
        assert_eq!(kept, ["LC302 at RUN y"]);
        for not_ours in [
            "# hadolint globalignore=DL3002",
            "# hadolintignore=DL3002",
            "# hadolint ignore DL3002",
        ] {
            let source = format!("FROM a\n{not_ours}\nRUN x\n");
            assert_eq!(
                run(&source, &[("LC401", "RUN x")]).0,
                ["LC401 at RUN x"],
                "{not_ours}"
            );
        }
    }

    #[test]
    fn buildkit_check_skip_suppresses_the_rules_of_those_checks() {
        let source = "# check=skip=JSONArgsRecommended,UndefinedVar\nFROM a\nRUN $X\nCMD x\n";
        let (kept, _) = run(
            source,
            &[
                ("LC501", "CMD x"),
                ("LC505", "$X"),
                ("LC502", "RUN"),
                ("LC204", "RUN"),
            ],
        );
        assert_eq!(kept, ["LC502 at RUN", "LC204 at RUN"]);

        let all = "# check=skip=all\nFROM a\nRUN $X\nCMD x\n";
        let (kept, _) = run(
            all,
            &[("LC501", "CMD x"), ("LC505", "$X"), ("LC204", "RUN")],
        );
        assert_eq!(
            kept,
            ["LC204 at RUN"],
            "rules BuildKit has no check for stay"
        );

        // Only a directive counts: after the first instruction it is a comment.
        let late = "FROM a\n# check=skip=all\nCMD x\n";
        assert_eq!(run(late, &[("LC501", "CMD x")]).0, ["LC501 at CMD x"]);
    }

    #[test]
    fn buildkit_check_error_raises_the_rules_with_a_check_to_error() {
        let severities = |source: &str| {
            let dockerfile = layercake_syntax::parse(source);
            let findings = vec![
                finding_at(source, "LC501", "CMD x"),
                finding_at(source, "LC502", "WORKDIR"),
                finding_at(source, "LC204", "RUN"),
            ];
            let (kept, _) = apply_suppressions(&dockerfile, source, findings);
            kept.into_iter()
                .map(|f| format!("{} {}", f.code, f.severity))
                .collect::<Vec<_>>()
        };
        let body = "FROM a\nWORKDIR w\nRUN y\nCMD x\n";
        assert_eq!(
            severities(&format!(
                "# check=skip=WorkdirRelativePath;error=true\n{body}"
            )),
            ["LC501 error", "LC204 warning"]
        );
        assert_eq!(
            severities(&format!("# check=error=false\n{body}")),
            ["LC501 warning", "LC502 warning", "LC204 warning"]
        );
    }

    #[test]
    fn a_suppression_above_the_first_instruction_works_after_directives() {
        let source = "# syntax=docker/dockerfile:1\n# layercake ignore=LC001\nFROM a\n";
        let (kept, _) = run(source, &[("LC001", "FROM a")]);
        assert!(kept.is_empty());
    }
}
