//! Known build failures on Amazon Linux 2023, recognised in the failing step's output and
//! explained by the lint rule that describes them (`lambda-image rule LI101`).

use crate::lint::rules;

/// Why a build failed, when the output says so in a way we know.
pub fn explain(
    instruction: &str,
    output: &[String],
    message: &str,
    cross: Option<&str>,
) -> Option<String> {
    let text = |needle: &str| output.iter().any(|l| l.contains(needle)) || message.contains(needle);
    // Only the engine's own words: with QEMU registered, an arm64 RUN step runs on amd64
    // and fails for the reasons any step does.
    if text("exec format error") {
        let arch = cross.unwrap_or("another architecture");
        return Some(format!(
            "this engine cannot run {arch} programs, so a RUN step of an {arch} image fails (exec format error); \
             build it on an {arch} runner, or install qemu binfmt emulation on this host \
             (docker run --privileged --rm tonistiigi/binfmt --install {arch}); COPY-only images build anywhere"
        ));
    }
    let code_127 = message.contains("returned a non-zero code: 127");
    if (code_127 && instruction.contains("yum"))
        || text("yum: command not found")
        || text("yum: not found")
    {
        return Some(rule_hint(
            rules::yum_not_available::RULE.code,
            "yum is not in Amazon Linux 2023 minimal images: use dnf (microdnf)",
        ));
    }
    if text("amazon-linux-extras: command not found")
        || text("amazon-linux-extras: not found")
        || (code_127 && instruction.contains("amazon-linux-extras"))
    {
        return Some(rule_hint(
            rules::amazon_linux_extras_removed::RULE.code,
            "amazon-linux-extras does not exist on Amazon Linux 2023: install the package by its AL2023 name",
        ));
    }
    if text("No package matches")
        || (text("No package ") && text(" available"))
        || text("nothing provides")
    {
        return Some(rule_hint(
            rules::package_not_in_al2023::RULE.code,
            "microdnf could not find a package: it may be named differently on Amazon Linux 2023, or come from EPEL, which AL2023 does not support",
        ));
    }
    let microdnf = [
        ("Unknown option", rules::microdnf_unknown_option::RULE.code),
        (
            "Unknown command",
            rules::microdnf_unknown_command::RULE.code,
        ),
        (
            "Invalid boolean value",
            rules::microdnf_setopt_boolean::RULE.code,
        ),
        (
            "Unable to handle",
            rules::microdnf_setopt_unknown::RULE.code,
        ),
        (
            "Invalid clean argument",
            rules::microdnf_clean_all_only::RULE.code,
        ),
    ];
    if let Some((_, code)) = microdnf.iter().find(|(needle, _)| text(needle)) {
        return Some(rule_hint(
            code,
            "microdnf accepts fewer commands and options than dnf 4 or yum",
        ));
    }
    if code_127 {
        return Some(rule_hint(
            rules::tool_missing_in_minimal::RULE.code,
            "a command was not found (exit 127): Amazon Linux 2023 minimal images leave out many tools; install the package that provides it",
        ));
    }
    None
}

fn rule_hint(code: &str, text: &str) -> String {
    format!("{text} (see `lambda-image rule {code}`; `lambda-image lint` finds it before a build)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_failures_name_their_rule() {
        let out = vec!["/bin/sh: yum: not found".to_string()];
        let why = explain(
            "RUN yum install -y jq",
            &out,
            "returned a non-zero code: 127",
            None,
        );
        assert!(why.is_some_and(|w| w.contains("lambda-image rule LI101")));
        let out = vec!["error: No package matches 'epel-release'".to_string()];
        let why = explain(
            "RUN dnf install -y epel-release",
            &out,
            "returned a non-zero code: 1",
            None,
        );
        assert!(why.is_some_and(|w| w.contains(rules::package_not_in_al2023::RULE.code)));
        // The classic builder's line for an arm64 step on an amd64 engine without QEMU.
        let out = vec!["exec /bin/sh: exec format error".to_string()];
        let why = explain(
            "RUN true",
            &out,
            "The command '/bin/sh -c true' returned a non-zero code: 1",
            Some("arm64"),
        );
        assert!(why.is_some_and(|w| w.contains("arm64 runner")));
        // With QEMU the step ran: its own failure is explained, not the architecture.
        let out = vec!["error: No package matches 'epel-release'".to_string()];
        let why = explain(
            "RUN dnf install -y epel-release",
            &out,
            "returned a non-zero code: 1",
            Some("arm64"),
        );
        assert!(why.is_some_and(|w| w.contains(rules::package_not_in_al2023::RULE.code)));
        assert_eq!(
            explain("RUN false", &[], "returned a non-zero code: 1", None),
            None
        );
    }
}
