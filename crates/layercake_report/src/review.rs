//! Inline review comments: new findings on lines the pull request changed,
//! with ```` ```suggestion ```` blocks for safe fixes.

use crate::types::DiffReport;
use layercake_lint::Applicability;
use layercake_render::escape::{code, fenced, text};
use layercake_render::json::applicability_name;
use std::collections::{BTreeSet, HashMap};

/// The lines of a file GitHub lets a review comment on: the new-file (RIGHT
/// side) lines of each hunk of its `patch`, added and context alike.
pub fn commentable_lines(patch: &str) -> BTreeSet<usize> {
    let mut lines = BTreeSet::new();
    let mut next: Option<usize> = None;
    for line in patch.lines() {
        if let Some(header) = line.strip_prefix("@@ ") {
            // `@@ -a,b +c,d @@ …`: the new side starts at line c.
            next = header
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|range| range.split(',').next())
                .and_then(|start| start.parse().ok());
            continue;
        }
        let Some(current) = next else { continue };
        match line.chars().next() {
            Some('+') | Some(' ') | None => {
                lines.insert(current);
                next = Some(current + 1);
            }
            _ => {} // `-` lines are the old side; `\ No newline` is not a line.
        }
    }
    lines
}

/// One inline comment to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineComment {
    /// The file, repository-relative.
    pub path: String,
    /// The (last) line commented on.
    pub line: usize,
    /// The first line, for a comment on several lines.
    pub start_line: Option<usize>,
    /// The comment, ending in its fingerprint marker.
    pub body: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
}

/// The hidden marker that identifies a finding's review comment.
pub fn finding_marker(fingerprint: &str) -> String {
    format!("<!-- layercake:finding {fingerprint} -->")
}

/// The inline comments for the new findings of `report` whose lines are in
/// the pull request's diff (`diff_lines`: path → commentable lines). Those
/// outside the diff are left to the summary comment. A safe fix whose lines
/// are all in the diff becomes a suggestion; other fixes are shown as a diff.
pub fn inline_comments(
    report: &DiffReport,
    diff_lines: &HashMap<String, BTreeSet<usize>>,
) -> Vec<InlineComment> {
    let mut out = Vec::new();
    for finding in report.new_findings() {
        let Some(lines) = diff_lines.get(&finding.file) else {
            continue;
        };
        let mut body = format!(
            "**{}** {} ({}): {}\n",
            code(&finding.code),
            text(&finding.name),
            finding.severity.as_str(),
            text(&finding.message)
        );
        for evidence in &finding.evidence {
            body.push_str(&format!("\n> {}\n", text(evidence)));
        }
        let safe = finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Safe);
        let suggestion = finding
            .suggestion
            .as_ref()
            .filter(|s| safe && (s.start_line..=s.end_line).all(|line| lines.contains(&line)));
        let (start_line, line) = if let Some(suggestion) = suggestion {
            body.push_str(&format!("\n{}\n", fenced(&suggestion.text, "suggestion")));
            let start =
                (suggestion.start_line < suggestion.end_line).then_some(suggestion.start_line);
            (start, suggestion.end_line)
        } else if lines.contains(&finding.line) {
            if let (Some(fix), Some(diff)) = (&finding.fix, &finding.fix_diff) {
                body.push_str(&format!(
                    "\n{} ({}):\n\n{}\n",
                    text(&fix.description),
                    applicability_name(fix.applicability),
                    fenced(diff.trim_end(), "diff")
                ));
            }
            (None, finding.line)
        } else {
            continue;
        };
        body.push('\n');
        body.push_str(&finding_marker(&finding.fingerprint));
        out.push(InlineComment {
            path: finding.file.clone(),
            line,
            start_line,
            body,
            fingerprint: finding.fingerprint.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_side_lines_of_a_patch() {
        let patch = "@@ -1,3 +1,4 @@\n FROM x\n-COPY a b\n+COPY . .\n+RUN npm ci\n WORKDIR /app\n@@ -10,2 +11,2 @@ USER\n-CMD a\n+CMD b\n\\ No newline at end of file\n";
        let lines: Vec<usize> = commentable_lines(patch).into_iter().collect();
        assert_eq!(lines, [1, 2, 3, 4, 11]);
        assert!(commentable_lines("").is_empty());
        assert!(commentable_lines("@@ garbage @@\n+x\n").is_empty());
    }
}
