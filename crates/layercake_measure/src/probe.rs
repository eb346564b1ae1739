//! The cache-bust probe's choice: which file, taken by a broad COPY, to change.

use layercake_syntax::{Args, Dockerfile, Keyword};

/// File names that dependency installs read: changing one is supposed to
/// re-run the install, so the probe never picks one.
const DEPENDENCY_MANIFESTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    "requirements.txt",
    "pipfile",
    "pipfile.lock",
    "poetry.lock",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "uv.lock",
    "go.mod",
    "go.sum",
    "cargo.toml",
    "cargo.lock",
    "gemfile",
    "gemfile.lock",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "mix.exs",
    "mix.lock",
    "dockerfile",
    ".dockerignore",
];

/// Extensions of source files, which the probe prefers: a change to one is
/// the everyday change whose cost the probe measures.
const SOURCE_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "ts", "tsx", "jsx", "py", "go", "rs", "rb", "php", "java", "kt", "c", "h",
    "cc", "cpp", "cs", "swift", "scala", "ex", "exs", "sh", "html", "css", "txt", "md",
];

/// Whether a file (by its name) is a dependency manifest or lock file, or a
/// Dockerfile or ignore file: something the probe must not change.
pub fn is_dependency_manifest(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    DEPENDENCY_MANIFESTS.contains(&name.as_str())
        || (name.starts_with("requirements") && name.ends_with(".txt"))
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
        || name.ends_with(".dockerignore")
        || name.ends_with(".csproj")
}

/// The file the probe changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeFile {
    /// Path relative to the build context, `/`-separated.
    pub path: String,
}

/// The context paths a `COPY`/`ADD` takes (relative, `/`-separated, `""` for
/// the whole context), or `None` when it copies from a stage, an image or a
/// URL, or is not a COPY/ADD.
pub fn copy_sources(dockerfile: &Dockerfile, instruction: usize) -> Option<Vec<String>> {
    let instruction = dockerfile.instructions.get(instruction)?;
    if !matches!(instruction.keyword, Keyword::Copy | Keyword::Add)
        || instruction.flag("from").is_some()
    {
        return None;
    }
    let Args::Files { sources, .. } = &instruction.args else {
        return None;
    };
    let mut out = Vec::with_capacity(sources.len());
    for source in sources {
        let text = source.text.as_str();
        if text.contains("://") || text.starts_with("git@") {
            return None;
        }
        out.push(normalize_source(text));
    }
    Some(out)
}

fn normalize_source(text: &str) -> String {
    let parts: Vec<&str> = text
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    parts.join("/")
}

/// Picks the file the probe changes: one that `sources` take from the
/// context (as listed in `context_files`, path and size, after
/// `.dockerignore`), never a dependency manifest; a source file if there is
/// one, the smallest first. `None` when the sources take nothing else — then
/// the broad COPY costs nothing and its finding is refuted.
pub fn choose_probe_file(sources: &[String], context_files: &[(String, u64)]) -> Option<ProbeFile> {
    let taken = context_files
        .iter()
        .filter(|(path, _)| sources.iter().any(|source| takes(source, path)))
        .filter(|(path, _)| !is_dependency_manifest(path));
    taken
        .min_by_key(|(path, size)| {
            let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            let is_source = extension.is_some_and(|e| SOURCE_EXTENSIONS.contains(&e.as_str()));
            (!is_source, *size, path.clone())
        })
        .map(|(path, _)| ProbeFile { path: path.clone() })
}

/// Whether the COPY source `source` (normalized, may hold `*` and `?`) takes `path`.
fn takes(source: &str, path: &str) -> bool {
    if source.is_empty() {
        return true;
    }
    let source_parts: Vec<&str> = source.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    path_parts.len() >= source_parts.len()
        && source_parts
            .iter()
            .zip(&path_parts)
            .all(|(pattern, part)| wildcard_match(pattern.as_bytes(), part.as_bytes()))
}

/// `*` and `?` within one path component (what COPY's globs mostly use).
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| wildcard_match(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && wildcard_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && wildcard_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(p, s)| (p.to_string(), *s)).collect()
    }

    #[test]
    fn sources_of_copy_and_add() {
        let dockerfile = layercake_syntax::parse(
            "FROM x\nCOPY . .\nCOPY ./src/ lib/*.js /app/\nCOPY --from=build /a /a\nADD https://example.com/a /a\nRUN true\n",
        );
        assert_eq!(copy_sources(&dockerfile, 1), Some(vec![String::new()]));
        assert_eq!(
            copy_sources(&dockerfile, 2),
            Some(vec!["src".to_string(), "lib/*.js".to_string()])
        );
        assert_eq!(copy_sources(&dockerfile, 3), None);
        assert_eq!(copy_sources(&dockerfile, 4), None);
        assert_eq!(copy_sources(&dockerfile, 5), None);
    }

    #[test]
    fn picks_a_small_source_file_never_a_manifest() {
        let context = files(&[
            ("package.json", 10),
            ("package-lock.json", 10),
            ("README.md", 5000),
            ("src/index.js", 900),
            ("src/util.js", 300),
            ("assets/logo.png", 20),
        ]);
        let chosen = choose_probe_file(&[String::new()], &context);
        assert_eq!(chosen.map(|f| f.path).as_deref(), Some("src/util.js"));
        let chosen = choose_probe_file(&["assets".to_string()], &context);
        assert_eq!(chosen.map(|f| f.path).as_deref(), Some("assets/logo.png"));
        let chosen = choose_probe_file(&["src/*.js".to_string()], &context);
        assert_eq!(chosen.map(|f| f.path).as_deref(), Some("src/util.js"));
    }

    #[test]
    fn only_manifests_means_nothing_to_change() {
        let context = files(&[
            ("package.json", 10),
            ("package-lock.json", 10),
            ("Dockerfile", 99),
        ]);
        assert_eq!(choose_probe_file(&[String::new()], &context), None);
    }

    #[test]
    fn manifest_names() {
        for name in [
            "package.json",
            "a/requirements-dev.txt",
            "Cargo.lock",
            "api.Dockerfile",
            "x/Pipfile",
        ] {
            assert!(is_dependency_manifest(name), "{name}");
        }
        for name in ["src/main.rs", "package.js", "requirements.md"] {
            assert!(!is_dependency_manifest(name), "{name}");
        }
    }
}
