//! A pool of builders: Docker Engines by endpoint and buildx builders by
//! name, each with its own number of jobs at once. A job takes one builder
//! for its whole review, so head's build reuses base's cache on it. A
//! builder that stops answering is taken out of the pool until it answers
//! again, and its job is put off (queued again, not failed, not an
//! attempt) to run on another.

use layercake_build::{BuilderSpec, Docker, DockerSelection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A builder in the pool, and how it is doing.
#[derive(Debug)]
pub struct Builder {
    /// As configured.
    pub spec: BuilderSpec,
    /// What a job's review builds with on it.
    pub selection: DockerSelection,
    slots: Arc<Semaphore>,
    up: AtomicBool,
    /// Jobs that took it.
    pub jobs_started: AtomicU64,
    /// Times it was taken out of the pool.
    pub times_down: AtomicU64,
    /// Why it was last taken out.
    pub last_trouble: Mutex<Option<String>>,
}

impl Builder {
    /// Whether it is in the pool.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// Jobs building on it now.
    pub fn busy(&self) -> usize {
        self.spec
            .concurrency
            .saturating_sub(self.slots.available_permits())
    }
}

/// A job's hold on one builder, until dropped.
#[derive(Debug)]
pub struct BuilderLease {
    /// The builder.
    pub builder: Arc<Builder>,
    _slot: OwnedSemaphorePermit,
}

/// No builder is in the pool: all stopped answering.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no builder answers ({0})")]
pub struct NoBuilder(pub String);

/// The builders a server spreads its jobs' builds over.
#[derive(Debug)]
pub struct BuilderPool {
    builders: Vec<Arc<Builder>>,
}

/// How often a job waiting for a free builder looks again.
const WAIT_STEP: Duration = Duration::from_millis(100);

impl BuilderPool {
    /// A pool of `specs`, every builder in it until it fails to answer.
    pub fn new(specs: Vec<BuilderSpec>, binary: Option<PathBuf>) -> BuilderPool {
        let builders = specs
            .into_iter()
            .map(|spec| {
                Arc::new(Builder {
                    selection: spec.selection(binary.clone()),
                    slots: Arc::new(Semaphore::new(spec.concurrency)),
                    up: AtomicBool::new(true),
                    jobs_started: AtomicU64::new(0),
                    times_down: AtomicU64::new(0),
                    last_trouble: Mutex::new(None),
                    spec,
                })
            })
            .collect();
        BuilderPool { builders }
    }

    /// The builders, in configured order.
    pub fn builders(&self) -> &[Arc<Builder>] {
        &self.builders
    }

    /// A free slot on a builder in the pool, the least busy first (the
    /// first configured among equals); waits while all are busy.
    /// [`NoBuilder`] when none is in the pool.
    pub async fn acquire(&self) -> Result<BuilderLease, NoBuilder> {
        loop {
            let mut up: Vec<&Arc<Builder>> = self.builders.iter().filter(|b| b.is_up()).collect();
            if up.is_empty() {
                return Err(NoBuilder(self.troubles()));
            }
            // Fewest jobs on it first; a stable sort keeps the configured order.
            up.sort_by_key(|b| b.busy());
            for builder in up {
                if let Ok(slot) = builder.slots.clone().try_acquire_owned() {
                    builder.jobs_started.fetch_add(1, Ordering::Relaxed);
                    return Ok(BuilderLease {
                        builder: builder.clone(),
                        _slot: slot,
                    });
                }
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
    }

    /// Takes `builder` out of the pool, saying why.
    pub fn mark_down(&self, builder: &Builder, reason: &str) {
        if builder.up.swap(false, Ordering::SeqCst) {
            builder.times_down.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "layercake: builder {} is out of the pool: {reason}",
                builder.spec.name
            );
        }
        if let Ok(mut last) = builder.last_trouble.lock() {
            *last = Some(reason.to_string());
        }
    }

    /// Asks each builder out of the pool whether it answers again, and puts
    /// those that do back. Blocking (`docker version`): call it from
    /// `spawn_blocking`.
    pub fn check_down(&self) {
        for builder in self.builders.iter().filter(|b| !b.is_up()) {
            if Docker::detect(&builder.selection).is_ok() {
                builder.up.store(true, Ordering::SeqCst);
                eprintln!(
                    "layercake: builder {} answers again; back in the pool",
                    builder.spec.name
                );
            }
        }
    }

    fn troubles(&self) -> String {
        self.builders
            .iter()
            .map(|b| {
                let trouble = b
                    .last_trouble
                    .lock()
                    .ok()
                    .and_then(|t| t.clone())
                    .unwrap_or_else(|| "out of the pool".to_string());
                format!("{}: {trouble}", b.spec.name)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_go_to_the_least_busy_builder_and_never_to_one_out_of_the_pool() {
        let pool = BuilderPool::new(
            vec![
                "docker=unix:///a.sock@2".parse().expect("a"),
                "docker=unix:///b.sock@1".parse().expect("b"),
            ],
            None,
        );
        let name = |lease: &BuilderLease| lease.builder.spec.name.clone();
        let first = pool.acquire().await.expect("a slot");
        let second = pool.acquire().await.expect("a slot");
        let third = pool.acquire().await.expect("a slot");
        assert_eq!(
            [name(&first), name(&second), name(&third)],
            [
                "docker=unix:///a.sock",
                "docker=unix:///b.sock",
                "docker=unix:///a.sock"
            ]
        );
        // All three slots taken: the next waits until one is given back.
        let waiting = tokio::time::timeout(Duration::from_millis(300), pool.acquire()).await;
        assert!(waiting.is_err(), "no free slot");
        drop(second);
        let fourth = pool.acquire().await.expect("b's slot again");
        assert_eq!(name(&fourth), "docker=unix:///b.sock");
        drop(fourth);

        // b stops answering: it is taken out, and jobs wait for a.
        pool.mark_down(&pool.builders()[1], "the Docker daemon is not running");
        assert!(!pool.builders()[1].is_up());
        drop(first);
        let fifth = pool.acquire().await.expect("a's slot");
        assert_eq!(name(&fifth), "docker=unix:///a.sock");
        pool.mark_down(&pool.builders()[0], "gone too");
        let none = pool.acquire().await.expect_err("no builder");
        assert!(
            none.to_string()
                .contains("the Docker daemon is not running"),
            "{none}"
        );
        assert_eq!(pool.builders()[1].times_down.load(Ordering::Relaxed), 1);
        drop((third, fifth));
    }
}
