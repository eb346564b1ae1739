//! The `layercake` binary as a user runs it: outputs (snapshotted), exit
//! codes, discovery, configuration errors, suppressions, a closed pipe.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn layercake(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run layercake")
}

/// A Dockerfile whose only warning is LC201 (infos aside).
const ONE_WARNING: &str = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\n";

fn codes(output: &Output) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn lint_examples_as_text() {
    let out = layercake(&repo_root(), &["lint", "examples/"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn lint_examples_in_every_machine_format() {
    for format in ["json", "sarif", "github", "markdown"] {
        let out = layercake(
            &repo_root(),
            &[
                "lint",
                "--format",
                format,
                "examples/go-multi-stage",
                "examples/node-single-stage",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let text = stdout(&out).replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(format!("lint_examples_{format}"), text);
    }
}

#[test]
fn json_output_is_the_documented_contract() {
    let out = layercake(&repo_root(), &["lint", "--format", "json", "examples/"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["version"], 1);
    let findings = json["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    let keys = [
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "name",
        "category",
        "severity",
        "message",
        "fix",
    ];
    for finding in findings {
        let object = finding.as_object().expect("object");
        for key in keys {
            assert!(object.contains_key(key), "missing {key}");
        }
        let category = finding["category"].as_str().expect("category");
        assert!(["multi-stage", "cache", "size", "security", "correctness"].contains(&category));
        assert!(
            ["error", "warning", "info"].contains(&finding["severity"].as_str().expect("severity"))
        );
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "clean/Dockerfile",
        "FROM alpine:3.20\nRUN true\nUSER 10001\n",
    );
    write(
        dir.path(),
        "info/Dockerfile",
        "FROM alpine:3.20 AS test\nRUN true\nFROM alpine:3.20\nUSER 10001\n",
    );
    write(dir.path(), "warn/Dockerfile", ONE_WARNING);
    let code = |args: &[&str]| layercake(dir.path(), args).status.code();
    assert_eq!(code(&["lint", "clean"]), Some(0));
    assert_eq!(
        code(&["lint", "info"]),
        Some(0),
        "info does not fail by default"
    );
    assert_eq!(code(&["lint", "--fail-on", "info", "info"]), Some(1));
    assert_eq!(code(&["lint", "warn"]), Some(1));
    assert_eq!(code(&["lint", "--fail-on", "error", "warn"]), Some(0));
    assert_eq!(code(&["lint", "--fail-on", "none", "warn"]), Some(0));
    assert_eq!(code(&["lint", "--ignore", "LC201", "warn"]), Some(0));
    assert_eq!(
        code(&["lint", "--select", "broad-copy-before-install", "warn"]),
        Some(1)
    );
    assert_eq!(code(&["lint", "missing-dir"]), Some(2));
    assert_eq!(code(&["lint", "--select", "LC999", "warn"]), Some(2));
    assert_eq!(code(&["lint", "--format", "xml", "warn"]), Some(2));
    assert_eq!(code(&["explain", "LC999"]), Some(2));
    assert_eq!(code(&["no-such-command"]), Some(2));
}

#[test]
fn unreadable_path_is_named_and_the_rest_is_still_linted() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "ok/Dockerfile",
        "FROM node:22\nCOPY . .\nRUN npm ci\n",
    );
    let out = layercake(
        dir.path(),
        &["lint", "--format", "json", "ok", "nope/Dockerfile"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope/Dockerfile"), "{}", stderr(&out));
}

#[test]
fn a_broken_file_does_not_stop_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a/Dockerfile",
        "FROM alpine\nRUN <<EOF\necho never terminated\n",
    );
    write(
        dir.path(),
        "b/Dockerfile",
        "FROM node:22\nENV DEBUG\nCOPY . .\nRUN npm ci\n",
    );
    let out = layercake(dir.path(), &["lint", "."]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn discovery_finds_dockerfiles_and_respects_gitignore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = "FROM scratch\nCOPY --from=nowhere /a /a\n";
    for name in [
        "Dockerfile",
        "api.Dockerfile",
        "Dockerfile.dev",
        "Containerfile",
        "svc/worker/Dockerfile",
        "node_modules/pkg/Dockerfile",
        ".hidden/Dockerfile",
        "README.md",
        "Dockerfile-old",
    ] {
        write(dir.path(), name, bad);
    }
    write(dir.path(), ".gitignore", "node_modules/\n");
    let out = layercake(dir.path(), &["lint", "--format", "github"]);
    let mut files: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.split("file=").nth(1))
        .filter_map(|rest| rest.split(',').next())
        .map(str::to_string)
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "Containerfile",
            "Dockerfile",
            "Dockerfile.dev",
            "api.Dockerfile",
            "svc/worker/Dockerfile"
        ]
    );
}

#[test]
fn config_file_is_found_and_its_errors_name_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "svc/Dockerfile", ONE_WARNING);
    assert_eq!(
        layercake(dir.path(), &["lint", "svc"]).status.code(),
        Some(1),
        "LC201 fires without config"
    );
    write(dir.path(), ".layercake.yml", "rules:\n  LC201: off\n");
    assert_eq!(
        layercake(dir.path(), &["lint", "svc"]).status.code(),
        Some(0),
        "LC201 turned off by config"
    );
    write(
        dir.path(),
        ".layercake.yml",
        "fail-on: warning\nrulez:\n  LC201: off\n",
    );
    let out = layercake(dir.path(), &["lint", "svc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(".layercake.yml:2:1"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("rulez"), "{}", stderr(&out));
}

#[test]
fn inline_suppressions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = "FROM node:22-slim AS app\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM alpine:3.20 AS unused\nUSER 10001\n";
    write(dir.path(), "Dockerfile", file);
    let before = codes(&layercake(dir.path(), &["lint", "--format", "json", "."]));
    assert!(
        before.contains(&"LC201".to_string()) && before.contains(&"LC103".to_string()),
        "{before:?}"
    );
    let suppressed = file
        .replace("COPY . .", "# layercake ignore=LC201\nCOPY . .")
        .replace(
            "USER 10001",
            "USER 10001\n# layercake ignore-file=stage-outside-target",
        );
    write(dir.path(), "Dockerfile", &suppressed);
    let after = codes(&layercake(dir.path(), &["lint", "--format", "json", "."]));
    assert!(
        !after.contains(&"LC201".to_string()) && !after.contains(&"LC103".to_string()),
        "{after:?}"
    );
    assert_eq!(
        after.len(),
        before.len() - 2,
        "only the two suppressed findings went: {after:?}"
    );
}

/// hadolint's and BuildKit's suppressions in the Dockerfile, and a
/// `.hadolint.yaml` where there is no `.layercake.yml`, turn off the
/// layercake rules they stand for; `# check=error=true` fails on the rest.
#[test]
fn suppressions_written_for_hadolint_and_buildkit() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), ".git/HEAD", "");
    let file = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nWORKDIR app\nUSER 10001\nCMD run\n";
    write(dir.path(), "Dockerfile", file);
    let lint = |args: &[&str]| {
        let mut all = vec!["lint", "--format", "json"];
        all.extend_from_slice(args);
        all.push(".");
        codes(&layercake(dir.path(), &all))
    };
    assert_eq!(lint(&[]), ["LC204", "LC302", "LC502", "LC501"]);

    let commented = file
        .replace(
            "RUN apt-get",
            "# hadolint ignore=DL3015,DL3008\nRUN apt-get",
        )
        .replace("CMD run", "CMD run\n# hadolint global ignore=DL3000");
    write(dir.path(), "Dockerfile", &commented);
    assert_eq!(lint(&[]), ["LC204", "LC501"]);

    write(
        dir.path(),
        "Dockerfile",
        &format!("# check=skip=JSONArgsRecommended;error=true\n{file}"),
    );
    assert_eq!(lint(&[]), ["LC204", "LC302", "LC502"]);
    let out = layercake(dir.path(), &["lint", "--fail-on", "error", "."]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "LC502 is an error under error=true"
    );
    assert!(stdout(&out).contains("LC502 [error]"), "{}", stdout(&out));

    write(dir.path(), "Dockerfile", file);
    write(
        dir.path(),
        ".hadolint.yaml",
        "ignored: [DL3025, DL3015]\nfailure-threshold: error\n",
    );
    assert_eq!(lint(&[]), ["LC204", "LC502"]);
    let out = layercake(dir.path(), &["lint", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "failure-threshold: error lets warnings pass"
    );

    write(dir.path(), ".layercake.yml", "fail-on: warning\n");
    assert_eq!(
        lint(&[]),
        ["LC204", "LC302", "LC502", "LC501"],
        "a .layercake.yml wins"
    );
}

/// `layercake migrate hadolint` prints the equivalent `.layercake.yml`, which
/// layercake reads as it is.
#[test]
fn migrate_hadolint_prints_the_equivalent_layercake_yml() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".hadolint.yml",
        "ignored: [DL3008, DL3015, SC2086]\nfailure-threshold: style\noverride:\n  error: [DL3025]\ntrustedRegistries: [docker.io]\nformat: json\n",
    );
    let out = layercake(dir.path(), &["migrate", "hadolint"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
    write(dir.path(), ".layercake.yml", &stdout(&out));
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.20\nUSER 1\nCMD run\n",
    );
    let lint = layercake(dir.path(), &["lint", "."]);
    assert!(stdout(&lint).contains("LC501 [error]"), "{}", stdout(&lint));

    let by_path = layercake(dir.path(), &["migrate", "hadolint", ".hadolint.yml"]);
    assert_eq!(stdout(&by_path), stdout(&out));
    let missing = layercake(dir.path(), &["migrate", "hadolint", "nowhere/"]);
    assert_eq!(missing.status.code(), Some(2));
    let empty = tempfile::tempdir().expect("tempdir");
    let none = layercake(empty.path(), &["migrate", "hadolint"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("no .hadolint.yaml or .hadolint.yml"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn rules_and_explain() {
    let root = repo_root();
    let rules = layercake(&root, &["rules"]);
    assert_eq!(rules.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&rules));
    let explain = layercake(&root, &["explain", "broad-copy-before-install"]);
    assert_eq!(explain.status.code(), Some(0));
    let page = std::fs::read_to_string(root.join("docs/rules/LC201.md")).expect("generated page");
    assert_eq!(stdout(&explain), page, "explain prints the generated page");
}

/// `explain` names a rule in hadolint and BuildKit, and takes those names.
#[test]
fn explain_names_the_rule_in_hadolint_and_buildkit() {
    let root = repo_root();
    let head = |args: &[&str]| {
        let out = layercake(&root, args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        let pages: Vec<String> = text
            .split("\n# ")
            .map(|page| page.lines().take(7).collect::<Vec<_>>().join("\n"))
            .collect();
        pages.join("\n…\n# ")
    };
    let by_code = head(&["explain", "LC501"]);
    assert_eq!(head(&["explain", "DL3025"]), by_code);
    assert_eq!(head(&["explain", "jsonargsrecommended"]), by_code);
    let several = head(&["explain", "dl3022"]);
    insta::assert_snapshot!(format!("{by_code}\n\n── explain dl3022 ──\n{several}"));
    let none = layercake(&root, &["explain", "DL3008"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("docs/comparison.md"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn parse_prints_ranges_flags_and_heredocs() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "Dockerfile",
        "# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN --mount=type=cache,target=/root/.cache \\\n    go build <<EOF\nx\nEOF\nCOPY --link --from=build /a /b\n",
    );
    let out = layercake(dir.path(), &["parse", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    insta::assert_json_snapshot!(json);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..300 {
        write(
            dir.path(),
            &format!("s{i}/Dockerfile"),
            "FROM node:22\nCOPY . .\nRUN npm ci\nFROM alpine AS t\n",
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["lint", "."])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 16];
    let mut pipe = child.stdout.take().expect("stdout");
    pipe.read_exact(&mut first).expect("some output");
    drop(pipe);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "exit quietly: {}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn fix_applies_safe_fixes_and_reports_what_remains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = "FROM alpine:3.20\nRUN apk add curl\nRUN apt-get install curl\nUSER 10001\n";
    write(dir.path(), "Dockerfile", original);
    let out = layercake(dir.path(), &["lint", "--fix", "--format", "json", "."]);
    let fixed = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    assert!(fixed.contains("apk add --no-cache curl"), "{fixed}");
    assert!(fixed.contains("apt-get install -y curl"), "{fixed}");
    assert!(
        !fixed.contains("--no-install-recommends"),
        "unsafe fixes wait for --unsafe-fixes: {fixed}"
    );
    let remaining = codes(&out);
    assert!(
        !remaining.contains(&"LC304".to_string()) && !remaining.contains(&"LC507".to_string()),
        "{remaining:?}"
    );
    assert!(stderr(&out).contains("applied 2 fixes"), "{}", stderr(&out));
    assert!(layercake_syntax_parses(&fixed));

    layercake(dir.path(), &["lint", "--unsafe-fixes", "."]);
    let fixed = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    assert!(fixed.contains("--no-install-recommends"), "{fixed}");
}

fn layercake_syntax_parses(source: &str) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "Dockerfile", source);
    let out = layercake(dir.path(), &["parse", "Dockerfile"]);
    out.status.code() == Some(0)
}

#[test]
fn no_fixes_are_offered_for_a_file_buildkit_cannot_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.20\nRUN apk add curl\nRUN <<EOF\necho never terminated\n",
    );
    let out = layercake(dir.path(), &["lint", "--format", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = json["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["code"] == "LC304"),
        "the finding stands"
    );
    assert!(
        findings.iter().all(|f| f["fix"].is_null()),
        "but no fix: {findings:?}"
    );
}
