//! layercake's configuration: the `.layercake.yml` file, how it is found, and
//! how it resolves, under the command line, into the settings for one Dockerfile.
//!
//! Precedence, strongest first: command-line flags ([`CliOverrides`]), then the
//! Dockerfile's `images` entry (its `target` and `budget`), then the `overrides`
//! entries whose globs match the Dockerfile (later entries win), then the
//! file's top level, then layercake's defaults. See `docs/configuration.md`.
//!
//! Without a `.layercake.yml`, a `.hadolint.yaml` is read for what it
//! means in layercake ([`migrate_hadolint`]).
//!
//! `images` ([`ImageSpec`]) also says how `layercake diff` builds each
//! Dockerfile, and `budget` ([`Budget`]) how much its image may grow.
//!
//! ```
//! use layercake_config::{CliOverrides, Config};
//! use std::path::Path;
//!
//! let config = Config::from_yaml(
//!     Path::new("/repo/.layercake.yml"),
//!     "fail-on: error\noverrides:\n  - paths: [\"legacy/**\"]\n    fail-on: none\n",
//! )?;
//! let settings = config.settings_for(Path::new("/repo/legacy/Dockerfile"), &CliOverrides::default());
//! assert_eq!(settings.fail_on, layercake_config::FailOn::Never);
//! # Ok::<(), layercake_config::ConfigError>(())
//! ```
#![deny(missing_docs)]

mod budget;
mod config;
mod discovery;
mod error;
mod hadolint;
mod images;
mod schema;

pub use budget::{
    Budget, BudgetLimit, BudgetViolation, format_bytes, format_signed_bytes, parse_size,
};
pub use config::{
    CliOverrides, Config, FailOn, InvalidFailOn, ResolvedSettings, RuleLevel, load, resolve_rule,
};
pub use discovery::{CONFIG_FILE_NAMES, ConfigResolver, discover};
pub use error::{ConfigError, ConfigLocation};
pub use hadolint::{HADOLINT_FILE_NAMES, is_hadolint_file, migrate_hadolint};
pub use images::{ImageSpec, SecretSourceSpec, SecretSpec};
