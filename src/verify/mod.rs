//! Verify manifests (lambda-image/v1, container-structure-test 2.0.0) and the Lambda checks.
//!
//! [`check`] takes a read [`Image`] and returns [`Check`]s; it never prints and never knows
//! where the image came from. [`run`] is the pipeline around it (find, export, read,
//! check) that `verify`, `build` and `push` share.

pub mod command_tests;
pub mod cst;
pub mod gate;
pub mod lambda;
pub mod ledger;
pub mod manifest;
pub mod paths;
pub mod run;

pub use run::{run, Plan, Verified};

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use serde::Serialize;

use crate::image::layer::normalise_in_root;
use crate::image::{env_map, Image, ImageConfig};
use manifest::VerifyManifest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    Info,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Info => "info",
        }
    }
}

/// Which group a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Blob digests, diff_ids, readable layers.
    Digest,
    /// Facts about the archive itself (entry names).
    Image,
    /// The built-in Lambda checks.
    Lambda,
    /// A lambda-image/v1 manifest.
    Manifest,
    /// A container-structure-test config.
    StructureTest,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Digest => "digest",
            Kind::Image => "image",
            Kind::Lambda => "lambda",
            Kind::Manifest => "manifest",
            Kind::StructureTest => "structure-test",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Digest => "Digests",
            Kind::Image => "Image",
            Kind::Lambda => "Lambda",
            Kind::Manifest => "Manifest",
            Kind::StructureTest => "Structure tests",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub kind: Kind,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based layer index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

impl Check {
    pub fn new(kind: Kind, name: &str, status: Status, message: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            kind,
            status,
            message: message.into(),
            path: None,
            layer: None,
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Check {
        self.path = Some(path.into());
        self
    }

    pub fn in_layer(mut self, layer: Option<usize>) -> Check {
        self.layer = layer;
        self
    }

    /// The message with ` (path)` after it, unless the message names the path already.
    pub fn located(&self) -> String {
        match &self.path {
            Some(p) if !mentions(&self.message, p) => format!("{} ({p})", self.message),
            _ => self.message.clone(),
        }
    }
}

fn continues_path(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '/' | '_' | '-' | '.' | '~' | '+' | '@')
}

/// Whether `message` names `path` as a whole word (a trailing full stop ends it).
pub fn mentions(message: &str, path: &str) -> bool {
    if path.is_empty() {
        return true;
    }
    message.match_indices(path).any(|(at, _)| {
        let before = message.get(..at).and_then(|s| s.chars().next_back());
        let after = message.get(at + path.len()..).unwrap_or_default();
        let mut rest = after.chars();
        let ends = match rest.next() {
            None => true,
            Some('.') => !rest.next().is_some_and(continues_path),
            Some(c) => !continues_path(c),
        };
        ends && !before.is_some_and(continues_path)
    })
}

/// The container-structure-test kinds that `--skip` can turn off, as a config names them.
pub const STRUCTURE_TEST_KINDS: &[&str] = &[
    "commandTests",
    "fileExistenceTests",
    "fileContentTests",
    "metadataTest",
    "licenseTests",
];

/// Lambda checks and container-structure-test kinds turned off by name.
#[derive(Debug, Clone, Default)]
pub struct SkipSet(BTreeSet<String>);

impl SkipSet {
    pub fn parse(names: &[String]) -> Result<SkipSet> {
        let mut set = BTreeSet::new();
        for raw in names {
            let name = raw.trim();
            if name.is_empty() {
                continue;
            }
            if name == "all" {
                set.extend(lambda::names().map(String::from));
            } else if lambda::names().any(|n| n == name) || STRUCTURE_TEST_KINDS.contains(&name) {
                set.insert(name.to_string());
            } else {
                bail!(
                    "--skip {name}: no such check (Lambda checks: {}, or all; container-structure-test kinds: {})",
                    lambda::names().collect::<Vec<_>>().join(", "),
                    STRUCTURE_TEST_KINDS.join(", ")
                );
            }
        }
        Ok(SkipSet(set))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

/// Whether the image is checked as a Lambda image (`--lambda`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LambdaMode {
    /// Every Lambda check on an AWS base layout; on any other base, the ones every Lambda
    /// image needs (cmd-arity, size, architecture, single-platform).
    #[default]
    Auto,
    /// Every Lambda check, whatever the base.
    Always,
    /// No Lambda checks (but `architecture` when an architecture is asked for).
    Never,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `amd64` or `arm64` (config names), from `--arch`.
    pub arch: Option<&'static str>,
    pub skip: SkipSet,
    pub waste_threshold: u64,
    pub lambda: LambdaMode,
    /// commandTests are run in containers by [`run`] (an engine image): [`check`] leaves
    /// them out instead of failing them.
    pub commands_run_apart: bool,
    /// The image is pushed by `push --archive`, which gzip-compresses its uncompressed
    /// layers on the way: `layer-media-type` fails only what stays refused (zstd).
    pub gzip_on_push: bool,
}

/// `--waste-threshold`'s default (10 MB).
pub const DEFAULT_WASTE_THRESHOLD: u64 = 10_000_000;

impl Options {
    /// What `build` and push's gate check: every default, for this architecture.
    pub fn defaults_for(arch: Option<&'static str>) -> Options {
        Options {
            arch,
            skip: SkipSet::default(),
            waste_threshold: DEFAULT_WASTE_THRESHOLD,
            lambda: LambdaMode::Auto,
            commands_run_apart: false,
            gzip_on_push: false,
        }
    }
}

/// Expands `${VAR}` and `$VAR` from `env`; an unset variable is an error naming it.
pub fn expand(text: &str, env: &BTreeMap<String, String>) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 1..).unwrap_or_default();
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (braced.get(..end).unwrap_or_default(), end + 2),
                None => return Err(format!("unclosed ${{ in {text:?}")),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (after.get(..end).unwrap_or_default(), end)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        match env.get(name) {
            Some(value) => out.push_str(value),
            None => return Err(name.to_string()),
        }
        rest = after.get(consumed..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// The environment a manifest's `${VAR}`s expand from: the image's Env, plus a
/// container-structure-test config's globalEnvVars.
pub fn expansion_env(
    config: &ImageConfig,
    manifest: Option<&VerifyManifest>,
) -> BTreeMap<String, String> {
    let mut env = env_map(config);
    if let Some(VerifyManifest::Cst(c)) = manifest {
        for kv in &c.global_env_vars {
            let value = expand(&kv.value, &env).unwrap_or_else(|_| kv.value.clone());
            env.insert(kv.key.clone(), value);
        }
    }
    env
}

/// Paths whose content the manifest reads, so the layer pass can keep those bytes.
/// Whether verify reads any file's contents (else the layers' listings are all it needs,
/// and an engine image can be read as it is exported).
pub fn wants_contents(manifest: Option<&VerifyManifest>) -> bool {
    match manifest {
        Some(VerifyManifest::Native(m)) => m.paths.iter().any(|p| p.contains.is_some()),
        Some(VerifyManifest::Cst(c)) => !c.file_content_tests.is_empty(),
        None => false,
    }
}

pub fn wanted_paths(config: &ImageConfig, manifest: Option<&VerifyManifest>) -> BTreeSet<String> {
    let env = expansion_env(config, manifest);
    let mut out = BTreeSet::new();
    let mut add = |p: &str| {
        if let Ok(expanded) = expand(p, &env) {
            out.insert(normalise_in_root(&expanded).0);
        }
    };
    match manifest {
        Some(VerifyManifest::Native(m)) => {
            for p in m.paths.iter().filter(|p| p.contains.is_some()) {
                add(&p.path);
            }
        }
        Some(VerifyManifest::Cst(c)) => {
            for t in &c.file_content_tests {
                add(&t.path);
            }
        }
        None => {}
    }
    out
}

/// Every check: digests, then the Lambda checks, then the manifest's.
pub fn check(image: &Image, manifest: Option<&VerifyManifest>, options: &Options) -> Vec<Check> {
    let mut checks = digest_checks(image);
    checks.extend(lambda::checks(image, options));
    match manifest {
        Some(VerifyManifest::Native(m)) => checks.extend(paths::checks(image, m)),
        Some(VerifyManifest::Cst(c)) => checks.extend(cst::checks(image, c, options)),
        None => {}
    }
    checks
}

fn digest_checks(image: &Image) -> Vec<Check> {
    let mut checks = Vec::new();
    let total = image.layers.len();
    for record in image.digests.iter().filter(|r| !r.ok()) {
        let size_note = match record.expected_size {
            Some(expected) if expected != record.actual_size => {
                format!(
                    " (size {} bytes, descriptor says {expected})",
                    record.actual_size
                )
            }
            _ => String::new(),
        };
        let message = match (record.subject.as_str(), record.layer) {
            ("layer blob", Some(i)) => format!(
                "layer {} of {total}: blob {} does not match its descriptor: its bytes hash to {}{size_note}",
                i + 1,
                record.expected,
                record.actual
            ),
            ("layer diff_id", Some(i)) => format!(
                "layer {} of {total}: uncompressed content hashes to {}, but the config's diff_id is {}",
                i + 1,
                record.actual,
                record.expected
            ),
            (subject, _) => format!(
                "{subject} {} does not match: its bytes hash to {}{size_note}",
                record.expected, record.actual
            ),
        };
        checks.push(
            Check::new(Kind::Digest, "digest", Status::Fail, message)
                .in_layer(record.layer.map(|i| i + 1)),
        );
    }
    for (layer, error) in &image.layer_errors {
        checks.push(
            Check::new(
                Kind::Digest,
                "layer",
                Status::Fail,
                format!("layer {layer} of {total} could not be read to the end: {error}"),
            )
            .in_layer(Some(*layer)),
        );
    }
    if checks.is_empty() {
        let layers = image.digests.iter().filter(|r| r.layer.is_some()).count();
        let others: Vec<&str> = image
            .digests
            .iter()
            .filter(|r| r.layer.is_none())
            .map(|r| r.subject.as_str())
            .collect();
        let mut what = vec![format!(
            "{layers} layer digest{}",
            crate::text::plural(layers, "", "s")
        )];
        if !others.is_empty() {
            what.push(others.join(", "));
        }
        checks.push(Check::new(
            Kind::Digest,
            "digest",
            Status::Pass,
            format!(
                "{} digests verified ({})",
                image.digests.len(),
                what.join(", ")
            ),
        ));
    }
    for (layer, count, first) in &image.escaping_names {
        checks.push(
            Check::new(
                Kind::Image,
                "entry-names",
                Status::Warn,
                format!(
                    "layer {layer} has {count} entr{} named outside the image root (first: {first:?}); read inside the root, as Docker does",
                    crate::text::plural(*count, "y", "ies")
                ),
            )
            .in_layer(Some(*layer)),
        );
    }
    checks
}

/// "drwxr-xr-x"-style rendering of a mode, as Go's `FileMode.String()` does it.
pub fn mode_bits(mode: u32) -> String {
    let mut out = String::with_capacity(9);
    for (bit, c) in [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ] {
        out.push(if mode & bit != 0 { c } else { '-' });
    }
    out
}

/// Human-readable bytes (decimal, as Lambda's limits are written).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS.get(unit).copied().unwrap_or("B"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_from_env() {
        let env: BTreeMap<String, String> =
            [("LAMBDA_TASK_ROOT".to_string(), "/var/task".to_string())].into();
        assert_eq!(
            expand("${LAMBDA_TASK_ROOT}/app.py", &env),
            Ok("/var/task/app.py".into())
        );
        assert_eq!(
            expand("$LAMBDA_TASK_ROOT/x", &env),
            Ok("/var/task/x".into())
        );
        assert_eq!(expand("${NOPE}/x", &env), Err("NOPE".into()));
        assert_eq!(expand("cost $5", &env), Err("5".into()));
    }

    #[test]
    fn skip_names() {
        assert!(SkipSet::parse(&["all".into()]).is_ok_and(|s| s.contains("handler")));
        assert!(SkipSet::parse(&["nope".into()]).is_err());
    }
}
