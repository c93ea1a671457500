//! `lambda-image build`: flags and config → plan → lint pre-flight → [`build::run`] →
//! report. The pipeline itself lives in [`crate::build`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::build::{self, pipeline, Job, Outcome, PlanArgs, Stage, Status};
use crate::cancel::Cancel;
use crate::cli::{BuildArgs, BuildFormat, BuilderChoice, CacheTo};
use crate::commands::ExitStatus;
use crate::docker::Builder;
use crate::lint::config::Settings;
use crate::lint::Severity;
use crate::progress::Printer;
use crate::report::{self, FixMode, LintedFile};

/// Images built at once when neither `-j` nor the config says: builds wait on the engine
/// (about 1 s per instruction on the storage driver) far more than on the CPU.
pub const DEFAULT_JOBS: usize = 8;

pub fn run(args: BuildArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = crate::config::resolve(args.config.as_deref(), args.no_config)?;
    if let Some(path) = &config.path {
        printer.detail(format!("lambda-image: using {}", path.display()));
    }
    let mut settings = Settings::from_config(config.lint.clone(), config.path.clone());
    let mut build_args = config.build.build_args.clone();
    build_args.extend(build::key_values(&args.build_arg, "--build-arg")?);
    // The pre-flight resolves ARGs as the build will.
    settings.dockerfile.build_args = build_args.clone();
    let mut labels = config.build.labels.clone();
    labels.extend(build::key_values(&args.label, "--label")?);
    let jobs_n = args.jobs.or(config.build.jobs).unwrap_or(DEFAULT_JOBS);
    if jobs_n == 0 {
        bail!("-j/--jobs must be at least 1");
    }
    if !args.ssh.is_empty() {
        bail!(
            "--ssh is not supported yet: the BuildKit session lambda-image serves offers secrets and registry credentials, not an SSH agent; pass a token with --secret instead"
        );
    }
    let choice = args
        .builder
        .or(config.build.builder)
        .unwrap_or(BuilderChoice::Auto);
    let secrets = args
        .secret
        .iter()
        .map(|s| build::secrets::parse(s))
        .collect::<Result<Vec<_>>>()?;
    for r in &args.cache_from {
        crate::docker::check_reference(r)
            .and_then(|()| Ok(r.parse::<crate::reference::Reference>().map(|_| ())?))
            .map_err(|e| anyhow::anyhow!("--cache-from {r}: {e:#}"))?;
    }
    if choice == BuilderChoice::Classic {
        let buildkit_only = [
            (!secrets.is_empty(), "--secret"),
            (!args.cache_from.is_empty(), "--cache-from"),
            (args.cache_to.is_some(), "--cache-to"),
        ];
        if let Some((_, flag)) = buildkit_only.iter().find(|(given, _)| *given) {
            bail!("{flag} needs BuildKit, and --builder classic (or build.builder: classic) asks for the classic builder");
        }
    }
    let options = pipeline::Options {
        builder: Builder::Classic,
        secrets,
        cache_from: args.cache_from.clone(),
        inline_cache: args.cache_to == Some(CacheTo::Inline),
        build_args,
        labels,
        target: args.target.clone(),
        pull: args.pull || config.build.pull.unwrap_or(false),
        no_cache: args.no_cache,
        jobs: jobs_n,
        keep_going: args.keep_going || config.build.keep_going.unwrap_or(false),
        force: args.force,
        verify: !args.no_verify,
        smoke: !args.no_smoke,
    };
    let plan_args = PlanArgs {
        tags: args.tag.clone(),
        arches: args.arch.clone(),
        vcs: true,
        all: args.all,
    };

    // The plan: every spec loaded, rendered and its manifest read before anything is sent.
    let jobs: Vec<Job> = if let Some(file) = &args.file {
        build::plan_dockerfile(
            file,
            args.context.as_deref(),
            args.manifest.as_deref(),
            &plan_args,
        )?
    } else {
        let specs: Vec<PathBuf> = if args.all {
            crate::spec::discover(Path::new("images"))?
        } else if args.specs.is_empty() {
            bail!("give image specs (images/<name>), --all, or --file Dockerfile");
        } else {
            args.specs.clone()
        };
        let (jobs, left_out) = build::plan_specs(&specs, &plan_args)?;
        for name in left_out {
            printer.status(format!(
                "{name}: left out (none of --arch {} in its architectures)",
                args.arch
                    .iter()
                    .map(|a| a.lambda_name())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        jobs
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
            .then(|| refuse(job, Builder::Classic, "", None))
            .flatten();
        pre.push(
            refused.or_else(|| preflight(job, &settings, args.no_lint, printer, &mut lint_files)),
        );
    }

    // Build what passed.
    let mut options = options;
    let outcomes = if pre.iter().all(Option::is_some) {
        pre.into_iter().flatten().collect()
    } else {
        let engine = crate::docker::connect()?;
        let (version, buildkit) = engine.builders()?;
        let (builder, fallback) = match (choice, buildkit) {
            (BuilderChoice::Classic, _) => (Builder::Classic, None),
            (_, Ok(())) => (Builder::BuildKit, None),
            (BuilderChoice::Buildkit, Err(why)) => bail!("--builder buildkit: {why}"),
            (BuilderChoice::Auto, Err(why)) => (Builder::Classic, Some(why)),
        };
        if fallback.is_some()
            && (!options.secrets.is_empty()
                || !options.cache_from.is_empty()
                || options.inline_cache)
        {
            bail!(
                "--secret, --cache-from and --cache-to need BuildKit: {}",
                fallback.unwrap_or_default()
            );
        }
        options.builder = builder;
        for (job, slot) in jobs.iter().zip(pre.iter_mut()) {
            if slot.is_none() {
                *slot = refuse(job, builder, &version, fallback.as_deref());
            }
            if slot.is_none() && builder == Builder::BuildKit {
                secrets_given(job, &options.secrets)?;
            }
        }
        let cancel = Cancel::new();
        cancel.on_ctrl_c(engine.handle());
        printer.status(format!(
            "building {} image{} ({} at a time) with {} on the Docker Engine {version} at {}",
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" },
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
    if args.push {
        push_status = push_built(
            &args,
            &config,
            &jobs,
            &mut outcomes,
            options.verify,
            printer,
        )?;
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
            Status::Interrupted => ExitStatus::Interrupted,
            Status::Failed(_) | Status::Skipped => ExitStatus::Failure,
        })
        .chain([push_status])
        .max()
        .unwrap_or(ExitStatus::Success))
}

/// `build --push`: once every image is built and verified (all or nothing, unless
/// `--keep-going`), push the ones that passed; their registry digests go into the outcomes.
fn push_built(
    args: &BuildArgs,
    config: &crate::config::Config,
    jobs: &[Job],
    outcomes: &mut [Outcome],
    verified: bool,
    printer: &Printer,
) -> Result<ExitStatus> {
    let failed = outcomes.iter().filter(|o| !o.status.ok()).count();
    if failed > 0 && !args.keep_going {
        printer.line(&format!(
            "nothing pushed: {failed} image{} did not build and verify (all or nothing; --keep-going pushes the ones that did)",
            if failed == 1 { "" } else { "s" }
        ));
        return Ok(ExitStatus::Failure);
    }
    let to = args.to.clone().or(config.push.to.clone());
    let mut targets = Vec::new();
    let mut index = Vec::new();
    for (i, (job, o)) in jobs.iter().zip(outcomes.iter()).enumerate() {
        if !o.status.ok() {
            continue;
        }
        let mut t = if job.tags.is_empty() {
            let id = o.image_id.clone().unwrap_or_default();
            let to = to.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: say where to push with --to REGISTRY/REPO[:TAG]",
                    job.title()
                )
            })?;
            crate::push::Target {
                title: job.title(),
                local: id,
                dest: crate::push::destination(to, None, job.arch, jobs.len() > 1)?,
                arch: Some(job.arch),
                manifest: None,
                verified: false,
                plan_key: String::new(),
                smoke: Vec::new(),
                name: job.name.clone(),
            }
        } else {
            let several = jobs.iter().filter(|j| j.name == job.name).count() > 1;
            crate::commands::push::spec_target(job, several, to.as_deref())?
        };
        t.verified = verified;
        targets.push(t);
        index.push(i);
    }
    if targets.is_empty() {
        return Ok(ExitStatus::Failure);
    }
    let engine = crate::docker::connect()?;
    let cancel = Cancel::new();
    cancel.on_ctrl_c(engine.handle());
    let timeout = std::time::Duration::from_secs(
        args.push_timeout
            .or(config.push.timeout)
            .unwrap_or(crate::commands::push::DEFAULT_TIMEOUT),
    );
    let options = crate::push::Options {
        verify: verified,
        keep_going: args.keep_going,
        timeout,
        insecure_registries: args.insecure_registry.clone(),
    };
    let results = crate::push::run(&targets, &options, &engine, printer, &cancel)?;
    for ((t, r), i) in targets.iter().zip(&results).zip(index) {
        if let Some(o) = outcomes.get_mut(i) {
            o.registry_digest = r.pinned(t);
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

/// `Some` when `builder` cannot run the job's Dockerfile: every finding, one line.
fn refuse(job: &Job, builder: Builder, version: &str, fallback: Option<&str>) -> Option<Outcome> {
    let found = build::unsupported(&job.dockerfile, builder, version);
    if found.is_empty() {
        return None;
    }
    let mut o = Outcome::new(Status::Failed(Stage::Lint));
    o.error = Some(match (builder, fallback) {
        (Builder::Classic, None) => format!(
            "{}: the classic builder cannot run this Dockerfile ({}); build it with --builder buildkit",
            job.dockerfile_display,
            found.join("; ")
        ),
        (Builder::Classic, Some(why)) => format!(
            "{}: the classic builder cannot run this Dockerfile ({}), and BuildKit cannot be used: {why}",
            job.dockerfile_display,
            found.join("; ")
        ),
        (Builder::BuildKit, _) => format!(
            "{}: {}",
            job.dockerfile_display,
            found.join("; ")
        ),
    });
    Some(o)
}

/// Before any build: the secrets the Dockerfile mounts are given and readable.
fn secrets_given(job: &Job, flags: &[build::secrets::Secret]) -> Result<()> {
    let Ok(df) = crate::dockerfile::parse(&job.dockerfile) else {
        return Ok(());
    };
    let mounts = build::secrets::mounts(&df);
    build::secrets::check(
        &job.dockerfile_display,
        &mounts,
        &build::secrets::merge(&job.secrets, flags),
    )
}

/// Lints one job's Dockerfile; `Some` when the image must not be built (the findings are
/// printed as `lint` prints them).
fn preflight(
    job: &Job,
    settings: &Settings,
    no_lint: bool,
    printer: &Printer,
    files: &mut Vec<LintedFile>,
) -> Option<Outcome> {
    if no_lint {
        return None;
    }
    let seen = files
        .iter()
        .any(|f| f.path == job.dockerfile_display && f.source == job.dockerfile);
    let diagnostics = match crate::lint::check_source(&job.dockerfile, settings) {
        Ok(d) => d,
        Err(d) => d,
    };
    let failing = diagnostics
        .iter()
        .filter(|d| settings.fails(d.severity))
        .count();
    let fails = failing > 0;
    let count = diagnostics.len();
    if !seen {
        let file = LintedFile::new(
            job.dockerfile_display.clone(),
            job.dockerfile.clone(),
            diagnostics,
        );
        if count > 0 {
            printer.line(
                report::text::render(
                    std::slice::from_ref(&file),
                    report::text::TextOptions {
                        color: false,
                        fix_mode: FixMode {
                            unsafe_fixes: false,
                        },
                        quiet: true,
                        incomplete: false,
                    },
                )
                .trim_end(),
            );
        }
        files.push(file);
    }
    if fails {
        let mut o = Outcome::new(Status::Failed(Stage::Lint));
        o.error = Some(format!(
            "{}: {failing} lint finding{} at or above the failure threshold; fix them (`lambda-image lint --fix`) or build with --no-lint",
            job.dockerfile_display,
            if failing == 1 { "" } else { "s" }
        ));
        return Some(o);
    }
    None
}
