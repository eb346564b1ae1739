//! Every statement the store runs, in one place, so that the query-plan test
//! checks the very text the store prepares.

/// The `jobs` columns `job_from_row` reads, in its order.
macro_rules! job_columns {
    () => {
        "id, delivery_id, repository, installation_id, pr_number, head_sha, base_sha, \
         clone_url, event, triggered_by, state, attempts, cancel_requested, worker, \
         lease_until, created_at, started_at, finished_at, duration_ms, error, run_after, \
         deferrals"
    };
}

pub(crate) const DELIVERY_JOB: &str = "SELECT job_id FROM deliveries WHERE delivery_id = ?1";

/// Other heads' queued jobs end `superseded`; running ones are asked to stop.
/// The last line repeats `jobs_live_head`'s WHERE so that SQLite uses it.
pub(crate) const SUPERSEDE: &str = "UPDATE jobs SET \
       state = CASE state WHEN 'queued' THEN 'superseded' ELSE state END, \
       finished_at = CASE state WHEN 'queued' THEN ?4 ELSE finished_at END, \
       cancel_requested = CASE state WHEN 'running' THEN 'superseded' END \
     WHERE repository = ?1 AND pr_number = ?2 AND head_sha <> ?3 \
       AND state IN ('queued', 'running') AND cancel_requested IS NULL";

pub(crate) const LIVE_JOB: &str = "SELECT id FROM jobs \
     WHERE repository = ?1 AND pr_number = ?2 AND head_sha = ?3 \
       AND state IN ('queued', 'running') AND cancel_requested IS NULL";

pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs (delivery_id, repository, \
       installation_id, pr_number, head_sha, base_sha, clone_url, event, triggered_by, state, \
       created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?10) RETURNING id";

pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO deliveries (delivery_id, event, job_id, \
       received_at) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (delivery_id) DO NOTHING";

pub(crate) const UPSERT_PR_HEAD: &str = "INSERT INTO pr_heads (repository, pr_number, head_sha, \
       job_id, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (repository, pr_number) DO UPDATE SET \
       head_sha = excluded.head_sha, job_id = excluded.job_id, updated_at = excluded.updated_at";

/// Queued jobs end `cancelled`; running ones are asked to stop.
pub(crate) const CANCEL_PR: &str = "UPDATE jobs SET \
       state = CASE state WHEN 'queued' THEN 'cancelled' ELSE state END, \
       finished_at = CASE state WHEN 'queued' THEN ?3 ELSE finished_at END, \
       cancel_requested = CASE state WHEN 'running' THEN 'cancelled' END \
     WHERE repository = ?1 AND pr_number = ?2 \
       AND state IN ('queued', 'running') AND cancel_requested IS NULL";

/// One statement: SQLite runs it under the database's write lock, so the
/// job it picks is still queued when it takes it. A job deferred until
/// later (`run_after`) keeps its place and is passed over until then.
pub(crate) const CLAIM: &str = concat!(
    "UPDATE jobs SET state = 'running', worker = ?1, lease_until = ?2, \
       attempts = attempts + 1, started_at = ?3 \
     WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= ?3 \
                 ORDER BY id LIMIT 1) \
     RETURNING ",
    job_columns!()
);

pub(crate) const HEARTBEAT: &str = "UPDATE jobs SET lease_until = ?3 \
     WHERE id = ?1 AND worker = ?2 AND state = 'running' AND cancel_requested IS NULL";

/// `?3` is the outcome's state, NULL for a cancel: then the state the
/// canceller asked for.
pub(crate) const COMPLETE: &str = "UPDATE jobs SET \
       state = COALESCE(?3, cancel_requested, 'cancelled'), \
       error = ?4, finished_at = ?5, lease_until = NULL, \
       duration_ms = MAX(?5 - started_at, 0) \
     WHERE id = ?1 AND worker = ?2 AND state = 'running'";

pub(crate) const RELEASE: &str = "UPDATE jobs SET \
       state = COALESCE(cancel_requested, 'queued'), \
       attempts = CASE WHEN cancel_requested IS NULL THEN MAX(attempts - 1, 0) ELSE attempts END, \
       finished_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE ?3 END, \
       started_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE started_at END, \
       worker = CASE WHEN cancel_requested IS NULL THEN NULL ELSE worker END, \
       lease_until = NULL \
     WHERE id = ?1 AND worker = ?2 AND state = 'running'";

/// Deferred by the worker (a rate limit, a transient error): queued again
/// until `?3`, the attempt not counted, the reason kept. A job asked to stop
/// takes its final state instead.
pub(crate) const DEFER: &str = "UPDATE jobs SET \
       state = COALESCE(cancel_requested, 'queued'), \
       attempts = CASE WHEN cancel_requested IS NULL THEN MAX(attempts - 1, 0) ELSE attempts END, \
       deferrals = deferrals + 1, \
       run_after = ?3, error = ?4, \
       finished_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE ?5 END, \
       started_at = CASE WHEN cancel_requested IS NULL THEN NULL ELSE started_at END, \
       worker = CASE WHEN cancel_requested IS NULL THEN NULL ELSE worker END, \
       lease_until = NULL \
     WHERE id = ?1 AND worker = ?2 AND state = 'running'";

/// Expired jobs asked to stop take the state asked for.
pub(crate) const EXPIRE_CANCELLED: &str = "UPDATE jobs SET state = cancel_requested, \
       finished_at = ?2, lease_until = NULL \
     WHERE state = 'running' AND lease_until <= ?1 AND cancel_requested IS NOT NULL";

pub(crate) const EXPIRE_GIVE_UP: &str = "UPDATE jobs SET state = 'failed', finished_at = ?2, \
       lease_until = NULL, \
       error = 'gave up after ' || attempts || ' attempts: the worker''s lease expired each \
time (it crashed, hung, or was killed)' \
     WHERE state = 'running' AND lease_until <= ?1 AND attempts >= ?3";

pub(crate) const EXPIRE_REQUEUE: &str = "UPDATE jobs SET state = 'queued', worker = NULL, \
       lease_until = NULL, started_at = NULL \
     WHERE state = 'running' AND lease_until <= ?1";

pub(crate) const JOB: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = ?1");

pub(crate) const ACTIVE_COUNTS: &str = "SELECT \
       (SELECT COUNT(*) FROM jobs WHERE state = 'queued'), \
       (SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND run_after > ?1), \
       (SELECT COUNT(*) FROM jobs WHERE state = 'running')";

pub(crate) const COUNTER: &str = "SELECT value FROM counters WHERE name = ?1";

pub(crate) const DURATION_BUCKETS: &str =
    "SELECT le_ms, value FROM duration_buckets ORDER BY le_ms";

pub(crate) const LATEST_HEAD: &str =
    "SELECT head_sha FROM pr_heads WHERE repository = ?1 AND pr_number = ?2";

pub(crate) const UPSERT_INSTALLATION: &str = "INSERT INTO installations (installation_id, \
       account, active, updated_at) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (installation_id) DO UPDATE SET \
       account = excluded.account, active = excluded.active, updated_at = excluded.updated_at";

/// An installation known only from a repository event: active, account unknown.
pub(crate) const ENSURE_INSTALLATION: &str = "INSERT INTO installations (installation_id, \
       account, active, updated_at) \
     VALUES (?1, '', 1, ?2) ON CONFLICT (installation_id) DO NOTHING";

pub(crate) const ADD_REPOSITORY: &str = "INSERT INTO repositories (installation_id, repository) \
     VALUES (?1, ?2) ON CONFLICT DO NOTHING";

pub(crate) const REMOVE_REPOSITORY: &str =
    "DELETE FROM repositories WHERE installation_id = ?1 AND repository = ?2";

pub(crate) const REMOVE_REPOSITORIES: &str = "DELETE FROM repositories WHERE installation_id = ?1";

pub(crate) const REPOSITORIES: &str = "SELECT r.installation_id, r.repository \
     FROM repositories r JOIN installations i ON i.installation_id = r.installation_id \
     WHERE i.active ORDER BY r.installation_id, r.repository";

pub(crate) const PRUNE_DELIVERIES: &str = "DELETE FROM deliveries WHERE delivery_id IN \
     (SELECT delivery_id FROM deliveries WHERE received_at < ?1 LIMIT ?2)";

/// Never the newest job: without AUTOINCREMENT, SQLite would hand its ID out
/// again.
pub(crate) const PRUNE_JOBS: &str = "DELETE FROM jobs WHERE id IN \
     (SELECT id FROM jobs WHERE finished_at < ?1 AND state NOT IN ('queued', 'running') \
        AND id < (SELECT MAX(id) FROM jobs) LIMIT ?2)";

/// The statements on the intake and worker paths, with the index each must
/// use: checked by a test.
#[cfg(test)]
pub(crate) const HOT: &[(&str, &str)] = &[
    (DELIVERY_JOB, "PRIMARY KEY"),
    (SUPERSEDE, "jobs_live_head"),
    (LIVE_JOB, "jobs_live_head"),
    (INSERT_DELIVERY, ""),
    (UPSERT_PR_HEAD, ""),
    (CANCEL_PR, "jobs_live_head"),
    (CLAIM, "jobs_queued"),
    (HEARTBEAT, "PRIMARY KEY"),
    (COMPLETE, "PRIMARY KEY"),
    (RELEASE, "PRIMARY KEY"),
    (DEFER, "PRIMARY KEY"),
    (EXPIRE_CANCELLED, "jobs_running"),
    (EXPIRE_GIVE_UP, "jobs_running"),
    (EXPIRE_REQUEUE, "jobs_running"),
    (ACTIVE_COUNTS, "jobs_queued"),
    (LATEST_HEAD, "PRIMARY KEY"),
    (PRUNE_DELIVERIES, "deliveries_received"),
    (PRUNE_JOBS, "jobs_finished"),
];
