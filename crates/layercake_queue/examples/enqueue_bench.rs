//! Intake throughput and latency: enqueues distinct deliveries into a fresh
//! database file and prints deliveries per second and latency percentiles.
//!
//! ```text
//! cargo run --release -p layercake_queue --example enqueue_bench -- \
//!     [--count N] [--rate N] [--threads N] [--claimers N] [--full] [--dir PATH]
//! ```
//!
//! Each delivery is a push to one of 2,000 pull requests in 200 repositories,
//! so most enqueues also supersede the pull request's previous job: the
//! realistic path, not the cheapest. Without `--rate`, deliveries go in as fast
//! as they can (throughput); with `--rate N`, they arrive N a second and each
//! one's latency counts from its arrival, queueing included (latency under a
//! load, without coordinated omission). `--threads` enqueues from several threads
//! at once (as the server's blocking pool does), `--claimers` runs workers that
//! claim and complete jobs meanwhile, `--full` uses `synchronous=FULL`, and
//! `--dir` puts the file somewhere else than the temporary directory (to
//! measure another disk).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use layercake_queue::{JobOutcome, JobStore, NewJob, StoreOptions, Synchronous};

struct Args {
    count: usize,
    threads: usize,
    claimers: usize,
    synchronous: Synchronous,
    dir: Option<PathBuf>,
    rate: Option<f64>,
}

fn parse_args() -> Args {
    let mut args = Args {
        count: 20_000,
        threads: 1,
        claimers: 0,
        synchronous: Synchronous::Normal,
        dir: None,
        rate: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--count" => args.count = number("--count"),
            "--threads" => args.threads = number("--threads").max(1),
            "--claimers" => args.claimers = number("--claimers"),
            "--rate" => args.rate = Some(number("--rate") as f64),
            "--full" => args.synchronous = Synchronous::Full,
            "--dir" => args.dir = Some(PathBuf::from(it.next().expect("--dir needs a path"))),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn job(i: usize) -> NewJob {
    let pr = i % 2_000;
    NewJob {
        repository: format!("org{}/repo{}", pr % 200, pr % 200),
        installation_id: Some(1_000 + (pr % 200) as u64),
        pr_number: pr as u64 + 1,
        head_sha: format!("{:040x}", i as u128 * 2_654_435_761),
        base_sha: format!("{:040x}", pr),
        clone_url: format!("https://github.com/org{}/repo{}.git", pr % 200, pr % 200),
        event: "pull_request.synchronize".to_owned(),
        trigger: None,
    }
}

/// A GUID like GitHub's `X-GitHub-Delivery`: its leading digits vary
/// fastest, so deliveries land all over the delivery index, not at its end.
fn delivery_id(i: usize) -> String {
    let a = splitmix64(i as u64);
    let b = splitmix64(a);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn main() {
    let args = parse_args();
    let tmp = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("a temporary directory");
    let path = tmp.path().join("jobs.db");
    let options = StoreOptions {
        synchronous: args.synchronous,
        ..StoreOptions::default()
    };
    let store = JobStore::open_with(&path, &options).expect("open the store");
    // The deliveries and their jobs, built before timing.
    let jobs: Arc<Vec<NewJob>> = Arc::new((0..args.count).map(job).collect());

    let done = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicUsize::new(0));
    let claimers: Vec<_> = (0..args.claimers)
        .map(|n| {
            let store = store.clone();
            let done = Arc::clone(&done);
            let completed = Arc::clone(&completed);
            std::thread::spawn(move || {
                let worker = format!("claimer-{n}");
                while !done.load(Ordering::Relaxed) {
                    match store
                        .claim(&worker, Duration::from_secs(60))
                        .expect("claim")
                    {
                        Some(job) => {
                            store
                                .complete(job.id, &worker, &JobOutcome::Succeeded)
                                .expect("complete");
                            completed.fetch_add(1, Ordering::Relaxed);
                        }
                        None => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            })
        })
        .collect();

    let next = Arc::new(AtomicUsize::new(0));
    let rate = args.rate;
    let start = Instant::now();
    let threads: Vec<_> = (0..args.threads)
        .map(|_| {
            let store = store.clone();
            let jobs = Arc::clone(&jobs);
            let next = Arc::clone(&next);
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(jobs.len() / 2);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let delivery = delivery_id(i);
                    // At a fixed rate, delivery i arrives at start + i/rate and
                    // its latency counts from then: time spent waiting for a
                    // thread or the lock is latency too.
                    let arrival = match rate {
                        Some(rate) => {
                            let arrival = start + Duration::from_secs_f64(i as f64 / rate);
                            if let Some(wait) = arrival.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                            arrival
                        }
                        None => Instant::now(),
                    };
                    store.enqueue(&delivery, job).expect("enqueue");
                    latencies.push(arrival.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("an enqueuing thread"))
        .collect();
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    for claimer in claimers {
        claimer.join().expect("a claiming thread");
    }
    latencies.sort_unstable();

    let stats = store.stats().expect("stats");
    let size = |name: &str| {
        std::fs::metadata(tmp.path().join(name))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    println!(
        "{} deliveries{}, {} enqueuing thread(s), {} claimer(s), synchronous={:?}",
        args.count,
        args.rate
            .map(|rate| format!(" offered at {rate}/s"))
            .unwrap_or_else(|| " as fast as possible".to_owned()),
        args.threads,
        args.claimers,
        args.synchronous
    );
    println!(
        "throughput {:.0} deliveries/s ({:.2} s)",
        args.count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 0.999).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    println!(
        "jobs: {} queued, {} superseded, {} succeeded (claimers completed {}); deliveries {}",
        stats.queued,
        stats.superseded,
        stats.succeeded,
        completed.load(Ordering::Relaxed),
        stats.deliveries
    );
    println!(
        "files: jobs.db {} KiB, jobs.db-wal {} KiB",
        size("jobs.db") / 1024,
        size("jobs.db-wal") / 1024
    );
}
