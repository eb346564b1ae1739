//! A report read from somewhere the publisher does not trust (an artifact a
//! pull request's workflow uploaded): checked and cut down to size before
//! anything of it is posted. The renderers escape it as well.

use crate::types::{DiffReport, REPORT_VERSION};

/// The largest report file accepted, in bytes.
pub const MAX_REPORT_BYTES: usize = 8 * 1024 * 1024;
/// The most images kept.
pub const MAX_IMAGES: usize = 200;
/// The most findings kept per image.
pub const MAX_FINDINGS: usize = 1000;
/// The most characters kept of any one text field.
pub const MAX_TEXT: usize = 4000;

/// Parses and bounds an untrusted report; the error says what is wrong.
pub fn read_untrusted_report(bytes: &[u8]) -> Result<DiffReport, String> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(format!(
            "the report is {} bytes; at most {MAX_REPORT_BYTES} are accepted",
            bytes.len()
        ));
    }
    let mut report: DiffReport = serde_json::from_slice(bytes)
        .map_err(|e| format!("the report is not a layercake report: {e}"))?;
    if report.version != REPORT_VERSION {
        return Err(format!(
            "the report has version {}; this layercake reads version {REPORT_VERSION}",
            report.version
        ));
    }
    let sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !sha(&report.head.sha) || !sha(&report.merge_base) {
        return Err("the report's commits are not 40-digit SHAs".to_string());
    }
    report.images.truncate(MAX_IMAGES);
    for image in &mut report.images {
        image.findings.truncate(MAX_FINDINGS);
        for text in [&mut image.dockerfile, &mut image.context] {
            cut(text);
        }
        for finding in &mut image.findings {
            for text in [
                &mut finding.file,
                &mut finding.code,
                &mut finding.name,
                &mut finding.message,
            ] {
                cut(text);
            }
            finding.evidence.truncate(10);
            finding.evidence.iter_mut().for_each(cut);
            if let Some(diff) = &mut finding.fix_diff {
                cut(diff);
            }
            if let Some(suggestion) = &mut finding.suggestion {
                cut(&mut suggestion.text);
            }
        }
        for side in [&mut image.base, &mut image.head] {
            side.layers.truncate(500);
            side.layers.iter_mut().for_each(|l| cut(&mut l.instruction));
            if let Some(reason) = &mut side.reason {
                cut(reason);
            }
            if let Some(build) = &mut side.build {
                build.log_tail.truncate(40);
                build.log_tail.iter_mut().for_each(cut);
                build.cause.truncate(40);
                build.cause.iter_mut().for_each(cut);
                if let Some(step) = &mut build.failed_step {
                    cut(&mut step.instruction);
                    step.stage.iter_mut().for_each(cut);
                }
            }
        }
        image.layer_deltas.truncate(200);
        image.layer_deltas.iter_mut().for_each(|d| {
            cut(&mut d.instruction);
            d.base_instruction.iter_mut().for_each(cut);
        });
        image.dropped.truncate(100);
        image.dropped.iter_mut().for_each(|d| cut(&mut d.why));
    }
    Ok(report)
}

fn cut(text: &mut String) {
    if text.chars().count() > MAX_TEXT {
        *text = text.chars().take(MAX_TEXT).collect();
    }
}
