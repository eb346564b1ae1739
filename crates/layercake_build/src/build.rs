//! Running one build and following its progress.

use std::collections::VecDeque;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use serde::Serialize;

use crate::Docker;
use crate::failure::{CauseFinder, FailureCause};
use crate::process::{kill_group, send_lines, signal_group};
use crate::progress::{BuildStep, ProgressParser};
use crate::redact::Redactor;
use crate::request::{BuildRequest, build_command};
use crate::seconds;

/// How many of the last log lines a [`BuildOutcome`] keeps.
pub const LOG_TAIL_LINES: usize = 40;

/// After a timeout, how long the CLI gets to cancel the build in the daemon (on
/// SIGINT it asks BuildKit to stop, which ends the running `RUN`) before it is killed.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// After the CLI exits, how long its last lines may take to arrive.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How often the child is checked while no output comes.
const POLL: Duration = Duration::from_millis(50);

/// How a build ended, what it did and what it printed last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildOutcome {
    /// Built, failed or timed out.
    pub status: BuildStatus,
    /// Wall time from starting the CLI to its exit.
    #[serde(serialize_with = "seconds::serialize")]
    pub duration: Duration,
    /// Every vertex the progress output reported, by vertex number; those the build
    /// never finished have `cached: false` and no duration.
    pub steps: Vec<BuildStep>,
    /// The last [`LOG_TAIL_LINES`] lines of output, secrets masked as `***`.
    pub log_tail: Vec<String>,
    /// For a failed build, what its whole log says went wrong (the step, its exit
    /// code, the error lines); `None` for a build that did not fail.
    pub cause: Option<FailureCause>,
}

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BuildStatus {
    /// The image was built and tagged.
    Built {
        /// Its id, `sha256:…`, from `--iidfile`.
        image_id: String,
    },
    /// The build failed, or docker could not be started.
    Failed {
        /// The CLI's exit code (`None` if it could not start or died of a signal).
        exit_code: Option<i32>,
        /// BuildKit's `ERROR:` line for the failing step, else the last line docker
        /// printed, or why docker could not be run.
        message: String,
    },
    /// The build ran past its time limit and was canceled.
    TimedOut {
        /// The limit it ran past.
        #[serde(serialize_with = "seconds::serialize")]
        after: Duration,
    },
}

/// Something that happened during a build, as it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildEvent<'a> {
    /// A line of output (every line, secrets masked).
    Line(&'a str),
    /// A step finished (`CACHED`, `DONE`, `ERROR` or `CANCELED`).
    Step(&'a BuildStep),
}

/// The state of a build's log as lines come in.
struct BuildLog<'a> {
    redactor: Redactor,
    parser: ProgressParser,
    cause: CauseFinder,
    tail: VecDeque<String>,
    /// The last line that is not a vertex line, for a failure without an `ERROR:` step.
    last_plain: Option<String>,
    on_event: &'a mut dyn FnMut(BuildEvent<'_>),
}

impl BuildLog<'_> {
    fn line(&mut self, line: &str) {
        let line = self.redactor.redact(line);
        (self.on_event)(BuildEvent::Line(&line));
        if let Some(step) = self.parser.feed(&line) {
            (self.on_event)(BuildEvent::Step(step));
        }
        self.cause.feed(&line);
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') && !trimmed.starts_with("---") {
            self.last_plain = Some(trimmed.to_string());
        }
        if self.tail.len() == LOG_TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    /// Takes lines until the readers are done or `until` passes.
    fn drain(&mut self, lines: &Receiver<String>, until: Instant) {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => self.line(&line),
                Err(_) => return,
            }
        }
    }

    fn failure_message(&self) -> Option<String> {
        self.parser
            .first_error()
            .map(str::to_string)
            .or_else(|| self.last_plain.clone())
    }

    fn finish(self, status: BuildStatus, started: Instant) -> BuildOutcome {
        let cause = matches!(status, BuildStatus::Failed { .. })
            .then(|| self.cause.finish(self.parser.failed_step()));
        BuildOutcome {
            status,
            duration: started.elapsed(),
            steps: self.parser.into_steps(),
            log_tail: self.tail.into(),
            cause,
        }
    }
}

enum Ended {
    Exited(ExitStatus),
    TimedOut,
    WaitFailed(std::io::Error),
}

impl Docker {
    /// Builds `request`, calling `on_event` (on this thread) for every line of output
    /// and every step that finishes.
    ///
    /// Never panics, and a build that fails or runs out of time is an outcome, not an
    /// error. On timeout the CLI's process group gets SIGINT, which cancels the build
    /// in the daemon, and SIGKILL if it has not exited a few seconds later.
    pub fn build(
        &self,
        request: &BuildRequest,
        on_event: &mut dyn FnMut(BuildEvent<'_>),
    ) -> BuildOutcome {
        let started = Instant::now();
        let mut log = BuildLog {
            redactor: Redactor::for_secrets(&request.secrets),
            parser: ProgressParser::default(),
            cause: CauseFinder::default(),
            tail: VecDeque::with_capacity(LOG_TAIL_LINES),
            last_plain: None,
            on_event,
        };
        let not_started = |log: BuildLog<'_>, message: String| {
            log.finish(
                BuildStatus::Failed {
                    exit_code: None,
                    message,
                },
                started,
            )
        };
        let iid_dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(error) => {
                return not_started(
                    log,
                    format!("cannot create a temporary directory for the image id: {error}"),
                );
            }
        };
        let iidfile = iid_dir.path().join("image-id");
        let (args, env) = build_command(self.mode, self.builder.as_deref(), request, &iidfile);
        let mut command = self.command(&args);
        command
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                return not_started(
                    log,
                    format!("cannot run {}: {error}", self.binary.display()),
                );
            }
        };
        let (sender, lines) = mpsc::channel();
        // BuildKit's progress comes on stderr; stdout is usually silent, but both are
        // read so neither pipe can fill up and stall the CLI.
        if let Some(stderr) = child.stderr.take() {
            send_lines(stderr, sender.clone());
        }
        if let Some(stdout) = child.stdout.take() {
            send_lines(stdout, sender);
        } else {
            drop(sender);
        }

        let ended = follow(&mut child, &lines, &mut log, started + request.timeout);
        log.drain(&lines, Instant::now() + DRAIN_GRACE);
        let status = match ended {
            Ended::TimedOut => BuildStatus::TimedOut {
                after: request.timeout,
            },
            Ended::WaitFailed(error) => BuildStatus::Failed {
                exit_code: None,
                message: format!("waiting for docker failed: {error}"),
            },
            Ended::Exited(exit) if exit.success() => match read_image_id(&iidfile) {
                Some(image_id) => BuildStatus::Built { image_id },
                None => BuildStatus::Failed {
                    exit_code: exit.code(),
                    message: "docker reported success but wrote no image id".to_string(),
                },
            },
            Ended::Exited(exit) => BuildStatus::Failed {
                exit_code: exit.code(),
                message: log
                    .failure_message()
                    .unwrap_or_else(|| format!("docker build failed ({exit})")),
            },
        };
        log.finish(status, started)
    }
}

/// Feeds output to `log` until the child exits or `deadline` passes; then cancels it.
fn follow(
    child: &mut Child,
    lines: &Receiver<String>,
    log: &mut BuildLog<'_>,
    deadline: Instant,
) -> Ended {
    let mut open = true;
    loop {
        let wait = POLL.min(deadline.saturating_duration_since(Instant::now()));
        if open {
            match lines.recv_timeout(wait) {
                Ok(line) => log.line(&line),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
        } else {
            thread::sleep(wait);
        }
        match child.try_wait() {
            Ok(Some(exit)) => return Ended::Exited(exit),
            Ok(None) => {}
            Err(error) => {
                kill_group(child);
                let _ = child.wait();
                return Ended::WaitFailed(error);
            }
        }
        if Instant::now() >= deadline {
            cancel(child, lines, log);
            return Ended::TimedOut;
        }
    }
}

/// SIGINT first: the CLI then cancels the solve, and BuildKit stops the running step
/// (a plain kill leaves it running in the daemon). SIGKILL if that takes too long.
fn cancel(child: &mut Child, lines: &Receiver<String>, log: &mut BuildLog<'_>) {
    signal_group(child, Signal::INT);
    let give_up = Instant::now() + CANCEL_GRACE;
    while Instant::now() < give_up {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        match lines.recv_timeout(POLL) {
            Ok(line) => log.line(&line),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => thread::sleep(POLL),
        }
    }
    kill_group(child);
    let _ = child.wait();
}

fn read_image_id(iidfile: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(iidfile).ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuildMode;

    /// A fake docker: a shell script that prints what a build would and exits.
    fn fake_docker(dir: &std::path::Path, script: &str) -> Docker {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("docker");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Docker {
            binary: path,
            mode: BuildMode::ClassicBuildKit,
            builder: None,
            host: None,
            client_version: "20.10.24".to_string(),
            server_version: "20.10.24".to_string(),
            image_source: crate::ImageSource::default(),
            answers: std::sync::Arc::default(),
        }
    }

    fn request(timeout: Duration) -> BuildRequest {
        let mut request = BuildRequest::new("/nonexistent", "/nonexistent/Dockerfile", "t:1");
        request.timeout = timeout;
        request
    }

    #[test]
    fn redacts_lines_events_and_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "sup3rs3cret\n").expect("write");
        let docker = fake_docker(
            dir.path(),
            "echo '#1 [1/2] RUN cat /run/secrets/tok' >&2\n\
             echo '#1 0.1 sup3rs3cret' >&2\n\
             echo '#1 0.1 E: no access with sup3rs3cret' >&2\n\
             echo '#1 ERROR: leaked sup3rs3cret' >&2\n\
             exit 1",
        );
        let mut request = request(Duration::from_secs(20));
        request.secrets.push(crate::BuildSecret {
            id: "tok".to_string(),
            source: crate::SecretSource::File(secret),
        });
        let mut seen = Vec::new();
        let outcome = docker.build(&request, &mut |event| {
            if let BuildEvent::Line(line) = event {
                seen.push(line.to_string());
            }
        });
        assert_eq!(seen.len(), 4);
        assert!(seen.iter().all(|line| !line.contains("sup3rs3cret")));
        assert_eq!(seen[1], "#1 0.1 ***");
        assert!(
            outcome
                .log_tail
                .iter()
                .all(|line| !line.contains("sup3rs3cret"))
        );
        assert_eq!(
            outcome.status,
            BuildStatus::Failed {
                exit_code: Some(1),
                message: "leaked ***".to_string()
            }
        );
        let cause = outcome.cause.expect("a failed build has a cause");
        assert_eq!(cause.lines, ["E: no access with ***", "leaked ***"]);
        assert_eq!(
            cause.step.map(|step| step.name),
            Some("RUN cat /run/secrets/tok".to_string())
        );
    }

    #[test]
    fn a_large_output_neither_deadlocks_nor_grows_the_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        // About 2 MB on each stream, far beyond a pipe's buffer.
        let docker = fake_docker(
            dir.path(),
            "i=0; while [ $i -lt 40000 ]; do echo \"#1 0.1 line $i of some length\"; i=$((i+1)); done >&2 &\n\
             i=0; while [ $i -lt 40000 ]; do echo \"stdout line $i of some length\"; i=$((i+1)); done\n\
             wait; exit 3",
        );
        let mut count = 0usize;
        let outcome = docker.build(&request(Duration::from_secs(60)), &mut |event| {
            if let BuildEvent::Line(_) = event {
                count += 1;
            }
        });
        assert_eq!(count, 80_000);
        assert_eq!(outcome.log_tail.len(), LOG_TAIL_LINES);
        assert!(matches!(
            outcome.status,
            BuildStatus::Failed {
                exit_code: Some(3),
                ..
            }
        ));
    }

    #[test]
    fn times_out_and_keeps_unfinished_steps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let docker = fake_docker(
            dir.path(),
            "echo '#3 [2/2] RUN sleep 30' >&2\nexec sleep 30",
        );
        let started = Instant::now();
        let outcome = docker.build(&request(Duration::from_millis(300)), &mut |_| {});
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            outcome.status,
            BuildStatus::TimedOut {
                after: Duration::from_millis(300)
            }
        );
        assert_eq!(outcome.steps.len(), 1);
        assert_eq!(outcome.steps[0].duration, None);
        // A timeout is its own cause; the lines of a step cut short are no error.
        assert_eq!(outcome.cause, None);
    }

    #[test]
    fn success_without_an_image_id_is_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let docker = fake_docker(dir.path(), "exit 0");
        let outcome = docker.build(&request(Duration::from_secs(20)), &mut |_| {});
        assert!(matches!(
            outcome.status,
            BuildStatus::Failed {
                exit_code: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn the_image_id_comes_from_the_iidfile() {
        let dir = tempfile::tempdir().expect("tempdir");
        // `--iidfile PATH` is the third and fourth argument of a classic build.
        let docker = fake_docker(dir.path(), "printf 'sha256:abc' > \"$4\"; exit 0");
        let outcome = docker.build(&request(Duration::from_secs(20)), &mut |_| {});
        assert_eq!(
            outcome.status,
            BuildStatus::Built {
                image_id: "sha256:abc".to_string()
            }
        );
        assert_eq!(outcome.cause, None);
    }

    #[test]
    fn a_missing_binary_is_a_failed_outcome() {
        let docker = Docker {
            binary: "/nonexistent/docker".into(),
            mode: BuildMode::ClassicBuildKit,
            builder: None,
            host: None,
            client_version: String::new(),
            server_version: String::new(),
            image_source: crate::ImageSource::default(),
            answers: std::sync::Arc::default(),
        };
        let outcome = docker.build(&request(Duration::from_secs(5)), &mut |_| {});
        let BuildStatus::Failed { exit_code, message } = outcome.status else {
            panic!("expected a failure, got {:?}", outcome.status);
        };
        assert_eq!(exit_code, None);
        assert!(message.contains("/nonexistent/docker"), "{message}");
    }

    #[test]
    fn outcomes_serialize_with_seconds() {
        let outcome = BuildOutcome {
            status: BuildStatus::TimedOut {
                after: Duration::from_millis(1500),
            },
            duration: Duration::from_millis(2500),
            steps: vec![BuildStep {
                vertex: 4,
                name: "RUN x".to_string(),
                stage: Some("build".to_string()),
                position: Some((2, 3)),
                cached: false,
                duration: Some(Duration::from_millis(200)),
                error: None,
            }],
            log_tail: vec![],
            cause: None,
        };
        let json = serde_json::to_value(&outcome).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "status": {"kind": "timed_out", "after": 1.5},
                "duration": 2.5,
                "steps": [{
                    "vertex": 4, "name": "RUN x", "stage": "build", "position": [2, 3],
                    "cached": false, "duration": 0.2, "error": null
                }],
                "log_tail": [],
                "cause": null
            })
        );
    }
}
