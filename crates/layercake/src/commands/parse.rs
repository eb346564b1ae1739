//! `layercake parse FILE`: the parse, for tools and editors.

use layercake_render::parse_tree::{parse_json, parse_text};

pub fn run(args: &crate::cli::ParseArgs) -> anyhow::Result<u8> {
    use anyhow::Context;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let source = String::from_utf8_lossy(&bytes);
    let dockerfile = layercake_syntax::parse(&source);
    let path = crate::discover::display_path(&args.file);
    let text = match args.format {
        crate::cli::ListFormat::Json => {
            let mut text = serde_json::to_string_pretty(&parse_json(&path, &source, &dockerfile))?;
            text.push('\n');
            text
        }
        crate::cli::ListFormat::Text => parse_text(&path, &source, &dockerfile),
    };
    crate::output::write_stdout(&text)?;
    Ok(if dockerfile.is_ok() {
        crate::EXIT_OK
    } else {
        crate::EXIT_FINDINGS
    })
}
