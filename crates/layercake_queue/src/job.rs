use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// A review to run, as the webhook handler builds it from a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// `owner/name`.
    pub repository: String,
    /// The GitHub App installation the delivery came from, for its token.
    pub installation_id: Option<u64>,
    /// The pull request.
    pub pr_number: u64,
    /// The pull request's head commit this review is for.
    pub head_sha: String,
    /// The base commit to compare against.
    pub base_sha: String,
    /// Where to fetch both commits from.
    pub clone_url: String,
    /// What caused it, as `event.action`, such as `pull_request.synchronize`.
    pub event: String,
    /// Free text about the trigger, such as a re-requested check run's ID.
    pub trigger: Option<String>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job's ID: increasing, never reused.
    pub id: i64,
    /// The delivery that created the job (later ones coalesced into it are in
    /// the delivery log, not here).
    pub delivery_id: String,
    /// `owner/name`.
    pub repository: String,
    /// The GitHub App installation.
    pub installation_id: Option<u64>,
    /// The pull request.
    pub pr_number: u64,
    /// The head commit under review.
    pub head_sha: String,
    /// The base commit.
    pub base_sha: String,
    /// Where to fetch from.
    pub clone_url: String,
    /// `event.action` of the delivery that created it.
    pub event: String,
    /// Free text about the trigger.
    pub trigger: Option<String>,
    /// Where the job is in its life.
    pub state: JobState,
    /// How many times a worker claimed it, less the times a worker handed it
    /// back on shutdown ([`crate::JobStore::release`]).
    pub attempts: u32,
    /// A running job that should stop: a newer head superseded it, or the pull
    /// request was closed. [`crate::JobStore::heartbeat`] answers `false`.
    pub cancel_requested: bool,
    /// The worker that claimed it last.
    pub worker: Option<String>,
    /// Until when the running worker holds it.
    pub lease_until: Option<SystemTime>,
    /// When it was enqueued.
    pub created_at: SystemTime,
    /// When the current (or last) attempt started.
    pub started_at: Option<SystemTime>,
    /// When it reached a final state.
    pub finished_at: Option<SystemTime>,
    /// How long the last attempt ran, for jobs a worker completed.
    pub duration: Option<Duration>,
    /// Why it failed, or why it was last put off.
    pub error: Option<String>,
    /// The last time a worker put it off for: a queued job is not claimed
    /// before it. `None` for a job never put off.
    pub run_after: Option<SystemTime>,
    /// How many times a worker put it off ([`JobOutcome::RetryLater`]).
    pub deferrals: u32,
}

/// The states of a job. `Queued` and `Running` are active, the others final.
///
/// ```text
/// queued ──claim──► running ──complete──► succeeded | failed | cancelled | superseded
///   ▲  │               │
///   │  │               ├─release (shutdown), lease expired──► queued
///   │  │               └─lease expired max_attempts times───► failed
///   │  └─newer head──► superseded,  PR closed──► cancelled
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it under a lease.
    Running,
    /// The worker finished the review.
    Succeeded,
    /// The worker reported an error, or the job's lease expired too often.
    Failed,
    /// The pull request was closed, or a worker stopped on request.
    Cancelled,
    /// A newer head of the same pull request replaced it.
    Superseded,
}

impl JobState {
    /// Every state, in the order above.
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Superseded,
    ];

    /// The name stored in the database and shown in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Superseded => "superseded",
        }
    }

    /// Whether the job can still change: queued or running.
    pub fn is_active(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`JobState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state {0:?}")]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownJobState(s.to_owned()))
    }
}

impl ToSql for JobState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for JobState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// How a worker finished a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The review was published.
    Succeeded,
    /// The review could not be made; the message is kept on the job.
    Failed {
        /// What went wrong, for the operator.
        error: String,
    },
    /// The worker stopped because cancel was requested. The job ends
    /// `superseded` if a newer head asked for it, else `cancelled`.
    Cancelled,
    /// The job could not run now for a reason outside it (GitHub's rate
    /// limit, a server error, a dropped connection): it is queued again, in
    /// its place, and claimed no earlier than `after` from now. The attempt
    /// does not count against `max_attempts`; `deferrals` counts it instead.
    RetryLater {
        /// How long to wait: what GitHub asked for, or a backoff.
        after: Duration,
        /// Why, kept as the job's `error` until it runs again.
        reason: String,
    },
}

/// What [`crate::JobStore::enqueue`] did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// A new job.
    Enqueued {
        /// Its ID.
        job_id: i64,
    },
    /// This delivery ID was seen before (GitHub redelivered it): nothing
    /// changed.
    Duplicate {
        /// The job the first delivery made or joined; `None` when it made none
        /// ([`crate::JobStore::record_delivery`]).
        job_id: Option<i64>,
    },
    /// A queued or running job for the same repository, pull request and head
    /// exists; the delivery joined it.
    Coalesced {
        /// That job.
        job_id: i64,
    },
}

impl EnqueueOutcome {
    /// The job the delivery is for, if any.
    pub fn job_id(self) -> Option<i64> {
        match self {
            EnqueueOutcome::Enqueued { job_id } | EnqueueOutcome::Coalesced { job_id } => {
                Some(job_id)
            }
            EnqueueOutcome::Duplicate { job_id } => job_id,
        }
    }
}

/// Counts and timings for metrics (Prometheus).
///
/// `queued` and `running` are gauges; the rest are counters that only grow:
/// they live in their own table, so [`crate::JobStore::prune`] does not lower
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    /// Jobs waiting for a worker (the deferred ones included).
    pub queued: u64,
    /// Queued jobs put off until later by a rate limit or a transient error.
    pub deferred: u64,
    /// Jobs a worker holds.
    pub running: u64,
    /// Jobs that ended `succeeded`.
    pub succeeded: u64,
    /// Jobs that ended `failed`.
    pub failed: u64,
    /// Jobs that ended `cancelled`.
    pub cancelled: u64,
    /// Jobs that ended `superseded`.
    pub superseded: u64,
    /// Distinct deliveries received (redeliveries not counted).
    pub deliveries: u64,
    /// Times a worker put a job off ([`JobOutcome::RetryLater`]).
    pub deferrals: u64,
    /// How long workers took on jobs they completed as succeeded or failed.
    pub durations: DurationHistogram,
}

/// A cumulative histogram of job durations, as Prometheus wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationHistogram {
    /// Sum of all durations, in seconds.
    pub sum_seconds: f64,
    /// Number of durations.
    pub count: u64,
    /// `(le, count)`: how many durations were at most `le` seconds; the last
    /// bound is `f64::INFINITY` and its count equals `count`.
    pub buckets: Vec<(f64, u64)>,
}

/// The histogram's upper bounds in seconds, not counting `+Inf`.
pub const DURATION_BUCKETS_SECONDS: [u64; 6] = [1, 5, 15, 60, 300, 900];

/// What [`crate::JobStore::prune`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    /// Delivery records.
    pub deliveries: usize,
    /// Finished jobs.
    pub jobs: usize,
}

/// How hard SQLite works to keep a commit across a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=NORMAL`: a commit is written to the WAL but not flushed to
    /// the disk; the WAL is flushed at checkpoints. Every commit survives a
    /// crash of the process (`kill -9`, a panic, an OOM kill); a power loss or
    /// kernel crash may lose the last commits (never corrupts the database).
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is flushed (`fsync`) before it returns,
    /// so it also survives a power loss, at the price of a disk flush per
    /// delivery.
    Full,
}

/// How to open a [`crate::JobStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Commit durability.
    pub synchronous: Synchronous,
    /// How long a statement waits for another process's write lock before it
    /// fails with "database is locked".
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(5),
        }
    }
}
