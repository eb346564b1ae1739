//! `layercake_git` against real repositories made with the `git` binary in
//! temporary directories.

use std::path::{Path, PathBuf};
use std::process::Command;

use layercake_git::{
    AffectedReason, AffectedTarget, BuildTarget, ChangeStatus, Commit, CommitTree, GitError,
    affected_targets, changed_paths, discover_targets, merge_base, resolve, show_file,
};

/// A scratch repository on `main`, with an identity and no user or system
/// configuration.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temporary directory");
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    fn write(&self, path: &str, text: &str) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
        self
    }

    fn remove(&self, path: &str) -> &Self {
        self.git(&["rm", "-q", path]);
        self
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn branch(&self, name: &str) {
        self.git(&["checkout", "-q", "-b", name]);
    }

    fn checkout(&self, name: &str) {
        self.git(&["checkout", "-q", name]);
    }

    /// The affected targets of `feature` against `main`, with discovered
    /// targets and ignore files read at head, as `layercake diff` will do it.
    fn affected(&self) -> Vec<AffectedTarget> {
        self.affected_with(None)
    }

    fn affected_with(&self, explicit: Option<&[BuildTarget]>) -> Vec<AffectedTarget> {
        let repo = self.path();
        let base = merge_base(repo, "main", "feature").expect("merge base");
        let head = resolve(repo, "feature").expect("head");
        let changes = changed_paths(repo, "main", "feature").expect("changes");
        let (at_base, at_head) = match explicit {
            Some(targets) => (targets.to_vec(), targets.to_vec()),
            None => (
                discover_targets(repo, &base).expect("base targets"),
                discover_targets(repo, &head).expect("head targets"),
            ),
        };
        affected_targets(&at_base, &at_head, &changes, |path| {
            let bytes = show_file(repo, &head, path).expect("show")?;
            Some(String::from_utf8(bytes).expect("utf-8"))
        })
    }
}

/// A repository with two images on main: `api/` and `web/`, plus docs.
fn two_images() -> Repo {
    let repo = Repo::new();
    repo.write("api/Dockerfile", "FROM scratch\nCOPY . /app\n")
        .write("api/main.go", "package main\n")
        .write("web/Dockerfile", "FROM scratch\nCOPY . /srv\n")
        .write("web/index.html", "<h1>hi</h1>\n")
        .write("docs/guide.md", "# guide\n");
    repo.commit("two images");
    repo.branch("feature");
    repo
}

fn summary(affected: &[AffectedTarget]) -> Vec<(String, AffectedReason)> {
    affected
        .iter()
        .map(|a| (a.target.dockerfile.display().to_string(), a.reason.clone()))
        .collect()
}

fn context_changed(paths: &[&str]) -> AffectedReason {
    AffectedReason::ContextChanged {
        paths: paths.iter().map(PathBuf::from).collect(),
        count: paths.len(),
    }
}

#[test]
fn dockerfile_modified_on_a_branch() {
    let repo = two_images();
    repo.write("api/Dockerfile", "FROM scratch\nCOPY main.go /app/\n");
    repo.commit("narrow copy");
    assert_eq!(
        summary(&repo.affected()),
        [("api/Dockerfile".into(), AffectedReason::DockerfileModified)]
    );
}

#[test]
fn dockerfile_added() {
    let repo = two_images();
    repo.write("worker/Dockerfile.dev", "FROM scratch\n");
    repo.commit("worker");
    let changes = changed_paths(repo.path(), "main", "feature").expect("changes");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].status, ChangeStatus::Added);
    assert_eq!(
        summary(&repo.affected()),
        [(
            "worker/Dockerfile.dev".into(),
            AffectedReason::DockerfileAdded
        )]
    );
}

#[test]
fn dockerfile_deleted() {
    let repo = two_images();
    repo.remove("web/Dockerfile");
    repo.commit("no more web image");
    let affected = repo.affected();
    assert_eq!(
        summary(&affected),
        [("web/Dockerfile".into(), AffectedReason::DockerfileDeleted)]
    );
    // The deleted target comes from the base's list, with its context.
    assert_eq!(affected[0].target.context, Path::new("web"));
}

#[test]
fn dockerfile_renamed() {
    let repo = two_images();
    repo.git(&["mv", "api/Dockerfile", "api/api.Dockerfile"]);
    repo.commit("rename");
    let changes = changed_paths(repo.path(), "main", "feature").expect("changes");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].status, ChangeStatus::Renamed);
    assert_eq!(
        changes[0].old_path.as_deref(),
        Some(Path::new("api/Dockerfile"))
    );
    assert_eq!(
        summary(&repo.affected()),
        [(
            "api/api.Dockerfile".into(),
            AffectedReason::DockerfileRenamed {
                from: "api/Dockerfile".into()
            }
        )]
    );
}

#[test]
fn source_change_inside_a_context_affects_only_that_image() {
    let repo = two_images();
    repo.write("api/main.go", "package main\n\nfunc main() {}\n");
    repo.commit("code");
    assert_eq!(
        summary(&repo.affected()),
        [("api/Dockerfile".into(), context_changed(&["api/main.go"]))]
    );
}

#[test]
fn change_outside_every_context_affects_nothing() {
    let repo = two_images();
    repo.write("docs/guide.md", "# a better guide\n");
    repo.write("README.md", "hello\n");
    repo.commit("docs");
    assert_eq!(summary(&repo.affected()), []);
}

#[test]
fn dockerignore_excludes_and_exceptions_reinclude() {
    let repo = Repo::new();
    repo.write("Dockerfile", "FROM scratch\nCOPY . /app\n")
        .write(
            ".dockerignore",
            "# not sent\n*.md\n!README.md\nnode_modules\n",
        )
        .write("CHANGES.md", "v1\n")
        .write("README.md", "hi\n")
        .write("node_modules/x/index.js", "1\n")
        .write("src/app.js", "1\n");
    repo.commit("app");
    repo.branch("feature");

    repo.write("CHANGES.md", "v2\n")
        .write("node_modules/x/index.js", "2\n");
    repo.commit("ignored files only");
    assert_eq!(summary(&repo.affected()), []);

    repo.write("README.md", "hello\n");
    repo.commit("re-included file");
    assert_eq!(
        summary(&repo.affected()),
        [("Dockerfile".into(), context_changed(&["README.md"]))]
    );
}

#[test]
fn a_change_to_the_dockerignore_is_a_context_change() {
    let repo = Repo::new();
    repo.write("app/Dockerfile", "FROM scratch\nCOPY . /app\n")
        .write("app/.dockerignore", ".dockerignore\n*.log\n");
    repo.commit("app");
    repo.branch("feature");
    repo.write("app/.dockerignore", ".dockerignore\n*.log\n*.tmp\n");
    repo.commit("ignore more");
    assert_eq!(
        summary(&repo.affected()),
        [(
            "app/Dockerfile".into(),
            context_changed(&["app/.dockerignore"])
        )]
    );
}

#[test]
fn two_dockerfiles_sharing_a_context() {
    let repo = Repo::new();
    repo.write("Dockerfile", "FROM scratch\nCOPY src /src\n")
        .write("Dockerfile.test", "FROM scratch\nCOPY . /src\n")
        .write("src/lib.rs", "1\n");
    repo.commit("two builds, one context");
    repo.branch("feature");
    repo.write("src/lib.rs", "2\n");
    repo.commit("code");
    assert_eq!(
        summary(&repo.affected()),
        [
            ("Dockerfile".into(), context_changed(&["src/lib.rs"])),
            ("Dockerfile.test".into(), context_changed(&["src/lib.rs"])),
        ]
    );
}

#[test]
fn explicit_targets_from_configuration() {
    let repo = two_images();
    repo.write("shared/proto.txt", "v2\n");
    repo.commit("shared");
    // Configured: the api image builds from the repository root.
    let api = BuildTarget {
        context: PathBuf::new(),
        target: Some("runtime".into()),
        ..BuildTarget::for_dockerfile("api/Dockerfile")
    };
    let web = BuildTarget::for_dockerfile("web/Dockerfile");
    let affected = repo.affected_with(Some(&[api.clone(), web]));
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0].target, api);
    assert_eq!(affected[0].reason, context_changed(&["shared/proto.txt"]));
}

#[test]
fn base_moving_on_after_the_branch_point_does_not_count() {
    let repo = two_images();
    let branch_point = repo.git(&["rev-parse", "HEAD"]);
    repo.write("api/main.go", "package main // feature\n");
    repo.commit("feature work");
    repo.checkout("main");
    repo.write("web/Dockerfile", "FROM scratch\nCOPY index.html /srv/\n")
        .write("web/index.html", "<h1>main</h1>\n");
    repo.commit("main moves on");

    let base = merge_base(repo.path(), "main", "feature").expect("merge base");
    assert_eq!(base.sha, branch_point);
    let changes = changed_paths(repo.path(), "main", "feature").expect("changes");
    let paths: Vec<&Path> = changes.iter().map(|c| c.path.as_path()).collect();
    assert_eq!(paths, [Path::new("api/main.go")]);
    assert_eq!(
        summary(&repo.affected()),
        [("api/Dockerfile".into(), context_changed(&["api/main.go"]))]
    );
}

#[test]
fn unknown_revision_is_named() {
    let repo = two_images();
    let error = resolve(repo.path(), "no-such-branch").expect_err("unknown");
    assert!(
        matches!(&error, GitError::UnknownRevision { rev, .. } if rev == "no-such-branch"),
        "{error:?}"
    );
    assert!(error.to_string().contains("`no-such-branch`"), "{error}");
    let error = changed_paths(repo.path(), "main", "nope/feature").expect_err("unknown");
    assert!(error.to_string().contains("`nope/feature`"), "{error}");
    // A name that looks like an option is still only a name.
    let error = resolve(repo.path(), "--all").expect_err("unknown");
    assert!(
        matches!(error, GitError::UnknownRevision { .. }),
        "{error:?}"
    );
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let error = resolve(dir.path(), "main").expect_err("no repository");
    assert!(
        matches!(error, GitError::NotARepository { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("is not a git repository"),
        "{error}"
    );
    let error = resolve(&dir.path().join("missing"), "main").expect_err("no directory");
    assert!(
        matches!(error, GitError::NotARepository { .. }),
        "{error:?}"
    );
}

#[test]
fn no_common_history() {
    let repo = two_images();
    repo.git(&["checkout", "-q", "--orphan", "unrelated"]);
    repo.write("other.txt", "x\n");
    repo.commit("unrelated root");
    let error = merge_base(repo.path(), "main", "unrelated").expect_err("no merge base");
    assert!(matches!(error, GitError::NoMergeBase { .. }), "{error:?}");
    assert!(
        error.to_string().contains("`main` and `unrelated`"),
        "{error}"
    );
}

#[test]
fn files_are_read_at_a_commit_without_checkout() {
    let repo = two_images();
    let base = resolve(repo.path(), "main").expect("main");
    repo.write("api/Dockerfile", "FROM busybox\n");
    repo.commit("change");
    let show = |path: &str| show_file(repo.path(), &base, Path::new(path)).expect("show");
    assert_eq!(
        show("api/Dockerfile").as_deref(),
        Some(&b"FROM scratch\nCOPY . /app\n"[..])
    );
    assert_eq!(show("api/missing"), None);
    // A directory is not a file.
    assert_eq!(show("api"), None);
}

#[test]
fn discovery_finds_dockerfile_names_only() {
    let repo = Repo::new();
    for path in [
        "Dockerfile",
        "a/Dockerfile.prod",
        "b/api.Dockerfile",
        "c/Containerfile",
        "a/Dockerfile.prod.dockerignore",
        "d/Dockerfile.md.txt/x",
        "notes/dockerfile-tips.md",
    ] {
        repo.write(path, "FROM scratch\n");
    }
    let head = resolve(repo.path(), &repo.commit("many")).expect("head");
    let found: Vec<(PathBuf, PathBuf)> = discover_targets(repo.path(), &head)
        .expect("targets")
        .into_iter()
        .map(|t| (t.dockerfile, t.context))
        .collect();
    assert_eq!(
        found,
        [
            ("Dockerfile".into(), "".into()),
            ("a/Dockerfile.prod".into(), "a".into()),
            ("b/api.Dockerfile".into(), "b".into()),
            ("c/Containerfile".into(), "c".into()),
        ]
    );
}

const ATTRIBUTES: &str = "left-out.txt export-ignore
rewritten.txt export-subst
*.bin filter=lfs diff=lfs merge=lfs -text
";
const LFS_POINTER: &str = "version https://git-lfs.github.com/spec/v1
oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393
size 12345
";

/// Every path under `dir` (relative, `/`-separated, directories with a
/// trailing `/`) with its kind and mode, its time (seconds, nanoseconds), and
/// its content or link target.
fn listing(dir: &Path) -> Vec<(String, u32, (i64, i64), String)> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in std::fs::read_dir(dir.join(&relative)).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = relative.join(entry.file_name());
            let meta = std::fs::symlink_metadata(entry.path()).expect("stat");
            let shown = path.display().to_string();
            let (name, content) = if meta.is_dir() {
                pending.push(path);
                (format!("{shown}/"), String::new())
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(entry.path()).expect("readlink");
                (shown, format!("-> {}", target.display()))
            } else {
                (shown, std::fs::read_to_string(entry.path()).expect("read"))
            };
            found.push((
                name,
                meta.mode(),
                (meta.mtime(), meta.mtime_nsec()),
                content,
            ));
        }
    }
    found.sort();
    found
}

/// A commit with a file in a subdirectory, an executable, a link, files
/// `git archive` would leave out or rewrite, and a Git LFS pointer (there is
/// no Git LFS here), made at a known time (`message` tells tests apart: the
/// same commit in two would share its path).
fn tree_commit(repo: &Repo, message: &str) -> Commit {
    repo.write(".gitattributes", ATTRIBUTES)
        .write("model.bin", LFS_POINTER)
        .write("left-out.txt", "kept in the build context\n")
        .write("rewritten.txt", "commit $Format:%H$\n")
        .write("app/src/main.c", "int main(void) { return 0; }\n")
        .write("run.sh", "#!/bin/sh\n");
    std::os::unix::fs::symlink("app/src/main.c", repo.path().join("main-link")).expect("symlink");
    let run = repo.path().join("run.sh");
    let mut mode = std::fs::metadata(&run).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o775);
    std::fs::set_permissions(&run, mode).expect("chmod");
    repo.git(&["add", "-A"]);
    // A submodule: git records only the commit it points at.
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{},vendor/lib", "1".repeat(40)),
    ]);
    let output = Command::new("git")
        .arg("-C")
        .arg(repo.path())
        .args(["-c", "commit.gpgsign=false", "commit", "-q", "-m", message])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "{output:?}");
    resolve(repo.path(), "HEAD").expect("HEAD")
}

#[test]
fn a_commit_tree_holds_exactly_the_commits_files() {
    let repo = Repo::new();
    let commit = tree_commit(&repo, "exact files");
    // Changes in the working tree are not the commit's.
    repo.write("app/src/main.c", "uncommitted\n")
        .write("untracked.txt", "not tracked\n");
    std::fs::remove_file(repo.path().join("run.sh")).expect("rm");

    let tree = CommitTree::write(repo.path(), &commit).expect("tree");
    assert_eq!(tree.commit(), &commit);
    let time = (1_700_000_000, 0);
    let file = |path: &str, mode: u32, content: &str| {
        (
            path.to_string(),
            0o100_000 | mode,
            time,
            content.to_string(),
        )
    };
    let dir = |path: &str| (path.to_string(), 0o040_755, time, String::new());
    let link = (
        "main-link".to_string(),
        0o120_777,
        time,
        "-> app/src/main.c".to_string(),
    );
    assert_eq!(
        listing(tree.path()),
        vec![
            file(".gitattributes", 0o644, ATTRIBUTES),
            dir("app/"),
            dir("app/src/"),
            file("app/src/main.c", 0o644, "int main(void) { return 0; }\n"),
            file("left-out.txt", 0o644, "kept in the build context\n"),
            link,
            file("model.bin", 0o644, LFS_POINTER),
            file("rewritten.txt", 0o644, "commit $Format:%H$\n"),
            file("run.sh", 0o755, "#!/bin/sh\n"),
            dir("vendor/"),
            dir("vendor/lib/"),
        ],
        "no .git, no working-tree changes, export attributes not applied, a submodule empty"
    );
    let path = tree.path().to_path_buf();
    drop(tree);
    assert!(!path.exists(), "{} still exists", path.display());
    // The repository is untouched: no worktree, its index as it was.
    assert_eq!(
        repo.git(&["worktree", "list", "--porcelain"])
            .lines()
            .count(),
        3
    );
    assert!(repo.git(&["status", "--porcelain"]).contains(" D run.sh"));
}

#[test]
fn a_commit_tree_is_the_same_on_every_run_and_at_a_path_of_its_own() {
    let repo = Repo::new();
    let commit = tree_commit(&repo, "same on every run");
    let stable = std::env::temp_dir().join(format!("layercake-tree-{}", commit.sha));

    let first = CommitTree::write(repo.path(), &commit).expect("first");
    // The commit's own path, so the docker CLI's session for it is the same
    // on every run.
    assert_eq!(first.path(), stable);
    let expected = listing(first.path());
    // A concurrent run on the same commit gets a directory of its own.
    let concurrent = CommitTree::write(repo.path(), &commit).expect("concurrent");
    assert_ne!(concurrent.path(), first.path());
    assert_eq!(listing(concurrent.path()), expected);
    let concurrent_path = concurrent.path().to_path_buf();
    concurrent.remove().expect("removed");
    assert!(!concurrent_path.exists());
    first.remove().expect("removed");
    assert!(!stable.exists());

    // What a run that died left behind is cleared away.
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&stable)
        .expect("mkdir");
    std::fs::write(stable.join("stale.txt"), "left over").expect("write");
    let again = CommitTree::write(repo.path(), &commit).expect("again");
    assert_eq!(again.path(), stable);
    assert_eq!(listing(again.path()), expected);
}
