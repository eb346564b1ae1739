use std::path::PathBuf;

/// What went wrong in the job store.
///
/// Opening names the database file; every other database failure names the
/// operation, so a log line says what the server was doing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The directory the database file goes in could not be created.
    #[error("cannot create the directory of the job database {}: {source}", path.display())]
    CreateDir {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened, switched to WAL, or migrated.
    #[error("cannot open the job database {}: {source}", path.display())]
    Open {
        /// The database file (`:memory:` for an in-memory store).
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The file is in a journal mode other than WAL after asking for WAL, as on
    /// a file system without shared memory (a network mount).
    #[error(
        "cannot open the job database {}: it must be in WAL mode but SQLite kept journal mode {mode:?} (is it on a network file system?)",
        path.display()
    )]
    NotWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// The database was written by a newer layercake, whose schema this one does
    /// not know.
    #[error(
        "cannot open the job database {}: its schema version is {found}, newer than this layercake's {known}",
        path.display()
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("job database, {operation}: {source}")]
    Database {
        /// What the store was doing, such as `enqueue`.
        operation: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// `complete` or `release` for a job that is not running for this worker
    /// any more: its lease expired and it was requeued (and maybe claimed by
    /// another worker), or it was already finished. The worker's result must be
    /// dropped.
    #[error(
        "job {job_id} is not running for worker {worker:?} (its lease expired, or it already finished)"
    )]
    NotHeld {
        /// The job.
        job_id: i64,
        /// The worker that asked.
        worker: String,
    },
    /// The PostgreSQL database could not be reached, or its schema could not
    /// be migrated.
    #[error("cannot open the job database {url}: {source}")]
    PostgresOpen {
        /// The database's URL, without its password.
        url: String,
        /// Why.
        source: tokio_postgres::Error,
    },
    /// The PostgreSQL database was migrated by a newer layercake.
    #[error(
        "cannot open the job database {url}: its schema version is {found}, newer than this layercake's {known}"
    )]
    PostgresSchemaTooNew {
        /// The database's URL, without its password.
        url: String,
        /// The newest version in its `schema_migrations`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A PostgreSQL statement failed.
    #[error("job database, {operation}: {source}")]
    Postgres {
        /// What the store was doing, such as `enqueue`.
        operation: &'static str,
        /// The error PostgreSQL or the connection reported.
        source: tokio_postgres::Error,
    },
    /// No PostgreSQL connection could be had from the pool.
    #[error("job database, {operation}: no connection: {source}")]
    PostgresPool {
        /// What the store was doing.
        operation: &'static str,
        /// Why.
        source: deadpool_postgres::PoolError,
    },
    /// A row holds what this layercake never writes (a negative pull request
    /// number, an unknown state): the database was changed by hand.
    #[error("job database, {operation}: {detail}")]
    BadRow {
        /// What the store was doing.
        operation: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The blocking task that ran a SQLite call panicked or was cancelled.
    #[error("job database, {operation}: the task running it failed: {message}")]
    Task {
        /// What the store was doing.
        operation: &'static str,
        /// The task's error.
        message: String,
    },
    /// A number from GitHub does not fit SQLite's signed 64-bit integers.
    #[error("{what} {value} is too large for the job database")]
    OutOfRange {
        /// Which number, such as `pull request number`.
        what: &'static str,
        /// The value.
        value: u64,
    },
}

/// Attaches the operation's name to a SQLite error.
pub(crate) trait Context<T> {
    fn context(self, operation: &'static str) -> Result<T, QueueError>;
}

impl<T> Context<T> for Result<T, rusqlite::Error> {
    fn context(self, operation: &'static str) -> Result<T, QueueError> {
        self.map_err(|source| QueueError::Database { operation, source })
    }
}

impl<T> Context<T> for Result<T, tokio_postgres::Error> {
    fn context(self, operation: &'static str) -> Result<T, QueueError> {
        self.map_err(|source| QueueError::Postgres { operation, source })
    }
}
