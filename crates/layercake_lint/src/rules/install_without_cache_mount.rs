use crate::base_image::{ImageFamily, image_facts};
use crate::dependency_install::dependency_install;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::package_install::{
    OsPackageAction, OsPackageManager, has_cache_mount_for, os_package_command, without_sudo,
};
use crate::rule::{FindingSink, LintContext, Rule, RuleMeta};
use crate::rules::kept_caches::pip_cache_turned_off;
use crate::shell_command::SimpleCommand;
use layercake_model::{ImageRef, InstructionState};
use layercake_syntax::{Keyword, TextRange};

/// `RUN npm ci` with no BuildKit cache mount for npm's download cache.
pub struct InstallWithoutCacheMount;

static META: RuleMeta = RuleMeta {
    code: "LC204",
    name: "install-without-cache-mount",
    category: Category::Cache,
    default_severity: Severity::Info,
    summary: "A dependency install has no BuildKit cache mount for its download cache",
    doc: r#"## What it does
Reports a RUN that downloads packages (`npm ci`/`install`, `yarn`, `pnpm
install`, `pip install`, `uv sync`/`uv pip install`, `poetry install`,
`pipenv install`, `go mod download`/`go build`, `cargo build`, `apt-get
install`, `apk add`, `mvn`, `gradle`, `bundle install`, `composer install`)
without a BuildKit cache mount on that tool's cache directory: `/root/.npm`,
`/usr/local/share/.cache/yarn`, the pnpm store, `/root/.cache/pip`,
`/root/.cache/uv`, `/root/.cache/go-build` and `/go/pkg/mod`,
`/usr/local/cargo/registry`, `/var/cache/apt` and `/var/lib/apt`,
`/etc/apk/cache`, `/root/.m2`, `/root/.gradle`. Cache directories set in the
environment (`npm_config_cache`, `PIP_CACHE_DIR`, `GOMODCACHE`, `CARGO_HOME`,
`GRADLE_USER_HOME`, `HOME`, …) are followed. One finding per RUN.

It stays silent when a cache or tmpfs mount covers the directory, and when
the command turns its cache off (`pip install --no-cache-dir`, `apk add
--no-cache`, `UV_NO_CACHE`, `PIP_NO_CACHE_DIR` set by ENV or ARG or in the
RUN, as `PIP_NO_CACHE_DIR=1 pip install …` or `export PIP_NO_CACHE_DIR=1 &&
…`, with any value: pip turns its cache off for `0` and `false` too): that
choice keeps the image small, and a mount would not be used.

## Why is this bad?
When a dependency manifest changes, the install step re-runs from nothing
and downloads every package again, although almost all are the same as last
time. A cache mount keeps the tool's download cache between builds, outside
the image: the re-run fetches only what changed, and the cache never bloats
a layer.

## Example
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
```

## Use instead
```dockerfile
FROM node:22-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
```

## Fix safety
The fix adds `--mount=type=cache,target=…` right after `RUN`. It is unsafe:
cache mounts need BuildKit (the default builder since Docker 23), and a
cache shared between builds can mask a broken lock file. It is offered only
when the RUN runs as root: a cache mount belongs to root unless it is given
`uid=`, so as another USER the message names the directory in that user's
home and leaves the mount to you. For apt, Debian images delete downloaded
packages after each install (`/etc/apt/apt.conf.d/docker-clean`); remove
that file to cache the packages as well as the lists. For Cargo only the
registry is mounted: a cache mount on `target/` would take the built binary
out of the image.

## Equivalents
hadolint: none. BuildKit checks: none.
"#,
};

/// A tool that downloads into a cache directory.
struct CachedTool {
    /// The command as shown in the message (`npm ci`, `apt-get install`).
    command: String,
    /// Directories any of which, mounted, count as caching this tool.
    covered_by: Vec<String>,
    /// Mount targets the fix adds.
    mounts: Vec<String>,
    /// Extra mount options (`,sharing=locked` for apt).
    options: &'static str,
}

impl Rule for InstallWithoutCacheMount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn applies_to_onbuild_triggers(&self) -> bool {
        true
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        for stage in &ctx.model.stages {
            let base = stage_base_image(ctx, stage.index).map(image_facts);
            let base_runs_as_non_root = base.as_ref().is_some_and(|f| f.runs_as_non_root);
            let family = base.as_ref().map_or(ImageFamily::Other, |f| f.family);
            for index in stage.instructions.clone() {
                let Some(run) = ctx.dockerfile.instructions.get(index) else {
                    continue;
                };
                let Some(state) = ctx.model.state_at(index) else {
                    continue;
                };
                if run.keyword != Keyword::Run {
                    continue;
                }
                let user = User::of(state, base_runs_as_non_root);
                let home = user.home(state);
                let mut uncovered: Vec<CachedTool> = Vec::new();
                let pip_cache_off = pip_cache_turned_off(run, Some(state));
                for command in ctx.commands_of(run).iter() {
                    let Some(tool) =
                        cached_tool(command, pip_cache_off, state, home.as_deref(), family)
                    else {
                        continue;
                    };
                    let dirs: Vec<&str> = tool.covered_by.iter().map(String::as_str).collect();
                    let known = uncovered.iter().any(|t| t.mounts == tool.mounts);
                    if !known && !has_cache_mount_for(run, &dirs) {
                        uncovered.push(tool);
                    }
                }
                if uncovered.is_empty() {
                    continue;
                }
                let commands: Vec<String> = uncovered
                    .iter()
                    .map(|t| format!("`{}`", t.command))
                    .collect();
                let mounts: Vec<String> = uncovered
                    .iter()
                    .flat_map(|t| t.mounts.iter().map(move |m| (m, t.options)))
                    .map(|(m, options)| format!("--mount=type=cache,target={m}{options}"))
                    .collect();
                let dirs: Vec<&str> = uncovered
                    .iter()
                    .flat_map(|t| t.mounts.iter().map(String::as_str))
                    .collect();
                let verb = if commands.len() == 1 {
                    "starts"
                } else {
                    "start"
                };
                let mut message = format!(
                    "{} {verb} from an empty download cache whenever this step re-runs; a BuildKit cache mount on {} keeps it between builds, so only what changed is fetched",
                    join_list(&commands),
                    join_list(&dirs)
                );
                let fix = match user {
                    User::Root => Some(Fix {
                        description: format!("Add `{}`", mounts.join(" ")),
                        edits: vec![Edit {
                            range: TextRange::empty(run.keyword_word.range.end()),
                            replacement: format!(" {}", mounts.join(" ")),
                        }],
                        applicability: Applicability::Unsafe,
                    }),
                    User::Other(ref name) => {
                        message.push_str(&format!(
                            " (this RUN runs as USER {name}: give the mount `uid=` of that user)"
                        ));
                        None
                    }
                    User::UnknownNonRoot => {
                        message.push_str(
                            " (the base image runs as a non-root user: the cache is in that user's home, and the mount needs its `uid=`)",
                        );
                        None
                    }
                };
                sink.report(run.range, message, fix);
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// Who a RUN runs as, as far as cache directories care.
enum User {
    Root,
    /// A USER other than root, as written.
    Other(String),
    /// No USER, but the base image is known to run as non-root.
    UnknownNonRoot,
}

impl User {
    fn of(state: &InstructionState, base_runs_as_non_root: bool) -> User {
        match state.user.as_deref() {
            None if base_runs_as_non_root => User::UnknownNonRoot,
            None => User::Root,
            Some(user) => {
                let name = user.split(':').next().unwrap_or(user);
                if name == "root" || name == "0" {
                    User::Root
                } else {
                    User::Other(user.to_string())
                }
            }
        }
    }

    /// The home directory: `HOME` from the environment, else `/root` for
    /// root and `/home/<name>` for a named user; `None` when unknown.
    fn home(&self, state: &InstructionState) -> Option<String> {
        if let Some(home) = state.env.get("HOME").filter(|h| h.starts_with('/')) {
            return Some(home.trim_end_matches('/').to_string());
        }
        match self {
            User::Root => Some("/root".to_string()),
            User::Other(user) => {
                let name = user.split(':').next().unwrap_or(user);
                let named = !name.is_empty() && !name.chars().all(|c| c.is_ascii_digit());
                named.then(|| format!("/home/{name}"))
            }
            User::UnknownNonRoot => None,
        }
    }
}

/// The image at the root of the stage's FROM chain.
fn stage_base_image<'a>(ctx: &'a LintContext<'_>, stage: usize) -> Option<&'a ImageRef> {
    ctx.model.root_stage(stage)?.base.image()
}

/// What `command` downloads into, when it is a package install with a cache.
fn cached_tool(
    command: &SimpleCommand,
    pip_cache_off: bool,
    state: &InstructionState,
    home: Option<&str>,
    family: ImageFamily,
) -> Option<CachedTool> {
    let command = without_sudo(command);
    let env = |name: &str| {
        state
            .env
            .get(name)
            .filter(|v| v.starts_with('/'))
            .map(|v| v.trim_end_matches('/').to_string())
    };
    let env_set = |name: &str| {
        state
            .env
            .get(name)
            .is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
    };
    // A directory under HOME (or XDG_CACHE_HOME for `.cache/…`); the root
    // home stands in for the coverage check when HOME is unknown.
    let home_dir = |rest: &str| -> String {
        let base = home.unwrap_or("/root");
        match rest.strip_prefix(".cache/") {
            Some(cache) => match env("XDG_CACHE_HOME") {
                Some(xdg) => format!("{xdg}/{cache}"),
                None => format!("{base}/{rest}"),
            },
            None => format!("{base}/{rest}"),
        }
    };
    let tool = |shown: String, mounts: Vec<String>, extra: Vec<String>| {
        let mut covered_by = mounts.clone();
        covered_by.extend(extra);
        Some(CachedTool {
            command: shown,
            covered_by,
            mounts,
            options: "",
        })
    };
    let shown = |n: usize| {
        command
            .words
            .iter()
            .take(n)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    };

    if let Some(os) = os_package_command(&command) {
        let OsPackageAction::Install { .. } = os.action else {
            return None;
        };
        return match os.manager {
            OsPackageManager::Apt => Some(CachedTool {
                command: format!("{} install", command.program()),
                covered_by: vec!["/var/cache/apt".into(), "/var/lib/apt".into()],
                mounts: vec!["/var/cache/apt".into(), "/var/lib/apt".into()],
                options: ",sharing=locked",
            }),
            OsPackageManager::Apk if !command.has_flag("--no-cache") => tool(
                "apk add".into(),
                vec!["/etc/apk/cache".into()],
                vec!["/var/cache/apk".into()],
            ),
            _ => None,
        };
    }
    let program = command.program();
    let sub = command.subcommand();
    match program {
        "pip" | "pip3" | "python" | "python3" => {
            let args = command.args();
            let is_install = match program {
                "pip" | "pip3" => sub == Some("install"),
                _ => {
                    args.first().is_some_and(|a| a == "-m")
                        && args.get(1).is_some_and(|a| a == "pip" || a == "pip3")
                        && args
                            .iter()
                            .skip(2)
                            .find(|a| !a.starts_with('-'))
                            .is_some_and(|a| a == "install")
                }
            };
            if !is_install || command.has_flag("--no-cache-dir") || pip_cache_off {
                return None;
            }
            let dir = env("PIP_CACHE_DIR").unwrap_or_else(|| home_dir(".cache/pip"));
            let shown = if program.starts_with("pip") {
                format!("{program} install")
            } else {
                format!("{program} -m pip install")
            };
            return tool(shown, vec![dir], vec![]);
        }
        "uv" => {
            let installs = sub == Some("sync")
                || sub == Some("pip") && command.args().get(1).is_some_and(|a| a == "install");
            if !installs || command.has_flag("--no-cache") || env_set("UV_NO_CACHE") {
                return None;
            }
            let dir = env("UV_CACHE_DIR").unwrap_or_else(|| home_dir(".cache/uv"));
            return tool(
                shown(if sub == Some("sync") { 2 } else { 3 }),
                vec![dir],
                vec![],
            );
        }
        "go" => {
            let args = command.args();
            let downloads = matches!(args, [m, d, ..] if m == "mod" && d == "download");
            let builds = matches!(sub, Some("build" | "install"));
            if !downloads && !builds {
                return None;
            }
            // The golang image sets GOPATH=/go; elsewhere it defaults to ~/go.
            let gopath = env("GOPATH").unwrap_or_else(|| match family {
                ImageFamily::Go => "/go".to_string(),
                _ => home_dir("go"),
            });
            let module_cache = env("GOMODCACHE").unwrap_or_else(|| format!("{gopath}/pkg/mod"));
            let mut mounts = vec![module_cache];
            if builds {
                mounts.push(env("GOCACHE").unwrap_or_else(|| home_dir(".cache/go-build")));
            }
            return tool(shown(if downloads { 3 } else { 2 }), mounts, vec![]);
        }
        "cargo" if matches!(sub, Some("build" | "fetch" | "install")) => {
            // The rust image sets CARGO_HOME=/usr/local/cargo.
            let cargo_home = env("CARGO_HOME").unwrap_or_else(|| match family {
                ImageFamily::Rust => "/usr/local/cargo".to_string(),
                _ => home_dir(".cargo"),
            });
            return tool(
                shown(2),
                vec![format!("{cargo_home}/registry")],
                vec![format!("{cargo_home}/git")],
            );
        }
        "mvn" | "mvnw" | "./mvnw" if dependency_install(&command).is_some() => {
            return tool(program.to_string(), vec![home_dir(".m2")], vec![]);
        }
        "gradle" | "gradlew" if dependency_install(&command).is_some() => {
            let dir = env("GRADLE_USER_HOME").unwrap_or_else(|| home_dir(".gradle"));
            return tool(program.to_string(), vec![dir], vec![]);
        }
        _ => {}
    }
    let ecosystem = dependency_install(&command)?;
    match ecosystem.name {
        "npm" => {
            let dir = env("npm_config_cache")
                .or_else(|| env("NPM_CONFIG_CACHE"))
                .unwrap_or_else(|| home_dir(".npm"));
            tool(shown(2), vec![dir], vec![])
        }
        "yarn" => {
            let default = match home {
                Some("/root") | None => "/usr/local/share/.cache/yarn".to_string(),
                Some(_) => home_dir(".cache/yarn"),
            };
            let dir = env("YARN_CACHE_FOLDER").unwrap_or(default);
            tool(
                shown(2).trim().to_string(),
                vec![dir],
                vec![home_dir(".yarn"), home_dir(".cache/yarn")],
            )
        }
        "pnpm" => {
            let dir = match env("PNPM_HOME") {
                Some(pnpm_home) => format!("{pnpm_home}/store"),
                None => home_dir(".local/share/pnpm/store"),
            };
            tool(
                shown(2),
                vec![dir],
                vec![home_dir(".pnpm-store"), "/pnpm/store".into()],
            )
        }
        "poetry" => {
            let dir = env("POETRY_CACHE_DIR").unwrap_or_else(|| home_dir(".cache/pypoetry"));
            tool(shown(2), vec![dir], vec![])
        }
        "pipenv" => {
            let dir = env("PIPENV_CACHE_DIR").unwrap_or_else(|| home_dir(".cache/pipenv"));
            tool(shown(2), vec![dir], vec![home_dir(".cache/pip")])
        }
        "bundler" => {
            // The ruby image sets GEM_HOME=/usr/local/bundle.
            let dir = match (env("GEM_HOME"), family) {
                (Some(gem_home), _) => format!("{gem_home}/cache"),
                (None, ImageFamily::Ruby) => "/usr/local/bundle/cache".to_string(),
                (None, _) => home_dir(".bundle/cache"),
            };
            tool(
                shown(2),
                vec![dir],
                vec![home_dir(".gem"), home_dir(".bundle")],
            )
        }
        "composer" => {
            let dir = env("COMPOSER_CACHE_DIR")
                .or_else(|| env("COMPOSER_HOME").map(|h| format!("{h}/cache")))
                .unwrap_or_else(|| home_dir(".cache/composer"));
            tool(shown(2), vec![dir], vec![home_dir(".composer/cache")])
        }
        _ => None,
    }
}
