//! One file per rule, plus the predicates they share.

pub mod parse_error;
pub mod yum_not_available;
pub mod amazon_linux_extras_removed;
pub mod epel_unavailable;
pub mod microdnf_no_groups;
pub mod microdnf_no_local_rpm;
pub mod microdnf_unknown_command;
pub mod microdnf_unknown_option;
pub mod microdnf_setopt_boolean;
pub mod microdnf_setopt_unknown;
pub mod microdnf_clean_all_only;
pub mod microdnf_cache_path;
pub mod curl_minimal_conflict;
pub mod package_not_in_al2023;
pub mod tool_missing_in_minimal;
pub mod upgrade_release_locked;
pub mod rpm_cache_left;
pub mod rpm_assume_yes;
pub mod lambda_al2_base;
pub mod floating_base_tag;
pub mod handler_cmd_arity;
pub mod entrypoint_not_absolute;
