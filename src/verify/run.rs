//! The verify pipeline, shared by `verify`, `build` and push's gate: find the image (an
//! archive, or an engine image exported to a temporary file), read its layers with their
//! digests checked, then [`check`](super::check) it against the plan. Progress goes through
//! the [`Printer`]; nothing else is printed.

use anyhow::Result;

use super::manifest::Manifest;
use super::{check, wanted_paths, Check, Options, Status};
use crate::cancel::Cancel;
use crate::docker::Engine;
use crate::image::{Image, ImageSource};
use crate::progress::Printer;

/// Images smaller than this are read before a bar is worth drawing.
const PROGRESS_MIN_BYTES: u64 = 256 * 1024 * 1024;

/// What to check an image against.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub manifest: Option<Manifest>,
    pub options: Options,
}

/// A read image and the results of its checks.
pub struct Verified {
    pub image: Image,
    pub checks: Vec<Check>,
}

impl Verified {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// Counts of (pass, fail, warn, info, skip).
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// Reads `source` and checks it. `engine` is used for an engine image (one is connected
/// when `None`). The temporary export, if any, is gone when this returns.
pub fn run(
    source: &ImageSource,
    plan: &Plan,
    printer: &Printer,
    engine: Option<&Engine>,
    cancel: &Cancel,
) -> Result<Verified> {
    let arch = plan.options.arch;
    let opened = match source {
        ImageSource::Engine { reference } => {
            let bar = printer.spinner("exporting {msg} {bytes} {bytes_per_sec}");
            bar.set_message(reference.clone());
            let opened = source.open(arch, engine, &|n| bar.inc(n), cancel);
            printer.remove(&bar);
            opened?
        }
        ImageSource::Archive(_) => source.open(arch, engine, &|_| {}, cancel)?,
    };
    cancel.check()?;
    let wanted = wanted_paths(opened.config(), plan.manifest.as_ref());
    let total = opened.blob_bytes();
    let bar = if total >= PROGRESS_MIN_BYTES {
        printer.bar(
            total,
            "{spinner} reading layers {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let image = opened.read(&wanted, &|n| bar.inc(n));
    printer.remove(&bar);
    let image = image?;
    cancel.check()?;
    let checks = check(&image, plan.manifest.as_ref(), &plan.options);
    Ok(Verified { image, checks })
}
