//! Revisions, the diff a pull request makes, and reading files at a commit.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::GitError;
use crate::command::{Git, nul_fields, path_from_bytes};

/// A commit, by its full object name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Commit {
    /// The full hexadecimal object name.
    pub sha: String,
}

impl fmt::Display for Commit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sha)
    }
}

/// How a path changed between two commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeStatus {
    /// The path is new (also a copy, whose source is in `old_path`).
    Added,
    /// The content or the file type changed.
    Modified,
    /// The path is gone.
    Deleted,
    /// The file moved from `old_path` (possibly also changing).
    Renamed,
}

/// One path the change touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedPath {
    /// The repository-relative path after the change (for a deletion, the
    /// deleted path).
    pub path: PathBuf,
    /// For renames (and copies), the path before the change.
    pub old_path: Option<PathBuf>,
    /// How it changed.
    pub status: ChangeStatus,
}

/// The root of the work tree `repo` is in (`git rev-parse --show-toplevel`).
pub fn toplevel(repo: &Path) -> Result<PathBuf, GitError> {
    let out = Git::new(repo)
        .arg("rev-parse")
        .arg("--show-toplevel")
        .run()?;
    let text = String::from_utf8_lossy(&out);
    Ok(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

/// Resolves a branch, tag, or other revision to the commit it names
/// (`git rev-parse --verify REV^{commit}`).
pub fn resolve(repo: &Path, rev: &str) -> Result<Commit, GitError> {
    let spec = format!("{rev}^{{commit}}");
    let git = Git::new(repo)
        .arg("rev-parse")
        .arg("--verify")
        .arg("--quiet")
        .arg("--end-of-options")
        .arg(&spec);
    let output = git.output()?;
    if !output.status.success() {
        // `--quiet` makes a missing name a silent exit 1; anything said on
        // stderr is some other failure.
        return if output.stderr.is_empty() || output.status.code() == Some(1) {
            Err(GitError::UnknownRevision {
                rev: rev.to_string(),
                repo: repo.to_path_buf(),
            })
        } else {
            Err(git.failed(&output))
        };
    }
    let sha = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if sha.is_empty() {
        return Err(GitError::UnknownRevision {
            rev: rev.to_string(),
            repo: repo.to_path_buf(),
        });
    }
    Ok(Commit { sha })
}

/// The commit `head` branched from `base` at (`git merge-base`): what a pull
/// request from `head` into `base` is compared against.
pub fn merge_base(repo: &Path, base: &str, head: &str) -> Result<Commit, GitError> {
    let base_commit = resolve(repo, base)?;
    let head_commit = resolve(repo, head)?;
    merge_base_of(repo, &base_commit, &head_commit).map_err(|error| match error {
        GitError::NoMergeBase { repo, .. } => GitError::NoMergeBase {
            base: base.to_string(),
            head: head.to_string(),
            repo,
        },
        other => other,
    })
}

/// [`merge_base`] for resolved commits.
pub fn merge_base_of(repo: &Path, base: &Commit, head: &Commit) -> Result<Commit, GitError> {
    let git = Git::new(repo)
        .arg("merge-base")
        .arg(&base.sha)
        .arg(&head.sha);
    let output = git.output()?;
    let sha = String::from_utf8_lossy(&output.stdout).trim().to_string();
    match output.status.code() {
        Some(0) if !sha.is_empty() => Ok(Commit { sha }),
        // Exit 1 without a word: the commits share no history.
        Some(0) | Some(1) if output.stderr.is_empty() => Err(GitError::NoMergeBase {
            base: base.sha.clone(),
            head: head.sha.clone(),
            repo: git.repo(),
        }),
        _ => Err(git.failed(&output)),
    }
}

/// The paths `head` changed since it branched from `base`: the diff from
/// their merge-base to `head`, with renames detected
/// (`git diff --name-status -z -M <merge-base> <head>`). Changes made on
/// `base` after the branch point do not count, as in a pull request.
pub fn changed_paths(repo: &Path, base: &str, head: &str) -> Result<Vec<ChangedPath>, GitError> {
    let branch_point = merge_base(repo, base, head)?;
    let head = resolve(repo, head)?;
    diff_commits(repo, &branch_point, &head)
}

/// The paths that differ from `from` to `to`, with renames detected.
pub fn diff_commits(repo: &Path, from: &Commit, to: &Commit) -> Result<Vec<ChangedPath>, GitError> {
    let stdout = Git::new(repo)
        .arg("diff")
        .arg("--name-status")
        .arg("-z")
        .arg("-M")
        .arg("--no-ext-diff")
        .arg("--no-textconv")
        .arg(&from.sha)
        .arg(&to.sha)
        .arg("--")
        .run()?;
    parse_name_status(&stdout).ok_or_else(|| GitError::CommandFailed {
        command: format!("git diff --name-status -z -M {from} {to}"),
        status: "unexpected output".to_string(),
        stderr: String::from_utf8_lossy(&stdout).chars().take(200).collect(),
    })
}

/// `--name-status -z` records: `STATUS\0PATH\0`, or `R<score>\0OLD\0NEW\0`
/// for renames and copies.
fn parse_name_status(stdout: &[u8]) -> Option<Vec<ChangedPath>> {
    let mut fields = nul_fields(stdout);
    let mut changes = Vec::new();
    while let Some(status) = fields.next() {
        let change = match status.first()? {
            b'R' | b'C' => {
                let old = path_from_bytes(fields.next()?);
                let new = path_from_bytes(fields.next()?);
                ChangedPath {
                    path: new,
                    old_path: Some(old),
                    status: if status[0] == b'R' {
                        ChangeStatus::Renamed
                    } else {
                        ChangeStatus::Added
                    },
                }
            }
            letter => {
                let status = match letter {
                    b'A' => ChangeStatus::Added,
                    b'D' => ChangeStatus::Deleted,
                    // M, T (type change), and U/X, which a diff of two
                    // commits does not produce.
                    _ => ChangeStatus::Modified,
                };
                ChangedPath {
                    path: path_from_bytes(fields.next()?),
                    old_path: None,
                    status,
                }
            }
        };
        changes.push(change);
    }
    Some(changes)
}

/// An entry of the tree of a commit (`git ls-tree -r -z`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TreeEntry {
    pub(crate) path: PathBuf,
    pub(crate) kind: String,
    pub(crate) object: String,
}

/// `git ls-tree -z <commit> [-r] [-- path]` parsed: `MODE TYPE OBJECT\tPATH\0`.
pub(crate) fn ls_tree(
    repo: &Path,
    commit: &Commit,
    recursive: bool,
    path: Option<&Path>,
) -> Result<Vec<TreeEntry>, GitError> {
    let mut git = Git::new(repo).arg("ls-tree").arg("-z").arg("--full-tree");
    if recursive {
        git = git.arg("-r");
    }
    git = git.arg(&commit.sha).arg("--");
    if let Some(path) = path {
        git = git.arg(path);
    }
    let stdout = git.run()?;
    let mut entries = Vec::new();
    for record in nul_fields(&stdout) {
        let Some(tab) = record.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let header = String::from_utf8_lossy(&record[..tab]);
        let mut parts = header.split(' ');
        let (Some(_mode), Some(kind), Some(object)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        entries.push(TreeEntry {
            path: path_from_bytes(&record[tab + 1..]),
            kind: kind.to_string(),
            object: object.to_string(),
        });
    }
    Ok(entries)
}

/// The content of the file at `path` (repository-relative) in `commit`,
/// read without a checkout; `None` when the commit has no file there (or
/// has a directory or submodule there). A symbolic link reads as its target.
pub fn show_file(repo: &Path, commit: &Commit, path: &Path) -> Result<Option<Vec<u8>>, GitError> {
    let entries = ls_tree(repo, commit, false, Some(path))?;
    let Some(entry) = entries
        .into_iter()
        .find(|entry| entry.path == path && entry.kind == "blob")
    else {
        return Ok(None);
    };
    Git::new(repo)
        .arg("cat-file")
        .arg("blob")
        .arg(&entry.object)
        .run()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_records() {
        let out = b"M\0a b/Dockerfile\0R087\0old/Dockerfile\0new/Dockerfile\0A\0x\0D\0y\0T\0z\0";
        let changes = parse_name_status(out).expect("well-formed");
        assert_eq!(changes.len(), 5);
        assert_eq!(changes[0].path, Path::new("a b/Dockerfile"));
        assert_eq!(changes[0].status, ChangeStatus::Modified);
        assert_eq!(changes[1].status, ChangeStatus::Renamed);
        assert_eq!(
            changes[1].old_path.as_deref(),
            Some(Path::new("old/Dockerfile"))
        );
        assert_eq!(changes[1].path, Path::new("new/Dockerfile"));
        assert_eq!(changes[2].status, ChangeStatus::Added);
        assert_eq!(changes[3].status, ChangeStatus::Deleted);
        assert_eq!(changes[4].status, ChangeStatus::Modified);
        assert_eq!(parse_name_status(b""), Some(Vec::new()));
        assert_eq!(parse_name_status(b"R100\0only-old\0"), None);
    }
}
