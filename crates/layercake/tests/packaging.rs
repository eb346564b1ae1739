//! The Action's packaging: `action.yml`, its install script, the project's
//! Dockerfile and the docs that describe them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(serde::Deserialize)]
struct Action {
    inputs: BTreeMap<String, serde_json::Value>,
    outputs: BTreeMap<String, serde_json::Value>,
    runs: Runs,
}

#[derive(serde::Deserialize)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(serde::Deserialize)]
struct Step {
    /// Empty for a step that `uses:` an action.
    #[serde(default)]
    run: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

fn action() -> Action {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    serde_saphyr::from_str(&text).expect("action.yml parses")
}

#[test]
fn inputs_reach_scripts_only_through_env_and_all_are_documented() {
    let action = action();
    assert_eq!(action.runs.using, "composite");
    for step in &action.runs.steps {
        assert!(
            !step.run.contains("${{"),
            "an expression in a script: {}",
            step.run
        );
    }
    let env_values: Vec<&String> = action
        .runs
        .steps
        .iter()
        .flat_map(|s| s.env.values())
        .collect();
    let docs = std::fs::read_to_string(root().join("docs/github.md")).expect("docs/github.md");
    for input in action.inputs.keys() {
        assert!(
            env_values
                .iter()
                .any(|v| v.contains(&format!("inputs.{input}"))),
            "input {input} is not passed to any step"
        );
        assert!(
            docs.contains(&format!("| `{input}` |")),
            "input {input} is not in docs/github.md"
        );
    }
    for output in action.outputs.keys() {
        assert!(
            docs.contains(&format!("| `{output}` |")),
            "output {output} is not in docs/github.md"
        );
    }
}

#[test]
fn the_projects_dockerfile_lints_clean() {
    let out = Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["lint", "Dockerfile"])
        .current_dir(root())
        .output()
        .expect("run layercake");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("No findings"), "{stdout}");
}

#[derive(serde::Deserialize)]
struct PreCommitHook {
    id: String,
    entry: String,
    language: String,
    files: String,
}

#[test]
fn the_pre_commit_hook_lints_exactly_the_files_lint_finds() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("hooks file");
    let hooks: Vec<PreCommitHook> = serde_saphyr::from_str(&text).expect("hooks parse");
    let [hook] = hooks.as_slice() else {
        panic!("one hook expected")
    };
    assert_eq!(hook.id, "layercake-lint");
    assert_eq!(hook.entry, "layercake lint");
    assert_eq!(hook.language, "system");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(
        readme.contains("id: layercake-lint"),
        "README shows the hook"
    );

    // pre-commit matches `files` with Python's `re.search` on paths relative
    // to the repository; the same names `layercake lint DIR` picks up
    // (discover::is_dockerfile_name), in any directory.
    let names = [
        ("Dockerfile", true),
        ("dockerfile", true),
        ("Dockerfile.dev", true),
        ("api.Dockerfile", true),
        ("Containerfile", true),
        ("x.containerfile", true),
        ("services/api/Dockerfile", true),
        ("docker/web.Dockerfile", true),
        ("Dockerfile-old", false),
        ("README.md", false),
        ("dockerfiles", false),
        ("mydockerfile", false),
        (".dockerignore", false),
        ("Dockerfile.d/app.yml", false),
    ];
    let program = "import re, sys\n\
                   pattern = re.compile(sys.argv[1])\n\
                   for name in sys.argv[2:]:\n    \
                       print(name, bool(pattern.search(name)))\n";
    let out = Command::new("python3")
        .args(["-c", program, &hook.files])
        .args(names.iter().map(|(name, _)| name))
        .output()
        .expect("python3 (pre-commit's regex engine) runs");
    let verdicts = String::from_utf8_lossy(&out.stdout);
    for ((name, expected), line) in names.iter().zip(verdicts.lines()) {
        assert_eq!(
            line,
            format!("{name} {}", if *expected { "True" } else { "False" })
        );
    }
    assert_eq!(verdicts.lines().count(), names.len(), "{verdicts}");
}
