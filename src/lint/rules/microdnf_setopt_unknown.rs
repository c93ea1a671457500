//! LI109 `microdnf-setopt-unknown`.

use super::yum_not_available::microdnf_accepts_setopt;
use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::{delete_option, unsafe_fix};
use crate::lint::analysis::package_manager::microdnf_commands;
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, pc) in microdnf_commands(cx) {
        for opt in &pc.options {
            let Some((key, value)) = opt.setopt() else {
                continue;
            };
            if key.contains('$') || value.is_some_and(|v| v.contains('$')) {
                continue;
            }
            if microdnf_accepts_setopt(key, value) {
                continue;
            }
            let written = match value {
                Some(v) => format!("--setopt={key}={v}"),
                None => format!("--setopt={key}"),
            };
            let fix = delete_option(cx.df, run, opt)
                .map(|e| unsafe_fix(format!("Remove `{written}`"), vec![e]));
            out.push(RULE.diagnostic(
                format!(
                    "`{}` with `{written}` fails in {} with `Unable to handle`; remove it (microdnf accepts `install_weak_deps`, `keepcache`, `allow_vendor_change`, `module_platform_id`, `cachedir`, `reposdir`, `varsdir`, `tsflags=nodocs|test` and `<repoid>.<option>`)",
                    pc.name(),
                    BaseNote::at(cx.df, run.stage, pc.installed)
                ),
                opt.span(),
                fix,
            ));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags `--setopt` keys that microdnf cannot handle in a stage on an AL2023 minimal image.
    ///
    /// Flags `--setopt=<key>=<value>` with a key microdnf rejects, on dnf or microdnf in a stage
    /// built on an Amazon Linux 2023 *minimal* image: the AWS Lambda base images for AL2023 and
    /// `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage has dnf 4, and its
    /// `dnf` commands are no longer flagged (`microdnf` ones still are).
    ///
    /// ## Why is this bad?
    /// microdnf 3.8.1 (which `dnf` is in these images) handles only `install_weak_deps`,
    /// `allow_vendor_change`, `keepcache`, `module_platform_id`, `cachedir`, `reposdir`,
    /// `varsdir`, `tsflags=nodocs` or `tsflags=test`, and repository options
    /// (`<repoid>.<option>=value`). Anything else (`skip_if_unavailable=True`,
    /// `max_parallel_downloads=10`, `tsflags=noscripts`…) fails the step with
    /// `Unable to handle: <option>`.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y --setopt=max_parallel_downloads=10 gcc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc
    /// ```
    ///
    /// ## Fix safety
    /// The fix removes the option and is unsafe: the build loses whatever the option did.
    /// No fix is offered in exec-form RUNs.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (`--setopt` handling: the keys it takes, `Unable to handle` for the rest)
    LI109, "microdnf-setopt-unknown", Error, Sometimes, check
}
