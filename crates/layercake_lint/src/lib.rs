//! layercake's linter: rules over the Dockerfile model, producing findings with fixes.
#![deny(missing_docs)]

mod base_image;
mod build_context;
mod build_step;
mod dependency_install;
mod docs;
mod equivalents;
mod finding;
mod fix;
mod onbuild;
mod package_install;
mod registry;
mod rule;
pub mod rules;
mod settings;
mod shell_command;
mod shipped_stages;
mod similar;
mod suppression;

pub use build_context::BuildContextInfo;
pub use docs::{DOC_SECTIONS, rule_doc_markdown, rules_index_markdown};
pub use equivalents::{
    EQUIVALENTS, Equivalents, equivalents_markdown, equivalents_of, rules_for_buildkit_check,
    rules_for_hadolint,
};
pub use finding::{Applicability, Category, Edit, FileReport, Finding, Fix, Severity, code_span};
pub use fix::apply_fixes;
pub use package_install::is_build_package;
pub use registry::{RULES, rule_by_code, rule_by_name};
pub use rule::{FindingSink, FindingSubject, LintContext, Rule, RuleMeta};
pub use settings::LintSettings;
pub use suppression::{Suppressions, UnknownSuppression, apply_suppressions};

use layercake_model::{DockerfileModel, ModelOptions};
use layercake_syntax::LineIndex;

/// Parses, models and lints one Dockerfile.
pub fn lint_source(path: &str, source: &str, settings: &LintSettings) -> FileReport {
    lint_source_in_context(path, source, settings, None)
}

/// Parses, models and lints one Dockerfile, with what was seen of its build
/// context (for the `.dockerignore` rules).
pub fn lint_source_in_context(
    path: &str,
    source: &str,
    settings: &LintSettings,
    build_context: Option<&BuildContextInfo>,
) -> FileReport {
    let dockerfile = layercake_syntax::parse(source);
    let model = DockerfileModel::new(
        &dockerfile,
        source,
        &ModelOptions {
            target: settings.target.clone(),
            ..ModelOptions::default()
        },
    );
    let line_index = LineIndex::new(source);
    let ctx = LintContext {
        path,
        source,
        dockerfile: &dockerfile,
        model: &model,
        line_index: &line_index,
        build_context,
        run_commands: &run_commands_of(&dockerfile),
    };
    let mut findings = run_rules(&ctx, settings, |_| true);
    // A trigger runs in a child build, from that build's context.
    for triggers in onbuild::trigger_files(&dockerfile, &model, source) {
        let ctx = LintContext {
            dockerfile: &triggers.dockerfile,
            model: &triggers.model,
            build_context: None,
            run_commands: &run_commands_of(&triggers.dockerfile),
            ..ctx
        };
        for mut finding in run_rules(&ctx, settings, |rule| rule.applies_to_onbuild_triggers()) {
            triggers.confine_fix(&mut finding);
            findings.push(finding);
        }
    }
    let (mut findings, _unknown) = apply_suppressions(&dockerfile, source, findings);
    // Where BuildKit cannot parse the file, edits computed from the recovered
    // tree may land in the wrong place (inside an unterminated heredoc, say):
    // the findings stand, their fixes wait until the file parses.
    if !dockerfile.is_ok() {
        for finding in &mut findings {
            finding.fix = None;
        }
    }
    findings.sort_by(|a, b| (a.range.start, a.code).cmp(&(b.range.start, b.code)));
    FileReport {
        path: path.to_string(),
        source: source.to_string(),
        findings,
    }
}

/// The simple commands of each instruction, split once per file.
fn run_commands_of(
    dockerfile: &layercake_syntax::Dockerfile,
) -> Vec<Vec<shell_command::SimpleCommand>> {
    dockerfile
        .instructions
        .iter()
        .map(shell_command::run_commands)
        .collect()
}

/// The findings of the enabled rules that `applies` to.
fn run_rules(
    ctx: &LintContext<'_>,
    settings: &LintSettings,
    applies: impl Fn(&dyn Rule) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for &rule in RULES {
        let meta = rule.meta();
        if !settings.is_enabled(meta.code) || !applies(rule) {
            continue;
        }
        let mut sink =
            FindingSink::new(meta, settings.severity_of(meta.code, meta.default_severity));
        rule.check(ctx, &mut sink);
        findings.extend(sink.into_findings());
    }
    findings
}
