//! LI201 `rpm-cache-left`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::cache::{mount_covers, removed_paths, removes_dir};
use crate::lint::analysis::edits::{append_command, invocation, safe};
use crate::lint::analysis::package_manager::{
    installed_before, Flavor, Installed, PkgCmd, Sub, Tool,
};
use crate::lint::{Context, Diagnostic, Run};

/// The cache directories whose removal counts as cleaning up after `pc`: the one the program
/// really uses (§2.2), and for `dnf` in an AL2023 minimal image (microdnf) either directory
/// (LI111 asks for the other one).
fn cache_dirs(pc: &PkgCmd<'_>) -> &'static [&'static str] {
    match (pc.flavor, pc.tool) {
        // `yum` is missing there and LI101 turns it into that same `dnf`.
        (Flavor::Microdnf, Tool::Dnf) | (Flavor::Missing, Tool::Yum) => {
            &["/var/cache/yum", "/var/cache/dnf"]
        }
        (Flavor::Dnf4, _) => &["/var/cache/dnf"],
        _ => &["/var/cache/yum"],
    }
}

/// Whether two commands run the same program: in an AL2023 minimal image `yum` (missing) becomes
/// `dnf`, which is microdnf (§2.1).
fn same_program(a: Flavor, b: Flavor) -> bool {
    let group = |f| match f {
        Flavor::Missing => Flavor::Microdnf,
        f => f,
    };
    group(a) == group(b)
}

/// Whether a later command is a microdnf `clean metadata` (or another target but `all`) of the
/// same program: microdnf rejects it, and LI110's safe fix turns it into `clean all`, so
/// appending a second `clean all` here would only repeat that fix.
fn cleaned_by_li110_fix(
    install: &PkgCmd<'_>,
    later: &[crate::dockerfile::Command],
    states: &[Installed],
) -> bool {
    later.iter().zip(states).any(|(c, state)| {
        PkgCmd::after(c, install.class, *state).is_some_and(|pc| {
            pc.targets_microdnf()
                && same_program(pc.flavor, install.flavor)
                && pc.sub == Some(Sub::Clean)
                && !pc.args.is_empty()
                && !pc.args.iter().any(|a| a.value.contains('$'))
        })
    })
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
        // A quote never closed (`… && yum clean all"]`): the shell refuses the script before
        // installing anything, and what it would clean cannot be read.
        if run
            .commands
            .iter()
            .any(|c| c.words.iter().any(|w| w.open_quote.is_some()))
        {
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
            let later_states = states.get(i + 1..).unwrap_or(&[]);
            if cleans(run, &pc, later, later_states) {
                continue;
            }
            let li110 = cleaned_by_li110_fix(&pc, later, later_states);
            flagged.push(pc.flavor);
            // `yum` does not exist in an AL2023 minimal image: clean with `dnf` (LI101 fixes the
            // install the same way).
            let name = if pc.flavor == Flavor::Missing {
                "dnf"
            } else {
                pc.name()
            };
            let clean = format!("{} clean all", invocation(command, name));
            let fix = append_command(src, run, &clean)
                .filter(|_| !li110)
                .map(|e| safe(format!("Append `{clean}` to the RUN"), vec![e]));
            let hint = if li110 {
                " (LI110's fix turns the `clean` below into `clean all`)"
            } else {
                ""
            };
            let end = pc
                .sub_words
                .last()
                .map_or(pc.program.span.end, |w| w.span.end);
            out.push(RULE.diagnostic(
                format!(
                    "`{} {}` in {} leaves the package cache in the layer; end the RUN with `&& {clean}` (or remove `{}`){hint}",
                    pc.name(),
                    pc.sub_text(),
                    BaseNote::at(cx.df, run.stage, state),
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
    /// `/var/cache/dnf` for dnf 4; either for `dnf`, or the missing `yum` it replaces, on an
    /// AL2023 minimal image, where LI111 asks for the other one), and has no
    /// `--mount=type=cache` (or tmpfs) over that directory. On an AL2023 minimal image (the AWS
    /// Lambda base images for AL2023 and `amazonlinux:2023-minimal`) `dnf` is microdnf; after
    /// `microdnf install -y dnf` it is dnf 4, whose cache is `/var/cache/dnf`. A RUN with a
    /// quote it never closes (`RUN yum -y install x && yum clean all"]`) is not checked: the
    /// shell refuses it before anything is installed.
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
    /// offered for exec-form RUNs, nor where a later microdnf `clean metadata` is there to be
    /// turned into `clean all` by LI110's fix.
    ///
    /// ## References
    /// - [microdnf 3.8.1 `dnf/dnf-main.c`](https://github.com/rpm-software-management/microdnf/blob/3.8.1/dnf/dnf-main.c) (microdnf's cache is `/var/cache/yum`)
    /// - [hadolint DL3032](https://github.com/hadolint/hadolint/wiki/DL3032), [hadolint DL3040](https://github.com/hadolint/hadolint/wiki/DL3040) (`# hadolint ignore=DL3032` / `DL3040` also silence this rule)
    LI201, "rpm-cache-left", Warning, Sometimes, check
}
