//! Inline suppressions: `# layercake ignore=CODE` comments in the Dockerfile.
//!
//! - `# layercake ignore=LC201,LC202` on the comment lines directly above an
//!   instruction (other comment lines may stand between; a blank line breaks
//!   the link) suppresses those rules' findings that start inside the instruction.
//! - `# layercake ignore-file=LC201` anywhere suppresses those rules everywhere.
//!
//! Codes are matched case-insensitively and rule names are accepted too
//! (`broad-copy-before-install`). Codes may be separated by commas and/or
//! spaces; text after ` -- ` is a free reason. A code no rule has is returned
//! as an [`UnknownSuppression`] so the caller can report it.

use crate::finding::Finding;
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
            let ignore = read_ignore_comment(comment, source);
            if let Some(ignore) = &ignore {
                suppressions.unknown.extend(ignore.unknown.iter().cloned());
                if ignore.scope == Scope::File {
                    suppressions.file.extend(ignore.codes.iter().copied());
                }
            }
            ignores_by_line.insert(index.line_of(comment.range.start()), ignore);
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

    /// Codes in suppression comments that no rule has, in file order.
    pub fn unknown(&self) -> &[UnknownSuppression] {
        &self.unknown
    }
}

/// Drops the findings that `# layercake ignore` comments suppress, and returns
/// the codes those comments name that no rule has.
pub fn apply_suppressions(
    dockerfile: &Dockerfile,
    source: &str,
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<UnknownSuppression>) {
    let suppressions = Suppressions::new(dockerfile, source);
    let kept = findings
        .into_iter()
        .filter(|f| !suppressions.is_suppressed(f))
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
    fn a_suppression_above_the_first_instruction_works_after_directives() {
        let source = "# syntax=docker/dockerfile:1\n# layercake ignore=LC001\nFROM a\n";
        let (kept, _) = run(source, &[("LC001", "FROM a")]);
        assert!(kept.is_empty());
    }
}
