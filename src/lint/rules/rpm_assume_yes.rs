//! LI202 `rpm-assume-yes`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::{is_exec_form, safe};
use crate::lint::analysis::package_manager::{pkg_commands, Flavor, Sub, Tool};
use crate::lint::{Context, Diagnostic, Edit};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, _, pc) in pkg_commands(cx) {
        if !matches!(pc.tool, Tool::Yum | Tool::Dnf)
            || !matches!(pc.flavor, Flavor::Yum3 | Flavor::Dnf4)
            || !pc.class.is_rpm()
        {
            continue;
        }
        let prompts = matches!(
            pc.sub,
            Some(
                Sub::Install
                    | Sub::LocalInstall
                    | Sub::Reinstall
                    | Sub::GroupInstall
                    | Sub::Upgrade
                    | Sub::Remove
            )
        );
        if !prompts || pc.assumes_yes() || pc.has_option(&["--assumeno"]) {
            continue;
        }
        let Some(last) = pc.sub_words.last() else {
            continue;
        };
        let sub = pc.sub_text();
        let fix = (!is_exec_form(run)).then(|| {
            safe(
                format!("Add `-y` after `{} {sub}`", pc.name()),
                vec![Edit::insert(last.span.end, " -y")],
            )
        });
        out.push(RULE.diagnostic(
            format!(
                "`{} {sub}` without `-y` asks for confirmation in {} and aborts the non-interactive build; use `{} {sub} -y`",
                pc.name(),
                BaseNote::at(cx.df, run.stage, pc.installed),
                pc.name()
            ),
            pc.program.span.start..last.span.end,
            fix,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags yum and dnf 4 commands that ask for confirmation (no `-y`).
    ///
    /// Flags `yum` or dnf 4 `install`, `groupinstall`, `upgrade`/`update`, `remove`/`erase`
    /// (and `localinstall`, `reinstall`) without `-y`/`--assumeyes`, in any rpm-based stage.
    /// Never for microdnf, which does not prompt: that is `dnf` on an AL2023 minimal image (the
    /// AWS Lambda base images for AL2023 and `amazonlinux:2023-minimal`) until
    /// `microdnf install -y dnf` makes it dnf 4.
    ///
    /// ## Why is this bad?
    /// Without a terminal the confirmation prompt reads end-of-file and the step fails with
    /// `Exiting on user command` (yum) or `Operation aborted.` (dnf).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM amazonlinux:2023
    /// RUN dnf install gcc && dnf clean all
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM amazonlinux:2023
    /// RUN dnf install -y gcc && dnf clean all
    /// ```
    ///
    /// ## Fix safety
    /// The fix adds `-y` after the subcommand and is safe: it answers the question the build
    /// cannot. No fix is offered in exec-form RUNs.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (`-y`, `--assumeyes`)
    /// - [hadolint DL3030](https://github.com/hadolint/hadolint/wiki/DL3030), [hadolint DL3038](https://github.com/hadolint/hadolint/wiki/DL3038) (`# hadolint ignore=DL3030` / `DL3038` also silence this rule)
    LI202, "rpm-assume-yes", Error, Sometimes, check
}
