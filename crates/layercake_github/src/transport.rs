//! Sending one request to GitHub with the retry rules of the crate documentation,
//! and following pagination links. Requests go through an octocrab client with a
//! service stack of our own: a hyper client with rustls, octocrab's base-URI and
//! auth-header layers, and exactly one `User-Agent`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use http::header::{ACCEPT, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, StatusCode, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use octocrab::service::middleware::auth_header::AuthHeaderLayer;
use octocrab::service::middleware::base_uri::BaseUriLayer;
use octocrab::service::middleware::extra_headers::ExtraHeadersLayer;
use octocrab::{AuthState, OctoBody, Octocrab, OctocrabBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ErrorBody, GitHubError};
use crate::retry::{RetryPolicy, rate_limit_wait};

/// No pull request has this many pages of anything (GitHub lists at most 3,000
/// files); more means a link loop.
const MAX_PAGES: usize = 1_000;

/// A connection that cannot be made in this long will not be made.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) type HyperClient = Client<HttpsConnector<HttpConnector>, OctoBody>;

/// The shared half of a [`crate::GitHub`].
pub(crate) struct Transport {
    base: Uri,
    policy: RetryPolicy,
    client: HyperClient,
    auth: HeaderValue,
    /// Made on the first request: octocrab spawns its service's worker on the tokio
    /// runtime it is made in, so it is made where requests run.
    octocrab: OnceLock<Octocrab>,
}

/// A 2xx answer, read whole.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// What one attempt came to.
enum Attempt {
    /// An answer, read whole.
    Answered(Reply),
    /// The connection could not be made: nothing reached GitHub.
    NotSent(String),
    /// The request was (or may have been) sent and no whole answer came back.
    Lost(String),
}

/// A failure the retry rules decide about.
enum Failure {
    NotSent(String),
    Lost(String),
    Server { status: u16, message: String },
}

impl Transport {
    pub(crate) fn new(
        api_url: &str,
        token: &str,
        policy: RetryPolicy,
    ) -> Result<Transport, GitHubError> {
        let (base, https) = parse_api_url(api_url)?;
        let client = hyper_client(https, policy)?;
        Transport::with_client(base, policy, client, token)
    }

    /// A transport for `token` over connections another one opened (an App's
    /// installations share the App's).
    pub(crate) fn with_client(
        base: Uri,
        policy: RetryPolicy,
        client: HyperClient,
        token: &str,
    ) -> Result<Transport, GitHubError> {
        let config = |message: String| GitHubError::Config { message };
        let token = token.trim();
        if token.is_empty() {
            return Err(config("the GitHub token is empty".to_string()));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            config("the GitHub token has characters an HTTP header cannot carry".to_string())
        })?;
        auth.set_sensitive(true);
        Ok(Transport {
            client,
            base,
            policy,
            auth,
            octocrab: OnceLock::new(),
        })
    }

    pub(crate) fn base(&self) -> &Uri {
        &self.base
    }

    pub(crate) fn policy(&self) -> RetryPolicy {
        self.policy
    }

    fn octocrab(&self) -> &Octocrab {
        self.octocrab.get_or_init(|| {
            let headers = vec![
                (USER_AGENT, HeaderValue::from_static("layercake")),
                (
                    ACCEPT,
                    HeaderValue::from_static("application/vnd.github+json"),
                ),
            ];
            // Outermost last: the auth header is added while the URI is still
            // relative (or already names the API's host), then the base is put in.
            let built = OctocrabBuilder::new_empty()
                .with_service(self.client.clone())
                .with_layer(&ExtraHeadersLayer::new(Arc::new(headers)))
                .with_layer(&BaseUriLayer::new(self.base.clone()))
                .with_layer(&AuthHeaderLayer::new(
                    Some(self.auth.clone()),
                    self.base.clone(),
                    self.base.clone(),
                ))
                .with_auth(AuthState::None)
                .build();
            match built {
                Ok(octocrab) => octocrab,
                Err(never) => match never {},
            }
        })
    }

    /// Sends `method target` (a path below the API root, or a link GitHub gave) with
    /// the crate's retry rules, and returns a 2xx answer or the error.
    pub(crate) async fn send<B: Serialize + Sync + ?Sized>(
        &self,
        method: Method,
        target: &str,
        body: Option<&B>,
    ) -> Result<Reply, GitHubError> {
        // POST creates: repeating one that may have been applied could duplicate a
        // comment or a review. GET, PATCH (a whole new body) and DELETE are safe to
        // repeat.
        let idempotent = method != Method::POST;
        self.send_with(method, target, body, idempotent).await
    }

    /// [`Transport::send`] for a request the caller knows may be repeated, whatever
    /// its method (a `POST` that only mints a token).
    pub(crate) async fn send_repeatable<B: Serialize + Sync + ?Sized>(
        &self,
        method: Method,
        target: &str,
        body: Option<&B>,
    ) -> Result<Reply, GitHubError> {
        self.send_with(method, target, body, true).await
    }

    async fn send_with<B: Serialize + Sync + ?Sized>(
        &self,
        method: Method,
        target: &str,
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<Reply, GitHubError> {
        let mut retries = 0;
        // An attempt of this request may have taken effect.
        let mut uncertain = false;
        loop {
            let attempt = match tokio::time::timeout(
                self.policy.timeout,
                self.attempt(&method, target, body),
            )
            .await
            {
                Ok(attempt) => attempt,
                Err(_) => Attempt::Lost(format!(
                    "no answer within {} s",
                    self.policy.timeout.as_secs_f32()
                )),
            };
            let failure = match attempt {
                Attempt::Answered(reply) if reply.status.is_success() => return Ok(reply),
                Attempt::Answered(reply) => {
                    let status = reply.status.as_u16();
                    let error = ErrorBody::parse(&reply.body);
                    let message = error.message.as_deref().unwrap_or_default();
                    if let Some(wait) =
                        rate_limit_wait(status, &reply.headers, message, SystemTime::now())
                    {
                        // GitHub refused the request: nothing happened, so any
                        // method may be repeated.
                        if wait > self.policy.max_wait || retries >= self.policy.max_retries {
                            return Err(GitHubError::RateLimited { wait });
                        }
                        retries += 1;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if method == Method::DELETE && status == 404 && uncertain {
                        // An earlier attempt deleted it.
                        return Ok(Reply {
                            status: StatusCode::NO_CONTENT,
                            headers: reply.headers,
                            body: String::new(),
                        });
                    }
                    if !reply.status.is_server_error() {
                        return Err(error_for(status, &error, reply.status));
                    }
                    Failure::Server {
                        status,
                        message: error.message_or(reason(reply.status)),
                    }
                }
                Attempt::NotSent(message) => Failure::NotSent(message),
                Attempt::Lost(message) => Failure::Lost(message),
            };
            let retryable = idempotent || matches!(failure, Failure::NotSent(_));
            if !retryable {
                let what = match failure {
                    Failure::Server { status, message } => {
                        format!("GitHub answered {status} ({message})")
                    }
                    Failure::Lost(message) | Failure::NotSent(message) => message,
                };
                return Err(GitHubError::Ambiguous {
                    message: format!(
                        "{method} {} was sent, then: {what}; it may or may not have taken effect",
                        path_of(target)
                    ),
                });
            }
            if retries >= self.policy.max_retries {
                return Err(match failure {
                    Failure::Server { status, message } => GitHubError::Http { status, message },
                    Failure::NotSent(message) | Failure::Lost(message) => {
                        GitHubError::Transport { message }
                    }
                });
            }
            uncertain |= !matches!(failure, Failure::NotSent(_));
            tokio::time::sleep(self.policy.backoff_before(retries)).await;
            retries += 1;
        }
    }

    async fn attempt<B: Serialize + Sync + ?Sized>(
        &self,
        method: &Method,
        target: &str,
        body: Option<&B>,
    ) -> Attempt {
        let octocrab = self.octocrab();
        let target = target.to_string();
        let sent = if *method == Method::GET {
            octocrab._get(target).await
        } else if *method == Method::POST {
            octocrab._post(target, body).await
        } else if *method == Method::PATCH {
            octocrab._patch(target, body).await
        } else if *method == Method::DELETE {
            octocrab._delete(target, body).await
        } else {
            octocrab._put(target, body).await
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let message = error_chain(&error);
                return if never_sent(&error) {
                    Attempt::NotSent(message)
                } else {
                    Attempt::Lost(message)
                };
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        match octocrab.body_to_string(response).await {
            Ok(body) => Attempt::Answered(Reply {
                status,
                headers,
                body,
            }),
            // A refusal is a refusal even when its explanation cannot be read.
            Err(_) if status.is_client_error() => Attempt::Answered(Reply {
                status,
                headers,
                body: String::new(),
            }),
            Err(error) => Attempt::Lost(format!(
                "the answer ({status}) could not be read: {}",
                error_chain(&error)
            )),
        }
    }

    /// Every item of every page, following GitHub's `Link: <…>; rel="next"`.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        first: String,
    ) -> Result<Vec<T>, GitHubError> {
        self.get_all_in(first, |page: Vec<T>| page).await
    }

    /// Every item of every page, where a page is a `P` (e.g. an object wrapping the
    /// list) that `items` takes the list out of.
    pub(crate) async fn get_all_in<P: DeserializeOwned, T>(
        &self,
        first: String,
        items_of: impl Fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, GitHubError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(target) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(GitHubError::Transport {
                    message: format!(
                        "more than {MAX_PAGES} pages at {}; GitHub's links loop",
                        path_of(&target)
                    ),
                });
            }
            let reply = self.send(Method::GET, &target, None::<&()>).await?;
            let page: P = decode(&Method::GET, &target, &reply)?;
            items.extend(items_of(page));
            next = next_link(&reply.headers)
                .map(|link| self.same_origin(link))
                .transpose()?;
        }
        Ok(items)
    }

    /// A link GitHub gave, if it points at the API this client talks to (the auth
    /// header goes nowhere else).
    fn same_origin(&self, link: String) -> Result<String, GitHubError> {
        let parsed: Uri = link.parse().map_err(|_| GitHubError::Transport {
            message: format!("GitHub's next-page link `{link}` is not a URL"),
        })?;
        if parsed.authority().is_none() && link.starts_with('/') {
            return Ok(link);
        }
        if origin(&parsed).is_some() && origin(&parsed) == origin(&self.base) {
            Ok(link)
        } else {
            Err(GitHubError::Transport {
                message: format!(
                    "GitHub's next-page link `{link}` points away from the API at {}",
                    self.base
                ),
            })
        }
    }
}

/// The body of a 2xx answer as `T`. A `POST` whose answer cannot be read did take
/// effect, but the caller cannot know what it made: that is ambiguous.
pub(crate) fn decode<T: DeserializeOwned>(
    method: &Method,
    target: &str,
    reply: &Reply,
) -> Result<T, GitHubError> {
    serde_json::from_str(&reply.body).map_err(|error| {
        let message = format!(
            "unexpected answer to {method} {} ({}): {error}",
            path_of(target),
            reply.status.as_u16()
        );
        if *method == Method::POST {
            GitHubError::Ambiguous { message }
        } else {
            GitHubError::Transport { message }
        }
    })
}

/// The API's root from `api_url`, checked, and whether it is `https`.
pub(crate) fn parse_api_url(api_url: &str) -> Result<(Uri, bool), GitHubError> {
    let config = |message: String| GitHubError::Config { message };
    let trimmed = api_url.trim().trim_end_matches('/');
    let base: Uri = trimmed
        .parse()
        .map_err(|_| config(format!("the API URL `{trimmed}` is not a URL")))?;
    let https = match base.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(config(format!(
                "the API URL `{trimmed}` is not an http or https URL"
            )));
        }
    };
    match base.authority() {
        None => return Err(config(format!("the API URL `{trimmed}` has no host"))),
        // Not echoed: it would carry a password.
        Some(authority) if authority.as_str().contains('@') => {
            return Err(config(
                "the API URL has a user name or password in it; pass the token instead".to_string(),
            ));
        }
        Some(_) => {}
    }
    if base.query().is_some() {
        return Err(config(format!(
            "the API URL `{trimmed}` has a query; it must be the API's root"
        )));
    }
    Ok((base, https))
}

pub(crate) fn hyper_client(https: bool, policy: RetryPolicy) -> Result<HyperClient, GitHubError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if https {
        // Honors SSL_CERT_FILE and SSL_CERT_DIR, for a GitHub Enterprise Server with
        // its own certificate authority.
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            return Err(GitHubError::Config {
                message: "no root certificates found on this machine to check GitHub's with (install ca-certificates, or set SSL_CERT_FILE)".to_string(),
            });
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| GitHubError::Config {
            message: format!("TLS: {error}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT.min(policy.timeout)));
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

fn error_for(status: u16, body: &ErrorBody, code: StatusCode) -> GitHubError {
    let message = body.message_or(reason(code));
    match status {
        401 => GitHubError::Unauthorized { message },
        403 => GitHubError::Forbidden { message },
        404 => GitHubError::NotFound { message },
        422 => GitHubError::Validation {
            message,
            errors: body.error_lines(),
        },
        _ => GitHubError::Http { status, message },
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("no message")
}

/// Whether the request failed before a connection was made, so GitHub never saw
/// it (hyper's connect errors: refused, DNS, TLS handshake, connect timeout).
fn never_sent(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(hyper) = error.downcast_ref::<hyper_util::client::legacy::Error>() {
            return hyper.is_connect();
        }
        current = error.source();
    }
    false
}

/// An error and its sources, `outer: inner: …`, without repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

/// The path and query of a target, for messages (the host is the API's).
fn path_of(target: &str) -> String {
    target
        .parse::<Uri>()
        .ok()
        .and_then(|uri| uri.path_and_query().map(|pq| pq.as_str().to_string()))
        .unwrap_or_else(|| target.to_string())
}

/// Scheme, lower-case host and port (the scheme's default when not given).
fn origin(uri: &Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Some((scheme, host, port))
}

/// The `rel="next"` URL of the `Link` headers.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(parse_link_header)
        .find(|(_, rels)| rels.iter().any(|rel| rel.eq_ignore_ascii_case("next")))
        .map(|(url, _)| url)
}

/// `<url>; rel="next", <url>; rel="last"` → each URL with its relations (RFC 8288,
/// as much of it as GitHub uses).
fn parse_link_header(value: &str) -> Vec<(String, Vec<String>)> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let Some(after_open) = rest.strip_prefix('<') else {
            break;
        };
        let Some(close) = after_open.find('>') else {
            break;
        };
        let url = after_open[..close].trim().to_string();
        rest = &after_open[close + 1..];
        // The parameters run to the next comma outside quotes.
        let mut quoted = false;
        let mut end = rest.len();
        for (index, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = index;
                    break;
                }
                _ => {}
            }
        }
        let rels = rest[..end]
            .split(';')
            .filter_map(|param| param.split_once('='))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("rel"))
            .flat_map(|(_, value)| {
                value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        links.push((url, rels));
        rest = &rest[end..];
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_next_page() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LINK,
            r#"<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=1>; rel="prev", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel="last""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3")
        );
        let mut last = HeaderMap::new();
        last.insert(
            http::header::LINK,
            r#"<https://x/a?page=1>; rel="first", <https://x/a?page=1>; rel="prev""#
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&last), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn link_parameters_may_be_quoted_with_commas_and_several_rels() {
        let links = parse_link_header(
            r#"<https://x/a?page=2>; title="a, b"; rel="next last",<https://x/a?page=1>;rel=first"#,
        );
        assert_eq!(
            links,
            [
                (
                    "https://x/a?page=2".to_string(),
                    vec!["next".to_string(), "last".to_string()]
                ),
                ("https://x/a?page=1".to_string(), vec!["first".to_string()]),
            ]
        );
        assert!(parse_link_header("garbage").is_empty());
        assert!(parse_link_header("<unterminated").is_empty());
    }

    #[test]
    fn api_urls_are_checked() {
        let policy = RetryPolicy::default();
        let error = |url: &str, token: &str| match Transport::new(url, token, policy) {
            Ok(_) => String::from("accepted"),
            Err(error) => error.to_string(),
        };
        assert_eq!(error("http://127.0.0.1:9/", "t"), "accepted");
        assert!(error("ftp://x", "t").contains("not an http or https URL"));
        assert!(error("not a url", "t").contains("is not"));
        assert!(error("/api/v3", "t").contains("not an http or https URL"));
        let with_password = error("https://user:secret@ghe.example/api/v3", "t");
        assert!(with_password.contains("user name or password"));
        assert!(!with_password.contains("secret"));
        assert!(error("http://x", "").contains("token is empty"));
        let bad_token = error("http://x", "abc\ndef");
        assert!(bad_token.contains("cannot carry"));
        assert!(!bad_token.contains("abc"));
    }

    #[test]
    fn next_links_must_stay_on_the_api_host() {
        let transport = Transport::new(
            "https://GHE.example.com/api/v3",
            "t",
            RetryPolicy::default(),
        );
        let Ok(transport) = transport else {
            // No root certificates on this machine; the http case below covers it.
            return;
        };
        assert!(
            transport
                .same_origin(
                    "https://ghe.example.com:443/api/v3/repositories/1/pulls?page=2".into()
                )
                .is_ok()
        );
        assert!(
            transport
                .same_origin("https://evil.example/api/v3/x?page=2".into())
                .is_err()
        );
        assert!(
            transport
                .same_origin("http://ghe.example.com/api/v3/x?page=2".into())
                .is_err()
        );
        assert!(transport.same_origin("/api/v3/x?page=2".into()).is_ok());
    }

    #[test]
    fn error_statuses_map_to_cases() {
        let body = ErrorBody::parse(r#"{"message":"Bad credentials"}"#);
        assert_eq!(
            error_for(401, &body, StatusCode::UNAUTHORIZED),
            GitHubError::Unauthorized {
                message: "Bad credentials".into()
            }
        );
        let empty = ErrorBody::parse("");
        assert_eq!(
            error_for(404, &empty, StatusCode::NOT_FOUND),
            GitHubError::NotFound {
                message: "Not Found".into()
            }
        );
        assert_eq!(
            error_for(410, &empty, StatusCode::GONE),
            GitHubError::Http {
                status: 410,
                message: "Gone".into()
            }
        );
    }
}
