//! One rule per file, named after the pattern it reports.

// ── file (LC0xx) ──
/// LC001: BuildKit cannot parse the file.
pub mod parse_error;

// ── multi-stage (LC1xx) ──
/// LC101: `COPY --from` names no stage.
pub mod copy_from_unknown_stage;
/// LC103: a stage outside the build target.
pub mod stage_outside_target;
/// LC102: a stage no build can reach.
pub mod unused_stage;

// ── cache (LC2xx) ──
/// LC201: the whole context is copied before the dependency install.
pub mod broad_copy_before_install;

// ── size (LC3xx) ──

// ── security (LC4xx) ──

// ── correctness (LC5xx) ──

mod stage_closure;
