//! The seed patterns of PRODUCT.md: each single-stage image gets the
//! multi-stage, root-user and base-image findings; its multi-stage version
//! gets none of those.

use layercake_lint::{LintSettings, lint_source};

/// Findings that say "build in a builder stage".
const MULTI_STAGE: [&str; 3] = ["LC107", "LC108", "LC109"];
/// Findings that say "the container runs as root".
const ROOT_USER: [&str; 1] = ["LC401"];
/// Findings about the base image: a toolchain or full image where a runtime
/// or slim one fits, an unpinned tag.
const BASE_IMAGE: [&str; 3] = ["LC107", "LC308", "LC403"];

fn codes(source: &str) -> Vec<&'static str> {
    let report = lint_source("Dockerfile", source, &LintSettings::default());
    report.findings.iter().map(|f| f.code).collect()
}

fn has_any(codes: &[&str], wanted: &[&str]) -> bool {
    codes.iter().any(|c| wanted.contains(c))
}

const NODE_SINGLE: &str = "FROM node:22\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n";

const NODE_MULTI: &str = "FROM node:22 AS build\nWORKDIR /app\nCOPY package*.json ./\nRUN --mount=type=cache,target=/root/.npm npm ci\nCOPY . .\nRUN npm run build\n\nFROM node:22-slim\nENV NODE_ENV=production\nWORKDIR /app\nCOPY package*.json ./\nRUN --mount=type=cache,target=/root/.npm npm ci --omit=dev\nCOPY --from=build /app/dist ./dist\nUSER node\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n";

const GO_SINGLE: &str = "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /usr/local/bin/app ./cmd/app\nEXPOSE 8080\nCMD [\"app\"]\n";

const GO_MULTI: &str = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN --mount=type=cache,target=/go/pkg/mod go mod download\nCOPY . .\nRUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \\\n    CGO_ENABLED=0 go build -ldflags=\"-s -w\" -o /out/app ./cmd/app\n\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n";

const PYTHON_SINGLE: &str = "FROM python:3.12\nWORKDIR /app\nRUN apt-get update && apt-get install -y --no-install-recommends build-essential \\\n    && rm -rf /var/lib/apt/lists/*\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"-m\", \"app\"]\n";

const PYTHON_MULTI: &str = "FROM python:3.12 AS build\nRUN apt-get update && apt-get install -y --no-install-recommends build-essential\nRUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n\nFROM python:3.12-slim\nCOPY --from=build /opt/venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\nWORKDIR /app\nCOPY . .\nUSER 10001\nCMD [\"python\", \"-m\", \"app\"]\n";

#[test]
fn single_stage_examples_get_multi_stage_root_and_base_image_findings() {
    for (name, source) in [
        ("node", NODE_SINGLE),
        ("go", GO_SINGLE),
        ("python", PYTHON_SINGLE),
    ] {
        let found = codes(source);
        assert!(
            has_any(&found, &MULTI_STAGE),
            "{name}: no multi-stage finding in {found:?}"
        );
        assert!(
            has_any(&found, &ROOT_USER),
            "{name}: no root-user finding in {found:?}"
        );
        assert!(
            has_any(&found, &BASE_IMAGE),
            "{name}: no base-image finding in {found:?}"
        );
    }
}

#[test]
fn multi_stage_versions_get_none_of_those() {
    for (name, source) in [
        ("node", NODE_MULTI),
        ("go", GO_MULTI),
        ("python", PYTHON_MULTI),
    ] {
        let found = codes(source);
        for code in MULTI_STAGE.iter().chain(&ROOT_USER).chain(&BASE_IMAGE) {
            assert!(
                !found.contains(code),
                "{name}: unexpected {code} in {found:?}"
            );
        }
    }
}
