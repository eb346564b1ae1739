use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Args, Keyword, TextRange};

/// `ADD <url>` without `--checksum`.
pub struct AddUrlWithoutChecksum;

static META: RuleMeta = RuleMeta {
    code: "LC406",
    name: "add-url-without-checksum",
    category: Category::Security,
    default_severity: Severity::Warning,
    summary: "`ADD` downloads a URL or Git repository without `--checksum`",
    doc: r#"## What it does
Reports an `ADD` (in a stage the target needs) whose source, after `ARG`
expansion, is
- an `http://` or `https://` URL, with no `--checksum=sha256:…`;
- a Git repository (`https://…/repo.git#ref`, `git@host:repo.git`,
  `ssh://…`, `git://…`) whose ref is not a full commit SHA, with no
  `--checksum=<commit-sha>`: a tag or a branch can move.

## Why is this bad?
What the server returns can change between builds: a re-published release,
a compromised host or a moved tag changes the image without any change in
the repository, and nothing notices. `--checksum` (Dockerfile syntax 1.6+)
makes BuildKit verify the download and fail the build on a mismatch; it also
lets BuildKit cache the step without fetching the URL again.

## Example
```dockerfile
FROM alpine:3.20
ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini-static /tini
```

## Use instead
```dockerfile
FROM alpine:3.20
ADD --checksum=sha256:c5b0666b4cb676901f90dfcb37106783c5fe2077b04590973b885950611b30ee \
    https://github.com/krallin/tini/releases/download/v0.19.0/tini-static /tini
```

## Fix safety
The fix is display-only: it adds `--checksum=sha256:<digest>` (or
`--checksum=<commit-sha>` for Git), and the digest must come from the
publisher or from a download you verified.

## Equivalents
hadolint: DL3020 asks for `COPY` instead of `ADD` for local files and is
silent on URLs. BuildKit checks: none.
"#,
};

impl Rule for AddUrlWithoutChecksum {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Add
                || instruction.flag("checksum").is_some()
                || !ctx
                    .model
                    .stage_of_instruction(index)
                    .is_some_and(|s| ctx.model.reaches_target(s))
            {
                continue;
            }
            let Args::Files { sources, .. } = &instruction.args else {
                continue;
            };
            for source in sources {
                let value = ctx
                    .model
                    .expand_at(index, &source.text)
                    .map_or_else(|_| source.text.clone(), |e| e.value);
                let (message, checksum) = match remote_kind(&value) {
                    Some(Remote::Git { pinned: true }) | None => continue,
                    Some(Remote::Git { pinned: false }) => (
                        format!(
                            "`ADD {value}` clones a Git branch or tag, which can move, without `--checksum`; pin it with `--checksum=<commit-sha>` or a commit in the fragment (`#<commit-sha>`)"
                        ),
                        "--checksum=<commit-sha>",
                    ),
                    Some(Remote::Http) => (
                        format!(
                            "`ADD {value}` downloads without `--checksum`, so the build takes whatever the server returns that day (a re-published or tampered file goes unnoticed); add `--checksum=sha256:<digest>`"
                        ),
                        "--checksum=sha256:<digest>",
                    ),
                };
                let fix = Fix {
                    description: format!("Verify the download: `ADD {checksum} {value} …`"),
                    edits: vec![Edit {
                        range: TextRange::empty(instruction.keyword_word.range.end()),
                        replacement: format!(" {checksum}"),
                    }],
                    applicability: Applicability::DisplayOnly,
                };
                sink.report(source.range, message, Some(fix));
            }
        }
    }
}

enum Remote {
    Http,
    Git { pinned: bool },
}

/// What BuildKit fetches for an ADD source: a Git repository (scheme `git`,
/// `ssh`, `git@host:`, or an HTTP URL whose path ends in `.git`) or a file
/// over HTTP.
fn remote_kind(source: &str) -> Option<Remote> {
    let lower = source.to_ascii_lowercase();
    let http = lower.starts_with("http://") || lower.starts_with("https://");
    let git_scheme =
        lower.starts_with("git://") || lower.starts_with("ssh://") || lower.starts_with("git@");
    if !http && !git_scheme {
        return None;
    }
    let (location, fragment) = match source.split_once('#') {
        Some((location, fragment)) => (location, Some(fragment)),
        None => (source, None),
    };
    let (path, query) = match location.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (location, None),
    };
    let is_git = git_scheme || path.trim_end_matches('/').ends_with(".git");
    if !is_git {
        return Some(Remote::Http);
    }
    let fragment_ref = fragment.map(|f| f.split(':').next().unwrap_or(f));
    let query_ref = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            matches!(key, "ref" | "commit" | "checksum").then_some(value)
        });
    let pinned = fragment_ref.into_iter().chain(query_ref).any(is_commit_sha);
    Some(Remote::Git { pinned })
}

fn is_commit_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}
