//! Several threads, and several stores on one file (as several processes
//! would have), racing for the same jobs and deliveries.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use layercake_queue::{EnqueueOutcome, JobOutcome, JobState, JobStore, NewJob};

const JOBS: u64 = 300;
const LEASE: Duration = Duration::from_secs(600);

/// Pull request `pr_number`'s job, each at a head of its own.
fn review(pr_number: u64) -> NewJob {
    common::review("octo/app", pr_number, &format!("{pr_number:040x}"))
}

fn fill(store: &JobStore) {
    for pr in 1..=JOBS {
        store
            .enqueue(&format!("d{pr}"), &review(pr))
            .expect("enqueue");
    }
}

/// Four threads claim (and complete) until the queue is empty; returns what
/// each claimed. `store_for(n)` gives thread `n` its store.
fn drain(store_for: impl Fn(usize) -> JobStore) -> Vec<Vec<i64>> {
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let store = store_for(n);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let worker = format!("worker-{n}");
                let mut claimed = Vec::new();
                barrier.wait();
                while let Some(job) = store.claim(&worker, LEASE).expect("claim") {
                    assert_eq!(job.worker.as_deref(), Some(worker.as_str()));
                    claimed.push(job.id);
                    store
                        .complete(job.id, &worker, &JobOutcome::Succeeded)
                        .expect("complete");
                }
                claimed
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("a draining thread"))
        .collect()
}

fn assert_each_claimed_once(claims: &[Vec<i64>], store: &JobStore) {
    let all: Vec<i64> = claims.iter().flatten().copied().collect();
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a job was claimed twice");
    assert_eq!(distinct.len() as u64, JOBS);
    // Each thread got its jobs oldest first.
    for mine in claims {
        assert!(mine.windows(2).all(|pair| pair[0] < pair[1]));
    }
    let stats = store.stats().expect("stats");
    assert_eq!((stats.succeeded, stats.queued, stats.running), (JOBS, 0, 0));
    for id in distinct {
        let job = store.job(id).expect("read job").expect("the job exists");
        assert_eq!((job.state, job.attempts), (JobState::Succeeded, 1));
    }
}

#[test]
fn four_threads_sharing_a_store_never_claim_a_job_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = JobStore::open(&dir.path().join("jobs.db")).unwrap();
    fill(&store);
    let claims = drain(|_| store.clone());
    assert_each_claimed_once(&claims, &store);
}

#[test]
fn four_stores_on_one_file_never_claim_a_job_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let store = JobStore::open(&path).unwrap();
    fill(&store);
    // Each thread has its own connection, as separate processes would: only
    // SQLite's file locking keeps them apart.
    let claims = drain(|_| JobStore::open(&path).unwrap());
    assert_each_claimed_once(&claims, &store);
}

#[test]
fn two_stores_on_one_file_see_each_others_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let intake = JobStore::open(&path).unwrap();
    let worker = JobStore::open(&path).unwrap();

    let id = intake.enqueue("d1", &review(1)).unwrap().job_id().unwrap();
    assert_eq!(worker.claim("w", LEASE).unwrap().unwrap().id, id);
    assert_eq!(intake.job(id).unwrap().unwrap().state, JobState::Running);
    // A newer head through one store flags the job the other runs.
    let mut newer = review(1);
    newer.head_sha = "f".repeat(40);
    intake.enqueue("d2", &newer).unwrap();
    assert!(!worker.heartbeat(id, "w", LEASE).unwrap());
    worker.complete(id, "w", &JobOutcome::Cancelled).unwrap();
    assert_eq!(intake.job(id).unwrap().unwrap().state, JobState::Superseded);
    assert_eq!(
        worker.enqueue("d1", &review(1)).unwrap(),
        EnqueueOutcome::Duplicate { job_id: Some(id) }
    );
    assert_eq!(worker.stats().unwrap(), intake.stats().unwrap());
}

/// GitHub may deliver twice at once, to two replicas' intakes on one file:
/// still one job per delivery, and one live job per head.
#[test]
fn racing_redeliveries_through_two_stores_make_one_job_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let path = path.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                // The file does not exist yet: the four also race to create and
                // migrate it.
                // Every thread reaches the barrier, so a failed open is a
                // failure, not a hang.
                let opened = JobStore::open(&path);
                barrier.wait();
                let store = opened.unwrap();
                (1..=100)
                    .map(|pr| {
                        // Deliveries d{pr} and e{pr} are for the same head.
                        let delivery = format!("{}{pr}", if n % 2 == 0 { 'd' } else { 'e' });
                        store.enqueue(&delivery, &review(pr)).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<EnqueueOutcome> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let count = |f: fn(&EnqueueOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    assert_eq!(count(|o| matches!(o, EnqueueOutcome::Enqueued { .. })), 100);
    assert_eq!(
        count(|o| matches!(o, EnqueueOutcome::Coalesced { .. })),
        100
    );
    assert_eq!(
        count(|o| matches!(o, EnqueueOutcome::Duplicate { .. })),
        200
    );
    let store = JobStore::open(&path).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!((stats.queued, stats.deliveries), (100, 200));
}
