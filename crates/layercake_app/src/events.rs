//! Webhook deliveries as typed events: only the fields layercake reads, so
//! any payload GitHub adds fields to still parses. Pure.

use layercake_queue::NewJob;
use serde::Deserialize;

/// What a delivery asks of layercake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Review this pull request at this head: the job to queue.
    Review(NewJob),
    /// A pull request was closed: cancel its jobs.
    Closed {
        /// `owner/name`.
        repository: String,
        /// The pull request's number.
        pr_number: u64,
    },
    /// An installation was created, deleted, suspended or unsuspended.
    Installation {
        /// Its id.
        installation_id: u64,
        /// The account it is installed on.
        account: String,
        /// Whether it may be used (not deleted or suspended).
        active: bool,
        /// Its repositories (`owner/name`).
        repositories: Vec<String>,
    },
    /// Repositories were added to or removed from an installation.
    InstallationRepositories {
        /// The installation's id.
        installation_id: u64,
        /// Repositories added (`owner/name`).
        added: Vec<String>,
        /// Repositories removed.
        removed: Vec<String>,
    },
    /// Nothing to do (an event or action layercake does not act on, a ping).
    Ignored {
        /// Why, for the log.
        why: String,
    },
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
    #[serde(default)]
    account: Option<Account>,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
    clone_url: String,
}

#[derive(Deserialize)]
struct NamedRepository {
    full_name: String,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    action: String,
    #[serde(default)]
    installation: Option<Installation>,
    repository: Repository,
    pull_request: PullRequest,
}

#[derive(Deserialize)]
struct PullRequest {
    number: u64,
    head: GitRef,
    base: GitRef,
}

#[derive(Deserialize)]
struct GitRef {
    sha: String,
}

#[derive(Deserialize)]
struct CheckSuitePayload {
    action: String,
    #[serde(default)]
    installation: Option<Installation>,
    repository: Repository,
    check_suite: CheckSuite,
}

#[derive(Deserialize)]
struct CheckSuite {
    #[serde(default)]
    pull_requests: Vec<LinkedPullRequest>,
}

#[derive(Deserialize)]
struct CheckRunPayload {
    action: String,
    #[serde(default)]
    installation: Option<Installation>,
    repository: Repository,
    check_run: CheckRun,
}

#[derive(Deserialize)]
struct CheckRun {
    #[serde(default)]
    pull_requests: Vec<LinkedPullRequest>,
}

/// A pull request as check suites and runs list them.
#[derive(Deserialize)]
struct LinkedPullRequest {
    number: u64,
    head: GitRef,
    base: GitRef,
}

#[derive(Deserialize)]
struct InstallationPayload {
    action: String,
    installation: Installation,
    #[serde(default)]
    repositories: Vec<NamedRepository>,
}

#[derive(Deserialize)]
struct InstallationRepositoriesPayload {
    installation: Installation,
    #[serde(default)]
    repositories_added: Vec<NamedRepository>,
    #[serde(default)]
    repositories_removed: Vec<NamedRepository>,
}

#[derive(Deserialize)]
struct ActionOnly {
    #[serde(default)]
    action: Option<String>,
}

/// The pull-request actions that change what there is to review.
const REVIEWED: &[&str] = &["opened", "synchronize", "reopened", "ready_for_review"];

/// Parses a delivery of `event` (`X-GitHub-Event`). Unknown events and
/// actions are `Ignored`; only a body that is not the JSON its event
/// promises is an error (a 400, never a 500).
pub fn parse_event(event: &str, body: &[u8]) -> Result<Vec<Event>, serde_json::Error> {
    let ignored = |why: String| Ok(vec![Event::Ignored { why }]);
    match event {
        "pull_request" => {
            let action: ActionOnly = serde_json::from_slice(body)?;
            let action = action.action.unwrap_or_default();
            if !REVIEWED.contains(&action.as_str()) && action != "closed" {
                return ignored(format!("pull_request.{action} needs no review"));
            }
            let p: PullRequestPayload = serde_json::from_slice(body)?;
            if p.action == "closed" {
                return Ok(vec![Event::Closed {
                    repository: p.repository.full_name,
                    pr_number: p.pull_request.number,
                }]);
            }
            Ok(vec![Event::Review(NewJob {
                repository: p.repository.full_name,
                installation_id: p.installation.map(|i| i.id),
                pr_number: p.pull_request.number,
                head_sha: p.pull_request.head.sha,
                base_sha: p.pull_request.base.sha,
                clone_url: p.repository.clone_url,
                event: format!("pull_request.{}", p.action),
                trigger: None,
            })])
        }
        "check_suite" => {
            let p: CheckSuitePayload = serde_json::from_slice(body)?;
            if p.action != "requested" && p.action != "rerequested" {
                return ignored(format!("check_suite.{} needs no review", p.action));
            }
            linked(
                p.repository,
                p.installation,
                p.check_suite.pull_requests,
                format!("check_suite.{}", p.action),
            )
        }
        "check_run" => {
            let p: CheckRunPayload = serde_json::from_slice(body)?;
            if p.action != "rerequested" {
                return ignored(format!("check_run.{} needs no review", p.action));
            }
            linked(
                p.repository,
                p.installation,
                p.check_run.pull_requests,
                "check_run.rerequested".to_string(),
            )
        }
        "installation" => {
            let p: InstallationPayload = serde_json::from_slice(body)?;
            let active = match p.action.as_str() {
                "created" | "unsuspend" | "new_permissions_accepted" => true,
                "deleted" | "suspend" => false,
                other => return ignored(format!("installation.{other} changes nothing")),
            };
            Ok(vec![Event::Installation {
                installation_id: p.installation.id,
                account: p.installation.account.map(|a| a.login).unwrap_or_default(),
                active,
                repositories: p.repositories.into_iter().map(|r| r.full_name).collect(),
            }])
        }
        "installation_repositories" => {
            let p: InstallationRepositoriesPayload = serde_json::from_slice(body)?;
            Ok(vec![Event::InstallationRepositories {
                installation_id: p.installation.id,
                added: p
                    .repositories_added
                    .into_iter()
                    .map(|r| r.full_name)
                    .collect(),
                removed: p
                    .repositories_removed
                    .into_iter()
                    .map(|r| r.full_name)
                    .collect(),
            }])
        }
        "ping" => ignored("ping".to_string()),
        other => ignored(format!("the {other:?} event is not one layercake acts on")),
    }
}

fn linked(
    repository: Repository,
    installation: Option<Installation>,
    pull_requests: Vec<LinkedPullRequest>,
    event: String,
) -> Result<Vec<Event>, serde_json::Error> {
    if pull_requests.is_empty() {
        return Ok(vec![Event::Ignored {
            why: format!("{event} names no pull request of this repository"),
        }]);
    }
    let installation_id = installation.map(|i| i.id);
    Ok(pull_requests
        .into_iter()
        .map(|pr| {
            Event::Review(NewJob {
                repository: repository.full_name.clone(),
                installation_id,
                pr_number: pr.number,
                head_sha: pr.head.sha,
                base_sha: pr.base.sha,
                clone_url: repository.clone_url.clone(),
                event: event.clone(),
                trigger: None,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every real payload parses into the event its folder and name say.
    #[test]
    fn the_real_payloads_parse() {
        let mut seen = 0;
        for payload in layercake_testkit::webhook_payloads() {
            let (event, name, body) = (payload.event, payload.name, payload.body);
            let parsed =
                parse_event(&event, &body).unwrap_or_else(|e| panic!("{event}/{name}: {e}"));
            let action = name.split('.').next().unwrap_or("");
            let kind = match &parsed[0] {
                Event::Review(r) => format!("review {}", r.event),
                Event::Closed { .. } => "closed".to_string(),
                Event::Installation { active, .. } => format!("installation active={active}"),
                Event::InstallationRepositories { .. } => "installation_repositories".to_string(),
                Event::Ignored { .. } => "ignored".to_string(),
            };
            let expected = match (event.as_str(), action) {
                ("pull_request", "opened" | "synchronize" | "reopened" | "ready_for_review") => {
                    format!("review pull_request.{action}")
                }
                ("pull_request", "closed") => "closed".to_string(),
                ("installation", "created" | "unsuspend" | "new_permissions_accepted") => {
                    "installation active=true".to_string()
                }
                ("installation", "deleted" | "suspend") => "installation active=false".to_string(),
                ("installation_repositories", _) => "installation_repositories".to_string(),
                ("check_suite", "requested" | "rerequested") | ("check_run", "rerequested") => {
                    // A review when the payload lists a pull request of the repository.
                    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
                    let prs = &json[event.as_str()]["pull_requests"];
                    if prs.as_array().is_some_and(|a| !a.is_empty()) {
                        format!("review {event}.{action}")
                    } else {
                        "ignored".to_string()
                    }
                }
                _ => "ignored".to_string(),
            };
            assert_eq!(kind, expected, "{event}/{name}");
            seen += 1;
        }
        assert!(seen >= 50, "{seen} payloads");
    }

    #[test]
    fn a_check_run_rerequest_for_a_pull_request_is_a_review() {
        let body = br#"{"action":"rerequested","installation":{"id":7},"repository":{"full_name":"o/r","clone_url":"/tmp/r.git"},
            "check_run":{"pull_requests":[{"number":3,"head":{"sha":"h"},"base":{"sha":"b"}}]}}"#;
        let events = parse_event("check_run", body).expect("parses");
        assert_eq!(
            events,
            [Event::Review(NewJob {
                repository: "o/r".to_string(),
                installation_id: Some(7),
                pr_number: 3,
                head_sha: "h".to_string(),
                base_sha: "b".to_string(),
                clone_url: "/tmp/r.git".to_string(),
                event: "check_run.rerequested".to_string(),
                trigger: None,
            })]
        );
        assert!(parse_event("pull_request", b"not json").is_err());
        assert!(matches!(
            parse_event("star", b"{}").expect("ignored")[0],
            Event::Ignored { .. }
        ));
    }
}
