//! Rate limits: the primary, secondary and `429` answers
//! [`FakeGitHub::rate_limit_next`] asks for.

use super::*;

/// A rate limit to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// The hourly budget is spent: `403` with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset` this many seconds ahead (rounded up to a whole epoch second).
    Primary {
        /// Seconds until the reset.
        reset_in_secs: u64,
    },
    /// A secondary (abuse) limit: `403` with `Retry-After` and GitHub's message
    /// "You have exceeded a secondary rate limit".
    Secondary {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// `429 Too Many Requests` with `Retry-After`.
    TooMany {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
}

pub(super) fn rate_limited(kind: RateLimit) -> Reply {
    const SECONDARY: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:FAKE:0000.";
    match kind {
        RateLimit::Primary { reset_in_secs } => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // Rounded up, so the reset is never earlier than asked.
            let reset = (now.as_secs_f64() + reset_in_secs as f64).ceil() as u64;
            let mut reply = Reply::json(
                403,
                json!({
                    "message": "API rate limit exceeded for installation ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                }),
            );
            reply.headers = vec![
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-used", RATE_LIMIT.to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ];
            reply
        }
        RateLimit::Secondary { retry_after_secs } | RateLimit::TooMany { retry_after_secs } => {
            let status = if matches!(kind, RateLimit::TooMany { .. }) {
                429
            } else {
                403
            };
            let mut reply = Reply::json(
                status,
                json!({
                    "message": SECONDARY,
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                }),
            );
            reply.headers = vec![("retry-after", retry_after_secs.to_string())];
            reply
        }
    }
}
