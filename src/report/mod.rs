//! Renderers shared by lint and verify. Only this module (and the progress printer) writes to the terminal.
//!
//! Lint renderers take the same data, one [`LintedFile`] per input (path, source text, line index,
//! findings), and return the whole output as a string; the command writes it.

pub mod build;
pub mod checkstyle;
pub mod github;
pub mod json;
pub mod plan;
pub mod sarif;
pub mod table;
pub mod text;
pub mod verify;

use crate::dockerfile::{LineIndex, Span};
use crate::lint::{Applicability, Diagnostic, Severity};

/// One linted input, as the renderers see it.
#[derive(Debug, Clone)]
pub struct LintedFile {
    /// The path as shown to the user (relative when given relative; `/` separators).
    pub path: String,
    /// The text the findings' spans point into (after fixes, when fixes were applied).
    pub source: String,
    pub line_index: LineIndex,
    /// Findings, sorted by position then code.
    pub diagnostics: Vec<Diagnostic>,
    /// The file could not be read as text (binary or not UTF-8): `source` holds the readable
    /// prefix only, and the text renderer shows no code frame (the error went to stderr).
    pub unreadable: bool,
    /// Stages built on a base lambda-image does not recognise (the text summary says so).
    pub unrecognised_bases: usize,
}

impl LintedFile {
    pub fn new(path: String, source: String, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by(|a, b| {
            (a.span.start, a.code, a.span.end).cmp(&(b.span.start, b.code, b.span.end))
        });
        LintedFile {
            line_index: LineIndex::new(&source),
            path,
            source,
            diagnostics,
            unreadable: false,
            unrecognised_bases: 0,
        }
    }

    /// 1-based (line, column) of a byte offset, columns in characters. A leading byte-order
    /// mark is not counted as a column.
    pub fn position(&self, offset: usize) -> Position {
        let (line, mut column) = self.line_index.line_col(&self.source, offset);
        if line == 1 && offset > 0 && self.source.starts_with('\u{feff}') {
            column -= 1;
        }
        Position { line, column }
    }

    /// Start and end (exclusive: the column after the last character) of a span.
    pub fn range(&self, span: &Span) -> (Position, Position) {
        (self.position(span.start), self.position(span.end))
    }
}

/// A 1-based line and a 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Which fixes the current run would apply, to mark findings `[*]` as ruff does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FixMode {
    pub unsafe_fixes: bool,
}

impl FixMode {
    /// Whether `--fix` (with `--unsafe-fixes` if given) would apply this fix.
    pub fn applies(self, applicability: Applicability) -> bool {
        applicability == Applicability::Safe || self.unsafe_fixes
    }
}

/// Every finding of every file, in the order the machine formats promise: file, line, column, code.
pub fn sorted_findings(
    files: &[LintedFile],
) -> Vec<(&LintedFile, &Diagnostic, Position, Position)> {
    let mut all: Vec<_> = files
        .iter()
        .flat_map(|file| {
            file.diagnostics.iter().map(move |d| {
                let (start, end) = file.range(&d.span);
                (file, d, start, end)
            })
        })
        .collect();
    all.sort_by(|a, b| {
        (a.0.path.as_str(), a.2, a.1.code, a.3).cmp(&(b.0.path.as_str(), b.2, b.1.code, b.3))
    });
    all
}

/// The word used for a severity in SARIF (`note` for info).
pub fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A rule's documentation as markdown: its doc comment with the one leading space of each line
/// removed, surrounding blank lines trimmed.
pub fn rule_doc(doc: &str) -> String {
    let lines: Vec<&str> = doc
        .lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    let text = lines.join("\n");
    let mut text = text.trim_matches('\n').to_string();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_doc_drops_the_doc_comment_indent() {
        assert_eq!(
            rule_doc(" ## What it does\n Text\n"),
            "## What it does\nText\n"
        );
    }
}
