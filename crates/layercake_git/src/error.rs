use std::path::PathBuf;

/// What can go wrong asking git about a repository. Each message says what
/// the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The `git` program could not be started.
    #[error(
        "git is not installed or not on PATH (tried to run `{program}`: {source}); install git and try again"
    )]
    NotInstalled {
        /// The program that was run.
        program: String,
        /// Why it could not be started.
        #[source]
        source: std::io::Error,
    },
    /// The directory is not inside a git work tree or repository.
    #[error("{} is not a git repository ({reason}); run layercake inside a clone, or pass the repository's path", path.display())]
    NotARepository {
        /// The directory that was given.
        path: PathBuf,
        /// What git said.
        reason: String,
    },
    /// A branch, tag or commit name that the repository does not have.
    #[error("unknown revision `{rev}` in {}: no commit has that name; check the spelling, or fetch it first (`git fetch origin {rev}`; in CI, check out with full history, e.g. `fetch-depth: 0`)", repo.display())]
    UnknownRevision {
        /// The name as given.
        rev: String,
        /// The repository it was looked up in.
        repo: PathBuf,
    },
    /// Two commits with no common history, so there is no branch point to compare from.
    #[error("`{base}` and `{head}` have no common ancestor in {}; compare branches that share history (a shallow clone can hide it: fetch with more depth)", repo.display())]
    NoMergeBase {
        /// The base revision as given.
        base: String,
        /// The head revision as given.
        head: String,
        /// The repository.
        repo: PathBuf,
    },
    /// git ran but failed.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    CommandFailed {
        /// The command line, for the user to rerun.
        command: String,
        /// The exit status.
        status: String,
        /// The last lines git wrote to its standard error.
        stderr: String,
    },
    /// A commit the repository lacks and could not fetch.
    #[error("commit {commit} is not in the repository and could not be fetched from `{remote}`; in CI, check out with full history (`fetch-depth: 0`){}", if reason.is_empty() { String::new() } else { format!(" ({reason})") })]
    MissingCommit {
        /// The commit.
        commit: String,
        /// The remote it was fetched from.
        remote: String,
        /// What the last fetch said.
        reason: String,
    },
    /// A file-system operation around git failed (creating a temporary directory).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
