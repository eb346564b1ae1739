//! The job queue as the server sees it: one async trait, [`JobQueue`], with
//! an implementation per database: [`SqliteQueue`] (one server, a file) and
//! [`PostgresQueue`](crate::PostgresQueue) (several replicas, one database).
//! [`crate::Database`] names which, from `--database`.

use std::fmt;
use std::time::Duration;

use crate::error::QueueError;
use crate::job::{EnqueueOutcome, Job, JobOutcome, NewJob, PruneReport, QueueStats};
use crate::store::JobStore;

/// The operations the server runs on its job queue, whatever holds it.
///
/// Every implementation passes the same test suite
/// (`crates/layercake_queue/tests/suite.rs`); `docs/queue.md` describes the
/// states and what each operation does. The trait is object safe (its
/// futures are boxed, by `async_trait`), so a server holds an
/// `Arc<dyn JobQueue>` chosen at startup from [`crate::Database`].
#[async_trait::async_trait]
pub trait JobQueue: fmt::Debug + Send + Sync {
    /// Takes in a delivery that asks for a review: a redelivery is
    /// [`EnqueueOutcome::Duplicate`]; the pull request's jobs for other heads
    /// are superseded (queued) or asked to stop (running); a live job for the
    /// same head takes the delivery in; else a new job is queued.
    async fn enqueue(&self, delivery_id: &str, job: &NewJob) -> Result<EnqueueOutcome, QueueError>;

    /// Records a delivery that makes no job; whether its ID was new.
    async fn record_delivery(&self, delivery_id: &str, event: &str) -> Result<bool, QueueError>;

    /// A closed pull request: queued jobs `cancelled`, running ones asked to
    /// stop. How many jobs it touched. Idempotent.
    async fn cancel_pr(&self, repository: &str, pr_number: u64) -> Result<usize, QueueError>;

    /// Takes the oldest queued job that may run now for `worker`, held until
    /// `now + lease`. Two workers never get the same job.
    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, QueueError>;

    /// Extends `worker`'s lease; `false` means stop (the lease was lost or
    /// cancel was requested).
    async fn heartbeat(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, QueueError>;

    /// Finishes a running job of `worker`'s; [`QueueError::NotHeld`] when it
    /// is not running for this worker any more.
    async fn complete(
        &self,
        job_id: i64,
        worker: &str,
        outcome: &JobOutcome,
    ) -> Result<(), QueueError>;

    /// Hands a running job back on graceful shutdown, the attempt not counted.
    async fn release(&self, job_id: i64, worker: &str) -> Result<(), QueueError>;

    /// Running jobs whose lease expired are queued again (or given up after
    /// `max_attempts`); how many were queued again.
    async fn requeue_expired(&self, max_attempts: u32) -> Result<usize, QueueError>;

    /// What a server starting on this queue takes back, before its workers
    /// start. A SQLite file belongs to one server, so every job it finds
    /// running was left by a crash and is queued again at once
    /// ([`JobStore::requeue_all_running`]); a PostgreSQL database is shared
    /// by replicas whose running jobs are alive, so only expired leases are
    /// ([`JobQueue::requeue_expired`]).
    async fn requeue_at_startup(&self, max_attempts: u32) -> Result<usize, QueueError>;

    /// One job.
    async fn job(&self, job_id: i64) -> Result<Option<Job>, QueueError>;

    /// Gauges, counters and the duration histogram for `/metrics`.
    async fn stats(&self) -> Result<QueueStats, QueueError>;

    /// The head of the newest job made or joined for a pull request.
    async fn latest_head(
        &self,
        repository: &str,
        pr_number: u64,
    ) -> Result<Option<String>, QueueError>;

    /// Records an installation of the App; `active` false once deleted or
    /// suspended.
    async fn set_installation(
        &self,
        installation_id: u64,
        account: &str,
        active: bool,
    ) -> Result<(), QueueError>;

    /// Adds (`present`) or removes a repository of an installation.
    async fn set_repository(
        &self,
        installation_id: u64,
        repository: &str,
        present: bool,
    ) -> Result<(), QueueError>;

    /// Replaces an installation's repositories.
    async fn set_repositories(
        &self,
        installation_id: u64,
        repositories: &[String],
    ) -> Result<(), QueueError>;

    /// `(installation, owner/name)` of every repository of an active
    /// installation, ordered.
    async fn repositories(&self) -> Result<Vec<(u64, String)>, QueueError>;

    /// Deletes delivery records and finished jobs older than `older_than`;
    /// counters and each pull request's latest head stay.
    async fn prune(&self, older_than: Duration) -> Result<PruneReport, QueueError>;

    /// What the counters of [`QueueStats`] count: the whole database's
    /// history, or this process's work since it started.
    fn counter_scope(&self) -> CounterScope;
}

/// What the counters of [`QueueStats`] (`succeeded` … `deliveries`, the
/// duration histogram) count. The gauges (`queued`, `running`) are always the
/// whole database's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterScope {
    /// Everything the database saw, kept in the database (SQLite: one server).
    Database,
    /// What this process's statements did since it started (PostgreSQL: each
    /// replica counts its own, and Prometheus sums the replicas).
    Process,
}

/// [`JobStore`] (SQLite) as a [`JobQueue`]: each call runs on tokio's
/// blocking pool, since SQLite's calls block.
#[derive(Debug, Clone)]
pub struct SqliteQueue {
    store: JobStore,
}

impl SqliteQueue {
    /// The queue on `store`.
    pub fn new(store: JobStore) -> SqliteQueue {
        SqliteQueue { store }
    }

    /// The store underneath, for what only SQLite has (checkpoints, the
    /// integrity check).
    pub fn store(&self) -> &JobStore {
        &self.store
    }

    async fn blocking<T: Send + 'static>(
        &self,
        operation: &'static str,
        call: impl FnOnce(&JobStore) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|error| QueueError::Task {
                operation,
                message: error.to_string(),
            })?
    }
}

#[async_trait::async_trait]
impl JobQueue for SqliteQueue {
    async fn enqueue(&self, delivery_id: &str, job: &NewJob) -> Result<EnqueueOutcome, QueueError> {
        let (delivery_id, job) = (delivery_id.to_owned(), job.clone());
        self.blocking("enqueue", move |store| store.enqueue(&delivery_id, &job))
            .await
    }

    async fn record_delivery(&self, delivery_id: &str, event: &str) -> Result<bool, QueueError> {
        let (delivery_id, event) = (delivery_id.to_owned(), event.to_owned());
        self.blocking("record delivery", move |store| {
            store.record_delivery(&delivery_id, &event)
        })
        .await
    }

    async fn cancel_pr(&self, repository: &str, pr_number: u64) -> Result<usize, QueueError> {
        let repository = repository.to_owned();
        self.blocking("cancel pull request", move |store| {
            store.cancel_pr(&repository, pr_number)
        })
        .await
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, QueueError> {
        let worker = worker.to_owned();
        self.blocking("claim", move |store| store.claim(&worker, lease))
            .await
    }

    async fn heartbeat(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, QueueError> {
        let worker = worker.to_owned();
        self.blocking("heartbeat", move |store| {
            store.heartbeat(job_id, &worker, lease)
        })
        .await
    }

    async fn complete(
        &self,
        job_id: i64,
        worker: &str,
        outcome: &JobOutcome,
    ) -> Result<(), QueueError> {
        let (worker, outcome) = (worker.to_owned(), outcome.clone());
        self.blocking("complete", move |store| {
            store.complete(job_id, &worker, &outcome)
        })
        .await
    }

    async fn release(&self, job_id: i64, worker: &str) -> Result<(), QueueError> {
        let worker = worker.to_owned();
        self.blocking("release", move |store| store.release(job_id, &worker))
            .await
    }

    async fn requeue_expired(&self, max_attempts: u32) -> Result<usize, QueueError> {
        self.blocking("requeue expired jobs", move |store| {
            store.requeue_expired(max_attempts)
        })
        .await
    }

    async fn requeue_at_startup(&self, max_attempts: u32) -> Result<usize, QueueError> {
        self.blocking("requeue expired jobs", move |store| {
            store.requeue_all_running(max_attempts)
        })
        .await
    }

    async fn job(&self, job_id: i64) -> Result<Option<Job>, QueueError> {
        self.blocking("read job", move |store| store.job(job_id))
            .await
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        self.blocking("stats", JobStore::stats).await
    }

    async fn latest_head(
        &self,
        repository: &str,
        pr_number: u64,
    ) -> Result<Option<String>, QueueError> {
        let repository = repository.to_owned();
        self.blocking("latest head", move |store| {
            store.latest_head(&repository, pr_number)
        })
        .await
    }

    async fn set_installation(
        &self,
        installation_id: u64,
        account: &str,
        active: bool,
    ) -> Result<(), QueueError> {
        let account = account.to_owned();
        self.blocking("set installation", move |store| {
            store.set_installation(installation_id, &account, active)
        })
        .await
    }

    async fn set_repository(
        &self,
        installation_id: u64,
        repository: &str,
        present: bool,
    ) -> Result<(), QueueError> {
        let repository = repository.to_owned();
        self.blocking("set repository", move |store| {
            store.set_repository(installation_id, &repository, present)
        })
        .await
    }

    async fn set_repositories(
        &self,
        installation_id: u64,
        repositories: &[String],
    ) -> Result<(), QueueError> {
        let repositories = repositories.to_vec();
        self.blocking("set repositories", move |store| {
            store.set_repositories(installation_id, &repositories)
        })
        .await
    }

    async fn repositories(&self) -> Result<Vec<(u64, String)>, QueueError> {
        self.blocking("list repositories", JobStore::repositories)
            .await
    }

    async fn prune(&self, older_than: Duration) -> Result<PruneReport, QueueError> {
        self.blocking("prune", move |store| store.prune(older_than))
            .await
    }

    fn counter_scope(&self) -> CounterScope {
        CounterScope::Database
    }
}
