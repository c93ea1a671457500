//! Package-manager commands: which program a `yum`/`dnf`/`microdnf`/`rpm`/`amazon-linux-extras`
//! command really runs given its stage's image ([`Tool`], [`Flavor`]), its subcommand, options and
//! arguments ([`PkgCmd`], [`Sub`], [`Opt`]), what microdnf accepts, the package managers earlier
//! commands installed over microdnf ([`Installed`], [`installed_before`]), and package names
//! without versions ([`package_base`]). The migration and hygiene rules read commands through
//! this, never through regexes over the raw line.

use super::edits::inner_span;
use super::stages::StageStates;
use crate::dockerfile::{BaseClass, Command, Span, Word};
use crate::lint::{Context, Run};

/// A package-manager program, by the name it is invoked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    Yum,
    Dnf,
    Microdnf,
    YumConfigManager,
    Yumdownloader,
    YumBuilddep,
    AmazonLinuxExtras,
    Rpm,
}

impl Tool {
    pub fn from_name(name: &str) -> Option<Tool> {
        Some(match name {
            "yum" => Tool::Yum,
            "dnf" | "dnf-3" | "dnf4" => Tool::Dnf,
            "microdnf" => Tool::Microdnf,
            "yum-config-manager" => Tool::YumConfigManager,
            "yumdownloader" => Tool::Yumdownloader,
            "yum-builddep" => Tool::YumBuilddep,
            "amazon-linux-extras" => Tool::AmazonLinuxExtras,
            "rpm" => Tool::Rpm,
            _ => return None,
        })
    }

    /// yum, dnf or microdnf: the tools with dnf-style subcommands and options.
    pub fn is_dnf_family(self) -> bool {
        matches!(self, Tool::Yum | Tool::Dnf | Tool::Microdnf)
    }

    /// The yum-utils programs and yum itself (none exists in a `lambda-al2023` image, §2.1).
    pub fn is_yum_like(self) -> bool {
        matches!(
            self,
            Tool::Yum | Tool::YumConfigManager | Tool::Yumdownloader | Tool::YumBuilddep
        )
    }
}

/// The program that really runs, given the stage's image (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// yum 3 (Amazon Linux 2).
    Yum3,
    /// dnf 4 (amazonlinux:2023, where `yum` is an alias for it).
    Dnf4,
    /// microdnf 3.8.1 (AL2023 minimal images: the Lambda AL2023 images and
    /// `amazonlinux:2023-minimal`, where `dnf` is a symlink to it).
    Microdnf,
    /// Not installed in the image (`yum` in an AL2023 minimal image).
    Missing,
}

impl Flavor {
    /// The cache directory the program really uses (§2.2: microdnf's `CACHEDIR` is
    /// `/var/cache/yum`).
    pub fn cache_dir(self) -> &'static str {
        match self {
            Flavor::Yum3 | Flavor::Microdnf | Flavor::Missing => "/var/cache/yum",
            Flavor::Dnf4 => "/var/cache/dnf",
        }
    }
}

/// Package managers installed over an AL2023 minimal image's microdnf by earlier commands of the
/// stage (or of the stage it builds on). The AWS SAM build images turn `dnf` into dnf 4 with
/// `dnf remove -y microdnf-dnf && microdnf install -y dnf`; the `yum` package (which requires
/// dnf) brings the `yum` alias too (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Installed {
    /// The `dnf` package: `dnf` is dnf 4 from here on.
    pub dnf: bool,
    /// The `yum` package: `yum` is the dnf 4 alias from here on.
    pub yum: bool,
}

/// A dnf/yum/microdnf subcommand, aliases resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sub {
    Install,
    LocalInstall,
    /// `groupinstall`, `group install`, `groups install`.
    GroupInstall,
    /// Any other group command (`group list`, `groupremove`, …).
    Group,
    Remove,
    Reinstall,
    Upgrade,
    UpgradeMinimal,
    DistroSync,
    Downgrade,
    Clean,
    Makecache,
    Repolist,
    Repoquery,
    Download,
    Module,
    ConfigManager,
    Search,
    Info,
    List,
    Provides,
    CheckUpdate,
    History,
    Swap,
    Autoremove,
    Builddep,
    Other,
}

impl Sub {
    fn from_word(w: &str) -> Sub {
        match w {
            "install" | "in" => Sub::Install,
            "localinstall" => Sub::LocalInstall,
            "groupinstall" => Sub::GroupInstall,
            "group" | "groups" | "grouplist" | "groupremove" | "grouperase" | "groupupdate"
            | "groupinfo" => Sub::Group,
            "remove" | "rm" | "erase" => Sub::Remove,
            "reinstall" | "rei" => Sub::Reinstall,
            "upgrade" | "update" | "up" => Sub::Upgrade,
            "upgrade-minimal" | "update-minimal" | "up-min" => Sub::UpgradeMinimal,
            "distro-sync" | "dsync" | "distrosync" | "distribution-synchronization" => {
                Sub::DistroSync
            }
            "downgrade" | "dg" => Sub::Downgrade,
            "clean" => Sub::Clean,
            "makecache" | "mc" => Sub::Makecache,
            "repolist" => Sub::Repolist,
            "repoquery" | "rq" => Sub::Repoquery,
            "download" => Sub::Download,
            "module" => Sub::Module,
            "config-manager" => Sub::ConfigManager,
            "search" | "se" => Sub::Search,
            "info" | "if" => Sub::Info,
            "list" | "ls" => Sub::List,
            "provides" | "whatprovides" | "prov" => Sub::Provides,
            "check-update" | "check-upgrade" => Sub::CheckUpdate,
            "history" | "hist" => Sub::History,
            "swap" => Sub::Swap,
            "autoremove" => Sub::Autoremove,
            "builddep" | "build-dep" => Sub::Builddep,
            _ => Sub::Other,
        }
    }

    /// Installs packages (and so fills the package cache).
    pub fn installs(self) -> bool {
        matches!(
            self,
            Sub::Install | Sub::LocalInstall | Sub::GroupInstall | Sub::Reinstall
        )
    }

    /// Subcommands microdnf 3.8.1 implements (§2.2).
    pub fn microdnf_accepts(self) -> bool {
        matches!(
            self,
            Sub::Install
                | Sub::Remove
                | Sub::Reinstall
                | Sub::Upgrade
                | Sub::DistroSync
                | Sub::Clean
                | Sub::Makecache
                | Sub::Repolist
                | Sub::Repoquery
                | Sub::Download
                | Sub::Module
        )
    }
}

/// Long options of dnf/yum/microdnf that take a value (as the next word when written without `=`).
const LONG_WITH_VALUE: &[&str] = &[
    "--setopt",
    "--exclude",
    "--excludepkgs",
    "--enablerepo",
    "--disablerepo",
    "--repo",
    "--repoid",
    "--releasever",
    "--installroot",
    "--config",
    "--disableplugin",
    "--enableplugin",
    "--debuglevel",
    "--errorlevel",
    "--rpmverbosity",
    "--repofrompath",
    "--forcearch",
    "--downloaddir",
    "--destdir",
    "--color",
    "--advisory",
    "--advisories",
    "--bz",
    "--bzs",
    "--cve",
    "--cves",
    "--sec-severity",
    "--secseverity",
    "--comment",
    "--randomwait",
    "--archlist",
    "--exclude-from",
    "--queryformat",
    "--qf",
    "--what-provides",
    "--whatprovides",
    "--whatrequires",
];

/// Short options of dnf/yum that take a value (`-x pkg`, `-xpkg`).
const SHORT_WITH_VALUE: &[char] = &['x', 'c', 'd', 'e', 'R'];

/// Global options microdnf 3.8.1 accepts, plus the per-command ones of the commands it has
/// (§2.2, [MDNF] `global_opts[]` and plugins).
const MICRODNF_OPTIONS: &[&str] = &[
    "-y",
    "--assumeyes",
    "--assumeno",
    "--best",
    "--nobest",
    "--config",
    "--disablerepo",
    "--enablerepo",
    "--disableplugin",
    "--enableplugin",
    "--installroot",
    "--nodocs",
    "--noplugins",
    "--refresh",
    "--releasever",
    "--setopt",
    "-h",
    "--help",
    // repolist
    "--all",
    "--enabled",
    "--disabled",
    // repoquery
    "--available",
    "--installed",
    "--info",
    "--nevra",
    // download
    "--resolve",
    "--alldeps",
    "--source",
    "--archlist",
];

/// Whether microdnf accepts an option (by name: `--setopt`, `-y`).
pub fn microdnf_accepts_option(name: &str) -> bool {
    MICRODNF_OPTIONS.contains(&name)
}

/// One option of a package-manager command.
#[derive(Debug, Clone)]
pub struct Opt<'a> {
    /// `--setopt`, `-y`, `-x` (a short option inside a cluster `-yq` is named alone: `-q`).
    pub name: String,
    /// `k=v` of `--setopt=k=v` or `--setopt k=v`; `pkg` of `-x pkg` / `-xpkg`.
    pub value: Option<String>,
    /// The word the option is written in.
    pub word: &'a Word,
    /// The separate value word (`--setopt k=v`), if any.
    pub value_word: Option<&'a Word>,
    /// Byte range of the value inside `word.value` when written in the same word.
    pub value_in_word: Option<std::ops::Range<usize>>,
    /// For a short option in a cluster of several (`q` of `-yq`): its byte offset in `word.value`.
    pub cluster_at: Option<usize>,
}

impl Opt<'_> {
    /// From the option word to its value word.
    pub fn span(&self) -> Span {
        let end = self.value_word.map_or(self.word.span.end, |w| w.span.end);
        self.word.span.start..end
    }

    /// The source span of the value, if it can be located exactly.
    pub fn value_span(&self, src: &str) -> Option<Span> {
        match (self.value_word, &self.value_in_word) {
            (Some(w), _) => inner_span(src, w, 0..w.value.len()),
            (None, Some(r)) => inner_span(src, self.word, r.clone()),
            _ => None,
        }
    }

    /// Whether this is `--setopt`.
    pub fn is_setopt(&self) -> bool {
        self.name == "--setopt"
    }

    /// The `(key, value)` of a `--setopt` (`value` is `None` when there is no `=`).
    pub fn setopt(&self) -> Option<(&str, Option<&str>)> {
        if !self.is_setopt() {
            return None;
        }
        let v = self.value.as_deref()?;
        Some(match v.split_once('=') {
            Some((k, val)) => (k, Some(val)),
            None => (v, None),
        })
    }
}

/// The analysis of one package-manager command.
#[derive(Debug, Clone)]
pub struct PkgCmd<'a> {
    pub command: &'a Command,
    pub tool: Tool,
    /// The program word (`yum`, `/usr/bin/dnf`).
    pub program: &'a Word,
    /// The class of the stage it runs in.
    pub class: BaseClass,
    /// What really runs (dnf in an AL2023 minimal stage is microdnf, §2.1, unless full dnf was
    /// installed over it).
    pub flavor: Flavor,
    /// Package managers installed over microdnf before this command.
    pub installed: Installed,
    /// The subcommand (dnf family; the first argument for `amazon-linux-extras`).
    pub sub: Option<Sub>,
    /// The subcommand word(s): `install`, or `group` + `install`.
    pub sub_words: Vec<&'a Word>,
    pub options: Vec<Opt<'a>>,
    /// Non-option arguments after the subcommand (package specs, `clean` targets…).
    pub args: Vec<&'a Word>,
}

impl<'a> PkgCmd<'a> {
    /// Analyses `command` if its program is a package manager, in a stage where nothing was
    /// installed over the image's package manager.
    pub fn new(command: &'a Command, class: BaseClass) -> Option<PkgCmd<'a>> {
        PkgCmd::after(command, class, Installed::default())
    }

    /// Analyses `command` if its program is a package manager, with `installed` the package
    /// managers earlier commands of the stage installed (see [`installed_before`]).
    pub fn after(
        command: &'a Command,
        class: BaseClass,
        installed: Installed,
    ) -> Option<PkgCmd<'a>> {
        let tool = Tool::from_name(command.name()?)?;
        let argv = command.argv();
        let (program, rest) = argv.split_first()?;
        let flavor = match (tool, class) {
            (Tool::Microdnf, _) => Flavor::Microdnf,
            (Tool::Dnf, BaseClass::LambdaAl2023) if installed.dnf => Flavor::Dnf4,
            (Tool::Yum, BaseClass::LambdaAl2023) if installed.yum => Flavor::Dnf4,
            // §2.1: in AL2023 minimal images `dnf` is a symlink to microdnf and yum is absent.
            (Tool::Dnf, BaseClass::LambdaAl2023) => Flavor::Microdnf,
            (t, BaseClass::LambdaAl2023) if t.is_yum_like() => Flavor::Missing,
            // §2.1: on amazonlinux:2023 `yum` is the dnf 4 compatibility alias.
            (Tool::Yum, BaseClass::AmazonLinux2023) => Flavor::Dnf4,
            (Tool::Dnf, _) => Flavor::Dnf4,
            _ => Flavor::Yum3,
        };
        let mut pc = PkgCmd {
            command,
            tool,
            program,
            class,
            flavor,
            installed,
            sub: None,
            sub_words: Vec::new(),
            options: Vec::new(),
            args: Vec::new(),
        };
        let dnf_like = tool.is_dnf_family();
        let mut i = 0;
        let mut only_args = false;
        while let Some(w) = rest.get(i) {
            i += 1;
            let v = w.value.as_str();
            if only_args || !v.starts_with('-') || v == "-" {
                if dnf_like && pc.sub.is_none() {
                    pc.sub = Some(Sub::from_word(v));
                    pc.sub_words.push(w);
                } else if dnf_like && pc.sub_words.len() == 1 && pc.args.is_empty() {
                    // Two-word subcommands: `group install`, `module enable`.
                    match (pc.sub, v) {
                        (Some(Sub::Group), "install") => {
                            pc.sub = Some(Sub::GroupInstall);
                            pc.sub_words.push(w);
                        }
                        (Some(Sub::Group), _) | (Some(Sub::Module), _) => pc.sub_words.push(w),
                        _ => pc.args.push(w),
                    }
                } else if !dnf_like && tool == Tool::AmazonLinuxExtras && pc.sub_words.is_empty() {
                    pc.sub_words.push(w);
                } else {
                    pc.args.push(w);
                }
                continue;
            }
            if v == "--" {
                only_args = true;
                continue;
            }
            if let Some(long) = v.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, val)) => (n, Some(val)),
                    None => (long, None),
                };
                let name = format!("--{name}");
                let mut opt = Opt {
                    value: value.map(str::to_string),
                    value_in_word: value.map(|val| v.len() - val.len()..v.len()),
                    name,
                    word: w,
                    value_word: None,
                    cluster_at: None,
                };
                if value.is_none() && dnf_like && LONG_WITH_VALUE.contains(&opt.name.as_str()) {
                    if let Some(next) = rest.get(i) {
                        opt.value = Some(next.value.clone());
                        opt.value_word = Some(next);
                        i += 1;
                    }
                }
                pc.options.push(opt);
                continue;
            }
            // Short options, possibly clustered (`-yq`, `-xpkg`).
            let body = v.get(1..).unwrap_or("");
            let cluster = body.chars().count() > 1;
            for (off, c) in body.char_indices() {
                let at = off + 1;
                let mut opt = Opt {
                    name: format!("-{c}"),
                    value: None,
                    word: w,
                    value_word: None,
                    value_in_word: None,
                    cluster_at: cluster.then_some(at),
                };
                if dnf_like && SHORT_WITH_VALUE.contains(&c) {
                    let tail = at + c.len_utf8();
                    if tail < v.len() {
                        opt.value = v.get(tail..).map(str::to_string);
                        opt.value_in_word = Some(tail..v.len());
                        opt.cluster_at = Some(at);
                    } else if let Some(next) = rest.get(i) {
                        opt.value = Some(next.value.clone());
                        opt.value_word = Some(next);
                        i += 1;
                    }
                    pc.options.push(opt);
                    break;
                }
                pc.options.push(opt);
            }
        }
        Some(pc)
    }

    /// The name the program was invoked as (`yum`, `dnf`).
    pub fn name(&self) -> &str {
        self.command.name().unwrap_or("")
    }

    /// Whether any option has one of these names.
    pub fn has_option(&self, names: &[&str]) -> bool {
        self.options
            .iter()
            .any(|o| names.contains(&o.name.as_str()))
    }

    /// Assumes yes (`-y`, `--assumeyes`, `--setopt=assumeyes=1`).
    pub fn assumes_yes(&self) -> bool {
        self.has_option(&["-y", "--assumeyes"])
            || self
                .options
                .iter()
                .any(|o| matches!(o.setopt(), Some(("assumeyes", Some("1" | "True" | "true")))))
    }

    /// In an AL2023 minimal stage and run by dnf, microdnf or yum: what the command asks of
    /// microdnf (yum is missing there, and its `dnf` replacement is microdnf, §2.1).
    /// Not so once full dnf was installed over microdnf: then `dnf` (and the `dnf` that replaces
    /// a missing `yum`) is dnf 4.
    pub fn targets_microdnf(&self) -> bool {
        self.class == BaseClass::LambdaAl2023
            && match self.flavor {
                Flavor::Microdnf => true,
                Flavor::Missing => self.tool.is_dnf_family() && !self.installed.dnf,
                Flavor::Yum3 | Flavor::Dnf4 => false,
            }
    }

    /// The package managers this command installs (`microdnf install -y dnf`).
    fn installs_managers(&self) -> Installed {
        if !self.tool.is_dnf_family() || !self.sub.is_some_and(Sub::installs) {
            return Installed::default();
        }
        let has = |name: &str| self.args.iter().any(|w| package_base(&w.value) == name);
        let yum = has("yum");
        Installed {
            dnf: yum || has("dnf"),
            yum,
        }
    }

    /// The span of the subcommand word(s).
    pub fn sub_span(&self) -> Option<Span> {
        let first = self.sub_words.first()?;
        let last = self.sub_words.last()?;
        Some(first.span.start..last.span.end)
    }

    /// The subcommand as written (`group install`).
    pub fn sub_text(&self) -> String {
        self.sub_words
            .iter()
            .map(|w| w.value.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Package arguments of an installing subcommand (not `@group`, not variables).
    pub fn packages(&self) -> impl Iterator<Item = &'a Word> + '_ {
        self.args.iter().copied()
    }

    /// The span to point at for the whole command: from the program to the last word.
    pub fn span(&self) -> Span {
        let end = self.command.span.end.max(self.program.span.end);
        self.program.span.start..end
    }
}

/// For each RUN of `cx.runs` and each of its commands, the package managers installed over the
/// image's by earlier commands of the stage, its parent stages included (only AL2023 minimal
/// stages, whose microdnf can be replaced, are tracked).
pub fn installed_before(cx: &Context<'_>) -> Vec<Vec<Installed>> {
    let mut out = Vec::with_capacity(cx.runs.len());
    // Fast path: nothing installs a package manager.
    let any = cx.runs.iter().any(|r| {
        r.commands.iter().any(|c| {
            c.argv().get(1..).unwrap_or(&[]).iter().any(|w| {
                (w.value.starts_with("dnf") || w.value.starts_with("yum"))
                    && matches!(package_base(&w.value), "dnf" | "yum")
            })
        })
    });
    if !any {
        for run in &cx.runs {
            out.push(vec![Installed::default(); run.commands.len()]);
        }
        return out;
    }
    let mut per_stage: StageStates<Installed> = StageStates::new(cx.df);
    for run in &cx.runs {
        let stage = run.stage;
        let mut state = *per_stage.get_mut(cx.df, stage.index);
        let mut states = Vec::with_capacity(run.commands.len());
        for c in &run.commands {
            states.push(state);
            if stage.class != BaseClass::LambdaAl2023 {
                continue;
            }
            if let Some(pc) = PkgCmd::after(c, stage.class, state) {
                let new = pc.installs_managers();
                state.dnf |= new.dnf;
                state.yum |= new.yum;
            }
        }
        *per_stage.get_mut(cx.df, stage.index) = state;
        out.push(states);
    }
    out
}

/// Every package-manager command of every RUN, with its RUN and index in the RUN.
/// The package-manager commands that run microdnf (AL2023 minimal's `dnf`), with their
/// `RUN`.
pub fn microdnf_commands<'c, 'a>(
    cx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c Run<'a>, PkgCmd<'c>)> + 'c {
    pkg_commands(cx)
        .filter(|(_, _, pc)| pc.targets_microdnf())
        .map(|(run, _, pc)| (run, pc))
}

pub fn pkg_commands<'c, 'a>(
    cx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c Run<'a>, usize, PkgCmd<'c>)> + 'c {
    let installed = installed_before(cx);
    cx.runs.iter().zip(installed).flat_map(|(run, states)| {
        run.commands
            .iter()
            .zip(states)
            .enumerate()
            .filter_map(move |(i, (c, state))| {
                Some((run, i, PkgCmd::after(c, run.stage.class, state)?))
            })
    })
}

/// A package name without version or arch (`openssl11-devel-1.1.1` → `openssl11-devel`).
/// Conservative: strips `-<digit>…` and `.x86_64`/`.aarch64`/`.noarch` suffixes only.
pub fn package_base(spec: &str) -> &str {
    let mut s = spec;
    for arch in [".x86_64", ".aarch64", ".noarch", ".i686"] {
        if let Some(t) = s.strip_suffix(arch) {
            s = t;
        }
    }
    // `name-1.2.3` (a version); package names themselves may contain digits after a dash
    // (`python3-pip`), so only cut where the rest looks like a version: digit then `.`/`-`/end.
    let bytes = s.as_bytes();
    let mut cut = s.len();
    for (i, _) in s.match_indices('-') {
        let rest = bytes.get(i + 1..).unwrap_or(&[]);
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && matches!(rest.get(digits), None | Some(b'.') | Some(b':')) {
            cut = i;
            break;
        }
    }
    s.get(..cut).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_base_strips_versions_only() {
        assert_eq!(package_base("openssl11-devel"), "openssl11-devel");
        assert_eq!(package_base("openssl11-devel-1.1.1g"), "openssl11-devel");
        assert_eq!(package_base("python3-pip"), "python3-pip");
        assert_eq!(package_base("curl-7.88.1-1.amzn2023"), "curl");
        assert_eq!(package_base("findutils.x86_64"), "findutils");
        assert_eq!(package_base("python3.11"), "python3.11");
    }
}
