//! What the parser makes of each construct BuildKit accepts or rejects: a
//! readable dump of instructions, flags, arguments, heredocs and errors, each
//! with the source text its range covers.

use layercake_syntax::{Args, Command, Dockerfile, Instruction, LineIndex, TextRange, parse};
use std::fmt::Write;

fn at(source: &str, index: &LineIndex, range: TextRange) -> String {
    let s = index.line_column(source, range.start());
    let e = index.line_column(source, range.end());
    format!(
        "{}:{}-{}:{} {:?}",
        s.line,
        s.column,
        e.line,
        e.column,
        range.slice(source)
    )
}

fn dump_instruction(
    out: &mut String,
    source: &str,
    index: &LineIndex,
    ins: &Instruction,
    indent: &str,
) {
    let _ = writeln!(
        out,
        "{indent}{} {}",
        ins.keyword_word.text,
        at(source, index, ins.range)
    );
    for flag in &ins.flags {
        let _ = writeln!(
            out,
            "{indent}  flag {}={:?} @ {}",
            flag.name,
            flag.value,
            at(source, index, flag.range)
        );
    }
    for mount in ins.mounts() {
        let _ = writeln!(
            out,
            "{indent}  mount {:?} target={:?} from={:?}",
            mount.kind, mount.target, mount.from
        );
    }
    match &ins.args {
        Args::Empty => {
            let _ = writeln!(out, "{indent}  (no arguments)");
        }
        Args::From { image, alias, .. } => {
            let _ = writeln!(out, "{indent}  image {}", at(source, index, image.range));
            if let Some(alias) = alias {
                let _ = writeln!(out, "{indent}  alias {}", at(source, index, alias.range));
            }
        }
        Args::Command(command)
        | Args::Healthcheck {
            command: Some(command),
            ..
        } => match command {
            Command::Exec { args } => {
                let _ = writeln!(
                    out,
                    "{indent}  exec {:?}",
                    args.iter().map(|w| &w.text).collect::<Vec<_>>()
                );
            }
            Command::Shell { text } => {
                let _ = writeln!(out, "{indent}  shell {:?}", text.text);
            }
        },
        Args::Healthcheck {
            kind,
            command: None,
        } => {
            let _ = writeln!(out, "{indent}  healthcheck {}", kind.text);
        }
        Args::Files {
            sources,
            dest,
            json,
        } => {
            let sources: Vec<_> = sources.iter().map(|w| &w.text).collect();
            let _ = writeln!(
                out,
                "{indent}  files {sources:?} -> {:?} json={json}",
                dest.as_ref().map(|d| &d.text)
            );
        }
        Args::KeyValues(pairs) => {
            for pair in pairs {
                let value = pair.value.as_ref().map(|v| at(source, index, v.range));
                let _ = writeln!(
                    out,
                    "{indent}  {} = {:?} legacy={}",
                    pair.key.text, value, pair.legacy
                );
            }
        }
        Args::Words { words, json } => {
            let _ = writeln!(
                out,
                "{indent}  words {:?} json={json}",
                words.iter().map(|w| &w.text).collect::<Vec<_>>()
            );
        }
        Args::Text(word) | Args::Unknown(word) => {
            let _ = writeln!(out, "{indent}  text {}", at(source, index, word.range));
        }
        Args::Onbuild(inner) => dump_instruction(out, source, index, inner, &format!("{indent}  ")),
    }
    for heredoc in &ins.heredocs {
        let _ = writeln!(
            out,
            "{indent}  heredoc {} fd={} chomp={} expand={} marker {} body {:?} terminator {}",
            heredoc.name,
            heredoc.file_descriptor,
            heredoc.chomp,
            heredoc.expand,
            at(source, index, heredoc.marker_range),
            heredoc.content,
            at(source, index, heredoc.terminator_range)
        );
    }
}

fn dump(source: &str) -> String {
    let dockerfile: Dockerfile = parse(source);
    let index = LineIndex::new(source);
    let mut out = String::new();
    for d in &dockerfile.directives {
        let _ = writeln!(
            out,
            "directive {}={} @ {}",
            d.name,
            d.value,
            at(source, &index, d.range)
        );
    }
    for ins in &dockerfile.instructions {
        dump_instruction(&mut out, source, &index, ins, "");
    }
    for c in &dockerfile.comments {
        let _ = writeln!(out, "comment {}", at(source, &index, c.range));
    }
    for w in &dockerfile.warnings {
        let _ = writeln!(
            out,
            "warning {} @ {}",
            w.message,
            at(source, &index, w.range)
        );
    }
    for e in &dockerfile.errors {
        let _ = writeln!(out, "ERROR {} @ {}", e.message, at(source, &index, e.range));
    }
    out
}

#[test]
fn directives_and_backtick_escape() {
    insta::assert_snapshot!(dump(
        "# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM windows AS base\nRUN dir `\n  c:\\\\ \nCOPY a\\b c:\\\n"
    ));
}

#[test]
fn directive_after_comment_is_a_comment() {
    insta::assert_snapshot!(dump("# hello\n# escape=`\nFROM a\nRUN x \\\n  y\n"));
}

#[test]
fn continuations_with_comments_and_blank_lines() {
    insta::assert_snapshot!(dump(
        "FROM a\nRUN apt-get update \\\n    # a comment inside\n    && apt-get install -y \\\n\n      curl\nRUN echo \\\\\nCMD x\n"
    ));
}

#[test]
fn heredoc_forms() {
    insta::assert_snapshot!(dump(concat!(
        "FROM a\n",
        "RUN <<EOF\necho hi\nEOF\n",
        "RUN <<-EOT bash\n\techo tabbed\n\tEOT\n",
        "RUN cat > /f <<'EOF'\n$NOT_EXPANDED\nEOF\n",
        "RUN python3 <<PY && echo done\nprint(1)\nPY\n",
        "RUN 3<<EOF cat /dev/fd/3\nx\nEOF\n",
        "RUN <<A sh && <<\"B\" sh\na\nA\nb\nB\n",
        "COPY <<conf /etc/x.conf\nk=v\nconf\n",
        "# a comment after a heredoc\n",
        "RUN [\"sh\", \"-c\", \"cat <<EOF\"]\n",
        "CMD x\n",
    )));
}

#[test]
fn flags_and_mounts() {
    insta::assert_snapshot!(dump(concat!(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
        "RUN --mount=type=cache,target=/root/.cache/go-build --mount=type=secret,id=tok,env=TOKEN \\\n    --network=none --security=insecure go build ./...\n",
        "COPY --from=build --chown=1000:1000 --chmod=755 --link /out/app /app\n",
        "COPY --parents --exclude=*.md ./src/ /src/\n",
        "ADD --checksum=sha256:abc --keep-git-dir=true https://example.com/x.tgz /x\n",
        "COPY --link=false \"--weird name\" /y\n",
        "HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1\n",
        "RUN -- --not-a-flag\n",
    )));
}

#[test]
fn json_and_shell_forms() {
    insta::assert_snapshot!(dump(concat!(
        "FROM a\n",
        "ENTRYPOINT []\n",
        "CMD [\"node\", \"dist/server.js\"]\n",
        "CMD node dist/server.js\n",
        "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
        "RUN [\"a\" , \"b\"] trailing\n",
        "VOLUME [\"/data\"]\n",
        "VOLUME /a /b\n",
        "COPY [\"a b\", \"/c\"]\n",
    )));
}

#[test]
fn key_values() {
    insta::assert_snapshot!(dump(concat!(
        "FROM a\n",
        "ENV A=1 B=\"two words\" C=three\\ words\n",
        "ENV LEGACY value with spaces\n",
        "LABEL org.opencontainers.image.title=\"x\" version=1\n",
        "LABEL legacy label value\n",
        "ARG ONE TWO=2 THREE\n",
        "ARG VERSION=${BASE:-1.0}\n",
    )));
}

#[test]
fn other_instructions() {
    insta::assert_snapshot!(dump(concat!(
        "FROM a\n",
        "ONBUILD RUN --mount=type=cache,target=/c <<EOF\nmake\nEOF\n",
        "ONBUILD COPY . /app\n",
        "HEALTHCHECK NONE\n",
        "MAINTAINER Jane <jane@example.com>\n",
        "STOPSIGNAL SIGTERM\n",
        "USER app:app\n",
        "WORKDIR /srv/app\n",
        "EXPOSE 3000 8080/udp\n",
        "frobnicate the widget\n",
        "from b as final\n",
    )));
}

#[test]
fn crlf_line_endings() {
    insta::assert_snapshot!(dump(
        "FROM a\r\nRUN echo \\\r\n  hi\r\nRUN <<EOF\r\nx\r\nEOF\r\nCMD [\"a\"]\r\n"
    ));
}

#[test]
fn byte_order_mark_is_skipped() {
    insta::assert_snapshot!(dump("\u{feff}# escape=`\nFROM a\nRUN x `\n y\n"));
}

#[test]
fn byte_order_mark_before_a_comment_is_not_part_of_it() {
    // Found by fuzzing: the comment was sliced from inside the mark.
    let source = "\u{feff}# built by CI\nFROM a\n";
    let parsed = layercake_syntax::parse(source);
    let comment = &parsed.comments[0];
    assert_eq!(comment.text, "built by CI");
    assert_eq!(comment.range.slice(source), "# built by CI");
    assert_eq!(parsed.instructions.len(), 1);
}

#[test]
fn rejected_inputs_are_errors_and_the_rest_is_kept() {
    insta::assert_snapshot!(dump(concat!(
        "FROM a\n",
        "ENV DEBUG\n",
        "LABEL a=1 b\n",
        "CMD [\"a\", 1]\n",
        "RUN echo after the errors\n",
        "RUN <<EOF\nnever terminated\n",
    )));
}

#[test]
fn directive_errors() {
    insta::assert_snapshot!(dump("# escape=\\\n# escape=`\nFROM a\n"));
    insta::assert_snapshot!(dump("# escape=x\nFROM a\n"));
}

#[test]
fn empty_files_have_no_instructions() {
    insta::assert_snapshot!(dump(""));
    insta::assert_snapshot!(dump("# only a comment\n\n   \n"));
}

#[test]
fn overlong_line_is_rejected_like_buildkit() {
    let long = format!("FROM a\nRUN echo {}\n", "x".repeat(70_000));
    let parsed = parse(&long);
    assert_eq!(parsed.errors.len(), 1);
    assert!(parsed.errors[0].message.contains("65535"));
    assert_eq!(parsed.instructions.len(), 2);
    let just_fits = format!("FROM a\nRUN {}\n", "x".repeat(65_535 - 4));
    assert!(parse(&just_fits).is_ok());
}
