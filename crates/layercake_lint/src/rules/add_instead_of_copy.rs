use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::shipped_stages::shipped_instructions;
use layercake_syntax::{Args, Keyword};

/// `ADD` of local files that are not archives, where COPY says what happens.
pub struct AddInsteadOfCopy;

static META: RuleMeta = RuleMeta {
    code: "LC309",
    name: "add-instead-of-copy",
    category: Category::Size,
    default_severity: Severity::Warning,
    summary: "`ADD` of local files that are not archives, where `COPY` fits",
    doc: r#"## What it does
Reports `ADD` in a stage whose layers ship (the build target and the stages
it is built `FROM`) when every source is a local file or directory that is
not an archive.

Left alone on purpose:
- `ADD` of a local archive (`.tar`, `.tar.gz`, `.tgz`, `.tar.xz`, …):
  extracting it in one step, without the archive ever being in a layer, is
  what ADD is for.
- `ADD <url>` and `ADD <git repository>`: without `--checksum` that is the
  security rule about unverified downloads (LC4xx); with `--checksum` it is
  the recommended way to fetch a file. When a later RUN extracts and deletes
  a downloaded archive, LC301 (`cleanup-in-later-layer`) reports the bytes
  left in the ADD layer.
- `ADD` with options COPY does not have (`--checksum`, `--keep-git-dir`,
  `--unpack`).

## Why is this bad?
ADD silently extracts anything that turns out to be a tar archive and
fetches URLs; COPY does exactly one thing. With COPY a reader knows the layer
holds the files as they are in the context, and a context file that happens to
be an archive is not unpacked by surprise.

## Example
```dockerfile
FROM python:3.12-slim
ADD requirements.txt /app/
ADD src/ /app/src/
```

## Use instead
```dockerfile
FROM python:3.12-slim
COPY requirements.txt /app/
COPY src/ /app/src/
```

## Fix safety
The fix replaces `ADD` with `COPY`. It is safe when no source name looks like
an archive and none is a wildcard: such files are copied the same way by both.
With a wildcard source (which could match an archive ADD would extract) the
fix is unsafe.

## Equivalents
hadolint: DL3020 (which applies to every stage). BuildKit checks: none.
"#,
};

const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".tar.zst",
    ".tzst",
    ".tar.lz",
    ".tar.lzma",
    ".tlz",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
];

impl Rule for AddInsteadOfCopy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for index in shipped_instructions(ctx.model) {
            let Some(add) = ctx.dockerfile.instructions.get(index) else {
                continue;
            };
            if add.keyword != Keyword::Add {
                continue;
            }
            let Args::Files { sources, .. } = &add.args else {
                continue;
            };
            let copy_flags_only = add
                .flags
                .iter()
                .all(|f| matches!(f.name.as_str(), "chown" | "chmod" | "link" | "exclude"));
            if sources.is_empty() || !copy_flags_only {
                continue;
            }
            let names: Vec<String> = sources
                .iter()
                .map(|s| s.text.trim_matches('"').to_ascii_lowercase())
                .collect();
            let remote = names
                .iter()
                .any(|n| n.contains("://") || n.starts_with("git@") || n.contains('$'));
            let archive = names
                .iter()
                .any(|n| ARCHIVE_SUFFIXES.iter().any(|s| n.ends_with(s)));
            if remote || archive {
                continue;
            }
            let wildcard = names.iter().any(|n| n.contains(['*', '?', '[']));
            let shown: Vec<&str> = sources.iter().map(|s| s.text.as_str()).collect();
            let what = if names.iter().all(|n| n.starts_with("<<")) {
                "writes a here-document"
            } else {
                "copies local files that are not archives"
            };
            let message = format!(
                "`ADD {}` {what}; `COPY` does the same without ADD's archive extraction and URL fetching",
                shown.join(" ")
            );
            let fix = Fix {
                description: "Replace `ADD` with `COPY`".to_string(),
                edits: vec![Edit {
                    range: add.keyword_word.range,
                    replacement: "COPY".to_string(),
                }],
                applicability: if wildcard {
                    Applicability::Unsafe
                } else {
                    Applicability::Safe
                },
            };
            sink.report(add.range, message, Some(fix));
        }
    }
}
