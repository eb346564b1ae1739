//! The client against the fake GitHub of `layercake_testkit`, over real HTTP:
//! pagination, comments, reviews, permissions, and every retry rule of the crate
//! documentation.

use std::time::{Duration, Instant};

use layercake_github::{
    GitHub, GitHubError, NewReview, NewReviewComment, RepoName, RetryPolicy, ReviewEvent,
};
use layercake_testkit::{Access, FakeFile, FakeGitHub, RateLimit};

const REPO: &str = "octo-org/hello";
const HEAD: &str = "1111111111111111111111111111111111111111";
const BASE: &str = "2222222222222222222222222222222222222222";
const WRITE_TOKEN: &str = "ghs_write";
const READ_TOKEN: &str = "ghs_read";
const BOT: &str = "github-actions[bot]";

/// A fake with a write token, a read-only token and pull request #7 changing a
/// Dockerfile (head lines 1–4 in the diff, line 2 and 3 added).
fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_token(WRITE_TOKEN, Access::Write, BOT, "Bot");
    fake.add_token(READ_TOKEN, Access::ReadOnly, BOT, "Bot");
    fake.add_pull_request(REPO, 7, HEAD, BASE);
    fake.set_files(
        REPO,
        7,
        vec![FakeFile {
            filename: "Dockerfile".into(),
            status: "modified".into(),
            patch: Some(
                "@@ -1,2 +1,4 @@\n FROM alpine:3.20\n+COPY . .\n+RUN apk add curl\n CMD [\"app\"]"
                    .into(),
            ),
        }],
    );
    fake
}

/// Quick backoff, so retried failures do not slow the suite.
fn policy() -> RetryPolicy {
    RetryPolicy {
        backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

fn client(fake: &FakeGitHub, token: &str) -> GitHub {
    GitHub::new(&fake.url(), token, policy()).expect("a client for the fake")
}

fn repo() -> RepoName {
    REPO.parse().expect("a repository name")
}

fn methods_and_statuses(fake: &FakeGitHub) -> Vec<(String, u16)> {
    fake.requests()
        .into_iter()
        .map(|request| (request.method, request.status))
        .collect()
}

fn pair(method: &str, status: u16) -> (String, u16) {
    (method.to_string(), status)
}

#[tokio::test]
async fn reads_a_pull_request_from_a_real_payload() {
    let fake = FakeGitHub::start();
    fake.add_token(WRITE_TOKEN, Access::Write, BOT, "Bot");
    let payload = layercake_testkit::webhook_payload("pull_request/opened.payload.json");
    let added = fake.add_pull_request_from_payload(&payload);
    let github = client(&fake, WRITE_TOKEN);
    let repo: RepoName = added.repo.parse().unwrap();
    let pull = github.pull_request(&repo, added.number).await.unwrap();
    assert_eq!(pull.number, 2);
    assert_eq!(pull.state, "open");
    assert_eq!(pull.head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
    assert_eq!(pull.base_sha, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    assert_eq!(pull.head_repo.as_deref(), Some("Codertocat/Hello-World"));
    assert_eq!(pull.base_repo, "Codertocat/Hello-World");
    assert!(matches!(
        github.pull_request(&repo, 99).await,
        Err(GitHubError::NotFound { .. })
    ));
}

#[tokio::test]
async fn follows_pagination_over_250_comments() {
    let fake = fake();
    for n in 0..250 {
        fake.add_issue_comment(REPO, 7, "octocat", &format!("comment {n}"));
    }
    let comments = client(&fake, READ_TOKEN)
        .issue_comments(&repo(), 7)
        .await
        .unwrap();
    assert_eq!(comments.len(), 250);
    assert_eq!(comments[0].body, "comment 0");
    assert_eq!(comments[249].body, "comment 249");
    assert_eq!(comments[0].user_login, "octocat");
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    // Three pages of 100, the later ones by GitHub's links.
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert_eq!(
        paths[0],
        "/repos/octo-org/hello/issues/7/comments?per_page=100"
    );
    assert!(paths[1].starts_with("/repositories/") && paths[1].ends_with("per_page=100&page=2"));
    assert!(paths[2].ends_with("per_page=100&page=3"));
}

#[tokio::test]
async fn lists_files_and_review_comments_across_pages() {
    let fake = fake();
    let files: Vec<FakeFile> = (0..120)
        .map(|n| FakeFile {
            filename: format!("svc{n}/Dockerfile"),
            status: if n == 0 { "added" } else { "modified" }.into(),
            patch: (n != 1).then(|| "@@ -0,0 +1 @@\n+FROM scratch".to_string()),
        })
        .collect();
    fake.set_files(REPO, 7, files);
    let github = client(&fake, WRITE_TOKEN);
    let listed = github.pull_request_files(&repo(), 7).await.unwrap();
    assert_eq!(listed.len(), 120);
    assert_eq!(listed[0].status, "added");
    assert_eq!(listed[1].patch, None);
    assert_eq!(listed[119].filename, "svc119/Dockerfile");
    assert_eq!(
        listed[119].patch.as_deref(),
        Some("@@ -0,0 +1 @@\n+FROM scratch")
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn creates_updates_and_deletes_a_comment() {
    let fake = fake();
    let github = client(&fake, WRITE_TOKEN);
    let created = github
        .create_issue_comment(&repo(), 7, "<!-- layercake -->\nfirst")
        .await
        .unwrap();
    assert_eq!(created.user_login, BOT);
    assert_eq!(created.user_type, "Bot");
    assert!(
        created
            .html_url
            .ends_with(&format!("/pull/7#issuecomment-{}", created.id))
    );
    let updated = github
        .update_issue_comment(&repo(), created.id, "<!-- layercake -->\nsecond")
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.body, "<!-- layercake -->\nsecond");
    let listed = github.issue_comments(&repo(), 7).await.unwrap();
    assert_eq!(listed, [updated]);
    github
        .delete_issue_comment(&repo(), created.id)
        .await
        .unwrap();
    assert!(fake.issue_comments(REPO, 7).is_empty());
    assert_eq!(fake.writes(), 3);
    assert!(matches!(
        github.delete_issue_comment(&repo(), created.id).await,
        Err(GitHubError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_review_on_lines_of_the_diff_is_made() {
    let fake = fake();
    let github = client(&fake, WRITE_TOKEN);
    let review = NewReview {
        commit_id: HEAD.into(),
        body: "layercake found 2 problems".into(),
        event: ReviewEvent::Comment,
        comments: vec![
            NewReviewComment {
                path: "Dockerfile".into(),
                line: 2,
                start_line: None,
                body: "copy later".into(),
            },
            NewReviewComment {
                path: "Dockerfile".into(),
                line: 3,
                start_line: Some(2),
                body: "```suggestion\nRUN apk add --no-cache curl\n```".into(),
            },
        ],
    };
    let id = github.create_review(&repo(), 7, &review).await.unwrap();
    let reviews = fake.reviews(REPO, 7);
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].id, id);
    assert_eq!(reviews[0].state, "COMMENTED");
    assert_eq!(reviews[0].comments[1].start_line, Some(2));
    assert_eq!(reviews[0].comments[1].side, "RIGHT");
    let comments = github.review_comments(&repo(), 7).await.unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0].path, "Dockerfile");
    assert_eq!(comments[0].line, Some(2));
    assert_eq!(comments[1].line, Some(3));
    assert_eq!(comments[1].user_login, BOT);
}

#[tokio::test]
async fn a_review_on_a_line_outside_the_diff_is_refused_whole() {
    let fake = fake();
    let github = client(&fake, WRITE_TOKEN);
    let review = NewReview {
        commit_id: HEAD.into(),
        body: "summary".into(),
        event: ReviewEvent::Comment,
        comments: vec![
            NewReviewComment {
                path: "Dockerfile".into(),
                line: 2,
                start_line: None,
                body: "fine".into(),
            },
            NewReviewComment {
                path: "Dockerfile".into(),
                line: 40,
                start_line: None,
                body: "not in the diff".into(),
            },
        ],
    };
    match github.create_review(&repo(), 7, &review).await {
        Err(GitHubError::Validation { message, errors }) => {
            assert_eq!(message, "Unprocessable Entity");
            assert_eq!(
                errors,
                [
                    "Pull request review thread line must be part of the diff and Pull request review thread diff hunk can't be blank"
                ]
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert!(fake.reviews(REPO, 7).is_empty());
    // Not retried: GitHub's answer is final.
    assert_eq!(methods_and_statuses(&fake), [pair("POST", 422)]);
}

#[tokio::test]
async fn a_read_only_token_reads_and_is_refused_writes() {
    let fake = fake();
    let github = client(&fake, READ_TOKEN);
    assert_eq!(
        github.pull_request(&repo(), 7).await.unwrap().head_sha,
        HEAD
    );
    let error = github
        .create_issue_comment(&repo(), 7, "hello")
        .await
        .unwrap_err();
    assert!(error.is_read_only_token(), "{error:?}");
    assert!(matches!(error, GitHubError::Forbidden { .. }));
    assert_eq!(fake.writes(), 0);
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("GET", 200), pair("POST", 403)]
    );
}

#[tokio::test]
async fn an_unknown_token_is_unauthorized_and_never_shown() {
    let fake = fake();
    let secret = "ghp_not_a_real_token_0123456789";
    let github = client(&fake, secret);
    let error = github.issue_comments(&repo(), 7).await.unwrap_err();
    assert_eq!(
        error,
        GitHubError::Unauthorized {
            message: "Bad credentials".into()
        }
    );
    assert!(!error.to_string().contains(secret));
    assert!(!format!("{github:?}").contains(secret));
}

#[tokio::test]
async fn a_primary_rate_limit_is_waited_out_until_the_reset() {
    let fake = fake();
    fake.rate_limit_next(1, RateLimit::Primary { reset_in_secs: 1 });
    let started = Instant::now();
    let pull = client(&fake, WRITE_TOKEN)
        .pull_request(&repo(), 7)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(pull.number, 7);
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("GET", 403), pair("GET", 200)]
    );
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let fake = fake();
    fake.rate_limit_next(
        1,
        RateLimit::TooMany {
            retry_after_secs: 1,
        },
    );
    let started = Instant::now();
    let files = client(&fake, WRITE_TOKEN)
        .pull_request_files(&repo(), 7)
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(files.len(), 1);
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("GET", 429), pair("GET", 200)]
    );
}

#[tokio::test]
async fn a_rate_limited_post_is_repeated_since_github_refused_it() {
    let fake = fake();
    fake.rate_limit_next(
        1,
        RateLimit::Secondary {
            retry_after_secs: 0,
        },
    );
    let github = client(&fake, WRITE_TOKEN);
    github
        .create_issue_comment(&repo(), 7, "once")
        .await
        .unwrap();
    assert_eq!(fake.issue_comments(REPO, 7).len(), 1);
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("POST", 403), pair("POST", 201)]
    );
}

#[tokio::test]
async fn a_wait_beyond_max_wait_gives_up_at_once() {
    let fake = fake();
    fake.rate_limit_next(
        1,
        RateLimit::TooMany {
            retry_after_secs: 120,
        },
    );
    let started = Instant::now();
    let error = client(&fake, WRITE_TOKEN)
        .pull_request(&repo(), 7)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        error,
        GitHubError::RateLimited {
            wait: Duration::from_secs(120)
        }
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn rate_limits_stop_being_retried_when_the_retries_run_out() {
    let fake = fake();
    fake.rate_limit_next(
        10,
        RateLimit::Secondary {
            retry_after_secs: 0,
        },
    );
    let error = client(&fake, WRITE_TOKEN)
        .issue_comments(&repo(), 7)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        GitHubError::RateLimited {
            wait: Duration::ZERO
        }
    );
    // The first attempt and three retries.
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn a_post_that_may_have_happened_is_ambiguous_and_not_repeated() {
    let fake = fake();
    fake.fail_next_write(502, true);
    let error = client(&fake, WRITE_TOKEN)
        .create_issue_comment(&repo(), 7, "<!-- layercake -->")
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    let GitHubError::Ambiguous { message } = &error else {
        unreachable!()
    };
    assert!(message.contains("502"), "{message}");
    assert!(
        message.contains("/repos/octo-org/hello/issues/7/comments"),
        "{message}"
    );
    // Exactly one comment: GitHub made it, and the client did not ask again.
    assert_eq!(fake.issue_comments(REPO, 7).len(), 1);
    assert_eq!(methods_and_statuses(&fake), [pair("POST", 502)]);
}

#[tokio::test]
async fn a_review_hit_by_a_server_error_is_ambiguous_too() {
    let fake = fake();
    fake.fail_next_write(500, false);
    let review = NewReview {
        commit_id: HEAD.into(),
        body: "summary".into(),
        event: ReviewEvent::Comment,
        comments: Vec::new(),
    };
    let error = client(&fake, WRITE_TOKEN)
        .create_review(&repo(), 7, &review)
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_patch_hit_by_a_server_error_is_retried() {
    let fake = fake();
    let id = fake.add_issue_comment(REPO, 7, BOT, "old");
    fake.fail_next_write(502, false);
    let updated = client(&fake, WRITE_TOKEN)
        .update_issue_comment(&repo(), id, "new")
        .await
        .unwrap();
    assert_eq!(updated.body, "new");
    assert_eq!(fake.issue_comments(REPO, 7)[0].body, "new");
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("PATCH", 502), pair("PATCH", 200)]
    );
}

#[tokio::test]
async fn a_get_hit_by_a_server_error_is_retried() {
    let fake = fake();
    fake.fail_next("GET", 503, false);
    let pull = client(&fake, READ_TOKEN)
        .pull_request(&repo(), 7)
        .await
        .unwrap();
    assert_eq!(pull.head_sha, HEAD);
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("GET", 503), pair("GET", 200)]
    );
}

#[tokio::test]
async fn a_delete_retried_after_it_happened_has_succeeded() {
    let fake = fake();
    let id = fake.add_issue_comment(REPO, 7, BOT, "stale");
    fake.fail_next("DELETE", 502, true);
    client(&fake, WRITE_TOKEN)
        .delete_issue_comment(&repo(), id)
        .await
        .unwrap();
    assert!(fake.issue_comments(REPO, 7).is_empty());
    assert_eq!(
        methods_and_statuses(&fake),
        [pair("DELETE", 502), pair("DELETE", 404)]
    );
}

#[tokio::test]
async fn a_post_without_an_answer_in_time_is_ambiguous() {
    let fake = fake();
    fake.delay_next(Duration::from_millis(600));
    let github = GitHub::new(
        &fake.url(),
        WRITE_TOKEN,
        RetryPolicy {
            timeout: Duration::from_millis(200),
            ..policy()
        },
    )
    .unwrap();
    let error = github
        .create_issue_comment(&repo(), 7, "slow")
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    // GitHub did it after the client stopped waiting; the client asked once.
    let deadline = Instant::now() + Duration::from_secs(3);
    while fake.issue_comments(REPO, 7).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.issue_comments(REPO, 7).len(), 1);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_get_without_an_answer_in_time_is_retried() {
    let fake = fake();
    fake.delay_next(Duration::from_millis(600));
    let github = GitHub::new(
        &fake.url(),
        READ_TOKEN,
        RetryPolicy {
            timeout: Duration::from_millis(200),
            ..policy()
        },
    )
    .unwrap();
    let pull = github.pull_request(&repo(), 7).await.unwrap();
    assert_eq!(pull.number, 7);
}

#[tokio::test]
async fn a_body_over_65536_characters_is_a_validation_error() {
    let fake = fake();
    let body = "x".repeat(65_537);
    let error = client(&fake, WRITE_TOKEN)
        .create_issue_comment(&repo(), 7, &body)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        GitHubError::Validation {
            message: "Validation Failed".into(),
            errors: vec!["body is too long (maximum is 65536 characters)".into()],
        }
    );
    assert_eq!(fake.writes(), 0);
}

#[tokio::test]
async fn another_authors_comment_is_forbidden_but_not_read_only() {
    let fake = fake();
    let id = fake.add_issue_comment(REPO, 7, "octocat", "a person's words");
    let error = client(&fake, WRITE_TOKEN)
        .update_issue_comment(&repo(), id, "overwritten")
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Forbidden { .. }));
    assert!(!error.is_read_only_token());
    assert_eq!(fake.issue_comments(REPO, 7)[0].body, "a person's words");
}

#[tokio::test]
async fn a_post_that_cannot_connect_is_retried_and_reported_as_transport() {
    // A port nothing listens on: the connection is refused, nothing is sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let github = GitHub::new(&format!("http://127.0.0.1:{port}"), WRITE_TOKEN, policy()).unwrap();
    let started = Instant::now();
    let error = github
        .create_issue_comment(&repo(), 7, "hello")
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Transport { .. }), "{error:?}");
    // Three backoffs of 10, 20 and 40 ms: it was retried.
    assert!(started.elapsed() >= Duration::from_millis(70));
    assert!(!error.to_string().contains(WRITE_TOKEN));
}

#[tokio::test]
async fn an_enterprise_api_url_with_a_path_works_with_pagination() {
    let fake = fake();
    for n in 0..150 {
        fake.add_issue_comment(REPO, 7, BOT, &format!("c{n}"));
    }
    let github = GitHub::new(&format!("{}/api/v3/", fake.url()), WRITE_TOKEN, policy()).unwrap();
    let comments = github.issue_comments(&repo(), 7).await.unwrap();
    assert_eq!(comments.len(), 150);
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths[0],
        "/api/v3/repos/octo-org/hello/issues/7/comments?per_page=100"
    );
    assert!(paths[1].starts_with("/api/v3/repositories/"), "{paths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_racing_each_create_their_comments() {
    let fake = fake();
    let first = client(&fake, WRITE_TOKEN);
    let second = client(&fake, WRITE_TOKEN);
    let mut tasks = Vec::new();
    for n in 0..20 {
        for github in [first.clone(), second.clone()] {
            tasks.push(tokio::spawn(async move {
                github
                    .create_issue_comment(&repo(), 7, &format!("comment {n}"))
                    .await
                    .unwrap()
                    .id
            }));
        }
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    assert_eq!(fake.issue_comments(REPO, 7).len(), 40);
}

#[test]
fn a_client_made_outside_a_runtime_works_inside_one() {
    let fake = fake();
    let github = client(&fake, READ_TOKEN);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pull = runtime.block_on(github.pull_request(&repo(), 7)).unwrap();
    assert_eq!(pull.base_sha, BASE);
    let files = runtime
        .block_on(github.pull_request_files(&repo(), 7))
        .unwrap();
    assert_eq!(files.len(), 1);
}
