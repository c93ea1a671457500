//! The one code table. Codes and names are a public contract (lint-rules.md).

use super::{rules, Rule};

/// Every rule, ordered by code.
pub const RULES: &[Rule] = &[
    rules::parse_error::RULE,
    rules::yum_not_available::RULE,
    rules::amazon_linux_extras_removed::RULE,
    rules::epel_unavailable::RULE,
    rules::microdnf_no_groups::RULE,
    rules::microdnf_no_local_rpm::RULE,
    rules::microdnf_unknown_command::RULE,
    rules::microdnf_unknown_option::RULE,
    rules::microdnf_setopt_boolean::RULE,
    rules::microdnf_setopt_unknown::RULE,
    rules::microdnf_clean_all_only::RULE,
    rules::microdnf_cache_path::RULE,
    rules::curl_minimal_conflict::RULE,
    rules::package_not_in_al2023::RULE,
    rules::tool_missing_in_minimal::RULE,
    rules::upgrade_release_locked::RULE,
    rules::rpm_cache_left::RULE,
    rules::rpm_assume_yes::RULE,
    rules::syntax_directive_pull::RULE,
    rules::lambda_al2_base::RULE,
    rules::floating_base_tag::RULE,
    rules::handler_cmd_arity::RULE,
    rules::entrypoint_not_absolute::RULE,
    rules::handler_cmd_missing::RULE,
    rules::secret_in_arg_or_env::RULE,
];

/// Finds a rule by code (`LI101`, any case) or name (`yum-not-available`).
pub fn find(key: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name == key)
}
