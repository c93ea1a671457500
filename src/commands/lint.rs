//! `lambda-image lint`: read inputs, parse, check, optionally fix (in place or as a diff), render.
//!
//! Exit status: 2 when any input could not be read, parsed or fixed (the other inputs are still
//! linted and reported); otherwise, with `--diff`, 1 when fixes would change a file; otherwise 1
//! when a finding is at or above the failure threshold; else 0.

use std::io::{Read, Write as _};
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;

use crate::cli::{LintArgs, LintFormat, Threshold};
use crate::commands::ExitStatus;
use crate::fs::{io_message, write_atomic};
use crate::lint::config::{RuleSelector, Settings};
use crate::lint::rules::parse_error;
use crate::lint::{self, fix, Diagnostic, Severity};
use crate::progress::Printer;
use crate::report::{self, text::plural, FixMode, LintedFile};

/// What a run does with fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Fix,
    Diff,
}

/// One input to lint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Input {
    /// The path as reported.
    display: String,
    /// `None` for standard input.
    path: Option<PathBuf>,
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

    let mut failed = false;
    let inputs = collect_inputs(&args.paths, &args.stdin_filename, &mut failed, printer);
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
        .extend(parse_build_args(&args.build_arg)?);
    if !args.select.is_empty() {
        settings.select = Some(parse_selectors(&args.select, "--select")?);
    }
    if !args.ignore.is_empty() {
        settings.ignore = parse_selectors(&args.ignore, "--ignore")?;
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

/// `NAME=VALUE` values of --build-arg (a value may contain `=`; it may be empty).
fn parse_build_args(values: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| {
            let (name, value) = v
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--build-arg {v:?}: expected NAME=VALUE"))?;
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                anyhow::bail!("--build-arg {v:?}: `{name}` is not an ARG name");
            }
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

fn parse_selectors(values: &[String], flag: &str) -> anyhow::Result<Vec<RuleSelector>> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| RuleSelector::parse(v).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
        .collect()
}

/// Expands the command-line paths into the files to lint, sorted by reported path. Errors
/// (missing paths, directories without Dockerfiles) are printed and set `failed`.
fn collect_inputs(
    paths: &[PathBuf],
    stdin_name: &str,
    failed: &mut bool,
    printer: &Printer,
) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input {
                display: stdin_name.to_string(),
                path: None,
            });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = inputs.len();
                walk(path, &mut inputs, failed, printer);
                if inputs.len() == before {
                    error(
                        printer,
                        format_args!(
                            "{}: no Dockerfiles found (looked for Dockerfile, Dockerfile.*, \
                         Dockerfile-*, Dockerfile_*, *.Dockerfile and the same with \
                         Containerfile, in any case)",
                            display_path(path)
                        ),
                    );
                    *failed = true;
                }
            }
            Ok(meta) if is_device(&meta) => {
                error(
                    printer,
                    format_args!(
                        "{}: not a regular file (a device), not a Dockerfile",
                        display_path(path)
                    ),
                );
                *failed = true;
            }
            Ok(_) => inputs.push(Input {
                display: display_path(path),
                path: Some(path.clone()),
            }),
            Err(err) => {
                error(
                    printer,
                    format_args!("{}: {}", display_path(path), io_message(&err)),
                );
                *failed = true;
            }
        }
    }
    inputs.sort();
    inputs.dedup();
    inputs
}

/// A character or block device, or a socket: never a Dockerfile (`/dev/zero` would never end).
/// Pipes are read (`lint <(generate-dockerfile)`).
fn is_device(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        t.is_char_device() || t.is_block_device() || t.is_socket()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Recursively adds the Dockerfiles under `dir`, skipping hidden directories, `target` and
/// `node_modules`, and not following symlinked directories.
fn walk(dir: &Path, inputs: &mut Vec<Input>, failed: &mut bool, printer: &Printer) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            error(
                printer,
                format_args!("{}: {}", display_path(dir), io_message(&err)),
            );
            *failed = true;
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                walk(&path, inputs, failed, printer);
            }
        } else if is_dockerfile_name(&name) {
            let is_file = file_type.is_file()
                || (file_type.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
            if is_file {
                inputs.push(Input {
                    display: display_path(&path),
                    path: Some(path),
                });
            }
        }
    }
}

/// Extensions after `Dockerfile.`/`Containerfile.` that mark something other than a Dockerfile:
/// BuildKit's per-Dockerfile ignore files, templates rendered into one, documentation, data,
/// scripts, and editor or merge leftovers.
const NOT_DOCKERFILE: &[&str] = &[
    "dockerignore",
    "j2",
    "jinja",
    "jinja2",
    "tmpl",
    "tpl",
    "template",
    "in",
    "erb",
    "mustache",
    "hbs",
    "md",
    "txt",
    "rst",
    "adoc",
    "html",
    "json",
    "yaml",
    "yml",
    "toml",
    "xml",
    "sh",
    "bash",
    "ps1",
    "py",
    "js",
    "ts",
    "lock",
    "log",
    "bak",
    "orig",
    "rej",
    "swp",
    "tmp",
    "old",
    "patch",
    "diff",
];

/// Last name parts (after `.`, `-` or `_`) of a copy kept aside: `Dockerfile-old`,
/// `Dockerfile_backup`, `Containerfile.orig`.
const BACKUP: &[&str] = &["old", "bak", "backup", "orig", "copy", "save", "tmp", "swp"];

/// The names BuildKit, Podman/Buildah and common repositories give Dockerfiles, in any case:
/// `Dockerfile` and `Containerfile`; with a suffix after `.`, `-` or `_` (`Dockerfile.al2`,
/// `Dockerfile-lambda`, `Containerfile_prod`); with a prefix before `.dockerfile` or
/// `.containerfile` (`api.Dockerfile`, `worker.Containerfile`). Not: BuildKit's
/// `*.dockerignore` files, nor names whose last extension marks a template, documentation,
/// data, a script or a backup (`Dockerfile.j2`, `Dockerfile.md`, `Containerfile.bak`,
/// `Dockerfile-old`).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let last_ext = lower.rsplit_once('.').map(|(_, ext)| ext);
    let last_part = lower.rsplit(['.', '-', '_']).next().unwrap_or("");
    if lower.ends_with('~')
        || last_ext.is_some_and(|ext| NOT_DOCKERFILE.contains(&ext))
        || (last_part.len() < lower.len() && BACKUP.contains(&last_part))
    {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower.ends_with(&format!(".{base}"))
            || lower
                .strip_prefix(base)
                .and_then(|rest| rest.strip_prefix(['.', '-', '_']))
                .is_some_and(|suffix| !suffix.is_empty())
    })
}

/// The path as the user wrote it, without a leading `./`, with `/` separators.
fn display_path(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut leading = true;
    let mut absolute = false;
    for component in path.components() {
        match component {
            Component::CurDir if leading => {}
            Component::RootDir => absolute = true,
            other => {
                leading = false;
                parts.push(other.as_os_str().to_string_lossy().into_owned());
            }
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn error(printer: &Printer, message: std::fmt::Arguments<'_>) {
    printer.error(message.to_string());
}

/// The largest input read: Dockerfiles are kilobytes; this keeps `/dev/zero`-like inputs (or a
/// pipe that never ends) from exhausting memory.
const MAX_INPUT: u64 = 16 << 20;

/// Reads all of `reader`, or `None` when it holds more than [`MAX_INPUT`] bytes.
fn read_capped(reader: impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    reader.take(MAX_INPUT + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= MAX_INPUT).then_some(buf))
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
    let read = match &input.path {
        None => read_capped(std::io::stdin().lock()),
        Some(path) => std::fs::File::open(path).and_then(read_capped),
    };
    let bytes = match read {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            error(
                printer,
                format_args!(
                    "{}: larger than {} MiB, not a Dockerfile",
                    input.display,
                    MAX_INPUT >> 20
                ),
            );
            return None;
        }
        Err(err) => {
            error(
                printer,
                format_args!("{}: {}", input.display, io_message(&err)),
            );
            return None;
        }
    };
    let source = match decode(bytes) {
        Ok(text) => text,
        Err(unreadable) => {
            error(
                printer,
                format_args!("{}: {}", input.display, unreadable.message),
            );
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
                        error(printer, format_args!("{}: {err:#}", input.display));
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
            error(printer, format_args!("{}: {err}", input.display));
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

/// Why a file is not text.
struct Unreadable {
    message: String,
    /// The readable text before the offending byte (positions are computed over it).
    prefix: String,
}

/// Bytes → text: a NUL byte (binary file) or invalid UTF-8 is refused, with its position.
fn decode(bytes: Vec<u8>) -> Result<String, Unreadable> {
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let prefix = String::from_utf8_lossy(bytes.get(..nul).unwrap_or_default()).into_owned();
        let (line, column) = line_col(&prefix);
        return Err(Unreadable {
            message: format!(
                "binary file (NUL byte at line {line}, column {column}), not a Dockerfile"
            ),
            prefix,
        });
    }
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.into_bytes();
        let bad = bytes.get(valid).copied().unwrap_or(0);
        let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default()).into_owned();
        let (line, column) = line_col(&prefix);
        Unreadable {
            message: format!("not valid UTF-8 (byte 0x{bad:02X} at line {line}, column {column})"),
            prefix,
        }
    })
}

/// 1-based line and character column of the end of `text`.
fn line_col(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    let column = last.trim_start_matches('\u{feff}').chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "DOCKERFILE",
            "Containerfile",
            "containerfile",
            "api.Dockerfile",
            "x.dockerfile",
            "worker.Containerfile",
            "web.containerfile",
            "Dockerfile.al2",
            "dockerfile.dev",
            "Dockerfile-lambda",
            "Dockerfile_prod",
            "Containerfile.arm64",
            "Containerfile-worker",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            "dockerfile.txt",
            "Dockerfile.md",
            "Dockerfile.j2",
            "python.Dockerfile.j2",
            "Dockerfile.dockerignore",
            "api.Dockerfile.dockerignore",
            "Dockerfile~",
            "README.md",
            "Containerfile.bak",
            "Dockerfile-old",
            "dockerfile_backup",
            "Dockerfile.",
            "Dockerfile-",
            "Dockerfiles",
            "dockerfile_lint.json",
            "mydockerfile",
            "docker-compose.yml",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn display_paths_drop_leading_dot() {
        assert_eq!(display_path(Path::new("./a/Dockerfile")), "a/Dockerfile");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("/x/./y")), "/x/y");
    }

    #[test]
    fn decode_reports_positions() {
        let err = decode(b"FROM a\nRUN \xff".to_vec()).err();
        assert!(err.is_some_and(|e| e.message.contains("0xFF at line 2, column 5")));
        let err = decode(b"FROM a\n\0".to_vec()).err();
        assert!(err.is_some_and(|e| e.message.contains("line 2, column 1")));
    }
}
