//! Image specs: `images/<name>/image.yaml` types and validation.
//!
//! [`load`] reads a spec folder (or its `image.yaml`), parses it with serde-saphyr (unknown
//! fields rejected, alias and size budgets on), and checks every value (see [`check`]). Errors
//! are one line: `images/x/image.yaml:4:3: unknown field 'pakages', expected one of …`.

pub mod check;
pub mod images;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::building::secrets::{self, Secret};
use crate::invoke::smoke::Smoke;

pub use crate::arch::Arch;
pub use crate::runtimes::{self as runtime, Family, Runtime, RUNTIMES};
pub use images::{expand_tags, is_spec, Unnamed};

/// The file name of a spec inside its folder.
pub const SPEC_FILE: &str = "image.yaml";

/// The largest `image.yaml` read: the one YAML limit ([`crate::config::MAX_YAML_BYTES`]).
pub const MAX_SPEC_BYTES: u64 = crate::config::MAX_YAML_BYTES;

/// A spec error: file, 1-based line and column when known, and one line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: PathBuf,
    /// 0 when the position is unknown.
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

impl std::error::Error for SpecError {}

/// A `copy` entry, validated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyEntry {
    /// Relative to the spec folder (the build context), normalised.
    pub src: String,
    /// Relative to `LAMBDA_TASK_ROOT`, normalised (`.` for the task root itself).
    pub dest: String,
    /// A build output (`target/…`, `publish/`): it need not exist when rendering; the build
    /// fails if it is still missing then.
    pub build_output: bool,
}

/// The dependency manifest of an interpreted runtime.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Requirements {
    /// Path in the build context (`requirements.txt`, `deps/package.json`).
    pub src: String,
    /// Its file name (`requirements.txt`).
    pub name: String,
    /// The lock file next to it (`package-lock.json`, `Gemfile.lock`), path in the context.
    pub lock: Option<String>,
    pub lock_name: Option<String>,
}

/// A validated image spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The `image.yaml` path as the user named it (used in messages).
    pub file: PathBuf,
    /// The spec folder: the build context.
    pub dir: PathBuf,
    /// The folder's name: the image's title.
    pub name: String,
    pub runtime: &'static Runtime,
    /// The base image: the runtime's default, or the spec's `base`.
    pub base: check::Reference,
    pub base_overridden: bool,
    pub architectures: Vec<Arch>,
    pub packages: Vec<String>,
    pub build_packages: Vec<String>,
    pub requirements: Option<Requirements>,
    pub copy: Vec<CopyEntry>,
    /// provided.al2023 only: the executable copied to `${LAMBDA_RUNTIME_DIR}/bootstrap`.
    pub bootstrap: Option<CopyEntry>,
    pub handler: String,
    pub env: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub tags: Vec<String>,
    pub verify: Option<String>,
    /// `push: {repository: …}`: where `push` sends the image (`{arch}` allowed).
    pub push_repository: Option<String>,
    /// `smoke:`: invocations `build` and `push` run after verify (`lambda-image invoke`), their
    /// events read.
    pub smoke: Vec<Smoke>,
    /// `secrets:`: ids and where their values come from (a file relative to the spec
    /// folder, or an environment variable), served to BuildKit builds; never a value.
    pub secrets: Vec<crate::building::secrets::Secret>,
}

impl Spec {
    /// The error for `--arch` naming architectures the spec does not build.
    pub fn not_its_architecture(&self, requested: &[Arch]) -> anyhow::Error {
        let names = |list: &[Arch], sep: &str| {
            list.iter()
                .map(|a| a.lambda_name())
                .collect::<Vec<_>>()
                .join(sep)
        };
        anyhow::anyhow!(
            "{}: --arch {} is not one of the spec's architectures ({})",
            self.file.display(),
            names(requested, ","),
            names(&self.architectures, ", ")
        )
    }

    /// The base image reference as written in `FROM`.
    pub fn base_reference(&self) -> String {
        match &self.base.digest {
            Some(d) => format!("{}@{d}", self.base.name()),
            None => self.base.name(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw (deserialised) form

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    runtime: Spanned<String>,
    #[serde(default)]
    base: Option<Spanned<String>>,
    #[serde(default)]
    architectures: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    packages: Vec<Spanned<String>>,
    #[serde(default)]
    build_packages: Vec<Spanned<String>>,
    #[serde(default)]
    requirements: Option<Spanned<String>>,
    #[serde(default)]
    copy: Vec<Spanned<RawCopy>>,
    #[serde(default)]
    bootstrap: Option<Spanned<RawBootstrap>>,
    #[serde(default)]
    handler: Option<Spanned<String>>,
    #[serde(default)]
    env: Pairs,
    #[serde(default)]
    labels: Pairs,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    verify: Option<Spanned<String>>,
    #[serde(default)]
    push: Option<RawPush>,
    #[serde(default)]
    smoke: Vec<RawSmoke>,
    #[serde(default)]
    secrets: Vec<Spanned<RawSecret>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    id: Spanned<String>,
    #[serde(default)]
    src: Option<Spanned<String>>,
    #[serde(default)]
    env: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmoke {
    event: Spanned<String>,
    #[serde(default)]
    expect: Option<RawExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    status: Option<Spanned<String>>,
    #[serde(default)]
    contains: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    repository: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCopy {
    src: Spanned<String>,
    #[serde(default)]
    dest: Option<Spanned<String>>,
    #[serde(default)]
    build_output: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBootstrap {
    src: Spanned<String>,
    #[serde(default)]
    build_output: bool,
}

/// A scalar that becomes text: env and label values may be written as numbers or booleans.
#[derive(Debug)]
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ScalarText, E> {
                Ok(ScalarText(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping kept in the order written, with positions (env, labels).
#[derive(Debug, Default)]
struct Pairs(Vec<(Spanned<String>, Spanned<ScalarText>)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<Spanned<String>>()? {
                    let v = map.next_value::<Spanned<ScalarText>>()?;
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Every spec folder under `root` (`images/*/image.yaml`), sorted; an error when there is none.
pub fn discover(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context as _;
    let entries = std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", root.display()))?;
        let path = entry.path();
        if path.join(SPEC_FILE).is_file() {
            out.push(path);
        }
    }
    out.sort();
    if out.is_empty() {
        anyhow::bail!(
            "{}: no image specs (folders with an {SPEC_FILE})",
            root.display()
        );
    }
    Ok(out)
}

/// Resolves `images/<name>` or `images/<name>/image.yaml` to (spec file, folder).
pub fn locate(path: &Path) -> (PathBuf, PathBuf) {
    if path.is_dir() {
        (path.join(SPEC_FILE), path.to_path_buf())
    } else {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (path.to_path_buf(), dir)
    }
}

/// Reads and validates a spec.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let (file, dir) = locate(path);
    let err0 = |message: String| SpecError {
        file: file.clone(),
        line: 0,
        column: 0,
        message,
    };
    if let Err(e) = std::fs::symlink_metadata(&file) {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Err(err0(format!("no image spec here ({e})")));
        }
    }
    let text = crate::config::read_yaml(&file, "an image spec").map_err(err0)?;
    if text.trim().is_empty() {
        return Err(err0(
            "the spec is empty; it needs at least `runtime:` (and `handler:`)".into(),
        ));
    }
    let raw: RawSpec =
        crate::yaml::from_str(&text, "an image spec").map_err(|e| yaml_error(&file, &e))?;
    let dir_abs = dir
        .canonicalize()
        .map_err(|e| err0(format!("cannot resolve the spec folder: {e}")))?;
    let name = dir_abs
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| err0("the spec folder has no usable name".into()))?;
    check::text(&name).map_err(|m| err0(format!("folder name: {m}")))?;
    Validator {
        file: &file,
        dir: &dir,
    }
    .spec(raw, name)
}

/// One line from a YAML error: position in front, quotes for backticks.
fn yaml_error(file: &Path, e: &crate::yaml::YamlError) -> SpecError {
    SpecError {
        file: file.to_path_buf(),
        line: e.line,
        column: e.column,
        message: e.message.replace('`', "'"),
    }
}

struct Validator<'a> {
    file: &'a Path,
    dir: &'a Path,
}

impl Validator<'_> {
    fn at<T>(&self, s: &Spanned<T>, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.to_path_buf(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            message: message.into(),
        }
    }

    fn top(&self, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// Checks every field; the first error found is the one reported.
    fn spec(&self, raw: RawSpec, name: String) -> Result<Spec, SpecError> {
        check::text(&raw.runtime.value)
            .map_err(|m| self.at(&raw.runtime, format!("runtime: {m}")))?;
        let runtime = runtime::lookup(&raw.runtime.value)
            .ok_or_else(|| self.at(&raw.runtime, runtime::unknown_message(&raw.runtime.value)))?;
        let (base, base_overridden) = self.base(runtime, raw.base.as_ref())?;
        let architectures = self.architectures(raw.architectures.as_ref())?;
        let packages = self.packages("packages", &raw.packages)?;
        let build_packages = self.packages("build_packages", &raw.build_packages)?;
        let requirements = match &raw.requirements {
            None => None,
            Some(r) => Some(self.requirements(runtime, r)?),
        };
        if let Some(first) = raw.build_packages.first() {
            if requirements.is_none() {
                return Err(self.build_packages_without_requirements(runtime, first));
            }
        }
        let mut copy = Vec::new();
        for c in &raw.copy {
            copy.push(self.copy_entry(c)?);
        }
        let bootstrap = self.bootstrap(runtime, &raw)?;
        let handler = self.handler(runtime, raw.handler.as_ref())?;
        let env = self.pairs("env", &raw.env, check::env_key)?;
        let labels = self.pairs("labels", &raw.labels, check::label_key)?;
        let tags = self.tags(&raw.tags)?;
        let verify = self.verify(raw.verify.as_ref())?;
        let smoke = self.smoke(&raw.smoke)?;
        let secrets = self.secrets(&raw.secrets)?;
        let push_repository = self.push_repository(raw.push.as_ref())?;
        Ok(Spec {
            file: self.file.to_path_buf(),
            dir: self.dir.to_path_buf(),
            name,
            runtime,
            base,
            base_overridden,
            architectures,
            packages,
            build_packages,
            requirements,
            copy,
            bootstrap,
            handler,
            env,
            labels,
            tags,
            verify,
            push_repository,
            smoke,
            secrets,
        })
    }

    /// `base`, or the runtime's default base; whether the spec overrode it.
    fn base(
        &self,
        runtime: &Runtime,
        base: Option<&Spanned<String>>,
    ) -> Result<(check::Reference, bool), SpecError> {
        Ok(match base {
            Some(b) => (
                check::reference(&b.value).map_err(|m| self.at(b, format!("base: {m}")))?,
                true,
            ),
            None => (
                check::reference(&runtime.default_base()).map_err(|m| self.top(m))?,
                false,
            ),
        })
    }

    fn architectures(
        &self,
        list: Option<&Spanned<Vec<Spanned<String>>>>,
    ) -> Result<Vec<Arch>, SpecError> {
        let Some(list) = list else {
            return Ok(vec![Arch::X86_64]);
        };
        if list.value.is_empty() {
            return Err(self.at(
                list,
                "architectures: the list is empty; use x86_64, arm64 or both",
            ));
        }
        let mut out = Vec::new();
        for a in &list.value {
            let arch = match a.value.as_str() {
                "x86_64" => Arch::X86_64,
                "arm64" => Arch::Arm64,
                other => {
                    return Err(self.at(
                        a,
                        format!(
                            "architectures: unknown architecture '{}', expected x86_64 or arm64",
                            other.escape_default()
                        ),
                    ))
                }
            };
            if out.contains(&arch) {
                return Err(self.at(a, format!("architectures: '{}' is listed twice", a.value)));
            }
            out.push(arch);
        }
        Ok(out)
    }

    fn build_packages_without_requirements(
        &self,
        runtime: &Runtime,
        first: &Spanned<String>,
    ) -> SpecError {
        let why = if runtime.family.installs_dependencies() {
            "nothing is built in the image without `requirements`".to_string()
        } else {
            format!(
                "{} images are built from the outputs of the project's own build, so nothing is compiled in the image",
                runtime.id
            )
        };
        self.at(
            first,
            format!("build_packages: {why}; remove build_packages (use packages for libraries the function needs at run time)"),
        )
    }

    /// `bootstrap`: required for provided.al2023, refused elsewhere; an executable file.
    fn bootstrap(&self, runtime: &Runtime, raw: &RawSpec) -> Result<Option<CopyEntry>, SpecError> {
        let b = match (&raw.bootstrap, runtime.family) {
            (Some(b), Family::Provided) => b,
            (Some(b), _) => {
                return Err(self.at(
                    b,
                    format!("bootstrap: only provided.al2023 images take a bootstrap; {} has its own", runtime.id),
                ))
            }
            (None, Family::Provided) => {
                return Err(self.at(
                    &raw.runtime,
                    "provided.al2023 needs `bootstrap: {src: <executable>}` (copied to ${LAMBDA_RUNTIME_DIR}/bootstrap)",
                ))
            }
            (None, _) => return Ok(None),
        };
        let src = self.path("bootstrap.src", &b.value.src, !b.value.build_output)?;
        if src.is_dir || src.text == "." {
            return Err(self.at(
                &b.value.src,
                "bootstrap.src: must be a file (the executable), not a directory",
            ));
        }
        #[cfg(unix)]
        if src.exists {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(self.dir.join(&src.text))
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            if mode & 0o111 == 0 {
                return Err(self.at(
                    &b.value.src,
                    format!(
                        "bootstrap.src: '{}' is not executable (chmod +x it; COPY keeps the mode)",
                        src.text
                    ),
                ));
            }
        }
        Ok(Some(CopyEntry {
            src: src.text,
            dest: "bootstrap".into(),
            build_output: b.value.build_output,
        }))
    }

    fn handler(
        &self,
        runtime: &Runtime,
        handler: Option<&Spanned<String>>,
    ) -> Result<String, SpecError> {
        match handler {
            Some(h) => {
                check::handler(runtime.family, &h.value)
                    .map_err(|m| self.at(h, format!("handler: {m}")))?;
                Ok(h.value.clone())
            }
            // provided.al2023: the handler only reaches the bootstrap as _HANDLER (domain §1.3).
            None if runtime.family == Family::Provided => Ok("bootstrap".to_string()),
            None => Err(self.top(format!(
                "missing field 'handler' (for {} it looks like '{}')",
                runtime.id, runtime.example_handler
            ))),
        }
    }

    /// `env` or `labels` (`field`): keys checked by `key`, values plain text.
    fn pairs(
        &self,
        field: &str,
        pairs: &Pairs,
        key: fn(&str) -> Result<(), String>,
    ) -> Result<Vec<(String, String)>, SpecError> {
        let mut out = Vec::new();
        for (k, v) in &pairs.0 {
            key(&k.value).map_err(|m| self.at(k, format!("{field}: {m}")))?;
            check::text(&v.value.0).map_err(|m| self.at(v, format!("{field}.{}: {m}", k.value)))?;
            out.push((k.value.clone(), v.value.0.clone()));
        }
        Ok(out)
    }

    /// A reference without a digest (`tags`, `push.repository`); `{arch}` stands for the
    /// architecture (`orders:{arch}`). `digest` ends the message when it has one.
    fn reference_without_digest(
        &self,
        field: &str,
        v: &Spanned<String>,
        digest: &str,
    ) -> Result<String, SpecError> {
        let r = check::reference(&v.value.replace("{arch}", "x86_64"))
            .map_err(|m| self.at(v, format!("{field}: {m}")))?;
        if r.digest.is_some() {
            return Err(self.at(v, format!("{field}: '{}' has a digest; {digest}", v.value)));
        }
        Ok(v.value.clone())
    }

    fn tags(&self, tags: &[Spanned<String>]) -> Result<Vec<String>, SpecError> {
        tags.iter()
            .map(|t| {
                self.reference_without_digest("tags", t, "a tag names a repository and tag only")
            })
            .collect()
    }

    fn push_repository(&self, push: Option<&RawPush>) -> Result<Option<String>, SpecError> {
        push.map(|p| {
            self.reference_without_digest(
                "push.repository",
                &p.repository,
                "name a repository (and a tag)",
            )
        })
        .transpose()
    }

    fn verify(&self, verify: Option<&Spanned<String>>) -> Result<Option<String>, SpecError> {
        let Some(v) = verify else {
            return Ok(None);
        };
        let p = self.path("verify", v, true)?;
        if p.is_dir {
            return Err(self.at(v, "verify: must be a manifest file, not a directory"));
        }
        Ok(Some(p.text))
    }

    /// The `smoke:` entries, their events read (an event that is not valid JSON is an
    /// error at its line).
    fn smoke(&self, smoke: &[RawSmoke]) -> Result<Vec<Smoke>, SpecError> {
        let mut out = Vec::new();
        for t in smoke {
            let p = self.path("smoke.event", &t.event, true)?;
            if p.is_dir {
                return Err(self.at(
                    &t.event,
                    "smoke.event: must be a JSON file, not a directory",
                ));
            }
            let expect = t.expect.as_ref();
            let expect_error = match expect.and_then(|e| e.status.as_ref()) {
                None => false,
                Some(v) if v.value == "ok" => false,
                Some(v) if v.value == "error" => true,
                Some(v) => {
                    return Err(self.at(
                        v,
                        format!("smoke.expect.status: '{}' is not ok or error", v.value),
                    ))
                }
            };
            let contains = match expect.and_then(|e| e.contains.as_ref()) {
                Some(v) => {
                    check::text(&v.value)
                        .map_err(|m| self.at(v, format!("smoke.expect.contains: {m}")))?;
                    Some(v.value.clone())
                }
                None => None,
            };
            let event = crate::invoke::input::read_event(Some(&self.dir.join(&p.text)))
                .map_err(|e| self.at(&t.event, format!("smoke.event: {e:#}")))?;
            out.push(Smoke {
                event_path: p.text,
                event,
                expect_error,
                contains,
            });
        }
        Ok(out)
    }

    fn secrets(&self, raw: &[Spanned<RawSecret>]) -> Result<Vec<Secret>, SpecError> {
        let mut secrets: Vec<Secret> = Vec::new();
        for entry in raw {
            let r = &entry.value;
            secrets::check_id(&r.id.value)
                .map_err(|m| self.at(&r.id, format!("secrets.id: {m}")))?;
            if secrets.iter().any(|s| s.id == r.id.value) {
                return Err(self.at(
                    &r.id,
                    format!("secrets.id: '{}' is listed twice", r.id.value),
                ));
            }
            let source = match (&r.src, &r.env) {
                (Some(src), None) => {
                    check::text(&src.value)
                        .map_err(|m| self.at(src, format!("secrets.src: {m}")))?;
                    secrets::Source::File(self.dir.join(&src.value))
                }
                (None, Some(env)) if !env.value.is_empty() && !env.value.contains('=') => {
                    secrets::Source::Env(env.value.clone())
                }
                (None, Some(env)) => {
                    return Err(self.at(env, "secrets.env: not an environment variable name"))
                }
                _ => {
                    return Err(self.at(
                        entry,
                        format!(
                            "secrets: '{}' needs one of src (a file) or env (a variable); the value itself never goes in the spec",
                            r.id.value
                        ),
                    ))
                }
            };
            secrets.push(Secret {
                id: r.id.value.clone(),
                source,
            });
        }
        Ok(secrets)
    }

    fn packages(&self, field: &str, list: &[Spanned<String>]) -> Result<Vec<String>, SpecError> {
        let mut out: Vec<String> = Vec::new();
        for p in list {
            check::package(&p.value).map_err(|m| self.at(p, format!("{field}: {m}")))?;
            if out.contains(&p.value) {
                return Err(self.at(p, format!("{field}: '{}' is listed twice", p.value)));
            }
            out.push(p.value.clone());
        }
        Ok(out)
    }

    fn path(
        &self,
        field: &str,
        s: &Spanned<String>,
        must_exist: bool,
    ) -> Result<check::RelPath, SpecError> {
        check::rel_path(self.dir, &s.value, must_exist)
            .map_err(|m| self.at(s, format!("{field}: {m}")))
    }

    fn copy_entry(&self, c: &Spanned<RawCopy>) -> Result<CopyEntry, SpecError> {
        let src = self.path("copy.src", &c.value.src, !c.value.build_output)?;
        let dest = match &c.value.dest {
            Some(d) => check::dest(&d.value).map_err(|m| {
                self.at(
                    d,
                    format!("copy.dest: {m} (dest is relative to LAMBDA_TASK_ROOT)"),
                )
            })?,
            None => ".".to_string(),
        };
        // Several sources or a directory need a directory destination.
        let dest = if src.is_dir && dest != "." && !dest.ends_with('/') {
            format!("{dest}/")
        } else {
            dest
        };
        Ok(CopyEntry {
            src: src.text,
            dest,
            build_output: c.value.build_output,
        })
    }

    fn requirements(
        &self,
        runtime: &Runtime,
        r: &Spanned<String>,
    ) -> Result<Requirements, SpecError> {
        let (wanted, lock) = match runtime.family {
            Family::Python => (None, None),
            Family::Nodejs => (Some("package.json"), Some("package-lock.json")),
            Family::Ruby => (Some("Gemfile"), Some("Gemfile.lock")),
            Family::Java | Family::Dotnet | Family::Provided => {
                return Err(self.at(
                    r,
                    format!(
                        "requirements: {} images take the outputs of the project's own build through `copy` (jars, a publish folder, a bootstrap); they install no dependency manifest",
                        runtime.id
                    ),
                ))
            }
        };
        let p = self.path("requirements", r, true)?;
        if p.is_dir {
            return Err(self.at(r, "requirements: must be a file, not a directory"));
        }
        let (parent, name) = match p.text.rsplit_once('/') {
            Some((d, n)) => (Some(d), n.to_string()),
            None => (None, p.text.clone()),
        };
        if let Some(w) = wanted {
            if name != w {
                return Err(self.at(
                    r,
                    format!(
                        "requirements: {} installs from a file named {w}, not '{name}'",
                        runtime.id
                    ),
                ));
            }
        }
        let lock = match lock {
            Some(l) => {
                let lock_path = match parent {
                    Some(d) => format!("{d}/{l}"),
                    None => l.to_string(),
                };
                let checked = check::rel_path(self.dir, &lock_path, true).map_err(|_| {
                    self.at(
                        r,
                        format!(
                            "requirements: {lock_path} is missing next to {}; {} needs it for a reproducible install",
                            p.text,
                            if runtime.family == Family::Nodejs { "npm ci" } else { "bundle install --frozen" }
                        ),
                    )
                })?;
                Some((checked.text, l.to_string()))
            }
            None => None,
        };
        Ok(Requirements {
            src: p.text,
            name,
            lock_name: lock.as_ref().map(|(_, n)| n.clone()),
            lock: lock.map(|(p, _)| p),
        })
    }
}
