//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` lists every rule (id, name, short and full description, default
//! level) and each result points at its rule by `ruleIndex`. Columns count Unicode code points
//! (`columnKind: unicodeCodePoints`), end columns are exclusive as SARIF defines them. Fixes are
//! included as `fixes[].artifactChanges[].replacements`.

use serde_json::{json, Value};

use super::{rule_doc, sarif_level, sorted_findings, LintedFile, Position};
use crate::lint::registry::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders every finding as one SARIF log (newline-terminated).
pub fn render(files: &[LintedFile]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": { "text": rule.summary() },
                "fullDescription": { "text": rule_doc(rule.doc), "markdown": rule_doc(rule.doc) },
                "defaultConfiguration": { "level": sarif_level(rule.severity) },
                "properties": { "fix": fix_word(rule.fix) },
            })
        })
        .collect();
    let results: Vec<Value> = sorted_findings(files)
        .into_iter()
        .map(|(file, d, start, end)| {
            let uri = uri(&file.path);
            let mut result = json!({
                "ruleId": d.code,
                "level": sarif_level(d.severity),
                "message": { "text": d.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": region(start, end),
                    }
                }],
            });
            if let Some(index) = RULES.iter().position(|r| r.code == d.code) {
                result["ruleIndex"] = json!(index);
            }
            if let Some(fix) = &d.fix {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|edit| {
                        let (s, e) = file.range(&edit.range);
                        json!({
                            "deletedRegion": region(s, e),
                            "insertedContent": { "text": edit.content },
                        })
                    })
                    .collect();
                result["fixes"] = json!([{
                    "description": { "text": fix.message },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": uri },
                        "replacements": replacements,
                    }],
                }]);
            }
            result
        })
        .collect();
    let mut driver = json!({
        "name": "lambda-image",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(uri) = option_env!("CARGO_PKG_REPOSITORY").filter(|s| !s.is_empty()) {
        driver["informationUri"] = json!(uri);
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn region(start: Position, end: Position) -> Value {
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

fn fix_word(fix: crate::lint::FixAvailability) -> &'static str {
    match fix {
        crate::lint::FixAvailability::None => "none",
        crate::lint::FixAvailability::Sometimes => "sometimes",
        crate::lint::FixAvailability::Always => "always",
    }
}

/// A relative URI reference for a path: everything but RFC 3986 unreserved characters and `/`
/// percent-encoded.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
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
    }
}
