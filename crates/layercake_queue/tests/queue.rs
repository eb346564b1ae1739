//! The queue's behaviour through its public API, on real database files.

use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use layercake_queue::{EnqueueOutcome, JobOutcome, JobState, JobStore, NewJob, QueueError};
use tempfile::TempDir;

const LONG: Duration = Duration::from_secs(600);

fn store() -> (TempDir, JobStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = JobStore::open(&dir.path().join("jobs.db")).expect("open the store");
    (dir, store)
}

fn review(repository: &str, pr_number: u64, head: &str) -> NewJob {
    NewJob {
        repository: repository.to_owned(),
        installation_id: Some(42),
        pr_number,
        head_sha: head.to_owned(),
        base_sha: "base".to_owned(),
        clone_url: format!("https://github.com/{repository}.git"),
        event: "pull_request.synchronize".to_owned(),
        trigger: None,
    }
}

fn enqueued(outcome: EnqueueOutcome) -> i64 {
    match outcome {
        EnqueueOutcome::Enqueued { job_id } => job_id,
        other => panic!("expected a new job, got {other:?}"),
    }
}

fn state(store: &JobStore, job_id: i64) -> JobState {
    store
        .job(job_id)
        .expect("read job")
        .expect("the job exists")
        .state
}

/// Waits until `lease` has surely run out (times are whole milliseconds).
fn outlive(lease: Duration) {
    sleep(lease + Duration::from_millis(5));
}

#[test]
fn a_redelivery_is_not_a_second_job() {
    let (_dir, store) = store();
    let job = review("octo/app", 1, "a");
    let id = enqueued(store.enqueue("d1", &job).unwrap());
    assert_eq!(
        store.enqueue("d1", &job).unwrap(),
        EnqueueOutcome::Duplicate { job_id: Some(id) }
    );
    // Even when the redelivery would now say something else.
    assert_eq!(
        store.enqueue("d1", &review("octo/app", 1, "b")).unwrap(),
        EnqueueOutcome::Duplicate { job_id: Some(id) }
    );
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.queued, stats.deliveries, stats.superseded),
        (1, 1, 0)
    );

    // A delivery that made no job is remembered too.
    assert!(store.record_delivery("d2", "ping").unwrap());
    assert!(!store.record_delivery("d2", "ping").unwrap());
    assert!(
        !store
            .record_delivery("d1", "pull_request.synchronize")
            .unwrap()
    );
    assert_eq!(
        store.enqueue("d2", &job).unwrap(),
        EnqueueOutcome::Duplicate { job_id: None }
    );
    assert_eq!(store.stats().unwrap().deliveries, 2);
}

#[test]
fn deliveries_for_the_same_head_coalesce_into_a_live_job() {
    let (_dir, store) = store();
    let job = review("octo/app", 1, "a");
    let id = enqueued(store.enqueue("d1", &job).unwrap());
    assert_eq!(
        store.enqueue("d2", &job).unwrap(),
        EnqueueOutcome::Coalesced { job_id: id }
    );

    let claimed = store.claim("w", LONG).unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert_eq!(
        store.enqueue("d3", &job).unwrap(),
        EnqueueOutcome::Coalesced { job_id: id },
        "a running job for the head takes the delivery in"
    );

    // Other repositories and pull requests with the same head are other jobs.
    enqueued(store.enqueue("d4", &review("octo/app", 2, "a")).unwrap());
    enqueued(store.enqueue("d5", &review("octo/other", 1, "a")).unwrap());

    // A finished job does not: asking again reviews again.
    store.complete(id, "w", &JobOutcome::Succeeded).unwrap();
    let again = enqueued(store.enqueue("d6", &job).unwrap());
    assert_ne!(again, id);
    assert_eq!(store.stats().unwrap().deliveries, 6);
}

#[test]
fn a_newer_head_supersedes_queued_jobs_and_stops_running_ones() {
    let (_dir, store) = store();
    let other_pr = enqueued(store.enqueue("o1", &review("octo/app", 9, "x")).unwrap());
    let first = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());

    let second = enqueued(store.enqueue("d2", &review("octo/app", 1, "b")).unwrap());
    let superseded = store.job(first).unwrap().unwrap();
    assert_eq!(superseded.state, JobState::Superseded);
    assert!(superseded.finished_at.is_some());
    assert_eq!(state(&store, other_pr), JobState::Queued, "another PR");

    // The queue now holds the other PR's job and `second`, in that order.
    assert_eq!(store.claim("w", LONG).unwrap().unwrap().id, other_pr);
    let running = store.claim("w", LONG).unwrap().unwrap();
    assert_eq!(running.id, second);
    assert!(store.heartbeat(second, "w", LONG).unwrap());

    let third = enqueued(store.enqueue("d3", &review("octo/app", 1, "c")).unwrap());
    let flagged = store.job(second).unwrap().unwrap();
    assert_eq!(flagged.state, JobState::Running);
    assert!(flagged.cancel_requested);
    assert!(
        !store.heartbeat(second, "w", LONG).unwrap(),
        "the worker must stop"
    );
    assert!(store.heartbeat(other_pr, "w", LONG).unwrap());

    // A job asked to stop takes no more deliveries: going back to head `b`
    // (a force-push) is a new job, and supersedes `c`.
    let back = enqueued(store.enqueue("d4", &review("octo/app", 1, "b")).unwrap());
    assert_ne!(back, second);
    assert_eq!(state(&store, third), JobState::Superseded);

    store.complete(second, "w", &JobOutcome::Cancelled).unwrap();
    assert_eq!(state(&store, second), JobState::Superseded);
    assert_eq!(store.stats().unwrap().superseded, 3);
}

#[test]
fn closing_a_pull_request_cancels_its_jobs() {
    let (_dir, store) = store();
    let running = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    assert_eq!(store.claim("w", LONG).unwrap().unwrap().id, running);
    let released = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
    assert_eq!(store.claim("v", LONG).unwrap().unwrap().id, released);
    // `d3` is a newer head for PR 1: it supersedes nothing queued, flags `running`.
    let queued = enqueued(store.enqueue("d3", &review("octo/app", 1, "b")).unwrap());
    let elsewhere = enqueued(store.enqueue("d4", &review("octo/app", 3, "a")).unwrap());

    // `running` already has a cancel request (superseded): only `queued` counts.
    assert_eq!(store.cancel_pr("octo/app", 1).unwrap(), 1);
    assert_eq!(state(&store, queued), JobState::Cancelled);
    assert!(store.job(queued).unwrap().unwrap().finished_at.is_some());
    assert_eq!(store.cancel_pr("octo/app", 2).unwrap(), 1);
    assert!(store.job(released).unwrap().unwrap().cancel_requested);
    assert!(!store.heartbeat(released, "v", LONG).unwrap());
    assert_eq!(store.cancel_pr("octo/app", 1).unwrap(), 0, "idempotent");
    assert_eq!(state(&store, elsewhere), JobState::Queued);

    // A worker stopping on request ends the job in the state asked for; one
    // handed back on shutdown does not go back to the queue.
    store
        .complete(running, "w", &JobOutcome::Cancelled)
        .unwrap();
    assert_eq!(state(&store, running), JobState::Superseded);
    store.release(released, "v").unwrap();
    assert_eq!(state(&store, released), JobState::Cancelled);

    let stats = store.stats().unwrap();
    assert_eq!((stats.cancelled, stats.superseded, stats.queued), (2, 1, 1));
}

#[test]
fn claims_go_oldest_first() {
    let (_dir, store) = store();
    let ids: Vec<i64> = (1..=3)
        .map(|pr| {
            enqueued(
                store
                    .enqueue(&format!("d{pr}"), &review("octo/app", pr, "h"))
                    .unwrap(),
            )
        })
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));

    let before = SystemTime::now();
    let job = store
        .claim("worker-1", Duration::from_secs(60))
        .unwrap()
        .unwrap();
    assert_eq!(job.id, ids[0]);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.worker.as_deref(), Some("worker-1"));
    assert_eq!(job.attempts, 1);
    assert_eq!(job.delivery_id, "d1");
    assert_eq!(job, {
        let mut expected = store.job(job.id).unwrap().unwrap();
        expected.state = JobState::Running;
        expected
    });
    let lease = job.lease_until.unwrap().duration_since(before).unwrap();
    assert!(
        lease >= Duration::from_secs(59) && lease <= Duration::from_secs(61),
        "{lease:?}"
    );
    assert!(job.started_at.unwrap() >= job.created_at);

    assert_eq!(store.claim("worker-2", LONG).unwrap().unwrap().id, ids[1]);
    assert_eq!(store.claim("worker-1", LONG).unwrap().unwrap().id, ids[2]);
    assert_eq!(store.claim("worker-2", LONG).unwrap(), None);
}

#[test]
fn an_expired_lease_requeues_and_counts_the_attempt_until_max_attempts() {
    let (_dir, store) = store();
    let short = Duration::from_millis(150);
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    let healthy = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());

    for attempt in 1..=2 {
        let job = store.claim("w", short).unwrap().unwrap();
        assert_eq!((job.id, job.attempts), (id, attempt));
        assert_eq!(store.requeue_expired(3).unwrap(), 0, "the lease still runs");
        outlive(short);
        assert_eq!(store.requeue_expired(3).unwrap(), 1);
        let job = store.job(id).unwrap().unwrap();
        assert_eq!(
            (job.state, job.attempts, job.worker),
            (JobState::Queued, attempt, None)
        );
        // The late worker's result is not taken.
        assert!(!store.heartbeat(id, "w", LONG).unwrap());
        assert!(matches!(
            store.complete(id, "w", &JobOutcome::Succeeded),
            Err(QueueError::NotHeld { job_id, .. }) if job_id == id
        ));
    }

    // A worker that heartbeats keeps its job past the first lease.
    let job = store.claim("w", short).unwrap().unwrap();
    assert_eq!((job.id, job.attempts), (id, 3));
    let other = store.claim("v", short).unwrap().unwrap();
    assert_eq!(other.id, healthy);
    assert!(store.heartbeat(healthy, "v", LONG).unwrap());
    assert!(!store.heartbeat(healthy, "w", LONG).unwrap(), "not w's");
    outlive(short);

    assert_eq!(
        store.requeue_expired(3).unwrap(),
        0,
        "the third attempt was the last"
    );
    let failed = store.job(id).unwrap().unwrap();
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
    assert_eq!(state(&store, healthy), JobState::Running);
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.failed, stats.running, stats.durations.count),
        (1, 1, 0)
    );
}

#[test]
fn an_expired_job_asked_to_stop_is_not_run_again() {
    let (_dir, store) = store();
    let short = Duration::from_millis(10);
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    store.claim("w", short).unwrap().unwrap();
    assert_eq!(store.cancel_pr("octo/app", 1).unwrap(), 1);
    outlive(short);
    assert_eq!(store.requeue_expired(3).unwrap(), 0);
    assert_eq!(state(&store, id), JobState::Cancelled);
}

#[test]
fn requeue_all_running_takes_back_unexpired_leases_at_startup() {
    let (_dir, store) = store();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    store.claim("dead-process", LONG).unwrap().unwrap();
    assert_eq!(store.requeue_expired(3).unwrap(), 0);
    assert_eq!(store.requeue_all_running(3).unwrap(), 1);
    let job = store.job(id).unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1));
}

#[test]
fn releasing_on_shutdown_does_not_burn_an_attempt() {
    let (_dir, store) = store();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    let later = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
    assert_eq!(store.claim("w", LONG).unwrap().unwrap().id, id);

    assert!(matches!(
        store.release(id, "someone-else"),
        Err(QueueError::NotHeld { .. })
    ));
    store.release(id, "w").unwrap();
    let job = store.job(id).unwrap().unwrap();
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
        store.release(id, "w"),
        Err(QueueError::NotHeld { .. })
    ));
    assert!(matches!(
        store.complete(id, "w", &JobOutcome::Succeeded),
        Err(QueueError::NotHeld { .. })
    ));

    // It keeps its place: first in line again.
    let again = store.claim("w2", LONG).unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 1));
    assert_eq!(store.claim("w2", LONG).unwrap().unwrap().id, later);
    for _ in 0..5 {
        store.release(later, "w2").unwrap();
        store.claim("w2", LONG).unwrap().unwrap();
    }
    assert_eq!(store.job(later).unwrap().unwrap().attempts, 1);
}

#[test]
fn a_job_put_off_waits_its_time_in_its_place_without_burning_an_attempt() {
    let (_dir, store) = store();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    let other = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
    assert_eq!(store.claim("w", LONG).unwrap().unwrap().id, id);
    let wait = Duration::from_millis(300);
    let put_off = JobOutcome::RetryLater {
        after: wait,
        reason: "GitHub's rate limit was hit; it asks to wait 120s".to_owned(),
    };
    assert!(matches!(
        store.complete(id, "someone-else", &put_off),
        Err(QueueError::NotHeld { .. })
    ));
    let before = SystemTime::now();
    store.complete(id, "w", &put_off).unwrap();
    let job = store.job(id).unwrap().unwrap();
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
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.queued, stats.deferred, stats.deferrals, stats.failed),
        (2, 1, 1, 0)
    );

    // Passed over until then: the next job runs meanwhile.
    assert_eq!(store.claim("w", LONG).unwrap().unwrap().id, other);
    assert_eq!(store.claim("w", LONG).unwrap(), None);
    outlive(wait);
    let again = store.claim("w", LONG).unwrap().unwrap();
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
            .unwrap();
        store.claim("w", LONG).unwrap().unwrap();
    }
    assert_eq!(store.requeue_expired(1).unwrap(), 0);
    let job = store.job(id).unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts, job.deferrals),
        (JobState::Running, 1, 6)
    );
    assert_eq!(store.stats().unwrap().deferrals, 6);
}

#[test]
fn a_job_asked_to_stop_is_not_put_off_but_ends() {
    let (_dir, store) = store();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    store.claim("w", LONG).unwrap().unwrap();
    store.enqueue("d2", &review("octo/app", 1, "b")).unwrap();
    store
        .complete(
            id,
            "w",
            &JobOutcome::RetryLater {
                after: LONG,
                reason: "rate limited".to_owned(),
            },
        )
        .unwrap();
    assert_eq!(state(&store, id), JobState::Superseded);
}

#[test]
fn a_version_1_file_is_migrated_with_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let id = {
        let store = JobStore::open(&path).unwrap();
        enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap())
    };
    // Back to what version 1 wrote: the columns and counter of version 2 gone.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER jobs_count_deferral; DELETE FROM counters WHERE name = 'deferrals';
             DROP INDEX jobs_queued; ALTER TABLE jobs DROP COLUMN run_after;
             ALTER TABLE jobs DROP COLUMN deferrals;
             CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = JobStore::open(&path).unwrap();
    let job = store.claim("w", LONG).unwrap().unwrap();
    assert_eq!((job.id, job.deferrals, job.run_after), (id, 0, None));
    store
        .complete(
            id,
            "w",
            &JobOutcome::RetryLater {
                after: Duration::ZERO,
                reason: "GitHub answered 503".to_owned(),
            },
        )
        .unwrap();
    assert_eq!(store.stats().unwrap().deferrals, 1);
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn completing_records_the_outcome_and_the_duration() {
    let (_dir, store) = store();
    let ok = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    let bad = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
    store.claim("w", LONG).unwrap().unwrap();
    store.claim("w", LONG).unwrap().unwrap();
    sleep(Duration::from_millis(20));
    store.complete(ok, "w", &JobOutcome::Succeeded).unwrap();
    store
        .complete(
            bad,
            "w",
            &JobOutcome::Failed {
                error: "docker build failed".to_owned(),
            },
        )
        .unwrap();

    let ok = store.job(ok).unwrap().unwrap();
    assert_eq!((ok.state, ok.error), (JobState::Succeeded, None));
    assert!(ok.duration.unwrap() >= Duration::from_millis(20));
    assert!(ok.finished_at.unwrap() >= ok.started_at.unwrap());
    assert_eq!(ok.lease_until, None);
    let bad = store.job(bad).unwrap().unwrap();
    assert_eq!(bad.state, JobState::Failed);
    assert_eq!(bad.error.as_deref(), Some("docker build failed"));
    assert!(matches!(
        store.complete(bad.id, "w", &JobOutcome::Succeeded),
        Err(QueueError::NotHeld { .. })
    ));
    assert_eq!(store.job(123_456).unwrap(), None);
}

#[test]
fn stats_count_every_state_and_the_duration_histogram() {
    let (_dir, store) = store();
    let empty = store.stats().unwrap();
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
            .unwrap();
    }
    store.enqueue("d5", &review("octo/app", 4, "b")).unwrap(); // supersedes PR 4's
    store.enqueue("d6", &review("octo/app", 5, "a")).unwrap();
    store.cancel_pr("octo/app", 5).unwrap();
    store.record_delivery("d7", "ping").unwrap();
    let a = store.claim("w", LONG).unwrap().unwrap();
    let b = store.claim("w", LONG).unwrap().unwrap();
    store.claim("w", LONG).unwrap().unwrap();
    store.complete(a.id, "w", &JobOutcome::Succeeded).unwrap();
    store
        .complete(
            b.id,
            "w",
            &JobOutcome::Failed {
                error: "x".to_owned(),
            },
        )
        .unwrap();

    let stats = store.stats().unwrap();
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

#[test]
fn latest_head_follows_the_newest_job_of_each_pull_request() {
    let (_dir, store) = store();
    assert_eq!(store.latest_head("octo/app", 1).unwrap(), None);
    store.enqueue("d1", &review("octo/app", 1, "a")).unwrap();
    store.enqueue("d2", &review("octo/app", 2, "x")).unwrap();
    assert_eq!(
        store.latest_head("octo/app", 1).unwrap().as_deref(),
        Some("a")
    );
    store.enqueue("d3", &review("octo/app", 1, "b")).unwrap();
    assert_eq!(
        store.latest_head("octo/app", 1).unwrap().as_deref(),
        Some("b")
    );
    // A redelivery of the older push changes nothing.
    store.enqueue("d1", &review("octo/app", 1, "a")).unwrap();
    assert_eq!(
        store.latest_head("octo/app", 1).unwrap().as_deref(),
        Some("b")
    );
    assert_eq!(
        store.latest_head("octo/app", 2).unwrap().as_deref(),
        Some("x")
    );
    assert_eq!(store.latest_head("octo/other", 1).unwrap(), None);
}

#[test]
fn repositories_of_active_installations_are_listed_for_the_reconciler() {
    let (_dir, store) = store();
    store.set_installation(1, "octo", true).unwrap();
    store.set_repository(1, "octo/b", true).unwrap();
    store.set_repository(1, "octo/a", true).unwrap();
    store.set_repository(1, "octo/a", true).unwrap();
    // A repository event for an installation not seen yet.
    store.set_repository(2, "hubot/x", true).unwrap();
    assert_eq!(
        store.repositories().unwrap(),
        [
            (1, "octo/a".to_owned()),
            (1, "octo/b".to_owned()),
            (2, "hubot/x".to_owned())
        ]
    );

    store.set_repository(1, "octo/a", false).unwrap();
    store.set_installation(2, "hubot", false).unwrap();
    assert_eq!(store.repositories().unwrap(), [(1, "octo/b".to_owned())]);
    store.set_installation(2, "hubot", true).unwrap();
    store
        .set_repositories(1, &["octo/c".to_owned(), "octo/d".to_owned()])
        .unwrap();
    assert_eq!(
        store.repositories().unwrap(),
        [
            (1, "octo/c".to_owned()),
            (1, "octo/d".to_owned()),
            (2, "hubot/x".to_owned())
        ]
    );
}

#[test]
fn everything_is_still_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("jobs.db");
    let (done, running, queued, stats) = {
        let store = JobStore::open(&path).unwrap();
        let done = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
        let running = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
        let queued = enqueued(store.enqueue("d3", &review("octo/app", 3, "a")).unwrap());
        store.claim("w", LONG).unwrap().unwrap();
        store.complete(done, "w", &JobOutcome::Succeeded).unwrap();
        store.claim("w", LONG).unwrap().unwrap();
        store.set_installation(7, "octo", true).unwrap();
        store.set_repository(7, "octo/app", true).unwrap();
        let jobs = [done, running, queued].map(|id| store.job(id).unwrap().unwrap());
        (
            jobs[0].clone(),
            jobs[1].clone(),
            jobs[2].clone(),
            store.stats().unwrap(),
        )
    };

    let store = JobStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    for job in [&done, &running, &queued] {
        assert_eq!(&store.job(job.id).unwrap().unwrap(), job);
    }
    assert_eq!(store.stats().unwrap(), stats);
    assert_eq!(
        store.enqueue("d2", &review("octo/app", 2, "a")).unwrap(),
        EnqueueOutcome::Duplicate {
            job_id: Some(running.id)
        }
    );
    assert_eq!(
        store.latest_head("octo/app", 3).unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(store.repositories().unwrap(), [(7, "octo/app".to_owned())]);
    // New IDs continue after the old ones.
    assert!(enqueued(store.enqueue("d4", &review("octo/app", 4, "a")).unwrap()) > queued.id);
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn pruning_forgets_old_deliveries_and_finished_jobs_but_not_counts() {
    let (_dir, store) = store();
    let done = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    let live = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
    store.claim("w", LONG).unwrap().unwrap();
    store.complete(done, "w", &JobOutcome::Succeeded).unwrap();
    let newest = enqueued(store.enqueue("d3", &review("octo/app", 3, "a")).unwrap());
    store.cancel_pr("octo/app", 3).unwrap();
    let before = store.stats().unwrap();

    assert_eq!(
        store.prune(LONG).unwrap(),
        Default::default(),
        "nothing is old yet"
    );
    sleep(Duration::from_millis(5));
    let report = store.prune(Duration::ZERO).unwrap();
    assert_eq!((report.deliveries, report.jobs), (3, 1));
    assert_eq!(store.job(done).unwrap(), None);
    assert!(store.job(live).unwrap().is_some(), "queued jobs stay");
    assert!(
        store.job(newest).unwrap().is_some(),
        "the newest job keeps its ID taken"
    );
    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(
        store.latest_head("octo/app", 1).unwrap().as_deref(),
        Some("a")
    );
    // A forgotten delivery is new again.
    assert!(matches!(
        store.enqueue("d1", &review("octo/app", 1, "a")).unwrap(),
        EnqueueOutcome::Enqueued { job_id } if job_id > newest
    ));
}

#[test]
fn in_memory_stores_work_the_same() {
    let store = JobStore::open_in_memory().unwrap();
    let clone = store.clone();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    assert_eq!(clone.claim("w", LONG).unwrap().unwrap().id, id);
    assert_eq!(store.path(), None);
}

#[test]
fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let error = JobStore::open(&garbage).unwrap_err().to_string();
    assert!(error.contains(&*garbage.to_string_lossy()), "{error}");
    assert!(error.contains("not a database"), "{error}");

    let error = JobStore::open(dir.path()).unwrap_err().to_string();
    assert!(error.contains(&*dir.path().to_string_lossy()), "{error}");

    let newer = dir.path().join("newer.db");
    drop(JobStore::open(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let error = JobStore::open(&newer).unwrap_err();
    assert!(
        matches!(&error, QueueError::SchemaTooNew { found: 99, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&*newer.to_string_lossy()));
}

/// Commits only append to the WAL; a thread of the store's copies it into the
/// database file, so no delivery waits for that copy and its sync.
#[test]
fn a_background_thread_copies_the_log_into_the_database_file() {
    let (dir, store) = store();
    let file = dir.path().join("jobs.db");
    let size = || std::fs::metadata(&file).unwrap().len();
    let grows_past = |before: u64| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while size() <= before {
            assert!(Instant::now() < deadline, "nothing was checkpointed");
            sleep(Duration::from_millis(10));
        }
    };
    grows_past(0); // the schema
    let before = size();
    for pr in 1..=200 {
        store
            .enqueue(&format!("d{pr}"), &review("octo/app", pr, "a"))
            .unwrap();
    }
    grows_past(before);
    assert_eq!(store.stats().unwrap().queued, 200);
}
