//! `kill -9` at any moment loses nothing.
//!
//! The test re-runs its own executable as a child (switched by an environment
//! variable) that enqueues, claims and completes jobs in a tight loop,
//! printing each operation after its commit returned. The parent kills it with
//! SIGKILL in the middle, reopens the file, and checks that it is sound and
//! holds every committed operation the child reported; three times over, on
//! the same file.

#![cfg(unix)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use layercake_queue::{EnqueueOutcome, JobOutcome, JobState, JobStore, NewJob};

const CHILD: &str = "LAYERCAKE_QUEUE_KILL9_DB";
const ROUND: &str = "LAYERCAKE_QUEUE_KILL9_ROUND";
const LEASE: Duration = Duration::from_millis(300);

fn review(round: u32, i: u64) -> NewJob {
    NewJob {
        repository: format!("octo/app{round}"),
        installation_id: Some(1),
        // Every fourth delivery is a newer head of the previous PR, so the
        // child also supersedes and flags running jobs.
        pr_number: i - u64::from(i % 4 == 3),
        head_sha: format!("{i:040x}"),
        base_sha: "0".repeat(40),
        clone_url: "https://github.com/octo/app.git".to_owned(),
        event: "pull_request.synchronize".to_owned(),
        trigger: None,
    }
}

/// The child: works until killed (or, should the parent be gone, until its
/// output pipe breaks or a minute has passed).
fn child(path: &Path, round: u32) {
    let store = JobStore::open(path).expect("the child opens the store");
    let mut out = std::io::stdout().lock();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut claimed = Vec::new();
    for i in 1.. {
        if Instant::now() > deadline {
            return;
        }
        let delivery = format!("r{round}-d{i}");
        let job_id = store
            .enqueue(&delivery, &review(round, i))
            .expect("enqueue")
            .job_id()
            .expect("a job");
        writeln!(out, "ENQUEUED {delivery} {job_id}").expect("the parent reads");
        out.flush().expect("the parent reads");
        if i % 2 == 0
            && let Some(job) = store.claim("child", LEASE).expect("claim")
        {
            writeln!(out, "CLAIMED {}", job.id).expect("the parent reads");
            out.flush().expect("the parent reads");
            claimed.push(job.id);
        }
        if i % 3 == 0
            && let Some(id) = claimed.pop()
        {
            let done = store.complete(id, "child", &JobOutcome::Succeeded);
            if done.is_ok() {
                writeln!(out, "COMPLETED {id}").expect("the parent reads");
                out.flush().expect("the parent reads");
            }
        }
    }
}

#[derive(Default)]
struct Report {
    enqueued: HashMap<String, i64>,
    claimed: HashSet<i64>,
    completed: HashSet<i64>,
}

/// Runs one child, kills it once it has reported `kill_after` enqueues, and
/// returns all it reported.
fn run_child(path: &Path, round: u32, kill_after: usize) -> Report {
    let mut child = Command::new(std::env::current_exe().expect("the test executable"))
        .args([
            "--exact",
            "kill9_loses_nothing",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, path)
        .env(ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child");
    let mut report = Report::default();
    let mut killed = false;
    for line in BufReader::new(child.stdout.take().expect("the child's stdout")).lines() {
        // What the child printed before it died is still in the pipe.
        let line = line.expect("read the child's stdout");
        let mut words = line
            .split_whitespace()
            .skip_while(|word| !matches!(*word, "ENQUEUED" | "CLAIMED" | "COMPLETED"));
        match (words.next(), words.next(), words.next()) {
            (Some("ENQUEUED"), Some(delivery), Some(id)) => {
                report
                    .enqueued
                    .insert(delivery.to_owned(), id.parse().expect("a job ID"));
            }
            (Some("CLAIMED"), Some(id), None) => {
                report.claimed.insert(id.parse().expect("a job ID"));
            }
            (Some("COMPLETED"), Some(id), None) => {
                report.completed.insert(id.parse().expect("a job ID"));
            }
            _ => {}
        }
        if !killed && report.enqueued.len() >= kill_after {
            child.kill().expect("kill the child"); // SIGKILL
            killed = true;
        }
    }
    let status = child.wait().expect("wait for the child");
    assert_eq!(
        status.signal(),
        Some(9),
        "the child was killed, not done: {status}"
    );
    report
}

#[test]
fn kill9_loses_nothing() {
    if let Some(path) = std::env::var_os(CHILD) {
        let round = std::env::var(ROUND).unwrap().parse().unwrap();
        child(Path::new(&path), round);
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut all_enqueued = HashMap::new();
    for (round, kill_after) in [(0, 150), (1, 400), (2, 250)] {
        let report = run_child(&path, round, kill_after);
        assert!(report.enqueued.len() >= kill_after);

        let store = JobStore::open(&path).unwrap();
        assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
        for (delivery, &id) in &report.enqueued {
            assert!(store.job(id).unwrap().is_some(), "job {id} is lost");
            // The delivery is known: redelivering it changes nothing.
            let round_of: u32 = delivery[1..2].parse().unwrap();
            let i: u64 = delivery.rsplit('d').next().unwrap().parse().unwrap();
            assert_eq!(
                store.enqueue(delivery, &review(round_of, i)).unwrap(),
                EnqueueOutcome::Duplicate { job_id: Some(id) },
                "{delivery}"
            );
        }
        for id in &report.completed {
            assert_eq!(store.job(*id).unwrap().unwrap().state, JobState::Succeeded);
        }
        let left_running: Vec<i64> = report
            .claimed
            .difference(&report.completed)
            .copied()
            .filter(|&id| store.job(id).unwrap().unwrap().state == JobState::Running)
            .collect();
        assert!(!left_running.is_empty(), "the child died holding jobs");

        // Once the leases ran out, every running job goes back to the queue,
        // but for those asked to stop (a newer head came), which end.
        all_enqueued.extend(report.enqueued);
        let jobs = |store: &JobStore| {
            // An enqueue committed just before the kill is not reported: look
            // one ID past the last reported.
            let last = all_enqueued.values().copied().max().unwrap();
            (1..=last + 1)
                .filter_map(|id| store.job(id).unwrap())
                .collect::<Vec<_>>()
        };
        let to_requeue = jobs(&store)
            .iter()
            .filter(|job| job.state == JobState::Running && !job.cancel_requested)
            .count();
        assert!(to_requeue > 0);
        std::thread::sleep(LEASE + Duration::from_millis(50));
        assert_eq!(store.requeue_expired(10).unwrap(), to_requeue);
        assert_eq!(store.stats().unwrap().running, 0);
        for id in left_running {
            let job = store.job(id).unwrap().unwrap();
            assert!(
                matches!(job.state, JobState::Queued | JobState::Superseded),
                "job {id}: {job:?}"
            );
            assert!(job.attempts >= 1);
        }
        // Earlier rounds' work is all still there.
        for &id in all_enqueued.values() {
            assert!(store.job(id).unwrap().is_some(), "job {id} is lost");
        }
    }
}
