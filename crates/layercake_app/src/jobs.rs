//! Running jobs: the worker loop, one job from clone to check run, and the
//! maintenance loop (expired leases, reconciliation).

use crate::{Counters, ForkPolicy, Shared, builders};
use layercake_git::HttpToken;
use layercake_github::{
    CheckRunOutput, Conclusion, GitHub, NewCheckRun, PassingTrouble, PullRequest, RepoName,
};
use layercake_queue::{Job, JobOutcome, NewJob};
use layercake_report::{CommentOptions, StageScope};
use layercake_review::publish::{self, PublishOptions, PullRequestTarget};
use layercake_review::{Building, NoProgress, ReviewRequest};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One worker: takes jobs until the server stops.
pub async fn worker(shared: Arc<Shared>, name: String) {
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let wake = shared.wake.notified();
        match shared.store.claim(&name, shared.settings.lease).await {
            Ok(Some(job)) => {
                if let Ok(mut held) = shared.in_flight.lock() {
                    held.push((job.id, name.clone()));
                }
                let id = job.id;
                run_job(&shared, &name, job).await;
                if let Ok(mut held) = shared.in_flight.lock() {
                    held.retain(|(job, _)| *job != id);
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = wake => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
            Err(error) => {
                eprintln!("layercake: {name}: cannot take a job: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs one job that `worker` claimed from the store, with a heartbeat that
/// keeps its lease (and notices a cancel), then records how it ended.
pub async fn run_job(shared: &Arc<Shared>, worker: &str, job: Job) {
    let cancelled = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (shared, worker, cancelled, id) = (
            shared.clone(),
            worker.to_string(),
            cancelled.clone(),
            job.id,
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(shared.settings.lease / 3).await;
                let ours = shared
                    .store
                    .heartbeat(id, &worker, shared.settings.lease)
                    .await;
                if !matches!(ours, Ok(true)) {
                    cancelled.store(true, Ordering::SeqCst);
                }
            }
        })
    };
    let outcome = execute(shared, &job, &cancelled).await;
    heartbeat.abort();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            let outcome = outcome_of_error(&job, &error);
            let what = match &outcome {
                JobOutcome::RetryLater { after, .. } => {
                    format!("put off for {} s", after.as_secs())
                }
                _ => "failed".to_string(),
            };
            eprintln!(
                "layercake: job {} ({} #{}) {what}: {error}",
                job.id, job.repository, job.pr_number
            );
            outcome
        }
    };
    if let Err(error) = shared.store.complete(job.id, worker, &outcome).await {
        eprintln!("layercake: job {}: cannot record its end: {error}", job.id);
    }
}

/// Times a job may be put off by passing trouble before it fails: with the
/// backoff below, a GitHub that stays unreachable for about four hours, or
/// a rate limit hit twenty times in a row.
pub const MAX_DEFERRALS: u32 = 20;

/// The first wait after GitHub failed or could not be reached; it doubles
/// with each deferral, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// The wait of a job whose builder stopped answering: short, for another
/// builder of the pool to take it.
const BUILDER_DOWN_WAIT: Duration = Duration::from_secs(1);

/// How a job that stopped on `error` ends: put off (queued again, not an
/// attempt) when the trouble passes by itself — GitHub's rate limit, for
/// as long as GitHub asked; a server error or no answer, with a doubling
/// backoff; its builder stopped answering, at once for another builder —
/// else failed. A job put off [`MAX_DEFERRALS`] times fails.
pub fn outcome_of_error(job: &Job, error: &JobError) -> JobOutcome {
    let wait = match error {
        // Another builder of the pool may take it at once.
        JobError::BuilderDown { .. } => Some(BUILDER_DOWN_WAIT),
        JobError::NoBuilder(_) => Some(FIRST_BACKOFF),
        _ => error.passing().map(|trouble| match trouble {
            // A second more: GitHub's reset times are whole seconds.
            PassingTrouble::RateLimited { wait } => wait + Duration::from_secs(1),
            PassingTrouble::Unavailable => FIRST_BACKOFF
                .saturating_mul(1 << job.deferrals.min(10))
                .min(MAX_BACKOFF),
        }),
    };
    match wait {
        Some(after) if job.deferrals < MAX_DEFERRALS => JobOutcome::RetryLater {
            after,
            reason: error.to_string(),
        },
        Some(_) => JobOutcome::Failed {
            error: format!("gave up after {MAX_DEFERRALS} deferrals: {error}"),
        },
        None => JobOutcome::Failed {
            error: error.to_string(),
        },
    }
}

/// Why a job could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job names a repository that is not `owner/name`.
    #[error("repository {repository:?}: {reason}")]
    BadRepository {
        /// As the job names it.
        repository: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The delivery named no installation of this App.
    #[error("the delivery named no installation of this App")]
    NoInstallation,
    /// GitHub refused or failed a request.
    #[error(transparent)]
    GitHub(#[from] layercake_github::GitHubError),
    /// The repository could not be cloned, or a commit fetched.
    #[error("cannot clone the repository: {0}")]
    Clone(layercake_git::GitError),
    /// The review could not be made.
    #[error(transparent)]
    Review(#[from] layercake_review::ReviewError),
    /// The job store failed.
    #[error(transparent)]
    Queue(#[from] layercake_queue::QueueError),
    /// A temporary directory could not be made.
    #[error("cannot make a workspace: {0}")]
    Workspace(std::io::Error),
    /// A task of the job stopped unexpectedly.
    #[error("a task stopped unexpectedly: {0}")]
    Task(String),
    /// Every builder of the pool is out of it.
    #[error(transparent)]
    NoBuilder(#[from] builders::NoBuilder),
    /// The job's builder stopped answering (before or during its builds).
    #[error("the builder {builder} stopped answering: {reason}")]
    BuilderDown {
        /// The builder's name.
        builder: String,
        /// What docker said.
        reason: String,
    },
}

impl JobError {
    /// The trouble, if it passes by itself (see [`outcome_of_error`]).
    pub fn passing(&self) -> Option<PassingTrouble> {
        match self {
            JobError::GitHub(error) => error.passing(),
            _ => None,
        }
    }
}

/// Clone, review, publish, check run. Every step is idempotent, so a job
/// that runs again after a crash ends with the same one comment.
async fn execute(
    shared: &Shared,
    job: &Job,
    cancelled: &AtomicBool,
) -> Result<JobOutcome, JobError> {
    let repo: RepoName = job
        .repository
        .parse()
        .map_err(
            |e: layercake_github::RepoNameError| JobError::BadRepository {
                repository: job.repository.clone(),
                reason: e.to_string(),
            },
        )?;
    let installation = job.installation_id.ok_or(JobError::NoInstallation)?;
    let github = shared.app.installation_client(installation).await?;
    let pr = github.pull_request(&repo, job.pr_number).await?;
    if pr.state != "open" {
        return Ok(JobOutcome::Cancelled);
    }
    if pr.head_sha != job.head_sha {
        // A newer push has (or will have, through the reconciler) its own job.
        return Ok(JobOutcome::Cancelled);
    }
    let check_run = job_check_run(&github, &repo, job).await?;
    let outcome = review_and_publish(shared, job, cancelled, &github, &repo, &pr, check_run).await;
    if let Err(error) = &outcome
        && !matches!(outcome_of_error(job, error), JobOutcome::RetryLater { .. })
    {
        say_not_reviewed(&github, &repo, job, check_run, error).await;
    }
    // Put off, the check run stays `in_progress`: the next attempt finds it
    // by its external ID and completes it.
    outcome
}

/// Once the check run exists, whatever fails must end it: a check run left
/// `in_progress` tells the pull request's author nothing, for ever. The
/// conclusion is `neutral` (the review could not be made, which says nothing
/// about the change), the reason is in its output, and the sticky comment,
/// if there is one, says the same. Failures to say so are only logged: the
/// job has already failed.
async fn say_not_reviewed(
    github: &GitHub,
    repo: &RepoName,
    job: &Job,
    check_run: u64,
    error: &JobError,
) {
    let reason = error.to_string();
    let output = CheckRunOutput {
        title: "Could not review".to_string(),
        summary: format!("layercake could not review this pull request: {reason}"),
        text: None,
        annotations: Vec::new(),
    };
    if let Err(e) = github
        .complete_check_run(repo, check_run, Conclusion::Neutral, &output)
        .await
    {
        eprintln!(
            "layercake: job {}: cannot complete its check run: {e}",
            job.id
        );
    }
    let target = PullRequestTarget {
        repo: repo.clone(),
        number: job.pr_number,
        head_sha: job.head_sha.clone(),
    };
    let key = CommentOptions::default().key;
    if let Err(e) = publish::publish_not_reviewed(github, &target, &key, &reason, &[]).await {
        eprintln!("layercake: job {}: cannot update the comment: {e}", job.id);
    }
}

/// Clone, review, publish and complete the check run `check_run`.
async fn review_and_publish(
    shared: &Shared,
    job: &Job,
    cancelled: &AtomicBool,
    github: &GitHub,
    repo: &RepoName,
    pr: &PullRequest,
    check_run: u64,
) -> Result<JobOutcome, JobError> {
    let installation = job.installation_id.ok_or(JobError::NoInstallation)?;
    let lint_only_reason = build_refusal(&shared.settings.fork_policy, pr);
    let token = shared.app.installation_token(installation).await?;
    let (clone_url, head, base, number) = (
        job.clone_url.clone(),
        job.head_sha.clone(),
        job.base_sha.clone(),
        job.pr_number,
    );
    // With a pool, the whole review builds on one builder, so that head's
    // build finds base's steps in that builder's cache.
    let (building, lease) = match (
        lint_only_reason,
        &shared.settings.building,
        &shared.builders,
    ) {
        (Some(reason), _, _) => (Building::LintOnly { reason }, None),
        (None, Building::Build(options), Some(pool)) => {
            let lease = pool.acquire().await?;
            let options = layercake_review::BuildOptions {
                docker: lease.builder.selection.clone(),
                pool: Vec::new(),
                ..options.clone()
            };
            (Building::Build(options), Some(lease))
        }
        (None, building, _) => (building.clone(), None),
    };
    let builder = lease.as_ref().map(|lease| {
        (
            lease.builder.spec.name.clone(),
            lease.builder.selection.clone(),
        )
    });
    let secret = HttpToken::new(token.token.clone());
    let (job_id, scope) = (job.id, shared.settings.scope.clone());
    let review = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
        // Named after the job, as are its images, so that a server starting
        // after a crash finds and removes them (`leftovers`).
        let workspace = tempfile::Builder::new()
            .prefix(&scope.workspace_of(job_id))
            .tempdir()
            .map_err(JobError::Workspace)?;
        checkout(
            &clone_url,
            &secret,
            workspace.path(),
            number,
            &[&base, &head],
        )?;
        // A builder that does not answer would make the review lint-only;
        // one that stopped during the builds would make them fail: either
        // way the job goes to another builder instead.
        let answers = |(name, selection): &(String, layercake_build::DockerSelection)| {
            layercake_build::Docker::detect(selection)
                .map(|_| ())
                .map_err(|unavailable| JobError::BuilderDown {
                    builder: name.clone(),
                    reason: unavailable.reason,
                })
        };
        if let Some(builder) = &builder {
            answers(builder)?;
        }
        let request = ReviewRequest {
            repository: workspace.path().to_path_buf(),
            base,
            head,
            paths: Vec::new(),
            fail_on: None,
            stages: StageScope::Built,
            run_name: Some(scope.run_name(job_id)),
        };
        let review = layercake_review::review(&request, &building, &NoProgress);
        if let Some(builder) = &builder {
            answers(builder)?;
        }
        Ok(review?)
        // The workspace (and the clone in it) is removed here.
    })
    .await
    .map_err(|e| JobError::Task(e.to_string()))?;
    if let (Err(JobError::BuilderDown { reason, .. }), Some(lease), Some(pool)) =
        (&review, &lease, &shared.builders)
    {
        pool.mark_down(&lease.builder, reason);
    }
    drop(lease);
    let review = review?;
    let report = review.report;
    if cancelled.load(Ordering::SeqCst) {
        let output = CheckRunOutput {
            title: "Superseded".to_string(),
            summary: "A newer push or the pull request's closing cancelled this review."
                .to_string(),
            text: None,
            annotations: Vec::new(),
        };
        let _ = github
            .complete_check_run(repo, check_run, Conclusion::Cancelled, &output)
            .await;
        return Ok(JobOutcome::Cancelled);
    }
    let target = PullRequestTarget {
        repo: repo.clone(),
        number: job.pr_number,
        head_sha: job.head_sha.clone(),
    };
    let options = PublishOptions {
        post_comment: true,
        post_review: true,
        comment: CommentOptions::default(),
        authors: Vec::new(),
    };
    publish::publish(github, &target, &report, &options).await?;
    let output = publish::check_run_output(&report);
    let conclusion = if review.verdict.failed() {
        Conclusion::Failure
    } else {
        Conclusion::Success
    };
    github
        .complete_check_run(repo, check_run, conclusion, &output)
        .await?;
    Ok(JobOutcome::Succeeded)
}

/// The name of the check run each job reports in.
const CHECK_RUN_NAME: &str = "layercake";

/// The job's check run: the one an earlier attempt of the same job created
/// (found by its `external_id`, the job id: a job run again after a crash
/// or a lost lease), else a new one, `in_progress`.
async fn job_check_run(github: &GitHub, repo: &RepoName, job: &Job) -> Result<u64, JobError> {
    let external_id = job.id.to_string();
    let earlier = github
        .check_runs_for_commit(repo, &job.head_sha, CHECK_RUN_NAME)
        .await?
        .into_iter()
        .find(|run| run.external_id.as_deref() == Some(external_id.as_str()));
    if let Some(run) = earlier {
        // In progress still, or completed by an attempt whose end the queue
        // never heard of: completed again, with this attempt's report.
        return Ok(run.id);
    }
    github
        .create_check_run(
            repo,
            &NewCheckRun {
                name: CHECK_RUN_NAME.to_string(),
                head_sha: job.head_sha.clone(),
                external_id: Some(external_id),
                ..NewCheckRun::default()
            },
        )
        .await
        .map_err(JobError::from)
}

/// Why a pull request is reviewed lint-only under the fork policy, if it is.
fn build_refusal(policy: &ForkPolicy, pr: &PullRequest) -> Option<String> {
    let fork = pr
        .head_repo
        .as_deref()
        .is_some_and(|head| !head.eq_ignore_ascii_case(&pr.base_repo));
    if !fork {
        return None;
    }
    match policy {
        ForkPolicy::Never => Some("this pull request comes from a fork, and this server does not build forks' code (lint only)".to_string()),
        ForkPolicy::Members => {
            let trusted = pr
                .author_association
                .as_deref()
                .is_some_and(|a| matches!(a, "OWNER" | "MEMBER" | "COLLABORATOR"));
            (!trusted).then(|| "this pull request comes from a fork whose author is not a member or collaborator, so its code is not built (lint only)".to_string())
        }
        ForkPolicy::Label(label) => (!pr.labels.iter().any(|l| l == label)).then(|| {
            format!("this pull request comes from a fork; a maintainer's `{label}` label lets its code be built (lint only until then)")
        }),
    }
}

/// Clones `clone_url` into `dir` and makes sure `commits` are there (a
/// fork's head comes from `pull/N/head`).
fn checkout(
    clone_url: &str,
    token: &HttpToken,
    dir: &Path,
    number: u64,
    commits: &[&str],
) -> Result<(), JobError> {
    layercake_git::clone_repository(clone_url, dir, Some(token)).map_err(JobError::Clone)?;
    let pull = vec![format!("pull/{number}/head")];
    for sha in commits {
        layercake_git::ensure_commit(dir, sha, "origin", &pull, Some(token))
            .map_err(JobError::Clone)?;
    }
    Ok(())
}

/// Expired leases back to the queue, often; reconciliation, every `reconcile` (0: never).
pub async fn maintenance(shared: Arc<Shared>, reconcile: Duration) {
    let mut since_reconcile = Duration::ZERO;
    let tick = (shared.settings.lease / 2).max(Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        match shared
            .store
            .requeue_expired(shared.settings.max_attempts)
            .await
        {
            Ok(requeued) if requeued > 0 => shared.wake.notify_waiters(),
            Ok(_) => {}
            Err(error) => eprintln!("layercake: requeueing expired jobs: {error}"),
        }
        if shared.builders.is_some() {
            let shared = shared.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(pool) = &shared.builders {
                    pool.check_down();
                }
            })
            .await;
        }
        since_reconcile += tick;
        if !reconcile.is_zero() && since_reconcile >= reconcile {
            since_reconcile = Duration::ZERO;
            let pass = reconcile_once(&shared).await;
            for (item, error) in &pass.failures {
                eprintln!("layercake: reconciling {item}: {error}");
            }
        }
    }
}

/// What one pass of the reconciler did.
#[derive(Debug, Default)]
pub struct ReconcilePass {
    /// Pull requests given a job.
    pub enqueued: usize,
    /// What could not be looked at, and why: a repository (`owner/name`) or a
    /// pull request (`owner/name#N`), or `repositories` when the list itself
    /// could not be read. The pass carries on past each.
    pub failures: Vec<(String, JobError)>,
}

/// Open pull requests of every installed repository whose head has no job
/// get one: the deliveries that never arrived. One repository that cannot
/// be read (gone, no longer shared with the App, GitHub failing for it) or
/// one pull request that cannot be enqueued does not stop the pass: it is
/// listed in the pass's failures and counted in `/metrics`.
pub async fn reconcile_once(shared: &Shared) -> ReconcilePass {
    let mut pass = ReconcilePass::default();
    let repositories = match shared.store.repositories().await {
        Ok(repositories) => repositories,
        Err(error) => {
            pass.failures
                .push(("repositories".to_string(), JobError::Queue(error)));
            Vec::new()
        }
    };
    for (installation, repository) in repositories {
        match reconcile_repository(shared, installation, &repository).await {
            Ok(RepositoryPass { enqueued, failures }) => {
                pass.enqueued += enqueued;
                pass.failures.extend(failures);
            }
            Err(error) => pass.failures.push((repository.clone(), error)),
        }
    }
    Counters::bump(&shared.counters.reconcile_passes);
    shared
        .counters
        .reconcile_failures
        .fetch_add(pass.failures.len() as u64, Ordering::Relaxed);
    if pass.enqueued > 0 {
        shared.wake.notify_waiters();
    }
    pass
}

/// One repository's share of a [`ReconcilePass`].
struct RepositoryPass {
    enqueued: usize,
    failures: Vec<(String, JobError)>,
}

/// Lists `repository`'s open pull requests and enqueues a job for each whose
/// head has none. `Err` when the repository cannot be read at all.
async fn reconcile_repository(
    shared: &Shared,
    installation: u64,
    repository: &str,
) -> Result<RepositoryPass, JobError> {
    let repo: RepoName = repository
        .parse()
        .map_err(
            |e: layercake_github::RepoNameError| JobError::BadRepository {
                repository: repository.to_string(),
                reason: e.to_string(),
            },
        )?;
    let github: GitHub = shared.app.installation_client(installation).await?;
    let mut pass = RepositoryPass {
        enqueued: 0,
        failures: Vec::new(),
    };
    for pr in github.open_pull_requests(&repo).await? {
        let item = format!("{repository}#{}", pr.number);
        match reconcile_pull_request(shared, installation, repository, &pr).await {
            Ok(true) => pass.enqueued += 1,
            Ok(false) => {}
            Err(error) => pass.failures.push((item, error)),
        }
    }
    Ok(pass)
}

/// Enqueues a job for `pr` unless its head has one; whether it did.
async fn reconcile_pull_request(
    shared: &Shared,
    installation: u64,
    repository: &str,
    pr: &PullRequest,
) -> Result<bool, JobError> {
    let known = shared.store.latest_head(repository, pr.number).await?;
    if known.as_deref() == Some(pr.head_sha.as_str()) {
        return Ok(false);
    }
    let job = NewJob {
        repository: repository.to_string(),
        installation_id: Some(installation),
        pr_number: pr.number,
        head_sha: pr.head_sha.clone(),
        base_sha: pr.base_sha.clone(),
        clone_url: clone_url_of(&shared.settings.clone_url_template, repository),
        event: "reconcile".to_string(),
        trigger: None,
    };
    let key = format!("reconcile:{repository}#{}@{}", pr.number, pr.head_sha);
    shared.store.enqueue(&key, &job).await?;
    Ok(true)
}

/// Where the reconciler clones a repository from: `--clone-url` with
/// `{repo}` replaced (deliveries carry their own clone URL).
fn clone_url_of(template: &str, repository: &str) -> String {
    template.replace("{repo}", repository)
}
