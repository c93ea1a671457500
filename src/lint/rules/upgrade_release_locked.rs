//! LI115 `upgrade-release-locked`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{pkg_commands, Sub};
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, _, pc) in pkg_commands(cx) {
        if !pc.class.is_al2023() || !pc.tool.is_dnf_family() || pc.sub != Some(Sub::Upgrade) {
            continue;
        }
        let latest = pc
            .options
            .iter()
            .any(|o| o.name == "--releasever" && o.value.as_deref() == Some("latest"));
        if latest {
            continue;
        }
        let Some(span) = pc.sub_span() else { continue };
        out.push(RULE.diagnostic(
            format!(
                "`{} {}` in {} only sees packages of the AL2023 release the image was built from; add `--releasever=latest` to get newer fixes, or rebuild on a newer base image",
                pc.name(),
                pc.sub_text(),
                BaseNote::at(cx.df, run.stage, pc.installed)
            ),
            span,
            None,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Reports `dnf upgrade` without `--releasever=latest` on Amazon Linux 2023.
    ///
    /// Reports `dnf upgrade`/`dnf update` (or `yum update`) without `--releasever=latest` in any
    /// Amazon Linux 2023 stage: on an AL2023 minimal image (the AWS Lambda base images for AL2023
    /// and `amazonlinux:2023-minimal`) or on full `amazonlinux:2023` and the SAM build images.
    ///
    /// ## Why is this bad?
    /// Amazon Linux 2023 locks its repositories to the release the image was built from
    /// ("deterministic upgrades"): a plain upgrade only sees packages of that release and often
    /// prints `Nothing to do.` while image scanners report fixed advisories. This is
    /// information, not an error: a locked upgrade is reproducible, and rebuilding on a newer
    /// base image is the usual way to get fixes.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf upgrade -y
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf upgrade -y --releasever=latest && dnf clean all
    /// ```
    /// (or drop the upgrade and rebuild when a new base image is published).
    ///
    /// There is no fix: moving to the latest release trades reproducibility for fixes.
    ///
    /// ## References
    /// - [AL2023 User Guide: deterministic upgrades through versioned repositories](https://docs.aws.amazon.com/linux/al2023/ug/deterministic-upgrades-usage.html)
    /// - [aws/aws-lambda-base-images#140](https://github.com/aws/aws-lambda-base-images/issues/140) (`Nothing to do.`)
    LI115, "upgrade-release-locked", Info, None, check
}
