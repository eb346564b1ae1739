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
//!
//! Laid out as GitHub's REST API is: `routing` (authentication, failures on
//! demand, dispatch by method and path, pagination), `auth` (tokens, the App's
//! JWT, installation tokens), `pulls` (pull requests, their files and
//! patches), `comments` (issue comments and reviews), `checks` (check runs)
//! and `rate_limits`; here are the state and the API tests drive the fake with.

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

mod auth;
mod checks;
mod comments;
mod pulls;
mod rate_limits;
mod routing;
#[cfg(test)]
mod tests;

pub use auth::Access;
pub use checks::{FakeAnnotation, FakeCheckRun};
pub use comments::{FakeComment, FakeReview, FakeReviewComment};
pub use pulls::{FakeFile, PullRef};
pub use rate_limits::RateLimit;

use auth::*;
use checks::*;
use comments::*;
use pulls::*;
use rate_limits::*;
use routing::*;

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

    /// Tells the pull request of a `pull_request` delivery `payload` its
    /// files `paths` as git sees them between the payload's base and head in
    /// `repo`: each one's status (`added`, `modified`, `removed`) and patch.
    ///
    /// # Panics
    ///
    /// When the payload lacks its repository, number or SHAs, a path did not
    /// change, or the pull request is unknown.
    pub fn set_files_from_git(&self, payload: &Value, repo: &crate::GitRepo, paths: &[&str]) {
        let text = |pointer: &str| {
            payload
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("the payload has no string at {pointer}"))
                .to_string()
        };
        let (base, head) = (
            text("/pull_request/base/sha"),
            text("/pull_request/head/sha"),
        );
        let number = payload
            .pointer("/pull_request/number")
            .and_then(Value::as_u64)
            .expect("the payload has pull_request.number");
        let files = paths
            .iter()
            .map(|path| {
                let change = repo.git(&["diff", "--name-status", &base, &head, "--", path]);
                let status = match change.chars().next() {
                    Some('A') => "added",
                    Some('D') => "removed",
                    Some(_) => "modified",
                    None => panic!("{path} did not change between {base} and {head}"),
                };
                FakeFile {
                    filename: (*path).to_string(),
                    status: status.to_string(),
                    patch: Some(repo.patch(&base, &head, path)),
                }
            })
            .collect();
        self.set_files(&text("/repository/full_name"), number, files);
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
        self.delay_matching_times(method, path_fragment, delay, 1);
    }

    /// [`FakeGitHub::delay_matching`] for the first `times` such requests:
    /// several jobs, each caught at the same step.
    pub fn delay_matching_times(
        &self,
        method: &str,
        path_fragment: &str,
        delay: Duration,
        times: u32,
    ) {
        self.state().delay_matching =
            (times > 0).then(|| (method.to_string(), path_fragment.to_string(), delay, times));
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
    /// Method, path fragment, delay, and how many more requests to hold.
    delay_matching: Option<(String, String, Duration, u32)>,
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
