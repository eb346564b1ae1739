//! GitHub App authentication and the endpoints a GitHub App's server uses (check
//! runs, open pull requests, the installation's repositories), against the fake
//! GitHub of `layercake_testkit` over real HTTP.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use layercake_github::{
    AnnotationLevel, App, AppCredentials, CheckAnnotation, CheckRunOutput, CheckRunUpdate,
    Conclusion, GitHub, GitHubError, MAX_CHECK_OUTPUT_BYTES, NewCheckRun, RepoName, RetryPolicy,
};
use layercake_testkit::{
    Access, FakeGitHub, TEST_APP_PRIVATE_KEY, TEST_APP_PUBLIC_KEY, TEST_OTHER_PRIVATE_KEY,
};

const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 77;
const REPO: &str = "octo-org/hello";
const OUTSIDE_REPO: &str = "octo-org/private";
const HEAD: &str = "1111111111111111111111111111111111111111";
const BASE: &str = "2222222222222222222222222222222222222222";

fn policy() -> RetryPolicy {
    RetryPolicy {
        backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

/// A fake with the App, its installation on `REPO` (pull request #7), and a
/// repository the installation does not reach.
fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_app(APP_ID, TEST_APP_PUBLIC_KEY);
    fake.add_pull_request(REPO, 7, HEAD, BASE);
    fake.add_pull_request(OUTSIDE_REPO, 1, HEAD, BASE);
    fake.add_installation(INSTALLATION, APP_ID, &[REPO]);
    fake
}

fn app_with_key(fake: &FakeGitHub, key: &str) -> App {
    let credentials = AppCredentials {
        app_id: APP_ID,
        private_key_pem: key.to_string(),
    };
    App::new(&fake.url(), credentials, policy()).expect("an App for the fake")
}

fn app(fake: &FakeGitHub) -> App {
    app_with_key(fake, TEST_APP_PRIVATE_KEY)
}

fn repo() -> RepoName {
    REPO.parse().expect("a repository name")
}

fn epoch_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64
}

#[tokio::test]
async fn the_jwt_is_what_github_asks_for() {
    let fake = fake();
    let jwt = app(&fake).jwt().unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let part = |index: usize| -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[index]).unwrap()).unwrap()
    };
    assert_eq!(part(0)["alg"], "RS256");
    let claims = part(1);
    let now = epoch_now();
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert!((now - 62..=now - 58).contains(&iat), "iat {iat}, now {now}");
    assert!(
        (now + 538..=now + 542).contains(&exp),
        "exp {exp}, now {now}"
    );
    assert_eq!(claims["iss"], APP_ID);
}

#[tokio::test]
async fn a_token_is_cached_for_its_hour() {
    let fake = fake();
    let app = app(&fake);
    let first = app.installation_token(INSTALLATION).await.unwrap();
    let second = app.installation_token(INSTALLATION).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(fake.token_exchanges(), 1);
    assert!(first.token.starts_with("ghs_"));
    let left = first
        .expires_at
        .duration_since(SystemTime::now())
        .unwrap()
        .as_secs();
    assert!((3_500..=3_600).contains(&left), "{left} s left");
    // A clone shares the cache; the client comes from it too.
    app.clone().installation_client(INSTALLATION).await.unwrap();
    assert_eq!(fake.token_exchanges(), 1);
    // Debug shows neither the token nor the key.
    let shown = format!("{first:?} {app:?}");
    assert!(!shown.contains(&first.token), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}

#[tokio::test]
async fn a_token_near_its_expiry_is_refreshed() {
    let fake = fake();
    // Within the five minutes before expiry from the start: never reused.
    fake.set_token_ttl(Duration::from_secs(4 * 60));
    let app = app(&fake);
    let first = app.installation_token(INSTALLATION).await.unwrap();
    let second = app.installation_token(INSTALLATION).await.unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(fake.token_exchanges(), 2);
    // Ten minutes: used until five minutes before it expires.
    fake.set_token_ttl(Duration::from_secs(10 * 60));
    let third = app.installation_token(INSTALLATION).await.unwrap();
    assert_eq!(app.installation_token(INSTALLATION).await.unwrap(), third);
    assert_eq!(fake.token_exchanges(), 3);
}

#[tokio::test]
async fn concurrent_callers_share_one_exchange() {
    let fake = fake();
    let app = app(&fake);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.installation_token(INSTALLATION).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap().token);
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(fake.token_exchanges(), 1);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_with_what_to_check() {
    let fake = fake();
    let error = app_with_key(&fake, TEST_OTHER_PRIVATE_KEY)
        .installation_token(INSTALLATION)
        .await
        .unwrap_err();
    let GitHubError::Unauthorized { message } = &error else {
        panic!("{error:?}");
    };
    assert!(
        message.contains("A JSON web token could not be decoded"),
        "{message}"
    );
    assert!(message.contains("private key"), "{message}");
    assert!(message.contains(&APP_ID.to_string()), "{message}");
    assert!(!message.contains("BEGIN"), "{message}");
    assert_eq!(fake.token_exchanges(), 0);

    // An installation the App does not have.
    let error = app(&fake).installation_token(999).await.unwrap_err();
    assert!(
        matches!(&error, GitHubError::NotFound { message } if message.contains("installation 999")),
        "{error:?}"
    );
}

#[tokio::test]
async fn key_files_are_read_and_errors_name_the_file_only() {
    let dir = std::env::temp_dir().join(format!("layercake-app-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("app.pem");
    std::fs::write(&good, TEST_APP_PRIVATE_KEY).unwrap();
    let credentials = AppCredentials::from_pem_file(APP_ID, &good).unwrap();
    assert_eq!(credentials.private_key_pem, TEST_APP_PRIVATE_KEY);
    assert!(!format!("{credentials:?}").contains("BEGIN"));

    let missing = dir.join("missing.pem");
    let error = AppCredentials::from_pem_file(APP_ID, &missing)
        .unwrap_err()
        .to_string();
    assert!(error.contains(&missing.display().to_string()), "{error}");

    let public = dir.join("public.pem");
    std::fs::write(&public, TEST_APP_PUBLIC_KEY).unwrap();
    let error = AppCredentials::from_pem_file(APP_ID, &public)
        .unwrap_err()
        .to_string();
    assert!(error.contains(&public.display().to_string()), "{error}");
    assert!(error.contains("not an RSA private key"), "{error}");
    assert!(!error.contains("MII"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_installation_client_acts_as_the_app() {
    let fake = fake();
    let app = app(&fake);
    let client = app.installation_client(INSTALLATION).await.unwrap();
    let comment = client
        .create_issue_comment(&repo(), 7, "from the App")
        .await
        .unwrap();
    assert_eq!(comment.user_login, "layercake[bot]");
    assert_eq!(comment.user_type, "Bot");
    let pull = client.pull_request(&repo(), 7).await.unwrap();
    assert_eq!(
        (pull.head_sha.as_str(), pull.base_sha.as_str()),
        (HEAD, BASE)
    );
    // The installation reaches its repositories only.
    let outside: RepoName = OUTSIDE_REPO.parse().unwrap();
    let error = client.pull_request(&outside, 1).await.unwrap_err();
    assert!(matches!(error, GitHubError::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let fake = fake();
    fake.set_token_ttl(Duration::ZERO);
    let token = app(&fake).installation_token(INSTALLATION).await.unwrap();
    let client = GitHub::new(&fake.url(), &token.token, policy()).unwrap();
    let error = client.pull_request(&repo(), 7).await.unwrap_err();
    assert_eq!(
        error,
        GitHubError::Unauthorized {
            message: "Bad credentials".into()
        }
    );
}

fn annotation(line: u64) -> CheckAnnotation {
    CheckAnnotation {
        path: "Dockerfile".into(),
        start_line: line,
        end_line: line,
        annotation_level: AnnotationLevel::Warning,
        message: format!("finding on line {line}"),
        title: Some("LC001".into()),
        raw_details: None,
    }
}

#[tokio::test]
async fn a_check_run_is_completed_with_annotations_in_batches() {
    let fake = fake();
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let id = client
        .create_check_run(
            &repo(),
            &NewCheckRun {
                name: "layercake".into(),
                head_sha: HEAD.into(),
                started_at: Some(SystemTime::now()),
                external_id: Some("job-1".into()),
                details_url: None,
            },
        )
        .await
        .unwrap();
    let runs = fake.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, id);
    assert_eq!(runs[0].status, "in_progress");
    assert_eq!(runs[0].external_id.as_deref(), Some("job-1"));

    let output = CheckRunOutput {
        title: "120 findings".into(),
        summary: "## layercake\n\n120 findings.".into(),
        text: None,
        annotations: (1..=120).map(annotation).collect(),
    };
    client
        .complete_check_run(&repo(), id, Conclusion::Failure, &output)
        .await
        .unwrap();
    let run = &fake.check_runs(REPO)[0];
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.completed_at.is_some());
    assert_eq!(run.annotations.len(), 120);
    assert_eq!(run.annotation_batches, [50, 50, 20]);
    assert_eq!(run.updates, 3);
    assert_eq!(run.annotations[119].start_line, 120);
    assert_eq!(run.annotations[0].annotation_level, "warning");
    assert_eq!(run.output_title.as_deref(), Some("120 findings"));
}

#[tokio::test]
async fn the_check_runs_of_a_commit_are_listed_by_name_all_pages() {
    let fake = fake();
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let mut created = Vec::new();
    for (name, job) in (0..105).map(|i| ("layercake", i)).chain([("other", 999)]) {
        let id = client
            .create_check_run(
                &repo(),
                &NewCheckRun {
                    name: name.into(),
                    head_sha: HEAD.into(),
                    external_id: (job != 0).then(|| format!("job-{job}")),
                    ..NewCheckRun::default()
                },
            )
            .await
            .unwrap();
        if name == "layercake" {
            created.push(id);
        }
    }
    let runs = client
        .check_runs_for_commit(&repo(), HEAD, "layercake")
        .await
        .unwrap();
    // Every run of the name (two pages of 100), newest first; none of the other name.
    assert_eq!(runs.len(), 105);
    assert!(
        runs.iter()
            .all(|run| run.name == "layercake" && run.head_sha == HEAD)
    );
    created.reverse();
    assert_eq!(runs.iter().map(|run| run.id).collect::<Vec<_>>(), created);
    assert_eq!(runs[0].external_id.as_deref(), Some("job-104"));
    assert_eq!(runs[0].status, "in_progress");
    // GitHub's "" for a run created without one reads as none.
    assert_eq!(runs[104].external_id, None);
}

#[tokio::test]
async fn check_runs_follow_githubs_rules() {
    let fake = fake();
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let unknown = NewCheckRun {
        name: "layercake".into(),
        head_sha: "3333333333333333333333333333333333333333".into(),
        ..NewCheckRun::default()
    };
    let error = client
        .create_check_run(&repo(), &unknown)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, GitHubError::Validation { errors, .. } if errors[0].starts_with("No commit found for SHA")),
        "{error:?}"
    );
    let id = client
        .create_check_run(
            &repo(),
            &NewCheckRun {
                name: "layercake".into(),
                head_sha: HEAD.into(),
                ..NewCheckRun::default()
            },
        )
        .await
        .unwrap();
    // Sent as it is, 51 annotations are too many for one request.
    let too_many = CheckRunUpdate {
        output: Some(CheckRunOutput {
            title: "t".into(),
            summary: "s".into(),
            text: None,
            annotations: (1..=51).map(annotation).collect(),
        }),
        ..CheckRunUpdate::default()
    };
    let error = client
        .update_check_run(&repo(), id, &too_many)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("No more than 50 items are allowed; 51 were supplied."),
        "{error}"
    );
    let too_long = CheckRunUpdate {
        output: Some(CheckRunOutput {
            title: "t".into(),
            summary: "x".repeat(MAX_CHECK_OUTPUT_BYTES + 1),
            text: None,
            annotations: Vec::new(),
        }),
        ..CheckRunUpdate::default()
    };
    let error = client
        .update_check_run(&repo(), id, &too_long)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("Only 65535 characters are allowed; 65536 were supplied."),
        "{error}"
    );
    assert_eq!(fake.check_runs(REPO)[0].updates, 0);
}

#[tokio::test]
async fn a_summary_over_the_limit_is_cut_to_fit() {
    let fake = fake();
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let id = client
        .create_check_run(
            &repo(),
            &NewCheckRun {
                name: "layercake".into(),
                head_sha: HEAD.into(),
                ..NewCheckRun::default()
            },
        )
        .await
        .unwrap();
    // 80,000 characters (and more bytes), inside a code block the cut falls in.
    let mut summary = String::from("## Findings\n\n```dockerfile\n");
    while summary.chars().count() < 80_000 {
        summary.push_str("RUN apt-get install -y curl  # ünïcödé\n");
    }
    summary.push_str("```\n\nThe end.\n");
    let output = CheckRunOutput {
        title: "long".into(),
        summary: summary.clone(),
        text: Some(summary),
        annotations: Vec::new(),
    };
    client
        .complete_check_run(&repo(), id, Conclusion::Neutral, &output)
        .await
        .unwrap();
    let run = &fake.check_runs(REPO)[0];
    for shown in [&run.output_summary, &run.output_text] {
        let shown = shown.as_deref().unwrap();
        assert!(shown.len() <= MAX_CHECK_OUTPUT_BYTES, "{}", shown.len());
        assert!(
            shown.len() > MAX_CHECK_OUTPUT_BYTES - 200,
            "{}",
            shown.len()
        );
        assert!(shown.starts_with("## Findings\n\n```dockerfile\n"));
        // The code block is closed before the note that the rest was cut.
        let fences = shown.lines().filter(|line| line.starts_with("```")).count();
        assert_eq!(fences, 2, "{}", &shown[shown.len() - 300..]);
        assert!(!shown.contains("The end."));
    }
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
}

#[tokio::test]
async fn open_pull_requests_are_listed_across_pages() {
    let fake = fake();
    for number in 100..250 {
        fake.add_pull_request(REPO, number, &format!("{number:040}"), BASE);
    }
    fake.set_pr_state(REPO, 7, "closed");
    fake.set_pr_state(REPO, 120, "closed");
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let pulls = client.open_pull_requests(&repo()).await.unwrap();
    assert_eq!(pulls.len(), 149);
    assert!(pulls.iter().all(|pull| pull.state == "open"));
    assert!(
        !pulls
            .iter()
            .any(|pull| pull.number == 120 || pull.number == 7)
    );
    assert_eq!(pulls[0].number, 249);
    assert_eq!(pulls[0].head_ref, "feature");
    assert_eq!(pulls[0].base_ref, "main");
    assert_eq!(
        pulls[0].head_clone_url.as_deref(),
        Some("https://github.com/octo-org/hello.git")
    );
    let pages = fake
        .requests()
        .iter()
        .filter(|request| request.method == "GET" && request.path.contains("pulls?"))
        .count();
    assert_eq!(pages, 2);
}

#[tokio::test]
async fn the_installations_repositories_are_listed_across_pages() {
    let fake = fake();
    let names: Vec<String> = (0..130).map(|n| format!("octo-org/repo-{n:03}")).collect();
    let mut installed: Vec<&str> = vec![REPO];
    installed.extend(names.iter().map(String::as_str));
    fake.add_installation(88, APP_ID, &installed);
    let client = app(&fake).installation_client(88).await.unwrap();
    let repos = client.installation_repositories().await.unwrap();
    assert_eq!(repos.len(), 131);
    assert_eq!(repos[0], REPO);
    assert_eq!(repos[130], "octo-org/repo-129");
    // Another installation's token sees its own.
    let first = app(&fake).installation_client(INSTALLATION).await.unwrap();
    assert_eq!(first.installation_repositories().await.unwrap(), [REPO]);
    // A token that is not an installation's may not ask.
    fake.add_token("ghp_user", Access::Write, "octocat", "User");
    let user = GitHub::new(&fake.url(), "ghp_user", policy()).unwrap();
    let error = user.installation_repositories().await.unwrap_err();
    assert!(matches!(error, GitHubError::Forbidden { .. }), "{error:?}");
}
