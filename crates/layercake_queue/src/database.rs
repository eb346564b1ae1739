//! Where the job queue lives, as `--database` names it, and opening it: the
//! one place that knows both implementations.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::QueueError;
use crate::postgres::PostgresQueue;
use crate::queue::{JobQueue, SqliteQueue};
use crate::store::JobStore;

/// Where the job queue lives, as `--database` names it: a PostgreSQL URL
/// (`postgres://…` or `postgresql://…`), else a SQLite file (a path, or
/// `sqlite:PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (libpq's form, as `tokio-postgres` reads it).
    Postgres(String),
}

impl Database {
    /// Reads `--database`.
    pub fn parse(text: &str) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Database::Postgres(text.to_owned());
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        Database::Sqlite(PathBuf::from(path))
    }

    /// Opens (and migrates) the queue. A SQLite file is opened on tokio's
    /// blocking pool; a PostgreSQL database gets a connection pool.
    pub async fn open(&self) -> Result<Arc<dyn JobQueue>, QueueError> {
        match self {
            Database::Sqlite(path) => {
                let path = path.clone();
                let store = tokio::task::spawn_blocking(move || JobStore::open(&path))
                    .await
                    .map_err(|error| QueueError::Task {
                        operation: "open",
                        message: error.to_string(),
                    })??;
                Ok(Arc::new(SqliteQueue::new(store)))
            }
            Database::Postgres(url) => Ok(Arc::new(PostgresQueue::connect(url).await?)),
        }
    }
}

/// For logs: a PostgreSQL URL without its password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&crate::postgres::without_password(url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Database;
    use std::path::PathBuf;

    #[test]
    fn database_urls_choose_postgresql_and_everything_else_is_a_sqlite_file() {
        for (text, database) in [
            (
                "postgres://app:pw@db/jobs",
                Database::Postgres("postgres://app:pw@db/jobs".into()),
            ),
            (
                "postgresql:///jobs?host=/run/postgresql",
                Database::Postgres("postgresql:///jobs?host=/run/postgresql".into()),
            ),
            (
                "layercake.db",
                Database::Sqlite(PathBuf::from("layercake.db")),
            ),
            (
                "sqlite:/var/lib/layercake/jobs.db",
                Database::Sqlite(PathBuf::from("/var/lib/layercake/jobs.db")),
            ),
            (
                "sqlite:///var/lib/jobs.db",
                Database::Sqlite(PathBuf::from("/var/lib/jobs.db")),
            ),
        ] {
            assert_eq!(Database::parse(text), database, "{text}");
        }
        assert_eq!(
            Database::parse("postgres://app:pw@db/jobs").to_string(),
            "postgres://app:***@db/jobs"
        );
    }
}
