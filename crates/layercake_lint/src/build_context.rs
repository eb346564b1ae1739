//! What was seen of a Dockerfile's build context. The CLI reads the disk;
//! rules only look at this data.

/// The build context of one Dockerfile, as far as rules need it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildContextInfo {
    /// The context directory as shown to the user (relative when possible).
    pub dir: String,
    /// Names at the top of the context; directories end with `/`
    /// (e.g. `.git/`, `node_modules/`, `package.json`).
    pub entries: Vec<String>,
    /// The `.dockerignore` (or `<Dockerfile>.dockerignore`) that applies:
    /// its path as shown and its text; `None` when there is none.
    pub dockerignore: Option<(String, String)>,
}
