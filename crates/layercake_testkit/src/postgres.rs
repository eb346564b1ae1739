//! A PostgreSQL database per test: [`postgres_or_skip`].
//!
//! The server is the one `LAYERCAKE_TEST_POSTGRES` names (a URL whose user
//! may create databases), else one this process starts itself from Debian's
//! binaries (`/usr/lib/postgresql/N/bin`, the `postgresql` package): a
//! throwaway cluster in a temporary directory, reached through a Unix socket
//! there and nothing else, with durability off (tests need none). So the
//! README's plain `cargo test` runs the PostgreSQL tests wherever the package
//! is installed. The server stops, and its directory goes, when the test
//! process ends, however it ends: a shell beside it waits for the process's
//! end of a pipe to close.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::note_skip;

/// A PostgreSQL server URL (`postgres://user:password@host:port/db`) whose user
/// may create databases; tests then use it instead of starting their own.
pub const POSTGRES_ENV: &str = "LAYERCAKE_TEST_POSTGRES";

/// Set to `1` to make a missing PostgreSQL fail tests instead of skipping them.
pub const REQUIRE_POSTGRES_ENV: &str = "LAYERCAKE_REQUIRE_POSTGRES";

/// A new, empty database for one test, dropped when this value is.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    name: String,
    server: &'static Server,
}

impl TestDatabase {
    /// Its URL, for `tokio-postgres` and `layercake serve --database`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE: a server process of the test may still be connected.
        let _ = self.server.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// A new empty database on the test PostgreSQL server (see the module's
/// docs), or `None` after a line on stderr saying why the test is skipped.
///
/// # Panics
///
/// When there is no server and `LAYERCAKE_REQUIRE_POSTGRES=1`, or when the
/// server is there but the database cannot be created.
pub fn postgres_or_skip() -> Option<TestDatabase> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(Server::find_or_start) {
        Ok(server) => Some(server.create_database()),
        Err(unavailable) => {
            if std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|value| value == "1") {
                panic!("{REQUIRE_POSTGRES_ENV}=1 but {unavailable}");
            }
            note_skip(&format!(
                "skipping: {unavailable} (set {REQUIRE_POSTGRES_ENV}=1 to fail instead)"
            ));
            None
        }
    }
}

/// A PostgreSQL server the tests may create databases on.
#[derive(Debug)]
struct Server {
    /// The server's URL up to the database name; `/NAME` and `query` follow.
    base: String,
    /// `?…` after the database name, or empty.
    query: String,
    /// Debian's `psql`.
    psql: PathBuf,
    /// Kept open while the process lives: its end stops the server.
    _stop: Option<(Child, ChildStdin)>,
}

impl Server {
    fn find_or_start() -> Result<Server, String> {
        let bin = newest_postgres_bin();
        if let Ok(url) = std::env::var(POSTGRES_ENV) {
            let psql = bin
                .map(|bin| bin.join("psql"))
                .unwrap_or_else(|| PathBuf::from("psql"));
            let (base, query) = split_database(&url);
            return Ok(Server {
                base,
                query,
                psql,
                _stop: None,
            });
        }
        let Some(bin) = bin else {
            return Err(format!(
                "no PostgreSQL: {POSTGRES_ENV} is not set and Debian's postgresql package \
                 is not installed (no /usr/lib/postgresql/*/bin/postgres)"
            ));
        };
        Server::start(&bin)
    }

    /// Starts a throwaway cluster, as the `postgres` user when this process
    /// is root (PostgreSQL refuses to run as root).
    fn start(bin: &Path) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("layercake-pg-")
            .tempdir()
            .map_err(|e| format!("cannot make a directory for PostgreSQL: {e}"))?
            .keep();
        let mut command = Command::new("sh");
        if is_root() {
            let (uid, gid) = postgres_user().ok_or_else(|| {
                "running as root and there is no `postgres` user to run PostgreSQL as \
                 (it comes with Debian's postgresql package)"
                    .to_string()
            })?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot hand {} to postgres: {e}", dir.display()))?;
            use std::os::unix::process::CommandExt as _;
            command.uid(uid).gid(gid);
        }
        let mut child = command
            .args(["-c", SERVER_SCRIPT, "sh"])
            .arg(&dir)
            .arg(bin)
            // Where the `postgres` user may be: not the test's directory.
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start PostgreSQL: {e}"))?;
        let stdin = child.stdin.take();
        let said = child
            .stdout
            .take()
            .and_then(|out| BufReader::new(out).lines().next())
            .and_then(Result::ok)
            .unwrap_or_default();
        let Some(stdin) = stdin.filter(|_| said == "ready") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "PostgreSQL from {} did not start: {said}",
                bin.display()
            ));
        };
        Ok(Server {
            base: format!("postgres://postgres@{}", percent_encode(&dir)),
            query: String::new(),
            psql: bin.join("psql"),
            _stop: Some((child, stdin)),
        })
    }

    fn url(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base, self.query)
    }

    /// Runs one statement on the `postgres` database.
    fn psql(&self, statement: &str) -> Result<(), String> {
        let output = Command::new(&self.psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url("postgres"))
            .args(["-c", statement])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.psql.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{statement}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    fn create_database(&'static self) -> TestDatabase {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let name = format!(
            "layercake_test_{}_{started}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        if let Err(error) = self.psql(&format!("CREATE DATABASE {name}")) {
            panic!("cannot create a test database: {error}");
        }
        TestDatabase {
            url: self.url(&name),
            name,
            server: self,
        }
    }
}

/// Runs in `sh` with the directory and Debian's bin directory as `$1` and
/// `$2`: makes a cluster, starts it on a socket in the directory, says
/// `ready`, and when its standard input closes (the test process ended),
/// stops it and removes the directory.
const SERVER_SCRIPT: &str = r#"
dir=$1 bin=$2
tail_of() { tail -n 5 "$1" 2>/dev/null | tr '\n' ' '; }
if ! "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
  echo "initdb failed: $(tail_of "$dir/initdb.log")"; rm -rf "$dir"; exit 1
fi
"$bin/postgres" -D "$dir/data" -k "$dir" -c listen_addresses= -c fsync=off \
  -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
  >"$dir/postgres.log" 2>&1 &
pid=$!
tries=0
until "$bin/pg_isready" -q -h "$dir"; do
  tries=$((tries + 1))
  if [ $tries -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
    echo "the server did not answer: $(tail_of "$dir/postgres.log")"
    kill -9 $pid 2>/dev/null; rm -rf "$dir"; exit 1
  fi
  sleep 0.1
done
echo ready
read -r _
kill -INT $pid
wait $pid
rm -rf "$dir"
"#;

/// `/usr/lib/postgresql/N/bin` of the newest `N` that has a `postgres`.
fn newest_postgres_bin() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The `postgres` user's uid and gid, from `/etc/passwd`.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres") && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// A socket directory as a URL's host.
fn percent_encode(path: &Path) -> String {
    path.to_string_lossy()
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `postgres://u@h:p/db?q` as (`postgres://u@h:p`, `?q`): the database name
/// is the test's.
fn split_database(url: &str) -> (String, String) {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    (base.to_owned(), query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            split_database("postgres://u:p@h:5432/db?sslmode=disable"),
            (
                "postgres://u:p@h:5432".to_string(),
                "?sslmode=disable".to_string()
            )
        );
        assert_eq!(
            split_database("postgres://h"),
            ("postgres://h".to_string(), String::new())
        );
        assert_eq!(
            percent_encode(Path::new("/tmp/layercake-pg-x1")),
            "%2Ftmp%2Flayercake-pg-x1"
        );
    }

    /// The kit's server (or the one `LAYERCAKE_TEST_POSTGRES` names) gives
    /// each caller its own database, and drops it afterwards.
    #[test]
    fn each_test_gets_its_own_database() {
        let Some(first) = postgres_or_skip() else {
            return;
        };
        let second = postgres_or_skip().expect("the same server");
        assert_ne!(first.url(), second.url());
        let name = first.name.clone();
        let server = first.server;
        let exists = |name: &str| {
            server
                .psql(&format!(
                    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_database WHERE datname = '{name}') \
                     THEN RAISE 'missing'; END IF; END $$"
                ))
                .is_ok()
        };
        assert!(exists(&name));
        drop(first);
        assert!(!exists(&name));
    }
}
