//! What stops an image before anything reaches the builder: the lint pre-flight (the
//! project's lint settings; findings at or above the threshold stop the image), what the
//! chosen builder cannot run (BuildKit-only syntax on the classic builder; `# syntax=` and,
//! on engines before 23.0, heredocs on BuildKit), the secrets given that cannot be read
//! and the required ones a Dockerfile mounts that are not given. Returns outcomes and text;
//! prints nothing.

use anyhow::Result;

use super::pipeline::{Outcome, Phase, Status};
use super::{secrets, Job};
use crate::docker::Builder;
use crate::lint::config::Settings;
use crate::report::{self, FixMode, LintedFile};

/// `Some` when `builder` cannot run the job's Dockerfile: every finding, one line.
pub fn refuse(
    job: &Job,
    builder: Builder,
    version: &str,
    fallback: Option<&str>,
) -> Option<Outcome> {
    let found = super::unsupported_in(job.parsed.as_deref(), builder, version);
    if found.is_empty() {
        return None;
    }
    let mut o = Outcome::new(Status::Failed(Phase::Lint));
    o.error = Some(match (builder, fallback) {
        (Builder::Classic, None) => format!(
            "{}: the classic builder cannot run this Dockerfile ({}); build it with --builder buildkit",
            job.dockerfile_display,
            found.join("; ")
        ),
        (Builder::Classic, Some(why)) => format!(
            "{}: the classic builder cannot run this Dockerfile ({}), and BuildKit cannot be used: {why}",
            job.dockerfile_display,
            found.join("; ")
        ),
        (Builder::BuildKit, _) => format!(
            "{}: {}",
            job.dockerfile_display,
            found.join("; ")
        ),
    });
    Some(o)
}

/// Before any build: every secret given can be read, and those the Dockerfile requires are
/// given.
pub fn secrets_given(job: &Job, flags: &[secrets::Secret]) -> Result<()> {
    let mounts = job
        .parsed
        .as_deref()
        .map(secrets::mounts)
        .unwrap_or_default();
    secrets::check(
        &job.dockerfile_display,
        &mounts,
        &secrets::merge(&job.secrets, flags),
    )
}

/// Lints one job's Dockerfile; `Some` when the image must not be built. A Dockerfile's
/// findings are rendered as `lint` renders them, once per Dockerfile, and handed to `show`.
pub fn lint(
    job: &Job,
    settings: &Settings,
    no_lint: bool,
    show: &mut dyn FnMut(&str),
    files: &mut Vec<LintedFile>,
) -> Option<Outcome> {
    if no_lint {
        return None;
    }
    let seen = files
        .iter()
        .any(|f| f.path == job.dockerfile_display && f.source == job.dockerfile);
    // Parsed at plan time with the same options; only a file that does not parse is read
    // again, for its error.
    let diagnostics = match &job.parsed {
        Some(df) => crate::lint::check_parsed(df, settings).diagnostics,
        None => match crate::lint::check_source(&job.dockerfile, settings) {
            Ok(d) => d,
            Err(d) => d,
        },
    };
    let failing = diagnostics
        .iter()
        .filter(|d| settings.fails(d.severity))
        .count();
    let fails = failing > 0;
    let count = diagnostics.len();
    if !seen {
        let file = LintedFile::new(
            job.dockerfile_display.clone(),
            job.dockerfile.clone(),
            diagnostics,
        );
        if count > 0 {
            show(
                report::text::render(
                    std::slice::from_ref(&file),
                    report::text::TextOptions {
                        color: false,
                        fix_mode: FixMode {
                            unsafe_fixes: false,
                        },
                        quiet: true,
                        incomplete: false,
                    },
                )
                .trim_end(),
            );
        }
        files.push(file);
    }
    if fails {
        let mut o = Outcome::new(Status::Failed(Phase::Lint));
        o.error = Some(format!(
            "{}: {failing} lint finding{} at or above the failure threshold; fix them (`lambda-image lint --fix`) or build with --no-lint",
            job.dockerfile_display,
            crate::text::plural(failing, "", "s")
        ));
        return Some(o);
    }
    None
}
