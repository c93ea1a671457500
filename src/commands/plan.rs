//! `lambda-image plan`: the images `build` would make with the same flags (specs rendered
//! or a Dockerfile read, × architectures, narrowed by `--shard`), each with its inputs hash,
//! computed as `build` computes it (context bytes, bases as the engine has them, the
//! builder `auto` resolves to). Builds and pushes nothing; asks the engine only about the
//! bases and its builders.

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use crate::building::{self as build, pipeline, Origin};
use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::ExitStatus;
use crate::progress::Printer;
use crate::reference::Reference;
use crate::report;

pub fn run(args: PlanArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = crate::config::resolve(args.inputs.config.as_deref(), args.inputs.no_config)?;
    let planned = build::inputs::plan(&args.inputs, &config, printer)?;
    let mut options = planned.options;
    let engine = crate::docker::connect()?;
    let (builder, _, _) = build::inputs::resolve_builder(planned.choice, &engine)?;
    options.builder = builder;
    // With a destination, whether each repository remembers the image's inputs.
    let to = args.to.clone().or(config.push.to.clone());
    let ask = to.is_some()
        || (!planned.jobs.is_empty() && planned.jobs.iter().all(|j| j.push_to.is_some()));
    let dests: Vec<Option<Reference>> = if ask {
        crate::push::build_targets(&planned.jobs, to.as_deref())?
            .into_iter()
            .map(|t| Some(t.dest))
            .collect()
    } else {
        vec![None; planned.jobs.len()]
    };
    let reach = build::remember::Reach {
        insecure: args.insecure_registry.clone(),
        timeout: std::time::Duration::from_secs(crate::push::DEFAULT_TIMEOUT),
    };
    let mut images = Vec::new();
    for (job, dest) in planned.jobs.iter().zip(&dests) {
        images.push(image(job, dest.as_ref(), &engine, &options, &reach)?);
    }
    build::digests::global().save();
    let text = match args.format {
        PlanFormat::Json => report::plan::json(builder, &images)?,
        PlanFormat::GithubMatrix => report::plan::github_matrix(&images),
        PlanFormat::Text => report::plan::text(builder, &images),
    };
    printer.stdout(&text).context("writing the plan")?;
    Ok(ExitStatus::Success)
}

/// One image of the plan, as the JSON report has it: its inputs hash computed as `build`
/// computes it and, with a destination, whether the registry remembers those inputs.
fn image(
    job: &build::Job,
    dest: Option<&Reference>,
    engine: &crate::docker::Engine,
    options: &pipeline::Options,
    reach: &build::remember::Reach,
) -> Result<Value> {
    let ctx = build::context::list(
        &job.context,
        &job.dockerfile,
        job.dockerfile_in_context.as_deref(),
    )
    .with_context(|| job.title())?;
    let fingerprint = ctx.fingerprint().with_context(|| job.title())?;
    let bases = pipeline::bases_of(job, engine, true);
    let hash = build::inputs_hash(
        job,
        &fingerprint.digest,
        &pipeline::base_ids(&bases),
        options,
    );
    let in_registry = match dest {
        Some(dest) => match build::remember::recall(dest, &hash, reach) {
            Ok(Some(m)) => json!(format!("{}@{}", dest.repository(), m.digest)),
            Ok(None) => json!(false),
            Err(e) => anyhow::bail!(
                "{}: asking {} for its inputs: {e:#}",
                job.title(),
                dest.registry_host()
            ),
        },
        None => Value::Null,
    };
    let (spec, dockerfile, target) = match &job.origin {
        Origin::Spec(p) => {
            let dir = p
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            (json!(p.display().to_string()), Value::Null, dir)
        }
        Origin::Dockerfile(p) => (
            Value::Null,
            json!(p.display().to_string()),
            p.display().to_string(),
        ),
    };
    Ok(json!({
        "name": job.name,
        "arch": job.arch.lambda_name(),
        "platform": job.platform(),
        "spec": spec,
        "dockerfile": dockerfile,
        "target": target,
        "tags": job.tags.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        "inputs_hash": hash,
        "destination": dest.map(|d| d.to_string()),
        "in_registry": in_registry,
        "bases": bases.iter().map(|b| json!({"reference": b.reference, "id": b.id, "identity": build::remember::base_identity(b)})).collect::<Vec<_>>(),
    }))
}
