//! Routing: every request is authenticated, rate limited or failed on demand,
//! then dispatched by method and path to what it fakes; the helpers every
//! endpoint answers with (validation errors, pagination).

use super::*;

pub(super) async fn handle(
    AxumState(state): AxumState<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Like GitHub, the fake finishes what it started when the client hangs up: the
    // work runs in its own task, which a closed connection does not cancel.
    let task = tokio::spawn(serve_request(state, method, uri, headers, body));
    task.await.unwrap_or_else(|_| {
        let mut failed = Response::new(Body::empty());
        *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        failed
    })
}

pub(super) async fn serve_request(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (prefix, path) = match uri.path().strip_prefix(ENTERPRISE_PREFIX) {
        Some(path) if path.starts_with('/') => (ENTERPRISE_PREFIX, path.to_string()),
        _ => ("", uri.path().to_string()),
    };
    let request = Request {
        method,
        prefix,
        path,
        query: uri.query().map(parse_query).unwrap_or_default(),
        headers,
        body,
    };
    let delay = {
        let mut state = lock(&state);
        let matched = match &mut state.delay_matching {
            Some((method, fragment, delay, left))
                if request.method.as_str() == method
                    && request.path.contains(fragment.as_str()) =>
            {
                let delay = *delay;
                *left -= 1;
                if *left == 0 {
                    state.delay_matching = None;
                }
                Some(delay)
            }
            _ => None,
        };
        state.delay_next.take().or(matched)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut state = lock(&state);
    let reply = answer(&mut state, &request);
    state.requests.push(RequestRecord {
        method: request.method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string()),
        status: reply.status,
    });
    let served = state.requests.len() as u64;
    let mut response = Response::builder().status(reply.status);
    let mut standard = vec![
        ("x-ratelimit-limit", RATE_LIMIT.to_string()),
        (
            "x-ratelimit-remaining",
            RATE_LIMIT.saturating_sub(served).to_string(),
        ),
        ("x-ratelimit-reset", state.budget_reset.to_string()),
        ("x-ratelimit-used", served.min(RATE_LIMIT).to_string()),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-api-version-selected", "2022-11-28".to_string()),
    ];
    standard.retain(|(name, _)| !reply.headers.iter().any(|(own, _)| own == name));
    for (name, value) in standard.into_iter().chain(reply.headers) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response = response.header(name, value);
        }
    }
    let body = match reply.body {
        Some(body) => {
            response = response.header("content-type", "application/json; charset=utf-8");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    response.body(body).unwrap_or_else(|_| {
        let mut fallback = Response::new(Body::empty());
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

pub(super) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (pair.to_string(), String::new()),
        })
        .collect()
}

/// Who is asking: the token of `Authorization: token X` or `Bearer X`.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        .then(|| token.trim())
}

pub(super) fn answer(state: &mut State, request: &Request) -> Reply {
    if let Some(installation_id) = access_token_route(&request.path) {
        return if request.method == Method::POST {
            mint_installation_token(state, request, installation_id)
        } else {
            Reply::not_found()
        };
    }
    let Some(token) = bearer(&request.headers) else {
        return Reply::message(401, "Requires authentication");
    };
    let Some(user) = state.tokens.get(token) else {
        return Reply::message(401, "Bad credentials");
    };
    if user
        .expires
        .is_some_and(|expires| SystemTime::now() >= expires)
    {
        return Reply::message(401, "Bad credentials");
    }
    let user = User {
        login: user.login.clone(),
        user_type: user.user_type.clone(),
        access: user.access,
        installation: user.installation,
    };
    if let Some((left, kind)) = state.rate_limited {
        state.rate_limited = (left > 1).then_some((left - 1, kind));
        return rate_limited(kind);
    }
    let Some(route) = route(state, &request.path) else {
        return Reply::not_found();
    };
    // An installation's token sees the installation's repositories only.
    if let (Some(repo), Some(installation)) = (route.repo(), user.installation) {
        let reachable = state
            .installations
            .get(&installation)
            .is_some_and(|installation| {
                installation
                    .repos
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(&state.repos[repo].full_name))
            });
        if !reachable {
            return Reply::not_found();
        }
    }
    if request.is_write() && user.access == Access::ReadOnly {
        return Reply::message(403, READ_ONLY_MESSAGE);
    }
    if let Some(FailNext {
        status,
        apply_first,
        ..
    }) = state
        .fail_next
        .take_if(|fail| fail.methods.contains(&request.method))
    {
        if apply_first {
            let _ = dispatch(state, request, &route, &user);
        }
        let message = if status >= 500 {
            "Server Error"
        } else {
            StatusCode::from_u16(status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Error")
        };
        return Reply::message(status, message);
    }
    dispatch(state, request, &route, &user)
}

pub(super) struct User {
    pub(super) login: String,
    pub(super) user_type: String,
    pub(super) access: Access,
    pub(super) installation: Option<u64>,
}

/// The endpoints the fake serves, each with its repository (an index) and number.
pub(super) enum Route {
    Pulls(usize),
    CheckRuns(usize),
    CheckRun(usize, u64),
    /// `commits/{ref}/check-runs`: the check runs on a commit.
    CommitCheckRuns(usize, String),
    InstallationRepositories,
    Pull(usize, u64),
    PullFiles(usize, u64),
    IssueComments(usize, u64),
    IssueComment(usize, u64),
    ReviewComments(usize, u64),
    Reviews(usize, u64),
}

impl Route {
    /// The repository it is in.
    pub(super) fn repo(&self) -> Option<usize> {
        match *self {
            Route::InstallationRepositories => None,
            Route::Pulls(repo)
            | Route::CheckRuns(repo)
            | Route::CheckRun(repo, _)
            | Route::CommitCheckRuns(repo, _)
            | Route::Pull(repo, _)
            | Route::PullFiles(repo, _)
            | Route::IssueComments(repo, _)
            | Route::IssueComment(repo, _)
            | Route::ReviewComments(repo, _)
            | Route::Reviews(repo, _) => Some(repo),
        }
    }
}

/// `/app/installations/{id}/access_tokens` → the installation's id.
pub(super) fn access_token_route(path: &str) -> Option<u64> {
    match path
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["app", "installations", id, "access_tokens"] => id.parse().ok(),
        _ => None,
    }
}

/// `/installation/repositories`, `/repos/{owner}/{repo}/…` or
/// `/repositories/{id}/…` (the form of GitHub's pagination links).
pub(super) fn route(state: &State, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segments == ["installation", "repositories"] {
        return Some(Route::InstallationRepositories);
    }
    let (repo, rest) = match segments.as_slice() {
        ["repos", owner, name, rest @ ..] => (state.repo_index(&format!("{owner}/{name}"))?, rest),
        ["repositories", id, rest @ ..] => {
            let id: u64 = id.parse().ok()?;
            (state.repos.iter().position(|repo| repo.id == id)?, rest)
        }
        _ => return None,
    };
    let number = |text: &str| text.parse::<u64>().ok();
    Some(match rest {
        ["pulls"] => Route::Pulls(repo),
        ["check-runs"] => Route::CheckRuns(repo),
        ["check-runs", id] => Route::CheckRun(repo, number(id)?),
        ["commits", git_ref, "check-runs"] => Route::CommitCheckRuns(repo, (*git_ref).to_string()),
        ["pulls", n] => Route::Pull(repo, number(n)?),
        ["pulls", n, "files"] => Route::PullFiles(repo, number(n)?),
        ["pulls", n, "comments"] => Route::ReviewComments(repo, number(n)?),
        ["pulls", n, "reviews"] => Route::Reviews(repo, number(n)?),
        ["issues", "comments", id] => Route::IssueComment(repo, number(id)?),
        ["issues", n, "comments"] => Route::IssueComments(repo, number(n)?),
        _ => return None,
    })
}

pub(super) fn dispatch(state: &mut State, request: &Request, route: &Route, user: &User) -> Reply {
    let method = &request.method;
    match *route {
        Route::CommitCheckRuns(repo, ref git_ref) if method == Method::GET => {
            commit_check_runs(state, request, repo, git_ref)
        }
        Route::Pulls(repo) if method == Method::GET => {
            let wanted = request.query("state").unwrap_or("open");
            let mut numbers: Vec<u64> = state.repos[repo]
                .pulls
                .values()
                .filter(|pull| wanted == "all" || pull.state == wanted)
                .map(|pull| pull.number)
                .collect();
            // Newest first, as GitHub sorts by default.
            numbers.sort_unstable_by(|a, b| b.cmp(a));
            let pulls = numbers
                .into_iter()
                .filter_map(|number| pull_json(state, repo, number))
                .collect();
            paginate(state, request, repo, pulls)
        }
        Route::CheckRuns(repo) if method == Method::POST => {
            create_check_run(state, request, repo, user)
        }
        Route::CheckRun(repo, id) if method == Method::GET => {
            match state.repos[repo].check_runs.iter().find(|run| run.id == id) {
                Some(run) => Reply::json(200, check_run_json(state, repo, run)),
                None => Reply::not_found(),
            }
        }
        Route::CheckRun(repo, id) if method == Method::PATCH => {
            update_check_run(state, request, repo, id)
        }
        Route::InstallationRepositories if method == Method::GET => {
            installation_repositories(state, request, user)
        }
        Route::Pull(repo, number) if method == Method::GET => {
            match pull_json(state, repo, number) {
                Some(pull) => Reply::json(200, pull),
                None => Reply::not_found(),
            }
        }
        Route::PullFiles(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let files = pull
                .files
                .iter()
                .map(|file| file_json(state, repo, file))
                .collect();
            paginate(state, request, repo, files)
        }
        Route::IssueComments(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let comments = pull
                .comments
                .iter()
                .map(|comment| comment_json(state, repo, number, comment))
                .collect();
            paginate(state, request, repo, comments)
        }
        Route::IssueComments(repo, number) if method == Method::POST => {
            create_comment(state, request, repo, number, user)
        }
        Route::IssueComment(repo, id) if method == Method::GET => {
            match find_comment(state, repo, id) {
                Some((number, index)) => {
                    let comment = &state.repos[repo].pulls[&number].comments[index];
                    Reply::json(200, comment_json(state, repo, number, comment))
                }
                None => Reply::not_found(),
            }
        }
        Route::IssueComment(repo, id) if method == Method::PATCH || method == Method::DELETE => {
            change_comment(state, request, repo, id, user)
        }
        Route::ReviewComments(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let comments = pull
                .reviews
                .iter()
                .filter(|review| review.state != "PENDING")
                .flat_map(|review| {
                    review
                        .comments
                        .iter()
                        .map(|comment| review_comment_json(state, repo, pull, review, comment))
                })
                .collect();
            paginate(state, request, repo, comments)
        }
        Route::Reviews(repo, number) if method == Method::GET => {
            let Some(pull) = state.repos[repo].pulls.get(&number) else {
                return Reply::not_found();
            };
            let reviews = pull
                .reviews
                .iter()
                .map(|review| review_json(state, repo, number, review))
                .collect();
            paginate(state, request, repo, reviews)
        }
        Route::Reviews(repo, number) if method == Method::POST => {
            create_review(state, request, repo, number, user)
        }
        _ => Reply::not_found(),
    }
}

/// The request's JSON object, or GitHub's answer to a body that is not one.
pub(super) fn json_body(request: &Request) -> Result<serde_json::Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(Reply::message(400, "Problems parsing JSON")),
    }
}

pub(super) fn too_long(resource: &str) -> Reply {
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{
                "resource": resource,
                "code": "custom",
                "field": "body",
                "message": format!("body is too long (maximum is {MAX_BODY_CHARS} characters)"),
            }],
            "documentation_url": DOCS,
        }),
    )
}

/// A `body` that must be there and within GitHub's size.
pub(super) fn required_body(
    object: &serde_json::Map<String, Value>,
    resource: &str,
) -> Result<String, Reply> {
    let Some(body) = object.get("body").and_then(Value::as_str) else {
        return Err(Reply::message(
            422,
            "Invalid request.\n\n\"body\" wasn't supplied.",
        ));
    };
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(too_long(resource));
    }
    Ok(body.to_string())
}

/// The answer for one page of `items` of a repository's list, with GitHub's
/// `Link` header (naming the repository by id, as GitHub's links do).
pub(super) fn paginate(state: &State, request: &Request, repo: usize, items: Vec<Value>) -> Reply {
    let rest = match request
        .path
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["repos", _, _, rest @ ..] | ["repositories", _, rest @ ..] => rest.join("/"),
        _ => String::new(),
    };
    let base = format!(
        "{}{}/repositories/{}/{rest}",
        state.url, request.prefix, state.repos[repo].id
    );
    let (shown, link) = page(request, items, &base);
    let mut reply = Reply::json(200, Value::Array(shown));
    if let Some(link) = link {
        reply.headers.push(("link", link));
    }
    reply
}

/// One page of `items` (`per_page`, default 30, at most 100; `page`) and the
/// `Link` header to the others, as URLs of `base` with the request's parameters.
pub(super) fn page(
    request: &Request,
    items: Vec<Value>,
    base: &str,
) -> (Vec<Value>, Option<String>) {
    let per_page = request
        .query("per_page")
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&value| value > 0)
        .map_or(30, |value| value.min(100));
    let page = request
        .query("page")
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    if last <= 1 {
        return (shown, None);
    }
    let link_to = |target: usize| {
        let mut query: Vec<String> = request
            .query
            .iter()
            .filter(|(key, _)| key != "page")
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        query.push(format!("page={target}"));
        format!("{base}?{}", query.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push((page - 1, "prev"));
    }
    if page < last {
        links.push((page + 1, "next"));
        links.push((last, "last"));
    }
    if page > 1 {
        links.push((1, "first"));
    }
    let mut header = String::new();
    for (target, rel) in links {
        if !header.is_empty() {
            header.push_str(", ");
        }
        let _ = write!(header, "<{}>; rel=\"{rel}\"", link_to(target));
    }
    (shown, Some(header))
}

/// GitHub's answer to a request its schema refuses.
pub(super) fn invalid_request(detail: &str) -> Reply {
    Reply::message(422, &format!("Invalid request.\n\n{detail}"))
}

/// `"a", "b" weren't supplied.` or `"a" wasn't supplied.`
pub(super) fn not_supplied(missing: &[&str]) -> Reply {
    let names: Vec<String> = missing.iter().map(|name| format!("\"{name}\"")).collect();
    let verb = if names.len() == 1 {
        "wasn't"
    } else {
        "weren't"
    };
    invalid_request(&format!("{} {verb} supplied.", names.join(", ")))
}
