//! `layercake diff` building base and head with a real Docker Engine
//! (BuildKit), on git repositories made in temp dirs, from a busybox base
//! image made locally. Under `LAYERCAKE_REQUIRE_DOCKER=1` (as in CI) a
//! missing engine fails these tests instead of skipping them.

use layercake_testkit::{GitRepo, busybox_base, docker_or_skip};
use serde_json::Value;
use std::process::Output;

fn diff(repo: &GitRepo, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_layercake"))
        .arg("diff")
        .args(args)
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run layercake")
}

/// `diff --base main --format json`: the report and the exit status.
fn report(repo: &GitRepo, extra: &[&str]) -> (Value, Option<i32>) {
    let mut args = vec!["--base", "main", "--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    let out = diff(repo, &args);
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, out.status.code())
}

fn image<'a>(report: &'a Value, dockerfile: &str) -> &'a Value {
    report["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|i| i["dockerfile"] == dockerfile)
        .unwrap_or_else(|| panic!("no image {dockerfile} in {report:#}"))
}

/// A repository with `files` on `main`, then branch `pr` checked out.
fn repo_with(files: &[(&str, String)]) -> GitRepo {
    let repo = GitRepo::new();
    for (path, text) in files {
        repo.write(path, text);
    }
    repo.commit("base");
    repo.checkout_new_branch("pr");
    repo
}

fn dd(path: &str, kib: u32) -> String {
    format!("RUN dd if=/dev/zero of={path} bs=1024 count={kib} 2>/dev/null")
}

#[test]
fn a_size_change_is_attributed_to_the_line_that_caused_it() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let dockerfile = |kib: u32| {
        format!(
            "FROM {base_image}\nWORKDIR /app\nCOPY app.txt /app/\n{}\n{}\nUSER 1000\n",
            dd("/app/data", kib),
            dd("/app/other", 20)
        )
    };
    let repo = repo_with(&[
        ("Dockerfile", dockerfile(10)),
        ("app.txt", "hello\n".to_string()),
    ]);
    repo.write("Dockerfile", &dockerfile(310));
    repo.commit("grow /app/data");

    let (report, code) = report(&repo, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["measured"], true);
    let image = image(&report, "Dockerfile");
    assert_eq!(image["base"]["status"], "built", "{image:#}");
    assert_eq!(image["head"]["status"], "built", "{image:#}");
    assert_eq!(
        image["layer_deltas"][0]["delta_bytes"],
        300 * 1024,
        "{image:#}"
    );
    assert_eq!(image["delta_bytes"], 300 * 1024, "{image:#}");
    assert!(image["compressed_delta_bytes"].as_i64().unwrap() > 0);
    assert_eq!(image["head"]["user"], "1000");

    // The change is the RUN on line 4, and nothing else moved.
    let deltas = image["layer_deltas"].as_array().expect("layer_deltas");
    assert_eq!(deltas[0]["line_start"], 4, "{deltas:#?}");
    assert_eq!(deltas[0]["delta_bytes"], 300 * 1024);
    assert!(
        deltas[0]["instruction"]
            .as_str()
            .unwrap()
            .starts_with("RUN dd if=/dev/zero of=/app/data")
    );
    assert!(
        deltas[1..].iter().all(|d| d["delta_bytes"] == 0),
        "{deltas:#?}"
    );

    // Each head layer is tied to its instruction's line.
    let layers = image["head"]["layers"].as_array().expect("layers");
    let lines: Vec<(Value, Value)> = layers
        .iter()
        .map(|l| (l["line_start"].clone(), l["from_base_image"].clone()))
        .collect();
    assert_eq!(lines.first().map(|l| l.1.clone()), Some(Value::Bool(true)));
    let own: Vec<u64> = layers
        .iter()
        .filter(|l| l["from_base_image"] == false)
        .map(|l| l["line_start"].as_u64().unwrap())
        .collect();
    assert_eq!(own, [2, 3, 4, 5], "{layers:#?}");

    // The file diff names the grown file.
    let grown = image["files"]["grown"].as_array().expect("grown");
    assert_eq!(grown[0]["path"], "/app/data");
    assert_eq!(grown[0]["delta_bytes"], 300 * 1024);
    assert_eq!(image["budget"], Value::Null);

    // The text report says the same for people.
    let out = diff(&repo, &["--base", "main", "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("+307.2 kB  line 4"), "{text}");
}

#[test]
fn a_budget_fails_the_run_and_says_by_how_much() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let dockerfile = |kib: u32| format!("FROM {base_image}\n{}\nUSER 1000\n", dd("/data", kib));
    let repo = repo_with(&[
        ("Dockerfile", dockerfile(10)),
        (
            ".layercake.yml",
            "budget:\n  max-growth: 100kB\n".to_string(),
        ),
    ]);
    repo.write("Dockerfile", &dockerfile(500));
    repo.commit("grow");
    let (report, code) = report(&repo, &[]);
    assert_eq!(code, Some(1), "{report:#}");
    let budget = &image(&report, "Dockerfile")["budget"];
    assert_eq!(budget["verdict"], "fail", "{budget:#}");
    assert_eq!(budget["violations"][0]["limit"], "max-growth");
}

#[test]
fn only_the_layers_base_and_head_do_not_share_are_deflated_and_the_change_is_exact() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let token = layercake_testkit::unique_tag("t").replace(':', "-");
    let random = |path: &str, kib: u32| {
        format!("RUN dd if=/dev/urandom of={path} bs=1024 count={kib} 2>/dev/null")
    };
    let dockerfile = |version: &str, more: &str| {
        format!(
            "FROM {base_image}\nRUN echo {token} > /token\n{}\nRUN echo {version} > /version\n{more}USER 1000\n",
            random("/shared.bin", 64)
        )
    };
    let repo = repo_with(&[("Dockerfile", dockerfile("1", ""))]);
    repo.write(
        "Dockerfile",
        &dockerfile("2", &format!("{}\n", random("/new.bin", 32))),
    );
    repo.write(
        "added/Dockerfile",
        &format!("FROM {base_image}\n{}\nUSER 1000\n", random("/a.bin", 8)),
    );
    repo.commit("change the version, add 32 KiB and an image");
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_arg = cache.path().to_str().expect("utf-8");
    // Only this image: the added one, measured whole, would tell the cache
    // the busybox layer's size.
    let (first, code) = report(&repo, &["--image-cache", cache_arg, "Dockerfile"]);
    assert_eq!(code, Some(0), "{first:#}");
    let image = image(&first, "Dockerfile");
    let measured = |side: &str| -> Vec<bool> {
        image[side]["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|layer| layer["compressed_bytes"].is_u64())
            .collect()
    };
    // busybox, the token and the 64 KiB both sides hold: never deflated.
    assert_eq!(measured("base"), [false, false, false, true], "{image:#}");
    assert_eq!(
        measured("head"),
        [false, false, false, true, true],
        "{image:#}"
    );
    assert_eq!(image["base"]["compressed_bytes"], Value::Null, "{image:#}");
    assert_eq!(image["head"]["compressed_bytes"], Value::Null, "{image:#}");
    let delta = image["compressed_delta_bytes"].as_i64().expect("exact");
    assert!(
        delta > 32 * 1024,
        "{delta}: 32 KiB of random bytes do not compress"
    );
    let text = String::from_utf8_lossy(
        &diff(
            &repo,
            &[
                "--base",
                "main",
                "--quiet",
                "--image-cache",
                cache_arg,
                "Dockerfile",
            ],
        )
        .stdout,
    )
    .into_owned();
    assert!(
        text.contains(&format!(
            "; compressed +{}",
            layercake_report::format_bytes(delta.unsigned_abs())
        )),
        "{text}"
    );

    // A budget on compressed sizes needs the whole sizes: with a fresh
    // cache every layer is deflated, and the change is their difference.
    repo.write(
        ".layercake.yml",
        "budget:\n  compressed: true\n  max-size: 1GB\n",
    );
    repo.commit("a compressed budget");
    let fresh = tempfile::tempdir().expect("tempdir");
    let (second, code) = report(
        &repo,
        &["--image-cache", fresh.path().to_str().expect("utf-8")],
    );
    assert_eq!(code, Some(0), "{second:#}");
    let image = self::image(&second, "Dockerfile");
    let whole = |side: &str| {
        image[side]["compressed_bytes"]
            .as_i64()
            .unwrap_or_else(|| panic!("{image:#}"))
    };
    assert_eq!(whole("head") - whole("base"), delta, "{image:#}");
    assert_eq!(image["compressed_delta_bytes"], delta);
    assert_eq!(image["budget"]["verdict"], "pass", "{image:#}");

    // An added image is all change: its own layers are measured (its base
    // image's, as any base image's, only with a compressed budget).
    repo.remove(".layercake.yml");
    repo.commit("no budget");
    let fresh = tempfile::tempdir().expect("tempdir");
    let fresh_arg = fresh.path().to_str().expect("utf-8");
    let (third, code) = report(&repo, &["--image-cache", fresh_arg, "added/Dockerfile"]);
    assert_eq!(code, Some(0), "{third:#}");
    let added = self::image(&third, "added/Dockerfile");
    assert_eq!(added["base"]["dockerfile_present"], false, "{added:#}");
    assert!(
        added["own_compressed_delta_bytes"].as_u64().unwrap() > 8 * 1024,
        "{added:#}"
    );
    assert_eq!(added["head"]["compressed_bytes"], Value::Null, "{added:#}");
}

#[test]
fn a_failed_head_build_is_a_result_and_the_other_image_still_reports() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let good = format!("FROM {base_image}\n{}\nUSER 1000\n", dd("/a", 4));
    let repo = repo_with(&[
        ("one/Dockerfile", good.clone()),
        ("two/Dockerfile", good.clone()),
    ]);
    repo.write(
        "one/Dockerfile",
        &format!("FROM {base_image}\nRUN echo about to fail && exit 3\nUSER 1000\n"),
    );
    repo.write(
        "two/Dockerfile",
        &format!("FROM {base_image}\n{}\nUSER 1000\n", dd("/a", 8)),
    );
    repo.commit("break one, grow two");

    let (report, code) = report(&repo, &[]);
    assert_eq!(
        code,
        Some(1),
        "a failed head build fails the run: {report:#}"
    );
    let one = image(&report, "one/Dockerfile");
    assert_eq!(one["base"]["status"], "built");
    assert_eq!(one["head"]["status"], "failed", "{one:#}");
    let error = one["head"]["build"]["error"].as_str().expect("error");
    assert!(error.contains("exit code: 3"), "{error}");
    let tail = one["head"]["build"]["log_tail"]
        .as_array()
        .expect("log tail");
    assert!(
        tail.iter()
            .any(|l| l.as_str().unwrap().contains("about to fail")),
        "{tail:#?}"
    );
    assert_eq!(one["delta_bytes"], Value::Null);

    let two = image(&report, "two/Dockerfile");
    assert_eq!(two["head"]["status"], "built");
    assert_eq!(two["delta_bytes"], 4 * 1024);
}

/// The line that names the cause is long gone from the log's tail when 60 lines
/// follow it: the text, the Markdown and the pull-request comment still show it,
/// with the failing line and its exit code, and the JSON keeps the tail as well.
#[test]
fn a_failed_build_names_its_cause_even_when_noise_follows_it() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let repo = repo_with(&[(
        "Dockerfile",
        format!("FROM {base_image}\nWORKDIR /app\nRUN echo ok\nUSER 1000\n"),
    )]);
    // The error is printed from a variable, so that only the output holds it
    // whole, not the step's name that BuildKit repeats at the end.
    repo.write(
        "Dockerfile",
        &format!(
            "FROM {base_image}\nWORKDIR /app\nRUN pkg=nosuchpackage-xyz && echo \"E: Unable to locate package $pkg\" \\\n    && i=0 && while [ $i -lt 60 ]; do echo \"noise $i\"; i=$((i+1)); done \\\n    && exit 100\nUSER 1000\n"
        ),
    );
    repo.commit("install a package that does not exist");
    let cause = "E: Unable to locate package nosuchpackage-xyz";

    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("report.json");
    let out = diff(
        &repo,
        &[
            "--base",
            "main",
            "--quiet",
            "--report",
            json_path.to_str().expect("utf-8 path"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "  head      the build failed at line 3: RUN pkg=nosuchpackage-xyz && echo \"E: Unable to locate package $pkg\" (exit code 100)\n"
        ),
        "{text}"
    );
    assert!(text.contains(&format!("            | {cause}\n")), "{text}");
    assert!(
        !text.contains("noise 59"),
        "the cause, not the tail: {text}"
    );

    let json = std::fs::read_to_string(&json_path).expect("the report");
    let report: Value = serde_json::from_str(&json).expect("JSON");
    let build = &image(&report, "Dockerfile")["head"]["build"];
    assert_eq!(build["cause"], serde_json::json!([cause]), "{build:#}");
    assert_eq!(build["failed_step"]["line_start"], 3, "{build:#}");
    assert_eq!(build["failed_step"]["line_end"], 5, "{build:#}");
    assert_eq!(build["failed_step"]["exit_code"], 100, "{build:#}");
    let tail = build["log_tail"].as_array().expect("the tail stays");
    assert!(
        tail.iter()
            .any(|l| l.as_str().unwrap().ends_with("noise 59")),
        "{tail:#?}"
    );
    assert!(
        tail.iter().all(|l| !l.as_str().unwrap().contains(cause)),
        "the cause is no longer in the tail, so it came from the whole log: {tail:#?}"
    );

    let report = layercake_report::read_untrusted_report(json.as_bytes()).expect("a report");
    let comment =
        layercake_report::render_comment(&report, &layercake_report::CommentOptions::default());
    assert!(
        comment.contains(&format!("failed** at line 3: `RUN pkg=nosuchpackage-xyz && echo \"E: Unable to locate package $pkg\"` (exit code 100)\n\n```text\n{cause}\n```")),
        "{comment}"
    );
    assert!(
        comment.contains("<details><summary>Last log lines</summary>"),
        "{comment}"
    );

    let out = diff(
        &repo,
        &["--base", "main", "--quiet", "--format", "markdown"],
    );
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(
        markdown.contains(&format!("**Head build failed** at line 3: `RUN pkg=nosuchpackage-xyz && echo \"E: Unable to locate package $pkg\"` (exit code 100)\n\n```\n{cause}\n```")),
        "{markdown}"
    );
}

#[test]
fn dockerfiles_added_and_deleted_are_built_on_the_side_that_has_them() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let file = format!("FROM {base_image}\n{}\nUSER 1000\n", dd("/a", 4));
    let repo = repo_with(&[("old/Dockerfile", file.clone())]);
    repo.remove("old/Dockerfile");
    // Different enough that git sees no rename.
    repo.write(
        "new/Dockerfile",
        &format!(
            "FROM {base_image}\nWORKDIR /srv\n{}\nUSER 1000\n",
            dd("/srv/b", 6)
        ),
    );
    repo.commit("move by hand");

    let (report, code) = report(&repo, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    let added = image(&report, "new/Dockerfile");
    assert_eq!(added["reason"], "dockerfile-added");
    assert_eq!(added["base"]["status"], "skipped");
    assert_eq!(added["base"]["dockerfile_present"], false);
    assert_eq!(added["head"]["status"], "built");
    assert!(added["head"]["size_bytes"].as_u64().unwrap() >= 4096);
    assert_eq!(added["delta_bytes"], Value::Null);

    let deleted = image(&report, "old/Dockerfile");
    assert_eq!(deleted["reason"], "dockerfile-deleted");
    assert_eq!(deleted["base"]["status"], "built");
    assert_eq!(deleted["head"]["status"], "skipped");
}

/// A Node-shaped project whose "npm" is a shell script, so `RUN npm ci`
/// works offline and takes a moment.
fn node_project(dockerfile: &str) -> GitRepo {
    repo_with(&[
        ("Dockerfile", dockerfile.to_string()),
        ("package.json", "{\"name\": \"probe\"}\n".to_string()),
        ("package-lock.json", "{}\n".to_string()),
        ("src/index.js", "console.log('hi')\n".to_string()),
    ])
}

fn fake_npm() -> &'static str {
    "RUN printf '#!/bin/sh\\nsleep 1\\nmkdir -p node_modules\\n' > /bin/npm && chmod +x /bin/npm"
}

/// The report of the node project built from `dockerfile(base_image)`,
/// after a pull request that only edits `src/index.js`.
fn probed(dockerfile: impl Fn(&str) -> String) -> Option<Value> {
    probed_with(dockerfile, &[])
}

fn probed_with(dockerfile: impl Fn(&str) -> String, args: &[&str]) -> Option<Value> {
    let docker = docker_or_skip()?;
    let base_image = busybox_base(&docker);
    let repo = node_project(&dockerfile(&base_image));
    repo.write("src/index.js", "console.log('hello')\n");
    repo.commit("touch the source");
    let (report, _) = report(&repo, args);
    Some(image(&report, "Dockerfile").clone())
}

#[test]
fn the_probe_confirms_a_broad_copy_before_install() {
    let Some(image) = probed(|base| {
        format!(
            "FROM {base}\n{}\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER 1000\n",
            fake_npm()
        )
    }) else {
        return;
    };
    assert_eq!(image["reason"], "context-changed");
    let probe = &image["probe"];
    assert_eq!(probe["status"], "ran", "{image:#}");
    assert_eq!(probe["file"], "src/index.js");
    assert_eq!(probe["confirmed"], serde_json::json!(["LC201 at line 4"]));
    let rerun: Vec<u64> = probe["rerun"]
        .as_array()
        .expect("rerun")
        .iter()
        .filter_map(|s| s["line"].as_u64())
        .collect();
    assert_eq!(rerun, [4, 5], "{probe:#}");
    let lc201 = image["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "LC201")
        .expect("LC201 kept");
    assert_eq!(lc201["measured"], true);
    let evidence = lc201["evidence"][0].as_str().expect("evidence");
    assert!(
        evidence.contains("changing src/index.js re-ran this COPY and 1 step"),
        "{evidence}"
    );
}

fn unbuilt_deps_stage(base: &str) -> String {
    format!(
        "FROM {base} AS deps\n{}\nWORKDIR /app\nCOPY . .\nRUN npm ci\n\nFROM {base}\nCOPY package.json /srv/\nUSER 1000\n",
        fake_npm()
    )
}

#[test]
fn a_broad_copy_in_a_stage_the_target_never_builds_is_not_reported_or_probed() {
    let Some(image) = probed(unbuilt_deps_stage) else {
        return;
    };
    assert_eq!(image["probe"], Value::Null, "{image:#}");
    assert!(
        image["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["line"].as_u64().unwrap() >= 8),
        "only the target's findings: {image:#}"
    );
    let outside = &image["findings_outside_target"][0];
    assert_eq!(outside["stage"], "deps", "{image:#}");
    assert!(outside["findings"].as_u64().unwrap() >= 1);
}

#[test]
fn the_probe_refutes_a_broad_copy_in_a_stage_the_target_never_builds() {
    // Asked for every stage, the finding is reported, and the probe refutes it.
    let Some(image) = probed_with(unbuilt_deps_stage, &["--all-stages"]) else {
        return;
    };
    let probe = &image["probe"];
    assert_eq!(probe["status"], "ran", "{image:#}");
    assert_eq!(probe["refuted"], serde_json::json!(["LC201 at line 4"]));
    assert!(
        image["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] != "LC201"),
        "refuted findings are dropped: {image:#}"
    );
    let dropped = &image["dropped"][0];
    assert_eq!(dropped["code"], "LC201");
    assert!(
        dropped["why"]
            .as_str()
            .unwrap()
            .contains("never runs this stage"),
        "{dropped:#}"
    );
}

#[test]
fn a_user_set_by_the_base_image_is_not_flagged_as_root() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    // A base image that drops root itself; the Dockerfile has no USER.
    let guard = layercake_testkit::ImageGuard::unique(&docker, "layercake-test/nonroot");
    let nonroot = guard.tag().to_string();
    let mut build = std::process::Command::new(docker.binary())
        .args(["build", "-q", "-t", &nonroot, "-"])
        .env("DOCKER_BUILDKIT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker build");
    {
        use std::io::Write;
        let mut stdin = build.stdin.take().expect("stdin");
        write!(stdin, "FROM {base_image}\nUSER 1000\n").expect("write Dockerfile");
    }
    assert!(build.wait().expect("docker build").success());

    let repo = repo_with(&[(
        "Dockerfile",
        format!("FROM {nonroot}\nRUN true\nCMD [\"sh\"]\n"),
    )]);
    repo.write(
        "Dockerfile",
        &format!("FROM {nonroot}\nRUN echo changed\nCMD [\"sh\"]\n"),
    );
    repo.commit("pr");
    let lint_only = report(&repo, &["--no-build"]).0;
    let linted = image(&lint_only, "Dockerfile")["findings"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        linted.iter().any(|f| f["code"] == "LC401"),
        "the linter alone flags it: {linted:#?}"
    );

    let (report, _) = report(&repo, &[]);
    let image = image(&report, "Dockerfile");
    assert_eq!(image["head"]["user"], "1000", "{image:#}");
    let findings = image["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["code"] != "LC401"),
        "{findings:#?}"
    );
    assert_eq!(image["dropped"][0]["code"], "LC401");
}

#[test]
fn without_a_daemon_the_report_is_lint_only_and_says_why() {
    let repo = repo_with(&[("Dockerfile", "FROM busybox:1\nUSER 1000\n".to_string())]);
    repo.write("Dockerfile", "FROM busybox:1\nCOPY . .\nUSER 1000\n");
    repo.commit("pr");
    let (report, code) = report(&repo, &["--docker", "/nonexistent/docker"]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["measured"], false);
    let reason = report["not_measured_reason"].as_str().expect("reason");
    assert!(reason.starts_with("images were not built: "), "{reason}");
    assert!(reason.contains("/nonexistent/docker"), "{reason}");
    assert_eq!(report["images"][0]["head"]["status"], "skipped");
}

#[test]
fn build_packages_in_the_final_image_are_evidence_for_the_multi_stage_findings() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    // A dpkg database as `apt-get install gcc-12 libc6-dev` leaves it, and a
    // stand-in `go`, so the build needs no network.
    let status = "Package: gcc-12\\nStatus: install ok installed\\nInstalled-Size: 2000\\n\\n\
                  Package: libc6-dev\\nStatus: install ok installed\\nInstalled-Size: 500\\n\\n\
                  Package: libc6\\nStatus: install ok installed\\nInstalled-Size: 9000\\n";
    let dockerfile = format!(
        "FROM {base_image}\n\
         RUN mkdir -p /var/lib/dpkg && printf '{status}' > /var/lib/dpkg/status\n\
         RUN printf '#!/bin/sh\\ntouch /app\\n' > /bin/go && chmod +x /bin/go\n\
         WORKDIR /src\nCOPY main.go .\nRUN go build -o /app\nUSER 1000\nCMD [\"/app\"]\n"
    );
    let repo = repo_with(&[("main.go", "package main\n".to_string())]);
    repo.write("Dockerfile", &dockerfile);
    repo.commit("add a Dockerfile");

    let (report, _) = report(&repo, &["--no-probe"]);
    let image = image(&report, "Dockerfile");
    let packages = &image["build_packages"];
    assert_eq!(packages["count"], 2, "{image:#}");
    assert_eq!(
        packages["largest"],
        serde_json::json!(["gcc-12", "libc6-dev"])
    );
    let lc109 = image["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "LC109")
        .unwrap_or_else(|| panic!("LC109 fires: {image:#}"));
    assert_eq!(
        lc109["evidence"][0],
        "measured: gcc-12 and 1 more build package in the final image: 2.6 MB"
    );
    // The stages of the image: what the base image brought, and this stage.
    let stages: Vec<&str> = image["stage_deltas"]
        .as_array()
        .expect("stage_deltas")
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["base image", "stage-0"]);
}

#[test]
fn in_github_actions_each_build_log_is_a_folded_group() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let repo = repo_with(&[(
        "Dockerfile",
        format!("FROM {base_image}\nRUN echo one\nUSER 1000\n"),
    )]);
    repo.write(
        "Dockerfile",
        &format!("FROM {base_image}\nRUN echo two\nUSER 1000\n"),
    );
    repo.commit("pr");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["diff", "--base", "main", "--format", "json"])
        .current_dir(repo.path())
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("run layercake");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let groups: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("::group::"))
        .collect();
    assert_eq!(groups.len(), 2, "{stderr}");
    assert!(
        groups[0].starts_with("::group::layercake: base Dockerfile (built in "),
        "{stderr}"
    );
    assert!(
        groups[1].starts_with("::group::layercake: head Dockerfile (built in "),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| *l == "::endgroup::").count(),
        2,
        "{stderr}"
    );
    assert!(
        stderr.contains("RUN echo two"),
        "the build log is inside: {stderr}"
    );
    // The quiet flag silences it all.
    let quiet = std::process::Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(["diff", "--base", "main", "--format", "json", "--quiet"])
        .current_dir(repo.path())
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("run layercake");
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

/// Builds `dockerfile` (from stdin, no context) as a new image guarded for
/// removal.
fn built_image(
    docker: &layercake_build::Docker,
    prefix: &str,
    dockerfile: &str,
) -> layercake_testkit::ImageGuard {
    let guard = layercake_testkit::ImageGuard::unique(docker, prefix);
    let mut build = std::process::Command::new(docker.binary())
        .args(["build", "-q", "-t", guard.tag(), "-"])
        .env("DOCKER_BUILDKIT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker build");
    {
        use std::io::Write;
        let mut stdin = build.stdin.take().expect("stdin");
        stdin
            .write_all(dockerfile.as_bytes())
            .expect("write Dockerfile");
    }
    assert!(build.wait().expect("docker build").success());
    guard
}

/// A Dependabot-style pull request: the base image moves to a new version
/// (here a locally made "3.11" that is 200 kB larger than "3.9"). The
/// review shows the `FROM` as one edited row with its size change, the
/// findings the Dockerfile already had stay unchanged, and it passes.
#[test]
fn a_base_image_bump_is_one_row_and_passes() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let busybox = busybox_base(&docker);
    let old = built_image(
        &docker,
        "layercake-test/python-slim",
        &format!(
            "FROM {busybox}\nRUN mkdir -p /usr/lib\n{}\n",
            dd("/usr/lib/python3.9.so", 100)
        ),
    );
    let new = built_image(
        &docker,
        "layercake-test/python-slim",
        &format!(
            "FROM {busybox}\nRUN mkdir -p /usr/lib\n{}\n",
            dd("/usr/lib/python3.11.so", 300)
        ),
    );
    let dockerfile = |from: &str, stage: &str| {
        format!(
            "FROM {from}{stage}\nWORKDIR /usr/src/app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt 2>/dev/null || true\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
        )
    };
    let repo = repo_with(&[
        ("Dockerfile", dockerfile(old.tag(), "")),
        ("requirements.txt", "flask\n".to_string()),
        ("app.py", "print('hi')\n".to_string()),
    ]);
    repo.write("Dockerfile", &dockerfile(new.tag(), " AS base"));
    repo.commit("bump the base image and name the stage");

    let (report, code) = report(&repo, &["--no-image-cache"]);
    assert_eq!(code, Some(0), "{report:#}");
    let image = image(&report, "Dockerfile");
    let findings = image["findings"].as_array().expect("findings");
    assert!(
        findings.iter().all(|f| f["change"] == "unchanged"),
        "nothing new or fixed: {findings:#?}"
    );
    assert!(
        findings.iter().any(|f| f["code"] == "LC401"),
        "{findings:#?}"
    );

    let deltas = image["layer_deltas"].as_array().expect("layer_deltas");
    let from_rows: Vec<&Value> = deltas
        .iter()
        .filter(|d| d["from_base_image"] == true)
        .collect();
    assert_eq!(
        from_rows.len(),
        1,
        "one row for the base image: {deltas:#?}"
    );
    let from = from_rows[0];
    assert_eq!(from["delta_bytes"], 200 * 1024, "{from:#}");
    assert_eq!(from["line_start"], 1);
    assert_eq!(from["base_line_start"], 1);
    assert_eq!(from["base_instruction"], format!("FROM {}", old.tag()));
    assert!(
        deltas.iter().all(|d| d["line_start"] != Value::Null),
        "no instruction is removed: {deltas:#?}"
    );
    let stages = image["stage_deltas"].as_array().expect("stage_deltas");
    let own = stages
        .iter()
        .find(|s| s["stage"] == "base")
        .expect("stage base");
    assert_eq!(own["base_stage"], "stage-0", "{stages:#?}");
    // `COPY . .` copies the Dockerfile, 8 bytes longer by ` AS base`.
    assert_eq!(own["delta_bytes"], " AS base".len(), "{stages:#?}");

    // The base image changed: its layers are not deflated, the Dockerfile's
    // own layers' compressed change is exact, the whole image's unknown.
    assert_eq!(image["compressed_delta_bytes"], Value::Null, "{image:#}");
    assert!(image["own_compressed_delta_bytes"].is_i64(), "{image:#}");
    let base_image_layer = &image["head"]["layers"][0];
    assert_eq!(base_image_layer["from_base_image"], true);
    assert_eq!(base_image_layer["compressed_bytes"], Value::Null);
    // Asked to, it measures the base images too: 200 KiB of zeros, a few
    // hundred bytes compressed.
    let (whole, _) = self::report(&repo, &["--compressed-base-images", "--no-image-cache"]);
    let whole = self::image(&whole, "Dockerfile");
    let delta = whole["compressed_delta_bytes"].as_i64().expect("measured");
    assert!(delta > 0 && delta < 10_000, "{whole:#}");

    let out = diff(&repo, &["--base", "main", "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("in this Dockerfile's layers (the base image's not measured)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("(was FROM {})", old.tag())),
        "the text names both images: {text}"
    );
    assert!(text.contains("base (was stage-0)"), "{text}");
    assert!(text.contains("0 new, 0 fixed"), "{text}");
}

/// The tags `layercake diff --keep-images` left for the commit `head`.
fn kept_images(docker: &layercake_build::Docker, head: &str) -> Vec<String> {
    let out = layercake_testkit::docker_output(
        docker,
        &[
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "--filter",
            "reference=layercake-diff/*",
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|tag| tag.contains(&format!("-{}-", &head[..12])))
        .map(str::to_string)
        .collect()
}

#[test]
fn each_side_is_built_from_its_commits_files_alone_and_a_rerun_builds_and_reads_nothing() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let token = layercake_testkit::unique_tag("rerun");
    let base_file = format!("FROM {base_image}\nCOPY . /src\nRUN echo '{token}' > /token\n");
    let repo = repo_with(&[
        ("Dockerfile", base_file.clone()),
        ("app/main.sh", "echo hello\n".to_string()),
    ]);
    // Head copies its whole context a second time, so the report's added
    // files list what the context held.
    repo.write(
        "Dockerfile",
        &format!("{base_file}COPY . /copy\nRUN cp /token /copy/token\n"),
    );
    let head = repo.commit("pr");
    // Not committed: not part of head.
    repo.write("app/uncommitted.txt", "working tree only\n");
    let cache = tempfile::tempdir().expect("image cache");
    let cache_dir = cache.path().to_str().expect("utf-8 path");
    let args = ["--image-cache", cache_dir, "--no-probe"];

    let mut first_args = args.to_vec();
    first_args.push("--keep-images");
    let (first, code) = report(&repo, &first_args);
    let kept: Vec<layercake_testkit::ImageGuard> = kept_images(&docker, &head)
        .into_iter()
        .map(|tag| layercake_testkit::ImageGuard::new(&docker, tag))
        .collect();
    assert_eq!(code, Some(0), "{first:#}");
    let built = image(&first, "Dockerfile");
    for side in ["base", "head"] {
        assert_eq!(built[side]["status"], "built", "{built:#}");
        assert_eq!(built[side]["image_from_cache"], false, "{side}: {built:#}");
    }
    let mut added: Vec<&str> = built["files"]["added"]
        .as_array()
        .expect("added files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    added.sort_unstable();
    assert_eq!(
        added,
        ["/copy/Dockerfile", "/copy/app/main.sh", "/copy/token"],
        "the tracked files and nothing else: {built:#}"
    );

    // Nothing in either image names a host path.
    assert_eq!(
        kept.len(),
        2,
        "{:?}",
        kept.iter().map(|k| k.tag()).collect::<Vec<_>>()
    );
    let temp = std::env::temp_dir();
    for guard in &kept {
        let out = layercake_testkit::docker_output(
            &docker,
            &[
                "run",
                "--rm",
                guard.tag(),
                "sh",
                "-c",
                &format!(
                    "find / -xdev -path /proc -prune -o -print | grep -e '[.]git' -e layercake-; grep -rl '{}' /src /copy",
                    temp.display()
                ),
            ],
        );
        let found = String::from_utf8_lossy(&out.stdout);
        assert!(found.trim().is_empty(), "{}: {found}", guard.tag());
    }

    // Run again on the same refs: every step comes from BuildKit's cache, so
    // each image is the same image (BuildKit gives a fully cached build the
    // same ID), and its analysis comes from the image cache.
    let (again, code) = report(&repo, &args);
    assert_eq!(code, Some(0), "{again:#}");
    let rebuilt = image(&again, "Dockerfile");
    for side in ["base", "head"] {
        assert_eq!(
            rebuilt[side]["build"]["executed_steps"], 0,
            "{side}: {rebuilt:#}"
        );
        assert_eq!(
            rebuilt[side]["image_from_cache"], true,
            "{side}: {rebuilt:#}"
        );
    }
}

#[test]
fn build_on_spreads_the_images_over_the_builders_with_base_and_head_on_one() {
    let Some(first) = docker_or_skip() else {
        return;
    };
    let Some(mut second) = layercake_testkit::second_engine::second_engine_or_skip() else {
        return;
    };
    let base = busybox_base(&first);
    let second_docker = second.docker().expect("the second engine");
    busybox_base(&second_docker);
    let dockerfile = |name: &str, kib: u32| {
        format!(
            "FROM {base}\n{}\nCMD [\"sh\"]\n",
            dd(&format!("/{name}"), kib)
        )
    };
    let repo = repo_with(&[
        ("api/Dockerfile", dockerfile("api", 64)),
        ("web/Dockerfile", dockerfile("web", 64)),
    ]);
    repo.write("api/Dockerfile", &dockerfile("api", 128));
    repo.write("web/Dockerfile", &dockerfile("web", 256));
    let head = repo.commit("grow both");

    let pool = format!(
        "docker=unix:///var/run/docker.sock@1,docker={}@1",
        second.host
    );
    let (value, _) = report(
        &repo,
        &["--build-on", &pool, "--keep-images", "--no-image-cache"],
    );
    // This run's images, kept: `layercake-diff/{pid}-{head}-{image}:{side}`.
    let kept = |docker: &layercake_build::Docker| -> Vec<String> {
        docker
            .tagged_images("layercake-diff/")
            .expect("images")
            .into_iter()
            .filter(|i| i.contains(&format!("-{}-", &head[..12])))
            .collect()
    };
    let (on_first, on_second) = (kept(&first), kept(&second_docker));
    let _guards: Vec<layercake_testkit::ImageGuard> = on_first
        .iter()
        .map(|i| layercake_testkit::ImageGuard::new(&first, i.clone()))
        .collect();
    assert_eq!(value["measured"], true, "{value:#}");
    for (dockerfile, grown) in [
        ("api/Dockerfile", 64 * 1024),
        ("web/Dockerfile", 192 * 1024),
    ] {
        let image = image(&value, dockerfile);
        assert_eq!(image["base"]["status"], "built", "{image:#}");
        assert_eq!(image["head"]["status"], "built", "{image:#}");
        assert_eq!(image["delta_bytes"], grown, "{dockerfile}: {image:#}");
    }
    // Each engine built one image, both of its sides.
    let image_of = |reference: &String| reference.rsplit_once(':').map(|(r, _)| r.to_string());
    for kept in [&on_first, &on_second] {
        assert_eq!(kept.len(), 2, "first: {on_first:?}, second: {on_second:?}");
        assert_eq!(image_of(&kept[0]), image_of(&kept[1]), "{kept:?}");
    }
    assert_ne!(image_of(&on_first[0]), image_of(&on_second[0]));
    second.stop();
}
