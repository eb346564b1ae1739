//! Build steps in RUN: commands that compile or bundle the application
//! (`npm run build`, `go build`, `cargo build`, `mvn package`, …). The
//! multi-stage rules ask whether a stage builds something, and with what.

use crate::base_image::{ImageFamily, image_facts};
use crate::shell_command::{SimpleCommand, run_commands};
use layercake_model::ImageRef;
use layercake_syntax::{Instruction, Keyword};

/// The toolchain a build step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildTool {
    /// A `build` script of npm, yarn or pnpm.
    Node,
    /// The TypeScript compiler (`tsc`, `npx tsc`).
    TypeScript,
    /// `go build`.
    Go,
    /// `cargo build`.
    Rust,
    /// `mvn package` / `install` / `verify`.
    Maven,
    /// `gradle build` / `assemble` / `bootJar` / …
    Gradle,
    /// `dotnet publish`.
    Dotnet,
    /// A Python package compiled in place (`setup.py build_ext`, `pip wheel`,
    /// `python -m build`): native code, not a bundle.
    Python,
}

impl BuildTool {
    /// Whether the step runs in the Node.js toolchain (its dev dependencies matter).
    pub fn is_node(self) -> bool {
        matches!(self, BuildTool::Node | BuildTool::TypeScript)
    }
}

/// A command that builds the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildStep {
    /// The toolchain.
    pub tool: BuildTool,
    /// The command as read from the RUN.
    pub command: SimpleCommand,
    /// The output path the command names (`go build -o`, `dotnet publish -o`),
    /// as written; `None` when it uses the tool's default.
    pub output: Option<String>,
}

/// Reads `command` as a build step. Type checks (`tsc --noEmit`) and
/// compile-only checks of many packages (`go build ./...` without `-o`,
/// which writes nothing) are not build steps.
pub fn build_step(command: &SimpleCommand) -> Option<BuildStep> {
    let positional: Vec<&str> = command
        .args()
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let is_build_script = |name: Option<&&str>| name.is_some_and(|n| n.starts_with("build"));
    let step = |tool: BuildTool, output: Option<String>| {
        Some(BuildStep {
            tool,
            command: command.clone(),
            output,
        })
    };
    match command.program() {
        "npm" => match positional.first() {
            Some(&("run" | "run-script")) if is_build_script(positional.get(1)) => {
                step(BuildTool::Node, None)
            }
            _ => None,
        },
        "yarn" | "pnpm" => match positional.first() {
            Some(&"run") if is_build_script(positional.get(1)) => step(BuildTool::Node, None),
            first if is_build_script(first) => step(BuildTool::Node, None),
            _ => None,
        },
        "npx" | "tsc" => {
            let runs_tsc = command.program() == "tsc" || positional.first() == Some(&"tsc");
            (runs_tsc && !command.has_flag("--noEmit")).then(|| BuildStep {
                tool: BuildTool::TypeScript,
                command: command.clone(),
                output: None,
            })
        }
        "go" if positional.first() == Some(&"build") => {
            let output = option_value(command, &["-o"]);
            let checks_only = output.is_none() && positional.iter().any(|p| p.ends_with("..."));
            if checks_only {
                None
            } else {
                step(BuildTool::Go, output)
            }
        }
        "cargo" if positional.first() == Some(&"build") => step(BuildTool::Rust, None),
        "mvn" | "mvnw" => positional
            .iter()
            .any(|g| matches!(*g, "package" | "install" | "verify"))
            .then(|| BuildStep {
                tool: BuildTool::Maven,
                command: command.clone(),
                output: None,
            }),
        "gradle" | "gradlew" => positional
            .iter()
            .any(|t| {
                matches!(
                    t.trim_start_matches(':'),
                    "build" | "assemble" | "bootJar" | "shadowJar" | "installDist" | "jar"
                )
            })
            .then(|| BuildStep {
                tool: BuildTool::Gradle,
                command: command.clone(),
                output: None,
            }),
        "dotnet" if positional.first() == Some(&"publish") => step(
            BuildTool::Dotnet,
            option_value(command, &["-o", "--output"]),
        ),
        "python" | "python3" => {
            let setup_build = positional.first() == Some(&"setup.py")
                && positional
                    .get(1)
                    .is_some_and(|s| matches!(*s, "build" | "build_ext" | "bdist_wheel"));
            let module_build = command.args().first().is_some_and(|a| a == "-m")
                && positional.first() == Some(&"build");
            (setup_build || module_build).then(|| BuildStep {
                tool: BuildTool::Python,
                command: command.clone(),
                output: None,
            })
        }
        "pip" | "pip3" if positional.first() == Some(&"wheel") => step(BuildTool::Python, None),
        _ => None,
    }
}

/// The value of the first of `names` (`-o out`, `-o=out`, `--output out`).
pub fn option_value(command: &SimpleCommand, names: &[&str]) -> Option<String> {
    let args = command.args();
    args.iter().enumerate().find_map(|(i, arg)| {
        names.iter().find_map(|name| {
            if arg == name {
                args.get(i + 1).cloned()
            } else {
                arg.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(str::to_string)
            }
        })
    })
}

/// The build steps of the RUN instructions at `indexes`, each with the index
/// of its instruction, in order.
pub fn build_steps_in(
    instructions: &[Instruction],
    indexes: impl IntoIterator<Item = usize>,
) -> Vec<(usize, BuildStep)> {
    let mut steps = Vec::new();
    for index in indexes {
        let Some(instruction) = instructions.get(index) else {
            continue;
        };
        if instruction.keyword != Keyword::Run {
            continue;
        }
        steps.extend(
            run_commands(instruction)
                .iter()
                .filter_map(build_step)
                .map(|step| (index, step)),
        );
    }
    steps
}

/// The runtime image to suggest instead of `image` for what `tool` builds:
/// the smaller variant layercake knows, else `image` itself when it already
/// is a runtime of the right family, else a common runtime for the tool.
pub fn runtime_base(image: &ImageRef, tool: BuildTool) -> String {
    let facts = image_facts(image);
    if let Some(slimmer) = facts.slimmer {
        return slimmer;
    }
    let family_fits = match tool {
        BuildTool::Node | BuildTool::TypeScript => facts.family == ImageFamily::Node,
        BuildTool::Maven | BuildTool::Gradle => facts.family == ImageFamily::Java,
        BuildTool::Dotnet => facts.family == ImageFamily::Dotnet,
        BuildTool::Python => facts.family == ImageFamily::Python,
        BuildTool::Go | BuildTool::Rust => {
            matches!(facts.family, ImageFamily::Distroless | ImageFamily::Scratch)
        }
    };
    if family_fits && !facts.is_toolchain {
        return image.to_string();
    }
    match tool {
        BuildTool::Node | BuildTool::TypeScript => "node:lts-slim",
        BuildTool::Go => "gcr.io/distroless/static-debian12:nonroot",
        BuildTool::Rust => "gcr.io/distroless/cc-debian12:nonroot",
        BuildTool::Maven | BuildTool::Gradle => "eclipse-temurin:21-jre",
        BuildTool::Dotnet => "mcr.microsoft.com/dotnet/aspnet:8.0",
        BuildTool::Python => "python:3-slim",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell_command::split_script;

    fn tool(script: &str) -> Option<BuildTool> {
        split_script(script)
            .iter()
            .find_map(build_step)
            .map(|s| s.tool)
    }

    #[test]
    fn recognises_build_steps() {
        assert_eq!(tool("npm run build"), Some(BuildTool::Node));
        assert_eq!(tool("npm run build:prod"), Some(BuildTool::Node));
        assert_eq!(tool("yarn build"), Some(BuildTool::Node));
        assert_eq!(tool("pnpm run build"), Some(BuildTool::Node));
        assert_eq!(tool("npx tsc -p ."), Some(BuildTool::TypeScript));
        assert_eq!(
            tool("CGO_ENABLED=0 go build -o /out/app ."),
            Some(BuildTool::Go)
        );
        assert_eq!(tool("cargo build --release"), Some(BuildTool::Rust));
        assert_eq!(
            tool("./mvnw -B package -DskipTests"),
            Some(BuildTool::Maven)
        );
        assert_eq!(
            tool("./gradlew bootJar --no-daemon"),
            Some(BuildTool::Gradle)
        );
        assert_eq!(
            tool("dotnet publish -c Release -o /out"),
            Some(BuildTool::Dotnet)
        );
        assert_eq!(
            tool("python setup.py build_ext --inplace"),
            Some(BuildTool::Python)
        );
    }

    #[test]
    fn ignores_checks_and_installs() {
        for script in [
            "npm ci",
            "npm run lint",
            "npm test",
            "yarn install",
            "tsc --noEmit",
            "go build ./...",
            "go mod download",
            "cargo fetch",
            "mvn dependency:go-offline",
            "dotnet restore",
            "pip install -r requirements.txt",
        ] {
            assert_eq!(tool(script), None, "{script}");
        }
    }

    #[test]
    fn reads_output_paths() {
        let command = &split_script("go build -ldflags=\"-s -w\" -o /out/app ./cmd/app")[0];
        assert_eq!(option_value(command, &["-o"]).as_deref(), Some("/out/app"));
        let command = &split_script("dotnet publish --output=/app/out")[0];
        assert_eq!(
            option_value(command, &["-o", "--output"]).as_deref(),
            Some("/app/out")
        );
    }
}
