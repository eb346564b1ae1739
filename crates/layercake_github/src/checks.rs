//! Check runs: what is sent to create, update and complete one, and fitting a
//! report into GitHub's limits.

use std::borrow::Cow;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use crate::time::format_timestamp;

/// GitHub's limit on a check run's `output.summary` and `output.text`. GitHub's
/// documentation says characters; its check is on UTF-8 bytes ("summary exceeds a
/// maximum bytesize of 65535"), so text is fitted to this many bytes, which is never
/// more characters.
pub const MAX_CHECK_OUTPUT_BYTES: usize = 65_535;

/// The most annotations GitHub takes in one request; more go in further updates,
/// which GitHub appends.
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;

/// GitHub's limit on an annotation's `message` and `raw_details`: 64 KB.
const MAX_ANNOTATION_BYTES: usize = 65_535;

/// GitHub's limit on an annotation's `title`, in characters.
const MAX_ANNOTATION_TITLE_CHARS: usize = 255;

/// What is said at the end of text cut to fit.
const CUT_NOTICE: &str = "\n_… cut here: the rest is longer than GitHub shows._\n";

/// A check run as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The commit it is on.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed` (GitHub may add others).
    pub status: String,
    /// The integrator's reference it was created with; `None` when it has none.
    pub external_id: Option<String>,
}

/// A check run to create, `in_progress` from the start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCheckRun {
    /// Its name, as the pull request's checks list shows it (e.g. `layercake`).
    pub name: String,
    /// The commit it is about: the pull request's head.
    pub head_sha: String,
    /// When the work started; `None` leaves it to GitHub (the time of the request).
    pub started_at: Option<SystemTime>,
    /// The integrator's own reference, e.g. a job id.
    pub external_id: Option<String>,
    /// Where a person sees more (the integrator's page for the run).
    pub details_url: Option<String>,
}

impl Serialize for NewCheckRun {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            name: &'a str,
            head_sha: &'a str,
            status: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            started_at: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            external_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            details_url: Option<&'a str>,
        }
        Wire {
            name: &self.name,
            head_sha: &self.head_sha,
            status: "in_progress",
            started_at: self.started_at.map(format_timestamp),
            external_id: self.external_id.as_deref(),
            details_url: self.details_url.as_deref(),
        }
        .serialize(serializer)
    }
}

/// Where a check run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckRunStatus {
    /// Waiting to start.
    Queued,
    /// Running.
    InProgress,
    /// Done; it then has a [`Conclusion`].
    Completed,
}

/// How a completed check run came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// Passed.
    Success,
    /// Failed (blocks merging where the check is required).
    Failure,
    /// Neither: informational.
    Neutral,
    /// Stopped before it finished.
    Cancelled,
    /// Needs a person to act (GitHub shows the run's `details_url`).
    ActionRequired,
}

/// A change to a check run; fields left `None` are not sent, so they stay as they
/// are. Annotations in `output` are appended to the run's (at most
/// [`MAX_ANNOTATIONS_PER_REQUEST`] in one update).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckRunUpdate {
    /// The new status.
    pub status: Option<CheckRunStatus>,
    /// The conclusion; GitHub completes a run given one.
    pub conclusion: Option<Conclusion>,
    /// When it completed.
    pub completed_at: Option<SystemTime>,
    /// The report (title and summary replace the old ones).
    pub output: Option<CheckRunOutput>,
}

impl Serialize for CheckRunUpdate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<CheckRunStatus>,
            #[serde(skip_serializing_if = "Option::is_none")]
            conclusion: Option<Conclusion>,
            #[serde(skip_serializing_if = "Option::is_none")]
            completed_at: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            output: Option<&'a CheckRunOutput>,
        }
        Wire {
            status: self.status,
            conclusion: self.conclusion,
            completed_at: self.completed_at.map(format_timestamp),
            output: self.output.as_ref(),
        }
        .serialize(serializer)
    }
}

/// A check run's report: what the pull request's checks tab shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckRunOutput {
    /// Its title (one line).
    pub title: String,
    /// Its Markdown summary, at most [`MAX_CHECK_OUTPUT_BYTES`].
    pub summary: String,
    /// More Markdown below the summary, at most [`MAX_CHECK_OUTPUT_BYTES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Findings on lines of files, shown in the diff.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<CheckAnnotation>,
}

/// A finding on lines of a file, shown in the pull request's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckAnnotation {
    /// The file's path in the repository, e.g. `docker/Dockerfile`.
    pub path: String,
    /// Its first line (1-based).
    pub start_line: u64,
    /// Its last line.
    pub end_line: u64,
    /// How serious it is.
    pub annotation_level: AnnotationLevel,
    /// What it says (plain text, at most 64 KB).
    pub message: String,
    /// A title above the message (at most 255 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Details shown on demand (at most 64 KB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

/// How serious an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    /// A note.
    Notice,
    /// A warning.
    Warning,
    /// An error.
    Failure,
}

/// The updates that complete a check run with `output`: the first completes it
/// with the first [`MAX_ANNOTATIONS_PER_REQUEST`] annotations, each further one
/// appends the next batch (with the same title and summary, which GitHub requires
/// with any output). Summary, text and annotations are fitted to GitHub's limits.
pub(crate) fn completion_updates(
    conclusion: Conclusion,
    output: &CheckRunOutput,
    now: SystemTime,
) -> Vec<CheckRunUpdate> {
    let summary = fit_markdown(&output.summary, MAX_CHECK_OUTPUT_BYTES).into_owned();
    let text = output
        .text
        .as_deref()
        .map(|text| fit_markdown(text, MAX_CHECK_OUTPUT_BYTES).into_owned());
    let annotations: Vec<CheckAnnotation> = output.annotations.iter().map(fit_annotation).collect();
    let mut batches = annotations.chunks(MAX_ANNOTATIONS_PER_REQUEST);
    let with = |annotations: &[CheckAnnotation]| CheckRunOutput {
        title: output.title.clone(),
        summary: summary.clone(),
        text: text.clone(),
        annotations: annotations.to_vec(),
    };
    let mut updates = vec![CheckRunUpdate {
        status: Some(CheckRunStatus::Completed),
        conclusion: Some(conclusion),
        completed_at: Some(now),
        output: Some(with(batches.next().unwrap_or_default())),
    }];
    updates.extend(batches.map(|batch| CheckRunUpdate {
        output: Some(with(batch)),
        ..CheckRunUpdate::default()
    }));
    updates
}

fn fit_annotation(annotation: &CheckAnnotation) -> CheckAnnotation {
    CheckAnnotation {
        message: cut_at(&annotation.message, MAX_ANNOTATION_BYTES).to_string(),
        title: annotation.title.as_ref().map(|title| {
            title
                .chars()
                .take(MAX_ANNOTATION_TITLE_CHARS)
                .collect::<String>()
        }),
        raw_details: annotation
            .raw_details
            .as_deref()
            .map(|details| cut_at(details, MAX_ANNOTATION_BYTES).to_string()),
        ..annotation.clone()
    }
}

/// The longest start of `text` of at most `max` bytes that ends on a character.
fn cut_at(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A code fence: its character (`` ` `` or `~`) and length.
type Fence = (char, usize);

/// The fence a line opens or closes, given the one open before it: the fence
/// still open after it.
fn fence_after(line: &str, open: Option<Fence>) -> Option<Fence> {
    let trimmed = line.trim_start();
    let marker = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'));
    let Some(marker) = marker else {
        return open;
    };
    let run = trimmed.chars().take_while(|&c| c == marker).count();
    if run < 3 {
        return open;
    }
    match open {
        // Closed by a run as long at least, with nothing after it.
        Some((open_marker, open_run)) => {
            let rest = &trimmed[run * marker.len_utf8()..];
            if marker == open_marker && run >= open_run && rest.trim().is_empty() {
                None
            } else {
                open
            }
        }
        // A backtick fence's info string has no backtick.
        None if marker == '`' && trimmed[run..].contains('`') => None,
        None => Some((marker, run)),
    }
}

fn closing_fence((marker, run): Fence) -> String {
    std::iter::repeat_n(marker, run).collect()
}

/// `text` if it has at most `max` bytes, else as many of its whole lines as fit
/// with a note that it was cut, and a fence closing a code block the cut left
/// open. A first line longer than everything is cut at a character.
pub(crate) fn fit_markdown(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    // What the end takes: a newline, a closing fence and its newline, the notice.
    let ending_len = |open: Option<Fence>| {
        1 + open.map_or(0, |(marker, run)| marker.len_utf8() * run + 1) + CUT_NOTICE.len()
    };
    let mut kept = 0;
    let mut open = None;
    for line in text.split_inclusive('\n') {
        let after = fence_after(line, open);
        if kept + line.len() + ending_len(after) > max {
            break;
        }
        kept += line.len();
        open = after;
    }
    let mut fitted = if kept == 0 {
        // Not even the first line fits: a cut inside it.
        let first = text.split_inclusive('\n').next().unwrap_or(text);
        let room = max.saturating_sub(ending_len(None));
        let cut = cut_at(first, room);
        open = fence_after(cut, None);
        let room = max.saturating_sub(ending_len(open));
        cut_at(cut, room).to_string()
    } else {
        text[..kept].to_string()
    };
    if !fitted.ends_with('\n') {
        fitted.push('\n');
    }
    if let Some(fence) = open {
        fitted.push_str(&closing_fence(fence));
        fitted.push('\n');
    }
    fitted.push_str(CUT_NOTICE);
    Cow::Owned(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::{Duration, UNIX_EPOCH};

    fn annotation(n: u64) -> CheckAnnotation {
        CheckAnnotation {
            path: "Dockerfile".into(),
            start_line: n,
            end_line: n,
            annotation_level: AnnotationLevel::Warning,
            message: format!("finding {n}"),
            title: None,
            raw_details: None,
        }
    }

    #[test]
    fn short_text_is_left_alone() {
        assert!(matches!(fit_markdown("abc\n", 10), Cow::Borrowed("abc\n")));
    }

    #[test]
    fn long_text_is_cut_at_a_line_with_a_notice() {
        let text = "line one\n".repeat(100);
        let fitted = fit_markdown(&text, 200);
        assert!(fitted.len() <= 200, "{}", fitted.len());
        assert!(fitted.ends_with(CUT_NOTICE));
        let body = fitted.strip_suffix(CUT_NOTICE).unwrap();
        assert!(
            body.lines()
                .all(|line| line == "line one" || line.is_empty())
        );
    }

    #[test]
    fn an_open_fence_is_closed() {
        let mut text = String::from("# Report\n\n````diff\n");
        text.push_str(&"+ added line\n".repeat(100));
        text.push_str("````\nafter\n");
        let fitted = fit_markdown(&text, 300);
        assert!(fitted.len() <= 300, "{}", fitted.len());
        let body = fitted.strip_suffix(CUT_NOTICE).unwrap();
        assert!(body.ends_with("+ added line\n````\n"), "{body}");
        // Balanced: every opened fence is closed.
        let open = body
            .lines()
            .fold(None, |open, line| fence_after(line, open));
        assert_eq!(open, None);
    }

    #[test]
    fn a_closed_fence_is_not_closed_again() {
        let mut text = String::from("```\ncode\n```\n");
        text.push_str(&"plain words\n".repeat(100));
        let fitted = fit_markdown(&text, 200);
        assert_eq!(fitted.matches("```").count(), 2, "{fitted}");
        // Backticks inside a line, or a tilde fence, do not confuse it.
        assert_eq!(fence_after("use ```x``` here", None), None);
        assert_eq!(fence_after("```rust", None), Some(('`', 3)));
        assert_eq!(fence_after("~~~~", None), Some(('~', 4)));
        assert_eq!(fence_after("```", Some(('~', 4))), Some(('~', 4)));
        assert_eq!(fence_after("  ~~~~~  ", Some(('~', 4))), None);
        assert_eq!(fence_after("```rust", Some(('`', 3))), Some(('`', 3)));
    }

    #[test]
    fn limits_are_bytes_and_cuts_fall_on_characters() {
        // 40,000 three-byte characters on one line: too many bytes, few characters.
        let text = "€".repeat(40_000);
        let fitted = fit_markdown(&text, MAX_CHECK_OUTPUT_BYTES);
        assert!(fitted.len() <= MAX_CHECK_OUTPUT_BYTES);
        assert!(fitted.starts_with("€€€"));
        assert!(fitted.ends_with(CUT_NOTICE));
        assert_eq!(cut_at("aé", 2), "a");
    }

    #[test]
    fn completion_sends_annotations_in_batches() {
        let output = CheckRunOutput {
            title: "3 findings".into(),
            summary: "s".into(),
            text: Some("t".into()),
            annotations: (1..=120).map(annotation).collect(),
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        let updates = completion_updates(Conclusion::Failure, &output, now);
        let sizes: Vec<usize> = updates
            .iter()
            .map(|update| update.output.as_ref().unwrap().annotations.len())
            .collect();
        assert_eq!(sizes, [50, 50, 20]);
        let first = serde_json::to_value(&updates[0]).unwrap();
        assert_eq!(first["status"], "completed");
        assert_eq!(first["conclusion"], "failure");
        assert_eq!(first["completed_at"], "2024-05-01T12:00:00Z");
        assert_eq!(
            first["output"]["annotations"][0]["annotation_level"],
            "warning"
        );
        assert_eq!(first["output"]["annotations"][0]["start_line"], 1);
        let second = serde_json::to_value(&updates[1]).unwrap();
        assert_eq!(
            second.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["output"]
        );
        assert_eq!(second["output"]["title"], "3 findings");
        assert_eq!(second["output"]["annotations"][0]["start_line"], 51);
        // No annotations: one update, no annotations field.
        let plain = CheckRunOutput {
            annotations: Vec::new(),
            ..output
        };
        let updates = completion_updates(Conclusion::Success, &plain, now);
        assert_eq!(updates.len(), 1);
        let only = serde_json::to_value(&updates[0]).unwrap();
        assert!(only["output"].get("annotations").is_none());
    }

    #[test]
    fn new_check_runs_start_in_progress() {
        let run = NewCheckRun {
            name: "layercake".into(),
            head_sha: "abc".into(),
            ..NewCheckRun::default()
        };
        assert_eq!(
            serde_json::to_value(&run).unwrap(),
            serde_json::json!({"name": "layercake", "head_sha": "abc", "status": "in_progress"})
        );
        assert_eq!(
            serde_json::to_value(Conclusion::ActionRequired).unwrap(),
            "action_required"
        );
    }

    #[test]
    fn annotations_are_fitted() {
        let long = CheckAnnotation {
            title: Some("t".repeat(300)),
            message: "é".repeat(40_000),
            ..annotation(1)
        };
        let fitted = fit_annotation(&long);
        assert_eq!(fitted.title.unwrap().chars().count(), 255);
        assert!(fitted.message.len() <= MAX_ANNOTATION_BYTES);
    }
}
