//! The parse tree of one Dockerfile as `layercake parse` shows it: JSON for
//! tools and editors, or one line per instruction.

use layercake_syntax::{Args, Command, Dockerfile, Instruction, LineIndex, TextRange};
use serde_json::{Value, json};

/// The parse of one file as JSON: instructions with keyword, range, flags,
/// heredocs and arguments; directives, comments, errors and warnings.
pub fn parse_json(path: &str, source: &str, dockerfile: &Dockerfile) -> Value {
    let index = LineIndex::new(source);
    let range = |r: TextRange| range_json(source, &index, r);
    json!({
        "version": 1,
        "file": path,
        "ok": dockerfile.is_ok(),
        "escape": dockerfile.escape.to_string(),
        "directives": dockerfile.directives.iter().map(|d| json!({
            "name": d.name, "value": d.value, "range": range(d.range),
        })).collect::<Vec<_>>(),
        "instructions": dockerfile.instructions.iter().map(|i| instruction_json(source, &index, i)).collect::<Vec<_>>(),
        "comments": dockerfile.comments.iter().map(|c| json!({"text": c.text, "range": range(c.range)})).collect::<Vec<_>>(),
        "errors": dockerfile.errors.iter().map(|e| json!({"message": e.message, "range": range(e.range)})).collect::<Vec<_>>(),
        "warnings": dockerfile.warnings.iter().map(|w| json!({"message": w.message, "range": range(w.range)})).collect::<Vec<_>>(),
    })
}

fn range_json(source: &str, index: &LineIndex, r: TextRange) -> Value {
    let start = index.line_column(source, r.start());
    let end = index.line_column(source, r.end());
    json!({
        "start_line": start.line, "start_column": start.column,
        "end_line": end.line, "end_column": end.column,
        "start_offset": r.start, "end_offset": r.end,
    })
}

fn instruction_json(source: &str, index: &LineIndex, ins: &Instruction) -> Value {
    let range = |r: TextRange| range_json(source, index, r);
    let word = |w: &layercake_syntax::Word| json!({"text": w.text, "range": range(w.range)});
    let command = |c: &Command| match c {
        Command::Exec { args } => {
            json!({"form": "exec", "args": args.iter().map(word).collect::<Vec<_>>()})
        }
        Command::Shell { text } => json!({"form": "shell", "text": word(text)}),
    };
    let args = match &ins.args {
        Args::Empty => Value::Null,
        Args::From { image, alias, .. } => {
            json!({"image": word(image), "alias": alias.as_ref().map(word)})
        }
        Args::Command(c) => command(c),
        Args::Files {
            sources,
            dest,
            json,
        } => json!({
            "sources": sources.iter().map(word).collect::<Vec<_>>(), "dest": dest.as_ref().map(word), "json": json,
        }),
        Args::KeyValues(pairs) => {
            json!(pairs.iter().map(|p| json!({
            "key": word(&p.key), "value": p.value.as_ref().map(word), "legacy": p.legacy,
        })).collect::<Vec<_>>())
        }
        Args::Words { words, json } => {
            json!({"words": words.iter().map(word).collect::<Vec<_>>(), "json": json})
        }
        Args::Text(w) | Args::Unknown(w) => json!({"text": word(w)}),
        Args::Healthcheck { kind, command: cmd } => {
            json!({"kind": word(kind), "command": cmd.as_ref().map(command)})
        }
        Args::Onbuild(inner) => json!({"trigger": instruction_json(source, index, inner)}),
    };
    json!({
        "keyword": ins.keyword_word.text,
        "instruction": ins.keyword.as_str(),
        "range": range(ins.range),
        "flags": ins.flags.iter().map(|f| json!({"name": f.name, "value": f.value, "range": range(f.range)})).collect::<Vec<_>>(),
        "args": args,
        "heredoc_count": ins.heredocs.len(),
        "heredocs": ins.heredocs.iter().map(|h| json!({
            "name": h.name, "file_descriptor": h.file_descriptor, "expand": h.expand, "chomp": h.chomp,
            "marker": range(h.marker_range), "body": range(h.body_range), "terminator": range(h.terminator_range),
        })).collect::<Vec<_>>(),
    })
}

/// `layercake parse FILE`.
/// One line per instruction: `path:start-end KEYWORD flags=N heredocs=N`.
pub fn parse_text(path: &str, source: &str, dockerfile: &Dockerfile) -> String {
    use std::fmt::Write;
    let index = LineIndex::new(source);
    let mut out = String::new();
    for ins in &dockerfile.instructions {
        let start = index.line_of(ins.range.start());
        let end = index.line_of(ins.range.end());
        let _ = writeln!(
            out,
            "{path}:{start}-{end} {} flags={} heredocs={}",
            ins.keyword_word.text,
            ins.flags.len(),
            ins.heredocs.len()
        );
    }
    for error in &dockerfile.errors {
        let at = index.line_column(source, error.range.start());
        let _ = writeln!(
            out,
            "{path}:{}:{}: error: {}",
            at.line, at.column, error.message
        );
    }
    out
}
