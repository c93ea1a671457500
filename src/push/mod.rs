//! Pushing: only verified images reach the registry, and what it stored is read back.
//!
//! This module owns the destination rule (`--to`, the spec's `push.repository`, the
//! config's `push.to`; `{arch}` and the `-<arch>` suffix as `build` has them), the gate
//! (every image verified before anything is sent; all-or-nothing unless `keep_going`),
//! the push itself through [`crate::docker`], and the read-back through our own registry
//! client ([`crate::registry`], with the credentials the docker CLI would use): what the
//! registry holds under the pushed digest must be one single-platform image manifest (Docker
//! v2 schema 2 or OCI), for the function's architecture (read from the config blob), with
//! gzip layers only, and the tag must point at it — what Lambda accepts. An image the
//! registry already has under the tag is "already pushed": nothing is sent, and what the
//! registry holds is checked the same way.

pub mod archive;
pub mod layers;

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};

use crate::arch::Arch;
use crate::building::pipeline::VerifySummary;
use crate::cancel::Cancel;
use crate::docker::{self, Engine, PushEvent, RegistryFailure};
use crate::progress::Printer;
use crate::reference::Reference;
use crate::registry::{self, credentials, ErrorKind};
use crate::verify::{self, manifest::VerifyManifest};

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
    /// What the gate checks against ([`crate::building::state::plan_key`]): an image that
    /// already passed the same plan (by `build`, or an earlier push) is not verified again.
    pub plan_key: String,
    /// The spec's smoke tests, part of the gate; and the function's name for them.
    pub smoke: Vec<crate::invoke::smoke::Smoke>,
    pub name: String,
}

/// How to push.
#[derive(Debug, Clone)]
pub struct Options {
    pub verify: bool,
    pub keep_going: bool,
    /// The longest wait for the registry.
    pub timeout: Duration,
    /// Registries spoken to over plain HTTP (`--insecure-registry`); loopback ones always are.
    pub insecure_registries: Vec<String>,
}

/// What became of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pushed,
    AlreadyPushed,
    /// A verify check failed: not sent.
    FailedVerify,
    /// Not sent because another image failed verification (all-or-nothing).
    Held,
    /// Sent, but the registry holds something Lambda will not take, or not what was sent.
    FailedReadBack,
    /// The registry refused the push.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pushed => "pushed",
            Status::AlreadyPushed => "already pushed",
            Status::FailedVerify => "failed verify",
            Status::Held => "not pushed",
            Status::FailedReadBack => "failed read-back",
            Status::Failed => "failed",
        }
    }

    pub fn ok(self) -> bool {
        matches!(self, Status::Pushed | Status::AlreadyPushed)
    }
}

/// The result for one image.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub status: Status,
    /// The manifest digest in the registry.
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub platforms: Vec<String>,
    pub error: Option<String>,
    pub verify: Option<VerifySummary>,
    pub verified: bool,
    pub verify_time: Option<Duration>,
    pub push_time: Option<Duration>,
    /// The local image id (config digest).
    pub image_id: String,
}

impl Pushed {
    pub(crate) fn new(status: Status, image_id: &str) -> Pushed {
        Pushed {
            status,
            digest: None,
            media_type: None,
            platforms: Vec::new(),
            error: None,
            verify: None,
            verified: false,
            verify_time: None,
            push_time: None,
            image_id: image_id.to_string(),
        }
    }

    /// `REPO@sha256:…`, once the registry has the image.
    pub fn pinned(&self, target: &Target) -> Option<String> {
        self.digest
            .as_ref()
            .filter(|_| self.status.ok())
            .map(|d| format!("{}@{d}", target.dest.repository()))
    }
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

/// Registry errors that mean the registry cannot be used at all: one line, exit 2.
fn registry_error(
    host: &str,
    found: &credentials::Found,
    failure: RegistryFailure,
    cancel: &Cancel,
) -> anyhow::Error {
    match failure {
        RegistryFailure::Interrupted => cancel.interrupted().into(),
        RegistryFailure::Unreachable(m) => anyhow!("cannot reach the registry {host}: {m}"),
        RegistryFailure::Engine(m) => anyhow!(m),
        RegistryFailure::Unauthorized(m) => {
            let ecr = if crate::reference::is_ecr_host(host) {
                format!("; for ECR add \"credHelpers\": {{\"{host}\": \"ecr-login\"}} to the docker config and install docker-credential-ecr-login")
            } else {
                String::new()
            };
            let sent = if found.credentials.is_some() {
                "refused the credentials from"
            } else {
                "wants credentials; looked in"
            };
            anyhow!("the registry {host} {sent} {} ({m}){ecr}", found.source)
        }
        RegistryFailure::TagImmutable(m) | RegistryFailure::Failed(m) => {
            anyhow!("pushing to {host}: {m}")
        }
    }
}

/// A registry client failure that ends the run: one line, exit 2 (the same sentences as
/// the engine's failures).
pub(crate) fn client_error(
    host: &str,
    found: &credentials::Found,
    e: registry::Error,
    cancel: &Cancel,
) -> anyhow::Error {
    match e.kind() {
        ErrorKind::Interrupted => cancel.interrupted().into(),
        ErrorKind::Unreachable | ErrorKind::Timeout => {
            anyhow!("cannot reach the registry {host}: {}", e.detail())
        }
        ErrorKind::Unauthorized | ErrorKind::Denied => registry_error(
            host,
            found,
            RegistryFailure::Unauthorized(format!("{}: {}", e.what(), e.detail())),
            cancel,
        ),
        _ => anyhow!("{e}"),
    }
}

/// What the registry holds under `digest`, checked as Lambda will (and the tag pointing at
/// it): `Ok(problems)`, empty when all is well; `r` gets the media type and platforms.
pub(crate) fn read_back(
    client: &registry::Client,
    target: &Target,
    digest: &str,
    want_arch: &str,
    r: &mut Pushed,
) -> std::result::Result<Vec<String>, registry::Error> {
    let dest = target.dest.to_string();
    let repo = target.dest.path.as_str();
    let tag = target.dest.tag_or_latest();
    let Some(head) = client.manifest_head(repo, tag)? else {
        return Ok(vec![format!(
            "{dest}: the registry has no such tag after the push"
        )]);
    };
    let read = match registry::manifest::read_back(client, repo, digest) {
        Ok(read) => read,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Invalid) => {
            return Ok(vec![format!("{e}")])
        }
        Err(e) => return Err(e),
    };
    r.media_type = Some(read.media_type.clone());
    r.platforms = read.platforms.clone();
    let mut problems = Vec::new();
    if head.digest != digest {
        problems.push(registry::manifest::Problem::Digest {
            stored: head.digest.clone(),
        });
    }
    problems.extend(registry::manifest::check(&read, digest, want_arch));
    Ok(problems.iter().map(|p| p.message(&dest, digest)).collect())
}

/// Verifies (unless done already), then pushes every target and reads it back. Environment
/// errors (registry unreachable, credentials refused, the engine) end the run as `Err`.
pub fn run(
    targets: &[Target],
    options: &Options,
    engine: &Engine,
    printer: &Printer,
    cancel: &Cancel,
) -> Result<Vec<Pushed>> {
    // Local images first: a missing one is the same error `verify` gives.
    let mut infos = Vec::new();
    for t in targets {
        let info = engine
            .inspect_image(&t.local)?
            .ok_or_else(|| crate::docker::not_in_engine(&t.local))?;
        infos.push(info);
    }
    let mut results: Vec<Pushed> = infos
        .iter()
        .map(|i| Pushed::new(Status::Pushed, &i.id))
        .collect();

    // The gate: every image, before anything is sent.
    if options.verify {
        for ((t, info), r) in targets.iter().zip(&infos).zip(results.iter_mut()) {
            if t.verified {
                r.verified = true;
                continue;
            }
            let gate = verify::gate::Gate {
                engine,
                printer,
                cancel,
                verify: true,
                smoke: true,
            };
            let subject = verify::gate::Subject {
                id: &info.id,
                name: &t.name,
                title: &t.title,
                plan: verify::Plan {
                    manifest: t.manifest.clone(),
                    options: verify::Options::defaults_for(t.arch.map(|a| a.oci_name())),
                },
                plan_key: &t.plan_key,
                smoke: &t.smoke,
            };
            let short = crate::reference::short_id(&info.id);
            let passage = gate.pass(&subject, &mut |state| {
                printer.status(match state {
                    verify::gate::State::Verifying => format!("{} | verifying {short}", t.title),
                    verify::gate::State::SmokeTests => format!("{} | smoke tests", t.title),
                })
            })?;
            if passage.verify.as_ref().is_some_and(|v| v.before) {
                printer.status(format!("{} | verified before ({short})", t.title));
            }
            r.verify_time = passage.verify_time;
            r.verified = true;
            match passage.refused {
                None => {}
                Some(verify::gate::Refusal::Checks) => {
                    r.status = Status::FailedVerify;
                    r.error = Some(failed_checks(
                        passage
                            .verify
                            .as_ref()
                            .map(|v| v.failed.as_slice())
                            .unwrap_or_default(),
                    ));
                }
                Some(verify::gate::Refusal::Smoke(failure)) => {
                    r.status = Status::FailedVerify;
                    r.error = Some(format!("{}; not pushed", failure.message));
                }
            }
            r.verify = passage.verify;
        }
        let any_failed = results.iter().any(|r| r.status == Status::FailedVerify);
        if any_failed && !options.keep_going {
            for r in results
                .iter_mut()
                .filter(|r| r.status != Status::FailedVerify)
            {
                r.status = Status::Held;
                r.error = Some(
                    "not pushed: another image failed verification (all or nothing; --keep-going pushes the ones that passed)"
                        .into(),
                );
            }
            return Ok(results);
        }
    }

    // Push and read back.
    for ((t, info), r) in targets.iter().zip(&infos).zip(results.iter_mut()) {
        if r.status != Status::Pushed {
            continue;
        }
        cancel.check()?;
        let host = t.dest.registry_host().to_string();
        let found = credentials::for_registry(&host)?;
        if let Some(c) = &found.credentials {
            if docker::auth_header_is_garbled(c) {
                bail!(
                    "the credentials for {host} (from {}) cannot be sent through the Docker Engine API by this version: \
                     the Engine API client of this version encodes them in standard base64, which the engine cannot decode and would ignore \
                     (it would then say \"no basic auth credentials\"); use a password without `>`, `?`, `~` or \
                     non-ASCII characters, an identity token, or `docker push` for now",
                    found.source
                );
            }
        }
        let creds = found.credentials.as_ref();
        let dest = t.dest.to_string();
        let tag = t.dest.tag_or_latest().to_string();
        let repository = t.dest.repository();
        let client = registry::Client::new(
            &host,
            &registry::Options {
                timeout: options.timeout,
                insecure: options.insecure_registries.clone(),
                cancel: Some(cancel.clone()),
                ..registry::Options::default()
            },
        )
        .map_err(|e| anyhow!("{e}"))?
        .with_credentials(found.clone());
        let want_arch = t
            .arch
            .map(|a| a.oci_name().to_string())
            .unwrap_or_else(|| info.architecture.clone());

        // Already there?
        let current = match client.manifest_head(&t.dest.path, &tag) {
            Ok(m) => m,
            Err(e) if matches!(e.kind(), ErrorKind::Status | ErrorKind::Invalid) => None,
            Err(e) => return Err(client_error(&host, &found, e, cancel)),
        };
        if let Some(m) = &current {
            let local_digest = info
                .repo_digests
                .iter()
                .find_map(|d| d.strip_prefix(&format!("{repository}@")).map(String::from));
            if local_digest.as_deref() == Some(m.digest.as_str()) {
                r.digest = Some(m.digest.clone());
                let problems = read_back(&client, t, &m.digest, &want_arch, r)
                    .map_err(|e| client_error(&host, &found, e, cancel))?;
                if !problems.is_empty() {
                    r.status = Status::FailedReadBack;
                    r.error = Some(problems.join("; "));
                    continue;
                }
                r.status = Status::AlreadyPushed;
                printer.status(format!(
                    "{} | already pushed {repository}@{}",
                    t.title, m.digest
                ));
                continue;
            }
        }

        // Push. The local tag the engine pushes from is removed again, when this run made
        // it, unless the push succeeds (a failure, an error, a signal).
        let made_tag = !info.repo_tags.contains(&dest);
        engine.tag_image(&info.id, &repository, &tag)?;
        let mut made = MadeTag {
            engine,
            name: made_tag.then(|| dest.clone()),
        };
        printer.status(format!("{} | pushing {dest}", t.title));
        let started = Instant::now();
        let bar = printer.spinner("{prefix:.bold} {wide_msg} {elapsed}");
        bar.set_prefix(t.title.clone());
        bar.set_message(format!("{dest}: preparing"));
        // On a terminal, a bar per layer being sent under the image's line.
        let mut layers = layers::Layers::of(info.layers);
        let mut layer_bars: Vec<indicatif::ProgressBar> = Vec::new();
        let mut on_event = |e: PushEvent| {
            let changed = layers.observe(&e);
            if printer.progress() {
                if let Some((i, l)) = changed.and_then(|i| layers.sent.get(i).map(|l| (i, l))) {
                    while layer_bars.len() <= i {
                        let n = layer_bars.len() + 1;
                        let b = printer.bar(
                            l.total,
                            "    {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                        );
                        b.set_message(format!("layer {n}"));
                        layer_bars.push(b);
                    }
                    if let Some(b) = layer_bars.get(i) {
                        b.set_position(l.current);
                        if l.done {
                            b.set_message(format!("layer {} sent", i + 1));
                            b.finish();
                        }
                    }
                }
                bar.set_message(format!(
                    "{dest}: {}/{} layers done",
                    layers.finished(),
                    layers.count()
                ));
            } else {
                // Plain lines: one per finished layer; the engine's other states with -v.
                let of = layers.count();
                let finished = layers.finished();
                if e.status == "Pushed" {
                    let size = changed
                        .and_then(|i| layers.sent.get(i))
                        .map(|l| format!(" ({})", verify::human_bytes(l.total)))
                        .unwrap_or_default();
                    printer.status(format!("{} | layer {finished}/{of} sent{size}", t.title));
                } else if e.status == "Layer already exists"
                    || e.status.starts_with("Mounted from ")
                {
                    printer.status(format!(
                        "{} | layer {finished}/{of} already in the registry",
                        t.title
                    ));
                } else if !matches!(e.status.as_str(), "Pushing" | "Preparing" | "Waiting") {
                    printer.detail(format!("{} | {}", t.title, e.status));
                }
            }
        };
        let pushed = engine.push(
            &repository,
            &tag,
            creds,
            &mut on_event,
            cancel,
            options.timeout,
        );
        for b in &layer_bars {
            printer.remove(b);
        }
        printer.remove(&bar);
        r.push_time = Some(started.elapsed());
        let digest = match pushed {
            Ok(d) => d,
            Err(RegistryFailure::TagImmutable(m)) => {
                r.status = Status::Failed;
                r.error = Some(format!(
                    "{dest} already exists with digest {} and the registry does not overwrite tags (immutable tags); this image is {}; push it under a new tag ({m})",
                    current.as_ref().map_or("unknown", |c| c.digest.as_str()),
                    info.repo_digests.first().map_or(info.id.as_str(), String::as_str)
                ));
                continue;
            }
            Err(RegistryFailure::Failed(m)) => {
                r.status = Status::Failed;
                r.error = Some(format!("pushing {dest}: {m}"));
                continue;
            }
            Err(RegistryFailure::Interrupted) => return Err(cancel.interrupted().into()),
            Err(e) => return Err(registry_error(&host, &found, e, cancel)),
        };
        r.digest = Some(digest.clone());

        // Read back, through the registry client: what the registry holds, not what the
        // engine says.
        let problems = read_back(&client, t, &digest, &want_arch, r)
            .map_err(|e| client_error(&host, &found, e, cancel))?;
        if !problems.is_empty() {
            r.status = Status::FailedReadBack;
            r.error = Some(problems.join("; "));
            continue;
        }
        made.keep();
        printer.status(format!(
            "{} | pushed {repository}@{digest} ({}; {}, in {:.1} s)",
            t.title,
            r.media_type.as_deref().unwrap_or_default(),
            layers.summary(),
            r.push_time.unwrap_or_default().as_secs_f64()
        ));
    }
    Ok(results)
}

/// A local tag a push made, removed when dropped unless kept: every way out of a push but
/// success (a failed push, an error, a signal) takes it away again.
struct MadeTag<'a> {
    engine: &'a Engine,
    /// `None`: the tag was there before this run (or is kept).
    name: Option<String>,
}

impl MadeTag<'_> {
    fn keep(&mut self) {
        self.name = None;
    }
}

impl Drop for MadeTag<'_> {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = self.engine.untag(&name);
        }
    }
}

/// Why an image failing its gate is not pushed: its failed checks, on one line.
pub(crate) fn failed_checks(failed: &[crate::verify::Check]) -> String {
    format!(
        "{} verify check{} failed: {}; not pushed",
        failed.len(),
        if failed.len() == 1 { "" } else { "s" },
        failed
            .iter()
            .map(|c| format!("{}: {}", c.name, c.located()))
            .collect::<Vec<_>>()
            .join("; ")
    )
}
