//! `lambda-image rule`: a rule's documentation (`rule LI101`, `rule yum-not-available`) or the
//! table of every rule (`rule --all`), as text, JSON or markdown.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{RuleArgs, RuleFormat};
use crate::commands::ExitStatus;
use crate::dockerfile::pragma::HADOLINT;
use crate::lint::registry::{self, RULES};
use crate::lint::{FixAvailability, Rule, Severity};
use crate::progress::Printer;
use crate::report::rule_doc;

pub fn run(args: RuleArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let output = if args.all {
        match args.format {
            RuleFormat::Text => table_text(),
            RuleFormat::Markdown => table_markdown(),
            RuleFormat::Json => json(&RULES.iter().map(RuleJson::from).collect::<Vec<_>>()),
        }
    } else {
        let key = args.code.unwrap_or_default();
        let key = key.trim();
        let rule = match registry::find(key) {
            Some(rule) => rule,
            None => {
                let (hadolint, rule) = hadolint_equivalent(key)?;
                printer.status(format!(
                    "lambda-image: {hadolint} is hadolint's code; lambda-image's rule for it is {} ({}), which `# hadolint ignore={hadolint}` suppresses",
                    rule.code, rule.name
                ));
                rule
            }
        };
        printer.detail(silencing(rule));
        match args.format {
            RuleFormat::Text | RuleFormat::Markdown => explain(rule),
            RuleFormat::Json => json(&RuleJson::from(rule)),
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to standard output")?;
    Ok(ExitStatus::Success)
}

/// How to turn `rule` off, for `-v`: the pragmas and the config key that name it.
fn silencing(rule: &Rule) -> String {
    let hadolint: Vec<&str> = HADOLINT
        .iter()
        .filter(|(_, li)| *li == rule.code)
        .map(|(h, _)| *h)
        .collect();
    let mut text = format!(
        "lambda-image: to silence {code}: `# lambda-image: ignore={code}` on the line before the instruction, `# lambda-image: ignore-file={code}` for a whole Dockerfile, or `lint: {{ignore: [{code}]}}` in .lambda-image.yaml",
        code = rule.code
    );
    if !hadolint.is_empty() {
        text.push_str(&format!(
            "; `# hadolint ignore={}` works too",
            hadolint.join(",")
        ));
    }
    text
}

/// The rule that honours a hadolint code in `# hadolint ignore=` pragmas (DL3032 → LI201), as
/// (the code upper-cased, the rule); an error naming what to do for any other key.
fn hadolint_equivalent(key: &str) -> anyhow::Result<(String, &'static Rule)> {
    let upper = key.to_ascii_uppercase();
    let mapped = HADOLINT
        .iter()
        .find(|(h, _)| *h == upper)
        .and_then(|(_, li)| registry::find(li));
    match mapped {
        Some(rule) => Ok((upper, rule)),
        None if upper.starts_with("DL") || upper.starts_with("SC") => {
            let honoured: Vec<String> = HADOLINT
                .iter()
                .map(|(h, li)| format!("{h} → {li}"))
                .collect();
            anyhow::bail!(
                "`{key}` is a hadolint code with no lambda-image rule (hadolint codes honoured in pragmas: {}); `lambda-image rule --all` lists every rule",
                honoured.join(", ")
            )
        }
        None => {
            anyhow::bail!("unknown rule `{key}`; `lambda-image rule --all` lists every rule")
        }
    }
}

/// "Fix is sometimes available." and friends.
fn fix_sentence(fix: FixAvailability) -> &'static str {
    match fix {
        FixAvailability::None => "Fix is not available.",
        FixAvailability::Sometimes => "Fix is sometimes available.",
        FixAvailability::Always => "Fix is always available.",
    }
}

fn fix_word(fix: FixAvailability) -> &'static str {
    match fix {
        FixAvailability::None => "none",
        FixAvailability::Sometimes => "sometimes",
        FixAvailability::Always => "always",
    }
}

/// The rule's page: a heading with its name and code, severity and fix availability, then its doc.
pub fn explain(rule: &Rule) -> String {
    format!(
        "# {} ({})\n\nSeverity: {}. {}\n\n{}",
        rule.name,
        rule.code,
        rule.severity.as_str(),
        fix_sentence(rule.fix),
        rule_doc(rule.doc)
    )
}

/// Aligned columns: code, name, severity, fix, summary.
fn table_text() -> String {
    let summaries: Vec<String> = RULES.iter().map(|r| r.summary()).collect();
    let rows: Vec<[&str; 5]> = RULES
        .iter()
        .zip(&summaries)
        .map(|(r, summary)| {
            [
                r.code,
                r.name,
                r.severity.as_str(),
                fix_word(r.fix),
                summary.as_str(),
            ]
        })
        .collect();
    let rows: Vec<Vec<&str>> = rows.into_iter().map(Vec::from).collect();
    crate::report::table::columns(&["CODE", "NAME", "SEVERITY", "FIX", "SUMMARY"], &rows)
}

/// The README's rule table.
fn table_markdown() -> String {
    let mut out =
        String::from("| Code | Name | Severity | Fix | Summary |\n|---|---|---|---|---|\n");
    for r in RULES {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            r.code,
            r.name,
            r.severity.as_str(),
            fix_word(r.fix),
            r.summary().replace('|', "\\|")
        ));
    }
    out
}

#[derive(Serialize)]
struct RuleJson {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    fix: &'static str,
    summary: String,
    doc: String,
}

impl From<&Rule> for RuleJson {
    fn from(rule: &Rule) -> Self {
        RuleJson {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
            fix: fix_word(rule.fix),
            summary: rule.summary(),
            doc: rule_doc(rule.doc),
        }
    }
}

fn json<T: Serialize>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_default();
    out.push('\n');
    out
}
