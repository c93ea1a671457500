//! LI105 `microdnf-no-local-rpm`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{microdnf_commands, Sub};
use crate::lint::{Context, Diagnostic};

/// A local file or URL argument (`./x.rpm`, `/tmp/x.rpm`, `*.rpm`, `https://…/x.rpm`).
fn is_rpm_file(v: &str) -> bool {
    v.ends_with(".rpm") || v.contains("://") && !v.starts_with('$')
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, pc) in microdnf_commands(cx) {
        let base = BaseNote::at(cx.df, run.stage, pc.installed);
        match pc.sub {
            Some(Sub::LocalInstall) => {
                let Some(span) = pc.sub_span() else { continue };
                out.push(RULE.diagnostic(
                    format!(
                        "`{} localinstall` fails in {base}: microdnf has no `localinstall`; install the file with `rpm -Uvh <file>` or in a full-dnf `amazonlinux:2023` build stage",
                        pc.name()
                    ),
                    span,
                    None,
                ));
            }
            Some(Sub::Install | Sub::Reinstall | Sub::Upgrade) => {
                for w in pc.args.iter().filter(|w| is_rpm_file(&w.value)) {
                    out.push(RULE.diagnostic(
                        format!(
                            "`{} {} {}` fails in {base}: microdnf installs only from repositories; use `rpm -Uvh {}` or install it in a full-dnf `amazonlinux:2023` build stage",
                            pc.name(),
                            pc.sub_text(),
                            w.value,
                            w.value
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
    /// Flags installing `.rpm` files or URLs with microdnf in a stage on an AL2023 minimal image.
    ///
    /// Flags installing a local or remote `.rpm` file (`localinstall`, `install ./x.rpm`, `install
    /// /path/x.rpm`, `install https://…/x.rpm`) with dnf or microdnf in a stage built on an Amazon
    /// Linux 2023 *minimal* image: the AWS Lambda base images for AL2023 and
    /// `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage has dnf 4, and its
    /// `dnf` commands are no longer flagged (`microdnf` ones still are).
    ///
    /// ## Why is this bad?
    /// microdnf, which `dnf` is in these images, installs only from repositories: it treats the
    /// argument as a package name and fails with `error: No package matches './x.rpm'`;
    /// `localinstall` is an unknown command.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// COPY vendor.rpm /tmp/
    /// RUN dnf install -y /tmp/vendor.rpm
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// COPY vendor.rpm /tmp/
    /// RUN rpm -Uvh /tmp/vendor.rpm && rm /tmp/vendor.rpm
    /// ```
    /// (`rpm` does not resolve dependencies: install them with `dnf` first, or build in an
    /// `amazonlinux:2023` stage, which has full dnf, and `COPY --from` the result.)
    ///
    /// There is no fix: `rpm -Uvh` does not resolve dependencies, so the replacement has to be
    /// checked by hand.
    ///
    /// ## References
    /// - [rpm-software-management/microdnf#20](https://github.com/rpm-software-management/microdnf/issues/20), [rpm-software-management/microdnf#140](https://github.com/rpm-software-management/microdnf/issues/140) (no installs from files)
    LI105, "microdnf-no-local-rpm", Error, None, check
}
