//! One input of `lint`, from its bytes to its result: read, parsed, checked and, in the fix
//! and diff modes, fixed (with `--fix`, written back atomically). What went wrong, and the
//! notes about the file, come back as [`Message`]s in the order they happened, for the
//! command to print; nothing here prints.

use crate::fs::write_atomic;
use crate::lint::config::Settings;
use crate::lint::discover::{self, Input, Read};
use crate::lint::rules::parse_error;
use crate::lint::{self, fix, Checked, Diagnostic};
use crate::report::{FixMode, LintedFile};

/// What a run does with fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    Fix,
    Diff,
}

/// A line for the terminal about one input, and its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Error(String),
    Warning(String),
    /// Shown with `-v` only.
    Detail(String),
}

/// The result of linting one input.
pub struct Linted {
    pub file: LintedFile,
    /// The input could not be read, parsed or fixed.
    pub error: bool,
    /// Fixes applied (or, with `--diff`, that would be).
    pub fixed: usize,
    /// The fixed text, when it differs from the input.
    pub new_text: Option<String>,
    /// The original text (for diffs).
    pub old_text: String,
}

impl Linted {
    /// An input that could not be parsed or fixed: its findings as they are, nothing changed.
    fn failed(display: &str, source: String, diagnostics: Vec<Diagnostic>) -> Self {
        Linted {
            file: LintedFile::new(display.to_string(), source.clone(), diagnostics),
            error: true,
            fixed: 0,
            new_text: None,
            old_text: source,
        }
    }

    /// An input read as it is (checked, or with nothing to fix).
    fn unchanged(file: LintedFile, source: String) -> Self {
        Linted {
            file,
            error: false,
            fixed: 0,
            new_text: None,
            old_text: source,
        }
    }
}

/// How a run lints each of its inputs.
pub struct Linter<'a> {
    pub mode: Mode,
    pub unsafe_fixes: bool,
    pub settings: &'a Settings,
}

impl Linter<'_> {
    /// Reads, parses, checks and (in fix and diff modes) fixes one input. `None` when it could not
    /// be read at all (the error is in `messages`).
    pub fn lint(&self, input: &Input, messages: &mut Vec<Message>) -> Option<Linted> {
        let (mode, unsafe_fixes, settings) = (self.mode, self.unsafe_fixes, self.settings);
        let source = match discover::read(input) {
            Read::Text(text) => text,
            Read::Failed(message) => {
                messages.push(Message::Error(message));
                return None;
            }
            Read::NotText(unreadable) => {
                messages.push(Message::Error(format!(
                    "{}: {}",
                    input.display, unreadable.message
                )));
                let prefix_len = unreadable.prefix.len();
                let diagnostic =
                    parse_error::RULE.diagnostic(unreadable.message, prefix_len..prefix_len, None);
                let mut file =
                    LintedFile::new(input.display.clone(), unreadable.prefix, vec![diagnostic]);
                file.unreadable = true;
                let mut linted = Linted::unchanged(file, String::new());
                linted.error = true;
                return Some(linted);
            }
        };

        let checked = match lint::check_file(&source, settings) {
            Ok(checked) => checked,
            Err(diagnostics) => return Some(Linted::failed(&input.display, source, diagnostics)),
        };
        notes(&input.display, &source, &checked, messages);
        let unrecognised = checked.unrecognised_bases.len();
        let found = checked.diagnostics;

        let fixable = found.iter().any(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| FixMode { unsafe_fixes }.applies(f.applicability))
        });
        if mode == Mode::Check || !fixable {
            let mut file = LintedFile::new(input.display.clone(), source.clone(), found);
            file.unrecognised_bases = unrecognised;
            return Some(Linted::unchanged(file, source));
        }
        Some(self.fix(input, source, found, unrecognised, messages))
    }

    /// Fixes a checked input until its findings stop changing; with `--fix`, writes the result.
    fn fix(
        &self,
        input: &Input,
        source: String,
        found: Vec<Diagnostic>,
        unrecognised: usize,
        messages: &mut Vec<Message>,
    ) -> Linted {
        let (mode, unsafe_fixes, settings) = (self.mode, self.unsafe_fixes, self.settings);
        let keep = |d: &Diagnostic| settings.enabled(d.code);
        let outcome =
            match fix::fix_until_stable_with(&source, unsafe_fixes, &keep, &settings.dockerfile) {
                Ok(outcome) => outcome,
                Err(err) => {
                    messages.push(Message::Error(format!("{}: {err}", input.display)));
                    return Linted::failed(&input.display, source, found);
                }
            };
        let changed = outcome.source != source;
        if changed && mode == Mode::Fix {
            if let Some(path) = &input.path {
                if let Err(err) = write_atomic(path, &outcome.source) {
                    messages.push(Message::Error(format!("{}: {err:#}", input.display)));
                    // Nothing was written: report the findings of the file as it is.
                    return Linted::failed(&input.display, source, found);
                }
            }
        }
        let remaining = settings.apply(outcome.remaining);
        let error = remaining.iter().any(|d| d.code == parse_error::RULE.code);
        let mut file = LintedFile::new(input.display.clone(), outcome.source.clone(), remaining);
        file.unrecognised_bases = unrecognised;
        Linted {
            file,
            error,
            fixed: if changed { outcome.applied } else { 0 },
            new_text: changed.then_some(outcome.source),
            old_text: source,
        }
    }
}

/// Pragma problems as warnings (always), and (shown with `-v`) the stages whose base is not
/// recognised, each at its position in the file as read.
fn notes(display: &str, source: &str, checked: &Checked, messages: &mut Vec<Message>) {
    if checked.pragma_warnings.is_empty() && checked.unrecognised_bases.is_empty() {
        return;
    }
    let file = LintedFile::new(display.to_string(), source.to_string(), Vec::new());
    let at = |offset: usize| {
        let p = file.position(offset);
        format!("{display}:{}:{}", p.line, p.column)
    };
    for note in &checked.pragma_warnings {
        messages.push(Message::Warning(format!(
            "{}: {}",
            at(note.span.start),
            note.message
        )));
    }
    for note in &checked.unrecognised_bases {
        messages.push(Message::Detail(format!(
            "lambda-image: {}: `{}` is not a base lambda-image recognises: migration rules are off for this stage",
            at(note.span.start),
            note.message
        )));
    }
}
