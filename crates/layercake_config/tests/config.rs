//! Configuration files on disk: discovery, explicit paths, errors, overrides, precedence.

use layercake_config::{CliOverrides, Config, ConfigError, ConfigResolver, FailOn, discover, load};
use layercake_lint::Severity;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Writes `files` (path → content) under a new temporary directory.
fn tree(files: &[(&str, &str)]) -> Result<TempDir, std::io::Error> {
    let root = tempfile::tempdir()?;
    for (path, content) in files {
        let path = root.path().join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, content)?;
    }
    Ok(root)
}

/// The error message for `yaml` read as `.layercake.yml`.
fn error_for(yaml: &str) -> String {
    match Config::from_yaml(Path::new(".layercake.yml"), yaml) {
        Ok(_) => "no error".to_string(),
        Err(error) => error.to_string(),
    }
}

fn defaults() -> CliOverrides {
    CliOverrides::default()
}

#[test]
fn unknown_top_level_key_names_its_line() {
    insta::assert_snapshot!(error_for(
        "fail-on: warning\ntarget: runtime\nrulez:\n  LC001: off\n"
    ));
}

#[test]
fn unknown_override_key_names_its_line() {
    insta::assert_snapshot!(error_for(
        "overrides:\n  - paths: [\"legacy/**\"]\n    rule:\n      LC001: off\n"
    ));
}

#[test]
fn unknown_rule_code_names_its_line() {
    insta::assert_snapshot!(error_for(
        "fail-on: error\nrules:\n  LC001: off\n  LC999: error\n"
    ));
}

#[test]
fn unknown_rule_in_override_names_its_line() {
    insta::assert_snapshot!(error_for(
        "overrides:\n  - paths: [\"a/**\"]\n    rules: { no-such-rule: off }\n"
    ));
}

#[test]
fn bad_fail_on_names_its_line_and_column() {
    insta::assert_snapshot!(error_for("target: runtime\nfail-on: sometimes\n"));
}

#[test]
fn bad_rule_level_names_its_line_and_column() {
    insta::assert_snapshot!(error_for("rules:\n  parse-error: loud\n"));
}

#[test]
fn bad_glob_names_its_line() {
    insta::assert_snapshot!(error_for("overrides:\n  - paths:\n      - \"legacy/[\"\n"));
}

#[test]
fn wrong_shape_names_its_line() {
    insta::assert_snapshot!(error_for("target:\n  - a\n  - b\n"));
}

#[test]
fn invalid_yaml_names_its_line() {
    insta::assert_snapshot!(error_for("target: 'runtime\n"));
}

#[test]
fn unknown_key_error_is_typed() {
    let error = Config::from_yaml(Path::new("c.yml"), "\n\nrulez: 1\n").err();
    match error {
        Some(ConfigError::UnknownKey { at, key, .. }) => {
            assert_eq!((at.line, at.column, key.as_str()), (3, 1, "rulez"));
        }
        other => panic!("expected an unknown-key error, got {other:?}"),
    }
}

#[test]
fn empty_file_is_the_defaults() -> TestResult {
    for text in ["", "# nothing yet\n", "rules:\n"] {
        let config = Config::from_yaml(Path::new("/r/.layercake.yml"), text)?;
        let settings = config.settings_for(Path::new("/r/Dockerfile"), &defaults());
        assert_eq!(settings, defaults().settings());
    }
    Ok(())
}

#[test]
fn discovery_walks_up_to_the_nearest_file() -> TestResult {
    let root = tree(&[
        ("repo/.git/HEAD", ""),
        ("repo/.layercake.yml", "fail-on: error\n"),
        ("repo/services/api/.layercake.yaml", "fail-on: info\n"),
        ("repo/services/api/docker/Dockerfile", "FROM a\n"),
        ("repo/web/deep/er/Dockerfile", "FROM a\n"),
    ])?;
    let repo = root.path().join("repo");

    let api = discover(&repo.join("services/api/docker/Dockerfile"))?.ok_or("no config")?;
    assert_eq!(api.path(), repo.join("services/api/.layercake.yaml"));

    let web = discover(&repo.join("web/deep/er/Dockerfile"))?.ok_or("no config")?;
    assert_eq!(web.path(), repo.join(".layercake.yml"));
    let settings = web.settings_for(&repo.join("web/deep/er/Dockerfile"), &defaults());
    assert_eq!(settings.fail_on, FailOn::Severity(Severity::Error));
    Ok(())
}

#[test]
fn discovery_prefers_yml_over_yaml_in_one_directory() -> TestResult {
    let root = tree(&[
        (".git/HEAD", ""),
        (".layercake.yml", "fail-on: error\n"),
        (".layercake.yaml", "fail-on: info\n"),
        ("Dockerfile", ""),
    ])?;
    let config = discover(&root.path().join("Dockerfile"))?.ok_or("no config")?;
    assert_eq!(config.path(), root.path().join(".layercake.yml"));
    Ok(())
}

#[test]
fn discovery_stops_at_the_repository_root() -> TestResult {
    // The file above the repository belongs to something else.
    let root = tree(&[
        (".layercake.yml", "fail-on: error\n"),
        ("repo/.git/HEAD", ""),
        ("repo/app/Dockerfile", "FROM a\n"),
    ])?;
    assert!(discover(&root.path().join("repo/app/Dockerfile"))?.is_none());

    // A `.git` file (worktree, submodule) is a root too; its own directory is still searched.
    let root = tree(&[
        (".layercake.yml", "fail-on: error\n"),
        ("sub/.git", "gitdir: ../.git/modules/sub\n"),
        ("sub/.layercake.yml", "fail-on: info\n"),
        ("sub/Dockerfile", "FROM a\n"),
        ("other/.git", "gitdir: elsewhere\n"),
        ("other/Dockerfile", "FROM a\n"),
    ])?;
    let sub = discover(&root.path().join("sub/Dockerfile"))?.ok_or("no config")?;
    assert_eq!(sub.path(), root.path().join("sub/.layercake.yml"));
    assert!(discover(&root.path().join("other/Dockerfile"))?.is_none());
    Ok(())
}

#[test]
fn explicit_path_is_used_for_every_dockerfile() -> TestResult {
    let root = tree(&[
        (".git/HEAD", ""),
        (".layercake.yml", "fail-on: error\n"),
        (
            "ci/strict.yml",
            "fail-on: info\noverrides:\n  - paths: [\"*.dev\"]\n    fail-on: none\n",
        ),
        ("app/Dockerfile", ""),
        ("ci/Dockerfile.dev", ""),
    ])?;
    let config = load(&root.path().join("ci/strict.yml"))?;
    let mut resolver = ConfigResolver::with_explicit(config);

    let app = resolver.settings_for(&root.path().join("app/Dockerfile"), &defaults())?;
    assert_eq!(app.fail_on, FailOn::Severity(Severity::Info));
    // Override globs are relative to the explicit file's directory.
    let dev = resolver.settings_for(&root.path().join("ci/Dockerfile.dev"), &defaults())?;
    assert_eq!(dev.fail_on, FailOn::Never);
    Ok(())
}

#[test]
fn explicit_path_that_does_not_exist_is_an_error() -> TestResult {
    let root = tree(&[])?;
    let missing = root.path().join("nope.yml");
    let error = load(&missing).err().ok_or("loaded a missing file")?;
    assert!(matches!(error, ConfigError::Read { .. }));
    assert_eq!(error.path(), missing);
    Ok(())
}

#[test]
fn resolver_reads_each_file_once() -> TestResult {
    let root = tree(&[
        (".git/HEAD", ""),
        (".layercake.yml", "fail-on: error\n"),
        ("a/Dockerfile", ""),
        ("a/b/Dockerfile", ""),
        ("c/Dockerfile", ""),
    ])?;
    let mut resolver = ConfigResolver::new();
    let first = resolver
        .config_for(&root.path().join("a/b/Dockerfile"))?
        .ok_or("no config")?;

    // Broken on disk now: a resolver that read it again would fail.
    fs::write(root.path().join(".layercake.yml"), "rulez: 1\n")?;
    for dockerfile in ["a/Dockerfile", "a/b/Dockerfile", "c/Dockerfile"] {
        let again = resolver
            .config_for(&root.path().join(dockerfile))?
            .ok_or("no config")?;
        assert!(
            std::sync::Arc::ptr_eq(&first, &again),
            "{dockerfile} re-read the file"
        );
    }
    Ok(())
}

#[test]
fn discovered_file_errors_name_the_file() -> TestResult {
    let root = tree(&[
        (".git/HEAD", ""),
        (
            ".layercake.yml",
            "fail-on: warning\n\nrules:\n  LC0001: off\n",
        ),
        ("Dockerfile", ""),
    ])?;
    let error = ConfigResolver::new()
        .config_for(&root.path().join("Dockerfile"))
        .err()
        .ok_or("no error")?;
    let message = error
        .to_string()
        .replace(&root.path().display().to_string(), "[ROOT]");
    insta::assert_snapshot!(message);
    Ok(())
}

#[test]
fn per_path_overrides_apply_to_matching_dockerfiles_only() -> TestResult {
    let yaml = r#"
fail-on: warning
target: runtime
rules:
  LC001: warning
overrides:
  - paths: ["legacy/**", "**/Dockerfile.dev"]
    rules: { parse-error: off }
    fail-on: error
  - paths: ["legacy/old/*"]
    target: build
"#;
    let config = Config::from_yaml(Path::new("/repo/.layercake.yml"), yaml)?;
    let settings = |path: &str| config.settings_for(&PathBuf::from(path), &defaults());

    let plain = settings("/repo/app/Dockerfile");
    assert!(plain.lint.is_enabled("LC001"));
    assert_eq!(
        plain.lint.severity_of("LC001", Severity::Error),
        Severity::Warning
    );
    assert_eq!(plain.fail_on, FailOn::Severity(Severity::Warning));
    assert_eq!(plain.lint.target.as_deref(), Some("runtime"));

    for matching in [
        "/repo/legacy/Dockerfile",
        "/repo/Dockerfile.dev",
        "/repo/app/x/Dockerfile.dev",
    ] {
        let s = settings(matching);
        assert!(!s.lint.is_enabled("LC001"), "{matching}");
        assert_eq!(s.fail_on, FailOn::Severity(Severity::Error), "{matching}");
        assert_eq!(s.lint.fail_threshold, Severity::Error, "{matching}");
    }

    // Later overrides win, and only what they set changes.
    let old = settings("/repo/legacy/old/Dockerfile");
    assert_eq!(old.lint.target.as_deref(), Some("build"));
    assert!(!old.lint.is_enabled("LC001"));
    // `*` does not cross a directory.
    assert_eq!(
        settings("/repo/legacy/old/x/Dockerfile")
            .lint
            .target
            .as_deref(),
        Some("runtime")
    );

    // Relative paths are resolved first; paths outside the file's directory match nothing.
    assert_eq!(
        settings("/repo/app/../legacy/Dockerfile").fail_on,
        FailOn::Severity(Severity::Error)
    );
    assert_eq!(
        settings("/elsewhere/legacy/Dockerfile").fail_on,
        FailOn::Severity(Severity::Warning)
    );
    Ok(())
}

#[test]
fn command_line_wins_over_overrides_which_win_over_the_top_level() -> TestResult {
    let yaml = "\
fail-on: info
target: runtime
rules:
  LC001: off
overrides:
  - paths: [\"legacy/**\"]
    fail-on: error
    target: legacy
    rules: { LC001: info }
";
    let config = Config::from_yaml(Path::new("/repo/.layercake.yml"), yaml)?;
    let legacy = Path::new("/repo/legacy/Dockerfile");

    let from_file = config.settings_for(legacy, &defaults());
    assert_eq!(from_file.fail_on, FailOn::Severity(Severity::Error));
    assert_eq!(from_file.lint.target.as_deref(), Some("legacy"));
    assert!(from_file.lint.is_enabled("LC001"));
    assert_eq!(
        from_file.lint.severity_of("LC001", Severity::Error),
        Severity::Info
    );

    let cli = CliOverrides {
        fail_on: Some(FailOn::Never),
        target: Some("cli".to_string()),
        select: vec![],
        ignore: vec!["LC001"],
    };
    let from_cli = config.settings_for(legacy, &cli);
    assert_eq!(from_cli.fail_on, FailOn::Never);
    assert_eq!(from_cli.lint.target.as_deref(), Some("cli"));
    assert!(!from_cli.lint.is_enabled("LC001"));

    // `--select` turns on what the file turned off, and nothing else runs.
    let select = CliOverrides {
        select: vec!["LC001"],
        ..defaults()
    };
    let top = config.settings_for(Path::new("/repo/Dockerfile"), &defaults());
    assert!(!top.lint.is_enabled("LC001"));
    assert!(
        config
            .settings_for(Path::new("/repo/Dockerfile"), &select)
            .lint
            .is_enabled("LC001")
    );
    Ok(())
}

#[test]
fn fail_on_none_never_fails() -> TestResult {
    let config = Config::from_yaml(Path::new("/r/.layercake.yml"), "fail-on: none\n")?;
    let settings = config.settings_for(Path::new("/r/Dockerfile"), &defaults());
    assert_eq!(settings.fail_on, FailOn::Never);
    assert!(!settings.fail_on.fails(Severity::Error));
    Ok(())
}

#[test]
fn no_config_uses_defaults_under_the_command_line() -> TestResult {
    let root = tree(&[(".git/HEAD", ""), ("Dockerfile", "")])?;
    let cli = CliOverrides {
        fail_on: Some(FailOn::Severity(Severity::Info)),
        ..defaults()
    };
    let settings = ConfigResolver::new().settings_for(&root.path().join("Dockerfile"), &cli)?;
    assert_eq!(settings.fail_on, FailOn::Severity(Severity::Info));
    assert_eq!(settings.lint.fail_threshold, Severity::Info);
    Ok(())
}
