//! What crashed jobs leave behind: a job's workspace (its clone, in
//! `TMPDIR/layercake-job-{id}-…`) and its images (`layercake-diff/job-{id}-…`)
//! are removed when the job ends, but not when its server is killed. A
//! server starting removes those of every job that is no longer leased:
//! finished, queued again, forgotten, or running under a lease that ran out.
//! A job leased now belongs to a live server (another process on the same
//! machine or Docker Engine), so its leftovers stay.

use crate::Shared;
use layercake_build::{Docker, DockerSelection};
use layercake_queue::{Job, JobState, QueueError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// How a job's workspace directory begins; the job's ID and `-` follow.
pub const WORKSPACE_PREFIX: &str = "layercake-job-";

/// How the repository of a job's images begins; the job's ID and `-` follow.
pub const IMAGE_PREFIX: &str = "layercake-diff/job-";

/// The name a job gives its review's images (`ReviewRequest::run_name`).
pub fn run_name(job_id: i64) -> String {
    format!("job-{job_id}")
}

/// The prefix of a job's workspace directory name.
pub fn workspace_prefix(job_id: i64) -> String {
    format!("{WORKSPACE_PREFIX}{job_id}-")
}

/// The job a workspace directory or image reference belongs to, if it is
/// one of a job's: the digits after `prefix`, ended by `-`.
pub fn job_of(name: &str, prefix: &str) -> Option<i64> {
    let rest = name.strip_prefix(prefix)?;
    let (id, _) = rest.split_once('-')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// Whether a job's leftovers may go: it is not held under a live lease.
pub fn is_abandoned(job: Option<&Job>, now: SystemTime) -> bool {
    match job {
        None => true,
        Some(job) => {
            job.state != JobState::Running || job.lease_until.is_none_or(|until| until <= now)
        }
    }
}

/// What [`remove_leftovers`] removed, and what it could not.
#[derive(Debug, Default)]
pub struct Removed {
    /// Workspace directories removed.
    pub workspaces: Vec<PathBuf>,
    /// Images removed (`repository:tag`).
    pub images: Vec<String>,
    /// What could not be looked at or removed, and why.
    pub failures: Vec<String>,
}

/// Looks a job up in the job queue, for [`remove_leftovers`].
pub type JobLookup<'a> = dyn Fn(i64) -> Result<Option<Job>, QueueError> + 'a;

/// Removes the workspaces in `tmp` and, when the server builds, the images
/// of jobs no longer leased, asking `job` about each. Blocking: it reads
/// directories and runs `docker`.
pub fn remove_leftovers(
    job: &JobLookup<'_>,
    tmp: &Path,
    docker: Option<&DockerSelection>,
) -> Removed {
    let mut removed = Removed::default();
    let now = SystemTime::now();
    let abandoned = |id: i64, failures: &mut Vec<String>| match job(id) {
        Ok(job) => is_abandoned(job.as_ref(), now),
        Err(error) => {
            failures.push(format!("job {id}: {error}"));
            false
        }
    };
    match std::fs::read_dir(tmp) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(id) = name.to_str().and_then(|n| job_of(n, WORKSPACE_PREFIX)) else {
                    continue;
                };
                let path = entry.path();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if !is_dir || !abandoned(id, &mut removed.failures) {
                    continue;
                }
                match std::fs::remove_dir_all(&path) {
                    Ok(()) => removed.workspaces.push(path),
                    Err(error) => removed
                        .failures
                        .push(format!("removing {}: {error}", path.display())),
                }
            }
        }
        Err(error) => removed
            .failures
            .push(format!("reading {}: {error}", tmp.display())),
    }
    let Some(selection) = docker else {
        return removed;
    };
    let docker = match Docker::detect(selection) {
        Ok(docker) => docker,
        Err(unavailable) => {
            removed
                .failures
                .push(format!("images not checked: {}", unavailable.reason));
            return removed;
        }
    };
    let images = match docker.tagged_images(IMAGE_PREFIX) {
        Ok(images) => images,
        Err(error) => {
            removed.failures.push(format!("listing images: {error}"));
            return removed;
        }
    };
    let mut doomed = Vec::new();
    for image in images {
        if let Some(id) = job_of(&image, IMAGE_PREFIX)
            && abandoned(id, &mut removed.failures)
        {
            doomed.push(image);
        }
    }
    let references: Vec<&str> = doomed.iter().map(String::as_str).collect();
    match docker.remove_images(&references) {
        Ok(()) => removed.images = doomed,
        Err(error) => removed.failures.push(format!("removing images: {error}")),
    }
    removed
}

/// [`remove_leftovers`] for the server in `shared`, in `TMPDIR`, with the
/// server's Docker when it builds; counted in `/metrics`, failures logged.
pub async fn remove_leftovers_at_start(shared: &Shared) -> Removed {
    let queue = shared.store.clone();
    let runtime = tokio::runtime::Handle::current();
    let docker = match &shared.settings.building {
        layercake_review::Building::Build(options) => Some(options.docker.clone()),
        layercake_review::Building::LintOnly { .. } => None,
    };
    let tmp = std::env::temp_dir();
    let removed = tokio::task::spawn_blocking(move || {
        // A blocking thread may wait on the runtime for the queue's answers.
        let job = |id| runtime.block_on(queue.job(id));
        remove_leftovers(&job, &tmp, docker.as_ref())
    })
    .await
    .unwrap_or_else(|error| Removed {
        failures: vec![format!("a task stopped unexpectedly: {error}")],
        ..Removed::default()
    });
    let counters = &shared.counters;
    counters.leftover_workspaces_removed.fetch_add(
        removed.workspaces.len() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    counters.leftover_images_removed.fetch_add(
        removed.images.len() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    for failure in &removed.failures {
        eprintln!("layercake: removing what earlier jobs left: {failure}");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_a_jobs_leftovers_give_the_job() {
        assert_eq!(
            job_of("layercake-job-42-Ab3xYz", WORKSPACE_PREFIX),
            Some(42)
        );
        assert_eq!(job_of("layercake-diff/job-7-0:base", IMAGE_PREFIX), Some(7));
        assert_eq!(
            job_of(&format!("{}x", workspace_prefix(9)), WORKSPACE_PREFIX),
            Some(9)
        );
        for other in [
            "layercake-job-",
            "layercake-job-42",
            "layercake-job--1-x",
            "layercake-job-abc-x",
            "layercake-job-4x2-x",
            "layercake-job-99999999999999999999999-x",
            "other-layercake-job-1-x",
        ] {
            assert_eq!(job_of(other, WORKSPACE_PREFIX), None, "{other}");
        }
        // A CLI run's images (`layercake diff --keep-images`) are not a job's.
        assert_eq!(
            job_of("layercake-diff/1234-abcdef012345-0:base", IMAGE_PREFIX),
            None
        );
    }
}
