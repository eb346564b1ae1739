//! `images` and `budget`: every field, every validation error with its place,
//! how budgets layer, and how a budget judges sizes.

use layercake_config::{
    Budget, BudgetLimit, BudgetViolation, CliOverrides, Config, ConfigError, ImageSpec,
    SecretSourceSpec, SecretSpec,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The error message for `yaml` read as `.layercake.yml`.
fn error_for(yaml: &str) -> String {
    match Config::from_yaml(Path::new(".layercake.yml"), yaml) {
        Ok(_) => "no error".to_string(),
        Err(error) => error.to_string(),
    }
}

fn config(yaml: &str) -> Result<Config, ConfigError> {
    Config::from_yaml(Path::new("/repo/.layercake.yml"), yaml)
}

fn budget_for(config: &Config, dockerfile: &str) -> Budget {
    config
        .settings_for(
            &Path::new("/repo").join(dockerfile),
            &CliOverrides::default(),
        )
        .budget
}

const MB: u64 = 1_000_000;

#[test]
fn every_image_field_is_read() -> TestResult {
    let yaml = r#"
images:
  - dockerfile: services/api/Dockerfile
    context: services/api
    target: runtime
    build-args: { NODE_ENV: production, WORKERS: 4, DEBUG: false, RATIO: 1.50, EMPTY: "" }
    platform: linux/amd64
    secrets:
      - id: npmrc
        src: .secrets/npmrc
      - id: token
        env: NPM_TOKEN
    budget: { max-growth: 20MB, max-growth-percent: 5, max-size: 500MiB, compressed: true }
  - dockerfile: ./web/../web/Dockerfile.prod
"#;
    let config = config(yaml)?;
    let [api, web] = config.images() else {
        panic!("expected two images, got {:?}", config.images());
    };
    let expected_args: BTreeMap<String, String> = [
        ("NODE_ENV", "production"),
        ("WORKERS", "4"),
        ("DEBUG", "false"),
        ("RATIO", "1.50"),
        ("EMPTY", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        api,
        &ImageSpec {
            dockerfile: PathBuf::from("services/api/Dockerfile"),
            context: Some(PathBuf::from("services/api")),
            target: Some("runtime".to_string()),
            build_args: expected_args,
            platform: Some("linux/amd64".to_string()),
            secrets: vec![
                SecretSpec {
                    id: "npmrc".to_string(),
                    source: SecretSourceSpec::File(PathBuf::from(".secrets/npmrc")),
                },
                SecretSpec {
                    id: "token".to_string(),
                    source: SecretSourceSpec::Env("NPM_TOKEN".to_string()),
                },
            ],
            budget: Some(Budget {
                max_growth_bytes: Some(20 * MB),
                max_growth_percent: Some(5.0),
                max_size_bytes: Some(500 << 20),
                compressed: true,
            }),
        }
    );
    assert_eq!(
        web,
        &ImageSpec {
            dockerfile: PathBuf::from("web/Dockerfile.prod"),
            context: None,
            target: None,
            build_args: BTreeMap::new(),
            platform: None,
            secrets: vec![],
            budget: None,
        }
    );
    assert_eq!(web.context_dir(), Path::new("web"));
    Ok(())
}

#[test]
fn images_are_found_by_their_dockerfile() -> TestResult {
    let config =
        config("images:\n  - dockerfile: services/api/Dockerfile\n  - dockerfile: Dockerfile\n")?;
    let api = Some(Path::new("services/api/Dockerfile"));
    let found = |path: &str| {
        config
            .image_for(Path::new(path))
            .map(|i| i.dockerfile.as_path())
    };
    assert_eq!(found("services/api/Dockerfile"), api);
    assert_eq!(found("./services/x/../api/Dockerfile"), api);
    assert_eq!(found("/repo/services/api/Dockerfile"), api);
    assert_eq!(found("Dockerfile"), Some(Path::new("Dockerfile")));
    assert_eq!(found("services/Dockerfile"), None);
    assert_eq!(found("../repo/Dockerfile"), None);
    assert_eq!(found("/elsewhere/services/api/Dockerfile"), None);
    Ok(())
}

#[test]
fn empty_sections_are_nothing() -> TestResult {
    for yaml in ["images:\n", "images: []\n", "budget:\n", "budget: {}\n"] {
        let config = config(yaml)?;
        assert!(config.images().is_empty(), "{yaml}");
        assert_eq!(
            budget_for(&config, "Dockerfile"),
            Budget::default(),
            "{yaml}"
        );
    }
    let config = config("images:\n  - dockerfile: Dockerfile\n    build-args:\n    secrets:\n")?;
    let image = config
        .image_for(Path::new("Dockerfile"))
        .ok_or("no image")?;
    assert!(image.build_args.is_empty() && image.secrets.is_empty());
    Ok(())
}

#[test]
fn the_image_target_is_the_lint_target_too() -> TestResult {
    let config =
        config("target: top\nimages:\n  - dockerfile: api/Dockerfile\n    target: runtime\n")?;
    let settings =
        |path: &str| config.settings_for(&Path::new("/repo").join(path), &CliOverrides::default());
    assert_eq!(
        settings("api/Dockerfile").lint.target.as_deref(),
        Some("runtime")
    );
    assert_eq!(
        settings("web/Dockerfile").lint.target.as_deref(),
        Some("top")
    );
    let cli = CliOverrides {
        target: Some("cli".to_string()),
        ..CliOverrides::default()
    };
    let from_cli = config.settings_for(Path::new("/repo/api/Dockerfile"), &cli);
    assert_eq!(from_cli.lint.target.as_deref(), Some("cli"));
    Ok(())
}

#[test]
fn top_level_budget_is_read() -> TestResult {
    let yaml = "budget:\n  max-growth: 10MB\n  max-growth-percent: 2.5\n  max-size: 1GiB\n  compressed: false\n";
    assert_eq!(
        budget_for(&config(yaml)?, "Dockerfile"),
        Budget {
            max_growth_bytes: Some(10 * MB),
            max_growth_percent: Some(2.5),
            max_size_bytes: Some(1 << 30),
            compressed: false,
        }
    );
    // Whole bytes, quoted numbers, a space before the unit, a percent sign.
    let yaml = "budget: { max-growth: 1048576, max-size: \"1.5 GB\", max-growth-percent: 5% }\n";
    assert_eq!(
        budget_for(&config(yaml)?, "Dockerfile"),
        Budget {
            max_growth_bytes: Some(1_048_576),
            max_growth_percent: Some(5.0),
            max_size_bytes: Some(1_500_000_000),
            compressed: false,
        }
    );
    Ok(())
}

#[test]
fn budgets_layer_limit_by_limit_top_then_overrides_then_image() -> TestResult {
    let yaml = r#"
budget:
  max-growth: 10MB
  max-growth-percent: 5
overrides:
  - paths: ["services/**"]
    budget: { max-growth: 20MB, max-size: 1GB }
  - paths: ["services/api/*"]
    budget: { max-growth-percent: 8, compressed: true }
images:
  - dockerfile: services/api/Dockerfile
    budget: { max-size: 500MB }
  - dockerfile: web/Dockerfile
    budget: { compressed: false }
"#;
    let config = config(yaml)?;

    let top = Budget {
        max_growth_bytes: Some(10 * MB),
        max_growth_percent: Some(5.0),
        ..Budget::default()
    };
    assert_eq!(budget_for(&config, "Dockerfile"), top);
    assert_eq!(budget_for(&config, "web/Dockerfile"), top);

    // One override: its limits over the top level's, the others kept.
    assert_eq!(
        budget_for(&config, "services/worker/Dockerfile"),
        Budget {
            max_growth_bytes: Some(20 * MB),
            max_growth_percent: Some(5.0),
            max_size_bytes: Some(1_000 * MB),
            compressed: false,
        }
    );
    // Two overrides in file order, then the image entry.
    assert_eq!(
        budget_for(&config, "services/api/Dockerfile"),
        Budget {
            max_growth_bytes: Some(20 * MB),
            max_growth_percent: Some(8.0),
            max_size_bytes: Some(500 * MB),
            compressed: true,
        }
    );
    // The entry itself holds only what it writes.
    let api = config
        .image_for(Path::new("services/api/Dockerfile"))
        .ok_or("no image")?;
    assert_eq!(
        api.budget,
        Some(Budget {
            max_size_bytes: Some(500 * MB),
            ..Budget::default()
        })
    );
    // An override matching the image's Dockerfile without an entry applies all the same.
    assert_eq!(
        budget_for(&config, "services/api/Dockerfile.dev"),
        Budget {
            max_growth_bytes: Some(20 * MB),
            max_growth_percent: Some(8.0),
            max_size_bytes: Some(1_000 * MB),
            compressed: true,
        }
    );
    // No file: no limits.
    assert_eq!(CliOverrides::default().settings().budget, Budget::default());
    Ok(())
}

// Validation errors: message and place.

#[test]
fn image_without_dockerfile_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: a/Dockerfile\n  - context: b\n    target: t\n"
    ));
}

#[test]
fn duplicate_image_names_both_lines() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: a/Dockerfile\n  - dockerfile: b/Dockerfile\n  - dockerfile: ./a/x/../Dockerfile\n"
    ));
}

#[test]
fn absolute_dockerfile_names_its_line_and_column() {
    insta::assert_snapshot!(error_for("images:\n  - dockerfile: /etc/Dockerfile\n"));
}

#[test]
fn context_leaving_the_directory_names_its_line_and_column() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    context: services/../../outside\n"
    ));
}

#[test]
fn dockerfile_naming_the_directory_is_an_error() {
    insta::assert_snapshot!(error_for("images:\n  - dockerfile: a/..\n"));
}

#[test]
fn secret_file_outside_the_directory_is_an_error() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - id: key\n        src: ../.ssh/id_rsa\n"
    ));
}

#[test]
fn secret_with_src_and_env_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - id: npmrc\n        src: .npmrc\n        env: NPMRC\n"
    ));
}

#[test]
fn secret_with_neither_src_nor_env_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - id: npmrc\n"
    ));
}

#[test]
fn secret_with_empty_id_names_its_line_and_column() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - id: \"\"\n        env: TOKEN\n"
    ));
}

#[test]
fn secret_id_with_a_comma_is_an_error() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - { id: \"a,src=/etc/shadow\", env: TOKEN }\n"
    ));
}

#[test]
fn duplicate_secret_id_names_both_lines() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - { id: t, env: A }\n      - { id: t, env: B }\n"
    ));
}

#[test]
fn bad_secret_env_name_is_an_error() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - { id: t, env: \"A=B\" }\n"
    ));
}

#[test]
fn bad_platform_names_its_line_and_column() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    platform: amd64\n"
    ));
}

#[test]
fn null_build_arg_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    build-args:\n      A: 1\n      B:\n"
    ));
}

#[test]
fn bad_build_arg_name_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    build-args: { \"A B\": 1 }\n"
    ));
}

#[test]
fn build_arg_that_is_not_a_scalar_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    build-args:\n      A: [1, 2]\n"
    ));
}

#[test]
fn unknown_image_key_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    buildargs: { A: 1 }\n"
    ));
}

#[test]
fn unknown_secret_key_names_its_line() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    secrets:\n      - id: a\n        file: x\n"
    ));
}

#[test]
fn unknown_budget_key_names_its_line() {
    insta::assert_snapshot!(error_for("budget:\n  max-growth: 1MB\n  max-grow: 2MB\n"));
}

#[test]
fn bad_size_unit_names_the_value_and_its_place() {
    insta::assert_snapshot!(error_for("budget:\n  max-growth: 10 mb\n"));
}

#[test]
fn negative_size_names_the_value_and_its_place() {
    insta::assert_snapshot!(error_for("budget:\n  max-size: -5\n"));
}

#[test]
fn overflowing_size_names_the_value_and_its_place() {
    insta::assert_snapshot!(error_for(
        "overrides:\n  - paths: [\"a/**\"]\n    budget:\n      max-size: 20000000000GB\n"
    ));
}

#[test]
fn bad_size_in_an_image_names_the_value_and_its_place() {
    insta::assert_snapshot!(error_for(
        "images:\n  - dockerfile: Dockerfile\n    budget: { max-growth: lots }\n"
    ));
}

#[test]
fn bad_percent_names_the_value_and_its_place() {
    insta::assert_snapshot!(error_for("budget:\n  max-growth-percent: -3\n"));
}

#[test]
fn values_with_control_characters_are_escaped() {
    let message = error_for("budget:\n  max-size: \"1\\e[31mGB\"\n");
    assert!(!message.contains('\u{1b}'), "{message}");
    assert!(message.contains("\\u{1b}"), "{message}");
}

#[test]
fn validation_errors_are_typed_and_located() {
    let error = Config::from_yaml(
        Path::new("c.yml"),
        "images:\n  - dockerfile: Dockerfile\n    platform: linux\n",
    )
    .err();
    match error {
        Some(ConfigError::InvalidSetting { at, key, value, .. }) => {
            assert_eq!(
                (at.line, at.column, key.as_str(), value.as_str()),
                (3, 15, "images.platform", "linux")
            );
            assert_eq!(at.path, Path::new("c.yml"));
        }
        other => panic!("expected an invalid-setting error, got {other:?}"),
    }
    let error = Config::from_yaml(
        Path::new("c.yml"),
        "images:\n  - dockerfile: a\n  - dockerfile: a\n",
    )
    .err();
    match error {
        Some(ConfigError::Duplicate {
            at,
            first_line,
            first_column,
            ..
        }) => {
            assert_eq!((at.line, first_line, first_column), (3, 2, 17));
        }
        other => panic!("expected a duplicate error, got {other:?}"),
    }
}

// Budget::check.

fn limits(violations: &[BudgetViolation]) -> Vec<BudgetLimit> {
    violations.iter().map(|v| v.limit).collect()
}

#[test]
fn growth_over_the_limit_is_a_violation_and_at_the_limit_is_not() {
    let budget = Budget {
        max_growth_bytes: Some(10 * MB),
        ..Budget::default()
    };
    assert_eq!(
        budget.check(Some(100 * MB), 112_345_678),
        vec![BudgetViolation {
            limit: BudgetLimit::MaxGrowth,
            allowed: "10MB".to_string(),
            actual: "+12.3 MB".to_string(),
        }]
    );
    assert!(budget.check(Some(100 * MB), 110 * MB).is_empty());
    assert!(budget.check(Some(100 * MB), 105 * MB).is_empty());
    // Just over: enough decimals to tell it from the limit.
    assert_eq!(
        budget.check(Some(0), 10 * MB + 40_000)[0].actual,
        "+10.04 MB"
    );
}

#[test]
fn growth_percent_is_of_the_base_size() {
    let budget = Budget {
        max_growth_percent: Some(5.0),
        ..Budget::default()
    };
    let violations = budget.check(Some(1_000 * MB), 1_071 * MB);
    assert_eq!(
        violations,
        vec![BudgetViolation {
            limit: BudgetLimit::MaxGrowthPercent,
            allowed: "5%".to_string(),
            actual: "+7.1%".to_string(),
        }]
    );
    assert_eq!(
        violations[0].to_string(),
        "max-growth-percent 5% exceeded: +7.1%"
    );
    assert!(budget.check(Some(1_000 * MB), 1_050 * MB).is_empty());
    assert_eq!(
        budget.check(Some(1_000 * MB), 1_050_400_000)[0].actual,
        "+5.04%"
    );
    let fractional = Budget {
        max_growth_percent: Some(2.5),
        ..Budget::default()
    };
    assert_eq!(fractional.check(Some(100), 103)[0].allowed, "2.5%");
    // A base of 0 bytes has no percentage.
    assert!(budget.check(Some(0), 1_000 * MB).is_empty());
}

#[test]
fn shrinking_never_breaks_a_growth_limit() {
    let budget = Budget {
        max_growth_bytes: Some(0),
        max_growth_percent: Some(0.0),
        ..Budget::default()
    };
    assert!(budget.check(Some(500 * MB), 100 * MB).is_empty());
    assert!(budget.check(Some(500 * MB), 500 * MB).is_empty());
    assert_eq!(
        limits(&budget.check(Some(500 * MB), 500 * MB + 1)),
        [BudgetLimit::MaxGrowth, BudgetLimit::MaxGrowthPercent]
    );
}

#[test]
fn a_new_image_is_judged_by_its_size_only() {
    let budget = Budget {
        max_growth_bytes: Some(1),
        max_growth_percent: Some(1.0),
        max_size_bytes: Some(500 << 20),
        compressed: false,
    };
    assert!(budget.check(None, 500 << 20).is_empty());
    assert_eq!(
        budget.check(None, 612 * MB),
        vec![BudgetViolation {
            limit: BudgetLimit::MaxSize,
            allowed: "500MiB".to_string(),
            actual: "612.0 MB".to_string(),
        }]
    );
}

#[test]
fn every_limit_broken_is_reported_in_order() {
    let budget = Budget {
        max_growth_bytes: Some(10 * MB),
        max_growth_percent: Some(5.0),
        max_size_bytes: Some(100 * MB),
        compressed: true,
    };
    let violations = budget.check(Some(90 * MB), 120 * MB);
    assert_eq!(
        limits(&violations),
        [
            BudgetLimit::MaxGrowth,
            BudgetLimit::MaxGrowthPercent,
            BudgetLimit::MaxSize
        ]
    );
    let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "max-growth 10MB exceeded: +30.0 MB",
            "max-growth-percent 5% exceeded: +33.3%",
            "max-size 100MB exceeded: 120.0 MB",
        ]
    );
}

#[test]
fn limits_are_listed_as_key_and_value() -> TestResult {
    let config = config(
        "budget: { max-growth: 10 MB, max-growth-percent: 2.5, max-size: 1GiB, compressed: true }\n",
    )?;
    let budget = budget_for(&config, "Dockerfile");
    assert!(budget.has_limits());
    assert_eq!(
        budget.limits(),
        [
            "max-growth 10MB",
            "max-growth-percent 2.5%",
            "max-size 1GiB"
        ]
    );
    assert_eq!(BudgetLimit::MaxGrowthPercent.as_str(), "max-growth-percent");
    assert_eq!(BudgetLimit::MaxSize.to_string(), "max-size");
    assert_eq!(BudgetLimit::MaxGrowth.key(), "max-growth");
    Ok(())
}

#[test]
fn no_limits_no_violations() {
    let budget = Budget::default();
    assert!(!budget.has_limits());
    assert!(budget.limits().is_empty());
    assert!(budget.check(Some(0), u64::MAX).is_empty());
    assert!(budget.check(None, u64::MAX).is_empty());
}

#[test]
fn sizes_parse_for_the_command_line_too() {
    use layercake_config::{format_bytes, format_signed_bytes, parse_size};
    assert_eq!(parse_size("10MB"), Ok(10 * MB));
    assert_eq!(parse_size("1.5 GiB"), Ok(1_610_612_736));
    assert!(parse_size("10 parsecs").is_err());
    assert_eq!(format_bytes(512), "512 B");
    assert_eq!(format_bytes(12_345_678), "12.3 MB");
    assert_eq!(format_signed_bytes(12_345_678), "+12.3 MB");
    assert_eq!(format_signed_bytes(-1_000), "-1.0 kB");
}

#[test]
fn build_args_merge_with_yaml_anchors() -> TestResult {
    let yaml = "images:\n  - dockerfile: a/Dockerfile\n    build-args: &common { A: 1, B: 2 }\n  - dockerfile: b/Dockerfile\n    build-args:\n      <<: *common\n      A: 3\n";
    let config = config(yaml)?;
    let b = config
        .image_for(Path::new("b/Dockerfile"))
        .ok_or("no image")?;
    assert_eq!(b.build_args.get("A").map(String::as_str), Some("3"));
    assert_eq!(b.build_args.get("B").map(String::as_str), Some("2"));
    Ok(())
}
