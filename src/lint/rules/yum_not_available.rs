//! LI101 `yum-not-available`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::{safe, value_span};
use crate::lint::analysis::package_manager::{
    microdnf_accepts_option, pkg_commands, Flavor, Sub, Tool,
};
use crate::lint::{Context, Diagnostic, Edit};

/// Setopt keys microdnf handles (§2.2); repo-scoped `<repoid>.<opt>` keys are handled too.
pub(crate) const MICRODNF_SETOPT_KEYS: &[&str] = &[
    "install_weak_deps",
    "allow_vendor_change",
    "keepcache",
    "module_platform_id",
    "cachedir",
    "reposdir",
    "varsdir",
    "tsflags",
];

/// Whether microdnf accepts `--setopt=<key>=<value>` (booleans are LI108's business: their key is
/// accepted here).
pub(crate) fn microdnf_accepts_setopt(key: &str, value: Option<&str>) -> bool {
    if key == "tsflags" {
        return matches!(value, Some("nodocs" | "test"));
    }
    value.is_some() && (MICRODNF_SETOPT_KEYS.contains(&key) || key.contains('.'))
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let src = cx.df.source.as_str();
    for (run, _, pc) in pkg_commands(cx) {
        // §2.1: AL2023 minimal images have no yum and no yum-utils.
        if pc.flavor != Flavor::Missing {
            continue;
        }
        let name = pc.name();
        let fix = (pc.tool == Tool::Yum)
            .then(|| {
                let sub_ok = match pc.sub {
                    // `clean all"]`: a target in a quote never closed is read as written
                    // before the quote (the shell refuses the script until it is closed).
                    Some(Sub::Clean) => {
                        pc.args.iter().all(|a| match a.open_quote {
                            Some(q) => src.get(a.span.start..q) == Some("all"),
                            None => a.value == "all",
                        }) && !pc.args.is_empty()
                    }
                    Some(s) => s.microdnf_accepts() && pc.sub_words.len() == 1,
                    None => false,
                };
                let opts_ok = pc.options.iter().all(|o| {
                    microdnf_accepts_option(&o.name)
                        && o.setopt()
                            .is_none_or(|(k, v)| microdnf_accepts_setopt(k, v))
                });
                // Once full dnf is installed over microdnf, it takes every yum command.
                if !(pc.installed.dnf || sub_ok && opts_ok) {
                    return None;
                }
                // Replace the program's base name only (`/usr/bin/yum` → `/usr/bin/dnf`).
                let span = value_span(src, pc.program)?;
                let start = span.end.checked_sub(3)?;
                (src.get(start..span.end) == Some("yum")).then(|| {
                    safe(
                        "Replace `yum` with `dnf`",
                        vec![Edit::replace(start..span.end, "dnf")],
                    )
                })
            })
            .flatten();
        let base = BaseNote::at(cx.df, run.stage, pc.installed);
        let message = match pc.tool {
            Tool::Yum if fix.is_some() && pc.installed.dnf => format!(
                "`{name}` does not exist in {base}, so the step exits 127; use `dnf {}` (the dnf 4 an earlier step installed)",
                pc.sub_text()
            ),
            Tool::Yum if fix.is_some() => format!(
                "`{name}` does not exist in {base}, so the step exits 127; use `dnf {}` (microdnf)",
                pc.sub_text()
            ),
            Tool::Yum => format!(
                "`{name}` does not exist in {base}, so the step exits 127; `dnf` (microdnf) replaces it but does not accept this command as written"
            ),
            Tool::YumConfigManager => format!(
                "`{name}` does not exist in {base}, so the step exits 127; write a `.repo` file in `/etc/yum.repos.d/` instead"
            ),
            Tool::Yumdownloader => format!(
                "`{name}` does not exist in {base}, so the step exits 127; use `dnf download`"
            ),
            _ => format!(
                "`{name}` does not exist in {base}, so the step exits 127; install build dependencies with `dnf install`"
            ),
        };
        out.push(RULE.diagnostic(message, pc.program.span.clone(), fix));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags `yum` and the yum-utils programs in a stage on an AL2023 minimal image.
    ///
    /// Flags `yum`, `yum-config-manager`, `yumdownloader` and `yum-builddep` in a stage built on
    /// an Amazon Linux 2023 *minimal* image: the AWS Lambda base images for AL2023 and
    /// `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage has dnf 4, which
    /// takes every yum command, so the fix is offered for any `yum` command; `yum` itself stays
    /// missing until the `yum` package is installed too.
    ///
    /// ## Why is this bad?
    /// The AL2023 minimal image, and so every Lambda AL2023 image, ships microdnf, with `dnf` a
    /// symlink to it, and no yum at all: the step fails with
    /// `/bin/sh: line 1: yum: command not found` (exit 127). This is the first thing that breaks
    /// when `python:3.11` becomes `python:3.12` or when `latest` moved to AL2023. Installing yum
    /// or full dnf on top conflicts with `microdnf-dnf` unless that goes first
    /// (`dnf remove -y microdnf-dnf && microdnf install -y dnf`, as the AWS SAM build images do).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN yum install -y gcc && yum clean all
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && dnf clean all
    /// ```
    ///
    /// ## Fix safety
    /// The fix replaces `yum` with `dnf` and is safe: the command cannot run as written, and
    /// it is offered only when the subcommand and every option are ones microdnf accepts. When
    /// they are not (`yum groupinstall`, `--skip-broken`…) there is no fix, and the rule that
    /// names the unsupported part says why. The yum-utils programs have no fix.
    ///
    /// ## References
    /// - [AWS Lambda Developer Guide: Node.js container images](https://docs.aws.amazon.com/lambda/latest/dg/nodejs-image.html) (AL2023 images use microdnf, symlinked as `dnf`, instead of yum)
    /// - [microdnf 3.8.1 `dnf/plugins/`](https://github.com/rpm-software-management/microdnf/tree/3.8.1/dnf/plugins) (the commands microdnf implements) and [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (its options)
    /// - [aws/aws-lambda-base-images#124](https://github.com/aws/aws-lambda-base-images/issues/124) (`yum: command not found`)
    /// - [amazonlinux/container-images#110](https://github.com/amazonlinux/container-images/issues/110) (installing dnf over microdnf conflicts)
    LI101, "yum-not-available", Error, Sometimes, check
}
