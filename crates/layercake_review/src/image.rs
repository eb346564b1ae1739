//! The review of one image: both sides parsed, paired and linted, then built,
//! measured, compared and probed, then judged, and its report assembled.

use crate::compare::{self, AttributedLayers};
use crate::plan::{PlannedImage, shown};
use crate::probe;
use crate::request::{Failure, ProbeMode};
use crate::side::{self, CompressedScope, MeasuredSide, ParsedSide};
use crate::{BuildEnv, build_context};
use crate::{evidence, judge};
use layercake_build::BuildRequest;
use layercake_git::AffectedReason;
use layercake_lint::{FileReport, LintSettings, lint_source_in_context};
use layercake_model::DockerfilePairing;
use layercake_report::{
    BuildPackages, Change, DiffFinding, DroppedFinding, FileChanges, ImageReason, ImageReport,
    LayerDelta, LintedVersion, ProbeReport, SideReport, SideStatus, StageDelta, StageFindings,
    StageScope, WastedPath,
};
use std::path::Path;

/// One image reviewed: its report, why it fails the change (if it does),
/// and head's lint results.
pub(crate) struct ImageReview {
    pub report: ImageReport,
    pub failures: Vec<Failure>,
    pub head_lint: Option<FileReport>,
}

/// Both sides of one image, parsed, and how they pair.
struct Sides<'a> {
    base: Option<&'a ParsedSide>,
    head: Option<&'a ParsedSide>,
    pairing: Option<&'a DockerfilePairing>,
}

/// What building and reading both sides showed, before it goes into the
/// image's report.
#[derive(Default)]
struct Measurements {
    base: Option<SideReport>,
    head: Option<SideReport>,
    delta_bytes: Option<i64>,
    compressed_delta_bytes: Option<i64>,
    own_compressed_delta_bytes: Option<i64>,
    layer_deltas: Vec<LayerDelta>,
    stage_deltas: Vec<StageDelta>,
    files: Option<FileChanges>,
    wasted: Vec<WastedPath>,
    build_packages: Option<BuildPackages>,
    probe: Option<ProbeReport>,
}

/// Reviews one image. Never fails: what goes wrong is in the report.
pub(crate) fn review_image(
    planned: &PlannedImage,
    head_root: &Path,
    env: Option<&BuildEnv<'_>>,
    index: usize,
    scope: StageScope,
) -> ImageReview {
    let target = &planned.affected.target;
    // Both sides parsed once, as the build sees them (target, arguments,
    // platform); the lint, the pairing and the measurements all use them.
    let parsed = |text: &Option<String>| {
        text.as_deref().map(|text| {
            ParsedSide::new(
                text.to_string(),
                target.target.as_deref(),
                &target.build_args,
                target.platform.as_deref(),
            )
        })
    };
    let base_parsed = parsed(&planned.base_text);
    let head_parsed = parsed(&planned.head_text);
    let pairing = match (&base_parsed, &head_parsed) {
        (Some(base), Some(head)) => Some(DockerfilePairing::new(base.version(), head.version())),
        _ => None,
    };
    let mut lint_settings = planned.settings.lint.clone();
    if lint_settings.target.is_none() {
        lint_settings.target = target.target.clone();
    }
    let lint = |path: &Path, side: &Option<ParsedSide>, root: Option<&Path>| {
        side.as_ref()
            .map(|side| lint_one(path, &side.source, &lint_settings, root, &target.context))
    };
    let head_lint = lint(&planned.head_path, &head_parsed, Some(head_root));
    let base_lint = lint(&planned.base_path, &base_parsed, env.map(|e| e.base_root));
    let classified = layercake_report::classify(
        linted(base_lint.as_ref(), base_parsed.as_ref()),
        linted(head_lint.as_ref(), head_parsed.as_ref()),
        pairing.as_ref(),
        scope,
    );
    let mut findings = classified.findings;
    let mut dropped = Vec::new();

    let sides = Sides {
        base: base_parsed.as_ref(),
        head: head_parsed.as_ref(),
        pairing: pairing.as_ref(),
    };
    let measurements = match env {
        Some(env) => measure(planned, env, index, &sides, &mut findings, &mut dropped),
        None => Measurements::default(),
    };
    let unbuilt = |present: bool| {
        SideReport::skipped(
            present,
            match (present, env.is_some()) {
                (false, _) => "no Dockerfile on this side",
                (true, true) => "not built",
                (true, false) => "not built (lint-only report)",
            },
        )
    };
    let base = measurements
        .base
        .unwrap_or_else(|| unbuilt(planned.base_text.is_some()));
    let head = measurements
        .head
        .unwrap_or_else(|| unbuilt(planned.head_text.is_some()));
    let budget = env.and_then(|_| judge::budget(&base, &head, &planned.settings.budget));

    let dockerfile = shown(&planned.head_path);
    let mut failures = Vec::new();
    if findings
        .iter()
        .any(|f| f.change == Change::New && planned.settings.fail_on.fails(f.severity))
    {
        failures.push(Failure::NewFindings {
            dockerfile: dockerfile.clone(),
        });
    }
    // A pull request that breaks its image's build fails the check.
    if head.status == SideStatus::Failed {
        failures.push(Failure::HeadBuildFailed {
            dockerfile: dockerfile.clone(),
        });
    }
    if budget.as_ref().is_some_and(|b| b.failed()) {
        failures.push(Failure::BudgetExceeded {
            dockerfile: dockerfile.clone(),
        });
    }

    let (reason, renamed_from, changed_paths, changed_path_count) = match &planned.affected.reason {
        AffectedReason::DockerfileAdded => (ImageReason::DockerfileAdded, None, None, None),
        AffectedReason::DockerfileDeleted => (ImageReason::DockerfileDeleted, None, None, None),
        AffectedReason::DockerfileModified => (ImageReason::DockerfileModified, None, None, None),
        AffectedReason::DockerfileRenamed { from } => (
            ImageReason::DockerfileRenamed,
            Some(shown(from)),
            None,
            None,
        ),
        AffectedReason::ContextChanged { paths, count } => (
            ImageReason::ContextChanged,
            None,
            Some(paths.iter().map(|p| shown(p)).collect()),
            Some(*count),
        ),
    };
    let report = ImageReport {
        dockerfile,
        context: shown(&target.context),
        target: target.target.clone(),
        platform: target.platform.clone(),
        reason,
        renamed_from,
        changed_paths,
        changed_path_count,
        wasted_bytes: head.wasted.as_ref().map(|w| w.bytes),
        base,
        head,
        delta_bytes: measurements.delta_bytes,
        compressed_delta_bytes: measurements.compressed_delta_bytes,
        own_compressed_delta_bytes: measurements.own_compressed_delta_bytes,
        layer_deltas: measurements.layer_deltas,
        stage_deltas: measurements.stage_deltas,
        files: measurements.files,
        wasted: measurements.wasted,
        build_packages: measurements.build_packages,
        budget,
        findings,
        findings_outside_target: classified
            .outside_target
            .into_iter()
            .map(|(stage, findings)| StageFindings { stage, findings })
            .collect(),
        dropped,
        probe: measurements.probe,
    };
    ImageReview {
        report,
        failures,
        head_lint,
    }
}

fn linted<'a>(
    lint: Option<&'a FileReport>,
    side: Option<&'a ParsedSide>,
) -> Option<LintedVersion<'a>> {
    Some(LintedVersion {
        lint: lint?,
        version: side?.version(),
    })
}

/// Lints one side; with its checkout at hand, the rules see the build context too.
fn lint_one(
    path: &Path,
    text: &str,
    settings: &LintSettings,
    root: Option<&Path>,
    context: &Path,
) -> FileReport {
    let info = root.and_then(|root| {
        build_context::read_build_context_at(&root.join(path), &root.join(context), |shown| {
            shown
                .strip_prefix(root)
                .map_or_else(|_| shown.to_path_buf(), Path::to_path_buf)
        })
    });
    lint_source_in_context(&shown(path), text, settings, info.as_ref())
}

/// Builds and measures both sides, compares them, probes head, and marks
/// `findings` with what the build showed (moving the refuted ones to
/// `dropped`).
fn measure(
    planned: &PlannedImage,
    env: &BuildEnv<'_>,
    index: usize,
    sides: &Sides<'_>,
    findings: &mut Vec<DiffFinding>,
    dropped: &mut Vec<DroppedFinding>,
) -> Measurements {
    let target = &planned.affected.target;
    let request = |root: &Path, dockerfile: &Path, side: &str| BuildRequest {
        context: root.join(&target.context),
        dockerfile: root.join(dockerfile),
        target: target.target.clone(),
        build_args: target
            .build_args
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        platform: target.platform.clone(),
        secrets: planned.secrets.clone(),
        tag: format!("layercake-diff/{}-{index}:{side}", env.run_id),
        timeout: env.options.timeout,
        no_cache: false,
    };
    let title = |side: &str| format!("{side} {}", shown(&planned.head_path));
    let (base_parsed, head_parsed) = (sides.base, sides.head);
    let base_request = request(env.base_root, &planned.base_path, "base");
    let head_request = request(env.head_root, &planned.head_path, "head");
    let cache = env.options.image_cache.as_ref();
    // Base builds first, so head finds base's steps in BuildKit's cache;
    // base's image is read while head builds.
    let build = |request: &BuildRequest, parsed: &ParsedSide, side: &str| {
        side::build_side(env.docker, request, parsed, title(side), env.progress)
    };
    let base_built = base_parsed.map(|p| build(&base_request, p, "base"));
    let (mut base, head_built) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            base_built
                .zip(base_parsed)
                .map(|(built, parsed)| side::read_side(env.docker, built, parsed, None, cache))
        });
        let head_built = head_parsed.map(|p| build(&head_request, p, "head"));
        let base = reading.join().unwrap_or_else(|_| {
            Some(MeasuredSide::failed(SideReport::failed(
                "reading the built image stopped unexpectedly",
            )))
        });
        (base, head_built)
    });
    // Head's read skips the layers base's read already measured.
    let previous = base.as_ref().and_then(|side| side.image.as_ref());
    let mut head = head_built
        .zip(head_parsed)
        .map(|(built, parsed)| side::read_side(env.docker, built, parsed, previous, cache));
    let budget = &planned.settings.budget;
    let scope = if budget.compressed && budget.has_limits() {
        CompressedScope::Whole
    } else if env.options.compressed_base_images {
        CompressedScope::Changed
    } else {
        CompressedScope::ChangedAboveBaseImages
    };
    side::measure_compressed(env.docker, base.as_mut(), head.as_mut(), scope, cache);

    let mut measured = Measurements {
        base: base.as_ref().map(|side| side.report.clone()),
        head: head.as_ref().map(|side| side.report.clone()),
        ..Measurements::default()
    };
    let base_image = base.as_ref().and_then(|s| s.image.as_ref());
    let head_image = head.as_ref().and_then(|s| s.image.as_ref());
    let base_layers = AttributedLayers::of(base.as_ref(), base_parsed);
    let head_layers = AttributedLayers::of(head.as_ref(), head_parsed);
    if let (Some(base_image), Some(base_layers), Some(report)) =
        (base_image, base_layers, measured.base.as_mut())
    {
        report.wasted = Some(compare::wasted(base_image, base_layers.base_image_layers()).0);
    }
    if let (Some(head_image), Some(head_layers), Some(report)) =
        (head_image, head_layers, measured.head.as_mut())
    {
        if let Some(base_image) = base_image {
            measured.delta_bytes = Some(
                compare::signed(head_image.size_bytes) - compare::signed(base_image.size_bytes),
            );
            measured.compressed_delta_bytes =
                layercake_image::compressed_delta(&base_image.layers, &head_image.layers);
            measured.files = Some(compare::file_changes(base_image, head_image));
        }
        // The Dockerfile's own layers: against base's, or against nothing for
        // an added Dockerfile (not for a base whose build failed).
        if base_image.is_some() || planned.base_text.is_none() {
            let base_own = base.as_ref().map_or(&[][..], MeasuredSide::own_layers);
            let head_own = head.as_ref().map_or(&[][..], MeasuredSide::own_layers);
            measured.own_compressed_delta_bytes =
                layercake_image::compressed_delta(base_own, head_own);
        }
        measured.layer_deltas = compare::layer_deltas(base_layers, &head_layers, sides.pairing);
        measured.stage_deltas = compare::stage_deltas(base_layers, &head_layers, sides.pairing);
        let (summary, paths) = compare::wasted(head_image, head_layers.base_image_layers());
        report.wasted = Some(summary);
        measured.wasted = paths;
        measured.build_packages = evidence::build_packages(head_image);
    }
    if let Some(head) = &measured.head {
        evidence::apply_image(head, measured.build_packages.as_ref(), findings, dropped);
    }

    // The probe, on head, when a cache-ordering finding is there to test.
    let probed_rule = probe::probed_rule();
    let probed: Vec<&DiffFinding> = findings
        .iter()
        .filter(|f| f.code == probed_rule && f.change != Change::Fixed)
        .collect();
    let wants_probe = match env.options.probe {
        ProbeMode::Never => false,
        ProbeMode::Always => true,
        ProbeMode::WhenFindings => !probed.is_empty(),
    };
    if wants_probe
        && head_image.is_some()
        && let Some(head_parsed) = head_parsed
        && let Some(outcome) = probe::run(&probe::ProbeInput {
            docker: env.docker,
            request: &head_request,
            parsed: head_parsed,
            findings: &probed,
            progress: env.progress,
            title: title("head"),
        })
    {
        evidence::apply_probe(outcome.verdicts, findings, dropped);
        measured.probe = Some(outcome.report);
    }

    if !env.options.keep_images {
        let _ = env
            .docker
            .remove_images(&[&base_request.tag, &head_request.tag]);
    }
    measured
}
