//! Recognising dependency installs (`npm ci`, `pip install -r`, `go mod
//! download`, …) and the manifest files each one reads.

use crate::shell_command::SimpleCommand;

/// A package ecosystem whose install step reads a few manifest files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ecosystem {
    /// Short name for messages (`npm`, `pip`, …).
    pub name: &'static str,
    /// What to copy before installing, as a COPY source list.
    pub manifests: std::borrow::Cow<'static, str>,
    /// Whether the install only needs the manifests (`npm ci`), so the fix can
    /// move it before the broad COPY. `cargo build` and `mvn package` compile
    /// the sources too: they need a dependency-only step first.
    pub manifests_suffice: bool,
}

const NPM: Ecosystem = Ecosystem {
    name: "npm",
    manifests: std::borrow::Cow::Borrowed("package.json package-lock.json*"),
    manifests_suffice: true,
};
const YARN: Ecosystem = Ecosystem {
    name: "yarn",
    manifests: std::borrow::Cow::Borrowed("package.json yarn.lock"),
    manifests_suffice: true,
};
const PNPM: Ecosystem = Ecosystem {
    name: "pnpm",
    manifests: std::borrow::Cow::Borrowed("package.json pnpm-lock.yaml"),
    manifests_suffice: true,
};
const POETRY: Ecosystem = Ecosystem {
    name: "poetry",
    manifests: std::borrow::Cow::Borrowed("pyproject.toml poetry.lock"),
    manifests_suffice: true,
};
const UV: Ecosystem = Ecosystem {
    name: "uv",
    manifests: std::borrow::Cow::Borrowed("pyproject.toml uv.lock"),
    manifests_suffice: true,
};
const PIPENV: Ecosystem = Ecosystem {
    name: "pipenv",
    manifests: std::borrow::Cow::Borrowed("Pipfile Pipfile.lock"),
    manifests_suffice: true,
};
const GO: Ecosystem = Ecosystem {
    name: "go",
    manifests: std::borrow::Cow::Borrowed("go.mod go.sum"),
    manifests_suffice: true,
};
const CARGO: Ecosystem = Ecosystem {
    name: "cargo",
    manifests: std::borrow::Cow::Borrowed("Cargo.toml Cargo.lock"),
    manifests_suffice: false,
};
const BUNDLER: Ecosystem = Ecosystem {
    name: "bundler",
    manifests: std::borrow::Cow::Borrowed("Gemfile Gemfile.lock"),
    manifests_suffice: true,
};
const COMPOSER: Ecosystem = Ecosystem {
    name: "composer",
    manifests: std::borrow::Cow::Borrowed("composer.json composer.lock"),
    manifests_suffice: true,
};
const MAVEN: Ecosystem = Ecosystem {
    name: "maven",
    manifests: std::borrow::Cow::Borrowed("pom.xml"),
    manifests_suffice: false,
};
const GRADLE: Ecosystem = Ecosystem {
    name: "gradle",
    manifests: std::borrow::Cow::Borrowed("build.gradle* settings.gradle* gradle.properties*"),
    manifests_suffice: false,
};

/// The ecosystem whose dependencies `command` installs from manifests, if any.
/// `npm install express` (named packages) and `pip install .` (the project
/// itself) are not manifest installs.
pub fn dependency_install(command: &SimpleCommand) -> Option<Ecosystem> {
    let sub = command.subcommand();
    let named_packages = || command.args().iter().skip(1).any(|a| !a.starts_with('-'));
    match command.program() {
        "npm" => match sub {
            Some("ci") => Some(NPM),
            Some("install" | "i")
                if !named_packages()
                    && !command.has_flag("-g")
                    && !command.has_flag("--global") =>
            {
                Some(NPM)
            }
            _ => None,
        },
        "yarn" => match sub {
            // `yarn --version` / `yarn --help` have no subcommand either.
            None if ["--version", "-v", "--help", "-h"]
                .iter()
                .any(|f| command.has_flag(f)) =>
            {
                None
            }
            None | Some("install") => Some(YARN),
            _ => None,
        },
        "pnpm" => match sub {
            Some("install" | "i" | "fetch") if !named_packages() => Some(PNPM),
            _ => None,
        },
        "pip" | "pip3" => pip_requirements(command.args()),
        "python" | "python3" => match command.args() {
            [m, pip, rest @ ..] if m == "-m" && pip == "pip" => pip_requirements(rest),
            _ => None,
        },
        "poetry" if sub == Some("install") => Some(POETRY),
        "uv" => match sub {
            Some("sync") => Some(UV),
            Some("pip") => pip_requirements(command.args().get(1..).unwrap_or(&[])),
            _ => None,
        },
        "pipenv" if sub == Some("install") => Some(PIPENV),
        "go" => match command.args() {
            [m, d, ..] if m == "mod" && d == "download" => Some(GO),
            _ => None,
        },
        "cargo" => match sub {
            Some("fetch" | "build") => Some(CARGO),
            _ => None,
        },
        "bundle" | "bundler" if sub == Some("install") => Some(BUNDLER),
        "composer" if sub == Some("install") => Some(COMPOSER),
        "mvn" | "mvnw" => {
            let goals = [
                "dependency:go-offline",
                "dependency:resolve",
                "package",
                "install",
                "verify",
            ];
            command
                .args()
                .iter()
                .any(|a| goals.contains(&a.as_str()))
                .then_some(MAVEN)
        }
        "gradle" | "gradlew" => {
            let tasks = [
                "build",
                "assemble",
                "dependencies",
                "bootJar",
                "shadowJar",
                "installDist",
            ];
            command
                .args()
                .iter()
                .any(|a| tasks.contains(&a.as_str()))
                .then_some(GRADLE)
        }
        _ => None,
    }
}

/// `pip install -r requirements.txt` (a requirements file is the manifest).
fn pip_requirements(args: &[String]) -> Option<Ecosystem> {
    if args.first().map(String::as_str) != Some("install") {
        return None;
    }
    let mut files = Vec::new();
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        if arg == "-r" || arg == "--requirement" {
            files.extend(words.next().cloned());
        } else if let Some(file) = arg
            .strip_prefix("--requirement=")
            .or_else(|| arg.strip_prefix("-r"))
        {
            files.push(file.to_string());
        }
    }
    files.retain(|f| !f.is_empty());
    (!files.is_empty()).then(|| Ecosystem {
        name: "pip",
        manifests: std::borrow::Cow::Owned(files.join(" ")),
        manifests_suffice: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell_command::split_script;

    fn eco(script: &str) -> Option<&'static str> {
        split_script(script)
            .iter()
            .find_map(dependency_install)
            .map(|e| e.name)
    }

    #[test]
    fn recognises_manifest_installs() {
        assert_eq!(eco("npm ci"), Some("npm"));
        assert_eq!(eco("npm install --omit=dev"), Some("npm"));
        assert_eq!(eco("yarn install --frozen-lockfile"), Some("yarn"));
        assert_eq!(
            eco("pip install --no-cache-dir -r requirements.txt"),
            Some("pip")
        );
        assert_eq!(eco("python -m pip install -r req.txt"), Some("pip"));
        assert_eq!(eco("go mod download"), Some("go"));
        assert_eq!(eco("bundle install"), Some("bundler"));
        assert_eq!(eco("mvn -B dependency:go-offline"), Some("maven"));
    }

    #[test]
    fn ignores_named_packages_and_project_installs() {
        assert_eq!(eco("npm install -g typescript"), None);
        assert_eq!(eco("npm install express"), None);
        assert_eq!(eco("pip install ."), None);
        assert_eq!(eco("pip install flask"), None);
        assert_eq!(eco("npm run build"), None);
        assert_eq!(eco("yarn --version"), None);
        assert_eq!(eco("yarn --frozen-lockfile"), Some("yarn"));
    }
}
