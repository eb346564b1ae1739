//! What the client reads from GitHub and what it writes, in the shapes callers use.
//!
//! Reads are deserialized from GitHub's JSON through private wire types (only the
//! fields layercake needs, tolerant of `null` where GitHub's schema allows it);
//! writes serialize exactly as GitHub's REST API wants them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName {
    /// The user or organization, e.g. `octo-org`.
    pub owner: String,
    /// The repository's name, e.g. `hello-world`.
    pub name: String,
}

impl RepoName {
    /// `owner/name` from its parts, checked as [`FromStr`] checks them.
    pub fn new(owner: &str, name: &str) -> Result<RepoName, RepoNameError> {
        format!("{owner}/{name}").parse()
    }
}

/// Why a string is not an `owner/name` repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a repository (expected owner/name: {reason})")]
pub struct RepoNameError {
    input: String,
    reason: &'static str,
}

impl FromStr for RepoName {
    type Err = RepoNameError;

    /// Parses `owner/name`. Both parts go into URL paths, so only the characters
    /// GitHub allows in them are accepted (ASCII letters, digits, `-`, `_`, `.`).
    fn from_str(input: &str) -> Result<RepoName, RepoNameError> {
        let error = |reason| RepoNameError {
            input: input.to_string(),
            reason,
        };
        let Some((owner, name)) = input.split_once('/') else {
            return Err(error("no `/`"));
        };
        for part in [owner, name] {
            if part.is_empty() {
                return Err(error("an empty part"));
            }
            if part == "." || part == ".." {
                return Err(error("`.` and `..` are not names"));
            }
            if !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(error(
                    "only ASCII letters, digits, `-`, `_` and `.`, one `/`",
                ));
            }
        }
        Ok(RepoName {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A pull request, as much of it as a review needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number in the repository.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// The commit the pull request's branch points at now.
    pub head_sha: String,
    /// The commit of the base branch GitHub compares against.
    pub base_sha: String,
    /// `owner/name` of the repository the head branch lives in (a fork for a pull
    /// request from a fork); `None` when that repository was deleted.
    pub head_repo: Option<String>,
    /// `owner/name` of the repository the pull request is in.
    pub base_repo: String,
    /// The head branch's name (in [`PullRequest::head_repo`]).
    pub head_ref: String,
    /// The base branch's name, e.g. `main`.
    pub base_ref: String,
    /// The URL to clone the head repository from (`https://…/owner/name.git`);
    /// `None` when that repository was deleted.
    pub head_clone_url: Option<String>,
    /// The author's relation to the repository: `OWNER`, `MEMBER`,
    /// `COLLABORATOR`, `CONTRIBUTOR`, `FIRST_TIME_CONTRIBUTOR`, `FIRST_TIMER` or
    /// `NONE`; `None` when GitHub leaves it out.
    pub author_association: Option<String>,
    /// The names of its labels.
    pub labels: Vec<String>,
    /// Whether it is a draft.
    pub draft: bool,
}

/// A file a pull request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFile {
    /// Its path at head.
    pub filename: String,
    /// GitHub's word for the change: `added`, `removed`, `modified`, `renamed`,
    /// `copied`, `changed` or `unchanged`.
    pub status: String,
    /// Its path at base, for a renamed file.
    pub previous_filename: Option<String>,
    /// The unified diff hunks; `None` for binary files and diffs GitHub finds too
    /// large to show.
    pub patch: Option<String>,
}

/// A comment on a pull request's conversation (an issue comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    /// Its id, for updating or deleting it.
    pub id: u64,
    /// Its Markdown.
    pub body: String,
    /// Who wrote it (`ghost` when the account was deleted).
    pub user_login: String,
    /// `Bot`, `User` or `Organization`.
    pub user_type: String,
    /// Where a person sees it.
    pub html_url: String,
}

/// A comment on a line of a pull request's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewComment {
    /// Its id.
    pub id: u64,
    /// Its Markdown.
    pub body: String,
    /// The file it is on.
    pub path: String,
    /// The line it is on at head; `None` when the line is no longer in the diff
    /// (GitHub shows the comment as outdated).
    pub line: Option<u64>,
    /// Who wrote it (`ghost` when the account was deleted).
    pub user_login: String,
}

/// A review to submit with its line comments, all at once: GitHub creates all of it
/// or, with a `422`, none of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewReview {
    /// The commit the comments' lines refer to (normally the head the review was
    /// made for; GitHub accepts any commit of the pull request).
    pub commit_id: String,
    /// The review's own text.
    pub body: String,
    /// What the review says about the pull request.
    pub event: ReviewEvent,
    /// Comments on lines of the diff.
    pub comments: Vec<NewReviewComment>,
}

/// What a review says about the pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewEvent {
    /// Comments only, neither approving nor blocking.
    Comment,
    /// Approves the pull request.
    Approve,
    /// Asks for changes before merging.
    RequestChanges,
}

/// A comment on a line, or a range of lines, of the head side of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReviewComment {
    /// The file, as [`PullFile::filename`] names it.
    pub path: String,
    /// The (last) line at head; it must be an added or context line of the file's
    /// patch.
    pub line: u64,
    /// The first line of a multi-line comment, in the same hunk as `line`. A
    /// `start_line` equal to `line` is sent as a single-line comment, which GitHub
    /// requires.
    pub start_line: Option<u64>,
    /// Its Markdown (a ```` ```suggestion ```` block makes it a suggestion).
    pub body: String,
}

impl Serialize for NewReviewComment {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            path: &'a str,
            line: u64,
            side: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            start_line: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            start_side: Option<&'static str>,
            body: &'a str,
        }
        let start_line = self.start_line.filter(|&start| start != self.line);
        Wire {
            path: &self.path,
            line: self.line,
            side: "RIGHT",
            start_line,
            start_side: start_line.map(|_| "RIGHT"),
            body: &self.body,
        }
        .serialize(serializer)
    }
}

/// GitHub's `user` object, which is `null` for a deleted account.
#[derive(Debug, Deserialize)]
pub(crate) struct WireUser {
    pub(crate) login: String,
    #[serde(rename = "type", default)]
    pub(crate) user_type: Option<String>,
}

fn login(user: Option<&WireUser>) -> String {
    user.map_or_else(|| "ghost".to_string(), |user| user.login.clone())
}

#[derive(Debug, Deserialize)]
pub(crate) struct WirePullRequest {
    number: u64,
    state: String,
    head: WireBranch,
    base: WireBranch,
    #[serde(default)]
    author_association: Option<String>,
    #[serde(default)]
    labels: Option<Vec<WireLabel>>,
    #[serde(default)]
    draft: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct WireBranch {
    sha: String,
    #[serde(rename = "ref", default)]
    branch: Option<String>,
    repo: Option<WireRepo>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireRepo {
    pub(crate) full_name: String,
    #[serde(default)]
    clone_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireLabel {
    name: String,
}

/// A page of `GET /installation/repositories`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireInstallationRepositories {
    pub(crate) repositories: Vec<WireRepo>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireCheckRun {
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) head_sha: String,
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) external_id: Option<String>,
}

impl WireCheckRun {
    pub(crate) fn into_check_run(self) -> crate::CheckRun {
        crate::CheckRun {
            id: self.id,
            name: self.name,
            head_sha: self.head_sha,
            status: self.status,
            // GitHub answers "" for a run created without one.
            external_id: self.external_id.filter(|id| !id.is_empty()),
        }
    }
}

/// A page of `GET /repos/{o}/{r}/commits/{ref}/check-runs`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireCheckRuns {
    pub(crate) check_runs: Vec<WireCheckRun>,
}

impl WirePullRequest {
    /// `repo` stands in for a base repository GitHub left out (it never does).
    pub(crate) fn into_pull_request(self, repo: &RepoName) -> PullRequest {
        let (head_repo, head_clone_url) = match self.head.repo {
            Some(head) => (Some(head.full_name), head.clone_url),
            None => (None, None),
        };
        PullRequest {
            number: self.number,
            state: self.state,
            head_sha: self.head.sha,
            base_sha: self.base.sha,
            head_repo,
            base_repo: self
                .base
                .repo
                .map_or_else(|| repo.to_string(), |repo| repo.full_name),
            head_ref: self.head.branch.unwrap_or_default(),
            base_ref: self.base.branch.unwrap_or_default(),
            head_clone_url,
            author_association: self.author_association,
            labels: self
                .labels
                .unwrap_or_default()
                .into_iter()
                .map(|label| label.name)
                .collect(),
            draft: self.draft.unwrap_or(false),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WirePullFile {
    filename: String,
    status: String,
    #[serde(default)]
    previous_filename: Option<String>,
    #[serde(default)]
    patch: Option<String>,
}

impl From<WirePullFile> for PullFile {
    fn from(file: WirePullFile) -> PullFile {
        PullFile {
            filename: file.filename,
            status: file.status,
            previous_filename: file.previous_filename,
            patch: file.patch,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireIssueComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<WireUser>,
    #[serde(default)]
    html_url: String,
}

impl From<WireIssueComment> for IssueComment {
    fn from(comment: WireIssueComment) -> IssueComment {
        IssueComment {
            id: comment.id,
            body: comment.body.unwrap_or_default(),
            user_login: login(comment.user.as_ref()),
            user_type: comment
                .user
                .and_then(|user| user.user_type)
                .unwrap_or_else(|| "User".to_string()),
            html_url: comment.html_url,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireReviewComment {
    id: u64,
    #[serde(default)]
    body: String,
    path: String,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    user: Option<WireUser>,
}

impl From<WireReviewComment> for ReviewComment {
    fn from(comment: WireReviewComment) -> ReviewComment {
        ReviewComment {
            id: comment.id,
            body: comment.body,
            path: comment.path,
            line: comment.line,
            user_login: login(comment.user.as_ref()),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireReview {
    pub(crate) id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_parse_and_display() {
        let repo: RepoName = "octo-org/hello.world_2".parse().unwrap();
        assert_eq!(repo.owner, "octo-org");
        assert_eq!(repo.name, "hello.world_2");
        assert_eq!(repo.to_string(), "octo-org/hello.world_2");
        assert_eq!(RepoName::new("a", "b").unwrap().to_string(), "a/b");
        for bad in [
            "", "owner", "/name", "owner/", "a/b/c", "a/..", "./b", "a/b?x", "a b/c", "a/b#",
        ] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad:?} parsed");
        }
        let error = "a/b/c".parse::<RepoName>().unwrap_err().to_string();
        assert!(error.contains("`a/b/c` is not a repository"), "{error}");
    }

    #[test]
    fn a_review_serializes_as_github_wants() {
        let review = NewReview {
            commit_id: "abc".into(),
            body: "summary".into(),
            event: ReviewEvent::Comment,
            comments: vec![
                NewReviewComment {
                    path: "Dockerfile".into(),
                    line: 3,
                    start_line: None,
                    body: "one".into(),
                },
                NewReviewComment {
                    path: "Dockerfile".into(),
                    line: 6,
                    start_line: Some(4),
                    body: "range".into(),
                },
                NewReviewComment {
                    path: "Dockerfile".into(),
                    line: 7,
                    start_line: Some(7),
                    body: "same line".into(),
                },
            ],
        };
        assert_eq!(
            serde_json::to_value(&review).unwrap(),
            serde_json::json!({
                "commit_id": "abc",
                "body": "summary",
                "event": "COMMENT",
                "comments": [
                    {"path": "Dockerfile", "line": 3, "side": "RIGHT", "body": "one"},
                    {"path": "Dockerfile", "line": 6, "side": "RIGHT", "start_line": 4, "start_side": "RIGHT", "body": "range"},
                    {"path": "Dockerfile", "line": 7, "side": "RIGHT", "body": "same line"},
                ],
            })
        );
        assert_eq!(
            serde_json::to_value(ReviewEvent::RequestChanges).unwrap(),
            "REQUEST_CHANGES"
        );
    }

    #[test]
    fn reads_tolerate_nulls() {
        let comment: WireIssueComment =
            serde_json::from_value(serde_json::json!({"id": 1, "body": null, "user": null}))
                .unwrap();
        let comment = IssueComment::from(comment);
        assert_eq!(comment.user_login, "ghost");
        assert_eq!(comment.body, "");
        let pull: WirePullRequest = serde_json::from_value(serde_json::json!({
            "number": 2, "state": "open",
            "head": {"sha": "h", "repo": null},
            "base": {"sha": "b", "repo": {"full_name": "o/r"}},
        }))
        .unwrap();
        let pull = pull.into_pull_request(&"o/r".parse().unwrap());
        assert_eq!(pull.head_repo, None);
        assert_eq!(pull.head_clone_url, None);
        assert_eq!(pull.base_repo, "o/r");
        assert_eq!(pull.head_ref, "");
        assert!(pull.labels.is_empty() && !pull.draft);
        let pull: WirePullRequest = serde_json::from_value(serde_json::json!({
            "number": 3, "state": "open", "draft": true,
            "author_association": "FIRST_TIME_CONTRIBUTOR",
            "labels": [{"name": "docker"}, {"name": "ci"}],
            "head": {"sha": "h", "ref": "fix", "repo": {"full_name": "fork/r", "clone_url": "https://github.com/fork/r.git"}},
            "base": {"sha": "b", "ref": "main", "repo": {"full_name": "o/r"}},
        }))
        .unwrap();
        let pull = pull.into_pull_request(&"o/r".parse().unwrap());
        assert_eq!(pull.head_ref, "fix");
        assert_eq!(pull.base_ref, "main");
        assert_eq!(
            pull.head_clone_url.as_deref(),
            Some("https://github.com/fork/r.git")
        );
        assert_eq!(
            pull.author_association.as_deref(),
            Some("FIRST_TIME_CONTRIBUTOR")
        );
        assert_eq!(pull.labels, ["docker", "ci"]);
        assert!(pull.draft);
    }
}
