//! A repository's `.hadolint.yaml`: what it means in layercake (the text
//! `layercake migrate hadolint` prints), and its use when there is no
//! `.layercake.yml`.

use layercake_config::{CliOverrides, Config, FailOn, discover, migrate_hadolint};
use layercake_lint::Severity;
use std::fs;
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const HADOLINT: &str = "\
failure-threshold: warning
ignored:
  - DL3008      # pinning: no layercake rule
  - DL3015
  - SC2086
  - DL3007
override:
  error:
    - DL3025
    - DL3006
  info:
    - DL4003
  style:
    - DL3000
trustedRegistries:
  - docker.io
  - my-company.com:5000
label-schema:
  author: text
strict-labels: true
";

#[test]
fn migrate_writes_the_equivalent_layercake_yml() -> TestResult {
    let yaml = migrate_hadolint(Path::new(".hadolint.yaml"), HADOLINT)?;
    insta::assert_snapshot!(yaml);
    Ok(())
}

#[test]
fn a_hadolint_file_means_what_its_migration_says() -> TestResult {
    let config = Config::from_hadolint_yaml(Path::new("/repo/.hadolint.yaml"), HADOLINT)?;
    let settings = config.settings_for(Path::new("/repo/Dockerfile"), &CliOverrides::default());
    assert_eq!(settings.fail_on, FailOn::Severity(Severity::Warning));
    let lint = &settings.lint;
    // ignored: DL3015 → LC302; DL3007 → LC403, which `ignored` wins for over DL3006's override.
    assert!(!lint.is_enabled("LC302"));
    assert!(!lint.is_enabled("LC403"));
    assert!(lint.is_enabled("LC303"));
    // override: DL3025 → LC501 error; DL4003 → LC504 info; style → info.
    assert_eq!(
        lint.severity_of("LC501", Severity::Warning),
        Severity::Error
    );
    assert_eq!(lint.severity_of("LC504", Severity::Warning), Severity::Info);
    assert_eq!(lint.severity_of("LC502", Severity::Warning), Severity::Info);
    Ok(())
}

#[test]
fn thresholds_map_to_fail_on() -> TestResult {
    for (hadolint, expected) in [
        (
            "failure-threshold: error",
            FailOn::Severity(Severity::Error),
        ),
        ("failure-threshold: info", FailOn::Severity(Severity::Info)),
        ("failure-threshold: style", FailOn::Severity(Severity::Info)),
        ("failure-threshold: none", FailOn::Never),
        ("no-fail: true\nfailure-threshold: error", FailOn::Never),
        ("", FailOn::default()),
    ] {
        let config = Config::from_hadolint_yaml(Path::new(".hadolint.yaml"), hadolint)?;
        let settings = config.settings_for(Path::new("Dockerfile"), &CliOverrides::default());
        assert_eq!(settings.fail_on, expected, "{hadolint}");
    }
    Ok(())
}

#[test]
fn a_malformed_hadolint_file_is_an_error_naming_its_line() {
    let error = Config::from_hadolint_yaml(Path::new(".hadolint.yaml"), "ignored: DL3008\n")
        .map(|_| ())
        .map_err(|e| e.to_string());
    let message = error.expect_err("a string where a list belongs");
    assert!(message.starts_with(".hadolint.yaml:1:"), "{message}");
}

#[test]
fn hadolint_file_is_read_only_without_a_layercake_file() -> TestResult {
    let root = tempfile::tempdir()?;
    let write = |path: &str, text: &str| -> std::io::Result<()> {
        let path = root.path().join(path);
        fs::create_dir_all(path.parent().unwrap_or(root.path()))?;
        fs::write(path, text)
    };
    write(".git/HEAD", "")?;
    write("a/.hadolint.yml", "ignored: [DL3015]\n")?;
    write("a/b/Dockerfile", "")?;
    let found = discover(&root.path().join("a/b/Dockerfile"))?.ok_or("no config")?;
    assert!(found.path().ends_with("a/.hadolint.yml"));
    let settings = found.settings_for(
        &root.path().join("a/b/Dockerfile"),
        &CliOverrides::default(),
    );
    assert!(!settings.lint.is_enabled("LC302"));

    // A .layercake.yml anywhere up to the repository's root wins over it.
    write(".layercake.yml", "fail-on: error\n")?;
    let found = discover(&root.path().join("a/b/Dockerfile"))?.ok_or("no config")?;
    assert!(found.path().ends_with(".layercake.yml"));
    Ok(())
}
