//! `layercake diff`: the Dockerfiles a change affects, linted at base and at
//! head, their findings classified as new, fixed or unchanged.
//!
//! This is the lint-only form: images are not built, so nothing is measured,
//! and every output says so. The JSON report is documented in
//! `docs/diff-report.md`.

use crate::cli::FailOn as CliFailOn;
use anyhow::Context;
use clap::{Args, ValueEnum};
use layercake_config::{CliOverrides, ConfigResolver, ResolvedSettings};
use layercake_git::{AffectedReason, AffectedTarget, Commit};
use layercake_lint::{FileReport, Finding, lint_source};
use layercake_render::json::applicability_name;
use layercake_syntax::LineIndex;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `version` field of the diff report.
pub const DIFF_REPORT_VERSION: u32 = 1;

/// Why the report has no sizes (`not_measured_reason`).
pub const NOT_MEASURED_REASON: &str =
    "sizes are not measured yet: building images with BuildKit is not implemented in this version";

/// `layercake diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base branch, tag or commit (what the pull request merges into).
    #[arg(long, value_name = "REF")]
    pub base: String,
    /// The head branch, tag or commit (the pull request).
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub head: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// The git repository (any directory inside its work tree).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
    /// Exit 1 when a new finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<CliFailOn>,
}

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For people.
    Text,
    /// The versioned JSON report (docs/diff-report.md).
    Json,
    /// Markdown, for a PR comment or job summary.
    Markdown,
}

/// Runs `layercake diff`; returns the exit status.
pub fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let overrides = CliOverrides {
        fail_on: args.fail_on.map(CliFailOn::to_config),
        ..CliOverrides::default()
    };
    let (report, failed) = build_report(args, &overrides)?;
    let out = match args.format {
        DiffFormat::Json => render_json(&report),
        DiffFormat::Text => render_text(&report),
        DiffFormat::Markdown => render_markdown(&report),
    };
    crate::output::write_stdout(&out).context("writing the report")?;
    Ok(if failed {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    })
}

/// The whole report (serialised as the JSON of `docs/diff-report.md`).
#[derive(Debug, Serialize)]
struct DiffReport {
    version: u32,
    base: RefInfo,
    head: RefInfo,
    merge_base: String,
    measured: bool,
    not_measured_reason: &'static str,
    images: Vec<ImageReport>,
}

#[derive(Debug, Serialize)]
struct RefInfo {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
}

#[derive(Debug, Serialize)]
struct ImageReport {
    dockerfile: String,
    context: String,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    renamed_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_paths: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_path_count: Option<usize>,
    base: Side,
    head: Side,
    findings: Vec<DiffFinding>,
}

#[derive(Debug, Serialize)]
struct Side {
    status: &'static str,
}

impl Side {
    fn of(present: bool) -> Side {
        Side {
            status: if present { "present" } else { "absent" },
        }
    }
}

/// One finding: the fields of the lint JSON finding, plus `change`.
#[derive(Debug, Serialize)]
struct DiffFinding {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    code: &'static str,
    name: &'static str,
    category: &'static str,
    severity: &'static str,
    message: String,
    fix: Option<JsonFix>,
    change: Change,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Change {
    New,
    Fixed,
    Unchanged,
}

fn git_error(error: layercake_git::GitError) -> anyhow::Error {
    anyhow::Error::new(error)
}

/// Resolves the refs, finds the affected targets, lints both sides.
/// Returns the report and whether a new finding fails the run.
fn build_report(args: &DiffArgs, overrides: &CliOverrides) -> anyhow::Result<(DiffReport, bool)> {
    let repo = args.repo.as_path();
    let base = layercake_git::resolve(repo, &args.base).map_err(git_error)?;
    let head = layercake_git::resolve(repo, &args.head).map_err(git_error)?;
    // Pull-request semantics: compare head with the commit it branched from,
    // so changes the base branch made since do not show up as "fixed".
    let fork = layercake_git::merge_base_of(repo, &base, &head).map_err(git_error)?;
    let changes = layercake_git::diff_commits(repo, &fork, &head).map_err(git_error)?;
    let at_base = layercake_git::discover_targets(repo, &fork).map_err(git_error)?;
    let at_head = layercake_git::discover_targets(repo, &head).map_err(git_error)?;
    let affected = layercake_git::affected_targets(&at_base, &at_head, &changes, |path| {
        let bytes = layercake_git::show_file(repo, &head, path).ok().flatten()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    });

    let mut resolver = ConfigResolver::new();
    let mut failed = false;
    let mut images = Vec::with_capacity(affected.len());
    for target in &affected {
        let settings = resolver
            .settings_for(&repo.join(&target.target.dockerfile), overrides)
            .context("reading the configuration")?;
        let image = image_report(repo, &fork, &head, target, &settings)?;
        failed |= image.findings.iter().any(|f| {
            f.change == Change::New
                && layercake_lint::Severity::parse(f.severity)
                    .is_some_and(|severity| settings.fail_on.fails(severity))
        });
        images.push(image);
    }
    let report = DiffReport {
        version: DIFF_REPORT_VERSION,
        base: RefInfo {
            name: args.base.clone(),
            sha: base.sha.clone(),
        },
        head: RefInfo {
            name: args.head.clone(),
            sha: head.sha.clone(),
        },
        merge_base: fork.sha.clone(),
        measured: false,
        not_measured_reason: NOT_MEASURED_REASON,
        images,
    };
    Ok((report, failed))
}

fn shown(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}

fn read_at(repo: &Path, commit: &Commit, path: &Path) -> anyhow::Result<Option<String>> {
    let bytes = layercake_git::show_file(repo, commit, path).map_err(git_error)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

fn image_report(
    repo: &Path,
    fork: &Commit,
    head: &Commit,
    affected: &AffectedTarget,
    settings: &ResolvedSettings,
) -> anyhow::Result<ImageReport> {
    let head_path = affected.target.dockerfile.clone();
    let base_path = match &affected.reason {
        AffectedReason::DockerfileRenamed { from } => from.clone(),
        _ => head_path.clone(),
    };
    let head_text = read_at(repo, head, &head_path)?;
    let base_text = read_at(repo, fork, &base_path)?;
    let lint = |path: &Path, text: &Option<String>| {
        text.as_ref()
            .map(|text| lint_source(&shown(path), text, &settings.lint))
    };
    let head_report = lint(&head_path, &head_text);
    let base_report = lint(&base_path, &base_text);
    let findings = classify(base_report.as_ref(), head_report.as_ref());

    let (reason, renamed_from, changed_paths, changed_path_count) = match &affected.reason {
        AffectedReason::DockerfileAdded => ("dockerfile-added", None, None, None),
        AffectedReason::DockerfileDeleted => ("dockerfile-deleted", None, None, None),
        AffectedReason::DockerfileModified => ("dockerfile-modified", None, None, None),
        AffectedReason::DockerfileRenamed { from } => {
            ("dockerfile-renamed", Some(shown(from)), None, None)
        }
        AffectedReason::ContextChanged { paths, count } => (
            "context-changed",
            None,
            Some(paths.iter().map(|p| shown(p)).collect()),
            Some(*count),
        ),
    };
    Ok(ImageReport {
        dockerfile: shown(&head_path),
        context: shown(&affected.target.context),
        reason,
        renamed_from,
        changed_paths,
        changed_path_count,
        base: Side::of(base_text.is_some()),
        head: Side::of(head_text.is_some()),
        findings,
    })
}

/// The key a finding is matched by across base and head: its code, the
/// trimmed source text of the lines it spans (so moving an instruction does
/// not make its finding new), and its occurrence among findings with the
/// same code and text (so a second identical `COPY . .` is one new finding).
type MatchKey = (&'static str, String, usize);

fn keyed(report: &FileReport) -> Vec<(MatchKey, DiffFindingParts)> {
    let index = LineIndex::new(&report.source);
    let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
    report
        .findings
        .iter()
        .map(|finding| {
            let parts = finding_parts(&report.path, &report.source, &index, finding);
            let text = (parts.line..=parts.end_line.max(parts.line))
                .map(|line| index.line_text(&report.source, line).trim())
                .collect::<Vec<_>>()
                .join("\n");
            let occurrence = seen.entry((finding.code, text.clone())).or_insert(0);
            let key = (finding.code, text, *occurrence);
            *occurrence += 1;
            (key, parts)
        })
        .collect()
}

/// Head findings are `new` or `unchanged`; base findings not in head are `fixed`.
fn classify(base: Option<&FileReport>, head: Option<&FileReport>) -> Vec<DiffFinding> {
    let base_keyed = base.map(keyed).unwrap_or_default();
    let head_keyed = head.map(keyed).unwrap_or_default();
    let base_keys: std::collections::HashSet<&MatchKey> =
        base_keyed.iter().map(|(k, _)| k).collect();
    let head_keys: std::collections::HashSet<&MatchKey> =
        head_keyed.iter().map(|(k, _)| k).collect();
    let mut out = Vec::new();
    for (key, parts) in &head_keyed {
        let change = if base_keys.contains(key) {
            Change::Unchanged
        } else {
            Change::New
        };
        out.push(parts.clone().with(change));
    }
    for (key, parts) in &base_keyed {
        if !head_keys.contains(key) {
            out.push(parts.clone().with(Change::Fixed));
        }
    }
    out
}

/// A fix, as the lint JSON gives it.
#[derive(Clone, Debug, Serialize)]
struct JsonFix {
    description: String,
    applicability: &'static str,
    edits: Vec<JsonEdit>,
}

/// One edit of a fix, as the lint JSON gives it.
#[derive(Clone, Debug, Serialize)]
struct JsonEdit {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    replacement: String,
}

/// A finding's lint-JSON fields, before it is classified.
#[derive(Clone, Debug)]
struct DiffFindingParts {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    code: &'static str,
    name: &'static str,
    category: &'static str,
    severity: &'static str,
    message: String,
    fix: Option<JsonFix>,
}

impl DiffFindingParts {
    fn with(self, change: Change) -> DiffFinding {
        DiffFinding {
            file: self.file,
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            code: self.code,
            name: self.name,
            category: self.category,
            severity: self.severity,
            message: self.message,
            fix: self.fix,
            change,
        }
    }
}

/// The same fields `layercake lint --format json` gives a finding.
fn finding_parts(
    path: &str,
    source: &str,
    index: &LineIndex,
    finding: &Finding,
) -> DiffFindingParts {
    let span = |range: layercake_syntax::TextRange| {
        let start = index.line_column(source, range.start());
        let end = index.line_column(source, range.end().max(range.start()));
        (start, end)
    };
    let (start, end) = span(finding.range);
    let fix = finding.fix.as_ref().map(|fix| {
        let edits: Vec<JsonEdit> = fix
            .edits
            .iter()
            .map(|edit| {
                let (s, e) = span(edit.range);
                JsonEdit {
                    start_line: s.line,
                    start_column: s.column,
                    end_line: e.line,
                    end_column: e.column,
                    replacement: edit.replacement.clone(),
                }
            })
            .collect();
        JsonFix {
            description: fix.description.clone(),
            applicability: applicability_name(fix.applicability),
            edits,
        }
    });
    DiffFindingParts {
        file: path.to_string(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        code: finding.code,
        name: finding.name,
        category: finding.category.as_str(),
        severity: finding.severity.as_str(),
        message: finding.message.clone(),
        fix,
    }
}

fn render_json(report: &DiffReport) -> String {
    // Plain structs of strings and numbers always serialise.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}

fn count(image: &ImageReport, change: Change) -> usize {
    image.findings.iter().filter(|f| f.change == change).count()
}

fn reason_text(image: &ImageReport) -> String {
    match image.reason {
        "dockerfile-added" => "Dockerfile added".to_string(),
        "dockerfile-deleted" => "Dockerfile deleted".to_string(),
        "dockerfile-modified" => "Dockerfile modified".to_string(),
        "dockerfile-renamed" => format!(
            "Dockerfile renamed from {}",
            image.renamed_from.as_deref().unwrap_or("?")
        ),
        _ => {
            let paths = image.changed_paths.clone().unwrap_or_default();
            let total = image.changed_path_count.unwrap_or(paths.len());
            let more = total.saturating_sub(paths.len());
            let mut text = format!("build context changed: {}", paths.join(", "));
            if more > 0 {
                let _ = write!(text, " and {more} more");
            }
            text
        }
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn render_text(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Lint-only report; {NOT_MEASURED_REASON}.");
    let _ = writeln!(
        out,
        "base {} ({}) → head {} ({}), compared from merge-base {}",
        report.base.name,
        short(&report.base.sha),
        report.head.name,
        short(&report.head.sha),
        short(&report.merge_base)
    );
    if report.images.is_empty() {
        out.push_str("\nNo Dockerfile is affected by this change.\n");
        return out;
    }
    for image in &report.images {
        let _ = writeln!(
            out,
            "\n{} (context {}): {}",
            image.dockerfile,
            image.context,
            reason_text(image)
        );
        let _ = writeln!(
            out,
            "  {} new, {} fixed, {} unchanged",
            count(image, Change::New),
            count(image, Change::Fixed),
            count(image, Change::Unchanged)
        );
        for finding in image.findings.iter().filter(|f| f.change == Change::New) {
            let _ = writeln!(
                out,
                "  new  {}:{}:{} {} [{}] {}",
                finding.file,
                finding.line,
                finding.column,
                finding.code,
                finding.severity,
                finding.message
            );
        }
    }
    out
}

fn render_markdown(report: &DiffReport) -> String {
    let mut out = String::from("## layercake diff\n\n");
    let _ = writeln!(out, "> **Lint-only report:** {NOT_MEASURED_REASON}.\n");
    let _ = writeln!(
        out,
        "Base `{}` (`{}`) → head `{}` (`{}`), compared from merge-base `{}`.\n",
        report.base.name,
        short(&report.base.sha),
        report.head.name,
        short(&report.head.sha),
        short(&report.merge_base)
    );
    if report.images.is_empty() {
        out.push_str("No Dockerfile is affected by this change.\n");
        return out;
    }
    out.push_str("| Dockerfile | why | new | fixed | unchanged |\n|---|---|---:|---:|---:|\n");
    for image in &report.images {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            image.dockerfile,
            reason_text(image).replace('|', "\\|"),
            count(image, Change::New),
            count(image, Change::Fixed),
            count(image, Change::Unchanged)
        );
    }
    for image in &report.images {
        let listed: Vec<&DiffFinding> = image
            .findings
            .iter()
            .filter(|f| f.change != Change::Unchanged)
            .collect();
        if listed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### `{}`\n", image.dockerfile);
        for finding in listed {
            let change = match finding.change {
                Change::New => "new",
                Change::Fixed => "fixed",
                Change::Unchanged => "unchanged",
            };
            let _ = writeln!(
                out,
                "- **{change}** `{}` {} line {}: {}",
                finding.code, finding.severity, finding.line, finding.message
            );
        }
    }
    out
}
