//! Putting a report where people read it: on the pull request (the sticky
//! summary comment and one review with inline comments), in a check run's
//! output, and as GitHub Actions annotations.

use layercake_github::{
    AnnotationLevel, CheckAnnotation, CheckRunOutput, GitHub, GitHubError, IssueComment, NewReview,
    NewReviewComment, RepoName, ReviewEvent,
};
use layercake_lint::Severity;
use layercake_report::{
    BudgetVerdict, Change, CommentOptions, DiffReport, comment_marker, commentable_lines,
    finding_marker, inline_comments, render_comment,
};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

/// Where to publish.
#[derive(Clone, Debug)]
pub struct PullRequestTarget {
    /// The base repository.
    pub repo: RepoName,
    /// The pull request's number.
    pub number: u64,
    /// The head commit the review comments attach to.
    pub head_sha: String,
}

/// What to publish.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// Post or update the sticky summary comment.
    pub post_comment: bool,
    /// Post a review with inline comments on changed lines.
    pub post_review: bool,
    /// How the comment is made.
    pub comment: CommentOptions,
    /// Logins whose comments count as ours besides bots (`comment-author`).
    pub authors: Vec<String>,
}

/// What happened to the summary comment.
#[derive(Debug, PartialEq, Eq)]
pub enum CommentOutcome {
    /// Created, with this id.
    Created(u64),
    /// Updated in place.
    Updated(u64),
    /// Already said the same.
    Unchanged(u64),
    /// Not asked for.
    Skipped,
}

/// What happened to the review.
#[derive(Debug, PartialEq, Eq)]
pub enum InlineReviewOutcome {
    /// Posted with this many inline comments.
    Posted(usize),
    /// Every inline comment was already there (or none was on a changed line).
    NothingNew,
    /// Not asked for.
    Skipped,
    /// GitHub refused it (the message says why); the summary still has every finding.
    Refused(String),
}

/// What publishing did.
#[derive(Debug, PartialEq, Eq)]
pub struct Published {
    /// To the sticky comment.
    pub comment: CommentOutcome,
    /// To the review.
    pub review: InlineReviewOutcome,
}

/// Publishes the comment, then the review.
pub async fn publish(
    github: &GitHub,
    target: &PullRequestTarget,
    report: &DiffReport,
    options: &PublishOptions,
) -> Result<Published, GitHubError> {
    let comment = if options.post_comment {
        let body = render_comment(report, &options.comment);
        upsert_comment(
            github,
            target,
            &options.comment.key,
            &body,
            &options.authors,
        )
        .await?
    } else {
        CommentOutcome::Skipped
    };
    let review = if options.post_review {
        post_review(github, target, report).await?
    } else {
        InlineReviewOutcome::Skipped
    };
    Ok(Published { comment, review })
}

/// Says on the pull request that the review of `target`'s head could not be
/// made, and why: the sticky comment with `key`'s marker is rewritten to say
/// so, when there is one (its old review is of an older head). Nothing is
/// created when there is none: the check run already says it. Returns the
/// comment updated.
pub async fn publish_not_reviewed(
    github: &GitHub,
    target: &PullRequestTarget,
    key: &str,
    reason: &str,
    authors: &[String],
) -> Result<Option<u64>, GitHubError> {
    let marker = comment_marker(key);
    let comments = github.issue_comments(&target.repo, target.number).await?;
    let Some(existing) = ours(&comments, &marker, authors).first().map(|c| c.id) else {
        return Ok(None);
    };
    let body = not_reviewed_body(&marker, &target.head_sha, reason);
    github
        .update_issue_comment(&target.repo, existing, &body)
        .await?;
    Ok(Some(existing))
}

/// The sticky comment's text when the review could not be made.
pub fn not_reviewed_body(marker: &str, head_sha: &str, reason: &str) -> String {
    let short: String = head_sha.chars().take(12).collect();
    format!(
        "{marker}\n### layercake could not review {}\n\n{}\n\nThe check run has the same reason. A new push, or re-running the check, tries again.\n",
        layercake_render::escape::code(&short),
        layercake_render::escape::fenced(reason, "text"),
    )
}

/// Our comments with `key`'s marker, oldest first: the marker starts the
/// body and the author is a bot (the Actions token's or an App's) or one of
/// `authors`, so a person quoting the marker does not hijack it.
fn ours<'a>(
    comments: &'a [IssueComment],
    marker: &str,
    authors: &[String],
) -> Vec<&'a IssueComment> {
    let mut found: Vec<&IssueComment> = comments
        .iter()
        .filter(|c| c.body.starts_with(marker))
        .filter(|c| c.user_type == "Bot" || authors.contains(&c.user_login))
        .collect();
    found.sort_by_key(|c| c.id);
    found
}

/// One comment per pull request and key, updated in place, untouched when
/// unchanged. Two runs racing both create; each then re-reads, the oldest
/// comment wins and the other run deletes its own.
async fn upsert_comment(
    github: &GitHub,
    target: &PullRequestTarget,
    key: &str,
    body: &str,
    authors: &[String],
) -> Result<CommentOutcome, GitHubError> {
    let marker = comment_marker(key);
    let comments = github.issue_comments(&target.repo, target.number).await?;
    let existing = ours(&comments, &marker, authors);
    if let Some(first) = existing.first() {
        for duplicate in &existing[1..] {
            github
                .delete_issue_comment(&target.repo, duplicate.id)
                .await?;
        }
        if normalized(&first.body) == normalized(body) {
            return Ok(CommentOutcome::Unchanged(first.id));
        }
        github
            .update_issue_comment(&target.repo, first.id, body)
            .await?;
        return Ok(CommentOutcome::Updated(first.id));
    }
    let created = match github
        .create_issue_comment(&target.repo, target.number, body)
        .await
    {
        Ok(comment) => comment.id,
        Err(GitHubError::Ambiguous { .. }) => {
            // It may have been created: look before writing again.
            let comments = github.issue_comments(&target.repo, target.number).await?;
            match ours(&comments, &marker, authors).first() {
                Some(found) => found.id,
                None => {
                    github
                        .create_issue_comment(&target.repo, target.number, body)
                        .await?
                        .id
                }
            }
        }
        Err(error) => return Err(error),
    };
    let comments = github.issue_comments(&target.repo, target.number).await?;
    let existing = ours(&comments, &marker, authors);
    match existing.first() {
        Some(winner) if winner.id != created => {
            github.delete_issue_comment(&target.repo, created).await?;
            if normalized(&winner.body) != normalized(body) {
                github
                    .update_issue_comment(&target.repo, winner.id, body)
                    .await?;
            }
            Ok(CommentOutcome::Updated(winner.id))
        }
        _ => Ok(CommentOutcome::Created(created)),
    }
}

/// GitHub stores bodies with `\r\n` as sent; compare without line-ending noise.
fn normalized(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

/// One review holding the inline comments not posted before.
async fn post_review(
    github: &GitHub,
    target: &PullRequestTarget,
    report: &DiffReport,
) -> Result<InlineReviewOutcome, GitHubError> {
    let files = github
        .pull_request_files(&target.repo, target.number)
        .await?;
    let diff_lines: HashMap<String, BTreeSet<usize>> = files
        .iter()
        .filter_map(|f| {
            f.patch
                .as_deref()
                .map(|p| (f.filename.clone(), commentable_lines(p)))
        })
        .collect();
    let wanted = inline_comments(report, &diff_lines);
    if wanted.is_empty() {
        return Ok(InlineReviewOutcome::NothingNew);
    }
    let posted = github.review_comments(&target.repo, target.number).await?;
    let fresh: Vec<_> = wanted
        .into_iter()
        .filter(|c| {
            !posted
                .iter()
                .any(|p| p.body.contains(&finding_marker(&c.fingerprint)))
        })
        .collect();
    if fresh.is_empty() {
        return Ok(InlineReviewOutcome::NothingNew);
    }
    let count = fresh.len();
    let review = NewReview {
        commit_id: target.head_sha.clone(),
        body: format!(
            "layercake: {count} finding{} on lines this pull request changed; the summary comment has the full report.",
            if count == 1 { "" } else { "s" }
        ),
        event: ReviewEvent::Comment,
        comments: fresh
            .into_iter()
            .map(|c| NewReviewComment {
                path: c.path,
                line: c.line as u64,
                start_line: c.start_line.map(|l| l as u64),
                body: c.body,
            })
            .collect(),
    };
    match github
        .create_review(&target.repo, target.number, &review)
        .await
    {
        Ok(_) => Ok(InlineReviewOutcome::Posted(count)),
        Err(GitHubError::Validation { message, errors }) => Ok(InlineReviewOutcome::Refused(
            format!("{message}: {}", errors.join("; ")),
        )),
        Err(error) => Err(error),
    }
}

/// The check run's output: the budget verdict and counts in the title, the
/// comment as summary, the new findings as annotations.
pub fn check_run_output(report: &DiffReport) -> CheckRunOutput {
    let new = report.count(Change::New);
    let delta: i64 = report.images.iter().filter_map(|i| i.delta_bytes).sum();
    let budget_failed = report.images.iter().any(|i| {
        i.budget
            .as_ref()
            .is_some_and(|b| b.verdict == BudgetVerdict::Fail)
    });
    let mut title = format!("{new} new finding{}", if new == 1 { "" } else { "s" });
    if report.measured {
        let _ = write!(title, ", {}", layercake_report::format_signed_bytes(delta));
    }
    if budget_failed {
        title.push_str(", over budget");
    }
    let summary = render_comment(
        report,
        &CommentOptions {
            limit: 65_000,
            ..CommentOptions::default()
        },
    );
    let annotations = report
        .new_findings()
        .map(|f| CheckAnnotation {
            path: f.file.clone(),
            start_line: f.line as u64,
            end_line: f.end_line.max(f.line) as u64,
            annotation_level: match f.severity {
                Severity::Error => AnnotationLevel::Failure,
                Severity::Warning => AnnotationLevel::Warning,
                Severity::Info => AnnotationLevel::Notice,
            },
            message: f.message.clone(),
            title: Some(format!("{} {}", f.code, f.name)),
            raw_details: None,
        })
        .collect();
    CheckRunOutput {
        title,
        summary,
        text: None,
        annotations,
    }
}

/// GitHub Actions workflow commands for the new findings (unchanged ones
/// stay quiet), to print on stdout.
pub fn annotations(report: &DiffReport) -> String {
    use layercake_render::github::{escape_data, escape_property};
    let mut out = String::new();
    for finding in report.new_findings() {
        let level = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let _ = writeln!(
            out,
            "::{level} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            escape_property(&finding.file),
            finding.line,
            finding.end_line,
            finding.column,
            finding.end_column,
            escape_property(&format!("{} {}", finding.code, finding.name)),
            escape_data(&finding.message)
        );
    }
    out
}
