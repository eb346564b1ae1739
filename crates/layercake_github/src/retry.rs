//! When a failed request is tried again, and after how long. Pure: the transport
//! asks, with the status, headers and GitHub's message of an answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

/// How long GitHub asks to wait after a secondary rate limit that names no time:
/// "wait for at least one minute" (GitHub's documentation on rate limits).
const SECONDARY_LIMIT_DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How persistent the client is. See the crate documentation for what is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt, for rate limits and for the retryable
    /// failures of idempotent requests together.
    pub max_retries: u32,
    /// The longest single wait for a rate limit; GitHub asking for more gives
    /// [`GitHubError::RateLimited`](crate::GitHubError::RateLimited) at once.
    pub max_wait: Duration,
    /// The first pause after a server error or a transport failure; it doubles on
    /// each retry (never beyond `max_wait`).
    pub backoff: Duration,
    /// The time limit of one attempt, from sending the request to reading the whole
    /// answer.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries, at most 60 s per rate-limit wait, backoff from 200 ms, 30 s per
    /// attempt.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            max_wait: Duration::from_secs(60),
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `retry` (0 for the first) after a server error
    /// or a transport failure: `backoff × 2^retry`, at most `max_wait`.
    pub(crate) fn backoff_before(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.max_wait)
    }
}

/// If this answer is GitHub's rate limit, how long it asks to wait.
///
/// A rate limit is a `429`, or a `403` with `X-RateLimit-Remaining: 0`, with
/// `Retry-After`, or whose message speaks of a rate limit (the secondary limit's
/// "You have exceeded a secondary rate limit", the primary's "API rate limit
/// exceeded"). The wait is `Retry-After` seconds when given, else the time until
/// `X-RateLimit-Reset` (epoch seconds; none when it has passed) when the remaining count is 0,
/// else one minute.
pub(crate) fn rate_limit_wait(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    now: SystemTime,
) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after");
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let is_limit = match status {
        429 => true,
        403 => {
            exhausted
                || retry_after.is_some()
                || message.to_ascii_lowercase().contains("rate limit")
        }
        _ => false,
    };
    if !is_limit {
        return None;
    }
    if let Some(seconds) = retry_after.and_then(|value| value.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    if exhausted
        && let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())
    {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        return Some(Duration::from_secs(reset).saturating_sub(now));
    }
    Some(SECONDARY_LIMIT_DEFAULT_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    fn at(epoch_seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(epoch_seconds)
    }

    #[test]
    fn primary_limit_waits_until_reset() {
        let limit = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000"),
        ]);
        let wait = rate_limit_wait(403, &limit, "API rate limit exceeded", at(990));
        assert_eq!(wait, Some(Duration::from_secs(10)));
        // Until the reset itself, not the start of the current second.
        assert_eq!(
            rate_limit_wait(403, &limit, "", at(990) + Duration::from_millis(250)),
            Some(Duration::from_millis(9_750))
        );
        // A reset in the past means now, not an underflow.
        assert_eq!(
            rate_limit_wait(403, &limit, "", at(2000)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_wins() {
        let limit = headers(&[
            ("retry-after", "7"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "5000"),
        ]);
        assert_eq!(
            rate_limit_wait(403, &limit, "", at(1000)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rate_limit_wait(429, &headers(&[("retry-after", "3")]), "", at(0)),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn secondary_limit_without_headers_waits_a_minute() {
        let wait = rate_limit_wait(
            403,
            &HeaderMap::new(),
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            at(0),
        );
        assert_eq!(wait, Some(Duration::from_secs(60)));
        assert_eq!(
            rate_limit_wait(429, &HeaderMap::new(), "", at(0)),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn other_refusals_are_not_limits() {
        let plenty = headers(&[
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-reset", "1000"),
        ]);
        assert_eq!(
            rate_limit_wait(
                403,
                &plenty,
                "Resource not accessible by integration",
                at(0)
            ),
            None
        );
        assert_eq!(
            rate_limit_wait(404, &headers(&[("retry-after", "1")]), "", at(0)),
            None
        );
        assert_eq!(
            rate_limit_wait(500, &HeaderMap::new(), "rate limit", at(0)),
            None
        );
    }

    #[test]
    fn backoff_doubles_up_to_max_wait() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff_before(0), Duration::from_millis(200));
        assert_eq!(policy.backoff_before(1), Duration::from_millis(400));
        assert_eq!(policy.backoff_before(2), Duration::from_millis(800));
        assert_eq!(policy.backoff_before(40), Duration::from_secs(60));
    }
}
