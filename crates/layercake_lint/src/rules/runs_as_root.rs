use crate::base_image::{ImageFamily, image_facts};
use crate::code_span;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, FindingSubject, LintContext, Rule, RuleMeta};
use crate::shell_command::{SimpleCommand, run_commands, split_script};
use layercake_model::{ImageRef, Stage};
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};

/// The shipped image runs as root.
pub struct RunsAsRoot;

static META: RuleMeta = RuleMeta {
    code: "LC401",
    name: "runs-as-root",
    category: Category::Security,
    default_severity: Severity::Warning,
    summary: "The shipped image runs as root: no non-root `USER` in the target stage",
    doc: r#"## What it does
Reports a build target whose container runs as root: neither the target stage
nor the stages it is built `FROM` set a `USER`, or the last `USER` is `root`,
`0`, `0:0` or `root:root`.

It stays silent when the process does not end up running as root:
- the base image is known to set a non-root user itself (distroless
  `:nonroot`, Chainguard, .NET `-chiseled`, `*-unprivileged`, Bitnami,
  `jenkins/jenkins`), unless a later `USER` sets root again;
- the `ENTRYPOINT` or `CMD` drops privileges itself (`gosu`, `su-exec`,
  `setpriv`, `runuser`, `s6-setuidgid`, `chpst -u`, `su`), or the stage
  installs `gosu`/`su-exec` and sets an `ENTRYPOINT` or `CMD` (the
  docker-library pattern: `exec gosu postgres "$@"` in
  `docker-entrypoint.sh`);
- the image extends a service image whose own entrypoint drops privileges
  (`postgres`, `mysql`, `mariadb`, `redis`, `mongo`, `rabbitmq`, …) and does
  not replace its `ENTRYPOINT`;
- the shipped stages set no `CMD` or `ENTRYPOINT` at all (and no explicit
  `USER root`): a base or toolbox image that other Dockerfiles build FROM and
  that decide the user, or an artifact-export stage for `docker build
  --output`;
- the base is a Windows image (`nanoserver`, `servercore`), whose users are
  `ContainerUser` and `ContainerAdministrator`.

`FROM scratch` with a binary and an `ENTRYPOINT` still runs it as uid 0, so it
is reported, with `USER 65532:65532` suggested (a numeric user needs no
`/etc/passwd`).

## Why is this bad?
A process running as root in a container is root on the container's
filesystem and, if it escapes (a kernel or runtime bug, a mounted Docker
socket, a privileged flag set by mistake), root on the host. Kubernetes'
`runAsNonRoot` policy refuses such images outright.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY --from=build /app/dist ./dist
CMD ["node", "dist/server.js"]
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/server.js"]
```

## Fix safety
The fix inserts `USER <name>` after the last `RUN` and before the final
`CMD`/`ENTRYPOINT` of the target stage (or replaces a trailing `USER root`).
The name is a user the Dockerfile creates (`useradd`/`adduser`), else one the
base image is known to have (`node` for node images, `nonroot` for distroless,
`app` for .NET 8+), else the numeric `65532:65532` for `scratch` and `10001`
otherwise. It is unsafe: the application may need to write to files owned by
root, or bind a port below 1024, and a numeric user has no home directory.

## Equivalents
hadolint: DL3002 (last USER should not be root) reports only an explicit
`USER root`, and stays silent when there is no `USER` at all (hadolint #328,
#1089). BuildKit checks: none.
"#,
};

/// Tools an entrypoint uses to drop from root to another user.
const PRIVILEGE_DROPPERS: &[&str] = &[
    "gosu",
    "su-exec",
    "setpriv",
    "runuser",
    "s6-setuidgid",
    "setuidgid",
    "chpst",
    "su",
];

/// Official images whose own entrypoint starts as root and drops to a
/// service user (`gosu`/`su-exec` in `docker-entrypoint.sh`), or whose
/// Dockerfile sets a non-root `USER`.
const SERVICE_IMAGES_DROPPING_ROOT: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "percona",
    "redis",
    "mongo",
    "rabbitmq",
    "cassandra",
    "couchdb",
    "zookeeper",
    "memcached",
    "solr",
    "sonarqube",
    "odoo",
    "ghost",
    "redmine",
    "elasticsearch",
    "kibana",
    "logstash",
];

impl Rule for RunsAsRoot {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn subject(&self) -> FindingSubject {
        FindingSubject::Image
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let Some(target) = ctx.model.target_stage() else {
            return;
        };
        let chain = stage_chain(ctx, target);
        let Some(root_stage) = chain.first() else {
            return;
        };
        let image = root_stage.base.image();
        if image.is_some_and(is_windows) {
            return;
        }
        let facts = image.map(image_facts);
        let scratch = root_stage.base.is_scratch();
        let entry = EntryCommands::of(ctx, &chain);

        let explicit_root = match target.final_state.user.as_deref() {
            // An empty user comes from a variable the base image sets
            // (`USER $APP_UID`): not known to be root.
            Some(user) if !is_root(user) => return,
            Some(_) => true,
            None => false,
        };
        if !explicit_root && facts.as_ref().is_some_and(|f| f.runs_as_non_root) {
            return;
        }
        // An image that sets no command of its own is a base or toolbox image
        // (or an export stage): images built FROM it decide the user. Only
        // an explicit `USER root` is still worth saying.
        if !explicit_root && entry.entrypoint.is_none() && entry.cmd.is_none() {
            return;
        }
        if entry.drops_privileges() || entry.is_some() && installs_privilege_dropper(ctx, &chain) {
            return;
        }
        if !explicit_root
            && entry.entrypoint.is_none()
            && image.is_some_and(|i| {
                i.is_official() && SERVICE_IMAGES_DROPPING_ROOT.contains(&i.name())
            })
        {
            return;
        }

        let user = suggested_user(ctx, &chain, image, scratch);
        let last_user = last_user_instruction(ctx, &chain);
        let (range, message) = match last_user.filter(|_| explicit_root) {
            Some(instruction) => (
                instruction.range,
                format!(
                    "{} makes the shipped image run as root; switch to a non-root user before the container starts",
                    code_span(instruction.range.slice(ctx.source))
                ),
            ),
            None => (
                ctx.dockerfile
                    .instructions
                    .get(target.from_instruction)
                    .map_or(TextRange::empty(0), |i| i.range),
                no_user_message(target, &chain, image, scratch, &user),
            ),
        };
        let fix = insert_user_fix(ctx, target, last_user.filter(|_| explicit_root), &user);
        sink.report(range, message, fix);
    }
}

/// The stages the target is built FROM, root first, the target last.
fn stage_chain<'a>(ctx: &'a LintContext<'_>, target: &'a Stage) -> Vec<&'a Stage> {
    let mut chain = vec![target];
    let mut current = target;
    while let Some(parent) = current
        .base
        .stage()
        .filter(|&p| p < current.index)
        .and_then(|p| ctx.model.stages.get(p))
    {
        chain.push(parent);
        current = parent;
    }
    chain.reverse();
    chain
}

/// Windows images have `ContainerUser`/`ContainerAdministrator`, not root.
fn is_windows(image: &ImageRef) -> bool {
    let repository = image.repository.as_str();
    ["windows", "nanoserver", "servercore"]
        .iter()
        .any(|w| repository.contains(w))
        || image.tag.as_deref().is_some_and(|t| {
            t.contains("nanoserver") || t.contains("windowsservercore") || t.contains("ltsc")
        })
}

/// `root`, `0`, `root:root`, `0:0`, `root:wheel`: the user part is root.
fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

/// The ENTRYPOINT and CMD in effect at the end of the chain, as commands.
struct EntryCommands {
    entrypoint: Option<Vec<SimpleCommand>>,
    cmd: Option<Vec<SimpleCommand>>,
}

impl EntryCommands {
    fn of(ctx: &LintContext<'_>, chain: &[&Stage]) -> EntryCommands {
        let mut entry = EntryCommands {
            entrypoint: None,
            cmd: None,
        };
        for stage in chain {
            for instruction in stage_instructions(ctx, stage) {
                match instruction.keyword {
                    Keyword::Entrypoint => {
                        entry.entrypoint = Some(command_of(instruction));
                        // An ENTRYPOINT resets the CMD inherited so far.
                        entry.cmd = None;
                    }
                    Keyword::Cmd => entry.cmd = Some(command_of(instruction)),
                    _ => {}
                }
            }
        }
        entry
    }

    fn is_some(&self) -> bool {
        self.entrypoint.is_some() || self.cmd.is_some()
    }

    fn drops_privileges(&self) -> bool {
        self.entrypoint
            .iter()
            .chain(self.cmd.iter())
            .flatten()
            .any(|command| {
                command.words.iter().any(|word| {
                    let program = word.rsplit('/').next().unwrap_or(word);
                    PRIVILEGE_DROPPERS.contains(&program)
                })
            })
    }
}

fn command_of(instruction: &Instruction) -> Vec<SimpleCommand> {
    match &instruction.args {
        Args::Command(Command::Exec { args }) => vec![SimpleCommand {
            words: args.iter().map(|w| w.text.clone()).collect(),
        }],
        Args::Command(Command::Shell { text }) => split_script(&text.text),
        _ => Vec::new(),
    }
}

fn stage_instructions<'a>(
    ctx: &'a LintContext<'_>,
    stage: &Stage,
) -> impl Iterator<Item = &'a Instruction> {
    ctx.dockerfile
        .instructions
        .get(stage.instructions.clone())
        .unwrap_or(&[])
        .iter()
}

/// The stage installs or copies in `gosu`/`su-exec` (for its entrypoint script).
fn installs_privilege_dropper(ctx: &LintContext<'_>, chain: &[&Stage]) -> bool {
    chain.iter().any(|stage| {
        stage_instructions(ctx, stage).any(|instruction| {
            matches!(
                instruction.keyword,
                Keyword::Run | Keyword::Copy | Keyword::Add
            ) && {
                let text = instruction.range.slice(ctx.source);
                text.contains("gosu") || text.contains("su-exec")
            }
        })
    })
}

fn last_user_instruction<'a>(
    ctx: &'a LintContext<'_>,
    chain: &[&Stage],
) -> Option<&'a Instruction> {
    chain
        .iter()
        .flat_map(|stage| stage_instructions(ctx, stage))
        .filter(|i| i.keyword == Keyword::User)
        .last()
}

/// A user the fix can switch to, with why it exists.
struct SuggestedUser {
    name: String,
    note: &'static str,
}

fn suggested_user(
    ctx: &LintContext<'_>,
    chain: &[&Stage],
    image: Option<&ImageRef>,
    scratch: bool,
) -> SuggestedUser {
    if let Some(name) = created_user(ctx, chain) {
        return SuggestedUser {
            name,
            note: "the user the Dockerfile creates",
        };
    }
    if scratch {
        return SuggestedUser {
            name: "65532:65532".into(),
            note: "a numeric user needs no /etc/passwd in a scratch image",
        };
    }
    let facts = image.map(image_facts);
    match facts.as_ref().map(|f| f.family) {
        Some(ImageFamily::Node) => SuggestedUser {
            name: "node".into(),
            note: "node images have a `node` user, uid 1000",
        },
        Some(ImageFamily::Distroless) => SuggestedUser {
            name: "nonroot".into(),
            note: "distroless images have a `nonroot` user, uid 65532",
        },
        Some(ImageFamily::Dotnet) if image.is_some_and(dotnet_has_app_user) => SuggestedUser {
            name: "app".into(),
            note: ".NET 8+ images have an `app` user, uid 1654",
        },
        _ => SuggestedUser {
            name: "10001".into(),
            note: "a numeric uid needs no /etc/passwd entry; the files the app writes must be writable by it",
        },
    }
}

fn dotnet_has_app_user(image: &ImageRef) -> bool {
    image
        .tag
        .as_deref()
        .and_then(|t| t.split('.').next())
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 8)
}

/// The user a `useradd`/`adduser` in the chain creates: its last word.
fn created_user(ctx: &LintContext<'_>, chain: &[&Stage]) -> Option<String> {
    chain
        .iter()
        .flat_map(|stage| stage_instructions(ctx, stage))
        .filter(|i| i.keyword == Keyword::Run)
        .flat_map(run_commands)
        .filter(|c| matches!(c.program(), "useradd" | "adduser"))
        .filter_map(|c| c.words.last().cloned())
        .filter(|name| {
            name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
        })
        .last()
}

fn no_user_message(
    target: &Stage,
    chain: &[&Stage],
    image: Option<&ImageRef>,
    scratch: bool,
    user: &SuggestedUser,
) -> String {
    let stages = if chain.len() > 1 {
        let name = target
            .name
            .as_ref()
            .map_or_else(|| target.index.to_string(), |n| n.written.text.clone());
        format!("stage `{name}` or the stages it is built FROM")
    } else {
        "the shipped stage".to_string()
    };
    if scratch {
        return format!(
            "No `USER` in {stages}, so the `FROM scratch` binary runs as uid 0 (root); add `USER {}` ({})",
            user.name, user.note
        );
    }
    let known =
        image.is_some_and(|i| i.is_official() || image_facts(i).family != ImageFamily::Other);
    match image {
        Some(image) if known => format!(
            "No `USER` in {stages}, so the container runs as root, the default user of `{image}`; add `USER {}` ({})",
            user.name, user.note
        ),
        Some(image) => format!(
            "No `USER` in {stages}, so the container runs as root unless `{image}` sets a non-root user itself; add `USER {}` ({})",
            user.name, user.note
        ),
        None => format!(
            "No `USER` in {stages}, so the container runs as root unless the base image sets a non-root user; add `USER {}` ({})",
            user.name, user.note
        ),
    }
}

/// Insert `USER <name>` after the last RUN and before the final CMD/ENTRYPOINT
/// of the target stage; or rewrite a trailing `USER root` that no RUN follows.
fn insert_user_fix(
    ctx: &LintContext<'_>,
    target: &Stage,
    root_user: Option<&Instruction>,
    user: &SuggestedUser,
) -> Option<Fix> {
    let instructions: Vec<(usize, &Instruction)> = target
        .instructions
        .clone()
        .filter_map(|i| ctx.dockerfile.instructions.get(i).map(|inst| (i, inst)))
        .collect();
    let last_run = instructions
        .iter()
        .rfind(|(_, i)| i.keyword == Keyword::Run)
        .map_or(target.from_instruction, |(index, _)| *index);
    let description = format!("Run as `{}`: {}", user.name, user.note);
    if let Some(root) = root_user
        && let Some((root_index, _)) = instructions.iter().find(|(_, i)| std::ptr::eq(*i, root))
        && *root_index > last_run
        && let Args::Text(word) = &root.args
    {
        return Some(Fix {
            description,
            edits: vec![Edit {
                range: word.range,
                replacement: user.name.clone(),
            }],
            applicability: Applicability::Unsafe,
        });
    }
    let before = instructions.iter().find(|(index, i)| {
        *index > last_run && matches!(i.keyword, Keyword::Cmd | Keyword::Entrypoint)
    });
    let edit = match before {
        Some((_, instruction)) => Edit {
            range: TextRange::empty(
                ctx.line_index
                    .line_start(ctx.line_of(instruction.range.start())),
            ),
            replacement: format!("USER {}\n", user.name),
        },
        None => {
            let (_, last) = instructions.last()?;
            Edit {
                range: TextRange::empty(last.range.end()),
                replacement: format!("\nUSER {}", user.name),
            }
        }
    };
    Some(Fix {
        description,
        edits: vec![edit],
        applicability: Applicability::Unsafe,
    })
}
