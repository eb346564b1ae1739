//! Paths with `.` and `..` resolved by spelling alone, never touching the
//! disk: the one place layercake cleans a path (a build context, a
//! configuration file's entries, `.dockerignore` patterns).

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// A path cleaned by spelling alone, with everything callers disagree on
/// kept apart: where it starts, how far its `..` climb above that start, and
/// the names left below it. Repeated and trailing separators and `.` are
/// gone; `a/..` cancels out. Symbolic links are not followed, so `a/..` is
/// not always where the disk would say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LexicalPath<'a> {
    /// The root the path starts from (`/`; a drive or share on Windows);
    /// empty when the path is relative.
    pub root: PathBuf,
    /// How many `..` climb above where a relative path starts (`../../a`:
    /// 2). Always 0 when rooted: `/..` is `/`, as in Go's `filepath.Clean`.
    pub climbs: usize,
    /// The names left below the start, in order.
    pub names: Vec<&'a OsStr>,
}

impl<'a> LexicalPath<'a> {
    /// Cleans `path`.
    pub fn of(path: &'a Path) -> Self {
        let mut lexical = LexicalPath::default();
        for component in path.components() {
            match component {
                Component::Prefix(_) | Component::RootDir => lexical.root.push(component),
                Component::CurDir => {}
                Component::ParentDir => {
                    if lexical.names.pop().is_none() && lexical.root.as_os_str().is_empty() {
                        lexical.climbs += 1;
                    }
                }
                Component::Normal(name) => lexical.names.push(name),
            }
        }
        lexical
    }

    /// Whether the path starts from a root rather than a relative start.
    pub fn is_rooted(&self) -> bool {
        !self.root.as_os_str().is_empty()
    }

    /// The path with the `..` that climb above its start dropped (what `..`
    /// at `/` means): `/a/../../b` is `/b`, `../x` is `x`; empty for `.`.
    pub fn clamped(&self) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(&self.names);
        path
    }

    /// The path as one inside its relative start: `None` when it is rooted or
    /// climbs above the start. Empty for the start itself.
    pub fn inside(&self) -> Option<PathBuf> {
        (!self.is_rooted() && self.climbs == 0).then(|| self.names.iter().collect())
    }

    /// The path with the `..` that climb above its start kept, like Go's
    /// `filepath.Clean` (`../x` stays, `a/../b` is `b`), except that the
    /// start itself is empty rather than `.`.
    pub fn cleaned(&self) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(std::iter::repeat_n(OsStr::new(".."), self.climbs));
        path.extend(&self.names);
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexical(path: &str) -> LexicalPath<'_> {
        LexicalPath::of(Path::new(path))
    }

    #[test]
    fn dots_and_separators_go_by_spelling() {
        for (path, clamped, cleaned, inside) in [
            ("./a", "a", "a", Some("a")),
            ("a/../b", "b", "b", Some("b")),
            ("a/./b//c/", "a/b/c", "a/b/c", Some("a/b/c")),
            ("../x", "x", "../x", None),
            ("a/../../b/..", "", "..", None),
            ("/abs/./x", "/abs/x", "/abs/x", None),
            ("/a/../../b", "/b", "/b", None),
            ("/..", "/", "/", None),
            ("//a", "/a", "/a", None),
            ("", "", "", Some("")),
            (".", "", "", Some("")),
            ("a/..", "", "", Some("")),
            ("dir/", "dir", "dir", Some("dir")),
        ] {
            let lexical = lexical(path);
            assert_eq!(lexical.clamped(), Path::new(clamped), "clamped {path:?}");
            assert_eq!(lexical.cleaned(), Path::new(cleaned), "cleaned {path:?}");
            assert_eq!(
                lexical.inside(),
                inside.map(PathBuf::from),
                "inside {path:?}"
            );
        }
    }

    #[test]
    fn the_parts_stay_apart() {
        let path = lexical("../../a/./b/..");
        assert!(!path.is_rooted());
        assert_eq!(path.climbs, 2);
        assert_eq!(path.names, [OsStr::new("a")]);
        let path = lexical("/../a");
        assert_eq!(path.root, Path::new("/"));
        assert_eq!(path.climbs, 0);
    }
}
