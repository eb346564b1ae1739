//! The database's schema and the connection settings. Migrations are numbered
//! by `PRAGMA user_version`; each runs in the same `BEGIN IMMEDIATE`
//! transaction that bumps the version, so a crash mid-migration leaves the old
//! version, and two processes opening the file at once migrate it once.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::QueueError;
use crate::job::{StoreOptions, Synchronous};

/// `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = r#"
CREATE TABLE jobs (
    -- Not AUTOINCREMENT (a page write per insert): prune keeps the newest job,
    -- so the largest ID, and with it every ID, is never handed out twice.
    id               INTEGER PRIMARY KEY,
    delivery_id      TEXT    NOT NULL,
    repository       TEXT    NOT NULL,
    installation_id  INTEGER,
    pr_number        INTEGER NOT NULL,
    head_sha         TEXT    NOT NULL,
    base_sha         TEXT    NOT NULL,
    clone_url        TEXT    NOT NULL,
    event            TEXT    NOT NULL,
    triggered_by     TEXT,
    state            TEXT    NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- NULL, or the final state a running job takes when its worker stops.
    cancel_requested TEXT CHECK (cancel_requested IN ('cancelled', 'superseded')),
    worker           TEXT,
    lease_until      INTEGER,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    duration_ms      INTEGER,
    error            TEXT
);

-- claim: the oldest queued job.
CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
-- requeue_expired: running jobs by lease.
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
-- A pull request's live jobs: coalescing, superseding, cancel_pr, whose WHERE
-- clauses repeat this one's so that SQLite uses it; and the invariant behind
-- coalescing: one live job per head.
CREATE UNIQUE INDEX jobs_live_head ON jobs (repository, pr_number, head_sha)
    WHERE state IN ('queued', 'running') AND cancel_requested IS NULL;
-- prune.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Every delivery ever received (until pruned), with the job it made or joined.
CREATE TABLE deliveries (
    delivery_id TEXT    PRIMARY KEY,
    event       TEXT    NOT NULL,
    job_id      INTEGER,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX deliveries_received ON deliveries (received_at);

-- The head of the newest job per pull request, for the reconciler. Kept apart
-- from jobs so that pruning jobs does not forget it.
CREATE TABLE pr_heads (
    repository TEXT    NOT NULL,
    pr_number  INTEGER NOT NULL,
    head_sha   TEXT    NOT NULL,
    job_id     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repository, pr_number)
) WITHOUT ROWID;

CREATE TABLE installations (
    installation_id INTEGER PRIMARY KEY,
    account         TEXT    NOT NULL,
    active          INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE TABLE repositories (
    installation_id INTEGER NOT NULL,
    repository      TEXT    NOT NULL,
    PRIMARY KEY (installation_id, repository)
) WITHOUT ROWID;

-- Monotonic counters for metrics, kept by triggers so that every path to a
-- final state counts, and pruning never lowers them.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES
    ('succeeded', 0), ('failed', 0), ('cancelled', 0), ('superseded', 0),
    ('deliveries', 0), ('duration_ms_sum', 0), ('duration_count', 0);
-- Cumulative: a duration counts in every bucket whose bound is at least it.
CREATE TABLE duration_buckets (
    le_ms INTEGER PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO duration_buckets (le_ms, value) VALUES
    (1000, 0), (5000, 0), (15000, 0), (60000, 0), (300000, 0), (900000, 0),
    (9223372036854775807, 0);

CREATE TRIGGER jobs_count_final AFTER UPDATE OF state ON jobs
WHEN OLD.state IN ('queued', 'running') AND NEW.state NOT IN ('queued', 'running')
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = NEW.state;
END;

CREATE TRIGGER jobs_count_duration AFTER UPDATE OF state ON jobs
WHEN OLD.state = 'running' AND NEW.state IN ('succeeded', 'failed') AND NEW.duration_ms IS NOT NULL
BEGIN
    UPDATE counters SET value = value + NEW.duration_ms WHERE name = 'duration_ms_sum';
    UPDATE counters SET value = value + 1 WHERE name = 'duration_count';
    UPDATE duration_buckets SET value = value + 1 WHERE le_ms >= NEW.duration_ms;
END;

CREATE TRIGGER deliveries_count AFTER INSERT ON deliveries
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'deliveries';
END;
"#;

/// Jobs deferred by GitHub's rate limits and transient errors: a queued job
/// is claimed only once `run_after` has passed, and `deferrals` counts the
/// times it was put off (they are not attempts). The claim's index carries
/// `run_after`, so skipping deferred jobs reads no table rows.
const V2: &str = r#"
ALTER TABLE jobs ADD COLUMN run_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;
DROP INDEX jobs_queued;
CREATE INDEX jobs_queued ON jobs (id, run_after) WHERE state = 'queued';

INSERT INTO counters (name, value) VALUES ('deferrals', 0);
CREATE TRIGGER jobs_count_deferral AFTER UPDATE OF deferrals ON jobs
WHEN NEW.deferrals > OLD.deferrals
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'deferrals';
END;
"#;

/// The page size of a new database file, in bytes.
const PAGE_SIZE: i64 = 1024;

/// WAL pages after which a commit checkpoints itself: a backstop for when
/// the checkpointer thread cannot keep up (see [`crate::checkpoint`]).
const WAL_BACKSTOP_PAGES: i64 = 64 * 1024;

/// Bytes a WAL file is cut back to after a checkpoint that emptied it.
const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Opens `path` (`None`: in memory), sets it up and migrates it.
pub(crate) fn open(path: Option<&Path>, options: &StoreOptions) -> Result<Connection, QueueError> {
    let shown = path.unwrap_or(Path::new(":memory:"));
    let open_error = |source| QueueError::Open {
        path: shown.to_path_buf(),
        source,
    };
    let mut conn = match path {
        Some(path) => Connection::open(path),
        None => Connection::open_in_memory(),
    }
    .map_err(open_error)?;
    conn.busy_timeout(options.busy_timeout)
        .map_err(open_error)?;
    // Before anything is written: it only applies to a new file. An enqueue
    // touches a dozen pages (the job, its indexes, the delivery, the
    // superseded job, counters) and the WAL holds each in full, so 1 KiB
    // pages write a third of the bytes 4 KiB pages do, to the WAL and at
    // checkpoints. Rows are a few hundred bytes; nothing here needs big pages.
    conn.pragma_update(None, "page_size", PAGE_SIZE)
        .map_err(open_error)?;
    // The first statement is where SQLite reads the file: "file is not a
    // database" shows up here.
    let mode: String = retry_while_busy(options.busy_timeout, || {
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
    })
    .map_err(open_error)?;
    if path.is_some() && !mode.eq_ignore_ascii_case("wal") {
        return Err(QueueError::NotWal {
            path: shown.to_path_buf(),
            mode,
        });
    }
    conn.pragma_update(None, "synchronous", synchronous(options))
        .map_err(open_error)?;
    // A checkpoint syncs the database file: tens of milliseconds during which
    // the connection, and every delivery waiting for it, stands still. On a
    // file the checkpointer thread does it on its own connection; the store's
    // connection only checkpoints when the log outgrew the backstop.
    let autocheckpoint = if path.is_some() {
        WAL_BACKSTOP_PAGES
    } else {
        1000
    };
    conn.pragma_update(None, "wal_autocheckpoint", autocheckpoint)
        .map_err(open_error)?;
    // A WAL file that grew during a burst is cut back to this after a
    // checkpoint instead of staying at its largest size.
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)
        .map_err(open_error)?;
    conn.set_prepared_statement_cache_capacity(64);

    migrate(&mut conn).map_err(|e| match e {
        Migration::Sqlite(source) => open_error(source),
        Migration::TooNew(found) => QueueError::SchemaTooNew {
            path: shown.to_path_buf(),
            found,
            known: VERSION,
        },
    })?;
    Ok(conn)
}

/// Runs `step` again while SQLite answers "database is locked", until
/// `timeout` has passed. Switching a new file to WAL needs an exclusive lock
/// and SQLite answers busy at once, without its busy handler, when another
/// connection is creating the same file: processes starting together would
/// otherwise fail to open it.
fn retry_while_busy<T>(
    timeout: std::time::Duration,
    mut step: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + timeout;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// A second connection to a file [`open`] set up, for the checkpointer: its
/// `synchronous` decides how a checkpoint syncs, so it matches the store's.
pub(crate) fn open_checkpointer(
    path: &Path,
    options: &StoreOptions,
) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(options.busy_timeout)?;
    conn.pragma_update(None, "synchronous", synchronous(options))?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    Ok(conn)
}

fn synchronous(options: &StoreOptions) -> &'static str {
    match options.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    }
}

enum Migration {
    Sqlite(rusqlite::Error),
    TooNew(i64),
}

impl From<rusqlite::Error> for Migration {
    fn from(e: rusqlite::Error) -> Self {
        Migration::Sqlite(e)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), Migration> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current == VERSION {
        return Ok(());
    }
    if current > VERSION {
        return Err(Migration::TooNew(current));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated.
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > VERSION {
        return Err(Migration::TooNew(current));
    }
    let from = usize::try_from(current).unwrap_or(0);
    for step in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}
