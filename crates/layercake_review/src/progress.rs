//! What a review tells whoever watches it while it builds. The review only
//! reports; how it is shown (a status line, `::group::` folding, nothing) is
//! the caller's.

use layercake_build::BuildEvent;

/// Watches a review. Called from the threads that build, so it is `Sync`.
pub trait Progress: Sync {
    /// A note that is not part of a build (`probing the cache by changing …`).
    fn note(&self, text: &str);
    /// A build starts; `expected_steps` is how many steps it should run.
    fn build(&self, title: String, expected_steps: usize) -> Box<dyn BuildProgress + '_>;
}

/// Watches one build.
pub trait BuildProgress {
    /// One event of the build (a log line, a step).
    fn on_event(&mut self, event: BuildEvent<'_>);
    /// The build ended: `built in 3.2 s (4 steps cached, 2 run)`, `failed after …`.
    fn finish(self: Box<Self>, outcome: &str);
}

/// Shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn note(&self, _: &str) {}

    fn build(&self, _: String, _: usize) -> Box<dyn BuildProgress + '_> {
        Box::new(NoProgress)
    }
}

impl BuildProgress for NoProgress {
    fn on_event(&mut self, _: BuildEvent<'_>) {}

    fn finish(self: Box<Self>, _: &str) {}
}
