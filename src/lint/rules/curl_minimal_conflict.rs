//! LI112 `curl-minimal-conflict`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{package_base, pkg_commands, Flavor, Sub};
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, _, pc) in pkg_commands(cx) {
        if !pc.class.is_al2023() || !pc.tool.is_dnf_family() || pc.sub != Some(Sub::Install) {
            continue;
        }
        // §2.4: full dnf resolves the conflict with `--allowerasing`; microdnf cannot.
        if pc.flavor != Flavor::Microdnf && pc.has_option(&["--allowerasing"]) {
            continue;
        }
        for w in &pc.args {
            let minimal = match package_base(&w.value) {
                "curl" | "curl-full" => "curl-minimal",
                "libcurl" | "libcurl-full" => "libcurl-minimal",
                _ => continue,
            };
            let instead = if pc.flavor == Flavor::Microdnf {
                format!("keep the preinstalled `{minimal}` (microdnf has neither `--allowerasing` nor `swap`)")
            } else {
                format!(
                    "keep `{minimal}`, or replace it with `dnf install -y --allowerasing {}` or `dnf swap {minimal} {}`",
                    w.value, w.value
                )
            };
            out.push(RULE.diagnostic(
                format!(
                    "installing `{}` conflicts with the preinstalled `{minimal}` of {}; {instead}",
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
    /// Flags installing full `curl` or `libcurl` over Amazon Linux 2023's `curl-minimal`.
    ///
    /// Flags installing full `curl` or `libcurl` (also `curl-full`, `libcurl-full`) in any
    /// Amazon Linux 2023 stage, unless full dnf is told to replace the minimal packages
    /// (`--allowerasing`; `dnf swap` is a different command and is not flagged). On an AL2023
    /// minimal image (the AWS Lambda base images for AL2023 and `amazonlinux:2023-minimal`) `dnf`
    /// is microdnf, which cannot replace them; after `microdnf install -y dnf` it is dnf 4, and
    /// `dnf install --allowerasing` is accepted there too.
    ///
    /// ## Why is this bad?
    /// AL2023 images come with `curl-minimal` and `libcurl-minimal`, which provide the `curl`
    /// command and library. Installing the full packages fails the step with
    /// `package curl-minimal-… conflicts with curl provided by curl-…`. In AL2023 minimal images
    /// `dnf` is microdnf, which has neither `--allowerasing` nor `swap`, so the minimal packages have to
    /// stay; they cover what most builds need.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y curl unzip
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y unzip
    /// ```
    /// On `amazonlinux:2023`: `dnf install -y --allowerasing curl` or
    /// `dnf swap curl-minimal curl`.
    ///
    /// There is no fix: whether the minimal package is enough has to be decided.
    ///
    /// ## References
    /// - [amazonlinux/amazon-linux-2023#150](https://github.com/amazonlinux/amazon-linux-2023/issues/150), [amazonlinux/amazon-linux-2023#416](https://github.com/amazonlinux/amazon-linux-2023/issues/416), [amazonlinux/amazon-linux-2023#470](https://github.com/amazonlinux/amazon-linux-2023/issues/470)
    /// - [aws/aws-lambda-base-images#92](https://github.com/aws/aws-lambda-base-images/issues/92) (curl and gnupg2 ship as `curl-minimal` and `gnupg2-minimal`)
    LI112, "curl-minimal-conflict", Error, None, check
}
