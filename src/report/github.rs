//! `--format github`: GitHub Actions workflow commands, one line per finding:
//! `::error title=lambda-image (LI101),file=…,line=…,col=…,endLine=…,endColumn=…::message`.
//!
//! Errors are `error`, warnings `warning`, info `notice`. `col`/`endColumn` are left out when a
//! span covers several lines (GitHub rejects them there).

use std::fmt::Write as _;

use super::{sorted_findings, LintedFile};
use crate::lint::Severity;

/// Renders every finding as a workflow command line.
pub fn render(files: &[LintedFile]) -> String {
    let mut out = String::new();
    for (file, d, start, end) in sorted_findings(files) {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let title = format!("lambda-image ({})", d.code);
        let _ = write!(
            out,
            "::{command} title={},file={},line={}",
            escape_property(&title),
            escape_property(&file.path),
            start.line
        );
        if start.line == end.line {
            let _ = write!(out, ",col={}", start.column);
        }
        let _ = write!(out, ",endLine={}", end.line);
        if start.line == end.line {
            let _ = write!(out, ",endColumn={}", end.column);
        }
        let _ = writeln!(out, "::{}", escape_data(&d.message));
    }
    out
}

/// Escapes the message part of a workflow command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50% a\r\nb: c,d"), "50%25 a%0D%0Ab: c,d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
