//! `lambda-image lint`: read inputs, parse, check, optionally fix (in place or as a diff), render.
//!
//! Exit status: 2 when any input could not be read, parsed or fixed (the other inputs are still
//! linted and reported); otherwise, with `--diff`, 1 when fixes would change a file; otherwise 1
//! when a finding is at or above the failure threshold; else 0.

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::{LintArgs, LintFormat, Threshold};
use crate::commands::ExitStatus;
use crate::lint::config::{self, Settings};
use crate::lint::discover::{self, Discovered};
use crate::lint::input::{Linted, Linter, Message, Mode};
use crate::lint::Severity;
use crate::progress::Printer;
use crate::report::{self, FixMode, LintedFile};
use crate::text::plural;

pub fn run(args: LintArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let settings = resolve_settings(&args, printer)?;
    let mode = if args.diff {
        Mode::Diff
    } else if args.fix || args.unsafe_fixes {
        Mode::Fix
    } else {
        Mode::Check
    };
    let Discovered { inputs, errors } = discover::discover(&args.paths, &args.stdin_filename);
    let mut failed = !errors.is_empty();
    for message in &errors {
        printer.error(message);
    }
    let stdin_fixed = mode == Mode::Fix && inputs.iter().any(|i| i.path.is_none());

    let linter = Linter {
        mode,
        unsafe_fixes: args.unsafe_fixes,
        settings: &settings,
    };
    let mut linted = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let mut messages = Vec::new();
        let result = linter.lint(input, &mut messages);
        print_messages(printer, messages);
        if let Some(result) = result {
            failed |= result.error;
            linted.push(result);
        } else {
            failed = true;
        }
    }
    let files: Vec<LintedFile> = linted.iter().map(|l| l.file.clone()).collect();

    if mode == Mode::Diff {
        let changed = write_diff(&linted, &files, printer)?;
        return Ok(if failed {
            ExitStatus::Error
        } else if changed {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }
    if stdin_fixed {
        write_fixed_stdin(&linted, &args.stdin_filename)?;
    }
    write_report(&args, &files, mode, stdin_fixed, failed, printer)?;
    if mode == Mode::Fix && args.format == LintFormat::Text && !printer.quiet() {
        fix_summary(&linted, &files, printer);
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

fn print_messages(printer: &Printer, messages: Vec<Message>) {
    for message in messages {
        match message {
            Message::Error(m) => printer.error(m),
            Message::Warning(m) => printer.warn(m),
            Message::Detail(m) => printer.detail(m),
        }
    }
}

/// `--diff`: the unified diff of every file fixes would change on stdout, then a summary.
/// Whether any file would change.
fn write_diff(linted: &[Linted], files: &[LintedFile], printer: &Printer) -> anyhow::Result<bool> {
    let mut stdout = std::io::stdout().lock();
    let mut changed_files = 0;
    let mut would_fix = 0;
    for l in linted {
        if let Some(new) = &l.new_text {
            changed_files += 1;
            would_fix += l.fixed;
            let a = format!("a/{}", l.file.path);
            let b = format!("b/{}", l.file.path);
            let diff = similar::TextDiff::from_lines(l.old_text.as_str(), new.as_str());
            write!(stdout, "{}", diff.unified_diff().header(&a, &b)).context("writing the diff")?;
        }
    }
    stdout.flush().context("writing the diff")?;
    if !printer.quiet() {
        if let Some(note) = unrecognised_note(files) {
            printer.line(&note);
        }
        let checked = report::text::checked(files);
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
    Ok(changed_files > 0)
}

/// `--fix` on stdin: the fixed text (or the text as read) goes to stdout.
fn write_fixed_stdin(linted: &[Linted], stdin_filename: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for l in linted {
        if l.file.path == stdin_filename && !l.file.unreadable {
            let text = l.new_text.as_deref().unwrap_or(&l.old_text);
            stdout
                .write_all(text.as_bytes())
                .context("writing the fixed text")?;
        }
    }
    stdout.flush().context("writing the fixed text")
}

/// The report in `--format`, on stdout (on stderr when stdout carries the fixed text).
fn write_report(
    args: &LintArgs,
    files: &[LintedFile],
    mode: Mode,
    stdin_fixed: bool,
    failed: bool,
    printer: &Printer,
) -> anyhow::Result<()> {
    let output = match args.format {
        LintFormat::Text => report::text::render(
            files,
            report::text::TextOptions {
                color: printer.color() && !stdin_fixed,
                fix_mode: FixMode {
                    unsafe_fixes: args.unsafe_fixes,
                },
                quiet: printer.quiet() || mode == Mode::Fix,
                incomplete: failed,
            },
        ),
        LintFormat::Json => report::json::render(files),
        LintFormat::Sarif => report::sarif::render(files),
        LintFormat::Github => report::github::render(files),
        LintFormat::Checkstyle => report::checkstyle::render(files),
    };
    if stdin_fixed {
        let mut stderr = std::io::stderr().lock();
        stderr
            .write_all(output.as_bytes())
            .context("writing the report")
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(output.as_bytes())
            .context("writing the report")?;
        stdout.flush().context("writing the report")
    }
}

/// `--fix`'s closing line: how many findings were fixed in how many files, how many are left.
fn fix_summary(linted: &[Linted], files: &[LintedFile], printer: &Printer) {
    let remaining: usize = files
        .iter()
        .filter(|f| !f.unreadable)
        .map(|f| f.diagnostics.len())
        .sum();
    let fixed: usize = linted.iter().map(|l| l.fixed).sum();
    let fixed_files = linted.iter().filter(|l| l.new_text.is_some()).count();
    if let Some(note) = unrecognised_note(files) {
        printer.line(&note);
    }
    let checked = report::text::checked(files);
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
