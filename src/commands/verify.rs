//! `lambda-image verify`: an image archive (`--archive`), or an image in the Docker Engine,
//! through the shared pipeline ([`verify::run`]); this file only reads the flags and prints
//! the report.

use anyhow::{Context, Result};

use crate::cancel::Cancel;
use crate::cli::{VerifyArgs, VerifyThreshold};
use crate::commands::ExitStatus;
use crate::image::ImageSource;
use crate::progress::Printer;
use crate::report::verify::{render, RenderOptions};
use crate::verify::manifest::{load, parse_size};
use crate::verify::{self, Options, Plan, SkipSet};

pub fn run(args: VerifyArgs, printer: &Printer) -> Result<ExitStatus> {
    let skip = SkipSet::parse(&args.skip)?;
    let waste_threshold = parse_size(&args.waste_threshold).with_context(|| {
        format!(
            "--waste-threshold {:?} is not a size such as 10MB or 512KiB",
            args.waste_threshold
        )
    })?;
    let manifest = match &args.manifest {
        Some(path) => Some(load(path)?),
        None => None,
    };
    let plan = Plan {
        manifest,
        options: Options {
            arch: args.arch.map(|a| a.oci_name()),
            skip,
            waste_threshold,
        },
    };
    let cancel = Cancel::new();
    let (source, engine) = match (args.image, args.archive) {
        (Some(reference), _) => {
            crate::docker::check_reference(&reference)?;
            let engine = crate::docker::connect()?;
            // Ctrl-C stops the export and removes its temporary file.
            cancel.on_ctrl_c(engine.handle());
            (ImageSource::Engine { reference }, Some(engine))
        }
        (None, Some(archive)) => (ImageSource::Archive(archive), None),
        (None, None) => {
            anyhow::bail!(
                "give an image in the Docker Engine, or an image archive with --archive FILE|DIR"
            )
        }
    };
    let verified = verify::run(&source, &plan, printer, engine.as_ref(), &cancel)?;
    let text = render(
        args.format,
        &verified.image,
        &verified.checks,
        &RenderOptions {
            color: printer.color(),
            quiet: printer.quiet(),
        },
    )?;
    printer.stdout(&text).context("writing the report")?;
    let warned = args.failure_threshold == VerifyThreshold::Warning
        && verified.count(crate::verify::Status::Warn) > 0;
    Ok(if verified.failed() || warned {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
