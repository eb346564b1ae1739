use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shipped_stages::shipped_stages;
use layercake_syntax::{Args, Instruction, KeyValue, Keyword, TextRange};
use std::collections::BTreeSet;

/// A secret passed through ARG or ENV.
pub struct SecretInArgOrEnv;

static META: RuleMeta = RuleMeta {
    code: "LC402",
    name: "secret-in-arg-or-env",
    category: Category::Security,
    default_severity: Severity::Error,
    summary: "A secret is passed through `ARG` or `ENV`, where the image keeps it",
    doc: r#"## What it does
Reports an `ARG` or `ENV` whose name says it holds a secret (`TOKEN`,
`PASSWORD`, `PASSWD`, `SECRET`, `API_KEY`, `PRIVATE_KEY`, `*_KEY`,
`CREDENTIALS`, `AUTH`, as `_`-separated words), and any `ARG` default or
`ENV` value shaped like a credential: an AWS access key id (`AKIA…`), a GitHub
token (`ghp_…`, `github_pat_…`), a GitLab token (`glpat-…`), a Slack token
(`xoxb-…`), an npm token (`npm_…`), a Google API key (`AIza…`), a Stripe live
key, a JSON Web Token, or a `-----BEGIN … PRIVATE KEY-----` block.

Names that hold something public or a pointer to the secret are not
reported: `GPG_KEY`/`*_GPG_KEYS` (the public key fingerprints docker-library
images verify downloads with), `PUBLIC_KEY`, names ending in `_FILE`,
`_PATH`, `_DIR`, `_URL`, `_HOST`, `_PORT`, `_NAME`, `_TYPE`, `_USER`, …,
`CACHE_KEY`-like keys, and values that are a path, a URL without a password,
or a boolean. An `ENV` with an empty value is a placeholder and is not
reported.

Where it looks:
- `ARG` in the global scope and in every stage the target needs (builder
  stages too): a build argument's value is written into the image history of
  each later `RUN` of that stage (`RUN |1 NPM_TOKEN=… /bin/sh -c …` in
  `docker history`), and into provenance attestations, which
  `docker/build-push-action` attaches with `mode=max` to images of public
  repositories. A stage `ARG NAME` that only brings a reported global ARG into
  scope is not reported again.
- `ENV` that copies a variable (`ENV NPM_TOKEN=$NPM_TOKEN`) in the target
  stage and the stages it is built FROM: those ENV values ship in the image
  config. In a builder stage that is only copied from, the ENV does not ship
  and the `ARG` it copies is what gets reported.
- A literal value (an `ENV` value, an `ARG` default) in any stage the target
  needs: it is committed in the Dockerfile itself. Credential-shaped values
  are reported in every stage, even one the target does not need.

## Why is this bad?
Anyone who can pull the image can read its config (`docker inspect`) and its
history (`docker history`), and build arguments also land in provenance
attestations and CI logs. A secret in either is as good as published, and
stays in every copy of the image after it is rotated.

## Example
```dockerfile
FROM node:22-slim
ARG NPM_TOKEN
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
```

## Use instead
```dockerfile
FROM node:22-slim
RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN \
    echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
```
built with `docker build --secret id=npm_token,env=NPM_TOKEN .` (the `env=`
mount option needs Dockerfile syntax 1.10 or later; before that, read
`/run/secrets/npm_token`).

## Fix safety
The fix is display-only: it removes the declaration and adds a secret mount
to the first `RUN` that uses the variable, but the build command must change
too (`--secret` instead of `--build-arg`), and a runtime secret belongs in
the orchestrator (Kubernetes secrets, Docker secrets), not the image.

## Equivalents
hadolint: DL3064 (secrets in ARG/ENV; hadolint 2.15.1 does not parse 47 of
the corpus files, where it misses some). BuildKit checks: `SecretsUsedInArgOrEnv`, which matches
names only (and reports `GPG_KEY`, `*_FILE` and path values too).
"#,
};

/// Words that name a secret.
const SECRET_WORDS: &[&str] = &[
    "token",
    "tokens",
    "password",
    "passwords",
    "passwd",
    "pword",
    "pwd",
    "pass",
    "secret",
    "secrets",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "auth",
    "key",
    "keys",
    "privatekey",
    "accesskey",
    "secretkey",
];

/// A last word that makes the variable about the secret, not the secret.
const QUALIFIERS: &[&str] = &[
    "file",
    "files",
    "path",
    "dir",
    "directory",
    "url",
    "uri",
    "host",
    "hostname",
    "port",
    "endpoint",
    "name",
    "type",
    "method",
    "mode",
    "enabled",
    "enable",
    "disabled",
    "disable",
    "required",
    "version",
    "length",
    "size",
    "algorithm",
    "alg",
    "expiry",
    "expiration",
    "expires",
    "ttl",
    "timeout",
    "header",
    "fingerprint",
    "server",
    "servers",
    "keyserver",
    "prefix",
    "suffix",
    "format",
    "provider",
    "realm",
    "scope",
    "scopes",
    "issuer",
    "audience",
    "user",
    "username",
    "login",
    "location",
    "backend",
    "strategy",
    "plugin",
    "policy",
    "level",
    "keyring",
];

/// A word anywhere that makes a key public.
const PUBLIC_WORDS: &[&str] = &["public", "pub", "gpg", "pgp", "gnupg"];

/// A word before `KEY` that makes it a lookup key, not a secret.
const LOOKUP_KEY_WORDS: &[&str] = &[
    "cache",
    "sort",
    "primary",
    "foreign",
    "partition",
    "index",
    "lookup",
    "routing",
    "idempotency",
];

impl Rule for SecretInArgOrEnv {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let shipped = shipped_stages(ctx.model);
        let mut reported_globals: BTreeSet<String> = BTreeSet::new();
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if !matches!(instruction.keyword, Keyword::Arg | Keyword::Env) {
                continue;
            }
            let Args::KeyValues(pairs) = &instruction.args else {
                continue;
            };
            let stage = ctx.model.stage_of_instruction(index);
            let needed = stage.is_none_or(|s| ctx.model.reaches_target(s));
            let ships = stage.is_some_and(|s| shipped.contains(s));
            let keyword = instruction.keyword.as_str();
            for pair in pairs {
                let name = pair.key.text.as_str();
                let value = pair.value.as_ref().map(|v| unquote(&v.text));
                if let (Some(value), Some(word)) = (value, &pair.value)
                    && let Some(kind) = credential_shape(value)
                {
                    let message = format!(
                        "The value of `{keyword} {name}` looks like {kind}: it is committed in the Dockerfile and kept in the image; revoke it and pass it as a build secret"
                    );
                    let fix = secret_mount_fix(ctx, index, instruction, pair);
                    sink.report(word.range, message, Some(fix));
                    continue;
                }
                if !needed || !looks_like_secret_name(name) {
                    continue;
                }
                let message = match (instruction.keyword, value) {
                    (Keyword::Arg, None) => {
                        if stage.is_some() && reported_globals.contains(name) {
                            continue;
                        }
                        if stage.is_none() {
                            reported_globals.insert(name.to_string());
                            format!(
                                "`ARG {name}` passes a secret as a build argument: its value is recorded in provenance attestations and, in each stage that declares it again, in the history of every later RUN (`docker history`); use a secret mount"
                            )
                        } else {
                            format!(
                                "`ARG {name}` passes a secret as a build argument: its value is recorded in the history of every later RUN (`docker history`) and in provenance attestations; use a secret mount"
                            )
                        }
                    }
                    (Keyword::Arg, Some(default)) if default.contains('$') => format!(
                        "`ARG {name}` passes a secret as a build argument: its value is recorded in the history of every later RUN (`docker history`) and in provenance attestations; use a secret mount"
                    ),
                    (Keyword::Arg, Some(default)) => {
                        if is_harmless_value(default) {
                            continue;
                        }
                        format!(
                            "`ARG {name}` has a secret default committed in the Dockerfile, and build-argument values are recorded in the history of every later RUN and in provenance attestations; use a secret mount"
                        )
                    }
                    (_, value) => {
                        let value = value.unwrap_or("");
                        if is_harmless_value(value) {
                            continue;
                        }
                        if !value.contains('$') {
                            format!(
                                "`ENV {name}` hard-codes a secret in the Dockerfile and in the image config, where anyone who can pull the image reads it (`docker inspect`); pass it at run time or as a build secret"
                            )
                        } else if ships {
                            format!(
                                "`ENV {name}` stores a secret in the shipped image config, where anyone who can pull the image reads it (`docker inspect`); pass it at run time or as a build secret"
                            )
                        } else {
                            continue;
                        }
                    }
                };
                let fix = secret_mount_fix(ctx, index, instruction, pair);
                sink.report(pair.key.range, message, Some(fix));
            }
        }
    }
}

fn unquote(text: &str) -> &str {
    let text = text.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

/// Whether a name says it holds a secret, judged on its `_`-separated words.
pub(crate) fn looks_like_secret_name(name: &str) -> bool {
    let words: Vec<String> = name
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    if words.iter().any(|w| PUBLIC_WORDS.contains(&w.as_str())) {
        return false;
    }
    if QUALIFIERS.contains(&last.as_str()) {
        return false;
    }
    let mut secret = false;
    for (i, word) in words.iter().enumerate() {
        if !SECRET_WORDS.contains(&word.as_str()) {
            continue;
        }
        let lookup_key = matches!(word.as_str(), "key" | "keys")
            && i > 0
            && words
                .get(i - 1)
                .is_some_and(|w| LOOKUP_KEY_WORDS.contains(&w.as_str()));
        if !lookup_key {
            secret = true;
        }
    }
    secret
}

/// A value that cannot hold a secret: empty, a boolean, a path, or a URL
/// without a password.
fn is_harmless_value(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() {
        return true;
    }
    if matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "0" | "1" | "none" | "null"
    ) {
        return true;
    }
    if value.starts_with('/') || value.starts_with("./") || value.starts_with("~/") {
        return true;
    }
    if let Some((_, rest)) = value.split_once("://") {
        // A URL is harmless unless it carries `user:password@`.
        let authority = rest.split('/').next().unwrap_or(rest);
        return !authority
            .split_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    }
    false
}

/// What a literal value looks like, if it looks like a credential.
pub(crate) fn credential_shape(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    let bytes = value.as_bytes();
    for i in 0..bytes.len() {
        if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &bytes[i..];
        let run = |from: usize, allowed: &dyn Fn(u8) -> bool| {
            rest.get(from..)
                .map_or(0, |tail| tail.iter().take_while(|&&b| allowed(b)).count())
        };
        let alnum = |b: u8| b.is_ascii_alphanumeric();
        let token_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        let shape = if (rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA"))
            && run(4, &|b| b.is_ascii_uppercase() || b.is_ascii_digit()) >= 16
        {
            Some("an AWS access key id")
        } else if rest.len() > 4
            && rest.starts_with(b"gh")
            && b"pousr".contains(&rest[2])
            && rest[3] == b'_'
            && run(4, &alnum) >= 36
            || rest.starts_with(b"github_pat_") && run(11, &token_char) >= 22
        {
            Some("a GitHub token")
        } else if rest.starts_with(b"glpat-") && run(6, &token_char) >= 20 {
            Some("a GitLab token")
        } else if rest.len() > 5
            && rest.starts_with(b"xox")
            && b"baprs".contains(&rest[3])
            && rest[4] == b'-'
            && run(5, &|b| b.is_ascii_alphanumeric() || b == b'-') >= 10
        {
            Some("a Slack token")
        } else if rest.starts_with(b"npm_") && run(4, &alnum) >= 36 {
            Some("an npm token")
        } else if rest.starts_with(b"AIza") && run(4, &token_char) >= 35 {
            Some("a Google API key")
        } else if rest.starts_with(b"sk_live_") && run(8, &alnum) >= 20 {
            Some("a Stripe secret key")
        } else if is_jwt(rest) {
            Some("a JSON Web Token")
        } else {
            None
        };
        if shape.is_some() {
            return shape;
        }
    }
    None
}

/// `eyJ…` `.` `eyJ…`: a JSON Web Token's header and payload.
fn is_jwt(text: &[u8]) -> bool {
    let segment = |from: usize| {
        let tail = text.get(from..).unwrap_or(&[]);
        if !tail.starts_with(b"eyJ") {
            return None;
        }
        let len = tail
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            .count();
        (len >= 10).then_some(len)
    };
    segment(0)
        .is_some_and(|header| text.get(header) == Some(&b'.') && segment(header + 1).is_some())
}

/// A display-only sketch: drop the declaration, mount the secret into the
/// first RUN that uses it.
fn secret_mount_fix(
    ctx: &LintContext<'_>,
    index: usize,
    instruction: &Instruction,
    pair: &KeyValue,
) -> Fix {
    let name = pair.key.text.as_str();
    let id = name.to_ascii_lowercase();
    let mount = format!("--mount=type=secret,id={id},env={name}");
    let mut edits = Vec::new();
    let single = matches!(&instruction.args, Args::KeyValues(pairs) if pairs.len() == 1);
    if single {
        let start = ctx
            .line_index
            .line_start(ctx.line_of(instruction.range.start()));
        let end = ctx.source[instruction.range.end()..]
            .find('\n')
            .map_or(ctx.source.len(), |i| instruction.range.end() + i + 1);
        edits.push(Edit {
            range: TextRange::new(start, end),
            replacement: String::new(),
        });
    } else {
        edits.push(Edit {
            range: pair.range,
            replacement: String::new(),
        });
    }
    let stage = ctx.model.stage_of_instruction(index);
    let user = ctx
        .dockerfile
        .instructions
        .iter()
        .enumerate()
        .skip(index + 1)
        .filter(|(i, _)| stage.is_none() || ctx.model.stage_of_instruction(*i) == stage)
        .find(|(_, i)| {
            i.keyword == Keyword::Run && {
                let text = i.range.slice(ctx.source);
                text.contains(&format!("${name}")) || text.contains(&format!("${{{name}"))
            }
        });
    if let Some((_, run)) = user {
        edits.push(Edit {
            range: TextRange::empty(run.keyword_word.range.end()),
            replacement: format!(" {mount}"),
        });
    }
    Fix {
        description: format!(
            "Pass `{name}` as a build secret: `RUN {mount} …`, built with `docker build --secret id={id},env={name}`"
        ),
        edits,
        applicability: Applicability::DisplayOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_names_by_their_words() {
        for name in [
            "NPM_TOKEN",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "PRIVATE_KEY",
            "SECRET_KEY_BASE",
            "BASIC_AUTH",
            "GOOGLE_CREDENTIALS",
            "MYSQL_ROOT_PASSWORD",
            "auth_token",
        ] {
            assert!(looks_like_secret_name(name), "{name}");
        }
        for name in [
            "GPG_KEY",
            "GPG_KEYS",
            "PYTHON_GPG_KEY",
            "PUBLIC_KEY",
            "POSTGRES_PASSWORD_FILE",
            "KEY_PATH",
            "AUTH_URL",
            "TOKEN_TTL",
            "CACHE_KEY",
            "MONKEY",
            "AUTHOR",
            "PASSENGER_VERSION",
            "NODE_VERSION",
        ] {
            assert!(!looks_like_secret_name(name), "{name}");
        }
    }

    #[test]
    fn recognises_credential_shapes() {
        assert_eq!(
            credential_shape("AKIAIOSFODNN7EXAMPLE"),
            Some("an AWS access key id")
        );
        assert_eq!(
            credential_shape("ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            Some("a GitHub token")
        );
        assert_eq!(
            credential_shape("xoxb-123456789012-abcdefgh"),
            Some("a Slack token")
        );
        assert_eq!(
            credential_shape("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"),
            Some("a JSON Web Token")
        );
        assert_eq!(
            credential_shape("-----BEGIN OPENSSH PRIVATE KEY-----\\nabc"),
            Some("a private key")
        );
        assert_eq!(
            credential_shape("B42F6819007F00F88E364FD4036A9C25BF357DD4"),
            None
        );
        assert_eq!(credential_shape("22.11.0"), None);
        assert_eq!(credential_shape("XAKIAIOSFODNN7EXAMPLE"), None);
    }
}
