//! What can go wrong talking to GitHub, in the cases a caller branches on.

use std::time::Duration;

use serde::Deserialize;

/// GitHub's words for a token that may read but not write: "… by integration" for a
/// workflow's read-only `GITHUB_TOKEN` on a pull request from a fork or an App
/// without the permission, "… by personal access token" for a fine-grained token.
const READ_ONLY_MESSAGE: &str = "resource not accessible by ";

/// A failed request. Messages are GitHub's own (or the transport's); the token is
/// never part of one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// `403` that is not a rate limit: the token lacks a permission.
    #[error("GitHub refused the request (403 Forbidden): {message}")]
    Forbidden {
        /// GitHub's message, e.g. `Resource not accessible by integration`.
        message: String,
    },
    /// `401`: the token is missing, wrong or expired.
    #[error("GitHub did not accept the token (401 Unauthorized): {message}")]
    Unauthorized {
        /// GitHub's message, e.g. `Bad credentials`.
        message: String,
    },
    /// `404`: no such repository, pull request or comment, or the token cannot
    /// see it (GitHub answers 404 rather than 403 for private repositories).
    #[error("not found on GitHub (404): {message}")]
    NotFound {
        /// GitHub's message.
        message: String,
    },
    /// `422`: GitHub understood the request and rejected its content.
    #[error("GitHub rejected the request (422): {}", validation_summary(.message, .errors))]
    Validation {
        /// GitHub's message, e.g. `Validation Failed` or `Unprocessable Entity`.
        message: String,
        /// GitHub's list of errors, each as one sentence, e.g. `Pull request review
        /// thread line must be part of the diff`.
        errors: Vec<String>,
    },
    /// Rate limited, and the client gave up: the wait GitHub asked for was longer
    /// than [`RetryPolicy::max_wait`](crate::RetryPolicy::max_wait), or the retries
    /// ran out.
    #[error("GitHub's rate limit was hit; it asks to wait {}s", .wait.as_secs())]
    RateLimited {
        /// How long GitHub asked to wait before the next request.
        wait: Duration,
    },
    /// A write (`POST`) whose outcome is unknown: it was sent, and then the
    /// connection failed, timed out or GitHub answered with a server error. It may or
    /// may not have happened; re-read before writing again.
    #[error("the outcome of a write to GitHub is unknown: {message}")]
    Ambiguous {
        /// What happened after the request was sent.
        message: String,
    },
    /// Any other error status.
    #[error("GitHub answered {status}: {message}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// GitHub's message, or the start of the body.
        message: String,
    },
    /// The request did not get an answer (connection refused or reset, timeout,
    /// TLS), or the answer could not be read.
    #[error("cannot reach GitHub: {message}")]
    Transport {
        /// The transport's error chain.
        message: String,
    },
    /// The client cannot be made: an API URL that is not a URL, a token that cannot
    /// be sent in a header, no root certificates for an `https` URL.
    #[error("GitHub client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl GitHubError {
    /// Whether this is GitHub refusing a write to a token that may only read, e.g.
    /// the read-only `GITHUB_TOKEN` of a workflow run for a pull request from a fork
    /// ("Resource not accessible by integration").
    pub fn is_read_only_token(&self) -> bool {
        matches!(self, GitHubError::Forbidden { message }
            if message.to_ascii_lowercase().contains(READ_ONLY_MESSAGE))
    }

    /// Whether trying again later, unchanged, may succeed: GitHub's rate limit,
    /// a server error (5xx), an unreachable GitHub, or a write whose outcome is
    /// unknown. `None` for a refusal that trying again does not change (a
    /// missing permission, a bad token, a 404, a rejected request).
    pub fn passing(&self) -> Option<PassingTrouble> {
        match self {
            GitHubError::RateLimited { wait } => Some(PassingTrouble::RateLimited { wait: *wait }),
            GitHubError::Http { status, .. } if *status >= 500 => Some(PassingTrouble::Unavailable),
            GitHubError::Transport { .. } | GitHubError::Ambiguous { .. } => {
                Some(PassingTrouble::Unavailable)
            }
            _ => None,
        }
    }

    /// Whether the request may have taken effect although it failed
    /// ([`GitHubError::Ambiguous`]).
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, GitHubError::Ambiguous { .. })
    }
}

/// Trouble that passes by itself ([`GitHubError::passing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassingTrouble {
    /// GitHub asked to wait this long before the next request.
    RateLimited {
        /// `retry-after`, or until `x-ratelimit-reset`.
        wait: Duration,
    },
    /// GitHub failed or could not be reached; it said nothing about when to
    /// come back.
    Unavailable,
}

fn validation_summary(message: &str, errors: &[String]) -> String {
    if errors.is_empty() {
        message.to_string()
    } else {
        format!("{message}: {}", errors.join("; "))
    }
}

/// GitHub's error body: `{"message": …, "errors": [...], "documentation_url": …}`,
/// where each error is a string or an object (`resource`, `field`, `code`,
/// `message`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    errors: Option<Vec<serde_json::Value>>,
}

impl ErrorBody {
    /// The body as GitHub sent it, or, when it is not GitHub's JSON, its start as
    /// the message.
    pub(crate) fn parse(body: &str) -> ErrorBody {
        serde_json::from_str(body).unwrap_or_else(|_| ErrorBody {
            message: Some(
                body.chars()
                    .take(200)
                    .collect::<String>()
                    .trim()
                    .to_string(),
            )
            .filter(|text| !text.is_empty()),
            errors: None,
        })
    }

    pub(crate) fn message_or(&self, fallback: &str) -> String {
        self.message
            .clone()
            .filter(|message| !message.is_empty())
            .unwrap_or_else(|| fallback.to_string())
    }

    /// Each error as one line: a string as it is, an object by its `message`, else
    /// as `resource.field: code`.
    pub(crate) fn error_lines(&self) -> Vec<String> {
        let Some(errors) = &self.errors else {
            return Vec::new();
        };
        errors
            .iter()
            .map(|error| match error {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Object(fields) => {
                    let text = |key: &str| fields.get(key).and_then(serde_json::Value::as_str);
                    match text("message") {
                        Some(message) => message.to_string(),
                        None => format!(
                            "{}.{}: {}",
                            text("resource").unwrap_or("?"),
                            text("field").unwrap_or("?"),
                            text("code").unwrap_or("invalid")
                        ),
                    }
                }
                other => other.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_tokens_are_recognized() {
        let forbidden = |message: &str| GitHubError::Forbidden {
            message: message.into(),
        };
        assert!(forbidden("Resource not accessible by integration").is_read_only_token());
        assert!(forbidden("Resource not accessible by personal access token").is_read_only_token());
        assert!(!forbidden("Must have admin rights to Repository.").is_read_only_token());
        assert!(
            !GitHubError::NotFound {
                message: "Resource not accessible by integration".into()
            }
            .is_read_only_token()
        );
    }

    #[test]
    fn passing_trouble_is_rate_limits_server_errors_and_no_answer() {
        let wait = Duration::from_secs(120);
        let http = |status| GitHubError::Http {
            status,
            message: "x".into(),
        };
        let message = || "x".to_string();
        assert_eq!(
            GitHubError::RateLimited { wait }.passing(),
            Some(PassingTrouble::RateLimited { wait })
        );
        for error in [
            http(500),
            http(502),
            http(503),
            GitHubError::Transport { message: message() },
            GitHubError::Ambiguous { message: message() },
        ] {
            assert_eq!(
                error.passing(),
                Some(PassingTrouble::Unavailable),
                "{error}"
            );
        }
        for error in [
            http(409),
            http(410),
            GitHubError::Forbidden { message: message() },
            GitHubError::Unauthorized { message: message() },
            GitHubError::NotFound { message: message() },
            GitHubError::Config { message: message() },
            GitHubError::Validation {
                message: message(),
                errors: Vec::new(),
            },
        ] {
            assert_eq!(error.passing(), None, "{error}");
        }
    }

    #[test]
    fn error_bodies_give_their_errors() {
        let body = ErrorBody::parse(
            r#"{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"},{"resource":"Issue","field":"title","code":"missing_field"},"plain words"]}"#,
        );
        assert_eq!(body.message_or("x"), "Validation Failed");
        assert_eq!(
            body.error_lines(),
            [
                "body is too long (maximum is 65536 characters)",
                "Issue.title: missing_field",
                "plain words"
            ]
        );
        let html = ErrorBody::parse("<html>Bad gateway</html>");
        assert_eq!(html.message_or("x"), "<html>Bad gateway</html>");
        assert_eq!(
            ErrorBody::parse("").message_or("Bad Gateway"),
            "Bad Gateway"
        );
    }

    #[test]
    fn validation_errors_display_their_list() {
        let error = GitHubError::Validation {
            message: "Unprocessable Entity".into(),
            errors: vec!["Pull request review thread line must be part of the diff".into()],
        };
        assert_eq!(
            error.to_string(),
            "GitHub rejected the request (422): Unprocessable Entity: Pull request review thread line must be part of the diff"
        );
    }
}
