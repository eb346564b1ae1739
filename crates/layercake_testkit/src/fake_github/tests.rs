//! The fake against clients over real HTTP, and its parts alone.

use super::*;
use std::io::{Read, Write};

#[test]
fn hunk_headers_parse_with_and_without_counts() {
    assert_eq!(
        hunk_header("@@ -1,3 +1,4 @@ FROM alpine"),
        Some((1, 3, 1, 4))
    );
    assert_eq!(hunk_header("@@ -5 +5 @@"), Some((5, 1, 5, 1)));
    assert_eq!(hunk_header("@@ -0,0 +1,2 @@"), Some((0, 0, 1, 2)));
    assert_eq!(hunk_header("@@ garbage @@"), None);
    assert_eq!(hunk_header(" context"), None);
}

#[test]
fn lines_are_counted_per_side_from_each_header() {
    let patch = "@@ -1,4 +1,5 @@\n FROM alpine\n-RUN apk add curl\n+RUN apk add --no-cache curl\n+USER app\n COPY . .\n RUN make\n@@ -20,2 +21,3 @@ CMD\n ENV A=1\n+ENV B=2\n ENV C=3";
    let hunks = parse_patch(patch);
    assert_eq!(hunks.len(), 2);
    assert_eq!(hunks[0].right, [1, 2, 3, 4, 5]);
    assert_eq!(hunks[0].left, [1, 2, 3, 4]);
    assert_eq!(hunks[1].right, [21, 22, 23]);
    assert_eq!(hunks[1].left, [20, 21]);
    assert!(hunks[1].text.starts_with("@@ -20,2 +21,3 @@ CMD\n ENV A=1"));
}

#[test]
fn no_newline_markers_are_not_lines() {
    let patch = "@@ -1,2 +1,2 @@\n FROM alpine\n-RUN old\n\\ No newline at end of file\n+RUN new\n\\ No newline at end of file\n";
    let hunks = parse_patch(patch);
    assert_eq!(hunks.len(), 1);
    assert_eq!(hunks[0].right, [1, 2]);
    assert_eq!(hunks[0].left, [1, 2]);
    assert!(review_thread_errors(patch, 2, Side::Right, None).is_empty());
    assert!(!review_thread_errors(patch, 3, Side::Right, None).is_empty());
}

#[test]
fn deleted_lines_are_not_commentable_on_the_right() {
    // Lines 10 and 11 of the base are deleted; only line 10 of head remains.
    let patch = "@@ -10,3 +10,1 @@\n-RUN a\n-RUN b\n RUN c";
    assert!(review_thread_errors(patch, 10, Side::Right, None).is_empty());
    assert_eq!(
        review_thread_errors(patch, 11, Side::Right, None),
        [
            "Pull request review thread line must be part of the diff",
            "Pull request review thread diff hunk can't be blank"
        ]
    );
    assert!(review_thread_errors(patch, 11, Side::Left, None).is_empty());
}

#[test]
fn an_empty_line_inside_a_hunk_is_context() {
    let hunks = parse_patch("@@ -1,3 +1,3 @@\n a\n\n-b\n+c");
    assert_eq!(hunks[0].right, [1, 2, 3]);
    // A trailing newline after the last line adds nothing.
    assert_eq!(parse_patch("@@ -1 +1 @@\n-a\n+b\n")[0].right, [1]);
}

#[test]
fn multi_line_comments_stay_in_one_hunk() {
    let patch = "@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -10,1 +11,2 @@\n x\n+y";
    assert!(review_thread_errors(patch, 3, Side::Right, Some((1, Side::Right))).is_empty());
    assert_eq!(
        review_thread_errors(patch, 12, Side::Right, Some((2, Side::Right))),
        ["Pull request review thread start line must be part of the same hunk as the line."]
    );
    assert_eq!(
        review_thread_errors(patch, 2, Side::Right, Some((2, Side::Right))),
        ["Pull request review thread start line must precede the end line."]
    );
    assert_eq!(
        to_sentence(&review_thread_errors(
            patch,
            40,
            Side::Right,
            Some((1, Side::Right))
        )),
        "Pull request review thread line must be part of the diff, Pull request review thread start line must be part of the same hunk as the line., and Pull request review thread diff hunk can't be blank"
    );
    assert!(!review_thread_errors("", 1, Side::Right, None).is_empty());
}

#[test]
fn timestamps_count_from_2024() {
    assert_eq!(timestamp(0), "2024-01-01T00:00:00Z");
    assert_eq!(timestamp(61), "2024-01-01T00:01:01Z");
    assert_eq!(timestamp(86_400 * 60), "2024-03-01T00:00:00Z");
    assert_eq!(timestamp(86_400 * 366), "2025-01-01T00:00:00Z");
}

/// One HTTP/1.1 request over a plain socket: (status, headers, body).
fn http(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: token {token}\r\n"));
    }
    let body = body.unwrap_or_default();
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn fake_with_pull() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_token("w", Access::Write, "github-actions[bot]", "Bot");
    fake.add_token("r", Access::ReadOnly, "github-actions[bot]", "Bot");
    fake.add_token("other", Access::Write, "octocat", "User");
    fake.add_pull_request("o/r", 1, "head1", "base1");
    fake
}

#[test]
fn tokens_are_checked() {
    let fake = fake_with_pull();
    let (status, _, body) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("nope"), None);
    assert_eq!(status, 401);
    assert!(body.contains("Bad credentials"));
    assert_eq!(
        http(&fake.url(), "GET", "/repos/o/r/pulls/1", None, None).0,
        401
    );
    let (status, head, body) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("r"), None);
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("x-ratelimit-remaining:"));
    let pull: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(pull["head"]["sha"], "head1");
    assert_eq!(pull["base"]["repo"]["full_name"], "o/r");
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/issues/1/comments",
        Some("r"),
        Some(r#"{"body":"x"}"#),
    );
    assert_eq!(status, 403);
    assert!(body.contains(READ_ONLY_MESSAGE));
    assert_eq!(fake.writes(), 0);
    assert_eq!(
        http(&fake.url(), "GET", "/repos/o/r/pulls/2", Some("w"), None).0,
        404
    );
    assert_eq!(http(&fake.url(), "GET", "/nowhere", Some("w"), None).0, 404);
}

#[test]
fn lists_are_paginated_with_absolute_links() {
    let fake = fake_with_pull();
    for n in 0..35 {
        let body = format!(r#"{{"body":"comment {n}"}}"#);
        assert_eq!(
            http(
                &fake.url(),
                "POST",
                "/repos/o/r/issues/1/comments",
                Some("w"),
                Some(&body)
            )
            .0,
            201
        );
    }
    let (status, head, body) = http(
        &fake.url(),
        "GET",
        "/repos/o/r/issues/1/comments",
        Some("w"),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 30);
    let next = format!(
        "<{}/repositories/100/issues/1/comments?page=2>; rel=\"next\"",
        fake.url()
    );
    assert!(head.contains(&next), "{head}");
    let (_, head, body) = http(
        &fake.url(),
        "GET",
        "/repositories/100/issues/1/comments?per_page=30&page=2",
        Some("w"),
        None,
    );
    let page: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(page.len(), 5);
    assert_eq!(page[4]["body"], "comment 34");
    assert!(
        head.contains("rel=\"prev\"") && !head.contains("rel=\"next\""),
        "{head}"
    );
    let (_, head, body) = http(
        &fake.url(),
        "GET",
        "/repos/o/r/issues/1/comments?per_page=100",
        Some("w"),
        None,
    );
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 35);
    assert!(!head.contains("link:"));
}

#[test]
fn comments_are_limited_and_only_their_author_edits_them() {
    let fake = fake_with_pull();
    let long = format!(r#"{{"body":"{}"}}"#, "é".repeat(MAX_BODY_CHARS + 1));
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/issues/1/comments",
        Some("w"),
        Some(&long),
    );
    assert_eq!(status, 422);
    assert!(
        body.contains("body is too long (maximum is 65536 characters)"),
        "{body}"
    );
    // Characters count, not bytes: 65,536 two-byte characters are fine.
    let limit = format!(r#"{{"body":"{}"}}"#, "é".repeat(MAX_BODY_CHARS));
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/issues/1/comments",
        Some("w"),
        Some(&limit),
    );
    assert_eq!(status, 201);
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap();
    let path = format!("/repos/o/r/issues/comments/{id}");
    assert_eq!(
        http(
            &fake.url(),
            "PATCH",
            &path,
            Some("other"),
            Some(r#"{"body":"mine"}"#)
        )
        .0,
        403
    );
    assert_eq!(
        http(
            &fake.url(),
            "PATCH",
            &path,
            Some("w"),
            Some(r#"{"body":"edited"}"#)
        )
        .0,
        200
    );
    let comments = fake.issue_comments("o/r", 1);
    assert_eq!(comments[0].body, "edited");
    assert!(comments[0].updated > comments[0].created);
    assert_eq!(http(&fake.url(), "DELETE", &path, Some("w"), None).0, 204);
    assert!(fake.issue_comments("o/r", 1).is_empty());
    assert_eq!(fake.writes(), 3);
}

#[test]
fn reviews_need_lines_of_the_diff_and_a_known_commit() {
    let fake = fake_with_pull();
    fake.set_files(
        "o/r",
        1,
        vec![FakeFile {
            filename: "Dockerfile".into(),
            status: "modified".into(),
            patch: Some("@@ -1,2 +1,3 @@\n FROM alpine\n+RUN true\n CMD [\"x\"]".into()),
        }],
    );
    let review = |commit: &str, line: u64| {
        format!(
            r#"{{"commit_id":"{commit}","body":"b","event":"COMMENT","comments":[{{"path":"Dockerfile","line":{line},"side":"RIGHT","body":"c"}}]}}"#
        )
    };
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/pulls/1/reviews",
        Some("w"),
        Some(&review("head1", 9)),
    );
    assert_eq!(status, 422);
    assert!(
        body.contains("Pull request review thread line must be part of the diff"),
        "{body}"
    );
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/pulls/1/reviews",
        Some("w"),
        Some(&review("cafe", 2)),
    );
    assert_eq!(status, 422);
    assert!(body.contains("No commit found for SHA: cafe"), "{body}");
    assert!(fake.reviews("o/r", 1).is_empty());
    fake.set_head_sha("o/r", 1, "head2");
    // An older head of the pull request is still a commit of it.
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/pulls/1/reviews",
        Some("w"),
        Some(&review("head1", 2)),
    );
    assert_eq!(status, 200, "{body}");
    let reviews = fake.reviews("o/r", 1);
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].state, "COMMENTED");
    assert_eq!(reviews[0].comments[0].line, 2);
    let (_, _, body) = http(
        &fake.url(),
        "GET",
        "/repos/o/r/pulls/1/comments",
        Some("r"),
        None,
    );
    let comments: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(comments[0]["line"], 2);
    assert_eq!(comments[0]["user"]["login"], "github-actions[bot]");
    let (_, _, body) = http(
        &fake.url(),
        "GET",
        "/repos/o/r/pulls/1/files",
        Some("r"),
        None,
    );
    let files: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(files[0]["additions"], 1);
    assert_eq!(files[0]["deletions"], 0);
    assert_eq!(files[0]["changes"], 1);
}

#[test]
fn rate_limits_and_failed_writes_are_answered_on_demand() {
    let fake = fake_with_pull();
    fake.rate_limit_next(1, RateLimit::Primary { reset_in_secs: 5 });
    let (status, head, _) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None);
    assert_eq!(status, 403);
    assert!(head.contains("x-ratelimit-remaining: 0"), "{head}");
    fake.rate_limit_next(
        1,
        RateLimit::Secondary {
            retry_after_secs: 3,
        },
    );
    let (status, head, body) = http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None);
    assert_eq!(status, 403);
    assert!(head.contains("retry-after: 3"));
    assert!(body.contains("secondary rate limit"));
    fake.rate_limit_next(
        1,
        RateLimit::TooMany {
            retry_after_secs: 2,
        },
    );
    assert_eq!(
        http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None).0,
        429
    );
    assert_eq!(
        http(&fake.url(), "GET", "/repos/o/r/pulls/1", Some("w"), None).0,
        200
    );

    fake.fail_next_write(502, true);
    assert_eq!(
        http(
            &fake.url(),
            "POST",
            "/repos/o/r/issues/1/comments",
            Some("w"),
            Some(r#"{"body":"a"}"#)
        )
        .0,
        502
    );
    fake.fail_next_write(500, false);
    assert_eq!(
        http(
            &fake.url(),
            "POST",
            "/repos/o/r/issues/1/comments",
            Some("w"),
            Some(r#"{"body":"b"}"#)
        )
        .0,
        500
    );
    assert_eq!(fake.issue_comments("o/r", 1).len(), 1);
    assert_eq!(fake.writes(), 1);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [403, 403, 429, 200, 502, 500]);
}

#[test]
fn payloads_add_pull_requests() {
    let fake = FakeGitHub::start();
    let payload = json!({
        "repository": {"full_name": "Codertocat/Hello-World", "id": 186853002},
        "pull_request": {
            "number": 2, "state": "open", "user": {"login": "Codertocat"},
            "head": {"sha": "ec26", "ref": "changes", "repo": {"full_name": "fork/Hello-World"}},
            "base": {"sha": "f95f", "ref": "master", "repo": {"full_name": "Codertocat/Hello-World"}},
        },
    });
    let pull = fake.add_pull_request_from_payload(&payload);
    assert_eq!(
        pull,
        PullRef {
            repo: "Codertocat/Hello-World".into(),
            number: 2,
            head_sha: "ec26".into(),
            base_sha: "f95f".into()
        }
    );
    fake.add_token("t", Access::Write, "bot", "Bot");
    let (status, _, body) = http(
        &fake.url(),
        "GET",
        "/repos/codertocat/hello-world/pulls/2",
        Some("t"),
        None,
    );
    assert_eq!(status, 200);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["head"]["repo"]["full_name"], "fork/Hello-World");
    assert_eq!(json["head"]["label"], "fork:changes");
}

/// A JWT with these claims, signed (RS256) with the test App's key.
fn signed_jwt(claims: &Value) -> String {
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    let (_, der) = pem_block(crate::TEST_APP_PRIVATE_KEY).unwrap();
    let key = RsaKeyPair::from_der(&der).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn fake_with_app() -> FakeGitHub {
    let fake = fake_with_pull();
    fake.add_app(1, crate::TEST_APP_PUBLIC_KEY);
    fake.add_installation(10, 1, &["o/r"]);
    fake.add_pull_request("o/other", 1, "head1", "base1");
    fake
}

fn exchange(fake: &FakeGitHub, installation: u64, jwt: &str) -> (u16, Value) {
    let path = format!("/app/installations/{installation}/access_tokens");
    let (status, _, body) = http(&fake.url(), "POST", &path, Some(jwt), None);
    (status, serde_json::from_str(&body).unwrap())
}

#[test]
fn app_jwts_are_checked_as_github_checks_them() {
    let fake = fake_with_app();
    let now = epoch_seconds() as i64;
    let claims = |iat: i64, exp: i64, iss: Value| json!({"iat": iat, "exp": exp, "iss": iss});
    let message =
        |(status, body): (u16, Value)| (status, body["message"].as_str().unwrap().to_string());
    assert_eq!(
        message(exchange(&fake, 10, &signed_jwt(&claims(now - 60, now - 1, json!(1))))),
        (401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires".to_string())
    );
    assert_eq!(
        message(exchange(
            &fake,
            10,
            &signed_jwt(&claims(now, now + 660, json!(1)))
        )),
        (
            401,
            "'Expiration time' claim ('exp') is too far in the future".to_string()
        )
    );
    assert_eq!(
        message(exchange(&fake, 10, &signed_jwt(&claims(now + 120, now + 300, json!(1))))),
        (401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued".to_string())
    );
    assert_eq!(
        message(exchange(
            &fake,
            10,
            &signed_jwt(&claims(now - 60, now + 540, json!(2)))
        )),
        (404, "Integration not found".to_string())
    );
    assert_eq!(
        message(exchange(&fake, 10, "not.a-jwt")),
        (401, JWT_UNDECODABLE.to_string())
    );
    // A signature over other claims.
    let good = signed_jwt(&claims(now - 60, now + 540, json!(1)));
    let forged_claims =
        URL_SAFE_NO_PAD.encode(claims(now - 60, now + 540, json!(1)).to_string() + " ");
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    assert_eq!(
        message(exchange(&fake, 10, &forged)),
        (401, JWT_UNDECODABLE.to_string())
    );
    assert_eq!(exchange(&fake, 99, &good).0, 404);
    assert_eq!(fake.token_exchanges(), 0);

    // The App id as a string works too.
    let (status, body) = exchange(
        &fake,
        10,
        &signed_jwt(&claims(now - 60, now + 540, json!("1"))),
    );
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(fake.token_exchanges(), 1);
    // It reaches the installation's repositories only, as the App's bot.
    let (status, _, body) = http(
        &fake.url(),
        "POST",
        "/repos/o/r/issues/1/comments",
        Some(token),
        Some(r#"{"body":"hi"}"#),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(fake.issue_comments("o/r", 1)[0].user_login, APP_BOT_LOGIN);
    assert_eq!(
        http(
            &fake.url(),
            "GET",
            "/repos/o/other/pulls/1",
            Some(token),
            None
        )
        .0,
        404
    );
    // An expired token is bad credentials.
    fake.set_token_ttl(Duration::ZERO);
    let (_, body) = exchange(&fake, 10, &good);
    let expired = body["token"].as_str().unwrap();
    let (status, _, body) = http(
        &fake.url(),
        "GET",
        "/repos/o/r/pulls/1",
        Some(expired),
        None,
    );
    assert_eq!((status, body.contains("Bad credentials")), (401, true));
}

#[test]
fn public_keys_are_read_in_both_forms() {
    let spki = rsa_public_key_der(crate::TEST_APP_PUBLIC_KEY).unwrap();
    let pkcs1 = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        STANDARD.encode(&spki)
    );
    assert_eq!(rsa_public_key_der(&pkcs1).unwrap(), spki);
    assert!(rsa_public_key_der(crate::TEST_APP_PRIVATE_KEY).is_err());
    assert!(rsa_public_key_der("junk").is_err());
}

#[test]
fn check_runs_follow_githubs_rules() {
    let fake = fake_with_pull();
    let post = |body: &Value| {
        let (status, _, body) = http(
            &fake.url(),
            "POST",
            "/repos/o/r/check-runs",
            Some("w"),
            Some(&body.to_string()),
        );
        (status, serde_json::from_str::<Value>(&body).unwrap())
    };
    let (status, body) = post(&json!({"name": "lc"}));
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (422, "Invalid request.\n\n\"head_sha\" wasn't supplied.")
    );
    let (status, body) = post(&json!({"name": "lc", "head_sha": "nope"}));
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0], "No commit found for SHA: nope");
    let (status, _) = post(&json!({"name": "lc", "head_sha": "head1", "status": "completed"}));
    assert_eq!(status, 422);
    let annotation = json!({"path": "Dockerfile", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"});
    let (status, body) = post(
        &json!({"name": "lc", "head_sha": "head1", "output": {"title": "t", "summary": "s", "annotations": vec![annotation.clone(); 51]}}),
    );
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            422,
            "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
        )
    );
    let (status, body) =
        post(&json!({"name": "lc", "head_sha": "head1", "output": {"title": "t"}}));
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (422, "Invalid request.\n\n\"summary\" wasn't supplied.")
    );
    let (status, body) = post(
        &json!({"name": "lc", "head_sha": "head1", "output": {"title": "t", "summary": "s", "annotations": [{"path": "D"}]}}),
    );
    assert_eq!(
        body["message"].as_str().unwrap(),
        "Invalid request.\n\n\"annotation_level\", \"end_line\", \"message\", \"start_line\" weren't supplied.",
        "{status}"
    );
    // Few characters, too many bytes: GitHub's second check.
    let (status, body) = post(
        &json!({"name": "lc", "head_sha": "head1", "output": {"title": "t", "summary": "é".repeat(40_000)}}),
    );
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"][0]["message"],
        "summary exceeds a maximum bytesize of 65535"
    );
    assert!(fake.check_runs("o/r").is_empty());

    let (status, body) = post(
        &json!({"name": "lc", "head_sha": "head1", "status": "in_progress", "output": {"title": "t", "summary": "s", "annotations": vec![annotation.clone(); 50]}}),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_u64().unwrap();
    let path = format!("/repos/o/r/check-runs/{id}");
    let patch = json!({"conclusion": "success", "output": {"title": "t2", "summary": "s2", "annotations": vec![annotation; 3]}});
    let (status, _, body) = http(
        &fake.url(),
        "PATCH",
        &path,
        Some("w"),
        Some(&patch.to_string()),
    );
    assert_eq!(status, 200, "{body}");
    let shown: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["status"], "completed");
    assert_eq!(shown["output"]["annotations_count"], 53);
    let run = &fake.check_runs("o/r")[0];
    assert_eq!(run.annotation_batches, [50, 3]);
    assert_eq!(run.output_summary.as_deref(), Some("s2"));
    assert_eq!(run.updates, 1);
    assert_eq!(run.user_login, "github-actions[bot]");
    assert_eq!(http(&fake.url(), "GET", &path, Some("r"), None).0, 200);
    assert_eq!(
        http(&fake.url(), "PATCH", &path, Some("r"), Some("{}")).0,
        403
    );
}

#[test]
fn pull_request_lists_filter_by_state_and_installations_list_repositories() {
    let fake = fake_with_app();
    fake.add_pull_request("o/r", 2, "head2", "base1");
    fake.set_pr_state("o/r", 1, "closed");
    let numbers = |query: &str| {
        let (_, _, body) = http(
            &fake.url(),
            "GET",
            &format!("/repos/o/r/pulls{query}"),
            Some("r"),
            None,
        );
        serde_json::from_str::<Vec<Value>>(&body)
            .unwrap()
            .iter()
            .map(|pull| pull["number"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(""), [2]);
    assert_eq!(numbers("?state=closed"), [1]);
    assert_eq!(numbers("?state=all"), [2, 1]);

    let names: Vec<String> = (0..3).map(|n| format!("o/repo{n}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    fake.add_installation(11, 1, &names);
    let now = epoch_seconds() as i64;
    let (_, body) = exchange(
        &fake,
        11,
        &signed_jwt(&json!({"iat": now - 60, "exp": now + 540, "iss": 1})),
    );
    let token = body["token"].as_str().unwrap();
    let (status, head, body) = http(
        &fake.url(),
        "GET",
        "/installation/repositories?per_page=2",
        Some(token),
        None,
    );
    assert_eq!(status, 200);
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total_count"], 3);
    assert_eq!(page["repositories"][1]["full_name"], "o/repo1");
    let next = format!(
        "<{}/installation/repositories?per_page=2&page=2>; rel=\"next\"",
        fake.url()
    );
    assert!(head.contains(&next), "{head}");
    assert_eq!(
        http(
            &fake.url(),
            "GET",
            "/installation/repositories",
            Some("w"),
            None
        )
        .0,
        403
    );
}
