//! The GitHub REST client layercake publishes with: a pull request and its files,
//! issue comments (the sticky summary), review comments and reviews with line
//! comments, check runs with annotations, open pull requests and an
//! installation's repositories. It is the I/O edge of the publisher; everything it
//! returns is plain data.
//!
//! # GitHub App authentication
//!
//! [`App`] signs the App's JWT (RS256 with its private key, `iat` a minute back,
//! `exp` 9 minutes ahead, `iss` the App id) and exchanges it for an installation
//! token (`POST /app/installations/{id}/access_tokens`), cached per installation
//! until 5 minutes before it expires; concurrent callers share one exchange.
//! [`App::installation_client`] gives a [`GitHub`] that sends that token. Tokens
//! and the key never appear in `Debug` output or in errors.
//!
//! [`GitHub::new`] takes the API's root, so GitHub Enterprise Server works as
//! `GITHUB_API_URL` gives it (`https://ghe.example.com/api/v3`), and tests point it
//! at a fake on `http://127.0.0.1:PORT`. Requests go through
//! [octocrab](https://docs.rs/octocrab)'s service stack (base URI, auth header) with
//! `User-Agent: layercake`, the token as `Authorization: Bearer …` (marked
//! sensitive, never logged, never in an error). What octocrab's models do not fit,
//! such as a review with its comments, has request and response types here.
//!
//! # Pagination
//!
//! Lists ask for 100 items a page and follow the `Link: <…>; rel="next"` header
//! GitHub sends until there is none; a link to another host than the API's is an
//! error, not followed.
//!
//! # Retries
//!
//! Each request is tried at most `1 + max_retries` times ([`RetryPolicy`]), under
//! these rules:
//!
//! - **Rate limits, any method.** A `429`, or a `403` with
//!   `X-RateLimit-Remaining: 0`, with `Retry-After`, or whose message speaks of a
//!   rate limit (GitHub's secondary limit), is a rate limit. The client waits
//!   `Retry-After` seconds if given, else until `X-RateLimit-Reset` (epoch seconds;
//!   a reset in the past means no wait), else one minute, and tries again. A wait
//!   longer than [`RetryPolicy::max_wait`] is not waited for:
//!   [`GitHubError::RateLimited`] comes back at once, as it does when the retries
//!   run out. GitHub refused the request, so repeating it cannot duplicate
//!   anything, `POST` included.
//! - **`GET`, `PATCH`, `DELETE`** (idempotent: a `PATCH` sends the whole new body)
//!   are also retried after a `5xx`, a timeout or a broken connection, with a backoff
//!   of [`RetryPolicy::backoff`] doubling each time (200 ms, 400 ms, 800 ms by
//!   default). A `DELETE` that finds nothing to delete after such an uncertain
//!   attempt has succeeded (the earlier attempt deleted it).
//! - **`POST`** (creates a comment or a review) is never repeated once it may have
//!   reached GitHub: a `5xx`, a timeout, a connection reset, or a success whose
//!   answer cannot be read is [`GitHubError::Ambiguous`], and the caller re-reads
//!   (e.g. lists the comments) before deciding to write again. Only a connection
//!   that could not be made at all (refused, DNS, TLS handshake) is retried, since
//!   then nothing was sent. The exception is an App's token exchange, which only
//!   mints a token and so is retried like a `GET`.
//! - A `PATCH` that adds check-run annotations is retried like any `PATCH`, though
//!   GitHub appends annotations: a repeat after an uncertain failure may show some
//!   twice, which is better than a check run left unfinished.
//! - Other `4xx` are not retried: `401` [`GitHubError::Unauthorized`], `403`
//!   [`GitHubError::Forbidden`] (see [`GitHubError::is_read_only_token`] for the
//!   read-only `GITHUB_TOKEN` of a pull request from a fork), `404`
//!   [`GitHubError::NotFound`], `422` [`GitHubError::Validation`] with GitHub's
//!   list of errors.
//!
//! Each attempt has a time limit ([`RetryPolicy::timeout`], 30 s by default) from
//! sending to reading the whole answer.
//!
//! # Runtime
//!
//! The methods are `async` and need a tokio runtime with time enabled. A
//! [`GitHub`] sends on the runtime of its first request; it can be cloned and used
//! from many tasks at once, and should not outlive that runtime.
#![deny(missing_docs)]

mod app;
mod checks;
mod error;
mod retry;
mod time;
mod transport;
mod types;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use http::Method;

pub use app::{App, AppCredentials, InstallationToken, TOKEN_REFRESH_MARGIN};
pub use checks::{
    AnnotationLevel, CheckAnnotation, CheckRun, CheckRunOutput, CheckRunStatus, CheckRunUpdate,
    Conclusion, MAX_ANNOTATIONS_PER_REQUEST, MAX_CHECK_OUTPUT_BYTES, NewCheckRun,
};
pub use error::{GitHubError, PassingTrouble};
pub use retry::RetryPolicy;
pub use types::{
    IssueComment, NewReview, NewReviewComment, PullFile, PullRequest, RepoName, RepoNameError,
    ReviewComment, ReviewEvent,
};

use transport::{Transport, decode};
use types::{
    WireCheckRun, WireInstallationRepositories, WireIssueComment, WirePullFile, WirePullRequest,
    WireReview, WireReviewComment,
};

/// A client for one GitHub API (github.com's or an Enterprise Server's) and one
/// token. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct GitHub {
    transport: Arc<Transport>,
}

impl fmt::Debug for GitHub {
    /// The API and the policy; never the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("api_url", &self.transport.base().to_string())
            .field("policy", &self.transport.policy())
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize)]
struct CommentBody<'a> {
    body: &'a str,
}

impl GitHub {
    /// A client for the API at `api_url` (`https://api.github.com`, or
    /// `GITHUB_API_URL`) sending `token` (a `GITHUB_TOKEN`, an installation token or
    /// a personal access token).
    ///
    /// Nothing is sent yet; the URL and the token are only checked for form, and for
    /// an `https` URL the machine's root certificates are loaded (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` are honored).
    pub fn new(api_url: &str, token: &str, policy: RetryPolicy) -> Result<GitHub, GitHubError> {
        Ok(GitHub::from_transport(Transport::new(
            api_url, token, policy,
        )?))
    }

    pub(crate) fn from_transport(transport: Transport) -> GitHub {
        GitHub {
            transport: Arc::new(transport),
        }
    }

    /// The pull request `number` of `repo`.
    pub async fn pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<PullRequest, GitHubError> {
        let path = format!("/repos/{}/{}/pulls/{number}", repo.owner, repo.name);
        let reply = self.transport.send(Method::GET, &path, None::<&()>).await?;
        let pull: WirePullRequest = decode(&Method::GET, &path, &reply)?;
        Ok(pull.into_pull_request(repo))
    }

    /// Every file the pull request changes, all pages.
    pub async fn pull_request_files(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<PullFile>, GitHubError> {
        let path = format!(
            "/repos/{}/{}/pulls/{number}/files?per_page=100",
            repo.owner, repo.name
        );
        let files: Vec<WirePullFile> = self.transport.get_all(path).await?;
        Ok(files.into_iter().map(PullFile::from).collect())
    }

    /// Every comment on the pull request's conversation, oldest first, all pages.
    pub async fn issue_comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<IssueComment>, GitHubError> {
        let path = format!(
            "/repos/{}/{}/issues/{number}/comments?per_page=100",
            repo.owner, repo.name
        );
        let comments: Vec<WireIssueComment> = self.transport.get_all(path).await?;
        Ok(comments.into_iter().map(IssueComment::from).collect())
    }

    /// Adds a comment to the pull request's conversation. Never repeated once sent:
    /// see [`GitHubError::Ambiguous`].
    pub async fn create_issue_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, GitHubError> {
        let path = format!(
            "/repos/{}/{}/issues/{number}/comments",
            repo.owner, repo.name
        );
        let reply = self
            .transport
            .send(Method::POST, &path, Some(&CommentBody { body }))
            .await?;
        let comment: WireIssueComment = decode(&Method::POST, &path, &reply)?;
        Ok(comment.into())
    }

    /// Replaces the body of comment `comment_id`.
    pub async fn update_issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment, GitHubError> {
        let path = format!(
            "/repos/{}/{}/issues/comments/{comment_id}",
            repo.owner, repo.name
        );
        let reply = self
            .transport
            .send(Method::PATCH, &path, Some(&CommentBody { body }))
            .await?;
        let comment: WireIssueComment = decode(&Method::PATCH, &path, &reply)?;
        Ok(comment.into())
    }

    /// Deletes comment `comment_id`.
    pub async fn delete_issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
    ) -> Result<(), GitHubError> {
        let path = format!(
            "/repos/{}/{}/issues/comments/{comment_id}",
            repo.owner, repo.name
        );
        self.transport
            .send(Method::DELETE, &path, None::<&()>)
            .await?;
        Ok(())
    }

    /// Every comment on lines of the pull request's diff, all pages.
    pub async fn review_comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<ReviewComment>, GitHubError> {
        let path = format!(
            "/repos/{}/{}/pulls/{number}/comments?per_page=100",
            repo.owner, repo.name
        );
        let comments: Vec<WireReviewComment> = self.transport.get_all(path).await?;
        Ok(comments.into_iter().map(ReviewComment::from).collect())
    }

    /// Submits a review with its line comments and returns the review's id. GitHub
    /// takes all of it or nothing: one comment on a line outside the diff is a
    /// [`GitHubError::Validation`] and no review is made. Never repeated once sent:
    /// see [`GitHubError::Ambiguous`].
    pub async fn create_review(
        &self,
        repo: &RepoName,
        number: u64,
        review: &NewReview,
    ) -> Result<u64, GitHubError> {
        let path = format!("/repos/{}/{}/pulls/{number}/reviews", repo.owner, repo.name);
        let reply = self
            .transport
            .send(Method::POST, &path, Some(review))
            .await?;
        let created: WireReview = decode(&Method::POST, &path, &reply)?;
        Ok(created.id)
    }

    /// Every open pull request of `repo`, newest first, all pages.
    pub async fn open_pull_requests(
        &self,
        repo: &RepoName,
    ) -> Result<Vec<PullRequest>, GitHubError> {
        let path = format!(
            "/repos/{}/{}/pulls?state=open&per_page=100",
            repo.owner, repo.name
        );
        let pulls: Vec<WirePullRequest> = self.transport.get_all(path).await?;
        Ok(pulls
            .into_iter()
            .map(|pull| pull.into_pull_request(repo))
            .collect())
    }

    /// The repositories (`owner/name`) the installation this client's token belongs
    /// to may access, all pages. Only an installation token may ask.
    pub async fn installation_repositories(&self) -> Result<Vec<String>, GitHubError> {
        let path = "/installation/repositories?per_page=100".to_string();
        self.transport
            .get_all_in(path, |page: WireInstallationRepositories| {
                page.repositories
                    .into_iter()
                    .map(|repo| repo.full_name)
                    .collect()
            })
            .await
    }

    /// The check runs named `name` on commit `sha`, newest first, every run of
    /// that name (not only the latest), all pages.
    pub async fn check_runs_for_commit(
        &self,
        repo: &RepoName,
        sha: &str,
        name: &str,
    ) -> Result<Vec<CheckRun>, GitHubError> {
        let path = format!(
            "/repos/{}/{}/commits/{}/check-runs?check_name={}&filter=all&per_page=100",
            repo.owner,
            repo.name,
            query_escape(sha),
            query_escape(name)
        );
        let runs = self
            .transport
            .get_all_in(path, |page: types::WireCheckRuns| page.check_runs)
            .await?;
        Ok(runs
            .into_iter()
            .map(types::WireCheckRun::into_check_run)
            .collect())
    }

    /// Creates a check run on `run.head_sha`, `in_progress`, and returns its id.
    /// Never repeated once sent: see [`GitHubError::Ambiguous`]. Only a GitHub App
    /// (an installation token, or a workflow's `GITHUB_TOKEN` with `checks: write`)
    /// may create check runs.
    pub async fn create_check_run(
        &self,
        repo: &RepoName,
        run: &NewCheckRun,
    ) -> Result<u64, GitHubError> {
        let path = format!("/repos/{}/{}/check-runs", repo.owner, repo.name);
        let reply = self.transport.send(Method::POST, &path, Some(run)).await?;
        let created: WireCheckRun = decode(&Method::POST, &path, &reply)?;
        Ok(created.id)
    }

    /// Sends `update` to check run `id` as it is: GitHub refuses more than
    /// [`MAX_ANNOTATIONS_PER_REQUEST`] annotations or a summary over
    /// [`MAX_CHECK_OUTPUT_BYTES`] ([`GitHubError::Validation`]);
    /// [`GitHub::complete_check_run`] fits a report to those limits.
    ///
    /// Retried after a server error like any `PATCH`; an update that carries
    /// annotations may then add them twice, since GitHub appends annotations (a
    /// check run left unfinished would be worse).
    pub async fn update_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        update: &CheckRunUpdate,
    ) -> Result<(), GitHubError> {
        let path = format!("/repos/{}/{}/check-runs/{id}", repo.owner, repo.name);
        self.transport
            .send(Method::PATCH, &path, Some(update))
            .await?;
        Ok(())
    }

    /// Completes check run `id` with `conclusion` and `output`, fitted to GitHub's
    /// limits: summary and text cut at a line to [`MAX_CHECK_OUTPUT_BYTES`] (closing
    /// a code block the cut leaves open, with a note), annotations sent
    /// [`MAX_ANNOTATIONS_PER_REQUEST`] at a time: the first update completes the
    /// run with the first batch, and each further one appends the next. An error
    /// after the first update leaves the run completed with the annotations sent
    /// so far.
    pub async fn complete_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        conclusion: Conclusion,
        output: &CheckRunOutput,
    ) -> Result<(), GitHubError> {
        for update in checks::completion_updates(conclusion, output, SystemTime::now()) {
            self.update_check_run(repo, id, &update).await?;
        }
        Ok(())
    }
}

/// `text` percent-encoded for a URL's path segment or query value: every byte
/// but the unreserved ones (RFC 3986: letters, digits, `-._~`).
fn query_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}
