//! Applying fixes to source text.

use crate::finding::{Edit, Fix};

/// Applies the edits of `fixes` to `source`, in order of position. A fix
/// whose edits overlap an earlier applied fix is skipped (a second pass picks
/// it up). Returns the new text and how many fixes were applied.
pub fn apply_fixes<'a>(source: &str, fixes: impl IntoIterator<Item = &'a Fix>) -> (String, usize) {
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut applied = 0;
    let mut fixes: Vec<&Fix> = fixes.into_iter().collect();
    fixes.sort_by_key(|f| f.edits.iter().map(|e| e.range.start).min().unwrap_or(0));
    for fix in fixes {
        let in_bounds = fix.edits.iter().all(|e| {
            e.range.end() <= source.len()
                && source.is_char_boundary(e.range.start())
                && source.is_char_boundary(e.range.end())
        });
        let overlaps = fix.edits.iter().any(|e| {
            accepted.iter().any(|a| {
                e.range.start() < a.range.end() && a.range.start() < e.range.end()
                    || (e.range.is_empty() || a.range.is_empty()) && e.range.start == a.range.start
            })
        });
        if in_bounds && !overlaps {
            accepted.extend(&fix.edits);
            applied += 1;
        }
    }
    accepted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for edit in accepted {
        out.push_str(&source[at..edit.range.start()]);
        out.push_str(&edit.replacement);
        at = edit.range.end();
    }
    out.push_str(&source[at..]);
    (out, applied)
}
