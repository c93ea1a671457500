//! LI111 `microdnf-cache-path`.

use crate::dockerfile::BaseClass;
use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::cache::{removed_paths, removes_dir};
use crate::lint::analysis::edits::{is_exec_form, safe, value_span};
use crate::lint::analysis::package_manager::installed_before;
use crate::lint::{Context, Diagnostic, Edit};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let src = cx.df.source.as_str();
    for (run, states) in cx.runs.iter().zip(installed_before(cx)) {
        // Once full dnf replaced microdnf, `dnf` really caches in /var/cache/dnf.
        if run.stage.class != BaseClass::LambdaAl2023 || states.iter().any(|s| s.dnf) {
            continue;
        }
        let removed: Vec<_> = run.commands.iter().flat_map(removed_paths).collect();
        if removed
            .iter()
            .any(|w| removes_dir(&w.value, "/var/cache/yum"))
        {
            continue;
        }
        let Some(dnf) = removed.iter().find(|w| {
            removes_dir(&w.value, "/var/cache/dnf") && w.value.starts_with("/var/cache/dnf")
        }) else {
            continue;
        };
        // Mirror the word for yum (`/var/cache/dnf/*` → `/var/cache/yum/*`) and add it after.
        let yum_path = dnf.value.replacen("/var/cache/dnf", "/var/cache/yum", 1);
        let fix = (!is_exec_form(run))
            .then(|| value_span(src, dnf))
            .flatten()
            .filter(|_| !yum_path.contains(['\'', '"', '\\', ' ']))
            .map(|_| {
                safe(
                    format!("Also remove `{yum_path}`"),
                    vec![Edit::insert(dnf.span.end, format!(" {yum_path}"))],
                )
            });
        out.push(RULE.diagnostic(
            format!(
                "`dnf` in {} is microdnf, which caches in `/var/cache/yum`, so removing `{}` leaves the cache in the image; also remove `{yum_path}`",
                BaseNote::of(cx.df, run.stage),
                dnf.value
            ),
            dnf.span.clone(),
            fix,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags removing `/var/cache/dnf` but not microdnf's `/var/cache/yum` on an AL2023 minimal image.
    ///
    /// Flags a RUN that removes `/var/cache/dnf` as its package-cache clean-up but not
    /// `/var/cache/yum`, in a stage built on an Amazon Linux 2023 *minimal* image: the AWS
    /// Lambda base images for AL2023 and `amazonlinux:2023-minimal`. After
    /// `microdnf install -y dnf` the stage has dnf 4, which does cache in `/var/cache/dnf`, and
    /// the rule stays silent.
    ///
    /// ## Why is this bad?
    /// `dnf` in these images is microdnf, whose cache directory is hard-coded as
    /// `/var/cache/yum` (`/var/cache/yum/metadata`, `…/solv`): removing `/var/cache/dnf` removes
    /// nothing, and the repository metadata (tens of MB) stays in the layer.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && rm -rf /var/cache/dnf
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && dnf clean all && rm -rf /var/cache/dnf /var/cache/yum
    /// ```
    ///
    /// ## Fix safety
    /// The fix adds `/var/cache/yum` (with the same suffix, `/var/cache/yum/*`) to the `rm` and
    /// is safe: it removes only the cache the command meant to remove. No fix is offered in
    /// exec-form RUNs.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (`#define CACHEDIR "/var/cache/yum"`)
    LI111, "microdnf-cache-path", Warning, Sometimes, check
}
