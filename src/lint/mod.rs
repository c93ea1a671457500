//! The linter: rules over the parsed Dockerfile, returning [`Diagnostic`]s (never printing).
//!
//! A rule is one file in `rules/` whose doc comment is its user documentation
//! (`lambda-image rule LI101` prints it). [`registry::RULES`] is the one code table.

pub mod analysis;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod fix;
pub mod input;
pub mod registry;
pub mod rules;

pub use diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};

use crate::dockerfile::{self, Command, Dockerfile, Instruction, Stage};

/// Parses and checks one Dockerfile's text with the project's settings (selection and
/// severity overrides applied). A text that does not parse gives its LI001 finding as the
/// error: nothing else can be checked. `lint`, and `build`'s pre-flight, both call this.
pub fn check_source(
    source: &str,
    settings: &config::Settings,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    check_file(source, settings).map(|checked| checked.diagnostics)
}

/// A note about one file that is not a finding: the command prints it (on stderr, or in the
/// text summary); it never changes the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub span: crate::dockerfile::Span,
    pub message: String,
}

/// What checking one file found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The findings, selection and severity overrides applied.
    pub diagnostics: Vec<Diagnostic>,
    /// Pragmas that suppress nothing because they are not what they were meant to be: an
    /// unknown code, a rule name instead of a code, a misspelt key.
    pub pragma_warnings: Vec<Note>,
    /// Stages built on a base lambda-image does not recognise (the image as written, at its
    /// `FROM`): the migration rules are off for them.
    pub unrecognised_bases: Vec<Note>,
}

/// [`check_source`], with what the command reports besides findings.
pub fn check_file(source: &str, settings: &config::Settings) -> Result<Checked, Vec<Diagnostic>> {
    match dockerfile::parse_with(source, &settings.dockerfile) {
        Ok(df) => Ok(check_parsed(&df, settings)),
        Err(err) => {
            let diagnostic = rules::parse_error::RULE.diagnostic(err.message, err.span, None);
            Err(settings.apply(vec![diagnostic]))
        }
    }
}

/// [`check_file`] of a Dockerfile parsed already (with `settings.dockerfile`).
pub fn check_parsed(df: &dockerfile::Dockerfile, settings: &config::Settings) -> Checked {
    Checked {
        diagnostics: settings.apply(engine::check(df)),
        pragma_warnings: engine::pragma_warnings(df),
        unrecognised_bases: engine::unrecognised_bases(df),
    }
}

/// Whether a rule can offer a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

/// A lint rule: its public identity, its documentation and its check.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// `LI101`: never changes meaning once released.
    pub code: &'static str,
    /// `yum-not-available`: never changes meaning once released.
    pub name: &'static str,
    pub severity: Severity,
    pub fix: FixAvailability,
    /// The doc comment of the rule's file: its user documentation (markdown).
    pub doc: &'static str,
    pub check: fn(&Context<'_>, &mut Vec<Diagnostic>),
}

impl Rule {
    /// The one-sentence summary: the first sentence of the "## What it does" paragraph, which
    /// may wrap over several doc lines (a `.` inside backticks does not end it).
    pub fn summary(&self) -> String {
        let mut lines = self.doc.lines().map(str::trim);
        for line in lines.by_ref() {
            if line.starts_with("## What it does") {
                break;
            }
        }
        let paragraph: Vec<&str> = lines
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let text = paragraph.join(" ");
        let mut in_code = false;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '`' => in_code = !in_code,
                '.' if !in_code && chars.peek().is_none_or(|&(_, next)| next == ' ') => {
                    return text.get(..=i).unwrap_or(&text).to_string();
                }
                _ => {}
            }
        }
        text
    }

    /// A diagnostic of this rule with its default severity.
    pub fn diagnostic(
        &self,
        message: impl Into<String>,
        span: crate::dockerfile::Span,
        fix: Option<Fix>,
    ) -> Diagnostic {
        Diagnostic {
            code: self.code,
            name: self.name,
            severity: self.severity,
            message: message.into(),
            span,
            fix,
        }
    }
}

/// One RUN (or `ONBUILD RUN`) with its commands, split once for all rules.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// Index of the (outer) instruction in `Dockerfile::instructions`.
    pub index: usize,
    /// The RUN instruction itself (the inner one for ONBUILD RUN).
    pub instruction: &'a Instruction,
    pub stage: &'a Stage,
    pub commands: Vec<Command>,
}

/// What every rule reads.
#[derive(Debug)]
pub struct Context<'a> {
    pub df: &'a Dockerfile,
    /// Every RUN, in source order.
    pub runs: Vec<Run<'a>>,
}

/// Defines a rule's `RULE` constant from its doc comment, code, name, severity and check.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it does
///     /// …
///     LI101, "yum-not-available", Error, Sometimes, check
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    ($(#[doc = $doc:literal])* $code:ident, $name:literal, $severity:ident, $fix:ident, $check:path) => {
        pub const RULE: $crate::lint::Rule = $crate::lint::Rule {
            code: stringify!($code),
            name: $name,
            severity: $crate::lint::Severity::$severity,
            fix: $crate::lint::FixAvailability::$fix,
            doc: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}
