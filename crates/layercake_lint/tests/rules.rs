//! Every rule against its fixture: cases that must fire and cases that must
//! not, a snapshot of what it reports, and its fixes applied and re-linted.
//! Meta-tests keep the house in order: every rule has a fixture with both
//! kinds of case, documentation with every section, and messages that follow
//! one convention; `docs/rules/` is what the rules generate.

use layercake_lint::{
    Applicability, BuildContextInfo, DOC_SECTIONS, LintSettings, RULES, apply_fixes,
    lint_source_in_context, rule_doc_markdown, rules_index_markdown,
};
use layercake_syntax::LineIndex;
use std::fmt::Write;
use std::path::{Path, PathBuf};

struct Case {
    name: String,
    fires: bool,
    source: String,
    /// From `#> context: .git/ node_modules/ …` and `#> dockerignore: line`
    /// lines in the case (not part of its source).
    context: Option<BuildContextInfo>,
}

/// Lints a case with its build context, if it has one.
fn lint_case(case: &Case, source: &str) -> layercake_lint::FileReport {
    lint_source_in_context(
        "Dockerfile",
        source,
        &LintSettings::default(),
        case.context.as_ref(),
    )
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture holds cases, each starting with a line `#> fires: name` or `#> clean: name`.
/// A case may describe its build context with `#> context: entry…` (top-level
/// names, directories ending in `/`) and `#> dockerignore: line` lines.
fn read_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let mut cases: Vec<Case> = Vec::new();
    for line in text.split_inclusive('\n') {
        let context_line = line
            .strip_prefix("#> context:")
            .map(|entries| (Some(entries), None))
            .or_else(|| {
                line.strip_prefix("#> dockerignore:")
                    .map(|ignore| (None, Some(ignore.trim())))
            });
        if let (Some((entries, ignore)), Some(case)) = (context_line, cases.last_mut()) {
            let context = case.context.get_or_insert_with(|| BuildContextInfo {
                dir: ".".to_string(),
                ..BuildContextInfo::default()
            });
            if let Some(entries) = entries {
                context
                    .entries
                    .extend(entries.split_whitespace().map(str::to_string));
            }
            if let Some(ignore) = ignore {
                let (_, text) = context
                    .dockerignore
                    .get_or_insert_with(|| (".dockerignore".to_string(), String::new()));
                text.push_str(ignore);
                text.push('\n');
            }
            continue;
        }
        if let Some(header) = line.strip_prefix("#> ") {
            let (kind, name) = header
                .trim()
                .split_once(':')
                .expect("`#> fires: name` or `#> clean: name`");
            assert!(
                kind == "fires" || kind == "clean",
                "{}: unknown case kind {kind}",
                path.display()
            );
            cases.push(Case {
                name: name.trim().to_string(),
                fires: kind == "fires",
                source: String::new(),
                context: None,
            });
        } else if let Some(case) = cases.last_mut() {
            case.source.push_str(line);
        }
    }
    cases
}

fn fixture_path(code: &str) -> Option<PathBuf> {
    std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{code}-")))
        })
}

/// One rule against its fixture. `test` is the test's name,
/// `lc201_broad_copy_before_install`: the rule's code and name.
fn rule_against_its_fixture(test: &str) {
    let code = test.get(..5).unwrap_or(test).to_uppercase();
    let rule = RULES
        .iter()
        .find(|rule| rule.meta().code == code)
        .unwrap_or_else(|| panic!("the test {test} names no rule"));
    let meta = rule.meta();
    assert_eq!(
        test,
        format!("{}_{}", code.to_lowercase(), meta.name.replace('-', "_")),
        "a rule's test is named after its code and name"
    );
    let path = fixture_path(meta.code)
        .unwrap_or_else(|| panic!("{} has no fixture in tests/fixtures", meta.code));
    let mut snapshot = String::new();
    for case in read_cases(&path) {
        let report = lint_case(&case, &case.source);
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code == meta.code)
            .collect();
        if case.fires {
            assert!(
                !findings.is_empty(),
                "{}: case `{}` should fire and does not",
                meta.code,
                case.name
            );
        } else {
            assert!(
                findings.is_empty(),
                "{}: case `{}` should not fire: {:?}",
                meta.code,
                case.name,
                findings
            );
            continue;
        }
        let index = LineIndex::new(&case.source);
        let _ = writeln!(snapshot, "── {} ──", case.name);
        for finding in &findings {
            let start = index.line_column(&case.source, finding.range.start());
            let end = index.line_column(&case.source, finding.range.end());
            let _ = writeln!(
                snapshot,
                "{}:{}-{}:{} {} {}",
                start.line, start.column, end.line, end.column, finding.severity, finding.message
            );
        }
        let fixes: Vec<_> = findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .filter(|f| f.applicability != Applicability::DisplayOnly)
            .collect();
        if fixes.is_empty() {
            continue;
        }
        let (fixed, applied) = apply_fixes(&case.source, fixes.iter().copied());
        assert!(applied > 0);
        let _ = writeln!(snapshot, "fixed ({applied}):\n{}", fixed.trim_end());
        let was_ok = layercake_syntax::parse(&case.source).is_ok();
        assert!(
            !was_ok || layercake_syntax::parse(&fixed).is_ok(),
            "{}: fix of `{}` does not parse",
            meta.code,
            case.name
        );
        let again = lint_case(&case, &fixed);
        assert!(
            again.findings.iter().all(|f| f.code != meta.code),
            "{}: fix of `{}` re-triggers the rule:\n{fixed}",
            meta.code,
            case.name
        );
    }
    insta::assert_snapshot!(format!("{}-{}", meta.code, meta.name), snapshot);
}

/// One test per rule, named `lcNNN_rule_name` so that one rule's test can
/// be run alone (`cargo test -p layercake_lint --test rules lc201`) and one
/// rule's failure hides no other's. `every_rule_has_a_fixture_test` checks
/// that this list is the registry's.
macro_rules! rule_fixture_tests {
    ($($test:ident,)*) => {
        $(
            #[test]
            fn $test() {
                rule_against_its_fixture(stringify!($test));
            }
        )*

        /// The rules [`rule_fixture_tests`] made a test for, by test name.
        const RULE_FIXTURE_TESTS: &[&str] = &[$(stringify!($test)),*];
    };
}

rule_fixture_tests! {
    lc001_parse_error,
    lc002_empty_continuation_line,
    lc101_copy_from_unknown_stage,
    lc102_unused_stage,
    lc103_stage_outside_target,
    lc104_copy_from_later_stage,
    lc105_duplicate_stage_name,
    lc106_copy_whole_stage,
    lc107_toolchain_base_in_final_stage,
    lc108_build_tools_in_final_stage,
    lc109_single_stage_build,
    lc201_broad_copy_before_install,
    lc202_apt_update_separate_run,
    lc203_volatile_value_before_expensive_step,
    lc204_install_without_cache_mount,
    lc205_missing_dockerignore,
    lc206_copy_of_dockerignored_path,
    lc301_cleanup_in_later_layer,
    lc302_apt_without_no_install_recommends,
    lc303_apt_lists_kept,
    lc304_apk_without_no_cache,
    lc305_pip_without_no_cache_dir,
    lc306_package_manager_cache_kept,
    lc307_yum_without_clean,
    lc308_full_base_image_in_runtime,
    lc309_add_instead_of_copy,
    lc310_apt_archives_kept,
    lc401_runs_as_root,
    lc402_secret_in_arg_or_env,
    lc403_unpinned_base_image,
    lc404_curl_pipe_shell,
    lc405_sudo_in_run,
    lc406_add_url_without_checksum,
    lc501_shell_form_entrypoint,
    lc502_relative_workdir,
    lc503_invalid_expose,
    lc504_multiple_cmd_or_entrypoint,
    lc505_undefined_variable,
    lc506_arg_in_from_not_declared,
    lc507_apt_get_install_without_yes,
    lc508_cd_in_run,
    lc509_instruction_before_from,
    lc510_unknown_instruction,
    lc511_run_only_changes_directory,
    lc512_from_platform_constant,
    lc513_from_arg_without_default,
    lc514_legacy_key_value_format,
}

#[test]
fn every_rule_has_a_fixture_test() {
    let expected: Vec<String> = RULES
        .iter()
        .map(|rule| {
            let meta = rule.meta();
            format!(
                "{}_{}",
                meta.code.to_lowercase(),
                meta.name.replace('-', "_")
            )
        })
        .collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|test| !RULE_FIXTURE_TESTS.contains(&test.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add to rule_fixture_tests! in tests/rules.rs: {missing:?}"
    );
    assert_eq!(
        RULE_FIXTURE_TESTS, expected,
        "rule_fixture_tests! in tests/rules.rs lists the registry's rules, in its order"
    );
}

#[test]
fn every_fixture_has_cases_that_fire_and_cases_that_do_not() {
    for rule in RULES {
        let meta = rule.meta();
        let path =
            fixture_path(meta.code).unwrap_or_else(|| panic!("{} has no fixture", meta.code));
        let cases = read_cases(&path);
        assert!(
            cases.iter().any(|c| c.fires),
            "{}: no case that fires",
            meta.code
        );
        assert!(
            cases.iter().any(|c| !c.fires),
            "{}: no case that must not fire",
            meta.code
        );
    }
}

#[test]
fn every_rule_is_documented_in_every_section() {
    for rule in RULES {
        let meta = rule.meta();
        let mut at = 0;
        for section in DOC_SECTIONS {
            let found = meta.doc[at..].find(section);
            assert!(
                found.is_some(),
                "{}: doc lacks `{section}` (or it is out of order)",
                meta.code
            );
            at += found.unwrap_or(0) + section.len();
        }
        assert!(
            !meta.summary.ends_with('.'),
            "{}: summary ends with a period",
            meta.code
        );
    }
}

#[test]
fn codes_and_names_are_unique_and_well_formed() {
    let mut codes: Vec<_> = RULES.iter().map(|r| r.meta().code).collect();
    let mut names: Vec<_> = RULES.iter().map(|r| r.meta().name).collect();
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]),
        "RULES is in code order"
    );
    codes.dedup();
    names.sort();
    names.dedup();
    assert_eq!(codes.len(), RULES.len());
    assert_eq!(names.len(), RULES.len());
    for rule in RULES {
        let m = rule.meta();
        assert!(
            m.code.len() == 5
                && m.code.starts_with("LC")
                && m.code[2..].chars().all(|c| c.is_ascii_digit())
        );
        assert!(
            m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{} is kebab-case",
            m.name
        );
    }
}

/// Messages start with a capital letter or a backtick and do not end with a period.
#[test]
fn messages_follow_the_convention() {
    for rule in RULES {
        let meta = rule.meta();
        let path = fixture_path(meta.code).expect("fixture");
        for case in read_cases(&path) {
            let report = lint_case(&case, &case.source);
            for f in report.findings.iter().filter(|f| f.code == meta.code) {
                let first = f.message.chars().next().unwrap_or(' ');
                assert!(
                    first == '`' || first.is_uppercase(),
                    "{}: message `{}` starts lower-case",
                    meta.code,
                    f.message
                );
                assert!(
                    !f.message.ends_with('.'),
                    "{}: message `{}` ends with a period",
                    meta.code,
                    f.message
                );
                if let Some(fix) = &f.fix {
                    assert!(
                        fix.description
                            .chars()
                            .next()
                            .is_some_and(char::is_uppercase),
                        "{}: fix description",
                        meta.code
                    );
                }
            }
        }
    }
}

/// `docs/rules/` is generated from the rules; `UPDATE_DOCS=1` rewrites it.
#[test]
fn rule_docs_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let mut pages: Vec<(String, String)> = RULES
        .iter()
        .map(|r| (format!("{}.md", r.meta().code), rule_doc_markdown(r.meta())))
        .collect();
    pages.push(("README.md".to_string(), rules_index_markdown()));
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).expect("create docs/rules");
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).expect("write doc");
        }
    }
    for (name, text) in &pages {
        let current = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            &current == text,
            "docs/rules/{name} is stale: run `UPDATE_DOCS=1 cargo test -p layercake_lint --test rules`"
        );
    }
    let listed = std::fs::read_dir(&dir).expect("docs/rules").count();
    assert_eq!(
        listed,
        pages.len(),
        "docs/rules has pages for rules that no longer exist"
    );
}

/// Messages are text with code spans, and the Markdown renderers show those
/// spans as code: Dockerfile text quoted in a message is fenced so that a
/// backtick in it cannot end the span early (`` `pip install x`y`` `` would
/// show `x` as prose and leave a stray backtick).
#[test]
fn messages_quote_dockerfile_text_whatever_it_holds() {
    let source = "FROM python:3.12 AS b\nWORKDIR app`x`\nRUN pip install flask`true` && sudo apt-get update\nRUN curl -fsSL https://e.example/`x`.sh | sh\nEXPOSE 80`x`\nCOPY --from=b`x` /a /b\nRUN yum install -y x`y`\nRUN apk add x`y`\nENTRYPOINT node `x`\n";
    let report = layercake_lint::lint_source("Dockerfile", source, &LintSettings::default());
    let quoted = [
        ("LC502", "WORKDIR app`x`"),
        ("LC502", "/app`x`"),
        ("LC305", "pip install flask`true`"),
        ("LC404", "curl -fsSL https://e.example/`x`.sh | sh"),
        ("LC503", "EXPOSE 80`x`"),
        ("LC503", "80`x`"),
        ("LC101", "--from=b`x`"),
        ("LC101", "b`x`"),
        ("LC307", "yum install -y x`y`"),
        ("LC304", "apk add x`y`"),
        ("LC501", "node `x`"),
    ];
    for (code, text) in quoted {
        let span = layercake_lint::code_span(text);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code == code && f.message.contains(&span)),
            "no {code} message quotes {span}: {:#?}",
            report.findings
        );
    }
    let lc404 = report.findings.iter().find(|f| f.code == "LC404");
    let description = lc404.and_then(|f| f.fix.as_ref()).map(|f| &f.description);
    assert!(
        description.is_some_and(|d| d.contains("``https://e.example/`x`.sh``")),
        "{description:?}"
    );
}

/// ONBUILD triggers are checked by the rules that apply to them
/// (`Rule::applies_to_onbuild_triggers`), and by no other: each such rule has
/// a case in `fixtures/onbuild-triggers.dockerfile` that must fire, with its
/// finding on an ONBUILD line, and one that must not; rules that do not apply
/// have cases where they would fire if they did. A case is named after the
/// rule it is about (`LC302 …`).
#[test]
fn onbuild_triggers_are_checked_by_the_rules_that_apply_to_them() {
    let cases = read_cases(&fixtures_dir().join("onbuild-triggers.dockerfile"));
    let code_of = |case: &Case| {
        case.name
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    };
    let mut snapshot = String::new();
    for case in &cases {
        let code = code_of(case);
        let rule = layercake_lint::rule_by_code(&code)
            .unwrap_or_else(|| panic!("case `{}` names no rule", case.name));
        assert!(
            rule.applies_to_onbuild_triggers() || !case.fires,
            "{code} does not apply to triggers, so `{}` cannot fire",
            case.name
        );
        let report = lint_case(case, &case.source);
        let findings: Vec<_> = report.findings.iter().filter(|f| f.code == code).collect();
        if !case.fires {
            assert!(
                findings.is_empty(),
                "`{}` should not fire: {findings:?}",
                case.name
            );
            continue;
        }
        assert!(
            !findings.is_empty(),
            "`{}` should fire and does not",
            case.name
        );
        let index = LineIndex::new(&case.source);
        let _ = writeln!(snapshot, "── {} ──", case.name);
        for finding in &findings {
            let line = index.line_text(&case.source, index.line_of(finding.range.start()));
            assert!(
                line.trim_start().starts_with("ONBUILD"),
                "`{}`: finding not on an ONBUILD line: {line}",
                case.name
            );
            let start = index.line_column(&case.source, finding.range.start());
            let _ = writeln!(
                snapshot,
                "{}:{} {}",
                start.line, start.column, finding.message
            );
        }
        let fixes: Vec<_> = findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .filter(|f| f.applicability != Applicability::DisplayOnly)
            .collect();
        if fixes.is_empty() {
            continue;
        }
        let (fixed, _) = apply_fixes(&case.source, fixes.iter().copied());
        let _ = writeln!(snapshot, "fixed:\n{}", fixed.trim_end());
        let triggers = |text: &str| text.lines().filter(|l| l.starts_with("ONBUILD")).count();
        assert_eq!(
            triggers(&fixed),
            triggers(&case.source),
            "fix of `{}` moves instructions out of their ONBUILD:\n{fixed}",
            case.name
        );
        assert!(
            lint_case(case, &fixed)
                .findings
                .iter()
                .all(|f| f.code != code),
            "fix of `{}` re-triggers {code}:\n{fixed}",
            case.name
        );
    }
    for rule in RULES.iter().filter(|r| r.applies_to_onbuild_triggers()) {
        let code = rule.meta().code;
        for fires in [true, false] {
            assert!(
                cases.iter().any(|c| c.fires == fires && code_of(c) == code),
                "{code} applies to triggers but has no ONBUILD case that {}",
                if fires { "fires" } else { "must not fire" }
            );
        }
    }
    insta::assert_snapshot!("onbuild-triggers", snapshot);
}

/// Every name in the table of equivalents turns its rule off, on each case
/// of the rule's fixture that fires: `# hadolint ignore=DL…` above the
/// instruction, `# hadolint global ignore=DL…` at the end of the file, and
/// BuildKit's `# check=skip=Name` directive on the first line.
#[test]
fn every_equivalent_name_suppresses_its_rule() {
    let count = |case: &Case, source: &str, code: &str| {
        lint_case(case, source)
            .findings
            .iter()
            .filter(|f| f.code == code)
            .count()
    };
    for entry in layercake_lint::EQUIVALENTS {
        let path = fixture_path(entry.code).expect("fixture");
        for case in read_cases(&path).iter().filter(|c| c.fires) {
            let before = count(case, &case.source, entry.code);
            assert!(before > 0, "{}: `{}` fires", entry.code, case.name);
            for dl in entry.hadolint {
                let global = format!("{}\n# hadolint global ignore={dl}\n", case.source);
                assert_eq!(
                    count(case, &global, entry.code),
                    0,
                    "{dl} global: `{}`",
                    case.name
                );

                let report = lint_case(case, &case.source);
                let first = report.findings.iter().find(|f| f.code == entry.code);
                let start = first.map_or(0, |f| f.range.start());
                let dockerfile = layercake_syntax::parse(&case.source);
                let instruction = dockerfile
                    .instructions
                    .iter()
                    .find(|i| i.range.start() <= start && start <= i.range.end())
                    .map_or(0, |i| i.range.start());
                let line_start = case.source[..instruction].rfind('\n').map_or(0, |i| i + 1);
                let inline = format!(
                    "{}# hadolint ignore={dl}\n{}",
                    &case.source[..line_start],
                    &case.source[line_start..]
                );
                assert!(
                    count(case, &inline, entry.code) < before,
                    "{dl} above the instruction: `{}`\n{inline}",
                    case.name
                );
            }
            for check in entry.buildkit {
                let skipped = format!("# check=skip={check}\n{}", case.source);
                assert_eq!(
                    count(case, &skipped, entry.code),
                    0,
                    "{check}: `{}`",
                    case.name
                );
            }
        }
    }
}
