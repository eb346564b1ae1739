//! A snapshot of the whole model of a realistic multi-stage Dockerfile.

use std::fmt::Write;

use layercake_model::{DockerfileModel, ModelOptions, StageBase};

const NODE_MULTI_STAGE: &str = r#"# syntax=docker/dockerfile:1
ARG NODE_VERSION=22
ARG VARIANT=slim

FROM node:${NODE_VERSION}-${VARIANT} AS base
WORKDIR /app
ENV NODE_ENV=production

FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

FROM base AS build
ENV NODE_ENV=development
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
RUN npm run build

FROM build AS test
RUN npm test

FROM base AS runtime
ARG NODE_VERSION
LABEL org.opencontainers.image.version="node-${NODE_VERSION}"
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
"#;

#[test]
fn node_multi_stage_model() {
    let dockerfile = layercake_syntax::parse(NODE_MULTI_STAGE);
    let model = DockerfileModel::new(&dockerfile, NODE_MULTI_STAGE, &ModelOptions::default());
    insta::assert_snapshot!(dump(&model, &dockerfile, NODE_MULTI_STAGE));
}

/// One line per stage, edge and instruction: what a reviewer needs to check.
fn dump(
    model: &DockerfileModel,
    dockerfile: &layercake_syntax::Dockerfile,
    source: &str,
) -> String {
    let mut out = String::new();
    let target = model.target.map_or("none".to_string(), |t| t.to_string());
    let _ = writeln!(out, "target: {target} error: {:?}", model.target_error);
    let _ = writeln!(out, "global args: {:?}", model.global_args);
    for stage in &model.stages {
        let name = stage.name.as_ref().map_or("-", |n| n.normalized.as_str());
        let base = match &stage.base {
            StageBase::Stage { index } => format!("stage {index}"),
            StageBase::Image {
                reference, image, ..
            } => format!("image {reference} {image:?}"),
        };
        let _ = writeln!(
            out,
            "stage {} {name} instructions {:?} reaches target {} base {base}",
            stage.index, stage.instructions, stage.reaches_target
        );
    }
    for edge in &model.edges {
        let _ = writeln!(
            out,
            "edge stage {} instruction {} {:?} {:?} -> {:?}",
            edge.stage, edge.instruction, edge.kind, edge.name.written, edge.target
        );
    }
    for (index, (instruction, state)) in dockerfile
        .instructions
        .iter()
        .zip(&model.instructions)
        .enumerate()
    {
        let text = instruction.range.slice(source).lines().next().unwrap_or("");
        let _ = writeln!(
            out,
            "{index:>2} {text}\n   stage {:?} user {:?} workdir {} shell {:?} env {:?} args {:?}",
            state.stage, state.user, state.workdir, state.shell, state.env, state.args
        );
    }
    out
}
