//! What a review shows while it builds, on stderr: a status line on a
//! terminal, `::group::` folding in GitHub Actions, one line per build
//! elsewhere, nothing with `--quiet`.

use layercake_build::BuildEvent;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressStyle {
    /// Nothing.
    Quiet,
    /// One status line, redrawn: `[head app/Dockerfile] ████░░ 4/9 RUN npm ci`.
    Terminal,
    /// GitHub Actions: each build's log in a `::group::`.
    Actions,
    /// One line when a build starts and one when it ends.
    Plain,
}

impl ProgressStyle {
    /// The style for this process: `--quiet`, then `GITHUB_ACTIONS=true`,
    /// then whether stderr is a terminal.
    pub fn detect(quiet: bool) -> ProgressStyle {
        if quiet {
            ProgressStyle::Quiet
        } else if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            ProgressStyle::Actions
        } else if std::io::stderr().is_terminal() {
            ProgressStyle::Terminal
        } else {
            ProgressStyle::Plain
        }
    }
}

/// Progress shared by the build threads.
pub struct Progress {
    style: ProgressStyle,
    /// Serialises writes, so lines of concurrent builds never interleave
    /// mid-line (and a `::group::` is written whole).
    lock: Mutex<()>,
}

impl Progress {
    /// Progress in `style`.
    pub fn new(style: ProgressStyle) -> Progress {
        Progress {
            style,
            lock: Mutex::new(()),
        }
    }

    fn write(&self, text: &str) {
        let _guard = self.lock.lock();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }
}

/// Progress of one build.
pub struct BuildProgress<'a> {
    progress: &'a Progress,
    title: String,
    expected_steps: usize,
    finished_steps: usize,
    /// In Actions, the build's log, written as one group when it ends.
    log: Vec<String>,
}

impl layercake_review::Progress for Progress {
    fn note(&self, text: &str) {
        if self.style == ProgressStyle::Quiet {
            return;
        }
        self.write(&format!("layercake: {text}\n"));
    }

    fn build(
        &self,
        title: String,
        expected_steps: usize,
    ) -> Box<dyn layercake_review::BuildProgress + '_> {
        if self.style == ProgressStyle::Plain {
            self.write(&format!("layercake: building {title}\n"));
        }
        Box::new(BuildProgress {
            progress: self,
            title,
            expected_steps: expected_steps.max(1),
            finished_steps: 0,
            log: Vec::new(),
        })
    }
}

impl layercake_review::BuildProgress for BuildProgress<'_> {
    fn on_event(&mut self, event: BuildEvent<'_>) {
        match (self.progress.style, event) {
            (ProgressStyle::Actions, BuildEvent::Line(line)) => self.log.push(line.to_string()),
            (ProgressStyle::Terminal, BuildEvent::Step(step)) => {
                if step.position.is_some() {
                    self.finished_steps += 1;
                }
                let width = 20;
                let done = (self.finished_steps * width / self.expected_steps).min(width);
                let mut name: String = step.name.chars().take(60).collect();
                if step.cached {
                    name.push_str(" (cached)");
                }
                self.progress.write(&format!(
                    "\r\x1b[2K[{}] {}{} {}/{} {name}",
                    self.title,
                    "█".repeat(done),
                    "░".repeat(width - done),
                    self.finished_steps.min(self.expected_steps),
                    self.expected_steps
                ));
            }
            _ => {}
        }
    }

    fn finish(self: Box<Self>, outcome: &str) {
        match self.progress.style {
            ProgressStyle::Quiet => {}
            ProgressStyle::Terminal => self
                .progress
                .write(&format!("\r\x1b[2K[{}] {outcome}\n", self.title)),
            ProgressStyle::Plain => self
                .progress
                .write(&format!("layercake: {}: {outcome}\n", self.title)),
            ProgressStyle::Actions => {
                let mut text = format!(
                    "::group::layercake: {} ({outcome})\n",
                    escape_group(&self.title)
                );
                for line in &self.log {
                    // A log line must not end the group or run a workflow command.
                    if line.starts_with("::") {
                        text.push(' ');
                    }
                    text.push_str(line);
                    text.push('\n');
                }
                text.push_str("::endgroup::\n");
                self.progress.write(&text);
            }
        }
    }
}

/// A group title is a workflow command's message: `%`, CR and LF are escaped.
fn escape_group(title: &str) -> String {
    title
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
