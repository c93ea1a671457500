//! LI106 `microdnf-unknown-command`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{microdnf_commands, Sub};
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, pc) in microdnf_commands(cx) {
        let hint = match pc.sub {
            Some(Sub::Search) => "use `dnf repoquery <name>` instead",
            Some(Sub::Info) => "use `dnf repoquery --info <name>` instead",
            Some(Sub::Provides) => "use `dnf repoquery` on the package instead",
            Some(Sub::List) => "use `dnf repoquery --installed` or `rpm -qa` instead",
            Some(Sub::ConfigManager) => {
                "write the repository to a `.repo` file in `/etc/yum.repos.d/` instead"
            }
            Some(Sub::CheckUpdate) => "use `dnf upgrade` or rebuild on a newer base image instead",
            Some(Sub::History) => "remove it: microdnf keeps no usable history",
            Some(Sub::Swap) => "keep the preinstalled package (microdnf cannot swap)",
            Some(Sub::Autoremove) => "remove the unneeded packages with `dnf remove` instead",
            Some(Sub::Builddep) => "install the build dependencies with `dnf install` instead",
            Some(Sub::UpgradeMinimal) => "use `dnf upgrade <packages>` instead",
            _ => continue,
        };
        let Some(span) = pc.sub_span() else { continue };
        out.push(RULE.diagnostic(
            format!(
                "`{} {}` fails in {} with `error: Unknown command`: microdnf does not have it; {hint}",
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
    /// Flags dnf commands that microdnf does not have in a stage on an AL2023 minimal image.
    ///
    /// Flags dnf subcommands that microdnf 3.8.1 does not have (`config-manager`, `search`, `info`,
    /// `list`, `provides`, `whatprovides`, `check-update`, `history`, `swap`, `autoremove`,
    /// `builddep`, `update-minimal`) in a stage built on an Amazon Linux 2023 *minimal* image: the
    /// AWS Lambda base images for AL2023 and `amazonlinux:2023-minimal`. After `microdnf install -y
    /// dnf` the stage has dnf 4, and its `dnf` commands are no longer flagged (`microdnf` ones
    /// still are).
    ///
    /// ## Why is this bad?
    /// `dnf` in these images is microdnf, which implements install, remove, reinstall, upgrade,
    /// distro-sync, clean, makecache, repolist, repoquery, download and module only. Anything
    /// else fails the step with ``This is microdnf, which implements subset of `dnf'.`` and
    /// `error: Unknown command: 'config-manager'`. Installing `dnf-plugins-core` does not help.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/nodejs:20
    /// RUN dnf config-manager --add-repo https://rpm.example.com/example.repo
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/nodejs:20
    /// COPY example.repo /etc/yum.repos.d/example.repo
    /// ```
    /// `search`, `info` and `provides` become `dnf repoquery`.
    ///
    /// There is no fix: each command needs a different replacement.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/plugins/`](https://github.com/rpm-software-management/microdnf/tree/3.8.1/dnf/plugins) (one plugin per command microdnf implements)
    /// - [aws/aws-lambda-base-images#215](https://github.com/aws/aws-lambda-base-images/issues/215), [rpm-software-management/microdnf#141](https://github.com/rpm-software-management/microdnf/issues/141) (`Unknown command: 'config-manager'`)
    LI106, "microdnf-unknown-command", Error, None, check
}
