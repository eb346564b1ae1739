//! What a failed build's log says went wrong.
//!
//! The line that names the cause is rarely among a log's last: npm prints advice
//! after its 404, a script goes on after the command that failed, a parallel stage
//! prints until it is canceled. So the whole log is read as it streams, and only the
//! lines that look like a cause are kept, per step, for steps that have not finished:
//! a step that ends `DONE` did not fail, whatever it printed.

use std::collections::VecDeque;

use serde::Serialize;

use crate::progress::{BuildStep, ProgressParser, Status, status_of, vertex_line};

/// The most cause lines a [`FailureCause`] holds.
pub const MAX_CAUSE_LINES: usize = 30;
/// The most cause lines kept of one step: the first, since a tool names the cause
/// before the consequences.
const MAX_STEP_LINES: usize = 20;
/// The most cause lines kept at once over all unfinished steps, so memory stays
/// bounded however many steps run in parallel and however much they print.
const MAX_HELD_LINES: usize = 64;
/// The most lines kept of BuildKit's own messages outside any step.
const MAX_ENGINE_LINES: usize = 8;
/// The last output lines kept of each unfinished step, for a failing step that
/// printed nothing that looks like a cause.
const LAST_OUTPUT_LINES: usize = 5;
/// Longer lines are cut (a pip error lists every version there is).
const MAX_LINE_CHARS: usize = 500;

/// Why a build failed, as its log tells it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FailureCause {
    /// The step that failed, when BuildKit named one.
    pub step: Option<BuildStep>,
    /// The exit code of the failed step's command (BuildKit's `exit code: N`).
    pub exit_code: Option<i32>,
    /// The lines that say why, in the order they were printed, without BuildKit's
    /// `#N 1.234 ` prefix and without repeats: package managers' and compilers'
    /// errors of the failed step (else its last few output lines) and BuildKit's
    /// own error, when it says more than the exit code. Secrets are masked as they
    /// are in the log. At most [`MAX_CAUSE_LINES`].
    pub lines: Vec<String>,
}

/// Picks the cause of a failure out of a whole `--progress=plain` log.
pub fn failure_cause(log: &str) -> FailureCause {
    let mut parser = ProgressParser::default();
    let mut finder = CauseFinder::default();
    for line in log.lines() {
        parser.feed(line);
        finder.feed(line);
    }
    finder.finish(parser.failed_step())
}

/// The output of one step that has not finished yet.
#[derive(Debug)]
struct StepOutput {
    vertex: u32,
    cause: Vec<String>,
    last: VecDeque<String>,
    /// Whether the step's previous line was kept: an indented line right after a
    /// kept one belongs to it (apk's `  x (no such package):`, Go's `\tserver response: …`).
    continuing: bool,
}

/// Where the reader is in BuildKit's error summary:
///
/// ```text
/// ------
///  > [2/3] RUN pip install -r requirements.txt:
/// 0.831 ERROR: Could not find a version that satisfies the requirement …
/// ------
/// ```
///
/// The lines in between (BuildKit 0.9 and later) are the failed step's last output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Summary {
    #[default]
    Outside,
    Opened,
    Inside,
}

/// Reads a build's output one line at a time and keeps what may name the cause.
#[derive(Debug, Default)]
pub(crate) struct CauseFinder {
    running: Vec<StepOutput>,
    held: usize,
    engine: Vec<String>,
    engine_exit_code: Option<i32>,
    failed_vertex: Option<u32>,
    summary: Summary,
}

impl CauseFinder {
    /// Takes one line of output (secrets already masked).
    pub(crate) fn feed(&mut self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some((vertex, text)) = vertex_line(line) {
            self.summary = Summary::Outside;
            if vertex == 0 {
                return;
            }
            match status_of(text) {
                Some(Status::Done(_) | Status::Cached | Status::Canceled) => self.forget(vertex),
                Some(Status::Error(_)) => {
                    self.failed_vertex.get_or_insert(vertex);
                }
                // Without a timestamp it is BuildKit talking: the step's name,
                // `transferring context: 2B done`, `sha256:…`.
                None => {
                    if let Some(output) = after_timestamp(text) {
                        self.output(vertex, output);
                    }
                }
            }
            return;
        }
        let trimmed = line.trim();
        match self.summary {
            Summary::Opened if trimmed.starts_with("> ") && trimmed.ends_with(':') => {
                self.summary = Summary::Inside;
                return;
            }
            Summary::Opened => self.summary = Summary::Outside,
            Summary::Inside if trimmed == "------" => {
                self.summary = Summary::Outside;
                return;
            }
            Summary::Inside => {
                if let Some(vertex) = self.failed_vertex {
                    self.output(vertex, after_timestamp(line).unwrap_or(line));
                }
                return;
            }
            Summary::Outside => {}
        }
        if trimmed == "------" {
            self.summary = Summary::Opened;
            return;
        }
        self.engine_line(trimmed);
    }

    /// The cause, once the build has failed; `failed` is the step that failed.
    pub(crate) fn finish(mut self, failed: Option<&BuildStep>) -> FailureCause {
        let mut lines = Vec::new();
        let mut exit_code = None;
        let mut messages = Vec::new();
        match failed {
            Some(step) => {
                if let Some(at) = self.running.iter().position(|s| s.vertex == step.vertex) {
                    let output = self.running.swap_remove(at);
                    if output.cause.is_empty() {
                        lines.extend(output.last);
                    } else {
                        lines.extend(output.cause);
                    }
                }
                if let Some(error) = step.error.as_deref() {
                    match command_exit_code(error) {
                        Some(code) => exit_code = Some(code),
                        None => messages.push(cut(engine_message(error))),
                    }
                }
            }
            None => {
                for output in self.running {
                    lines.extend(output.cause);
                }
            }
        }
        messages.append(&mut self.engine);
        // BuildKit says the same thing more than once, wrapped more or less
        // (`"/a" not found` in the step, `failed to compute cache key: "/a" not
        // found` at the end): the fullest form is kept.
        let mut kept: Vec<String> = Vec::new();
        for message in messages {
            if kept.iter().any(|k| k.contains(message.as_str())) {
                continue;
            }
            kept.retain(|k| !message.contains(k.as_str()));
            kept.push(message);
        }
        lines.extend(kept);
        let mut seen = Vec::new();
        lines.retain(|line| {
            let key = line.trim().to_string();
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        lines.truncate(MAX_CAUSE_LINES);
        FailureCause {
            step: failed.cloned(),
            exit_code: exit_code.or(self.engine_exit_code),
            lines,
        }
    }

    fn forget(&mut self, vertex: u32) {
        if let Some(at) = self.running.iter().position(|s| s.vertex == vertex) {
            let output = self.running.remove(at);
            self.held -= output.cause.len();
        }
    }

    /// A line the step's command printed.
    fn output(&mut self, vertex: u32, text: &str) {
        let at = match self.running.iter().position(|s| s.vertex == vertex) {
            Some(at) => at,
            None => {
                self.running.push(StepOutput {
                    vertex,
                    cause: Vec::new(),
                    last: VecDeque::with_capacity(LAST_OUTPUT_LINES),
                    continuing: false,
                });
                self.running.len() - 1
            }
        };
        let step = &mut self.running[at];
        let text = text.trim_end();
        if text.trim().is_empty() {
            step.continuing = false;
            return;
        }
        let shown = cut(text);
        let keep = is_cause_line(text) || (step.continuing && text.starts_with([' ', '\t']));
        step.continuing = keep;
        if keep
            && step.cause.len() < MAX_STEP_LINES
            && self.held < MAX_HELD_LINES
            && !step.cause.contains(&shown)
        {
            step.cause.push(shown.clone());
            self.held += 1;
        }
        if step.last.len() == LAST_OUTPUT_LINES {
            step.last.pop_front();
        }
        step.last.push_back(shown);
    }

    /// A line outside any step: BuildKit's summary of the failure, or (from a builder
    /// that does not prefix output) a tool's.
    fn engine_line(&mut self, text: &str) {
        let message = engine_message(text);
        if let Some(code) = command_exit_code(message) {
            self.engine_exit_code.get_or_insert(code);
            return;
        }
        let from_buildkit = message.len() != text.len()
            || text.starts_with("failed to ")
            || text.starts_with("executor failed");
        if message.is_empty() || !(from_buildkit || is_cause_line(text)) {
            return;
        }
        let message = cut(message);
        if self.engine.len() < MAX_ENGINE_LINES && !self.engine.contains(&message) {
            self.engine.push(message);
        }
    }
}

/// The text after BuildKit's `1.234 ` timestamp, or `None` without one.
fn after_timestamp(text: &str) -> Option<&str> {
    let (first, rest) = match text.split_once(' ') {
        Some(split) => split,
        None => (text, ""),
    };
    let (seconds, fraction) = first.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(seconds) && digits(fraction)).then_some(rest)
}

/// BuildKit's message without the wrappers that say only that the build failed:
/// `ERROR: failed to solve: failed to compute cache key: …` → `failed to compute
/// cache key: …`.
fn engine_message(text: &str) -> &str {
    const WRAPPERS: [&str; 6] = [
        "ERROR: ",
        "error: ",
        "failed to build: ",
        "failed to solve with frontend dockerfile.v0: ",
        "failed to create LLB definition: ",
        "failed to solve: ",
    ];
    let mut message = text.trim();
    while let Some(rest) = WRAPPERS.iter().find_map(|w| message.strip_prefix(w)) {
        message = rest.trim_start();
    }
    message
}

/// `N` from BuildKit's message that a step's command exited with it (`executor
/// failed running [/bin/sh -c …]: exit code: N`, `process "/bin/sh -c …" did not
/// complete successfully: exit code: N`), which says no more than the step and its
/// exit code.
fn command_exit_code(message: &str) -> Option<i32> {
    let message = engine_message(message);
    let rest = message
        .strip_prefix("executor failed running [")
        .or_else(|| message.strip_prefix("process \""))?;
    let (_, code) = rest.rsplit_once("exit code: ")?;
    code.trim().parse().ok()
}

/// Go's progress lines, which are not errors.
const GO_PROGRESS: [&str; 9] = [
    "downloading ",
    "finding ",
    "found ",
    "extracting ",
    "added ",
    "upgraded ",
    "downgraded ",
    "removed ",
    "creating new go.mod",
];

/// Whether a line of a step's output looks like it says why the step failed.
fn is_cause_line(text: &str) -> bool {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("npm ERR!").or_else(|| {
        text.strip_prefix("npm error")
            .filter(|r| r.is_empty() || r.starts_with(' '))
    }) {
        return !is_npm_advice(rest.trim());
    }
    if let Some(rest) = text.strip_prefix("go: ") {
        return !GO_PROGRESS.iter().any(|p| rest.starts_with(p));
    }
    const PREFIXES: [&str; 8] = [
        "E: ",
        "/bin/sh: ",
        "sh: ",
        "/bin/bash: ",
        "bash: ",
        "COPY failed",
        "ADD failed",
        "fatal: ",
    ];
    if PREFIXES.iter().any(|p| text.starts_with(p)) {
        return true;
    }
    // `ERROR:` (pip, apk), `error:`, `Error:`, `ModuleNotFoundError:`, `error[E0425]:`.
    let first = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if first.ends_with("error:") || first.starts_with("error[") {
        return true;
    }
    // Compilers: `main.c:3:10: fatal error: x.h: …`, `src/a.ts(3,1): error TS2304: …`.
    text.contains(": error:")
        || text.contains(": fatal error:")
        || text.contains("): error TS")
        || text.contains("failed to compute cache key")
}

/// npm's lines that follow every error and say nothing about this one.
fn is_npm_advice(rest: &str) -> bool {
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit()).trim();
    rest.is_empty()
        || rest.starts_with("A complete log of this run can be found in")
        || rest.starts_with("Note that you can also install from a")
        || rest.starts_with("tarball, folder, http url, or git url")
        || (rest.starts_with('/') && rest.contains("/_logs/"))
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_LINE_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_LINE_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded build (`testdata/failures/NAME.log`, see the README there).
    fn recorded(name: &str) -> FailureCause {
        let path = format!(
            "{}/testdata/failures/{name}.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        failure_cause(&log)
    }

    fn step_name(cause: &FailureCause) -> Option<&str> {
        cause.step.as_ref().map(|step| step.name.as_str())
    }

    /// npm 9's 404, then the script goes on and prints 60 lines before it fails:
    /// the package npm could not find is named, npm's advice is not.
    #[test]
    fn npm_9_not_found_followed_by_noise() {
        let cause = recorded("npm9");
        assert_eq!(
            step_name(&cause),
            Some("RUN npm install nosuchpkg-layercake-xyz; npm run build")
        );
        assert_eq!(cause.step.as_ref().and_then(|s| s.position), Some((6, 7)));
        assert_eq!(cause.exit_code, Some(1));
        assert_eq!(
            cause.lines,
            [
                "npm ERR! code E404",
                "npm ERR! 404 Not Found - GET https://registry.npmjs.org/nosuchpkg-layercake-xyz",
                "npm ERR! 404  'nosuchpkg-layercake-xyz@*' is not in this registry.",
            ]
        );
    }

    /// npm 10 and later print `npm error`.
    #[test]
    fn npm_11_not_found() {
        let cause = recorded("npm11");
        assert_eq!(step_name(&cause), Some("RUN npm ci --omit=dev"));
        assert_eq!(cause.exit_code, Some(1));
        assert_eq!(
            cause.lines,
            [
                "npm error code E404",
                "npm error 404 Not Found - GET https://registry.npmjs.org/nosuchpkg-layercake-xyz",
                "npm error 404  The requested resource 'nosuchpkg-layercake-xyz@*' could not be found or you do not have permission to access it.",
            ]
        );
    }

    /// apt fails in one stage while another prints until it is canceled.
    #[test]
    fn apt_in_one_stage_while_another_runs() {
        let cause = recorded("apt-multistage");
        let step = cause.step.as_ref().expect("the failed step");
        assert_eq!(step.stage.as_deref(), Some("deps"));
        assert_eq!(step.position, Some((4, 4)));
        assert_eq!(cause.exit_code, Some(100));
        assert_eq!(
            cause.lines,
            [
                "E: Package 'python' has no installation candidate",
                "E: Unable to locate package nosuchpackage-xyz",
            ]
        );
    }

    /// pip's two errors, not the notice about its own version after them.
    #[test]
    fn pip_no_matching_distribution() {
        let cause = recorded("pip");
        assert_eq!(cause.exit_code, Some(1));
        assert_eq!(
            cause.lines,
            [
                "ERROR: Could not find a version that satisfies the requirement nosuchpkg-layercake-xyz (from versions: none)",
                "ERROR: No matching distribution found for nosuchpkg-layercake-xyz",
            ]
        );
    }

    /// apk's error and the indented lines that say which package.
    #[test]
    fn apk_unable_to_select_packages() {
        let cause = recorded("apk");
        assert_eq!(
            cause.lines,
            [
                "ERROR: unable to select packages:",
                "  nosuchpkg-layercake-xyz (no such package):",
                "    required by: world[nosuchpkg-layercake-xyz]",
            ]
        );
    }

    /// Go's error after its `downloading` lines, with the lines it indents under it.
    #[test]
    fn go_module_not_found() {
        let cause = recorded("go");
        let step = cause.step.as_ref().expect("the failed step");
        assert_eq!(step.stage.as_deref(), Some("build"));
        assert_eq!(step.name, "RUN go mod download");
        assert_eq!(cause.lines.len(), 5, "{:#?}", cause.lines);
        assert!(
            cause.lines[0].starts_with("go: github.com/nosuch-layercake/module@v1.2.3: reading ")
        );
        assert!(cause.lines[0].ends_with(": 404 Not Found"));
        assert!(cause.lines[2].contains("terminal prompts disabled"));
        assert!(cause.lines.iter().all(|l| !l.contains("go: downloading")));
    }

    /// A COPY of a file the context lacks: BuildKit's fuller message, once.
    #[test]
    fn copy_of_a_missing_file() {
        let cause = recorded("copy");
        assert_eq!(
            step_name(&cause),
            Some("COPY package.json package-lock.json ./")
        );
        assert_eq!(cause.exit_code, None);
        assert_eq!(
            cause.lines,
            [r#"failed to compute cache key: "/package.json" not found: not found"#]
        );
    }

    #[test]
    fn a_command_the_image_lacks() {
        let cause = recorded("sh-not-found");
        assert_eq!(cause.exit_code, Some(127));
        assert_eq!(cause.lines, ["/bin/sh: yarn: not found"]);
    }

    /// Nothing that looks like an error: the failed step's last lines.
    #[test]
    fn a_plain_exit_shows_the_steps_last_lines() {
        let cause = recorded("exit");
        assert_eq!(cause.exit_code, Some(3));
        assert_eq!(cause.lines, ["about to fail", "checking the config"]);
    }

    /// A Dockerfile BuildKit cannot read fails before any step.
    #[test]
    fn a_parse_error_has_no_step() {
        let cause = recorded("parse");
        assert_eq!(cause.step, None);
        assert_eq!(cause.exit_code, None);
        assert_eq!(
            cause.lines,
            ["dockerfile parse error line 2: unknown instruction: RUNN"]
        );
    }

    /// A base image that cannot be resolved: the metadata step's error, once.
    #[test]
    fn a_base_image_that_cannot_be_resolved() {
        let cause = recorded("no-base");
        assert_eq!(
            step_name(&cause),
            Some("[internal] load metadata for docker.io/layercake-test/nosuchbase:9")
        );
        assert_eq!(cause.lines.len(), 1, "{:#?}", cause.lines);
        assert!(cause.lines[0].starts_with("failed to do request: Head "));
    }

    /// buildx (BuildKit 0.9 and later) repeats the failed step's last lines in its
    /// summary, without the vertex number, and wraps the error twice.
    #[test]
    fn buildx_summary_lines_are_not_repeated() {
        let log = "\
#0 building with \"default\" instance using docker driver

#6 [2/3] RUN pip install -r requirements.txt
#6 0.831 ERROR: Could not find a version that satisfies the requirement badpkg==99.0
#6 0.832 ERROR: No matching distribution found for badpkg==99.0
#6 ERROR: process \"/bin/sh -c pip install -r requirements.txt\" did not complete successfully: exit code: 1
------
 > [2/3] RUN pip install -r requirements.txt:
0.831 ERROR: Could not find a version that satisfies the requirement badpkg==99.0
0.832 ERROR: No matching distribution found for badpkg==99.0
------
Dockerfile:2
--------------------
   1 |     FROM python:3.12-slim
   2 | >>> RUN pip install -r requirements.txt
--------------------
ERROR: failed to build: failed to solve: process \"/bin/sh -c pip install -r requirements.txt\" did not complete successfully: exit code: 1
";
        let cause = failure_cause(log);
        assert_eq!(
            step_name(&cause),
            Some("RUN pip install -r requirements.txt")
        );
        assert_eq!(cause.exit_code, Some(1));
        assert_eq!(
            cause.lines,
            [
                "ERROR: Could not find a version that satisfies the requirement badpkg==99.0",
                "ERROR: No matching distribution found for badpkg==99.0",
            ]
        );
    }

    /// Only the summary (the failed step printed nothing before it): its lines count.
    #[test]
    fn buildx_summary_lines_are_the_steps_output() {
        let log = "\
#6 [2/2] RUN apt-get install -y nosuch
#6 ERROR: process \"/bin/sh -c apt-get install -y nosuch\" did not complete successfully: exit code: 100
------
 > [2/2] RUN apt-get install -y nosuch:
0.412 Reading package lists...
0.420 E: Unable to locate package nosuch
------
";
        assert_eq!(
            failure_cause(log).lines,
            ["E: Unable to locate package nosuch"]
        );
    }

    /// A step that printed errors and still finished did not fail.
    #[test]
    fn errors_of_a_step_that_finished_are_forgotten() {
        let log = "\
#5 [2/3] RUN apt-get install -y maybe || true
#5 0.2 E: Unable to locate package maybe
#5 DONE 0.3s

#6 [3/3] RUN pip install nosuch
#6 0.3 ERROR: No matching distribution found for nosuch
#6 ERROR: executor failed running [/bin/sh -c pip install nosuch]: exit code: 1
";
        assert_eq!(
            failure_cause(log).lines,
            ["ERROR: No matching distribution found for nosuch"]
        );
        // No step failed (the daemon went away): still not that step's errors.
        let log = "\
#5 [2/3] RUN apt-get install -y maybe || true
#5 0.2 E: Unable to locate package maybe
#5 DONE 0.3s

#6 [3/3] RUN make
#6 0.3 building
error: failed to solve: rpc error: code = Unavailable desc = error reading from server: EOF
";
        let cause = failure_cause(log);
        assert_eq!(cause.step, None);
        assert_eq!(
            cause.lines,
            ["rpc error: code = Unavailable desc = error reading from server: EOF"]
        );
    }

    /// However much a step prints, a few dozen lines are kept, the first ones.
    #[test]
    fn memory_is_bounded() {
        let mut finder = CauseFinder::default();
        finder.feed("#5 [2/2] RUN make");
        for i in 0..10_000 {
            finder.feed(&format!("#5 1.0 src/f{i}.c:1:1: error: expected ';'"));
        }
        for vertex in 6..100 {
            for i in 0..100 {
                finder.feed(&format!("#{vertex} 1.0 ERROR: parallel {vertex} {i}"));
            }
        }
        finder.feed(&format!("#5 1.0 {}", "x".repeat(10_000)));
        assert!(finder.held <= MAX_HELD_LINES);
        assert!(
            finder
                .running
                .iter()
                .all(|s| s.cause.len() <= MAX_STEP_LINES)
        );
        assert!(
            finder
                .running
                .iter()
                .flat_map(|s| &s.last)
                .all(|l| l.chars().count() <= MAX_LINE_CHARS)
        );
        finder.feed("#5 ERROR: executor failed running [/bin/sh -c make]: exit code: 2");
        let failed = BuildStep {
            vertex: 5,
            name: "RUN make".to_string(),
            stage: None,
            position: Some((2, 2)),
            cached: false,
            duration: None,
            error: Some("executor failed running [/bin/sh -c make]: exit code: 2".to_string()),
        };
        let cause = finder.finish(Some(&failed));
        assert_eq!(cause.lines.len(), MAX_STEP_LINES);
        assert_eq!(cause.lines[0], "src/f0.c:1:1: error: expected ';'");
        assert_eq!(cause.exit_code, Some(2));
    }

    #[test]
    fn lines_that_are_and_are_not_causes() {
        for line in [
            "npm ERR! code ENOTFOUND",
            "npm error network request to https://registry.npmjs.org/x failed",
            "E: Unable to locate package x",
            "ERROR: No matching distribution found for x",
            "error: could not compile `app` (bin \"app\") due to 1 previous error",
            "error[E0425]: cannot find value `x` in this scope",
            "ModuleNotFoundError: No module named 'x'",
            "/bin/sh: 1: yarn: not found",
            "go: go.mod file not found in current directory or any parent directory",
            "main.c:3:10: fatal error: x.h: No such file or directory",
            "src/a.ts(3,1): error TS2304: Cannot find name 'x'.",
            "COPY failed: file not found in build context",
            "fatal: repository 'https://example.invalid/x/' not found",
        ] {
            assert!(is_cause_line(line), "{line}");
        }
        for line in [
            "npm ERR! 404 Note that you can also install from a",
            "npm ERR! 404 tarball, folder, http url, or git url.",
            "npm ERR! A complete log of this run can be found in:",
            "npm ERR!     /root/.npm/_logs/2024-05-01T10_00_00_000Z-debug-0.log",
            "npm ERR! 404 ",
            "npm WARN deprecated x@1.0.0",
            "npm errors are fun",
            "go: downloading github.com/x/y v1.0.0",
            "webpack 5.91.0 compiled with 1 error in 2310 ms",
            "Reading package lists...",
            "W: Some index files failed to download.",
        ] {
            assert!(!is_cause_line(line), "{line}");
        }
    }

    #[test]
    fn exit_codes_and_timestamps() {
        assert_eq!(
            command_exit_code("executor failed running [/bin/sh -c a && b]: exit code: 100"),
            Some(100)
        );
        assert_eq!(
            command_exit_code(
                "ERROR: failed to solve: process \"/bin/sh -c x\" did not complete successfully: exit code: 2"
            ),
            Some(2)
        );
        assert_eq!(
            command_exit_code("failed to compute cache key: \"/a\" not found"),
            None
        );
        assert_eq!(after_timestamp("0.434 npm ERR! x"), Some("npm ERR! x"));
        assert_eq!(after_timestamp("12.5 "), Some(""));
        assert_eq!(after_timestamp("0.437"), Some(""));
        assert_eq!(after_timestamp("  python-is-python3"), None);
        assert_eq!(after_timestamp("transferring context: 2B done"), None);
        assert_eq!(after_timestamp("sha256:abc"), None);
        assert_eq!(after_timestamp("1.2.3 x"), None);
    }
}
