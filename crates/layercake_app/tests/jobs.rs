//! The App's jobs as a library, in-process: deliveries recorded with
//! `intake::record`, each job claimed from an in-memory store and run with
//! `jobs::run_job`, against the fake GitHub over real HTTP (App JWT,
//! installation tokens, pull request, comments, reviews, check runs) and a
//! local bare git repository as the clone source. Lint-only, so no Docker.

use layercake_app::events::parse_event;
use layercake_app::intake::{self, IntakeResult};
use layercake_app::{Counters, ForkPolicy, JobSettings, Shared, jobs};
use layercake_github::{App, AppCredentials, RetryPolicy};
use layercake_queue::{JobState, JobStore, SqliteQueue};
use layercake_review::{BuildOptions, Building};
use layercake_testkit::fake_github::{Access, FakeGitHub, RateLimit};
use layercake_testkit::{GitRepo, pull_request_payload};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

const REPO: &str = "Codertocat/Hello-World";
const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 1;
const WORKER: &str = "test-worker";

const BASE_DOCKERFILE: &str = "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\nCMD [\"node\", \"i.js\"]\n";
/// LC201: the whole context copied before the install.
const HEAD_DOCKERFILE: &str =
    "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"i.js\"]\n";

/// A pull request in a bare repository, the fake GitHub that knows it and
/// the App, and the App's shared state on an in-memory job store.
struct World {
    repo: GitRepo,
    fake: FakeGitHub,
    shared: Arc<Shared>,
    payload: Value,
    number: u64,
    bare: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl World {
    /// `building` is how a job builds when the fork policy lets it.
    fn new(fork_policy: ForkPolicy, building: Building) -> World {
        World::with_retry_policy(fork_policy, building, RetryPolicy::default())
    }

    /// [`World::new`] with the App's client retrying as `retry_policy` says.
    fn with_retry_policy(
        fork_policy: ForkPolicy,
        building: Building,
        retry_policy: RetryPolicy,
    ) -> World {
        let repo = GitRepo::new();
        repo.write("Dockerfile", BASE_DOCKERFILE);
        let base = repo.commit("base");
        repo.checkout_new_branch("pr");
        repo.write("Dockerfile", HEAD_DOCKERFILE);
        let head = repo.commit("pr");
        let dir = tempfile::tempdir().expect("tempdir");
        let bare = repo.bare_clone(dir.path(), REPO);
        let payload = pull_request_payload("opened", &base, &head, &bare, INSTALLATION);
        let number = payload["pull_request"]["number"].as_u64().expect("number");

        let fake = FakeGitHub::start();
        fake.add_app(APP_ID, layercake_testkit::TEST_APP_PUBLIC_KEY);
        fake.add_installation(INSTALLATION, APP_ID, &[REPO]);
        let app = App::new(
            &fake.url(),
            AppCredentials {
                app_id: APP_ID,
                private_key_pem: layercake_testkit::TEST_APP_PRIVATE_KEY.to_string(),
            },
            retry_policy,
        )
        .expect("the App");
        let shared = Arc::new(Shared {
            store: Arc::new(SqliteQueue::new(
                JobStore::open_in_memory().expect("job store"),
            )),
            app,
            secrets: Vec::new(),
            settings: JobSettings {
                fork_policy,
                building,
                lease: Duration::from_secs(60),
                max_attempts: 3,
                clone_url_template: dir.path().join("{repo}.git").display().to_string(),
                scope: layercake_app::leftovers::Scope::of_database("the jobs test's store"),
            },
            wake: tokio::sync::Notify::new(),
            stopping: AtomicBool::new(false),
            counters: Counters::default(),
            in_flight: std::sync::Mutex::new(Vec::new()),
            builders: None,
        });
        let world = World {
            repo,
            fake,
            shared,
            payload,
            number,
            bare,
            _dir: dir,
        };
        world.fake.add_pull_request_from_payload(&world.payload);
        world.sync_files();
        world
    }

    fn lint_only() -> World {
        World::new(
            ForkPolicy::Never,
            Building::LintOnly {
                reason: "the test builds nothing".to_string(),
            },
        )
    }

    fn head(&self) -> String {
        self.payload["pull_request"]["head"]["sha"]
            .as_str()
            .expect("head sha")
            .to_string()
    }

    /// Tells the fake the pull request's files, with the patch git gives.
    fn sync_files(&self) {
        self.fake
            .set_files_from_git(&self.payload, &self.repo, &["Dockerfile"]);
    }

    /// A push to the pull request: the repository, the fake and the payload
    /// (now a `synchronize`) follow it.
    fn push(&mut self, dockerfile: &str) {
        self.repo.write("Dockerfile", dockerfile);
        let head = self.repo.commit("push");
        self.repo
            .git(&["push", "--quiet", self.bare.to_str().expect("utf-8"), "pr"]);
        self.payload["action"] = Value::from("synchronize");
        self.payload["pull_request"]["head"]["sha"] = Value::from(head.clone());
        self.fake.set_head_sha(REPO, self.number, &head);
        self.sync_files();
    }

    /// Records the current payload as a `pull_request` delivery.
    async fn deliver(&self, delivery: &str) -> intake::Intake {
        let body = self.payload.to_string();
        let events = parse_event("pull_request", body.as_bytes()).expect("a pull_request");
        intake::record(&*self.shared.store, "pull_request", delivery, events)
            .await
            .expect("recorded")
    }

    /// Claims the next job and runs it, as a worker does; returns its id.
    async fn run_next_job(&self) -> i64 {
        let job = self
            .shared
            .store
            .claim(WORKER, self.shared.settings.lease)
            .await
            .expect("claim")
            .expect("a queued job");
        let id = job.id;
        jobs::run_job(&self.shared, WORKER, job).await;
        id
    }

    async fn state(&self, job: i64) -> (JobState, Option<String>) {
        let job = self
            .shared
            .store
            .job(job)
            .await
            .expect("read")
            .expect("the job");
        (job.state, job.error)
    }

    fn comment_bodies(&self) -> Vec<String> {
        self.fake
            .issue_comments(REPO, self.number)
            .into_iter()
            .map(|c| c.body)
            .collect()
    }
}

#[tokio::test]
async fn a_job_posts_one_comment_one_review_and_completes_its_check_run() {
    let world = World::lint_only();
    let intake = world.deliver("d-1").await;
    assert_eq!(intake.result, IntakeResult::Enqueued);
    let job = world.run_next_job().await;
    assert_eq!(intake.jobs, vec![job]);
    assert_eq!(world.state(job).await, (JobState::Succeeded, None));

    let comments = world.comment_bodies();
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].starts_with("<!-- layercake:summary"),
        "{}",
        comments[0]
    );
    assert!(comments[0].contains("LC201"), "{}", comments[0]);
    assert!(
        comments[0].contains("the test builds nothing"),
        "{}",
        comments[0]
    );
    let reviews = world.fake.reviews(REPO, world.number);
    assert_eq!(reviews.len(), 1, "{reviews:#?}");
    assert!(
        reviews[0].comments.iter().any(|c| c.body.contains("LC201")),
        "{reviews:#?}"
    );
    let runs = world.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = &runs[0];
    assert_eq!(run.name, "layercake");
    assert_eq!(run.head_sha, world.head());
    assert_eq!(run.external_id.as_deref(), Some(job.to_string().as_str()));
    assert_eq!(run.status, "completed");
    // The new LC201 is a warning: at the default fail-on, the check fails.
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:#?}");
    let summary = run.output_summary.as_deref().unwrap_or_default();
    assert!(summary.contains("LC201"), "{run:#?}");

    // The same delivery again is no new job; the same job run again (a
    // crash before its end was recorded) posts nothing new.
    assert_eq!(world.deliver("d-1").await.result, IntakeResult::Duplicate);
    let writes = world.fake.writes();
    let again = world
        .shared
        .store
        .job(job)
        .await
        .expect("read")
        .expect("the job");
    jobs::run_job(&world.shared, WORKER, again).await;
    assert_eq!(world.comment_bodies().len(), 1);
    assert_eq!(world.fake.check_runs(REPO).len(), 1);
    assert_eq!(world.fake.reviews(REPO, world.number).len(), 1);
    assert_eq!(
        world.fake.writes(),
        writes + 1,
        "only the check run completed again: {:#?}",
        world.fake.requests()
    );
}

#[tokio::test]
async fn a_forks_job_is_lint_only_and_says_so() {
    // The server would build (with a docker that cannot exist), but not a fork's code.
    let mut world = World::new(
        ForkPolicy::Label("safe-to-build".to_string()),
        Building::Build(BuildOptions::default()),
    );
    world.payload["pull_request"]["head"]["repo"]["full_name"] = Value::from("someone/fork");
    world.fake.add_pull_request_from_payload(&world.payload);
    assert_eq!(world.deliver("fork-1").await.result, IntakeResult::Enqueued);
    let job = world.run_next_job().await;
    assert_eq!(world.state(job).await, (JobState::Succeeded, None));
    let comments = world.comment_bodies();
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(comments[0].contains("comes from a fork"), "{}", comments[0]);
    assert!(comments[0].contains("`safe-to-build`"), "{}", comments[0]);
    assert!(comments[0].contains("LC201"), "{}", comments[0]);
    let runs = world.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"), "{runs:#?}");
}

#[tokio::test]
async fn an_installation_whose_token_cannot_write_fails_the_job_and_posts_nothing() {
    let world = World::lint_only();
    world
        .fake
        .set_installation_access(INSTALLATION, Access::ReadOnly);
    world.deliver("ro-1").await;
    let job = world.run_next_job().await;
    let (state, error) = world.state(job).await;
    assert_eq!(state, JobState::Failed);
    let error = error.expect("the job's error");
    assert!(
        error.contains("Resource not accessible by integration"),
        "{error}"
    );
    assert!(world.comment_bodies().is_empty());
    assert!(world.fake.check_runs(REPO).is_empty());
    assert!(world.fake.reviews(REPO, world.number).is_empty());
    assert!(
        world
            .fake
            .requests()
            .iter()
            .filter(|r| r.is_write())
            .all(|r| r.status == 403 || r.path.ends_with("/access_tokens")),
        "{:#?}",
        world.fake.requests()
    );
}

#[tokio::test]
async fn a_job_a_newer_push_superseded_posts_nothing_and_the_newer_one_reviews() {
    let mut world = World::lint_only();
    assert_eq!(world.deliver("s-1").await.result, IntakeResult::Enqueued);
    // The first job is running when the push comes.
    let first = world
        .shared
        .store
        .claim(WORKER, world.shared.settings.lease)
        .await
        .expect("claim")
        .expect("the first job");
    world.push(&HEAD_DOCKERFILE.replace("USER node\n", "USER node\nRUN sudo true\n"));
    let newer = world.deliver("s-2").await;
    assert_eq!(newer.result, IntakeResult::Enqueued);
    let first_id = first.id;
    jobs::run_job(&world.shared, WORKER, first).await;
    assert_eq!(world.state(first_id).await, (JobState::Superseded, None));
    assert!(world.comment_bodies().is_empty());
    assert!(world.fake.check_runs(REPO).is_empty());

    let second = world.run_next_job().await;
    assert_eq!(newer.jobs, vec![second]);
    assert_eq!(world.state(second).await, (JobState::Succeeded, None));
    let comments = world.comment_bodies();
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].contains("LC405"),
        "the newer head's finding: {}",
        comments[0]
    );
    let runs = world.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].head_sha, world.head());
}

#[tokio::test]
async fn closing_a_pull_request_stops_its_running_job_before_it_posts() {
    let world = World::lint_only();
    world.deliver("c-1").await;
    let job = world
        .shared
        .store
        .claim(WORKER, world.shared.settings.lease)
        .await
        .expect("claim")
        .expect("the job");
    // Closed while the job runs: GitHub says so when the job asks.
    let mut closed = world.payload.clone();
    closed["action"] = Value::from("closed");
    let events = parse_event("pull_request", closed.to_string().as_bytes()).expect("parsed");
    let intake = intake::record(&*world.shared.store, "pull_request", "c-2", events)
        .await
        .expect("recorded");
    assert_eq!(intake.result, IntakeResult::Cancelled);
    world.fake.set_pr_state(REPO, world.number, "closed");
    let id = job.id;
    jobs::run_job(&world.shared, WORKER, job).await;
    assert_eq!(world.state(id).await, (JobState::Cancelled, None));
    assert!(world.comment_bodies().is_empty());
    assert!(world.fake.check_runs(REPO).is_empty());
    assert!(
        world
            .shared
            .store
            .claim(WORKER, world.shared.settings.lease)
            .await
            .expect("claim")
            .is_none(),
        "nothing left to run"
    );
}

#[tokio::test]
async fn a_job_that_fails_after_its_check_run_exists_completes_it_and_says_why() {
    let mut world = World::lint_only();
    world.deliver("f-1").await;
    world.run_next_job().await;
    assert_eq!(
        world.comment_bodies().len(),
        1,
        "the first review's comment"
    );

    // A push, then the repository cannot be cloned any more.
    world.push(&HEAD_DOCKERFILE.replace("i.js", "main.js"));
    std::fs::remove_dir_all(&world.bare).expect("remove the bare repository");
    world.deliver("f-2").await;
    let job = world.run_next_job().await;

    let (state, error) = world.state(job).await;
    assert_eq!(state, JobState::Failed);
    let error = error.expect("the job's error");
    assert!(error.contains("cannot clone"), "{error}");
    let runs: Vec<_> = world
        .fake
        .check_runs(REPO)
        .into_iter()
        .filter(|run| run.head_sha == world.head())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = &runs[0];
    assert_eq!(run.status, "completed", "{run:#?}");
    assert_eq!(run.conclusion.as_deref(), Some("neutral"), "{run:#?}");
    assert_eq!(run.output_title.as_deref(), Some("Could not review"));
    let summary = run.output_summary.as_deref().unwrap_or_default();
    assert!(summary.contains("cannot clone"), "{run:#?}");

    // The sticky comment no longer shows the older head's review as if it
    // were current: it says this head could not be reviewed, and why.
    let comments = world.comment_bodies();
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].starts_with("<!-- layercake:summary"),
        "{}",
        comments[0]
    );
    assert!(
        comments[0].contains("layercake could not review"),
        "{}",
        comments[0]
    );
    assert!(comments[0].contains(&world.head()[..12]), "{}", comments[0]);
    assert!(comments[0].contains("cannot clone"), "{}", comments[0]);
    assert!(!comments[0].contains("LC201"), "{}", comments[0]);
}

/// The check runs on the pull request's current head.
fn head_check_runs(world: &World) -> Vec<layercake_testkit::fake_github::FakeCheckRun> {
    world
        .fake
        .check_runs(REPO)
        .into_iter()
        .filter(|run| run.head_sha == world.head())
        .collect()
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_client_waits_puts_the_job_off_for_as_long_as_asked() {
    let world = World::lint_only();
    world.deliver("r-1").await;
    // GitHub's secondary limit asks for two minutes: more than the client's
    // 60 s, so the job stops, and must neither fail nor burn an attempt.
    world.fake.rate_limit_next(
        1,
        RateLimit::Secondary {
            retry_after_secs: 120,
        },
    );
    let before = SystemTime::now();
    let id = world.run_next_job().await;

    let job = world
        .shared
        .store
        .job(id)
        .await
        .expect("read")
        .expect("the job");
    assert_eq!(
        (job.state, job.attempts, job.deferrals),
        (JobState::Queued, 0, 1),
        "{job:#?}"
    );
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("rate limit"), "{error}");
    let run_after = job.run_after.expect("a time to run after");
    let waits = run_after.duration_since(before).expect("later");
    assert!(
        (Duration::from_secs(120)..Duration::from_secs(125)).contains(&waits),
        "{waits:?}"
    );
    // Not claimed before then, and nothing said on the pull request.
    assert_eq!(
        world
            .shared
            .store
            .claim(WORKER, world.shared.settings.lease)
            .await
            .expect("claim"),
        None
    );
    assert!(world.comment_bodies().is_empty());
    let stats = world.shared.store.stats().await.expect("stats");
    assert_eq!((stats.deferred, stats.deferrals, stats.failed), (1, 1, 0));
}

#[tokio::test]
async fn a_job_put_off_by_a_rate_limit_runs_again_after_the_wait_and_completes() {
    // A client that waits at most a second, so a 2 s limit stops the job.
    let policy = RetryPolicy {
        max_wait: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    let world = World::with_retry_policy(
        ForkPolicy::Never,
        Building::LintOnly {
            reason: "the test builds nothing".to_string(),
        },
        policy,
    );
    world.deliver("r-2").await;
    world
        .fake
        .rate_limit_next(1, RateLimit::Primary { reset_in_secs: 2 });
    let id = world.run_next_job().await;
    let job = world
        .shared
        .store
        .job(id)
        .await
        .expect("read")
        .expect("the job");
    assert_eq!((job.state, job.deferrals), (JobState::Queued, 1));
    let run_after = job.run_after.expect("a time to run after");

    tokio::time::sleep(
        run_after
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            + Duration::from_millis(20),
    )
    .await;
    assert_eq!(world.run_next_job().await, id);
    let job = world
        .shared
        .store
        .job(id)
        .await
        .expect("read")
        .expect("the job");
    assert_eq!(
        (job.state, job.attempts, job.deferrals),
        (JobState::Succeeded, 1, 1)
    );
    assert_eq!(world.comment_bodies().len(), 1);
    let runs = head_check_runs(&world);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].status, "completed");
}

#[tokio::test]
async fn a_job_put_off_too_often_fails_and_says_so() {
    let world = World::lint_only();
    world.deliver("r-3").await;
    let id = world.run_next_job().await;
    assert_eq!(world.state(id).await.0, JobState::Succeeded);
    // The pure decision, at the limit: a job put off MAX_DEFERRALS times
    // fails, naming the trouble.
    let mut job = world
        .shared
        .store
        .job(id)
        .await
        .expect("read")
        .expect("the job");
    let error = jobs::JobError::GitHub(layercake_github::GitHubError::RateLimited {
        wait: Duration::from_secs(90),
    });
    job.deferrals = jobs::MAX_DEFERRALS - 1;
    assert!(matches!(
        jobs::outcome_of_error(&job, &error),
        layercake_queue::JobOutcome::RetryLater { after, .. } if after == Duration::from_secs(91)
    ));
    job.deferrals = jobs::MAX_DEFERRALS;
    match jobs::outcome_of_error(&job, &error) {
        layercake_queue::JobOutcome::Failed { error } => {
            assert!(error.starts_with("gave up after 20 deferrals: "), "{error}");
            assert!(error.contains("rate limit"), "{error}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // A server error backs off, doubling, at most 15 minutes.
    let unavailable = jobs::JobError::GitHub(layercake_github::GitHubError::Http {
        status: 502,
        message: "Bad Gateway".into(),
    });
    let waits: Vec<u64> = [0, 1, 2, 5, 10]
        .into_iter()
        .map(|deferrals| {
            job.deferrals = deferrals;
            match jobs::outcome_of_error(&job, &unavailable) {
                layercake_queue::JobOutcome::RetryLater { after, .. } => after.as_secs(),
                other => panic!("expected a deferral, got {other:?}"),
            }
        })
        .collect();
    assert_eq!(waits, [30, 60, 120, 900, 900]);
    // A refusal is not put off.
    let refused = jobs::JobError::GitHub(layercake_github::GitHubError::NotFound {
        message: "Not Found".into(),
    });
    job.deferrals = 0;
    assert!(matches!(
        jobs::outcome_of_error(&job, &refused),
        layercake_queue::JobOutcome::Failed { .. }
    ));
}

#[tokio::test]
async fn the_reconciler_carries_on_past_a_repository_it_cannot_read_and_counts_it() {
    let world = World::lint_only();
    // The store knows two repositories of the installation; the first (in
    // the reconciler's order) is gone from GitHub and answers 404.
    let store = &world.shared.store;
    store
        .set_installation(INSTALLATION, "Codertocat", true)
        .await
        .expect("installation");
    store
        .set_repositories(INSTALLATION, &["Aaa/gone".to_string(), REPO.to_string()])
        .await
        .expect("repositories");

    let pass = jobs::reconcile_once(&world.shared).await;
    assert_eq!(pass.enqueued, 1, "{pass:#?}");
    assert_eq!(pass.failures.len(), 1, "{pass:#?}");
    let (item, error) = &pass.failures[0];
    assert_eq!(item, "Aaa/gone");
    assert!(error.to_string().contains("404"), "{error}");
    let counters = &world.shared.counters;
    assert_eq!(
        (
            counters
                .reconcile_passes
                .load(std::sync::atomic::Ordering::Relaxed),
            counters
                .reconcile_failures
                .load(std::sync::atomic::Ordering::Relaxed)
        ),
        (1, 1)
    );

    // The readable repository's pull request is reviewed.
    let id = world.run_next_job().await;
    assert_eq!(world.state(id).await.0, JobState::Succeeded);
    assert_eq!(world.comment_bodies().len(), 1);
}
