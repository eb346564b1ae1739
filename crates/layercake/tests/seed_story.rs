//! The seed's story (PRODUCT.md) through a real engine: a single-stage Node
//! image of about 1 GB, built FROM the full `node:22`, is turned by a pull
//! request into a multi-stage build with a `node:22-slim` runtime. The review
//! reports the drop in size, the multi-stage findings fixed, nothing new, and
//! passes. The Node images are layercake_testkit's stand-ins (`docker import`,
//! an offline `npm`), tagged per run. Under `LAYERCAKE_REQUIRE_DOCKER=1` a
//! missing engine fails this test instead of skipping it.

use layercake_testkit::{GitRepo, NodeImage, docker_or_skip, node_image};
use serde_json::Value;

/// The seed Dockerfile of PRODUCT.md, FROM the stand-in for `node:22`.
fn single_stage(node: &str) -> String {
    format!(
        "FROM {node}\n\
         WORKDIR /app\n\
         COPY package*.json ./\n\
         RUN npm ci\n\
         COPY . .\n\
         RUN npm run build\n\
         EXPOSE 3000\n\
         CMD [\"node\", \"dist/server.js\"]\n"
    )
}

/// The multi-stage version: the same build in a builder stage; a slim
/// runtime with production dependencies, the build output and a non-root user.
fn multi_stage(node: &str, node_slim: &str) -> String {
    format!(
        "FROM {node} AS builder\n\
         WORKDIR /app\n\
         COPY package*.json ./\n\
         RUN npm ci\n\
         COPY . .\n\
         RUN npm run build\n\
         \n\
         FROM {node_slim}\n\
         ENV NODE_ENV=production\n\
         WORKDIR /app\n\
         COPY package*.json ./\n\
         RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev\n\
         COPY --from=builder /app/dist ./dist\n\
         USER node\n\
         EXPOSE 3000\n\
         CMD [\"node\", \"dist/server.js\"]\n"
    )
}

#[test]
fn a_single_stage_node_image_made_multi_stage_reports_the_drop_and_the_fixed_findings() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let node = node_image(&docker, NodeImage::Full);
    let node_slim = node_image(&docker, NodeImage::Slim);

    let repo = GitRepo::new();
    repo.write("Dockerfile", &single_stage(node.tag()))
        .write(".dockerignore", "node_modules\ndist\n.git\n")
        .write(
            "package.json",
            "{\n  \"name\": \"api\",\n  \"scripts\": { \"build\": \"tsc\" },\n  \"dependencies\": { \"express\": \"^4.21.2\" },\n  \"devDependencies\": { \"typescript\": \"^5.6.3\" }\n}\n",
        )
        .write("package-lock.json", "{ \"lockfileVersion\": 3 }\n")
        .write("tsconfig.json", "{ \"compilerOptions\": { \"outDir\": \"dist\" } }\n")
        .write(
            "src/server.ts",
            "import express from \"express\";\nexpress().listen(3000);\n",
        );
    repo.commit("a single-stage Node image");
    repo.checkout_new_branch("pr");
    repo.write("Dockerfile", &multi_stage(node.tag(), node_slim.tag()));
    repo.commit("build in a builder stage, ship a slim runtime");

    let cache = tempfile::tempdir().expect("temporary directory");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["diff", "--base", "main", "--format", "json", "--quiet"])
        .arg("--image-cache")
        .arg(cache.path())
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run layercake");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|error| {
        panic!(
            "JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let image = &report["images"][0];
    assert_eq!(image["dockerfile"], "Dockerfile", "{report:#}");
    assert_eq!(image["base"]["status"], "built", "{image:#}");
    assert_eq!(image["head"]["status"], "built", "{image:#}");

    // The drop: a ~1 GB image becomes a ~200 MB one.
    let base_bytes = image["base"]["size_bytes"].as_u64().expect("base size");
    let head_bytes = image["head"]["size_bytes"].as_u64().expect("head size");
    assert!(base_bytes > 1_000_000_000, "base is {base_bytes} bytes");
    assert!(
        head_bytes + 700_000_000 < base_bytes,
        "head {head_bytes} bytes is not hundreds of MB below base {base_bytes}"
    );
    let delta = image["delta_bytes"].as_i64().expect("delta_bytes");
    assert_eq!(delta, head_bytes as i64 - base_bytes as i64, "{image:#}");
    assert!(delta < -700_000_000, "delta {delta}");
    assert_eq!(image["head"]["user"], "node", "{image:#}");

    // The multi-stage findings of the seed are fixed, and nothing is new.
    let findings = image["findings"].as_array().expect("findings");
    let with = |change: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["change"] == change)
            .map(|f| format!("{} line {}", f["code"].as_str().unwrap_or("?"), f["line"]))
            .collect()
    };
    let fixed = with("fixed");
    for code in ["LC107", "LC108", "LC109"] {
        assert!(
            fixed.iter().any(|f| f.starts_with(code)),
            "{code} is not fixed; fixed: {fixed:?}, all: {findings:#?}"
        );
    }
    assert_eq!(with("new"), Vec::<String>::new(), "{findings:#?}");
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}
