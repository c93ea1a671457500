//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` lists every rule (id, name, short and full description, default
//! level) and each result points at its rule by `ruleIndex`. Columns count Unicode code points
//! (`columnKind: unicodeCodePoints`), end columns are exclusive as SARIF defines them. Fixes are
//! included as `fixes[].artifactChanges[].replacements`.

use serde::Serialize;

use super::{rule_doc, sarif_level, sorted_findings, LintedFile, Position};
use crate::lint::registry::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text<String>,
    full_description: Markdown,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
struct Markdown {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    fix: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text<&'a str>,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize, Clone)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Text<&'a str>,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    inserted_content: Text<&'a str>,
}

/// Renders every finding as one SARIF log (newline-terminated).
pub fn render(files: &[LintedFile]) -> String {
    let rules = RULES
        .iter()
        .map(|rule| {
            let doc = rule_doc(rule.doc);
            RuleDescriptor {
                id: rule.code,
                name: rule.name,
                short_description: Text {
                    text: rule.summary(),
                },
                full_description: Markdown {
                    text: doc.clone(),
                    markdown: doc,
                },
                default_configuration: Configuration {
                    level: sarif_level(rule.severity),
                },
                properties: RuleProperties {
                    fix: fix_word(rule.fix),
                },
            }
        })
        .collect();
    let results = sorted_findings(files)
        .into_iter()
        .map(|(file, d, start, end)| {
            let artifact = ArtifactLocation {
                uri: uri(&file.path),
            };
            let fixes = d
                .fix
                .iter()
                .map(|fix| SarifFix {
                    description: Text { text: &fix.message },
                    artifact_changes: [ArtifactChange {
                        artifact_location: artifact.clone(),
                        replacements: fix
                            .edits
                            .iter()
                            .map(|edit| {
                                let (s, e) = file.range(&edit.range);
                                Replacement {
                                    deleted_region: region(s, e),
                                    inserted_content: Text {
                                        text: &edit.content,
                                    },
                                }
                            })
                            .collect(),
                    }],
                })
                .collect();
            SarifResult {
                rule_id: d.code,
                rule_index: RULES.iter().position(|r| r.code == d.code),
                level: sarif_level(d.severity),
                message: Text { text: &d.message },
                locations: [Location {
                    physical_location: PhysicalLocation {
                        artifact_location: artifact,
                        region: region(start, end),
                    },
                }],
                fixes,
            }
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "lambda-image",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: option_env!("CARGO_PKG_REPOSITORY").filter(|s| !s.is_empty()),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn region(start: Position, end: Position) -> Region {
    Region {
        start_line: start.line,
        start_column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

fn fix_word(fix: crate::lint::FixAvailability) -> &'static str {
    match fix {
        crate::lint::FixAvailability::None => "none",
        crate::lint::FixAvailability::Sometimes => "sometimes",
        crate::lint::FixAvailability::Always => "always",
    }
}

/// A URI reference for a path (relative as given; `file://` for an absolute path): everything
/// but RFC 3986 unreserved characters and `/` percent-encoded.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_encodes_spaces_and_unicode() {
        assert_eq!(uri("a b/Dockerfile.é"), "a%20b/Dockerfile.%C3%A9");
        assert_eq!(uri("svc/Dockerfile"), "svc/Dockerfile");
        assert_eq!(uri("/abs/Dockerfile"), "file:///abs/Dockerfile");
    }
}
