//! A stateful fake of the parts of GitHub's REST API layercake uses, served over
//! real HTTP on `127.0.0.1`, enforcing what GitHub enforces:
//!
//! - tokens: an unknown one is `401 Bad credentials`; a read-only one may read, and
//!   a write with it is `403 Resource not accessible by integration` (the read-only
//!   `GITHUB_TOKEN` of a pull request from a fork);
//! - comment and review bodies of more than 65,536 characters are `422`;
//! - a review comment on a line that is not an added or context line of the file's
//!   patch is `422` with GitHub's wording, and the whole review is refused;
//! - a review's `commit_id` must be a commit that was once the pull request's head;
//! - only a comment's author may edit or delete it;
//! - the API answers at its root and below `/api/v3` (GitHub Enterprise Server's
//!   form);
//! - lists are paginated (`per_page`, default 30, at most 100; `page`) with a `Link`
//!   header of absolute `/repositories/{id}/…` URLs, as GitHub sends them;
//! - every answer has `X-RateLimit-*` headers, and [`FakeGitHub::rate_limit_next`]
//!   answers the next requests with a primary (`403`, `X-RateLimit-Remaining: 0`),
//!   secondary (`403`, `Retry-After`) or `429` rate limit;
//! - GitHub Apps ([`FakeGitHub::add_app`], [`FakeGitHub::add_installation`]):
//!   `POST /app/installations/{id}/access_tokens` checks the App's JWT (RS256
//!   signature with the App's public key, `iss`, `iat`, `exp` as GitHub does, with
//!   GitHub's messages) and mints an installation token that expires
//!   ([`FakeGitHub::set_token_ttl`]) and reaches only the installation's
//!   repositories; `GET /installation/repositories` lists them;
//! - check runs (`POST /repos/{o}/{r}/check-runs`, `PATCH …/check-runs/{id}`,
//!   `GET …/commits/{sha}/check-runs`): the
//!   `head_sha` must be a commit of a pull request of the repository, at most 50
//!   annotations a request (appended across updates), summary and text at most
//!   65,535 characters and bytes;
//! - [`FakeGitHub::fail_next_write`] answers a write with a server error, after
//!   applying it or not, to test what a client does when a write's outcome is
//!   unknown ([`FakeGitHub::fail_next`] does it for any method), and
//!   [`FakeGitHub::delay_next`] holds a request past a client's time limit.
//!
//! State is behind one mutex, so concurrent clients see GitHub's atomicity: each
//! request is applied whole. The server runs on its own thread and runtime, so
//! synchronous and asynchronous tests can use it alike; it stops when the
//! [`FakeGitHub`] is dropped.
//!
//! Deliberate simplifications: review comments use `line` (not the deprecated
//! `position`); a comment on a line the head moved away from keeps its line unless
//! that line left the current diff (then `line` is `null`, outdated); anyone but the
//! author is refused an edit (GitHub lets maintainers edit any comment); any token
//! that may write may create check runs (GitHub lets only Apps, `GITHUB_TOKEN`
//! included); a token exchange is never rate limited nor failed on demand.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

/// GitHub's limit on a comment's or review's body, in characters.
pub const MAX_BODY_CHARS: usize = 65_536;

/// GitHub's limit on a check run's `output.summary` and `output.text`, in
/// characters and (a second check) in UTF-8 bytes.
pub const MAX_CHECK_OUTPUT: usize = 65_535;

/// GitHub's limit on the annotations of one check-run request.
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;

/// How long an installation token lives unless [`FakeGitHub::set_token_ttl`]
/// says otherwise: GitHub's hour.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3_600);

/// Who an installation token acts as.
pub const APP_BOT_LOGIN: &str = "layercake[bot]";

/// GitHub's answer to a JWT it cannot use.
const JWT_UNDECODABLE: &str = "A JSON web token could not be decoded";
/// The rate limit every answer reports (a GitHub App installation's is 5,000 an hour).
const RATE_LIMIT: u64 = 5_000;

/// The instant the logical clock counts from: 2024-01-01T00:00:00Z.
const CLOCK_EPOCH: u64 = 1_704_067_200;

const DOCS: &str = "https://docs.github.com/rest";

/// The API's root on GitHub Enterprise Server, which the fake answers below too.
const ENTERPRISE_PREFIX: &str = "/api/v3";

const READ_ONLY_MESSAGE: &str = "Resource not accessible by integration";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write (a `GITHUB_TOKEN` with `pull-requests: write`, an App's).
    Write,
    /// Read only (the `GITHUB_TOKEN` of a workflow run for a pull request from a fork).
    ReadOnly,
}

/// A rate limit to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// The hourly budget is spent: `403` with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset` this many seconds ahead (rounded up to a whole epoch second).
    Primary {
        /// Seconds until the reset.
        reset_in_secs: u64,
    },
    /// A secondary (abuse) limit: `403` with `Retry-After` and GitHub's message
    /// "You have exceeded a secondary rate limit".
    Secondary {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// `429 Too Many Requests` with `Retry-After`.
    TooMany {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
}

/// A pull request the fake knows, as [`FakeGitHub::add_pull_request_from_payload`]
/// added it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRef {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: u64,
    /// The head commit.
    pub head_sha: String,
    /// The base commit.
    pub base_sha: String,
}

/// A file a pull request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeFile {
    /// Its path.
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, …
    pub status: String,
    /// Unified diff hunks, as GitHub's `patch` field gives them (from the first `@@`
    /// header, no `---`/`+++` lines); `None` for a binary or too large diff.
    pub patch: Option<String>,
}

/// An issue comment on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    /// Its id (unique across comments, reviews and review comments).
    pub id: u64,
    /// Its body.
    pub body: String,
    /// Its author.
    pub user_login: String,
    /// Its author's type, `Bot` or `User`.
    pub user_type: String,
    /// The logical time it was created (every write ticks the clock).
    pub created: u64,
    /// The logical time it was last changed.
    pub updated: u64,
}

/// A submitted review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReview {
    /// Its id.
    pub id: u64,
    /// The commit it was made on.
    pub commit_id: String,
    /// Its body.
    pub body: String,
    /// `COMMENTED`, `APPROVED`, `CHANGES_REQUESTED` or `PENDING`.
    pub state: String,
    /// Its author.
    pub user_login: String,
    /// Its line comments.
    pub comments: Vec<FakeReviewComment>,
}

/// A line comment of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReviewComment {
    /// Its id.
    pub id: u64,
    /// The file.
    pub path: String,
    /// The (last) line.
    pub line: u64,
    /// The first line of a multi-line comment.
    pub start_line: Option<u64>,
    /// `RIGHT` (head) or `LEFT` (base).
    pub side: String,
    /// Its body.
    pub body: String,
}

/// A check run, as the requests made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeCheckRun {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The commit it is on.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// `success`, `failure`, … once completed.
    pub conclusion: Option<String>,
    /// `started_at` as sent.
    pub started_at: Option<String>,
    /// `completed_at` as sent (or the time of completion).
    pub completed_at: Option<String>,
    /// `external_id` as sent.
    pub external_id: Option<String>,
    /// `details_url` as sent.
    pub details_url: Option<String>,
    /// The output's title.
    pub output_title: Option<String>,
    /// The output's summary.
    pub output_summary: Option<String>,
    /// The output's text.
    pub output_text: Option<String>,
    /// Every annotation, in the order they were added.
    pub annotations: Vec<FakeAnnotation>,
    /// How many annotations each request that added some added.
    pub annotation_batches: Vec<usize>,
    /// How many `PATCH`es changed it.
    pub updates: usize,
    /// Who created it.
    pub user_login: String,
}

/// An annotation of a check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAnnotation {
    /// The file.
    pub path: String,
    /// Its first line.
    pub start_line: u64,
    /// Its last line.
    pub end_line: u64,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: String,
    /// Its message.
    pub message: String,
    /// Its title.
    pub title: Option<String>,
    /// Its raw details.
    pub raw_details: Option<String>,
}

/// A request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path with its query, e.g. `/repos/o/r/issues/1/comments?per_page=100`.
    pub path: String,
    /// The status answered.
    pub status: u16,
}

impl RequestRecord {
    /// Whether this was a `POST`, `PATCH`, `PUT` or `DELETE`.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE")
    }
}

/// The fake; see the module documentation. Dropping it stops the server.
pub struct FakeGitHub {
    state: Arc<Mutex<State>>,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeGitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGitHub")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl FakeGitHub {
    /// Starts a fake on a free port of `127.0.0.1`, empty: no tokens, no pull
    /// requests.
    ///
    /// # Panics
    ///
    /// When no port can be bound or the runtime cannot start.
    pub fn start() -> FakeGitHub {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("the bound address").port();
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State::new(url.clone())));
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
            .with_state(Arc::clone(&state));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-github-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the fake's runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("the listener on the fake's runtime");
                    let server = axum::serve(listener, app).into_future();
                    tokio::select! {
                        _ = server => {}
                        _ = stopped => {}
                    }
                });
                // Open connections end with the runtime.
                runtime.shutdown_background();
            })
            .expect("spawn the fake's thread");
        FakeGitHub {
            state,
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The API's root, `http://127.0.0.1:PORT` (no `/api/v3`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Makes `token` known: requests with `Authorization: token …` or `Bearer …`
    /// act as `login` (e.g. `github-actions[bot]`, type `Bot`).
    pub fn add_token(&self, token: &str, access: Access, login: &str, user_type: &str) {
        self.state().tokens.insert(
            token.to_string(),
            Token {
                access,
                login: login.to_string(),
                user_type: user_type.to_string(),
                expires: None,
                installation: None,
            },
        );
    }

    /// Adds the pull request a webhook payload describes (`repository.full_name`,
    /// `repository.id`, `pull_request.{number, state, head, base}`, and when given
    /// `pull_request.{user.login, author_association, draft, labels}`), with no
    /// files. Adding it again replaces it.
    ///
    /// # Panics
    ///
    /// When the payload lacks one of those fields.
    pub fn add_pull_request_from_payload(&self, payload: &Value) -> PullRef {
        let text = |pointer: &str| -> String {
            payload
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("the payload has no string at {pointer}"))
                .to_string()
        };
        let repo = text("/repository/full_name");
        let number = payload
            .pointer("/pull_request/number")
            .and_then(Value::as_u64)
            .expect("the payload has pull_request.number");
        let mut state = self.state();
        let repo_id = payload.pointer("/repository/id").and_then(Value::as_u64);
        let index = state.repo_index_or_add(&repo, repo_id);
        let author = payload
            .pointer("/pull_request/user/login")
            .and_then(Value::as_str)
            .unwrap_or("octocat")
            .to_string();
        let owner = repo.split_once('/').map_or("", |(owner, _)| owner);
        let author_association = payload
            .pointer("/pull_request/author_association")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                if author.eq_ignore_ascii_case(owner) {
                    "OWNER".to_string()
                } else {
                    "CONTRIBUTOR".to_string()
                }
            });
        let pull = Pull {
            number,
            state: text("/pull_request/state"),
            head_sha: text("/pull_request/head/sha"),
            head_ref: text("/pull_request/head/ref"),
            head_repo: payload
                .pointer("/pull_request/head/repo/full_name")
                .and_then(Value::as_str)
                .map(str::to_string),
            base_sha: text("/pull_request/base/sha"),
            base_ref: text("/pull_request/base/ref"),
            author,
            author_association,
            draft: payload
                .pointer("/pull_request/draft")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            labels: payload
                .pointer("/pull_request/labels")
                .and_then(Value::as_array)
                .map(|labels| {
                    labels
                        .iter()
                        .filter_map(|label| label.get("name").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            shas: vec![text("/pull_request/head/sha")],
            files: Vec::new(),
            comments: Vec::new(),
            reviews: Vec::new(),
        };
        let reference = pull.reference(&state.repos[index].full_name);
        state.repos[index].pulls.insert(number, pull);
        reference
    }

    /// Adds an open pull request from a branch `feature` of `repo` into `main`.
    pub fn add_pull_request(
        &self,
        repo: &str,
        number: u64,
        head_sha: &str,
        base_sha: &str,
    ) -> PullRef {
        self.add_pull_request_from_payload(&json!({
            "repository": {"full_name": repo},
            "pull_request": {
                "number": number,
                "state": "open",
                "head": {"sha": head_sha, "ref": "feature", "repo": {"full_name": repo}},
                "base": {"sha": base_sha, "ref": "main", "repo": {"full_name": repo}},
            },
        }))
    }

    /// A push to the pull request's branch: `sha` becomes its head (the old heads
    /// stay valid `commit_id`s for reviews).
    ///
    /// # Panics
    ///
    /// When the pull request is unknown.
    pub fn set_head_sha(&self, repo: &str, number: u64, sha: &str) {
        let mut state = self.state();
        let pull = state.pull_mut(repo, number);
        pull.head_sha = sha.to_string();
        if !pull.shas.iter().any(|known| known == sha) {
            pull.shas.push(sha.to_string());
        }
    }

    /// Sets the files the pull request changes, in the order GitHub lists them.
    ///
    /// # Panics
    ///
    /// When the pull request is unknown.
    pub fn set_files(&self, repo: &str, number: u64, files: Vec<FakeFile>) {
        self.state().pull_mut(repo, number).files = files;
    }

    /// Adds a comment to the pull request's conversation as `user_login` (who needs no
    /// token), as if made earlier; returns its id. Not counted as a write.
    ///
    /// # Panics
    ///
    /// When the pull request is unknown.
    pub fn add_issue_comment(&self, repo: &str, number: u64, user_login: &str, body: &str) -> u64 {
        let mut state = self.state();
        let id = state.new_id();
        let now = state.tick();
        let user_type = user_type_of(&state, user_login);
        state.pull_mut(repo, number).comments.push(FakeComment {
            id,
            body: body.to_string(),
            user_login: user_login.to_string(),
            user_type,
            created: now,
            updated: now,
        });
        id
    }

    /// Answers the next `requests` requests (of any method, from a known token)
    /// with this rate limit, without acting on them.
    pub fn rate_limit_next(&self, requests: u32, kind: RateLimit) {
        self.state().rate_limited = (requests > 0).then_some((requests, kind));
    }

    /// Answers the next `POST` or `PATCH` with `status` (e.g. `502`). With
    /// `apply_first` the write is applied before the error is answered, as when
    /// GitHub did the work and the answer was lost on the way back.
    pub fn fail_next_write(&self, status: u16, apply_first: bool) {
        self.state().fail_next = Some(FailNext {
            methods: vec![Method::POST, Method::PATCH],
            status,
            apply_first,
        });
    }

    /// Answers the next request with this method (`GET`, `POST`, `PATCH`,
    /// `DELETE`) with `status`, after acting on it when `apply_first`. Replaces a
    /// pending [`FakeGitHub::fail_next_write`].
    ///
    /// # Panics
    ///
    /// When `method` is not an HTTP method.
    pub fn fail_next(&self, method: &str, status: u16, apply_first: bool) {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        self.state().fail_next = Some(FailNext {
            methods: vec![method],
            status,
            apply_first,
        });
    }

    /// Holds the next request for `delay` before acting on it and answering: a slow
    /// GitHub, or, when the client gives up first, a write that happens after the
    /// client stopped waiting for it.
    pub fn delay_next(&self, delay: Duration) {
        self.state().delay_next = Some(delay);
    }

    /// Holds the first request whose method is `method` and whose path
    /// contains `path_fragment` for `delay` (once): a job caught between
    /// two of its writes, for crash tests.
    pub fn delay_matching(&self, method: &str, path_fragment: &str, delay: Duration) {
        self.state().delay_matching = Some((method.to_string(), path_fragment.to_string(), delay));
    }

    /// The issue comments on the pull request, oldest first.
    ///
    /// # Panics
    ///
    /// When the pull request is unknown.
    pub fn issue_comments(&self, repo: &str, number: u64) -> Vec<FakeComment> {
        self.state().pull_mut(repo, number).comments.clone()
    }

    /// The reviews of the pull request, with their comments, oldest first.
    ///
    /// # Panics
    ///
    /// When the pull request is unknown.
    pub fn reviews(&self, repo: &str, number: u64) -> Vec<FakeReview> {
        self.state().pull_mut(repo, number).reviews.clone()
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state().requests.clone()
    }

    /// How many writes changed state: successful `POST`, `PATCH` and `DELETE`s, and
    /// a write [`FakeGitHub::fail_next_write`] applied before failing.
    pub fn writes(&self) -> usize {
        self.state().writes
    }

    /// Registers GitHub App `app_id` with its public key (PEM: `-----BEGIN PUBLIC
    /// KEY-----` or `-----BEGIN RSA PUBLIC KEY-----`), against which its JWTs are
    /// checked.
    ///
    /// # Panics
    ///
    /// When the key is not an RSA public key in PEM form.
    pub fn add_app(&self, app_id: u64, public_key_pem: &str) {
        let key = rsa_public_key_der(public_key_pem)
            .unwrap_or_else(|reason| panic!("the public key of app {app_id}: {reason}"));
        self.state().apps.insert(app_id, key);
    }

    /// Installs App `app_id` on `repos` (`owner/name`, added to the fake when
    /// unknown) as installation `installation_id`.
    pub fn add_installation(&self, installation_id: u64, app_id: u64, repos: &[&str]) {
        let mut state = self.state();
        let repos = repos
            .iter()
            .map(|repo| {
                let index = state.repo_index_or_add(repo, None);
                state.repos[index].full_name.clone()
            })
            .collect();
        state.installations.insert(
            installation_id,
            Installation {
                app_id,
                repos,
                access: Access::Write,
            },
        );
    }

    /// What the tokens of installation `installation_id` minted from now on
    /// may do: [`Access::ReadOnly`] is an App installed with read-only
    /// permissions (its writes are `403 Resource not accessible by integration`).
    ///
    /// # Panics
    ///
    /// When the installation is unknown.
    pub fn set_installation_access(&self, installation_id: u64, access: Access) {
        self.state()
            .installations
            .get_mut(&installation_id)
            .unwrap_or_else(|| panic!("no installation {installation_id}"))
            .access = access;
    }

    /// How long installation tokens minted from now on live (an hour unless set);
    /// a request with an expired one is `401 Bad credentials`.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.state().token_ttl = ttl;
    }

    /// How many installation tokens were minted.
    pub fn token_exchanges(&self) -> usize {
        self.state().token_exchanges
    }

    /// The check runs of `repo`, oldest first (empty for an unknown repository).
    pub fn check_runs(&self, repo: &str) -> Vec<FakeCheckRun> {
        let state = self.state();
        state
            .repo_index(repo)
            .map(|index| state.repos[index].check_runs.clone())
            .unwrap_or_default()
    }

    /// Sets the pull request's state, `open` or `closed`.
    ///
    /// # Panics
    ///
    /// When the pull request is unknown.
    pub fn set_pr_state(&self, repo: &str, number: u64, pr_state: &str) {
        self.state().pull_mut(repo, number).state = pr_state.to_string();
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A failure to answer the next request of one of these methods with.
struct FailNext {
    methods: Vec<Method>,
    status: u16,
    apply_first: bool,
}

struct Token {
    access: Access,
    login: String,
    user_type: String,
    /// When it stops working; `None` for never.
    expires: Option<SystemTime>,
    /// The installation it was minted for: it reaches that installation's
    /// repositories only.
    installation: Option<u64>,
}

struct Installation {
    app_id: u64,
    /// `owner/name` of each repository.
    repos: Vec<String>,
    /// What its tokens may do.
    access: Access,
}

struct Repo {
    full_name: String,
    id: u64,
    pulls: HashMap<u64, Pull>,
    check_runs: Vec<FakeCheckRun>,
}

struct Pull {
    number: u64,
    state: String,
    head_sha: String,
    head_ref: String,
    head_repo: Option<String>,
    base_sha: String,
    base_ref: String,
    author: String,
    author_association: String,
    draft: bool,
    labels: Vec<String>,
    /// Every commit that was the head, oldest first.
    shas: Vec<String>,
    files: Vec<FakeFile>,
    comments: Vec<FakeComment>,
    reviews: Vec<FakeReview>,
}

impl Pull {
    fn reference(&self, repo: &str) -> PullRef {
        PullRef {
            repo: repo.to_string(),
            number: self.number,
            head_sha: self.head_sha.clone(),
            base_sha: self.base_sha.clone(),
        }
    }
}

struct State {
    url: String,
    tokens: HashMap<String, Token>,
    repos: Vec<Repo>,
    next_id: u64,
    clock: u64,
    rate_limited: Option<(u32, RateLimit)>,
    fail_next: Option<FailNext>,
    delay_next: Option<Duration>,
    delay_matching: Option<(String, String, Duration)>,
    requests: Vec<RequestRecord>,
    writes: usize,
    /// When the fake's hourly budget resets (epoch seconds), for the headers.
    budget_reset: u64,
    /// Each App's public key, DER (PKCS#1 `RSAPublicKey`).
    apps: HashMap<u64, Vec<u8>>,
    installations: HashMap<u64, Installation>,
    token_ttl: Duration,
    token_exchanges: usize,
    rng: SystemRandom,
}

impl State {
    fn new(url: String) -> State {
        State {
            url,
            tokens: HashMap::new(),
            repos: Vec::new(),
            next_id: 1_000,
            clock: 0,
            rate_limited: None,
            fail_next: None,
            delay_next: None,
            delay_matching: None,
            requests: Vec::new(),
            writes: 0,
            budget_reset: epoch_seconds() + 3_600,
            apps: HashMap::new(),
            installations: HashMap::new(),
            token_ttl: DEFAULT_TOKEN_TTL,
            token_exchanges: 0,
            rng: SystemRandom::new(),
        }
    }

    fn repo_index(&self, full_name: &str) -> Option<usize> {
        self.repos
            .iter()
            .position(|repo| repo.full_name.eq_ignore_ascii_case(full_name))
    }

    fn repo_index_or_add(&mut self, full_name: &str, id: Option<u64>) -> usize {
        if let Some(index) = self.repo_index(full_name) {
            return index;
        }
        let id = id.unwrap_or(100 + self.repos.len() as u64);
        self.repos.push(Repo {
            full_name: full_name.to_string(),
            id,
            pulls: HashMap::new(),
            check_runs: Vec::new(),
        });
        self.repos.len() - 1
    }

    fn pull_mut(&mut self, repo: &str, number: u64) -> &mut Pull {
        let index = self
            .repo_index(repo)
            .unwrap_or_else(|| panic!("the fake has no repository {repo}"));
        self.repos[index]
            .pulls
            .get_mut(&number)
            .unwrap_or_else(|| panic!("the fake has no pull request {repo}#{number}"))
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// One answer before it becomes HTTP.
struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn message(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"message": message, "documentation_url": DOCS}),
        )
    }

    fn not_found() -> Reply {
        Reply::message(404, "Not Found")
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
        }
    }
}

/// A request, read whole.
struct Request {
    method: Method,
    /// `/api/v3` when the request came that way (GitHub Enterprise Server's form),
    /// else empty.
    prefix: &'static str,
    /// The path below the API's root.
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

impl Request {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn is_write(&self) -> bool {
        matches!(
            self.method,
            Method::POST | Method::PATCH | Method::PUT | Method::DELETE
        )
    }
}

async fn handle(
    AxumState(state): AxumState<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Like GitHub, the fake finishes what it started when the client hangs up: the
    // work runs in its own task, which a closed connection does not cancel.
    let task = tokio::spawn(serve_request(state, method, uri, headers, body));
    task.await.unwrap_or_else(|_| {
        let mut failed = Response::new(Body::empty());
        *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        failed
    })
}

async fn serve_request(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (prefix, path) = match uri.path().strip_prefix(ENTERPRISE_PREFIX) {
        Some(path) if path.starts_with('/') => (ENTERPRISE_PREFIX, path.to_string()),
        _ => ("", uri.path().to_string()),
    };
    let request = Request {
        method,
        prefix,
        path,
        query: uri.query().map(parse_query).unwrap_or_default(),
        headers,
        body,
    };
    let delay = {
        let mut state = lock(&state);
        let matching = state
            .delay_matching
            .as_ref()
            .is_some_and(|(method, fragment, _)| {
                request.method.as_str() == method && request.path.contains(fragment.as_str())
            });
        let matched = if matching {
            state.delay_matching.take().map(|(_, _, d)| d)
        } else {
            None
        };
        state.delay_next.take().or(matched)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut state = lock(&state);
    let reply = answer(&mut state, &request);
    state.requests.push(RequestRecord {
        method: request.method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string()),
        status: reply.status,
    });
    let served = state.requests.len() as u64;
    let mut response = Response::builder().status(reply.status);
    let mut standard = vec![
        ("x-ratelimit-limit", RATE_LIMIT.to_string()),
        (
            "x-ratelimit-remaining",
            RATE_LIMIT.saturating_sub(served).to_string(),
        ),
        ("x-ratelimit-reset", state.budget_reset.to_string()),
        ("x-ratelimit-used", served.min(RATE_LIMIT).to_string()),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-api-version-selected", "2022-11-28".to_string()),
    ];
    standard.retain(|(name, _)| !reply.headers.iter().any(|(own, _)| own == name));
    for (name, value) in standard.into_iter().chain(reply.headers) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response = response.header(name, value);
        }
    }
    let body = match reply.body {
        Some(body) => {
            response = response.header("content-type", "application/json; charset=utf-8");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    response.body(body).unwrap_or_else(|_| {
        let mut fallback = Response::new(Body::empty());
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (pair.to_string(), String::new()),
        })
        .collect()
}

/// Who is asking: the token of `Authorization: token X` or `Bearer X`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        .then(|| token.trim())
}

fn answer(state: &mut State, request: &Request) -> Reply {
    if let Some(installation_id) = access_token_route(&request.path) {
        return if request.method == Method::POST {
            mint_installation_token(state, request, installation_id)
        } else {
            Reply::not_found()
        };
    }
    let Some(token) = bearer(&request.headers) else {
        return Reply::message(401, "Requires authentication");
    };
    let Some(user) = state.tokens.get(token) else {
        return Reply::message(401, "Bad credentials");
    };
    if user
        .expires
        .is_some_and(|expires| SystemTime::now() >= expires)
    {
        return Reply::message(401, "Bad credentials");
    }
    let user = User {
        login: user.login.clone(),
        user_type: user.user_type.clone(),
        access: user.access,
        installation: user.installation,
    };
    if let Some((left, kind)) = state.rate_limited {
        state.rate_limited = (left > 1).then_some((left - 1, kind));
        return rate_limited(kind);
    }
    let Some(route) = route(state, &request.path) else {
        return Reply::not_found();
    };
    // An installation's token sees the installation's repositories only.
    if let (Some(repo), Some(installation)) = (route.repo(), user.installation) {
        let reachable = state
            .installations
            .get(&installation)
            .is_some_and(|installation| {
                installation
                    .repos
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(&state.repos[repo].full_name))
            });
        if !reachable {
            return Reply::not_found();
        }
    }
    if request.is_write() && user.access == Access::ReadOnly {
        return Reply::message(403, READ_ONLY_MESSAGE);
    }
    if let Some(FailNext {
        status,
        apply_first,
        ..
    }) = state
        .fail_next
        .take_if(|fail| fail.methods.contains(&request.method))
    {
        if apply_first {
            let _ = dispatch(state, request, &route, &user);
        }
        let message = if status >= 500 {
            "Server Error"
        } else {
            StatusCode::from_u16(status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Error")
        };
        return Reply::message(status, message);
    }
    dispatch(state, request, &route, &user)
}

struct User {
    login: String,
    user_type: String,
    access: Access,
    installation: Option<u64>,
}

fn rate_limited(kind: RateLimit) -> Reply {
    const SECONDARY: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:FAKE:0000.";
    match kind {
        RateLimit::Primary { reset_in_secs } => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // Rounded up, so the reset is never earlier than asked.
            let reset = (now.as_secs_f64() + reset_in_secs as f64).ceil() as u64;
            let mut reply = Reply::json(
                403,
                json!({
                    "message": "API rate limit exceeded for installation ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                }),
            );
            reply.headers = vec![
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-used", RATE_LIMIT.to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ];
            reply
        }
        RateLimit::Secondary { retry_after_secs } | RateLimit::TooMany { retry_after_secs } => {
            let status = if matches!(kind, RateLimit::TooMany { .. }) {
                429
            } else {
                403
            };
            let mut reply = Reply::json(
                status,
                json!({
                    "message": SECONDARY,
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                }),
            );
            reply.headers = vec![("retry-after", retry_after_secs.to_string())];
            reply
        }
    }
}

/// The endpoints the fake serves, each with its repository (an index) and number.
enum Route {
    Pulls(usize),
    CheckRuns(usize),
    CheckRun(usize, u64),
    /// `commits/{ref}/check-runs`: the check runs on a commit.
    CommitCheckRuns(usize, String),
    InstallationRepositories,
    Pull(usize, u64),
    PullFiles(usize, u64),
    IssueComments(usize, u64),
    IssueComment(usize, u64),
    ReviewComments(usize, u64),
    Reviews(usize, u64),
}

impl Route {
    /// The repository it is in.
    fn repo(&self) -> Option<usize> {
        match *self {
            Route::InstallationRepositories => None,
            Route::Pulls(repo)
            | Route::CheckRuns(repo)
            | Route::CheckRun(repo, _)
            | Route::CommitCheckRuns(repo, _)
            | Route::Pull(repo, _)
            | Route::PullFiles(repo, _)
            | Route::IssueComments(repo, _)
            | Route::IssueComment(repo, _)
            | Route::ReviewComments(repo, _)
            | Route::Reviews(repo, _) => Some(repo),
        }
    }
}

/// `/app/installations/{id}/access_tokens` → the installation's id.
fn access_token_route(path: &str) -> Option<u64> {
    match path
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["app", "installations", id, "access_tokens"] => id.parse().ok(),
        _ => None,
    }
}

/// `/installation/repositories`, `/repos/{owner}/{repo}/…` or
/// `/repositories/{id}/…` (the form of GitHub's pagination links).
fn route(state: &State, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segments == ["installation", "repositories"] {
        return Some(Route::InstallationRepositories);
    }
    let (repo, rest) = match segments.as_slice() {
        ["repos", owner, name, rest @ ..] => (state.repo_index(&format!("{owner}/{name}"))?, rest),
        ["repositories", id, rest @ ..] => {
            let id: u64 = id.parse().ok()?;
            (state.repos.iter().position(|repo| repo.id == id)?, rest)
        }
        _ => return None,
    };
    let number = |text: &str| text.parse::<u64>().ok();
    Some(match rest {
        ["pulls"] => Route::Pulls(repo),
        ["check-runs"] => Route::CheckRuns(repo),
        ["check-runs", id] => Route::CheckRun(repo, number(id)?),
        ["commits", git_ref, "check-runs"] => Route::CommitCheckRuns(repo, (*git_ref).to_string()),
        ["pulls", n] => Route::Pull(repo, number(n)?),
        ["pulls", n, "files"] => Route::PullFiles(repo, number(n)?),
        ["pulls", n, "comments"] => Route::ReviewComments(repo, number(n)?),
        ["pulls", n, "reviews"] => Route::Reviews(repo, number(n)?),
        ["issues", "comments", id] => Route::IssueComment(repo, number(id)?),
        ["issues", n, "comments"] => Route::IssueComments(repo, number(n)?),
        _ => return None,
    })
}

fn dispatch(state: &mut State, request: &Request, route: &Route, user: &User) -> Reply {
    let method = &request.method;
    match *route {
        Route::CommitCheckRuns(repo, ref git_ref) if method == Method::GET => {
            commit_check_runs(state, request, repo, git_ref)
        }
        Route::Pulls(repo) if method == Method::GET => {
            let wanted = request.query("state").unwrap_or("open");
            let mut numbers: Vec<u64> = state.repos[repo]
                .pulls
                .values()
                .filter(|pull| wanted == "all" || pull.state == wanted)
                .map(|pull| pull.number)
                .collect();
            // Newest first, as GitHub sorts by default.
            numbers.sort_unstable_by(|a, b| b.cmp(a));
            let pulls = numbers
                .into_iter()
                .filter_map(|number| pull_json(state, repo, number))
                .collect();
            paginate(state, request, repo, pulls)
        }
        Route::CheckRuns(repo) if method == Method::POST => {
            create_check_run(state, request, repo, user)
        }
        Route::CheckRun(repo, id) if method == Method::GET => {
            match state.repos[repo].check_runs.iter().find(|run| run.id == id) {
                Some(run) => Reply::json(200, check_run_json(state, repo, run)),
                None => Reply::not_found(),
            }
        }
        Route::CheckRun(repo, id) if method == Method::PATCH => {
            update_check_run(state, request, repo, id)
        }
        Route::InstallationRepositories if method == Method::GET => {
            installation_repositories(state, request, user)
        }
        Route::Pull(repo, number) if method == Method::GET => {
            match pull_json(state, repo, number) {
                Some(pull) => Reply::json(200, pull),
                None => Reply::not_found(),
            }
        }
        Route::PullFiles(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let files = pull
                .files
                .iter()
                .map(|file| file_json(state, repo, file))
                .collect();
            paginate(state, request, repo, files)
        }
        Route::IssueComments(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let comments = pull
                .comments
                .iter()
                .map(|comment| comment_json(state, repo, number, comment))
                .collect();
            paginate(state, request, repo, comments)
        }
        Route::IssueComments(repo, number) if method == Method::POST => {
            create_comment(state, request, repo, number, user)
        }
        Route::IssueComment(repo, id) if method == Method::GET => {
            match find_comment(state, repo, id) {
                Some((number, index)) => {
                    let comment = &state.repos[repo].pulls[&number].comments[index];
                    Reply::json(200, comment_json(state, repo, number, comment))
                }
                None => Reply::not_found(),
            }
        }
        Route::IssueComment(repo, id) if method == Method::PATCH || method == Method::DELETE => {
            change_comment(state, request, repo, id, user)
        }
        Route::ReviewComments(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let comments = pull
                .reviews
                .iter()
                .filter(|review| review.state != "PENDING")
                .flat_map(|review| {
                    review
                        .comments
                        .iter()
                        .map(|comment| review_comment_json(state, repo, pull, review, comment))
                })
                .collect();
            paginate(state, request, repo, comments)
        }
        Route::Reviews(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let reviews = pull
                .reviews
                .iter()
                .map(|review| review_json(state, repo, number, review))
                .collect();
            paginate(state, request, repo, reviews)
        }
        Route::Reviews(repo, number) if method == Method::POST => {
            create_review(state, request, repo, number, user)
        }
        _ => Reply::not_found(),
    }
}

/// The request's JSON object, or GitHub's answer to a body that is not one.
fn json_body(request: &Request) -> Result<serde_json::Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(Reply::message(400, "Problems parsing JSON")),
    }
}

fn too_long(resource: &str) -> Reply {
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{
                "resource": resource,
                "code": "custom",
                "field": "body",
                "message": format!("body is too long (maximum is {MAX_BODY_CHARS} characters)"),
            }],
            "documentation_url": DOCS,
        }),
    )
}

/// A `body` that must be there and within GitHub's size.
fn required_body(object: &serde_json::Map<String, Value>, resource: &str) -> Result<String, Reply> {
    let Some(body) = object.get("body").and_then(Value::as_str) else {
        return Err(Reply::message(
            422,
            "Invalid request.\n\n\"body\" wasn't supplied.",
        ));
    };
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(too_long(resource));
    }
    Ok(body.to_string())
}

fn create_comment(
    state: &mut State,
    request: &Request,
    repo: usize,
    number: u64,
    user: &User,
) -> Reply {
    if !state.repos[repo].pulls.contains_key(&number) {
        return Reply::not_found();
    }
    let body = match json_body(request).and_then(|object| required_body(&object, "IssueComment")) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = state.new_id();
    let now = state.tick();
    let comment = FakeComment {
        id,
        body,
        user_login: user.login.clone(),
        user_type: user.user_type.clone(),
        created: now,
        updated: now,
    };
    let json = comment_json(state, repo, number, &comment);
    if let Some(pull) = state.repos[repo].pulls.get_mut(&number) {
        pull.comments.push(comment);
    }
    state.writes += 1;
    Reply::json(201, json)
}

fn find_comment(state: &State, repo: usize, id: u64) -> Option<(u64, usize)> {
    state.repos[repo].pulls.iter().find_map(|(number, pull)| {
        pull.comments
            .iter()
            .position(|comment| comment.id == id)
            .map(|index| (*number, index))
    })
}

fn change_comment(
    state: &mut State,
    request: &Request,
    repo: usize,
    id: u64,
    user: &User,
) -> Reply {
    let Some((number, index)) = find_comment(state, repo, id) else {
        return Reply::not_found();
    };
    let author = &state.repos[repo].pulls[&number].comments[index].user_login;
    if *author != user.login {
        return Reply::message(403, "Must have admin rights to Repository.");
    }
    if request.method == Method::DELETE {
        if let Some(pull) = state.repos[repo].pulls.get_mut(&number) {
            pull.comments.remove(index);
        }
        state.tick();
        state.writes += 1;
        return Reply::no_content();
    }
    let body = match json_body(request).and_then(|object| required_body(&object, "IssueComment")) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let now = state.tick();
    let Some(comment) = state.repos[repo]
        .pulls
        .get_mut(&number)
        .map(|pull| &mut pull.comments[index])
    else {
        return Reply::not_found();
    };
    comment.body = body;
    comment.updated = now;
    let comment = comment.clone();
    state.writes += 1;
    Reply::json(200, comment_json(state, repo, number, &comment))
}

fn create_review(
    state: &mut State,
    request: &Request,
    repo: usize,
    number: u64,
    user: &User,
) -> Reply {
    let object = match json_body(request) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let Some(pull) = state.repos[repo].pulls.get(&number) else {
        return Reply::not_found();
    };
    let unprocessable = |error: String| {
        Reply::json(
            422,
            json!({
                "message": "Unprocessable Entity",
                "errors": [error],
                "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
            }),
        )
    };
    let commit_id = match object.get("commit_id").and_then(Value::as_str) {
        Some(sha) if pull.shas.iter().any(|known| known == sha) => sha.to_string(),
        Some(sha) => return unprocessable(format!("No commit found for SHA: {sha}")),
        None => pull.head_sha.clone(),
    };
    let body = object
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if body.chars().count() > MAX_BODY_CHARS {
        return too_long("PullRequestReview");
    }
    let review_state = match object.get("event").and_then(Value::as_str) {
        None => "PENDING",
        Some("COMMENT") => "COMMENTED",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some(other) => {
            return unprocessable(format!(
                "Unknown review event {other:?}: expected APPROVE, REQUEST_CHANGES or COMMENT"
            ));
        }
    };
    let mut comments = Vec::new();
    let wanted = match object.get("comments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(wanted)) => wanted.clone(),
        Some(_) => return Reply::message(422, "Invalid request.\n\n\"comments\" is not an array."),
    };
    for wanted in &wanted {
        let field = |name: &str| wanted.get(name);
        let (Some(path), Some(comment_body)) = (
            field("path").and_then(Value::as_str),
            field("body").and_then(Value::as_str),
        ) else {
            return Reply::message(
                422,
                "Invalid request.\n\n\"path\" and \"body\" are required for each comment.",
            );
        };
        let Some(line) = field("line").and_then(Value::as_u64) else {
            return Reply::message(
                422,
                "Invalid request.\n\nThe fake GitHub takes review comments by \"line\" only (\"position\" is deprecated).",
            );
        };
        if comment_body.chars().count() > MAX_BODY_CHARS {
            return too_long("PullRequestReviewComment");
        }
        let side = field("side").and_then(Value::as_str).unwrap_or("RIGHT");
        let side = match side {
            "RIGHT" => Side::Right,
            "LEFT" => Side::Left,
            other => {
                return unprocessable(format!("Unknown side {other:?}: expected LEFT or RIGHT"));
            }
        };
        let start_line = field("start_line").and_then(Value::as_u64);
        let start_side = match field("start_side").and_then(Value::as_str) {
            Some("LEFT") => Side::Left,
            Some("RIGHT") => Side::Right,
            _ => side,
        };
        let patch = pull
            .files
            .iter()
            .find(|file| file.filename == path)
            .and_then(|file| file.patch.as_deref())
            .unwrap_or_default();
        let errors = review_thread_errors(
            patch,
            line,
            side,
            start_line.map(|start| (start, start_side)),
        );
        if !errors.is_empty() {
            return unprocessable(to_sentence(&errors));
        }
        comments.push(FakeReviewComment {
            id: 0,
            path: path.to_string(),
            line,
            start_line,
            side: side.name().to_string(),
            body: comment_body.to_string(),
        });
    }
    let id = state.new_id();
    for comment in &mut comments {
        comment.id = state.new_id();
    }
    state.tick();
    let review = FakeReview {
        id,
        commit_id,
        body,
        state: review_state.to_string(),
        user_login: user.login.clone(),
        comments,
    };
    let json = review_json(state, repo, number, &review);
    if let Some(pull) = state.repos[repo].pulls.get_mut(&number) {
        pull.reviews.push(review);
    }
    state.writes += 1;
    Reply::json(200, json)
}

/// GitHub's complaints about a review comment on `line` (and from `start`), in
/// GitHub's words; empty when the comment may be made.
fn review_thread_errors(
    patch: &str,
    line: u64,
    side: Side,
    start: Option<(u64, Side)>,
) -> Vec<&'static str> {
    let hunks = parse_patch(patch);
    let hunk_of = |line: u64, side: Side| {
        hunks
            .iter()
            .position(|hunk| hunk.lines(side).contains(&line))
    };
    let line_hunk = hunk_of(line, side);
    let mut errors = Vec::new();
    if line_hunk.is_none() {
        errors.push("Pull request review thread line must be part of the diff");
    }
    if let Some((start_line, start_side)) = start {
        if start_side == side && start_line >= line {
            errors.push("Pull request review thread start line must precede the end line.");
        } else if line_hunk.is_none() || hunk_of(start_line, start_side) != line_hunk {
            errors.push(
                "Pull request review thread start line must be part of the same hunk as the line.",
            );
        }
    }
    if line_hunk.is_none() {
        errors.push("Pull request review thread diff hunk can't be blank");
    }
    errors
}

/// Rails' `to_sentence`, which GitHub joins its errors with: `a`, `a and b`,
/// `a, b, and c`.
fn to_sentence(parts: &[&str]) -> String {
    match parts {
        [] => String::new(),
        [one] => (*one).to_string(),
        [first, second] => format!("{first} and {second}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

/// A side of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The base: deleted and context lines, by their base line numbers.
    Left,
    /// The head: added and context lines, by their head line numbers.
    Right,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Left => "LEFT",
            Side::Right => "RIGHT",
        }
    }
}

/// A hunk of a patch: the lines a review comment may be on, per side, and its text.
#[derive(Debug, Default, PartialEq, Eq)]
struct Hunk {
    left: Vec<u64>,
    right: Vec<u64>,
    text: String,
}

impl Hunk {
    fn lines(&self, side: Side) -> &[u64] {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
}

/// `@@ -a[,b] +c[,d] @@…` → `(a, b, c, d)`; a count left out is 1.
fn hunk_header(line: &str) -> Option<(u64, u64, u64, u64)> {
    let ranges = line.strip_prefix("@@ -")?;
    let (ranges, _) = ranges.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |text: &str| -> Option<(u64, u64)> {
        match text.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    let (old_start, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some((old_start, old_count, new_start, new_count))
}

/// The hunks of a patch as GitHub's `patch` field gives it. Lines are counted from
/// each header's starts: a context line (` `) is on both sides, an added line (`+`)
/// on the right only, a deleted line (`-`) on the left only; `\ No newline at end of
/// file` is no line. An empty line within a hunk's counts is a context line whose
/// leading space was lost.
fn parse_patch(patch: &str) -> Vec<Hunk> {
    let mut hunks = Vec::new();
    let mut current: Option<(Hunk, u64, u64, u64, u64)> = None;
    for line in patch.split('\n') {
        if let Some((old_start, old_count, new_start, new_count)) = hunk_header(line) {
            if let Some((hunk, ..)) = current.take() {
                hunks.push(hunk);
            }
            let hunk = Hunk {
                text: line.to_string(),
                ..Hunk::default()
            };
            current = Some((hunk, old_start, old_count, new_start, new_count));
            continue;
        }
        let Some((hunk, old_line, old_left, new_line, new_left)) = current.as_mut() else {
            continue;
        };
        if *old_left == 0 && *new_left == 0 {
            continue;
        }
        let marker = line.chars().next();
        match marker {
            Some('+') if *new_left > 0 => {
                hunk.right.push(*new_line);
                *new_line += 1;
                *new_left -= 1;
            }
            Some('-') if *old_left > 0 => {
                hunk.left.push(*old_line);
                *old_line += 1;
                *old_left -= 1;
            }
            Some(' ') | None if *old_left > 0 && *new_left > 0 => {
                hunk.left.push(*old_line);
                hunk.right.push(*new_line);
                *old_line += 1;
                *new_line += 1;
                *old_left -= 1;
                *new_left -= 1;
            }
            _ => continue,
        }
        hunk.text.push('\n');
        hunk.text.push_str(line);
    }
    if let Some((hunk, ..)) = current {
        hunks.push(hunk);
    }
    hunks
}

/// The answer for one page of `items` of a repository's list, with GitHub's
/// `Link` header (naming the repository by id, as GitHub's links do).
fn paginate(state: &State, request: &Request, repo: usize, items: Vec<Value>) -> Reply {
    let rest = match request
        .path
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["repos", _, _, rest @ ..] | ["repositories", _, rest @ ..] => rest.join("/"),
        _ => String::new(),
    };
    let base = format!(
        "{}{}/repositories/{}/{rest}",
        state.url, request.prefix, state.repos[repo].id
    );
    let (shown, link) = page(request, items, &base);
    let mut reply = Reply::json(200, Value::Array(shown));
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// One page of `items` (`per_page`, default 30, at most 100; `page`) and the
/// `Link` header to the others, as URLs of `base` with the request's parameters.
fn page(request: &Request, items: Vec<Value>, base: &str) -> (Vec<Value>, Option<String>) {
    let per_page = request
        .query("per_page")
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&value| value > 0)
        .map_or(30, |value| value.min(100));
    let page = request
        .query("page")
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    if last <= 1 {
        return (shown, None);
    }
    let link_to = |target: usize| {
        let mut query: Vec<String> = request
            .query
            .iter()
            .filter(|(key, _)| key != "page")
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        query.push(format!("page={target}"));
        format!("{base}?{}", query.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push((page - 1, "prev"));
    }
    if page < last {
        links.push((page + 1, "next"));
        links.push((last, "last"));
    }
    if page > 1 {
        links.push((1, "first"));
    }
    let mut header = String::new();
    for (target, rel) in links {
        if !header.is_empty() {
            header.push_str(", ");
        }
        let _ = write!(header, "<{}>; rel=\"{rel}\"", link_to(target));
    }
    (shown, Some(header))
}

/// `POST /app/installations/{id}/access_tokens`: checks the App's JWT as GitHub
/// does and mints a token for the installation.
fn mint_installation_token(state: &mut State, request: &Request, installation_id: u64) -> Reply {
    let Some(jwt) = bearer(&request.headers) else {
        return Reply::message(401, "Requires authentication");
    };
    let app_id = match check_app_jwt(state, jwt) {
        Ok(app_id) => app_id,
        Err(reply) => return reply,
    };
    let Some(installation) = state.installations.get(&installation_id) else {
        return Reply::not_found();
    };
    if installation.app_id != app_id {
        return Reply::not_found();
    }
    let access = installation.access;
    let mut random = [0u8; 18];
    if state.rng.fill(&mut random).is_err() {
        return Reply::message(500, "Server Error");
    }
    let token: String = std::iter::once("ghs_".to_string())
        .chain(random.iter().map(|byte| format!("{byte:02x}")))
        .collect();
    let expires = SystemTime::now() + state.token_ttl;
    state.tokens.insert(
        token.clone(),
        Token {
            access,
            login: APP_BOT_LOGIN.to_string(),
            user_type: "Bot".to_string(),
            expires: Some(expires),
            installation: Some(installation_id),
        },
    );
    state.token_exchanges += 1;
    let write = match access {
        Access::Write => "write",
        Access::ReadOnly => "read",
    };
    let expires_secs = expires
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    Reply::json(
        201,
        json!({
            "token": token,
            "expires_at": iso8601(expires_secs),
            "permissions": {
                "checks": write,
                "contents": "read",
                "metadata": "read",
                "pull_requests": write,
            },
            "repository_selection": "selected",
        }),
    )
}

/// The App a JWT authenticates, or GitHub's refusal: RS256 signed with the App's
/// key, `iat` not in the future (60 s of skew allowed), `exp` in the future and at
/// most 10 minutes after `iat` and after now.
fn check_app_jwt(state: &State, jwt: &str) -> Result<u64, Reply> {
    let undecodable = || Reply::message(401, JWT_UNDECODABLE);
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(undecodable());
    };
    let json_part = |part: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        serde_json::from_slice::<Value>(&bytes).ok()
    };
    let (Some(header_json), Some(claims_json)) = (json_part(header), json_part(claims)) else {
        return Err(undecodable());
    };
    if header_json.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(undecodable());
    }
    let app_id = match claims_json.get("iss") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    };
    let Some(app_id) = app_id else {
        return Err(undecodable());
    };
    let Some(key) = state.apps.get(&app_id) else {
        return Err(Reply::message(404, "Integration not found"));
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return Err(undecodable());
    };
    let signing_input = format!("{header}.{claims}");
    if UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signing_input.as_bytes(), &signature)
        .is_err()
    {
        return Err(undecodable());
    }
    let now = epoch_seconds() as i64;
    let Some(iat) = claims_json.get("iat").and_then(Value::as_i64) else {
        return Err(Reply::message(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    };
    if iat > now + 60 {
        return Err(Reply::message(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    let exp = claims_json.get("exp").and_then(Value::as_i64);
    let Some(exp) = exp.filter(|&exp| exp > now) else {
        return Err(Reply::message(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    };
    if exp - iat > 600 || exp > now + 600 {
        return Err(Reply::message(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(app_id)
}

/// `GET /installation/repositories`, for an installation's token.
fn installation_repositories(state: &State, request: &Request, user: &User) -> Reply {
    let Some(installation) = user
        .installation
        .and_then(|id| state.installations.get(&id))
    else {
        return Reply::message(
            403,
            "You must authenticate with an installation access token in order to list repositories for an installation.",
        );
    };
    let repos: Vec<Value> = installation
        .repos
        .iter()
        .map(|full_name| repo_json(state, full_name))
        .collect();
    let total = repos.len();
    let base = format!("{}{}/installation/repositories", state.url, request.prefix);
    let (shown, link) = page(request, repos, &base);
    let mut reply = Reply::json(
        200,
        json!({
            "total_count": total,
            "repository_selection": "selected",
            "repositories": shown,
        }),
    );
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs`: the runs on the commit
/// `git_ref` (a full SHA here), newest first, `check_name` filtering by name;
/// with `filter=latest` (GitHub's default) only the newest run of each name.
fn commit_check_runs(state: &State, request: &Request, repo: usize, git_ref: &str) -> Reply {
    let name = request.query("check_name");
    let latest_only = request.query("filter").unwrap_or("latest") == "latest";
    let mut runs: Vec<&FakeCheckRun> = state.repos[repo]
        .check_runs
        .iter()
        .filter(|run| run.head_sha == git_ref && name.is_none_or(|name| run.name == name))
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.id));
    if latest_only {
        let mut seen = std::collections::HashSet::new();
        runs.retain(|run| seen.insert(run.name.clone()));
    }
    let runs: Vec<Value> = runs
        .into_iter()
        .map(|run| check_run_json(state, repo, run))
        .collect();
    let total = runs.len();
    let base = format!(
        "{}{}/repositories/{}/commits/{git_ref}/check-runs",
        state.url, request.prefix, state.repos[repo].id
    );
    let (shown, link) = page(request, runs, &base);
    let mut reply = Reply::json(200, json!({"total_count": total, "check_runs": shown}));
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// GitHub's answer to a request its schema refuses.
fn invalid_request(detail: &str) -> Reply {
    Reply::message(422, &format!("Invalid request.\n\n{detail}"))
}

/// `"a", "b" weren't supplied.` or `"a" wasn't supplied.`
fn not_supplied(missing: &[&str]) -> Reply {
    let names: Vec<String> = missing.iter().map(|name| format!("\"{name}\"")).collect();
    let verb = if names.len() == 1 {
        "wasn't"
    } else {
        "weren't"
    };
    invalid_request(&format!("{} {verb} supplied.", names.join(", ")))
}

fn check_run_validation(field: &str, code: &str, message: Option<String>) -> Reply {
    let mut error = json!({"resource": "CheckRun", "code": code, "field": field});
    if let (Some(message), Some(object)) = (message, error.as_object_mut()) {
        object.insert("message".to_string(), Value::String(message));
    }
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [error],
            "documentation_url": "https://docs.github.com/rest/checks/runs",
        }),
    )
}

/// A check run's `output`, checked.
struct OutputChange {
    title: String,
    summary: String,
    text: Option<String>,
    annotations: Vec<FakeAnnotation>,
}

fn parse_output(output: &Value) -> Result<OutputChange, Reply> {
    let Some(output) = output.as_object() else {
        return Err(invalid_request(
            "For 'properties/output', it is not an object.",
        ));
    };
    let text_field = |name: &str| output.get(name).and_then(Value::as_str);
    let missing: Vec<&str> = ["summary", "title"]
        .into_iter()
        .filter(|name| text_field(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(not_supplied(&missing));
    }
    let annotations = match output.get("annotations") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(annotations)) => annotations.clone(),
        Some(_) => {
            return Err(invalid_request(
                "For 'properties/annotations', it is not an array.",
            ));
        }
    };
    // The schema's limits first, then the model's.
    if annotations.len() > MAX_ANNOTATIONS_PER_REQUEST {
        return Err(invalid_request(&format!(
            "No more than {MAX_ANNOTATIONS_PER_REQUEST} items are allowed; {} were supplied.",
            annotations.len()
        )));
    }
    for name in ["summary", "text"] {
        let chars = text_field(name).map_or(0, |text| text.chars().count());
        if chars > MAX_CHECK_OUTPUT {
            return Err(invalid_request(&format!(
                "Only {MAX_CHECK_OUTPUT} characters are allowed; {chars} were supplied."
            )));
        }
    }
    let mut parsed = Vec::new();
    for annotation in &annotations {
        let text = |name: &str| annotation.get(name).and_then(Value::as_str);
        let line = |name: &str| annotation.get(name).and_then(Value::as_u64);
        let missing: Vec<&str> = [
            ("annotation_level", text("annotation_level").is_some()),
            ("end_line", line("end_line").is_some()),
            ("message", text("message").is_some()),
            ("path", text("path").is_some()),
            ("start_line", line("start_line").is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| name)
        .collect();
        if !missing.is_empty() {
            return Err(not_supplied(&missing));
        }
        let level = text("annotation_level").unwrap_or_default();
        if !matches!(level, "notice" | "warning" | "failure") {
            return Err(invalid_request(&format!(
                "For 'properties/annotation_level', \"{level}\" is not a member of [\"notice\", \"warning\", \"failure\"]."
            )));
        }
        let (start_line, end_line) = (
            line("start_line").unwrap_or_default(),
            line("end_line").unwrap_or_default(),
        );
        if start_line == 0 || end_line < start_line {
            return Err(check_run_validation("annotations", "invalid", None));
        }
        parsed.push(FakeAnnotation {
            path: text("path").unwrap_or_default().to_string(),
            start_line,
            end_line,
            annotation_level: level.to_string(),
            message: text("message").unwrap_or_default().to_string(),
            title: text("title").map(str::to_string),
            raw_details: text("raw_details").map(str::to_string),
        });
    }
    for name in ["summary", "text"] {
        if text_field(name).is_some_and(|text| text.len() > MAX_CHECK_OUTPUT) {
            return Err(check_run_validation(
                name,
                "custom",
                Some(format!(
                    "{name} exceeds a maximum bytesize of {MAX_CHECK_OUTPUT}"
                )),
            ));
        }
    }
    Ok(OutputChange {
        title: text_field("title").unwrap_or_default().to_string(),
        summary: text_field("summary").unwrap_or_default().to_string(),
        text: text_field("text").map(str::to_string),
        annotations: parsed,
    })
}

/// The `status`, `conclusion`, timestamps and `output` of a check-run request,
/// checked.
struct CheckRunChange {
    status: Option<String>,
    conclusion: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    output: Option<OutputChange>,
}

fn parse_check_run_change(
    object: &serde_json::Map<String, Value>,
) -> Result<CheckRunChange, Reply> {
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let status = text("status");
    if let Some(status) = &status
        && !matches!(status.as_str(), "queued" | "in_progress" | "completed")
    {
        return Err(invalid_request(&format!(
            "For 'properties/status', \"{status}\" is not a member of [\"queued\", \"in_progress\", \"completed\"]."
        )));
    }
    let conclusion = text("conclusion");
    const CONCLUSIONS: [&str; 8] = [
        "action_required",
        "cancelled",
        "failure",
        "neutral",
        "success",
        "skipped",
        "stale",
        "timed_out",
    ];
    if let Some(conclusion) = &conclusion
        && !CONCLUSIONS.contains(&conclusion.as_str())
    {
        return Err(invalid_request(&format!(
            "For 'properties/conclusion', \"{conclusion}\" is not a member of {CONCLUSIONS:?}."
        )));
    }
    let output = match object.get("output") {
        None | Some(Value::Null) => None,
        Some(output) => Some(parse_output(output)?),
    };
    Ok(CheckRunChange {
        status,
        conclusion,
        started_at: text("started_at"),
        completed_at: text("completed_at"),
        output,
    })
}

/// Applies a change to a check run; GitHub completes a run given a conclusion,
/// and appends annotations.
fn apply_check_run_change(run: &mut FakeCheckRun, change: CheckRunChange, now: &str) {
    if let Some(status) = change.status {
        run.status = status;
    }
    if change.started_at.is_some() {
        run.started_at = change.started_at;
    }
    if let Some(conclusion) = change.conclusion {
        run.conclusion = Some(conclusion);
        run.status = "completed".to_string();
    }
    if change.completed_at.is_some() {
        run.completed_at = change.completed_at;
    }
    if run.status == "completed" && run.completed_at.is_none() {
        run.completed_at = Some(now.to_string());
    }
    if let Some(output) = change.output {
        run.output_title = Some(output.title);
        run.output_summary = Some(output.summary);
        if output.text.is_some() {
            run.output_text = output.text;
        }
        if !output.annotations.is_empty() {
            run.annotation_batches.push(output.annotations.len());
            run.annotations.extend(output.annotations);
        }
    }
}

fn create_check_run(state: &mut State, request: &Request, repo: usize, user: &User) -> Reply {
    let object = match json_body(request) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let missing: Vec<&str> = ["head_sha", "name"]
        .into_iter()
        .filter(|name| text(name).is_none())
        .collect();
    if !missing.is_empty() {
        return not_supplied(&missing);
    }
    let change = match parse_check_run_change(&object) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let head_sha = text("head_sha").unwrap_or_default();
    let known = state.repos[repo]
        .pulls
        .values()
        .any(|pull| pull.base_sha == head_sha || pull.shas.contains(&head_sha));
    if !known {
        return Reply::json(
            422,
            json!({
                "message": "Unprocessable Entity",
                "errors": [format!("No commit found for SHA: {head_sha}")],
                "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
            }),
        );
    }
    if change.status.as_deref() == Some("completed") && change.conclusion.is_none() {
        return check_run_validation("conclusion", "missing_field", None);
    }
    let id = state.new_id();
    let now = timestamp(state.tick());
    let mut run = FakeCheckRun {
        id,
        name: text("name").unwrap_or_default(),
        head_sha,
        status: "queued".to_string(),
        conclusion: None,
        started_at: Some(now.clone()),
        completed_at: None,
        external_id: text("external_id"),
        details_url: text("details_url"),
        output_title: None,
        output_summary: None,
        output_text: None,
        annotations: Vec::new(),
        annotation_batches: Vec::new(),
        updates: 0,
        user_login: user.login.clone(),
    };
    apply_check_run_change(&mut run, change, &now);
    let json = check_run_json(state, repo, &run);
    state.repos[repo].check_runs.push(run);
    state.writes += 1;
    Reply::json(201, json)
}

fn update_check_run(state: &mut State, request: &Request, repo: usize, id: u64) -> Reply {
    let object = match json_body(request) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let Some(index) = state.repos[repo]
        .check_runs
        .iter()
        .position(|run| run.id == id)
    else {
        return Reply::not_found();
    };
    let change = match parse_check_run_change(&object) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let completed = state.repos[repo].check_runs[index].conclusion.is_some();
    if change.status.as_deref() == Some("completed") && change.conclusion.is_none() && !completed {
        return check_run_validation("conclusion", "missing_field", None);
    }
    let now = timestamp(state.tick());
    let run = &mut state.repos[repo].check_runs[index];
    apply_check_run_change(run, change, &now);
    run.updates += 1;
    let run = run.clone();
    state.writes += 1;
    Reply::json(200, check_run_json(state, repo, &run))
}

fn check_run_json(state: &State, repo: usize, run: &FakeCheckRun) -> Value {
    let full_name = &state.repos[repo].full_name;
    json!({
        "id": run.id,
        "node_id": format!("CR_fake{}", run.id),
        "name": run.name,
        "head_sha": run.head_sha,
        "external_id": run.external_id.clone().unwrap_or_default(),
        "url": format!("{}/repos/{full_name}/check-runs/{}", state.url, run.id),
        "html_url": format!("https://github.com/{full_name}/runs/{}", run.id),
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.output_title,
            "summary": run.output_summary,
            "text": run.output_text,
            "annotations_count": run.annotations.len(),
            "annotations_url": format!("{}/repos/{full_name}/check-runs/{}/annotations", state.url, run.id),
        },
        "app": {"slug": "layercake", "owner": {"login": "layercake"}},
        "pull_requests": [],
    })
}

/// The DER (`RSAPublicKey`, PKCS#1) of an RSA public key in PEM: `PUBLIC KEY`
/// (SubjectPublicKeyInfo) or `RSA PUBLIC KEY`.
fn rsa_public_key_der(pem: &str) -> Result<Vec<u8>, String> {
    let (label, der) = pem_block(pem)?;
    match label.as_str() {
        "RSA PUBLIC KEY" => Ok(der),
        "PUBLIC KEY" => {
            // SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING { key } }
            const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
            let invalid = || "not an RSA SubjectPublicKeyInfo".to_string();
            let (0x30, info, _) = der_element(&der).ok_or_else(invalid)? else {
                return Err(invalid());
            };
            let (0x30, algorithm, rest) = der_element(info).ok_or_else(invalid)? else {
                return Err(invalid());
            };
            let (0x06, oid, _) = der_element(algorithm).ok_or_else(invalid)? else {
                return Err(invalid());
            };
            if oid != RSA_ENCRYPTION {
                return Err("not an RSA key".to_string());
            }
            match der_element(rest).ok_or_else(invalid)? {
                (0x03, [0, key @ ..], _) => Ok(key.to_vec()),
                _ => Err(invalid()),
            }
        }
        other => Err(format!("a {other}, not a public key")),
    }
}

/// The tag, contents and what follows of the DER element at the start of `input`.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |length, &byte| (length << 8) | usize::from(byte))
    };
    if rest.len() < length {
        return None;
    }
    let (contents, after) = rest.split_at(length);
    Some((tag, contents, after))
}

/// The label and decoded contents of the first PEM block of `pem` (text around it
/// is ignored).
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    let start = pem.find("-----BEGIN ").ok_or("not PEM")?;
    let after = &pem[start + "-----BEGIN ".len()..];
    let label_end = after.find("-----").ok_or("not PEM")?;
    let label = after[..label_end].to_string();
    let body = &after[label_end + "-----".len()..];
    let end = body
        .find(&format!("-----END {label}-----"))
        .ok_or("no END line")?;
    let base64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD.decode(base64).map_err(|_| "not base64")?;
    Ok((label, der))
}

fn user_json(login: &str, user_type: &str) -> Value {
    // A stable id per login.
    let id = login.bytes().fold(7u64, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u64::from(byte))
    }) % 100_000_000;
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_fake{id}"),
        "type": user_type,
        "site_admin": false,
        "html_url": format!("https://github.com/{login}"),
    })
}

fn user_type_of(state: &State, login: &str) -> String {
    state
        .tokens
        .values()
        .find(|token| token.login == login)
        .map_or_else(|| "User".to_string(), |token| token.user_type.clone())
}

fn repo_json(state: &State, full_name: &str) -> Value {
    let id = state
        .repo_index(full_name)
        .map_or(0, |index| state.repos[index].id);
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    json!({
        "id": id,
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner},
        "private": false,
        "html_url": format!("https://github.com/{full_name}"),
        "clone_url": format!("https://github.com/{full_name}.git"),
    })
}

fn pull_json(state: &State, repo: usize, number: u64) -> Option<Value> {
    let full_name = &state.repos[repo].full_name;
    let pull = state.repos[repo].pulls.get(&number)?;
    let owner = |full: &str| {
        full.split_once('/')
            .map_or(full.to_string(), |(o, _)| o.to_string())
    };
    let head_repo = pull.head_repo.as_deref().map(|head| repo_json(state, head));
    let head_label = format!(
        "{}:{}",
        owner(pull.head_repo.as_deref().unwrap_or(full_name)),
        pull.head_ref
    );
    Some(json!({
        "url": format!("{}/repos/{full_name}/pulls/{number}", state.url),
        "id": state.repos[repo].id * 10_000 + number,
        "node_id": format!("PR_fake{number}"),
        "html_url": format!("https://github.com/{full_name}/pull/{number}"),
        "number": number,
        "state": pull.state,
        "locked": false,
        "title": format!("Pull request #{number}"),
        "user": user_json(&pull.author, "User"),
        "author_association": pull.author_association,
        "labels": pull.labels.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        "body": null,
        "draft": pull.draft,
        "merged": false,
        "head": {
            "label": head_label,
            "ref": pull.head_ref,
            "sha": pull.head_sha,
            "repo": head_repo,
        },
        "base": {
            "label": format!("{}:{}", owner(full_name), pull.base_ref),
            "ref": pull.base_ref,
            "sha": pull.base_sha,
            "repo": repo_json(state, full_name),
        },
    }))
}

fn file_json(state: &State, repo: usize, file: &FakeFile) -> Value {
    let full_name = &state.repos[repo].full_name;
    let (additions, deletions) = patch_stats(file.patch.as_deref().unwrap_or_default());
    let mut json = json!({
        "sha": format!("{:040x}", file.filename.len()),
        "filename": file.filename,
        "status": file.status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": format!("https://github.com/{full_name}/blob/HEAD/{}", file.filename),
        "raw_url": format!("https://github.com/{full_name}/raw/HEAD/{}", file.filename),
        "contents_url": format!("{}/repos/{full_name}/contents/{}", state.url, file.filename),
    });
    if let (Some(patch), Some(object)) = (&file.patch, json.as_object_mut()) {
        object.insert("patch".to_string(), Value::String(patch.clone()));
    }
    json
}

/// Added and deleted lines of a patch.
fn patch_stats(patch: &str) -> (u64, u64) {
    parse_patch(patch)
        .iter()
        .fold((0, 0), |(added, deleted), hunk| {
            let added_here = hunk
                .text
                .lines()
                .skip(1)
                .filter(|line| line.starts_with('+'))
                .count();
            let deleted_here = hunk
                .text
                .lines()
                .skip(1)
                .filter(|line| line.starts_with('-'))
                .count();
            (added + added_here as u64, deleted + deleted_here as u64)
        })
}

fn comment_json(state: &State, repo: usize, number: u64, comment: &FakeComment) -> Value {
    let full_name = &state.repos[repo].full_name;
    json!({
        "id": comment.id,
        "node_id": format!("IC_fake{}", comment.id),
        "url": format!("{}/repos/{full_name}/issues/comments/{}", state.url, comment.id),
        "html_url": format!("https://github.com/{full_name}/pull/{number}#issuecomment-{}", comment.id),
        "issue_url": format!("{}/repos/{full_name}/issues/{number}", state.url),
        "body": comment.body,
        "user": user_json(&comment.user_login, &comment.user_type),
        "created_at": timestamp(comment.created),
        "updated_at": timestamp(comment.updated),
        "author_association": "NONE",
    })
}

fn review_json(state: &State, repo: usize, number: u64, review: &FakeReview) -> Value {
    let full_name = &state.repos[repo].full_name;
    json!({
        "id": review.id,
        "node_id": format!("PRR_fake{}", review.id),
        "user": user_json(&review.user_login, &user_type_of(state, &review.user_login)),
        "body": review.body,
        "state": review.state,
        "html_url": format!("https://github.com/{full_name}/pull/{number}#pullrequestreview-{}", review.id),
        "pull_request_url": format!("{}/repos/{full_name}/pulls/{number}", state.url),
        "commit_id": review.commit_id,
        "submitted_at": timestamp(state.clock),
        "author_association": "NONE",
    })
}

fn review_comment_json(
    state: &State,
    repo: usize,
    pull: &Pull,
    review: &FakeReview,
    comment: &FakeReviewComment,
) -> Value {
    let full_name = &state.repos[repo].full_name;
    let side = if comment.side == "LEFT" {
        Side::Left
    } else {
        Side::Right
    };
    let hunks_at_head = pull
        .files
        .iter()
        .find(|file| file.filename == comment.path)
        .and_then(|file| file.patch.as_deref())
        .map(parse_patch)
        .unwrap_or_default();
    let hunk = hunks_at_head
        .iter()
        .find(|hunk| hunk.lines(side).contains(&comment.line));
    // Still on a line of the diff, or made on the current head: shown on its line;
    // else outdated.
    let line = (review.commit_id == pull.head_sha || hunk.is_some()).then_some(comment.line);
    json!({
        "id": comment.id,
        "node_id": format!("PRRC_fake{}", comment.id),
        "pull_request_review_id": review.id,
        "diff_hunk": hunk.map(|hunk| hunk.text.clone()).unwrap_or_default(),
        "path": comment.path,
        "commit_id": pull.head_sha,
        "original_commit_id": review.commit_id,
        "user": user_json(&review.user_login, &user_type_of(state, &review.user_login)),
        "body": comment.body,
        "created_at": timestamp(state.clock),
        "updated_at": timestamp(state.clock),
        "html_url": format!("https://github.com/{full_name}/pull/{}#discussion_r{}", pull.number, comment.id),
        "pull_request_url": format!("{}/repos/{full_name}/pulls/{}", state.url, pull.number),
        "author_association": "NONE",
        "line": line,
        "original_line": comment.line,
        "side": comment.side,
        "start_line": comment.start_line.filter(|_| line.is_some()),
        "original_start_line": comment.start_line,
        "start_side": comment.start_line.map(|_| comment.side.clone()),
        "subject_type": "line",
    })
}

fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The logical time `tick` as an ISO 8601 UTC timestamp, one second a tick from
/// 2024-01-01T00:00:00Z.
fn timestamp(tick: u64) -> String {
    iso8601(CLOCK_EPOCH + tick)
}

/// Seconds since 1970 as an ISO 8601 UTC timestamp.
fn iso8601(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let in_day = seconds % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3_600,
        in_day / 60 % 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn hunk_headers_parse_with_and_without_counts() {
        assert_eq!(
            hunk_header("@@ -1,3 +1,4 @@ FROM alpine"),
            Some((1, 3, 1, 4))
        );
        assert_eq!(hunk_header("@@ -5 +5 @@"), Some((5, 1, 5, 1)));
        assert_eq!(hunk_header("@@ -0,0 +1,2 @@"), Some((0, 0, 1, 2)));
        assert_eq!(hunk_header("@@ garbage @@"), None);
        assert_eq!(hunk_header(" context"), None);
    }

    #[test]
    fn lines_are_counted_per_side_from_each_header() {
        let patch = "@@ -1,4 +1,5 @@\n FROM alpine\n-RUN apk add curl\n+RUN apk add --no-cache curl\n+USER app\n COPY . .\n RUN make\n@@ -20,2 +21,3 @@ CMD\n ENV A=1\n+ENV B=2\n ENV C=3";
        let hunks = parse_patch(patch);
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].right, [1, 2, 3, 4, 5]);
        assert_eq!(hunks[0].left, [1, 2, 3, 4]);
        assert_eq!(hunks[1].right, [21, 22, 23]);
        assert_eq!(hunks[1].left, [20, 21]);
        assert!(hunks[1].text.starts_with("@@ -20,2 +21,3 @@ CMD\n ENV A=1"));
    }

    #[test]
    fn no_newline_markers_are_not_lines() {
        let patch = "@@ -1,2 +1,2 @@\n FROM alpine\n-RUN old\n\\ No newline at end of file\n+RUN new\n\\ No newline at end of file\n";
        let hunks = parse_patch(patch);
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].right, [1, 2]);
        assert_eq!(hunks[0].left, [1, 2]);
        assert!(review_thread_errors(patch, 2, Side::Right, None).is_empty());
        assert!(!review_thread_errors(patch, 3, Side::Right, None).is_empty());
    }

    #[test]
    fn deleted_lines_are_not_commentable_on_the_right() {
        // Lines 10 and 11 of the base are deleted; only line 10 of head remains.
        let patch = "@@ -10,3 +10,1 @@\n-RUN a\n-RUN b\n RUN c";
        assert!(review_thread_errors(patch, 10, Side::Right, None).is_empty());
        assert_eq!(
            review_thread_errors(patch, 11, Side::Right, None),
            [
                "Pull request review thread line must be part of the diff",
                "Pull request review thread diff hunk can't be blank"
            ]
        );
        assert!(review_thread_errors(patch, 11, Side::Left, None).is_empty());
    }

    #[test]
    fn an_empty_line_inside_a_hunk_is_context() {
        let hunks = parse_patch("@@ -1,3 +1,3 @@\n a\n\n-b\n+c");
        assert_eq!(hunks[0].right, [1, 2, 3]);
        // A trailing newline after the last line adds nothing.
        assert_eq!(parse_patch("@@ -1 +1 @@\n-a\n+b\n")[0].right, [1]);
    }

    #[test]
    fn multi_line_comments_stay_in_one_hunk() {
        let patch = "@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -10,1 +11,2 @@\n x\n+y";
        assert!(review_thread_errors(patch, 3, Side::Right, Some((1, Side::Right))).is_empty());
        assert_eq!(
            review_thread_errors(patch, 12, Side::Right, Some((2, Side::Right))),
            ["Pull request review thread start line must be part of the same hunk as the line."]
        );
        assert_eq!(
            review_thread_errors(patch, 2, Side::Right, Some((2, Side::Right))),
            ["Pull request review thread start line must precede the end line."]
        );
        assert_eq!(
            to_sentence(&review_thread_errors(
                patch,
                40,
                Side::Right,
                Some((1, Side::Right))
            )),
            "Pull request review thread line must be part of the diff, Pull request review thread start line must be part of the same hunk as the line., and Pull request review thread diff hunk can't be blank"
        );
        assert!(!review_thread_errors("", 1, Side::Right, None).is_empty());
    }

    #[test]
    fn timestamps_count_from_2024() {
        assert_eq!(timestamp(0), "2024-01-01T00:00:00Z");
        assert_eq!(timestamp(61), "2024-01-01T00:01:01Z");
        assert_eq!(timestamp(86_400 * 60), "2024-03-01T00:00:00Z");
        assert_eq!(timestamp(86_400 * 366), "2025-01-01T00:00:00Z");
    }

    /// One HTTP/1.1 request over a plain socket: (status, headers, body).
    fn http(
        url: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String, String) {
        let address = url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        if let Some(token) = token {
            request.push_str(&format!("Authorization: token {token}\r\n"));
        }
        let body = body.unwrap_or_default();
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase(), body.to_string())
    }

    fn fake_with_pull() -> FakeGitHub {
        let fake = FakeGitHub::start();
        fake.add_token("w", Access::Write, "github-actions[bot]", "Bot");
        fake.add_token("r", Access::ReadOnly, "github-actions[bot]", "Bot");
        fake.add_token("other", Access::Write, "octocat", "User");
        fake.add_pull_request("o/r", 1, "head1", "base1");
        fake
    }

    #[test]
    fn tokens_are_checked() {
        let fake = fake_with_pull();
        let (status, _, body) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("nope"), None);
        assert_eq!(status, 401);
        assert!(body.contains("Bad credentials"));
        assert_eq!(
            http(&fake.url(), "GET", "/repos/o/r/pulls/1", None, None).0,
            401
        );
        let (status, head, body) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("r"), None);
        assert_eq!(status, 200, "{body}");
        assert!(head.contains("x-ratelimit-remaining:"));
        let pull: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(pull["head"]["sha"], "head1");
        assert_eq!(pull["base"]["repo"]["full_name"], "o/r");
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/issues/1/comments",
            Some("r"),
            Some(r#"{"body":"x"}"#),
        );
        assert_eq!(status, 403);
        assert!(body.contains(READ_ONLY_MESSAGE));
        assert_eq!(fake.writes(), 0);
        assert_eq!(
            http(&fake.url(), "GET", "/repos/o/r/pulls/2", Some("w"), None).0,
            404
        );
        assert_eq!(http(&fake.url(), "GET", "/nowhere", Some("w"), None).0, 404);
    }

    #[test]
    fn lists_are_paginated_with_absolute_links() {
        let fake = fake_with_pull();
        for n in 0..35 {
            let body = format!(r#"{{"body":"comment {n}"}}"#);
            assert_eq!(
                http(
                    &fake.url(),
                    "POST",
                    "/repos/o/r/issues/1/comments",
                    Some("w"),
                    Some(&body)
                )
                .0,
                201
            );
        }
        let (status, head, body) = http(
            &fake.url(),
            "GET",
            "/repos/o/r/issues/1/comments",
            Some("w"),
            None,
        );
        assert_eq!(status, 200);
        assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 30);
        let next = format!(
            "<{}/repositories/100/issues/1/comments?page=2>; rel=\"next\"",
            fake.url()
        );
        assert!(head.contains(&next), "{head}");
        let (_, head, body) = http(
            &fake.url(),
            "GET",
            "/repositories/100/issues/1/comments?per_page=30&page=2",
            Some("w"),
            None,
        );
        let page: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(page.len(), 5);
        assert_eq!(page[4]["body"], "comment 34");
        assert!(
            head.contains("rel=\"prev\"") && !head.contains("rel=\"next\""),
            "{head}"
        );
        let (_, head, body) = http(
            &fake.url(),
            "GET",
            "/repos/o/r/issues/1/comments?per_page=100",
            Some("w"),
            None,
        );
        assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 35);
        assert!(!head.contains("link:"));
    }

    #[test]
    fn comments_are_limited_and_only_their_author_edits_them() {
        let fake = fake_with_pull();
        let long = format!(r#"{{"body":"{}"}}"#, "é".repeat(MAX_BODY_CHARS + 1));
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/issues/1/comments",
            Some("w"),
            Some(&long),
        );
        assert_eq!(status, 422);
        assert!(
            body.contains("body is too long (maximum is 65536 characters)"),
            "{body}"
        );
        // Characters count, not bytes: 65,536 two-byte characters are fine.
        let limit = format!(r#"{{"body":"{}"}}"#, "é".repeat(MAX_BODY_CHARS));
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/issues/1/comments",
            Some("w"),
            Some(&limit),
        );
        assert_eq!(status, 201);
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
            .as_u64()
            .unwrap();
        let path = format!("/repos/o/r/issues/comments/{id}");
        assert_eq!(
            http(
                &fake.url(),
                "PATCH",
                &path,
                Some("other"),
                Some(r#"{"body":"mine"}"#)
            )
            .0,
            403
        );
        assert_eq!(
            http(
                &fake.url(),
                "PATCH",
                &path,
                Some("w"),
                Some(r#"{"body":"edited"}"#)
            )
            .0,
            200
        );
        let comments = fake.issue_comments("o/r", 1);
        assert_eq!(comments[0].body, "edited");
        assert!(comments[0].updated > comments[0].created);
        assert_eq!(http(&fake.url(), "DELETE", &path, Some("w"), None).0, 204);
        assert!(fake.issue_comments("o/r", 1).is_empty());
        assert_eq!(fake.writes(), 3);
    }

    #[test]
    fn reviews_need_lines_of_the_diff_and_a_known_commit() {
        let fake = fake_with_pull();
        fake.set_files(
            "o/r",
            1,
            vec![FakeFile {
                filename: "Dockerfile".into(),
                status: "modified".into(),
                patch: Some("@@ -1,2 +1,3 @@\n FROM alpine\n+RUN true\n CMD [\"x\"]".into()),
            }],
        );
        let review = |commit: &str, line: u64| {
            format!(
                r#"{{"commit_id":"{commit}","body":"b","event":"COMMENT","comments":[{{"path":"Dockerfile","line":{line},"side":"RIGHT","body":"c"}}]}}"#
            )
        };
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/pulls/1/reviews",
            Some("w"),
            Some(&review("head1", 9)),
        );
        assert_eq!(status, 422);
        assert!(
            body.contains("Pull request review thread line must be part of the diff"),
            "{body}"
        );
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/pulls/1/reviews",
            Some("w"),
            Some(&review("cafe", 2)),
        );
        assert_eq!(status, 422);
        assert!(body.contains("No commit found for SHA: cafe"), "{body}");
        assert!(fake.reviews("o/r", 1).is_empty());
        fake.set_head_sha("o/r", 1, "head2");
        // An older head of the pull request is still a commit of it.
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/pulls/1/reviews",
            Some("w"),
            Some(&review("head1", 2)),
        );
        assert_eq!(status, 200, "{body}");
        let reviews = fake.reviews("o/r", 1);
        assert_eq!(reviews.len(), 1);
        assert_eq!(reviews[0].state, "COMMENTED");
        assert_eq!(reviews[0].comments[0].line, 2);
        let (_, _, body) = http(
            &fake.url(),
            "GET",
            "/repos/o/r/pulls/1/comments",
            Some("r"),
            None,
        );
        let comments: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(comments[0]["line"], 2);
        assert_eq!(comments[0]["user"]["login"], "github-actions[bot]");
        let (_, _, body) = http(
            &fake.url(),
            "GET",
            "/repos/o/r/pulls/1/files",
            Some("r"),
            None,
        );
        let files: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(files[0]["additions"], 1);
        assert_eq!(files[0]["deletions"], 0);
        assert_eq!(files[0]["changes"], 1);
    }

    #[test]
    fn rate_limits_and_failed_writes_are_answered_on_demand() {
        let fake = fake_with_pull();
        fake.rate_limit_next(1, RateLimit::Primary { reset_in_secs: 5 });
        let (status, head, _) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None);
        assert_eq!(status, 403);
        assert!(head.contains("x-ratelimit-remaining: 0"), "{head}");
        fake.rate_limit_next(
            1,
            RateLimit::Secondary {
                retry_after_secs: 3,
            },
        );
        let (status, head, body) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None);
        assert_eq!(status, 403);
        assert!(head.contains("retry-after: 3"));
        assert!(body.contains("secondary rate limit"));
        fake.rate_limit_next(
            1,
            RateLimit::TooMany {
                retry_after_secs: 2,
            },
        );
        assert_eq!(
            http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None).0,
            429
        );
        assert_eq!(
            http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None).0,
            200
        );

        fake.fail_next_write(502, true);
        assert_eq!(
            http(
                &fake.url(),
                "POST",
                "/repos/o/r/issues/1/comments",
                Some("w"),
                Some(r#"{"body":"a"}"#)
            )
            .0,
            502
        );
        fake.fail_next_write(500, false);
        assert_eq!(
            http(
                &fake.url(),
                "POST",
                "/repos/o/r/issues/1/comments",
                Some("w"),
                Some(r#"{"body":"b"}"#)
            )
            .0,
            500
        );
        assert_eq!(fake.issue_comments("o/r", 1).len(), 1);
        assert_eq!(fake.writes(), 1);
        let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [403, 403, 429, 200, 502, 500]);
    }

    #[test]
    fn payloads_add_pull_requests() {
        let fake = FakeGitHub::start();
        let payload = json!({
            "repository": {"full_name": "Codertocat/Hello-World", "id": 186853002},
            "pull_request": {
                "number": 2, "state": "open", "user": {"login": "Codertocat"},
                "head": {"sha": "ec26", "ref": "changes", "repo": {"full_name": "fork/Hello-World"}},
                "base": {"sha": "f95f", "ref": "master", "repo": {"full_name": "Codertocat/Hello-World"}},
            },
        });
        let pull = fake.add_pull_request_from_payload(&payload);
        assert_eq!(
            pull,
            PullRef {
                repo: "Codertocat/Hello-World".into(),
                number: 2,
                head_sha: "ec26".into(),
                base_sha: "f95f".into()
            }
        );
        fake.add_token("t", Access::Write, "bot", "Bot");
        let (status, _, body) = http(
            &fake.url(),
            "GET",
            "/repos/codertocat/hello-world/pulls/2",
            Some("t"),
            None,
        );
        assert_eq!(status, 200);
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["head"]["repo"]["full_name"], "fork/Hello-World");
        assert_eq!(json["head"]["label"], "fork:changes");
    }

    /// A JWT with these claims, signed (RS256) with the test App's key.
    fn signed_jwt(claims: &Value) -> String {
        use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
        let (_, der) = pem_block(crate::TEST_APP_PRIVATE_KEY).unwrap();
        let key = RsaKeyPair::from_der(&der).unwrap();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn fake_with_app() -> FakeGitHub {
        let fake = fake_with_pull();
        fake.add_app(1, crate::TEST_APP_PUBLIC_KEY);
        fake.add_installation(10, 1, &["o/r"]);
        fake.add_pull_request("o/other", 1, "head1", "base1");
        fake
    }

    fn exchange(fake: &FakeGitHub, installation: u64, jwt: &str) -> (u16, Value) {
        let path = format!("/app/installations/{installation}/access_tokens");
        let (status, _, body) = http(&fake.url(), "POST", &path, Some(jwt), None);
        (status, serde_json::from_str(&body).unwrap())
    }

    #[test]
    fn app_jwts_are_checked_as_github_checks_them() {
        let fake = fake_with_app();
        let now = epoch_seconds() as i64;
        let claims = |iat: i64, exp: i64, iss: Value| json!({"iat": iat, "exp": exp, "iss": iss});
        let message =
            |(status, body): (u16, Value)| (status, body["message"].as_str().unwrap().to_string());
        assert_eq!(
            message(exchange(&fake, 10, &signed_jwt(&claims(now - 60, now - 1, json!(1))))),
            (401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires".to_string())
        );
        assert_eq!(
            message(exchange(
                &fake,
                10,
                &signed_jwt(&claims(now, now + 660, json!(1)))
            )),
            (
                401,
                "'Expiration time' claim ('exp') is too far in the future".to_string()
            )
        );
        assert_eq!(
            message(exchange(&fake, 10, &signed_jwt(&claims(now + 120, now + 300, json!(1))))),
            (401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued".to_string())
        );
        assert_eq!(
            message(exchange(
                &fake,
                10,
                &signed_jwt(&claims(now - 60, now + 540, json!(2)))
            )),
            (404, "Integration not found".to_string())
        );
        assert_eq!(
            message(exchange(&fake, 10, "not.a-jwt")),
            (401, JWT_UNDECODABLE.to_string())
        );
        // A signature over other claims.
        let good = signed_jwt(&claims(now - 60, now + 540, json!(1)));
        let forged_claims =
            URL_SAFE_NO_PAD.encode(claims(now - 60, now + 540, json!(1)).to_string() + " ");
        let parts: Vec<&str> = good.split('.').collect();
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert_eq!(
            message(exchange(&fake, 10, &forged)),
            (401, JWT_UNDECODABLE.to_string())
        );
        assert_eq!(exchange(&fake, 99, &good).0, 404);
        assert_eq!(fake.token_exchanges(), 0);

        // The App id as a string works too.
        let (status, body) = exchange(
            &fake,
            10,
            &signed_jwt(&claims(now - 60, now + 540, json!("1"))),
        );
        assert_eq!(status, 201, "{body}");
        let token = body["token"].as_str().unwrap();
        assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
        assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(fake.token_exchanges(), 1);
        // It reaches the installation's repositories only, as the App's bot.
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/issues/1/comments",
            Some(token),
            Some(r#"{"body":"hi"}"#),
        );
        assert_eq!(status, 201, "{body}");
        assert_eq!(fake.issue_comments("o/r", 1)[0].user_login, APP_BOT_LOGIN);
        assert_eq!(
            http(
                &fake.url(),
                "GET",
                "/repos/o/other/pulls/1",
                Some(token),
                None
            )
            .0,
            404
        );
        // An expired token is bad credentials.
        fake.set_token_ttl(Duration::ZERO);
        let (_, body) = exchange(&fake, 10, &good);
        let expired = body["token"].as_str().unwrap();
        let (status, _, body) = http(
            &fake.url(),
            "GET",
            "/repos/o/r/pulls/1",
            Some(expired),
            None,
        );
        assert_eq!((status, body.contains("Bad credentials")), (401, true));
    }

    #[test]
    fn public_keys_are_read_in_both_forms() {
        let spki = rsa_public_key_der(crate::TEST_APP_PUBLIC_KEY).unwrap();
        let pkcs1 = format!(
            "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
            STANDARD.encode(&spki)
        );
        assert_eq!(rsa_public_key_der(&pkcs1).unwrap(), spki);
        assert!(rsa_public_key_der(crate::TEST_APP_PRIVATE_KEY).is_err());
        assert!(rsa_public_key_der("junk").is_err());
    }

    #[test]
    fn check_runs_follow_githubs_rules() {
        let fake = fake_with_pull();
        let post = |body: &Value| {
            let (status, _, body) = http(
                &fake.url(),
                "POST",
                "/repos/o/r/check-runs",
                Some("w"),
                Some(&body.to_string()),
            );
            (status, serde_json::from_str::<Value>(&body).unwrap())
        };
        let (status, body) = post(&json!({"name": "lc"}));
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (422, "Invalid request.\n\n\"head_sha\" wasn't supplied.")
        );
        let (status, body) = post(&json!({"name": "lc", "head_sha": "nope"}));
        assert_eq!(status, 422);
        assert_eq!(body["errors"][0], "No commit found for SHA: nope");
        let (status, _) = post(&json!({"name": "lc", "head_sha": "head1", "status": "completed"}));
        assert_eq!(status, 422);
        let annotation = json!({"path": "Dockerfile", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"});
        let (status, body) = post(
            &json!({"name": "lc", "head_sha": "head1", "output": {"title": "t", "summary": "s", "annotations": vec![annotation.clone(); 51]}}),
        );
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (
                422,
                "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
            )
        );
        let (status, body) =
            post(&json!({"name": "lc", "head_sha": "head1", "output": {"title": "t"}}));
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (422, "Invalid request.\n\n\"summary\" wasn't supplied.")
        );
        let (status, body) = post(
            &json!({"name": "lc", "head_sha": "head1", "output": {"title": "t", "summary": "s", "annotations": [{"path": "D"}]}}),
        );
        assert_eq!(
            body["message"].as_str().unwrap(),
            "Invalid request.\n\n\"annotation_level\", \"end_line\", \"message\", \"start_line\" weren't supplied.",
            "{status}"
        );
        // Few characters, too many bytes: GitHub's second check.
        let (status, body) = post(
            &json!({"name": "lc", "head_sha": "head1", "output": {"title": "t", "summary": "é".repeat(40_000)}}),
        );
        assert_eq!(status, 422);
        assert_eq!(
            body["errors"][0]["message"],
            "summary exceeds a maximum bytesize of 65535"
        );
        assert!(fake.check_runs("o/r").is_empty());

        let (status, body) = post(
            &json!({"name": "lc", "head_sha": "head1", "status": "in_progress", "output": {"title": "t", "summary": "s", "annotations": vec![annotation.clone(); 50]}}),
        );
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_u64().unwrap();
        let path = format!("/repos/o/r/check-runs/{id}");
        let patch = json!({"conclusion": "success", "output": {"title": "t2", "summary": "s2", "annotations": vec![annotation; 3]}});
        let (status, _, body) = http(
            &fake.url(),
            "PATCH",
            &path,
            Some("w"),
            Some(&patch.to_string()),
        );
        assert_eq!(status, 200, "{body}");
        let shown: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(shown["status"], "completed");
        assert_eq!(shown["output"]["annotations_count"], 53);
        let run = &fake.check_runs("o/r")[0];
        assert_eq!(run.annotation_batches, [50, 3]);
        assert_eq!(run.output_summary.as_deref(), Some("s2"));
        assert_eq!(run.updates, 1);
        assert_eq!(run.user_login, "github-actions[bot]");
        assert_eq!(http(&fake.url(), "GET", &path, Some("r"), None).0, 200);
        assert_eq!(
            http(&fake.url(), "PATCH", &path, Some("r"), Some("{}")).0,
            403
        );
    }

    #[test]
    fn pull_request_lists_filter_by_state_and_installations_list_repositories() {
        let fake = fake_with_app();
        fake.add_pull_request("o/r", 2, "head2", "base1");
        fake.set_pr_state("o/r", 1, "closed");
        let numbers = |query: &str| {
            let (_, _, body) = http(
                &fake.url(),
                "GET",
                &format!("/repos/o/r/pulls{query}"),
                Some("r"),
                None,
            );
            serde_json::from_str::<Vec<Value>>(&body)
                .unwrap()
                .iter()
                .map(|pull| pull["number"].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(numbers(""), [2]);
        assert_eq!(numbers("?state=closed"), [1]);
        assert_eq!(numbers("?state=all"), [2, 1]);

        let names: Vec<String> = (0..3).map(|n| format!("o/repo{n}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        fake.add_installation(11, 1, &names);
        let now = epoch_seconds() as i64;
        let (_, body) = exchange(
            &fake,
            11,
            &signed_jwt(&json!({"iat": now - 60, "exp": now + 540, "iss": 1})),
        );
        let token = body["token"].as_str().unwrap();
        let (status, head, body) = http(
            &fake.url(),
            "GET",
            "/installation/repositories?per_page=2",
            Some(token),
            None,
        );
        assert_eq!(status, 200);
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["total_count"], 3);
        assert_eq!(page["repositories"][1]["full_name"], "o/repo1");
        let next = format!(
            "<{}/installation/repositories?per_page=2&page=2>; rel=\"next\"",
            fake.url()
        );
        assert!(head.contains(&next), "{head}");
        assert_eq!(
            http(
                &fake.url(),
                "GET",
                "/installation/repositories",
                Some("w"),
                None
            )
            .0,
            403
        );
    }
}
