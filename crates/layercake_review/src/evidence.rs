//! What the built images and the probe show about the findings: evidence
//! attached to the ones they confirm, and the ones they refute moved out of
//! the report's findings, each with why.

use crate::probe::{self, ProbeVerdict};
use layercake_image::ImageSummary;
use layercake_lint::Rule;
use layercake_lint::rules::{
    build_tools_in_final_stage::BuildToolsInFinalStage, runs_as_root::RunsAsRoot,
    single_stage_build::SingleStageBuild, toolchain_base_in_final_stage::ToolchainBaseInFinalStage,
};
use layercake_report::{
    BuildPackages, Change, DiffFinding, DroppedFinding, SideReport, SideStatus,
};

/// The build packages head's final image holds, when it holds any.
pub(crate) fn build_packages(head: &ImageSummary) -> Option<BuildPackages> {
    let packages = layercake_measure::build_packages(&head.installed_packages());
    let summary = packages.summary(layercake_report::format_bytes)?;
    Some(BuildPackages {
        count: packages.packages.len(),
        bytes: packages.bytes,
        largest: packages
            .packages
            .iter()
            .take(5)
            .map(|p| p.name.clone())
            .collect(),
        summary,
    })
}

/// What the built head image shows: the user it runs as (a base image that
/// already drops root makes the runs-as-root finding wrong) and the build
/// packages it holds (evidence for the multi-stage findings).
pub(crate) fn apply_image(
    head: &SideReport,
    packages: Option<&BuildPackages>,
    findings: &mut Vec<DiffFinding>,
    dropped: &mut Vec<DroppedFinding>,
) {
    if head.status != SideStatus::Built {
        return;
    }
    if let Some(user) = head.user.as_deref()
        && !is_root(user)
    {
        let why = format!("the built image runs as user {user}, set by its base image");
        drop_findings(findings, dropped, RunsAsRoot.meta().code, None, &why);
    }
    if let Some(packages) = packages {
        let multi_stage = [
            ToolchainBaseInFinalStage.meta().code,
            BuildToolsInFinalStage.meta().code,
            SingleStageBuild.meta().code,
        ];
        for finding in findings
            .iter_mut()
            .filter(|f| multi_stage.contains(&f.code.as_str()) && f.change != Change::Fixed)
        {
            finding
                .evidence
                .push(format!("measured: {}", packages.summary));
        }
    }
}

/// What the cache-bust probe decided, finding by finding (by line at head).
pub(crate) fn apply_probe(
    verdicts: Vec<(usize, ProbeVerdict)>,
    findings: &mut Vec<DiffFinding>,
    dropped: &mut Vec<DroppedFinding>,
) {
    let code = probe::probed_rule();
    for (line, verdict) in verdicts {
        match verdict {
            ProbeVerdict::Confirmed { evidence } => {
                for finding in findings
                    .iter_mut()
                    .filter(|f| f.code == code && f.line == line && f.change != Change::Fixed)
                {
                    finding.measured = true;
                    finding.evidence.push(evidence.clone());
                }
            }
            ProbeVerdict::Refuted { why } => {
                drop_findings(findings, dropped, code, Some(line), &why);
            }
        }
    }
}

/// Moves head findings (of `code`, at `line` if given) from `findings` to `dropped`.
fn drop_findings(
    findings: &mut Vec<DiffFinding>,
    dropped: &mut Vec<DroppedFinding>,
    code: &str,
    line: Option<usize>,
    why: &str,
) {
    findings.retain(|f| {
        let refuted =
            f.code == code && f.change != Change::Fixed && line.is_none_or(|l| f.line == l);
        if refuted {
            dropped.push(DroppedFinding {
                code: f.code.clone(),
                line: f.line,
                why: why.to_string(),
            });
        }
        !refuted
    });
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name.is_empty() || name == "root" || name == "0"
}
