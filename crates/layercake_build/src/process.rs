//! Running the docker CLI: captured short commands with a time limit, line readers
//! for long ones, and stopping a process group.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

/// The longest line kept from a build's output; the rest of a longer line is dropped
/// so one huge line cannot take the memory.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// A command's outcome: its exit status (`None` if it was killed at the time limit)
/// and its output as text.
#[derive(Debug)]
pub(crate) struct Captured {
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Captured {
    pub(crate) fn success(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }

    /// The first non-empty line of stderr, for a one-line reason.
    pub(crate) fn stderr_line(&self) -> &str {
        first_line(&self.stderr)
    }
}

/// The first non-empty line of `text`, trimmed.
pub(crate) fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

/// A `Command` for `binary args…` in a process group of its own, so that it and any
/// plugin it starts (buildx runs as a child of the CLI) can be stopped together.
pub(crate) fn docker_command<I, S>(binary: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(binary);
    command.args(args).stdin(Stdio::null()).process_group(0);
    command
}

/// Runs `command` to its end, or kills it after `limit`.
pub(crate) fn capture(mut command: Command, limit: Duration) -> io::Result<Captured> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let deadline = Instant::now() + limit;
    let (sender, receiver) = mpsc::channel();
    let stdout = child
        .stdout
        .take()
        .map(|pipe| read_all(pipe, sender.clone(), true));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| read_all(pipe, sender, false));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut open = usize::from(stdout.is_some()) + usize::from(stderr.is_some());
    while open > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok((true, bytes)) => {
                out = bytes;
                open -= 1;
            }
            Ok((false, bytes)) => {
                err = bytes;
                open -= 1;
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                kill_group(&mut child);
                let _ = child.wait();
                return Ok(Captured {
                    status: None,
                    stdout: String::from_utf8_lossy(&out).into_owned(),
                    stderr: String::from_utf8_lossy(&err).into_owned(),
                });
            }
        }
    }
    let status = wait_until(&mut child, deadline)?;
    Ok(Captured {
        status,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    })
}

/// Waits for `child` to exit; kills it at `deadline`, and then `None`.
fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            kill_group(child);
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn read_all(
    mut pipe: impl Read + Send + 'static,
    sender: Sender<(bool, Vec<u8>)>,
    is_stdout: bool,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = sender.send((is_stdout, bytes));
    })
}

/// Reads `pipe` line by line on a thread of its own and sends each line (lossily
/// decoded, without its line ending, cut at [`MAX_LINE_BYTES`]). When nobody receives
/// any more it keeps reading to the end, so the writer never blocks on a full pipe.
pub(crate) fn send_lines(pipe: impl Read + Send + 'static, sender: Sender<String>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        let mut receiving = true;
        loop {
            line.clear();
            match read_capped_line(&mut reader, &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if receiving {
                        while matches!(line.last(), Some(b'\n' | b'\r')) {
                            line.pop();
                        }
                        let text = String::from_utf8_lossy(&line).into_owned();
                        receiving = sender.send(text).is_ok();
                    }
                }
            }
        }
    });
}

/// Like `read_until(b'\n')`, but keeps at most [`MAX_LINE_BYTES`] of the line.
/// Returns the number of bytes consumed.
fn read_capped_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    let mut consumed = 0;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buffer.is_empty() {
            return Ok(consumed);
        }
        let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(end) => (&buffer[..=end], true),
            None => (buffer, false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        reader.consume(used);
        consumed += used;
        if done {
            return Ok(consumed);
        }
    }
}

/// Sends `signal` to the process group `child` leads (see [`docker_command`]).
pub(crate) fn signal_group(child: &Child, signal: Signal) {
    // The group may be gone already; there is nothing to do about an error here.
    let _ = kill_process_group(Pid::from_child(child), signal);
}

/// Kills `child` and its process group.
pub(crate) fn kill_group(child: &mut Child) {
    signal_group(child, Signal::KILL);
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_the_rest_still_read() {
        let mut text = vec![b'a'; MAX_LINE_BYTES + 100];
        text.extend_from_slice(b"\nnext\n");
        let mut reader = BufReader::with_capacity(1000, &text[..]);
        let mut line = Vec::new();
        let consumed = read_capped_line(&mut reader, &mut line).expect("read");
        assert_eq!(consumed, MAX_LINE_BYTES + 101);
        assert_eq!(line.len(), MAX_LINE_BYTES);
        line.clear();
        read_capped_line(&mut reader, &mut line).expect("read");
        assert_eq!(line, b"next\n");
        line.clear();
        assert_eq!(read_capped_line(&mut reader, &mut line).expect("read"), 0);
    }

    #[test]
    fn capture_reads_both_streams() {
        let command = docker_command(
            Path::new("/bin/sh"),
            ["-c", "echo out; echo err >&2; exit 3"],
        );
        let captured = capture(command, Duration::from_secs(10)).expect("runs");
        assert_eq!(captured.stdout, "out\n");
        assert_eq!(captured.stderr_line(), "err");
        assert_eq!(captured.status.and_then(|s| s.code()), Some(3));
    }

    #[test]
    fn capture_kills_at_the_limit() {
        let started = Instant::now();
        let command = docker_command(Path::new("/bin/sh"), ["-c", "sleep 20"]);
        let captured = capture(command, Duration::from_millis(200)).expect("runs");
        assert!(captured.status.is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
