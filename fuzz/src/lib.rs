//! The checks behind layercake's fuzz targets, shared by the libFuzzer target
//! (`fuzz_targets/parse_and_lint.rs`) and the stable replay of `regressions/`
//! (`tests/regressions.rs`).
//!
//! Every byte range the parser, the linter or a fix produces must lie inside
//! the source, start on or before its end, and fall on UTF-8 character
//! boundaries, because renderers and `lint --fix` slice the source with them.
#![deny(missing_docs)]

use layercake_lint::{FileReport, LintSettings};
use layercake_render::{Format, RenderOptions};
use layercake_syntax::{Args, Command, Dockerfile, Instruction, TextRange, Word};

/// Parses, lints and renders `data` (lossily decoded as UTF-8), panicking on
/// the first broken invariant.
pub fn check_parse_and_lint(data: &[u8]) {
    let source = String::from_utf8_lossy(data);
    let source: &str = &source;

    let dockerfile = layercake_syntax::parse(source);
    check_dockerfile(source, &dockerfile);

    let report = layercake_lint::lint_source("Dockerfile", source, &LintSettings::default());
    check_report(source, &report);

    let reports = [report];
    for format in Format::ALL {
        let _ = layercake_render::render(format, &reports, &RenderOptions::default());
    }
}

/// Splits `data` into two versions of a Dockerfile (at the first NUL byte,
/// else in the middle of the text), pairs them, classifies their findings
/// and renders a report with them; panics on the first broken invariant.
pub fn check_pair_versions(data: &[u8]) {
    use layercake_model::{DockerfileModel, DockerfilePairing, DockerfileVersion, ModelOptions};
    use layercake_report::{Change, LintedVersion, StageScope};

    let (base, head) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let base = String::from_utf8_lossy(base).into_owned();
    let head = String::from_utf8_lossy(head).into_owned();
    let parse = |source: &str| {
        let dockerfile = layercake_syntax::parse(source);
        let model = DockerfileModel::new(&dockerfile, source, &ModelOptions::default());
        let lint = layercake_lint::lint_source("Dockerfile", source, &LintSettings::default());
        (dockerfile, model, lint)
    };
    let (base_tree, base_model, base_lint) = parse(&base);
    let (head_tree, head_model, head_lint) = parse(&head);
    let base_version = DockerfileVersion {
        dockerfile: &base_tree,
        model: &base_model,
    };
    let head_version = DockerfileVersion {
        dockerfile: &head_tree,
        model: &head_model,
    };
    let pairing = DockerfilePairing::new(base_version, head_version);
    // The pairing is one-to-one and agrees with itself both ways.
    for h in 0..head_tree.instructions.len() {
        if let Some((b, kind)) = pairing.base_of(h) {
            assert!(b < base_tree.instructions.len(), "instruction {h} paired out of range");
            assert_eq!(pairing.head_of(b), Some((h, kind)), "instruction pairing is not mutual");
        }
    }
    for h in 0..head_model.stages.len() {
        if let Some(b) = pairing.base_of_stage(h) {
            assert_eq!(pairing.head_of_stage(b), Some(h), "stage pairing is not mutual");
        }
    }
    for scope in [StageScope::Built, StageScope::All] {
        let classified = layercake_report::classify(
            Some(LintedVersion {
                lint: &base_lint,
                version: base_version,
            }),
            Some(LintedVersion {
                lint: &head_lint,
                version: head_version,
            }),
            Some(&pairing),
            scope,
        );
        let head_count = classified
            .findings
            .iter()
            .filter(|f| f.change != Change::Fixed)
            .count();
        let outside: usize = classified.outside_target.iter().map(|(_, n)| n).sum();
        assert_eq!(
            head_count + outside,
            head_lint.findings.len(),
            "every head finding is reported or counted as outside the target"
        );
        if scope == StageScope::All {
            assert_eq!(outside, 0);
        }
    }
}

fn check_range(source: &str, range: TextRange, what: &str) {
    let (start, end) = (range.start(), range.end());
    assert!(start <= end, "{what}: start {start} > end {end}");
    assert!(
        end <= source.len(),
        "{what}: end {end} beyond the source ({} bytes)",
        source.len()
    );
    assert!(
        source.is_char_boundary(start),
        "{what}: start {start} is not a char boundary"
    );
    assert!(
        source.is_char_boundary(end),
        "{what}: end {end} is not a char boundary"
    );
}

fn check_word(source: &str, word: &Word, what: &str) {
    check_range(source, word.range, what);
}

fn check_dockerfile(source: &str, dockerfile: &Dockerfile) {
    for directive in &dockerfile.directives {
        check_range(source, directive.range, "directive");
    }
    for comment in &dockerfile.comments {
        check_range(source, comment.range, "comment");
    }
    for error in &dockerfile.errors {
        check_range(source, error.range, "parse error");
    }
    for warning in &dockerfile.warnings {
        check_range(source, warning.range, "parse warning");
    }
    for instruction in &dockerfile.instructions {
        check_instruction(source, instruction);
    }
}

fn check_instruction(source: &str, instruction: &Instruction) {
    check_range(source, instruction.range, "instruction");
    check_word(source, &instruction.keyword_word, "keyword");
    check_word(source, &instruction.args_text, "args_text");
    for flag in &instruction.flags {
        check_range(source, flag.range, "flag");
    }
    for mount in instruction.mounts() {
        check_range(source, mount.range, "mount");
    }
    for heredoc in &instruction.heredocs {
        check_range(source, heredoc.marker_range, "heredoc marker");
        check_range(source, heredoc.body_range, "heredoc body");
        check_range(source, heredoc.terminator_range, "heredoc terminator");
    }
    match &instruction.args {
        Args::Empty => {}
        Args::From {
            image,
            alias,
            words,
        } => {
            check_word(source, image, "FROM image");
            if let Some(alias) = alias {
                check_word(source, alias, "FROM alias");
            }
            for word in words {
                check_word(source, word, "FROM word");
            }
        }
        Args::Command(command) => check_command(source, command),
        Args::Files { sources, dest, .. } => {
            for word in sources {
                check_word(source, word, "file source");
            }
            if let Some(dest) = dest {
                check_word(source, dest, "file destination");
            }
        }
        Args::KeyValues(pairs) => {
            for pair in pairs {
                check_range(source, pair.range, "key-value pair");
                check_word(source, &pair.key, "key");
                if let Some(value) = &pair.value {
                    check_word(source, value, "value");
                }
            }
        }
        Args::Words { words, .. } => {
            for word in words {
                check_word(source, word, "word");
            }
        }
        Args::Text(word) | Args::Unknown(word) => check_word(source, word, "text"),
        Args::Healthcheck { kind, command } => {
            check_word(source, kind, "HEALTHCHECK kind");
            if let Some(command) = command {
                check_command(source, command);
            }
        }
        Args::Onbuild(inner) => check_instruction(source, inner),
    }
}

fn check_command(source: &str, command: &Command) {
    match command {
        Command::Exec { args } => {
            for word in args {
                check_word(source, word, "exec argument");
            }
        }
        Command::Shell { text } => check_word(source, text, "shell text"),
    }
}

fn check_report(source: &str, report: &FileReport) {
    assert_eq!(
        report.source, source,
        "the report must carry the linted source"
    );
    for finding in &report.findings {
        let what = format!("finding {}", finding.code);
        check_range(source, finding.range, &what);
        let Some(fix) = &finding.fix else { continue };
        let mut previous_end = 0;
        for edit in &fix.edits {
            check_range(source, edit.range, &format!("{what} fix edit"));
            // `Fix::edits` is documented as non-overlapping and in source order.
            assert!(
                edit.range.start() >= previous_end,
                "{what}: fix edits overlap or are out of order at {}",
                edit.range.start()
            );
            previous_end = edit.range.end();
        }
    }
}

/// Reads `data` as an image archive (`docker save` or OCI layout) and as a
/// layer's tar-split metadata (over a small layer directory), then computes
/// everything a report derives from a summary; panics only if something does.
pub fn check_read_image(data: &[u8]) {
    use layercake_image::{ReadOptions, StoredLayer, diff_images, read_image_with, wasted_space};

    let derive = |summary: &layercake_image::ImageSummary| {
        let _ = wasted_space(summary);
        let _ = summary.installed_packages();
        let _ = summary.final_filesystem();
        let _ = diff_images(summary, summary);
    };
    let options = ReadOptions {
        gzip_level: Some(1),
        ..ReadOptions::default()
    };
    if let Ok(summary) = read_image_with(data, &options) {
        derive(&summary);
    }

    let diff_id = format!("sha256:{}", "0".repeat(64));
    let config = format!("{{\"rootfs\":{{\"diff_ids\":[\"{diff_id}\"]}}}}");
    let layer = StoredLayer {
        diff_id,
        location: "fuzz".to_string(),
        tar_split: gzip(data),
        files: layer_directory().to_path_buf(),
    };
    for gzip_level in [None, Some(1)] {
        let options = ReadOptions {
            gzip_level,
            ..ReadOptions::default()
        };
        if let Ok(summary) = layercake_image::read_stored_image(
            config.as_bytes(),
            std::slice::from_ref(&layer),
            Vec::new(),
            &options,
            1,
        ) {
            derive(&summary);
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// A layer directory the tar-split entries can name: `a` (1,000 bytes) and a
/// dpkg database, made once per process under the temp dir.
fn layer_directory() -> &'static std::path::Path {
    static DIRECTORY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("layercake-fuzz-layer-{}", std::process::id()));
        let dpkg = dir.join("var/lib/dpkg");
        std::fs::create_dir_all(&dpkg).expect("temp dir is writable");
        std::fs::write(dir.join("a"), vec![b'a'; 1000]).expect("temp dir is writable");
        std::fs::write(
            dpkg.join("status"),
            "Package: gcc-12\nStatus: install ok installed\nInstalled-Size: 10\n\n",
        )
        .expect("temp dir is writable");
        dir
    })
}
