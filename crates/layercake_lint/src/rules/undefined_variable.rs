use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::similar::edit_distance;
use layercake_model::Stage;
use layercake_syntax::{Args, Instruction, KeyValue, Keyword, TextRange};

/// `$VAR` in an instruction BuildKit expands, naming a build argument that is
/// not in scope there.
pub struct UndefinedVariable;

static META: RuleMeta = RuleMeta {
    code: "LC505",
    name: "undefined-variable",
    category: Category::Correctness,
    default_severity: Severity::Warning,
    summary: "A variable names a build argument that is not in scope, so it expands to nothing",
    doc: r#"## What it does
Reports `$NAME` or `${NAME}` in an argument BuildKit expands (`ADD`, `COPY`
and their `--chown`, `--chmod`, `--checksum`; `ENV`, `LABEL`,
`ARG` defaults, `EXPOSE`, `STOPSIGNAL`, `USER`, `VOLUME`, `WORKDIR`, `RUN
--mount`) when `NAME` is a build argument that is not in scope at that point:

- a global ARG (declared before the first FROM) that the stage does not
  redeclare with `ARG NAME`;
- one of BuildKit's automatic platform ARGs (`TARGETARCH`, `BUILDPLATFORM`,
  …), which a stage sees only after `ARG TARGETARCH`;
- an ARG declared in another stage (not one this stage is built FROM);
- an ARG of the same stage declared only after the use, including the
  ARG's own default (`ARG VERSION=${VERSION}`: the default is expanded
  before the ARG is declared, so it is empty).

- a name no ARG or ENV declares that is one edit away from an ARG or ENV
  in scope (`$VERISON` for `$VERSION`): the message asks "did you mean".

Other names that no ARG declares anywhere are left alone: the base image's
environment (`PATH`, `HOME`, `JAVA_HOME`, `NODE_VERSION`, …) is not visible
to a linter, and BuildKit resolves them against it. Shell-form `RUN`, `CMD`
and `ENTRYPOINT` are not checked either: the shell expands those when the
command runs.

## Why is this bad?
The classic multi-stage bug: `ARG VERSION=1.4` at the top is used by `FROM`,
but inside a stage `$VERSION` is empty unless the stage says `ARG VERSION`.
`COPY app-$VERSION.tar.gz /opt/` then looks for `app-.tar.gz`, and `LABEL
version=$VERSION` silently ships an empty label.

## Example
```dockerfile
ARG VERSION=1.4
FROM alpine:3.20
LABEL org.opencontainers.image.version=$VERSION
```

## Use instead
```dockerfile
ARG VERSION=1.4
FROM alpine:3.20
ARG VERSION
LABEL org.opencontainers.image.version=$VERSION
```

## Fix safety
For a global or automatic platform ARG, the fix inserts `ARG NAME` right
after the stage's FROM line (one line per such name used in the stage). It
is unsafe: it is almost always what was meant, but it changes the value the
instruction sees from empty to the ARG's value. ARGs of other stages have no
fix, because their default may need to be repeated too.

## Equivalents
hadolint: none. BuildKit: `UndefinedVar`, which also reports names no ARG or
ENV declares, since it sees the base image's environment, and suggests a
similar name as this rule does.
"#,
};

impl Rule for UndefinedVariable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for stage in &ctx.model.stages {
            check_stage(ctx, sink, stage);
        }
    }
}

/// Why a name is not in scope.
enum Cause {
    /// Declared before the first FROM.
    GlobalArg,
    /// One of BuildKit's automatic platform ARGs.
    PlatformArg,
    /// Declared by an ARG of another stage, on this line.
    OtherStage { line: usize, stage: String },
    /// Declared by an ARG of this stage after the use, on this line.
    DeclaredLater { line: usize },
    /// Read by a default of the ARG instruction that declares it.
    OwnDefault,
    /// Not in scope, one edit away from an ARG or ENV in scope; `env` is an
    /// ENV that sets the name elsewhere (later in the stage, or in a stage
    /// this one is not built FROM), if any.
    Typo {
        similar: String,
        env: Option<EnvElsewhere>,
    },
}

/// An ENV that sets a name out of the scope of its use.
struct EnvElsewhere {
    line: usize,
    /// The ENV's stage, when it is not the stage of the use.
    stage: Option<String>,
}

struct Use {
    name: String,
    range: TextRange,
    cause: Cause,
}

fn check_stage(ctx: &LintContext<'_>, sink: &mut FindingSink<'_>, stage: &Stage) {
    let instructions = &ctx.dockerfile.instructions;
    let mut uses: Vec<Use> = Vec::new();
    for index in stage.instructions.clone() {
        if index == stage.from_instruction {
            continue;
        }
        let Some(instruction) = instructions.get(index) else {
            continue;
        };
        let mut seen: Vec<String> = Vec::new();
        for (text, range) in expanded_texts(instruction) {
            if !text.contains('$') {
                continue;
            }
            let Ok(expanded) = ctx.model.expand_at(index, text) else {
                continue;
            };
            let arg_scope = ArgScope::of(instruction, range);
            for name in expanded.unmatched {
                if seen.contains(&name)
                    || is_environment_name(&name)
                    || arg_scope.declared_before(&name)
                {
                    continue;
                }
                let Some(cause) = cause(
                    ctx,
                    stage,
                    index,
                    &name,
                    arg_scope.declares_from_here(&name),
                ) else {
                    continue;
                };
                seen.push(name.clone());
                uses.push(Use { name, range, cause });
            }
        }
    }
    // One fix per stage declares every global or platform ARG it misses, so
    // applying any of them resolves them all.
    let mut missing: Vec<&str> = Vec::new();
    for u in &uses {
        if matches!(u.cause, Cause::GlobalArg | Cause::PlatformArg)
            && !missing.contains(&u.name.as_str())
        {
            missing.push(&u.name);
        }
    }
    let fix = declare_fix(ctx, stage, &missing);
    for u in &uses {
        let name = &u.name;
        let (message, fix) = match &u.cause {
            Cause::GlobalArg => (
                format!(
                    "`{name}` is a global ARG: redeclare it with `ARG {name}` inside the stage, or `${name}` expands to an empty string here"
                ),
                fix.clone(),
            ),
            Cause::PlatformArg => (
                format!(
                    "`{name}` is one of BuildKit's automatic platform ARGs, set only for FROM lines: declare it with `ARG {name}` inside the stage, or `${name}` expands to an empty string here"
                ),
                fix.clone(),
            ),
            Cause::OtherStage { line, stage } => (
                format!(
                    "`{name}` is declared by the ARG on line {line} in stage {stage}, but ARGs do not carry into other stages: declare it in this stage too, or `${name}` expands to an empty string here"
                ),
                None,
            ),
            Cause::DeclaredLater { line } => (
                format!(
                    "`{name}` is declared by the ARG on line {line}, after this use, so `${name}` expands to an empty string here: move the ARG up"
                ),
                None,
            ),
            Cause::OwnDefault => (
                format!(
                    "`{name}` is read by a default of the ARG that declares it, before the declaration takes effect, so `${name}` expands to an empty string here: write a literal default, or `ARG {name}` alone to take the build argument's value"
                ),
                None,
            ),
            Cause::Typo { similar, env } => {
                let declared = match env {
                    None => "is declared by no ARG or ENV of this Dockerfile".to_string(),
                    Some(EnvElsewhere { line, stage: None }) => {
                        format!("is set by the ENV on line {line}, after this use")
                    }
                    Some(EnvElsewhere {
                        line,
                        stage: Some(stage),
                    }) => format!(
                        "is set only by the ENV on line {line} in stage {stage}, which this stage is not built FROM"
                    ),
                };
                (
                    format!(
                        "`{name}` {declared}, so `${name}` expands to an empty string here unless the base image sets it; did you mean `{similar}`?"
                    ),
                    None,
                )
            }
        };
        sink.report(u.range, message, fix);
    }
}

/// The texts of an instruction that BuildKit expands, with where they are.
fn expanded_texts(instruction: &Instruction) -> Vec<(&str, TextRange)> {
    let mut texts: Vec<(&str, TextRange)> = Vec::new();
    let flag_names: &[&str] = match instruction.keyword {
        // BuildKit refuses variables in `COPY --from` outright.
        Keyword::Copy => &["chown", "chmod"],
        Keyword::Add => &["chown", "chmod", "checksum"],
        Keyword::Run => &["mount"],
        _ => &[],
    };
    for flag in &instruction.flags {
        if flag_names.contains(&flag.name.as_str())
            && let Some(value) = &flag.value
        {
            texts.push((value, flag.range));
        }
    }
    match (&instruction.keyword, &instruction.args) {
        (Keyword::Copy | Keyword::Add, Args::Files { sources, dest, .. }) => {
            texts.extend(sources.iter().map(|w| (w.text.as_str(), w.range)));
            texts.extend(dest.iter().map(|w| (w.text.as_str(), w.range)));
        }
        (Keyword::Env | Keyword::Label, Args::KeyValues(pairs)) => {
            for pair in pairs {
                texts.push((&pair.key.text, pair.key.range));
                if let Some(value) = &pair.value {
                    texts.push((&value.text, value.range));
                }
            }
        }
        (Keyword::Arg, Args::KeyValues(pairs)) => {
            texts.extend(
                pairs
                    .iter()
                    .filter_map(|p| p.value.as_ref())
                    .map(|w| (w.text.as_str(), w.range)),
            );
        }
        (Keyword::Expose | Keyword::Volume, Args::Words { words, .. }) => {
            texts.extend(words.iter().map(|w| (w.text.as_str(), w.range)));
        }
        (Keyword::User | Keyword::Workdir | Keyword::Stopsignal, Args::Text(word)) => {
            texts.push((&word.text, word.range));
        }
        _ => {}
    }
    texts
}

/// Where a text of an `ARG` instruction sits among its `NAME=default` pairs:
/// BuildKit declares them one after the other, so a default sees the names
/// of the pairs before it and not its own or later ones.
struct ArgScope<'a> {
    before: &'a [KeyValue],
    from_here: &'a [KeyValue],
}

impl<'a> ArgScope<'a> {
    fn of(instruction: &'a Instruction, range: TextRange) -> ArgScope<'a> {
        let pairs: &[KeyValue] = match (&instruction.keyword, &instruction.args) {
            (Keyword::Arg, Args::KeyValues(pairs)) => pairs,
            _ => &[],
        };
        let at = pairs
            .iter()
            .position(|p| p.value.as_ref().is_some_and(|v| v.range == range))
            .unwrap_or(pairs.len());
        let (before, from_here) = pairs.split_at(at);
        ArgScope { before, from_here }
    }

    fn declared_before(&self, name: &str) -> bool {
        self.before.iter().any(|p| p.key.text == name)
    }

    fn declares_from_here(&self, name: &str) -> bool {
        self.from_here.iter().any(|p| p.key.text == name)
    }
}

/// Why `name`, unmatched at `index`, is a build argument out of scope; `None`
/// when no ARG declares it (it may come from the base image).
/// `declared_by_own_arg` says the text is an ARG default and that ARG
/// declares `name` itself.
fn cause(
    ctx: &LintContext<'_>,
    stage: &Stage,
    index: usize,
    name: &str,
    declared_by_own_arg: bool,
) -> Option<Cause> {
    let instructions = &ctx.dockerfile.instructions;
    let global_or_platform =
        ctx.model.global_args.contains_key(name) || PLATFORM_ARGS.contains(&name);
    // A global or platform ARG keeps its own message, whose fix (declare it
    // after FROM) also gives the default its value.
    if declared_by_own_arg && !global_or_platform {
        return Some(Cause::OwnDefault);
    }
    let later_here = (index + 1..stage.instructions.end).find(|&i| {
        instructions
            .get(i)
            .is_some_and(|instruction| declares_arg(instruction, name))
    });
    if let Some(line) = later_here.and_then(|i| instructions.get(i)) {
        return Some(Cause::DeclaredLater {
            line: ctx.line_of(line.range.start()),
        });
    }
    if ctx.model.global_args.contains_key(name) {
        return Some(Cause::GlobalArg);
    }
    if PLATFORM_ARGS.contains(&name) {
        return Some(Cause::PlatformArg);
    }
    for other in &ctx.model.stages {
        if other.index == stage.index {
            continue;
        }
        for i in other.instructions.clone() {
            if let Some(instruction) = instructions.get(i)
                && declares_arg(instruction, name)
            {
                return Some(Cause::OtherStage {
                    line: ctx.line_of(instruction.range.start()),
                    stage: stage_label(other),
                });
            }
        }
    }
    let similar = similar_in_scope(ctx, index, name)?;
    let env = ctx.model.stages.iter().find_map(|other| {
        other.instructions.clone().find_map(|i| {
            let instruction = instructions.get(i)?;
            sets_env(instruction, name).then(|| EnvElsewhere {
                line: ctx.line_of(instruction.range.start()),
                stage: (other.index != stage.index).then(|| stage_label(other)),
            })
        })
    });
    Some(Cause::Typo { similar, env })
}

/// How messages name a stage: its name, or its index when it has none.
fn stage_label(stage: &Stage) -> String {
    stage.name.as_ref().map_or_else(
        || stage.index.to_string(),
        |n| format!("`{}`", n.written.text),
    )
}

fn sets_env(instruction: &Instruction, name: &str) -> bool {
    instruction.keyword == Keyword::Env
        && matches!(&instruction.args, Args::KeyValues(pairs) if pairs.iter().any(|p| p.key.text == name))
}

/// An ARG or ENV in scope at `index` one edit away from `name` (a typo such
/// as `$VERISON` for `$VERSION`). Names shorter than three characters are
/// left alone: any two of those are one edit apart.
fn similar_in_scope(ctx: &LintContext<'_>, index: usize, name: &str) -> Option<String> {
    const SHORTEST: usize = 3;
    if name.len() < SHORTEST {
        return None;
    }
    let state = ctx.model.state_at(index)?;
    state
        .args
        .keys()
        .chain(state.env.keys())
        .filter(|known| known.len() >= SHORTEST && known.as_str() != name)
        .find(|known| edit_distance(known, name) == 1)
        .cloned()
}

fn declares_arg(instruction: &Instruction, name: &str) -> bool {
    instruction.keyword == Keyword::Arg
        && matches!(&instruction.args, Args::KeyValues(pairs) if pairs.iter().any(|p| p.key.text == name))
}

/// Inserts `ARG NAME` lines right after the stage's FROM line.
fn declare_fix(ctx: &LintContext<'_>, stage: &Stage, names: &[&str]) -> Option<Fix> {
    if names.is_empty() {
        return None;
    }
    let from = ctx.dockerfile.instructions.get(stage.from_instruction)?;
    let lines: String = names.iter().map(|n| format!("ARG {n}\n")).collect();
    let (at, replacement) = match ctx.source.get(from.range.end()..)?.find('\n') {
        Some(i) => (from.range.end() + i + 1, lines),
        None => (ctx.source.len(), format!("\n{}", lines.trim_end())),
    };
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Fix {
        description: format!("Declare {list} in the stage"),
        edits: vec![Edit {
            range: TextRange::empty(at),
            replacement,
        }],
        applicability: Applicability::Unsafe,
    })
}

/// BuildKit's automatic platform ARGs: set for FROM, declared in a stage with `ARG`.
const PLATFORM_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

/// Names base images commonly set in their environment: `$NAME` may well be
/// defined by the image even when an ARG of the same name is not in scope.
fn is_environment_name(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "HOME",
        "HOSTNAME",
        "USER",
        "SHELL",
        "TERM",
        "PWD",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "TZ",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PIP_NO_CACHE_DIR",
        "VIRTUAL_ENV",
        "GOPATH",
        "GOROOT",
        "GOTOOLCHAIN",
        "GOLANG_VERSION",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "JAVA_HOME",
        "JAVA_VERSION",
        "JAVA_OPTS",
        "MAVEN_HOME",
        "MAVEN_CONFIG",
        "GRADLE_HOME",
        "GRADLE_USER_HOME",
        "NODE_VERSION",
        "NODE_ENV",
        "YARN_VERSION",
        "NPM_CONFIG_PREFIX",
        "PYTHON_VERSION",
        "PYTHON_SHA256",
        "PYTHON_PIP_VERSION",
        "GPG_KEY",
        "RUBY_VERSION",
        "RUBY_MAJOR",
        "GEM_HOME",
        "BUNDLE_PATH",
        "BUNDLE_APP_CONFIG",
        "PHP_VERSION",
        "PHP_INI_DIR",
        "COMPOSER_HOME",
        "DOTNET_VERSION",
        "ASPNET_VERSION",
        "ASPNETCORE_URLS",
        "NGINX_VERSION",
        "CATALINA_HOME",
        "TOMCAT_VERSION",
        "DEBIAN_FRONTEND",
        "BUILDKIT_SBOM_SCAN_CONTEXT",
        "BUILDKIT_SBOM_SCAN_STAGE",
    ];
    NAMES.contains(&name)
}
