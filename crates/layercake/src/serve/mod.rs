//! `layercake serve`: the GitHub App's webhook server. The App's work is
//! `layercake_app`'s (deliveries typed and recorded, jobs run, the
//! reconciler); here are the process around it: its settings from the
//! arguments, the HTTP server, the workers' tasks, signals and a graceful
//! shutdown.

mod http;

use crate::cli::ServeArgs;
use anyhow::{Context, bail};
use layercake_app::{Counters, ForkPolicy, JobSettings, Shared, jobs};
use layercake_github::{App, AppCredentials, RetryPolicy};
use layercake_queue::{CounterScope, Database};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn read_secrets(args: &ServeArgs) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut secrets: Vec<Vec<u8>> = args
        .webhook_secret
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec())
        .collect();
    if let Some(path) = &args.webhook_secret_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the webhook secrets from {}", path.display()))?;
        secrets.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| l.as_bytes().to_vec()),
        );
    }
    if secrets.is_empty() {
        bail!(
            "no webhook secret: set --webhook-secret / LAYERCAKE_WEBHOOK_SECRET or --webhook-secret-file"
        );
    }
    Ok(secrets)
}

/// What names the job database for the leftovers' scope: a SQLite file's
/// canonical path (opened, so it exists), a PostgreSQL URL without password.
fn database_identity(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string(),
        Database::Postgres(_) => database.to_string(),
    }
}

/// The pool `--build-on` names, if any (and unless `--no-build`).
fn builder_pool(args: &ServeArgs) -> Option<layercake_app::builders::BuilderPool> {
    if args.build.build_on.is_empty() || args.build.no_build {
        return None;
    }
    Some(layercake_app::builders::BuilderPool::new(
        args.build.build_on.clone(),
        args.build.docker.clone(),
    ))
}

/// Runs the server until SIGTERM or Ctrl-C; returns the exit status.
pub fn run(args: &ServeArgs) -> anyhow::Result<u8> {
    let secrets = read_secrets(args)?;
    let credentials = AppCredentials::from_pem_file(args.app_id, &args.private_key)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = App::new(&args.api_url, credentials, RetryPolicy::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let database = Database::parse(&args.database);
    let store = runtime
        .block_on(database.open())
        .with_context(|| format!("opening the job database {database}"))?;
    let builders = builder_pool(args);
    let lease = Duration::from_secs(args.lease_seconds.max(2));
    let shared = Arc::new(Shared {
        store,
        app,
        secrets,
        settings: JobSettings {
            fork_policy: ForkPolicy::parse(&args.fork_builds)
                .map_err(|e| anyhow::anyhow!("--fork-builds: {e}"))?,
            building: args.build.building(layercake_review::BuildOptions {
                jobs: 1,
                ..layercake_review::BuildOptions::default()
            }),
            lease,
            max_attempts: args.max_attempts,
            clone_url_template: args.clone_url.clone(),
            scope: layercake_app::leftovers::Scope::of_database(&database_identity(&database)),
        },
        wake: tokio::sync::Notify::new(),
        stopping: AtomicBool::new(false),
        counters: Counters::default(),
        in_flight: std::sync::Mutex::new(Vec::new()),
        builders,
    });
    runtime.block_on(serve(args, shared))
}

async fn serve(args: &ServeArgs, shared: Arc<Shared>) -> anyhow::Result<u8> {
    // One server owns a SQLite database, so every job it finds running was
    // left by a server that crashed: queue it again now (the attempt counts).
    // Replicas share a PostgreSQL one, whose running jobs are alive: only
    // those whose lease ran out.
    let requeued = shared
        .store
        .requeue_at_startup(shared.settings.max_attempts)
        .await?;
    if requeued > 0 {
        let whose = match shared.store.counter_scope() {
            CounterScope::Database => "from before",
            CounterScope::Process => "whose lease ran out",
        };
        eprintln!("layercake: {requeued} unfinished job(s) {whose} are queued again");
    }
    // What killed jobs left behind (clones in TMPDIR, images) goes now that
    // no job of theirs is leased.
    let removed = layercake_app::leftovers::remove_leftovers_at_start(&shared).await;
    if !removed.workspaces.is_empty() || !removed.images.is_empty() {
        eprintln!(
            "layercake: removed {} workspace(s) and {} image(s) left by earlier jobs",
            removed.workspaces.len(),
            removed.images.len()
        );
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    eprintln!(
        "layercake: listening on http://{address} ({} workers)",
        args.workers.max(1)
    );

    let mut workers = Vec::new();
    for index in 0..args.workers.max(1) {
        workers.push(tokio::spawn(jobs::worker(
            shared.clone(),
            format!("{}-{index}", worker_prefix()),
        )));
    }
    let maintenance = tokio::spawn(jobs::maintenance(
        shared.clone(),
        Duration::from_secs(args.reconcile_seconds),
    ));

    let router = http::router(shared.clone(), args.max_body_bytes);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;

    // Graceful shutdown: no new jobs; running ones get the grace period, then go back to the queue.
    eprintln!(
        "layercake: shutting down; waiting up to {} s for running jobs",
        args.shutdown_grace_seconds
    );
    shared.stopping.store(true, Ordering::SeqCst);
    shared.wake.notify_waiters();
    maintenance.abort();
    let grace = Duration::from_secs(args.shutdown_grace_seconds);
    if tokio::time::timeout(grace, futures_join(workers))
        .await
        .is_err()
    {
        let held: Vec<(i64, String)> = shared
            .in_flight
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default();
        for (job, worker) in held {
            let _ = shared.store.release(job, &worker).await;
            eprintln!("layercake: job {job} did not finish in time; it is queued again");
        }
    }
    Ok(crate::EXIT_OK)
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}

/// Unique per process start, so leases name who holds them.
fn worker_prefix() -> String {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{}-{}-{started}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".to_string())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
