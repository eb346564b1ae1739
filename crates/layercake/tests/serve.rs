//! `layercake serve` end to end: the server as a real process on loopback,
//! signed deliveries of the real payloads (`layercake_testkit::webhook_payload`),
//! the fake GitHub (App tokens, check runs, comments, reviews) over real HTTP, and a local bare git repository
//! as the clone source. Lint-only (`LAYERCAKE_NO_BUILD`), so no Docker.

use layercake_testkit::fake_github::FakeGitHub;
use layercake_testkit::{GitRepo, pull_request_payload, webhook_payload};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REPO: &str = "Codertocat/Hello-World";
const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 1;
const SECRET: &str = "current-secret";
const OLD_SECRET: &str = "rotated-out-secret";
const NEXT_SECRET: &str = "next-secret";

fn sign(secret: &str, body: &[u8]) -> String {
    layercake_app::signature::sign(secret.as_bytes(), body)
}

/// Sends a delivery signed with `secret` to the server at `url`; returns the
/// status and body.
fn deliver_to(
    url: &str,
    event: &str,
    delivery: &str,
    body: &Value,
    secret: Option<&str>,
) -> (u16, Value) {
    let bytes = body.to_string().into_bytes();
    let mut request = ureq::post(&format!("{url}/webhook"))
        .set("X-GitHub-Event", event)
        .set("X-GitHub-Delivery", delivery)
        .set("Content-Type", "application/json");
    if let Some(secret) = secret {
        request = request.set("X-Hub-Signature-256", &sign(secret, &bytes));
    }
    match request.send_bytes(&bytes) {
        Ok(response) => (
            response.status(),
            response.into_json().unwrap_or(Value::Null),
        ),
        Err(ureq::Error::Status(status, response)) => {
            (status, response.into_json().unwrap_or(Value::Null))
        }
        Err(error) => panic!("delivery failed: {error}"),
    }
}

/// A pull request in a bare repository, the fake GitHub that knows it and
/// the App, and a server process (restartable) on a database in a temp dir.
struct World {
    fake: FakeGitHub,
    dir: tempfile::TempDir,
    bare: PathBuf,
    payload: Value,
    server: Option<Server>,
    number: u64,
    /// The pull request's repository (the fake lists its Dockerfile's patch).
    repo: GitRepo,
}

struct Server {
    child: Child,
    url: String,
    /// What it printed on stderr so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl World {
    fn new() -> World {
        World::with_dockerfiles(
            "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\nCMD [\"node\", \"i.js\"]\n",
            "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"i.js\"]\n",
        )
    }

    /// A pull request that changes the Dockerfile from `base` to `head`.
    fn with_dockerfiles(base_dockerfile: &str, head_dockerfile: &str) -> World {
        let repo = GitRepo::new();
        repo.write("Dockerfile", base_dockerfile);
        let base = repo.commit("base");
        repo.checkout_new_branch("pr");
        repo.write("Dockerfile", head_dockerfile);
        let head = repo.commit("pr");

        let dir = tempfile::tempdir().expect("tempdir");
        let bare = repo.bare_clone(dir.path(), REPO);
        let payload = pull_request_payload("opened", &base, &head, &bare, INSTALLATION);

        let fake = FakeGitHub::start();
        fake.add_app(APP_ID, layercake_testkit::TEST_APP_PUBLIC_KEY);
        fake.add_installation(INSTALLATION, APP_ID, &[REPO]);
        fake.add_pull_request_from_payload(&payload);
        let number = payload["pull_request"]["number"].as_u64().expect("number");
        fake.set_files_from_git(&payload, &repo, &["Dockerfile"]);
        std::fs::write(
            dir.path().join("app.pem"),
            layercake_testkit::TEST_APP_PRIVATE_KEY,
        )
        .expect("key");
        World {
            fake,
            dir,
            bare,
            payload,
            server: None,
            number,
            repo,
        }
    }

    /// Starts the server; waits for its "listening on" line.
    fn start(&mut self, extra: &[(&str, &str)]) {
        self.server = Some(self.spawn(extra));
    }

    /// Starts a server process of the world's (one of several replicas, or
    /// the one [`World::start`] keeps).
    fn spawn(&self, extra: &[(&str, &str)]) -> Server {
        let tmp = self.dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("the servers' TMPDIR");
        let mut command = Command::new(env!("CARGO_BIN_EXE_layercake"));
        command
            .arg("serve")
            .env("LAYERCAKE_LISTEN", "127.0.0.1:0")
            .env(
                "LAYERCAKE_WEBHOOK_SECRET",
                format!("{SECRET},{NEXT_SECRET}"),
            )
            .env("LAYERCAKE_APP_ID", APP_ID.to_string())
            .env(
                "LAYERCAKE_PRIVATE_KEY_PATH",
                self.dir.path().join("app.pem"),
            )
            .env("LAYERCAKE_DATABASE", self.dir.path().join("jobs.db"))
            .env("GITHUB_API_URL", self.fake.url())
            .env("LAYERCAKE_NO_BUILD", "true")
            .env("LAYERCAKE_LEASE_SECONDS", "2")
            .env("LAYERCAKE_RECONCILE_SECONDS", "0")
            .env("LAYERCAKE_CLONE_URL", self.dir.path().join("{repo}.git"))
            // Its own: a starting server removes the job workspaces in TMPDIR
            // that its database does not lease, and other tests' servers,
            // on other databases, run jobs with the same IDs.
            .env("TMPDIR", &tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start layercake serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut before = Vec::new();
        let url = loop {
            let line = lines
                .next()
                .expect("the server said where it listens")
                .expect("stderr line");
            eprintln!("server: {line}");
            let listening = line
                .strip_prefix("layercake: listening on ")
                .map(|rest| rest.split_whitespace().next().expect("url").to_string());
            before.push(line);
            if let Some(url) = listening {
                break url;
            }
        };
        // Keep draining stderr (shown when a test fails, and kept for the
        // test to read) so the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(before));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("server: {line}");
                kept.lock().expect("log").push(line);
            }
        });
        Server { child, url, log }
    }

    fn url(&self) -> &str {
        &self.server.as_ref().expect("started").url
    }

    /// Sends a delivery signed with `secret`; returns the status and body.
    fn deliver(
        &self,
        event: &str,
        delivery: &str,
        body: &Value,
        secret: Option<&str>,
    ) -> (u16, Value) {
        deliver_to(self.url(), event, delivery, body, secret)
    }

    /// The world's pull request and `more` others of the same head and base
    /// (numbers after its own), each known to the fake: `(number, payload of
    /// its "opened" delivery)`.
    fn pull_requests(&self, more: u64) -> Vec<(u64, Value)> {
        let mut pulls = vec![(self.number, self.payload.clone())];
        for number in self.number + 1..=self.number + more {
            let mut payload = self.payload.clone();
            payload["number"] = Value::from(number);
            payload["pull_request"]["number"] = Value::from(number);
            self.fake.add_pull_request_from_payload(&payload);
            self.fake
                .set_files_from_git(&payload, &self.repo, &["Dockerfile"]);
            pulls.push((number, payload));
        }
        pulls
    }

    fn comments(&self) -> usize {
        self.fake.issue_comments(REPO, self.number).len()
    }

    fn wait_for(&self, what: &str, check: impl Fn(&World) -> bool) {
        let started = Instant::now();
        while !check(self) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a check run of the repository is completed: a job ran to its end.
    fn wait_for_completed_check_run(&self, what: &str) {
        self.wait_for(what, |w| {
            w.fake
                .check_runs(REPO)
                .iter()
                .any(|c| c.status == "completed")
        });
    }

    /// Waits until the server has a job running (claimed from the queue).
    fn wait_for_a_running_job(&self) {
        self.wait_for("a job to run", |w| {
            metric(&w.metrics(), "layercake_queue_depth{state=\"running\"}") == 1
        });
    }

    /// What the running server printed on stderr so far.
    fn log(&self) -> Vec<String> {
        let server = self.server.as_ref().expect("started");
        server.log.lock().expect("log").clone()
    }

    fn metrics(&self) -> String {
        metrics_of(self.url())
    }
}

/// `GET /metrics` of the server at `url`.
fn metrics_of(url: &str) -> String {
    ureq::get(&format!("{url}/metrics"))
        .call()
        .expect("metrics")
        .into_string()
        .expect("text")
}

fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn a_signed_delivery_ends_in_one_comment_one_review_and_a_check_run() {
    let mut world = World::new();
    world.start(&[]);
    let (status, body) = world.deliver("pull_request", "d-1", &world.payload.clone(), Some(SECRET));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["result"], "enqueued");
    world.wait_for_completed_check_run("the check run to complete");
    assert_eq!(world.comments(), 1);
    let runs = world.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].conclusion.as_deref(),
        Some("failure"),
        "a new warning fails the check"
    );
    assert!(runs[0].annotations.iter().any(|a| a.path == "Dockerfile"));
    assert_eq!(world.fake.reviews(REPO, world.number).len(), 1);
    let metrics = world.metrics();
    assert_eq!(
        metric(&metrics, "layercake_jobs_total{outcome=\"succeeded\"}"),
        1,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "layercake_queue_depth{state=\"queued\"}"),
        0
    );
}

#[test]
fn forged_missing_and_rotated_out_signatures_are_refused() {
    let mut world = World::new();
    world.start(&[]);
    let payload = world.payload.clone();
    assert_eq!(
        world
            .deliver("pull_request", "f-1", &payload, Some("not-the-secret"))
            .0,
        401
    );
    assert_eq!(world.deliver("pull_request", "f-2", &payload, None).0, 401);
    assert_eq!(
        world
            .deliver("pull_request", "f-3", &payload, Some(OLD_SECRET))
            .0,
        401
    );
    // A body changed after signing.
    let bytes = payload.to_string();
    let signature = sign(SECRET, bytes.as_bytes());
    let tampered = ureq::post(&format!("{}/webhook", world.url()))
        .set("X-GitHub-Event", "pull_request")
        .set("X-GitHub-Delivery", "f-4")
        .set("X-Hub-Signature-256", &signature)
        .send_string(&bytes.replace("opened", "closed"));
    assert!(matches!(tampered, Err(ureq::Error::Status(401, _))));
    // The next secret of a rotation is already accepted.
    assert_eq!(
        world
            .deliver(
                "ping",
                "f-5",
                &webhook_payload("ping/payload.json"),
                Some(NEXT_SECRET)
            )
            .0,
        202
    );
    let metrics = world.metrics();
    assert_eq!(
        metric(&metrics, "layercake_deliveries_total{result=\"rejected\"}"),
        4,
        "{metrics}"
    );
    assert_eq!(world.fake.check_runs(REPO).len(), 0);
}

#[test]
fn a_redelivery_is_one_job_and_bad_input_is_never_a_500() {
    let mut world = World::new();
    world.start(&[]);
    let payload = world.payload.clone();
    assert_eq!(
        world
            .deliver("pull_request", "r-1", &payload, Some(SECRET))
            .1["result"],
        "enqueued"
    );
    assert_eq!(
        world
            .deliver("pull_request", "r-1", &payload, Some(SECRET))
            .1["result"],
        "duplicate"
    );
    // Another delivery of the same head coalesces into the same job.
    assert_eq!(
        world
            .deliver("pull_request", "r-2", &payload, Some(SECRET))
            .1["result"],
        "coalesced"
    );
    // Unknown events and actions are acknowledged and ignored; garbage is a 400.
    assert_eq!(
        world
            .deliver(
                "star",
                "r-3",
                &serde_json::json!({"action": "created"}),
                Some(SECRET)
            )
            .0,
        202
    );
    assert_eq!(
        world
            .deliver(
                "pull_request",
                "r-4",
                &webhook_payload("pull_request/labeled.payload.json"),
                Some(SECRET)
            )
            .1["result"],
        "ignored"
    );
    assert_eq!(
        world
            .deliver(
                "pull_request",
                "r-5",
                &Value::from("not an object"),
                Some(SECRET)
            )
            .0,
        400
    );
    world.wait_for_completed_check_run("the job");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(world.fake.check_runs(REPO).len(), 1, "one job");
    assert_eq!(world.comments(), 1);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            ureq::get(&format!("{}{path}", world.url()))
                .call()
                .expect(path)
                .status(),
            200
        );
    }
}

#[test]
fn kill_9_mid_job_then_restart_ends_with_one_comment() {
    let mut world = World::new();
    world.start(&[]);
    // The job's last write, completing the check run, is held: the comment
    // and the review are posted, and then the server is killed.
    world
        .fake
        .delay_matching("PATCH", "/check-runs/", Duration::from_secs(5));
    assert_eq!(
        world
            .deliver("pull_request", "k-1", &world.payload.clone(), Some(SECRET))
            .0,
        202
    );
    world.wait_for("the comment and the review", |w| {
        w.comments() == 1 && !w.fake.reviews(REPO, w.number).is_empty()
    });
    std::thread::sleep(Duration::from_millis(300));
    if let Some(mut server) = world.server.take() {
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
    }
    assert!(
        world
            .fake
            .check_runs(REPO)
            .iter()
            .all(|c| c.status != "completed"),
        "the job was still running when killed"
    );
    world.start(&[]);
    // The lease (2 s) runs out, the job runs again and finds its comment.
    world.wait_for_completed_check_run("the re-run to complete");
    assert_eq!(world.comments(), 1, "still one summary comment");
    let runs = world.fake.check_runs(REPO);
    assert_eq!(
        runs.len(),
        1,
        "the re-run completed the first attempt's check run: {runs:#?}"
    );
    let inline: usize = world
        .fake
        .reviews(REPO, world.number)
        .iter()
        .map(|r| r.comments.len())
        .sum();
    let first: usize = world.fake.reviews(REPO, world.number)[0].comments.len();
    assert_eq!(inline, first, "no inline comment posted twice");
}

#[test]
fn a_burst_of_concurrent_deliveries_loses_none() {
    let mut world = World::new();
    world.start(&[]);
    let ping = webhook_payload("ping/payload.json");
    let sent = 400;
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (world, ping) = (&world, &ping);
                s.spawn(move || {
                    (0..sent / 8)
                        .map(|i| {
                            world
                                .deliver("ping", &format!("burst-{t}-{i}"), ping, Some(SECRET))
                                .0
                        })
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect()
    });
    assert_eq!(statuses.len(), sent);
    assert!(statuses.iter().all(|&s| s == 202), "{statuses:?}");
    let metrics = world.metrics();
    assert_eq!(
        metric(&metrics, "layercake_deliveries_total{result=\"ignored\"}"),
        sent as u64,
        "{metrics}"
    );
    // Every one was recorded: redelivering any of them is recognised.
    assert_eq!(
        world.deliver("ping", "burst-3-7", &ping, Some(SECRET)).1["result"],
        "duplicate"
    );
}

#[test]
fn the_reconciler_reviews_a_pull_request_whose_delivery_never_came() {
    let mut world = World::new();
    world.start(&[("LAYERCAKE_RECONCILE_SECONDS", "1")]);
    // Only the installation is delivered; the pull request's delivery is lost.
    let mut installation = webhook_payload("installation/created.payload.json");
    installation["installation"]["id"] = Value::from(INSTALLATION);
    // A repository GitHub no longer has comes first in the reconciler's
    // order: it answers 404, and the pass carries on to the next one.
    let repositories = installation["repositories"]
        .as_array_mut()
        .expect("repositories");
    repositories.insert(
        0,
        serde_json::json!({"id": 1, "name": "gone", "full_name": "Aaa/gone", "private": false}),
    );
    assert_eq!(
        world
            .deliver("installation", "i-1", &installation, Some(SECRET))
            .0,
        202
    );
    world.wait_for_completed_check_run("the reconciled review");
    assert_eq!(world.comments(), 1);
    let metrics = world.metrics();
    assert!(
        metric(&metrics, "layercake_reconcile_failures_total") >= 1,
        "{metrics}"
    );
    let log = world.log();
    assert!(
        log.iter()
            .any(|line| line.contains("reconciling Aaa/gone") && line.contains("404")),
        "{log:#?}"
    );
}

#[test]
fn a_server_starting_removes_the_workspaces_killed_jobs_left() {
    let mut world = World::new();
    let tmp = world.dir.path().join("tmp");
    // A clone of job 7, whose server was killed mid-review: the new
    // database has no job 7 leased. And directories that are no job's of
    // this database: another program's, and job 7 of another database.
    let database = std::fs::canonicalize(world.dir.path())
        .expect("the world's directory")
        .join("jobs.db");
    let scope = layercake_app::leftovers::Scope::of_database(&database.display().to_string());
    let leftover = tmp.join(format!("{}a1B2c3", scope.workspace_of(7)));
    std::fs::create_dir_all(leftover.join("clone/.git")).expect("leftover");
    std::fs::create_dir_all(tmp.join("unrelated")).expect("unrelated");
    let other = layercake_app::leftovers::Scope::of_database("/elsewhere/jobs.db");
    let others = tmp.join(format!("{}a1B2c3", other.workspace_of(7)));
    std::fs::create_dir_all(&others).expect("another database's");
    let tmp_env = tmp.display().to_string();
    world.start(&[("TMPDIR", tmp_env.as_str())]);
    assert!(
        !leftover.exists(),
        "the leftover workspace is removed at start"
    );
    assert!(tmp.join("unrelated").exists());
    assert!(
        others.exists(),
        "another database's job is not this server's"
    );
    let metrics = world.metrics();
    assert_eq!(
        metric(
            &metrics,
            "layercake_leftovers_removed_total{kind=\"workspace\"}"
        ),
        1,
        "{metrics}"
    );

    // The server's own jobs work in the same TMPDIR and leave nothing.
    assert_eq!(
        world
            .deliver("pull_request", "t-1", &world.payload.clone(), Some(SECRET))
            .0,
        202
    );
    world.wait_for_completed_check_run("the review");
    let mut left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .collect();
    left.sort();
    let mut want = vec![tmp.join("unrelated"), others.clone()];
    want.sort();
    assert_eq!(left, want);
}

#[test]
fn a_fork_is_reviewed_lint_only_and_says_so() {
    let mut world = World::new();
    world.payload["pull_request"]["head"]["repo"]["full_name"] = Value::from("someone/fork");
    // As on GitHub, a fork's head is in the base repository only as
    // `refs/pull/N/head`; cloned over a transport (file://, not a local
    // copy of every object), the clone does not have it until the job
    // fetches it (by SHA, which that ref makes reachable).
    let head = world.payload["pull_request"]["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_string();
    let bare = world.bare.to_str().expect("utf-8").to_string();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .arg("-C")
            .arg(&bare)
            .args(args)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&[
        "update-ref",
        &format!("refs/pull/{}/head", world.number),
        &head,
    ]);
    git(&["update-ref", "-d", "refs/heads/pr"]);
    let clone_url = Value::from(format!("file://{bare}"));
    world.payload["repository"]["clone_url"] = clone_url.clone();
    world.payload["pull_request"]["base"]["repo"]["clone_url"] = clone_url;
    world
        .fake
        .add_pull_request_from_payload(&world.payload.clone());
    world.start(&[
        ("LAYERCAKE_NO_BUILD", "false"),
        ("LAYERCAKE_FORK_BUILDS", "label:safe-to-build"),
    ]);
    assert_eq!(
        world
            .deliver(
                "pull_request",
                "fork-1",
                &world.payload.clone(),
                Some(SECRET)
            )
            .0,
        202
    );
    world.wait_for("the comment", |w| w.comments() == 1);
    let body = &world.fake.issue_comments(REPO, world.number)[0].body;
    assert!(body.contains("comes from a fork"), "{body}");
    assert!(body.contains("safe-to-build"), "{body}");
    // The head was fetched and linted: its new finding is there.
    assert!(body.contains("LC201"), "{body}");
}

#[test]
fn sigterm_requeues_the_job_in_flight_that_outlasts_the_grace_period() {
    let mut world = World::new();
    world.start(&[("LAYERCAKE_SHUTDOWN_GRACE_SECONDS", "1")]);
    // The job is held on its first read of the pull request, longer than the
    // grace period: it cannot finish before the server must stop.
    world
        .fake
        .delay_matching("GET", "/pulls/", Duration::from_secs(4));
    let (status, reply) =
        world.deliver("pull_request", "t-1", &world.payload.clone(), Some(SECRET));
    assert_eq!((status, &reply["result"]), (202, &Value::from("enqueued")));
    let job = reply["jobs"][0].as_i64().expect("the job's id");
    world.wait_for_a_running_job();
    let mut server = world.server.take().expect("started");
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "a graceful shutdown exits 0: {exit:?}");
    let said = |log: &Arc<Mutex<Vec<String>>>, line: &str| {
        log.lock().expect("log").iter().any(|l| l == line)
    };
    // The drain thread may still be reading the last lines after the exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    let requeued = format!("layercake: job {job} did not finish in time; it is queued again");
    while !said(&server.log, &requeued) {
        assert!(
            Instant::now() < deadline,
            "the server did not say {requeued:?}: {:#?}",
            server.log.lock().expect("log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    assert!(
        world.fake.check_runs(REPO).is_empty(),
        "the job did not get far"
    );
    assert_eq!(world.comments(), 0);
    // Released, not left running: the next server finds it queued (nothing
    // to requeue at startup, no lease to wait out) and runs it.
    world.start(&[]);
    world.wait_for_completed_check_run("the re-queued job");
    assert_eq!(world.comments(), 1);
    let log = &world.server.as_ref().expect("started").log;
    assert!(
        !log.lock()
            .expect("log")
            .iter()
            .any(|l| l.contains("unfinished job(s) from before")),
        "{:#?}",
        log.lock().expect("log")
    );
}

#[test]
fn closing_a_pull_request_cancels_its_running_job() {
    let mut world = World::new();
    world.start(&[("LAYERCAKE_WORKERS", "1")]);
    // Hold the job on its first read of the pull request, so it is running
    // (with a heartbeat) when the pull request is closed.
    world
        .fake
        .delay_matching("GET", "/pulls/", Duration::from_secs(3));
    let payload = world.payload.clone();
    assert_eq!(
        world
            .deliver("pull_request", "c-1", &payload, Some(SECRET))
            .1["result"],
        "enqueued"
    );
    world.wait_for_a_running_job();
    let mut closed = payload.clone();
    closed["action"] = Value::from("closed");
    assert_eq!(
        world
            .deliver("pull_request", "c-2", &closed, Some(SECRET))
            .1["result"],
        "cancelled"
    );
    // The job's last write: completing its check run. (Its lease, no longer
    // extended once the cancel is asked for, may run out first, so the
    // queue can count it cancelled before then.)
    world.wait_for_completed_check_run("the cancelled job's check run");
    let metrics = world.metrics();
    assert_eq!(
        metric(&metrics, "layercake_queue_depth{state=\"running\"}"),
        0
    );
    assert_eq!(
        metric(&metrics, "layercake_queue_depth{state=\"queued\"}"),
        0
    );
    assert_eq!(
        metric(&metrics, "layercake_jobs_total{outcome=\"cancelled\"}"),
        1,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "layercake_jobs_total{outcome=\"succeeded\"}"),
        0,
        "{metrics}"
    );
    // Its check run says so; nothing was posted on the pull request.
    let runs = world.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].status, "completed", "{runs:#?}");
    assert_eq!(
        runs[0].conclusion.as_deref(),
        Some("cancelled"),
        "{runs:#?}"
    );
    assert_eq!(runs[0].output_title.as_deref(), Some("Superseded"));
    assert_eq!(world.comments(), 0);
    assert!(world.fake.reviews(REPO, world.number).is_empty());
}

#[test]
fn every_flag_is_in_the_docs() {
    let help = Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["serve", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/serve.md"))
            .expect("docs/serve.md");
    let flags: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.trim_end_matches([',', '.']))
        .filter(|w| *w != "--help")
        .collect();
    assert!(flags.len() >= 15, "{help}");
    for flag in flags {
        assert!(
            docs.contains(&format!("| `{flag}` |")),
            "{flag} is not in docs/serve.md"
        );
    }
}

/// The jobs of a PostgreSQL job database, read the way the server reads them.
fn jobs_in(database: &layercake_testkit::TestDatabase, ids: &[i64]) -> Vec<layercake_queue::Job> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        use layercake_queue::JobQueue as _;
        let queue = layercake_queue::PostgresQueue::connect(database.url())
            .await
            .expect("connect");
        let mut jobs = Vec::new();
        for &id in ids {
            jobs.push(queue.job(id).await.expect("read").expect("the job"));
        }
        jobs
    })
}

/// Two replicas on one PostgreSQL database, deliveries spread over both: a
/// pull request's `synchronize` before its `opened` (both for its head), and
/// each delivery again to the other replica. Each pull request is one job,
/// run once: one summary comment, one completed check run; and the replicas'
/// counters add up to the whole.
#[test]
fn two_replicas_on_postgresql_review_each_pull_request_once() {
    let Some(database) = layercake_testkit::postgres_or_skip() else {
        return;
    };
    let world = World::new();
    let pulls = world.pull_requests(2);
    let on_postgres = [("LAYERCAKE_DATABASE", database.url())];
    // Started together, they migrate the new database once between them.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| world.spawn(&on_postgres));
        let b = scope.spawn(|| world.spawn(&on_postgres));
        (a.join().expect("replica a"), b.join().expect("replica b"))
    });
    // Each job is held at its first read of its pull request until every
    // delivery is in: what the deliveries say, not how fast the jobs run,
    // decides what becomes of them.
    world
        .fake
        .delay_matching_times("GET", "/pulls/", Duration::from_secs(2), pulls.len() as u32);
    let mut jobs = Vec::new();
    for (number, opened) in &pulls {
        let mut synchronize = opened.clone();
        synchronize["action"] = Value::from("synchronize");
        let (open, sync) = (format!("open-{number}"), format!("sync-{number}"));
        let replies = [
            deliver_to(&b.url, "pull_request", &sync, &synchronize, Some(SECRET)),
            deliver_to(&a.url, "pull_request", &open, opened, Some(SECRET)),
            deliver_to(&b.url, "pull_request", &open, opened, Some(SECRET)),
            deliver_to(&a.url, "pull_request", &sync, &synchronize, Some(SECRET)),
        ];
        let results: Vec<(u16, &str)> = replies
            .iter()
            .map(|(status, body)| (*status, body["result"].as_str().unwrap_or("?")))
            .collect();
        assert_eq!(
            results,
            [
                (202, "enqueued"),
                (202, "coalesced"),
                (202, "duplicate"),
                (202, "duplicate")
            ],
            "PR {number}: {replies:?}"
        );
        let named: std::collections::BTreeSet<i64> = replies
            .iter()
            .flat_map(|(_, body)| body["jobs"].as_array().cloned().unwrap_or_default())
            .filter_map(|job| job.as_i64())
            .collect();
        assert_eq!(named.len(), 1, "PR {number}: {replies:?}");
        jobs.extend(named);
    }

    world.wait_for("every pull request's check run to complete", |w| {
        let runs = w.fake.check_runs(REPO);
        runs.len() >= pulls.len() && runs.iter().all(|run| run.status == "completed")
    });
    let runs = world.fake.check_runs(REPO);
    let mut run_jobs: Vec<i64> = runs
        .iter()
        .filter_map(|run| run.external_id.as_deref()?.parse().ok())
        .collect();
    run_jobs.sort_unstable();
    assert_eq!(run_jobs, jobs, "one check run per job: {runs:#?}");
    for (number, _) in &pulls {
        assert_eq!(
            world.fake.issue_comments(REPO, *number).len(),
            1,
            "PR {number}"
        );
    }
    for job in jobs_in(&database, &jobs) {
        assert_eq!(
            (job.state, job.attempts),
            (layercake_queue::JobState::Succeeded, 1),
            "{job:?}"
        );
    }
    // Gauges are the database's; counters each replica's own, summed.
    let metrics = [metrics_of(&a.url), metrics_of(&b.url)];
    let total = |name: &str| metrics.iter().map(|m| metric(m, name)).sum::<u64>();
    assert_eq!(
        total("layercake_jobs_total{outcome=\"succeeded\"}"),
        pulls.len() as u64,
        "{metrics:#?}"
    );
    assert_eq!(
        total("layercake_deliveries_total{result=\"duplicate\"}"),
        2 * pulls.len() as u64
    );
    for metrics in &metrics {
        assert_eq!(
            metric(metrics, "layercake_queue_depth{state=\"queued\"}"),
            0
        );
        assert!(
            metrics.contains("(by this replica since it started)"),
            "{metrics}"
        );
    }
}

/// `kill -9` of the replica that holds a job mid-run: the other replica,
/// started meanwhile, leaves the job alone while its lease is kept, and
/// takes it over once the lease (2 s) runs out; the pull request still ends
/// with one comment and one completed check run.
#[test]
fn a_replica_killed_mid_job_leaves_it_to_the_other_after_the_lease() {
    let Some(database) = layercake_testkit::postgres_or_skip() else {
        return;
    };
    let mut world = World::new();
    let on_postgres = [
        ("LAYERCAKE_DATABASE", database.url()),
        ("LAYERCAKE_WORKERS", "1"),
    ];
    world.start(&on_postgres);
    // The job's last write, completing its check run, is held: the comment
    // and the review are posted, and the job is still running.
    world
        .fake
        .delay_matching("PATCH", "/check-runs/", Duration::from_secs(10));
    let (status, reply) =
        world.deliver("pull_request", "k-1", &world.payload.clone(), Some(SECRET));
    assert_eq!((status, &reply["result"]), (202, &Value::from("enqueued")));
    let job = reply["jobs"][0].as_i64().expect("the job's id");
    world.wait_for("the comment and the review", |w| {
        w.comments() == 1 && !w.fake.reviews(REPO, w.number).is_empty()
    });

    // The other replica starts while the job runs, and waits more than a
    // lease: the job's heartbeat keeps it, so neither its startup nor its
    // maintenance takes it away.
    let other = world.spawn(&on_postgres);
    std::thread::sleep(Duration::from_secs(3));
    let held = &jobs_in(&database, &[job])[0];
    assert_eq!(
        (held.state, held.attempts),
        (layercake_queue::JobState::Running, 1),
        "{held:?}"
    );
    assert!(
        world
            .fake
            .check_runs(REPO)
            .iter()
            .all(|run| run.status != "completed"),
        "the first replica's job is still held"
    );

    let mut first = world.server.take().expect("started");
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    world.wait_for_completed_check_run("the other replica to finish the job");
    assert_eq!(world.comments(), 1, "still one summary comment");
    let runs = world.fake.check_runs(REPO);
    assert_eq!(
        runs.len(),
        1,
        "the first attempt's check run, completed: {runs:#?}"
    );
    let taken_over = &jobs_in(&database, &[job])[0];
    assert_eq!(
        (taken_over.state, taken_over.attempts),
        (layercake_queue::JobState::Succeeded, 2),
        "{taken_over:?}"
    );
    assert!(
        taken_over
            .worker
            .as_deref()
            .is_some_and(|worker| worker.contains(&format!("-{}-", other.child.id()))),
        "{taken_over:?}"
    );
    let log = other.log.lock().expect("log");
    assert!(
        !log.iter().any(|line| line.contains("queued again")),
        "{log:#?}"
    );
}

#[test]
fn a_builder_stopped_mid_build_leaves_the_pool_and_its_job_completes_on_another() {
    let Some(docker) = layercake_testkit::docker_or_skip() else {
        return;
    };
    let Some(mut second) = layercake_testkit::second_engine::second_engine_or_skip() else {
        return;
    };
    let base_image = layercake_testkit::busybox_base(&docker);
    let second_docker = second.docker().expect("the second engine");
    assert_eq!(layercake_testkit::busybox_base(&second_docker), base_image);
    // Slow steps, so that the second engine can be stopped mid-build.
    let dockerfile = |marker: &str| {
        format!("FROM {base_image}\nRUN sleep 4 && echo {marker} > /marker\nCMD [\"sh\"]\n")
    };
    let mut world = World::with_dockerfiles(&dockerfile("base"), &dockerfile("head"));
    let first = "unix:///var/run/docker.sock";
    let pool = format!("docker={}@1,docker={first}@1", second.host);
    world.start(&[
        ("LAYERCAKE_NO_BUILD", "false"),
        ("LAYERCAKE_BUILD_ON", pool.as_str()),
        ("LAYERCAKE_NO_IMAGE_CACHE", "true"),
    ]);
    let label = |host: &str| format!("builder=\"docker={host}\"");
    assert_eq!(
        world
            .deliver("pull_request", "b-1", &world.payload.clone(), Some(SECRET))
            .0,
        202
    );
    // The job takes the first builder of the pool, the second engine.
    world.wait_for("a build on the second engine", |w| {
        metric(
            &w.metrics(),
            &format!("layercake_builder_jobs{{{}}}", label(&second.host)),
        ) == 1
    });
    std::thread::sleep(Duration::from_secs(2));
    second.stop();

    // Out of the pool; the job is put off, not failed, and built on the other.
    world.wait_for_completed_check_run("the review, built on the first engine");
    let metrics = world.metrics();
    assert_eq!(
        metric(
            &metrics,
            &format!("layercake_builder_up{{{}}}", label(&second.host))
        ),
        0,
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            &format!("layercake_builder_down_total{{{}}}", label(&second.host))
        ),
        1,
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            &format!("layercake_builder_jobs_started_total{{{}}}", label(first))
        ),
        1,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "layercake_jobs_total{outcome=\"failed\"}"),
        0,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "layercake_job_deferrals_total"),
        1,
        "{metrics}"
    );
    let runs = world.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("success"), "{runs:#?}");
    let comments = world.fake.issue_comments(REPO, world.number);
    assert_eq!(comments.len(), 1);
    assert!(
        !comments[0].body.contains("images were not built"),
        "both sides were built: {}",
        comments[0].body
    );

    // Answering again, it is back in the pool.
    second.restart().expect("the second engine again");
    world.wait_for("the second engine back in the pool", |w| {
        metric(
            &w.metrics(),
            &format!("layercake_builder_up{{{}}}", label(&second.host)),
        ) == 1
    });
}
