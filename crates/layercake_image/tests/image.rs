//! Reading `docker save` and OCI archives built in memory, and what is measured from them.

mod support;

use layercake_image::{
    ArchiveFormat, FileKind, ImageError, ImageSummary, PackageManager, ReadOptions, diff_images,
    read_image, read_image_with, wasted_space,
};
use support::{DockerSave, Item, file, layer_tar, oci_archive};

/// The seed Node image: base, `WORKDIR` (empty), `COPY package*.json`, `RUN npm ci`, `COPY . .`.
fn node_image() -> DockerSave {
    let base = layer_tar(&[
        Item::Dir("usr"),
        Item::Dir("usr/bin"),
        file("usr/bin/node", 4000),
        file("etc/passwd", 100),
    ]);
    let manifests = layer_tar(&[Item::Dir("app"), file("app/package.json", 300)]);
    let npm_ci = layer_tar(&[
        Item::Dir("app/node_modules"),
        file("app/node_modules/a.js", 2000),
        file("app/node_modules/b.js", 1000),
    ]);
    let source = layer_tar(&[file("app/server.ts", 500), file("app/package.json", 310)]);
    DockerSave::new(
        vec![base, manifests, npm_ci, source],
        vec![
            ("/bin/sh -c #(nop) ADD file:abc in / ", false),
            ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
            ("WORKDIR /app", true),
            ("COPY package*.json ./ # buildkit", false),
            ("RUN /bin/sh -c npm ci # buildkit", false),
            ("COPY . . # buildkit", false),
            ("EXPOSE map[3000/tcp:{}]", true),
            ("CMD [\"node\" \"dist/server.js\"]", true),
        ],
    )
}

fn read(archive: &[u8]) -> ImageSummary {
    match read_image(archive) {
        Ok(summary) => summary,
        Err(error) => panic!("reading failed: {error}"),
    }
}

#[test]
fn sizes_per_layer_and_history_pairing_skip_empty_layers() {
    let image = read(&node_image().build());
    assert_eq!(image.format, ArchiveFormat::DockerSave);
    assert_eq!(image.repo_tags, ["example/app:head"]);
    let sizes: Vec<u64> = image.layers.iter().map(|l| l.size_bytes).collect();
    assert_eq!(sizes, [4100, 300, 3000, 810]);
    assert_eq!(image.size_bytes, 8210);
    let created: Vec<Option<&str>> = image
        .layers
        .iter()
        .map(|l| l.created_by.as_deref())
        .collect();
    assert_eq!(
        created,
        [
            Some("/bin/sh -c #(nop) ADD file:abc in / "),
            Some("COPY package*.json ./ # buildkit"),
            Some("RUN /bin/sh -c npm ci # buildkit"),
            Some("COPY . . # buildkit"),
        ]
    );
    assert_eq!(image.layers[2].instruction(), Some("RUN /bin/sh -c npm ci"));
    assert_eq!(image.layers[0].instruction(), Some("ADD file:abc in /"));
    assert_eq!(
        image.layers[1].comment.as_deref(),
        Some("buildkit.dockerfile.v0")
    );
    assert_eq!(image.layers[3].diff_id, Some(DockerSave::diff_id(3)));
    assert_eq!(
        image.layers[3].archive_path,
        format!("{}/layer.tar", DockerSave::layer_id(3))
    );
    let indexes: Vec<usize> = image.layers.iter().map(|l| l.index).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);

    let node = &image.layers[0]
        .files
        .iter()
        .find(|f| f.path == "/usr/bin/node")
        .expect("node");
    assert_eq!(
        (node.size, node.kind, node.mode),
        (4000, FileKind::File, 0o644)
    );
    assert!(
        image.layers[0]
            .files
            .iter()
            .any(|f| f.path == "/usr/bin" && f.kind == FileKind::Directory)
    );

    for layer in &image.layers {
        // Tar headers and padding make the tar larger than its files; repeated bytes
        // compress well, so gzip makes it much smaller.
        assert!(layer.tar_bytes > layer.size_bytes, "{layer:?}");
        let compressed = layer.compressed_bytes.expect("measured");
        assert!(
            compressed > 0 && compressed < layer.tar_bytes / 4,
            "{layer:?}"
        );
    }
    assert_eq!(
        image.compressed_bytes,
        image
            .layers
            .iter()
            .map(|l| l.compressed_bytes)
            .sum::<Option<u64>>()
    );

    let skipped = read_image_with(
        node_image().build().as_slice(),
        &ReadOptions {
            gzip_level: None,
            ..ReadOptions::default()
        },
    )
    .expect("reads");
    assert_eq!(skipped.compressed_bytes, None);
    assert!(skipped.layers.iter().all(|l| l.compressed_bytes.is_none()));
    assert_eq!(skipped.size_bytes, image.size_bytes);
}

#[test]
fn known_layers_are_skipped_unread_and_give_the_same_summary() {
    let archive = node_image().build();
    let full = read(&archive);
    let known = full.layers.iter().take(2).cloned().collect();
    let options = ReadOptions {
        known_layers: known,
        ..ReadOptions::default()
    };
    let again = read_image_with(archive.as_slice(), &options).expect("reads");
    assert_eq!(again, full);
    // A "known" layer that is not what the archive holds is taken on trust:
    // the caller (Docker::read_image_after) checks diff_ids.
    let mut wrong = full.layers[0].clone();
    wrong.size_bytes += 1;
    let options = ReadOptions {
        known_layers: vec![wrong],
        ..ReadOptions::default()
    };
    let trusted = read_image_with(archive.as_slice(), &options).expect("reads");
    assert_eq!(trusted.layers[0].size_bytes, full.layers[0].size_bytes + 1);
}

#[test]
fn compressed_size_matches_gzip_of_the_layer_tar() {
    let tar = layer_tar(&[file("data.bin", 100_000)]);
    let image = read(
        &DockerSave::new(
            vec![tar.clone()],
            vec![("COPY data.bin / # buildkit", false)],
        )
        .build(),
    );
    assert_eq!(image.layers[0].tar_bytes, tar.len() as u64);
    assert_eq!(
        image.layers[0].compressed_bytes,
        Some(support::gzip(&tar).len() as u64)
    );
}

#[test]
fn config_user_env_cmd_workdir() {
    let image = read(&node_image().build());
    assert_eq!(image.config.user, None, "an empty User means root");
    assert_eq!(image.config.cmd, ["node", "dist/server.js"]);
    assert!(image.config.entrypoint.is_empty());
    assert_eq!(image.config.workdir.as_deref(), Some("/app"));
    assert!(image.config.env.iter().any(|e| e == "NODE_ENV=production"));

    let mut image = node_image();
    image.user = Some("node");
    assert_eq!(read(&image.build()).config.user.as_deref(), Some("node"));
}

#[test]
fn manifest_first_or_last_reads_the_same() {
    let last = node_image().build();
    let mut first = node_image();
    first.manifest_first = true;
    let first = first.build();
    assert_ne!(first, last);
    assert_eq!(read(&first), read(&last));
}

#[test]
fn a_layer_linked_to_another_is_read_through_the_link() {
    let shared = layer_tar(&[file("same.txt", 10)]);
    let mut image = DockerSave::new(
        vec![shared.clone(), shared],
        vec![("RUN a", false), ("RUN a", false)],
    );
    image.link_second_to_first = true;
    let summary = read(&image.build());
    assert_eq!(summary.layers.len(), 2);
    assert_eq!(summary.layers[1].files, summary.layers[0].files);
    assert_eq!(summary.layers[1].index, 1);
    assert_eq!(summary.layers[1].created_by.as_deref(), Some("RUN a"));
}

#[test]
fn whiteouts_and_opaque_dirs_shape_the_final_filesystem() {
    let base = layer_tar(&[
        file("etc/keep", 10),
        file("tmp/junk", 50),
        Item::Dir("cache"),
        file("cache/a", 20),
        file("cache/sub/b", 30),
        file("root.txt", 5),
    ]);
    let cleanup = layer_tar(&[
        Item::Whiteout("tmp/junk"),
        Item::Dir("cache"),
        Item::Opaque("cache"),
        file("cache/new", 7),
        Item::Whiteout("root.txt"),
    ]);
    let summary = read(
        &DockerSave::new(
            vec![base, cleanup],
            vec![("ADD", false), ("RUN cleanup", false)],
        )
        .build(),
    );
    assert_eq!(summary.layers[1].whiteouts, ["/tmp/junk", "/root.txt"]);
    assert_eq!(summary.layers[1].opaque_dirs, ["/cache"]);
    assert!(
        summary.layers[1]
            .files
            .iter()
            .all(|f| !f.path.contains(".wh."))
    );

    let fs = summary.final_filesystem();
    let files: Vec<&str> = fs
        .iter()
        .filter(|(_, e)| e.kind == FileKind::File)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(files, ["/cache/new", "/etc/keep"]);
    assert!(
        fs.get("/cache").is_some(),
        "the opaque directory itself stays"
    );
    assert_eq!(fs.get("/cache/new").map(|e| e.layer), Some(1));
    assert_eq!(fs.total_bytes(), 17);
}

#[test]
fn wasted_space_counts_n_minus_one_copies() {
    // Written in 3 layers: dive would count all 3 copies (dive #684); only the first 2 are wasted.
    let one = layer_tar(&[file("app/bundle.js", 1000), file("tmp/cache.tgz", 300)]);
    let two = layer_tar(&[file("app/bundle.js", 1100)]);
    let three = layer_tar(&[file("app/bundle.js", 1200), Item::Whiteout("tmp/cache.tgz")]);
    let summary = read(
        &DockerSave::new(
            vec![one, two, three],
            vec![("RUN 1", false), ("RUN 2", false), ("RUN 3", false)],
        )
        .build(),
    );
    let wasted = wasted_space(&summary);
    assert_eq!(wasted.total_bytes, 1000 + 1100 + 300);
    assert_eq!(wasted.paths.len(), 2);
    let bundle = &wasted.paths[0];
    assert_eq!(
        (
            bundle.path.as_str(),
            bundle.copies,
            bundle.wasted_bytes,
            bundle.removed
        ),
        ("/app/bundle.js", 3, 2100, false)
    );
    let cache = &wasted.paths[1];
    assert_eq!(
        (
            cache.path.as_str(),
            cache.copies,
            cache.wasted_bytes,
            cache.removed
        ),
        ("/tmp/cache.tgz", 1, 300, true)
    );
    assert_eq!(wasted.top(1).len(), 1);
    assert_eq!(wasted.top(10).len(), 2);
    // Layer 2 hid the first bundle.js; layer 3 the second and the cache.
    assert_eq!(wasted.hidden_by_layer, [0, 1000, 1100 + 300]);
    assert_eq!(
        (bundle.last_hidden_by_layer, cache.last_hidden_by_layer),
        (2, 2)
    );
}

#[test]
fn wasted_space_counts_files_hidden_by_an_opaque_dir_and_nothing_in_a_clean_image() {
    let one = layer_tar(&[
        file("var/cache/apt/a.deb", 400),
        file("var/cache/apt/b.deb", 600),
    ]);
    let two = layer_tar(&[Item::Opaque("var/cache/apt")]);
    let summary = read(
        &DockerSave::new(
            vec![one, two],
            vec![("RUN apt-get install", false), ("RUN rm", false)],
        )
        .build(),
    );
    let wasted = wasted_space(&summary);
    assert_eq!(wasted.total_bytes, 1000);
    assert_eq!(wasted.paths[0].path, "/var/cache/apt/b.deb");
    assert!(wasted.paths.iter().all(|p| p.removed && p.copies == 1));

    assert_eq!(
        wasted_space(&read(&node_image().build())).total_bytes,
        300,
        "package.json copied twice"
    );
}

#[test]
fn diff_reports_added_removed_grown_shrunk_by_directory() {
    let base = read(&node_image().build());
    let head_layers = vec![
        layer_tar(&[file("usr/bin/node", 4000), file("etc/passwd", 120)]),
        layer_tar(&[file("app/package.json", 300)]),
        layer_tar(&[
            file("app/node_modules/a.js", 2000),
            file("app/node_modules/c.js", 5000),
        ]),
        layer_tar(&[file("app/server.ts", 400), file("app/package.json", 310)]),
    ];
    let head = read(
        &DockerSave::new(
            head_layers,
            vec![
                ("ADD", false),
                ("COPY", false),
                ("RUN npm ci", false),
                ("COPY", false),
            ],
        )
        .build(),
    );
    let diff = diff_images(&base, &head);
    let paths = |changes: &[layercake_image::PathChange]| {
        changes
            .iter()
            .map(|c| (c.path.clone(), c.delta_bytes()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        paths(&diff.added),
        [("/app/node_modules/c.js".to_owned(), 5000)]
    );
    assert_eq!(
        paths(&diff.removed),
        [("/app/node_modules/b.js".to_owned(), -1000)]
    );
    assert_eq!(paths(&diff.grown), [("/etc/passwd".to_owned(), 20)]);
    assert_eq!(paths(&diff.shrunk), [("/app/server.ts".to_owned(), -100)]);
    assert_eq!(diff.delta_bytes, 5000 - 1000 + 20 - 100);
    assert_eq!(
        diff.head_bytes as i64 - diff.base_bytes as i64,
        diff.delta_bytes
    );

    let groups: Vec<(&str, u64, u64, i64, usize)> = diff
        .directories
        .iter()
        .map(|d| {
            (
                d.path.as_str(),
                d.added_bytes,
                d.removed_bytes,
                d.delta_bytes,
                d.changed_paths,
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("/app/node_modules", 5000, 1000, 4000, 2),
            ("/app", 0, 100, -100, 1),
            ("/etc", 20, 0, 20, 1)
        ]
    );

    let same = diff_images(&base, &base);
    assert!(
        same.added.is_empty()
            && same.removed.is_empty()
            && same.grown.is_empty()
            && same.directories.is_empty()
    );
    assert_eq!(same.delta_bytes, 0);
}

const DPKG_STATUS: &str = "Package: libc6
Status: install ok installed
Priority: optional
Installed-Size: 12000
Version: 2.36-9
Description: GNU C Library
 multi-line description

Package: gcc-12
Status: install ok installed
Installed-Size: 70000
Version: 12.2.0-14

Package: removed-one
Status: deinstall ok config-files
Installed-Size: 5
";

const APK_INSTALLED: &str = "C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library

C:Q1def=
P:busybox
V:1.36.1-r5
I:950272
";

#[test]
fn dpkg_and_apk_databases_give_installed_packages() {
    let dpkg = layer_tar(&[Item::File(
        "var/lib/dpkg/status",
        DPKG_STATUS.as_bytes().to_vec(),
    )]);
    let apk = layer_tar(&[Item::File(
        "lib/apk/db/installed",
        APK_INSTALLED.as_bytes().to_vec(),
    )]);
    let summary = read(
        &DockerSave::new(
            vec![dpkg, apk],
            vec![("ADD", false), ("RUN apk add", false)],
        )
        .build(),
    );
    let installed = summary.installed_packages();
    let packages: Vec<(PackageManager, &str, u64)> = installed
        .iter()
        .map(|p| (p.manager, p.name.as_str(), p.installed_bytes))
        .collect();
    assert_eq!(
        packages,
        [
            (PackageManager::Dpkg, "gcc-12", 70000 * 1024),
            (PackageManager::Dpkg, "libc6", 12000 * 1024),
            (PackageManager::Apk, "busybox", 950272),
            (PackageManager::Apk, "musl", 622592),
        ]
    );
    let version = summary
        .installed_packages()
        .into_iter()
        .find(|p| p.name == "musl")
        .and_then(|p| p.version);
    assert_eq!(version.as_deref(), Some("1.2.4-r2"));
}

#[test]
fn the_last_layer_that_writes_a_package_database_wins_and_a_whiteout_removes_it() {
    let install = layer_tar(&[Item::File(
        "var/lib/dpkg/status",
        DPKG_STATUS.as_bytes().to_vec(),
    )]);
    let purge = layer_tar(&[Item::File(
        "var/lib/dpkg/status",
        b"Package: libc6\nStatus: install ok installed\nInstalled-Size: 12000\n".to_vec(),
    )]);
    let summary = read(
        &DockerSave::new(
            vec![install.clone(), purge],
            vec![("ADD", false), ("RUN apt-get purge gcc-12", false)],
        )
        .build(),
    );
    let names: Vec<String> = summary
        .installed_packages()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["libc6"]);

    let wiped = layer_tar(&[Item::Whiteout("var/lib/dpkg/status")]);
    let summary = read(
        &DockerSave::new(
            vec![install, wiped],
            vec![("ADD", false), ("RUN rm", false)],
        )
        .build(),
    );
    assert!(summary.installed_packages().is_empty());
    assert_eq!(
        summary.layers[0].package_databases.len(),
        1,
        "the layer still records what it wrote"
    );
}

#[test]
fn oci_layout_with_gzip_layers() {
    let layers = vec![
        layer_tar(&[file("bin/app", 5000)]),
        layer_tar(&[file("bin/app", 6000), Item::Symlink("bin/sh", "app")]),
    ];
    let history = vec![
        ("ADD", false),
        ("ENV A=1", true),
        ("COPY app /bin/app # buildkit", false),
    ];
    let summary = read(&oci_archive(&layers, history.clone(), false));
    assert_eq!(summary.format, ArchiveFormat::Oci);
    assert_eq!(summary.repo_tags, ["example/app:oci"]);
    assert_eq!(
        summary
            .layers
            .iter()
            .map(|l| l.size_bytes)
            .collect::<Vec<_>>(),
        [5000, 6000]
    );
    assert_eq!(
        summary.layers[0].compressed_bytes,
        Some(support::gzip(&layers[0]).len() as u64)
    );
    assert_eq!(summary.layers[0].tar_bytes, layers[0].len() as u64);
    assert_eq!(
        summary.layers[1].created_by.as_deref(),
        Some("COPY app /bin/app # buildkit")
    );
    assert!(
        summary.layers[1]
            .files
            .iter()
            .any(|f| f.path == "/bin/sh" && f.kind == FileKind::Symlink)
    );
    assert_eq!(wasted_space(&summary).total_bytes, 5000);

    // Docker 25+ writes manifest.json beside the OCI layout, pointing into blobs/.
    let docker25 = read(&oci_archive(&layers, history, true));
    assert_eq!(docker25.format, ArchiveFormat::DockerSave);
    assert_eq!(docker25.layers, summary.layers);
}

fn error_of(archive: &[u8]) -> ImageError {
    match read_image(archive) {
        Ok(summary) => panic!("expected an error, read {} layers", summary.layers.len()),
        Err(error) => error,
    }
}

#[test]
fn garbage_and_empty_input_are_errors() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(
        matches!(error_of(&garbage), ImageError::NotATar(_)),
        "{}",
        error_of(&garbage)
    );
    assert!(matches!(
        error_of(b"{\"not\": \"a tar\"}"),
        ImageError::NotATar(_) | ImageError::NoManifest
    ));
    assert!(matches!(error_of(&[]), ImageError::NoManifest));
    let no_manifest = layer_tar(&[file("hello.txt", 5)]);
    assert!(
        error_of(&no_manifest)
            .to_string()
            .contains("no manifest.json")
    );
}

#[test]
fn truncated_archives_are_errors_not_panics() {
    let archive = node_image().build();
    for cut in (0..archive.len()).step_by(97) {
        // Any prefix is either a readable archive or an error; never a panic.
        let _ = read_image(&archive[..cut]);
    }
    // Cut in the middle of the last layer: the manifest never arrives, or the layer is short.
    let error = error_of(&archive[..archive.len() / 2]);
    assert!(
        matches!(
            error,
            ImageError::Layer { .. } | ImageError::Archive(_) | ImageError::NoManifest
        ),
        "{error}"
    );
}

#[test]
fn corrupted_bytes_never_panic() {
    let archive = node_image().build();
    let mut state = 0x2545_f491_u64;
    for _ in 0..300 {
        let mut copy = archive.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % copy.len() as u64) as usize;
            copy[at] = (state >> 32) as u8;
        }
        let _ = read_image(copy.as_slice());
    }
}

#[test]
fn a_missing_layer_is_named() {
    let mut image = node_image();
    image.omit_layer = Some(2);
    let error = error_of(&image.build());
    let expected = format!("{}/layer.tar", DockerSave::layer_id(2));
    assert!(
        matches!(&error, ImageError::LayerMissing { path } if *path == expected),
        "{error}"
    );
    assert!(error.to_string().contains(&expected));
}

#[test]
fn bad_config_json_names_the_file() {
    let mut image = node_image();
    image.config_override = Some(b"{\"config\": [1, 2".to_vec());
    let error = error_of(&image.build());
    assert!(
        matches!(&error, ImageError::Json { path, .. } if path.ends_with(".json")),
        "{error}"
    );
    assert!(
        error.to_string().contains(&format!("{:064x}.json", 0xc0f)),
        "{error}"
    );
}

#[test]
fn a_layer_that_is_not_a_tar_is_an_error() {
    let image = DockerSave::new(
        vec![b"definitely not a tar, but long enough?".repeat(20)],
        vec![("RUN x", false)],
    );
    let error = error_of(&image.build());
    assert!(
        matches!(&error, ImageError::Layer { path, .. } if path.ends_with("layer.tar")),
        "{error}"
    );
}
