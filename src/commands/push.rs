//! `lambda-image push`: targets and flags → [`push::run`] (or [`push::archive::run`]) →
//! [`push::report`]. What is pushed where, and how, lives in [`crate::push`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};

use crate::building::{self as build, PlanArgs};
use crate::cancel::Cancel;
use crate::cli::PushArgs;
use crate::commands::ExitStatus;
use crate::progress::Printer;
use crate::push::{self, targets, Local, Pushed, Target};

use crate::push::DEFAULT_TIMEOUT;

pub fn run(args: PushArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = crate::config::resolve(args.config.as_deref(), args.no_config)?;
    let options = push::Options {
        verify: !args.no_verify,
        keep_going: args.keep_going,
        timeout: Duration::from_secs(
            args.timeout
                .or(config.push.timeout)
                .unwrap_or(DEFAULT_TIMEOUT),
        ),
        insecure_registries: args.insecure_registry.clone(),
    };
    let to = args.to.clone().or(config.push.to.clone());
    let manifest = match &args.manifest {
        Some(p) => Some(crate::verify::manifest::load(p)?),
        None => None,
    };
    let manifest_bytes = match &args.manifest {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };

    if let Some(archive) = &args.archive {
        return push_archive(&args, archive, to.as_deref(), manifest, &options, printer);
    }

    // Specs or image references.
    let (spec_paths, refs): (Vec<String>, Vec<String>) = if args.all {
        let specs = crate::image_spec::discover(Path::new("images"))?;
        (
            specs.iter().map(|p| p.display().to_string()).collect(),
            Vec::new(),
        )
    } else if args.targets.is_empty() {
        bail!("give image specs (images/<name>), --all, or images in the Docker Engine (name:tag)");
    } else {
        args.targets
            .iter()
            .cloned()
            .partition(|t| crate::image_spec::is_spec(t))
    };
    let mut targets = spec_targets(&args, &spec_paths, to.as_deref())?;
    let specs = targets.len();
    let engine = crate::docker::connect()?;
    let given = targets::Given {
        to: to.as_deref(),
        arch: args.arch.first().copied(),
        manifest: manifest.as_ref(),
        manifest_bytes: manifest_bytes.as_deref(),
    };
    let mut images = Vec::new();
    for r in &refs {
        let (target, info) = targets::image_target(&engine, r, &given)?;
        targets.push(target);
        images.push(Local::Inspected(info));
    }
    if args.no_verify {
        printer.warn("--no-verify: the images are pushed without being verified");
    }
    let cancel = Cancel::new();
    cancel.on_signals(engine.handle());
    // The specs' images, as the engine has them (a missing one is the error `verify` gives).
    let mut locals = Vec::with_capacity(targets.len());
    for t in targets.iter().take(specs) {
        locals.push(Local::inspect(&engine, &t.local)?);
    }
    locals.extend(images);
    let session = push::Session {
        engine: &engine,
        printer,
        cancel: &cancel,
        options: &options,
    };
    let results = push::run(&targets, &locals, &session)?;
    report(&targets, &results, &args, printer)
}

/// The targets of the specs at `paths` (narrowed by `--arch` and `--shard`): from the specs
/// and their tags alone, since the images are in the engine already and what they were
/// built from (a build output) need not be there any more.
fn spec_targets(args: &PushArgs, paths: &[String], to: Option<&str>) -> Result<Vec<Target>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let (images, _) = build::spec_images(
        &paths,
        &PlanArgs {
            tags: Vec::new(),
            arches: args.arch.clone(),
            vcs: false,
            all: args.all,
            dockerfile: Default::default(),
        },
    )?;
    let shard = args
        .shard
        .as_deref()
        .map(build::shard::Shard::parse)
        .transpose()?;
    images
        .iter()
        .filter(|image| {
            shard
                .as_ref()
                .is_none_or(|s| s.takes(&image.name, image.arch.lambda_name()))
        })
        .map(|image| push::spec_target(image, to))
        .collect()
}

/// `push --archive FILE --to REGISTRY/REPO[:TAG]`: the archive verified and its own bytes
/// pushed through the registry client ([`push::archive`]); no engine.
fn push_archive(
    args: &PushArgs,
    archive: &Path,
    to: Option<&str>,
    manifest: Option<crate::verify::manifest::VerifyManifest>,
    options: &push::Options,
    printer: &Printer,
) -> Result<ExitStatus> {
    let title = archive.display().to_string();
    let to = to.ok_or_else(|| {
        anyhow!("push --archive {title}: say where with --to REGISTRY/REPO[:TAG] (or push.to in .lambda-image.yaml)")
    })?;
    let cancel = Cancel::new();
    // Signals need a runtime to be heard on; the registry client has its own for requests.
    let signals = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the signal handler")?;
    cancel.on_signals(signals.handle());
    // The archive's own architecture names `{arch}` unless --arch says; a bad archive is
    // one line here, before anything else.
    let opened = crate::image::ImageSource::Archive(archive.to_path_buf()).open(
        args.arch.first().map(|a| a.oci_name()),
        None,
        &|_| {},
        &cancel,
        false,
    )?;
    let archive_arch = opened.config().architecture.clone();
    drop(opened);
    let target = targets::archive_target(
        title,
        to,
        args.arch.first().copied(),
        &archive_arch,
        manifest,
    )?;
    if args.no_verify {
        printer.warn("--no-verify: the images are pushed without being verified");
    }
    let options = push::Options {
        keep_going: false,
        ..options.clone()
    };
    let result = push::archive::run(&target, archive, &options, printer, &cancel)?;
    report(
        std::slice::from_ref(&target),
        std::slice::from_ref(&result),
        args,
        printer,
    )
}

/// The report on stdout and in `--digest-file`; the exit status.
fn report(
    targets: &[Target],
    results: &[Pushed],
    args: &PushArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let ok = push::report::emit(
        targets,
        results,
        args.format,
        args.digest_file.as_deref(),
        printer,
        true,
    )?;
    Ok(if ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
