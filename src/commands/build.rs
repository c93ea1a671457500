//! `lambda-image build`: flags and config → plan → lint pre-flight → [`build::run`] →
//! (`--push`: [`crate::push`]) → report. The pipeline itself lives in [`crate::building`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::building::{self as build, pipeline, preflight, Job, Outcome, Status};
use crate::cancel::Cancel;
use crate::cli::{BuildArgs, BuildFormat, BuilderChoice};
use crate::commands::ExitStatus;
use crate::config::Config;
use crate::docker::{Builder, Engine};
use crate::lint::Severity;
use crate::progress::Printer;
use crate::report::{self, LintedFile};

/// Images built at once when neither `-j` nor the config says: builds wait on the engine
/// (about 1 s per instruction on the storage driver) far more than on the CPU.
pub const DEFAULT_JOBS: usize = 8;

pub fn run(args: BuildArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = crate::config::resolve(args.inputs.config.as_deref(), args.inputs.no_config)?;
    if let Some(path) = &config.path {
        printer.detail(format!("lambda-image: using {}", path.display()));
    }
    let jobs_n = args.jobs.or(config.build.jobs).unwrap_or(DEFAULT_JOBS);
    if jobs_n == 0 {
        bail!("-j/--jobs must be at least 1");
    }
    let ssh = args
        .ssh
        .iter()
        .map(|v| build::secrets::parse_ssh(v))
        .collect::<Result<BTreeMap<_, _>>>()?;
    for r in &args.cache_from {
        crate::docker::check_reference(r)
            .and_then(|()| Ok(r.parse::<crate::reference::Reference>().map(|_| ())?))
            .map_err(|e| anyhow::anyhow!("--cache-from {r}: {e:#}"))?;
    }
    // The plan: every spec loaded, rendered and its manifest read before anything is sent.
    let build::inputs::Planned {
        mut jobs,
        options,
        choice,
        settings,
    } = build::inputs::plan(&args.inputs, &config, printer)?;
    let mut options = options_of(&args, &config, jobs_n, choice, ssh, options)?;
    // With --push (or --reuse pull), the destinations first: their repositories remember
    // what was built.
    let targets = if args.push || options.reuse_pull {
        let to = args.to.clone().or(config.push.to.clone());
        Some(crate::push::targets::for_build(&mut jobs, to.as_deref())?)
    } else {
        None
    };
    if args.iidfile.is_some() && jobs.len() != 1 {
        bail!(
            "--iidfile names one image, but this build makes {} (narrow it with --arch or one spec)",
            jobs.len()
        );
    }
    let report_path = args.report.clone().or(config.build.report.clone());
    if !options.verify {
        printer.warn("--no-verify: the images will not be verified before they are tagged");
    }
    if !options.smoke && jobs.iter().any(|j| !j.smoke.is_empty()) {
        printer.warn(
            "--no-smoke: the specs' smoke tests will not be run before the images are tagged",
        );
    }

    // Lint pre-flight (with --builder classic, its refusal of BuildKit-only syntax first:
    // no engine is needed to say it).
    let mut lint_files: Vec<LintedFile> = Vec::new();
    let pre: Vec<Option<Outcome>> = jobs
        .iter()
        .map(|job| {
            let refused = (choice == BuilderChoice::Classic)
                .then(|| preflight::refuse(job, Builder::Classic, "", None))
                .flatten();
            refused.or_else(|| {
                preflight::lint(
                    job,
                    &settings,
                    args.no_lint,
                    &mut |text| printer.line(text),
                    &mut lint_files,
                )
            })
        })
        .collect();

    // Build what passed.
    let cancel = Cancel::new();
    let (mut outcomes, engine) = if pre.iter().all(Option::is_some) {
        (pre.into_iter().flatten().collect(), None)
    } else {
        let engine = crate::docker::connect()?;
        let outcomes = build_all(&jobs, pre, &mut options, choice, &engine, printer, &cancel)?;
        (outcomes, Some(engine))
    };
    let mut push_status = ExitStatus::Success;
    if let (Some(targets), true) = (targets, args.push) {
        let built = crate::push::built::Built {
            engine: engine.as_ref(),
            cancel: &cancel,
            options: &options,
            keep_going: args.keep_going,
            insecure_registries: &args.insecure_registry,
            to_stdout: args.format == BuildFormat::Text,
        };
        if !crate::push::built::push(targets, &mut outcomes, &built, printer)? {
            push_status = ExitStatus::Failure;
        }
    }
    for (job, o) in jobs.iter().zip(outcomes.iter_mut()) {
        if let Some(file) = lint_files.iter().find(|f| f.path == job.dockerfile_display) {
            let n = |s: Severity| file.diagnostics.iter().filter(|d| d.severity == s).count();
            o.lint = (n(Severity::Error), n(Severity::Warning), n(Severity::Info));
        }
    }
    let outputs = report::build::Outputs {
        format: args.format,
        report: report_path.as_deref(),
        iidfile: args.iidfile.as_deref(),
        verify: options.verify,
    };
    report::build::write(&outputs, &jobs, &outcomes, &lint_files, printer)?;

    Ok(outcomes
        .iter()
        .map(|o| match o.status {
            Status::Built | Status::Unchanged => ExitStatus::Success,
            Status::Interrupted => ExitStatus::Interrupted(cancel.interrupted().0),
            Status::Failed(_) if o.error_kind.is_some() => ExitStatus::Error,
            Status::Failed(_) | Status::Skipped => ExitStatus::Failure,
        })
        .chain([push_status])
        .max()
        .unwrap_or(ExitStatus::Success))
}

/// The pipeline's options from the flags and the config (the plan filled in the inputs');
/// BuildKit-only flags are refused with `--builder classic`.
fn options_of(
    args: &BuildArgs,
    config: &Config,
    jobs: usize,
    choice: BuilderChoice,
    ssh: BTreeMap<String, PathBuf>,
    options: pipeline::Options,
) -> Result<pipeline::Options> {
    if choice == BuilderChoice::Classic {
        let buildkit_only = [
            (!options.secrets.is_empty(), "--secret"),
            (!ssh.is_empty(), "--ssh"),
            (!args.cache_from.is_empty(), "--cache-from"),
            (options.inline_cache, "--cache-to"),
        ];
        if let Some((_, flag)) = buildkit_only.iter().find(|(given, _)| *given) {
            bail!("{flag} needs BuildKit, and --builder classic (or build.builder: classic) asks for the classic builder");
        }
    }
    Ok(pipeline::Options {
        cache_from: args.cache_from.clone(),
        ssh,
        pull: args.pull || config.build.pull.unwrap_or(false),
        no_cache: args.no_cache,
        jobs,
        keep_going: args.keep_going || config.build.keep_going.unwrap_or(false),
        force: args.force,
        reach: build::remember::Reach {
            insecure: args.insecure_registry.clone(),
            timeout: std::time::Duration::from_secs(
                args.push_timeout
                    .or(config.push.timeout)
                    .unwrap_or(crate::push::DEFAULT_TIMEOUT),
            ),
        },
        reuse_pull: args.reuse == Some(crate::cli::Reuse::Pull),
        ..options
    })
}

/// The builder resolved on `engine`, its refusals and the secrets checked, then every job
/// the pre-flight passed built (Ctrl-C heard from here on).
fn build_all(
    jobs: &[Job],
    mut pre: Vec<Option<Outcome>>,
    options: &mut pipeline::Options,
    choice: BuilderChoice,
    engine: &Engine,
    printer: &Printer,
    cancel: &Cancel,
) -> Result<Vec<Outcome>> {
    let (builder, version, fallback) = build::inputs::resolve_builder(choice, engine)?;
    if fallback.is_some()
        && (!options.secrets.is_empty()
            || !options.ssh.is_empty()
            || !options.cache_from.is_empty()
            || options.inline_cache)
    {
        bail!(
            "--secret, --ssh, --cache-from and --cache-to need BuildKit: {}",
            fallback.unwrap_or_default()
        );
    }
    options.builder = builder;
    for (job, slot) in jobs.iter().zip(pre.iter_mut()) {
        if slot.is_none() {
            *slot = preflight::refuse(job, builder, &version, fallback.as_deref());
        }
        if slot.is_none() && builder == Builder::BuildKit {
            preflight::secrets_given(job, &options.secrets)?;
        }
    }
    cancel.on_signals(engine.handle());
    printer.status(format!(
        "building {} image{} ({} at a time) with {} on the Docker Engine {version} at {}",
        jobs.len(),
        crate::text::plural(jobs.len(), "", "s"),
        options.jobs.min(jobs.len()),
        match (builder, &fallback) {
            (Builder::BuildKit, _) => "BuildKit".to_string(),
            (Builder::Classic, None) => "the classic builder".to_string(),
            (Builder::Classic, Some(why)) => format!("the classic builder ({why})"),
        },
        engine.host()
    ));
    let mut outcomes = build::run(jobs, pre, options, engine, printer, cancel);
    if cancel.is_cancelled() {
        for o in &mut outcomes {
            if o.status == Status::Skipped {
                o.status = Status::Interrupted;
            }
        }
    }
    Ok(outcomes)
}
