//! BuildKit's `--progress=plain` output, read line by line into steps.
//!
//! Each vertex of the build graph prints a block of lines that start with `#N `:
//! its name first, then output and status lines, and one of `DONE 0.2s`, `CACHED`,
//! `ERROR: …` or `CANCELED` when it finishes. Blocks of different vertices
//! interleave, and buildx prints a vertex's name again when it goes on after
//! another vertex printed, so steps are keyed by their number.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use crate::seconds;

/// One vertex of the build graph, as the progress output reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildStep {
    /// The vertex number (`#N`).
    pub vertex: u32,
    /// The vertex name as BuildKit prints it, without a `[stage i/n]` prefix:
    /// `RUN echo hi`, `FROM docker.io/library/alpine:3.20`. Names whose bracket holds no
    /// position, like `[internal] load .dockerignore`, are kept whole.
    pub name: String,
    /// The stage from a `[stage i/n]` prefix (`stage-0` for unnamed stages of a
    /// multi-stage build); `None` without a prefix or in a single-stage build.
    pub stage: Option<String>,
    /// `(i, n)` from a `[stage i/n]` prefix: the instruction's place in its stage.
    pub position: Option<(usize, usize)>,
    /// Whether BuildKit reused a cached result (`CACHED`).
    pub cached: bool,
    /// How long the step ran, from `DONE 0.2s`.
    #[serde(serialize_with = "seconds::option")]
    pub duration: Option<Duration>,
    /// The message of an `ERROR:` line (or `canceled` for a step that was canceled).
    pub error: Option<String>,
}

/// Reads plain progress one line at a time; [`parse_plain_progress`] and the
/// streaming build share it.
#[derive(Debug, Default)]
pub(crate) struct ProgressParser {
    steps: Vec<BuildStep>,
    finished: Vec<bool>,
    by_vertex: HashMap<u32, usize>,
}

impl ProgressParser {
    /// Takes one line (without its newline). Returns the step when this line
    /// finished it.
    pub(crate) fn feed(&mut self, line: &str) -> Option<&BuildStep> {
        let (vertex, text) = vertex_line(line)?;
        // `#0 building with "default" instance using docker driver` is buildx talking,
        // not a vertex.
        if vertex == 0 {
            return None;
        }
        let index = match self.by_vertex.get(&vertex) {
            Some(&index) => index,
            None => {
                let index = self.steps.len();
                self.steps.push(named_step(vertex, text));
                self.finished.push(false);
                self.by_vertex.insert(vertex, index);
                return None;
            }
        };
        let status = status_of(text)?;
        let step = &mut self.steps[index];
        match status {
            Status::Done(duration) => step.duration = duration,
            Status::Cached => step.cached = true,
            Status::Error(message) => {
                if step.error.is_none() {
                    step.error = Some(message.to_string());
                }
            }
            Status::Canceled => {
                if step.error.is_none() {
                    step.error = Some("canceled".to_string());
                }
            }
        }
        if self.finished[index] {
            return None;
        }
        self.finished[index] = true;
        Some(&self.steps[index])
    }

    /// The first `ERROR:` message of any step, in the order steps appeared.
    pub(crate) fn first_error(&self) -> Option<&str> {
        self.failed_step().and_then(|step| step.error.as_deref())
    }

    /// The first step that failed (not one canceled because another failed), in the
    /// order steps appeared.
    pub(crate) fn failed_step(&self) -> Option<&BuildStep> {
        self.steps
            .iter()
            .find(|step| step.error.as_deref().is_some_and(|e| e != "canceled"))
    }

    /// Every step seen, finished or not, by vertex number.
    pub(crate) fn into_steps(self) -> Vec<BuildStep> {
        let mut steps = self.steps;
        steps.sort_by_key(|step| step.vertex);
        steps
    }
}

/// Parses the whole `--progress=plain` output of a build into its steps, ordered by
/// vertex number. Steps that never finished (the build was stopped) are included with
/// `cached: false` and no duration. Lines that belong to no vertex are skipped.
pub fn parse_plain_progress(text: &str) -> Vec<BuildStep> {
    let mut parser = ProgressParser::default();
    for line in text.lines() {
        parser.feed(line);
    }
    parser.into_steps()
}

/// What a vertex line without a timestamp says about its vertex.
pub(crate) enum Status<'a> {
    Done(Option<Duration>),
    Cached,
    Error(&'a str),
    Canceled,
}

pub(crate) fn status_of(text: &str) -> Option<Status<'_>> {
    if text == "CACHED" {
        return Some(Status::Cached);
    }
    if text == "CANCELED" {
        return Some(Status::Canceled);
    }
    if text == "DONE" {
        return Some(Status::Done(None));
    }
    if let Some(duration) = text.strip_prefix("DONE ") {
        // A log line never looks like this: output is printed after its timestamp.
        return parse_go_duration(duration.trim()).map(|d| Status::Done(Some(d)));
    }
    if let Some(message) = text.strip_prefix("ERROR:") {
        return Some(Status::Error(message.trim()));
    }
    if text == "ERROR" {
        return Some(Status::Error(""));
    }
    None
}

/// Splits `#12 text` into `(12, "text")`, after an optional timestamp that some
/// log collectors put in front of every line.
pub(crate) fn vertex_line(line: &str) -> Option<(u32, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let line = match line.strip_prefix('#') {
        Some(rest) => rest,
        None => {
            let (first, rest) = line.trim_start().split_once(' ')?;
            if !looks_like_timestamp(first) {
                return None;
            }
            rest.trim_start().strip_prefix('#')?
        }
    };
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let vertex = line[..digits].parse().ok()?;
    let rest = &line[digits..];
    if rest.is_empty() {
        return Some((vertex, ""));
    }
    let text = rest.strip_prefix(' ')?;
    Some((vertex, text.trim_end()))
}

/// `2024-05-01T10:00:00.123Z` or `10:00:00.123`: starts with a digit and has a colon.
fn looks_like_timestamp(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_digit())
        && token.contains(':')
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '-' | '.' | 'T' | 'Z' | '+'))
}

fn named_step(vertex: u32, text: &str) -> BuildStep {
    let (stage, position, name) = split_prefix(text);
    BuildStep {
        vertex,
        name: name.to_string(),
        stage,
        position,
        cached: false,
        duration: None,
        error: None,
    }
}

/// `[build  2/12] RUN x` → `(Some("build"), Some((2, 12)), "RUN x")`. A bracket without a
/// position (`[internal] …`, `[auth] …`) is part of the name.
fn split_prefix(text: &str) -> (Option<String>, Option<(usize, usize)>, &str) {
    let whole = (None, None, text);
    let Some(rest) = text.strip_prefix('[') else {
        return whole;
    };
    let Some((inside, name)) = rest.split_once(']') else {
        return whole;
    };
    let Some((stage, position)) = parse_bracket(inside) else {
        return whole;
    };
    (stage, Some(position), name.trim_start())
}

fn parse_bracket(inside: &str) -> Option<(Option<String>, (usize, usize))> {
    let mut tokens: Vec<&str> = inside.split_whitespace().collect();
    let last = tokens.pop()?;
    let (index, total) = last.split_once('/')?;
    let position = (index.parse().ok()?, total.parse().ok()?);
    // A multi-platform build puts the platform first: `[linux/arm64 build 2/4]`.
    // Stage names cannot hold a `/`, platforms always do.
    let stage = tokens
        .into_iter()
        .rfind(|token| !token.contains('/'))
        .map(str::to_string);
    Some((stage, position))
}

/// Parses the durations BuildKit prints: `0.2s`, and Go's `1m2.5s`, `1h2m3s`, `350ms`.
pub(crate) fn parse_go_duration(text: &str) -> Option<Duration> {
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * factor;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(steps: &[BuildStep], vertex: u32) -> &BuildStep {
        steps
            .iter()
            .find(|step| step.vertex == vertex)
            .expect("vertex present")
    }

    #[test]
    fn names_stages_and_positions() {
        assert_eq!(
            split_prefix("[build  3/12] RUN echo hi"),
            (Some("build".to_string()), Some((3, 12)), "RUN echo hi")
        );
        assert_eq!(
            split_prefix("[stage-0 1/2] FROM docker.io/library/x:1"),
            (
                Some("stage-0".to_string()),
                Some((1, 2)),
                "FROM docker.io/library/x:1"
            )
        );
        assert_eq!(split_prefix("[1/2] FROM x"), (None, Some((1, 2)), "FROM x"));
        assert_eq!(
            split_prefix("[ 9/10] RUN x"),
            (None, Some((9, 10)), "RUN x")
        );
        assert_eq!(
            split_prefix("[linux/arm64 build 2/4] RUN x"),
            (Some("build".to_string()), Some((2, 4)), "RUN x")
        );
        assert_eq!(
            split_prefix("[linux/arm64 2/4] RUN x"),
            (None, Some((2, 4)), "RUN x")
        );
        assert_eq!(
            split_prefix("[internal] load .dockerignore"),
            (None, None, "[internal] load .dockerignore")
        );
        assert_eq!(
            split_prefix("[auth] library/alpine:pull token for registry-1.docker.io"),
            (
                None,
                None,
                "[auth] library/alpine:pull token for registry-1.docker.io"
            )
        );
        assert_eq!(
            split_prefix("exporting to image"),
            (None, None, "exporting to image")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("0.2s"), Some(Duration::from_millis(200)));
        assert_eq!(
            parse_go_duration("30.3s"),
            Some(Duration::from_millis(30300))
        );
        assert_eq!(
            parse_go_duration("1m2.5s"),
            Some(Duration::from_millis(62500))
        );
        assert_eq!(parse_go_duration("350ms"), Some(Duration::from_millis(350)));
        assert_eq!(parse_go_duration("1h0m1s"), Some(Duration::from_secs(3601)));
        assert_eq!(parse_go_duration("s"), None);
        assert_eq!(parse_go_duration("2x"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn vertex_lines() {
        assert_eq!(vertex_line("#5 DONE 0.0s"), Some((5, "DONE 0.0s")));
        assert_eq!(vertex_line("#12 0.235 seven"), Some((12, "0.235 seven")));
        assert_eq!(vertex_line("#7"), Some((7, "")));
        assert_eq!(
            vertex_line("2024-05-01T10:00:00.1234567Z #3 CACHED"),
            Some((3, "CACHED"))
        );
        assert_eq!(vertex_line("------"), None);
        assert_eq!(vertex_line(" > [2/2] RUN false:"), None);
        assert_eq!(vertex_line("#x"), None);
        assert_eq!(vertex_line("#5x DONE"), None);
        assert_eq!(vertex_line(""), None);
    }

    /// Recorded on Docker Engine 20.10.24 (`DOCKER_BUILDKIT=1 docker build --progress=plain`):
    /// a first build with padded positions and a failing last step.
    #[test]
    fn engine_20_10_first_build() {
        let steps = parse_plain_progress(include_str!("../testdata/engine-20.10-first.txt"));
        assert_eq!(steps.len(), 16);
        assert_eq!(
            steps.iter().map(|s| s.vertex).collect::<Vec<_>>(),
            (1..=16).collect::<Vec<_>>()
        );
        let internal = step(&steps, 1);
        assert_eq!(
            internal.name,
            "[internal] load build definition from Dockerfile"
        );
        assert_eq!(internal.stage, None);
        assert_eq!(internal.position, None);
        assert_eq!(internal.duration, Some(Duration::ZERO));

        // Both stages start FROM the same image: BuildKit runs one vertex for the two
        // and names it after one stage.
        let from = step(&steps, 4);
        assert_eq!(from.name, "FROM docker.io/lc-rec/busybox:1");
        assert_eq!(from.stage.as_deref(), Some("stage-1"));
        assert_eq!(from.position, Some((1, 3)));

        let padded = step(&steps, 6);
        assert_eq!(padded.name, "RUN echo one");
        assert_eq!(padded.stage.as_deref(), Some("build"));
        assert_eq!(padded.position, Some((3, 11)));
        assert!(!padded.cached);
        assert_eq!(padded.duration, Some(Duration::from_millis(200)));

        let two_digits = step(&steps, 13);
        assert_eq!(two_digits.name, "RUN echo eight");
        assert_eq!(two_digits.position, Some((10, 11)));

        let failed = step(&steps, 16);
        assert_eq!(failed.name, "RUN echo final && false");
        assert_eq!(failed.stage.as_deref(), Some("stage-1"));
        assert_eq!(failed.position, Some((3, 3)));
        assert_eq!(failed.duration, None);
        assert_eq!(
            failed.error.as_deref(),
            Some("executor failed running [/bin/sh -c echo final && false]: exit code: 1")
        );
        assert!(steps[..15].iter().all(|s| s.error.is_none() && !s.cached));
    }

    /// The same build again: every step but the failing one comes from the cache, and
    /// the blocks come in no particular order.
    #[test]
    fn engine_20_10_cached_rebuild() {
        let steps = parse_plain_progress(include_str!("../testdata/engine-20.10-cached.txt"));
        assert_eq!(
            steps.iter().map(|s| s.vertex).collect::<Vec<_>>(),
            (1..=16).collect::<Vec<_>>()
        );
        for step in &steps[4..15] {
            assert!(step.cached, "{step:?}");
            assert_eq!(step.duration, None);
        }
        assert_eq!(
            step(&steps, 14).name,
            "RUN dd if=/dev/zero of=/w/f bs=1024 count=100"
        );
        assert_eq!(step(&steps, 14).position, Some((11, 11)));
        assert!(!step(&steps, 16).cached);
        assert!(step(&steps, 16).error.is_some());
    }

    /// A successful single-stage build: positions without a stage, the export vertex.
    #[test]
    fn engine_20_10_single_stage() {
        let steps = parse_plain_progress(include_str!("../testdata/engine-20.10-single.txt"));
        assert_eq!(steps.len(), 6);
        assert_eq!(step(&steps, 4).stage, None);
        assert_eq!(step(&steps, 4).position, Some((1, 2)));
        assert!(step(&steps, 4).cached);
        assert_eq!(step(&steps, 5).name, "RUN echo hi");
        assert_eq!(step(&steps, 5).duration, Some(Duration::from_millis(100)));
        assert_eq!(step(&steps, 6).name, "exporting to image");
        assert_eq!(step(&steps, 6).position, None);
    }

    /// buildx: a `#0` line, a vertex whose name is printed again after another vertex,
    /// timestamps in front, and a build stopped before a step finished.
    #[test]
    fn buildx_shapes() {
        let text = "\
#0 building with \"default\" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 92B done
#1 DONE 0.0s

#4 [build 2/3] RUN sleep 1 && echo a
#4 ...

#5 [build 3/3] RUN echo b
#5 0.104 b
#5 DONE 0.1s

#4 [build 2/3] RUN sleep 1 && echo a
#4 1.203 a
#4 DONE 1.3s

2024-05-01T10:00:00.1234567Z #6 [stage-1 2/2] RUN sleep 100
2024-05-01T10:00:01.1234567Z #6 0.5 still going
";
        let steps = parse_plain_progress(text);
        assert_eq!(
            steps.iter().map(|s| s.vertex).collect::<Vec<_>>(),
            [1, 4, 5, 6]
        );
        assert_eq!(step(&steps, 4).name, "RUN sleep 1 && echo a");
        assert_eq!(step(&steps, 4).duration, Some(Duration::from_millis(1300)));
        let unfinished = step(&steps, 6);
        assert_eq!(unfinished.stage.as_deref(), Some("stage-1"));
        assert!(!unfinished.cached);
        assert_eq!(unfinished.duration, None);
        assert_eq!(unfinished.error, None);
    }

    #[test]
    fn buildx_error_and_cancel() {
        let text = "\
#5 [2/3] RUN false
#5 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1

#6 [3/3] RUN sleep 5
#6 CANCELED
------
 > [2/3] RUN false:
------
Dockerfile:2
--------------------
   1 |     FROM alpine
   2 | >>> RUN false
--------------------
ERROR: failed to solve: process \"/bin/sh -c false\" did not complete successfully: exit code: 1
";
        let mut parser = ProgressParser::default();
        let mut finished = Vec::new();
        for line in text.lines() {
            if let Some(step) = parser.feed(line) {
                finished.push(step.vertex);
            }
        }
        assert_eq!(finished, [5, 6]);
        assert_eq!(
            parser.first_error(),
            Some("process \"/bin/sh -c false\" did not complete successfully: exit code: 1")
        );
        let steps = parser.into_steps();
        assert_eq!(step(&steps, 6).error.as_deref(), Some("canceled"));
    }

    #[test]
    fn a_step_is_reported_finished_once() {
        let mut parser = ProgressParser::default();
        assert!(parser.feed("#3 [1/1] FROM x").is_none());
        assert!(parser.feed("#3 resolve x done").is_none());
        assert!(parser.feed("#3 CACHED").is_some());
        assert!(parser.feed("#3 [1/1] FROM x").is_none());
        assert!(parser.feed("#3 CACHED").is_none());
        assert_eq!(parser.into_steps().len(), 1);
    }

    #[test]
    fn output_that_looks_like_a_status_is_output() {
        let steps =
            parse_plain_progress("#2 [1/1] RUN echo DONE 1s\n#2 0.1 DONE 1s\n#2 0.1 CACHED\n");
        assert!(!steps[0].cached);
        assert_eq!(steps[0].duration, None);
    }
}
