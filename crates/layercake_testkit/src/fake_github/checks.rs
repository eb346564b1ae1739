//! Check runs: create, update (annotations appended), list for a commit,
//! with GitHub's limits and validation messages.

use super::*;

/// A check run, as the requests made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeCheckRun {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The commit it is on.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// `success`, `failure`, … once completed.
    pub conclusion: Option<String>,
    /// `started_at` as sent.
    pub started_at: Option<String>,
    /// `completed_at` as sent (or the time of completion).
    pub completed_at: Option<String>,
    /// `external_id` as sent.
    pub external_id: Option<String>,
    /// `details_url` as sent.
    pub details_url: Option<String>,
    /// The output's title.
    pub output_title: Option<String>,
    /// The output's summary.
    pub output_summary: Option<String>,
    /// The output's text.
    pub output_text: Option<String>,
    /// Every annotation, in the order they were added.
    pub annotations: Vec<FakeAnnotation>,
    /// How many annotations each request that added some added.
    pub annotation_batches: Vec<usize>,
    /// How many `PATCH`es changed it.
    pub updates: usize,
    /// Who created it.
    pub user_login: String,
}

/// An annotation of a check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAnnotation {
    /// The file.
    pub path: String,
    /// Its first line.
    pub start_line: u64,
    /// Its last line.
    pub end_line: u64,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: String,
    /// Its message.
    pub message: String,
    /// Its title.
    pub title: Option<String>,
    /// Its raw details.
    pub raw_details: Option<String>,
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs`: the runs on the commit
/// `git_ref` (a full SHA here), newest first, `check_name` filtering by name;
/// with `filter=latest` (GitHub's default) only the newest run of each name.
pub(super) fn commit_check_runs(
    state: &State,
    request: &Request,
    repo: usize,
    git_ref: &str,
) -> Reply {
    let name = request.query("check_name");
    let latest_only = request.query("filter").unwrap_or("latest") == "latest";
    let mut runs: Vec<&FakeCheckRun> = state.repos[repo]
        .check_runs
        .iter()
        .filter(|run| run.head_sha == git_ref && name.is_none_or(|name| run.name == name))
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.id));
    if latest_only {
        let mut seen = std::collections::HashSet::new();
        runs.retain(|run| seen.insert(run.name.clone()));
    }
    let runs: Vec<Value> = runs
        .into_iter()
        .map(|run| check_run_json(state, repo, run))
        .collect();
    let total = runs.len();
    let base = format!(
        "{}{}/repositories/{}/commits/{git_ref}/check-runs",
        state.url, request.prefix, state.repos[repo].id
    );
    let (shown, link) = page(request, runs, &base);
    let mut reply = Reply::json(200, json!({"total_count": total, "check_runs": shown}));
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

pub(super) fn check_run_validation(field: &str, code: &str, message: Option<String>) -> Reply {
    let mut error = json!({"resource": "CheckRun", "code": code, "field": field});
    if let (Some(message), Some(object)) = (message, error.as_object_mut()) {
        object.insert("message".to_string(), Value::String(message));
    }
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [error],
            "documentation_url": "https://docs.github.com/rest/checks/runs",
        }),
    )
}

/// A check run's `output`, checked.
pub(super) struct OutputChange {
    pub(super) title: String,
    pub(super) summary: String,
    pub(super) text: Option<String>,
    pub(super) annotations: Vec<FakeAnnotation>,
}

pub(super) fn parse_output(output: &Value) -> Result<OutputChange, Reply> {
    let Some(output) = output.as_object() else {
        return Err(invalid_request(
            "For 'properties/output', it is not an object.",
        ));
    };
    let text_field = |name: &str| output.get(name).and_then(Value::as_str);
    let missing: Vec<&str> = ["summary", "title"]
        .into_iter()
        .filter(|name| text_field(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(not_supplied(&missing));
    }
    let annotations = match output.get("annotations") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(annotations)) => annotations.clone(),
        Some(_) => {
            return Err(invalid_request(
                "For 'properties/annotations', it is not an array.",
            ));
        }
    };
    // The schema's limits first, then the model's.
    if annotations.len() > MAX_ANNOTATIONS_PER_REQUEST {
        return Err(invalid_request(&format!(
            "No more than {MAX_ANNOTATIONS_PER_REQUEST} items are allowed; {} were supplied.",
            annotations.len()
        )));
    }
    for name in ["summary", "text"] {
        let chars = text_field(name).map_or(0, |text| text.chars().count());
        if chars > MAX_CHECK_OUTPUT {
            return Err(invalid_request(&format!(
                "Only {MAX_CHECK_OUTPUT} characters are allowed; {chars} were supplied."
            )));
        }
    }
    let mut parsed = Vec::new();
    for annotation in &annotations {
        let text = |name: &str| annotation.get(name).and_then(Value::as_str);
        let line = |name: &str| annotation.get(name).and_then(Value::as_u64);
        let missing: Vec<&str> = [
            ("annotation_level", text("annotation_level").is_some()),
            ("end_line", line("end_line").is_some()),
            ("message", text("message").is_some()),
            ("path", text("path").is_some()),
            ("start_line", line("start_line").is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| name)
        .collect();
        if !missing.is_empty() {
            return Err(not_supplied(&missing));
        }
        let level = text("annotation_level").unwrap_or_default();
        if !matches!(level, "notice" | "warning" | "failure") {
            return Err(invalid_request(&format!(
                "For 'properties/annotation_level', \"{level}\" is not a member of [\"notice\", \"warning\", \"failure\"]."
            )));
        }
        let (start_line, end_line) = (
            line("start_line").unwrap_or_default(),
            line("end_line").unwrap_or_default(),
        );
        if start_line == 0 || end_line < start_line {
            return Err(check_run_validation("annotations", "invalid", None));
        }
        parsed.push(FakeAnnotation {
            path: text("path").unwrap_or_default().to_string(),
            start_line,
            end_line,
            annotation_level: level.to_string(),
            message: text("message").unwrap_or_default().to_string(),
            title: text("title").map(str::to_string),
            raw_details: text("raw_details").map(str::to_string),
        });
    }
    for name in ["summary", "text"] {
        if text_field(name).is_some_and(|text| text.len() > MAX_CHECK_OUTPUT) {
            return Err(check_run_validation(
                name,
                "custom",
                Some(format!(
                    "{name} exceeds a maximum bytesize of {MAX_CHECK_OUTPUT}"
                )),
            ));
        }
    }
    Ok(OutputChange {
        title: text_field("title").unwrap_or_default().to_string(),
        summary: text_field("summary").unwrap_or_default().to_string(),
        text: text_field("text").map(str::to_string),
        annotations: parsed,
    })
}

/// The `status`, `conclusion`, timestamps and `output` of a check-run request,
/// checked.
pub(super) struct CheckRunChange {
    pub(super) status: Option<String>,
    pub(super) conclusion: Option<String>,
    pub(super) started_at: Option<String>,
    pub(super) completed_at: Option<String>,
    pub(super) output: Option<OutputChange>,
}

pub(super) fn parse_check_run_change(
    object: &serde_json::Map<String, Value>,
) -> Result<CheckRunChange, Reply> {
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let status = text("status");
    if let Some(status) = &status
        && !matches!(status.as_str(), "queued" | "in_progress" | "completed")
    {
        return Err(invalid_request(&format!(
            "For 'properties/status', \"{status}\" is not a member of [\"queued\", \"in_progress\", \"completed\"]."
        )));
    }
    let conclusion = text("conclusion");
    const CONCLUSIONS: [&str; 8] = [
        "action_required",
        "cancelled",
        "failure",
        "neutral",
        "success",
        "skipped",
        "stale",
        "timed_out",
    ];
    if let Some(conclusion) = &conclusion
        && !CONCLUSIONS.contains(&conclusion.as_str())
    {
        return Err(invalid_request(&format!(
            "For 'properties/conclusion', \"{conclusion}\" is not a member of {CONCLUSIONS:?}."
        )));
    }
    let output = match object.get("output") {
        None | Some(Value::Null) => None,
        Some(output) => Some(parse_output(output)?),
    };
    Ok(CheckRunChange {
        status,
        conclusion,
        started_at: text("started_at"),
        completed_at: text("completed_at"),
        output,
    })
}

/// Applies a change to a check run; GitHub completes a run given a conclusion,
/// and appends annotations.
pub(super) fn apply_check_run_change(run: &mut FakeCheckRun, change: CheckRunChange, now: &str) {
    if let Some(status) = change.status {
        run.status = status;
    }
    if change.started_at.is_some() {
        run.started_at = change.started_at;
    }
    if let Some(conclusion) = change.conclusion {
        run.conclusion = Some(conclusion);
        run.status = "completed".to_string();
    }
    if change.completed_at.is_some() {
        run.completed_at = change.completed_at;
    }
    if run.status == "completed" && run.completed_at.is_none() {
        run.completed_at = Some(now.to_string());
    }
    if let Some(output) = change.output {
        run.output_title = Some(output.title);
        run.output_summary = Some(output.summary);
        if output.text.is_some() {
            run.output_text = output.text;
        }
        if !output.annotations.is_empty() {
            run.annotation_batches.push(output.annotations.len());
            run.annotations.extend(output.annotations);
        }
    }
}

pub(super) fn create_check_run(
    state: &mut State,
    request: &Request,
    repo: usize,
    user: &User,
) -> Reply {
    let object = match json_body(request) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let missing: Vec<&str> = ["head_sha", "name"]
        .into_iter()
        .filter(|name| text(name).is_none())
        .collect();
    if !missing.is_empty() {
        return not_supplied(&missing);
    }
    let change = match parse_check_run_change(&object) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let head_sha = text("head_sha").unwrap_or_default();
    let known = state.repos[repo]
        .pulls
        .values()
        .any(|pull| pull.base_sha == head_sha || pull.shas.contains(&head_sha));
    if !known {
        return Reply::json(
            422,
            json!({
                "message": "Unprocessable Entity",
                "errors": [format!("No commit found for SHA: {head_sha}")],
                "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
            }),
        );
    }
    if change.status.as_deref() == Some("completed") && change.conclusion.is_none() {
        return check_run_validation("conclusion", "missing_field", None);
    }
    let id = state.new_id();
    let now = timestamp(state.tick());
    let mut run = FakeCheckRun {
        id,
        name: text("name").unwrap_or_default(),
        head_sha,
        status: "queued".to_string(),
        conclusion: None,
        started_at: Some(now.clone()),
        completed_at: None,
        external_id: text("external_id"),
        details_url: text("details_url"),
        output_title: None,
        output_summary: None,
        output_text: None,
        annotations: Vec::new(),
        annotation_batches: Vec::new(),
        updates: 0,
        user_login: user.login.clone(),
    };
    apply_check_run_change(&mut run, change, &now);
    let json = check_run_json(state, repo, &run);
    state.repos[repo].check_runs.push(run);
    state.writes += 1;
    Reply::json(201, json)
}

pub(super) fn update_check_run(
    state: &mut State,
    request: &Request,
    repo: usize,
    id: u64,
) -> Reply {
    let object = match json_body(request) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let Some(index) = state.repos[repo]
        .check_runs
        .iter()
        .position(|run| run.id == id)
    else {
        return Reply::not_found();
    };
    let change = match parse_check_run_change(&object) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let completed = state.repos[repo].check_runs[index].conclusion.is_some();
    if change.status.as_deref() == Some("completed") && change.conclusion.is_none() && !completed {
        return check_run_validation("conclusion", "missing_field", None);
    }
    let now = timestamp(state.tick());
    let run = &mut state.repos[repo].check_runs[index];
    apply_check_run_change(run, change, &now);
    run.updates += 1;
    let run = run.clone();
    state.writes += 1;
    Reply::json(200, check_run_json(state, repo, &run))
}

pub(super) fn check_run_json(state: &State, repo: usize, run: &FakeCheckRun) -> Value {
    let full_name = &state.repos[repo].full_name;
    json!({
        "id": run.id,
        "node_id": format!("CR_fake{}", run.id),
        "name": run.name,
        "head_sha": run.head_sha,
        "external_id": run.external_id.clone().unwrap_or_default(),
        "url": format!("{}/repos/{full_name}/check-runs/{}", state.url, run.id),
        "html_url": format!("https://github.com/{full_name}/runs/{}", run.id),
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.output_title,
            "summary": run.output_summary,
            "text": run.output_text,
            "annotations_count": run.annotations.len(),
            "annotations_url": format!("{}/repos/{full_name}/check-runs/{}/annotations", state.url, run.id),
        },
        "app": {"slug": "layercake", "owner": {"login": "layercake"}},
        "pull_requests": [],
    })
}
