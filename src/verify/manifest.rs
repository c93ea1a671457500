//! Verify manifests: the native `lambda-image/v1` format and container-structure-test
//! `2.0.0` configs. Unknown fields are errors (with line and column); YAML budgets are on,
//! so an alias bomb is refused instead of expanded.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use serde::de::IgnoredAny;
use serde::Deserialize;

pub const NATIVE_SCHEMA: &str = "lambda-image/v1";
pub const CST_SCHEMA: &str = "2.0.0";

#[derive(Debug, Clone)]
pub enum VerifyManifest {
    Native(NativeManifest),
    Cst(CstConfig),
}

/// `schemaVersion: lambda-image/v1`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: String,
    #[serde(default)]
    pub paths: Vec<PathSpec>,
    pub metadata: Option<MetadataSpec>,
    pub lambda: Option<LambdaSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathType {
    File,
    Dir,
    Symlink,
}

/// Who must be able to read or execute a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    /// Every user: the "other" bit, which is what Lambda's unprivileged user needs.
    #[serde(alias = "other", alias = "others", alias = "all")]
    Any,
    Owner,
    Group,
}

/// `contains`: one literal substring or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    pub path: String,
    #[serde(default, rename = "type")]
    pub kind: Option<PathType>,
    /// Octal permission bits as a string, such as "0755" (YAML 1.2 has no bare-0 octal).
    pub mode: Option<String>,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    /// `any` also needs every directory on the way searchable by others.
    pub readable_by: Option<Who>,
    /// `any` also needs every directory on the way searchable by others.
    pub executable_by: Option<Who>,
    #[serde(default)]
    pub absent: bool,
    /// Literal substrings the file must contain (not regular expressions).
    pub contains: Option<OneOrMany>,
    /// The symlink's target, exactly as stored.
    pub target: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataSpec {
    /// Each listed variable must be set to this value; others may exist.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub workdir: Option<String>,
    pub user: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSpec {
    /// x86_64 (amd64) or arm64.
    pub architecture: Option<String>,
    /// Such as "10GB" or "512MiB".
    pub max_size: Option<String>,
}

/// container-structure-test `schemaVersion: 2.0.0`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CstConfig {
    pub schema_version: String,
    #[serde(default)]
    pub global_env_vars: Vec<CstKeyValue>,
    #[serde(default)]
    pub file_existence_tests: Vec<FileExistenceTest>,
    #[serde(default)]
    pub file_content_tests: Vec<FileContentTest>,
    #[serde(default)]
    pub command_tests: Vec<CommandTest>,
    pub metadata_test: Option<MetadataTest>,
    #[serde(default)]
    pub license_tests: Vec<IgnoredAny>,
    pub container_run_options: Option<IgnoredAny>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CstKeyValue {
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileExistenceTest {
    pub name: String,
    pub path: String,
    #[serde(default = "yes")]
    pub should_exist: bool,
    /// Go `FileMode.String()`, such as "-rwxr-xr-x".
    pub permissions: Option<String>,
    pub uid: Option<i64>,
    pub gid: Option<i64>,
    pub is_executable_by: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileContentTest {
    pub name: String,
    pub path: String,
    /// Regular expressions, as in container-structure-test.
    #[serde(default)]
    pub expected_contents: Vec<String>,
    #[serde(default)]
    pub excluded_contents: Vec<String>,
}

/// A command run in a container of the image (an image in the Docker Engine only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandTest {
    pub name: String,
    /// Commands container-structure-test runs (and commits) first: not supported.
    #[serde(default)]
    pub setup: Vec<Vec<String>>,
    /// Commands run after: nothing to clean up, as each test's container is removed.
    #[serde(default)]
    pub teardown: Vec<Vec<String>>,
    #[serde(default)]
    pub env_vars: Vec<CstKeyValue>,
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Regular expressions that standard output must match (each, anywhere).
    #[serde(default)]
    pub expected_output: Vec<String>,
    #[serde(default)]
    pub excluded_output: Vec<String>,
    /// The same for standard error.
    #[serde(default)]
    pub expected_error: Vec<String>,
    #[serde(default)]
    pub excluded_error: Vec<String>,
    #[serde(default)]
    pub exit_code: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetadataTest {
    #[serde(default)]
    pub env_vars: Vec<CstKeyValue>,
    #[serde(default)]
    pub unbound_env_vars: Vec<CstKey>,
    #[serde(default)]
    pub labels: Vec<CstKeyValue>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    #[serde(default)]
    pub unexposed_ports: Vec<String>,
    #[serde(default)]
    pub volumes: Vec<String>,
    #[serde(default)]
    pub unmounted_volumes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CstKey {
    pub key: String,
}

#[derive(Debug, Deserialize)]
struct Sniff {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<String>,
}

fn yaml<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> Result<T> {
    crate::yaml::from_str(text, "a verify manifest").map_err(|e| anyhow!(e.in_file(name)))
}

/// Parses manifest text; `name` is used in error messages.
pub fn parse(text: &str, name: &str) -> Result<VerifyManifest> {
    let sniff: Sniff = yaml(text, name)?;
    match sniff.schema_version.as_deref() {
        Some(NATIVE_SCHEMA) => {
            let m: NativeManifest = yaml(text, name)?;
            validate_native(&m, name)?;
            Ok(VerifyManifest::Native(m))
        }
        Some(CST_SCHEMA) => {
            let c: CstConfig = yaml(text, name)?;
            validate_cst(&c, name)?;
            Ok(VerifyManifest::Cst(c))
        }
        Some(other) => bail!(
            "{name}: unsupported schemaVersion {other:?} (expected {NATIVE_SCHEMA:?} or container-structure-test {CST_SCHEMA:?})"
        ),
        None => bail!(
            "{name}: no schemaVersion (expected {NATIVE_SCHEMA:?} or container-structure-test {CST_SCHEMA:?})"
        ),
    }
}

pub fn load(path: &Path) -> Result<VerifyManifest> {
    let text = crate::config::read_yaml(path, "a verify manifest")
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    parse(&text, &path.display().to_string())
}

/// Parses "0755" / "755" / "0o755" into permission bits.
pub fn parse_mode(text: &str) -> Option<u32> {
    let digits = text.trim().trim_start_matches("0o");
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    u32::from_str_radix(digits, 8).ok().filter(|m| *m <= 0o7777)
}

/// Parses sizes such as "10GB", "512 MiB", "1000" (bytes). kB/MB/GB are decimal,
/// KiB/MiB/GiB binary.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = unit.trim();
    let factor: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * factor;
    (bytes.is_finite() && (0.0..1.8e19).contains(&bytes)).then_some(bytes as u64)
}

fn validate_native(m: &NativeManifest, name: &str) -> Result<()> {
    for (i, p) in m.paths.iter().enumerate() {
        let at = format!("{name}: paths[{i}] ({})", p.path);
        if p.path.trim().is_empty() {
            bail!("{name}: paths[{i}]: path is empty");
        }
        check_braces(&p.path).map_err(|e| anyhow!("{at}: {e}"))?;
        if let Some(mode) = &p.mode {
            if parse_mode(mode).is_none() {
                bail!("{at}: mode {mode:?} is not an octal mode such as \"0755\"");
            }
        }
        if p.absent
            && (p.kind.is_some()
                || p.mode.is_some()
                || p.uid.is_some()
                || p.gid.is_some()
                || p.readable_by.is_some()
                || p.executable_by.is_some()
                || p.contains.is_some()
                || p.target.is_some())
        {
            bail!("{at}: `absent: true` cannot be combined with other expectations");
        }
        if p.target.is_some() && p.kind.is_some_and(|k| k != PathType::Symlink) {
            bail!("{at}: `target` is only for `type: symlink`");
        }
    }
    if let Some(l) = &m.lambda {
        if let Some(a) = &l.architecture {
            if normalise_arch(a).is_none() {
                bail!("{name}: lambda.architecture {a:?} is not x86_64 (amd64) or arm64");
            }
        }
        if let Some(s) = &l.max_size {
            if parse_size(s).is_none() {
                bail!("{name}: lambda.max_size {s:?} is not a size such as \"10GB\"");
            }
        }
    }
    Ok(())
}

/// A `${` without its `}` is a typo in the manifest, not a failed check in the image.
fn check_braces(path: &str) -> std::result::Result<(), String> {
    let mut rest = path;
    while let Some(i) = rest.find("${") {
        let after = rest.get(i + 2..).unwrap_or_default();
        match after.find('}') {
            Some(end) => rest = after.get(end + 1..).unwrap_or_default(),
            None => return Err("`${` is not closed by `}`".to_string()),
        }
    }
    Ok(())
}

fn validate_cst(c: &CstConfig, name: &str) -> Result<()> {
    for t in &c.file_existence_tests {
        check_braces(&t.path)
            .map_err(|e| anyhow!("{name}: fileExistenceTests {:?} ({}): {e}", t.name, t.path))?;
    }
    for t in &c.file_content_tests {
        check_braces(&t.path)
            .map_err(|e| anyhow!("{name}: fileContentTests {:?} ({}): {e}", t.name, t.path))?;
    }
    for t in &c.file_existence_tests {
        if let Some(who) = &t.is_executable_by {
            if !matches!(who.as_str(), "owner" | "group" | "other" | "any") {
                bail!(
                    "{name}: fileExistenceTests {:?}: isExecutableBy {who:?} is not owner, group, other or any",
                    t.name
                );
            }
        }
    }
    for t in &c.file_content_tests {
        for re in t.expected_contents.iter().chain(&t.excluded_contents) {
            regex::Regex::new(re).map_err(|e| {
                anyhow!(
                    "{name}: fileContentTests {:?}: {re:?} is not a valid regular expression: {}",
                    t.name,
                    e.to_string().lines().last().unwrap_or_default().trim()
                )
            })?;
        }
    }
    Ok(())
}

/// `x86_64`/`amd64` → `amd64`, `arm64`/`aarch64` → `arm64` (the names image configs use).
pub fn normalise_arch(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().as_str() {
        "x86_64" | "amd64" => Some("amd64"),
        "arm64" | "aarch64" => Some("arm64"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_modes() {
        assert_eq!(parse_size("10GB"), Some(10_000_000_000));
        assert_eq!(parse_size("1 MiB"), Some(1_048_576));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_mode("0755"), Some(0o755));
        assert_eq!(parse_mode("4755"), Some(0o4755));
        assert_eq!(parse_mode("0999"), None);
    }

    #[test]
    fn unknown_field_has_line_and_column() {
        let text = "schemaVersion: lambda-image/v1\npaths:\n  - path: /x\n    mdoe: \"0755\"\n";
        let err = parse(text, "m.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("m.yaml:4:5:"), "{err}");
        assert!(err.contains("mdoe"), "{err}");
    }
}
