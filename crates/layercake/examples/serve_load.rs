//! Load benchmark of `layercake serve` (BENCHMARKS.md, "The App server
//! under load"): several replicas on one job database, a pool of two
//! builders (this machine's Docker Engine and a second `dockerd` the test
//! kit starts), and pull requests opened and pushed to, with duplicate and
//! out-of-order deliveries, against the fake GitHub over real HTTP.
//!
//! ```sh
//! cargo build --release -p layercake
//! cargo run --release -p layercake --example serve_load -- \
//!     --prs 200 --replicas 2 --database postgres://…   # or a SQLite file path
//! ```
//!
//! Each pull request is opened at one head and pushed to once. A tenth of
//! the deliveries are sent twice (to the other replica), and a tenth of the
//! pull requests get their `opened` after their `synchronize` (a late
//! delivery of an older head: its job supersedes the newer one, runs,
//! finds the pull request moved on, and the reconciler queues the newest
//! head again). At the end every pull request must have exactly one
//! summary comment and exactly one check run on its newest head, completed;
//! the run fails otherwise. Prints intake latency, throughput, queue wait
//! and end-to-end time.

use layercake_testkit::fake_github::FakeGitHub;
use layercake_testkit::second_engine::SecondEngine;
use layercake_testkit::{GitRepo, busybox_base, pull_request_payload, webhook_payload};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REPO: &str = "Codertocat/Hello-World";
const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 1;
const SECRET: &str = "load-secret";

struct Options {
    prs: u64,
    replicas: usize,
    database: String,
    workers: usize,
    binary: PathBuf,
}

fn options() -> Options {
    let mut options = Options {
        prs: 200,
        replicas: 2,
        database: String::new(),
        workers: 4,
        binary: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/layercake"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--prs" => options.prs = value.parse().expect("--prs N"),
            "--replicas" => options.replicas = value.parse().expect("--replicas N"),
            "--database" => options.database = value,
            "--workers" => options.workers = value.parse().expect("--workers N"),
            "--layercake" => options.binary = PathBuf::from(value),
            other => panic!("unknown flag {other}"),
        }
    }
    options
}

fn sign(body: &[u8]) -> String {
    layercake_app::signature::sign(SECRET.as_bytes(), body)
}

/// One pull request: its number, base, the head it was opened at and the
/// head it was pushed to.
struct Pull {
    number: u64,
    head1: String,
    head2: String,
}

struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_replica(
    options: &Options,
    dir: &Path,
    fake: &FakeGitHub,
    build_on: &str,
    n: usize,
) -> Replica {
    let database = if options.database.is_empty() {
        dir.join("jobs.db").display().to_string()
    } else {
        options.database.clone()
    };
    let mut child = Command::new(&options.binary)
        .arg("serve")
        .env("LAYERCAKE_LISTEN", "127.0.0.1:0")
        .env("LAYERCAKE_WEBHOOK_SECRET", SECRET)
        .env("LAYERCAKE_APP_ID", APP_ID.to_string())
        .env("LAYERCAKE_PRIVATE_KEY_PATH", dir.join("app.pem"))
        .env("LAYERCAKE_DATABASE", database)
        .env("GITHUB_API_URL", fake.url())
        .env("LAYERCAKE_BUILD_ON", build_on)
        .env("LAYERCAKE_WORKERS", options.workers.to_string())
        .env("LAYERCAKE_LEASE_SECONDS", "30")
        .env("LAYERCAKE_RECONCILE_SECONDS", "5")
        .env("LAYERCAKE_NO_IMAGE_CACHE", "true")
        .env("LAYERCAKE_CLONE_URL", dir.join("{repo}.git"))
        .env("TMPDIR", dir.join(format!("tmp-{n}")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start layercake serve");
    std::fs::create_dir_all(dir.join(format!("tmp-{n}"))).expect("tmp");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server said where it listens")
            .expect("line");
        if let Some(rest) = line.strip_prefix("layercake: listening on ") {
            break rest.split_whitespace().next().expect("url").to_string();
        }
        eprintln!("replica {n}: {line}");
    };
    let log = dir.join(format!("replica-{n}.log"));
    std::thread::spawn(move || {
        let mut file = std::fs::File::create(log).expect("log");
        for line in lines.map_while(Result::ok) {
            use std::io::Write as _;
            let _ = writeln!(file, "{line}");
        }
    });
    Replica { child, url }
}

/// A delivery to send: to which replica, the event, its ID and body, and
/// what the fake must know before it is sent.
struct Delivery {
    replica: usize,
    event: &'static str,
    id: String,
    body: Value,
}

fn send(url: &str, delivery: &Delivery) -> Duration {
    let bytes = delivery.body.to_string().into_bytes();
    let started = Instant::now();
    let response = ureq::post(&format!("{url}/webhook"))
        .set("X-GitHub-Event", delivery.event)
        .set("X-GitHub-Delivery", &delivery.id)
        .set("X-Hub-Signature-256", &sign(&bytes))
        .set("Content-Type", "application/json")
        .send_bytes(&bytes);
    let took = started.elapsed();
    match response {
        Ok(r) if r.status() == 202 || r.status() == 200 => took,
        Ok(r) => panic!("delivery {}: {}", delivery.id, r.status()),
        Err(e) => panic!("delivery {}: {e}", delivery.id),
    }
}

/// Sends `deliveries` from 8 threads; returns each one's latency.
fn send_all(replicas: &[Replica], deliveries: Vec<Delivery>) -> Vec<Duration> {
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let queue = Arc::new(Mutex::new(deliveries.into_iter().rev().collect::<Vec<_>>()));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let (queue, latencies, urls) = (queue.clone(), latencies.clone(), &urls);
            scope.spawn(move || {
                loop {
                    let Some(delivery) = queue.lock().expect("queue").pop() else {
                        break;
                    };
                    let took = send(&urls[delivery.replica % urls.len()], &delivery);
                    latencies.lock().expect("latencies").push(took);
                }
            });
        }
    });
    Arc::try_unwrap(latencies)
        .expect("one owner")
        .into_inner()
        .expect("latencies")
}

/// Queue waits and run times of the succeeded jobs in `database`.
fn job_times(database: &str) -> (Vec<Duration>, Vec<Duration>) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let queue = layercake_queue::Database::parse(database)
            .open()
            .await
            .expect("the job database");
        let (mut waits, mut runs) = (Vec::new(), Vec::new());
        let mut missing = 0;
        let mut id = 1;
        while missing < 100 {
            match queue.job(id).await.expect("a job") {
                None => missing += 1,
                Some(job) => {
                    missing = 0;
                    if job.state == layercake_queue::JobState::Succeeded
                        && let (Some(started), Some(finished)) = (job.started_at, job.finished_at)
                    {
                        waits.push(started.duration_since(job.created_at).unwrap_or_default());
                        runs.push(finished.duration_since(started).unwrap_or_default());
                    }
                }
            }
            id += 1;
        }
        (waits, runs)
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, mut values: Vec<Duration>) {
    values.sort();
    println!(
        "{name}: n={} p50={:.1} ms p90={:.1} ms p99={:.1} ms max={:.1} ms",
        values.len(),
        percentile(&values, 50.0).as_secs_f64() * 1e3,
        percentile(&values, 90.0).as_secs_f64() * 1e3,
        percentile(&values, 99.0).as_secs_f64() * 1e3,
        values.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

fn main() {
    let options = options();
    let first = layercake_testkit::docker_or_skip().expect("a Docker Engine");
    let mut second = SecondEngine::start().expect("a second Docker Engine");
    let base_image = busybox_base(&first);
    busybox_base(&second.docker().expect("second engine"));
    let build_on = format!(
        "docker=unix:///var/run/docker.sock@2,docker={}@2",
        second.host
    );

    // The repository: one Dockerfile; each pull request changes a file it copies.
    let repo = GitRepo::new();
    repo.write(
        "Dockerfile",
        &format!("FROM {base_image}\nCOPY app/ /app/\nRUN cat /app/* > /dev/null\nCMD [\"sh\"]\n"),
    );
    repo.write("app/base.txt", "base\n");
    let base = repo.commit("base");
    let mut pulls = Vec::new();
    for number in 1..=options.prs {
        repo.checkout("main");
        repo.checkout_new_branch(&format!("pr-{number}"));
        repo.write(
            "app/pr.txt",
            &format!("pull request {number}, first push\n"),
        );
        let head1 = repo.commit("open");
        repo.write(
            "app/pr.txt",
            &format!("pull request {number}, second push\n"),
        );
        let head2 = repo.commit("push");
        pulls.push(Pull {
            number,
            head1,
            head2,
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bare = repo.bare_clone(dir.path(), REPO);
    std::fs::write(
        dir.path().join("app.pem"),
        layercake_testkit::TEST_APP_PRIVATE_KEY,
    )
    .expect("key");

    let fake = FakeGitHub::start();
    fake.add_app(APP_ID, layercake_testkit::TEST_APP_PUBLIC_KEY);
    fake.add_installation(INSTALLATION, APP_ID, &[REPO]);
    let payload = |action: &str, pull: &Pull, head: &str| {
        let mut body = pull_request_payload(action, &base, head, &bare, INSTALLATION);
        body["number"] = Value::from(pull.number);
        body["pull_request"]["number"] = Value::from(pull.number);
        body["pull_request"]["head"]["ref"] = Value::from(format!("pr-{}", pull.number));
        body
    };
    for pull in &pulls {
        let opened = payload("opened", pull, &pull.head1);
        fake.add_pull_request_from_payload(&opened);
        fake.set_files_from_git(&opened, &repo, &["app/pr.txt"]);
    }

    let replicas: Vec<Replica> = (0..options.replicas)
        .map(|n| start_replica(&options, dir.path(), &fake, &build_on, n))
        .collect();
    let started = Instant::now();
    let mut last_delivery: BTreeMap<u64, Instant> = BTreeMap::new();

    // The installation first, so the reconciler knows the repository.
    let mut installation = webhook_payload("installation/created.payload.json");
    installation["installation"]["id"] = Value::from(INSTALLATION);
    let mut latencies = send_all(
        &replicas,
        vec![Delivery {
            replica: 0,
            event: "installation",
            id: "load-installation".into(),
            body: installation,
        }],
    );

    // Phase 1: every pull request opened, but a tenth of them late (their
    // `opened` arrives after their `synchronize`, in phase 2).
    let late = |pull: &Pull| pull.number % 10 == 3;
    let twice = |n: u64| n % 10 == 7;
    let mut phase1 = Vec::new();
    for pull in pulls.iter().filter(|p| !late(p)) {
        let delivery = Delivery {
            replica: pull.number as usize,
            event: "pull_request",
            id: format!("opened-{}", pull.number),
            body: payload("opened", pull, &pull.head1),
        };
        if twice(pull.number) {
            phase1.push(Delivery {
                replica: delivery.replica + 1,
                event: delivery.event,
                id: delivery.id.clone(),
                body: delivery.body.clone(),
            });
        }
        phase1.push(delivery);
        last_delivery.insert(pull.number, Instant::now());
    }
    let phase1_started = Instant::now();
    let n1 = phase1.len();
    latencies.extend(send_all(&replicas, phase1));
    let phase1_took = phase1_started.elapsed();

    // Phase 2: every pull request pushed to; the late ones' `opened` after.
    for pull in &pulls {
        fake.set_head_sha(REPO, pull.number, &pull.head2);
        fake.set_files_from_git(
            &payload("synchronize", pull, &pull.head2),
            &repo,
            &["app/pr.txt"],
        );
    }
    let mut phase2 = Vec::new();
    for pull in &pulls {
        let delivery = Delivery {
            replica: pull.number as usize + 1,
            event: "pull_request",
            id: format!("synchronize-{}", pull.number),
            body: payload("synchronize", pull, &pull.head2),
        };
        if twice(pull.number + 1) {
            phase2.push(Delivery {
                replica: delivery.replica + 1,
                event: delivery.event,
                id: delivery.id.clone(),
                body: delivery.body.clone(),
            });
        }
        phase2.push(delivery);
    }
    for pull in pulls.iter().filter(|p| late(p)) {
        phase2.push(Delivery {
            replica: pull.number as usize,
            event: "pull_request",
            id: format!("opened-{}", pull.number),
            body: payload("opened", pull, &pull.head1),
        });
    }
    let phase2_started = Instant::now();
    let n2 = phase2.len();
    for pull in &pulls {
        last_delivery.insert(pull.number, Instant::now());
    }
    latencies.extend(send_all(&replicas, phase2));
    let phase2_took = phase2_started.elapsed();
    let delivered = Instant::now();

    // Until every pull request's newest head has its one completed check run.
    let mut done: BTreeMap<u64, Instant> = BTreeMap::new();
    while done.len() < pulls.len() {
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "not done after 30 minutes: {} of {}",
            done.len(),
            pulls.len()
        );
        let runs = fake.check_runs(REPO);
        for pull in &pulls {
            if done.contains_key(&pull.number) {
                continue;
            }
            if runs
                .iter()
                .any(|r| r.head_sha == pull.head2 && r.status == "completed")
            {
                done.insert(pull.number, Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let all_done = delivered.elapsed();

    // Exactly one comment and one check run on the newest head each.
    let runs = fake.check_runs(REPO);
    let mut wrong = Vec::new();
    for pull in &pulls {
        let comments = fake.issue_comments(REPO, pull.number).len();
        let on_head: Vec<_> = runs.iter().filter(|r| r.head_sha == pull.head2).collect();
        let completed = on_head.iter().filter(|r| r.status == "completed").count();
        if comments != 1 || on_head.len() != 1 || completed != 1 {
            wrong.push(format!(
                "#{}: {comments} comments, {} check runs on its head ({completed} completed)",
                pull.number,
                on_head.len()
            ));
        }
    }
    let end_to_end: Vec<Duration> = pulls
        .iter()
        .map(|p| done[&p.number].saturating_duration_since(last_delivery[&p.number]))
        .collect();

    // Queue wait (enqueued → the last attempt started) and run time of the
    // jobs that ran to a review, from the job database.
    let database = if options.database.is_empty() {
        dir.path().join("jobs.db").display().to_string()
    } else {
        options.database.clone()
    };
    let (waits, runs) = job_times(&database);
    let metrics: Vec<String> = replicas
        .iter()
        .map(|r| {
            ureq::get(&format!("{}/metrics", r.url))
                .call()
                .expect("metrics")
                .into_string()
                .expect("text")
        })
        .collect();
    println!(
        "{} pull requests, {} replicas, database {}, builders {build_on}, {} workers each",
        pulls.len(),
        options.replicas,
        if options.database.is_empty() {
            "SQLite (one file)"
        } else {
            "PostgreSQL"
        },
        options.workers
    );
    println!(
        "intake: phase 1 {n1} deliveries in {:.2} s ({:.0}/s), phase 2 {n2} in {:.2} s ({:.0}/s), 8 senders",
        phase1_took.as_secs_f64(),
        n1 as f64 / phase1_took.as_secs_f64(),
        phase2_took.as_secs_f64(),
        n2 as f64 / phase2_took.as_secs_f64()
    );
    summary("intake latency", latencies);
    summary(
        "queue wait (enqueued → started), jobs that succeeded",
        waits,
    );
    summary(
        "job run time (started → finished), jobs that succeeded",
        runs,
    );
    summary(
        "end to end (last delivery → check run completed)",
        end_to_end,
    );
    println!(
        "all reviewed {:.1} s after the last delivery; whole run {:.1} s",
        all_done.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for (n, text) in metrics.iter().enumerate() {
        for line in text.lines().filter(|l| {
            !l.starts_with('#')
                && (l.starts_with("layercake_jobs_total")
                    || l.starts_with("layercake_builder_jobs_started_total")
                    || l.starts_with("layercake_job_deferrals_total")
                    || l.starts_with("layercake_deliveries_total{result=\"duplicate\"}")
                    || l.starts_with("layercake_job_duration_seconds_sum")
                    || l.starts_with("layercake_job_duration_seconds_count"))
        }) {
            println!("replica {n}: {line}");
        }
    }
    drop(replicas);
    second.stop();
    if !wrong.is_empty() {
        eprintln!(
            "{} pull requests did not end right:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        std::process::exit(1);
    }
    println!("every pull request: one comment, one completed check run on its newest head");
}
