//! Authenticating as a GitHub App: a JWT signed with the App's private key
//! (RS256), exchanged for an installation's token, which is cached until shortly
//! before it expires.
//!
//! The JWT is made here with `ring` (already the TLS stack's cryptography): its
//! header and claims are fixed, so the JSON Web Signature is a few lines, and no
//! second RSA implementation is linked.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{Method, Uri};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Deserialize;

use crate::GitHub;
use crate::error::GitHubError;
use crate::retry::RetryPolicy;
use crate::time::parse_timestamp;
use crate::transport::{HyperClient, Transport, hyper_client, parse_api_url};

/// How far back a JWT's `iat` is set, for clocks a little ahead of GitHub's
/// (GitHub's advice).
const JWT_BACKDATE: Duration = Duration::from_secs(60);

/// How long a JWT is valid from now; GitHub refuses more than 10 minutes, and
/// 9 leaves a minute for a clock behind GitHub's.
const JWT_LIFETIME: Duration = Duration::from_secs(9 * 60);

/// An installation token is used until this long before it expires, so a token
/// handed out is good for at least this long.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A GitHub App's identity: its id and its private key.
#[derive(Clone)]
pub struct AppCredentials {
    /// The App's id (the App's settings page shows it as "App ID").
    pub app_id: u64,
    /// The App's private key, PEM: `-----BEGIN RSA PRIVATE KEY-----` as GitHub
    /// hands it out (PKCS#1), or `-----BEGIN PRIVATE KEY-----` (PKCS#8).
    pub private_key_pem: String,
}

impl fmt::Debug for AppCredentials {
    /// The id; never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

impl AppCredentials {
    /// The App `app_id` with the private key in the PEM file at `path`, checked to
    /// be an RSA private key. Errors name the file, never its contents.
    pub fn from_pem_file(app_id: u64, path: &Path) -> Result<AppCredentials, GitHubError> {
        let config = |message: String| GitHubError::Config { message };
        let private_key_pem = std::fs::read_to_string(path).map_err(|error| {
            config(format!(
                "cannot read the GitHub App's private key file {}: {error}",
                path.display()
            ))
        })?;
        parse_private_key(&private_key_pem).map_err(|reason| {
            config(format!(
                "the GitHub App's private key file {} is not usable: {reason}",
                path.display()
            ))
        })?;
        Ok(AppCredentials {
            app_id,
            private_key_pem,
        })
    }
}

/// An installation access token and when it expires (an hour after it was made).
#[derive(Clone, PartialEq, Eq)]
pub struct InstallationToken {
    /// The token (`ghs_…`): a secret, sent as `Authorization: Bearer …` or as the
    /// password of `https://x-access-token:TOKEN@github.com/owner/repo.git`.
    pub token: String,
    /// When GitHub stops accepting it.
    pub expires_at: SystemTime,
}

impl fmt::Debug for InstallationToken {
    /// The expiry; never the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallationToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl InstallationToken {
    /// Whether it is still good for [`TOKEN_REFRESH_MARGIN`] at `now`.
    fn fresh_at(&self, now: SystemTime) -> bool {
        now.checked_add(TOKEN_REFRESH_MARGIN)
            .is_some_and(|later| later < self.expires_at)
    }
}

/// A GitHub App: it signs JWTs and turns them into installation tokens, cached per
/// installation. Cheap to clone; clones share the cache and the connections.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

struct AppInner {
    app_id: u64,
    key: RsaKeyPair,
    rng: SystemRandom,
    base: Uri,
    policy: RetryPolicy,
    client: HyperClient,
    /// One slot per installation; its lock is held while a token is made, so
    /// callers that find it stale at once wait for one exchange and share it.
    installations: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<Option<Installation>>>>>,
}

/// A cached token with the client that sends it.
struct Installation {
    token: InstallationToken,
    client: GitHub,
}

impl fmt::Debug for App {
    /// The App's id and API; never the key or a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("app_id", &self.inner.app_id)
            .field("api_url", &self.inner.base.to_string())
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct WireAccessToken {
    token: String,
    expires_at: String,
}

impl App {
    /// The App of `credentials` on the API at `api_url` (as for [`GitHub::new`]).
    /// Nothing is sent yet; the key is checked to be an RSA private key.
    pub fn new(
        api_url: &str,
        credentials: AppCredentials,
        policy: RetryPolicy,
    ) -> Result<App, GitHubError> {
        let config = |message: String| GitHubError::Config { message };
        if credentials.app_id == 0 {
            return Err(config(
                "the GitHub App id is 0; it is the App's \"App ID\"".to_string(),
            ));
        }
        let key = parse_private_key(&credentials.private_key_pem).map_err(|reason| {
            config(format!(
                "the GitHub App's private key is not usable: {reason}"
            ))
        })?;
        let (base, https) = parse_api_url(api_url)?;
        let client = hyper_client(https, policy)?;
        Ok(App {
            inner: Arc::new(AppInner {
                app_id: credentials.app_id,
                key,
                rng: SystemRandom::new(),
                base,
                policy,
                client,
                installations: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The App's id.
    pub fn app_id(&self) -> u64 {
        self.inner.app_id
    }

    /// A JWT that authenticates as the App for 9 minutes: RS256, `iat` a minute
    /// ago (for a clock ahead of GitHub's), `exp` 9 minutes ahead, `iss` the App's
    /// id.
    pub fn jwt(&self) -> Result<String, GitHubError> {
        self.jwt_at(SystemTime::now())
    }

    fn jwt_at(&self, now: SystemTime) -> Result<String, GitHubError> {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let claims = serde_json::json!({
            "iat": now.saturating_sub(JWT_BACKDATE).as_secs(),
            "exp": (now + JWT_LIFETIME).as_secs(),
            "iss": self.inner.app_id,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.inner.key.public().modulus_len()];
        self.inner
            .key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.inner.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| GitHubError::Config {
                message: "the GitHub App's JWT could not be signed with its private key"
                    .to_string(),
            })?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// A token for installation `installation_id`: the cached one while it is good
    /// for [`TOKEN_REFRESH_MARGIN`] more, else a new one from
    /// `POST /app/installations/{id}/access_tokens`. Concurrent callers for one
    /// installation share one exchange.
    ///
    /// A `401` (the key is not the App's, a wrong App id, a clock far off) is
    /// [`GitHubError::Unauthorized`], and an unknown installation
    /// [`GitHubError::NotFound`], each with what to check.
    pub async fn installation_token(
        &self,
        installation_id: u64,
    ) -> Result<InstallationToken, GitHubError> {
        self.installation(installation_id)
            .await
            .map(|(token, _)| token)
    }

    /// A client that acts as installation `installation_id`, with its token from
    /// the cache (see [`App::installation_token`]). Take a new one for each piece
    /// of work rather than keeping one: a kept client's token expires within the
    /// hour.
    pub async fn installation_client(&self, installation_id: u64) -> Result<GitHub, GitHubError> {
        self.installation(installation_id)
            .await
            .map(|(_, client)| client)
    }

    async fn installation(
        &self,
        installation_id: u64,
    ) -> Result<(InstallationToken, GitHub), GitHubError> {
        let slot = {
            let mut installations = self
                .inner
                .installations
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(installations.entry(installation_id).or_default())
        };
        let mut cached = slot.lock().await;
        if let Some(installation) = cached.as_ref()
            && installation.token.fresh_at(SystemTime::now())
        {
            return Ok((installation.token.clone(), installation.client.clone()));
        }
        let token = self.exchange(installation_id).await?;
        let client = GitHub::from_transport(Transport::with_client(
            self.inner.base.clone(),
            self.inner.policy,
            self.inner.client.clone(),
            &token.token,
        )?);
        *cached = Some(Installation {
            token: token.clone(),
            client: client.clone(),
        });
        Ok((token, client))
    }

    /// `POST /app/installations/{id}/access_tokens` with a new JWT. Repeating it
    /// after an uncertain failure only makes another token, so it is retried like
    /// a read.
    async fn exchange(&self, installation_id: u64) -> Result<InstallationToken, GitHubError> {
        let transport = Transport::with_client(
            self.inner.base.clone(),
            self.inner.policy,
            self.inner.client.clone(),
            &self.jwt()?,
        )?;
        let path = format!("/app/installations/{installation_id}/access_tokens");
        let app_id = self.inner.app_id;
        let reply = transport
            .send_repeatable(Method::POST, &path, None::<&()>)
            .await
            .map_err(|error| match error {
                GitHubError::Unauthorized { message } => GitHubError::Unauthorized {
                    message: format!(
                        "{message} (GitHub App {app_id} asking for a token for installation {installation_id}: check the App id, that the private key is one of this App's current keys, and this machine's clock)"
                    ),
                },
                GitHubError::NotFound { message } => GitHubError::NotFound {
                    message: format!(
                        "{message} (GitHub App {app_id} has no installation {installation_id}, or the App id is wrong)"
                    ),
                },
                other => other,
            })?;
        let wire: WireAccessToken =
            serde_json::from_str(&reply.body).map_err(|error| GitHubError::Transport {
                message: format!("unexpected answer to POST {path}: {error}"),
            })?;
        let expires_at =
            parse_timestamp(&wire.expires_at).ok_or_else(|| GitHubError::Transport {
                message: format!(
                    "unexpected answer to POST {path}: `expires_at` {:?} is not a timestamp",
                    wire.expires_at
                ),
            })?;
        Ok(InstallationToken {
            token: wire.token,
            expires_at,
        })
    }
}

/// An RSA private key from PEM, PKCS#1 or PKCS#8. The reason it is refused never
/// quotes the key.
fn parse_private_key(pem: &str) -> Result<RsaKeyPair, String> {
    let (label, der) = pem_block(pem)?;
    let parsed = match label.as_str() {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "ENCRYPTED PRIVATE KEY" => {
            return Err(
                "it is encrypted; GitHub's keys are not, so use the file GitHub gave".into(),
            );
        }
        other => {
            return Err(format!(
                "it holds a {other}, not an RSA private key (-----BEGIN RSA PRIVATE KEY-----)"
            ));
        }
    };
    parsed.map_err(|rejected| format!("the RSA key is rejected ({rejected})"))
}

/// The label and the decoded contents of the first PEM block of `pem`.
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    const NOT_PEM: &str = "it is not PEM (no -----BEGIN …----- line)";
    let start = pem.find("-----BEGIN ").ok_or(NOT_PEM)?;
    let after_begin = &pem[start + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----").ok_or(NOT_PEM)?;
    let label = after_begin[..label_end].trim().to_string();
    let body = &after_begin[label_end + "-----".len()..];
    let end_line = format!("-----END {label}-----");
    let end = body
        .find(&end_line)
        .ok_or_else(|| format!("its {label} block has no {end_line} line"))?;
    let body = &body[..end];
    if body.contains("Proc-Type:") {
        return Err("it is encrypted; GitHub's keys are not, so use the file GitHub gave".into());
    }
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(base64)
        .map_err(|_| format!("its {label} block is not valid base64"))?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_read_and_errors_quote_nothing() {
        let pem = "comment line\n-----BEGIN TEST-----\naGVs\nbG8=\n-----END TEST-----\n";
        assert_eq!(
            pem_block(pem).unwrap(),
            ("TEST".to_string(), b"hello".to_vec())
        );
        assert!(pem_block("secret words").unwrap_err().contains("not PEM"));
        assert!(
            pem_block("-----BEGIN X-----\nAAAA\n")
                .unwrap_err()
                .contains("no -----END X----- line")
        );
        let bad = pem_block("-----BEGIN X-----\nsecret!\n-----END X-----").unwrap_err();
        assert!(
            bad.contains("not valid base64") && !bad.contains("secret"),
            "{bad}"
        );
        let cert =
            parse_private_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .err()
                .unwrap();
        assert!(cert.contains("holds a CERTIFICATE"), "{cert}");
        let junk = parse_private_key(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        )
        .err()
        .unwrap();
        assert!(junk.contains("rejected"), "{junk}");
    }

    #[test]
    fn tokens_are_fresh_until_five_minutes_before_expiry() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let token = |secs| InstallationToken {
            token: "ghs_secret".into(),
            expires_at: now + Duration::from_secs(secs),
        };
        assert!(token(3_600).fresh_at(now));
        assert!(token(301).fresh_at(now));
        assert!(!token(300).fresh_at(now));
        assert!(!token(240).fresh_at(now));
        let shown = format!("{:?}", token(60));
        assert!(!shown.contains("ghs_secret"), "{shown}");
    }

    #[test]
    fn apps_can_be_shared_between_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<App>();
        shareable::<InstallationToken>();
    }

    #[test]
    fn credentials_never_show_the_key() {
        let credentials = AppCredentials {
            app_id: 7,
            private_key_pem: "-----BEGIN RSA PRIVATE KEY-----\nsecret\n".into(),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains('7') && !shown.contains("secret"), "{shown}");
        let error = App::new("http://127.0.0.1:9", credentials, RetryPolicy::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("private key") && !error.contains("secret"),
            "{error}"
        );
    }
}
