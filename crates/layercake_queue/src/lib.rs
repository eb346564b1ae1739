//! The durable job queue of `layercake serve`: each webhook delivery that asks
//! for a review becomes a job in an embedded SQLite database ([`JobStore`],
//! one server) or a PostgreSQL one ([`PostgresQueue`], several replicas), and
//! a pool of workers claims jobs under leases. The server sees either through
//! the async trait [`JobQueue`] ([`SqliteQueue`] wraps the store), chosen by
//! [`Database`].
//!
//! - **Redelivery.** Jobs are keyed by GitHub's delivery ID (`X-GitHub-Delivery`):
//!   a delivery seen before is [`EnqueueOutcome::Duplicate`] and changes nothing.
//! - **Coalescing.** A queued or running job for the same repository, pull
//!   request and head commit takes in a new delivery
//!   ([`EnqueueOutcome::Coalesced`]).
//! - **Superseding.** A job for a newer head makes the pull request's queued
//!   jobs for other heads `superseded` and asks its running ones to stop
//!   ([`Job::cancel_requested`], seen through [`JobStore::heartbeat`]).
//! - **Crashes.** Every change is a committed SQLite transaction in WAL mode;
//!   a `kill -9` loses nothing committed. A worker's claim is a lease: a job
//!   whose worker died is queued again by [`JobStore::requeue_expired`], up to
//!   a number of attempts. [`JobStore::release`] hands a job back on graceful
//!   shutdown without counting the attempt.
//! - **Reconciling.** [`JobStore::latest_head`] and [`JobStore::repositories`]
//!   let a periodic task find pull requests whose deliveries never arrived.
//!
//! Every call of [`JobStore`] is synchronous and short; the store is
//! `Clone + Send + Sync`.
//! A store on a file also runs one thread of its own, which copies the WAL
//! into the database file (a checkpoint) so that no delivery waits for that
//! copy and its disk sync; it stops when the last clone is dropped.
//!
//! `docs/queue.md` describes the schema, the states, durability, and the
//! PostgreSQL queue for several replicas: `FOR UPDATE SKIP LOCKED` claims, a
//! row lock per pull request, migrations in a table, per-replica counters.
//!
//! ```
//! use std::time::Duration;
//! use layercake_queue::{EnqueueOutcome, JobOutcome, JobStore, NewJob};
//!
//! let store = JobStore::open_in_memory()?;
//! let job = NewJob {
//!     repository: "octo/app".into(),
//!     installation_id: Some(7),
//!     pr_number: 12,
//!     head_sha: "b".repeat(40),
//!     base_sha: "a".repeat(40),
//!     clone_url: "https://github.com/octo/app.git".into(),
//!     event: "pull_request.synchronize".into(),
//!     trigger: None,
//! };
//! let EnqueueOutcome::Enqueued { job_id } = store.enqueue("delivery-1", &job)? else {
//!     unreachable!()
//! };
//! assert_eq!(
//!     store.enqueue("delivery-1", &job)?,
//!     EnqueueOutcome::Duplicate { job_id: Some(job_id) }
//! );
//!
//! let claimed = store.claim("worker-1", Duration::from_secs(60))?.expect("a job");
//! assert!(store.heartbeat(claimed.id, "worker-1", Duration::from_secs(60))?);
//! store.complete(claimed.id, "worker-1", &JobOutcome::Succeeded)?;
//! assert_eq!(store.stats()?.succeeded, 1);
//! # Ok::<(), layercake_queue::QueueError>(())
//! ```

#![deny(missing_docs)]

mod checkpoint;
mod database;
mod error;
mod job;
mod postgres;
mod queue;
mod schema;
mod sql;
mod store;

pub use database::Database;
pub use error::QueueError;
pub use job::{
    DURATION_BUCKETS_SECONDS, DurationHistogram, EnqueueOutcome, Job, JobOutcome, JobState, NewJob,
    PruneReport, QueueStats, StoreOptions, Synchronous, UnknownJobState,
};
pub use postgres::PostgresQueue;
pub use queue::{CounterScope, JobQueue, SqliteQueue};
pub use store::JobStore;
