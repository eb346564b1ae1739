//! `layercake action` end to end: a real git repository in a temp dir, the
//! real `pull_request` payloads (`layercake_testkit::webhook_payload`, with
//! this repository's commits), and the fake GitHub over real HTTP,
//! which enforces GitHub's rules (body size, review lines in the diff,
//! read-only tokens). These runs are lint-only (`LAYERCAKE_NO_BUILD`), so
//! they need no Docker; `diff_build.rs` covers the builds.

use layercake_testkit::fake_github::{Access, FakeGitHub};
use layercake_testkit::{GitRepo, webhook_payload};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

const REPO: &str = "Codertocat/Hello-World";
const WRITE_TOKEN: &str = "ghs_write_token";
const READ_TOKEN: &str = "ghs_read_only_token";

const BASE_DOCKERFILE: &str = "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\nCMD [\"node\", \"index.js\"]\n";
const HEAD_DOCKERFILE: &str = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN apt-get update\nUSER node\nCMD [\"node\", \"index.js\"]\n";

/// A pull request in a real repository, the fake GitHub that hosts it, and
/// the files a run of the action writes.
struct Scenario {
    repo: GitRepo,
    fake: FakeGitHub,
    payload: Value,
    dir: tempfile::TempDir,
    number: u64,
}

impl Scenario {
    fn new(action: &str) -> Scenario {
        let repo = GitRepo::new();
        repo.write("Dockerfile", BASE_DOCKERFILE);
        repo.write("package.json", "{}\n");
        let base = repo.commit("base");
        repo.checkout_new_branch("pr");
        repo.write("Dockerfile", HEAD_DOCKERFILE);
        let head = repo.commit("pr");
        let mut payload = webhook_payload(&format!("pull_request/{action}.payload.json"));
        payload["pull_request"]["base"]["sha"] = Value::from(base);
        payload["pull_request"]["head"]["sha"] = Value::from(head);
        let fake = FakeGitHub::start();
        fake.add_token(WRITE_TOKEN, Access::Write, "github-actions[bot]", "Bot");
        fake.add_token(READ_TOKEN, Access::ReadOnly, "github-actions[bot]", "Bot");
        fake.add_pull_request_from_payload(&payload);
        let number = payload["pull_request"]["number"].as_u64().expect("number");
        let scenario = Scenario {
            repo,
            fake,
            payload,
            dir: tempfile::tempdir().expect("tempdir"),
            number,
        };
        scenario.sync_files();
        scenario
    }

    fn head(&self) -> String {
        self.payload["pull_request"]["head"]["sha"]
            .as_str()
            .expect("head sha")
            .to_string()
    }

    /// Tells the fake the PR's files, with the patch git gives.
    fn sync_files(&self) {
        self.fake
            .set_files_from_git(&self.payload, &self.repo, &["Dockerfile"]);
    }

    /// A new commit on the PR (a push): the payload and the fake follow it.
    fn push(&mut self, dockerfile: &str) {
        self.repo.write("Dockerfile", dockerfile);
        let head = self.repo.commit("push");
        self.payload["pull_request"]["head"]["sha"] = Value::from(head.clone());
        self.fake.set_head_sha(REPO, self.number, &head);
        self.sync_files();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `layercake action` as GitHub Actions would.
    fn run(&self, token: &str, extra_env: &[(&str, &str)]) -> Output {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let event = self.path(&format!("event-{run}.json"));
        std::fs::write(&event, self.payload.to_string()).expect("event");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_layercake"));
        command
            .arg("action")
            .current_dir(self.repo.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", self.fake.url())
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_TOKEN", token)
            .env("GITHUB_WORKSPACE", self.repo.path())
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .env("GITHUB_OUTPUT", self.path("output.txt"))
            .env("LAYERCAKE_REPORT_FILE", self.path("report.json"))
            .env("LAYERCAKE_SARIF_FILE", self.path("layercake.sarif"))
            .env("LAYERCAKE_NO_BUILD", "true")
            .env("LAYERCAKE_FAIL_ON", "none")
            .env_remove("LAYERCAKE_DOCKER");
        for (name, value) in extra_env {
            command.env(name, value);
        }
        command.output().expect("run layercake action")
    }

    fn comments(&self) -> Vec<layercake_testkit::fake_github::FakeComment> {
        self.fake.issue_comments(REPO, self.number)
    }
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn first_run_posts_one_comment_and_one_review_on_changed_lines() {
    let scenario = Scenario::new("opened");
    let stdout = ok(&scenario.run(WRITE_TOKEN, &[]));

    let comments = scenario.comments();
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let body = &comments[0].body;
    assert!(
        body.starts_with("<!-- layercake:summary key=default -->"),
        "{body}"
    );
    let stable = body.replace(&scenario.head()[..12], "<head>").replace(
        &scenario.payload["pull_request"]["base"]["sha"]
            .as_str()
            .unwrap()[..12],
        "<base>",
    );
    insta::assert_snapshot!(stable);

    let reviews = scenario.fake.reviews(REPO, scenario.number);
    assert_eq!(reviews.len(), 1, "{reviews:#?}");
    let lines: Vec<u64> = reviews[0].comments.iter().map(|c| c.line).collect();
    assert!(
        lines.contains(&3),
        "LC201 on the changed COPY line: {reviews:#?}"
    );
    assert!(
        lines.iter().all(|l| (3..=5).contains(l)),
        "only changed lines: {lines:?}"
    );

    // What stays in the job: annotations, summary, outputs, SARIF, report.
    assert!(
        stdout.contains("::warning file=Dockerfile,line=3,"),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(scenario.path("summary.md")).expect("summary");
    assert!(summary.contains("LC201"), "{summary}");
    let output = std::fs::read_to_string(scenario.path("output.txt")).expect("outputs");
    assert!(output.contains("\nnew-findings="), "{output}");
    assert!(output.contains("\nfailed=false\n"), "{output}");
    let sarif: Value = serde_json::from_str(
        &std::fs::read_to_string(scenario.path("layercake.sarif")).expect("sarif"),
    )
    .expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(scenario.path("report.json")).expect("report"),
    )
    .expect("json");
    assert_eq!(report["pull_request"]["number"], scenario.number);
    assert_eq!(report["pull_request"]["head_sha"], scenario.head());
}

/// action.yml's `outputs:`, each a step's output.
#[derive(serde::Deserialize)]
struct ActionOutputs {
    outputs: BTreeMap<String, ActionOutput>,
}

#[derive(serde::Deserialize)]
struct ActionOutput {
    value: String,
}

#[test]
fn the_outputs_are_the_ones_the_binary_writes() {
    let scenario = Scenario::new("opened");
    ok(&scenario.run(WRITE_TOKEN, &[]));
    let written = std::fs::read_to_string(scenario.path("output.txt")).expect("outputs");
    let names: BTreeSet<&str> = written
        .lines()
        .map(|line| {
            line.split_once('=')
                .unwrap_or_else(|| panic!("not name=value: {line:?}"))
                .0
        })
        .collect();
    assert_eq!(
        names.len(),
        written.lines().count(),
        "each output once: {written}"
    );
    let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../action.yml");
    let action: ActionOutputs =
        serde_saphyr::from_str(&std::fs::read_to_string(action).expect("action.yml"))
            .expect("action.yml parses");
    // Each of action.yml's outputs is the review step's output of its name.
    for (name, output) in &action.outputs {
        assert_eq!(
            output.value,
            format!("${{{{ steps.review.outputs.{name} }}}}"),
            "action.yml's output {name}"
        );
    }
    let declared: BTreeSet<&str> = action.outputs.keys().map(String::as_str).collect();
    assert_eq!(names, declared, "written by `layercake action`: {written}");
}

#[test]
fn a_rerun_without_changes_writes_nothing() {
    let scenario = Scenario::new("synchronize");
    ok(&scenario.run(WRITE_TOKEN, &[]));
    let writes = scenario.fake.writes();
    ok(&scenario.run(WRITE_TOKEN, &[]));
    assert_eq!(
        scenario.fake.writes(),
        writes,
        "{:#?}",
        scenario.fake.requests()
    );
    assert_eq!(scenario.comments().len(), 1);
    assert_eq!(scenario.fake.reviews(REPO, scenario.number).len(), 1);
}

#[test]
fn a_rerun_after_a_push_updates_the_comment_in_place() {
    let mut scenario = Scenario::new("synchronize");
    ok(&scenario.run(WRITE_TOKEN, &[]));
    let first = scenario.comments();
    scenario.push(&HEAD_DOCKERFILE.replace(
        "RUN apt-get update\n",
        "RUN apt-get update\nRUN apt-get install curl\n",
    ));
    ok(&scenario.run(WRITE_TOKEN, &[]));
    let after = scenario.comments();
    assert_eq!(after.len(), 1, "updated, not duplicated");
    assert_eq!(after[0].id, first[0].id);
    assert_ne!(after[0].body, first[0].body);
    assert!(after[0].body.contains(&scenario.head()[..12]));
    // The second review holds only what the first did not.
    let reviews = scenario.fake.reviews(REPO, scenario.number);
    assert_eq!(reviews.len(), 2, "{reviews:#?}");
    assert!(
        reviews[1].comments.iter().all(|c| c.line == 6),
        "{reviews:#?}"
    );
}

#[test]
fn a_fork_with_a_read_only_token_posts_nothing_and_says_why_once() {
    let scenario = Scenario::new("opened");
    let stdout = ok(&scenario.run(READ_TOKEN, &[]));
    assert!(scenario.comments().is_empty());
    assert!(scenario.fake.reviews(REPO, scenario.number).is_empty());
    let said: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("nothing was posted"))
        .collect();
    assert_eq!(said.len(), 1, "{stdout}");
    assert!(said[0].contains("workflow_run"), "{stdout}");
    assert!(
        std::fs::read_to_string(scenario.path("summary.md"))
            .expect("summary")
            .contains("LC201")
    );
    assert!(scenario.path("layercake.sarif").exists());
}

#[test]
fn a_huge_report_still_fits_in_one_comment() {
    let mut scenario = Scenario::new("opened");
    let mut dockerfile = String::from("FROM node:22\n");
    for i in 0..600 {
        dockerfile.push_str(&format!(
            "RUN apt-get install package-{i} && pip install tool-{i}\n"
        ));
    }
    dockerfile.push_str("COPY . .\nRUN npm install\n");
    scenario.push(&dockerfile);
    ok(&scenario.run(WRITE_TOKEN, &[]));
    let comments = scenario.comments();
    assert_eq!(
        comments.len(),
        1,
        "the fake refuses a body over 65,536 characters"
    );
    let body = &comments[0].body;
    assert!(body.chars().count() <= 65_536);
    assert!(
        body.contains("Shortened to fit a comment"),
        "{}",
        &body[..2000.min(body.len())]
    );
    assert!(body.contains("https://github.com/Codertocat/Hello-World/actions/runs/42"));
}

#[test]
fn two_racing_runs_leave_one_comment() {
    let scenario = Scenario::new("opened");
    let outs: Vec<Output> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| s.spawn(|| scenario.run(WRITE_TOKEN, &[])))
            .collect();
        runs.into_iter().map(|r| r.join().expect("run")).collect()
    });
    for out in &outs {
        ok(out);
    }
    assert_eq!(
        scenario.comments().len(),
        1,
        "{:#?}",
        scenario.fake.requests()
    );
}

#[test]
fn events_it_does_not_review_are_a_clear_no_op() {
    let scenario = Scenario::new("labeled");
    let stdout = ok(&scenario.run(WRITE_TOKEN, &[]));
    assert!(
        stdout.contains("nothing to review for pull_request `labeled`"),
        "{stdout}"
    );
    assert_eq!(scenario.fake.writes(), 0);
    let push = scenario.run(WRITE_TOKEN, &[("GITHUB_EVENT_NAME", "push")]);
    assert!(ok(&push).contains("nothing to review for a `push` event"));
}

impl Scenario {
    /// Runs `layercake publish` as the `workflow_run` workflow would, for
    /// the report a previous run wrote.
    fn publish(&self, report: &Path, run_head: &str) -> Output {
        let event = self.path("workflow_run.json");
        let payload = serde_json::json!({"action": "completed", "workflow_run": {"head_sha": run_head, "event": "pull_request"}});
        std::fs::write(&event, payload.to_string()).expect("event");
        std::process::Command::new(env!("CARGO_BIN_EXE_layercake"))
            .args(["publish", "--report"])
            .arg(report)
            .current_dir(self.dir.path())
            .env("GITHUB_EVENT_NAME", "workflow_run")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", self.fake.url())
            .env("GITHUB_TOKEN", WRITE_TOKEN)
            .output()
            .expect("run layercake publish")
    }
}

#[test]
fn a_forks_report_is_published_by_the_workflow_run_publisher() {
    let scenario = Scenario::new("opened");
    ok(&scenario.run(READ_TOKEN, &[]));
    assert!(scenario.comments().is_empty());
    let report = scenario.path("report.json");

    // Tampered: the repository is not this one.
    let mut forged: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    forged["pull_request"]["repository"] = Value::from("someone/else");
    let forged_path = scenario.path("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let out = scenario.publish(&forged_path, &scenario.head());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not for this repository"));

    // Text from the repository is escaped again, whatever the report says.
    let mut hostile: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    hostile["images"][0]["findings"][0]["message"] =
        Value::from("<img src=x onerror=alert(1)> @everyone");
    let hostile_path = scenario.path("hostile.json");
    std::fs::write(&hostile_path, hostile.to_string()).unwrap();
    ok(&scenario.publish(&hostile_path, &scenario.head()));
    let comments = scenario.comments();
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(body.contains("\\<img src=x onerror=alert(1)\\>"), "{body}");
    assert!(!body.replace("\\<", "").contains("<img"), "{body}");
    assert!(body.contains("@\u{2060}everyone"), "{body}");
    assert_eq!(scenario.fake.reviews(REPO, scenario.number).len(), 1);

    // The same report again: nothing to write.
    let writes = scenario.fake.writes();
    ok(&scenario.publish(&hostile_path, &scenario.head()));
    assert_eq!(scenario.fake.writes(), writes);
}

#[test]
fn a_stale_report_is_not_published() {
    let mut scenario = Scenario::new("opened");
    ok(&scenario.run(READ_TOKEN, &[]));
    let report = scenario.path("report.json");
    let old_head = scenario.head();
    scenario.push(&HEAD_DOCKERFILE.replace("USER node", "USER 1000"));
    let stdout = ok(&scenario.publish(&report, &old_head));
    assert!(stdout.contains("has moved on"), "{stdout}");
    assert!(scenario.comments().is_empty());
    // A report for one commit from a run for another is refused outright.
    let out = scenario.publish(&report, &scenario.head());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rate_limits_are_waited_out_not_failed_on() {
    use layercake_testkit::fake_github::RateLimit;
    let scenario = Scenario::new("opened");
    // The first two API calls are refused: a 429, then a spent hourly budget.
    scenario.fake.rate_limit_next(
        1,
        RateLimit::TooMany {
            retry_after_secs: 1,
        },
    );
    let started = std::time::Instant::now();
    ok(&scenario.run(WRITE_TOKEN, &[]));
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    scenario
        .fake
        .rate_limit_next(1, RateLimit::Primary { reset_in_secs: 1 });
    ok(&scenario.run(WRITE_TOKEN, &[]));
    assert_eq!(scenario.comments().len(), 1);
    let limited = scenario
        .fake
        .requests()
        .iter()
        .filter(|r| r.status == 429 || r.status == 403)
        .count();
    assert_eq!(limited, 2, "{:#?}", scenario.fake.requests());
}
