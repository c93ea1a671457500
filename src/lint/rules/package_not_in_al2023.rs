//! LI113 `package-not-in-al2023`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::{inner_span, safe};
use crate::lint::analysis::package_manager::{package_base, pkg_commands, Sub};
use crate::lint::{Context, Diagnostic, Edit};

/// What replaces a package AL2 had and AL2023 does not (§2.4), and whether the rename is exact.
fn replacement(name: &str) -> Option<(String, bool)> {
    if let Some(rest) = name.strip_prefix("openssl11") {
        let exact = matches!(rest, "" | "-devel");
        return Some((format!("openssl{rest}"), exact));
    }
    if name.starts_with("compat-") {
        return Some((
            "AL2023 discontinued every `compat-` package; install the current library package"
                .into(),
            false,
        ));
    }
    if name.starts_with("python2") || name.starts_with("python27") {
        return Some(("AL2023 has no Python 2; use `python3`".into(), false));
    }
    if name.starts_with("system-lsb") || name.starts_with("redhat-lsb") {
        return Some((
            "AL2023 has no `lsb_release`; read `/etc/os-release` instead".into(),
            false,
        ));
    }
    None
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let src = cx.df.source.as_str();
    for (run, _, pc) in pkg_commands(cx) {
        if !pc.class.is_al2023() || !pc.tool.is_dnf_family() || pc.sub != Some(Sub::Install) {
            continue;
        }
        let base = BaseNote::at(cx.df, run.stage, pc.installed);
        for w in &pc.args {
            let Some((instead, exact)) = replacement(&w.value) else {
                continue;
            };
            let (message, fix) = if exact {
                let fix = inner_span(src, w, 0.."openssl11".len()).map(|span| {
                    safe(
                        format!("Replace `{}` with `{instead}`", w.value),
                        vec![Edit::replace(span, "openssl")],
                    )
                });
                (
                    format!(
                        "`{}` does not exist in {base}: AL2023 ships OpenSSL 3; install `{instead}`",
                        w.value
                    ),
                    fix,
                )
            } else if instead.starts_with("openssl") {
                (
                    format!(
                        "`{}` does not exist in {base}: AL2023 ships OpenSSL 3; install `{instead}`",
                        w.value
                    ),
                    None,
                )
            } else {
                (
                    format!(
                        "`{}` does not exist in {base}: {instead}",
                        package_base(&w.value)
                    ),
                    None,
                )
            };
            out.push(RULE.diagnostic(message, w.span.clone(), fix));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags installing packages that Amazon Linux 2023 no longer has.
    ///
    /// Flags installing packages that Amazon Linux 2 had and Amazon Linux 2023 does not
    /// (`openssl11*`, `compat-*`, `python2*`/`python27*`, `system-lsb*`, `redhat-lsb*`) in any
    /// Amazon Linux 2023 stage: on an AL2023 minimal image (the AWS Lambda base images for AL2023
    /// and `amazonlinux:2023-minimal`) or on full `amazonlinux:2023` and the SAM build images.
    ///
    /// ## Why is this bad?
    /// The install fails with `No match for argument` (`No package matches` with microdnf).
    /// AL2023 ships OpenSSL 3 as `openssl`/`openssl-devel`, dropped every `compat-` package,
    /// Python 2.7 and `lsb_release`.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y openssl11-devel
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y openssl-devel
    /// ```
    ///
    /// ## Fix safety
    /// `openssl11` → `openssl` and `openssl11-devel` → `openssl-devel` are safe fixes: the
    /// AL2023 packages are what these names became. Every other package has no fix: its
    /// replacement has to be chosen.
    ///
    /// ## References
    /// - [AL2023 User Guide: Comparing AL2 and AL2023](https://docs.aws.amazon.com/linux/al2023/ug/compare-with-al2.html) (OpenSSL 3, `lsb_release`)
    /// - [AL2023 User Guide: Python 2.7 has been replaced with Python 3](https://docs.aws.amazon.com/linux/al2023/ug/python2.7-no-more.html)
    /// - [AL2 User Guide: Deprecated functionality in AL2](https://docs.aws.amazon.com/linux/al2/ug/deprecated.html) (`compat-` packages)
    /// - [awslabs/aws-athena-query-federation#3532](https://github.com/awslabs/aws-athena-query-federation/issues/3532) (`openssl11` → `openssl`)
    LI113, "package-not-in-al2023", Error, Sometimes, check
}
