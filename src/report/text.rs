//! `--format text`: a code frame per finding (annotate-snippets), as ruff and rustc print them,
//! then a summary line.
//!
//! ```text
//! error[LI101]: `yum` does not exist in public.ecr.aws/lambda/python:3.12; use `dnf`
//!  --> Dockerfile:3:5
//!   |
//! 3 | RUN yum install -y gcc
//!   |     ^^^ yum-not-available
//!   |
//!   = help: [*] Replace `yum` with `dnf`
//! ```
//! `[*]` marks a fix that `--fix` (or `--unsafe-fixes`, when given) would apply.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{FixMode, LintedFile};
use crate::lint::{Applicability, Diagnostic, Severity};
use crate::text::plural;

/// Rendering options for the text format.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
    pub fix_mode: FixMode,
    /// Leave out the summary line.
    pub quiet: bool,
    /// Some inputs could not be read, parsed or fixed (their errors went to stderr): the summary
    /// says so, so "No findings" never reads as a clean bill.
    pub incomplete: bool,
}

/// Renders every finding of every file (files in the given order), then the summary line.
pub fn render(files: &[LintedFile], options: TextOptions) -> String {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    let mut total = 0usize;
    let mut fixable = 0usize;
    let mut unsafe_hidden = 0usize;
    // Unreadable files were reported on stderr as one-line errors; there is no text to frame.
    for file in files.iter().filter(|f| !f.unreadable) {
        for d in &file.diagnostics {
            total += 1;
            if let Some(fix) = &d.fix {
                if options.fix_mode.applies(fix.applicability) {
                    fixable += 1;
                } else {
                    unsafe_hidden += 1;
                }
            }
            out.push_str(&render_one(&renderer, file, d, options.fix_mode));
            out.push_str("\n\n");
        }
    }
    if !options.quiet {
        let unrecognised: usize = files.iter().map(|f| f.unrecognised_bases).sum();
        if let Some(note) = unrecognised_note(unrecognised) {
            out.push_str(&note);
            out.push('\n');
        }
        out.push_str(&summary(total, fixable, unsafe_hidden, options.fix_mode));
        if options.incomplete {
            out.push_str(" Some inputs could not be linted: see the errors above.");
        }
        out.push(' ');
        out.push_str(&checked(files));
        out.push('\n');
    }
    out
}

/// "Checked 3 files.": the inputs that were read as text (those that did not parse included).
pub fn checked(files: &[LintedFile]) -> String {
    let n = files.iter().filter(|f| !f.unreadable).count();
    format!("Checked {n} {}.", plural(n, "file", "files"))
}

/// The summary's note on stages whose base lambda-image does not recognise, when there are any.
pub fn unrecognised_note(stages: usize) -> Option<String> {
    (stages > 0).then(|| {
        format!(
            "{stages} {} a base lambda-image does not recognise: migration rules are off for {}; see \"Unrecognised bases\" under `lambda-image lint` in the README (base-aliases, --build-arg).",
            plural(stages, "stage has", "stages have"),
            plural(stages, "it", "them")
        )
    })
}

/// "Found 3 findings (2 fixable with --fix)" or "No findings".
pub fn summary(total: usize, fixable: usize, unsafe_hidden: usize, fix_mode: FixMode) -> String {
    if total == 0 {
        return "No findings.".to_string();
    }
    let mut line = format!("Found {total} {}", plural(total, "finding", "findings"));
    let flag = if fix_mode.unsafe_fixes {
        "--unsafe-fixes"
    } else {
        "--fix"
    };
    match (fixable, unsafe_hidden) {
        (0, 0) => line.push('.'),
        (f, 0) => line.push_str(&format!(" ({f} fixable with {flag}).")),
        (0, u) => line.push_str(&format!(" ({u} fixable with --unsafe-fixes).")),
        (f, u) => line.push_str(&format!(
            " ({f} fixable with {flag}, {u} more with --unsafe-fixes)."
        )),
    }
    line
}

/// One finding as a code frame over just the lines its span covers.
fn render_one(renderer: &Renderer, file: &LintedFile, d: &Diagnostic, fix_mode: FixMode) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let (excerpt, first_line, span) = excerpt(file, d.span.clone());
    let path = file.path.as_str();
    let mut group: Group<'_> = level.primary_title(d.message.as_str()).id(d.code).element(
        Snippet::source(excerpt)
            .line_start(first_line)
            .path(path)
            .annotation(AnnotationKind::Primary.span(span).label(d.name)),
    );
    if let Some(fix) = &d.fix {
        let help = if fix_mode.applies(fix.applicability) {
            format!("[*] {}", fix.message)
        } else {
            match fix.applicability {
                Applicability::Unsafe => {
                    format!("{} (unsafe: apply with --unsafe-fixes)", fix.message)
                }
                Applicability::Safe => fix.message.clone(),
            }
        };
        group = group.element(Level::HELP.message(help));
    }
    renderer.render(&[group])
}

/// The whole lines covering `span` (BOM and line endings trimmed), their first line number and
/// the span relative to the excerpt.
fn excerpt(
    file: &LintedFile,
    span: crate::dockerfile::Span,
) -> (String, usize, std::ops::Range<usize>) {
    let source = file.source.as_str();
    let start = span.start.min(source.len());
    let end = span.end.clamp(start, source.len());
    let first_line = file.line_index.line(start);
    let last_line = file
        .line_index
        .line(end.saturating_sub(usize::from(end > start)));
    let mut from = file.line_index.line_start(first_line).unwrap_or(0);
    let to = file
        .line_index
        .line_start(last_line + 1)
        .unwrap_or(source.len())
        .max(end);
    if from == 0 && source.starts_with('\u{feff}') {
        from = '\u{feff}'.len_utf8().min(start);
    }
    let text = source.get(from..to).unwrap_or("");
    let text = text.trim_end_matches(['\n', '\r']);
    // Line endings inside the excerpt: CRLF shown as LF so columns line up.
    let mut out = String::with_capacity(text.len());
    let mut rel_start = start - from;
    let mut rel_end = end - from;
    for (i, c) in text.char_indices() {
        if c == '\r' && text.get(i + 1..i + 2) == Some("\n") {
            if i < start - from {
                rel_start -= 1;
            }
            if i < end - from {
                rel_end -= 1;
            }
            continue;
        }
        out.push(c);
    }
    let rel_end = rel_end.min(out.len());
    let rel_start = rel_start.min(rel_end);
    (out, first_line, rel_start..rel_end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::{Edit, Fix};

    fn diagnostic(
        code: &'static str,
        severity: Severity,
        span: std::ops::Range<usize>,
        fix: Option<Applicability>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            name: "some-rule",
            severity,
            message: format!("message of {code}"),
            span: span.clone(),
            fix: fix.map(|applicability| Fix {
                applicability,
                message: "Do the thing".into(),
                edits: vec![Edit::replace(span, "x")],
            }),
        }
    }

    fn render_plain(source: &str, diagnostics: Vec<Diagnostic>, unsafe_fixes: bool) -> String {
        let file = LintedFile::new("svc/Dockerfile".into(), source.into(), diagnostics);
        render(
            &[file],
            TextOptions {
                color: false,
                fix_mode: FixMode { unsafe_fixes },
                quiet: false,
                incomplete: false,
            },
        )
    }

    #[test]
    fn frames_crlf_bom_and_multiline_spans() {
        let source = "\u{feff}FROM a\r\nRUN yum install \\\r\n    gcc\r\nCMD x\r\n";
        let yum = source.find("yum").unwrap_or(0);
        let gcc = source.find("gcc").unwrap_or(0);
        let from = source.find("FROM").unwrap_or(0);
        let out = render_plain(
            source,
            vec![
                diagnostic("LI302", Severity::Warning, from..from + 6, None),
                diagnostic(
                    "LI101",
                    Severity::Error,
                    yum..yum + 3,
                    Some(Applicability::Safe),
                ),
                diagnostic(
                    "LI201",
                    Severity::Warning,
                    yum..gcc + 3,
                    Some(Applicability::Unsafe),
                ),
                diagnostic("LI115", Severity::Info, source.len()..source.len(), None),
            ],
            false,
        );
        assert!(
            out.contains("warning[LI302]: message of LI302\n --> svc/Dockerfile:1:1\n"),
            "{out}"
        );
        assert!(out.contains("1 | FROM a\n  | ^^^^^^ some-rule"), "{out}");
        assert!(
            out.contains("error[LI101]: message of LI101\n --> svc/Dockerfile:2:5\n"),
            "{out}"
        );
        assert!(out.contains("[*] Do the thing"), "{out}");
        assert!(
            out.contains("Do the thing (unsafe: apply with --unsafe-fixes)"),
            "{out}"
        );
        assert!(!out.contains('\r'), "{out:?}");
        assert!(
            out.ends_with(
                "Found 4 findings (1 fixable with --fix, 1 more with --unsafe-fixes). Checked 1 file.\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn unrecognised_bases_are_noted_once_before_the_summary() {
        let mut a = LintedFile::new("a/Dockerfile".into(), "FROM x\n".into(), Vec::new());
        a.unrecognised_bases = 1;
        let mut b = LintedFile::new("b/Dockerfile".into(), "FROM y\nFROM z\n".into(), Vec::new());
        b.unrecognised_bases = 2;
        let out = render(&[a, b], TextOptions::default());
        assert_eq!(out.matches("does not recognise").count(), 1, "{out}");
        assert!(
            out.starts_with("3 stages have a base lambda-image does not recognise: migration rules are off for them; see \"Unrecognised bases\""),
            "{out}"
        );
        assert!(out.ends_with("\nNo findings. Checked 2 files.\n"), "{out}");
        assert_eq!(
            unrecognised_note(1).unwrap_or_default().get(..60),
            Some("1 stage has a base lambda-image does not recognise: migratio")
        );
        assert_eq!(unrecognised_note(0), None);
    }

    #[test]
    fn summary_lines() {
        let mode = FixMode::default();
        assert_eq!(summary(0, 0, 0, mode), "No findings.");
        assert_eq!(summary(1, 0, 0, mode), "Found 1 finding.");
        assert_eq!(
            summary(3, 2, 0, mode),
            "Found 3 findings (2 fixable with --fix)."
        );
        assert_eq!(
            summary(3, 0, 1, mode),
            "Found 3 findings (1 fixable with --unsafe-fixes)."
        );
        let unsafe_mode = FixMode { unsafe_fixes: true };
        assert_eq!(
            summary(3, 3, 0, unsafe_mode),
            "Found 3 findings (3 fixable with --unsafe-fixes)."
        );
    }
}
