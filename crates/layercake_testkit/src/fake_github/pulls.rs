//! Pull requests and their files: the JSON GitHub answers with, and the
//! patches whose lines review comments may be on.

use super::*;

/// A pull request the fake knows, as [`FakeGitHub::add_pull_request_from_payload`]
/// added it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRef {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: u64,
    /// The head commit.
    pub head_sha: String,
    /// The base commit.
    pub base_sha: String,
}

/// A file a pull request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeFile {
    /// Its path.
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, …
    pub status: String,
    /// Unified diff hunks, as GitHub's `patch` field gives them (from the first `@@`
    /// header, no `---`/`+++` lines); `None` for a binary or too large diff.
    pub patch: Option<String>,
}

/// A side of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The base: deleted and context lines, by their base line numbers.
    Left,
    /// The head: added and context lines, by their head line numbers.
    Right,
}

impl Side {
    pub(super) fn name(self) -> &'static str {
        match self {
            Side::Left => "LEFT",
            Side::Right => "RIGHT",
        }
    }
}

/// A hunk of a patch: the lines a review comment may be on, per side, and its text.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Hunk {
    pub(super) left: Vec<u64>,
    pub(super) right: Vec<u64>,
    pub(super) text: String,
}

impl Hunk {
    pub(super) fn lines(&self, side: Side) -> &[u64] {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
}

/// `@@ -a[,b] +c[,d] @@…` → `(a, b, c, d)`; a count left out is 1.
pub(super) fn hunk_header(line: &str) -> Option<(u64, u64, u64, u64)> {
    let ranges = line.strip_prefix("@@ -")?;
    let (ranges, _) = ranges.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |text: &str| -> Option<(u64, u64)> {
        match text.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    let (old_start, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some((old_start, old_count, new_start, new_count))
}

/// The hunks of a patch as GitHub's `patch` field gives it. Lines are counted from
/// each header's starts: a context line (` `) is on both sides, an added line (`+`)
/// on the right only, a deleted line (`-`) on the left only; `\ No newline at end of
/// file` is no line. An empty line within a hunk's counts is a context line whose
/// leading space was lost.
pub(super) fn parse_patch(patch: &str) -> Vec<Hunk> {
    let mut hunks = Vec::new();
    let mut current: Option<(Hunk, u64, u64, u64, u64)> = None;
    for line in patch.split('\n') {
        if let Some((old_start, old_count, new_start, new_count)) = hunk_header(line) {
            if let Some((hunk, ..)) = current.take() {
                hunks.push(hunk);
            }
            let hunk = Hunk {
                text: line.to_string(),
                ..Hunk::default()
            };
            current = Some((hunk, old_start, old_count, new_start, new_count));
            continue;
        }
        let Some((hunk, old_line, old_left, new_line, new_left)) = current.as_mut() else {
            continue;
        };
        if *old_left == 0 && *new_left == 0 {
            continue;
        }
        let marker = line.chars().next();
        match marker {
            Some('+') if *new_left > 0 => {
                hunk.right.push(*new_line);
                *new_line += 1;
                *new_left -= 1;
            }
            Some('-') if *old_left > 0 => {
                hunk.left.push(*old_line);
                *old_line += 1;
                *old_left -= 1;
            }
            Some(' ') | None if *old_left > 0 && *new_left > 0 => {
                hunk.left.push(*old_line);
                hunk.right.push(*new_line);
                *old_line += 1;
                *new_line += 1;
                *old_left -= 1;
                *new_left -= 1;
            }
            _ => continue,
        }
        hunk.text.push('\n');
        hunk.text.push_str(line);
    }
    if let Some((hunk, ..)) = current {
        hunks.push(hunk);
    }
    hunks
}

pub(super) fn user_json(login: &str, user_type: &str) -> Value {
    // A stable id per login.
    let id = login.bytes().fold(7u64, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u64::from(byte))
    }) % 100_000_000;
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_fake{id}"),
        "type": user_type,
        "site_admin": false,
        "html_url": format!("https://github.com/{login}"),
    })
}

pub(super) fn user_type_of(state: &State, login: &str) -> String {
    state
        .tokens
        .values()
        .find(|token| token.login == login)
        .map_or_else(|| "User".to_string(), |token| token.user_type.clone())
}

pub(super) fn repo_json(state: &State, full_name: &str) -> Value {
    let id = state
        .repo_index(full_name)
        .map_or(0, |index| state.repos[index].id);
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    json!({
        "id": id,
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner},
        "private": false,
        "html_url": format!("https://github.com/{full_name}"),
        "clone_url": format!("https://github.com/{full_name}.git"),
    })
}

pub(super) fn pull_json(state: &State, repo: usize, number: u64) -> Option<Value> {
    let full_name = &state.repos[repo].full_name;
    let pull = state.repos[repo].pulls.get(&number)?;
    let owner = |full: &str| {
        full.split_once('/')
            .map_or(full.to_string(), |(o, _)| o.to_string())
    };
    let head_repo = pull.head_repo.as_deref().map(|head| repo_json(state, head));
    let head_label = format!(
        "{}:{}",
        owner(pull.head_repo.as_deref().unwrap_or(full_name)),
        pull.head_ref
    );
    Some(json!({
        "url": format!("{}/repos/{full_name}/pulls/{number}", state.url),
        "id": state.repos[repo].id * 10_000 + number,
        "node_id": format!("PR_fake{number}"),
        "html_url": format!("https://github.com/{full_name}/pull/{number}"),
        "number": number,
        "state": pull.state,
        "locked": false,
        "title": format!("Pull request #{number}"),
        "user": user_json(&pull.author, "User"),
        "author_association": pull.author_association,
        "labels": pull.labels.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        "body": null,
        "draft": pull.draft,
        "merged": false,
        "head": {
            "label": head_label,
            "ref": pull.head_ref,
            "sha": pull.head_sha,
            "repo": head_repo,
        },
        "base": {
            "label": format!("{}:{}", owner(full_name), pull.base_ref),
            "ref": pull.base_ref,
            "sha": pull.base_sha,
            "repo": repo_json(state, full_name),
        },
    }))
}

pub(super) fn file_json(state: &State, repo: usize, file: &FakeFile) -> Value {
    let full_name = &state.repos[repo].full_name;
    let (additions, deletions) = patch_stats(file.patch.as_deref().unwrap_or_default());
    let mut json = json!({
        "sha": format!("{:040x}", file.filename.len()),
        "filename": file.filename,
        "status": file.status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": format!("https://github.com/{full_name}/blob/HEAD/{}", file.filename),
        "raw_url": format!("https://github.com/{full_name}/raw/HEAD/{}", file.filename),
        "contents_url": format!("{}/repos/{full_name}/contents/{}", state.url, file.filename),
    });
    if let (Some(patch), Some(object)) = (&file.patch, json.as_object_mut()) {
        object.insert("patch".to_string(), Value::String(patch.clone()));
    }
    json
}

/// Added and deleted lines of a patch.
pub(super) fn patch_stats(patch: &str) -> (u64, u64) {
    parse_patch(patch)
        .iter()
        .fold((0, 0), |(added, deleted), hunk| {
            let added_here = hunk
                .text
                .lines()
                .skip(1)
                .filter(|line| line.starts_with('+'))
                .count();
            let deleted_here = hunk
                .text
                .lines()
                .skip(1)
                .filter(|line| line.starts_with('-'))
                .count();
            (added + added_here as u64, deleted + deleted_here as u64)
        })
}
