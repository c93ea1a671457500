//! `lambda-image verify`.

use std::io::Write;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::commands::ExitStatus;
use crate::image::ImageSource;
use crate::report::verify::{render, RenderOptions};
use crate::verify::manifest::{load, parse_size};
use crate::verify::{self, Options, SkipSet, Status};

/// Archives smaller than this finish before a bar is worth drawing.
const PROGRESS_MIN_BYTES: u64 = 256 * 1024 * 1024;

pub fn run(args: VerifyArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    if let Some(image) = &args.image {
        bail!(
            "verifying an image from the Docker Engine (`lambda-image verify {image}`) is not implemented yet; \
             run `docker save {image} -o image.tar`, then `lambda-image verify --archive image.tar`"
        );
    }
    let Some(archive) = args.archive.clone() else {
        bail!("give an image archive with --archive FILE|DIR");
    };
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
    let arch = args.arch.map(|a| a.oci_name());

    let opened = ImageSource::Archive(archive).open(arch)?;
    let wanted = verify::wanted_paths(opened.config(), manifest.as_ref());
    let total = opened.blob_bytes();
    let bar = if global.progress() && total >= PROGRESS_MIN_BYTES {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} reading layers {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let image = opened.read(&wanted, &|n| bar.inc(n))?;
    bar.finish_and_clear();

    let options = Options {
        arch,
        skip,
        waste_threshold,
    };
    let checks = verify::check(&image, manifest.as_ref(), &options);
    let text = render(
        args.format,
        &image,
        &checks,
        &RenderOptions {
            color: global.color_stdout(),
            quiet: global.quiet,
        },
    )?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("writing the report")?;
    stdout.flush().context("writing the report")?;
    Ok(if checks.iter().any(|c| c.status == Status::Fail) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
