//! What crashed jobs leave behind: a job's workspace (its clone, in
//! `TMPDIR/layercake-job-{scope}-{id}-…`) and its images
//! (`layercake-diff/job-{scope}-{id}-…`) are removed when the job ends, but
//! not when its server is killed. A server starting removes those of every
//! job of its database that is no longer leased: finished, queued again,
//! forgotten, or running under a lease that ran out. A job leased now
//! belongs to a live server (another process on the same machine or Docker
//! Engine), so its leftovers stay. The scope names the job database, so
//! servers of other databases sharing the machine or an engine (whose job
//! IDs overlap) never take each other's.

use crate::Shared;
use layercake_build::{Docker, DockerSelection};
use layercake_queue::{Job, JobState, QueueError};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Which job database a job's leftovers belong to: 8 hex digits of the
/// SHA-256 of the database's identity (a SQLite file's canonical path, a
/// PostgreSQL URL without its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    /// The scope of the database `identity` names.
    pub fn of_database(identity: &str) -> Scope {
        let digest = Sha256::digest(identity.as_bytes());
        Scope(digest.iter().take(4).map(|b| format!("{b:02x}")).collect())
    }

    /// How its jobs' workspace directories begin; the job's ID and `-` follow.
    pub fn workspace_prefix(&self) -> String {
        format!("layercake-job-{}-", self.0)
    }

    /// How the repository of its jobs' images begins; the job's ID and `-` follow.
    pub fn image_prefix(&self) -> String {
        format!("layercake-diff/job-{}-", self.0)
    }

    /// The prefix of job `job_id`'s workspace directory name.
    pub fn workspace_of(&self, job_id: i64) -> String {
        format!("{}{job_id}-", self.workspace_prefix())
    }

    /// The name job `job_id` gives its review's images (`ReviewRequest::run_name`).
    pub fn run_name(&self, job_id: i64) -> String {
        format!("job-{}-{job_id}", self.0)
    }
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

/// Removes the workspaces in `tmp` and the images on each of `engines` of
/// the jobs of `scope` no longer leased, asking `job` about each. Blocking:
/// it reads directories and runs `docker`.
pub fn remove_leftovers(
    scope: &Scope,
    job: &JobLookup<'_>,
    tmp: &Path,
    engines: &[DockerSelection],
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
                let Some(id) = name
                    .to_str()
                    .and_then(|n| job_of(n, &scope.workspace_prefix()))
                else {
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
    for selection in engines {
        let docker = match Docker::detect(selection) {
            Ok(docker) => docker,
            Err(unavailable) => {
                removed
                    .failures
                    .push(format!("images not checked: {}", unavailable.reason));
                continue;
            }
        };
        let images = match docker.tagged_images(&scope.image_prefix()) {
            Ok(images) => images,
            Err(error) => {
                removed.failures.push(format!("listing images: {error}"));
                continue;
            }
        };
        let mut doomed = Vec::new();
        for image in images {
            if let Some(id) = job_of(&image, &scope.image_prefix())
                && abandoned(id, &mut removed.failures)
            {
                doomed.push(image);
            }
        }
        let references: Vec<&str> = doomed.iter().map(String::as_str).collect();
        match docker.remove_images(&references) {
            Ok(()) => removed.images.extend(doomed),
            Err(error) => removed.failures.push(format!("removing images: {error}")),
        }
    }
    removed
}

/// [`remove_leftovers`] for the server in `shared`, in `TMPDIR`, on the
/// engines it builds on (each builder of its pool, or its one docker);
/// counted in `/metrics`, failures logged.
pub async fn remove_leftovers_at_start(shared: &Shared) -> Removed {
    let queue = shared.store.clone();
    let runtime = tokio::runtime::Handle::current();
    let engines: Vec<DockerSelection> = match (&shared.settings.building, &shared.builders) {
        (layercake_review::Building::LintOnly { .. }, _) => Vec::new(),
        (_, Some(pool)) => pool
            .builders()
            .iter()
            .map(|b| b.selection.clone())
            .collect(),
        (layercake_review::Building::Build(options), None) => vec![options.docker.clone()],
    };
    let scope = shared.settings.scope.clone();
    let tmp = std::env::temp_dir();
    let removed = tokio::task::spawn_blocking(move || {
        // A blocking thread may wait on the runtime for the queue's answers.
        let job = |id| runtime.block_on(queue.job(id));
        remove_leftovers(&scope, &job, &tmp, &engines)
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
    fn names_of_a_jobs_leftovers_give_the_job_of_that_database_only() {
        let scope = Scope::of_database("/var/lib/layercake/jobs.db");
        let other = Scope::of_database("postgres://layercake@db/jobs");
        assert_ne!(scope, other);
        assert_eq!(scope, Scope::of_database("/var/lib/layercake/jobs.db"));
        let workspaces = scope.workspace_prefix();
        let images = scope.image_prefix();
        assert_eq!(
            job_of(&format!("{}Ab3xYz", scope.workspace_of(42)), &workspaces),
            Some(42)
        );
        let image = format!("layercake-diff/{}-0:base", scope.run_name(7));
        assert_eq!(job_of(&image, &images), Some(7));
        // Another database's job 42 is not this one's.
        assert_eq!(
            job_of(&format!("{}x", other.workspace_of(42)), &workspaces),
            None
        );
        assert_eq!(
            job_of(
                &format!("layercake-diff/{}-0:base", other.run_name(7)),
                &images
            ),
            None
        );
        for name in [
            "",
            "-x",
            "42",
            "-1-x",
            "abc-x",
            "4x2-x",
            "99999999999999999999999-x",
        ] {
            let name = format!("{workspaces}{name}");
            assert_eq!(job_of(&name, &workspaces), None, "{name}");
        }
        assert_eq!(
            job_of(&format!("other-{}", scope.workspace_of(1)), &workspaces),
            None
        );
        // A CLI run's images (`layercake diff --keep-images`) are not a job's.
        assert_eq!(
            job_of("layercake-diff/1234-abcdef012345-0:base", &images),
            None
        );
    }
}
