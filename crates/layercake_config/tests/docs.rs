//! The examples in `docs/configuration.md` are valid configuration files.

use layercake_config::Config;
use std::path::{Path, PathBuf};

/// The fenced blocks of `language` in `markdown`.
fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_start() == format!("```{language}") => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_start() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn every_yaml_example_in_the_configuration_docs_loads() {
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let text = std::fs::read_to_string(&doc).expect("docs/configuration.md");
    let blocks = fenced_blocks(&text, "yaml");
    assert!(blocks.len() >= 4, "found only {} yaml blocks", blocks.len());
    for block in blocks {
        if let Err(error) = Config::from_yaml(Path::new("/repo/.layercake.yml"), &block) {
            panic!("docs/configuration.md example does not load: {error}\n{block}");
        }
    }
}
