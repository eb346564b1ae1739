use crate::base_image::{ImageFamily, image_facts};
use crate::build_step::{BuildStep, BuildTool, build_steps_in, option_value, runtime_base};
use crate::code_span;
use crate::dependency_install::dependency_install;
use crate::finding::{Applicability, Category, Edit, Fix, Severity};
use crate::rule::{FindingSink, FindingSubject, LintContext, Rule, RuleMeta};
use crate::shell_command::split_script;
use layercake_model::{ImageRef, Stage};
use layercake_syntax::{Args, Command, Instruction, Keyword, TextRange};
use std::fmt::Write;

/// A Dockerfile with one stage that builds the application.
pub struct SingleStageBuild;

static META: RuleMeta = RuleMeta {
    code: "LC109",
    name: "single-stage-build",
    category: Category::MultiStage,
    default_severity: Severity::Warning,
    summary: "A single-stage Dockerfile builds the application: use a builder stage",
    doc: r#"## What it does
Reports a Dockerfile with exactly one stage that runs a build step: `npm run
build`, `yarn build`, `pnpm build`, `tsc`, `go build`, `cargo build`, `mvn
package`, `gradle build`, `dotnet publish`.

## Why is this bad?
Everything the build needed ships with the application: the compiler or SDK,
the sources, devDependencies and build caches. A multi-stage build keeps them
in a builder stage and copies only the output into a small runtime stage
(often a tenth of the size, with far fewer packages to patch).

## Example
```dockerfile
FROM node:22
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
EXPOSE 3000
CMD ["node", "dist/server.js"]
```

## Use instead
```dockerfile
FROM node:22 AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:22-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package*.json ./
RUN npm ci --omit=dev
COPY --from=build /app/dist /app/dist
USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
```

## Fix safety
The fix is display-only: a skeleton of the two-stage Dockerfile (the original
instructions up to the last build step as the builder; a runtime stage on the
smaller base with the likely build output, a non-root `USER`, and the
original `EXPOSE`, `CMD` and `ENTRYPOINT`). Which files the runtime needs is
a guess (`dist`, the `-o` path of `go build`, `target/release/<name>`, the
jar), so a person must check it; it is never applied.

## Equivalents
hadolint: none. BuildKit: none.
"#,
};

impl Rule for SingleStageBuild {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn subject(&self) -> FindingSubject {
        FindingSubject::Image
    }

    fn check(&self, ctx: &LintContext<'_>, sink: &mut FindingSink<'_>) {
        let [stage] = ctx.model.stages.as_slice() else {
            return;
        };
        let instructions = &ctx.dockerfile.instructions;
        let steps: Vec<(usize, BuildStep)> =
            build_steps_in(instructions, stage.instructions.clone())
                .into_iter()
                .filter(|(_, s)| s.tool != BuildTool::Python)
                .collect();
        let (Some((first_index, first)), Some((last_index, _))) = (steps.first(), steps.last())
        else {
            return;
        };
        let Some(run) = instructions.get(*first_index) else {
            return;
        };
        // A compiled binary or jar is what runs; a Node build next to it is assets.
        let main = steps
            .iter()
            .rev()
            .find(|(_, s)| !s.tool.is_node())
            .or(steps.last())
            .map_or(first, |(_, s)| s);
        let image = stage.base.image();
        let runtime = image.map(|i| runtime_base(i, main.tool));
        let suggestion = runtime
            .as_deref()
            .map_or(String::from("a slim runtime"), |r| {
                format!("a `{r}` runtime")
            });
        let message = format!(
            "{} builds the application in the only stage, so the toolchain, sources and build-only dependencies ship in the image; build in a builder stage and copy only the output into {suggestion} stage",
            code_span(&first.command.display())
        );
        let fix = runtime.as_deref().map(|runtime| Fix {
            description: "Split into a builder stage and a runtime stage (a skeleton to review)"
                .to_string(),
            edits: vec![Edit {
                range: TextRange::new(0, ctx.source.len()),
                replacement: skeleton(ctx, stage, *last_index, main, runtime),
            }],
            applicability: Applicability::DisplayOnly,
        });
        sink.report(run.range, message, fix);
    }
}

/// The two-stage Dockerfile: the original up to the last build step as the
/// builder, then a runtime stage with the output, a non-root user and the
/// original runtime settings.
fn skeleton(
    ctx: &LintContext<'_>,
    stage: &Stage,
    cut: usize,
    main: &BuildStep,
    runtime: &str,
) -> String {
    let source = ctx.source;
    let instructions = &ctx.dockerfile.instructions;
    let text = |i: &Instruction| i.range.slice(source).to_string();
    let mut out = String::new();
    for directive in &ctx.dockerfile.directives {
        let _ = writeln!(out, "{}", directive.range.slice(source));
    }
    for instruction in instructions.iter().take(stage.from_instruction) {
        let _ = writeln!(out, "{}", text(instruction));
    }

    // The builder: the original FROM with a name, and everything up to the build.
    let alias = stage
        .name
        .as_ref()
        .map_or_else(|| "build".to_string(), |n| n.written.text.clone());
    if let Some(from) = instructions.get(stage.from_instruction) {
        let _ = write!(out, "{}", text(from));
        if stage.name.is_none() {
            let _ = write!(out, " AS {alias}");
        }
        out.push('\n');
    }
    let state = ctx.model.state_at(cut);
    let build_text: String = instructions.get(cut).map(&text).unwrap_or_default();
    let cgo_set = build_text.contains("CGO_ENABLED")
        || state.is_some_and(|s| s.env.contains_key("CGO_ENABLED"));
    if main.tool == BuildTool::Go && !cgo_set {
        out.push_str("# a static binary, for a runtime without libc\nENV CGO_ENABLED=0\n");
    }
    for instruction in instructions
        .iter()
        .take(cut + 1)
        .skip(stage.from_instruction + 1)
    {
        let _ = writeln!(out, "{}", text(instruction));
    }

    // The runtime.
    let workdir = state.map_or("/", |s| s.workdir.as_str());
    let runtime_facts = ImageRef::parse(runtime).map(|r| image_facts(&r));
    let family = runtime_facts.as_ref().map(|f| f.family);
    let shell_less = matches!(family, Some(ImageFamily::Distroless | ImageFamily::Scratch));
    let _ = writeln!(out, "\nFROM {runtime}");
    if workdir != "/" {
        let _ = writeln!(out, "WORKDIR {workdir}");
    }
    let after: Vec<&Instruction> = instructions
        .iter()
        .take(stage.instructions.end)
        .skip(cut + 1)
        .collect();
    let run_words = command_words(&after);
    if main.tool.is_node() && family == Some(ImageFamily::Node) {
        node_production_install(ctx, stage, cut, &mut out);
    }
    for (from, to) in artifacts(main, workdir, &run_words) {
        let _ = writeln!(out, "COPY --from={alias} {from} {to}");
    }
    let sets_user = after.iter().any(|i| i.keyword == Keyword::User);
    if !sets_user {
        out.push_str(&non_root_user(family, runtime));
    }
    for instruction in after {
        match instruction.keyword {
            Keyword::Cmd | Keyword::Entrypoint if shell_less => {
                let _ = writeln!(out, "{}", exec_form(instruction, source));
            }
            Keyword::Env
            | Keyword::Arg
            | Keyword::Label
            | Keyword::Workdir
            | Keyword::User
            | Keyword::Expose
            | Keyword::Volume
            | Keyword::Healthcheck
            | Keyword::Stopsignal
            | Keyword::Cmd
            | Keyword::Entrypoint => {
                let _ = writeln!(out, "{}", text(instruction));
            }
            _ => {
                let first_line = text(instruction);
                let first_line = first_line.lines().next().unwrap_or_default();
                let _ = writeln!(out, "# not carried over, check if needed: {first_line}");
            }
        }
    }
    out
}

/// The words of the last CMD and ENTRYPOINT among `instructions`, to find
/// the artifact they start.
fn command_words(instructions: &[&Instruction]) -> Vec<String> {
    let mut words = Vec::new();
    for keyword in [Keyword::Entrypoint, Keyword::Cmd] {
        let Some(last) = instructions.iter().rev().find(|i| i.keyword == keyword) else {
            continue;
        };
        match &last.args {
            Args::Command(Command::Exec { args }) => {
                words.extend(args.iter().map(|w| w.text.clone()));
            }
            Args::Command(Command::Shell { text }) => {
                words.extend(split_script(&text.text).into_iter().flat_map(|c| c.words));
            }
            _ => {}
        }
    }
    words
}

/// `ENV NODE_ENV=production`, the manifests and a production-only install,
/// mirroring the builder's install.
fn node_production_install(ctx: &LintContext<'_>, stage: &Stage, cut: usize, out: &mut String) {
    let instructions = &ctx.dockerfile.instructions;
    let mut install = None;
    for index in stage.instructions.clone().take_while(|&i| i <= cut) {
        let Some(instruction) = instructions.get(index) else {
            continue;
        };
        if instruction.keyword != Keyword::Run {
            continue;
        }
        if let Some(found) = ctx
            .commands_of(instruction)
            .iter()
            .find_map(|c| dependency_install(c).map(|e| (index, c.clone(), e)))
        {
            install = Some(found);
            break;
        }
    }
    let Some((install_index, command, ecosystem)) = install else {
        return;
    };
    out.push_str("ENV NODE_ENV=production\n");
    // The manifest COPYs the builder made before installing, or the manifests.
    let manifest_copies: Vec<&Instruction> = stage
        .instructions
        .clone()
        .take_while(|&i| i < install_index)
        .filter_map(|i| instructions.get(i))
        .filter(|i| is_manifest_copy(i))
        .collect();
    if manifest_copies.is_empty() {
        let _ = writeln!(out, "COPY {} ./", ecosystem.manifests);
    }
    for copy in manifest_copies {
        let _ = writeln!(out, "{}", copy.range.slice(ctx.source));
    }
    let production = match ecosystem.name {
        "yarn" => "yarn install --production --frozen-lockfile",
        "pnpm" => "corepack enable && pnpm install --prod --frozen-lockfile",
        _ if command.subcommand() == Some("ci") => "npm ci --omit=dev",
        _ => "npm install --omit=dev",
    };
    let _ = writeln!(out, "RUN {production}");
}

/// A COPY from the context of named files, not the whole context.
fn is_manifest_copy(instruction: &Instruction) -> bool {
    if instruction.keyword != Keyword::Copy || instruction.flag("from").is_some() {
        return false;
    }
    let Args::Files { sources, .. } = &instruction.args else {
        return false;
    };
    !sources.is_empty()
        && sources.iter().all(|s| {
            !matches!(s.text.as_str(), "." | "./" | "*" | "./*" | "/")
                && (s.text.contains("package")
                    || s.text.contains("lock")
                    || s.text.contains("npmrc"))
        })
}

/// What to copy out of the builder, as `(source, destination)` absolute paths.
fn artifacts(step: &BuildStep, workdir: &str, run_words: &[String]) -> Vec<(String, String)> {
    let at = |path: &str| resolve(workdir, path);
    let same = |path: String| vec![(path.clone(), path)];
    let base_name = workdir
        .rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or("app")
        .to_string();
    match step.tool {
        BuildTool::Node | BuildTool::TypeScript => {
            let dir = run_words
                .iter()
                .filter_map(|w| w.trim_start_matches("./").split('/').next())
                .find(|first| matches!(*first, "dist" | "build" | "out" | ".next" | "lib"))
                .unwrap_or("dist");
            same(at(dir))
        }
        BuildTool::Go => same(at(step.output.as_deref().unwrap_or(&base_name))),
        BuildTool::Rust => {
            let command = &step.command;
            let profile = if command.has_flag("--release") || command.has_flag("-r") {
                "release"
            } else {
                "debug"
            };
            let dir = match option_value(command, &["--target"]) {
                Some(triple) => format!("target/{triple}/{profile}"),
                None => format!("target/{profile}"),
            };
            let name = option_value(command, &["--bin"])
                .or_else(|| {
                    run_words
                        .iter()
                        .find(|w| w.contains(&format!("{dir}/")))
                        .and_then(|w| w.rsplit('/').next().map(str::to_string))
                })
                .unwrap_or(base_name);
            same(at(&format!("{dir}/{name}")))
        }
        BuildTool::Maven | BuildTool::Gradle => {
            if let Some(jar) = run_words.iter().find(|w| w.ends_with(".jar")) {
                return same(at(jar));
            }
            let dir = if step.tool == BuildTool::Maven {
                "target"
            } else {
                "build/libs"
            };
            vec![(at(&format!("{dir}/*.jar")), format!("{}/", at(dir)))]
        }
        BuildTool::Dotnet => match &step.output {
            Some(output) => same(at(output)),
            None => vec![(
                at("bin/Release/*/publish/"),
                format!("{}/", workdir.trim_end_matches('/')),
            )],
        },
        BuildTool::Python => Vec::new(),
    }
}

/// `path` made absolute against `workdir`.
fn resolve(workdir: &str, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let path = path.trim_start_matches("./");
    format!("{}/{}", workdir.trim_end_matches('/'), path)
}

/// Lines that switch the runtime to a non-root user the image has (or can have).
fn non_root_user(family: Option<ImageFamily>, runtime: &str) -> String {
    match family {
        Some(ImageFamily::Node) => "USER node\n".to_string(),
        Some(ImageFamily::Distroless | ImageFamily::Scratch) => "USER 65532:65532\n".to_string(),
        Some(ImageFamily::Dotnet) => "USER app\n".to_string(),
        _ if runtime.contains("alpine") => {
            "RUN adduser -S -D -H -u 10001 app\nUSER app\n".to_string()
        }
        _ => "RUN useradd --system --no-create-home --uid 10001 app\nUSER app\n".to_string(),
    }
}

/// A CMD or ENTRYPOINT in exec form (a shell-less runtime cannot run the shell form).
fn exec_form(instruction: &Instruction, source: &str) -> String {
    let Args::Command(Command::Shell { text }) = &instruction.args else {
        return instruction.range.slice(source).to_string();
    };
    let commands = split_script(&text.text);
    let [command] = commands.as_slice() else {
        return format!(
            "# the runtime has no shell: rewrite in exec form\n{}",
            instruction.range.slice(source)
        );
    };
    let words: Vec<String> = command
        .words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{} [{}]", instruction.keyword.as_str(), words.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::{LintSettings, lint_source};

    fn skeleton(source: &str) -> String {
        let report = lint_source("Dockerfile", source, &LintSettings::default());
        let finding = report
            .findings
            .iter()
            .find(|f| f.code == "LC109")
            .expect("LC109 fires");
        let fix = finding.fix.as_ref().expect("a skeleton");
        assert_eq!(fix.applicability, crate::Applicability::DisplayOnly);
        let text = fix.edits[0].replacement.clone();
        assert!(layercake_syntax::parse(&text).is_ok(), "parses:\n{text}");
        let again = lint_source("Dockerfile", &text, &LintSettings::default());
        for code in [
            "LC104", "LC105", "LC106", "LC107", "LC108", "LC109", "LC101", "LC102",
        ] {
            assert!(
                again.findings.iter().all(|f| f.code != code),
                "{code} on the skeleton:\n{text}\n{:?}",
                again.findings
            );
        }
        text
    }

    #[test]
    fn node_skeleton_installs_production_dependencies_and_copies_dist() {
        let text = skeleton(
            "FROM node:22\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n",
        );
        assert_eq!(
            text,
            "FROM node:22 AS build\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n\nFROM node:22-slim\nWORKDIR /app\nENV NODE_ENV=production\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY --from=build /app/dist /app/dist\nUSER node\nEXPOSE 3000\nCMD [\"node\", \"dist/server.js\"]\n"
        );
    }

    #[test]
    fn go_skeleton_is_static_on_distroless_with_exec_form() {
        let text = skeleton(
            "# syntax=docker/dockerfile:1\nARG GO=1.22\nFROM golang:${GO}\nWORKDIR /src\nCOPY . .\nRUN go build -o bin/server ./cmd/server\nRUN echo done\nENV PORT=8080\nEXPOSE 8080\nCMD ./bin/server --port 8080\n",
        );
        assert_eq!(
            text,
            "# syntax=docker/dockerfile:1\nARG GO=1.22\nFROM golang:${GO} AS build\n# a static binary, for a runtime without libc\nENV CGO_ENABLED=0\nWORKDIR /src\nCOPY . .\nRUN go build -o bin/server ./cmd/server\n\nFROM gcr.io/distroless/static-debian12:nonroot\nWORKDIR /src\nCOPY --from=build /src/bin/server /src/bin/server\nUSER 65532:65532\n# not carried over, check if needed: RUN echo done\nENV PORT=8080\nEXPOSE 8080\nCMD [\"./bin/server\", \"--port\", \"8080\"]\n"
        );
    }

    #[test]
    fn rust_and_java_skeletons_copy_the_binary_or_jar() {
        let rust = skeleton(
            "FROM rust:1.80\nWORKDIR /usr/src/myapp\nCOPY . .\nRUN cargo build --release\nCMD [\"./target/release/myapp\"]\n",
        );
        assert!(
            rust.contains("FROM gcr.io/distroless/cc-debian12:nonroot\n"),
            "{rust}"
        );
        assert!(
            rust.contains(
                "COPY --from=build /usr/src/myapp/target/release/myapp /usr/src/myapp/target/release/myapp\n"
            ),
            "{rust}"
        );
        let java = skeleton(
            "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\nRUN mvn -B package -DskipTests\nCMD [\"java\", \"-jar\", \"target/app.jar\"]\n",
        );
        assert!(java.contains("FROM eclipse-temurin:21-jre\n"), "{java}");
        assert!(
            java.contains("COPY --from=build /app/target/app.jar /app/target/app.jar\n"),
            "{java}"
        );
        assert!(java.contains("USER app\n"), "{java}");
    }
}
