//! What the queue's test files share: the job a delivery asks for, and
//! reading a new job's ID out of an enqueue.

#![allow(dead_code)] // each test file uses its part

use layercake_queue::{EnqueueOutcome, NewJob};

/// A review of `repository`'s pull request `pr_number` at `head`.
pub fn review(repository: &str, pr_number: u64, head: &str) -> NewJob {
    NewJob {
        repository: repository.to_owned(),
        installation_id: Some(42),
        pr_number,
        head_sha: head.to_owned(),
        base_sha: "0".repeat(40),
        clone_url: format!("https://github.com/{repository}.git"),
        event: "pull_request.synchronize".to_owned(),
        trigger: None,
    }
}

/// The new job's ID; fails the test for any other outcome.
pub fn enqueued(outcome: EnqueueOutcome) -> i64 {
    match outcome {
        EnqueueOutcome::Enqueued { job_id } => job_id,
        other => panic!("expected a new job, got {other:?}"),
    }
}
