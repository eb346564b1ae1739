//! `layercake lint --format github` inside a workflow: annotations name the
//! file relative to the workspace (GITHUB_WORKSPACE), which is what GitHub
//! resolves `file=` against, whatever directory the step ran in.

use std::path::Path;
use std::process::Command;

/// A workspace with a Dockerfile two directories down.
fn workspace() -> tempfile::TempDir {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("services/api");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("Dockerfile"), "FROM alpine\nRUN apk add curl\n").expect("write");
    temp
}

fn annotations(cwd: &Path, workspace: Option<&Path>, args: &[&str]) -> Vec<String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_layercake"));
    command
        .args(["lint", "--format", "github"])
        .args(args)
        .current_dir(cwd);
    match workspace {
        Some(workspace) => command.env("GITHUB_WORKSPACE", workspace),
        None => command.env_remove("GITHUB_WORKSPACE"),
    };
    let out = command.output().expect("run layercake");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty());
    lines
}

/// The workflow command GitHub parses: `::warning file=…,line=N,…::message`.
fn file_of(annotation: &str) -> &str {
    let rest = ["::error ", "::warning ", "::notice "]
        .iter()
        .find_map(|prefix| annotation.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("not a workflow command: {annotation}"));
    let (properties, message) = rest.split_once("::").expect("properties::message");
    assert!(!message.is_empty());
    let mut file = None;
    for property in properties.split(',') {
        let (key, value) = property.split_once('=').expect("key=value");
        match key {
            "file" => file = Some(value),
            "line" | "col" | "endLine" | "endColumn" => {
                assert!(value.parse::<u32>().is_ok_and(|n| n > 0), "{annotation}")
            }
            "title" => {}
            other => panic!("unknown property {other} in {annotation}"),
        }
    }
    file.expect("a file property")
}

#[test]
fn annotations_name_the_file_relative_to_the_workspace_from_any_directory() {
    let temp = workspace();
    let root = temp.path();
    let api = root.join("services/api");
    let absolute = api.join("Dockerfile");
    let absolute = absolute.to_str().expect("utf-8 path");
    for (cwd, args) in [
        (root.to_path_buf(), vec!["."]),
        (root.to_path_buf(), vec!["services/api/Dockerfile"]),
        (api.clone(), vec!["."]),
        (api.clone(), vec!["Dockerfile"]),
        (api.join(".."), vec!["api"]),
        (std::env::temp_dir(), vec![absolute]),
    ] {
        for annotation in annotations(&cwd, Some(root), &args) {
            assert_eq!(
                file_of(&annotation),
                "services/api/Dockerfile",
                "from {} with {args:?}",
                cwd.display()
            );
        }
    }
}

#[test]
fn outside_a_workflow_or_the_workspace_paths_stay_relative_to_the_working_directory() {
    let temp = workspace();
    let api = temp.path().join("services/api");
    for annotation in annotations(&api, None, &["."]) {
        assert_eq!(file_of(&annotation), "Dockerfile");
    }
    let elsewhere = tempfile::tempdir().expect("tempdir");
    for annotation in annotations(&api, Some(elsewhere.path()), &["."]) {
        assert_eq!(file_of(&annotation), "Dockerfile");
    }
}
