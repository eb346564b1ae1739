//! Helpers for layercake's tests, shared across the workspace (a dev-dependency only).
//!
//! - [`docker_or_skip`]: a [`Docker`] that can build, or `None` and a note on stderr
//!   (a panic instead when `LAYERCAKE_REQUIRE_DOCKER=1`, so CI cannot skip silently).
//! - [`corpus_or_skip`]: the Dockerfile conformance corpus kept outside the repository
//!   (`LAYERCAKE_CORPUS`), or `None` and a note on stderr (a panic instead when
//!   `LAYERCAKE_REQUIRE_CORPUS=1`).
//! - [`postgres_or_skip`]: a new empty PostgreSQL database for one test, on the
//!   server `LAYERCAKE_TEST_POSTGRES` names or one the kit starts from Debian's
//!   binaries; or `None` and a note on stderr (a panic instead when
//!   `LAYERCAKE_REQUIRE_POSTGRES=1`).
//! - [`busybox_base`]: a tiny base image made on this machine with `docker import`,
//!   since tests cannot pull from a registry.
//! - [`node_image`]: stand-ins for `node:22` (~1 GB) and `node:22-slim` (~200 MB),
//!   with an offline `npm`, for the multi-stage story through a real engine.
//! - [`GitRepo`]: a scratch git repository driven through the `git` binary.
//! - [`unique_tag`] and [`ImageGuard`]: image tags that do not collide between test
//!   processes, removed when the test ends.
//! - [`FakeGitHub`]: a stateful fake of GitHub's REST API over real HTTP on 127.0.0.1.
//! - [`webhook_payload`] and [`webhook_payloads`]: real GitHub webhook deliveries
//!   (octokit/webhooks, MIT), kept in this crate's `fixtures/github-webhooks/`.
#![deny(missing_docs)]

pub mod fake_github;
pub mod node_image;
pub mod postgres;
pub mod second_engine;
pub mod webhooks;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use node_image::{NodeImage, node_image};
pub use postgres::{POSTGRES_ENV, REQUIRE_POSTGRES_ENV, TestDatabase, postgres_or_skip};
pub use webhooks::{
    WebhookPayload, pull_request_payload, webhook_payload, webhook_payload_dir, webhook_payloads,
};

pub use fake_github::{
    Access, FakeAnnotation, FakeCheckRun, FakeComment, FakeFile, FakeGitHub, FakeReview,
    FakeReviewComment, PullRef, RateLimit, RequestRecord,
};

/// A throwaway RSA private key (2048 bits, PKCS#1 PEM as GitHub hands App keys
/// out) for tests of GitHub App authentication against [`FakeGitHub`]. Published
/// in this repository: never a secret, never to be used for anything real.
pub const TEST_APP_PRIVATE_KEY: &str = include_str!("test_app_key.pem");

/// The public key of [`TEST_APP_PRIVATE_KEY`] (`-----BEGIN PUBLIC KEY-----`), for
/// [`FakeGitHub::add_app`].
pub const TEST_APP_PUBLIC_KEY: &str = include_str!("test_app_key.pub.pem");

/// Another throwaway RSA private key (PKCS#8 PEM), not [`TEST_APP_PRIVATE_KEY`]'s
/// pair: a wrong key for a test App.
pub const TEST_OTHER_PRIVATE_KEY: &str = include_str!("test_app_other_key.pem");
pub use layercake_build::{Docker, DockerSelection};

/// Set to `1` to make a missing Docker fail tests instead of skipping them.
pub const REQUIRE_DOCKER_ENV: &str = "LAYERCAKE_REQUIRE_DOCKER";

/// The directory of the Dockerfile conformance corpus, when not the default.
pub const CORPUS_ENV: &str = "LAYERCAKE_CORPUS";

/// Set to `1` to make a missing conformance corpus fail tests instead of skipping them.
pub const REQUIRE_CORPUS_ENV: &str = "LAYERCAKE_REQUIRE_CORPUS";

/// The Dockerfile conformance corpus (666 files with BuildKit's parse of each in
/// `expected.tsv`; mixed origins, so kept outside the repository): the directory
/// `LAYERCAKE_CORPUS` names, else `shared/corpus` beside the repository. `None`
/// after a line on stderr saying what is skipped and how to run it, when that
/// directory has no `expected.tsv`.
///
/// # Panics
///
/// When the corpus is missing and `LAYERCAKE_REQUIRE_CORPUS=1`.
pub fn corpus_or_skip() -> Option<PathBuf> {
    // This crate is `crates/layercake_testkit`: three levels up is the directory the repository is in.
    let beside_repository = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(3)
        .unwrap_or(Path::new(".."));
    let dir = std::env::var_os(CORPUS_ENV)
        .map_or_else(|| beside_repository.join("shared/corpus"), PathBuf::from);
    if dir.join("expected.tsv").is_file() {
        return Some(dir);
    }
    let missing = format!(
        "there is none at {} (no expected.tsv); it is kept outside the repository: \
         point {CORPUS_ENV} at a copy of the project's shared/corpus (docs/parser.md)",
        dir.display()
    );
    if std::env::var(REQUIRE_CORPUS_ENV).is_ok_and(|value| value == "1") {
        panic!(
            "{REQUIRE_CORPUS_ENV}=1 but the Dockerfile conformance corpus is missing: {missing}"
        );
    }
    note_skip(&format!(
        "skipping the checks against the Dockerfile conformance corpus: {missing} \
         (set {REQUIRE_CORPUS_ENV}=1 to fail instead)"
    ));
    None
}

/// Writes a skipped test's note to the process's stderr itself: the test
/// harness captures `eprintln!` and shows it only for failing tests, so a
/// skip would otherwise pass unseen.
pub fn note_skip(note: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{note}");
}

/// The tag of the base image [`busybox_base`] makes. Bump the version when its
/// contents change, so machines that have the old one make the new one.
pub const BUSYBOX_BASE_TAG: &str = "layercake-test/busybox:1";

/// The `PATH` the base image sets (Docker's default for Linux containers).
pub const BASE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Busybox applets linked in the base image's `/bin`.
pub const BUSYBOX_APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "mkdir", "rm", "cp", "mv", "dd", "head", "tail", "true", "false",
    "sleep", "touch", "wc", "env", "id", "chmod", "chown", "find", "grep", "sed", "tar", "gzip",
    "date", "ln", "printf", "test", "[",
];

/// A [`Docker`] that can build with BuildKit (chosen as layercake chooses it, from
/// `LAYERCAKE_DOCKER` and `BUILDX_BUILDER` if set), or `None` after a line on stderr
/// saying why the test is skipped.
///
/// # Panics
///
/// When no docker can be used and `LAYERCAKE_REQUIRE_DOCKER=1`.
pub fn docker_or_skip() -> Option<Docker> {
    match Docker::detect(&DockerSelection::from_env()) {
        Ok(docker) => Some(docker),
        Err(unavailable) => {
            if std::env::var(REQUIRE_DOCKER_ENV).is_ok_and(|value| value == "1") {
                panic!("{REQUIRE_DOCKER_ENV}=1 but {unavailable}");
            }
            note_skip(&format!(
                "skipping: {unavailable} (set {REQUIRE_DOCKER_ENV}=1 to fail instead)"
            ));
            None
        }
    }
}

/// The tag of a busybox base image on this machine ([`BUSYBOX_BASE_TAG`]), made the
/// first time it is needed with `docker import` of a root filesystem written in
/// memory: a static `/bin/busybox` with its common applets, `/etc/passwd` with `root`
/// and `app` (uid 1000), `/etc/group`, `/tmp` (1777), `/root`, `/home/app`, and `PATH`
/// set. The image is shared and never removed.
///
/// Safe when several test threads or processes ask at once: a mutex and a lock file
/// serialize them, and the image is imported under a temporary tag and then tagged, so the tag
/// never names a half-made image.
///
/// # Panics
///
/// When busybox is missing or not statically linked (install Debian's
/// `busybox-static`), or a docker command fails.
pub fn busybox_base(docker: &Docker) -> String {
    // Checked on every call (one `docker image inspect`), so an image removed
    // meanwhile (`docker image prune -a`) is made again.
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _in_process = IN_PROCESS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lock_path = std::env::temp_dir().join("layercake-testkit-busybox-base.lock");
    let lock = File::create(&lock_path)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|error| panic!("cannot lock {}: {error}", lock_path.display()));
    if !image_exists(docker, BUSYBOX_BASE_TAG) {
        let rootfs = busybox_rootfs(&find_busybox());
        let temporary = unique_tag("layercake-test/busybox-import");
        let change = format!("ENV PATH={BASE_PATH}");
        let output = docker_with_stdin(
            docker,
            &["import", "--change", &change, "-", &temporary],
            rootfs,
        );
        assert_success("docker import", &output);
        let output = docker_output(docker, &["tag", &temporary, BUSYBOX_BASE_TAG]);
        assert_success("docker tag", &output);
        // Only the temporary name goes: the image keeps its real tag.
        let output = docker_output(docker, &["image", "rm", &temporary]);
        assert_success("docker image rm", &output);
    }
    drop(lock);
    BUSYBOX_BASE_TAG.to_string()
}

/// Whether `docker image inspect IMAGE` finds it.
pub fn image_exists(docker: &Docker, image: &str) -> bool {
    docker_output(docker, &["image", "inspect", "--format", "{{.Id}}", image])
        .status
        .success()
}

/// Runs `docker ARGS…` with the docker [`Docker::detect`] chose, and returns its output.
///
/// # Panics
///
/// When docker cannot be started.
pub fn docker_output(docker: &Docker, args: &[&str]) -> Output {
    docker_command(docker)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", docker.binary().display()))
}

/// `docker` talking to the engine `docker` was detected for.
fn docker_command(docker: &Docker) -> Command {
    let mut command = Command::new(docker.binary());
    if let Some(host) = docker.host() {
        command.env("DOCKER_HOST", host);
    }
    command
}

fn docker_with_stdin(docker: &Docker, args: &[&str], input: Vec<u8>) -> Output {
    let mut child = docker_command(docker)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", docker.binary().display()));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        // An error shows up as docker's failure below.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("docker runs to its end");
    let _ = writer.join();
    output
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// `/bin/busybox`, else the `busybox` on `PATH`; it must be statically linked,
/// since the image has no C library.
fn find_busybox() -> PathBuf {
    let mut candidates = vec![PathBuf::from("/bin/busybox")];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("busybox")));
    }
    let Some(busybox) = candidates.into_iter().find(|path| path.is_file()) else {
        panic!(
            "busybox is not installed (neither /bin/busybox nor busybox on PATH); the tests' base image needs a static busybox: apt-get install busybox-static"
        );
    };
    let bytes = std::fs::read(&busybox)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", busybox.display()));
    match elf_is_static(&bytes) {
        Some(true) => busybox,
        Some(false) => panic!(
            "{} is dynamically linked and cannot run in an image without a C library; install Debian's busybox-static instead of busybox",
            busybox.display()
        ),
        None => panic!(
            "{} is not an ELF executable; install Debian's busybox-static",
            busybox.display()
        ),
    }
}

/// Whether an ELF file has no program interpreter (`PT_INTERP`), i.e. is static;
/// `None` if it is not a readable ELF file.
fn elf_is_static(bytes: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match bytes.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = match bytes.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let read = |offset: usize, size: usize| -> Option<u64> {
        let field = bytes.get(offset..offset.checked_add(size)?)?;
        let mut value = 0u64;
        for i in 0..size {
            let byte = if little {
                field[size - 1 - i]
            } else {
                field[i]
            };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    };
    let (phoff, phentsize, phnum) = if wide {
        (read(0x20, 8)?, read(0x36, 2)?, read(0x38, 2)?)
    } else {
        (read(0x1c, 4)?, read(0x2a, 2)?, read(0x2c, 2)?)
    };
    for index in 0..phnum {
        let offset = usize::try_from(phoff.checked_add(index.checked_mul(phentsize)?)?).ok()?;
        if read(offset, 4)? == u64::from(PT_INTERP) {
            return Some(false);
        }
    }
    Some(true)
}

/// The base image's root filesystem as a tar.
fn busybox_rootfs(busybox: &Path) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    append_busybox_rootfs(&mut builder, busybox, BUSYBOX_PASSWD, BUSYBOX_GROUP);
    builder.into_inner().expect("tar in memory")
}

const BUSYBOX_PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const BUSYBOX_GROUP: &[u8] = b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n";

/// Appends a busybox root filesystem to `builder`: `/bin/busybox` and its
/// applets, `/usr/bin/env`, the usual directories (`/home/app` owned by uid
/// 1000), and `/etc/passwd` and `/etc/group` as given.
fn append_busybox_rootfs<W: Write>(
    builder: &mut tar::Builder<W>,
    busybox: &Path,
    passwd: &[u8],
    group: &[u8],
) {
    let binary = std::fs::read(busybox)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", busybox.display()));
    let directory = |builder: &mut tar::Builder<W>, path: &str, mode: u32, uid: u64| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(uid);
        header.set_size(0);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, std::io::empty())
            .expect("tar entry written");
    };
    let file = |builder: &mut tar::Builder<W>, path: &str, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, data)
            .expect("tar entry written");
    };
    let symlink = |builder: &mut tar::Builder<W>, path: &str, target: &str| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_mode(0o777);
        header.set_size(0);
        header.set_mtime(0);
        builder
            .append_link(&mut header, path, target)
            .expect("tar entry written");
    };
    for dir in [
        "bin",
        "etc",
        "usr",
        "usr/bin",
        "usr/local",
        "usr/local/bin",
        "var",
        "home",
    ] {
        directory(builder, dir, 0o755, 0);
    }
    directory(builder, "tmp", 0o1777, 0);
    directory(builder, "root", 0o700, 0);
    directory(builder, "home/app", 0o755, 1000);
    file(builder, "bin/busybox", 0o755, &binary);
    for applet in BUSYBOX_APPLETS {
        symlink(builder, &format!("bin/{applet}"), "busybox");
    }
    // `#!/usr/bin/env` scripts are common enough to be worth the link.
    symlink(builder, "usr/bin/env", "/bin/busybox");
    file(builder, "etc/passwd", 0o644, passwd);
    file(builder, "etc/group", 0o644, group);
}

/// A tag no other test (thread or process) uses: `PREFIX:PID-COUNTER-MILLIS`.
/// `prefix` is a repository name, like `layercake-test/build`.
pub fn unique_tag(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    format!("{prefix}:{}-{count}-{millis}", std::process::id())
}

/// Removes an image when dropped (errors ignored), so a failing test cleans up too.
#[derive(Debug)]
pub struct ImageGuard {
    docker: Docker,
    tag: String,
}

impl ImageGuard {
    /// Guards `tag`, which need not exist yet.
    pub fn new(docker: &Docker, tag: impl Into<String>) -> ImageGuard {
        ImageGuard {
            docker: docker.clone(),
            tag: tag.into(),
        }
    }

    /// A guard for a fresh [`unique_tag`] with this prefix.
    pub fn unique(docker: &Docker, prefix: &str) -> ImageGuard {
        ImageGuard::new(docker, unique_tag(prefix))
    }

    /// The guarded tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let _ = self.docker.remove_image(&self.tag);
    }
}

/// A scratch git repository in a temporary directory, on branch `main`, with a
/// local identity and no signing; the user's and system's git configuration are not
/// read. Removed when dropped.
///
/// Every method panics with git's stderr when git fails.
#[derive(Debug)]
pub struct GitRepo {
    dir: tempfile::TempDir,
}

impl Default for GitRepo {
    fn default() -> Self {
        GitRepo::new()
    }
}

impl GitRepo {
    /// `git init -q -b main` in a new temporary directory, with `user.name`,
    /// `user.email` and `commit.gpgsign=false` in the repository's own config (so the
    /// code under test, running git there, commits and reads the same way).
    pub fn new() -> GitRepo {
        let dir = tempfile::tempdir().expect("temporary directory");
        let repo = GitRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "layercake test"]);
        repo.git(&["config", "user.email", "test@example.invalid"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `git ARGS…` in the repository and returns its stdout, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::null())
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Writes `contents` to `path` (relative to the work tree), making directories.
    pub fn write(&self, path: &str, contents: &str) -> &Self {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, contents).expect("write");
        self
    }

    /// `git rm -q PATH`.
    pub fn remove(&self, path: &str) -> &Self {
        self.git(&["rm", "-q", path]);
        self
    }

    /// Stages everything (`git add -A`) and commits (empty commits allowed); returns
    /// the new commit's sha.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `git checkout -q -b NAME`.
    pub fn checkout_new_branch(&self, name: &str) {
        self.git(&["checkout", "-q", "-b", name]);
    }

    /// `git checkout -q NAME`.
    pub fn checkout(&self, name: &str) {
        self.git(&["checkout", "-q", name]);
    }

    /// A bare clone at `DIR/NAME.git` (a clone source, as a server's is);
    /// returns its path.
    pub fn bare_clone(&self, dir: &Path, name: &str) -> PathBuf {
        let bare = dir.join(format!("{name}.git"));
        self.git(&[
            "clone",
            "--quiet",
            "--bare",
            ".",
            bare.to_str().expect("a UTF-8 temporary path"),
        ]);
        bare
    }

    /// The patch of `path` from `base` to `head` as GitHub's pull request
    /// files list it: the diff from its first hunk header on.
    pub fn patch(&self, base: &str, head: &str, path: &str) -> String {
        let diff = self.git(&["diff", base, head, "--", path]);
        let hunk = diff.find("@@").expect("a patch: the file differs");
        diff[hunk..].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_tags_differ() {
        let a = unique_tag("layercake-test/x");
        let b = unique_tag("layercake-test/x");
        assert_ne!(a, b);
        assert!(a.starts_with("layercake-test/x:"));
        let tag = a.rsplit_once(':').expect("has a tag").1;
        assert!(tag.len() <= 128);
        assert!(tag.chars().all(|c| c.is_ascii_digit() || c == '-'));
    }

    #[test]
    fn static_and_dynamic_elf() {
        if let Ok(busybox) = std::fs::read("/bin/busybox") {
            // Debian's busybox-static, where this suite runs.
            assert_eq!(elf_is_static(&busybox), Some(true));
        }
        let ls = std::fs::read("/bin/ls").expect("/bin/ls exists");
        assert_eq!(elf_is_static(&ls), Some(false));
        assert_eq!(elf_is_static(b"#!/bin/sh\n"), None);
        assert_eq!(elf_is_static(b"\x7fELF\x02\x01"), None);
    }

    #[test]
    fn rootfs_has_the_applets_and_users() {
        let Ok(path) = std::fs::canonicalize("/bin/busybox") else {
            return;
        };
        let tar = busybox_rootfs(&path);
        let mut archive = tar::Archive::new(&tar[..]);
        let mut names = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let name = entry.path().expect("path").to_string_lossy().into_owned();
            if name == "tmp" || name == "tmp/" {
                assert_eq!(entry.header().mode().expect("mode"), 0o1777);
            }
            names.push(name);
        }
        for expected in [
            "bin/busybox",
            "bin/sh",
            "bin/[",
            "etc/passwd",
            "etc/group",
            "root/",
        ] {
            assert!(
                names
                    .iter()
                    .any(|n| n.trim_end_matches('/') == expected.trim_end_matches('/')),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn git_repo_commits_branches_and_removes() {
        let repo = GitRepo::new();
        repo.write("a/Dockerfile", "FROM scratch\n");
        let first = repo.commit("first");
        assert_eq!(first.len(), 40);
        repo.checkout_new_branch("feature");
        repo.remove("a/Dockerfile");
        let second = repo.commit("remove");
        assert_ne!(first, second);
        assert!(!repo.path().join("a/Dockerfile").exists());
        repo.checkout("main");
        assert!(repo.path().join("a/Dockerfile").exists());
        assert_eq!(repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]), "main");
        // The identity is in the repository, for the code under test too.
        assert_eq!(repo.git(&["config", "user.email"]), "test@example.invalid");
    }
}
