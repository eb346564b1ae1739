use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::checkpoint::Checkpointer;
use crate::error::{Context, QueueError};
use crate::job::{
    DurationHistogram, EnqueueOutcome, Job, JobOutcome, JobState, NewJob, PruneReport, QueueStats,
    StoreOptions,
};
use crate::{schema, sql};

/// The job queue and delivery log in one SQLite database.
///
/// Cheap to clone; clones share one connection behind a mutex, so calls from
/// several threads run one at a time (each takes tens of microseconds).
/// Several `JobStore`s, in one process or several, may open the same file:
/// SQLite's file locks serialise their writes, and every operation is one
/// statement or one `BEGIN IMMEDIATE` transaction, so none sees another's
/// half-done work.
///
/// All calls block; from async code, call them in `spawn_blocking`.
#[derive(Clone)]
pub struct JobStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// Stopped when the last clone is dropped.
    _checkpointer: Option<Checkpointer>,
}

impl std::fmt::Debug for JobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl JobStore {
    /// Opens the database at `path` with the default [`StoreOptions`], creating
    /// it (and its directory) if missing and migrating it to this build's
    /// schema.
    pub fn open(path: &Path) -> Result<JobStore, QueueError> {
        JobStore::open_with(path, &StoreOptions::default())
    }

    /// [`JobStore::open`] with options.
    pub fn open_with(path: &Path, options: &StoreOptions) -> Result<JobStore, QueueError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| QueueError::CreateDir {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let conn = schema::open(Some(path), options)?;
        let checkpointer =
            schema::open_checkpointer(path, options).map_err(|source| QueueError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(JobStore::from_connection(
            conn,
            Some(path.to_path_buf()),
            Checkpointer::start(checkpointer),
        ))
    }

    /// A store that lives as long as this value and its clones: for tests.
    pub fn open_in_memory() -> Result<JobStore, QueueError> {
        let conn = schema::open(None, &StoreOptions::default())?;
        Ok(JobStore::from_connection(conn, None, None))
    }

    fn from_connection(
        conn: Connection,
        path: Option<PathBuf>,
        checkpointer: Option<Checkpointer>,
    ) -> JobStore {
        JobStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                path,
                _checkpointer: checkpointer,
            }),
        }
    }

    /// The database file; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave a transaction open
        // (rusqlite rolls back on drop), so the connection is still good.
        self.inner
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes in a delivery that asks for a review, in one transaction.
    ///
    /// A delivery ID seen before is [`EnqueueOutcome::Duplicate`] and changes
    /// nothing. Otherwise the pull request's queued jobs for other heads become
    /// `superseded` and its running ones for other heads get
    /// `cancel_requested`; then a queued or running job for the same head (not
    /// asked to stop) takes the delivery in ([`EnqueueOutcome::Coalesced`]), or
    /// a new job is queued.
    ///
    /// The job's head is taken to be the pull request's newest: deliveries of
    /// one pull request arrive in order but for rare exceptions, which the
    /// reconciler repairs.
    pub fn enqueue(&self, delivery_id: &str, job: &NewJob) -> Result<EnqueueOutcome, QueueError> {
        const OP: &str = "enqueue";
        let pr = to_i64("pull request number", job.pr_number)?;
        let installation = job
            .installation_id
            .map(|id| to_i64("installation ID", id))
            .transpose()?;
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .context(OP)?;
        if let Some(job_id) = tx
            .prepare_cached(sql::DELIVERY_JOB)
            .context(OP)?
            .query_row([delivery_id], |row| row.get::<_, Option<i64>>(0))
            .optional()
            .context(OP)?
        {
            // Dropping the transaction rolls back: it changed nothing.
            return Ok(EnqueueOutcome::Duplicate { job_id });
        }
        tx.prepare_cached(sql::SUPERSEDE)
            .context(OP)?
            .execute(params![job.repository, pr, job.head_sha, now])
            .context(OP)?;
        let live = tx
            .prepare_cached(sql::LIVE_JOB)
            .context(OP)?
            .query_row(params![job.repository, pr, job.head_sha], |row| {
                row.get::<_, i64>(0)
            })
            .optional()
            .context(OP)?;
        let outcome = match live {
            Some(job_id) => EnqueueOutcome::Coalesced { job_id },
            None => {
                let job_id = tx
                    .prepare_cached(sql::INSERT_JOB)
                    .context(OP)?
                    .query_row(
                        params![
                            delivery_id,
                            job.repository,
                            installation,
                            pr,
                            job.head_sha,
                            job.base_sha,
                            job.clone_url,
                            job.event,
                            job.trigger,
                            now
                        ],
                        |row| row.get::<_, i64>(0),
                    )
                    .context(OP)?;
                EnqueueOutcome::Enqueued { job_id }
            }
        };
        let job_id = outcome.job_id();
        tx.prepare_cached(sql::INSERT_DELIVERY)
            .context(OP)?
            .execute(params![delivery_id, job.event, job_id, now])
            .context(OP)?;
        tx.prepare_cached(sql::UPSERT_PR_HEAD)
            .context(OP)?
            .execute(params![job.repository, pr, job.head_sha, job_id, now])
            .context(OP)?;
        tx.commit().context(OP)?;
        Ok(outcome)
    }

    /// Records a delivery that makes no job (an event the server ignores, or
    /// handles otherwise), so that its redelivery is recognised. Returns
    /// whether the delivery ID was new.
    pub fn record_delivery(&self, delivery_id: &str, event: &str) -> Result<bool, QueueError> {
        const OP: &str = "record delivery";
        let inserted = self
            .conn()
            .prepare_cached(sql::INSERT_DELIVERY)
            .context(OP)?
            .execute(params![delivery_id, event, None::<i64>, now_ms()])
            .context(OP)?;
        Ok(inserted == 1)
    }

    /// A closed pull request: its queued jobs become `cancelled`, its running
    /// ones get `cancel_requested`. Returns how many jobs it touched.
    ///
    /// Idempotent, so a handler should call it before
    /// [`JobStore::record_delivery`]: a crash in between then leaves a
    /// redelivery that cancels again, not one dismissed as a duplicate.
    pub fn cancel_pr(&self, repository: &str, pr_number: u64) -> Result<usize, QueueError> {
        const OP: &str = "cancel pull request";
        let pr = to_i64("pull request number", pr_number)?;
        self.conn()
            .prepare_cached(sql::CANCEL_PR)
            .context(OP)?
            .execute(params![repository, pr, now_ms()])
            .context(OP)
    }

    /// Takes the oldest queued job for `worker`: it becomes `running`, held
    /// until `now + lease`, with one more attempt. One statement, so two
    /// workers (threads or processes) never get the same job.
    pub fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, QueueError> {
        const OP: &str = "claim";
        let now = now_ms();
        self.conn()
            .prepare_cached(sql::CLAIM)
            .context(OP)?
            .query_row(
                params![worker, now.saturating_add(duration_ms(lease)), now],
                job_from_row,
            )
            .optional()
            .context(OP)
    }

    /// Extends `worker`'s lease on a running job to `now + lease`. `Ok(false)`
    /// means stop: the job is no longer this worker's (its lease expired and it
    /// was requeued) or cancel was requested; a worker that stops for a cancel
    /// then calls [`JobStore::complete`] with [`JobOutcome::Cancelled`].
    pub fn heartbeat(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, QueueError> {
        const OP: &str = "heartbeat";
        let changed = self
            .conn()
            .prepare_cached(sql::HEARTBEAT)
            .context(OP)?
            .execute(params![
                job_id,
                worker,
                now_ms().saturating_add(duration_ms(lease))
            ])
            .context(OP)?;
        Ok(changed == 1)
    }

    /// Finishes a running job of `worker`'s, recording when and how long the
    /// attempt took. [`JobOutcome::Cancelled`] ends it `superseded` when a newer
    /// head asked it to stop, else `cancelled`.
    ///
    /// [`QueueError::NotHeld`] when the job is not running for this worker any
    /// more (its lease expired): its result must be dropped.
    pub fn complete(
        &self,
        job_id: i64,
        worker: &str,
        outcome: &JobOutcome,
    ) -> Result<(), QueueError> {
        let (state, error) = match outcome {
            JobOutcome::Succeeded => (Some(JobState::Succeeded), None),
            JobOutcome::Failed { error } => (Some(JobState::Failed), Some(error.as_str())),
            JobOutcome::Cancelled => (None, None),
            JobOutcome::RetryLater { after, reason } => {
                let now = now_ms();
                let changed = self
                    .conn()
                    .prepare_cached(sql::DEFER)
                    .context("defer")?
                    .execute(params![
                        job_id,
                        worker,
                        now.saturating_add(duration_ms(*after)),
                        reason,
                        now
                    ])
                    .context("defer")?;
                return held(changed, job_id, worker);
            }
        };
        let changed = self
            .conn()
            .prepare_cached(sql::COMPLETE)
            .context("complete")?
            .execute(params![job_id, worker, state, error, now_ms()])
            .context("complete")?;
        held(changed, job_id, worker)
    }

    /// Hands a running job back on graceful shutdown: it is queued again, in
    /// its old place (claims go by ID), and the attempt does not count. A job
    /// asked to stop takes its final state instead.
    ///
    /// [`QueueError::NotHeld`] when the job is not running for this worker.
    pub fn release(&self, job_id: i64, worker: &str) -> Result<(), QueueError> {
        let changed = self
            .conn()
            .prepare_cached(sql::RELEASE)
            .context("release")?
            .execute(params![job_id, worker, now_ms()])
            .context("release")?;
        held(changed, job_id, worker)
    }

    /// Running jobs whose lease expired (their worker died or hung) are queued
    /// again, unless they already had `max_attempts` attempts: then they fail
    /// with "gave up after N attempts". A job asked to stop takes its final
    /// state. Returns how many were queued again.
    ///
    /// Call it at startup and every lease period or so.
    pub fn requeue_expired(&self, max_attempts: u32) -> Result<usize, QueueError> {
        self.requeue_running(now_ms(), max_attempts)
    }

    /// [`JobStore::requeue_expired`] for every running job, leased or not: for
    /// the startup of a server that is the database's only user, where every
    /// running job belongs to a process that is gone. Never call it while
    /// another process works on the same file.
    pub fn requeue_all_running(&self, max_attempts: u32) -> Result<usize, QueueError> {
        self.requeue_running(i64::MAX, max_attempts)
    }

    fn requeue_running(&self, expired_by: i64, max_attempts: u32) -> Result<usize, QueueError> {
        const OP: &str = "requeue expired jobs";
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .context(OP)?;
        tx.prepare_cached(sql::EXPIRE_CANCELLED)
            .context(OP)?
            .execute(params![expired_by, now])
            .context(OP)?;
        tx.prepare_cached(sql::EXPIRE_GIVE_UP)
            .context(OP)?
            .execute(params![expired_by, now, max_attempts])
            .context(OP)?;
        let requeued = tx
            .prepare_cached(sql::EXPIRE_REQUEUE)
            .context(OP)?
            .execute(params![expired_by])
            .context(OP)?;
        tx.commit().context(OP)?;
        Ok(requeued)
    }

    /// One job.
    pub fn job(&self, job_id: i64) -> Result<Option<Job>, QueueError> {
        self.conn()
            .prepare_cached(sql::JOB)
            .context("read job")?
            .query_row([job_id], job_from_row)
            .optional()
            .context("read job")
    }

    /// Counts and the duration histogram, read in one snapshot.
    pub fn stats(&self) -> Result<QueueStats, QueueError> {
        const OP: &str = "stats";
        let mut conn = self.conn();
        // Reads only: a deferred transaction is one consistent snapshot.
        let tx = conn.transaction().context(OP)?;
        let (queued, deferred, running) = tx
            .prepare_cached(sql::ACTIVE_COUNTS)
            .context(OP)?
            .query_row([now_ms()], |row| {
                Ok((
                    row.get::<_, u64>(0)?,
                    row.get::<_, u64>(1)?,
                    row.get::<_, u64>(2)?,
                ))
            })
            .context(OP)?;
        let counter = |name: &str| -> Result<u64, QueueError> {
            tx.prepare_cached(sql::COUNTER)
                .context(OP)?
                .query_row([name], |row| row.get::<_, u64>(0))
                .optional()
                .context(OP)
                .map(Option::unwrap_or_default)
        };
        let succeeded = counter("succeeded")?;
        let failed = counter("failed")?;
        let cancelled = counter("cancelled")?;
        let superseded = counter("superseded")?;
        let deliveries = counter("deliveries")?;
        let deferrals = counter("deferrals")?;
        let sum_ms = counter("duration_ms_sum")?;
        let count = counter("duration_count")?;
        let buckets = tx
            .prepare_cached(sql::DURATION_BUCKETS)
            .context(OP)?
            .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, u64>(1)?)))
            .context(OP)?
            .map(|bucket| {
                bucket.map(|(le_ms, value)| {
                    let le = if le_ms == i64::MAX {
                        f64::INFINITY
                    } else {
                        le_ms as f64 / 1000.0
                    };
                    (le, value)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .context(OP)?;
        tx.commit().context(OP)?;
        Ok(QueueStats {
            queued,
            deferred,
            running,
            succeeded,
            failed,
            cancelled,
            superseded,
            deliveries,
            deferrals,
            durations: DurationHistogram {
                sum_seconds: sum_ms as f64 / 1000.0,
                count,
                buckets,
            },
        })
    }

    /// The head of the newest job this store made or joined for a pull
    /// request: the reconciler compares it with the pull request's head on
    /// GitHub to find pushes whose deliveries never arrived.
    pub fn latest_head(
        &self,
        repository: &str,
        pr_number: u64,
    ) -> Result<Option<String>, QueueError> {
        let pr = to_i64("pull request number", pr_number)?;
        self.conn()
            .prepare_cached(sql::LATEST_HEAD)
            .context("latest head")?
            .query_row(params![repository, pr], |row| row.get(0))
            .optional()
            .context("latest head")
    }

    /// Records an installation of the App (`installation` events): `active`
    /// false once it is deleted or suspended.
    pub fn set_installation(
        &self,
        installation_id: u64,
        account: &str,
        active: bool,
    ) -> Result<(), QueueError> {
        let id = to_i64("installation ID", installation_id)?;
        self.conn()
            .prepare_cached(sql::UPSERT_INSTALLATION)
            .context("set installation")?
            .execute(params![id, account, active, now_ms()])
            .context("set installation")?;
        Ok(())
    }

    /// Adds (`present`) or removes a repository of an installation
    /// (`installation_repositories` events). An installation not seen before is
    /// recorded as active with an unknown account: the event shows it exists.
    pub fn set_repository(
        &self,
        installation_id: u64,
        repository: &str,
        present: bool,
    ) -> Result<(), QueueError> {
        const OP: &str = "set repository";
        let id = to_i64("installation ID", installation_id)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .context(OP)?;
        if present {
            tx.prepare_cached(sql::ENSURE_INSTALLATION)
                .context(OP)?
                .execute(params![id, now_ms()])
                .context(OP)?;
            tx.prepare_cached(sql::ADD_REPOSITORY)
                .context(OP)?
                .execute(params![id, repository])
                .context(OP)?;
        } else {
            tx.prepare_cached(sql::REMOVE_REPOSITORY)
                .context(OP)?
                .execute(params![id, repository])
                .context(OP)?;
        }
        tx.commit().context(OP)
    }

    /// Replaces an installation's repositories with `repositories`, as the API
    /// lists them (the `installation.created` event, or a resync).
    pub fn set_repositories(
        &self,
        installation_id: u64,
        repositories: &[String],
    ) -> Result<(), QueueError> {
        const OP: &str = "set repositories";
        let id = to_i64("installation ID", installation_id)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .context(OP)?;
        tx.prepare_cached(sql::ENSURE_INSTALLATION)
            .context(OP)?
            .execute(params![id, now_ms()])
            .context(OP)?;
        tx.prepare_cached(sql::REMOVE_REPOSITORIES)
            .context(OP)?
            .execute([id])
            .context(OP)?;
        for repository in repositories {
            tx.prepare_cached(sql::ADD_REPOSITORY)
                .context(OP)?
                .execute(params![id, repository])
                .context(OP)?;
        }
        tx.commit().context(OP)
    }

    /// `(installation, owner/name)` of every repository of an active
    /// installation, ordered, for the reconciler to walk.
    pub fn repositories(&self) -> Result<Vec<(u64, String)>, QueueError> {
        const OP: &str = "list repositories";
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql::REPOSITORIES).context(OP)?;
        stmt.query_map([], |row| {
            Ok((row.get::<_, u64>(0)?, row.get::<_, String>(1)?))
        })
        .context(OP)?
        .collect::<Result<Vec<_>, _>>()
        .context(OP)
    }

    /// Deletes delivery records and finished jobs older than `older_than`, in
    /// small transactions so that intake is never held up for long. The
    /// counters in [`QueueStats`] stay, and so does each pull request's latest
    /// head.
    ///
    /// A delivery forgotten this way is no longer recognised as a redelivery:
    /// keep deliveries longer than GitHub lets anyone redeliver (days).
    pub fn prune(&self, older_than: Duration) -> Result<PruneReport, QueueError> {
        const OP: &str = "prune";
        const BATCH: usize = 500;
        let cutoff = now_ms().saturating_sub(duration_ms(older_than));
        let mut report = PruneReport::default();
        for (statement, total) in [
            (sql::PRUNE_DELIVERIES, &mut report.deliveries),
            (sql::PRUNE_JOBS, &mut report.jobs),
        ] {
            loop {
                // The lock is taken per batch, so intake goes on in between.
                let deleted = self
                    .conn()
                    .prepare_cached(statement)
                    .context(OP)?
                    .execute(params![cutoff, BATCH as i64])
                    .context(OP)?;
                *total += deleted;
                if deleted < BATCH {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// SQLite's `PRAGMA integrity_check`: the problems found, none when the
    /// file is sound. Reads the whole file.
    pub fn integrity_check(&self) -> Result<Vec<String>, QueueError> {
        const OP: &str = "integrity check";
        let conn = self.conn();
        let mut stmt = conn.prepare("PRAGMA integrity_check").context(OP)?;
        let lines = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .context(OP)?
            .collect::<Result<Vec<_>, _>>()
            .context(OP)?;
        Ok(lines.into_iter().filter(|line| line != "ok").collect())
    }

    /// Copies the write-ahead log into the database file and empties it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), waiting for other connections'
    /// transactions. SQLite also checkpoints on its own as the log grows; this
    /// is for shutdown and before a backup.
    pub fn checkpoint(&self) -> Result<(), QueueError> {
        self.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .context("checkpoint")
    }
}

fn held(changed: usize, job_id: i64, worker: &str) -> Result<(), QueueError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(QueueError::NotHeld {
            job_id,
            worker: worker.to_owned(),
        })
    }
}

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let time = |ms: Option<i64>| ms.map(time_of);
    Ok(Job {
        id: row.get(0)?,
        delivery_id: row.get(1)?,
        repository: row.get(2)?,
        installation_id: row.get(3)?,
        pr_number: row.get(4)?,
        head_sha: row.get(5)?,
        base_sha: row.get(6)?,
        clone_url: row.get(7)?,
        event: row.get(8)?,
        trigger: row.get(9)?,
        state: row.get(10)?,
        attempts: row.get(11)?,
        cancel_requested: row.get::<_, Option<String>>(12)?.is_some(),
        worker: row.get(13)?,
        lease_until: time(row.get(14)?),
        created_at: time_of(row.get(15)?),
        started_at: time(row.get(16)?),
        finished_at: time(row.get(17)?),
        duration: row.get::<_, Option<u64>>(18)?.map(Duration::from_millis),
        error: row.get(19)?,
        run_after: Some(row.get::<_, i64>(20)?)
            .filter(|ms| *ms > 0)
            .map(time_of),
        deferrals: row.get(21)?,
    })
}

fn to_i64(what: &'static str, value: u64) -> Result<i64, QueueError> {
    i64::try_from(value).map_err(|_| QueueError::OutOfRange { what, value })
}

/// Now, in milliseconds since the Unix epoch: what the database stores.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(duration_ms)
        .unwrap_or(0)
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn time_of(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements on the intake and worker paths use their indexes, never
    /// a full scan of `jobs` or `deliveries` (a scan of a partial index, as
    /// claim's, is fine): they stay fast however many jobs the file holds.
    #[test]
    fn hot_statements_use_indexes() {
        let store = JobStore::open_in_memory().unwrap();
        let conn = store.conn();
        for &(statement, index) in sql::HOT {
            let mut explain = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
                .unwrap();
            let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
            let plan = explain
                .query_map(rusqlite::params_from_iter(nulls), |row| {
                    row.get::<_, String>(3)
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
                .join("\n");
            assert!(
                plan.contains(index),
                "{statement}\nshould use {index}:\n{plan}"
            );
            assert!(
                !plan
                    .lines()
                    .any(|line| matches!(line.trim(), "SCAN jobs" | "SCAN deliveries")),
                "{statement}\nscans a table:\n{plan}"
            );
        }
    }
}
