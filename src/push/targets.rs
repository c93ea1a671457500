//! What is pushed where: one [`Target`] per image, from a spec's image (its first tag, its
//! `verify:` manifest and smoke tests), from an image in the engine (`push IMAGE`), from
//! an archive (`push --archive`) or from a build job (`build --push`), each with its
//! destination by the one rule: `--to`, else the spec's `push.repository`, else the
//! config's `push.to`; `{arch}` replaced and, for several architectures going to one tag,
//! a `-<arch>` suffix, as `build` names tags.

use anyhow::{anyhow, bail, Result};

use crate::arch::Arch;
use crate::building::{Job, SpecImage};
use crate::docker::{Engine, ImageInfo};
use crate::reference::Reference;
use crate::verify::manifest::VerifyManifest;

/// One image to push.
#[derive(Debug, Clone)]
pub struct Target {
    /// `orders/x86_64`, or the reference given.
    pub title: String,
    /// The local image (a tag or an id).
    pub local: String,
    pub dest: Reference,
    /// The architecture the function uses; `None`: the image's own.
    pub arch: Option<Arch>,
    pub manifest: Option<VerifyManifest>,
    /// Already verified in this run (`build --push`): the gate does not run again.
    pub verified: bool,
    /// What the gate checks against ([`crate::verify::ledger::plan_key`]): an image that
    /// already passed the same plan (by `build`, or an earlier push) is not verified again.
    pub plan_key: String,
    /// The spec's smoke tests, part of the gate; and the function's name for them.
    pub smoke: Vec<crate::invoke::smoke::Smoke>,
    pub name: String,
}

/// The destination of one image. `to` is `REGISTRY`, `REGISTRY/REPO` or
/// `REGISTRY/REPO:TAG` (`{arch}` replaced); what it leaves out comes from `local` (its path,
/// then its tag, else `latest`). With `several` images of different architectures going to
/// one `to` that names a tag without `{arch}`, the tag gets a `-<arch>` suffix.
pub fn destination(
    to: &str,
    local: Option<&Reference>,
    arch: Arch,
    several: bool,
) -> Result<Reference> {
    let text = crate::image_spec::images::replace_arch(to, arch);
    let registry_only = !text.contains(['/', '@']) && crate::reference::names_registry(&text);
    if registry_only {
        let local = local.ok_or_else(|| {
            anyhow!("--to {to} names a registry only; give the repository too ({to}/REPO[:TAG]) for an image id")
        })?;
        let r: Reference = format!("{text}/{}", local.path)
            .parse()
            .map_err(|e| anyhow!("--to {to}: {e}"))?;
        return Ok(Reference {
            tag: Some(local.tag_or_latest().to_string()),
            ..r
        });
    }
    let r: Reference = text.parse().map_err(|e| anyhow!("--to {to}: {e}"))?;
    if r.digest.is_some() {
        bail!("--to {to}: a destination names a repository and a tag, not a digest");
    }
    let tag = match &r.tag {
        Some(t) => crate::image_spec::images::arch_suffix(t, to, arch, several),
        None => local
            .map(|l| l.tag_or_latest().to_string())
            .unwrap_or_else(|| "latest".into()),
    };
    Ok(Reference {
        tag: Some(tag),
        ..r
    })
}

/// The architecture `{arch}` stands for: `--arch`'s, else the image's own (OCI name).
pub fn arch_of(given: Option<Arch>, image_arch: &str) -> Arch {
    given.unwrap_or(match image_arch {
        "arm64" => Arch::Arm64,
        _ => Arch::X86_64,
    })
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
        dest: destination(&dest_text, Some(local), image.arch, image.several)?,
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

/// A target with neither spec nor manifest of its own: the image `local` titled `title`.
fn bare(title: String, local: String, dest: Reference, arch: Option<Arch>, name: String) -> Target {
    Target {
        title,
        local,
        dest,
        arch,
        manifest: None,
        verified: false,
        plan_key: String::new(),
        smoke: Vec::new(),
        name,
    }
}

/// Where `build --push` sends each job's image, worked out before anything is built (a
/// missing destination is an error now, not after the builds). A job without tags is
/// pushed by its image id, filled in once built.
pub fn build_targets(jobs: &[Job], to: Option<&str>) -> Result<Vec<Target>> {
    jobs.iter()
        .map(|job| {
            if job.tags.is_empty() {
                let to = to.ok_or_else(|| {
                    anyhow!(
                        "{}: say where to push with --to REGISTRY/REPO[:TAG]",
                        job.title()
                    )
                })?;
                let dest = destination(to, None, job.arch, jobs.len() > 1)?;
                Ok(bare(
                    job.title(),
                    String::new(),
                    dest,
                    Some(job.arch),
                    job.name.clone(),
                ))
            } else {
                let several = jobs.iter().filter(|j| j.name == job.name).count() > 1;
                spec_target(&job.spec_image(several), to)
            }
        })
        .collect()
}

/// [`build_targets`], each job's registry destination set to its target's: the
/// destinations' repositories remember what was built (`build --push`, `--reuse pull`).
pub fn for_build(jobs: &mut [Job], to: Option<&str>) -> Result<Vec<Target>> {
    let targets = build_targets(jobs, to)?;
    for (job, t) in jobs.iter_mut().zip(&targets) {
        job.registry_dest = Some(t.dest.clone());
    }
    Ok(targets)
}

/// What `push IMAGE…` checks an engine image against: `-m` and `--arch`.
pub struct Given<'a> {
    pub to: Option<&'a str>,
    pub arch: Option<Arch>,
    pub manifest: Option<&'a VerifyManifest>,
    pub manifest_bytes: Option<&'a [u8]>,
}

/// The target of `push IMAGE` and what the engine says of the image (it must have it).
pub fn image_target(engine: &Engine, r: &str, given: &Given) -> Result<(Target, ImageInfo)> {
    crate::docker::check_reference(r)?;
    let info = engine
        .inspect_image(r)?
        .ok_or_else(|| crate::docker::not_in_engine(r))?;
    let to = given.to.ok_or_else(|| {
        anyhow!("push {r}: say where with --to REGISTRY[/REPO[:TAG]] (or push.to in .lambda-image.yaml)")
    })?;
    let arch = arch_of(given.arch, &info.architecture);
    let local: Option<Reference> = r.parse().ok().filter(|_| !r.starts_with("sha256:"));
    let mut target = bare(
        r.to_string(),
        r.to_string(),
        destination(to, local.as_ref(), arch, false)?,
        given.arch,
        crate::invoke::input::function_name(r),
    );
    target.manifest = given.manifest.cloned();
    target.plan_key = crate::verify::ledger::plan_key(given.manifest_bytes, given.arch);
    Ok((target, info))
}

/// The target of `push --archive FILE`: `{arch}` is the archive's own architecture unless
/// `--arch` says; the destination must name a repository.
pub fn archive_target(
    title: String,
    to: &str,
    given_arch: Option<Arch>,
    archive_arch: &str,
    manifest: Option<VerifyManifest>,
) -> Result<Target> {
    let arch = arch_of(given_arch, archive_arch);
    let dest = destination(to, None, arch, false).map_err(|e| {
        if to.contains('/') {
            e
        } else {
            anyhow!("--to {to} names a registry only; give the repository too ({to}/REPO[:TAG]) for --archive")
        }
    })?;
    let mut target = bare(title.clone(), title, dest, given_arch, "archive".into());
    target.manifest = manifest;
    Ok(target)
}
