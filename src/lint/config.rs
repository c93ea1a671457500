//! Lint settings: the `lint:` section of `.lambda-image.yaml`, merged with the command line.
//!
//! ```yaml
//! lint:
//!   select: [LI1, LI2, LI301]        # codes, prefixes (LI1 = every LI1xx), names, or ALL; default ALL
//!   ignore: [LI115, floating-base-tag]
//!   severity: {LI302: error, LI2: info}   # re-level rules (error, warning, info)
//!   failure-threshold: warning       # lowest severity that makes the exit code 1; default info
//!   base-aliases:                    # image prefix -> the upstream image it stands for
//!     registry.example.com/mirror/lambda/: public.ecr.aws/lambda/
//!   runtime-targets: [python3.13, nodejs22.x]   # where LI301's fix moves each language
//! ```
//! The file (see [`crate::config`]) is found in the current directory or the nearest parent,
//! unless `--config FILE` or `--no-config` is given. Unknown keys, unknown
//! codes and bad values are errors with the file, line and column. Command-line `--select`,
//! `--ignore` and `--failure-threshold` replace the file's values. LI001 (parse error) cannot be
//! deselected: a file that does not parse cannot be checked.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::registry::RULES;
use super::Severity;

/// The `lint:` section, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    /// Rules to run (default: all).
    pub select: Option<Vec<RuleSelector>>,
    /// Rules to skip; wins over `select`.
    pub ignore: Option<Vec<RuleSelector>>,
    /// Severity overrides, applied before the failure threshold.
    pub severity: Option<Vec<SeverityOverride>>,
    /// Lowest severity that makes the exit code 1 (default: info).
    pub failure_threshold: Option<Level>,
    /// (image prefix, upstream prefix): what private mirrors stand for.
    pub base_aliases: Option<Vec<(String, String)>>,
    /// Lambda language → the AL2023 image tag LI301's fix moves it to.
    pub runtime_targets: Option<BTreeMap<String, String>>,
}

/// A severity as written in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl From<Level> for Severity {
    fn from(level: Level) -> Self {
        match level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Info,
        }
    }
}

/// One `code: severity` entry of the `severity` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityOverride {
    pub selector: RuleSelector,
    pub severity: Severity,
}

/// Which rules a `--select`/`--ignore`/config entry names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleSelector {
    /// `ALL`.
    All,
    /// A code prefix such as `LI1` (every LI1xx) or a whole code such as `LI101`.
    Prefix(String),
}

impl RuleSelector {
    /// Parses a code, a code prefix, a rule name or `ALL` (codes and `ALL` in any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Ok(RuleSelector::All);
        }
        if let Some(rule) = RULES.iter().find(|r| r.name == text) {
            return Ok(RuleSelector::Prefix(rule.code.to_string()));
        }
        let upper = text.to_ascii_uppercase();
        let is_code_shape = upper.len() >= 2
            && upper.starts_with("LI")
            && upper
                .get(2..)
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
        if is_code_shape && RULES.iter().any(|r| r.code.starts_with(&upper)) {
            return Ok(RuleSelector::Prefix(upper));
        }
        Err(format!(
            "unknown rule code or name `{text}` (see `lambda-image rule --all`)"
        ))
    }

    pub fn matches(&self, code: &str) -> bool {
        match self {
            RuleSelector::All => true,
            RuleSelector::Prefix(prefix) => code.starts_with(prefix.as_str()),
        }
    }

    /// How specific the selector is: a longer prefix beats a shorter one, which beats `ALL`.
    fn specificity(&self) -> usize {
        match self {
            RuleSelector::All => 0,
            RuleSelector::Prefix(prefix) => prefix.len(),
        }
    }
}

impl<'de> Deserialize<'de> for RuleSelector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RuleSelector::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The settings a lint run uses, after merging the config file and the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `None`: every rule.
    pub select: Option<Vec<RuleSelector>>,
    pub ignore: Vec<RuleSelector>,
    pub severity: Vec<SeverityOverride>,
    pub failure_threshold: Severity,
    /// The configuration file that was read, if any.
    pub config_path: Option<PathBuf>,
    /// How Dockerfiles are read: build arguments (`--build-arg`), base-image aliases and
    /// runtime targets.
    pub dockerfile: crate::dockerfile::Options,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            select: None,
            ignore: Vec::new(),
            severity: Vec::new(),
            failure_threshold: Severity::Info,
            config_path: None,
            dockerfile: crate::dockerfile::Options::default(),
        }
    }
}

impl Settings {
    /// Whether findings of `code` are reported. LI001 always is.
    pub fn enabled(&self, code: &str) -> bool {
        if code == "LI001" {
            return true;
        }
        let selected = self
            .select
            .as_ref()
            .is_none_or(|select| select.iter().any(|s| s.matches(code)));
        selected && !self.ignore.iter().any(|s| s.matches(code))
    }

    /// The severity findings of `code` get: the most specific override, else `default`.
    pub fn severity_of(&self, code: &str, default: Severity) -> Severity {
        self.severity
            .iter()
            .filter(|o| o.selector.matches(code))
            .max_by_key(|o| o.selector.specificity())
            .map_or(default, |o| o.severity)
    }

    /// Whether a finding of this severity makes the exit code 1.
    /// Applies the selection and the severity overrides.
    pub fn apply(&self, diagnostics: Vec<super::Diagnostic>) -> Vec<super::Diagnostic> {
        diagnostics
            .into_iter()
            .filter(|d| self.enabled(d.code))
            .map(|mut d| {
                d.severity = self.severity_of(d.code, d.severity);
                d
            })
            .collect()
    }

    pub fn fails(&self, severity: Severity) -> bool {
        severity <= self.failure_threshold
    }

    /// Settings from a parsed `lint:` section.
    pub fn from_config(config: LintConfig, path: Option<PathBuf>) -> Self {
        Settings {
            select: config.select,
            ignore: config.ignore.unwrap_or_default(),
            severity: config.severity.unwrap_or_default(),
            failure_threshold: config
                .failure_threshold
                .map_or(Severity::Info, Severity::from),
            config_path: path,
            dockerfile: crate::dockerfile::Options {
                build_args: BTreeMap::new(),
                bases: crate::dockerfile::base::Resolver {
                    aliases: config.base_aliases.unwrap_or_default(),
                    targets: config.runtime_targets.unwrap_or_default(),
                },
            },
        }
    }
}

/// Rule selectors given with `flag` (`--select`, `--ignore`), blank ones skipped; an error is
/// prefixed with the flag.
pub fn parse_selectors(values: &[String], flag: &str) -> Result<Vec<RuleSelector>, String> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| RuleSelector::parse(v).map_err(|e| format!("{flag}: {e}")))
        .collect()
}

/// Parses the text of a configuration file and returns its `lint:` section. Errors read
/// `line:column: message`.
pub fn parse(text: &str) -> Result<LintConfig, String> {
    crate::config::parse(text).map(|c| c.lint)
}

impl From<RawLintConfig> for LintConfig {
    fn from(raw: RawLintConfig) -> Self {
        LintConfig {
            select: raw.select,
            ignore: raw.ignore,
            severity: raw.severity.map(|map| {
                map.into_iter()
                    .map(|(selector, level)| SeverityOverride {
                        selector,
                        severity: level.into(),
                    })
                    .collect()
            }),
            failure_threshold: raw.failure_threshold,
            base_aliases: raw.base_aliases.map(|map| {
                map.into_iter()
                    .map(|(prefix, upstream)| (prefix.0, upstream.0))
                    .collect()
            }),
            runtime_targets: raw.runtime_targets.map(|t| t.0),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawLintConfig {
    #[serde(default)]
    select: Option<Vec<RuleSelector>>,
    #[serde(default)]
    ignore: Option<Vec<RuleSelector>>,
    #[serde(default)]
    severity: Option<BTreeMap<RuleSelector, Level>>,
    #[serde(default)]
    failure_threshold: Option<Level>,
    #[serde(default)]
    base_aliases: Option<BTreeMap<ImagePrefix, ImagePrefix>>,
    #[serde(default)]
    runtime_targets: Option<RuntimeTargets>,
}

/// A `base-aliases` key or value: the start of an image reference
/// (`registry.example.com/mirror/lambda/`, `public.ecr.aws/lambda/python`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ImagePrefix(String);

impl<'de> Deserialize<'de> for ImagePrefix {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(serde::de::Error::custom(
                "base-aliases: an image prefix cannot be empty",
            ));
        }
        if text.contains(|c: char| c.is_whitespace() || matches!(c, '$' | '{' | '}')) {
            return Err(serde::de::Error::custom(format!(
                "base-aliases: `{text}` is not an image prefix (no spaces or variables)"
            )));
        }
        Ok(ImagePrefix(text.to_string()))
    }
}

/// `runtime-targets`: AL2023 Lambda runtime identifiers, at most one per language.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RuntimeTargets(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for RuntimeTargets {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ids = Vec::<String>::deserialize(deserializer)?;
        let mut out = BTreeMap::new();
        for id in &ids {
            let (lang, tag) = crate::dockerfile::base::runtime_target(id)
                .map_err(|e| serde::de::Error::custom(format!("runtime-targets: {e}")))?;
            if out.insert(lang.to_string(), tag).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "runtime-targets: two targets for `{lang}`; name one per language"
                )));
            }
        }
        Ok(RuntimeTargets(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_accept_codes_prefixes_names_and_all() {
        assert_eq!(
            RuleSelector::parse("li1"),
            Ok(RuleSelector::Prefix("LI1".into()))
        );
        assert_eq!(
            RuleSelector::parse("yum-not-available"),
            Ok(RuleSelector::Prefix("LI101".into()))
        );
        assert_eq!(RuleSelector::parse("ALL"), Ok(RuleSelector::All));
        assert!(RuleSelector::parse("LI999").is_err());
        assert!(RuleSelector::parse("DL3008").is_err());
        assert!(RuleSelector::parse("LI").is_ok());
    }

    #[test]
    fn config_parses_and_overrides_apply() {
        let config = parse(
            "lint:\n  select: [LI1, LI3]\n  ignore: [LI115]\n  severity: {LI302: error, LI3: info}\n  failure-threshold: warning\n",
        );
        let settings = Settings::from_config(config.unwrap_or_default(), None);
        assert!(settings.enabled("LI101"));
        assert!(!settings.enabled("LI115"));
        assert!(!settings.enabled("LI201"));
        assert!(settings.enabled("LI001"));
        assert_eq!(
            settings.severity_of("LI302", Severity::Warning),
            Severity::Error
        );
        assert_eq!(
            settings.severity_of("LI301", Severity::Error),
            Severity::Info
        );
        assert_eq!(
            settings.severity_of("LI101", Severity::Error),
            Severity::Error
        );
        assert!(settings.fails(Severity::Warning));
        assert!(!settings.fails(Severity::Info));
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = parse("lint:\n  ignor: [LI115]\n").err().unwrap_or_default();
        assert!(err.starts_with("2:3: "), "{err}");
        assert!(err.contains("ignor"), "{err}");
    }

    #[test]
    fn unknown_code_and_bad_level_are_errors_with_position() {
        let err = parse("lint:\n  ignore: [LI115, LI999]\n")
            .err()
            .unwrap_or_default();
        assert!(err.starts_with("2:"), "{err}");
        assert!(err.contains("LI999"), "{err}");
        let err = parse("lint:\n  severity: {LI302: fatal}\n")
            .err()
            .unwrap_or_default();
        assert!(err.starts_with("2:"), "{err}");
        assert!(err.contains("fatal"), "{err}");
    }

    #[test]
    fn base_aliases_and_runtime_targets() {
        let config = parse(
            "lint:\n  base-aliases:\n    registry.example.com/mirror/lambda/: public.ecr.aws/lambda/\n  runtime-targets: [python3.13, nodejs22.x]\n",
        )
        .unwrap_or_default();
        let settings = Settings::from_config(config, None);
        assert_eq!(
            settings.dockerfile.bases.aliases,
            [(
                "registry.example.com/mirror/lambda/".to_string(),
                "public.ecr.aws/lambda/".to_string()
            )]
        );
        assert_eq!(
            settings
                .dockerfile
                .bases
                .targets
                .get("python")
                .map(String::as_str),
            Some("3.13")
        );
        assert_eq!(
            settings
                .dockerfile
                .bases
                .targets
                .get("nodejs")
                .map(String::as_str),
            Some("22")
        );
        for (text, why) in [
            ("lint:\n  runtime-targets: [python3.11]\n", "not an AL2023"),
            (
                "lint:\n  runtime-targets: [python3.12, python3.13]\n",
                "two targets",
            ),
            ("lint:\n  runtime-targets: [perl]\n", "not a Lambda runtime"),
            ("lint:\n  base-aliases: {'a b': c}\n", "not an image prefix"),
            ("lint:\n  base-aliases: {a: ''}\n", "cannot be empty"),
        ] {
            let err = parse(text).err().unwrap_or_default();
            assert!(
                err.starts_with("2:") || err.starts_with("3:"),
                "{text}: {err}"
            );
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn empty_file_is_default() {
        assert!(parse("# nothing\n").is_ok_and(|c| c.select.is_none()));
        assert!(parse("lint:\n").is_ok_and(|c| c.ignore.is_none()));
    }
}
