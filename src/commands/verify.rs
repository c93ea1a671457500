//! `lambda-image verify`: an image archive (`--archive`), or an image in the Docker Engine,
//! exported to a temporary file and read exactly like an archive.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{GlobalArgs, VerifyArgs, VerifyFormat};
use crate::commands::ExitStatus;
use crate::docker;
use crate::image::ImageSource;
use crate::report::verify::{render, RenderOptions};
use crate::verify::manifest::{load, parse_size, Manifest};
use crate::verify::{self, Options, SkipSet, Status};

/// Archives smaller than this finish before a bar is worth drawing.
const PROGRESS_MIN_BYTES: u64 = 256 * 1024 * 1024;
/// Temporary files holding an export start with this, so a leftover is easy to recognise.
pub const EXPORT_PREFIX: &str = "lambda-image-export-";

/// Everything the command line asks for besides the image.
struct Plan {
    manifest: Option<Manifest>,
    options: Options,
    format: VerifyFormat,
}

pub fn run(args: VerifyArgs, global: &GlobalArgs) -> Result<ExitStatus> {
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
        format: args.format,
    };
    match (&args.image, &args.archive) {
        (Some(image), _) => {
            // Removed when dropped: after the report, and on every error on the way.
            let spool = export(image, global)?;
            verify_file(spool.path(), Some(image), &plan, global)
        }
        (None, Some(archive)) => verify_file(archive, None, &plan, global),
        (None, None) => {
            bail!("give an image in the Docker Engine, or an image archive with --archive FILE|DIR")
        }
    }
}

/// `docker save IMAGE` into a temporary file in the system's temporary directory.
fn export(image: &str, global: &GlobalArgs) -> Result<tempfile::NamedTempFile> {
    docker::check_reference(image)?;
    let engine = docker::connect()?;
    let dir = std::env::temp_dir();
    let spool = tempfile::Builder::new()
        .prefix(EXPORT_PREFIX)
        .suffix(".tar")
        .tempfile_in(&dir)
        .with_context(|| {
            format!(
                "creating a temporary file in {} for the export of `{image}` (TMPDIR chooses the directory)",
                dir.display()
            )
        })?;
    let bar = if global.progress() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} exporting {msg} {bytes} {bytes_per_sec}")
        {
            bar.set_style(style);
        }
        bar.set_message(image.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let exported = engine.export_image(image, spool.path(), |n| bar.inc(n));
    bar.finish_and_clear();
    exported?;
    Ok(spool)
}

/// Opens, reads, checks and reports one image file. `image_ref` names an image exported
/// from the Docker Engine into `path`: the report and errors show it instead of the file.
fn verify_file(
    path: &Path,
    image_ref: Option<&str>,
    plan: &Plan,
    global: &GlobalArgs,
) -> Result<ExitStatus> {
    let arch = plan.options.arch;
    let mut opened = match image_ref {
        None => ImageSource::Archive(path.to_path_buf()).open(arch)?,
        Some(image) => ImageSource::Archive(path.to_path_buf())
            .open(arch)
            .with_context(|| format!("reading `{image}` as exported by the Docker Engine"))?,
    };
    if let Some(image) = image_ref {
        opened.source = image.into();
    }
    let wanted = verify::wanted_paths(opened.config(), plan.manifest.as_ref());
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

    let checks = verify::check(&image, plan.manifest.as_ref(), &plan.options);
    let text = render(
        plan.format,
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
