//! `lambda-image lint`: read inputs, parse, check, optionally fix (in place or as a diff), render.
//!
//! Exit status: 2 when any input could not be read, parsed or fixed (the other inputs are still
//! linted and reported); otherwise, with `--diff`, 1 when fixes would change a file; otherwise 1
//! when a finding is at or above the failure threshold; else 0.

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::{LintArgs, LintFormat, Threshold};
use crate::commands::ExitStatus;
use crate::fs::write_atomic;
use crate::lint::config::{self, Settings};
use crate::lint::discover::{self, Discovered, Input, Read};
use crate::lint::rules::parse_error;
use crate::lint::{self, fix, Diagnostic, Severity};
use crate::progress::Printer;
use crate::report::{self, FixMode, LintedFile};
use crate::text::plural;

/// What a run does with fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Fix,
    Diff,
}

/// The result of linting one input.
struct Linted {
    file: LintedFile,
    /// The input could not be read, parsed or fixed.
    error: bool,
    /// Fixes applied (or, with `--diff`, that would be).
    fixed: usize,
    /// The fixed text, when it differs from the input.
    new_text: Option<String>,
    /// The original text (for diffs).
    old_text: String,
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
}

pub fn run(args: LintArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let settings = resolve_settings(&args, printer)?;
    let mode = if args.diff {
        Mode::Diff
    } else if args.fix || args.unsafe_fixes {
        Mode::Fix
    } else {
        Mode::Check
    };
    let fix_mode = FixMode {
        unsafe_fixes: args.unsafe_fixes,
    };

    let Discovered { inputs, errors } = discover::discover(&args.paths, &args.stdin_filename);
    let mut failed = !errors.is_empty();
    for message in &errors {
        printer.error(message);
    }
    let stdin_fixed = mode == Mode::Fix && inputs.iter().any(|i| i.path.is_none());

    let mut linted = Vec::with_capacity(inputs.len());
    for input in &inputs {
        if let Some(result) = lint_input(input, mode, args.unsafe_fixes, &settings, printer) {
            failed |= result.error;
            linted.push(result);
        } else {
            failed = true;
        }
    }

    let mut stdout = std::io::stdout().lock();

    if mode == Mode::Diff {
        let mut changed_files = 0;
        let mut would_fix = 0;
        for l in &linted {
            if let Some(new) = &l.new_text {
                changed_files += 1;
                would_fix += l.fixed;
                let a = format!("a/{}", l.file.path);
                let b = format!("b/{}", l.file.path);
                let diff = similar::TextDiff::from_lines(l.old_text.as_str(), new.as_str());
                write!(stdout, "{}", diff.unified_diff().header(&a, &b))
                    .context("writing the diff")?;
            }
        }
        stdout.flush().context("writing the diff")?;
        if !printer.quiet() {
            let files: Vec<LintedFile> = linted.iter().map(|l| l.file.clone()).collect();
            if let Some(note) = unrecognised_note(&files) {
                printer.line(&note);
            }
            let checked = report::text::checked(&files);
            if changed_files == 0 {
                printer.line(&format!("No fixes to apply. {checked}"));
            } else {
                printer.line(&format!(
                    "Would fix {would_fix} {} in {changed_files} {}. {checked}",
                    plural(would_fix, "finding", "findings"),
                    plural(changed_files, "file", "files")
                ));
            }
        }
        return Ok(if failed {
            ExitStatus::Error
        } else if changed_files > 0 {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }

    if stdin_fixed {
        for l in &linted {
            if l.file.path == args.stdin_filename && !l.file.unreadable {
                let text = l.new_text.as_deref().unwrap_or(&l.old_text);
                stdout
                    .write_all(text.as_bytes())
                    .context("writing the fixed text")?;
            }
        }
        stdout.flush().context("writing the fixed text")?;
    }

    let files: Vec<LintedFile> = linted.iter().map(|l| l.file.clone()).collect();
    let output = match args.format {
        LintFormat::Text => report::text::render(
            &files,
            report::text::TextOptions {
                color: printer.color() && !stdin_fixed,
                fix_mode,
                quiet: printer.quiet() || mode == Mode::Fix,
                incomplete: failed,
            },
        ),
        LintFormat::Json => report::json::render(&files),
        LintFormat::Sarif => report::sarif::render(&files),
        LintFormat::Github => report::github::render(&files),
        LintFormat::Checkstyle => report::checkstyle::render(&files),
    };
    if stdin_fixed {
        let mut stderr = std::io::stderr().lock();
        stderr
            .write_all(output.as_bytes())
            .context("writing the report")?;
    } else {
        stdout
            .write_all(output.as_bytes())
            .context("writing the report")?;
        stdout.flush().context("writing the report")?;
    }

    let remaining: usize = files
        .iter()
        .filter(|f| !f.unreadable)
        .map(|f| f.diagnostics.len())
        .sum();
    if mode == Mode::Fix && args.format == LintFormat::Text && !printer.quiet() {
        let fixed: usize = linted.iter().map(|l| l.fixed).sum();
        let fixed_files = linted.iter().filter(|l| l.new_text.is_some()).count();
        if let Some(note) = unrecognised_note(&files) {
            printer.line(&note);
        }
        let checked = report::text::checked(&files);
        if fixed == 0 {
            printer.line(&format!(
                "No fixes applied; {remaining} {} left. {checked}",
                plural(remaining, "finding", "findings")
            ));
        } else {
            printer.line(&format!(
                "Fixed {fixed} {} in {fixed_files} {}; {remaining} left. {checked}",
                plural(fixed, "finding", "findings"),
                plural(fixed_files, "file", "files")
            ));
        }
    }

    let fails = files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .any(|d| settings.fails(d.severity));
    Ok(if failed {
        ExitStatus::Error
    } else if fails {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn unrecognised_note(files: &[LintedFile]) -> Option<String> {
    report::text::unrecognised_note(files.iter().map(|f| f.unrecognised_bases).sum())
}

/// Merges the configuration file (unless `--no-config`) with the command line, which wins.
fn resolve_settings(args: &LintArgs, printer: &Printer) -> anyhow::Result<Settings> {
    let file = crate::config::resolve(args.config.as_deref(), args.no_config)?;
    if let Some(path) = &file.path {
        printer.detail(format!("lambda-image: using {}", path.display()));
    }
    let mut settings = Settings::from_config(file.lint, file.path);
    // The build's arguments: the config file's `build: build-args`, then --build-arg.
    settings.dockerfile.build_args = file.build.build_args;
    settings
        .dockerfile
        .build_args
        .extend(crate::dockerfile::parse_build_args(&args.build_arg).map_err(anyhow::Error::msg)?);
    if !args.select.is_empty() {
        let select = config::parse_selectors(&args.select, "--select");
        settings.select = Some(select.map_err(anyhow::Error::msg)?);
    }
    if !args.ignore.is_empty() {
        let ignore = config::parse_selectors(&args.ignore, "--ignore");
        settings.ignore = ignore.map_err(anyhow::Error::msg)?;
    }
    if let Some(threshold) = args.failure_threshold {
        settings.failure_threshold = match threshold {
            Threshold::Error => Severity::Error,
            Threshold::Warning => Severity::Warning,
            Threshold::Info => Severity::Info,
        };
    }
    Ok(settings)
}

/// Reads, parses, checks and (in fix and diff modes) fixes one input. `None` when it could not
/// be read at all (the error is printed).
fn lint_input(
    input: &Input,
    mode: Mode,
    unsafe_fixes: bool,
    settings: &Settings,
    printer: &Printer,
) -> Option<Linted> {
    let source = match discover::read(input) {
        Read::Text(text) => text,
        Read::Failed(message) => {
            printer.error(message);
            return None;
        }
        Read::NotText(unreadable) => {
            printer.error(format!("{}: {}", input.display, unreadable.message));
            let prefix_len = unreadable.prefix.len();
            let diagnostic =
                parse_error::RULE.diagnostic(unreadable.message, prefix_len..prefix_len, None);
            let mut file =
                LintedFile::new(input.display.clone(), unreadable.prefix, vec![diagnostic]);
            file.unreadable = true;
            return Some(Linted {
                file,
                error: true,
                fixed: 0,
                new_text: None,
                old_text: String::new(),
            });
        }
    };

    let checked = match lint::check_file(&source, settings) {
        Ok(checked) => checked,
        Err(diagnostics) => return Some(Linted::failed(&input.display, source, diagnostics)),
    };
    report_notes(&input.display, &source, &checked, printer);
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
        return Some(Linted {
            file,
            error: false,
            fixed: 0,
            new_text: None,
            old_text: source,
        });
    }

    let keep = |d: &Diagnostic| settings.enabled(d.code);
    match fix::fix_until_stable_with(&source, unsafe_fixes, &keep, &settings.dockerfile) {
        Ok(outcome) => {
            let changed = outcome.source != source;
            let mut error_seen = false;
            if changed && mode == Mode::Fix {
                if let Some(path) = &input.path {
                    if let Err(err) = write_atomic(path, &outcome.source) {
                        printer.error(format!("{}: {err:#}", input.display));
                        // Nothing was written: report the findings of the file as it is.
                        return Some(Linted::failed(&input.display, source, found));
                    }
                }
            }
            let remaining = settings.apply(outcome.remaining);
            if remaining.iter().any(|d| d.code == parse_error::RULE.code) {
                error_seen = true;
            }
            let mut file =
                LintedFile::new(input.display.clone(), outcome.source.clone(), remaining);
            file.unrecognised_bases = unrecognised;
            Some(Linted {
                file,
                error: error_seen,
                fixed: if changed { outcome.applied } else { 0 },
                new_text: changed.then_some(outcome.source),
                old_text: source,
            })
        }
        Err(err) => {
            printer.error(format!("{}: {err}", input.display));
            Some(Linted::failed(&input.display, source, found))
        }
    }
}

/// Pragma problems as warnings (always), and with `-v` the stages whose base is not
/// recognised, each at its position in the file as read.
fn report_notes(display: &str, source: &str, checked: &lint::Checked, printer: &Printer) {
    if checked.pragma_warnings.is_empty() && checked.unrecognised_bases.is_empty() {
        return;
    }
    let file = LintedFile::new(display.to_string(), source.to_string(), Vec::new());
    let at = |offset: usize| {
        let p = file.position(offset);
        format!("{display}:{}:{}", p.line, p.column)
    };
    for note in &checked.pragma_warnings {
        printer.warn(format!("{}: {}", at(note.span.start), note.message));
    }
    for note in &checked.unrecognised_bases {
        printer.detail(format!(
            "lambda-image: {}: `{}` is not a base lambda-image recognises: migration rules are off for this stage",
            at(note.span.start),
            note.message
        ));
    }
}
