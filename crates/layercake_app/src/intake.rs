//! What a verified delivery changes in the job store.

use crate::events::Event;
use layercake_queue::{EnqueueOutcome, JobQueue, QueueError};

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntakeResult {
    /// A new review job is queued.
    Enqueued,
    /// Its pull request's head already has a queued job, which it joined.
    Coalesced,
    /// The same delivery came before: nothing changed.
    Duplicate,
    /// Its pull request was closed: its jobs are cancelled.
    Cancelled,
    /// An installation or its repositories were recorded.
    Recorded,
    /// Nothing to do.
    Ignored,
}

impl IntakeResult {
    /// The result as the webhook's reply and the metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            IntakeResult::Enqueued => "enqueued",
            IntakeResult::Coalesced => "coalesced",
            IntakeResult::Duplicate => "duplicate",
            IntakeResult::Cancelled => "cancelled",
            IntakeResult::Recorded => "recorded",
            IntakeResult::Ignored => "ignored",
        }
    }
}

/// A delivery recorded: what became of it, and the jobs it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intake {
    /// What became of it.
    pub result: IntakeResult,
    /// The review jobs it queued or joined.
    pub jobs: Vec<i64>,
}

/// Stores what delivery `delivery` (of GitHub event `event`) asks for.
pub async fn record(
    store: &dyn JobQueue,
    event: &str,
    delivery: &str,
    events: Vec<Event>,
) -> Result<Intake, QueueError> {
    let mut jobs = Vec::new();
    let mut result = IntakeResult::Ignored;
    for (index, parsed) in events.into_iter().enumerate() {
        // One delivery can name several pull requests (a check suite):
        // each gets its own key, derived from the delivery's.
        let key = if index == 0 {
            delivery.to_string()
        } else {
            format!("{delivery}#{index}")
        };
        let recorded_or_duplicate = |fresh: bool, result: IntakeResult| {
            if fresh {
                result
            } else {
                IntakeResult::Duplicate
            }
        };
        match parsed {
            Event::Review(job) => match store.enqueue(&key, &job).await? {
                EnqueueOutcome::Enqueued { job_id } => {
                    result = IntakeResult::Enqueued;
                    jobs.push(job_id);
                }
                EnqueueOutcome::Coalesced { job_id } => {
                    if result != IntakeResult::Enqueued {
                        result = IntakeResult::Coalesced;
                    }
                    jobs.push(job_id);
                }
                EnqueueOutcome::Duplicate { job_id } => {
                    result = IntakeResult::Duplicate;
                    jobs.extend(job_id);
                }
            },
            // The change first, then the delivery: both are idempotent, so a
            // crash in between leaves a redelivery that still does its work.
            Event::Closed {
                repository,
                pr_number,
            } => {
                store.cancel_pr(&repository, pr_number).await?;
                result = recorded_or_duplicate(
                    store.record_delivery(&key, event).await?,
                    IntakeResult::Cancelled,
                );
            }
            Event::Installation {
                installation_id,
                account,
                active,
                repositories,
            } => {
                store
                    .set_installation(installation_id, &account, active)
                    .await?;
                store
                    .set_repositories(installation_id, &repositories)
                    .await?;
                result = recorded_or_duplicate(
                    store.record_delivery(&key, event).await?,
                    IntakeResult::Recorded,
                );
            }
            Event::InstallationRepositories {
                installation_id,
                added,
                removed,
            } => {
                for repository in added {
                    store
                        .set_repository(installation_id, &repository, true)
                        .await?;
                }
                for repository in removed {
                    store
                        .set_repository(installation_id, &repository, false)
                        .await?;
                }
                result = recorded_or_duplicate(
                    store.record_delivery(&key, event).await?,
                    IntakeResult::Recorded,
                );
            }
            Event::Ignored { .. } => {
                if !store.record_delivery(&key, event).await? {
                    result = IntakeResult::Duplicate;
                }
            }
        }
    }
    Ok(Intake { result, jobs })
}
