//! `layercake_build` against the real Docker engine, with a busybox base image made
//! locally. Skipped (with a note) when no docker can build, unless
//! `LAYERCAKE_REQUIRE_DOCKER=1`, which makes them fail instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use layercake_build::{
    AnalysisOrigin, BuildEvent, BuildMode, BuildOutcome, BuildRequest, BuildSecret, BuildStatus,
    BuildStep, Deflated, Docker, DockerSelection, ImageCache, ImageSource, SecretSource,
};
use layercake_image::{FileKind, ReadOptions, compressed_delta, differing_layers};
use layercake_testkit::{ImageGuard, busybox_base, docker_or_skip, unique_tag};

/// A build context with one Dockerfile.
struct Context {
    dir: tempfile::TempDir,
}

impl Context {
    fn new(dockerfile: &str) -> Context {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write");
        Context { dir }
    }

    fn request(&self, tag: &str) -> BuildRequest {
        let mut request =
            BuildRequest::new(self.dir.path(), self.dir.path().join("Dockerfile"), tag);
        request.timeout = Duration::from_secs(120);
        request
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Builds and collects every event.
fn build(docker: &Docker, request: &BuildRequest) -> (BuildOutcome, Vec<String>, Vec<BuildStep>) {
    let mut lines = Vec::new();
    let mut finished = Vec::new();
    let outcome = docker.build(request, &mut |event| match event {
        BuildEvent::Line(line) => lines.push(line.to_string()),
        BuildEvent::Step(step) => finished.push(step.clone()),
    });
    (outcome, lines, finished)
}

/// A token that keeps a build out of the cache of earlier test runs.
fn token() -> String {
    unique_tag("t").replace(':', "-")
}

fn positioned(outcome: &BuildOutcome) -> Vec<&BuildStep> {
    outcome
        .steps
        .iter()
        .filter(|step| step.position.is_some())
        .collect()
}

fn two_stage(base: &str, token: &str) -> String {
    format!(
        "FROM {base} AS build\n\
         WORKDIR /w/{token}\n\
         RUN echo {token} > note.txt\n\
         \n\
         FROM {base}\n\
         COPY --from=build /w/{token}/note.txt /note.txt\n\
         RUN dd if=/dev/zero of=/data.bin bs=1024 count=100\n"
    )
}

#[test]
fn two_stage_build_then_cached_rebuild_then_read_back() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base = busybox_base(&docker);
    let image = ImageGuard::unique(&docker, "layercake-test/two-stage");
    let token = token();
    let context = Context::new(&two_stage(&base, &token));
    let request = context.request(image.tag());

    let (first, lines, finished) = build(&docker, &request);
    let BuildStatus::Built { image_id } = &first.status else {
        panic!(
            "build failed: {:?}\n{}",
            first.status,
            first.log_tail.join("\n")
        );
    };
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    assert!(lines.iter().any(|line| line.starts_with('#')));
    assert!(!finished.is_empty());

    let steps = positioned(&first);
    let find = |steps: &[&BuildStep], name: &str| -> BuildStep {
        (*steps
            .iter()
            .find(|step| step.name == name)
            .unwrap_or_else(|| panic!("no step {name:?} in {steps:#?}")))
        .clone()
    };
    let workdir = find(&steps, &format!("WORKDIR /w/{token}"));
    assert_eq!(workdir.stage.as_deref(), Some("build"));
    assert_eq!(workdir.position, Some((2, 3)));
    let copy = find(
        &steps,
        &format!("COPY --from=build /w/{token}/note.txt /note.txt"),
    );
    // The last stage has no name: BuildKit calls it by its index.
    assert_eq!(copy.stage.as_deref(), Some("stage-1"));
    assert_eq!(copy.position, Some((2, 3)));
    let dd = find(&steps, "RUN dd if=/dev/zero of=/data.bin bs=1024 count=100");
    assert_eq!(dd.position, Some((3, 3)));
    assert!(dd.duration.is_some());
    for step in &steps {
        if !step.name.starts_with("FROM ") {
            assert!(
                !step.cached,
                "{step:?} came from the cache on the first build"
            );
            assert!(step.duration.is_some(), "{step:?}");
        }
        assert!(step.error.is_none(), "{step:?}");
    }

    // The same build again: the same steps, all from the cache.
    let (second, _, _) = build(&docker, &request);
    assert_eq!(
        second.status,
        BuildStatus::Built {
            image_id: image_id.clone()
        }
    );
    let again = positioned(&second);
    // FROM is left out: a vertex the daemon shares between builds (the same base
    // image) carries the name of whichever build asked for it first, and other tests
    // build from the same base at the same time.
    let names = |steps: &[&BuildStep]| {
        steps
            .iter()
            .filter(|step| !step.name.starts_with("FROM "))
            .map(|step| (step.name.clone(), step.stage.clone(), step.position))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&again), names(&steps));
    // FROM a local image is reported `CACHED` or `DONE 0.0s`, as it happens.
    assert!(
        again
            .iter()
            .filter(|step| !step.name.starts_with("FROM "))
            .all(|step| step.cached),
        "{again:#?}"
    );

    // What the image is made of: the base layer, the COPY, and the dd that wrote 100 KiB.
    let summary = docker
        .read_image(
            image.tag(),
            &ReadOptions {
                gzip_level: None,
                ..ReadOptions::default()
            },
        )
        .expect("docker save is read");
    assert_eq!(summary.layers.len(), 3, "{:#?}", summary.layers);
    assert_eq!(
        summary.size_bytes,
        summary
            .layers
            .iter()
            .map(|layer| layer.size_bytes)
            .sum::<u64>()
    );
    let last = &summary.layers[2];
    let created_by = last.created_by.as_deref().unwrap_or_default();
    assert!(created_by.contains("dd if=/dev/zero"), "{created_by}");
    let data = last
        .files
        .iter()
        .find(|file| file.path == "/data.bin")
        .unwrap_or_else(|| panic!("/data.bin not in {:#?}", last.files));
    assert_eq!((data.size, data.kind), (100 * 1024, FileKind::File));
    assert!(last.size_bytes >= 100 * 1024);
    assert!(
        summary.layers[1]
            .files
            .iter()
            .any(|file| file.path == "/note.txt")
    );
    assert!(
        summary.layers[0]
            .files
            .iter()
            .any(|file| file.path == "/bin/busybox")
    );
    let engine_size = docker.image_size(image.tag()).expect("inspect");
    assert!(
        engine_size >= summary.size_bytes,
        "engine {engine_size} < files {}",
        summary.size_bytes
    );
}

#[test]
fn head_read_after_base_skips_their_shared_layers_and_reads_the_same() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let token = token();
    let base_file = format!(
        "FROM {base_image}\nRUN echo {token} > /a && dd if=/dev/zero of=/b bs=1024 count=64\n"
    );
    let head_file = format!("{base_file}RUN dd if=/dev/zero of=/c bs=1024 count=32\n");
    let base_tag = ImageGuard::unique(&docker, "layercake-test/after-base");
    let head_tag = ImageGuard::unique(&docker, "layercake-test/after-head");
    for (file, tag) in [(&base_file, &base_tag), (&head_file, &head_tag)] {
        let context = Context::new(file);
        let (outcome, _, _) = build(&docker, &context.request(tag.tag()));
        assert!(
            matches!(outcome.status, BuildStatus::Built { .. }),
            "{outcome:?}"
        );
    }
    let options = ReadOptions::default();
    // From `docker save` archives, shared layers are recognised by content
    // (their archive names differ); from the layer store, by diff_id.
    for source in [ImageSource::Save, ImageSource::LayerStoreOrSave] {
        let docker = docker.clone().reading_images_from(source);
        let base = docker.read_image(base_tag.tag(), &options).expect("base");
        let full = docker.read_image(head_tag.tag(), &options).expect("head");
        let after = docker
            .read_image_after(head_tag.tag(), &options, &base)
            .expect("head after base");
        assert_eq!(
            after, full,
            "{source:?}: reusing base's layers changes nothing"
        );
        let shared = full
            .layers
            .iter()
            .filter(|l| {
                base.layers
                    .iter()
                    .any(|b| b.content_key == l.content_key && b.diff_id == l.diff_id)
            })
            .count();
        assert_eq!(shared, 2, "{source:?}: {:#?}", full.layers);
    }
}

#[test]
fn base_and_head_deflate_only_the_layers_they_do_not_share() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let token = token();
    // Shared: busybox and the token layer. Base's own: 64 KiB of random bytes;
    // head's own: 32 KiB of random bytes, then a small file.
    let shared = format!("FROM {base_image}\nRUN echo {token} > /a\n");
    let base_file = format!("{shared}RUN dd if=/dev/urandom of=/b bs=1024 count=64 2>/dev/null\n");
    let head_file = format!(
        "{shared}RUN dd if=/dev/urandom of=/c bs=1024 count=32 2>/dev/null\nRUN echo {token} > /d\n"
    );
    let mut ids = Vec::new();
    let mut guards = Vec::new();
    for file in [&base_file, &head_file] {
        let context = Context::new(file);
        let tag = ImageGuard::unique(&docker, "layercake-test/deflate");
        let (outcome, _, _) = build(&docker, &context.request(tag.tag()));
        let BuildStatus::Built { image_id } = outcome.status else {
            panic!("{outcome:?}");
        };
        ids.push(image_id);
        guards.push(tag);
    }
    let (base_id, head_id) = (ids[0].as_str(), ids[1].as_str());
    let options = ReadOptions::default();
    let measured = |image: &layercake_image::ImageSummary| -> Vec<bool> {
        image
            .layers
            .iter()
            .map(|l| l.compressed_bytes.is_some())
            .collect()
    };
    for source in [ImageSource::LayerStoreOrSave, ImageSource::Save] {
        let docker = docker.clone().reading_images_from(source);
        // What the figures must be: each image read in full, no cache.
        let full_base = docker.read_image(base_id, &options).expect("base");
        let full_head = docker.read_image(head_id, &options).expect("head");
        let whole = |image: &layercake_image::ImageSummary| {
            i64::try_from(image.compressed_bytes.expect("all measured")).expect("fits")
        };
        let exact = whole(&full_head) - whole(&full_base);

        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ImageCache::new(dir.path());
        let mut base = docker
            .scan_image_cached(base_id, &options, None, Some(&cache))
            .expect("base")
            .0;
        let mut head = docker
            .scan_image_cached(head_id, &options, Some(&base), Some(&cache))
            .expect("head")
            .0;
        let wanted = differing_layers(&base.layers, &head.layers);
        assert_eq!(wanted.len(), 3, "{source:?}: base's one and head's two");
        let deflated = docker
            .measure_compressed(
                &mut [(base_id, &mut base), (head_id, &mut head)],
                &wanted,
                &options,
                Some(&cache),
            )
            .expect("measured");
        let delta = compressed_delta(&base.layers, &head.layers);
        assert_eq!(delta, Some(exact), "{source:?}");
        if source == ImageSource::LayerStoreOrSave {
            // From the layer store nothing was deflated while reading, and
            // then only the three layers that differ.
            assert_eq!(deflated.layers, 3, "{source:?}");
            assert_eq!(measured(&base), [false, false, true]);
            assert_eq!(measured(&head), [false, false, true, true]);
            assert_eq!((base.compressed_bytes, head.compressed_bytes), (None, None));
        } else {
            // Through `docker save` base's layers are deflated as they stream
            // past (reading again would cost another save); head skips the
            // two it shares with base. Nothing is left to deflate.
            assert_eq!(deflated, Deflated::default(), "{source:?}");
            assert_eq!(base.compressed_bytes, full_base.compressed_bytes);
        }

        // A rerun: both images from the cache, nothing deflated, the same delta.
        let (mut base, base_origin) = docker
            .scan_image_cached(base_id, &options, None, Some(&cache))
            .expect("base again");
        let (mut head, head_origin) = docker
            .scan_image_cached(head_id, &options, Some(&base), Some(&cache))
            .expect("head again");
        assert_eq!(
            (base_origin, head_origin),
            (AnalysisOrigin::Cache, AnalysisOrigin::Cache)
        );
        let wanted = differing_layers(&base.layers, &head.layers);
        let again = docker
            .measure_compressed(
                &mut [(base_id, &mut base), (head_id, &mut head)],
                &wanted,
                &options,
                Some(&cache),
            )
            .expect("measured");
        assert_eq!(again, Deflated::default(), "{source:?}");
        assert_eq!(
            compressed_delta(&base.layers, &head.layers),
            Some(exact),
            "{source:?}"
        );

        // Asked for every layer (a budget on compressed sizes): the shared
        // ones are deflated now, once for both images, and kept.
        let every = base
            .layers
            .iter()
            .chain(&head.layers)
            .filter_map(|l| l.diff_id.clone())
            .collect();
        let all = docker
            .measure_compressed(
                &mut [(base_id, &mut base), (head_id, &mut head)],
                &every,
                &options,
                Some(&cache),
            )
            .expect("measured");
        if source == ImageSource::LayerStoreOrSave {
            assert_eq!(all.layers, 2, "{source:?}: busybox and the token layer");
        }
        assert_eq!(
            base.compressed_bytes, full_base.compressed_bytes,
            "{source:?}"
        );
        assert_eq!(
            head.compressed_bytes, full_head.compressed_bytes,
            "{source:?}"
        );
        let kept = docker
            .scan_image_cached(base_id, &options, None, Some(&cache))
            .expect("kept")
            .0;
        assert_eq!(
            kept.compressed_bytes, full_base.compressed_bytes,
            "{source:?}"
        );
    }
    drop(guards);
}

#[test]
fn a_kept_analysis_answers_without_reading_the_image_again() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let context = Context::new(&format!("FROM {base_image}\nRUN echo {} > /a\n", token()));
    let tag = ImageGuard::unique(&docker, "layercake-test/cached");
    let (outcome, _, _) = build(&docker, &context.request(tag.tag()));
    let BuildStatus::Built { image_id } = outcome.status else {
        panic!("{outcome:?}");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = layercake_build::ImageCache::new(dir.path());
    let options = ReadOptions::default();
    let first = docker
        .read_image_cached(&image_id, &options, None, Some(&cache))
        .expect("read and kept");
    // The image is gone: only the cache can answer now.
    docker.remove_image(tag.tag()).expect("rmi");
    assert!(
        docker.read_image(&image_id, &options).is_err(),
        "the image is gone"
    );
    let again = docker
        .read_image_cached(&image_id, &options, None, Some(&cache))
        .expect("from the cache");
    assert_eq!(again, first);
    // Another gzip level is another analysis: not in the cache.
    let other = ReadOptions {
        gzip_level: Some(1),
        ..ReadOptions::default()
    };
    assert!(
        docker
            .read_image_cached(&image_id, &other, None, Some(&cache))
            .is_err()
    );
}

#[test]
fn an_image_not_kept_takes_the_layers_it_shares_with_one_that_was() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let first_file = format!("FROM {base_image}\nRUN echo {} > /a\n", token());
    let second_file = format!("{first_file}RUN echo more > /b\n");
    let mut ids = Vec::new();
    let mut guards = Vec::new();
    for file in [&first_file, &second_file] {
        let context = Context::new(file);
        let tag = ImageGuard::unique(&docker, "layercake-test/shared-layers");
        let (outcome, _, _) = build(&docker, &context.request(tag.tag()));
        let BuildStatus::Built { image_id } = outcome.status else {
            panic!("{outcome:?}");
        };
        ids.push(image_id);
        guards.push(tag);
    }
    let options = ReadOptions::default();
    for source in [ImageSource::LayerStoreOrSave, ImageSource::Save] {
        let docker = docker.clone().reading_images_from(source);
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = layercake_build::ImageCache::new(dir.path());
        let first = docker
            .read_image_cached(&ids[0], &options, None, Some(&cache))
            .expect("first image");
        // Mark the kept analysis of the RUN layer both images share: if the
        // second image's read takes it from the cache, the mark shows.
        let shared = first.layers[1].diff_id.clone().expect("diff_id");
        let hex = shared.trim_start_matches("sha256:");
        let entry = std::fs::read_dir(dir.path())
            .expect("cache dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(&format!("-layer-{hex}.json")))
            .expect("the shared layer is kept");
        let mut layer: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&entry).expect("read")).expect("json");
        layer["compressed_bytes"] = serde_json::Value::from(424_242);
        std::fs::write(&entry, layer.to_string()).expect("write");

        let second = docker
            .read_image_cached(&ids[1], &options, None, Some(&cache))
            .expect("second image");
        assert_eq!(second.layers[1].diff_id.as_deref(), Some(shared.as_str()));
        assert_eq!(
            second.layers[1].compressed_bytes,
            Some(424_242),
            "{source:?}: the shared layer came from the cache"
        );
        let read = docker.read_image(&ids[1], &options).expect("read");
        assert_eq!(
            second.layers[2], read.layers[2],
            "{source:?}: the new layer was read"
        );
        assert_ne!(read.layers[1].compressed_bytes, Some(424_242));
    }
    drop(guards);
}

#[test]
fn a_failing_run_is_a_failed_outcome_with_the_error_and_last_lines() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base = busybox_base(&docker);
    let image = ImageGuard::unique(&docker, "layercake-test/failing");
    let token = token();
    let context = Context::new(&format!("FROM {base}\nRUN echo said-{token} && false\n"));
    let (outcome, _, finished) = build(&docker, &context.request(image.tag()));
    let BuildStatus::Failed { exit_code, message } = &outcome.status else {
        panic!("expected a failure: {outcome:#?}");
    };
    assert_eq!(*exit_code, Some(1));
    assert!(message.contains("exit code: 1"), "{message}");
    assert!(
        message.contains(&format!("echo said-{token} && false")),
        "{message}"
    );
    assert!(
        outcome
            .log_tail
            .iter()
            .any(|line| line.ends_with(&format!(" said-{token}"))),
        "{:#?}",
        outcome.log_tail
    );
    let failed = finished
        .iter()
        .find(|step| step.error.is_some())
        .expect("the failing step was reported");
    assert_eq!(failed.name, format!("RUN echo said-{token} && false"));
    assert_eq!(failed.position, Some((2, 2)));
    assert_eq!(failed.error.as_deref(), Some(message.as_str()));
    // Nothing it printed looks like an error: its last line is the cause.
    let cause = outcome.cause.as_ref().expect("a failed build has a cause");
    assert_eq!(cause.step.as_ref(), Some(failed));
    assert_eq!(cause.exit_code, Some(1));
    assert_eq!(cause.lines, [format!("said-{token}")]);
}

#[test]
fn a_build_past_its_time_limit_is_canceled() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base = busybox_base(&docker);
    let image = ImageGuard::unique(&docker, "layercake-test/timeout");
    let token = token();
    let context = Context::new(&format!("FROM {base}\nRUN echo {token} && sleep 30\n"));
    let mut request = context.request(image.tag());
    request.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let (outcome, _, _) = build(&docker, &request);
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.status,
        BuildStatus::TimedOut {
            after: Duration::from_secs(2)
        },
        "{:#?}",
        outcome.log_tail
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let sleeping = outcome
        .steps
        .iter()
        .find(|step| step.name == format!("RUN echo {token} && sleep 30"))
        .expect("the running step is kept");
    assert!(!sleeping.cached);
    assert_eq!(sleeping.duration, None);
}

#[test]
fn secrets_never_reach_the_log() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base = busybox_base(&docker);
    let image = ImageGuard::unique(&docker, "layercake-test/secret");
    let context = Context::new(&format!(
        "FROM {base}\nRUN --mount=type=secret,id=tok cat /run/secrets/tok && echo\n"
    ));
    let secret_value = format!("tok-{}-value", token());
    let secret_file = context.path().join("tok.secret");
    std::fs::write(&secret_file, format!("{secret_value}\n")).expect("write");
    let mut request = context.request(image.tag());
    request.no_cache = true;
    request.secrets.push(BuildSecret {
        id: "tok".to_string(),
        source: SecretSource::File(secret_file),
    });
    let (outcome, lines, _) = build(&docker, &request);
    assert!(
        matches!(outcome.status, BuildStatus::Built { .. }),
        "{outcome:#?}"
    );
    assert!(lines.iter().all(|line| !line.contains(&secret_value)));
    assert!(
        outcome
            .log_tail
            .iter()
            .all(|line| !line.contains(&secret_value))
    );
    // The RUN did print it: masked.
    assert!(
        lines.iter().any(|line| line.ends_with(" ***")),
        "{lines:#?}"
    );
}

#[test]
fn read_image_of_a_missing_image_names_it_and_says_why() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let missing = unique_tag("layercake-test/missing");
    let error = docker
        .read_image(&missing, &ReadOptions::default())
        .expect_err("no such image");
    let message = error.to_string();
    assert!(message.contains(&missing), "{message}");
    // Docker's own words (20.10: "reference does not exist"; later: "No such image").
    assert!(message.contains("Error response from daemon"), "{message}");
    docker
        .remove_image(&missing)
        .expect("a missing image is removed");
}

/// What `binary` prints on stdout for `args` (first line), and whether it succeeded.
fn ask(binary: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(binary)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next().unwrap_or_default().trim().to_string();
    (output.status.success(), first)
}

/// `20.10.24+dfsg1` → (20, 10, 24); panics on anything else.
fn release(version: &str) -> (u32, u32, u32) {
    let core = version.split(['+', '-']).next().unwrap_or_default();
    let parts: Vec<u32> = core
        .split('.')
        .map(|part| {
            part.parse()
                .unwrap_or_else(|_| panic!("{version:?} is not MAJOR.MINOR.PATCH"))
        })
        .collect();
    match parts[..] {
        [major, minor, patch] => (major, minor, patch),
        _ => panic!("{version:?} is not MAJOR.MINOR.PATCH"),
    }
}

#[test]
fn detect_finds_a_builder_here() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let binary = docker.binary();
    assert!(binary.is_file(), "{}", binary.display());
    // What detect says is what the engine and client say when asked directly.
    let (_, client) = ask(binary, &["version", "--format", "{{.Client.Version}}"]);
    let (answered, server) = ask(binary, &["version", "--format", "{{.Server.Version}}"]);
    assert!(answered, "the daemon answers {}", binary.display());
    assert_eq!(docker.client_version(), client);
    assert_eq!(docker.server_version(), server);
    release(docker.server_version());
    let (has_buildx, _) = ask(binary, &["buildx", "version"]);
    if has_buildx {
        assert_eq!(docker.mode(), BuildMode::Buildx);
    } else {
        // Without buildx only a client before 23.0 builds with BuildKit
        // (DOCKER_BUILDKIT=1 docker build).
        assert_eq!(docker.mode(), BuildMode::ClassicBuildKit);
        assert!(release(docker.client_version()).0 < 23, "{docker:?}");
    }
    // docs/diff-report.md: the first docker on PATH (then /usr/bin/docker)
    // that can use BuildKit. Here, /usr/local/bin/docker (28.x, no buildx)
    // is passed over for Debian's /usr/bin/docker (20.10, DOCKER_BUILDKIT=1).
    if std::env::var_os(DockerSelection::BINARY_ENV).is_none() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let chosen = std::fs::canonicalize(binary).expect("canonical");
        let earlier = std::env::split_paths(&path)
            .map(|dir| dir.join("docker"))
            .filter(|candidate| candidate.is_file())
            .take_while(|candidate| std::fs::canonicalize(candidate).ok() != Some(chosen.clone()));
        for candidate in earlier {
            let (_, client) = ask(&candidate, &["version", "--format", "{{.Client.Version}}"]);
            let usable = ask(&candidate, &["buildx", "version"]).0
                || client
                    .split('.')
                    .next()
                    .and_then(|major| major.parse::<u32>().ok())
                    .is_some_and(|major| major < 23);
            assert!(
                !usable,
                "{} ({client}) comes first on PATH and can build with BuildKit, but {} was chosen",
                candidate.display(),
                binary.display()
            );
        }
    }
}

#[test]
fn detect_with_a_bogus_binary_says_it_cannot_run_it() {
    let bogus = PathBuf::from("/nonexistent/bin/docker");
    let error = Docker::detect(&DockerSelection {
        binary: Some(bogus.clone()),
        builder: None,
        host: None,
    })
    .expect_err("cannot be used");
    assert!(error.reason.contains("/nonexistent/bin/docker"), "{error}");
    assert!(error.reason.contains("cannot run"), "{error}");
    assert_eq!(error.to_string(), error.reason);
}

/// A docker CLI without buildx, as a shell script in a temp dir: it answers
/// `version --format` with `client` (and a 20.10 daemon), and `buildx …`
/// the way a client without the plugin does. Anything else fails loudly.
struct FakeDockerCli {
    dir: tempfile::TempDir,
}

impl FakeDockerCli {
    fn without_buildx(client: &str) -> FakeDockerCli {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("docker");
        let script = format!(
            r#"#!/bin/sh
case "$*" in
  "version --format {{{{.Client.Version}}}}") echo {client} ;;
  "version --format {{{{.Server.Version}}}}") echo 20.10.24+dfsg1 ;;
  buildx*)
    echo "docker: unknown command: docker $*" >&2
    echo >&2
    echo "Run 'docker --help' for more information" >&2
    exit 1 ;;
  *) echo "fake docker: not faked: $*" >&2; exit 2 ;;
esac
"#
        );
        std::fs::write(&path, script).expect("write the fake docker");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        // Another test thread forking while the file was open for writing
        // holds it until its exec: wait until it can be run (not ETXTBSY).
        let started = Instant::now();
        while let Err(error) = Command::new(&path).arg("version").output() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "cannot run {}: {error}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        FakeDockerCli { dir }
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("docker")
    }
}

#[test]
fn detect_with_a_new_client_without_buildx_explains_why_not() {
    let newer = FakeDockerCli::without_buildx("28.2.2");
    let error = Docker::detect(&DockerSelection {
        binary: Some(newer.binary()),
        builder: None,
        host: None,
    })
    .expect_err("no buildx, too new for DOCKER_BUILDKIT=1");
    let hint = if Path::new("/usr/bin/docker").is_file() {
        "set LAYERCAKE_DOCKER=/usr/bin/docker or install buildx"
    } else {
        "install buildx, or set LAYERCAKE_DOCKER to a docker client older than 23.0"
    };
    assert_eq!(
        error.reason,
        format!(
            "docker 28.2.2 at {} has no buildx, so it cannot build with BuildKit; {hint}",
            newer.binary().display()
        )
    );
}

#[test]
fn a_client_before_23_without_buildx_builds_with_docker_buildkit() {
    let older = FakeDockerCli::without_buildx("20.10.24+dfsg1");
    let docker = Docker::detect(&DockerSelection {
        binary: Some(older.binary()),
        builder: None,
        host: None,
    })
    .expect("a 20.10 client builds with DOCKER_BUILDKIT=1");
    assert_eq!(docker.mode(), BuildMode::ClassicBuildKit);
    assert_eq!(docker.binary(), older.binary());
    assert_eq!(docker.client_version(), "20.10.24+dfsg1");
    assert_eq!(docker.server_version(), "20.10.24+dfsg1");
}

#[test]
fn a_builder_without_buildx_is_refused() {
    let older = FakeDockerCli::without_buildx("20.10.24+dfsg1");
    let error = Docker::detect(&DockerSelection {
        binary: Some(older.binary()),
        builder: Some("ci".to_string()),
        host: None,
    })
    .expect_err("a builder needs buildx");
    assert_eq!(
        error.reason,
        format!(
            "the builder \"ci\" was asked for, but docker 20.10.24+dfsg1 at {} has no buildx; install buildx or leave the builder (BUILDX_BUILDER, --builder) unset",
            older.binary().display()
        )
    );
}

/// The summary without what says where it was read from.
fn measured(summary: &layercake_image::ImageSummary) -> layercake_image::ImageSummary {
    let mut summary = summary.clone();
    summary.format = layercake_image::ArchiveFormat::DockerSave;
    for layer in &mut summary.layers {
        layer.archive_path.clear();
    }
    summary
}

#[test]
fn the_layer_store_reads_what_docker_save_reads_without_the_archive() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base_image = busybox_base(&docker);
    let token = token();
    let long = "a-directory-name-long-enough-that-tar-needs-an-extension-header".repeat(2);
    let dockerfile = format!(
        "FROM {base_image}\n\
         RUN mkdir -p /data/old /lib/apk/db /deep/{long} \
          && echo {token} > /data/old/a \
          && dd if=/dev/urandom of=/data/big bs=1024 count=300 \
          && ln -s /data/big /data/link && ln /data/big /data/hard \
          && printf 'P:musl\\nV:1.2.4\\n\\nP:gcc\\nV:13.2\\n\\n' > /lib/apk/db/installed \
          && echo deep > /deep/{long}/file\n\
         RUN rm /data/big && rm -rf /data/old && mkdir /data/old && echo b > /data/old/b\n\
         COPY payload.bin /payload.bin\n"
    );
    let context = Context::new(&dockerfile);
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(context.path().join("payload.bin"), &payload).expect("write");
    let tag = ImageGuard::unique(&docker, "layercake-test/store");
    let (outcome, _, _) = build(&docker, &context.request(tag.tag()));
    assert!(
        matches!(outcome.status, BuildStatus::Built { .. }),
        "{outcome:?}"
    );
    for options in [
        ReadOptions::default(),
        ReadOptions {
            gzip_level: None,
            ..ReadOptions::default()
        },
    ] {
        let saved = docker.read_image_saved(tag.tag(), &options).expect("save");
        let stored = docker
            .read_image_stored(tag.tag(), &options)
            .expect("the layer store is readable here (root, overlay2)");
        assert_eq!(stored.format, layercake_image::ArchiveFormat::LayerStore);
        assert_eq!(measured(&stored), measured(&saved), "{options:?}");
        let auto = docker.read_image(tag.tag(), &options).expect("read");
        assert_eq!(auto.format, layercake_image::ArchiveFormat::LayerStore);
    }
    // What the comparison stands on: a whiteout, an opaque directory, the
    // apk database and a compressed size were all there to compare.
    let stored = docker
        .read_image_stored(tag.tag(), &ReadOptions::default())
        .expect("store");
    let top = stored.layers.len() - 1;
    let removed = &stored.layers[top - 1];
    assert!(
        removed.whiteouts.contains(&"/data/big".to_string()),
        "{removed:#?}"
    );
    assert!(
        removed.opaque_dirs.contains(&"/data/old".to_string()),
        "{removed:#?}"
    );
    let names: Vec<String> = stored
        .installed_packages()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["gcc", "musl"]);
    // 300 KiB from /dev/urandom do not compress: real bytes were measured, not zeros.
    let random = &stored.layers[top - 2];
    assert!(
        random.compressed_bytes.is_some_and(|bytes| bytes > 300_000),
        "{random:?}"
    );
}

#[test]
fn an_image_the_engine_does_not_have_is_no_layer_store_read() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let missing = unique_tag("layercake-test/never-built");
    let error = docker
        .read_image_stored(&missing, &ReadOptions::default())
        .expect_err("no such image");
    assert!(error.to_string().contains(&missing), "{error}");
}

#[test]
fn a_named_engine_is_the_one_every_command_talks_to() {
    let Some(found) = docker_or_skip() else {
        return;
    };
    // The engine found, named explicitly: it answers, and says so.
    let socket = "unix:///var/run/docker.sock";
    let named = Docker::detect(&DockerSelection {
        binary: Some(found.binary().to_path_buf()),
        builder: None,
        host: Some(socket.to_string()),
    })
    .expect("the default engine, by its socket");
    assert_eq!(named.host(), Some(socket));
    assert_eq!(named.server_version(), found.server_version());
    // An engine that is not there is the daemon's trouble, named.
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = format!("unix://{}/docker.sock", dir.path().display());
    let error = Docker::detect(&DockerSelection {
        binary: Some(found.binary().to_path_buf()),
        builder: None,
        host: Some(missing.clone()),
    })
    .expect_err("no engine there");
    assert!(error.reason.contains("docker.sock"), "{}", error.reason);
    assert!(
        error.reason.starts_with("the Docker daemon is not running"),
        "{}",
        error.reason
    );
}
