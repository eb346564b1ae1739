//! Installing a release: `scripts/build-release.sh` packs the archive and its
//! checksum line exactly as the release workflow does, and
//! `scripts/install-layercake.sh` (the Action's installer) downloads it over
//! real HTTP and installs it only when everything checks out.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The runner this machine stands in for, and the target whose archive the
/// install script asks for on it.
fn runner() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("ARM64", "aarch64-unknown-linux-musl"),
        _ => ("X64", "x86_64-unknown-linux-musl"),
    }
}

/// A static file server on 127.0.0.1: real HTTP/1.1, one request per
/// connection, files from a map the test can change between installs.
struct FileServer {
    base: String,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    requests: Arc<AtomicUsize>,
}

impl FileServer {
    fn start() -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let requests = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (Arc::clone(&files), Arc::clone(&requests));
        // The thread ends with the test process; it only ever answers here.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = answer(stream, &served);
            }
        });
        FileServer {
            base,
            files,
            requests,
        }
    }

    fn put(&self, path: &str, body: Vec<u8>) {
        self.files
            .lock()
            .expect("files")
            .insert(path.to_string(), body);
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(stream: TcpStream, files: &Mutex<HashMap<String, Vec<u8>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let body = files.lock().ok().and_then(|f| f.get(path).cloned());
    let mut stream = stream;
    match body {
        Some(body) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        None => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    stream.flush()
}

/// The release archive of the binary under test and its checksum line, made
/// by the release recipe.
struct Release {
    name: String,
    archive: Vec<u8>,
    checksum_line: String,
}

fn build_release(out: &Path) -> Release {
    let (_, target) = runner();
    let built = Command::new("bash")
        .arg(root().join("scripts/build-release.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_layercake")])
        .args(["--target", target])
        .arg("--out")
        .arg(out)
        .output()
        .expect("run build-release.sh");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let name = format!("layercake-{VERSION}-{target}.tar.gz");
    let checksum_line =
        std::fs::read_to_string(out.join(format!("{name}.sha256"))).expect("the .sha256 file");
    Release {
        archive: std::fs::read(out.join(&name)).expect("the archive"),
        name,
        checksum_line,
    }
}

/// Runs the install script as action.yml does, against the local server.
fn install(version: &str, checksums: &str, server: &FileServer, temp: &Path) -> Output {
    let checksums_file = temp.join("checksums.txt");
    std::fs::write(&checksums_file, checksums).expect("checksums");
    let runner_temp = temp.join("runner");
    let _ = std::fs::remove_dir_all(&runner_temp);
    std::fs::create_dir_all(&runner_temp).expect("runner temp");
    Command::new("bash")
        .arg(root().join("scripts/install-layercake.sh"))
        .env("LAYERCAKE_VERSION", version)
        .env("LAYERCAKE_DOWNLOAD_BASE", &server.base)
        .env("LAYERCAKE_CHECKSUMS", &checksums_file)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", runner().0)
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_PATH", temp.join("github_path"))
        .output()
        .expect("run the install script")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn installed(temp: &Path) -> PathBuf {
    temp.join("runner/layercake/bin/layercake")
}

#[test]
fn a_release_installs_from_http_only_when_its_pinned_checksum_matches() {
    let temp = tempfile::tempdir().expect("tempdir");
    let release = build_release(&temp.path().join("dist"));
    assert!(
        release
            .checksum_line
            .ends_with(&format!("  {}\n", release.name)),
        "{:?}",
        release.checksum_line
    );
    let server = FileServer::start();
    let url_path = format!("/v{VERSION}/{}", release.name);
    server.put(&url_path, release.archive.clone());

    // The pinned checksum: installed, on GITHUB_PATH, and it runs.
    let good = install(VERSION, &release.checksum_line, &server, temp.path());
    assert!(good.status.success(), "{}", stderr(&good));
    assert_eq!(
        String::from_utf8_lossy(&good.stdout).trim(),
        format!("layercake {VERSION}")
    );
    let path = std::fs::read_to_string(temp.path().join("github_path")).expect("GITHUB_PATH");
    assert_eq!(
        Path::new(path.trim()),
        installed(temp.path()).parent().expect("bin")
    );
    let version = Command::new(installed(temp.path()))
        .arg("--version")
        .output()
        .expect("run the installed binary");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("layercake {VERSION}")
    );

    // The same name with other bytes (one byte changed): refused, nothing installed.
    let mut tampered = release.archive.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    server.put(&url_path, tampered);
    let refused = install(VERSION, &release.checksum_line, &server, temp.path());
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(&format!(
            "checksum mismatch for {}: expected {}",
            release.name,
            release
                .checksum_line
                .split_whitespace()
                .next()
                .expect("sum")
        )),
        "{}",
        stderr(&refused)
    );
    assert!(!installed(temp.path()).exists());
    server.put(&url_path, release.archive.clone());

    // No checksum pinned for this archive (another version's only): refused
    // before anything is downloaded.
    let before = server.requests();
    let other = release.checksum_line.replace(VERSION, "0.0.1");
    let unpinned = install(VERSION, &other, &server, temp.path());
    assert!(!unpinned.status.success());
    assert!(
        stderr(&unpinned).contains(&format!("no checksum is pinned for {}", release.name)),
        "{}",
        stderr(&unpinned)
    );
    assert_eq!(server.requests(), before, "it downloaded without a pin");
    assert!(!installed(temp.path()).exists());
}

#[test]
fn odd_version_strings_are_refused_before_any_download() {
    let temp = tempfile::tempdir().expect("tempdir");
    let server = FileServer::start();
    for odd in [
        format!("v{VERSION}"),
        "latest".to_string(),
        "1.2".to_string(),
        "../../1.2.3".to_string(),
        "1.2.3/../../x".to_string(),
        "1.2.3 ".to_string(),
        String::new(),
    ] {
        // Pinned or not, the version never reaches a URL.
        let pinned = format!(
            "{}  layercake-{odd}-{}.tar.gz\n",
            "0".repeat(64),
            runner().1
        );
        let out = install(&odd, &pinned, &server, temp.path());
        assert!(!out.status.success(), "{odd:?} was accepted");
        let message = stderr(&out);
        let expected = if odd.is_empty() {
            "LAYERCAKE_VERSION is not set".to_string()
        } else {
            format!("layercake: '{odd}' is not a release version: write it as 1.2.3 (no leading v)")
        };
        assert!(message.contains(&expected), "{odd:?}: {message}");
    }
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_missing_checksums_file_is_refused() {
    let temp = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg(root().join("scripts/install-layercake.sh"))
        .env("LAYERCAKE_VERSION", "1.2.3")
        .env("LAYERCAKE_CHECKSUMS", temp.path().join("absent.txt"))
        .env("LAYERCAKE_DOWNLOAD_BASE", "http://127.0.0.1:9")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", runner().0)
        .env("RUNNER_TEMP", temp.path())
        .env_remove("GITHUB_PATH")
        .output()
        .expect("run the install script");
    assert!(!out.status.success());
    assert!(
        stderr(&out)
            .contains("absent.txt cannot be read; refusing to install an unverified binary"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_release_workflow_builds_with_this_recipe_for_every_target_the_installer_knows() {
    let workflow =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release.yml");
    let installer =
        std::fs::read_to_string(root().join("scripts/install-layercake.sh")).expect("installer");
    assert!(workflow.contains("bash scripts/build-release.sh"));
    let installer_targets: Vec<&str> = installer
        .lines()
        .filter_map(|line| line.split_once(") target=").map(|(_, t)| t))
        .map(|t| t.trim_end_matches(" ;;").trim())
        .collect();
    assert_eq!(installer_targets.len(), 3, "{installer_targets:?}");
    for target in installer_targets {
        assert!(
            workflow.contains(&format!("target: {target}")),
            "release.yml builds no {target}, which install-layercake.sh downloads"
        );
    }
}
