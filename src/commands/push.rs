//! `lambda-image push`: targets and flags → [`push::run`] → `REPO@sha256:…` lines (or JSON).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::json;

use crate::arch::Arch;
use crate::building::{self as build, PlanArgs, SpecImage};
use crate::cancel::Cancel;
use crate::cli::{PushArgs, PushFormat};
use crate::commands::ExitStatus;
use crate::progress::Printer;
use crate::push::{self, Pushed, Target};
use crate::reference::Reference;

/// Seconds to wait for a registry when neither the flag nor the config says.
pub const DEFAULT_TIMEOUT: u64 = 30;

pub fn run(args: PushArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = crate::config::resolve(args.config.as_deref(), args.no_config)?;
    let timeout = Duration::from_secs(
        args.timeout
            .or(config.push.timeout)
            .unwrap_or(DEFAULT_TIMEOUT),
    );
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
        return push_archive(&args, archive, to.as_deref(), manifest, timeout, printer);
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
    let mut targets = Vec::new();
    if !spec_paths.is_empty() {
        // From the specs and their tags alone: the images are in the engine already, and
        // what they were built from (a build output) need not be there any more.
        let paths: Vec<PathBuf> = spec_paths.iter().map(PathBuf::from).collect();
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
        for image in &images {
            if shard
                .as_ref()
                .is_none_or(|s| s.takes(&image.name, image.arch.lambda_name()))
            {
                targets.push(spec_target(image, to.as_deref())?);
            }
        }
    }
    let engine = crate::docker::connect()?;
    for r in &refs {
        crate::docker::check_reference(r)?;
        let info = engine
            .inspect_image(r)?
            .ok_or_else(|| crate::docker::not_in_engine(r))?;
        let to = to.as_deref().ok_or_else(|| {
            anyhow!("push {r}: say where with --to REGISTRY[/REPO[:TAG]] (or push.to in .lambda-image.yaml)")
        })?;
        let arch = match args.arch.first() {
            Some(a) => *a,
            None => match info.architecture.as_str() {
                "arm64" => Arch::Arm64,
                _ => Arch::X86_64,
            },
        };
        let local: Option<Reference> = r.parse().ok().filter(|_| !r.starts_with("sha256:"));
        targets.push(Target {
            title: r.clone(),
            local: r.clone(),
            dest: push::destination(to, local.as_ref(), arch, false)?,
            arch: args.arch.first().copied(),
            manifest: manifest.clone(),
            verified: false,
            plan_key: crate::verify::ledger::plan_key(
                manifest_bytes.as_deref(),
                args.arch.first().copied(),
            ),
            smoke: Vec::new(),
            name: crate::invoke::input::function_name(r),
        });
    }
    if args.no_verify {
        printer.warn("--no-verify: the images are pushed without being verified");
    }
    let cancel = Cancel::new();
    cancel.on_signals(engine.handle());
    let options = push::Options {
        verify: !args.no_verify,
        keep_going: args.keep_going,
        timeout,
        insecure_registries: args.insecure_registry.clone(),
    };
    let results = push::run(&targets, &options, &engine, printer, &cancel)?;
    report(
        &targets,
        &results,
        args.format,
        args.digest_file.as_deref(),
        printer,
        true,
    )
}

/// `push --archive FILE --to REGISTRY/REPO[:TAG]`: the archive verified and its own bytes
/// pushed through the registry client ([`push::archive`]); no engine.
fn push_archive(
    args: &PushArgs,
    archive: &Path,
    to: Option<&str>,
    manifest: Option<crate::verify::manifest::VerifyManifest>,
    timeout: Duration,
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
    )?;
    let arch = match args.arch.first() {
        Some(a) => *a,
        None => match opened.config().architecture.as_str() {
            "arm64" => Arch::Arm64,
            _ => Arch::X86_64,
        },
    };
    drop(opened);
    let dest = push::destination(to, None, arch, false).map_err(|e| {
        if to.contains('/') {
            e
        } else {
            anyhow!("--to {to} names a registry only; give the repository too ({to}/REPO[:TAG]) for --archive")
        }
    })?;
    let target = Target {
        title: title.clone(),
        local: title,
        dest,
        arch: args.arch.first().copied(),
        manifest,
        verified: false,
        plan_key: String::new(),
        smoke: Vec::new(),
        name: "archive".into(),
    };
    if args.no_verify {
        printer.warn("--no-verify: the images are pushed without being verified");
    }
    let options = push::Options {
        verify: !args.no_verify,
        keep_going: false,
        timeout,
        insecure_registries: args.insecure_registry.clone(),
    };
    let result = push::archive::run(&target, archive, &options, printer, &cancel)?;
    report(
        std::slice::from_ref(&target),
        std::slice::from_ref(&result),
        args.format,
        args.digest_file.as_deref(),
        printer,
        true,
    )
}

/// Where `build --push` sends each job's image, worked out before anything is built (a
/// missing destination is an error now, not after the builds). A job without tags is
/// pushed by its image id, filled in once built.
pub fn build_targets(jobs: &[crate::building::Job], to: Option<&str>) -> Result<Vec<Target>> {
    jobs.iter()
        .map(|job| {
            if job.tags.is_empty() {
                let to = to.ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: say where to push with --to REGISTRY/REPO[:TAG]",
                        job.title()
                    )
                })?;
                Ok(Target {
                    title: job.title(),
                    local: String::new(),
                    dest: crate::push::destination(to, None, job.arch, jobs.len() > 1)?,
                    arch: Some(job.arch),
                    manifest: None,
                    verified: false,
                    plan_key: String::new(),
                    smoke: Vec::new(),
                    name: job.name.clone(),
                })
            } else {
                let several = jobs.iter().filter(|j| j.name == job.name).count() > 1;
                spec_target(&job.spec_image(several), to)
            }
        })
        .collect()
}

/// The push target of a spec's image: the local image is its first tag.
pub fn spec_target(image: &SpecImage, to: Option<&str>) -> Result<Target> {
    let title = format!("{}/{}", image.name, image.arch.lambda_name());
    let local = image
        .tags
        .first()
        .ok_or_else(|| anyhow!("{title}: no tag to push from"))?;
    let dest_text = to.map(String::from).or_else(|| image.push_to.clone()).ok_or_else(|| {
        anyhow!(
            "{title}: say where to push with --to REGISTRY[/REPO[:TAG]], the spec's `push: {{repository: …}}`, or push.to in .lambda-image.yaml"
        )
    })?;
    Ok(Target {
        title,
        local: local.to_string(),
        dest: push::destination(&dest_text, Some(local), image.arch, image.several)?,
        arch: Some(image.arch),
        manifest: image.manifest.as_ref().map(|(_, m, _)| m.clone()),
        verified: false,
        plan_key: crate::verify::ledger::plan_key(
            image.manifest.as_ref().map(|(_, _, b)| b.as_slice()),
            Some(image.arch),
        ),
        smoke: image.smoke.clone(),
        name: image.name.clone(),
    })
}

/// Prints `REPO@sha256:…` per pushed image (stdout), problems on stderr, writes
/// `--digest-file`; the exit status.
pub fn report(
    targets: &[Target],
    results: &[Pushed],
    format: PushFormat,
    digest_file: Option<&Path>,
    printer: &Printer,
    to_stdout: bool,
) -> Result<ExitStatus> {
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
    let pinned: Vec<String> = targets
        .iter()
        .zip(results)
        .filter_map(|(t, r)| r.pinned(t))
        .collect();
    let json = || {
        json!(targets
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
            .collect::<Vec<_>>())
    };
    let text = match format {
        PushFormat::Text => pinned.iter().map(|p| format!("{p}\n")).collect::<String>(),
        PushFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&json()).context("writing the report")?
        ),
    };
    if to_stdout {
        printer.stdout(&text).context("writing the report")?;
    }
    if let Some(path) = digest_file {
        let content = match format {
            PushFormat::Text => pinned.iter().map(|p| format!("{p}\n")).collect::<String>(),
            PushFormat::Json => format!(
                "{}\n",
                serde_json::to_string_pretty(&json()).context("writing the digest file")?
            ),
        };
        crate::fs::write_atomic(path, &content)
            .with_context(|| format!("writing --digest-file {}", path.display()))?;
    }
    Ok(if results.iter().all(|r| r.status.ok()) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
