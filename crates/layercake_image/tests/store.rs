//! Reading an image from a layer store (tar-split metadata and layer
//! directories) made in a temp dir from the same layers as a `docker save`
//! archive: the two reads must agree, and a broken store must say where.

mod support;

use std::path::Path;

use base64::Engine as _;
use layercake_image::{
    ArchiveFormat, ImageError, ImageSummary, ReadOptions, StoredLayer, compressed_sizes,
    read_image_with, read_stored_image,
};
use support::{DockerSave, Item, file, gzip, layer_tar};

const LONG_PATH: &str = "app/a-directory-name-long-enough-that-tar-needs-an-extension-header/and-then-some-more-of-it-to-pass-one-hundred-bytes.js";

fn layers() -> Vec<Vec<u8>> {
    let random: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        layer_tar(&[
            Item::Dir("usr"),
            Item::Dir("usr/bin"),
            file("usr/bin/node", 9000),
            Item::File("usr/bin/random", random),
            Item::Dir("lib/apk/db"),
            Item::File(
                "lib/apk/db/installed",
                b"P:musl\nV:1.2.4\n\nP:gcc\nV:13.2\n\n".to_vec(),
            ),
            Item::Symlink("usr/bin/nodejs", "node"),
        ]),
        layer_tar(&[
            Item::Whiteout("usr/bin/random"),
            Item::Opaque("usr"),
            file(LONG_PATH, 300),
            file("empty", 0),
        ]),
    ]
}

/// The tar-split lines of `tar` (a segment for every run of bytes that is not
/// a file's content, a file entry for each content) with the contents written
/// under `dir`, as the engine keeps a layer.
fn store_layer(tar: &[u8], dir: &Path) -> Vec<u8> {
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut lines = String::new();
    let mut position = 0;
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let start = usize::try_from(entry.raw_file_position()).expect("position");
        let size = usize::try_from(entry.size()).expect("size");
        let segment = &tar[position..start];
        lines.push_str(&format!(
            "{{\"type\":2,\"payload\":\"{}\",\"position\":0}}\n",
            encode(segment)
        ));
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        lines.push_str(&format!(
            "{{\"type\":1,\"name\":{},\"size\":{size},\"payload\":null,\"position\":0}}\n",
            serde_json::to_string(&name).expect("json")
        ));
        if entry.header().entry_type() == tar::EntryType::Regular && size > 0 {
            let path = dir.join(&name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            let mut out = std::fs::File::create(&path).expect("create");
            std::io::copy(&mut entry, &mut out).expect("copy");
        }
        // Contents are padded to 512-byte blocks; the padding is a segment.
        position = start + size;
    }
    lines.push_str(&format!(
        "{{\"type\":2,\"payload\":\"{}\",\"position\":0}}\n",
        encode(&tar[position..])
    ));
    gzip(lines.as_bytes())
}

struct Store {
    _dir: tempfile::TempDir,
    config: Vec<u8>,
    layers: Vec<StoredLayer>,
}

fn store(image: &DockerSave) -> Store {
    let dir = tempfile::tempdir().expect("tempdir");
    let layers = image
        .layers
        .iter()
        .enumerate()
        .map(|(index, tar)| {
            let files = dir.path().join(format!("layer-{index}"));
            std::fs::create_dir_all(&files).expect("mkdir");
            StoredLayer {
                diff_id: DockerSave::diff_id(index),
                location: format!("layerdb/{index}"),
                tar_split: store_layer(tar, &files),
                files,
            }
        })
        .collect();
    Store {
        config: serde_json::to_vec(&image.config_json()).expect("json"),
        layers,
        _dir: dir,
    }
}

fn image() -> DockerSave {
    DockerSave::new(
        layers(),
        vec![("COPY . / # buildkit", false), ("RUN rm # buildkit", false)],
    )
}

/// The summary without what says where it was read from.
fn measured(summary: &ImageSummary) -> ImageSummary {
    let mut summary = summary.clone();
    summary.format = ArchiveFormat::DockerSave;
    for layer in &mut summary.layers {
        layer.archive_path.clear();
    }
    summary
}

#[test]
fn a_stored_image_reads_as_its_docker_save_archive_does() {
    let image = image();
    let store = store(&image);
    for options in [
        ReadOptions::default(),
        ReadOptions {
            gzip_level: None,
            ..ReadOptions::default()
        },
    ] {
        let saved = read_image_with(image.build().as_slice(), &options).expect("archive");
        for threads in [1, 2, 8] {
            let stored = read_stored_image(
                &store.config,
                &store.layers,
                vec!["example/app:head".into()],
                &options,
                threads,
            )
            .expect("store");
            assert_eq!(stored.format, ArchiveFormat::LayerStore);
            assert_eq!(stored.layers[1].archive_path, "layerdb/1");
            assert_eq!(
                measured(&stored),
                measured(&saved),
                "{options:?}, {threads} threads"
            );
        }
    }
    // What the comparison stands on.
    let saved = read_image_with(image.build().as_slice(), &ReadOptions::default()).expect("read");
    assert!(saved.compressed_bytes.is_some_and(|bytes| bytes > 0));
    assert_eq!(saved.layers[1].whiteouts, ["/usr/bin/random"]);
    assert_eq!(saved.layers[1].opaque_dirs, ["/usr"]);
    assert!(
        saved.layers[1]
            .files
            .iter()
            .any(|f| f.path == format!("/{LONG_PATH}"))
    );
    assert_eq!(saved.installed_packages().len(), 2);
}

/// Five layers of different sizes, compressible but not trivially.
fn varied_image() -> DockerSave {
    let layers = (1..=5u32)
        .map(|n| {
            let mut state = n;
            let content: Vec<u8> = (0..n * 90_000)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    b"layercake-"[(state >> 16) as usize % 10]
                })
                .collect();
            layer_tar(&[Item::Dir("data"), Item::File("data/blob", content)])
        })
        .collect();
    DockerSave::new(layers, vec![("COPY . / # buildkit", false); 5])
}

#[test]
fn layers_measured_later_measure_what_a_read_would_with_any_number_of_threads() {
    let image = varied_image();
    let store = store(&image);
    let saved =
        read_image_with(image.build().as_slice(), &ReadOptions::default()).expect("archive");
    let expected: Vec<u64> = saved
        .layers
        .iter()
        .map(|l| l.compressed_bytes.expect("measured"))
        .collect();
    assert!(
        expected.windows(2).all(|pair| pair[0] != pair[1]),
        "{expected:?}"
    );
    // A read that leaves the deflate for later measures nothing...
    let scanned = read_stored_image(
        &store.config,
        &store.layers,
        Vec::new(),
        &ReadOptions {
            gzip_level: None,
            ..ReadOptions::default()
        },
        2,
    )
    .expect("scan");
    assert_eq!(scanned.compressed_bytes, None);
    // ...and the later deflate gives the figures a full read gives, on one
    // thread or many, every time.
    for threads in [1, 2, 3, 8] {
        let sizes = compressed_sizes(&store.layers, 6, threads).expect("deflate");
        assert_eq!(sizes, expected, "{threads} threads");
        let stored = read_stored_image(
            &store.config,
            &store.layers,
            Vec::new(),
            &ReadOptions::default(),
            threads,
        )
        .expect("read");
        let read: Vec<u64> = stored
            .layers
            .iter()
            .filter_map(|l| l.compressed_bytes)
            .collect();
        assert_eq!(read, expected, "{threads} threads");
    }
    // Any subset, in any order.
    let picked = [store.layers[4].clone(), store.layers[1].clone()];
    assert_eq!(
        compressed_sizes(&picked, 6, 2).expect("deflate"),
        [expected[4], expected[1]]
    );
    assert!(compressed_sizes(&[], 6, 2).expect("nothing").is_empty());
}

#[test]
fn a_layer_that_cannot_be_deflated_is_named_with_its_file() {
    let image = varied_image();
    let store = store(&image);
    std::fs::remove_file(store.layers[3].files.join("data/blob")).expect("rm");
    for threads in [1, 4] {
        let message = compressed_sizes(&store.layers, 6, threads)
            .expect_err("a file is missing")
            .to_string();
        assert!(message.contains("layerdb/3"), "{message}");
        assert!(message.contains("data/blob"), "{message}");
    }
}

#[test]
fn without_the_gzip_measurement_file_contents_are_not_read() {
    let image = image();
    let store = store(&image);
    // Contents beyond the first 4 KiB of a layer, other than package
    // databases, are not needed: remove one and the read still succeeds.
    let files = &store.layers[0].files;
    std::fs::remove_file(files.join("usr/bin/random")).expect("rm");
    let options = ReadOptions {
        gzip_level: None,
        ..ReadOptions::default()
    };
    let stored =
        read_stored_image(&store.config, &store.layers, Vec::new(), &options, 1).expect("read");
    assert_eq!(stored.layers[0].files.len(), 7);
    // With it, the missing file is an error that names it.
    let error = read_stored_image(
        &store.config,
        &store.layers,
        Vec::new(),
        &ReadOptions::default(),
        1,
    )
    .expect_err("a payload is missing");
    let message = error.to_string();
    assert!(message.contains("layerdb/0"), "{message}");
    assert!(message.contains("usr/bin/random"), "{message}");
}

#[test]
fn a_layer_already_read_is_taken_by_its_diff_id() {
    let image = image();
    let store = store(&image);
    let options = ReadOptions::default();
    let first = read_stored_image(&store.config, &store.layers, Vec::new(), &options, 1)
        .expect("first read");
    // Gone from disk, but known: not read again.
    std::fs::remove_dir_all(&store.layers[0].files).expect("rm");
    let known = ReadOptions {
        known_layers: first.layers.clone(),
        ..ReadOptions::default()
    };
    let again = read_stored_image(&store.config, &store.layers, Vec::new(), &known, 2)
        .expect("second read");
    assert_eq!(again, first);
}

#[test]
fn broken_metadata_names_the_layer_and_the_line() {
    let image = image();
    let mut store = store(&image);
    let options = ReadOptions::default();
    let read = |layers: &[StoredLayer]| {
        read_stored_image(&store.config, layers, Vec::new(), &options, 2)
            .expect_err("broken")
            .to_string()
    };
    let good = store.layers[1].tar_split.clone();

    store.layers[1].tar_split = gzip(b"{\"type\":2,\"payload\":\"\"}\nnot json\n");
    let message = read(&store.layers);
    assert!(message.contains("layerdb/1"), "{message}");
    assert!(message.contains("tar-split line 2"), "{message}");

    store.layers[1].tar_split =
        gzip(b"{\"type\":1,\"name\":\"../../etc/shadow\",\"size\":10,\"payload\":null}\n");
    let message = read(&store.layers);
    assert!(message.contains("leaves the layer"), "{message}");

    store.layers[1].tar_split = gzip(b"{\"type\":7}\n");
    assert!(read(&store.layers).contains("unknown entry type 7"));

    store.layers[1].tar_split = b"not gzip".to_vec();
    assert!(read(&store.layers).contains("layerdb/1"));

    store.layers[1].tar_split = good;
    let error = read_stored_image(&store.config, &store.layers[..1], Vec::new(), &options, 1)
        .expect_err("config lists two layers");
    assert!(matches!(error, ImageError::BadDescriptor { .. }), "{error}");
}
