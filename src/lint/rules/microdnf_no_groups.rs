//! LI104 `microdnf-no-groups`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{microdnf_commands, Sub};
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, pc) in microdnf_commands(cx) {
        let base = BaseNote::at(cx.df, run.stage, pc.installed);
        match pc.sub {
            Some(Sub::GroupInstall | Sub::Group) => {
                let Some(span) = pc.sub_span() else { continue };
                let groups: Vec<String> =
                    pc.args.iter().map(|w| format!("`{}`", w.value)).collect();
                let what = if groups.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", groups.join(", "))
                };
                out.push(RULE.diagnostic(
                    format!(
                        "`{} {}` fails in {base}: microdnf has no package groups; install an explicit package list{what}, e.g. `dnf install -y gcc gcc-c++ make`",
                        pc.name(),
                        pc.sub_text()
                    ),
                    span,
                    None,
                ));
            }
            Some(Sub::Install) => {
                for w in pc.args.iter().filter(|w| w.value.starts_with('@')) {
                    out.push(RULE.diagnostic(
                        format!(
                            "`{}` is a package group, which `{}` cannot install in {base}: microdnf has no package groups; list the packages explicitly, e.g. `gcc gcc-c++ make`",
                            w.value,
                            pc.name()
                        ),
                        w.span.clone(),
                        None,
                    ));
                }
            }
            _ => {}
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags package groups in a stage on an AL2023 minimal image, where microdnf has none.
    ///
    /// Flags package-group commands (`groupinstall`, `group install`, `groups install`, and the
    /// other `group` commands) and `@Group` arguments to `install` in a stage built on an Amazon
    /// Linux 2023 *minimal* image: the AWS Lambda base images for AL2023 and
    /// `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage has dnf 4, and its
    /// `dnf` commands are no longer flagged (`microdnf` ones still are).
    ///
    /// ## Why is this bad?
    /// In AL2023 minimal images `dnf` is microdnf 3.8.1, which has no group support: the step
    /// fails with ``This is microdnf, which implements subset of `dnf'.`` and
    /// `error: Unknown command: 'groupinstall'` (or `No package matches '@Development Tools'`).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf groupinstall -y "Development Tools"
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc gcc-c++ make && dnf clean all
    /// ```
    ///
    /// There is no fix: which packages of the group the build needs has to be chosen.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/plugins/`](https://github.com/rpm-software-management/microdnf/tree/3.8.1/dnf/plugins) (one plugin per command; none for groups)
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (the unknown-command message)
    LI104, "microdnf-no-groups", Error, None, check
}
