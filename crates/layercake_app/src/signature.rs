//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, checked in constant
//! time against every configured secret (several, for rotation).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a delivery's signature was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    Missing,
    /// Not `sha256=` and 64 hex digits.
    Malformed,
    /// No configured secret signed this body.
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "missing X-Hub-Signature-256",
            SignatureError::Malformed => {
                "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)"
            }
            SignatureError::Mismatch => "X-Hub-Signature-256 does not match any configured secret",
        })
    }
}

/// Checks `header` (`sha256=<hex>`) against `body` with each of `secrets`.
pub fn verify(
    secrets: &[Vec<u8>],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    // Every secret is tried, so the time taken does not say which one matched.
    let mut matched = false;
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            continue;
        };
        mac.update(body);
        matched |= mac.verify_slice(&expected).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `sha256=<hex>` for `body` signed with `secret` (what GitHub sends in
/// `X-Hub-Signature-256`): for tests and load generators that play GitHub.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for byte in bytes {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" page.
        let secret = b"It's a Secret to Everybody".to_vec();
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(&secret, b"Hello, World!"), header);
        assert_eq!(
            verify(
                std::slice::from_ref(&secret),
                Some(header),
                b"Hello, World!"
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                std::slice::from_ref(&secret),
                Some(header),
                b"Hello, World?"
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(std::slice::from_ref(&secret), None, b""),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(std::slice::from_ref(&secret), Some("sha1=abc"), b""),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&[secret], Some("sha256=zz"), b""),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn any_configured_secret_verifies_for_rotation() {
        let old = b"old".to_vec();
        let new = b"new".to_vec();
        let signed_old = sign(&old, b"body");
        assert_eq!(
            verify(&[new.clone(), old], Some(&signed_old), b"body"),
            Ok(())
        );
        assert_eq!(
            verify(&[new], Some(&signed_old), b"body"),
            Err(SignatureError::Mismatch)
        );
    }
}
