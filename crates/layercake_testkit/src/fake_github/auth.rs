//! Tokens and GitHub App authentication: what a token may do, the App's JWT
//! checked as GitHub does, installation tokens minted, and the installation's
//! repositories.

use super::*;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write (a `GITHUB_TOKEN` with `pull-requests: write`, an App's).
    Write,
    /// Read only (the `GITHUB_TOKEN` of a workflow run for a pull request from a fork).
    ReadOnly,
}

/// `POST /app/installations/{id}/access_tokens`: checks the App's JWT as GitHub
/// does and mints a token for the installation.
pub(super) fn mint_installation_token(
    state: &mut State,
    request: &Request,
    installation_id: u64,
) -> Reply {
    let Some(jwt) = bearer(&request.headers) else {
        return Reply::message(401, "Requires authentication");
    };
    let app_id = match check_app_jwt(state, jwt) {
        Ok(app_id) => app_id,
        Err(reply) => return reply,
    };
    let Some(installation) = state.installations.get(&installation_id) else {
        return Reply::not_found();
    };
    if installation.app_id != app_id {
        return Reply::not_found();
    }
    let access = installation.access;
    let mut random = [0u8; 18];
    if state.rng.fill(&mut random).is_err() {
        return Reply::message(500, "Server Error");
    }
    let token: String = std::iter::once("ghs_".to_string())
        .chain(random.iter().map(|byte| format!("{byte:02x}")))
        .collect();
    let expires = SystemTime::now() + state.token_ttl;
    state.tokens.insert(
        token.clone(),
        Token {
            access,
            login: APP_BOT_LOGIN.to_string(),
            user_type: "Bot".to_string(),
            expires: Some(expires),
            installation: Some(installation_id),
        },
    );
    state.token_exchanges += 1;
    let write = match access {
        Access::Write => "write",
        Access::ReadOnly => "read",
    };
    let expires_secs = expires
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    Reply::json(
        201,
        json!({
            "token": token,
            "expires_at": iso8601(expires_secs),
            "permissions": {
                "checks": write,
                "contents": "read",
                "metadata": "read",
                "pull_requests": write,
            },
            "repository_selection": "selected",
        }),
    )
}

/// The App a JWT authenticates, or GitHub's refusal: RS256 signed with the App's
/// key, `iat` not in the future (60 s of skew allowed), `exp` in the future and at
/// most 10 minutes after `iat` and after now.
pub(super) fn check_app_jwt(state: &State, jwt: &str) -> Result<u64, Reply> {
    let undecodable = || Reply::message(401, JWT_UNDECODABLE);
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(undecodable());
    };
    let json_part = |part: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        serde_json::from_slice::<Value>(&bytes).ok()
    };
    let (Some(header_json), Some(claims_json)) = (json_part(header), json_part(claims)) else {
        return Err(undecodable());
    };
    if header_json.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(undecodable());
    }
    let app_id = match claims_json.get("iss") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    };
    let Some(app_id) = app_id else {
        return Err(undecodable());
    };
    let Some(key) = state.apps.get(&app_id) else {
        return Err(Reply::message(404, "Integration not found"));
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return Err(undecodable());
    };
    let signing_input = format!("{header}.{claims}");
    if UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signing_input.as_bytes(), &signature)
        .is_err()
    {
        return Err(undecodable());
    }
    let now = epoch_seconds() as i64;
    let Some(iat) = claims_json.get("iat").and_then(Value::as_i64) else {
        return Err(Reply::message(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    };
    if iat > now + 60 {
        return Err(Reply::message(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    let exp = claims_json.get("exp").and_then(Value::as_i64);
    let Some(exp) = exp.filter(|&exp| exp > now) else {
        return Err(Reply::message(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    };
    if exp - iat > 600 || exp > now + 600 {
        return Err(Reply::message(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(app_id)
}

/// `GET /installation/repositories`, for an installation's token.
pub(super) fn installation_repositories(state: &State, request: &Request, user: &User) -> Reply {
    let Some(installation) = user
        .installation
        .and_then(|id| state.installations.get(&id))
    else {
        return Reply::message(
            403,
            "You must authenticate with an installation access token in order to list repositories for an installation.",
        );
    };
    let repos: Vec<Value> = installation
        .repos
        .iter()
        .map(|full_name| repo_json(state, full_name))
        .collect();
    let total = repos.len();
    let base = format!("{}{}/installation/repositories", state.url, request.prefix);
    let (shown, link) = page(request, repos, &base);
    let mut reply = Reply::json(
        200,
        json!({
            "total_count": total,
            "repository_selection": "selected",
            "repositories": shown,
        }),
    );
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// The DER (`RSAPublicKey`, PKCS#1) of an RSA public key in PEM: `PUBLIC KEY`
/// (SubjectPublicKeyInfo) or `RSA PUBLIC KEY`.
pub(super) fn rsa_public_key_der(pem: &str) -> Result<Vec<u8>, String> {
    let (label, der) = pem_block(pem)?;
    match label.as_str() {
        "RSA PUBLIC KEY" => Ok(der),
        "PUBLIC KEY" => {
            // SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING { key } }
            const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
            let invalid = || "not an RSA SubjectPublicKeyInfo".to_string();
            let (0x30, info, _) = der_element(&der).ok_or_else(invalid)? else {
                return Err(invalid());
            };
            let (0x30, algorithm, rest) = der_element(info).ok_or_else(invalid)? else {
                return Err(invalid());
            };
            let (0x06, oid, _) = der_element(algorithm).ok_or_else(invalid)? else {
                return Err(invalid());
            };
            if oid != RSA_ENCRYPTION {
                return Err("not an RSA key".to_string());
            }
            match der_element(rest).ok_or_else(invalid)? {
                (0x03, [0, key @ ..], _) => Ok(key.to_vec()),
                _ => Err(invalid()),
            }
        }
        other => Err(format!("a {other}, not a public key")),
    }
}

/// The tag, contents and what follows of the DER element at the start of `input`.
pub(super) fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |length, &byte| (length << 8) | usize::from(byte))
    };
    if rest.len() < length {
        return None;
    }
    let (contents, after) = rest.split_at(length);
    Some((tag, contents, after))
}

/// The label and decoded contents of the first PEM block of `pem` (text around it
/// is ignored).
pub(super) fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    let start = pem.find("-----BEGIN ").ok_or("not PEM")?;
    let after = &pem[start + "-----BEGIN ".len()..];
    let label_end = after.find("-----").ok_or("not PEM")?;
    let label = after[..label_end].to_string();
    let body = &after[label_end + "-----".len()..];
    let end = body
        .find(&format!("-----END {label}-----"))
        .ok_or("no END line")?;
    let base64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD.decode(base64).map_err(|_| "not base64")?;
    Ok((label, der))
}
