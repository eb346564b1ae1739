//! `layercake diff --no-build` (the lint half) against real git repositories
//! made in temp dirs. Building and measuring is tested in `diff_build.rs`.

use std::path::Path;
use std::process::{Command, Output};

const GOOD: &str =
    "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\n";
const BROAD: &str = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

/// A repository whose `main` has `files`, with branch `pr` checked out.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    commit_all(dir.path(), "base");
    git(dir.path(), &["checkout", "-q", "-b", "pr"]);
    dir
}

fn diff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layercake"))
        .arg("diff")
        .arg("--no-build")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run layercake")
}

fn json(dir: &Path) -> (serde_json::Value, Option<i32>) {
    let out = diff(dir, &["--base", "main", "--format", "json"]);
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, out.status.code())
}

/// `(code, change)` of every finding of `image`, sorted.
fn changes(image: &serde_json::Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = image["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_string(),
                f["change"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

fn with_change<'a>(image: &'a serde_json::Value, change: &str) -> Vec<&'a serde_json::Value> {
    image["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["change"] == change)
        .collect()
}

#[test]
fn a_broad_copy_added_by_the_pr_is_one_new_finding_and_fails() {
    let dir = repo(&[("app/Dockerfile", GOOD), ("app/index.js", "x\n")]);
    write(dir.path(), "app/Dockerfile", BROAD);
    commit_all(dir.path(), "pr");

    let (report, code) = json(dir.path());
    assert_eq!(code, Some(1));
    let images = report["images"].as_array().expect("images");
    assert_eq!(images.len(), 1);
    let image = &images[0];
    assert_eq!(image["dockerfile"], "app/Dockerfile");
    assert_eq!(image["context"], "app");
    assert_eq!(image["reason"], "dockerfile-modified");
    let new = with_change(image, "new");
    assert_eq!(new.len(), 1, "{image:#}");
    assert_eq!(new[0]["code"], "LC201");
    assert_eq!(new[0]["line"], 3);
    assert_eq!(new[0]["file"], "app/Dockerfile");
    assert!(with_change(image, "fixed").is_empty(), "{image:#}");

    // The text report, with the SHAs taken out.
    let out = diff(dir.path(), &["--base", "main"]);
    assert_eq!(out.status.code(), Some(1));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    for rev in ["main", "pr"] {
        let sha = git(dir.path(), &["rev-parse", rev]);
        text = text.replace(&sha[..12], &format!("<{rev}-sha>"));
    }
    text = text.replace(&dir.path().display().to_string(), "<repo>");
    insta::assert_snapshot!(text);
}

#[test]
fn a_pr_that_fixes_the_broad_copy_reports_it_fixed_and_passes() {
    let dir = repo(&[("app/Dockerfile", BROAD), ("app/index.js", "x\n")]);
    write(dir.path(), "app/Dockerfile", GOOD);
    commit_all(dir.path(), "pr");

    let (report, code) = json(dir.path());
    assert_eq!(code, Some(0), "{report:#}");
    let image = &report["images"][0];
    let fixed = with_change(image, "fixed");
    assert_eq!(fixed.len(), 1, "{image:#}");
    assert_eq!(fixed[0]["code"], "LC201");
    assert_eq!(
        fixed[0]["line"], 3,
        "fixed findings point into the base file"
    );
    assert!(with_change(image, "new").is_empty(), "{image:#}");
}

#[test]
fn a_source_change_in_the_context_lists_the_image_with_unchanged_findings() {
    let dir = repo(&[("app/Dockerfile", BROAD), ("app/index.js", "x\n")]);
    write(dir.path(), "app/index.js", "y\n");
    commit_all(dir.path(), "pr");

    let (report, code) = json(dir.path());
    // Nothing new, so the known LC201 does not fail the PR.
    assert_eq!(code, Some(0), "{report:#}");
    let images = report["images"].as_array().expect("images");
    assert_eq!(images.len(), 1, "{report:#}");
    let image = &images[0];
    assert_eq!(image["reason"], "context-changed");
    assert_eq!(image["changed_paths"], serde_json::json!(["app/index.js"]));
    let all = changes(image);
    assert!(!all.is_empty());
    assert!(
        all.iter().all(|(_, change)| change == "unchanged"),
        "{all:?}"
    );
    assert!(all.contains(&("LC201".to_string(), "unchanged".to_string())));
}

#[test]
fn a_change_outside_every_context_lists_no_image() {
    let dir = repo(&[("app/Dockerfile", BROAD), ("README.md", "a\n")]);
    write(dir.path(), "README.md", "b\n");
    commit_all(dir.path(), "pr");
    let (report, code) = json(dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(report["images"], serde_json::json!([]));
}

#[test]
fn added_and_deleted_dockerfiles_have_an_absent_side() {
    let dir = repo(&[("old/Dockerfile", BROAD), ("keep.txt", "k\n")]);
    std::fs::remove_file(dir.path().join("old/Dockerfile")).expect("rm");
    // Different enough from the deleted one that git does not call it a rename.
    write(
        dir.path(),
        "new/Dockerfile",
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt\n",
    );
    write(dir.path(), "new/other.txt", "o\n");
    commit_all(dir.path(), "pr");

    let (report, code) = json(dir.path());
    let images = report["images"].as_array().expect("images");
    let find = |path: &str| {
        images
            .iter()
            .find(|i| i["dockerfile"] == path)
            .unwrap_or_else(|| panic!("{path} in {report:#}"))
    };
    assert_eq!(images.len(), 2, "{report:#}");
    let added = find("new/Dockerfile");
    assert_eq!(added["reason"], "dockerfile-added");
    assert_eq!(added["base"]["dockerfile_present"], false);
    assert_eq!(added["head"]["dockerfile_present"], true);
    assert_eq!(added["head"]["status"], "skipped");
    assert!(!with_change(added, "new").is_empty(), "{added:#}");
    assert!(changes(added).iter().all(|(_, c)| c == "new"));

    let deleted = find("old/Dockerfile");
    assert_eq!(deleted["reason"], "dockerfile-deleted");
    assert_eq!(deleted["base"]["dockerfile_present"], true);
    assert_eq!(deleted["head"]["dockerfile_present"], false);
    assert!(changes(deleted).contains(&("LC201".to_string(), "fixed".to_string())));
    assert!(changes(deleted).iter().all(|(_, c)| c == "fixed"));
    assert_eq!(code, Some(1), "the added Dockerfile's findings are new");
}

#[test]
fn an_unknown_ref_is_an_error_naming_it() {
    let dir = repo(&[("Dockerfile", GOOD)]);
    let out = diff(dir.path(), &["--base", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-branch"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn outside_a_git_repository_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = diff(dir.path(), &["--base", "main"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a git repository"), "{stderr}");
}

#[test]
fn with_no_build_the_report_says_sizes_were_not_measured_and_why() {
    let dir = repo(&[("Dockerfile", GOOD)]);
    write(dir.path(), "Dockerfile", BROAD);
    commit_all(dir.path(), "pr");
    let (report, _) = json(dir.path());
    assert_eq!(report["version"], 1);
    assert_eq!(report["measured"], false);
    assert_eq!(report["not_measured_reason"], "--no-build was given");
    assert_eq!(report["images"][0]["head"]["status"], "skipped");
    assert_eq!(report["images"][0]["delta_bytes"], serde_json::Value::Null);
    assert_eq!(report["base"]["ref"], "main");
    assert_eq!(report["head"]["ref"], "HEAD");
    assert_eq!(
        report["base"]["sha"],
        git(dir.path(), &["rev-parse", "main"])
    );
    assert_eq!(report["head"]["sha"], git(dir.path(), &["rev-parse", "pr"]));

    let md = diff(dir.path(), &["--base", "main", "--format", "markdown"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("**Lint-only report:** --no-build was given."),
        "{md}"
    );
    assert!(md.contains("**new** `LC201`"), "{md}");
}
