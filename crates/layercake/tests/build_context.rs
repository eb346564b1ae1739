//! `layercake lint` reads each Dockerfile's build context (its directory) and
//! its `.dockerignore`, so the context rules (LC205, LC206) see the disk.

use std::path::Path;
use std::process::{Command, Output};

fn lint_json(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["lint", "--format", "json", "--fail-on", "none"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run layercake")
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The codes reported, in order.
fn codes(output: &Output) -> Vec<String> {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json output");
    let mut codes = Vec::new();
    collect_codes(&json, &mut codes);
    codes
}

fn collect_codes(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(code)) = map.get("code") {
                out.push(code.clone());
            }
            map.values().for_each(|v| collect_codes(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_codes(v, out)),
        _ => {}
    }
}

fn node_project(dir: &Path) {
    write(dir, ".git/HEAD", "ref: refs/heads/main\n");
    write(
        dir,
        "node_modules/left-pad/index.js",
        "module.exports = 1;\n",
    );
    write(dir, "package.json", "{}\n");
    write(dir, "package-lock.json", "{}\n");
    write(
        dir,
        "Dockerfile",
        "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\nCMD [\"node\", \"index.js\"]\n",
    );
}

#[test]
fn no_dockerignore_with_git_and_node_modules_fires() {
    let dir = tempfile::tempdir().expect("tempdir");
    node_project(dir.path());
    let found = codes(&lint_json(dir.path(), &["Dockerfile"]));
    assert!(found.iter().any(|c| c == "LC205"), "{found:?}");
    assert!(!found.iter().any(|c| c == "LC206"), "{found:?}");
}

#[test]
fn a_dockerignore_silences_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    node_project(dir.path());
    write(dir.path(), ".dockerignore", ".git\nnode_modules\n");
    let found = codes(&lint_json(dir.path(), &["."]));
    assert!(
        !found.iter().any(|c| c == "LC205" || c == "LC206"),
        "{found:?}"
    );
}

#[test]
fn a_dockerfile_specific_ignore_file_counts_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    node_project(dir.path());
    write(
        dir.path(),
        "Dockerfile.dockerignore",
        ".git\nnode_modules\n",
    );
    let found = codes(&lint_json(dir.path(), &["Dockerfile"]));
    assert!(!found.iter().any(|c| c == "LC205"), "{found:?}");
}

#[test]
fn copying_an_ignored_path_fires_in_a_subdirectory_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = dir.path().join("services/api");
    write(&service, "config/app.yml", "port: 80\n");
    write(&service, "src/main.py", "print(1)\n");
    write(&service, ".dockerignore", "# local only\nconfig\n");
    write(
        &service,
        "Dockerfile",
        "FROM python:3.12-slim\nCOPY config/ /etc/app/\nCOPY src/ /app/\nUSER 10001\nCMD [\"python\", \"/app/main.py\"]\n",
    );
    let output = lint_json(dir.path(), &["services"]);
    let found = codes(&output);
    assert_eq!(
        found.iter().filter(|c| *c == "LC206").count(),
        1,
        "{found:?}"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("services/api/.dockerignore"),
        "the message names the ignore file: {text}"
    );
}
