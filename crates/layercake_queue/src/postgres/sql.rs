//! Every statement the PostgreSQL queue runs. Times are the database's
//! `now()` (the transaction's start), so replicas' clocks do not matter;
//! durations come in as seconds (`float8`).

/// The `jobs` columns `job_from_row` reads, in its order.
macro_rules! job_columns {
    () => {
        "id, delivery_id, repository, installation_id, pr_number, head_sha, base_sha, \
         clone_url, event, triggered_by, state, attempts, cancel_requested, worker, \
         lease_until, created_at, started_at, finished_at, duration_ms, error, run_after, \
         deferrals"
    };
}

/// A row back means the delivery is new. A second replica inserting the same
/// ID waits here for the first's transaction, then gets no row.
pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO deliveries (delivery_id, event, job_id, \
       received_at) \
     VALUES ($1, $2, NULL, now()) ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id";

pub(crate) const DELIVERY_JOB: &str = "SELECT job_id FROM deliveries WHERE delivery_id = $1";

/// Taken first in an enqueue: the row lock serialises enqueues of one pull
/// request across replicas, so each sees the jobs of the one before it.
pub(crate) const LOCK_PR: &str = "INSERT INTO pr_heads (repository, pr_number, head_sha, \
       job_id, updated_at) \
     VALUES ($1, $2, $3, NULL, now()) \
     ON CONFLICT (repository, pr_number) DO UPDATE SET \
       head_sha = excluded.head_sha, updated_at = excluded.updated_at";

/// Other heads' queued jobs end `superseded`; running ones are asked to stop.
pub(crate) const SUPERSEDE: &str = "UPDATE jobs SET \
       state = CASE state WHEN 'queued' THEN 'superseded' ELSE state END, \
       finished_at = CASE state WHEN 'queued' THEN now() ELSE finished_at END, \
       cancel_requested = CASE state WHEN 'running' THEN 'superseded' END \
     WHERE repository = $1 AND pr_number = $2 AND head_sha <> $3 \
       AND state IN ('queued', 'running') AND cancel_requested IS NULL \
     RETURNING state";

/// Locked, so a worker completing it waits for this enqueue (or, having
/// completed it first, leaves no live row to join).
pub(crate) const LIVE_JOB: &str = "SELECT id FROM jobs \
     WHERE repository = $1 AND pr_number = $2 AND head_sha = $3 \
       AND state IN ('queued', 'running') AND cancel_requested IS NULL \
     FOR UPDATE";

pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs (delivery_id, repository, \
       installation_id, pr_number, head_sha, base_sha, clone_url, event, triggered_by, state, \
       created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', now()) RETURNING id";

pub(crate) const SET_DELIVERY_JOB: &str =
    "UPDATE deliveries SET job_id = $2 WHERE delivery_id = $1";

pub(crate) const SET_PR_JOB: &str =
    "UPDATE pr_heads SET job_id = $3 WHERE repository = $1 AND pr_number = $2";

/// Queued jobs end `cancelled`; running ones are asked to stop.
pub(crate) const CANCEL_PR: &str = "UPDATE jobs SET \
       state = CASE state WHEN 'queued' THEN 'cancelled' ELSE state END, \
       finished_at = CASE state WHEN 'queued' THEN now() ELSE finished_at END, \
       cancel_requested = CASE state WHEN 'running' THEN 'cancelled' END \
     WHERE repository = $1 AND pr_number = $2 \
       AND state IN ('queued', 'running') AND cancel_requested IS NULL \
     RETURNING state";

/// Concurrent claimers skip the rows another has locked instead of queueing
/// behind them, so N replicas take N different jobs at once. A job put off
/// until later (`run_after`) keeps its place and is passed over until then.
pub(crate) const CLAIM: &str = concat!(
    "UPDATE jobs SET state = 'running', worker = $1, \
       lease_until = now() + $2::float8 * interval '1 second', \
       attempts = attempts + 1, started_at = now() \
     WHERE id = (SELECT id FROM jobs WHERE state = 'queued' \
                    AND (run_after IS NULL OR run_after <= now()) \
                  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING ",
    job_columns!()
);

pub(crate) const HEARTBEAT: &str = "UPDATE jobs \
     SET lease_until = now() + $3::float8 * interval '1 second' \
     WHERE id = $1 AND worker = $2 AND state = 'running' AND cancel_requested IS NULL";

/// `$3` is the outcome's state, NULL for a cancel: then the state the
/// canceller asked for.
pub(crate) const COMPLETE: &str = "UPDATE jobs SET \
       state = COALESCE($3, cancel_requested, 'cancelled'), \
       error = $4, finished_at = now(), lease_until = NULL, \
       duration_ms = GREATEST((extract(epoch FROM now() - started_at) * 1000)::bigint, 0) \
     WHERE id = $1 AND worker = $2 AND state = 'running' \
     RETURNING state, duration_ms";

pub(crate) const RELEASE: &str = "UPDATE jobs SET \
       state = COALESCE(cancel_requested, 'queued'), \
       attempts = CASE WHEN cancel_requested IS NULL THEN GREATEST(attempts - 1, 0) \
                  ELSE attempts END, \
       finished_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE now() END, \
       started_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE started_at END, \
       worker = CASE WHEN cancel_requested IS NULL THEN NULL ELSE worker END, \
       lease_until = NULL \
     WHERE id = $1 AND worker = $2 AND state = 'running' \
     RETURNING state";

/// Put off by the worker (a rate limit, a transient error): queued again
/// until `now + $3` seconds, the attempt not counted, the reason kept. A job
/// asked to stop takes its final state instead.
pub(crate) const DEFER: &str = "UPDATE jobs SET \
       state = COALESCE(cancel_requested, 'queued'), \
       attempts = CASE WHEN cancel_requested IS NULL THEN GREATEST(attempts - 1, 0) \
                  ELSE attempts END, \
       deferrals = deferrals + 1, \
       run_after = now() + $3::float8 * interval '1 second', error = $4, \
       finished_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE now() END, \
       started_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE started_at END, \
       worker = CASE WHEN cancel_requested IS NULL THEN NULL ELSE worker END, \
       lease_until = NULL \
     WHERE id = $1 AND worker = $2 AND state = 'running' \
     RETURNING state";

/// One statement for what SQLite does in three: jobs asked to stop take the
/// state asked for, jobs out of attempts fail, the rest are queued again. Rows
/// another replica's requeue (or a heartbeat) holds are skipped: that one
/// deals with them.
pub(crate) const EXPIRE: &str = "UPDATE jobs SET \
       state = CASE WHEN cancel_requested IS NOT NULL THEN cancel_requested \
                    WHEN attempts >= $1 THEN 'failed' ELSE 'queued' END, \
       finished_at = CASE WHEN cancel_requested IS NOT NULL OR attempts >= $1 THEN now() END, \
       error = CASE WHEN cancel_requested IS NULL AND attempts >= $1 \
                    THEN 'gave up after ' || attempts || ' attempts: the worker''s lease \
expired each time (it crashed, hung, or was killed)' ELSE error END, \
       worker = CASE WHEN cancel_requested IS NULL AND attempts < $1 THEN NULL ELSE worker END, \
       started_at = CASE WHEN cancel_requested IS NULL AND attempts < $1 THEN NULL \
                    ELSE started_at END, \
       lease_until = NULL \
     WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until <= now() \
                  ORDER BY id FOR UPDATE SKIP LOCKED) \
     RETURNING state";

pub(crate) const JOB: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");

pub(crate) const ACTIVE_COUNTS: &str = "SELECT \
       (SELECT count(*) FROM jobs WHERE state = 'queued'), \
       (SELECT count(*) FROM jobs WHERE state = 'queued' AND run_after > now()), \
       (SELECT count(*) FROM jobs WHERE state = 'running')";

pub(crate) const LATEST_HEAD: &str =
    "SELECT head_sha FROM pr_heads WHERE repository = $1 AND pr_number = $2";

pub(crate) const UPSERT_INSTALLATION: &str = "INSERT INTO installations (installation_id, \
       account, active, updated_at) \
     VALUES ($1, $2, $3, now()) \
     ON CONFLICT (installation_id) DO UPDATE SET \
       account = excluded.account, active = excluded.active, updated_at = excluded.updated_at";

/// An installation known only from a repository event: active, account unknown.
pub(crate) const ENSURE_INSTALLATION: &str = "INSERT INTO installations (installation_id, \
       account, active, updated_at) \
     VALUES ($1, '', true, now()) ON CONFLICT (installation_id) DO NOTHING";

pub(crate) const ADD_REPOSITORY: &str = "INSERT INTO repositories (installation_id, repository) \
     VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(crate) const REMOVE_REPOSITORY: &str =
    "DELETE FROM repositories WHERE installation_id = $1 AND repository = $2";

pub(crate) const REMOVE_REPOSITORIES: &str = "DELETE FROM repositories WHERE installation_id = $1";

pub(crate) const REPOSITORIES: &str = "SELECT r.installation_id, r.repository \
     FROM repositories r JOIN installations i ON i.installation_id = r.installation_id \
     WHERE i.active ORDER BY r.installation_id, r.repository";

pub(crate) const PRUNE_DELIVERIES: &str = "DELETE FROM deliveries WHERE delivery_id IN \
     (SELECT delivery_id FROM deliveries \
       WHERE received_at < now() - $1::float8 * interval '1 second' LIMIT $2)";

/// Never the newest job, as in SQLite (where it keeps IDs from being reused;
/// here identity columns never reuse one, but the two behave the same).
pub(crate) const PRUNE_JOBS: &str = "DELETE FROM jobs WHERE id IN \
     (SELECT id FROM jobs WHERE finished_at < now() - $1::float8 * interval '1 second' \
        AND state NOT IN ('queued', 'running') \
        AND id < (SELECT max(id) FROM jobs) LIMIT $2)";
