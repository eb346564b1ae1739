//! Running `git -C <repo> …`: never through a shell, never prompting, with
//! output in a fixed language so failures can be classified.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::GitError;

/// How many lines of git's standard error a [`GitError::CommandFailed`] keeps.
const STDERR_LINES: usize = 10;

/// The git program, found on `PATH`.
const PROGRAM: &str = "git";

/// One git invocation in `repo`.
pub(crate) struct Git<'a> {
    repo: &'a Path,
    args: Vec<&'a OsStr>,
    envs: Vec<(&'static str, &'a OsStr)>,
}

impl<'a> Git<'a> {
    pub(crate) fn new(repo: &'a Path) -> Self {
        Git {
            repo,
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Sets an environment variable for this command only (after the ones
    /// every command clears, so `GIT_INDEX_FILE` can name a private index).
    pub(crate) fn env(
        mut self,
        name: &'static str,
        value: &'a (impl AsRef<OsStr> + ?Sized),
    ) -> Self {
        self.envs.push((name, value.as_ref()));
        self
    }

    pub(crate) fn arg(mut self, arg: &'a (impl AsRef<OsStr> + ?Sized)) -> Self {
        self.args.push(arg.as_ref());
        self
    }

    fn command_line(&self) -> String {
        let mut line = format!("git -C {}", self.repo.display());
        for arg in &self.args {
            line.push(' ');
            line.push_str(&arg.to_string_lossy());
        }
        line
    }

    /// Runs the command and returns its output whatever the exit status, after
    /// turning "not a repository" into [`GitError::NotARepository`].
    pub(crate) fn output(&self) -> Result<Output, GitError> {
        let mut command = Command::new(PROGRAM);
        command
            .arg("-C")
            .arg(self.repo)
            // A repository's hooks are not ours to run.
            .args(["-c", "core.hooksPath=/dev/null"])
            .args(&self.args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_LITERAL_PATHSPECS", "1")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .env("LANGUAGE", "C")
            // The repository is the one passed in, not one the environment
            // points at (as in a git hook).
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .env_remove("GIT_COMMON_DIR")
            .envs(self.envs.iter().copied())
            .stdin(Stdio::null());
        let output = command.output().map_err(|source| GitError::NotInstalled {
            program: PROGRAM.to_string(),
            source,
        })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("not a git repository") || stderr.contains("cannot change to") {
                return Err(GitError::NotARepository {
                    path: self.repo.to_path_buf(),
                    reason: last_lines(&stderr, 1),
                });
            }
        }
        Ok(output)
    }

    /// Runs the command and returns its standard output; a non-zero exit is
    /// [`GitError::CommandFailed`].
    pub(crate) fn run(&self) -> Result<Vec<u8>, GitError> {
        let output = self.output()?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(self.failed(&output))
        }
    }

    pub(crate) fn failed(&self, output: &Output) -> GitError {
        GitError::CommandFailed {
            command: self.command_line(),
            status: output.status.to_string(),
            stderr: last_lines(&String::from_utf8_lossy(&output.stderr), STDERR_LINES),
        }
    }

    pub(crate) fn repo(&self) -> PathBuf {
        self.repo.to_path_buf()
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// A path as git wrote it (raw bytes in `-z` output).
pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// The NUL-terminated records of `-z` output.
pub(crate) fn nul_fields(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .strip_suffix(b"\0")
        .unwrap_or(bytes)
        .split(|b| *b == 0)
        .filter(|field| !field.is_empty())
}
