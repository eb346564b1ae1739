//! Building one side of an image and measuring it.

use crate::progress::Progress;
use layercake_build::{
    AnalysisOrigin, BuildOutcome, BuildRequest, BuildStatus, BuildStep, Docker, FailureCause,
    ImageCache,
};
use layercake_image::{ImageSummary, LayerSummary, ReadOptions, differing_layers};
use layercake_measure::{LayerOrigin, StepMap, attribute_layers};
use layercake_model::{DockerfileModel, DockerfileVersion, ModelOptions};
use layercake_report::{BuildInfo, FailedStep, LayerReport, SideReport, SideStatus};
use layercake_syntax::{Dockerfile, LineIndex};
use std::collections::{BTreeMap, BTreeSet};

/// A Dockerfile as built on one side, parsed once for attribution.
pub struct ParsedSide {
    pub source: String,
    pub dockerfile: Dockerfile,
    pub model: DockerfileModel,
}

impl ParsedSide {
    pub fn new(
        source: String,
        target: Option<&str>,
        build_args: &BTreeMap<String, String>,
        platform: Option<&str>,
    ) -> ParsedSide {
        let dockerfile = layercake_syntax::parse(&source);
        let model = DockerfileModel::new(
            &dockerfile,
            &source,
            &ModelOptions {
                target: target.map(str::to_string),
                build_args: build_args.clone(),
                platform: platform.map(str::to_string),
                ..ModelOptions::default()
            },
        );
        ParsedSide {
            source,
            dockerfile,
            model,
        }
    }

    /// The parsed Dockerfile, as the pairing takes it.
    pub fn version(&self) -> DockerfileVersion<'_> {
        DockerfileVersion {
            dockerfile: &self.dockerfile,
            model: &self.model,
        }
    }

    /// How many BuildKit steps building the target runs (for the progress bar).
    pub fn expected_steps(&self) -> usize {
        let map = StepMap::new(&self.dockerfile, &self.model);
        self.model
            .stages
            .iter()
            .filter(|s| s.reaches_target)
            .map(|s| {
                s.instructions
                    .clone()
                    .filter(|&i| map.step_of(i).is_some())
                    .count()
            })
            .sum()
    }

    /// The instruction's stage label as BuildKit names it.
    pub fn stage_label(&self, instruction: usize) -> Option<String> {
        let stage = self.model.stage_of_instruction(instruction)?;
        let stage = self.model.stages.get(stage)?;
        Some(match &stage.name {
            Some(name) => name.written.text.clone(),
            None => format!("stage-{}", stage.index),
        })
    }

    /// 1-based first and last line of an instruction.
    pub fn lines(&self, instruction: usize) -> Option<(usize, usize)> {
        let range = self.dockerfile.instructions.get(instruction)?.range;
        let index = LineIndex::new(&self.source);
        Some((
            index.line_of(range.start()),
            index.line_of(range.end().saturating_sub(1).max(range.start())),
        ))
    }

    /// The instruction's first line as written, whitespace collapsed and shortened.
    pub fn instruction_text(&self, instruction: usize) -> String {
        let Some(found) = self.dockerfile.instructions.get(instruction) else {
            return String::new();
        };
        let first = found
            .range
            .slice(&self.source)
            .lines()
            .next()
            .unwrap_or("")
            .trim_end()
            .trim_end_matches('\\')
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        shorten(&first, 100)
    }
}

pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// One side, built and read.
pub struct MeasuredSide {
    pub report: SideReport,
    pub image: Option<ImageSummary>,
    /// Where each of `report.layers` comes from.
    pub origins: Vec<LayerOrigin>,
    /// The built image's ID, when it was read.
    pub image_id: Option<String>,
}

/// One side, built and not read yet.
pub enum BuiltSide {
    /// The build made this image.
    Image {
        image_id: String,
        build: Box<BuildInfo>,
    },
    /// The build failed or timed out: the side as the report has it.
    Failed(Box<MeasuredSide>),
}

impl MeasuredSide {
    /// A side that was not measured, as `report` says.
    pub fn failed(report: SideReport) -> MeasuredSide {
        MeasuredSide {
            report,
            image: None,
            origins: Vec::new(),
            image_id: None,
        }
    }
}

/// Builds `request`. A failed build is a `failed` side, not an error.
pub fn build_side(
    docker: &Docker,
    request: &BuildRequest,
    parsed: &ParsedSide,
    title: String,
    progress: &dyn Progress,
) -> BuiltSide {
    let mut bar = progress.build(title, parsed.expected_steps());
    let outcome = docker.build(request, &mut |event| bar.on_event(event));
    let build = build_info(&outcome);
    let image_id = match &outcome.status {
        BuildStatus::Built { image_id } => image_id.clone(),
        BuildStatus::Failed { exit_code, message } => {
            bar.finish(&format!(
                "failed after {:.1} s",
                outcome.duration.as_secs_f64()
            ));
            let failed_step = outcome
                .cause
                .as_ref()
                .and_then(|cause| failed_step(parsed, cause));
            let reason = match &failed_step {
                Some(step) => format!("the build failed {}", step.describe()),
                None => format!("the build failed: {message}"),
            };
            let mut report = SideReport::skipped(true, reason);
            report.status = SideStatus::Failed;
            report.build = Some(BuildInfo {
                exit_code: *exit_code,
                error: Some(message.clone()),
                failed_step,
                ..build
            });
            return BuiltSide::Failed(Box::new(MeasuredSide::failed(report)));
        }
        BuildStatus::TimedOut { after } => {
            bar.finish(&format!("timed out after {:.0} s", after.as_secs_f64()));
            let mut report = SideReport::skipped(
                true,
                format!(
                    "the build timed out after {:.0} s (--timeout)",
                    after.as_secs_f64()
                ),
            );
            report.status = SideStatus::Failed;
            report.build = Some(build);
            return BuiltSide::Failed(Box::new(MeasuredSide::failed(report)));
        }
    };
    bar.finish(&format!(
        "built in {:.1} s ({} steps cached, {} run)",
        outcome.duration.as_secs_f64(),
        build.cached_steps,
        build.executed_steps
    ));
    BuiltSide::Image {
        image_id,
        build: Box::new(build),
    }
}

/// Reads the image a build made and ties its layers to `parsed`, skipping
/// the layers `previous` (the other side's image) already read. An
/// unreadable image is a `failed` side, not an error.
pub fn read_side(
    docker: &Docker,
    built: BuiltSide,
    parsed: &ParsedSide,
    previous: Option<&ImageSummary>,
    cache: Option<&ImageCache>,
) -> MeasuredSide {
    let (image_id, build) = match built {
        BuiltSide::Image { image_id, build } => (image_id, *build),
        BuiltSide::Failed(side) => return *side,
    };
    // Head shares most layers with base: those are not read twice; an image
    // read before (the same ID) is not read at all. Compressed sizes wait for
    // `measure_compressed`, which knows both sides.
    let read = docker.scan_image_cached(&image_id, &ReadOptions::default(), previous, cache);
    let (image, origin) = match read {
        Ok(read) => read,
        Err(error) => {
            let mut report =
                SideReport::skipped(true, format!("the built image could not be read: {error}"));
            report.status = SideStatus::Failed;
            report.build = Some(build);
            return MeasuredSide::failed(report);
        }
    };
    let (layers, origins) = layer_reports(parsed, &image);
    let report = SideReport {
        status: SideStatus::Built,
        dockerfile_present: true,
        reason: None,
        size_bytes: Some(image.size_bytes),
        compressed_bytes: image.compressed_bytes,
        user: image.config.user.clone(),
        image_from_cache: Some(origin == AnalysisOrigin::Cache),
        layers,
        wasted: None,
        build: Some(build),
    };
    MeasuredSide {
        report,
        image: Some(image),
        origins,
        image_id: Some(image_id),
    }
}

/// Which layers' compressed sizes a review measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressedScope {
    /// Every layer of both sides: a budget judges compressed sizes.
    Whole,
    /// The layers base and head do not share, the base images' included.
    Changed,
    /// The layers base and head do not share above their base images. A
    /// changed base image (a bump, another base) is most of the bytes and of
    /// the time to deflate them, and its registry publishes its compressed
    /// size; the Dockerfile's own layers are what only a build can tell.
    ChangedAboveBaseImages,
}

impl MeasuredSide {
    /// The layers above the base image's.
    pub fn own_layers(&self) -> &[LayerSummary] {
        let Some(image) = &self.image else {
            return &[];
        };
        let base = self
            .origins
            .iter()
            .take_while(|o| matches!(o, LayerOrigin::BaseImage { .. }))
            .count();
        image.layers.get(base..).unwrap_or(&[])
    }
}

/// Measures the compressed sizes the report needs, and only those (see
/// [`CompressedScope`]); an image whose other side has no Dockerfile counts
/// every layer in the scope as changed (the whole image is the change), and
/// nothing is measured for an image whose other side failed. Sizes measured
/// before (kept in `cache`) are not measured again. A side's
/// `compressed_bytes` stays `None` unless all its layers' are known.
pub fn measure_compressed(
    docker: &Docker,
    base: Option<&mut MeasuredSide>,
    head: Option<&mut MeasuredSide>,
    scope: CompressedScope,
    cache: Option<&ImageCache>,
) {
    let ids = |layers: &[LayerSummary]| -> BTreeSet<String> {
        layers
            .iter()
            .filter_map(|layer| layer.diff_id.clone())
            .collect()
    };
    fn layers_in_scope(side: &MeasuredSide, scope: CompressedScope) -> &[LayerSummary] {
        match scope {
            CompressedScope::ChangedAboveBaseImages => side.own_layers(),
            _ => side.image.as_ref().map_or(&[], |i| i.layers.as_slice()),
        }
    }
    let (base_absent, head_absent) = (base.is_none(), head.is_none());
    let sides: Vec<&mut MeasuredSide> = base.into_iter().chain(head).collect();
    let built: Vec<&MeasuredSide> = sides
        .iter()
        .filter(|s| s.image.is_some())
        .map(|s| &**s)
        .collect();
    let wanted = match (built.as_slice(), base_absent || head_absent) {
        ([base, head], _) if scope == CompressedScope::Whole => {
            &ids(layers_in_scope(base, scope)) | &ids(layers_in_scope(head, scope))
        }
        ([base, head], _) => {
            differing_layers(layers_in_scope(base, scope), layers_in_scope(head, scope))
        }
        ([one], alone) if alone || scope == CompressedScope::Whole => {
            ids(layers_in_scope(one, scope))
        }
        _ => BTreeSet::new(),
    };
    if wanted.is_empty() {
        return;
    }
    let mut sides: Vec<(String, &mut ImageSummary, &mut SideReport)> = sides
        .into_iter()
        .filter_map(|side| {
            let MeasuredSide {
                report,
                image,
                image_id,
                ..
            } = side;
            Some((image_id.clone()?, image.as_mut()?, report))
        })
        .collect();
    let mut images: Vec<(&str, &mut ImageSummary)> = sides
        .iter_mut()
        .map(|(id, image, _)| (id.as_str(), &mut **image))
        .collect();
    // A deflate that fails leaves those sizes unknown (`null` in the report);
    // everything else stands.
    let _ = docker.measure_compressed(&mut images, &wanted, &ReadOptions::default(), cache);
    for (_, image, report) in &mut sides {
        report.compressed_bytes = image.compressed_bytes;
        for layer in &mut report.layers {
            if let Some(measured) = image.layers.get(layer.index) {
                layer.compressed_bytes = measured.compressed_bytes;
            }
        }
    }
}

fn build_info(outcome: &BuildOutcome) -> BuildInfo {
    let counted: Vec<&BuildStep> = outcome
        .steps
        .iter()
        .filter(|s| s.position.is_some())
        .collect();
    let failed = !matches!(outcome.status, BuildStatus::Built { .. });
    // A FROM is resolved, not run (as the probe counts it): BuildKit reports
    // a local base image `CACHED` on one build and `DONE` on the next.
    let reused = |step: &BuildStep| {
        step.cached
            || step
                .name
                .split_whitespace()
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case("FROM"))
    };
    BuildInfo {
        duration_seconds: round(outcome.duration.as_secs_f64()),
        cached_steps: counted.iter().filter(|s| reused(s)).count(),
        executed_steps: counted.iter().filter(|s| !reused(s)).count(),
        exit_code: None,
        error: None,
        log_tail: if failed {
            outcome.log_tail.clone()
        } else {
            Vec::new()
        },
        cause: outcome
            .cause
            .as_ref()
            .map(|cause| cause.lines.clone())
            .unwrap_or_default(),
        failed_step: None,
    }
}

/// The step the build failed at, tied to its instruction's lines when BuildKit's
/// label names one of this side's.
fn failed_step(parsed: &ParsedSide, cause: &FailureCause) -> Option<FailedStep> {
    let step = cause.step.as_ref()?;
    let instruction = step.position.and_then(|(position, _)| {
        StepMap::new(&parsed.dockerfile, &parsed.model).instruction_of_step(
            &parsed.dockerfile,
            step.stage.as_deref().unwrap_or(""),
            position,
            &step.name,
        )
    });
    let lines = instruction.and_then(|i| parsed.lines(i));
    Some(FailedStep {
        instruction: match instruction {
            Some(i) => parsed.instruction_text(i),
            None => shorten(
                &step.name.split_whitespace().collect::<Vec<_>>().join(" "),
                100,
            ),
        },
        stage: step.stage.clone(),
        line_start: lines.map(|l| l.0),
        line_end: lines.map(|l| l.1),
        exit_code: cause.exit_code,
    })
}

/// Seconds to the millisecond, so reports don't carry float noise.
pub fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The image's layers, each tied to its instruction, and where each comes from.
fn layer_reports(
    parsed: &ParsedSide,
    image: &ImageSummary,
) -> (Vec<LayerReport>, Vec<LayerOrigin>) {
    let Some(target) = parsed.model.target else {
        return (Vec::new(), Vec::new());
    };
    let created_by: Vec<Option<&str>> = image
        .layers
        .iter()
        .map(|l| l.created_by.as_deref())
        .collect();
    let origins = attribute_layers(&parsed.dockerfile, &parsed.model, target, &created_by);
    let reports = image
        .layers
        .iter()
        .zip(&origins)
        .map(|(layer, origin)| {
            let instruction = origin.instruction();
            let lines = parsed.lines(instruction);
            LayerReport {
                index: layer.index,
                line_start: lines.map(|l| l.0),
                line_end: lines.map(|l| l.1),
                instruction: parsed.instruction_text(instruction),
                stage: parsed.stage_label(instruction),
                from_base_image: matches!(origin, LayerOrigin::BaseImage { .. }),
                size_bytes: layer.size_bytes,
                compressed_bytes: layer.compressed_bytes,
            }
        })
        .collect();
    (reports, origins)
}
