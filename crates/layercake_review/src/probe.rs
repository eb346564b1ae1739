//! The cache-bust probe: change one source file a broad COPY takes, in a
//! scratch copy of the context, rebuild head, and see which steps re-ran.

use crate::progress::Progress;
use crate::side::{ParsedSide, round};
use layercake_build::{BuildRequest, BuildStatus, Docker};
use layercake_dockerignore::DockerIgnore;
use layercake_lint::Rule;
use layercake_lint::rules::broad_copy_before_install::BroadCopyBeforeInstall;
use layercake_measure::{StepMap, choose_probe_file, copy_sources};
use layercake_report::{DiffFinding, ProbeReport, ProbeStatus, ProbeStep};
use std::path::{Path, PathBuf};

/// The rule whose claim the probe tests: a broad `COPY` before an install.
pub(crate) fn probed_rule() -> &'static str {
    BroadCopyBeforeInstall.meta().code
}

/// What the probe decided about one finding.
pub(crate) enum ProbeVerdict {
    /// The COPY re-ran and the steps after it with it.
    Confirmed { evidence: String },
    /// The COPY did not re-run, or takes nothing but manifests.
    Refuted { why: String },
}

/// The probe's report and its verdicts, by finding line.
pub(crate) struct ProbeOutcome {
    pub report: ProbeReport,
    pub verdicts: Vec<(usize, ProbeVerdict)>,
}

/// Where the head build's inputs are.
pub(crate) struct ProbeInput<'a> {
    pub docker: &'a Docker,
    /// The head build's request (context and Dockerfile in the head checkout).
    pub request: &'a BuildRequest,
    pub parsed: &'a ParsedSide,
    /// Head findings of [`probed_rule`]; with `--probe`, may be empty.
    pub findings: &'a [&'a DiffFinding],
    pub progress: &'a dyn Progress,
    pub title: String,
}

/// Runs the probe. `None` when there is nothing to probe (no COPY from the context).
pub(crate) fn run(input: &ProbeInput<'_>) -> Option<ProbeOutcome> {
    let parsed = input.parsed;
    let instruction_at_line = |line: usize| {
        (0..parsed.dockerfile.instructions.len())
            .find(|&i| parsed.lines(i).is_some_and(|(start, _)| start == line))
    };
    // The COPYs under test: the findings', or with --probe every COPY from the
    // context in a stage the target needs.
    let mut copies: Vec<(Option<usize>, usize)> = input
        .findings
        .iter()
        .filter_map(|f| instruction_at_line(f.line).map(|i| (Some(f.line), i)))
        .collect();
    if copies.is_empty() {
        copies = parsed
            .model
            .stages
            .iter()
            .filter(|s| s.reaches_target)
            .flat_map(|s| s.instructions.clone())
            .filter(|&i| copy_sources(&parsed.dockerfile, i).is_some())
            .map(|i| (None, i))
            .collect();
    }
    if copies.is_empty() {
        return None;
    }
    let files = context_files(&input.request.context, &input.request.dockerfile);
    let mut verdicts = Vec::new();
    let mut chosen = None;
    for &(line, copy) in &copies {
        let sources = copy_sources(&parsed.dockerfile, copy).unwrap_or_default();
        match choose_probe_file(&sources, &files) {
            Some(file) => {
                if chosen.is_none() {
                    chosen = Some(file.path);
                }
            }
            None => {
                if let Some(line) = line {
                    verdicts.push((
                        line,
                        ProbeVerdict::Refuted {
                            why: "the COPY takes only dependency manifests from the context, so no source change can re-run the install".to_string(),
                        },
                    ));
                }
            }
        }
    }
    let Some(file) = chosen else {
        return Some(ProbeOutcome {
            report: ProbeReport {
                status: ProbeStatus::NothingToChange,
                file: None,
                error: None,
                duration_seconds: 0.0,
                cached_steps: 0,
                rerun: Vec::new(),
                confirmed: Vec::new(),
                refuted: verdicts
                    .iter()
                    .map(|(line, _)| format!("{} at line {line}", probed_rule()))
                    .collect(),
            },
            verdicts,
        });
    };

    input.progress.note(&format!(
        "{}: probing the cache by changing {file}",
        input.title
    ));
    let scratch = match scratch_context(&input.request.context, &file) {
        Ok(scratch) => scratch,
        Err(error) => {
            return Some(failed(
                file,
                format!("cannot copy the build context: {error}"),
            ));
        }
    };
    let dockerfile = match input
        .request
        .dockerfile
        .strip_prefix(&input.request.context)
    {
        Ok(inside) => scratch.path().join(inside),
        Err(_) => input.request.dockerfile.clone(),
    };
    let request = BuildRequest {
        context: scratch.path().to_path_buf(),
        dockerfile,
        tag: format!("{}-probe", input.request.tag),
        no_cache: false,
        ..input.request.clone()
    };
    let mut bar = input
        .progress
        .build(format!("{} probe", input.title), parsed.expected_steps());
    let outcome = input
        .docker
        .build(&request, &mut |event| bar.on_event(event));
    let _ = input.docker.remove_image(&request.tag);
    if let BuildStatus::Failed { message, .. } = &outcome.status {
        bar.finish("failed");
        return Some(failed(file, format!("the rebuild failed: {message}")));
    }
    if let BuildStatus::TimedOut { after } = &outcome.status {
        bar.finish("timed out");
        return Some(failed(
            file,
            format!("the rebuild timed out after {:.0} s", after.as_secs_f64()),
        ));
    }
    bar.finish(&format!(
        "rebuilt in {:.1} s",
        outcome.duration.as_secs_f64()
    ));

    let map = StepMap::new(&parsed.dockerfile, &parsed.model);
    let mut rerun = Vec::new();
    let mut rerun_instructions = Vec::new();
    let mut cached_steps = 0;
    for step in &outcome.steps {
        let Some((position, _)) = step.position else {
            continue;
        };
        let stage = step.stage.as_deref().unwrap_or("");
        let instruction = map.instruction_of_step(&parsed.dockerfile, stage, position, &step.name);
        let is_from = instruction
            .and_then(|i| parsed.dockerfile.instructions.get(i))
            .is_some_and(|i| i.keyword == layercake_syntax::Keyword::From);
        if step.cached || is_from {
            // A FROM is resolved, not run; BuildKit reports a local one as done.
            cached_steps += 1;
            continue;
        }
        if let Some(instruction) = instruction {
            rerun_instructions.push(instruction);
        }
        rerun.push(ProbeStep {
            line: instruction
                .and_then(|i| parsed.lines(i))
                .map(|(start, _)| start),
            instruction: step.name.clone(),
            seconds: round(step.duration.map_or(0.0, |d| d.as_secs_f64())),
        });
    }

    for &(line, copy) in &copies {
        let Some(line) = line else { continue };
        if verdicts.iter().any(|(l, _)| *l == line) {
            continue;
        }
        let sources = copy_sources(&parsed.dockerfile, copy).unwrap_or_default();
        let takes_file = choose_probe_file(&sources, &[(file.clone(), 0)]).is_some();
        if !takes_file {
            continue; // Another COPY's file: this one was not tested.
        }
        if rerun_instructions.contains(&copy) {
            let stage = parsed.model.stage_of_instruction(copy);
            let after: Vec<&ProbeStep> = rerun
                .iter()
                .zip(&rerun_instructions)
                .filter(|(_, i)| **i > copy && parsed.model.stage_of_instruction(**i) == stage)
                .map(|(s, _)| s)
                .collect();
            let seconds = after.iter().fold(0.0, |sum, s| sum + s.seconds);
            let slowest = after
                .iter()
                .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
                .map(|s| format!("; slowest: {} ({:.1} s)", s.instruction, s.seconds))
                .unwrap_or_default();
            verdicts.push((
                line,
                ProbeVerdict::Confirmed {
                    evidence: format!(
                        "measured: changing {file} re-ran this COPY and {} step{} after it ({seconds:.1} s){slowest}",
                        after.len(),
                        if after.len() == 1 { "" } else { "s" }
                    ),
                },
            ));
        } else {
            let label = map.step_of(copy).map(|(label, _)| label);
            let built = outcome.steps.iter().any(|s| {
                s.position.is_some()
                    && label.is_some_and(|label| {
                        s.stage.as_deref().unwrap_or("").eq_ignore_ascii_case(label)
                    })
            });
            verdicts.push((
                line,
                ProbeVerdict::Refuted {
                    why: if built {
                        format!("changing {file} left this COPY cached")
                    } else {
                        "the target's build never runs this stage, so its cache order costs nothing"
                            .to_string()
                    },
                },
            ));
        }
    }
    let confirmed = verdicts
        .iter()
        .filter(|(_, v)| matches!(v, ProbeVerdict::Confirmed { .. }))
        .map(|(line, _)| format!("{} at line {line}", probed_rule()))
        .collect();
    let refuted = verdicts
        .iter()
        .filter(|(_, v)| matches!(v, ProbeVerdict::Refuted { .. }))
        .map(|(line, _)| format!("{} at line {line}", probed_rule()))
        .collect();
    Some(ProbeOutcome {
        report: ProbeReport {
            status: ProbeStatus::Ran,
            file: Some(file),
            error: None,
            duration_seconds: round(outcome.duration.as_secs_f64()),
            cached_steps,
            rerun,
            confirmed,
            refuted,
        },
        verdicts,
    })
}

fn failed(file: String, error: String) -> ProbeOutcome {
    ProbeOutcome {
        report: ProbeReport {
            status: ProbeStatus::Failed,
            file: Some(file),
            error: Some(error),
            duration_seconds: 0.0,
            cached_steps: 0,
            rerun: Vec::new(),
            confirmed: Vec::new(),
            refuted: Vec::new(),
        },
        verdicts: Vec::new(),
    }
}

/// The context's regular files (path relative to it, size) that the build
/// sends: what its `.dockerignore` excludes is left out.
fn context_files(context: &Path, dockerfile: &Path) -> Vec<(String, u64)> {
    let ignore_text = dockerfile
        .file_name()
        .map(|name| dockerfile.with_file_name(format!("{}.dockerignore", name.to_string_lossy())))
        .and_then(|path| std::fs::read_to_string(path).ok())
        .or_else(|| std::fs::read_to_string(context.join(".dockerignore")).ok());
    let ignore = ignore_text.as_deref().map(DockerIgnore::parse);
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(context.join(&relative)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = relative.join(&name);
            let shown = path.to_string_lossy().replace('\\', "/");
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if ignore
                    .as_ref()
                    .is_none_or(|i| !i.is_excluded(&shown) || i.may_reinclude_under(&shown))
                {
                    pending.push(path);
                }
            } else if meta.is_file() && ignore.as_ref().is_none_or(|i| !i.is_excluded(&shown)) {
                files.push((shown, meta.len()));
            }
        }
    }
    files.sort();
    files
}

/// A copy of the context (the head commit's files) with `file` changed: a line of
/// blanks appended, spaces and tabs spelling a nonce, so that no earlier
/// probe's content (which BuildKit's cache remembers) can match it.
fn scratch_context(context: &Path, file: &str) -> std::io::Result<tempfile::TempDir> {
    let scratch = tempfile::Builder::new()
        .prefix("layercake-probe-")
        .tempdir()?;
    copy_tree(context, scratch.path())?;
    let changed = scratch.path().join(file);
    let mut text = std::fs::read(&changed)?;
    text.extend_from_slice(&blank_nonce());
    std::fs::write(&changed, text)?;
    Ok(scratch)
}

/// `\n` and 48 spaces and tabs from the clock and the process id.
fn blank_nonce() -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let nonce = nanos ^ (u64::from(std::process::id()) << 40);
    let mut out = vec![b'\n'];
    out.extend((0..48).map(|bit| if nonce >> bit & 1 == 1 { b'\t' } else { b' ' }));
    out.push(b'\n');
    out
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
