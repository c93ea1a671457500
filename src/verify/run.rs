//! The verify pipeline, shared by `verify`, `build` and push's gate: find the image (an
//! archive, or an engine image exported to a temporary file), read its layers with their
//! digests checked, then [`check`](super::check) it against the plan. Progress goes through
//! the [`Printer`]; nothing else is printed.

use anyhow::Result;

use super::manifest::VerifyManifest;
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
    pub manifest: Option<VerifyManifest>,
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
    let started = std::time::Instant::now();
    let opened = match source {
        ImageSource::Engine { reference } => {
            let bar = printer.spinner("exporting {msg} {bytes} {bytes_per_sec}");
            bar.set_message(reference.clone());
            // Without contents to read, in one pass as it is exported; else spooled first.
            let one_pass = !super::wants_contents(plan.manifest.as_ref());
            printer.detail(format!(
                "lambda-image: exporting {reference} through the Engine API, {}",
                if one_pass {
                    "reading it as it arrives"
                } else {
                    "to a temporary file (the manifest reads file contents)"
                }
            ));
            let opened = source.open(arch, engine, &|n| bar.inc(n), cancel, one_pass);
            let exported = bar.position();
            printer.remove(&bar);
            let opened = opened?;
            printer.detail(format!(
                "lambda-image: exported {reference} through the Engine API: {} in {:.2} s",
                super::human_bytes(exported),
                started.elapsed().as_secs_f64()
            ));
            opened
        }
        ImageSource::Archive(_) => source.open(arch, engine, &|_| {}, cancel, false)?,
    };
    cancel.check()?;
    let read_started = std::time::Instant::now();
    let wanted = wanted_paths(opened.config(), plan.manifest.as_ref());
    let total = opened.blob_bytes();
    let unread = opened.unread_bytes();
    let bar = if unread >= PROGRESS_MIN_BYTES {
        printer.bar(
            unread,
            "{spinner} reading layers {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let image = opened.read(&wanted, &|n| bar.inc(n));
    printer.remove(&bar);
    let image = image?;
    printer.detail(format!(
        "lambda-image: read {} layer{} ({} of blobs, {} files) with every digest in {:.2} s",
        image.layers.len(),
        crate::text::plural(image.layers.len(), "", "s"),
        super::human_bytes(total),
        image.index.len(),
        read_started.elapsed().as_secs_f64()
    ));
    cancel.check()?;
    // commandTests need a container: an engine image runs them; an archive cannot.
    let commands = match (source, plan.manifest.as_ref()) {
        (ImageSource::Engine { reference }, Some(VerifyManifest::Cst(c)))
            if !c.command_tests.is_empty() && !plan.options.skip.contains("commandTests") =>
        {
            Some((reference, c))
        }
        _ => None,
    };
    let mut options = plan.options.clone();
    options.commands_run_apart = commands.is_some();
    let mut checks = check(&image, plan.manifest.as_ref(), &options);
    if let Some((reference, config)) = commands {
        let connected;
        let engine = match engine {
            Some(e) => e,
            None => {
                connected = crate::docker::connect()?;
                &connected
            }
        };
        let bar = printer.spinner("running {msg}");
        bar.set_message(format!(
            "{} commandTest{} in containers of {reference}",
            config.command_tests.len(),
            crate::text::plural(config.command_tests.len(), "", "s")
        ));
        let env = super::expansion_env(&image.config, plan.manifest.as_ref());
        let ran = super::command_tests::run(engine, reference, config, &env, cancel);
        printer.remove(&bar);
        checks.extend(ran?);
    }
    Ok(Verified { image, checks })
}
