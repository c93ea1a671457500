//! LI201 `rpm-cache-left`.

use super::{
    append_command, installed_before, invocation, mount_covers, removed_paths, removes_dir, safe,
    Flavor, Installed, PkgCmd, Sub, Tool,
};
use crate::lint::{Context, Diagnostic, Run};

/// The cache directories whose removal counts as cleaning up after `pc`: the one the program
/// really uses (§2.2), and for `dnf` in a Lambda AL2023 image (microdnf) either directory.
fn cache_dirs(pc: &PkgCmd<'_>) -> &'static [&'static str] {
    match (pc.flavor, pc.tool) {
        (Flavor::Microdnf, Tool::Dnf) => &["/var/cache/yum", "/var/cache/dnf"],
        (Flavor::Dnf4, _) => &["/var/cache/dnf"],
        _ => &["/var/cache/yum"],
    }
}

/// Whether two commands run the same program: in a Lambda AL2023 image `yum` (missing) becomes
/// `dnf`, which is microdnf (§2.1).
fn same_program(a: Flavor, b: Flavor) -> bool {
    let group = |f| match f {
        Flavor::Missing => Flavor::Microdnf,
        f => f,
    };
    group(a) == group(b)
}

/// Whether a command after the install cleans its cache.
fn cleans(
    run: &Run<'_>,
    install: &PkgCmd<'_>,
    later: &[crate::dockerfile::Command],
    states: &[Installed],
) -> bool {
    let dirs = cache_dirs(install);
    if dirs.iter().any(|d| mount_covers(run, d)) {
        return true;
    }
    later.iter().zip(states).any(|(c, state)| {
        if let Some(pc) = PkgCmd::after(c, install.class, *state) {
            return pc.tool.is_dnf_family()
                && same_program(pc.flavor, install.flavor)
                && pc.sub == Some(Sub::Clean)
                && pc.args.iter().any(|a| a.value == "all");
        }
        removed_paths(c).any(|w| dirs.iter().any(|d| removes_dir(&w.value, d)))
    })
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let src = cx.df.source.as_str();
    for (run, states) in cx.runs.iter().zip(installed_before(cx)) {
        let class = run.stage.class;
        if !class.is_rpm() {
            continue;
        }
        let mut flagged: Vec<Flavor> = Vec::new();
        for (i, command) in run.commands.iter().enumerate() {
            let state = states.get(i).copied().unwrap_or_default();
            let Some(pc) = PkgCmd::after(command, class, state) else {
                continue;
            };
            if !pc.tool.is_dnf_family() || !pc.sub.is_some_and(Sub::installs) {
                continue;
            }
            if flagged.contains(&pc.flavor) {
                continue;
            }
            let later = run.commands.get(i + 1..).unwrap_or(&[]);
            if cleans(run, &pc, later, states.get(i + 1..).unwrap_or(&[])) {
                continue;
            }
            flagged.push(pc.flavor);
            // `yum` does not exist in a Lambda AL2023 image: clean with `dnf` (LI101 fixes the
            // install the same way).
            let name = if pc.flavor == Flavor::Missing {
                "dnf"
            } else {
                pc.name()
            };
            let clean = format!("{} clean all", invocation(command, name));
            let fix = append_command(src, run, &clean)
                .map(|e| safe(format!("Append `{clean}` to the RUN"), vec![e]));
            let end = pc
                .sub_words
                .last()
                .map_or(pc.program.span.end, |w| w.span.end);
            out.push(RULE.diagnostic(
                format!(
                    "`{} {}` leaves the package cache in the layer; end the RUN with `&& {clean}` (or remove `{}`)",
                    pc.name(),
                    pc.sub_text(),
                    cache_dirs(&pc).join("` or `")
                ),
                pc.program.span.start..end,
                fix,
            ));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags a RUN that installs rpm packages and leaves the package cache in the layer.
    ///
    /// Flags a RUN in any rpm-based stage (Amazon Linux 2 included) that installs packages with
    /// yum, dnf or microdnf and does not, later in the same RUN, run `<same tool> clean all` or
    /// remove the cache directory the tool really uses (`/var/cache/yum` for yum and microdnf,
    /// `/var/cache/dnf` for dnf 4; either for `dnf` in a Lambda AL2023 image), and has no
    /// `--mount=type=cache` (or tmpfs) over that directory.
    ///
    /// ## Why is this bad?
    /// The repository metadata and downloaded packages stay in the layer: tens to hundreds of
    /// MB in every image, pushed and pulled on every cold start. Removing `/tmp/x` or running
    /// `clean metadata` does not remove them (hadolint's DL3032/DL3040 accept those); removing
    /// `/var/cache/dnf` after microdnf removes nothing (see LI111).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && dnf clean all
    /// ```
    ///
    /// ## Fix safety
    /// The fix appends `&& <tool> clean all` after the last command of the RUN (for a heredoc
    /// RUN, a new line before the delimiter) and is safe: only the cache is removed. No fix is
    /// offered for exec-form RUNs.
    ///
    /// ## References
    /// - domain.md §2.2 (cache directories), §2.3 (install idiom)
    /// - hadolint DL3032, DL3040 (`# hadolint ignore=DL3032` / `DL3040` also silence this rule)
    LI201, "rpm-cache-left", Warning, Sometimes, check
}
