//! One file per rule; the analysis they share (package-manager commands, spans and edits, the
//! base image as messages name it, the handler `CMD`, stage walking) is in
//! [`crate::lint::analysis`].

pub mod amazon_linux_extras_removed;
pub mod curl_minimal_conflict;
pub mod entrypoint_not_absolute;
pub mod epel_unavailable;
pub mod floating_base_tag;
pub mod handler_cmd_arity;
pub mod handler_cmd_missing;
pub mod lambda_al2_base;
pub mod microdnf_cache_path;
pub mod microdnf_clean_all_only;
pub mod microdnf_no_groups;
pub mod microdnf_no_local_rpm;
pub mod microdnf_setopt_boolean;
pub mod microdnf_setopt_unknown;
pub mod microdnf_unknown_command;
pub mod microdnf_unknown_option;
pub mod package_not_in_al2023;
pub mod parse_error;
pub mod rpm_assume_yes;
pub mod rpm_cache_left;
pub mod secret_in_arg_or_env;
pub mod syntax_directive_pull;
pub mod tool_missing_in_minimal;
pub mod upgrade_release_locked;
pub mod yum_not_available;
