use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use layercake_syntax::{Args, Keyword};

/// `EXPOSE` with something that is not a port, a port range or a protocol.
pub struct InvalidExpose;

static META: RuleMeta = RuleMeta {
    code: "LC503",
    name: "invalid-expose",
    category: Category::Correctness,
    default_severity: Severity::Error,
    summary: "EXPOSE with a value that is not a port, a port range or a known protocol, or with a host port",
    doc: r#"## What it does
Reports an `EXPOSE` value (after ARG and ENV expansion) that is not
`PORT`, `PORT/tcp`, `PORT/udp`, `PORT/sctp` or a range `FIRST-LAST[/proto]`
of ports between 0 and 65535, and a value that maps a host port or address
(`EXPOSE 8080:80`, `EXPOSE 127.0.0.1:80:80`). Values whose variables are not
set in the Dockerfile are left alone.

## Why is this bad?
BuildKit fails the build on a value it cannot read as a port (`invalid
containerPort`, `invalid proto`). A host mapping is accepted with a warning,
but it does nothing: `EXPOSE` only records which container ports the image
listens on; which host port to publish is decided by `docker run -p` or the
orchestrator, and BuildKit announces that it will become an error.

## Example
```dockerfile
FROM nginx:1.27
EXPOSE 8080:80
EXPOSE 443/https
```

## Use instead
```dockerfile
FROM nginx:1.27
EXPOSE 80
EXPOSE 443/tcp
```

## Fix safety
For a host mapping written without variables, the fix keeps only the
container port: that is what BuildKit exposes anyway, so it is safe. Other
invalid values have no fix: only the author knows the intended port.

## Equivalents
hadolint: DL3011 (valid UNIX ports range from 0 to 65535). BuildKit:
`ExposeInvalidFormat` for host mappings; invalid ports fail the build.
"#,
};

impl Rule for InvalidExpose {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for (index, instruction) in ctx.dockerfile.instructions.iter().enumerate() {
            if instruction.keyword != Keyword::Expose {
                continue;
            }
            let Args::Words { words, .. } = &instruction.args else {
                continue;
            };
            for word in words {
                let Ok(expanded) = ctx.model.expand_at(index, &word.text) else {
                    continue;
                };
                if !expanded.unmatched.is_empty() {
                    continue;
                }
                let literal = expanded.value == word.text;
                for spec in expanded.value.split_whitespace() {
                    let Err(problem) = check_port_spec(spec) else {
                        continue;
                    };
                    let shown = if literal {
                        code_span(&format!("EXPOSE {spec}"))
                    } else {
                        format!(
                            "{} ({})",
                            code_span(&format!("EXPOSE {}", word.text)),
                            code_span(spec)
                        )
                    };
                    match problem {
                        Problem::HostMapping { container } => {
                            let message = format!(
                                "{shown} maps a host port, which EXPOSE cannot do: it only records the container port `{container}`; publish host ports with `docker run -p`"
                            );
                            let fix = literal.then(|| Fix {
                                description: format!(
                                    "Expose only the container port `{container}`"
                                ),
                                edits: vec![Edit {
                                    range: word.range,
                                    replacement: container.clone(),
                                }],
                                applicability: Applicability::Safe,
                            });
                            sink.report(word.range, message, fix);
                        }
                        Problem::Invalid(reason) => {
                            let message = format!("{shown}: {reason}, so the build fails");
                            sink.report(word.range, message, None);
                        }
                    }
                }
            }
        }
    }
}

/// What is wrong with one EXPOSE value.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    /// `[ip:]host:container`: valid, but the host part means nothing.
    HostMapping { container: String },
    /// BuildKit rejects it; the reason, for the message.
    Invalid(String),
}

/// BuildKit's `parsePort`: `[ip:][hostPort:]port[-port][/proto]`.
fn check_port_spec(spec: &str) -> Result<(), Problem> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [container] => (None, *container),
        [.., host, container] => (Some(*host), *container),
        [] => return Err(Problem::Invalid("no port given".to_string())),
    };
    let (port, proto) = container.split_once('/').unwrap_or((container, ""));
    if port.is_empty() {
        return Err(Problem::Invalid(format!(
            "{} gives no container port",
            code_span(spec)
        )));
    }
    if !matches!(
        proto.to_ascii_lowercase().as_str(),
        "" | "tcp" | "udp" | "sctp"
    ) {
        return Err(Problem::Invalid(format!(
            "{} is not a protocol (use tcp, udp or sctp)",
            code_span(proto)
        )));
    }
    check_port_range(port).map_err(Problem::Invalid)?;
    match host {
        Some(_) => Err(Problem::HostMapping {
            container: container.to_string(),
        }),
        None => Ok(()),
    }
}

/// `PORT` or `FIRST-LAST`, each 0–65535, LAST not below FIRST.
fn check_port_range(range: &str) -> Result<(), String> {
    let (start, end) = match range.split_once('-') {
        Some((start, end)) => (start, Some(end)),
        None => (range, None),
    };
    let first = port_number(start)?;
    if let Some(end) = end.filter(|end| *end != start) {
        let last = port_number(end)?;
        if last < first {
            return Err(format!(
                "the range {} ends below where it starts",
                code_span(range)
            ));
        }
    }
    Ok(())
}

fn port_number(text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Err("a port number is missing".to_string());
    }
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a port number", code_span(text)));
    }
    match digits.parse::<u64>() {
        Ok(port) if port <= 65535 => Ok(port as u32),
        _ => Err(format!("{} is out of range (0–65535)", code_span(text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_buildkit_accepts() {
        for spec in [
            "80",
            "80/tcp",
            "53/udp",
            "9/sctp",
            "80/TCP",
            "8000-8010",
            "8000-8010/udp",
            "0",
            "65535",
            "80-80",
        ] {
            assert_eq!(check_port_spec(spec), Ok(()), "{spec}");
        }
    }

    #[test]
    fn rejects_what_buildkit_rejects() {
        for spec in [
            "80/http", "70000", "abc", "90-80", "80-", "/tcp", "-1", "8o",
        ] {
            assert!(
                matches!(check_port_spec(spec), Err(Problem::Invalid(_))),
                "{spec}"
            );
        }
    }

    #[test]
    fn host_mappings_keep_the_container_port() {
        assert_eq!(
            check_port_spec("8080:80"),
            Err(Problem::HostMapping {
                container: "80".to_string()
            })
        );
        assert_eq!(
            check_port_spec("127.0.0.1:8080:80/udp"),
            Err(Problem::HostMapping {
                container: "80/udp".to_string()
            })
        );
    }
}
