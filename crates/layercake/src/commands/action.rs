//! `layercake action`: the GitHub Action. Reviews the pull request of the
//! event that started the workflow: runs the `diff` pipeline from its base
//! to its head, writes the job summary, outputs, annotations and a SARIF
//! file, and publishes the sticky comment and inline review when the token
//! may write (a fork's pull request gets a read-only token: then it says so
//! once and still succeeds).

use crate::cli::{ActionArgs, FailOn};
use crate::progress::{Progress, ProgressStyle};
use anyhow::{Context, bail};
use layercake_github::{GitHub, RepoName, RetryPolicy};
use layercake_report::{
    BudgetVerdict, Change, CommentOptions, DiffReport, PullRequestInfo, StageScope, render_comment,
};
use layercake_review::publish::{self, PublishOptions, PullRequestTarget};
use layercake_review::{BuildOptions, ProbeMode, ReviewRequest};
use serde::Deserialize;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The parts of a `pull_request` event layercake reads.
#[derive(Debug, Deserialize)]
struct PullRequestEvent {
    action: String,
    pull_request: EventPullRequest,
    repository: EventRepository,
}

#[derive(Debug, Deserialize)]
struct EventPullRequest {
    number: u64,
    head: EventRef,
    base: EventRef,
}

#[derive(Debug, Deserialize)]
struct EventRef {
    sha: String,
    #[serde(default)]
    repo: Option<EventRepository>,
}

#[derive(Debug, Deserialize)]
struct EventRepository {
    full_name: String,
}

/// The actions of `pull_request` that change what there is to review.
const REVIEWED_ACTIONS: &[&str] = &["opened", "synchronize", "reopened", "ready_for_review"];

/// Runs the action; returns the exit status.
pub fn run(args: &ActionArgs) -> anyhow::Result<u8> {
    let event_name = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    if event_name != "pull_request" && event_name != "pull_request_target" {
        println!(
            "layercake: nothing to review for a `{event_name}` event (it runs on pull_request: opened, synchronize, reopened, ready_for_review)"
        );
        return Ok(crate::EXIT_OK);
    }
    let event_path =
        std::env::var_os("GITHUB_EVENT_PATH").context("GITHUB_EVENT_PATH is not set")?;
    let event_text = std::fs::read_to_string(&event_path)
        .with_context(|| format!("reading the event at {}", Path::new(&event_path).display()))?;
    let event: PullRequestEvent = serde_json::from_str(&event_text).with_context(|| {
        format!(
            "{} is not a pull_request event",
            Path::new(&event_path).display()
        )
    })?;
    if !REVIEWED_ACTIONS.contains(&event.action.as_str()) {
        println!(
            "layercake: nothing to review for pull_request `{}` (it runs on opened, synchronize, reopened, ready_for_review)",
            event.action
        );
        return Ok(crate::EXIT_OK);
    }
    let workspace =
        std::env::var_os("GITHUB_WORKSPACE").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let pr = &event.pull_request;
    // actions/checkout fetches one commit by default.
    for sha in [&pr.base.sha, &pr.head.sha] {
        layercake_git::ensure_commit(&workspace, sha, "origin", &[], None)?;
    }

    let request = ReviewRequest {
        repository: workspace.clone(),
        base: pr.base.sha.clone(),
        head: pr.head.sha.clone(),
        paths: args.paths.clone(),
        fail_on: args.fail_on.map(FailOn::to_config),
        stages: StageScope::Built,
        run_name: None,
    };
    let building = args.build.building(BuildOptions {
        jobs: args.jobs,
        probe: ProbeMode::WhenFindings,
        ..BuildOptions::default()
    });
    let progress = Progress::new(ProgressStyle::detect(false));
    let outcome = layercake_review::review(&request, &building, &progress)?;
    let failed = outcome.verdict.failed();
    let mut report = outcome.report;
    report.pull_request = Some(PullRequestInfo {
        repository: event.repository.full_name.clone(),
        number: pr.number,
        head_sha: pr.head.sha.clone(),
    });

    std::fs::write(&args.report_file, layercake_report::render_json(&report))
        .with_context(|| format!("writing {}", args.report_file.display()))?;
    std::fs::write(
        &args.sarif_file,
        layercake_render::sarif::render_sarif(&outcome.head_lint),
    )
    .with_context(|| format!("writing {}", args.sarif_file.display()))?;
    print!("{}", publish::annotations(&report));

    let details_url = match (
        std::env::var("GITHUB_SERVER_URL"),
        std::env::var("GITHUB_REPOSITORY"),
        std::env::var("GITHUB_RUN_ID"),
    ) {
        (Ok(server), Ok(repo), Ok(run)) => Some(format!("{server}/{repo}/actions/runs/{run}")),
        _ => None,
    };
    let comment_options = CommentOptions {
        key: args.comment_key.clone(),
        details_url,
        ..CommentOptions::default()
    };
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        // The job summary takes up to 1 MiB: the full report.
        let full = CommentOptions {
            limit: 1_000_000,
            ..comment_options.clone()
        };
        append(Path::new(&summary), &render_comment(&report, &full))?;
    }
    if let Some(output) = std::env::var_os("GITHUB_OUTPUT") {
        append(Path::new(&output), &outputs(&report, args, failed))?;
    }

    if args.comment || args.review {
        publish_to_pull_request(args, &event, &report, comment_options)?;
    }
    Ok(if failed {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    })
}

/// Publishes, turning a read-only token into one clear line rather than a failure.
fn publish_to_pull_request(
    args: &ActionArgs,
    event: &PullRequestEvent,
    report: &DiffReport,
    comment: CommentOptions,
) -> anyhow::Result<()> {
    let Some(token) = args.token.as_deref().filter(|t| !t.is_empty()) else {
        println!(
            "layercake: no token (GITHUB_TOKEN), so nothing was posted; the job summary has the report"
        );
        return Ok(());
    };
    let api_url =
        std::env::var("GITHUB_API_URL").unwrap_or_else(|_| "https://api.github.com".to_string());
    let repo: RepoName = event
        .repository
        .full_name
        .parse()
        .map_err(|e| anyhow::anyhow!("repository {:?}: {e}", event.repository.full_name))?;
    let target = PullRequestTarget {
        repo,
        number: event.pull_request.number,
        head_sha: event.pull_request.head.sha.clone(),
    };
    let options = PublishOptions {
        post_comment: args.comment,
        post_review: args.review,
        comment,
        authors: Vec::new(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let github =
        GitHub::new(&api_url, token, RetryPolicy::default()).context("making the GitHub client")?;
    match runtime.block_on(publish::publish(&github, &target, report, &options)) {
        Ok(published) => {
            println!(
                "layercake: summary comment {:?}; review {:?}",
                published.comment, published.review
            );
            Ok(())
        }
        Err(error) if error.is_read_only_token() => {
            let fork = event
                .pull_request
                .head
                .repo
                .as_ref()
                .is_some_and(|r| r.full_name != event.repository.full_name);
            println!(
                "layercake: nothing was posted: the token may not write to this pull request{} ({error}); the job summary, annotations and SARIF have the report, and a workflow_run workflow with `layercake publish` can post it (docs/github.md)",
                if fork {
                    " (it comes from a fork, whose GITHUB_TOKEN is read-only)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Err(error) => bail!("publishing to the pull request: {error}"),
    }
}

/// `GITHUB_OUTPUT` lines: the numbers a workflow branches on.
fn outputs(report: &DiffReport, args: &ActionArgs, failed: bool) -> String {
    let delta: i64 = report.images.iter().filter_map(|i| i.delta_bytes).sum();
    let budget = if report.images.iter().any(|i| {
        i.budget
            .as_ref()
            .is_some_and(|b| b.verdict == BudgetVerdict::Fail)
    }) {
        "fail"
    } else if report.images.iter().any(|i| i.budget.is_some()) {
        "pass"
    } else {
        "none"
    };
    format!(
        "report={}\nsarif={}\nimages={}\ndelta-bytes={delta}\nnew-findings={}\nfixed-findings={}\nbudget={budget}\nfailed={failed}\n",
        args.report_file.display(),
        args.sarif_file.display(),
        report.images.len(),
        report.count(Change::New),
        report.count(Change::Fixed),
    )
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
