//! The PostgreSQL schema and its migrations. Each migration runs in its own
//! transaction that also records it in `schema_migrations`, so a crash
//! leaves the last version that committed; the whole run holds a session
//! advisory lock, so replicas starting together migrate once (the others
//! wait, then find nothing to do).

use tokio_postgres::Client;

/// `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock migrations hold: any constant no other user of the
/// database takes ("layercak" in ASCII).
const MIGRATION_LOCK: i64 = 0x6c61_7965_7263_616b;

/// The same tables as SQLite's (`schema.rs`), in PostgreSQL's types, less the
/// counters: each replica counts its own transitions (see `docs/queue.md`).
const V1: &str = r#"
CREATE TABLE jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      text    NOT NULL,
    repository       text    NOT NULL,
    installation_id  bigint,
    pr_number        bigint  NOT NULL,
    head_sha         text    NOT NULL,
    base_sha         text    NOT NULL,
    clone_url        text    NOT NULL,
    event            text    NOT NULL,
    triggered_by     text,
    state            text    NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded')),
    attempts         integer NOT NULL DEFAULT 0,
    -- NULL, or the final state a running job takes when its worker stops.
    cancel_requested text CHECK (cancel_requested IN ('cancelled', 'superseded')),
    worker           text,
    lease_until      timestamptz,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    duration_ms      bigint,
    error            text,
    -- NULL, or until when a worker put the job off (a rate limit, an outage).
    run_after        timestamptz,
    deferrals        integer NOT NULL DEFAULT 0
);

-- claim: the oldest queued job that may run now, skipping rows other
-- claimers hold; run_after in the index so deferred jobs are passed over
-- without reading the table.
CREATE INDEX jobs_queued ON jobs (id, run_after) WHERE state = 'queued';
-- requeue_expired: running jobs by lease.
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
-- A pull request's live jobs (coalescing, superseding, cancel_pr), and the
-- invariant behind coalescing: one live job per head.
CREATE UNIQUE INDEX jobs_live_head ON jobs (repository, pr_number, head_sha)
    WHERE state IN ('queued', 'running') AND cancel_requested IS NULL;
-- prune.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE deliveries (
    delivery_id text        PRIMARY KEY,
    event       text        NOT NULL,
    job_id      bigint,
    received_at timestamptz NOT NULL
);
CREATE INDEX deliveries_received ON deliveries (received_at);

-- The head of the newest job per pull request, for the reconciler; its row
-- lock is what serialises enqueues of one pull request.
CREATE TABLE pr_heads (
    repository text        NOT NULL,
    pr_number  bigint      NOT NULL,
    head_sha   text        NOT NULL,
    job_id     bigint,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (repository, pr_number)
);

CREATE TABLE installations (
    installation_id bigint      PRIMARY KEY,
    account         text        NOT NULL,
    active          boolean     NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE TABLE repositories (
    installation_id bigint NOT NULL,
    repository      text   NOT NULL,
    PRIMARY KEY (installation_id, repository)
);
"#;

/// Why migrating failed.
pub(crate) enum Migration {
    Postgres(tokio_postgres::Error),
    TooNew(i64),
}

impl From<tokio_postgres::Error> for Migration {
    fn from(e: tokio_postgres::Error) -> Self {
        Migration::Postgres(e)
    }
}

/// Brings the database to [`VERSION`] on `client`, a connection of its own:
/// the advisory lock is the session's, so it is let go when the connection
/// closes, whatever happens here.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), Migration> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version    integer     PRIMARY KEY, \
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let current: i64 = client
        .query_one(
            "SELECT COALESCE(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    if current > VERSION {
        return Err(Migration::TooNew(current));
    }
    let from = usize::try_from(current).unwrap_or(0);
    for (index, step) in MIGRATIONS.iter().enumerate().skip(from) {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        let tx = client.transaction().await?;
        tx.batch_execute(step).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tx.commit().await?;
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    Ok(())
}
