//! The SARIF output validates against the official SARIF 2.1.0 JSON schema.
//!
//! The schema is the OASIS one (`sarif-schema-2.1.0.json`, `$id`
//! `…/oasis-tcs/sarif-spec/…/Schemata/sarif-schema-2.1.0.json`). It is not
//! vendored here: the file carries no licence of its own (OASIS IPR policy
//! terms), so the test reads the copy that the `serde-sarif` crate ships as
//! `src/schema.json`, found through `cargo metadata` (serde-sarif is a
//! dev-dependency for exactly that reason).

mod support;

use layercake_lint::{Applicability, Category, Edit, FileReport, Finding, Fix, Severity};
use layercake_render::sarif::{render_sarif, render_sarif_with_rules};
use layercake_syntax::TextRange;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use support::{sample_reports, sample_rules};

#[test]
fn sample_output_is_valid_sarif() {
    let validator = sarif_validator();
    assert_valid(
        &validator,
        &render_sarif_with_rules(&sample_reports(), &sample_rules()),
    );
}

#[test]
fn output_with_every_registered_rule_is_valid_sarif() {
    let validator = sarif_validator();
    let output = render_sarif(&sample_reports());
    assert_valid(&validator, &output);
    let log: Value = serde_json::from_str(&output).expect("SARIF output is JSON");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        rules.len(),
        layercake_lint::RULES.len(),
        "every rule in RULES is described"
    );
    for (rule, registered) in rules.iter().zip(layercake_lint::RULES) {
        assert_eq!(rule["id"], json!(registered.meta().code));
    }
}

#[test]
fn edge_cases_are_valid_sarif() {
    let validator = sarif_validator();
    let source = "FROM a\n";
    let reports = vec![
        FileReport {
            path: "empty/Dockerfile".to_string(),
            source: String::new(),
            findings: vec![finding(0, 0)],
        },
        FileReport {
            path: "./dir with spaces\\Dockerfile.dev".to_string(),
            source: source.to_string(),
            // A range past the end, and one that is backwards, are clamped, not rejected.
            findings: vec![finding(0, 500), finding(5, 2)],
        },
        FileReport {
            path: "/abs/Dockerfile".to_string(),
            source: source.to_string(),
            findings: vec![],
        },
    ];
    assert_valid(
        &validator,
        &render_sarif_with_rules(&reports, &sample_rules()),
    );
    assert_valid(&validator, &render_sarif_with_rules(&[], &[]));
}

/// A way to break a valid log.
type Breakage = fn(&mut Value);

/// The test must be able to fail: a log that breaks the schema is rejected.
#[test]
fn broken_output_is_rejected() {
    let validator = sarif_validator();
    let output = render_sarif_with_rules(&sample_reports(), &sample_rules());
    let log: Value = serde_json::from_str(&output).expect("SARIF output is JSON");
    let breakages: [(&str, Breakage); 6] = [
        ("unknown level", |log| {
            log["runs"][0]["results"][0]["level"] = json!("fatal")
        }),
        ("column 0", |log| {
            log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] =
                json!(0)
        }),
        ("message without text", |log| {
            log["runs"][0]["results"][0]["message"] = json!({})
        }),
        ("wrong version", |log| log["version"] = json!("2.0.0")),
        ("a relative informationUri", |log| {
            log["runs"][0]["tool"]["driver"]["informationUri"] = json!("layercake")
        }),
        ("an unknown property", |log| {
            log["runs"][0]["results"][0]["severity"] = json!("warning")
        }),
    ];
    for (what, breakage) in breakages {
        let mut broken = log.clone();
        breakage(&mut broken);
        assert!(
            !validator.is_valid(&broken),
            "the schema should reject a log with {what}"
        );
    }
}

fn finding(start: usize, end: usize) -> Finding {
    Finding {
        code: "LC201",
        name: "broad-copy-before-install",
        category: Category::Cache,
        severity: Severity::Info,
        message: "m".to_string(),
        range: TextRange {
            start: start as u32,
            end: end as u32,
        },
        fix: Some(Fix {
            description: "d".to_string(),
            edits: vec![Edit {
                range: TextRange {
                    start: start as u32,
                    end: end as u32,
                },
                replacement: "x".to_string(),
            }],
            applicability: Applicability::Safe,
        }),
    }
}

fn assert_valid(validator: &jsonschema::Validator, output: &str) {
    let log: Value = serde_json::from_str(output).expect("SARIF output is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF output breaks the schema:\n{}\n\n{output}",
        errors.join("\n")
    );
}

fn sarif_validator() -> jsonschema::Validator {
    let path = schema_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    assert_eq!(
        schema["title"],
        json!("Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"),
        "{} is not the SARIF 2.1.0 schema",
        path.display()
    );
    // The 2.1.0 schema's `language` patterns have a stray `]` and are no valid
    // regex, so checking formats (wanted here: `uri`, `uri-reference`) would
    // reject the schema itself. layercake never writes `language`; drop just
    // those patterns and keep everything else as published.
    let removed = remove_patterns(&mut schema, MALFORMED_LANGUAGE_PATTERN);
    assert!(
        removed > 0,
        "the schema changed: no malformed `language` pattern to work around"
    );
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

const MALFORMED_LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

/// Removes every `"pattern": pattern` in `schema`; returns how many.
fn remove_patterns(schema: &mut Value, pattern: &str) -> usize {
    match schema {
        Value::Object(object) => {
            let mut removed = 0;
            if object.get("pattern").and_then(Value::as_str) == Some(pattern) {
                object.remove("pattern");
                removed += 1;
            }
            removed
                + object
                    .values_mut()
                    .map(|value| remove_patterns(value, pattern))
                    .sum::<usize>()
        }
        Value::Array(items) => items
            .iter_mut()
            .map(|value| remove_patterns(value, pattern))
            .sum(),
        _ => 0,
    }
}

/// `src/schema.json` in the serde-sarif package that Cargo resolved for this crate.
fn schema_path() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ])
        .output()
        .expect("running cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| {
            packages
                .iter()
                .find(|package| package["name"] == json!("serde-sarif"))
        })
        .expect("serde-sarif is a dev-dependency of layercake_render");
    let manifest_path = package["manifest_path"]
        .as_str()
        .expect("a package has a manifest path");
    PathBuf::from(manifest_path)
        .with_file_name("src")
        .join("schema.json")
}
