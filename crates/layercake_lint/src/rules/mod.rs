//! One rule per file, named after the pattern it reports.

// ── file (LC0xx) ──
/// LC002: an empty line inside a continued instruction.
pub mod empty_continuation_line;
/// LC001: BuildKit cannot parse the file.
pub mod parse_error;

// ── multi-stage (LC1xx) ──
/// LC108: build tools or devDependencies in the shipped image.
pub mod build_tools_in_final_stage;
/// LC104: `COPY --from` names this stage or a later one.
pub mod copy_from_later_stage;
/// LC101: `COPY --from` names no stage.
pub mod copy_from_unknown_stage;
/// LC106: `COPY --from=<stage> / /` copies a whole stage.
pub mod copy_whole_stage;
/// LC105: two stages with the same name.
pub mod duplicate_stage_name;
/// LC109: a single-stage Dockerfile that builds the application.
pub mod single_stage_build;
/// LC103: a stage outside the build target.
pub mod stage_outside_target;
/// LC107: the shipped image is a toolchain image that builds in place.
pub mod toolchain_base_in_final_stage;
/// LC102: a stage no build can reach.
pub mod unused_stage;

// ── cache (LC2xx) ──
/// LC202: the package index is refreshed in an earlier RUN than the install.
pub mod apt_update_separate_run;
/// LC201: the whole context is copied before the dependency install.
pub mod broad_copy_before_install;
/// LC206: a COPY of a path `.dockerignore` excludes.
pub mod copy_of_dockerignored_path;
/// LC204: a dependency install without a BuildKit cache mount.
pub mod install_without_cache_mount;
/// LC205: the whole context is copied and there is no `.dockerignore`.
pub mod missing_dockerignore;
/// LC203: a per-build value (date, commit) declared before expensive steps.
pub mod volatile_value_before_expensive_step;

// ── size (LC3xx) ──
/// LC309: `ADD` of local files that are not archives.
pub mod add_instead_of_copy;
/// LC304: `apk add` without `--no-cache`.
pub mod apk_without_no_cache;
/// LC310: apt keeps downloaded packages with no cache mount on `/var/cache/apt`.
pub mod apt_archives_kept;
/// LC303: `apt-get update` leaves the package lists in the shipped image.
pub mod apt_lists_kept;
/// LC302: `apt-get install` without `--no-install-recommends`.
pub mod apt_without_no_install_recommends;
/// LC301: a RUN deletes what an earlier layer wrote.
pub mod cleanup_in_later_layer;
/// LC308: the shipped image is built on a full base image.
pub mod full_base_image_in_runtime;
mod kept_caches;
/// LC306: an npm or yarn install leaves its cache in the shipped image.
pub mod package_manager_cache_kept;
/// LC305: `pip install` without `--no-cache-dir`.
pub mod pip_without_no_cache_dir;
mod run_words;
/// LC307: a yum/dnf/zypper install without a clean.
pub mod yum_without_clean;

// ── security (LC4xx) ──
/// LC406: `ADD <url>` without `--checksum`.
pub mod add_url_without_checksum;
/// LC404: a download piped into a shell.
pub mod curl_pipe_shell;
/// LC401: the shipped image runs as root.
pub mod runs_as_root;
/// LC402: a secret passed through ARG or ENV.
pub mod secret_in_arg_or_env;
/// LC405: `sudo` in a RUN.
pub mod sudo_in_run;
/// LC403: an untagged or `:latest` base image.
pub mod unpinned_base_image;

// ── correctness (LC5xx) ──
/// LC507: a package manager left to ask for confirmation.
pub mod apt_get_install_without_yes;
/// LC506: a FROM variable no global ARG declares.
pub mod arg_in_from_not_declared;
/// LC508: `RUN cd DIR && …` where WORKDIR fits.
pub mod cd_in_run;
/// LC513: a FROM uses a global ARG without a default.
pub mod from_arg_without_default;
/// LC512: `FROM --platform=` with a constant platform.
pub mod from_platform_constant;
/// LC509: an instruction before the first FROM, or no FROM.
pub mod instruction_before_from;
/// LC503: EXPOSE with an invalid port or a host mapping.
pub mod invalid_expose;
/// LC514: `ENV key value` / `LABEL key value` in the legacy form.
pub mod legacy_key_value_format;
/// LC504: an overridden CMD, ENTRYPOINT or HEALTHCHECK.
pub mod multiple_cmd_or_entrypoint;
/// LC502: WORKDIR with a relative path.
pub mod relative_workdir;
/// LC511: a RUN that only changes directory.
pub mod run_only_changes_directory;
/// LC501: the shipped CMD or ENTRYPOINT is in shell form.
pub mod shell_form_entrypoint;
/// LC505: a build argument used where it is not in scope.
pub mod undefined_variable;
/// LC510: an instruction word Docker does not know.
pub mod unknown_instruction;

mod dev_environment;
