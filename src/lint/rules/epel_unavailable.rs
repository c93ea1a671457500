//! LI103 `epel-unavailable`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{package_base, pkg_commands, Tool};
use crate::lint::{Context, Diagnostic};

/// An EPEL release package URL (`…/epel-release-latest-7.noarch.rpm`).
fn is_epel_url(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    lower.contains("://") && lower.ends_with(".rpm") && lower.contains("epel")
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, _, pc) in pkg_commands(cx) {
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
                    "EPEL (`{}`) is not available for {}; use SPAL (Supplementary Packages for Amazon Linux) or build the software in a separate stage",
                    w.value,
                    BaseNote::at(cx.df, run.stage, pc.installed)
                ),
                w.span.clone(),
                None,
            ));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags installing EPEL in an Amazon Linux 2023 stage.
    ///
    /// Flags installing `epel-release`, an EPEL release `.rpm` URL, or
    /// `amazon-linux-extras install epel` in any Amazon Linux 2023 stage: on an AL2023 minimal
    /// image (the AWS Lambda base images for AL2023 and `amazonlinux:2023-minimal`) or on full
    /// `amazonlinux:2023` and the SAM build images.
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
    /// - [AL2023 User Guide: EPEL](https://docs.aws.amazon.com/linux/al2023/ug/epel.html)
    /// - [AL2023 User Guide: Supplementary Packages for Amazon Linux](https://docs.aws.amazon.com/linux/al2023/ug/spal.html)
    /// - [devcontainers/features#1449](https://github.com/devcontainers/features/issues/1449) (`No package matches 'epel-release'`)
    LI103, "epel-unavailable", Error, None, check
}
