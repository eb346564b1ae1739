//! A failed build as the renderers tell it: the step it stopped at, and the log
//! lines that say why instead of whatever the log happened to print last.

use std::fmt::Write as _;

use crate::types::{BuildInfo, FailedStep};
use layercake_render::escape::{code, plain};

impl FailedStep {
    /// Where the build stopped and how, for people: `at line 6: RUN npm ci (exit
    /// code 1)`, `at line 4 in stage deps: …`, `at step [internal] load metadata
    /// for …`.
    pub fn describe(&self) -> String {
        let mut out = format!("at {}", self.place());
        if self.line_start.is_some() {
            out.push_str(": ");
        } else {
            out.push(' ');
        }
        out.push_str(&self.instruction);
        out.push_str(&self.exit());
        out
    }

    /// [`FailedStep::describe`] in Markdown, the instruction as code.
    pub(crate) fn describe_markdown(&self) -> String {
        let separator = if self.line_start.is_some() { ": " } else { " " };
        format!(
            "at {}{separator}{}{}",
            plain(&self.place()),
            code(&self.instruction),
            self.exit()
        )
    }

    fn place(&self) -> String {
        let mut place = match self.line_start {
            Some(line) => format!("line {line}"),
            None => "step".to_string(),
        };
        if let (Some(stage), Some(_)) = (&self.stage, self.line_start) {
            let _ = write!(place, " in stage {stage}");
        }
        place
    }

    fn exit(&self) -> String {
        self.exit_code
            .map(|code| format!(" (exit code {code})"))
            .unwrap_or_default()
    }
}

/// The lines to show for a failed build: those that say why it failed, else the
/// last `tail` lines of its log (a timeout, or a report from before causes).
pub(crate) fn shown_lines(build: &BuildInfo, tail: usize) -> &[String] {
    if build.cause.is_empty() {
        let skip = build.log_tail.len().saturating_sub(tail);
        &build.log_tail[skip..]
    } else {
        &build.cause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(line: Option<usize>, stage: Option<&str>, exit_code: Option<i32>) -> FailedStep {
        FailedStep {
            instruction: "RUN npm ci | tee log".to_string(),
            stage: stage.map(str::to_string),
            line_start: line,
            line_end: line,
            exit_code,
        }
    }

    #[test]
    fn describes_where_and_how() {
        assert_eq!(
            step(Some(6), None, Some(1)).describe(),
            "at line 6: RUN npm ci | tee log (exit code 1)"
        );
        assert_eq!(
            step(Some(4), Some("deps"), None).describe(),
            "at line 4 in stage deps: RUN npm ci | tee log"
        );
        assert_eq!(
            step(None, Some("deps"), None).describe(),
            "at step RUN npm ci | tee log"
        );
        assert_eq!(
            step(Some(4), Some("my_deps"), Some(100)).describe_markdown(),
            // Prose, not a table cell: the `|` in the code span stays as it is.
            "at line 4 in stage my\\_deps: `RUN npm ci | tee log` (exit code 100)"
        );
    }

    #[test]
    fn the_cause_else_the_tail() {
        let mut build = BuildInfo {
            duration_seconds: 1.0,
            cached_steps: 0,
            executed_steps: 1,
            exit_code: Some(1),
            error: None,
            log_tail: (0..40).map(|i| format!("line {i}")).collect(),
            cause: Vec::new(),
            failed_step: None,
        };
        assert_eq!(shown_lines(&build, 10), &build.log_tail[30..]);
        build.cause = vec!["E: Unable to locate package x".to_string()];
        assert_eq!(shown_lines(&build, 10), ["E: Unable to locate package x"]);
    }
}
