//! A temporary, detached checkout of one commit.

use std::path::{Path, PathBuf};

use crate::GitError;
use crate::command::Git;
use crate::repository::Commit;

/// A detached worktree of a commit in a temporary directory
/// (`git worktree add --detach`), removed from disk and from the
/// repository's worktree list when dropped.
#[derive(Debug)]
pub struct Worktree {
    repo: PathBuf,
    commit: Commit,
    dir: Option<tempfile::TempDir>,
}

impl Worktree {
    /// Checks `commit` out into a new temporary directory.
    pub fn add(repo: &Path, commit: &Commit) -> Result<Worktree, GitError> {
        let dir = tempfile::Builder::new()
            .prefix("layercake-worktree-")
            .tempdir()
            .map_err(|source| GitError::Io {
                context: "cannot create a temporary directory for the base checkout".to_string(),
                source,
            })?;
        Git::new(repo)
            .arg("worktree")
            .arg("add")
            .arg("--detach")
            .arg("--quiet")
            .arg(dir.path())
            .arg(&commit.sha)
            .run()?;
        Ok(Worktree {
            repo: repo.to_path_buf(),
            commit: commit.clone(),
            dir: Some(dir),
        })
    }

    /// The root of the checkout.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |dir| dir.path())
    }

    /// The commit checked out.
    pub fn commit(&self) -> &Commit {
        &self.commit
    }

    /// Removes the worktree now, reporting failure (dropping it removes it
    /// too, but can only ignore errors).
    pub fn remove(mut self) -> Result<(), GitError> {
        self.remove_now()
    }

    fn remove_now(&mut self) -> Result<(), GitError> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        let removed = Git::new(&self.repo)
            .arg("worktree")
            .arg("remove")
            .arg("--force")
            .arg(dir.path())
            .run();
        // Whatever happened, the directory goes (TempDir's drop) and prune
        // forgets a worktree whose directory is gone.
        drop(dir);
        let pruned = Git::new(&self.repo).arg("worktree").arg("prune").run();
        removed.and(pruned).map(|_| ())
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `remove` reports them.
        let _ = self.remove_now();
    }
}
