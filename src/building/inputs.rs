//! What the command line and `.lambda-image.yaml` ask to build, worked out once for `build`
//! and `plan`: the jobs (specs rendered or a Dockerfile read, × architectures, narrowed to
//! a shard), the options that are part of each image's inputs hash (build args, labels,
//! target, secrets' ids, inline cache, verify and smoke), and the builder, resolved
//! against the engine when asked (`auto` becomes BuildKit where the engine has it).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::{pipeline, secrets, shard::Shard, Job, PlanArgs};
use crate::cli::{BuilderChoice, CacheTo, ImageInputs};
use crate::config::Config;
use crate::docker::{Builder, Engine};
use crate::lint::config::Settings;
use crate::progress::Printer;

/// The jobs and the input options of a run.
pub struct Planned {
    pub jobs: Vec<Job>,
    /// Input options filled in; `builder` is `Classic` until [`resolve_builder`].
    pub options: pipeline::Options,
    pub choice: BuilderChoice,
    /// Lint settings for the pre-flight, with the build args.
    pub settings: Settings,
}

/// Plans what `inputs` name. Every spec, manifest and flag is read before anything reaches
/// the engine: a bad one is an error here.
pub fn plan(inputs: &ImageInputs, config: &Config, printer: &Printer) -> Result<Planned> {
    let mut settings = Settings::from_config(config.lint.clone(), config.path.clone());
    let mut build_args = config.build.build_args.clone();
    build_args.extend(
        crate::dockerfile::parse_build_args(&inputs.build_arg).map_err(anyhow::Error::msg)?,
    );
    // The pre-flight resolves ARGs as the build will.
    settings.dockerfile.build_args = build_args.clone();
    let mut labels = config.build.labels.clone();
    labels.extend(super::key_values(&inputs.label, "--label")?);
    let choice = inputs
        .builder
        .or(config.build.builder)
        .unwrap_or(BuilderChoice::Auto);
    let secrets = inputs
        .secret
        .iter()
        .map(|s| secrets::parse(s))
        .collect::<Result<Vec<_>>>()?;
    let options = pipeline::Options {
        builder: Builder::Classic,
        secrets,
        inline_cache: inputs.cache_to == Some(CacheTo::Inline),
        build_args,
        labels,
        target: inputs.target.clone(),
        verify: !inputs.no_verify,
        smoke: !inputs.no_smoke,
        ..pipeline::Options::default()
    };
    let shard = inputs.shard.as_deref().map(Shard::parse).transpose()?;
    let plan_args = PlanArgs {
        tags: inputs.tag.clone(),
        arches: inputs.arch.clone(),
        vcs: true,
        all: inputs.all,
        dockerfile: settings.dockerfile.clone(),
    };
    let jobs: Vec<Job> = if let Some(file) = &inputs.file {
        super::plan_dockerfile(
            file,
            inputs.context.as_deref(),
            inputs.manifest.as_deref(),
            &plan_args,
        )?
    } else {
        let specs: Vec<PathBuf> = if inputs.all {
            crate::image_spec::discover(Path::new("images"))?
        } else if inputs.specs.is_empty() {
            bail!("give image specs (images/<name>), --all, or --file Dockerfile");
        } else {
            inputs.specs.clone()
        };
        let (jobs, left_out) = super::plan_specs(&specs, &plan_args)?;
        for name in left_out {
            printer.status(format!(
                "{name}: left out (none of --arch {} in its architectures)",
                inputs
                    .arch
                    .iter()
                    .map(|a| a.lambda_name())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        jobs
    };
    let jobs = match shard {
        Some(shard) => {
            let planned = jobs.len();
            let mine: Vec<Job> = jobs
                .into_iter()
                .filter(|j| shard.takes(&j.name, j.arch.lambda_name()))
                .collect();
            printer.status(format!(
                "shard {shard}: {} of the {planned} planned image{}",
                mine.len(),
                crate::text::plural(planned, "", "s")
            ));
            mine
        }
        None => jobs,
    };
    Ok(Planned {
        jobs,
        options,
        choice,
        settings,
    })
}

/// The engine's version and the builder `choice` comes to on it, with the reason when
/// `auto` fell back to the classic builder.
pub fn resolve_builder(
    choice: BuilderChoice,
    engine: &Engine,
) -> Result<(Builder, String, Option<String>)> {
    let (version, buildkit) = engine.builders()?;
    Ok(match (choice, buildkit) {
        (BuilderChoice::Classic, _) => (Builder::Classic, version, None),
        (_, Ok(())) => (Builder::BuildKit, version, None),
        (BuilderChoice::Buildkit, Err(why)) => bail!("--builder buildkit: {why}"),
        (BuilderChoice::Auto, Err(why)) => (Builder::Classic, version, Some(why)),
    })
}
