//! The one table of rules: code → rule. Codes are never reused.
//!
//! Codes by category: LC0xx the file itself, LC1xx multi-stage, LC2xx cache,
//! LC3xx size, LC4xx security, LC5xx correctness. Keep each section in code
//! order.

use crate::rule::Rule;
use crate::rules;

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    // ── file (LC0xx) ──
    &rules::parse_error::ParseError,
    &rules::empty_continuation_line::EmptyContinuationLine,
    // ── multi-stage (LC1xx) ──
    &rules::copy_from_unknown_stage::CopyFromUnknownStage,
    &rules::unused_stage::UnusedStage,
    &rules::stage_outside_target::StageOutsideTarget,
    &rules::copy_from_later_stage::CopyFromLaterStage,
    &rules::duplicate_stage_name::DuplicateStageName,
    &rules::copy_whole_stage::CopyWholeStage,
    &rules::toolchain_base_in_final_stage::ToolchainBaseInFinalStage,
    &rules::build_tools_in_final_stage::BuildToolsInFinalStage,
    &rules::single_stage_build::SingleStageBuild,
    // ── cache (LC2xx) ──
    &rules::broad_copy_before_install::BroadCopyBeforeInstall,
    &rules::apt_update_separate_run::AptUpdateSeparateRun,
    &rules::volatile_value_before_expensive_step::VolatileValueBeforeExpensiveStep,
    &rules::install_without_cache_mount::InstallWithoutCacheMount,
    &rules::missing_dockerignore::MissingDockerignore,
    &rules::copy_of_dockerignored_path::CopyOfDockerignoredPath,
    // ── size (LC3xx) ──
    &rules::cleanup_in_later_layer::CleanupInLaterLayer,
    &rules::apt_without_no_install_recommends::AptWithoutNoInstallRecommends,
    &rules::apt_lists_kept::AptListsKept,
    &rules::apk_without_no_cache::ApkWithoutNoCache,
    &rules::pip_without_no_cache_dir::PipWithoutNoCacheDir,
    &rules::package_manager_cache_kept::PackageManagerCacheKept,
    &rules::yum_without_clean::YumWithoutClean,
    &rules::full_base_image_in_runtime::FullBaseImageInRuntime,
    &rules::add_instead_of_copy::AddInsteadOfCopy,
    &rules::apt_archives_kept::AptArchivesKept,
    // ── security (LC4xx) ──
    &rules::runs_as_root::RunsAsRoot,
    &rules::secret_in_arg_or_env::SecretInArgOrEnv,
    &rules::unpinned_base_image::UnpinnedBaseImage,
    &rules::curl_pipe_shell::CurlPipeShell,
    &rules::sudo_in_run::SudoInRun,
    &rules::add_url_without_checksum::AddUrlWithoutChecksum,
    // ── correctness (LC5xx) ──
    &rules::shell_form_entrypoint::ShellFormEntrypoint,
    &rules::relative_workdir::RelativeWorkdir,
    &rules::invalid_expose::InvalidExpose,
    &rules::multiple_cmd_or_entrypoint::MultipleCmdOrEntrypoint,
    &rules::undefined_variable::UndefinedVariable,
    &rules::arg_in_from_not_declared::ArgInFromNotDeclared,
    &rules::apt_get_install_without_yes::AptGetInstallWithoutYes,
    &rules::cd_in_run::CdInRun,
    &rules::instruction_before_from::InstructionBeforeFrom,
    &rules::unknown_instruction::UnknownInstruction,
    &rules::run_only_changes_directory::RunOnlyChangesDirectory,
    &rules::from_platform_constant::FromPlatformConstant,
    &rules::from_arg_without_default::FromArgWithoutDefault,
    &rules::legacy_key_value_format::LegacyKeyValueFormat,
];

/// The rule with `code` (e.g. `LC201`), case-insensitively.
pub fn rule_by_code(code: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}

/// The rule named `name` (e.g. `broad-copy-before-install`).
pub fn rule_by_name(name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().name == name)
}
