//! The seed patterns of PRODUCT.md against the multi-stage rules (LC104 to
//! LC109): each single-stage example gets the multi-stage findings, and its
//! multi-stage version gets none of them.

use layercake_lint::{LintSettings, lint_source};

const MULTI_STAGE_RULES: [&str; 6] = ["LC104", "LC105", "LC106", "LC107", "LC108", "LC109"];

fn multi_stage_codes(source: &str) -> Vec<&'static str> {
    let report = lint_source("Dockerfile", source, &LintSettings::default());
    let mut codes: Vec<&'static str> = report
        .findings
        .iter()
        .map(|f| f.code)
        .filter(|code| MULTI_STAGE_RULES.contains(code))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

const NODE_SINGLE: &str = r#"FROM node:22
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
EXPOSE 3000
CMD ["node", "dist/server.js"]
"#;

const NODE_MULTI: &str = r#"FROM node:22 AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:22-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package*.json ./
RUN npm ci --omit=dev
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
"#;

const GO_SINGLE: &str = r#"FROM golang:1.22
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -o /usr/local/bin/app ./cmd/app
EXPOSE 8080
CMD ["app"]
"#;

const GO_MULTI_SCRATCH: &str = r#"FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/app ./cmd/app

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/app /app
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/app"]
"#;

const GO_MULTI_DISTROLESS: &str = r#"FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
"#;

const PYTHON_SINGLE: &str = r#"FROM python:3.12-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "-m", "app"]
"#;

const PYTHON_MULTI: &str = r#"FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.12-slim
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
USER nobody
CMD ["python", "-m", "app"]
"#;

#[test]
fn single_stage_node_gets_toolchain_single_stage_and_dev_dependencies() {
    assert_eq!(multi_stage_codes(NODE_SINGLE), ["LC107", "LC108", "LC109"]);
}

#[test]
fn single_stage_go_gets_toolchain_and_single_stage() {
    assert_eq!(multi_stage_codes(GO_SINGLE), ["LC107", "LC109"]);
}

#[test]
fn single_stage_python_with_build_essential_gets_build_tools() {
    assert_eq!(multi_stage_codes(PYTHON_SINGLE), ["LC108"]);
}

#[test]
fn multi_stage_versions_get_none() {
    for (name, source) in [
        ("node", NODE_MULTI),
        ("go on scratch", GO_MULTI_SCRATCH),
        ("go on distroless", GO_MULTI_DISTROLESS),
        ("python", PYTHON_MULTI),
    ] {
        assert_eq!(
            multi_stage_codes(source),
            Vec::<&str>::new(),
            "{name} multi-stage example"
        );
    }
}
