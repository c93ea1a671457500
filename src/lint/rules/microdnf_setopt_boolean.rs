//! LI108 `microdnf-setopt-boolean`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::safe;
use crate::lint::analysis::package_manager::microdnf_commands;
use crate::lint::{Context, Diagnostic, Edit};

/// Boolean setopt keys microdnf reads as literal `0`/`1` (§2.2).
const BOOLEAN_KEYS: &[&str] = &["install_weak_deps", "keepcache", "allow_vendor_change"];

/// The `0`/`1` a dnf-style boolean spells.
fn as_digit(value: &str) -> Option<&'static str> {
    match value.to_ascii_lowercase().as_str() {
        "false" | "no" | "off" => Some("0"),
        "true" | "yes" | "on" => Some("1"),
        _ => None,
    }
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let src = cx.df.source.as_str();
    for (run, pc) in microdnf_commands(cx) {
        for opt in &pc.options {
            let Some((key, Some(value))) = opt.setopt() else {
                continue;
            };
            if !BOOLEAN_KEYS.contains(&key) {
                continue;
            }
            let Some(digit) = as_digit(value) else {
                continue;
            };
            // The value is the tail of the option's value (`key=value`).
            let fix = opt.value_span(src).and_then(|span| {
                let start = span.end.checked_sub(value.len())?;
                (src.get(start..span.end) == Some(value)).then(|| {
                    safe(
                        format!("Replace `{key}={value}` with `{key}={digit}`"),
                        vec![Edit::replace(start..span.end, digit)],
                    )
                })
            });
            out.push(RULE.diagnostic(
                format!(
                    "`{}` with `--setopt={key}={value}` fails in {} with `Invalid boolean value`: microdnf wants `0` or `1`; use `--setopt={key}={digit}`",
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
    /// Flags `--setopt` booleans written `False`/`True` for microdnf, which wants `0`/`1`.
    ///
    /// Flags `--setopt=install_weak_deps=False` (or `True`, in any case, and the `yes`/`no`,
    /// `on`/`off` spellings; also for `keepcache` and `allow_vendor_change`) on dnf or microdnf in
    /// a stage built on an Amazon Linux 2023 *minimal* image: the AWS Lambda base images for AL2023
    /// and `amazonlinux:2023-minimal`. After `microdnf install -y dnf` the stage has dnf 4, and its
    /// `dnf` commands are no longer flagged (`microdnf` ones still are).
    ///
    /// ## Why is this bad?
    /// dnf 4 accepts `False`, but `dnf` in these images is microdnf, which reads these options
    /// as the literal `0` or `1` and fails the step with
    /// `Invalid boolean value "False" in: install_weak_deps=False`. The AL2023 User Guide's
    /// container example uses `False`, which is right for `amazonlinux:2023` and wrong here.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y --setopt=install_weak_deps=False gcc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y --setopt=install_weak_deps=0 gcc
    /// ```
    ///
    /// ## Fix safety
    /// The fix writes `0` for `False` and `1` for `True`, the value dnf 4 gave the option, and
    /// is safe.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (`--setopt` handling)
    /// - [AL2023 User Guide: bare-bones container images](https://docs.aws.amazon.com/linux/al2023/ug/barebones-containers.html) (the `install_weak_deps=False` example, for full dnf)
    LI108, "microdnf-setopt-boolean", Error, Sometimes, check
}
