//! What only the SQLite store has: its file (reopening, errors naming it, the
//! checkpointer), in-memory stores, and taking every running job back at
//! startup. The queue's behaviour through the `JobQueue` trait, on SQLite
//! and PostgreSQL alike, is `suite.rs`.

mod common;

use common::{enqueued, review};
use std::thread::sleep;
use std::time::{Duration, Instant};

use layercake_queue::{
    EnqueueOutcome, JobOutcome, JobQueue, JobState, JobStore, QueueError, SqliteQueue,
};
use tempfile::TempDir;

const LONG: Duration = Duration::from_secs(600);

fn store() -> (TempDir, JobStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = JobStore::open(&dir.path().join("jobs.db")).expect("open the store");
    (dir, store)
}

/// One server owns a SQLite file: at its startup, every running job was left
/// by a process that is gone, lease or no lease.
#[tokio::test]
async fn at_startup_every_running_job_is_taken_back() {
    let (_dir, store) = store();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    store.claim("dead-process", LONG).unwrap().unwrap();
    assert_eq!(store.requeue_expired(3).unwrap(), 0);
    let queue = SqliteQueue::new(store.clone());
    assert_eq!(queue.requeue_at_startup(3).await.unwrap(), 1);
    let job = store.job(id).unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1));
    assert_eq!(store.requeue_all_running(3).unwrap(), 0);
}

#[test]
fn a_version_1_file_is_migrated_with_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let id = {
        let store = JobStore::open(&path).unwrap();
        enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap())
    };
    // Back to what version 1 wrote: the columns and counter of version 2 gone.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER jobs_count_deferral; DELETE FROM counters WHERE name = 'deferrals';
             DROP INDEX jobs_queued; ALTER TABLE jobs DROP COLUMN run_after;
             ALTER TABLE jobs DROP COLUMN deferrals;
             CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = JobStore::open(&path).unwrap();
    let job = store.claim("w", LONG).unwrap().unwrap();
    assert_eq!((job.id, job.deferrals, job.run_after), (id, 0, None));
    store
        .complete(
            id,
            "w",
            &JobOutcome::RetryLater {
                after: Duration::ZERO,
                reason: "GitHub answered 503".to_owned(),
            },
        )
        .unwrap();
    assert_eq!(store.stats().unwrap().deferrals, 1);
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn everything_is_still_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("jobs.db");
    let (done, running, queued, stats) = {
        let store = JobStore::open(&path).unwrap();
        let done = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
        let running = enqueued(store.enqueue("d2", &review("octo/app", 2, "a")).unwrap());
        let queued = enqueued(store.enqueue("d3", &review("octo/app", 3, "a")).unwrap());
        store.claim("w", LONG).unwrap().unwrap();
        store.complete(done, "w", &JobOutcome::Succeeded).unwrap();
        store.claim("w", LONG).unwrap().unwrap();
        store.set_installation(7, "octo", true).unwrap();
        store.set_repository(7, "octo/app", true).unwrap();
        let jobs = [done, running, queued].map(|id| store.job(id).unwrap().unwrap());
        (
            jobs[0].clone(),
            jobs[1].clone(),
            jobs[2].clone(),
            store.stats().unwrap(),
        )
    };

    let store = JobStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    for job in [&done, &running, &queued] {
        assert_eq!(&store.job(job.id).unwrap().unwrap(), job);
    }
    assert_eq!(store.stats().unwrap(), stats);
    assert_eq!(
        store.enqueue("d2", &review("octo/app", 2, "a")).unwrap(),
        EnqueueOutcome::Duplicate {
            job_id: Some(running.id)
        }
    );
    assert_eq!(
        store.latest_head("octo/app", 3).unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(store.repositories().unwrap(), [(7, "octo/app".to_owned())]);
    // New IDs continue after the old ones.
    assert!(enqueued(store.enqueue("d4", &review("octo/app", 4, "a")).unwrap()) > queued.id);
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn in_memory_stores_work_the_same() {
    let store = JobStore::open_in_memory().unwrap();
    let clone = store.clone();
    let id = enqueued(store.enqueue("d1", &review("octo/app", 1, "a")).unwrap());
    assert_eq!(clone.claim("w", LONG).unwrap().unwrap().id, id);
    assert_eq!(store.path(), None);
}

#[test]
fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let error = JobStore::open(&garbage).unwrap_err().to_string();
    assert!(error.contains(&*garbage.to_string_lossy()), "{error}");
    assert!(error.contains("not a database"), "{error}");

    let error = JobStore::open(dir.path()).unwrap_err().to_string();
    assert!(error.contains(&*dir.path().to_string_lossy()), "{error}");

    let newer = dir.path().join("newer.db");
    drop(JobStore::open(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let error = JobStore::open(&newer).unwrap_err();
    assert!(
        matches!(&error, QueueError::SchemaTooNew { found: 99, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&*newer.to_string_lossy()));
}

/// Commits only append to the WAL; a thread of the store's copies it into the
/// database file, so no delivery waits for that copy and its sync.
#[test]
fn a_background_thread_copies_the_log_into_the_database_file() {
    let (dir, store) = store();
    let file = dir.path().join("jobs.db");
    let size = || std::fs::metadata(&file).unwrap().len();
    let grows_past = |before: u64| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while size() <= before {
            assert!(Instant::now() < deadline, "nothing was checkpointed");
            sleep(Duration::from_millis(10));
        }
    };
    grows_past(0); // the schema
    let before = size();
    for pr in 1..=200 {
        store
            .enqueue(&format!("d{pr}"), &review("octo/app", pr, "a"))
            .unwrap();
    }
    grows_past(before);
    assert_eq!(store.stats().unwrap().queued, 200);
}
