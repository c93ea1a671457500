//! What a push run tells: each image's problem on stderr (through the [`Printer`]),
//! `REPO@sha256:…` per pushed image on stdout (or one JSON object per image with
//! `--format json`), and the same into `--digest-file`.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::json;

use super::{Pushed, Target};
use crate::cli::PushFormat;
use crate::progress::Printer;

/// The report's text: `REPO@sha256:…` lines, or the JSON array.
fn render(targets: &[Target], results: &[Pushed], format: PushFormat) -> Result<String> {
    Ok(match format {
        PushFormat::Text => targets
            .iter()
            .zip(results)
            .filter_map(|(t, r)| r.pinned(t))
            .map(|p| format!("{p}\n"))
            .collect(),
        PushFormat::Json => {
            let images: Vec<serde_json::Value> = targets
                .iter()
                .zip(results)
                .map(|(t, r)| json!({
                    "image": t.title,
                    "local": t.local,
                    "image_id": r.image_id,
                    "destination": t.dest.to_string(),
                    "status": r.status.as_str(),
                    "registry_digest": r.digest,
                    "pinned": r.pinned(t),
                    "media_type": r.media_type,
                    "platforms": r.platforms,
                    "verified": r.verified,
                    "verify": r.verify.as_ref().map(|v| json!({"pass": v.pass, "fail": v.fail, "warn": v.warn})),
                    "error": r.error,
                    "verify_seconds": r.verify_time.map(|d| d.as_secs_f64()),
                    "push_seconds": r.push_time.map(|d| d.as_secs_f64()),
                }))
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&images).context("writing the report")?
            )
        }
    })
}

/// Prints each image's problem (stderr) and, with `to_stdout`, the report; writes
/// `--digest-file`. `Ok(true)`: every image is in the registry.
pub fn emit(
    targets: &[Target],
    results: &[Pushed],
    format: PushFormat,
    digest_file: Option<&Path>,
    printer: &Printer,
    to_stdout: bool,
) -> Result<bool> {
    for (t, r) in targets.iter().zip(results) {
        if let Some(e) = &r.error {
            printer.line(&format!("{}: {}: {e}", t.title, r.status.as_str()));
        }
        if !r.verified && r.status.ok() {
            printer.line(&format!(
                "{}: pushed without verification (--no-verify)",
                t.title
            ));
        }
    }
    let text = render(targets, results, format)?;
    if to_stdout {
        printer.stdout(&text).context("writing the report")?;
    }
    if let Some(path) = digest_file {
        crate::fs::write_atomic(path, &text)
            .with_context(|| format!("writing --digest-file {}", path.display()))?;
    }
    Ok(results.iter().all(|r| r.status.ok()))
}
