//! LI110 `microdnf-clean-all-only`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::safe;
use crate::lint::analysis::package_manager::{microdnf_commands, Sub};
use crate::lint::{Context, Diagnostic, Edit};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let src = cx.df.source.as_str();
    for (run, pc) in microdnf_commands(cx) {
        if pc.sub != Some(Sub::Clean) {
            continue;
        }
        let (Some(first), Some(last)) = (pc.args.first(), pc.args.last()) else {
            continue;
        };
        // `clean all"]`: a quote never closed makes the shell refuse the script; what the
        // target would be is anyone's guess.
        if pc.args.iter().all(|a| a.value == "all")
            || pc
                .args
                .iter()
                .any(|a| a.value.contains('$') || a.open_quote.is_some())
        {
            continue;
        }
        let written: Vec<&str> = pc.args.iter().map(|a| a.value.as_str()).collect();
        let written = written.join(" ");
        // Replace from the first to the last target with `all` (on one line, so that no
        // comment or continuation is lost).
        let range = first.span.start..last.span.end;
        let fix = src
            .get(range.clone())
            .filter(|t| !t.contains('\n'))
            .map(|_| {
                safe(
                    format!("Replace `clean {written}` with `clean all`"),
                    vec![Edit::replace(range.clone(), "all")],
                )
            });
        out.push(RULE.diagnostic(
            format!(
                "`{} clean {written}` fails in {} with `Invalid clean argument`: microdnf accepts only `clean all`; use `{} clean all`",
                pc.name(),
                BaseNote::at(cx.df, run.stage, pc.installed),
                pc.name()
            ),
            first.span.start..last.span.end,
            fix,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags `dnf clean` with anything but `all` in a stage on an AL2023 minimal image.
    ///
    /// Flags `dnf clean metadata`, `packages`, `dbcache`, `expire-cache` (anything but `clean all`)
    /// in a stage built on an Amazon Linux 2023 *minimal* image: the AWS Lambda base images for
    /// AL2023 and `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage has dnf 4,
    /// and its `dnf` commands are no longer flagged (`microdnf` ones still are).
    ///
    /// ## Why is this bad?
    /// `dnf` in these images is microdnf 3.8.1, whose `clean` takes only `all`: anything else
    /// fails the step with `Invalid clean argument: 'metadata'`.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && dnf clean packages
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && dnf clean all
    /// ```
    ///
    /// ## Fix safety
    /// The fix writes `clean all` and is safe: the command could not run as written, and
    /// `all` removes at least what was asked.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/plugins/clean/dnf-command-clean.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/plugins/clean/dnf-command-clean.c)
    LI110, "microdnf-clean-all-only", Error, Sometimes, check
}
