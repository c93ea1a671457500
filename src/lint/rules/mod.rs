//! One file per rule, plus the predicates they share: the analysis of package-manager commands
//! ([`PkgCmd`]), spans inside words, and edits that keep the layout of the source.
//!
//! Rules read these, never regexes over the raw line.

pub mod amazon_linux_extras_removed;
pub mod curl_minimal_conflict;
pub mod entrypoint_not_absolute;
pub mod epel_unavailable;
pub mod floating_base_tag;
pub mod handler_cmd_arity;
pub mod handler_cmd_missing;
pub mod lambda_al2_base;
pub mod microdnf_cache_path;
pub mod microdnf_clean_all_only;
pub mod microdnf_no_groups;
pub mod microdnf_no_local_rpm;
pub mod microdnf_setopt_boolean;
pub mod microdnf_setopt_unknown;
pub mod microdnf_unknown_command;
pub mod microdnf_unknown_option;
pub mod package_not_in_al2023;
pub mod parse_error;
pub mod rpm_assume_yes;
pub mod rpm_cache_left;
pub mod tool_missing_in_minimal;
pub mod upgrade_release_locked;
pub mod yum_not_available;

use crate::dockerfile::{Args, BaseClass, Command, Dockerfile, Span, Stage, Word};
use crate::lint::{Context, Edit, Run};

// ---------------------------------------------------------------------------------------------
// Package-manager commands
// ---------------------------------------------------------------------------------------------

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

/// A state per stage that a stage inherits from the stage it builds on (`FROM builder`), as
/// that one's state is when the stage's first RUN is reached (the builder's RUNs all come
/// before). Each stage is initialised once, so a long chain of stages stays linear.
pub struct StageStates<T> {
    states: Vec<Option<T>>,
    scratch: T,
}

impl<T: Clone + Default> StageStates<T> {
    pub fn new(df: &Dockerfile) -> Self {
        StageStates {
            states: vec![None; df.stages.len()],
            scratch: T::default(),
        }
    }

    /// The state of stage `index`, initialised from its nearest initialised ancestor.
    pub fn get_mut(&mut self, df: &Dockerfile, index: usize) -> &mut T {
        if !matches!(self.states.get(index), Some(Some(_))) {
            self.init(df, index);
        }
        match self.states.get_mut(index) {
            Some(Some(state)) => state,
            // Unreachable after `init`; a scratch state rather than a panic.
            _ => &mut self.scratch,
        }
    }

    fn init(&mut self, df: &Dockerfile, index: usize) {
        if self.states.len() <= index {
            self.states.resize(index + 1, None);
        }
        let mut path = Vec::new();
        let mut cur = Some(index);
        let mut base = T::default();
        while let Some(i) = cur {
            if let Some(Some(state)) = self.states.get(i) {
                base = state.clone();
                break;
            }
            path.push(i);
            // Parents come before their children; anything else would be a cycle.
            cur = df.stages.get(i).and_then(|s| s.parent).filter(|&p| p < i);
        }
        for i in path.into_iter().rev() {
            if let Some(slot) = self.states.get_mut(i) {
                *slot = Some(base.clone());
            }
        }
    }
}

/// Every package-manager command of every RUN, with its RUN and index in the RUN.
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

// ---------------------------------------------------------------------------------------------
// Other commands
// ---------------------------------------------------------------------------------------------

/// The paths an `rm` command removes (non-option arguments); empty for other commands.
pub fn removed_paths(c: &Command) -> impl Iterator<Item = &Word> {
    let is_rm = c.name() == Some("rm");
    c.argv()
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .filter(move |w| is_rm && !w.value.starts_with('-'))
}

/// Whether removing `path` removes the cache directory `dir` (`/var/cache/yum`, `…/yum/*`,
/// `/var/cache`, `/var/cache/*`).
pub fn removes_dir(path: &str, dir: &str) -> bool {
    // `/var/cache/{dnf,yum}`: the shell of the Amazon Linux images (bash, also as /bin/sh)
    // expands one brace group.
    if let Some((head, rest)) = path.split_once('{') {
        if let Some((alts, tail)) = rest.split_once('}') {
            if alts.contains(',') && !alts.contains('{') {
                return alts
                    .split(',')
                    .any(|alt| removes_dir(&format!("{head}{alt}{tail}"), dir));
            }
        }
    }
    let p = path.trim_end_matches('/');
    if p == "/var/cache" || p == "/var/cache/*" {
        return true;
    }
    match p.strip_prefix(dir) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || rest.starts_with('*'),
        None => false,
    }
}

/// Whether the RUN's `--mount=type=cache` (or tmpfs) flags cover `dir`.
pub fn mount_covers(run: &Run<'_>, dir: &str) -> bool {
    run.instruction.flags.iter().any(|f| {
        if !f.name.eq_ignore_ascii_case("mount") {
            return false;
        }
        let Some(v) = f.value.as_deref() else {
            return false;
        };
        let mut cache = false;
        let mut target = None;
        for kv in v.split(',') {
            let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
            match k.trim() {
                "type" => cache = matches!(val.trim(), "cache" | "tmpfs"),
                "target" | "dst" | "destination" => target = Some(val.trim()),
                _ => {}
            }
        }
        cache && target.is_some_and(|t| removes_dir(t, dir) || t.trim_end_matches('/') == dir)
    })
}

/// Whether the RUN is in exec (JSON) form: fixes that add or remove words are not offered there.
pub fn is_exec_form(run: &Run<'_>) -> bool {
    matches!(run.instruction.args, Args::Exec(_))
}

// ---------------------------------------------------------------------------------------------
// Spans and edits
// ---------------------------------------------------------------------------------------------

/// The source span of `range` (a byte range of `word.value`), when the word is written verbatim
/// or wrapped whole in one pair of quotes; `None` when escapes make the mapping uncertain.
pub fn inner_span(src: &str, word: &Word, range: std::ops::Range<usize>) -> Option<Span> {
    let raw = src.get(word.span.clone())?;
    let value = word.value.as_str();
    if range.end > value.len() || range.start > range.end {
        return None;
    }
    let base = if raw == value {
        word.span.start
    } else if raw.len() == value.len() + 2
        && (raw.starts_with('"') && raw.ends_with('"')
            || raw.starts_with('\'') && raw.ends_with('\''))
        && raw.get(1..raw.len() - 1) == Some(value)
    {
        word.span.start + 1
    } else {
        return None;
    };
    Some(base + range.start..base + range.end)
}

/// The source span of a whole word's value (inside its quotes), if it can be located exactly.
pub fn value_span(src: &str, word: &Word) -> Option<Span> {
    inner_span(src, word, 0..word.value.len())
}

/// Deletes `span` (one or more whole words) with the blanks after it on the same line, or, at the
/// end of a line, the blanks before it: the rest of the line, comments and continuations stay.
/// When the words are alone on a continuation line (`    --opt \`), the whole line goes.
pub fn delete_words(src: &str, span: Span, escape: char) -> Edit {
    let bytes = src.as_bytes();
    let line_start = src
        .get(..span.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let alone_before = src
        .get(line_start..span.start)
        .is_some_and(|t| t.chars().all(|c| c == ' ' || c == '\t'));
    if alone_before && line_start > 0 {
        let rest = src.get(span.end..).unwrap_or("");
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = trimmed.strip_prefix(escape) {
            let nl = if after.starts_with("\r\n") {
                2
            } else if after.starts_with('\n') {
                1
            } else {
                0
            };
            if nl > 0 {
                let end = span.end + (rest.len() - after.len()) + nl;
                return Edit::delete(line_start..end);
            }
        }
    }
    let mut end = span.end;
    while matches!(bytes.get(end), Some(b' ' | b'\t')) {
        end += 1;
    }
    let at_line_end = matches!(bytes.get(end), None | Some(b'\n' | b'\r'));
    if end > span.end && !at_line_end {
        return Edit::delete(span.start..end);
    }
    let mut start = span.start;
    while start > 0 && matches!(bytes.get(start - 1), Some(b' ' | b'\t')) {
        start -= 1;
    }
    Edit::delete(start..span.end)
}

/// Removes an option: the whole word (and its value word), or one letter of a cluster (`-yq` →
/// `-y`). `None` when the option cannot be removed exactly.
pub fn delete_option(df: &Dockerfile, run: &Run<'_>, opt: &Opt<'_>) -> Option<Edit> {
    let src = df.source.as_str();
    if is_exec_form(run) {
        return None;
    }
    match opt.cluster_at {
        Some(at) => {
            // Remove the letter (and an attached value) but keep the rest of the cluster.
            let end = match &opt.value_in_word {
                Some(r) => r.end,
                None => at + opt.name.len() - 1,
            };
            if at == 1 && end >= opt.word.value.len() {
                // The whole word is this option.
                return Some(delete_words(src, opt.span(), df.escape));
            }
            if opt.value_word.is_some() {
                return None;
            }
            Some(Edit::delete(inner_span(src, opt.word, at..end)?))
        }
        None => {
            // The word must be exactly as written (not a quoted concatenation).
            value_span(src, opt.word)?;
            if let Some(vw) = opt.value_word {
                value_span(src, vw)?;
            }
            Some(delete_words(src, opt.span(), df.escape))
        }
    }
}

/// The line ending used at `offset` (`\r\n` if the line containing it ends so).
pub fn line_ending_at(src: &str, offset: usize) -> &'static str {
    let rest = src.get(offset..).unwrap_or("");
    match rest.find('\n') {
        Some(i) if i > 0 && rest.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        Some(_) => "\n",
        None if src.contains("\r\n") => "\r\n",
        None => "\n",
    }
}

/// An edit appending `text` (a shell command) after the last command of a RUN: inside the
/// last heredoc body as a new line before its delimiter when that is where the commands are,
/// else `&& text` after the last command. `None` for exec-form RUNs.
pub fn append_command(src: &str, run: &Run<'_>, text: &str) -> Option<Edit> {
    if is_exec_form(run) {
        return None;
    }
    let last = run.commands.last()?;
    let end = last.span.end;
    for h in &run.instruction.heredocs {
        if h.body_span.start <= last.span.start && end <= h.body_span.end {
            let at = h.body_span.end;
            let body = src.get(h.body_span.clone())?;
            let nl = line_ending_at(src, h.body_span.start);
            return Some(if body.is_empty() || body.ends_with('\n') {
                Edit::insert(at, format!("{text}{nl}"))
            } else {
                Edit::insert(at, format!("{nl}{text}"))
            });
        }
    }
    Some(Edit::insert(end, format!(" && {text}")))
}

/// The program as written before its arguments, for a command added next to it: `sudo ` kept
/// when the command was run through sudo.
pub fn invocation(c: &Command, name: &str) -> String {
    let sudo = c
        .words
        .get(..c.program)
        .unwrap_or(&[])
        .iter()
        .any(|w| w.value == "sudo");
    if sudo {
        format!("sudo {name}")
    } else {
        name.to_string()
    }
}

/// A safe fix.
pub fn safe(message: impl Into<String>, edits: Vec<Edit>) -> crate::lint::Fix {
    crate::lint::Fix {
        applicability: crate::lint::Applicability::Safe,
        message: message.into(),
        edits,
    }
}

/// An unsafe fix.
pub fn unsafe_fix(message: impl Into<String>, edits: Vec<Edit>) -> crate::lint::Fix {
    crate::lint::Fix {
        applicability: crate::lint::Applicability::Unsafe,
        message: message.into(),
        edits,
    }
}

// ---------------------------------------------------------------------------------------------
// The base image, as messages name it
// ---------------------------------------------------------------------------------------------

/// The image a stage runs on, as every message names it: the image of the first `FROM` of the
/// stage's chain (`FROM builder` followed back), as resolved (global `ARG` defaults substituted),
/// with what it has for a package manager (§2.1). Displays as
/// `` `amazonlinux:2023-minimal` (AL2023 minimal: microdnf, no yum) ``.
#[derive(Debug, Clone, Copy)]
pub struct Base<'d> {
    /// The resolved image (as written when a variable stayed unresolved).
    pub image: &'d str,
    pub class: BaseClass,
    /// Package managers earlier commands of the stage installed over microdnf.
    pub installed: Installed,
}

impl<'d> Base<'d> {
    /// The base of `stage`, before anything was installed over its package manager.
    pub fn of(df: &'d Dockerfile, stage: &'d Stage) -> Base<'d> {
        Base::at(df, stage, Installed::default())
    }

    /// The base of `stage` once `installed` package managers were installed over microdnf.
    pub fn at(df: &'d Dockerfile, stage: &'d Stage, installed: Installed) -> Base<'d> {
        let root = stage_chain(df, stage).first().copied().unwrap_or(stage);
        Base {
            image: root.image.as_deref().unwrap_or(&root.image_raw),
            class: stage.class,
            installed,
        }
    }

    /// The image alone, in backticks: `` `public.ecr.aws/lambda/python:3.12` ``.
    pub fn image(&self) -> String {
        format!("`{}`", self.image)
    }

    /// What the image has for a package manager (§2.1), `None` for an unknown image.
    pub fn note(&self) -> Option<&'static str> {
        Some(match self.class {
            BaseClass::LambdaAl2023 if self.installed.yum => {
                "AL2023 minimal with dnf 4 and yum installed over microdnf"
            }
            BaseClass::LambdaAl2023 if self.installed.dnf => {
                "AL2023 minimal with dnf 4 installed over microdnf, no yum"
            }
            BaseClass::LambdaAl2023 => "AL2023 minimal: microdnf, no yum",
            BaseClass::AmazonLinux2023 => "AL2023: full dnf 4",
            BaseClass::LambdaAl2 | BaseClass::AmazonLinux2 => "Amazon Linux 2: yum",
            BaseClass::Unknown => return None,
        })
    }
}

impl std::fmt::Display for Base<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.note() {
            Some(note) => write!(f, "`{}` ({note})", self.image),
            None => write!(f, "`{}`", self.image),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The handler `CMD` of a Lambda image (LI303, LI305)
// ---------------------------------------------------------------------------------------------

/// The entrypoint of every AWS Lambda base image.
const LAMBDA_ENTRYPOINT: &str = "/lambda-entrypoint.sh";

/// What the final stage of a Lambda image passes `/lambda-entrypoint.sh`.
#[derive(Debug, Clone, Copy)]
pub enum HandlerCmd<'d> {
    /// The `CMD` in effect.
    Set(&'d crate::dockerfile::Instruction),
    /// None: neither the final stage nor a stage it builds on sets one (after any
    /// `ENTRYPOINT` that resets it).
    Missing,
}

/// Whether an ENTRYPOINT sets something other than the base image's `/lambda-entrypoint.sh`.
fn overrides_entrypoint(ins: &crate::dockerfile::Instruction) -> bool {
    match &ins.args {
        Args::Exec(words) => !matches!(words.as_slice(), [w] if w.value == LAMBDA_ENTRYPOINT),
        Args::Shell(_) | Args::None => true,
    }
}

/// The final stage and its `CMD`, when the final stage is built on an AWS Lambda base image
/// and keeps its `/lambda-entrypoint.sh`. BuildKit: an ENTRYPOINT resets a CMD inherited from
/// the parent image, not one set earlier in the same stage.
pub fn handler_cmd(df: &Dockerfile) -> Option<(&Stage, HandlerCmd<'_>)> {
    let last = df.stages.last()?;
    if !last.base.is_lambda {
        return None;
    }
    let mut cmd = None;
    let mut overridden = false;
    for stage in stage_chain(df, last) {
        let mut cmd_set_here = false;
        for ins in stage_instructions(df, stage) {
            match ins.keyword {
                crate::dockerfile::Keyword::Cmd => {
                    cmd = Some(ins);
                    cmd_set_here = true;
                }
                crate::dockerfile::Keyword::Entrypoint => {
                    overridden = overrides_entrypoint(ins);
                    if !cmd_set_here {
                        cmd = None;
                    }
                }
                _ => {}
            }
        }
    }
    if overridden {
        return None;
    }
    Some((last, cmd.map_or(HandlerCmd::Missing, HandlerCmd::Set)))
}

/// A shell-form argument that means the same as one exec-form element.
pub fn plain_word(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\''
                        | '\\'
                        | '$'
                        | '`'
                        | ';'
                        | '&'
                        | '|'
                        | '<'
                        | '>'
                        | '('
                        | ')'
                        | '{'
                        | '}'
                        | '*'
                        | '?'
                        | '['
                        | ']'
                        | '~'
                        | '#'
                        | '!'
                )
        })
}

/// The handler a `CMD` names, if it names exactly one: `CMD ["app.handler"]`, or a shell-form
/// `CMD app.handler` of one plain word.
pub fn named_handler(ins: &crate::dockerfile::Instruction) -> Option<&str> {
    let word = match &ins.args {
        Args::Exec(words) => match words.as_slice() {
            [w] => w.value.as_str(),
            _ => return None,
        },
        Args::Shell(text) => text.text.trim(),
        Args::None => return None,
    };
    (plain_word(word) && !word.starts_with('-')).then_some(word)
}

/// A stage and the stages it builds on (`FROM builder`), the root first.
pub fn stage_chain<'d>(
    df: &'d crate::dockerfile::Dockerfile,
    stage: &'d crate::dockerfile::Stage,
) -> Vec<&'d crate::dockerfile::Stage> {
    let mut chain = vec![stage];
    let mut cur = stage;
    while let Some(p) = cur.parent.and_then(|p| df.stages.get(p)) {
        // Parents come before their children; anything else would be a cycle.
        if p.index >= cur.index || chain.len() > df.stages.len() {
            break;
        }
        chain.push(p);
        cur = p;
    }
    chain.reverse();
    chain
}

/// The instructions of a stage, FROM included.
pub fn stage_instructions<'d>(
    df: &'d crate::dockerfile::Dockerfile,
    stage: &crate::dockerfile::Stage,
) -> &'d [crate::dockerfile::Instruction] {
    df.instructions
        .get(stage.instructions.clone())
        .unwrap_or(&[])
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

    #[test]
    fn removes_dir_paths() {
        assert!(removes_dir("/var/cache/yum", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/yum/*", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/yum/", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/*", "/var/cache/yum"));
        assert!(!removes_dir("/var/cache/yumx", "/var/cache/yum"));
        assert!(!removes_dir("/tmp/x", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/{dnf,yum}", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/{yum,dnf}/*", "/var/cache/dnf"));
        assert!(!removes_dir("/var/cache/{apt,apk}", "/var/cache/yum"));
    }

    #[test]
    fn delete_words_keeps_layout() {
        let src = "RUN dnf install -q \\\n  x\n";
        let at = src.find("-q").unwrap_or(0);
        let e = delete_words(src, at..at + 2, '\\');
        let mut out = src.to_string();
        out.replace_range(e.range, "");
        assert_eq!(out, "RUN dnf install \\\n  x\n");
        let src = "RUN dnf install x -q\n";
        let at = src.find("-q").unwrap_or(0);
        let e = delete_words(src, at..at + 2, '\\');
        let mut out = src.to_string();
        out.replace_range(e.range, "");
        assert_eq!(out, "RUN dnf install x\n");
        let src = "RUN dnf install \\\r\n  -q \\\r\n  x\r\n";
        let at = src.find("-q").unwrap_or(0);
        let e = delete_words(src, at..at + 2, '\\');
        let mut out = src.to_string();
        out.replace_range(e.range, "");
        assert_eq!(out, "RUN dnf install \\\r\n  x\r\n");
    }
}
