//! `lambda-image verify`: an image archive (`--archive`), or an image in the Docker Engine
//! (given, or the tag `--spec`'s image gets), through the shared pipeline ([`verify::run`]);
//! this file only reads the flags and prints the report.

use anyhow::{Context, Result};

use crate::cancel::Cancel;
use crate::cli::{VerifyArgs, VerifyLambda, VerifyThreshold};
use crate::commands::ExitStatus;
use crate::image::ImageSource;
use crate::progress::Printer;
use crate::report::verify::{render, RenderOptions};
use crate::verify::manifest::{load, parse_size};
use crate::verify::{self, LambdaMode, Options, Plan, SkipSet};

pub fn run(args: VerifyArgs, printer: &Printer) -> Result<ExitStatus> {
    let skip = SkipSet::parse(&args.skip)?;
    let waste_threshold = parse_size(&args.waste_threshold).with_context(|| {
        format!(
            "--waste-threshold {:?} is not a size such as 10MB or 512KiB",
            args.waste_threshold
        )
    })?;
    // --spec: the spec's manifest and architecture, and its tag when no image is given.
    let spec = match &args.spec {
        Some(path) => Some(crate::building::spec_verify(path, args.arch)?),
        None => None,
    };
    let manifest = match (&args.manifest, &spec) {
        (Some(path), _) => Some(load(path)?),
        (None, Some(spec)) => spec.manifest.clone(),
        (None, None) => None,
    };
    let arch = spec.as_ref().map(|s| s.arch).or(args.arch);
    let plan = Plan {
        manifest,
        options: Options {
            arch: arch.map(|a| a.oci_name()),
            skip,
            waste_threshold,
            lambda: match args.lambda {
                VerifyLambda::Auto => LambdaMode::Auto,
                VerifyLambda::Always => LambdaMode::Always,
                VerifyLambda::Never => LambdaMode::Never,
            },
            commands_run_apart: false,
            gzip_on_push: false,
        },
    };
    if let Some(path) = args
        .manifest
        .as_ref()
        .or(spec.as_ref().and_then(|s| s.manifest_path.as_ref()))
    {
        printer.detail(format!("lambda-image: manifest {}", path.display()));
    }
    let image = match (args.image, &args.archive, spec) {
        (Some(image), _, _) => Some(image),
        (None, None, Some(spec)) => {
            printer.detail(format!(
                "lambda-image: image {} (the spec's tag for {})",
                spec.tag,
                spec.arch.lambda_name()
            ));
            Some(spec.tag.to_string())
        }
        (None, _, _) => None,
    };
    let cancel = Cancel::new();
    let (source, engine) = match (image, args.archive) {
        (Some(reference), _) => {
            crate::docker::check_reference(&reference)?;
            let engine = crate::docker::connect()?;
            // Ctrl-C (or SIGTERM, SIGHUP) stops the export and removes its temporary file.
            cancel.on_signals(engine.handle());
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
