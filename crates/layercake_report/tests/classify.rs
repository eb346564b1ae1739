//! Findings matched across base and head through the Dockerfiles' pairing:
//! the pull requests teams open every week report only what they changed.

use layercake_lint::{LintSettings, lint_source};
use layercake_model::{DockerfileModel, DockerfilePairing, DockerfileVersion, ModelOptions};
use layercake_report::{Change, LintedVersion, StageScope, classify};

struct Side {
    lint: layercake_lint::FileReport,
    dockerfile: layercake_syntax::Dockerfile,
    model: DockerfileModel,
}

fn side(text: &str) -> Side {
    let dockerfile = layercake_syntax::parse(text);
    let model = DockerfileModel::new(&dockerfile, text, &ModelOptions::default());
    Side {
        lint: lint_source("Dockerfile", text, &LintSettings::default()),
        dockerfile,
        model,
    }
}

fn version(side: &Side) -> DockerfileVersion<'_> {
    DockerfileVersion {
        dockerfile: &side.dockerfile,
        model: &side.model,
    }
}

/// The findings that are not `unchanged`, as `change code line`, and the
/// count of unchanged ones.
fn changes_with(base: &str, head: &str, scope: StageScope) -> (Vec<String>, usize) {
    let (base, head) = (side(base), side(head));
    let pairing = DockerfilePairing::new(version(&base), version(&head));
    let classified = classify(
        Some(LintedVersion {
            lint: &base.lint,
            version: version(&base),
        }),
        Some(LintedVersion {
            lint: &head.lint,
            version: version(&head),
        }),
        Some(&pairing),
        scope,
    );
    let unchanged = classified
        .findings
        .iter()
        .filter(|f| f.change == Change::Unchanged)
        .count();
    let changed = classified
        .findings
        .iter()
        .filter(|f| f.change != Change::Unchanged)
        .map(|f| format!("{} {} {}", f.change.as_str(), f.code, f.line))
        .collect();
    (changed, unchanged)
}

fn changes(base: &str, head: &str) -> (Vec<String>, usize) {
    changes_with(base, head, StageScope::Built)
}

const PYTHON_APP: &str = "FROM python:3.9-slim
WORKDIR /usr/src/app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
CMD [\"gunicorn\", \"app:app\", \"-b\", \"0.0.0.0:80\"]
";

#[test]
fn a_base_image_bump_changes_no_finding() {
    let head = PYTHON_APP.replace("python:3.9-slim", "python:3.11-slim");
    let (changed, unchanged) = changes(PYTHON_APP, &head);
    assert_eq!(changed, Vec::<String>::new());
    assert!(
        unchanged >= 2,
        "LC401 and the pip findings stay: {unchanged}"
    );
}

#[test]
fn a_dependabot_bump_to_a_digest_changes_no_finding() {
    let head = PYTHON_APP.replace(
        "python:3.9-slim",
        "python:3.11-slim@sha256:2f749ef90f54fd4b3c77cde78eec23ab5b8199d9ac84e4ced6ae523ef223ef7b",
    );
    let (changed, unchanged) = changes(PYTHON_APP, &head);
    assert_eq!(changed, Vec::<String>::new());
    assert!(unchanged >= 2, "{unchanged}");
}

#[test]
fn naming_a_stage_changes_no_finding() {
    let head = PYTHON_APP.replace("FROM python:3.9-slim", "FROM python:3.9-slim AS base");
    let (changed, unchanged) = changes(PYTHON_APP, &head);
    assert_eq!(changed, Vec::<String>::new());
    assert!(unchanged >= 2);
}

#[test]
fn a_run_reformatted_over_several_lines_changes_no_finding() {
    let base = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc make && rm -rf /var/lib/apt/lists/*\nCMD [\"make\"]\n";
    let head = "FROM debian:bookworm\nRUN apt-get update \\\n    && apt-get install -y \\\n        gcc \\\n        make \\\n    && rm -rf /var/lib/apt/lists/*\nCMD [\"make\"]\n";
    let (changed, unchanged) = changes(base, head);
    assert_eq!(changed, Vec::<String>::new());
    assert!(unchanged >= 2, "{unchanged}");
}

#[test]
fn editing_the_instruction_a_finding_sits_on_keeps_it_unchanged() {
    let base = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc\nUSER 1000\nCMD [\"x\"]\n";
    let head = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc make\nUSER 1000\nCMD [\"x\"]\n";
    let (changed, unchanged) = changes(base, head);
    assert_eq!(changed, Vec::<String>::new());
    assert!(unchanged >= 2, "{unchanged}");
}

#[test]
fn an_edit_that_introduces_a_problem_is_new() {
    let base = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\nUSER 1000\nCMD [\"x\"]\n";
    let head = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\nUSER 1000\nCMD [\"x\"]\n";
    let (changed, _) = changes(base, head);
    assert_eq!(changed, ["new LC302 2"]);
}

#[test]
fn a_renamed_stage_and_its_references_change_no_finding() {
    let base = "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\nFROM debian:bookworm-slim\nCOPY --from=build /out/app /app\nCMD [\"/app\"]\n";
    let head = base
        .replace("AS build", "AS builder")
        .replace("--from=build", "--from=builder");
    let (changed, unchanged) = changes(base, &head);
    assert_eq!(changed, Vec::<String>::new());
    assert!(unchanged >= 1, "{unchanged}");
}

#[test]
fn a_moved_instruction_changes_only_what_the_move_changed() {
    let base = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"server.js\"]\n";
    let head = "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n";
    let (changed, _) = changes(base, head);
    // The broad COPY before the install is gone; the install itself keeps its findings.
    assert_eq!(changed, ["fixed LC201 3"]);
}

#[test]
fn of_two_identical_instructions_the_added_one_is_new() {
    let base = "FROM debian:bookworm\nRUN apt-get install -y gcc\nUSER 1000\nCMD [\"x\"]\n";
    let head = "FROM debian:bookworm\nRUN apt-get install -y gcc\nRUN apt-get install -y gcc\nUSER 1000\nCMD [\"x\"]\n";
    let (changed, _) = changes(base, head);
    assert!(!changed.is_empty());
    assert!(
        changed
            .iter()
            .all(|c| c.starts_with("new ") && c.ends_with(" 3")),
        "{changed:?}"
    );
}

#[test]
fn findings_in_a_stage_the_target_does_not_build_are_not_reported() {
    let base = PYTHON_APP;
    let head = "FROM python:3.11-slim AS base
WORKDIR /usr/src/app
COPY requirements.txt ./
RUN pip install -r requirements.txt

FROM base AS dev
RUN pip install pytest black

FROM base AS final
COPY . .
CMD [\"gunicorn\", \"app:app\", \"-b\", \"0.0.0.0:80\"]
";
    let (changed, _) = changes(base, head);
    assert_eq!(changed, Vec::<String>::new());
    // Asked for every stage, the dev stage's install is news.
    let (changed, _) = changes_with(base, head, StageScope::All);
    assert!(changed.iter().any(|c| c.ends_with(" 7")), "{changed:?}");
}

#[test]
fn the_seed_rewrite_fixes_the_multi_stage_findings_and_adds_none() {
    let base = "FROM node:22\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n";
    let head = include_str!("../../../examples/node-multi-stage/Dockerfile");
    let (changed, _) = changes(base, head);
    assert!(
        changed.iter().all(|c| c.starts_with("fixed ")),
        "{changed:?}"
    );
    for code in ["LC107", "LC109", "LC401"] {
        assert!(
            changed.iter().any(|c| c.contains(code)),
            "{code} fixed: {changed:?}"
        );
    }
}
