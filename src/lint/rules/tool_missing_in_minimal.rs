//! LI114 `tool-missing-in-minimal`.

use std::collections::{HashMap, HashSet};

use crate::dockerfile::BaseClass;
use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::{is_exec_form, unsafe_fix};
use crate::lint::analysis::package_manager::{installed_before, package_base, PkgCmd, Sub, Tool};
use crate::lint::analysis::stages::StageStates;
use crate::lint::{Context, Diagnostic, Edit};

/// Commands missing from the AL2023 minimal image and the package providing each (§2.5).
fn provider(program: &str) -> Option<&'static str> {
    Some(match program {
        "find" | "xargs" => "findutils",
        "tar" => "tar",
        "gzip" | "gunzip" => "gzip",
        "unzip" => "unzip",
        "zip" => "zip",
        "useradd" | "groupadd" | "adduser" => "shadow-utils",
        "which" => "which",
        "ps" => "procps-ng",
        _ => return None,
    })
}

/// The package an install argument stands for, as far as [`provider`] cares: the package
/// itself (version and arch removed), the real name behind a virtual provide (`procps` is
/// provided by `procps-ng`), or the provider of a file (`/usr/bin/find` → `findutils`), which
/// dnf resolves to the package that owns it.
fn installed_package(spec: &str) -> String {
    let base = package_base(spec);
    if spec.starts_with('/') {
        let file = spec.rsplit('/').next().unwrap_or(spec);
        if let Some(p) = provider(file) {
            return p.to_string();
        }
        return spec.to_string();
    }
    match base {
        "procps" => "procps-ng".to_string(),
        other => other.to_string(),
    }
}

/// Where the stage's first `dnf install` can take one more package.
#[derive(Clone, Copy)]
struct FirstInstall {
    at: usize,
    fixable: bool,
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Packages installed so far, per stage; a stage starts with the packages of the stage it
    // builds on (and so on up the chain, through stages without RUNs).
    let mut installed: StageStates<HashSet<String>> = StageStates::new(cx.df);
    let mut first_install: HashMap<usize, FirstInstall> = HashMap::new();
    for (run, managers) in cx.runs.iter().zip(installed_before(cx)) {
        let stage = run.stage;
        if stage.class != BaseClass::LambdaAl2023 {
            continue;
        }
        let mut reported: HashSet<&'static str> = HashSet::new();
        for (command, managers) in run.commands.iter().zip(managers) {
            if let Some(pc) = PkgCmd::new(command, stage.class) {
                if pc.tool.is_dnf_family() && pc.sub == Some(Sub::Install) {
                    installed
                        .get_mut(cx.df, stage.index)
                        .extend(pc.args.iter().map(|w| installed_package(&w.value)));
                    if matches!(pc.tool, Tool::Dnf | Tool::Microdnf) {
                        let at = pc
                            .args
                            .last()
                            .map(|w| w.span.end)
                            .or_else(|| pc.sub_words.last().map(|w| w.span.end));
                        if let Some(at) = at {
                            first_install.entry(stage.index).or_insert(FirstInstall {
                                at,
                                fixable: !is_exec_form(run),
                            });
                        }
                    }
                }
                continue;
            }
            let Some(name) = command.name() else { continue };
            let Some(package) = provider(name) else {
                continue;
            };
            if installed.get_mut(cx.df, stage.index).contains(package) || !reported.insert(package)
            {
                continue;
            }
            let Some(word) = command.argv().first() else {
                continue;
            };
            let fix = first_install
                .get(&stage.index)
                .filter(|f| f.fixable)
                .map(|f| {
                    unsafe_fix(
                        format!("Add `{package}` to the stage's first `dnf install`"),
                        vec![Edit::insert(f.at, format!(" {package}"))],
                    )
                });
            out.push(RULE.diagnostic(
                format!(
                    "`{name}` is not in {} and no earlier step of this stage installs `{package}`; run `dnf install -y {package}` first",
                    BaseNote::at(cx.df, stage, managers)
                ),
                word.span.clone(),
                fix,
            ));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags tools used in a stage on an AL2023 minimal image that the image lacks.
    ///
    /// Flags a RUN that uses `find`, `xargs`, `tar`, `gzip`/`gunzip`, `unzip`, `zip`,
    /// `useradd`/`groupadd`/`adduser`, `which` or `ps` in a stage built on an Amazon Linux 2023
    /// *minimal* image (the AWS Lambda base images for AL2023 and `amazonlinux:2023-minimal`),
    /// when no earlier RUN of the stage (or of the stage it builds on), nor an earlier command
    /// of the same RUN, installed the package that provides it (`findutils`, `tar`, `gzip`,
    /// `unzip`, `zip`, `shadow-utils`, `which`, `procps-ng`).
    ///
    /// ## Why is this bad?
    /// `amazonlinux:2023-minimal`, which Lambda's AL2023 images are built from, has
    /// "just enough to install more packages". The step fails with
    /// `/bin/sh: line 1: find: command not found`, or, for `tar xzf`,
    /// `tar (child): gzip: Cannot exec`. On the AL2 images these tools were there.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc && dnf clean all
    /// RUN find /var/task -name '*.pyc' -delete
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc findutils && dnf clean all
    /// RUN find /var/task -name '*.pyc' -delete
    /// ```
    ///
    /// ## Fix safety
    /// The fix adds the package to the stage's first `dnf install` (when that comes before the
    /// use) and is unsafe: it changes what is installed in the image. There is no fix when the
    /// stage has no `dnf install` before the use, or it is an exec-form RUN.
    ///
    /// ## References
    /// - [AL2023 User Guide: AL2023 minimal container image](https://docs.aws.amazon.com/linux/al2023/ug/minimal-container.html)
    /// - [aws/aws-lambda-base-images#173](https://github.com/aws/aws-lambda-base-images/issues/173), [aws/aws-lambda-base-images#196](https://github.com/aws/aws-lambda-base-images/issues/196) (findutils absent)
    /// - [spcl/serverless-benchmarks#311](https://github.com/spcl/serverless-benchmarks/issues/311), [quickwit-oss/quickwit#5385](https://github.com/quickwit-oss/quickwit/issues/5385)
    LI114, "tool-missing-in-minimal", Error, Sometimes, check
}
