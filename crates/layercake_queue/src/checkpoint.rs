//! The checkpointer: a thread with its own connection that copies the WAL
//! into the database file.
//!
//! SQLite checkpoints in the connection whose commit takes the log past a
//! size, before that commit returns, and a checkpoint syncs the database file.
//! Behind the store's mutex, every delivery arriving meanwhile would wait for
//! it; at 2,000 deliveries a second that is most of the 99th percentile. A
//! `PASSIVE` checkpoint on another connection runs beside writers instead, so
//! intake never waits for a sync.
//!
//! SQLite starts the log over only when a writer finds it fully copied; under
//! unbroken load the passive checkpoints trail the writers, so the store's
//! connection keeps a backstop: past [`crate::schema`]'s backstop size, its
//! commit checkpoints the short remainder itself and the log starts over.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How long to wait between checkpoints while the log grows.
const BUSY_INTERVAL: Duration = Duration::from_millis(20);
/// How long to wait while nothing is written.
const IDLE_INTERVAL: Duration = Duration::from_millis(250);

/// The running checkpointer; dropping it stops the thread.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing through `conn`. `None` if the thread could not be
    /// spawned: the store then works as SQLite does by default, checkpointing
    /// in its commits.
    pub(crate) fn start(conn: Connection) -> Option<Checkpointer> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = std::thread::Builder::new()
            .name("layercake-queue-checkpoint".to_owned())
            .spawn({
                let stop = Arc::clone(&stop);
                move || run(&conn, &stop)
            })
            .ok()?;
        Some(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // A panic in the thread has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    let mut last = None;
    let mut interval = IDLE_INTERVAL;
    loop {
        let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = wake
            .wait_timeout_while(guard, interval, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        if *guard {
            return;
        }
        drop(guard);
        // (busy, frames in the log, frames copied). A failure is not
        // reported: the next round tries again, and the backstop holds.
        let progress = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
            })
            .ok();
        interval = if progress.is_some() && progress != last {
            BUSY_INTERVAL
        } else {
            IDLE_INTERVAL
        };
        last = progress;
    }
}
