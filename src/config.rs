//! The project configuration file, `.lambda-image.yaml`, and the one YAML reader.
//!
//! ```yaml
//! lint:                       # see lint::config
//!   failure-threshold: warning
//! build:                      # defaults for `lambda-image build`; the command line wins
//!   jobs: 4
//!   keep-going: false
//!   pull: false
//!   labels: {org.opencontainers.image.vendor: Example}
//!   build-args: {PIP_INDEX_URL: https://pypi.example.com/simple}
//!   report: build-report.json
//! push:                       # defaults for `lambda-image push` and `build --push`
//!   to: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
//!   timeout: 30
//! ```
//! The file is found in the current directory or the nearest parent (`.lambda-image.yaml`,
//! then `.lambda-image.yml`). Every section is optional; unknown keys are errors with the
//! file, line and column. Every YAML file lambda-image reads (this one, image specs, verify
//! manifests) goes through [`read_yaml`], with one size limit, and [`crate::yaml`], with one set of budgets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::lint::config::{LintConfig, RawLintConfig};

/// Names of the configuration file, looked up in this order in each directory.
pub const FILE_NAMES: &[&str] = &[".lambda-image.yaml", ".lambda-image.yml"];

/// The largest YAML file read: specs, manifests and the config are kilobytes; this stops a
/// runaway input before the YAML parser sees it.
pub const MAX_YAML_BYTES: u64 = 1024 * 1024;

/// Reads a YAML file as text within [`MAX_YAML_BYTES`]. `what` names the kind of file in the
/// error ("an image spec"). Errors are one line without the path (callers add it).
pub fn read_yaml(path: &Path, what: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("does not exist ({what} was expected here)")
        } else {
            format!("cannot read: {}", io_message(&e))
        }
    })?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let too_big =
        |n: u64| format!("the file is {n} bytes; {what} may be at most {MAX_YAML_BYTES} bytes");
    if meta.len() > MAX_YAML_BYTES {
        return Err(too_big(meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {}", io_message(&e)))?;
    if bytes.len() as u64 > MAX_YAML_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
}

pub use crate::fs::io_message;

/// The whole configuration file, validated.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from (`None`: no file).
    pub path: Option<PathBuf>,
    pub lint: LintConfig,
    pub build: BuildConfig,
    pub push: PushConfig,
}

/// The `push:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PushConfig {
    /// Where images go when neither `--to` nor the spec says (`REGISTRY[/REPO[:TAG]]`).
    #[serde(default)]
    pub to: Option<String>,
    /// Seconds to wait for the registry before giving up (default 30).
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// The `build:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildConfig {
    /// Images built at once.
    #[serde(default)]
    pub jobs: Option<usize>,
    #[serde(default)]
    pub keep_going: Option<bool>,
    /// Always try to pull a newer base.
    #[serde(default)]
    pub pull: Option<bool>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    /// Where to write the JSON build report.
    #[serde(default)]
    pub report: Option<PathBuf>,
    /// `auto`, `buildkit` or `classic`.
    #[serde(default)]
    pub builder: Option<crate::cli::BuilderChoice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfigFile {
    #[serde(default)]
    lint: Option<RawLintConfig>,
    #[serde(default)]
    build: Option<BuildConfig>,
    #[serde(default)]
    push: Option<PushConfig>,
}

/// The nearest configuration file from `dir` upwards.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find_map(|d| {
        FILE_NAMES
            .iter()
            .map(|name| d.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Which file to read: `--config FILE`, none with `--no-config`, else the nearest one.
pub fn resolve(explicit: Option<&Path>, none: bool) -> anyhow::Result<Config> {
    let path = if none {
        None
    } else if let Some(path) = explicit {
        Some(path.to_path_buf())
    } else {
        let cwd = std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("reading the current directory: {e}"))?;
        discover(&cwd)
    };
    match path {
        Some(path) => load(&path),
        None => Ok(Config::default()),
    }
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> anyhow::Result<Config> {
    let text = read_yaml(path, "a configuration file")
        .map_err(|e| anyhow::anyhow!("reading config file {}: {e}", path.display()))?;
    let mut config = parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Parses the text of a configuration file. Errors read `line:column: message`.
pub fn parse(text: &str) -> Result<Config, String> {
    if text.trim().lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Ok(Config::default());
    }
    let file: RawConfigFile = crate::yaml::from_str(text, "a configuration file").map_err(|e| {
        if e.line > 0 {
            e.to_string()
        } else {
            format!(" {e}")
        }
    })?;
    Ok(Config {
        path: None,
        lint: file.lint.map(LintConfig::from).unwrap_or_default(),
        build: file.build.unwrap_or_default(),
        push: file.push.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_section_parses_and_unknown_keys_have_positions() {
        let config = parse("build:\n  jobs: 3\n  keep-going: true\n  labels: {a: b}\n");
        let build = config.map(|c| c.build).unwrap_or_default();
        assert_eq!(build.jobs, Some(3));
        assert_eq!(build.keep_going, Some(true));
        assert_eq!(build.labels.get("a").map(String::as_str), Some("b"));
        let err = parse("build:\n  jbos: 3\n").err().unwrap_or_default();
        assert!(err.starts_with("2:3: "), "{err}");
        assert!(err.contains("jbos"), "{err}");
        let err = parse("biuld: {}\n").err().unwrap_or_default();
        assert!(err.starts_with("1:1: "), "{err}");
    }
}
