//! Which Dockerfiles a git change touches, asked of the real `git` binary.
//!
//! For `layercake diff --base REF [--head REF]`: resolve the two revisions,
//! list the paths the head changed since it branched from the base (pull
//! request semantics: the diff from their merge-base), find the build
//! targets at each side, and decide which targets the change affects —
//! their Dockerfile changed, or a file their build context sends changed,
//! as BuildKit's `.dockerignore` matching decides. Files at a commit are read
//! without a checkout; a [`CommitTree`] writes a commit's tracked files (and
//! nothing else) to a directory for the builder.
//!
//! Every call runs `git -C <repo> …` directly (no shell, no prompts,
//! `LC_ALL=C`, the repository's hooks disabled); errors are [`GitError`].
//!
//! ```no_run
//! use layercake_git::{affected_targets, changed_paths, discover_targets, merge_base, resolve, show_file};
//! use std::path::Path;
//!
//! let repo = Path::new(".");
//! let base = merge_base(repo, "main", "HEAD")?;
//! let head = resolve(repo, "HEAD")?;
//! let changes = changed_paths(repo, "main", "HEAD")?;
//! let affected = affected_targets(
//!     &discover_targets(repo, &base)?,
//!     &discover_targets(repo, &head)?,
//!     &changes,
//!     |path| {
//!         let bytes = show_file(repo, &head, path).ok().flatten()?;
//!         Some(String::from_utf8_lossy(&bytes).into_owned())
//!     },
//! );
//! # Ok::<(), layercake_git::GitError>(())
//! ```
#![deny(missing_docs)]

mod affected;
mod command;
/// `.dockerignore` matching, shared with the linter.
pub use layercake_dockerignore as dockerignore;
mod error;
mod fetch;
mod repository;
mod targets;
mod tree;

pub use affected::{AffectedReason, AffectedTarget, LISTED_CONTEXT_PATHS, affected_targets};
pub use error::GitError;
pub use fetch::{HttpToken, clone_repository, ensure_commit};
pub use repository::{
    ChangeStatus, ChangedPath, Commit, changed_paths, diff_commits, merge_base, merge_base_of,
    resolve, show_file, toplevel,
};
pub use targets::{BuildTarget, discover_targets, is_dockerfile_name};
pub use tree::CommitTree;
