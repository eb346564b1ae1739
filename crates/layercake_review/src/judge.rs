//! The budget's verdict on an image.

use layercake_config::Budget;
use layercake_report::{BudgetReport, BudgetVerdict, BudgetViolation, SideReport, SideStatus};

/// The budget's verdict on base and head (`budget` need not set limits:
/// then nothing is judged and the verdict says so by its absence).
pub(crate) fn budget(
    base: &SideReport,
    head: &SideReport,
    budget: &Budget,
) -> Option<BudgetReport> {
    if !budget.has_limits() {
        return None;
    }
    let limits = budget.limits();
    let pick = |side: &SideReport| {
        if budget.compressed {
            side.compressed_bytes
        } else {
            side.size_bytes
        }
    };
    let Some(head_bytes) = pick(head).filter(|_| head.status == SideStatus::Built) else {
        return Some(BudgetReport {
            verdict: BudgetVerdict::NotMeasured,
            limits,
            violations: Vec::new(),
        });
    };
    let base_bytes = pick(base).filter(|_| base.status == SideStatus::Built);
    let violations: Vec<BudgetViolation> = budget
        .check(base_bytes, head_bytes)
        .into_iter()
        .map(|v| BudgetViolation {
            limit: v.limit.key().to_string(),
            allowed: v.allowed,
            actual: v.actual,
        })
        .collect();
    Some(BudgetReport {
        verdict: if violations.is_empty() {
            BudgetVerdict::Pass
        } else {
            BudgetVerdict::Fail
        },
        limits,
        violations,
    })
}
