//! The job queue's behaviour through the [`JobQueue`] trait, one suite run on
//! both implementations: SQLite (a file in a temporary directory) and
//! PostgreSQL (a database of its own per test, from
//! `layercake_testkit::postgres_or_skip`). Each test below is an `async fn`
//! taking the queue; `on_both!` makes a `sqlite::NAME` and a `postgres::NAME`
//! test of each.

// The tests are plain `async fn`s that `on_both!` wraps in `#[tokio::test]`,
// where clippy's `allow-unwrap-in-tests` does not see them.
#![allow(clippy::unwrap_used)]

mod common;

use common::{enqueued, review};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use layercake_queue::{Database, EnqueueOutcome, JobOutcome, JobQueue, JobState, QueueError};
use layercake_testkit::TestDatabase;
use tokio::time::sleep;

const LONG: Duration = Duration::from_secs(600);

/// A queue, and what must live as long as it does.
struct Backend {
    queue: Arc<dyn JobQueue>,
    _dir: Option<tempfile::TempDir>,
    _database: Option<TestDatabase>,
}

async fn sqlite() -> Option<Backend> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let queue = Database::Sqlite(dir.path().join("jobs.db"))
        .open()
        .await
        .expect("open the SQLite queue");
    Some(Backend {
        queue,
        _dir: Some(dir),
        _database: None,
    })
}

async fn postgres() -> Option<Backend> {
    let database = layercake_testkit::postgres_or_skip()?;
    let queue = Database::Postgres(database.url().to_owned())
        .open()
        .await
        .expect("open the PostgreSQL queue");
    Some(Backend {
        queue,
        _dir: None,
        _database: Some(database),
    })
}

/// `sqlite::NAME` and `postgres::NAME` for each `NAME`, an `async fn(&dyn
/// JobQueue)` of this file.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = super::sqlite().await.expect("SQLite is always there");
                    super::$name(&*backend.queue).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(backend) = super::postgres().await else {
                        return;
                    };
                    super::$name(&*backend.queue).await;
                }
            )*
        }
    };
}

on_both!(
    a_redelivery_is_not_a_second_job,
    deliveries_for_the_same_head_coalesce_into_a_live_job,
    a_newer_head_supersedes_queued_jobs_and_stops_running_ones,
    closing_a_pull_request_cancels_its_jobs,
    claims_go_oldest_first,
    an_expired_lease_requeues_and_counts_the_attempt_until_max_attempts,
    an_expired_job_asked_to_stop_is_not_run_again,
    releasing_on_shutdown_does_not_burn_an_attempt,
    completing_records_the_outcome_and_the_duration,
    stats_count_every_state_and_the_duration_histogram,
    latest_head_follows_the_newest_job_of_each_pull_request,
    repositories_of_active_installations_are_listed_for_the_reconciler,
    pruning_forgets_old_deliveries_and_finished_jobs_but_not_counts,
    a_job_put_off_waits_its_time_in_its_place_without_burning_an_attempt,
    a_job_asked_to_stop_is_not_put_off_but_ends,
);

async fn state(store: &dyn JobQueue, job_id: i64) -> JobState {
    store
        .job(job_id)
        .await
        .expect("read job")
        .expect("the job exists")
        .state
}

/// Waits until `lease` has surely run out (times are whole milliseconds in
/// SQLite).
async fn outlive(lease: Duration) {
    sleep(lease + Duration::from_millis(5)).await;
}

async fn a_redelivery_is_not_a_second_job(store: &dyn JobQueue) {
    let job = review("octo/app", 1, "a");
    let id = enqueued(store.enqueue("d1", &job).await.unwrap());
    assert_eq!(
        store.enqueue("d1", &job).await.unwrap(),
        EnqueueOutcome::Duplicate { job_id: Some(id) }
    );
    // Even when the redelivery would now say something else.
    assert_eq!(
        store
            .enqueue("d1", &review("octo/app", 1, "b"))
            .await
            .unwrap(),
        EnqueueOutcome::Duplicate { job_id: Some(id) }
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.queued, stats.deliveries, stats.superseded),
        (1, 1, 0)
    );

    // A delivery that made no job is remembered too.
    assert!(store.record_delivery("d2", "ping").await.unwrap());
    assert!(!store.record_delivery("d2", "ping").await.unwrap());
    assert!(
        !store
            .record_delivery("d1", "pull_request.synchronize")
            .await
            .unwrap()
    );
    assert_eq!(
        store.enqueue("d2", &job).await.unwrap(),
        EnqueueOutcome::Duplicate { job_id: None }
    );
    assert_eq!(store.stats().await.unwrap().deliveries, 2);
}

async fn deliveries_for_the_same_head_coalesce_into_a_live_job(store: &dyn JobQueue) {
    let job = review("octo/app", 1, "a");
    let id = enqueued(store.enqueue("d1", &job).await.unwrap());
    assert_eq!(
        store.enqueue("d2", &job).await.unwrap(),
        EnqueueOutcome::Coalesced { job_id: id }
    );

    let claimed = store.claim("w", LONG).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert_eq!(
        store.enqueue("d3", &job).await.unwrap(),
        EnqueueOutcome::Coalesced { job_id: id },
        "a running job for the head takes the delivery in"
    );

    // Other repositories and pull requests with the same head are other jobs.
    enqueued(
        store
            .enqueue("d4", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );
    enqueued(
        store
            .enqueue("d5", &review("octo/other", 1, "a"))
            .await
            .unwrap(),
    );

    // A finished job does not: asking again reviews again.
    store
        .complete(id, "w", &JobOutcome::Succeeded)
        .await
        .unwrap();
    let again = enqueued(store.enqueue("d6", &job).await.unwrap());
    assert_ne!(again, id);
    assert_eq!(store.stats().await.unwrap().deliveries, 6);
}

async fn a_newer_head_supersedes_queued_jobs_and_stops_running_ones(store: &dyn JobQueue) {
    let other_pr = enqueued(
        store
            .enqueue("o1", &review("octo/app", 9, "x"))
            .await
            .unwrap(),
    );
    let first = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );

    let second = enqueued(
        store
            .enqueue("d2", &review("octo/app", 1, "b"))
            .await
            .unwrap(),
    );
    let superseded = store.job(first).await.unwrap().unwrap();
    assert_eq!(superseded.state, JobState::Superseded);
    assert!(superseded.finished_at.is_some());
    assert_eq!(state(store, other_pr).await, JobState::Queued, "another PR");

    // The queue now holds the other PR's job and `second`, in that order.
    assert_eq!(store.claim("w", LONG).await.unwrap().unwrap().id, other_pr);
    let running = store.claim("w", LONG).await.unwrap().unwrap();
    assert_eq!(running.id, second);
    assert!(store.heartbeat(second, "w", LONG).await.unwrap());

    let third = enqueued(
        store
            .enqueue("d3", &review("octo/app", 1, "c"))
            .await
            .unwrap(),
    );
    let flagged = store.job(second).await.unwrap().unwrap();
    assert_eq!(flagged.state, JobState::Running);
    assert!(flagged.cancel_requested);
    assert!(
        !store.heartbeat(second, "w", LONG).await.unwrap(),
        "the worker must stop"
    );
    assert!(store.heartbeat(other_pr, "w", LONG).await.unwrap());

    // A job asked to stop takes no more deliveries: going back to head `b`
    // (a force-push) is a new job, and supersedes `c`.
    let back = enqueued(
        store
            .enqueue("d4", &review("octo/app", 1, "b"))
            .await
            .unwrap(),
    );
    assert_ne!(back, second);
    assert_eq!(state(store, third).await, JobState::Superseded);

    store
        .complete(second, "w", &JobOutcome::Cancelled)
        .await
        .unwrap();
    assert_eq!(state(store, second).await, JobState::Superseded);
    assert_eq!(store.stats().await.unwrap().superseded, 3);
}

async fn closing_a_pull_request_cancels_its_jobs(store: &dyn JobQueue) {
    let running = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    assert_eq!(store.claim("w", LONG).await.unwrap().unwrap().id, running);
    let released = enqueued(
        store
            .enqueue("d2", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );
    assert_eq!(store.claim("v", LONG).await.unwrap().unwrap().id, released);
    // `d3` is a newer head for PR 1: it supersedes nothing queued, flags `running`.
    let queued = enqueued(
        store
            .enqueue("d3", &review("octo/app", 1, "b"))
            .await
            .unwrap(),
    );
    let elsewhere = enqueued(
        store
            .enqueue("d4", &review("octo/app", 3, "a"))
            .await
            .unwrap(),
    );

    // `running` already has a cancel request (superseded): only `queued` counts.
    assert_eq!(store.cancel_pr("octo/app", 1).await.unwrap(), 1);
    assert_eq!(state(store, queued).await, JobState::Cancelled);
    assert!(
        store
            .job(queued)
            .await
            .unwrap()
            .unwrap()
            .finished_at
            .is_some()
    );
    assert_eq!(store.cancel_pr("octo/app", 2).await.unwrap(), 1);
    assert!(store.job(released).await.unwrap().unwrap().cancel_requested);
    assert!(!store.heartbeat(released, "v", LONG).await.unwrap());
    assert_eq!(
        store.cancel_pr("octo/app", 1).await.unwrap(),
        0,
        "idempotent"
    );
    assert_eq!(state(store, elsewhere).await, JobState::Queued);

    // A worker stopping on request ends the job in the state asked for; one
    // handed back on shutdown does not go back to the queue.
    store
        .complete(running, "w", &JobOutcome::Cancelled)
        .await
        .unwrap();
    assert_eq!(state(store, running).await, JobState::Superseded);
    store.release(released, "v").await.unwrap();
    assert_eq!(state(store, released).await, JobState::Cancelled);

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.cancelled, stats.superseded, stats.queued), (2, 1, 1));
}

async fn claims_go_oldest_first(store: &dyn JobQueue) {
    let mut ids = Vec::new();
    for pr in 1..=3 {
        ids.push(enqueued(
            store
                .enqueue(&format!("d{pr}"), &review("octo/app", pr, "h"))
                .await
                .unwrap(),
        ));
    }
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));

    let before = SystemTime::now();
    let job = store
        .claim("worker-1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, ids[0]);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.worker.as_deref(), Some("worker-1"));
    assert_eq!(job.attempts, 1);
    assert_eq!(job.delivery_id, "d1");
    assert_eq!(job, {
        let mut expected = store.job(job.id).await.unwrap().unwrap();
        expected.state = JobState::Running;
        expected
    });
    let lease = job.lease_until.unwrap().duration_since(before).unwrap();
    assert!(
        lease >= Duration::from_secs(59) && lease <= Duration::from_secs(61),
        "{lease:?}"
    );
    assert!(job.started_at.unwrap() >= job.created_at);

    assert_eq!(
        store.claim("worker-2", LONG).await.unwrap().unwrap().id,
        ids[1]
    );
    assert_eq!(
        store.claim("worker-1", LONG).await.unwrap().unwrap().id,
        ids[2]
    );
    assert_eq!(store.claim("worker-2", LONG).await.unwrap(), None);
}

async fn an_expired_lease_requeues_and_counts_the_attempt_until_max_attempts(store: &dyn JobQueue) {
    let short = Duration::from_millis(150);
    let id = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    let healthy = enqueued(
        store
            .enqueue("d2", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );

    for attempt in 1..=2 {
        let job = store.claim("w", short).await.unwrap().unwrap();
        assert_eq!((job.id, job.attempts), (id, attempt));
        assert_eq!(
            store.requeue_expired(3).await.unwrap(),
            0,
            "the lease still runs"
        );
        outlive(short).await;
        assert_eq!(store.requeue_expired(3).await.unwrap(), 1);
        let job = store.job(id).await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.attempts, job.worker),
            (JobState::Queued, attempt, None)
        );
        // The late worker's result is not taken.
        assert!(!store.heartbeat(id, "w", LONG).await.unwrap());
        assert!(matches!(
            store.complete(id, "w", &JobOutcome::Succeeded).await,
            Err(QueueError::NotHeld { job_id, .. }) if job_id == id
        ));
    }

    // A worker that heartbeats keeps its job past the first lease.
    let job = store.claim("w", short).await.unwrap().unwrap();
    assert_eq!((job.id, job.attempts), (id, 3));
    let other = store.claim("v", short).await.unwrap().unwrap();
    assert_eq!(other.id, healthy);
    assert!(store.heartbeat(healthy, "v", LONG).await.unwrap());
    assert!(
        !store.heartbeat(healthy, "w", LONG).await.unwrap(),
        "not w's"
    );
    outlive(short).await;

    assert_eq!(
        store.requeue_expired(3).await.unwrap(),
        0,
        "the third attempt was the last"
    );
    let failed = store.job(id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .starts_with("gave up after 3 attempts"),
        "{:?}",
        failed.error
    );
    assert!(failed.finished_at.is_some());
    assert_eq!(state(store, healthy).await, JobState::Running);
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.failed, stats.running, stats.durations.count),
        (1, 1, 0)
    );
}

async fn an_expired_job_asked_to_stop_is_not_run_again(store: &dyn JobQueue) {
    let short = Duration::from_millis(10);
    let id = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    store.claim("w", short).await.unwrap().unwrap();
    assert_eq!(store.cancel_pr("octo/app", 1).await.unwrap(), 1);
    outlive(short).await;
    assert_eq!(store.requeue_expired(3).await.unwrap(), 0);
    assert_eq!(state(store, id).await, JobState::Cancelled);
}

async fn releasing_on_shutdown_does_not_burn_an_attempt(store: &dyn JobQueue) {
    let id = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    let later = enqueued(
        store
            .enqueue("d2", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );
    assert_eq!(store.claim("w", LONG).await.unwrap().unwrap().id, id);

    assert!(matches!(
        store.release(id, "someone-else").await,
        Err(QueueError::NotHeld { .. })
    ));
    store.release(id, "w").await.unwrap();
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (
            job.state,
            job.attempts,
            job.worker,
            job.lease_until,
            job.started_at
        ),
        (JobState::Queued, 0, None, None, None)
    );
    assert!(matches!(
        store.release(id, "w").await,
        Err(QueueError::NotHeld { .. })
    ));
    assert!(matches!(
        store.complete(id, "w", &JobOutcome::Succeeded).await,
        Err(QueueError::NotHeld { .. })
    ));

    // It keeps its place: first in line again.
    let again = store.claim("w2", LONG).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 1));
    assert_eq!(store.claim("w2", LONG).await.unwrap().unwrap().id, later);
    for _ in 0..5 {
        store.release(later, "w2").await.unwrap();
        store.claim("w2", LONG).await.unwrap().unwrap();
    }
    assert_eq!(store.job(later).await.unwrap().unwrap().attempts, 1);
}

async fn completing_records_the_outcome_and_the_duration(store: &dyn JobQueue) {
    let ok = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    let bad = enqueued(
        store
            .enqueue("d2", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );
    store.claim("w", LONG).await.unwrap().unwrap();
    store.claim("w", LONG).await.unwrap().unwrap();
    sleep(Duration::from_millis(20)).await;
    store
        .complete(ok, "w", &JobOutcome::Succeeded)
        .await
        .unwrap();
    store
        .complete(
            bad,
            "w",
            &JobOutcome::Failed {
                error: "docker build failed".to_owned(),
            },
        )
        .await
        .unwrap();

    let ok = store.job(ok).await.unwrap().unwrap();
    assert_eq!((ok.state, ok.error), (JobState::Succeeded, None));
    assert!(ok.duration.unwrap() >= Duration::from_millis(20));
    assert!(ok.finished_at.unwrap() >= ok.started_at.unwrap());
    assert_eq!(ok.lease_until, None);
    let bad = store.job(bad).await.unwrap().unwrap();
    assert_eq!(bad.state, JobState::Failed);
    assert_eq!(bad.error.as_deref(), Some("docker build failed"));
    assert!(matches!(
        store.complete(bad.id, "w", &JobOutcome::Succeeded).await,
        Err(QueueError::NotHeld { .. })
    ));
    assert_eq!(store.job(123_456).await.unwrap(), None);
}

async fn stats_count_every_state_and_the_duration_histogram(store: &dyn JobQueue) {
    let empty = store.stats().await.unwrap();
    assert_eq!(
        (
            empty.queued,
            empty.running,
            empty.succeeded,
            empty.deliveries,
            empty.durations.count
        ),
        (0, 0, 0, 0, 0)
    );
    let bounds: Vec<f64> = empty.durations.buckets.iter().map(|&(le, _)| le).collect();
    assert_eq!(bounds, [1.0, 5.0, 15.0, 60.0, 300.0, 900.0, f64::INFINITY]);

    for pr in 1..=4 {
        store
            .enqueue(&format!("d{pr}"), &review("octo/app", pr, "a"))
            .await
            .unwrap();
    }
    store
        .enqueue("d5", &review("octo/app", 4, "b"))
        .await
        .unwrap(); // supersedes PR 4's
    store
        .enqueue("d6", &review("octo/app", 5, "a"))
        .await
        .unwrap();
    store.cancel_pr("octo/app", 5).await.unwrap();
    store.record_delivery("d7", "ping").await.unwrap();
    let a = store.claim("w", LONG).await.unwrap().unwrap();
    let b = store.claim("w", LONG).await.unwrap().unwrap();
    store.claim("w", LONG).await.unwrap().unwrap();
    store
        .complete(a.id, "w", &JobOutcome::Succeeded)
        .await
        .unwrap();
    store
        .complete(
            b.id,
            "w",
            &JobOutcome::Failed {
                error: "x".to_owned(),
            },
        )
        .await
        .unwrap();

    let stats = store.stats().await.unwrap();
    assert_eq!(stats.queued, 1, "PR 4's newer head");
    assert_eq!(stats.running, 1);
    assert_eq!(stats.succeeded, 1);
    assert_eq!(stats.failed, 1);
    assert_eq!(stats.cancelled, 1);
    assert_eq!(stats.superseded, 1);
    assert_eq!(stats.deliveries, 7);
    assert_eq!(stats.durations.count, 2);
    assert!(stats.durations.sum_seconds >= 0.0 && stats.durations.sum_seconds < 2.0);
    // Cumulative: both took under a second, so every bucket holds both.
    assert!(stats.durations.buckets.iter().all(|&(_, count)| count == 2));
}

async fn latest_head_follows_the_newest_job_of_each_pull_request(store: &dyn JobQueue) {
    assert_eq!(store.latest_head("octo/app", 1).await.unwrap(), None);
    store
        .enqueue("d1", &review("octo/app", 1, "a"))
        .await
        .unwrap();
    store
        .enqueue("d2", &review("octo/app", 2, "x"))
        .await
        .unwrap();
    assert_eq!(
        store.latest_head("octo/app", 1).await.unwrap().as_deref(),
        Some("a")
    );
    store
        .enqueue("d3", &review("octo/app", 1, "b"))
        .await
        .unwrap();
    assert_eq!(
        store.latest_head("octo/app", 1).await.unwrap().as_deref(),
        Some("b")
    );
    // A redelivery of the older push changes nothing.
    store
        .enqueue("d1", &review("octo/app", 1, "a"))
        .await
        .unwrap();
    assert_eq!(
        store.latest_head("octo/app", 1).await.unwrap().as_deref(),
        Some("b")
    );
    assert_eq!(
        store.latest_head("octo/app", 2).await.unwrap().as_deref(),
        Some("x")
    );
    assert_eq!(store.latest_head("octo/other", 1).await.unwrap(), None);
}

async fn repositories_of_active_installations_are_listed_for_the_reconciler(store: &dyn JobQueue) {
    store.set_installation(1, "octo", true).await.unwrap();
    store.set_repository(1, "octo/b", true).await.unwrap();
    store.set_repository(1, "octo/a", true).await.unwrap();
    store.set_repository(1, "octo/a", true).await.unwrap();
    // A repository event for an installation not seen yet.
    store.set_repository(2, "hubot/x", true).await.unwrap();
    assert_eq!(
        store.repositories().await.unwrap(),
        [
            (1, "octo/a".to_owned()),
            (1, "octo/b".to_owned()),
            (2, "hubot/x".to_owned())
        ]
    );

    store.set_repository(1, "octo/a", false).await.unwrap();
    store.set_installation(2, "hubot", false).await.unwrap();
    assert_eq!(
        store.repositories().await.unwrap(),
        [(1, "octo/b".to_owned())]
    );
    store.set_installation(2, "hubot", true).await.unwrap();
    store
        .set_repositories(1, &["octo/c".to_owned(), "octo/d".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        store.repositories().await.unwrap(),
        [
            (1, "octo/c".to_owned()),
            (1, "octo/d".to_owned()),
            (2, "hubot/x".to_owned())
        ]
    );
}

async fn pruning_forgets_old_deliveries_and_finished_jobs_but_not_counts(store: &dyn JobQueue) {
    let done = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    let live = enqueued(
        store
            .enqueue("d2", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );
    store.claim("w", LONG).await.unwrap().unwrap();
    store
        .complete(done, "w", &JobOutcome::Succeeded)
        .await
        .unwrap();
    let newest = enqueued(
        store
            .enqueue("d3", &review("octo/app", 3, "a"))
            .await
            .unwrap(),
    );
    store.cancel_pr("octo/app", 3).await.unwrap();
    let before = store.stats().await.unwrap();

    assert_eq!(
        store.prune(LONG).await.unwrap(),
        Default::default(),
        "nothing is old yet"
    );
    sleep(Duration::from_millis(5)).await;
    let report = store.prune(Duration::ZERO).await.unwrap();
    assert_eq!((report.deliveries, report.jobs), (3, 1));
    assert_eq!(store.job(done).await.unwrap(), None);
    assert!(store.job(live).await.unwrap().is_some(), "queued jobs stay");
    assert!(
        store.job(newest).await.unwrap().is_some(),
        "the newest job keeps its ID taken"
    );
    assert_eq!(store.stats().await.unwrap(), before);
    assert_eq!(
        store.latest_head("octo/app", 1).await.unwrap().as_deref(),
        Some("a")
    );
    // A forgotten delivery is new again.
    assert!(matches!(
        store.enqueue("d1", &review("octo/app", 1, "a")).await.unwrap(),
        EnqueueOutcome::Enqueued { job_id } if job_id > newest
    ));
}

async fn a_job_put_off_waits_its_time_in_its_place_without_burning_an_attempt(
    store: &dyn JobQueue,
) {
    let id = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    let other = enqueued(
        store
            .enqueue("d2", &review("octo/app", 2, "a"))
            .await
            .unwrap(),
    );
    assert_eq!(store.claim("w", LONG).await.unwrap().unwrap().id, id);
    let wait = Duration::from_millis(300);
    let put_off = JobOutcome::RetryLater {
        after: wait,
        reason: "GitHub's rate limit was hit; it asks to wait 120s".to_owned(),
    };
    assert!(matches!(
        store.complete(id, "someone-else", &put_off).await,
        Err(QueueError::NotHeld { .. })
    ));
    let before = SystemTime::now();
    store.complete(id, "w", &put_off).await.unwrap();
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts, job.deferrals, job.worker),
        (JobState::Queued, 0, 1, None)
    );
    assert_eq!(
        job.error.as_deref(),
        Some("GitHub's rate limit was hit; it asks to wait 120s")
    );
    let run_after = job.run_after.expect("a time to run after");
    assert!(run_after >= before + wait - Duration::from_millis(1));
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.queued, stats.deferred, stats.deferrals, stats.failed),
        (2, 1, 1, 0)
    );

    // Passed over until then: the next job runs meanwhile.
    assert_eq!(store.claim("w", LONG).await.unwrap().unwrap().id, other);
    assert_eq!(store.claim("w", LONG).await.unwrap(), None);
    outlive(wait).await;
    let again = store.claim("w", LONG).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts, again.deferrals), (id, 1, 1));

    // Put off many times, it never runs out of attempts.
    for _ in 0..5 {
        store
            .complete(
                id,
                "w",
                &JobOutcome::RetryLater {
                    after: Duration::ZERO,
                    reason: "GitHub answered 502".to_owned(),
                },
            )
            .await
            .unwrap();
        store.claim("w", LONG).await.unwrap().unwrap();
    }
    assert_eq!(store.requeue_expired(1).await.unwrap(), 0);
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts, job.deferrals),
        (JobState::Running, 1, 6)
    );
    assert_eq!(store.stats().await.unwrap().deferrals, 6);
}

async fn a_job_asked_to_stop_is_not_put_off_but_ends(store: &dyn JobQueue) {
    let id = enqueued(
        store
            .enqueue("d1", &review("octo/app", 1, "a"))
            .await
            .unwrap(),
    );
    store.claim("w", LONG).await.unwrap().unwrap();
    store
        .enqueue("d2", &review("octo/app", 1, "b"))
        .await
        .unwrap();
    store
        .complete(
            id,
            "w",
            &JobOutcome::RetryLater {
                after: LONG,
                reason: "rate limited".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(state(store, id).await, JobState::Superseded);
}
