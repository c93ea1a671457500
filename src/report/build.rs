//! Where a build's report goes: stdout in the chosen format (GitHub's adds annotations for
//! the lint findings and the images), the JSON `--report` file, GitHub's step summary
//! (`GITHUB_STEP_SUMMARY`, appended to) and `--iidfile`. The report's text itself is
//! [`crate::building::report`]'s.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::LintedFile;
use crate::building::{report, Job, Outcome};
use crate::cli::BuildFormat;
use crate::progress::Printer;

/// What the command line asks for.
pub struct Outputs<'a> {
    pub format: BuildFormat,
    /// `--report` (or the config's `build.report`): the JSON report's file.
    pub report: Option<&'a Path>,
    pub iidfile: Option<&'a Path>,
    /// Whether the images were verified (the report says so when not).
    pub verify: bool,
}

/// Writes the report of `jobs` and their `outcomes` wherever `outputs` says.
pub fn write(
    outputs: &Outputs,
    jobs: &[Job],
    outcomes: &[Outcome],
    lint_files: &[LintedFile],
    printer: &Printer,
) -> Result<()> {
    let verify = outputs.verify;
    let json = || -> Result<String> {
        let mut t = serde_json::to_string_pretty(&report::json(jobs, outcomes, verify))
            .context("writing the report")?;
        t.push('\n');
        Ok(t)
    };
    let text = match outputs.format {
        BuildFormat::Text => report::text(jobs, outcomes, verify),
        BuildFormat::Json => json()?,
        BuildFormat::Github => {
            let mut t = super::github::render(lint_files);
            t.push_str(&report::github(jobs, outcomes));
            t.push_str(&report::text(jobs, outcomes, verify));
            t
        }
    };
    printer.stdout(&text).context("writing the report")?;
    if let Some(path) = outputs.report {
        crate::fs::write_atomic(path, &json()?)
            .with_context(|| format!("writing the build report {}", path.display()))?;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .with_context(|| {
                format!(
                    "opening GITHUB_STEP_SUMMARY {}",
                    PathBuf::from(&summary).display()
                )
            })?;
        file.write_all(report::markdown(jobs, outcomes, verify).as_bytes())
            .context("writing GITHUB_STEP_SUMMARY")?;
    }
    if let (Some(path), Some(o)) = (outputs.iidfile, outcomes.first()) {
        if let (true, Some(id)) = (o.status.ok(), &o.image_id) {
            crate::fs::write_atomic(path, id)
                .with_context(|| format!("writing --iidfile {}", path.display()))?;
        }
    }
    Ok(())
}
