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
fn the_outputs_are_the_ones_the_binary_writes() {
    // `layercake action` writes `name=value` lines; action.yml maps each.
    let source = std::fs::read_to_string(root().join("crates/layercake/src/commands/action.rs"))
        .expect("source");
    for output in action().outputs.keys() {
        assert!(
            source.contains(&format!("{output}=")),
            "action.rs never writes {output}"
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

/// Runs the install script for a release served from a local directory.
fn install(checksums: &str, archive_dir: &Path, temp: &Path) -> std::process::Output {
    let checksums_file = temp.join("checksums.txt");
    std::fs::write(&checksums_file, checksums).expect("checksums");
    Command::new("bash")
        .arg(root().join("scripts/install-layercake.sh"))
        .env("LAYERCAKE_VERSION", "9.9.9")
        .env(
            "LAYERCAKE_DOWNLOAD_BASE",
            format!("file://{}", archive_dir.display()),
        )
        .env("LAYERCAKE_CHECKSUMS", &checksums_file)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", temp)
        .env("GITHUB_PATH", temp.join("github_path"))
        .output()
        .expect("run the install script")
}

#[test]
fn the_install_script_installs_only_a_pinned_checksum() {
    let temp = tempfile::tempdir().expect("tempdir");
    // A release archive, served from a directory.
    let releases = temp.path().join("releases/v9.9.9");
    std::fs::create_dir_all(&releases).expect("mkdir");
    let name = "layercake-9.9.9-x86_64-unknown-linux-musl.tar.gz";
    let archive = releases.join(name);
    {
        let file = std::fs::File::create(&archive).expect("archive");
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        // A stand-in binary: the script only unpacks and runs `--version`.
        let binary = b"#!/bin/sh\necho layercake 9.9.9\n";
        let mut header = tar::Header::new_gnu();
        header.set_size(binary.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        tar.append_data(&mut header, "layercake", &binary[..])
            .expect("append");
        tar.into_inner().expect("tar").finish().expect("gzip");
    }
    let sha = {
        let out = Command::new("sha256sum")
            .arg(&archive)
            .output()
            .expect("sha256sum");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .expect("sum")
            .to_string()
    };
    let base = temp.path().join("releases");

    let good = install(&format!("{sha}  {name}\n"), &base, temp.path());
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(String::from_utf8_lossy(&good.stdout).starts_with("layercake "));
    let path = std::fs::read_to_string(temp.path().join("github_path")).expect("GITHUB_PATH");
    assert!(Path::new(path.trim()).join("layercake").exists(), "{path}");

    let wrong = install(&format!("{}  {name}\n", "0".repeat(64)), &base, temp.path());
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("checksum mismatch"));

    let unpinned = install("# nothing pinned\n", &base, temp.path());
    assert!(!unpinned.status.success());
    assert!(String::from_utf8_lossy(&unpinned.stderr).contains("no checksum is pinned"));
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
