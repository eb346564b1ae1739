//! The files of one commit, written to a directory to build from.

use std::fs::File;
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::GitError;
use crate::command::Git;
use crate::repository::Commit;

/// The tracked files of a commit written to a directory, nothing else: the
/// build context of one side of a diff. Removed when dropped.
///
/// Written with `git read-tree` into a temporary index and `git
/// checkout-index`, which writes the bytes `git checkout` would (line-ending
/// conversion and filters such as Git LFS's as the repository configures
/// them; a submodule is an empty directory). Not with `git worktree add`,
/// which leaves a `.git` file naming the host's temporary directory that a
/// `COPY .` takes into the image and that differs on every run, so BuildKit
/// never finds the COPY in its cache. Not with `git archive` either: it
/// applies the `export-ignore` and `export-subst` attributes, which are about
/// release tarballs, so its tree is not the checkout a plain `docker build`
/// sees (and it needs a tar reader).
///
/// Then made the same on every run, so the build cache and the layers a COPY
/// makes do not depend on the machine or the moment: files are mode 0644, or
/// 0755 when git records them executable, directories 0755 (not the umask's
/// choice: BuildKit's cache key includes the mode), symbolic links stay links,
/// and every modification time is the commit's time (BuildKit's cache key
/// leaves times out, but the layer a COPY writes keeps them).
///
/// The directory is `$TMPDIR/layercake-tree-<commit>` when this process can
/// claim it. The docker CLI keys its BuildKit session by the context's path,
/// and BuildKit then sends only the files whose size or modification time
/// differ from the last build with that key: a rerun on the same commit sends
/// nothing (a cached build of a 59 MB, 3,000-file context took 0.5 s from
/// the same path, 1.2 to 1.6 s from a new one). The name is the commit's, so
/// a path only ever holds one tree: were it reused across commits, an edit
/// that keeps a file's size, in commits made within the same second (one
/// modification time), would not be sent. A claim is a lock on the directory;
/// a concurrent run on the same commit, or a directory this user does not own
/// alone, gets a new temporary directory instead: the same files, only sent
/// whole.
#[derive(Debug)]
pub struct CommitTree {
    commit: Commit,
    dir: TreeDir,
}

#[derive(Debug)]
enum TreeDir {
    /// The commit's own path, locked while this process uses it.
    Claimed { path: PathBuf, _lock: File },
    /// A fresh temporary directory.
    Temporary(tempfile::TempDir),
    /// Removed.
    Gone,
}

impl CommitTree {
    /// Writes the tracked files of `commit` to a directory.
    pub fn write(repo: &Path, commit: &Commit) -> Result<CommitTree, GitError> {
        let io = |context: &str| {
            let context = context.to_string();
            move |source| GitError::Io { context, source }
        };
        // The index git reads the commit into: never the repository's own,
        // which the user (or a concurrent run) may be using.
        let scratch = tempfile::Builder::new()
            .prefix("layercake-index-")
            .tempdir()
            .map_err(io("cannot create a temporary directory for a git index"))?;
        let dir = match claim(commit, scratch.path()) {
            Some(claimed) => claimed,
            None => TreeDir::Temporary(
                tempfile::Builder::new()
                    .prefix(&format!("layercake-tree-{}-", short(commit)))
                    .tempdir()
                    .map_err(io(
                        "cannot create a temporary directory for a commit's files",
                    ))?,
            ),
        };
        // From here on, dropping the tree removes whatever was written.
        let tree = CommitTree {
            commit: commit.clone(),
            dir,
        };
        let index = scratch.path().join("index");
        Git::new(repo)
            .env("GIT_INDEX_FILE", &index)
            .arg("read-tree")
            .arg(&commit.sha)
            .run()?;
        Git::new(repo)
            .env("GIT_INDEX_FILE", &index)
            // Links as links, whatever a repository cloned elsewhere says.
            .arg("-c")
            .arg("core.symlinks=true")
            .arg("--work-tree")
            .arg(tree.path())
            .arg("checkout-index")
            .arg("--all")
            .arg("--force")
            .run()?;
        let time = commit_time(repo, commit)?;
        normalise(tree.path(), time, true).map_err(io(&format!(
            "cannot set the modes and times of the files of {} in {}",
            short(commit),
            tree.path().display()
        )))?;
        Ok(tree)
    }

    /// The directory the files are in.
    pub fn path(&self) -> &Path {
        match &self.dir {
            TreeDir::Claimed { path, .. } => path,
            TreeDir::Temporary(dir) => dir.path(),
            TreeDir::Gone => Path::new(""),
        }
    }

    /// The commit whose files these are.
    pub fn commit(&self) -> &Commit {
        &self.commit
    }

    /// Removes the files now, reporting failure (dropping the tree removes
    /// them too, but can only ignore errors).
    pub fn remove(mut self) -> Result<(), GitError> {
        self.remove_now().map_err(|source| GitError::Io {
            context: "cannot remove a commit's files".to_string(),
            source,
        })
    }

    fn remove_now(&mut self) -> std::io::Result<()> {
        match std::mem::replace(&mut self.dir, TreeDir::Gone) {
            // Removed before the lock goes with the handle, so a run that
            // claims the path next finds it empty or absent.
            TreeDir::Claimed { path, _lock } => std::fs::remove_dir_all(path),
            TreeDir::Temporary(dir) => dir.close(),
            TreeDir::Gone => Ok(()),
        }
    }
}

impl Drop for CommitTree {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `remove` reports them.
        let _ = self.remove_now();
    }
}

fn short(commit: &Commit) -> &str {
    commit.sha.get(..12).unwrap_or(&commit.sha)
}

/// `$TMPDIR/layercake-tree-<sha>`, locked, emptied, when this process may
/// use it: a directory (not a link) that only the owner of `own` (a
/// directory this process made) can enter; `None` when it cannot.
#[cfg(unix)]
fn claim(commit: &Commit, own: &Path) -> Option<TreeDir> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};

    let path = std::env::temp_dir().join(format!("layercake-tree-{}", commit.sha));
    match std::fs::DirBuilder::new().mode(0o700).create(&path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    let uid = std::fs::metadata(own).ok()?.uid();
    let private =
        |meta: &std::fs::Metadata| meta.is_dir() && meta.uid() == uid && meta.mode() & 0o077 == 0;
    if !private(&std::fs::symlink_metadata(&path).ok()?) {
        return None;
    }
    let lock = File::open(&path).ok()?;
    // Held by another run on the same commit: that run's files, not ours.
    lock.try_lock().ok()?;
    // The path must still name the directory locked: a run that finished
    // between our open and our lock removed it, and another may have made it
    // again.
    let locked = lock.metadata().ok()?;
    let named = std::fs::symlink_metadata(&path).ok()?;
    if (locked.dev(), locked.ino()) != (named.dev(), named.ino()) || !private(&locked) {
        return None;
    }
    // What a run that died left behind.
    for entry in std::fs::read_dir(&path).ok()? {
        let entry = entry.ok()?;
        let removed = if entry.file_type().ok()?.is_dir() {
            std::fs::remove_dir_all(entry.path())
        } else {
            std::fs::remove_file(entry.path())
        };
        removed.ok()?;
    }
    Some(TreeDir::Claimed { path, _lock: lock })
}

#[cfg(not(unix))]
fn claim(_commit: &Commit, _own: &Path) -> Option<TreeDir> {
    None
}

/// The commit's committer time (`git show -s --format=%ct`).
fn commit_time(repo: &Path, commit: &Commit) -> Result<FileTime, GitError> {
    let git = Git::new(repo)
        .arg("show")
        .arg("-s")
        .arg("--format=%ct")
        .arg(&commit.sha);
    let out = git.run()?;
    let text = String::from_utf8_lossy(&out);
    let seconds: i64 = text.trim().parse().map_err(|_| GitError::CommandFailed {
        command: format!("git show -s --format=%ct {}", commit.sha),
        status: "exit status: 0".to_string(),
        stderr: format!("expected a Unix time, got `{}`", text.trim()),
    })?;
    Ok(FileTime::from_unix_time(seconds, 0))
}

/// Sets the modes and times under `dir` (children first: writing a child
/// changes its directory's time), then `dir`'s time; `top`'s mode is left
/// alone (the claimed directory stays private, and BuildKit does not key a
/// COPY on the context root's mode).
fn normalise(dir: &Path, time: FileTime, top: bool) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            normalise(&path, time, false)?;
        } else if kind.is_file() {
            set_mode(&path, &entry.metadata()?)?;
            filetime::set_file_times(&path, time, time)?;
        } else {
            // A symbolic link: its own time, not its target's.
            filetime::set_symlink_file_times(&path, time, time)?;
        }
    }
    if !top {
        set_mode(dir, &std::fs::symlink_metadata(dir)?)?;
    }
    filetime::set_file_times(dir, time, time)
}

#[cfg(unix)]
fn set_mode(path: &Path, meta: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    // git records only whether a file is executable.
    let mode = if meta.is_dir() || meta.permissions().mode() & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _meta: &std::fs::Metadata) -> std::io::Result<()> {
    Ok(())
}
