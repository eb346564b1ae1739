//! BuildKit's own parser test files come with BuildKit's dump of the parse
//! (`result`): keyword, flags and every argument value. Our tree, printed in
//! the same notation, must match it exactly: this checks argument splitting,
//! quoting and flag values, which the line-and-count conformance test cannot.
//! The test files are in the corpus outside the repository (`LAYERCAKE_CORPUS`).

use layercake_syntax::{Args, Command, Instruction, parse};
use std::path::PathBuf;

/// Go's `strconv.Quote`.
fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The values BuildKit chains after the keyword node.
fn values(ins: &Instruction) -> Vec<String> {
    let command = |c: &Command| match c {
        Command::Exec { args } => args.iter().map(|w| go_quote(&w.text)).collect::<Vec<_>>(),
        Command::Shell { text } => vec![go_quote(&text.text)],
    };
    match &ins.args {
        Args::Empty => Vec::new(),
        Args::From { words, .. } => words.iter().map(|w| go_quote(&w.text)).collect(),
        Args::Command(c) => command(c),
        Args::Files { sources, dest, .. } => sources
            .iter()
            .chain(dest.iter())
            .map(|w| go_quote(&w.text))
            .collect(),
        Args::Words { words, .. } => words.iter().map(|w| go_quote(&w.text)).collect(),
        Args::KeyValues(pairs) if ins.keyword == layercake_syntax::Keyword::Arg => pairs
            .iter()
            .map(|p| match &p.value {
                Some(v) => go_quote(&format!("{}={}", p.key.text, v.text)),
                None => go_quote(&p.key.text),
            })
            .collect(),
        Args::KeyValues(pairs) => pairs
            .iter()
            .flat_map(|p| {
                let value = p.value.as_ref().map_or("", |v| v.text.as_str());
                let sep = if p.legacy { "" } else { "=" };
                [go_quote(&p.key.text), go_quote(value), go_quote(sep)]
            })
            .collect(),
        Args::Text(w) => vec![go_quote(&w.text)],
        Args::Unknown(_) => vec![go_quote("")],
        Args::Healthcheck { kind, command: cmd } => {
            let mut out = vec![go_quote(&kind.text)];
            if let Some(c) = cmd {
                out.extend(command(c));
            }
            out
        }
        Args::Onbuild(inner) => vec![format!("({})", dump(inner))],
    }
}

/// BuildKit's `Node.Dump` of one instruction.
fn dump(ins: &Instruction) -> String {
    let mut out = ins.keyword_word.text.to_lowercase();
    if !ins.flags.is_empty() {
        let flags: Vec<String> = ins
            .flags
            .iter()
            .map(|f| {
                let word = match &f.value {
                    Some(v) => format!("--{}={v}", f.name),
                    None => format!("--{}", f.name),
                };
                go_quote(&word)
            })
            .collect();
        out.push_str(&format!(" [{}]", flags.join(" ")));
    }
    for value in values(ins) {
        out.push(' ');
        out.push_str(&value);
    }
    out.trim().to_string()
}

#[test]
fn arguments_match_buildkits_own_dumps() {
    let Some(corpus) = layercake_testkit::corpus_or_skip() else {
        return;
    };
    let dir = corpus.join("dockerfiles/buildkit-testfiles");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testfiles")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 33);
    let mut failures = Vec::new();
    for case in &cases {
        let source = std::fs::read_to_string(case.join("Dockerfile")).expect("Dockerfile");
        let expected = std::fs::read_to_string(case.join("result")).expect("result");
        let parsed = parse(&source);
        let ours: Vec<String> = parsed
            .instructions
            .iter()
            .map(|i| format!("({})", dump(i)))
            .collect();
        let theirs: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
        if ours != theirs {
            let first = ours.iter().zip(&theirs).find(|(a, b)| a != b);
            failures.push(format!(
                "{}: first difference {:?} ({} vs {} lines)",
                case.display(),
                first,
                ours.len(),
                theirs.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
