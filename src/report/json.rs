//! `--format json`: the contract CI scripts rely on.
//!
//! A JSON array of findings sorted by file, line, column and code; each object has exactly the
//! keys `file, line, column, end_line, end_column, code, name, severity, message, fix`. Lines and
//! columns are 1-based, columns count characters, ends are exclusive (the column after the last
//! character). `fix` is `null` or `{"applicability": "safe"|"unsafe", "message", "edits": [{"line",
//! "column", "end_line", "end_column", "content"}]}`.

use serde::Serialize;

use super::{sorted_findings, LintedFile};
use crate::lint::{Applicability, Severity};

#[derive(Serialize)]
struct Finding<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    code: &'a str,
    name: &'a str,
    severity: Severity,
    message: &'a str,
    fix: Option<FixJson<'a>>,
}

#[derive(Serialize)]
struct FixJson<'a> {
    applicability: Applicability,
    message: &'a str,
    edits: Vec<EditJson<'a>>,
}

#[derive(Serialize)]
struct EditJson<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    content: &'a str,
}

/// Renders the findings of every file as one pretty-printed JSON array (newline-terminated).
pub fn render(files: &[LintedFile]) -> String {
    let findings: Vec<Finding<'_>> = sorted_findings(files)
        .into_iter()
        .map(|(file, d, start, end)| Finding {
            file: &file.path,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            code: d.code,
            name: d.name,
            severity: d.severity,
            message: &d.message,
            fix: d.fix.as_ref().map(|fix| FixJson {
                applicability: fix.applicability,
                message: &fix.message,
                edits: fix
                    .edits
                    .iter()
                    .map(|edit| {
                        let (s, e) = file.range(&edit.range);
                        EditJson {
                            line: s.line,
                            column: s.column,
                            end_line: e.line,
                            end_column: e.column,
                            content: &edit.content,
                        }
                    })
                    .collect(),
            }),
        })
        .collect();
    // Serializing plain structs of strings and integers cannot fail.
    let mut out = serde_json::to_string_pretty(&findings).unwrap_or_else(|_| "[]".to_string());
    out.push('\n');
    out
}
