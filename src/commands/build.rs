//! `lambda-image build`: flags and config → plan → lint pre-flight → [`build::run`] →
//! report. The pipeline itself lives in [`crate::building`].

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};

use crate::building::{self as build, pipeline, preflight, Outcome, Status};
use crate::cancel::Cancel;
use crate::cli::{BuildArgs, BuildFormat, BuilderChoice};
use crate::commands::ExitStatus;
use crate::docker::Builder;
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
        .collect::<Result<std::collections::BTreeMap<_, _>>>()?;
    for r in &args.cache_from {
        crate::docker::check_reference(r)
            .and_then(|()| Ok(r.parse::<crate::reference::Reference>().map(|_| ())?))
            .map_err(|e| anyhow::anyhow!("--cache-from {r}: {e:#}"))?;
    }
    // The plan: every spec loaded, rendered and its manifest read before anything is sent.
    let build::inputs::Planned {
        jobs,
        options,
        choice,
        settings,
    } = build::inputs::plan(&args.inputs, &config, printer)?;
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
    let options = pipeline::Options {
        cache_from: args.cache_from.clone(),
        ssh,
        pull: args.pull || config.build.pull.unwrap_or(false),
        no_cache: args.no_cache,
        jobs: jobs_n,
        keep_going: args.keep_going || config.build.keep_going.unwrap_or(false),
        force: args.force,
        reach: build::remember::Reach {
            insecure: args.insecure_registry.clone(),
            timeout: std::time::Duration::from_secs(
                args.push_timeout
                    .or(config.push.timeout)
                    .unwrap_or(crate::commands::push::DEFAULT_TIMEOUT),
            ),
        },
        ..options
    };
    // With --push (or --reuse pull), the destinations first: their repositories remember
    // what was built.
    let reuse_pull = args.reuse == Some(crate::cli::Reuse::Pull);
    let options = pipeline::Options {
        reuse_pull,
        ..options
    };
    let mut jobs = jobs;
    let targets = if args.push || reuse_pull {
        let to = args.to.clone().or(config.push.to.clone());
        let targets = crate::commands::push::build_targets(&jobs, to.as_deref())?;
        for (job, t) in jobs.iter_mut().zip(&targets) {
            job.registry_dest = Some(t.dest.clone());
        }
        Some(targets)
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
    let mut pre: Vec<Option<Outcome>> = Vec::with_capacity(jobs.len());
    let mut lint_files: Vec<LintedFile> = Vec::new();
    for job in &jobs {
        let refused = (choice == BuilderChoice::Classic)
            .then(|| preflight::refuse(job, Builder::Classic, "", None))
            .flatten();
        pre.push(refused.or_else(|| {
            preflight::lint(
                job,
                &settings,
                args.no_lint,
                &mut |text| printer.line(text),
                &mut lint_files,
            )
        }));
    }

    // Build what passed.
    let mut options = options;
    let cancel = Cancel::new();
    let outcomes = if pre.iter().all(Option::is_some) {
        pre.into_iter().flatten().collect()
    } else {
        let engine = crate::docker::connect()?;
        let (builder, version, fallback) = build::inputs::resolve_builder(choice, &engine)?;
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
        let mut outcomes = build::run(&jobs, pre, &options, &engine, printer, &cancel);
        if cancel.is_cancelled() {
            for o in &mut outcomes {
                if o.status == Status::Skipped {
                    o.status = Status::Interrupted;
                }
            }
        }
        outcomes
    };
    let mut outcomes = outcomes;
    let mut push_status = ExitStatus::Success;
    if let (Some(targets), true) = (targets, args.push) {
        push_status = push_built(&args, targets, &mut outcomes, &options, printer)?;
    }
    for (job, o) in jobs.iter().zip(outcomes.iter_mut()) {
        if let Some(file) = lint_files.iter().find(|f| f.path == job.dockerfile_display) {
            let n = |s: Severity| file.diagnostics.iter().filter(|d| d.severity == s).count();
            o.lint = (n(Severity::Error), n(Severity::Warning), n(Severity::Info));
        }
    }

    // Report.
    let text = match args.format {
        BuildFormat::Text => build::report::text(&jobs, &outcomes, options.verify),
        BuildFormat::Json => {
            let mut t = serde_json::to_string_pretty(&build::report::json(
                &jobs,
                &outcomes,
                options.verify,
            ))
            .context("writing the report")?;
            t.push('\n');
            t
        }
        BuildFormat::Github => {
            let mut t = report::github::render(&lint_files);
            t.push_str(&build::report::github(&jobs, &outcomes));
            t.push_str(&build::report::text(&jobs, &outcomes, options.verify));
            t
        }
    };
    printer.stdout(&text).context("writing the report")?;
    if let Some(path) = &report_path {
        let json =
            serde_json::to_string_pretty(&build::report::json(&jobs, &outcomes, options.verify))
                .context("writing the report")?;
        crate::fs::write_atomic(path, &format!("{json}\n"))
            .with_context(|| format!("writing the build report {}", path.display()))?;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .with_context(|| {
                format!(
                    "opening GITHUB_STEP_SUMMARY {}",
                    PathBuf::from(&summary).display()
                )
            })?;
        file.write_all(build::report::markdown(&jobs, &outcomes, options.verify).as_bytes())
            .context("writing GITHUB_STEP_SUMMARY")?;
    }
    if let (Some(path), Some(o)) = (&args.iidfile, outcomes.first()) {
        if let (true, Some(id)) = (o.status.ok(), &o.image_id) {
            crate::fs::write_atomic(path, id)
                .with_context(|| format!("writing --iidfile {}", path.display()))?;
        }
    }

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

/// `build --push`: once every image is built and verified (all or nothing, unless
/// `--keep-going`), push the ones that passed; their registry digests go into the outcomes,
/// and each pushed image's repository remembers its inputs hash. Images the registry
/// already had (`unchanged (registry)`) are not pushed again.
fn push_built(
    args: &BuildArgs,
    mut targets: Vec<crate::push::Target>,
    outcomes: &mut [Outcome],
    options: &pipeline::Options,
    printer: &Printer,
) -> Result<ExitStatus> {
    if targets.is_empty() {
        // An empty shard: nothing to push is a success.
        return Ok(ExitStatus::Success);
    }
    let failed = outcomes.iter().filter(|o| !o.status.ok()).count();
    if failed > 0 && !args.keep_going {
        printer.line(&format!(
            "nothing pushed: {failed} image{} did not build and verify (all or nothing; --keep-going pushes the ones that did)",
            crate::text::plural(failed, "", "s")
        ));
        return Ok(ExitStatus::Failure);
    }
    let mut index = Vec::new();
    for (i, (t, o)) in targets.iter_mut().zip(outcomes.iter()).enumerate() {
        if !o.status.ok() || o.from_registry {
            continue;
        }
        if t.local.is_empty() {
            t.local = o.image_id.clone().unwrap_or_default();
        }
        t.verified = options.verify;
        index.push(i);
    }
    let targets: Vec<crate::push::Target> = index
        .iter()
        .filter_map(|&i| targets.get(i).cloned())
        .collect();
    if targets.is_empty() {
        let remembered = outcomes.iter().filter(|o| o.from_registry).count();
        return Ok(if remembered > 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    let engine = crate::docker::connect()?;
    let cancel = Cancel::new();
    cancel.on_signals(engine.handle());
    let push_options = crate::push::Options {
        verify: options.verify,
        keep_going: args.keep_going,
        timeout: options.reach.timeout,
        insecure_registries: args.insecure_registry.clone(),
    };
    let results = crate::push::run(&targets, &push_options, &engine, printer, &cancel)?;
    for ((t, r), &i) in targets.iter().zip(&results).zip(&index) {
        if let Some(o) = outcomes.get_mut(i) {
            o.registry_digest = r.pinned(t);
            let digest = o
                .registry_digest
                .as_deref()
                .and_then(|d| d.rsplit_once('@'))
                .map(|(_, d)| d.to_string());
            if let (Some(digest), Some(hash)) = (digest, &o.inputs_hash) {
                if let Err(e) = build::remember::remember(&t.dest, &digest, hash, &options.reach) {
                    printer.warn(format!(
                        "{}: the registry will not remember these inputs ({e:#}); the next run builds it again",
                        t.title
                    ));
                }
            }
        }
    }
    crate::commands::push::report(
        &targets,
        &results,
        crate::cli::PushFormat::Text,
        None,
        printer,
        args.format == BuildFormat::Text,
    )
}
