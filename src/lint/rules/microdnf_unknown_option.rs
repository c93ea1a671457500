//! LI107 `microdnf-unknown-option`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::{delete_option, unsafe_fix};
use crate::lint::analysis::package_manager::microdnf_commands;
use crate::lint::{Context, Diagnostic};

/// dnf 4 options microdnf 3.8.1 rejects (§2.2), with what to do instead.
fn replacement(name: &str) -> Option<&'static str> {
    Some(match name {
        "--allowerasing" => "keep the preinstalled `-minimal` package instead of replacing it",
        "--skip-broken" => "install only packages that exist",
        "--nogpgcheck" => "import the repository key with `rpm --import` instead",
        "-q" | "--quiet" => "drop it",
        "-x" | "--exclude" | "--excludepkgs" => "drop it and list only the packages you want",
        "--security" => "use `dnf upgrade --releasever=latest` or a newer base image instead",
        "--downloadonly" => "use `dnf download` instead",
        _ => return None,
    })
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, pc) in microdnf_commands(cx) {
        for opt in &pc.options {
            let Some(instead) = replacement(&opt.name) else {
                continue;
            };
            let written = match (&opt.value, opt.value_word) {
                (Some(v), Some(_)) => format!("{} {v}", opt.name),
                (Some(v), None) if opt.name.starts_with("--") => format!("{}={v}", opt.name),
                (Some(v), None) => format!("{}{v}", opt.name),
                (None, _) => opt.name.clone(),
            };
            let fix = delete_option(cx.df, run, opt)
                .map(|e| unsafe_fix(format!("Remove `{written}`"), vec![e]));
            out.push(RULE.diagnostic(
                format!(
                    "`{}` with `{written}` fails in {} with `Unknown option`: microdnf does not know it; {instead}",
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
    /// Flags dnf options that microdnf rejects in a stage on an AL2023 minimal image.
    ///
    /// Flags dnf 4 options that microdnf rejects (`--allowerasing`, `--skip-broken`,
    /// `--nogpgcheck`, `-q`/`--quiet`, `-x`/`--exclude`, `--security`, `--downloadonly`) on dnf or
    /// microdnf in a stage built on an Amazon Linux 2023 *minimal* image: the AWS Lambda base
    /// images for AL2023 and `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage
    /// has dnf 4, and its `dnf` commands are no longer flagged (`microdnf` ones still are).
    ///
    /// ## Why is this bad?
    /// `dnf` in these images is microdnf 3.8.1. Its command parser knows only a short list of
    /// global options (`-y`, `--nodocs`, `--setopt`, `--enablerepo`, `--releasever`…) and fails
    /// the step with `error: Unknown option --allowerasing` on anything else.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y -q --skip-broken gcc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc
    /// ```
    ///
    /// ## Fix safety
    /// The fix removes the option (with its value for `-x`/`--exclude`) and is unsafe: the
    /// option was there for a reason (`--exclude` kept a package out, `--allowerasing` replaced a
    /// conflicting one), so the build may install something else or still fail. No fix is offered
    /// in exec-form RUNs.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (`global_opts[]`: the global options microdnf knows)
    LI107, "microdnf-unknown-option", Error, Sometimes, check
}
