//! Analyses a base and a head image the way `layercake diff` does, and says how
//! long each took: the measured program of `bench/images.sh`.
//!
//!     cargo run --release -p layercake_build --example analyse_images -- BASE HEAD [--gzip-level N|none] [--cache DIR] [--docker-save]
//!
//! Each image is read through [`Docker::read_image`] (the engine's layer store
//! when this process can read it, else `docker save` streamed into
//! `layercake_image`; nothing unpacked either way; `--docker-save` reads through
//! `docker save` only), one after the other, as `layercake diff` reads its two sides — head through [`Docker::read_image_after`], which skips
//! the layers base already read; then its wasted space and installed packages are computed,
//! and at the end the file diff of the two. `--gzip-level` sets
//! [`ReadOptions::gzip_level`] (default: [`ReadOptions::default`], level 6, what
//! `layercake diff` uses; `none` skips measuring the compressed size of plain
//! layers, to see what that costs). `--cache DIR` keeps each image's analysis by
//! image ID, as `layercake diff` does by default: run twice, the second run reads
//! nothing.
//!
//! Output is one `key=value` line per image, one for the diff and one for the whole
//! run, so that it reads as a summary and `bench/images.sh` can pick the figures
//! out. Sizes are bytes; times are seconds. `peak_rss_kib` is this process's own
//! high-water mark (`VmHWM` from `/proc/self/status`; absent off Linux): it leaves
//! out the `docker save` child, which `/usr/bin/time` would count when it is bigger.

use std::error::Error;
use std::time::Instant;

use layercake_build::{Docker, DockerSelection, ImageCache, ImageSource};
use layercake_image::{FileKind, ImageSummary, ReadOptions, diff_images, wasted_space};

fn main() -> Result<(), Box<dyn Error>> {
    let (images, options, cache, source) = parse_args()?;
    let started = Instant::now();
    let docker = Docker::detect(&DockerSelection::from_env())?.reading_images_from(source);

    let mut summaries: Vec<ImageSummary> = Vec::with_capacity(images.len());
    for (side, image) in ["base", "head"].into_iter().zip(&images) {
        let begun = Instant::now();
        // Head reuses what base read of their shared layers, and an image read
        // before comes from the cache (`--cache`), as in `layercake diff`.
        let id = docker_image_id(&docker, image)?;
        let summary = docker.read_image_cached(&id, &options, summaries.first(), cache.as_ref())?;
        let read_from = format!("{:?}", summary.format);
        let read_seconds = begun.elapsed().as_secs_f64();
        let wasted = wasted_space(&summary);
        let packages = summary.installed_packages();
        let final_files = summary
            .final_filesystem()
            .iter()
            .filter(|(_, entry)| entry.kind == FileKind::File)
            .count();
        let layer_entries: usize = summary.layers.iter().map(|layer| layer.files.len()).sum();
        println!(
            "{side} image={image} layers={} layer_entries={layer_entries} final_files={final_files} \
             packages={} size_bytes={} tar_bytes={} compressed_bytes={} wasted_bytes={} \
             wasted_paths={} read_from={read_from} read_seconds={read_seconds:.3} seconds={:.3}",
            summary.layers.len(),
            packages.len(),
            summary.size_bytes,
            summary.tar_bytes,
            summary
                .compressed_bytes
                .map_or_else(|| "none".to_owned(), |bytes| bytes.to_string()),
            wasted.total_bytes,
            wasted.paths.len(),
            begun.elapsed().as_secs_f64(),
        );
        summaries.push(summary);
    }

    let begun = Instant::now();
    let [base, head] = summaries.as_slice() else {
        return Err("expected two images".into());
    };
    let diff = diff_images(base, head);
    let largest = diff.directories.first().map_or_else(
        || "-".to_owned(),
        |d| format!("{}:{:+}", d.path, d.delta_bytes),
    );
    println!(
        "diff added={} removed={} grown={} shrunk={} delta_bytes={:+} largest_directory={largest} seconds={:.3}",
        diff.added.len(),
        diff.removed.len(),
        diff.grown.len(),
        diff.shrunk.len(),
        diff.delta_bytes,
        begun.elapsed().as_secs_f64(),
    );
    let gzip = options
        .gzip_level
        .map_or_else(|| "none".to_owned(), |level| level.to_string());
    let peak = peak_rss_kib().map_or_else(|| "unknown".to_owned(), |kib| kib.to_string());
    println!(
        "total seconds={:.3} peak_rss_kib={peak} gzip_level={gzip} docker={} server={}",
        started.elapsed().as_secs_f64(),
        docker.binary().display(),
        docker.server_version(),
    );
    Ok(())
}

/// `BASE HEAD [--gzip-level N|none]`.
/// The images, how to read them, the cache to use, and where to read them from.
type Args = (Vec<String>, ReadOptions, Option<ImageCache>, ImageSource);

fn parse_args() -> Result<Args, Box<dyn Error>> {
    const USAGE: &str = "usage: analyse_images BASE_IMAGE HEAD_IMAGE [--gzip-level 0-9|none] [--cache DIR] [--docker-save]";
    let mut images = Vec::new();
    let mut options = ReadOptions::default();
    let mut cache = None;
    let mut source = ImageSource::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--docker-save" {
            source = ImageSource::Save;
        } else if arg == "--cache" {
            cache = Some(ImageCache::new(args.next().ok_or(USAGE)?));
        } else if arg == "--gzip-level" {
            let value = args.next().ok_or(USAGE)?;
            options.gzip_level = match value.as_str() {
                "none" => None,
                level => Some(level.parse().map_err(|_| USAGE)?),
            };
        } else if arg.starts_with('-') {
            return Err(USAGE.into());
        } else {
            images.push(arg);
        }
    }
    if images.len() != 2 {
        return Err(USAGE.into());
    }
    Ok((images, options, cache, source))
}

/// The image's ID (`docker image inspect --format {{.Id}}`), the cache's key.
fn docker_image_id(docker: &Docker, image: &str) -> Result<String, Box<dyn Error>> {
    let out = std::process::Command::new(docker.binary())
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "docker image inspect {image}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// This process's peak resident set size in KiB (`VmHWM`), on Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
