//! A server starting removes what killed jobs left behind: their workspaces
//! in TMPDIR and their images, for every job not leased now; a job leased
//! now belongs to a live server, and what is not a job's is never touched.

use layercake_app::leftovers::{Scope, remove_leftovers};
use layercake_build::DockerSelection;
use layercake_queue::{JobOutcome, JobStore, NewJob};
use layercake_testkit::{ImageGuard, busybox_base, docker_or_skip, docker_output, image_exists};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(600);

/// The database these tests' jobs are in, and another one's.
fn scope() -> Scope {
    Scope::of_database("/srv/layercake/jobs.db")
}
fn other_scope() -> Scope {
    Scope::of_database("/srv/other-team/jobs.db")
}

fn job(pr_number: u64) -> NewJob {
    NewJob {
        repository: "octo/app".to_string(),
        installation_id: Some(1),
        pr_number,
        head_sha: "a".repeat(40),
        base_sha: "b".repeat(40),
        clone_url: "https://example.invalid/octo/app.git".to_string(),
        event: "pull_request.opened".to_string(),
        trigger: None,
    }
}

/// Jobs in each situation: finished, queued again, running under a live
/// lease, running under a lease that ran out.
struct Jobs {
    finished: i64,
    queued: i64,
    leased: i64,
    expired: i64,
}

fn jobs(store: &JobStore) -> Jobs {
    for n in 1..=4 {
        store.enqueue(&format!("d-{n}"), &job(n)).expect("enqueue");
    }
    let claim = |lease| store.claim("w", lease).expect("claim").expect("a job").id;
    let finished = claim(LONG);
    store
        .complete(finished, "w", &JobOutcome::Succeeded)
        .expect("complete");
    let leased = claim(LONG);
    let expired = claim(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(10));
    Jobs {
        finished,
        queued: expired + 1,
        leased,
        expired,
    }
}

#[test]
fn workspaces_of_jobs_not_leased_are_removed_and_nothing_else() {
    let store = JobStore::open_in_memory().expect("store");
    let jobs = jobs(&store);
    let tmp = tempfile::tempdir().expect("tmp");
    let workspace = |id: i64| {
        let dir = tmp
            .path()
            .join(format!("{}x1Y2z3", scope().workspace_of(id)));
        std::fs::create_dir_all(dir.join("clone/.git")).expect("workspace");
        std::fs::write(dir.join("clone/Dockerfile"), "FROM scratch\n").expect("file");
        dir
    };
    let gone = [jobs.finished, jobs.queued, jobs.expired, 999].map(workspace);
    let kept = workspace(jobs.leased);
    // Not a job's: other programs' files, names that only look alike, and
    // the workspace of job 1 of another database (a server beside this one).
    let others = [
        "layercake-job-notes".to_string(),
        "layercake-jobless-1-x".to_string(),
        "build-42-x".to_string(),
        format!("{}x", other_scope().workspace_of(jobs.finished)),
    ]
    .map(|name| tmp.path().join(name));
    for other in &others {
        std::fs::create_dir_all(other).expect("dir");
    }
    let file = tmp
        .path()
        .join(format!("{}file", scope().workspace_of(998)));
    std::fs::write(&file, "a file, not a workspace").expect("file");

    let removed = remove_leftovers(&scope(), &|id| store.job(id), tmp.path(), &[]);
    assert!(removed.failures.is_empty(), "{:?}", removed.failures);
    let mut got = removed.workspaces.clone();
    got.sort();
    let mut want = gone.to_vec();
    want.sort();
    assert_eq!(got, want);
    for dir in &gone {
        assert!(!dir.exists(), "{} should be gone", dir.display());
    }
    assert!(
        kept.join("clone/Dockerfile").exists(),
        "a leased job's clone stays"
    );
    for other in others.iter().chain([&file]) {
        assert!(other.exists(), "{} is not a job's", other.display());
    }
}

#[test]
fn images_of_jobs_not_leased_are_removed_and_a_cli_runs_images_stay() {
    let Some(docker) = docker_or_skip() else {
        return;
    };
    let base = busybox_base(&docker);
    let store = JobStore::open_in_memory().expect("store");
    let jobs = jobs(&store);
    let tag = |reference: String| {
        let out = docker_output(&docker, &["tag", &base, &reference]);
        assert!(out.status.success(), "docker tag {reference}: {out:?}");
        ImageGuard::new(&docker, reference)
    };
    let image_of =
        |id: i64, side: &str| format!("layercake-diff/{}-0:{side}", scope().run_name(id));
    let gone: Vec<String> = [jobs.finished, jobs.queued, jobs.expired]
        .iter()
        .flat_map(|id| [image_of(*id, "base"), image_of(*id, "head")])
        .collect();
    let kept = [
        image_of(jobs.leased, "head"),
        // `layercake diff --keep-images` of a user on the same engine.
        format!("layercake-diff/{}-abcdef012345-0:base", std::process::id()),
        // A finished job of another database's server on the same engine.
        format!(
            "layercake-diff/{}-0:base",
            other_scope().run_name(jobs.finished)
        ),
    ];
    let _guards: Vec<ImageGuard> = gone
        .iter()
        .chain(kept.iter())
        .map(|reference| tag(reference.clone()))
        .collect();

    let tmp = tempfile::tempdir().expect("tmp");
    let removed = remove_leftovers(
        &scope(),
        &|id| store.job(id),
        tmp.path(),
        &[DockerSelection::from_env()],
    );
    assert!(removed.failures.is_empty(), "{:?}", removed.failures);
    for reference in &gone {
        assert!(
            removed.images.contains(reference),
            "{reference}: {:?}",
            removed.images
        );
        assert!(
            !image_exists(&docker, reference),
            "{reference} should be gone"
        );
    }
    for reference in &kept {
        assert!(!removed.images.contains(reference), "{reference}");
        assert!(image_exists(&docker, reference), "{reference} should stay");
    }
    // The base image the tags pointed at is untouched.
    assert!(image_exists(&docker, &base));
}
