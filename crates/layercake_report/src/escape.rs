//! Markdown for text that came from a repository or a tool: it must show as
//! written and do nothing else (no HTML, no links out of cells, no mentions,
//! no fence that ends early).

/// Inline code that holds any text: a backtick fence longer than any run
/// inside, newlines folded, and `|` escaped (it ends a table cell even in code).
pub fn code(value: &str) -> String {
    let value = value.replace(['\n', '\r'], " ");
    let longest = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if value.starts_with('`') || value.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", value.replace('|', "\\|"))
}

/// Prose: HTML and entities neutralised, `@mentions` and `#refs` broken with
/// a zero-width space, Markdown punctuation escaped, table pipes escaped,
/// newlines folded.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '@' => out.push_str("@\u{200b}"),
            '*' | '_' | '[' | ']' | '\\' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A fenced block that no line of `body` can close: the fence is longer
/// than any backtick run that starts a line of it.
pub fn fenced(body: &str, info: &str) -> String {
    let longest = body
        .lines()
        .map(|line| line.trim_start().chars().take_while(|&c| c == '`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{info}\n{body}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_cannot_be_closed_from_inside() {
        assert_eq!(code("COPY . ."), "`COPY . .`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
    }

    #[test]
    fn prose_cannot_ping_or_inject() {
        assert_eq!(
            text("@team <b>x</b> [a](http://e) #12 *b*"),
            "@\u{200b}team &lt;b&gt;x&lt;/b&gt; \\[a\\](http://e) \\#12 \\*b\\*"
        );
    }

    #[test]
    fn fences_outlast_the_body() {
        assert_eq!(fenced("x", "diff"), "```diff\nx\n```");
        assert_eq!(fenced("````\ny", ""), "`````\n````\ny\n`````");
    }
}
