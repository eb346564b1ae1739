//! Issue comments and pull request reviews: body limits, authorship, and
//! review comments only on lines of the diff.

use super::*;

/// An issue comment on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    /// Its id (unique across comments, reviews and review comments).
    pub id: u64,
    /// Its body.
    pub body: String,
    /// Its author.
    pub user_login: String,
    /// Its author's type, `Bot` or `User`.
    pub user_type: String,
    /// The logical time it was created (every write ticks the clock).
    pub created: u64,
    /// The logical time it was last changed.
    pub updated: u64,
}

/// A submitted review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReview {
    /// Its id.
    pub id: u64,
    /// The commit it was made on.
    pub commit_id: String,
    /// Its body.
    pub body: String,
    /// `COMMENTED`, `APPROVED`, `CHANGES_REQUESTED` or `PENDING`.
    pub state: String,
    /// Its author.
    pub user_login: String,
    /// Its line comments.
    pub comments: Vec<FakeReviewComment>,
}

/// A line comment of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReviewComment {
    /// Its id.
    pub id: u64,
    /// The file.
    pub path: String,
    /// The (last) line.
    pub line: u64,
    /// The first line of a multi-line comment.
    pub start_line: Option<u64>,
    /// `RIGHT` (head) or `LEFT` (base).
    pub side: String,
    /// Its body.
    pub body: String,
}

pub(super) fn create_comment(
    state: &mut State,
    request: &Request,
    repo: usize,
    number: u64,
    user: &User,
) -> Reply {
    if !state.repos[repo].pulls.contains_key(&number) {
        return Reply::not_found();
    }
    let body = match json_body(request).and_then(|object| required_body(&object, "IssueComment")) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = state.new_id();
    let now = state.tick();
    let comment = FakeComment {
        id,
        body,
        user_login: user.login.clone(),
        user_type: user.user_type.clone(),
        created: now,
        updated: now,
    };
    let json = comment_json(state, repo, number, &comment);
    if let Some(pull) = state.repos[repo].pulls.get_mut(&number) {
        pull.comments.push(comment);
    }
    state.writes += 1;
    Reply::json(201, json)
}

pub(super) fn find_comment(state: &State, repo: usize, id: u64) -> Option<(u64, usize)> {
    state.repos[repo].pulls.iter().find_map(|(number, pull)| {
        pull.comments
            .iter()
            .position(|comment| comment.id == id)
            .map(|index| (*number, index))
    })
}

pub(super) fn change_comment(
    state: &mut State,
    request: &Request,
    repo: usize,
    id: u64,
    user: &User,
) -> Reply {
    let Some((number, index)) = find_comment(state, repo, id) else {
        return Reply::not_found();
    };
    let author = &state.repos[repo].pulls[&number].comments[index].user_login;
    if *author != user.login {
        return Reply::message(403, "Must have admin rights to Repository.");
    }
    if request.method == Method::DELETE {
        if let Some(pull) = state.repos[repo].pulls.get_mut(&number) {
            pull.comments.remove(index);
        }
        state.tick();
        state.writes += 1;
        return Reply::no_content();
    }
    let body = match json_body(request).and_then(|object| required_body(&object, "IssueComment")) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let now = state.tick();
    let Some(comment) = state.repos[repo]
        .pulls
        .get_mut(&number)
        .map(|pull| &mut pull.comments[index])
    else {
        return Reply::not_found();
    };
    comment.body = body;
    comment.updated = now;
    let comment = comment.clone();
    state.writes += 1;
    Reply::json(200, comment_json(state, repo, number, &comment))
}

pub(super) fn create_review(
    state: &mut State,
    request: &Request,
    repo: usize,
    number: u64,
    user: &User,
) -> Reply {
    let object = match json_body(request) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let Some(pull) = state.repos[repo].pulls.get(&number) else {
        return Reply::not_found();
    };
    let unprocessable = |error: String| {
        Reply::json(
            422,
            json!({
                "message": "Unprocessable Entity",
                "errors": [error],
                "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
            }),
        )
    };
    let commit_id = match object.get("commit_id").and_then(Value::as_str) {
        Some(sha) if pull.shas.iter().any(|known| known == sha) => sha.to_string(),
        Some(sha) => return unprocessable(format!("No commit found for SHA: {sha}")),
        None => pull.head_sha.clone(),
    };
    let body = object
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if body.chars().count() > MAX_BODY_CHARS {
        return too_long("PullRequestReview");
    }
    let review_state = match object.get("event").and_then(Value::as_str) {
        None => "PENDING",
        Some("COMMENT") => "COMMENTED",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some(other) => {
            return unprocessable(format!(
                "Unknown review event {other:?}: expected APPROVE, REQUEST_CHANGES or COMMENT"
            ));
        }
    };
    let mut comments = Vec::new();
    let wanted = match object.get("comments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(wanted)) => wanted.clone(),
        Some(_) => return Reply::message(422, "Invalid request.\n\n\"comments\" is not an array."),
    };
    for wanted in &wanted {
        let field = |name: &str| wanted.get(name);
        let (Some(path), Some(comment_body)) = (
            field("path").and_then(Value::as_str),
            field("body").and_then(Value::as_str),
        ) else {
            return Reply::message(
                422,
                "Invalid request.\n\n\"path\" and \"body\" are required for each comment.",
            );
        };
        let Some(line) = field("line").and_then(Value::as_u64) else {
            return Reply::message(
                422,
                "Invalid request.\n\nThe fake GitHub takes review comments by \"line\" only (\"position\" is deprecated).",
            );
        };
        if comment_body.chars().count() > MAX_BODY_CHARS {
            return too_long("PullRequestReviewComment");
        }
        let side = field("side").and_then(Value::as_str).unwrap_or("RIGHT");
        let side = match side {
            "RIGHT" => Side::Right,
            "LEFT" => Side::Left,
            other => {
                return unprocessable(format!("Unknown side {other:?}: expected LEFT or RIGHT"));
            }
        };
        let start_line = field("start_line").and_then(Value::as_u64);
        let start_side = match field("start_side").and_then(Value::as_str) {
            Some("LEFT") => Side::Left,
            Some("RIGHT") => Side::Right,
            _ => side,
        };
        let patch = pull
            .files
            .iter()
            .find(|file| file.filename == path)
            .and_then(|file| file.patch.as_deref())
            .unwrap_or_default();
        let errors = review_thread_errors(
            patch,
            line,
            side,
            start_line.map(|start| (start, start_side)),
        );
        if !errors.is_empty() {
            return unprocessable(to_sentence(&errors));
        }
        comments.push(FakeReviewComment {
            id: 0,
            path: path.to_string(),
            line,
            start_line,
            side: side.name().to_string(),
            body: comment_body.to_string(),
        });
    }
    let id = state.new_id();
    for comment in &mut comments {
        comment.id = state.new_id();
    }
    state.tick();
    let review = FakeReview {
        id,
        commit_id,
        body,
        state: review_state.to_string(),
        user_login: user.login.clone(),
        comments,
    };
    let json = review_json(state, repo, number, &review);
    if let Some(pull) = state.repos[repo].pulls.get_mut(&number) {
        pull.reviews.push(review);
    }
    state.writes += 1;
    Reply::json(200, json)
}

/// GitHub's complaints about a review comment on `line` (and from `start`), in
/// GitHub's words; empty when the comment may be made.
pub(super) fn review_thread_errors(
    patch: &str,
    line: u64,
    side: Side,
    start: Option<(u64, Side)>,
) -> Vec<&'static str> {
    let hunks = parse_patch(patch);
    let hunk_of = |line: u64, side: Side| {
        hunks
            .iter()
            .position(|hunk| hunk.lines(side).contains(&line))
    };
    let line_hunk = hunk_of(line, side);
    let mut errors = Vec::new();
    if line_hunk.is_none() {
        errors.push("Pull request review thread line must be part of the diff");
    }
    if let Some((start_line, start_side)) = start {
        if start_side == side && start_line >= line {
            errors.push("Pull request review thread start line must precede the end line.");
        } else if line_hunk.is_none() || hunk_of(start_line, start_side) != line_hunk {
            errors.push(
                "Pull request review thread start line must be part of the same hunk as the line.",
            );
        }
    }
    if line_hunk.is_none() {
        errors.push("Pull request review thread diff hunk can't be blank");
    }
    errors
}

/// Rails' `to_sentence`, which GitHub joins its errors with: `a`, `a and b`,
/// `a, b, and c`.
pub(super) fn to_sentence(parts: &[&str]) -> String {
    match parts {
        [] => String::new(),
        [one] => (*one).to_string(),
        [first, second] => format!("{first} and {second}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

pub(super) fn comment_json(
    state: &State,
    repo: usize,
    number: u64,
    comment: &FakeComment,
) -> Value {
    let full_name = &state.repos[repo].full_name;
    json!({
        "id": comment.id,
        "node_id": format!("IC_fake{}", comment.id),
        "url": format!("{}/repos/{full_name}/issues/comments/{}", state.url, comment.id),
        "html_url": format!("https://github.com/{full_name}/pull/{number}#issuecomment-{}", comment.id),
        "issue_url": format!("{}/repos/{full_name}/issues/{number}", state.url),
        "body": comment.body,
        "user": user_json(&comment.user_login, &comment.user_type),
        "created_at": timestamp(comment.created),
        "updated_at": timestamp(comment.updated),
        "author_association": "NONE",
    })
}

pub(super) fn review_json(state: &State, repo: usize, number: u64, review: &FakeReview) -> Value {
    let full_name = &state.repos[repo].full_name;
    json!({
        "id": review.id,
        "node_id": format!("PRR_fake{}", review.id),
        "user": user_json(&review.user_login, &user_type_of(state, &review.user_login)),
        "body": review.body,
        "state": review.state,
        "html_url": format!("https://github.com/{full_name}/pull/{number}#pullrequestreview-{}", review.id),
        "pull_request_url": format!("{}/repos/{full_name}/pulls/{number}", state.url),
        "commit_id": review.commit_id,
        "submitted_at": timestamp(state.clock),
        "author_association": "NONE",
    })
}

pub(super) fn review_comment_json(
    state: &State,
    repo: usize,
    pull: &Pull,
    review: &FakeReview,
    comment: &FakeReviewComment,
) -> Value {
    let full_name = &state.repos[repo].full_name;
    let side = if comment.side == "LEFT" {
        Side::Left
    } else {
        Side::Right
    };
    let hunks_at_head = pull
        .files
        .iter()
        .find(|file| file.filename == comment.path)
        .and_then(|file| file.patch.as_deref())
        .map(parse_patch)
        .unwrap_or_default();
    let hunk = hunks_at_head
        .iter()
        .find(|hunk| hunk.lines(side).contains(&comment.line));
    // Still on a line of the diff, or made on the current head: shown on its line;
    // else outdated.
    let line = (review.commit_id == pull.head_sha || hunk.is_some()).then_some(comment.line);
    json!({
        "id": comment.id,
        "node_id": format!("PRRC_fake{}", comment.id),
        "pull_request_review_id": review.id,
        "diff_hunk": hunk.map(|hunk| hunk.text.clone()).unwrap_or_default(),
        "path": comment.path,
        "commit_id": pull.head_sha,
        "original_commit_id": review.commit_id,
        "user": user_json(&review.user_login, &user_type_of(state, &review.user_login)),
        "body": comment.body,
        "created_at": timestamp(state.clock),
        "updated_at": timestamp(state.clock),
        "html_url": format!("https://github.com/{full_name}/pull/{}#discussion_r{}", pull.number, comment.id),
        "pull_request_url": format!("{}/repos/{full_name}/pulls/{}", state.url, pull.number),
        "author_association": "NONE",
        "line": line,
        "original_line": comment.line,
        "side": comment.side,
        "start_line": comment.start_line.filter(|_| line.is_some()),
        "original_start_line": comment.start_line,
        "start_side": comment.start_line.map(|_| comment.side.clone()),
        "subject_type": "line",
    })
}
