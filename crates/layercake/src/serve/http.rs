//! The HTTP side: `POST /webhook` answers at once by enqueueing;
//! `/healthz`, `/readyz` and `/metrics` (Prometheus text).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use layercake_app::events::parse_event;
use layercake_app::intake::{IntakeResult, record};
use layercake_app::signature::verify;
use layercake_app::{Counters, Shared};
use layercake_queue::CounterScope;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub fn router(shared: Arc<Shared>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(shared)
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn webhook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(error) = verify(&shared.secrets, header("x-hub-signature-256"), &body) {
        Counters::bump(&shared.counters.deliveries_rejected);
        return reply(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": error.to_string()}),
        );
    }
    let (Some(event), Some(delivery)) = (header("x-github-event"), header("x-github-delivery"))
    else {
        Counters::bump(&shared.counters.deliveries_invalid);
        return reply(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "X-GitHub-Event and X-GitHub-Delivery are required"}),
        );
    };
    let events = match parse_event(event, &body) {
        Ok(events) => events,
        Err(error) => {
            Counters::bump(&shared.counters.deliveries_invalid);
            return reply(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": format!("not a {event} payload: {error}")}),
            );
        }
    };
    let (event, delivery) = (event.to_string(), delivery.to_string());
    // A task of its own: a client that hangs up does not cut an intake short.
    let store = shared.store.clone();
    let outcome =
        tokio::spawn(async move { record(&*store, &event, &delivery, events).await }).await;
    match outcome {
        Ok(Ok(intake)) => {
            Counters::bump(shared.counters.for_result(intake.result));
            if intake.result == IntakeResult::Enqueued {
                shared.wake.notify_waiters();
            }
            reply(
                StatusCode::ACCEPTED,
                serde_json::json!({"result": intake.result.as_str(), "jobs": intake.jobs}),
            )
        }
        // The store could not take it: 503, so GitHub shows a failed delivery to redeliver.
        Ok(Err(error)) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": format!("the job database refused the delivery: {error}")}),
        ),
        Err(_) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": "intake task failed"}),
        ),
    }
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.stopping.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match shared.store.stats().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the job database does not answer\n",
        )
            .into_response(),
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let Ok(stats) = shared.store.stats().await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the job database does not answer\n",
        )
            .into_response();
    };
    let mut out = String::new();
    let c = &shared.counters;
    // The queue's counters are the database's (SQLite, one server) or this
    // replica's (PostgreSQL: sum them over the replicas).
    let counted = match shared.store.counter_scope() {
        CounterScope::Database => "",
        CounterScope::Process => " (by this replica since it started)",
    };
    out.push_str("# HELP layercake_queue_depth Jobs waiting or running.\n# TYPE layercake_queue_depth gauge\n");
    let _ = writeln!(
        out,
        "layercake_queue_depth{{state=\"queued\"}} {}",
        stats.queued
    );
    let _ = writeln!(
        out,
        "layercake_queue_depth{{state=\"running\"}} {}",
        stats.running
    );
    out.push_str("# HELP layercake_jobs_deferred Queued jobs waiting out a rate limit or an outage of GitHub.\n# TYPE layercake_jobs_deferred gauge\n");
    let _ = writeln!(out, "layercake_jobs_deferred {}", stats.deferred);
    let _ = writeln!(
        out,
        "# HELP layercake_job_deferrals_total Times a job was put off by a rate limit or an outage (not attempts){counted}.\n# TYPE layercake_job_deferrals_total counter"
    );
    let _ = writeln!(out, "layercake_job_deferrals_total {}", stats.deferrals);
    let _ = writeln!(
        out,
        "# HELP layercake_jobs_total Jobs finished, by outcome{counted}.\n# TYPE layercake_jobs_total counter"
    );
    for (outcome, count) in [
        ("succeeded", stats.succeeded),
        ("failed", stats.failed),
        ("cancelled", stats.cancelled),
        ("superseded", stats.superseded),
    ] {
        let _ = writeln!(out, "layercake_jobs_total{{outcome=\"{outcome}\"}} {count}");
    }
    out.push_str("# HELP layercake_deliveries_total Webhook deliveries since start, by result.\n# TYPE layercake_deliveries_total counter\n");
    for (result, counter) in [
        ("accepted", &c.deliveries_accepted),
        ("duplicate", &c.deliveries_duplicate),
        ("ignored", &c.deliveries_ignored),
        ("rejected", &c.deliveries_rejected),
        ("invalid", &c.deliveries_invalid),
    ] {
        let _ = writeln!(
            out,
            "layercake_deliveries_total{{result=\"{result}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
    for (name, help, counter) in [
        (
            "layercake_reconcile_passes_total",
            "Passes of the reconciler since start.",
            &c.reconcile_passes,
        ),
        (
            "layercake_reconcile_failures_total",
            "Repositories and pull requests the reconciler could not look at (it carried on past each).",
            &c.reconcile_failures,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
    }
    out.push_str("# HELP layercake_leftovers_removed_total What jobs of a killed server left behind, removed at start.\n# TYPE layercake_leftovers_removed_total counter\n");
    for (kind, counter) in [
        ("workspace", &c.leftover_workspaces_removed),
        ("image", &c.leftover_images_removed),
    ] {
        let _ = writeln!(
            out,
            "layercake_leftovers_removed_total{{kind=\"{kind}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
    if let Some(pool) = &shared.builders {
        write_builder_metrics(&mut out, pool);
    }
    let _ = writeln!(
        out,
        "# HELP layercake_job_duration_seconds How long finished jobs ran{counted}.\n# TYPE layercake_job_duration_seconds histogram"
    );
    for (bound, count) in &stats.durations.buckets {
        let le = if bound.is_infinite() {
            "+Inf".to_string()
        } else {
            bound.to_string()
        };
        let _ = writeln!(
            out,
            "layercake_job_duration_seconds_bucket{{le=\"{le}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "layercake_job_duration_seconds_sum {}",
        stats.durations.sum_seconds
    );
    let _ = writeln!(
        out,
        "layercake_job_duration_seconds_count {}",
        stats.durations.count
    );
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}

/// The pool's builders: in the pool or not, jobs on each now, jobs taken,
/// times taken out.
fn write_builder_metrics(out: &mut String, pool: &layercake_app::builders::BuilderPool) {
    use layercake_app::builders::Builder;
    let label = |name: &str| name.replace('\\', "\\\\").replace('"', "\\\"");
    /// A metric family: name, type, help, and its value for one builder.
    type Family = (
        &'static str,
        &'static str,
        &'static str,
        fn(&Builder) -> u64,
    );
    let families: [Family; 4] = [
        (
            "layercake_builder_up",
            "gauge",
            "Whether the builder is in the pool (1) or out of it after it stopped answering (0).",
            |b| u64::from(b.is_up()),
        ),
        (
            "layercake_builder_jobs",
            "gauge",
            "Jobs building on the builder now.",
            |b| b.busy() as u64,
        ),
        (
            "layercake_builder_jobs_started_total",
            "counter",
            "Jobs that took the builder.",
            |b| b.jobs_started.load(Ordering::Relaxed),
        ),
        (
            "layercake_builder_down_total",
            "counter",
            "Times the builder was taken out of the pool.",
            |b| b.times_down.load(Ordering::Relaxed),
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for builder in pool.builders() {
            let _ = writeln!(
                out,
                "{name}{{builder=\"{}\"}} {}",
                label(&builder.spec.name),
                value(builder)
            );
        }
    }
}
