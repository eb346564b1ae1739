//! Markdown, as GitHub renders it (CommonMark with GFM's tables,
//! strikethrough, autolinks and task lists), for text that came from a
//! repository or a tool: it must show exactly as written and do nothing else.
//!
//! Two kinds of text go in:
//!
//! - **code** (an instruction, a path, a digest): a code span whose fence is
//!   longer than any backtick run inside. Nothing is added inside code, no
//!   entity and no invisible character, so what a reader copies is what the
//!   Dockerfile says.
//! - **text** (a rule message, evidence, a fix description, a reason): prose
//!   with `` `code` `` spans in it, as layercake's messages are written. The
//!   code spans become code spans again (re-fenced, so a backtick inside one
//!   cannot end it); the prose between them is neutralised: no HTML, no
//!   entity, no emphasis or link, no `@mention`, `#123` reference or
//!   `:emoji:` that GitHub would act on (an invisible U+2060 WORD JOINER
//!   breaks those, in prose only).
//!
//! A `|` ends a GFM table cell even inside code, where `\|` keeps it in the
//! cell; outside a table `\|` in code shows the backslash. So every function
//! that writes code comes in two forms, and the call site says which:
//! [`code`] / [`code_in_cell`], [`text`] / [`text_in_cell`].
//!
//! Inside raw HTML (`<summary>`, where GitHub reads no Markdown) use
//! [`html_code`] and [`html_text`] instead.

use crate::fix_diff::longest_run;
use layercake_lint::code_span;

/// U+2060 WORD JOINER: invisible, and enough to stop GitHub linking `@user`,
/// `#1` or `:emoji:`. Unlike U+200B it offers no line break.
const WORD_JOINER: char = '\u{2060}';

/// `value` as a code span, for a paragraph, a list item or a heading.
pub fn code(value: &str) -> String {
    code_span_in(value, false)
}

/// `value` as a code span inside a GFM table cell: `|` is written `\|`,
/// which GitHub's table parser turns back into `|` before reading the span.
pub fn code_in_cell(value: &str) -> String {
    code_span_in(value, true)
}

/// Text with `` `code` `` spans in it (a rule message, evidence, a fix
/// description), for a paragraph, a list item or a heading.
///
/// Backtick runs pair as in CommonMark: a run of n backticks opens a span
/// that the next run of exactly n closes; a run that nothing closes is a
/// literal backtick. Backslashes are literal (the messages are not Markdown).
pub fn text(value: &str) -> String {
    mixed(value, false)
}

/// [`text`] inside a GFM table cell.
pub fn text_in_cell(value: &str) -> String {
    mixed(value, true)
}

/// Prose that shows every character as written, backticks included (a
/// path, a list of paths); the same inside a table cell and outside one.
pub fn plain(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    push_prose(&mut out, &fold_lines(value), true);
    out
}

/// Text with `` `code` `` spans (see [`text`]) as HTML, for inside a raw
/// HTML element such as `<summary>`: code as `<code>`, the rest escaped.
pub fn html_text(value: &str) -> String {
    let value = fold_lines(value);
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    for piece in pieces(&value) {
        match piece {
            Piece::Prose(prose) => push_html(&mut out, prose, true),
            Piece::Code(code) => {
                out.push_str("<code>");
                push_html(&mut out, &code, false);
                out.push_str("</code>");
            }
        }
    }
    out
}

/// `value` as `<code>` for inside a raw HTML element.
pub fn html_code(value: &str) -> String {
    let mut out = String::from("<code>");
    push_html(&mut out, &fold_lines(value), false);
    out.push_str("</code>");
    out
}

/// A fenced block that no line of `body` can close: the fence is longer
/// than any backtick run in it. The body stays literal (a diff, a
/// suggestion, a log).
pub fn fenced(body: &str, info: &str) -> String {
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    format!("{fence}{info}\n{body}\n{fence}")
}

/// Newlines would end a table row or start a block inside a paragraph; in a
/// code span CommonMark reads them as spaces anyway.
fn fold_lines(value: &str) -> String {
    value.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

/// A code span that shows `value` exactly (see [`code_span`]); in a cell
/// `\|`, which the table parser reads back as `|`.
fn code_span_in(value: &str, in_cell: bool) -> String {
    let span = code_span(value);
    // The fence and its padding hold no `|`, so escaping the whole span
    // escapes exactly the content's.
    if in_cell {
        span.replace('|', "\\|")
    } else {
        span
    }
}

fn mixed(value: &str, in_cell: bool) -> String {
    let value = fold_lines(value);
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    let mut at_start = true;
    for piece in pieces(value.trim()) {
        match piece {
            Piece::Prose(prose) => push_prose(&mut out, prose, at_start),
            Piece::Code(code) => out.push_str(&code_span_in(&code, in_cell)),
        }
        at_start = false;
    }
    out
}

/// A part of a text: prose, or the content of a code span.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Prose(&'a str),
    Code(String),
}

/// Splits `value` into prose and code spans the way CommonMark pairs
/// backtick runs.
fn pieces(value: &str) -> Vec<Piece<'_>> {
    let bytes = value.as_bytes();
    let run_end = |start: usize| {
        bytes[start..]
            .iter()
            .position(|&b| b != b'`')
            .map_or(bytes.len(), |n| start + n)
    };
    let mut out = Vec::new();
    let mut prose_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open_end = run_end(i);
        let width = open_end - i;
        // The closer is the next run of exactly the same width.
        let mut j = open_end;
        let mut closer = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let end = run_end(j);
                if end - j == width {
                    closer = Some(j);
                    break;
                }
                j = end;
            } else {
                j += 1;
            }
        }
        match closer {
            Some(close) => {
                if prose_start < i {
                    out.push(Piece::Prose(&value[prose_start..i]));
                }
                out.push(Piece::Code(span_content(&value[open_end..close])));
                i = close + width;
                prose_start = i;
            }
            // Nothing closes this run: its backticks are prose.
            None => i = open_end,
        }
    }
    if prose_start < bytes.len() {
        out.push(Piece::Prose(&value[prose_start..]));
    }
    out
}

/// What a code span shows: one space stripped from each end when both have
/// one and the content is not all spaces (CommonMark 6.1).
fn span_content(raw: &str) -> String {
    let stripped = raw
        .strip_prefix(' ')
        .and_then(|s| s.strip_suffix(' '))
        .filter(|_| !raw.bytes().all(|b| b == b' '));
    stripped.unwrap_or(raw).to_string()
}

/// Appends prose that shows as written: Markdown punctuation escaped with a
/// backslash (which GitHub's table parser also reads right in a cell), a
/// backtick as an entity (so it cannot join a code fence beside it), and a
/// word joiner after what GitHub would link. `at_start` escapes what would
/// start a block at the beginning of a line (a list marker `- `, `+ `,
/// `1. `, `1) `, or a thematic break `---`).
fn push_prose(out: &mut String, prose: &str, at_start: bool) {
    let mut chars = prose.char_indices().peekable();
    let leading_digits = if at_start {
        prose.bytes().take_while(u8::is_ascii_digit).count()
    } else {
        0
    };
    let ends_marker = |next: Option<char>| next.is_none_or(|n| n == ' ' || n == '\t');
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        match c {
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '`' => out.push_str("&#96;"),
            '#' => {
                out.push_str("\\#");
                if next.is_some_and(|n| n.is_ascii_digit()) {
                    out.push(WORD_JOINER);
                }
            }
            '@' => {
                out.push('@');
                if next.is_some_and(|n| n.is_ascii_alphanumeric()) {
                    out.push(WORD_JOINER);
                }
            }
            ':' => {
                out.push(':');
                if starts_shortcode(&prose[i + 1..]) {
                    out.push(WORD_JOINER);
                }
            }
            '-' | '+'
                if at_start
                    && i == 0
                    && (ends_marker(next) || prose.chars().all(|p| p == c || p == ' ')) =>
            {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if leading_digits > 0 && i == leading_digits && ends_marker(next) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Appends HTML text: `&`, `<`, `>` and `"` as entities; in prose also a
/// word joiner after what GitHub would link (its filters skip `<code>`).
fn push_html(out: &mut String, value: &str, prose: bool) {
    for (i, c) in value.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
        if prose {
            let rest = &value[i + c.len_utf8()..];
            let next = rest.chars().next();
            let links = match c {
                '@' => next.is_some_and(|n| n.is_ascii_alphanumeric()),
                '#' => next.is_some_and(|n| n.is_ascii_digit()),
                ':' => starts_shortcode(rest),
                _ => false,
            };
            if links {
                out.push(WORD_JOINER);
            }
        }
    }
}

/// Whether `rest` (what follows a `:`) completes an emoji shortcode such as
/// `:rocket:`, which GitHub would show as the emoji.
fn starts_shortcode(rest: &str) -> bool {
    let name = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
        .count();
    name > 0 && rest.as_bytes().get(name) == Some(&b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_show_their_content_exactly() {
        assert_eq!(code("COPY . ."), "`COPY . .`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code(" x "), "`  x  `");
        assert_eq!(code("  "), "`  `");
        assert_eq!(code(""), "");
        assert_eq!(code("a && b <c> @d"), "`a && b <c> @d`");
        assert_eq!(code("a|b\nc"), "`a|b c`");
    }

    #[test]
    fn only_a_table_cell_escapes_pipes_in_code() {
        assert_eq!(code_in_cell("a|b"), "`a\\|b`");
        // GitHub's table parser (cmark-gfm `unescape_pipes`) drops the
        // backslash before each `|`, whatever precedes it.
        assert_eq!(code_in_cell("grep 'a\\|b'"), "`grep 'a\\\\|b'`");
        assert_eq!(text_in_cell("x `a|b` y|z"), "x `a\\|b` y\\|z");
        assert_eq!(text("x `a|b` y|z"), "x `a|b` y\\|z");
    }

    #[test]
    fn text_keeps_its_code_spans_and_neutralises_the_rest() {
        assert_eq!(
            text("`RUN a && b` removes <b>x</b> for @team #12 :rocket:"),
            "`RUN a && b` removes \\<b\\>x\\</b\\> for @\u{2060}team \\#\u{2060}12 :\u{2060}rocket:"
        );
        assert_eq!(
            text("`gcr.io/distroless/base:<version>` or `x@sha256:`"),
            "`gcr.io/distroless/base:<version>` or `x@sha256:`"
        );
        assert_eq!(
            text("*a* [l](u) ~s~ $m$ a\\b"),
            "\\*a\\* \\[l\\](u) \\~s\\~ \\$m\\$ a\\\\b"
        );
    }

    #[test]
    fn backtick_runs_pair_as_in_commonmark() {
        assert_eq!(text("``a`b``"), "``a`b``");
        assert_eq!(text("`` `x` ``"), "`` `x` ``");
        assert_eq!(text("```x``` then `y`"), "`x` then `y`");
        // An unmatched run is literal and cannot open a span further on.
        assert_eq!(text("a ` b"), "a &#96; b");
        assert_eq!(text("a `` b `c`"), "a &#96;&#96; b `c`");
        assert_eq!(text("`a` `` b"), "`a` &#96;&#96; b");
    }

    #[test]
    fn prose_cannot_start_a_block() {
        assert_eq!(text("- a"), "\\- a");
        assert_eq!(text("1. a"), "1\\. a");
        assert_eq!(text("# a"), "\\# a");
        assert_eq!(text("> a"), "\\> a");
        assert_eq!(text("---"), "\\---");
        assert_eq!(text("a - b. 1. c"), "a - b. 1. c");
        assert_eq!(plain("2) x"), "2\\) x");
        // Only a marker followed by a space starts a list.
        assert_eq!(text("--no-build was given"), "--no-build was given");
        assert_eq!(text("3.5 MB"), "3.5 MB");
    }

    #[test]
    fn plain_shows_backticks_as_written() {
        assert_eq!(plain("a`b`c"), "a&#96;b&#96;c");
        assert_eq!(plain("a\nb"), "a b");
    }

    #[test]
    fn html_for_inside_a_summary() {
        assert_eq!(
            html_text("Use `a && b<c>` for @x \"q\""),
            "Use <code>a &amp;&amp; b&lt;c&gt;</code> for @\u{2060}x &quot;q&quot;"
        );
        assert_eq!(html_code("a@b <x>"), "<code>a@b &lt;x&gt;</code>");
    }

    #[test]
    fn fences_outlast_the_body() {
        assert_eq!(fenced("x", "diff"), "```diff\nx\n```");
        assert_eq!(fenced("````\ny", ""), "`````\n````\ny\n`````");
        assert_eq!(fenced("+a ```` b", "diff"), "`````diff\n+a ```` b\n`````");
    }
}
