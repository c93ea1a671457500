//! LI103 `epel-unavailable`.

use super::{package_base, pkg_commands, Tool};
use crate::lint::{Context, Diagnostic};

/// An EPEL release package URL (`…/epel-release-latest-7.noarch.rpm`).
fn is_epel_url(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    lower.contains("://") && lower.ends_with(".rpm") && lower.contains("epel")
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, _, pc) in pkg_commands(cx) {
        if !pc.class.is_al2023() {
            continue;
        }
        let hits: Vec<_> = match pc.tool {
            Tool::AmazonLinuxExtras => {
                let installs = pc
                    .sub_words
                    .first()
                    .is_some_and(|w| matches!(w.value.as_str(), "install" | "enable"));
                pc.args
                    .iter()
                    .filter(|w| installs && w.value == "epel")
                    .collect()
            }
            Tool::Rpm => pc.args.iter().filter(|w| is_epel_url(&w.value)).collect(),
            t if t.is_dnf_family() && pc.sub.is_some_and(|s| s.installs()) => pc
                .args
                .iter()
                .filter(|w| package_base(&w.value) == "epel-release" || is_epel_url(&w.value))
                .collect(),
            _ => Vec::new(),
        };
        for w in hits {
            out.push(RULE.diagnostic(
                format!(
                    "EPEL (`{}`) is not available for Amazon Linux 2023; use SPAL (Supplementary Packages for Amazon Linux) or build the software in a separate stage",
                    w.value
                ),
                w.span.clone(),
                None,
            ));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags installing `epel-release`, an EPEL release `.rpm` URL, or
    /// `amazon-linux-extras install epel` in any Amazon Linux 2023 stage.
    ///
    /// ## Why is this bad?
    /// There is no EPEL for Amazon Linux 2023: `dnf install epel-release` fails with
    /// `error: No package matches 'epel-release'`, and EPEL 7 packages built for Amazon Linux 2
    /// do not fit AL2023's libraries. Amazon's replacement is SPAL (Supplementary Packages for
    /// Amazon Linux, derived from EPEL 9), available from AL2023 release 2023.9.20251117.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y epel-release && dnf install -y jq
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y jq && dnf clean all
    /// ```
    /// (or install from SPAL, or build the tool in an `amazonlinux:2023` stage and `COPY --from`
    /// it).
    ///
    /// There is no fix: the replacement source has to be chosen.
    ///
    /// ## References
    /// - domain.md §2.4 (EPEL, SPAL), §4 #5
    /// - devcontainers/features#1449 (`No package matches 'epel-release'`)
    /// - AL2023 User Guide: epel.html, spal.html
    LI103, "epel-unavailable", Error, None, check
}
