//! The report's JSON shape (`docs/diff-report.md`). Within a `version`,
//! fields are only added; removing or renaming one bumps it.

use layercake_lint::{Applicability, Category, Severity};
use serde::{Deserialize, Serialize};

/// The `version` field this crate writes.
pub const REPORT_VERSION: u32 = 1;

/// What `layercake diff` found: one entry per affected image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiffReport {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// The base as asked for.
    pub base: RefInfo,
    /// The head as asked for.
    pub head: RefInfo,
    /// The commit head branched from: the "base" side of every comparison.
    pub merge_base: String,
    /// Whether images were built and measured.
    pub measured: bool,
    /// Why not, when `measured` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measured_reason: Option<String>,
    /// The Docker CLI and engine that built the images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<BuilderInfo>,
    /// The pull request the report is for, when `layercake action` made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestInfo>,
    /// The affected images, in Dockerfile path order.
    pub images: Vec<ImageReport>,
}

impl DiffReport {
    /// How many findings of all images are `change`.
    pub fn count(&self, change: Change) -> usize {
        self.images.iter().map(|image| image.count(change)).sum()
    }

    /// The new findings of all images, in image order.
    pub fn new_findings(&self) -> impl Iterator<Item = &DiffFinding> {
        self.images
            .iter()
            .flat_map(|image| &image.findings)
            .filter(|finding| finding.change == Change::New)
    }
}

impl ImageReport {
    /// The compressed change for a summary: the whole image's, else that of
    /// the Dockerfile's own layers (`own` true) when a changed base image's
    /// compressed size was not measured.
    pub fn compressed_change(&self) -> Option<(i64, bool)> {
        match (self.compressed_delta_bytes, self.own_compressed_delta_bytes) {
            (Some(whole), _) => Some((whole, false)),
            (None, Some(own)) => Some((own, true)),
            (None, None) => None,
        }
    }

    /// How many of the image's findings are `change`.
    pub fn count(&self, change: Change) -> usize {
        self.findings.iter().filter(|f| f.change == change).count()
    }
}

/// The pull request a report reviews.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestInfo {
    /// `owner/name` of the base repository.
    pub repository: String,
    /// The pull request's number.
    pub number: u64,
    /// The head commit the report was made for.
    pub head_sha: String,
}

/// A ref and the commit it named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefInfo {
    /// As given (`main`, `HEAD`, a SHA).
    #[serde(rename = "ref")]
    pub name: String,
    /// The full commit SHA.
    pub sha: String,
}

/// Which Docker built the images.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderInfo {
    /// The docker CLI used.
    pub binary: String,
    /// `buildx` or `docker-build` (the classic CLI with `DOCKER_BUILDKIT=1`).
    pub mode: BuilderMode,
    /// The engine's version.
    pub server_version: String,
}

/// How the images were built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuilderMode {
    /// `docker buildx build`.
    Buildx,
    /// The classic CLI with `DOCKER_BUILDKIT=1`.
    DockerBuild,
}

impl BuilderMode {
    /// `buildx` or `docker-build`.
    pub fn as_str(self) -> &'static str {
        match self {
            BuilderMode::Buildx => "buildx",
            BuilderMode::DockerBuild => "docker-build",
        }
    }
}

/// Why an image is in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageReason {
    /// The Dockerfile is new.
    DockerfileAdded,
    /// The Dockerfile is gone.
    DockerfileDeleted,
    /// The Dockerfile changed.
    DockerfileModified,
    /// The Dockerfile moved (`renamed_from` says from where).
    DockerfileRenamed,
    /// A file its build context sends changed.
    ContextChanged,
}

/// One image: a Dockerfile built for base and head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageReport {
    /// The Dockerfile at head (for a deleted one: at base), repository-relative.
    pub dockerfile: String,
    /// The build context, repository-relative (`.` for the root).
    pub context: String,
    /// `--target`, when not the last stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `--platform`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Why the image is in the report: `dockerfile-added`, `dockerfile-deleted`,
    /// `dockerfile-modified`, `dockerfile-renamed`, `context-changed`.
    pub reason: ImageReason,
    /// The base path of a renamed Dockerfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// For `context-changed`: the first changed paths in the context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_paths: Option<Vec<String>>,
    /// For `context-changed`: how many paths changed in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_path_count: Option<usize>,
    /// The image built from the merge-base.
    pub base: SideReport,
    /// The image built from head.
    pub head: SideReport,
    /// `head.size_bytes − base.size_bytes`, when both were built.
    #[serde(default)]
    pub delta_bytes: Option<i64>,
    /// The same for gzip sizes, when both were built: exact even when a
    /// side's `compressed_bytes` is `None` (the layers both sides hold add
    /// the same to both, so only the others are measured); `None` when the
    /// base image changed and its compressed size was not measured.
    #[serde(default)]
    pub compressed_delta_bytes: Option<i64>,
    /// The gzip size change of the Dockerfile's own layers (above the base
    /// image), when both were built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_compressed_delta_bytes: Option<i64>,
    /// Size change per Dockerfile instruction (base-image layers grouped under
    /// their `FROM`), largest change first; when both were built.
    #[serde(default)]
    pub layer_deltas: Vec<LayerDelta>,
    /// Size change per stage of the target's `FROM` chain.
    #[serde(default)]
    pub stage_deltas: Vec<StageDelta>,
    /// Files added, removed and grown between the two images.
    #[serde(default)]
    pub files: Option<FileChanges>,
    /// Bytes head's layers store that its final filesystem hides
    /// (overwritten or deleted by a later layer; N−1 copies of a file written
    /// N times): `head.wasted.bytes`, split there by who caused it.
    #[serde(default)]
    pub wasted_bytes: Option<u64>,
    /// The paths that waste the most, in head.
    #[serde(default)]
    pub wasted: Vec<WastedPath>,
    /// Build packages head's final image holds.
    #[serde(default)]
    pub build_packages: Option<BuildPackages>,
    /// The budget verdict.
    #[serde(default)]
    pub budget: Option<BudgetReport>,
    /// Lint findings of head and base, each marked new, fixed or unchanged,
    /// in the stages the target builds (every stage with `--all-stages`).
    pub findings: Vec<DiffFinding>,
    /// Head findings left out because they are in stages the target does not
    /// build (a `dev` stage), counted by stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings_outside_target: Vec<StageFindings>,
    /// Findings the built image or the probe showed to be wrong, left out of `findings`.
    #[serde(default)]
    pub dropped: Vec<DroppedFinding>,
    /// The cache-bust probe, when it ran.
    #[serde(default)]
    pub probe: Option<ProbeReport>,
}

/// What became of one side's build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SideStatus {
    /// Built and measured.
    Built,
    /// The build failed or timed out.
    Failed,
    /// Not built: no Dockerfile on this side, no Docker, or `--no-build`.
    Skipped,
}

/// One side (base or head) of an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideReport {
    /// Built, failed or skipped.
    pub status: SideStatus,
    /// Whether the Dockerfile exists on this side.
    pub dockerfile_present: bool,
    /// Why it was skipped or how it failed, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Sum of the layers' file sizes.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// Sum of the layers' gzip sizes (what a registry stores); `None` when
    /// not built, or when some layer's gzip size was not measured (see
    /// [`LayerReport::compressed_bytes`]).
    #[serde(default)]
    pub compressed_bytes: Option<u64>,
    /// The user the image runs as (`config.User`; `None` means root).
    #[serde(default)]
    pub user: Option<String>,
    /// Whether the image's analysis came from the image cache (kept when an
    /// image with the same ID was read before: this run read nothing of it);
    /// `None` when no image was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_from_cache: Option<bool>,
    /// The image's layers, base-most first.
    #[serde(default)]
    pub layers: Vec<LayerReport>,
    /// Bytes the image's layers store that its final filesystem hides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasted: Option<WastedSummary>,
    /// The build itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildInfo>,
}

impl SideReport {
    /// A side that was built but could not be measured, for `reason`.
    pub fn failed(reason: impl Into<String>) -> SideReport {
        SideReport {
            status: SideStatus::Failed,
            ..SideReport::skipped(true, reason)
        }
    }

    /// A side that was not built.
    pub fn skipped(dockerfile_present: bool, reason: impl Into<String>) -> SideReport {
        SideReport {
            status: SideStatus::Skipped,
            dockerfile_present,
            reason: Some(reason.into()),
            size_bytes: None,
            compressed_bytes: None,
            user: None,
            image_from_cache: None,
            layers: Vec::new(),
            wasted: None,
            build: None,
        }
    }
}

/// How a build went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// Wall time of the build (not of reading the image).
    pub duration_seconds: f64,
    /// Steps BuildKit took from its cache.
    pub cached_steps: usize,
    /// Steps BuildKit ran.
    pub executed_steps: usize,
    /// The CLI's exit status, for a failed build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// BuildKit's error, for a failed build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last lines of the build log, for a failed build (secrets redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// For a failed build, the lines of its whole log that say why, in the order
    /// printed (package managers' and BuildKit's errors, else the failed step's
    /// last lines; secrets redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cause: Vec<String>,
    /// For a failed build, the step that failed, when the log names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<FailedStep>,
}

/// The step a build failed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedStep {
    /// The instruction's first line as written (see [`LayerReport::instruction`]),
    /// or BuildKit's name for the step when it is no instruction of the Dockerfile
    /// (`[internal] load metadata for …`).
    pub instruction: String,
    /// The stage, as BuildKit names it (`build`, `stage-1`); absent in a
    /// single-stage build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// First line of the instruction in this side's Dockerfile.
    #[serde(default)]
    pub line_start: Option<usize>,
    /// Last line of the instruction.
    #[serde(default)]
    pub line_end: Option<usize>,
    /// The exit code of the step's command, when it ran one.
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// One layer of a built image, tied to the instruction that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Position in the image, from 0.
    pub index: usize,
    /// First line of the instruction (the `FROM` for base-image layers).
    pub line_start: Option<usize>,
    /// Last line of the instruction.
    pub line_end: Option<usize>,
    /// The instruction's first line as written (whitespace collapsed, shortened).
    pub instruction: String,
    /// The stage the instruction belongs to (`build`, or `stage-1` when unnamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Whether the layer came with the base image.
    pub from_base_image: bool,
    /// Sum of the layer's file sizes.
    pub size_bytes: u64,
    /// The layer's gzip size; `None` when it was not measured: a layer base
    /// and head both hold adds the same to both, so its size is measured
    /// only when something needs it (a budget on compressed sizes, or a
    /// measurement kept from an earlier run).
    #[serde(default)]
    pub compressed_bytes: Option<u64>,
}

/// How much one instruction's layers changed between base and head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDelta {
    /// The instruction's first line as written (see [`LayerReport::instruction`]).
    pub instruction: String,
    /// Its lines at head; `None` when the instruction is gone at head.
    pub line_start: Option<usize>,
    /// Last line at head.
    pub line_end: Option<usize>,
    /// The instruction at base, when head edited it (a bumped `FROM`, a `RUN`
    /// that installs one more package); for a removed instruction see
    /// `instruction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_instruction: Option<String>,
    /// Its first line at base; `None` when the instruction is new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_line_start: Option<usize>,
    /// Whether these are the base image's layers.
    pub from_base_image: bool,
    /// Bytes at base (0 when new).
    pub base_bytes: u64,
    /// Bytes at head (0 when removed).
    pub head_bytes: u64,
    /// `head_bytes − base_bytes`.
    pub delta_bytes: i64,
}

/// How much one stage of the target's `FROM` chain changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDelta {
    /// The stage's name, `stage-N`, or `base image` for what the root `FROM` pulls in.
    pub stage: String,
    /// Its name at base, when head renamed (or newly named) it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_stage: Option<String>,
    /// Bytes of the stage's own layers at base.
    pub base_bytes: u64,
    /// At head.
    pub head_bytes: u64,
    /// `head_bytes − base_bytes`.
    pub delta_bytes: i64,
}

/// Files that differ between the two images' final filesystems.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChanges {
    /// The largest paths only head has.
    pub added: Vec<FileChange>,
    /// The largest paths only base has.
    pub removed: Vec<FileChange>,
    /// The paths that grew the most.
    pub grown: Vec<FileChange>,
    /// The paths that shrank the most.
    #[serde(default)]
    pub shrunk: Vec<FileChange>,
    /// Changes by directory, largest first.
    pub directories: Vec<DirectoryChange>,
    /// How many paths were added, removed and grown in all (the lists are cut).
    pub added_count: usize,
    /// See `added_count`.
    pub removed_count: usize,
    /// See `added_count`.
    pub grown_count: usize,
    /// See `added_count`.
    #[serde(default)]
    pub shrunk_count: usize,
}

impl FileChanges {
    /// The listed changes of every kind, largest change first: `added`,
    /// `grown`, `shrunk` or `removed`, and the change.
    pub fn by_size(&self) -> Vec<(&'static str, &FileChange)> {
        let mut all: Vec<(&'static str, &FileChange)> = [
            ("added", &self.added),
            ("grown", &self.grown),
            ("shrunk", &self.shrunk),
            ("removed", &self.removed),
        ]
        .into_iter()
        .flat_map(|(kind, list)| list.iter().map(move |change| (kind, change)))
        .collect();
        all.sort_by(|a, b| {
            b.1.delta_bytes
                .unsigned_abs()
                .cmp(&a.1.delta_bytes.unsigned_abs())
                .then_with(|| a.1.path.cmp(&b.1.path))
        });
        all
    }

    /// How many paths changed in all.
    pub fn changed_count(&self) -> usize {
        self.added_count + self.grown_count + self.shrunk_count + self.removed_count
    }
}

/// One path's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Absolute path in the image.
    pub path: String,
    /// Its size where it exists (head for added and grown, base for removed).
    pub bytes: u64,
    /// The change in bytes (negative for removed).
    pub delta_bytes: i64,
}

/// Changes below one directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryChange {
    /// The directory (first two components).
    pub path: String,
    /// Net change in bytes.
    pub delta_bytes: i64,
    /// How many paths below it changed.
    pub changed_paths: usize,
}

/// Wasted space of one image: bytes its layers store that its final
/// filesystem hides (overwritten or deleted by a later layer; N−1 copies of a
/// file written N times).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedSummary {
    /// All of it.
    pub bytes: u64,
    /// How many paths waste space (all of them; lists are cut).
    pub paths: usize,
    /// The part the base image wastes by itself: copies its own layers
    /// hide, there before the Dockerfile's first instruction, which no change
    /// to the Dockerfile but another base image alters.
    pub base_image_bytes: u64,
}

impl WastedSummary {
    /// The part the Dockerfile's own layers cause.
    pub fn dockerfile_bytes(&self) -> u64 {
        self.bytes.saturating_sub(self.base_image_bytes)
    }
}

/// A path whose hidden copies waste space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedPath {
    /// Absolute path in the image.
    pub path: String,
    /// Layers that stored a copy.
    pub copies: u32,
    /// Bytes of the hidden copies.
    pub wasted_bytes: u64,
    /// Whether the final image deleted it.
    pub removed: bool,
    /// Whether all of its waste is the base image's own.
    #[serde(default)]
    pub in_base_image: bool,
}

/// Build packages in head's final image: the evidence attached to multi-stage findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPackages {
    /// How many.
    pub count: usize,
    /// Their installed size, summed.
    pub bytes: u64,
    /// The largest ones' names.
    pub largest: Vec<String>,
    /// One line for people: `gcc-12 and 40 more build packages in the final image: 310.2 MB`.
    pub summary: String,
}

/// The budget verdict of an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetReport {
    /// `pass`, `fail`, or `not-measured` (a side was not built).
    pub verdict: BudgetVerdict,
    /// The limits set, as written (`max-growth 10MB`, `max-growth-percent 5%`, `max-size 1GiB`).
    pub limits: Vec<String>,
    /// What went over.
    pub violations: Vec<BudgetViolation>,
}

impl BudgetReport {
    /// Whether the image is over budget.
    pub fn failed(&self) -> bool {
        self.verdict == BudgetVerdict::Fail
    }
}

/// The budget's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetVerdict {
    /// Within every limit.
    Pass,
    /// Over a limit.
    Fail,
    /// A side was not built, so nothing was judged.
    NotMeasured,
}

impl BudgetVerdict {
    /// `pass`, `fail` or `not-measured`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetVerdict::Pass => "pass",
            BudgetVerdict::Fail => "fail",
            BudgetVerdict::NotMeasured => "not-measured",
        }
    }
}

/// One limit that was exceeded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetViolation {
    /// `max-growth`, `max-growth-percent` or `max-size`.
    pub limit: String,
    /// The limit as written.
    pub allowed: String,
    /// What was measured.
    pub actual: String,
}

/// New, fixed or unchanged between base and head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only at head.
    New,
    /// Only at base.
    Fixed,
    /// At both.
    Unchanged,
}

impl Change {
    /// `new`, `fixed`, `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Fixed => "fixed",
            Change::Unchanged => "unchanged",
        }
    }
}

/// One finding: the fields of `layercake lint --format json`, plus `change`
/// and what the build showed about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffFinding {
    /// The Dockerfile.
    pub file: String,
    /// 1-based start line.
    pub line: usize,
    /// 1-based start column.
    pub column: usize,
    /// End line.
    pub end_line: usize,
    /// End column.
    pub end_column: usize,
    /// Rule code (`LC201`).
    pub code: String,
    /// Rule name.
    pub name: String,
    /// Rule category.
    pub category: Category,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The fix, as the lint JSON gives it.
    pub fix: Option<Fix>,
    /// The fix as a line diff of the file (`@@ … @@`, ` `, `-`, `+` lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_diff: Option<String>,
    /// The fix as the lines that replace one block of the file, when it is
    /// one block (what a review ```` ```suggestion ```` holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<SuggestedLines>,
    /// New, fixed or unchanged.
    pub change: Change,
    /// A stable identity across runs and pushes: a hash of the rule, the
    /// trimmed text of the flagged lines and its occurrence among equal ones
    /// (the key findings are matched by across base and head). Review
    /// comments carry it, so a re-run never posts the same one twice.
    #[serde(default)]
    pub fingerprint: String,
    /// Whether a measurement (the probe) confirmed it.
    #[serde(default)]
    pub measured: bool,
    /// What the built image or the probe showed, one sentence each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// Lines `start_line..=end_line` replaced by `text` (1-based, the side's file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedLines {
    /// First line replaced.
    pub start_line: usize,
    /// Last line replaced.
    pub end_line: usize,
    /// The new lines, without a final newline.
    pub text: String,
}

/// A fix, as the lint JSON gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// What it does.
    pub description: String,
    /// `safe`, `unsafe` or `display-only`.
    pub applicability: Applicability,
    /// The edits.
    pub edits: Vec<Edit>,
}

/// One edit of a fix (1-based lines and columns).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// Start line.
    pub start_line: usize,
    /// Start column.
    pub start_column: usize,
    /// End line.
    pub end_line: usize,
    /// End column.
    pub end_column: usize,
    /// The new text.
    pub replacement: String,
}

/// How many findings one stage has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageFindings {
    /// The stage's name, or `stage-N` when unnamed.
    pub stage: String,
    /// How many findings.
    pub findings: usize,
}

/// A finding left out because a measurement refuted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedFinding {
    /// Rule code.
    pub code: String,
    /// Its line at head.
    pub line: usize,
    /// What refuted it.
    pub why: String,
}

/// The cache-bust probe: one source file changed in a scratch copy of the
/// context, head rebuilt, and the steps that re-ran timed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// `ran`, `failed` (the rebuild failed), or `nothing-to-change` (the broad
    /// COPY takes only dependency manifests).
    pub status: ProbeStatus,
    /// The file changed, context-relative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the rebuild.
    #[serde(default)]
    pub duration_seconds: f64,
    /// Steps taken from the cache.
    #[serde(default)]
    pub cached_steps: usize,
    /// Steps that re-ran, in build order.
    #[serde(default)]
    pub rerun: Vec<ProbeStep>,
    /// Findings it confirmed (`LC201` at line 3), now marked measured.
    #[serde(default)]
    pub confirmed: Vec<String>,
    /// Findings it refuted, now dropped.
    #[serde(default)]
    pub refuted: Vec<String>,
}

/// How the probe went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeStatus {
    /// It rebuilt head with one file changed.
    Ran,
    /// The rebuild failed.
    Failed,
    /// The broad COPY takes only dependency manifests: nothing to change.
    NothingToChange,
}

/// A step the probe saw re-run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeStep {
    /// The instruction's first line at head.
    pub line: Option<usize>,
    /// The step as BuildKit names it.
    pub instruction: String,
    /// How long it took.
    pub seconds: f64,
}
