//! Getting the commits a review needs into a clone: cloning a repository
//! with a token, and fetching a commit the clone lacks (actions/checkout
//! fetches one commit; a fork's head is reachable only from `pull/N/head`).

use crate::GitError;
use crate::command::Git;
use base64::Engine as _;
use std::path::Path;

/// A token for HTTPS remotes, sent as an `Authorization` header through
/// git's environment: never an argument (which `ps` shows), never a URL
/// (which git may print or store).
#[derive(Clone)]
pub struct HttpToken(String);

impl HttpToken {
    /// A GitHub token (an App installation's, or `GITHUB_TOKEN`).
    pub fn new(token: impl Into<String>) -> HttpToken {
        HttpToken(token.into())
    }

    fn header(&self) -> String {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{}", self.0));
        format!("Authorization: Basic {basic}")
    }

    /// `text` with the token masked.
    fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl std::fmt::Debug for HttpToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpToken(***)")
    }
}

/// Runs `git` with the token's header set for HTTP(S) remotes, and the
/// token masked in any error.
fn run_with(git: Git<'_>, url: &str, token: Option<&HttpToken>) -> Result<(), GitError> {
    let header;
    let git = match token {
        Some(token) if url.starts_with("https://") || url.starts_with("http://") => {
            header = token.header();
            git.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", &header)
        }
        _ => git,
    };
    git.run().map(|_| ()).map_err(|error| match (error, token) {
        (
            GitError::CommandFailed {
                command,
                status,
                stderr,
            },
            Some(token),
        ) => GitError::CommandFailed {
            command: token.redact(&command),
            status,
            stderr: token.redact(&stderr),
        },
        (error, _) => error,
    })
}

/// Clones `url` into `dir` (which must not exist or be empty) without
/// checking anything out.
pub fn clone_repository(url: &str, dir: &Path, token: Option<&HttpToken>) -> Result<(), GitError> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let git = Git::new(parent)
        .arg("clone")
        .arg("--quiet")
        .arg("--no-checkout")
        .arg(url)
        .arg(dir);
    run_with(git, url, token)
}

/// Makes sure `commit` is in the repository at `repo`: when it is not, fetches
/// it from `remote` by its SHA, then through each of `refs` in turn (a fork's
/// head is reachable from `pull/N/head`). The error names the commit.
pub fn ensure_commit(
    repo: &Path,
    commit: &str,
    remote: &str,
    refs: &[String],
    token: Option<&HttpToken>,
) -> Result<(), GitError> {
    let spec = format!("{commit}^{{commit}}");
    let present = Git::new(repo)
        .arg("cat-file")
        .arg("-e")
        .arg(&spec)
        .output()?
        .status
        .success();
    if present {
        return Ok(());
    }
    let url = remote_url(repo, remote);
    let mut last = None;
    for what in std::iter::once(commit).chain(refs.iter().map(String::as_str)) {
        let git = Git::new(repo)
            .arg("fetch")
            .arg("--no-tags")
            .arg("--quiet")
            .arg(remote)
            .arg(what);
        match run_with(git, &url, token) {
            Ok(())
                if Git::new(repo)
                    .arg("cat-file")
                    .arg("-e")
                    .arg(&spec)
                    .output()?
                    .status
                    .success() =>
            {
                return Ok(());
            }
            Ok(()) => {}
            Err(error) => last = Some(error),
        }
    }
    Err(GitError::MissingCommit {
        commit: commit.to_string(),
        remote: remote.to_string(),
        reason: last.map(|e| e.to_string()).unwrap_or_default(),
    })
}

/// The URL of `remote` (to tell whether the token applies), or the name itself.
fn remote_url(repo: &Path, remote: &str) -> String {
    let key = format!("remote.{remote}.url");
    Git::new(repo)
        .arg("config")
        .arg("--get")
        .arg(&key)
        .run()
        .map(|out| String::from_utf8_lossy(&out).trim().to_string())
        .unwrap_or_else(|_| remote.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_as_basic_auth_and_never_shows() {
        let token = HttpToken::new("abc");
        assert_eq!(
            token.header(),
            "Authorization: Basic eC1hY2Nlc3MtdG9rZW46YWJj"
        );
        assert_eq!(token.redact("remote: bad abc"), "remote: bad ***");
        assert_eq!(format!("{token:?}"), "HttpToken(***)");
    }
}
