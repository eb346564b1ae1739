//! What only several replicas on one PostgreSQL database show: each replica
//! here is a `PostgresQueue` of its own (its own connection pool), racing the
//! others for the same jobs and pull requests. Skipped, with a note, when
//! there is no PostgreSQL (`layercake_testkit::postgres_or_skip`).

mod common;

use common::review;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use layercake_queue::{
    CounterScope, EnqueueOutcome, JobOutcome, JobQueue, JobState, PostgresQueue, QueueError,
};
use layercake_testkit::{TestDatabase, postgres_or_skip};
use tokio::sync::Barrier;

const LEASE: Duration = Duration::from_secs(600);

async fn replicas(database: &TestDatabase, count: usize) -> Vec<Arc<PostgresQueue>> {
    let mut replicas = Vec::new();
    for _ in 0..count {
        replicas.push(Arc::new(
            PostgresQueue::connect(database.url())
                .await
                .expect("connect"),
        ));
    }
    replicas
}

/// A plain connection, to look at the tables themselves.
async fn psql(database: &TestDatabase) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(database.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_claiming_at_once_never_get_the_same_job() {
    const JOBS: u64 = 300;
    let Some(database) = postgres_or_skip() else {
        return;
    };
    let replicas = replicas(&database, 4).await;
    for pr in 1..=JOBS {
        replicas[0]
            .enqueue(
                &format!("d{pr}"),
                &review("octo/app", pr, &format!("{pr:040x}")),
            )
            .await
            .expect("enqueue");
    }
    let barrier = Arc::new(Barrier::new(replicas.len()));
    let tasks: Vec<_> = replicas
        .iter()
        .enumerate()
        .map(|(n, replica)| {
            let (replica, barrier) = (replica.clone(), barrier.clone());
            tokio::spawn(async move {
                let worker = format!("replica-{n}");
                let mut claimed = Vec::new();
                barrier.wait().await;
                while let Some(job) = replica.claim(&worker, LEASE).await.expect("claim") {
                    assert_eq!(job.worker.as_deref(), Some(worker.as_str()));
                    claimed.push(job.id);
                    replica
                        .complete(job.id, &worker, &JobOutcome::Succeeded)
                        .await
                        .expect("complete");
                }
                claimed
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let claimed = task.await.expect("a claiming task");
        assert!(!claimed.is_empty(), "every replica got some work");
        all.extend(claimed);
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a job was claimed twice");
    assert_eq!(distinct.len() as u64, JOBS);

    // Each replica counts what it did; together, everything.
    let mut succeeded = 0;
    for replica in &replicas {
        let stats = replica.stats().await.expect("stats");
        assert_eq!((stats.queued, stats.running), (0, 0));
        assert_eq!(stats.durations.count, stats.succeeded);
        succeeded += stats.succeeded;
    }
    assert_eq!(succeeded, JOBS);
    assert_eq!(replicas[0].counter_scope(), CounterScope::Process);
}

/// Under READ COMMITTED, two enqueues of heads `a` and `b` of one pull
/// request would each supersede what they see — not each other's
/// uncommitted job — and leave both queued. The `pr_heads` row lock orders
/// them: exactly one live job per pull request, and it is the head
/// `latest_head` names.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_enqueues_of_two_heads_of_one_pull_request_leave_one_live_job() {
    const PRS: u64 = 60;
    let Some(database) = postgres_or_skip() else {
        return;
    };
    let replicas = replicas(&database, 2).await;
    let barrier = Arc::new(Barrier::new(2));
    let tasks: Vec<_> = replicas
        .iter()
        .zip(["a", "b"])
        .map(|(replica, head)| {
            let (replica, barrier) = (replica.clone(), barrier.clone());
            tokio::spawn(async move {
                for pr in 1..=PRS {
                    barrier.wait().await;
                    replica
                        .enqueue(&format!("{head}{pr}"), &review("octo/app", pr, head))
                        .await
                        .expect("enqueue");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("an enqueueing task");
    }
    let client = psql(&database).await;
    for pr in 1..=PRS {
        let pr_number = i64::try_from(pr).expect("small");
        let live: Vec<String> = client
            .query(
                "SELECT head_sha FROM jobs WHERE pr_number = $1 AND state = 'queued'",
                &[&pr_number],
            )
            .await
            .expect("query")
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(live.len(), 1, "PR {pr} has live jobs for {live:?}");
        let latest = replicas[0]
            .latest_head("octo/app", pr)
            .await
            .expect("latest head");
        assert_eq!(latest.as_deref(), Some(live[0].as_str()), "PR {pr}");
    }
    let superseded: u64 = {
        let mut total = 0;
        for replica in &replicas {
            total += replica.stats().await.expect("stats").superseded;
        }
        total
    };
    assert_eq!(superseded, PRS);
    assert_eq!(replicas[1].stats().await.expect("stats").queued, PRS);
}

/// GitHub may deliver twice at once, to two replicas: still one job per
/// delivery, one live job per head, and each delivery counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_redeliveries_on_four_replicas_make_one_job_each() {
    let Some(database) = postgres_or_skip() else {
        return;
    };
    let replicas = replicas(&database, 4).await;
    let barrier = Arc::new(Barrier::new(4));
    let tasks: Vec<_> = replicas
        .iter()
        .enumerate()
        .map(|(n, replica)| {
            let (replica, barrier) = (replica.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mut outcomes = Vec::new();
                for pr in 1..=100 {
                    // Deliveries d{pr} and e{pr} are for the same head.
                    let delivery = format!("{}{pr}", if n % 2 == 0 { 'd' } else { 'e' });
                    outcomes.push(
                        replica
                            .enqueue(&delivery, &review("octo/app", pr, "h"))
                            .await
                            .expect("enqueue"),
                    );
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.expect("an enqueueing task"));
    }
    let count = |f: fn(&EnqueueOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    assert_eq!(count(|o| matches!(o, EnqueueOutcome::Enqueued { .. })), 100);
    assert_eq!(
        count(|o| matches!(o, EnqueueOutcome::Coalesced { .. })),
        100
    );
    assert_eq!(
        count(|o| matches!(o, EnqueueOutcome::Duplicate { .. })),
        200
    );
    let mut deliveries = 0;
    for replica in &replicas {
        deliveries += replica.stats().await.expect("stats").deliveries;
    }
    assert_eq!(deliveries, 200);
    assert_eq!(replicas[0].stats().await.expect("stats").queued, 100);
}

/// Replicas starting together on a new database migrate it once: the others
/// wait on the advisory lock and then find nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    let Some(database) = postgres_or_skip() else {
        return;
    };
    let url = database.url().to_owned();
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresQueue::connect(&url).await })
        })
        .collect();
    for start in starting {
        start.await.expect("a starting task").expect("connect");
    }
    let client = psql(&database).await;
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("query")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1]);

    // A database from a newer layercake is refused, naming it.
    client
        .execute("INSERT INTO schema_migrations (version) VALUES (99)", &[])
        .await
        .expect("insert");
    let error = PostgresQueue::connect(&url).await.expect_err("too new");
    assert!(
        matches!(error, QueueError::PostgresSchemaTooNew { found: 99, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&url), "{error}");
}

#[tokio::test]
async fn connection_errors_name_the_database_but_not_its_password() {
    let url = "postgres://app:hunter2@%2Fnonexistent-layercake-socket/jobs";
    let error = PostgresQueue::connect(url).await.expect_err("no server");
    let message = error.to_string();
    assert!(
        matches!(error, QueueError::PostgresOpen { .. }),
        "{message}"
    );
    assert!(message.contains("postgres://app:***@"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

/// A replica starting while another runs a job must not take the job away:
/// only a lease that ran out says its worker is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_replica_takes_back_only_expired_leases() {
    let Some(database) = postgres_or_skip() else {
        return;
    };
    let replicas = replicas(&database, 2).await;
    let (running, starting) = (&replicas[0], &replicas[1]);
    let alive = running
        .enqueue("d1", &review("octo/app", 1, "a"))
        .await
        .expect("enqueue")
        .job_id()
        .expect("a job");
    let dead = running
        .enqueue("d2", &review("octo/app", 2, "a"))
        .await
        .expect("enqueue")
        .job_id()
        .expect("a job");
    assert_eq!(
        running
            .claim("alive", LEASE)
            .await
            .expect("claim")
            .map(|j| j.id),
        Some(alive)
    );
    let short = Duration::from_millis(50);
    assert_eq!(
        running
            .claim("dead", short)
            .await
            .expect("claim")
            .map(|j| j.id),
        Some(dead)
    );
    tokio::time::sleep(short * 2).await;

    assert_eq!(starting.requeue_at_startup(3).await.expect("requeue"), 1);
    let job = |id| async move { starting.job(id).await.expect("read").expect("a job") };
    assert_eq!(job(alive).await.state, JobState::Running);
    assert!(
        running
            .heartbeat(alive, "alive", LEASE)
            .await
            .expect("heartbeat")
    );
    let requeued = job(dead).await;
    assert_eq!((requeued.state, requeued.attempts), (JobState::Queued, 1));
}
