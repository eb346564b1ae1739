//! layercake's GitHub App, apart from HTTP. A delivery is verified
//! ([`signature`]), typed ([`events`]) and recorded in the job store
//! ([`intake`]) at once; a pool of workers runs each job ([`jobs`]): clone,
//! the review (`layercake_review`), the sticky comment and review, a check
//! run; and a reconciler catches pull requests whose deliveries never
//! arrived. The binary's `serve` command wires these to an HTTP server and
//! the process's signals.
#![deny(missing_docs)]

pub mod builders;
pub mod events;
pub mod intake;
pub mod jobs;
pub mod leftovers;
pub mod signature;

use layercake_github::App;
use layercake_queue::JobQueue;
use layercake_review::Building;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Who may have a fork's pull request built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForkPolicy {
    /// Nobody: forks are reviewed lint-only, said plainly.
    Never,
    /// Authors who are the repository's owners, members or collaborators.
    Members,
    /// A pull request a maintainer gave this label.
    Label(String),
}

impl ForkPolicy {
    /// `never`, `members` or `label:NAME`.
    pub fn parse(text: &str) -> Result<ForkPolicy, String> {
        Ok(match text {
            "never" => ForkPolicy::Never,
            "members" => ForkPolicy::Members,
            _ => match text.strip_prefix("label:") {
                Some(label) if !label.is_empty() => ForkPolicy::Label(label.to_string()),
                _ => {
                    return Err(format!(
                        "expected never, members or label:NAME, got {text:?}"
                    ));
                }
            },
        })
    }
}

/// What the server's parts share.
pub struct Shared {
    /// The durable job queue: SQLite or PostgreSQL, chosen at startup.
    pub store: Arc<dyn JobQueue>,
    /// The GitHub App (its installation tokens).
    pub app: App,
    /// The webhook secrets (several while rotating).
    pub secrets: Vec<Vec<u8>>,
    /// How jobs run.
    pub settings: JobSettings,
    /// Workers wait on it for new jobs.
    pub wake: tokio::sync::Notify,
    /// Set when shutting down: workers take no new job.
    pub stopping: AtomicBool,
    /// Counters for `/metrics`.
    pub counters: Counters,
    /// Jobs being run now, with the worker that holds each (released on shutdown).
    pub in_flight: std::sync::Mutex<Vec<(i64, String)>>,
    /// The builders jobs build on, when several are configured
    /// (`--build-on`); `None`: the one docker of `settings.building`.
    pub builders: Option<builders::BuilderPool>,
}

/// How jobs run.
pub struct JobSettings {
    /// Whose forks are built.
    pub fork_policy: ForkPolicy,
    /// Whether and how each job builds (a fork's may be lint-only all the same).
    pub building: Building,
    /// How long a job's lease lasts without a heartbeat.
    pub lease: Duration,
    /// Attempts before a job that keeps crashing is given up.
    pub max_attempts: u32,
    /// Where the reconciler clones a repository from (`{repo}` becomes `owner/name`).
    pub clone_url_template: String,
    /// Names the workspaces and images of this database's jobs.
    pub scope: leftovers::Scope,
}

/// In-memory counters for `/metrics` (the queue's own counts come from the database).
#[derive(Default)]
pub struct Counters {
    /// Deliveries that queued or joined a job, or recorded something.
    pub deliveries_accepted: AtomicU64,
    /// Deliveries seen before.
    pub deliveries_duplicate: AtomicU64,
    /// Deliveries with nothing to do.
    pub deliveries_ignored: AtomicU64,
    /// Deliveries whose signature did not verify.
    pub deliveries_rejected: AtomicU64,
    /// Deliveries that were not what their headers said.
    pub deliveries_invalid: AtomicU64,
    /// Passes of the reconciler.
    pub reconcile_passes: AtomicU64,
    /// Repositories and pull requests a reconciler pass could not look at
    /// (it carried on past each).
    pub reconcile_failures: AtomicU64,
    /// Workspaces of earlier jobs removed at startup.
    pub leftover_workspaces_removed: AtomicU64,
    /// Images of earlier jobs removed at startup.
    pub leftover_images_removed: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counter a delivery's result counts in.
    pub fn for_result(&self, result: intake::IntakeResult) -> &AtomicU64 {
        match result {
            intake::IntakeResult::Duplicate => &self.deliveries_duplicate,
            intake::IntakeResult::Ignored => &self.deliveries_ignored,
            _ => &self.deliveries_accepted,
        }
    }
}
