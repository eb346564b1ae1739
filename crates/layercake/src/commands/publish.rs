//! `layercake publish --report FILE`: posts a report that a pull request's
//! workflow made, from a `workflow_run` workflow that never checks out the
//! pull request's code. The report is untrusted: it is checked and bounded,
//! its text escaped again, and the pull request it names is looked up
//! through the API, whose head must still be the commit the report is for.

use crate::cli::PublishArgs;
use anyhow::{Context, bail};
use layercake_github::{GitHub, RepoName, RetryPolicy};
use layercake_report::{CommentOptions, read_untrusted_report};
use layercake_review::publish::{self, PublishOptions, PullRequestTarget};

/// Runs `publish`; returns the exit status.
pub fn run(args: &PublishArgs) -> anyhow::Result<u8> {
    let bytes = std::fs::read(&args.report)
        .with_context(|| format!("reading {}", args.report.display()))?;
    let report = read_untrusted_report(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.report.display()))?;
    let Some(pr) = report.pull_request.clone() else {
        bail!(
            "{}: the report names no pull request (was it made by `layercake action`?)",
            args.report.display()
        );
    };
    if !pr.repository.eq_ignore_ascii_case(&args.repository) {
        bail!(
            "the report is for {}, not for this repository ({})",
            pr.repository,
            args.repository
        );
    }
    if pr.head_sha != report.head.sha {
        bail!(
            "the report's pull request head ({}) is not the commit it measured ({})",
            pr.head_sha,
            report.head.sha
        );
    }
    // The workflow_run that made the artifact ran for this commit.
    if let Some(run_head) = workflow_run_head_sha()
        && run_head != pr.head_sha
    {
        bail!(
            "the report is for {}, but the workflow run that uploaded it ran for {run_head}",
            pr.head_sha
        );
    }
    let repo: RepoName = args
        .repository
        .parse()
        .map_err(|e| anyhow::anyhow!("repository {:?}: {e}", args.repository))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let github = GitHub::new(&args.api_url, &args.token, RetryPolicy::default())
        .context("making the GitHub client")?;
    let current = runtime
        .block_on(github.pull_request(&repo, pr.number))
        .with_context(|| format!("looking up pull request #{}", pr.number))?;
    if current.head_sha != pr.head_sha {
        println!(
            "layercake: pull request #{} has moved on to {} since this report (for {}); not publishing a stale report",
            pr.number, current.head_sha, pr.head_sha
        );
        return Ok(crate::EXIT_OK);
    }
    let target = PullRequestTarget {
        repo,
        number: pr.number,
        head_sha: pr.head_sha.clone(),
    };
    let options = PublishOptions {
        post_comment: true,
        post_review: args.review,
        comment: CommentOptions {
            key: args.comment_key.clone(),
            ..CommentOptions::default()
        },
        authors: Vec::new(),
    };
    let published = runtime
        .block_on(publish::publish(&github, &target, &report, &options))
        .context("publishing to the pull request")?;
    println!(
        "layercake: summary comment {:?}; review {:?}",
        published.comment, published.review
    );
    Ok(crate::EXIT_OK)
}

/// `workflow_run.head_sha` of the event that started this workflow, if it is a `workflow_run`.
fn workflow_run_head_sha() -> Option<String> {
    if std::env::var("GITHUB_EVENT_NAME").ok()? != "workflow_run" {
        return None;
    }
    let path = std::env::var_os("GITHUB_EVENT_PATH")?;
    let event: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    event["workflow_run"]["head_sha"]
        .as_str()
        .map(str::to_string)
}
