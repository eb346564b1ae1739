//! The job queue on PostgreSQL, for several `layercake serve` replicas on one
//! database: claims with `FOR UPDATE SKIP LOCKED`, redeliveries recognised by
//! the `deliveries` primary key, coalescing by the partial unique index, and
//! the enqueues of one pull request serialised by its `pr_heads` row lock.
//! `docs/queue.md` ("Several replicas: PostgreSQL") explains each choice.

mod schema;
mod sql;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::{Context, QueueError};
use crate::job::{
    DURATION_BUCKETS_SECONDS, DurationHistogram, EnqueueOutcome, Job, JobOutcome, JobState, NewJob,
    PruneReport, QueueStats,
};
use crate::queue::{CounterScope, JobQueue};

/// Connections a queue keeps at most: a server's workers, heartbeats,
/// intake and maintenance each hold one for a statement or a transaction.
const POOL_SIZE: usize = 16;

/// How long a call waits for a free connection, or for a new one.
const POOL_TIMEOUT: Duration = Duration::from_secs(30);

/// The job queue in a PostgreSQL database. Cheap to clone (clones share the
/// pool and the counters).
///
/// The counters of [`QueueStats`] are this value's own: what its statements
/// did since it was made. A counters row that every replica's every
/// transition updated would be one hot row all of them queue behind; each
/// replica's `/metrics` reports its own instead, and Prometheus sums the
/// replicas. The gauges (`queued`, `running`) are the database's.
#[derive(Clone)]
pub struct PostgresQueue {
    pool: Pool,
    url: String,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for PostgresQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresQueue")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PostgresQueue {
    /// Connects to the database at `url` (`postgres://user:password@host/db`,
    /// or with `?host=/run/postgresql` for a Unix socket), migrating its
    /// schema to this build's first. Without TLS.
    pub async fn connect(url: &str) -> Result<PostgresQueue, QueueError> {
        let shown = without_password(url);
        let open = |source| QueueError::PostgresOpen {
            url: shown.clone(),
            source,
        };
        let config: tokio_postgres::Config = url.parse().map_err(open)?;

        // Migrations run on a connection of their own: the advisory lock they
        // hold is the session's, let go when it closes, whatever happens.
        let (mut client, connection) = config.connect(NoTls).await.map_err(open)?;
        let running = tokio::spawn(connection);
        let migrated = schema::migrate(&mut client).await;
        drop(client);
        let _ = running.await;
        match migrated {
            Ok(()) => {}
            Err(schema::Migration::Postgres(source)) => return Err(open(source)),
            Err(schema::Migration::TooNew(found)) => {
                return Err(QueueError::PostgresSchemaTooNew {
                    url: shown,
                    found,
                    known: schema::VERSION,
                });
            }
        }

        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|_| QueueError::PostgresPool {
                operation: "open",
                source: deadpool_postgres::PoolError::NoRuntimeSpecified,
            })?;
        Ok(PostgresQueue {
            pool,
            url: shown,
            counters: Arc::default(),
        })
    }

    /// The database's URL, without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn client(&self, operation: &'static str) -> Result<Object, QueueError> {
        self.pool
            .get()
            .await
            .map_err(|source| QueueError::PostgresPool { operation, source })
    }

    /// Runs one statement, prepared once per connection; its rows.
    async fn query(
        &self,
        operation: &'static str,
        statement: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, QueueError> {
        let client = self.client(operation).await?;
        let statement = client.prepare_cached(statement).await.context(operation)?;
        client.query(&statement, params).await.context(operation)
    }

    /// [`PostgresQueue::query`] for a statement that returns at most one row.
    async fn query_opt(
        &self,
        operation: &'static str,
        statement: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, QueueError> {
        let mut rows = self.query(operation, statement, params).await?;
        Ok(rows.pop())
    }
}

#[async_trait::async_trait]
impl JobQueue for PostgresQueue {
    async fn enqueue(&self, delivery_id: &str, job: &NewJob) -> Result<EnqueueOutcome, QueueError> {
        const OP: &str = "enqueue";
        let pr = to_i64("pull request number", job.pr_number)?;
        let installation = job
            .installation_id
            .map(|id| to_i64("installation ID", id))
            .transpose()?;
        let mut client = self.client(OP).await?;
        let tx = client.transaction().await.context(OP)?;
        let fresh = tx
            .query_opt(
                &tx.prepare_cached(sql::INSERT_DELIVERY).await.context(OP)?,
                &[&delivery_id, &job.event],
            )
            .await
            .context(OP)?;
        if fresh.is_none() {
            let job_id = tx
                .query_opt(
                    &tx.prepare_cached(sql::DELIVERY_JOB).await.context(OP)?,
                    &[&delivery_id],
                )
                .await
                .context(OP)?
                .and_then(|row| row.get::<_, Option<i64>>(0));
            tx.rollback().await.context(OP)?;
            return Ok(EnqueueOutcome::Duplicate { job_id });
        }
        // From here on, enqueues of this pull request wait for this one.
        tx.execute(
            &tx.prepare_cached(sql::LOCK_PR).await.context(OP)?,
            &[&job.repository, &pr, &job.head_sha],
        )
        .await
        .context(OP)?;
        let superseded = tx
            .query(
                &tx.prepare_cached(sql::SUPERSEDE).await.context(OP)?,
                &[&job.repository, &pr, &job.head_sha],
            )
            .await
            .context(OP)?
            .iter()
            .filter(|row| row.get::<_, &str>(0) == JobState::Superseded.as_str())
            .count();
        let live = tx
            .query_opt(
                &tx.prepare_cached(sql::LIVE_JOB).await.context(OP)?,
                &[&job.repository, &pr, &job.head_sha],
            )
            .await
            .context(OP)?;
        let outcome = match live {
            Some(row) => EnqueueOutcome::Coalesced { job_id: row.get(0) },
            None => {
                let row = tx
                    .query_one(
                        &tx.prepare_cached(sql::INSERT_JOB).await.context(OP)?,
                        &[
                            &delivery_id,
                            &job.repository,
                            &installation,
                            &pr,
                            &job.head_sha,
                            &job.base_sha,
                            &job.clone_url,
                            &job.event,
                            &job.trigger,
                        ],
                    )
                    .await
                    .context(OP)?;
                EnqueueOutcome::Enqueued { job_id: row.get(0) }
            }
        };
        let job_id = outcome.job_id();
        tx.execute(
            &tx.prepare_cached(sql::SET_DELIVERY_JOB).await.context(OP)?,
            &[&delivery_id, &job_id],
        )
        .await
        .context(OP)?;
        tx.execute(
            &tx.prepare_cached(sql::SET_PR_JOB).await.context(OP)?,
            &[&job.repository, &pr, &job_id],
        )
        .await
        .context(OP)?;
        tx.commit().await.context(OP)?;
        self.counters.add(&self.counters.deliveries, 1);
        self.counters
            .add(&self.counters.superseded, superseded as u64);
        Ok(outcome)
    }

    async fn record_delivery(&self, delivery_id: &str, event: &str) -> Result<bool, QueueError> {
        let fresh = self
            .query_opt(
                "record delivery",
                sql::INSERT_DELIVERY,
                &[&delivery_id, &event],
            )
            .await?
            .is_some();
        if fresh {
            self.counters.add(&self.counters.deliveries, 1);
        }
        Ok(fresh)
    }

    async fn cancel_pr(&self, repository: &str, pr_number: u64) -> Result<usize, QueueError> {
        let pr = to_i64("pull request number", pr_number)?;
        let rows = self
            .query("cancel pull request", sql::CANCEL_PR, &[&repository, &pr])
            .await?;
        self.counters.count_final_states(&rows);
        Ok(rows.len())
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, QueueError> {
        const OP: &str = "claim";
        let lease = lease.as_secs_f64();
        self.query_opt(OP, sql::CLAIM, &[&worker, &lease])
            .await?
            .map(|row| job_from_row(OP, &row))
            .transpose()
    }

    async fn heartbeat(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, QueueError> {
        const OP: &str = "heartbeat";
        let lease = lease.as_secs_f64();
        let client = self.client(OP).await?;
        let statement = client.prepare_cached(sql::HEARTBEAT).await.context(OP)?;
        let changed = client
            .execute(&statement, &[&job_id, &worker, &lease])
            .await
            .context(OP)?;
        Ok(changed == 1)
    }

    async fn complete(
        &self,
        job_id: i64,
        worker: &str,
        outcome: &JobOutcome,
    ) -> Result<(), QueueError> {
        let (state, error) = match outcome {
            JobOutcome::Succeeded => (Some(JobState::Succeeded.as_str()), None),
            JobOutcome::Failed { error } => (Some(JobState::Failed.as_str()), Some(error.as_str())),
            JobOutcome::Cancelled => (None, None),
            JobOutcome::RetryLater { after, reason } => {
                let after = after.as_secs_f64();
                let row = self
                    .query_opt("defer", sql::DEFER, &[&job_id, &worker, &after, reason])
                    .await?
                    .ok_or_else(|| not_held(job_id, worker))?;
                self.counters.add(&self.counters.deferrals, 1);
                self.counters.count_final_states(std::slice::from_ref(&row));
                return Ok(());
            }
        };
        let row = self
            .query_opt(
                "complete",
                sql::COMPLETE,
                &[&job_id, &worker, &state, &error],
            )
            .await?;
        let Some(row) = row else {
            return Err(not_held(job_id, worker));
        };
        self.counters.count_final_states(std::slice::from_ref(&row));
        let state: &str = row.get(0);
        if state == JobState::Succeeded.as_str() || state == JobState::Failed.as_str() {
            let ms: Option<i64> = row.get(1);
            self.counters
                .duration(ms.and_then(|ms| u64::try_from(ms).ok()).unwrap_or(0));
        }
        Ok(())
    }

    async fn release(&self, job_id: i64, worker: &str) -> Result<(), QueueError> {
        let row = self
            .query_opt("release", sql::RELEASE, &[&job_id, &worker])
            .await?;
        let Some(row) = row else {
            return Err(not_held(job_id, worker));
        };
        self.counters.count_final_states(std::slice::from_ref(&row));
        Ok(())
    }

    async fn requeue_expired(&self, max_attempts: u32) -> Result<usize, QueueError> {
        let max_attempts = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        let rows = self
            .query("requeue expired jobs", sql::EXPIRE, &[&max_attempts])
            .await?;
        self.counters.count_final_states(&rows);
        Ok(rows
            .iter()
            .filter(|row| row.get::<_, &str>(0) == JobState::Queued.as_str())
            .count())
    }

    async fn requeue_at_startup(&self, max_attempts: u32) -> Result<usize, QueueError> {
        // Other replicas' running jobs are alive: only expired leases.
        self.requeue_expired(max_attempts).await
    }

    async fn job(&self, job_id: i64) -> Result<Option<Job>, QueueError> {
        const OP: &str = "read job";
        self.query_opt(OP, sql::JOB, &[&job_id])
            .await?
            .map(|row| job_from_row(OP, &row))
            .transpose()
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        const OP: &str = "stats";
        let row = self
            .query_opt(OP, sql::ACTIVE_COUNTS, &[])
            .await?
            .ok_or_else(|| QueueError::BadRow {
                operation: OP,
                detail: "counting the queue returned no row".to_owned(),
            })?;
        let count = |index: usize| u64::try_from(row.get::<_, i64>(index)).unwrap_or(0);
        Ok(self.counters.stats(count(0), count(1), count(2)))
    }

    async fn latest_head(
        &self,
        repository: &str,
        pr_number: u64,
    ) -> Result<Option<String>, QueueError> {
        let pr = to_i64("pull request number", pr_number)?;
        Ok(self
            .query_opt("latest head", sql::LATEST_HEAD, &[&repository, &pr])
            .await?
            .map(|row| row.get(0)))
    }

    async fn set_installation(
        &self,
        installation_id: u64,
        account: &str,
        active: bool,
    ) -> Result<(), QueueError> {
        let id = to_i64("installation ID", installation_id)?;
        self.query(
            "set installation",
            sql::UPSERT_INSTALLATION,
            &[&id, &account, &active],
        )
        .await?;
        Ok(())
    }

    async fn set_repository(
        &self,
        installation_id: u64,
        repository: &str,
        present: bool,
    ) -> Result<(), QueueError> {
        const OP: &str = "set repository";
        let id = to_i64("installation ID", installation_id)?;
        let mut client = self.client(OP).await?;
        let tx = client.transaction().await.context(OP)?;
        if present {
            tx.execute(
                &tx.prepare_cached(sql::ENSURE_INSTALLATION)
                    .await
                    .context(OP)?,
                &[&id],
            )
            .await
            .context(OP)?;
            tx.execute(
                &tx.prepare_cached(sql::ADD_REPOSITORY).await.context(OP)?,
                &[&id, &repository],
            )
            .await
            .context(OP)?;
        } else {
            tx.execute(
                &tx.prepare_cached(sql::REMOVE_REPOSITORY)
                    .await
                    .context(OP)?,
                &[&id, &repository],
            )
            .await
            .context(OP)?;
        }
        tx.commit().await.context(OP)
    }

    async fn set_repositories(
        &self,
        installation_id: u64,
        repositories: &[String],
    ) -> Result<(), QueueError> {
        const OP: &str = "set repositories";
        let id = to_i64("installation ID", installation_id)?;
        let mut client = self.client(OP).await?;
        let tx = client.transaction().await.context(OP)?;
        tx.execute(
            &tx.prepare_cached(sql::ENSURE_INSTALLATION)
                .await
                .context(OP)?,
            &[&id],
        )
        .await
        .context(OP)?;
        tx.execute(
            &tx.prepare_cached(sql::REMOVE_REPOSITORIES)
                .await
                .context(OP)?,
            &[&id],
        )
        .await
        .context(OP)?;
        let add = tx.prepare_cached(sql::ADD_REPOSITORY).await.context(OP)?;
        for repository in repositories {
            tx.execute(&add, &[&id, repository]).await.context(OP)?;
        }
        tx.commit().await.context(OP)
    }

    async fn repositories(&self) -> Result<Vec<(u64, String)>, QueueError> {
        const OP: &str = "list repositories";
        self.query(OP, sql::REPOSITORIES, &[])
            .await?
            .iter()
            .map(|row| Ok((to_u64(OP, "installation ID", row.get(0))?, row.get(1))))
            .collect()
    }

    async fn prune(&self, older_than: Duration) -> Result<PruneReport, QueueError> {
        const OP: &str = "prune";
        const BATCH: i64 = 500;
        let age = older_than.as_secs_f64();
        let mut report = PruneReport::default();
        for (statement, total) in [
            (sql::PRUNE_DELIVERIES, &mut report.deliveries),
            (sql::PRUNE_JOBS, &mut report.jobs),
        ] {
            loop {
                // One transaction per batch, so intake goes on in between.
                let client = self.client(OP).await?;
                let prepared = client.prepare_cached(statement).await.context(OP)?;
                let deleted = client
                    .execute(&prepared, &[&age, &BATCH])
                    .await
                    .context(OP)?;
                *total += usize::try_from(deleted).unwrap_or(usize::MAX);
                if deleted < BATCH as u64 {
                    break;
                }
            }
        }
        Ok(report)
    }

    fn counter_scope(&self) -> CounterScope {
        CounterScope::Process
    }
}

/// What this queue's statements moved to a final state, and how long the
/// jobs it completed took.
#[derive(Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    superseded: AtomicU64,
    deliveries: AtomicU64,
    deferrals: AtomicU64,
    duration_ms_sum: AtomicU64,
    duration_count: AtomicU64,
    /// Cumulative, by [`DURATION_BUCKETS_SECONDS`] and then `+Inf`.
    buckets: [AtomicU64; DURATION_BUCKETS_SECONDS.len() + 1],
}

impl Counters {
    fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts the final states among `rows`, whose first column is the state
    /// a statement left each job in.
    fn count_final_states(&self, rows: &[Row]) {
        for row in rows {
            let counter = match row.get::<_, &str>(0) {
                "succeeded" => &self.succeeded,
                "failed" => &self.failed,
                "cancelled" => &self.cancelled,
                "superseded" => &self.superseded,
                _ => continue,
            };
            self.add(counter, 1);
        }
    }

    fn duration(&self, ms: u64) {
        self.add(&self.duration_ms_sum, ms);
        self.add(&self.duration_count, 1);
        let bounds = DURATION_BUCKETS_SECONDS
            .iter()
            .map(|&seconds| seconds.saturating_mul(1000))
            .chain([u64::MAX]);
        for (bucket, bound) in self.buckets.iter().zip(bounds) {
            if ms <= bound {
                self.add(bucket, 1);
            }
        }
    }

    fn stats(&self, queued: u64, deferred: u64, running: u64) -> QueueStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let bounds = DURATION_BUCKETS_SECONDS
            .iter()
            .map(|&seconds| seconds as f64)
            .chain([f64::INFINITY]);
        QueueStats {
            queued,
            deferred,
            running,
            succeeded: read(&self.succeeded),
            failed: read(&self.failed),
            cancelled: read(&self.cancelled),
            superseded: read(&self.superseded),
            deliveries: read(&self.deliveries),
            deferrals: read(&self.deferrals),
            durations: DurationHistogram {
                sum_seconds: read(&self.duration_ms_sum) as f64 / 1000.0,
                count: read(&self.duration_count),
                buckets: bounds
                    .zip(self.buckets.iter().map(read))
                    .collect::<Vec<_>>(),
            },
        }
    }
}

fn job_from_row(operation: &'static str, row: &Row) -> Result<Job, QueueError> {
    let state: &str = row.get(10);
    let state = state.parse::<JobState>().map_err(|e| QueueError::BadRow {
        operation,
        detail: e.to_string(),
    })?;
    let attempts: i32 = row.get(11);
    let duration: Option<i64> = row.get(18);
    let deferrals: i32 = row.get(21);
    Ok(Job {
        id: row.get(0),
        delivery_id: row.get(1),
        repository: row.get(2),
        installation_id: row
            .get::<_, Option<i64>>(3)
            .map(|id| to_u64(operation, "installation ID", id))
            .transpose()?,
        pr_number: to_u64(operation, "pull request number", row.get(4))?,
        head_sha: row.get(5),
        base_sha: row.get(6),
        clone_url: row.get(7),
        event: row.get(8),
        trigger: row.get(9),
        state,
        attempts: to_u64(operation, "attempts", attempts.into())?
            .try_into()
            .unwrap_or(u32::MAX),
        cancel_requested: row.get::<_, Option<&str>>(12).is_some(),
        worker: row.get(13),
        lease_until: row.get::<_, Option<SystemTime>>(14),
        created_at: row.get(15),
        started_at: row.get(16),
        finished_at: row.get(17),
        duration: duration
            .map(|ms| to_u64(operation, "duration", ms).map(Duration::from_millis))
            .transpose()?,
        error: row.get(19),
        run_after: row.get(20),
        deferrals: to_u64(operation, "deferrals", deferrals.into())?
            .try_into()
            .unwrap_or(u32::MAX),
    })
}

fn not_held(job_id: i64, worker: &str) -> QueueError {
    QueueError::NotHeld {
        job_id,
        worker: worker.to_owned(),
    }
}

fn to_i64(what: &'static str, value: u64) -> Result<i64, QueueError> {
    i64::try_from(value).map_err(|_| QueueError::OutOfRange { what, value })
}

fn to_u64(operation: &'static str, what: &str, value: i64) -> Result<u64, QueueError> {
    u64::try_from(value).map_err(|_| QueueError::BadRow {
        operation,
        detail: format!("{what} {value} is negative"),
    })
}

/// `url` with its password, if any, replaced by `***`: for logs and errors.
pub(crate) fn without_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut shown = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{user}:***@{host}"),
                    None => format!("{userinfo}@{host}"),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some(("password", _)) => "password=***".to_owned(),
                _ => param.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&params.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_are_not_shown() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db:5432/jobs",
                "postgres://app:***@db:5432/jobs",
            ),
            ("postgres://app@db/jobs", "postgres://app@db/jobs"),
            (
                "postgresql:///jobs?host=/run/postgresql&password=x&user=a",
                "postgresql:///jobs?host=/run/postgresql&password=***&user=a",
            ),
            ("postgres://a:b:c@h/", "postgres://a:***@h/"),
        ] {
            assert_eq!(without_password(url), shown);
        }
    }
}
