//! Pushing: only verified images reach the registry, and what it stored is read back.
//!
//! This module owns what is pushed where ([`targets`]: the destination rule, `--to`, the
//! spec's `push.repository`, the config's `push.to`), the gate (every image verified
//! before anything is sent; all-or-nothing unless `keep_going`), the push itself through
//! [`crate::docker`] ([`engine`]) or, for an archive, through our registry client
//! ([`archive`]), the read-back through that client (with the credentials the docker CLI
//! would use): what the registry holds under the pushed digest must be one single-platform
//! image manifest (Docker v2 schema 2 or OCI), for the function's architecture (read from
//! the config blob), with gzip layers only, and the tag must point at it — what Lambda
//! accepts — and the run's [`report`]. An image the registry already has under the tag is
//! "already pushed": nothing is sent, and what the registry holds is checked the same way.

pub mod archive;
pub mod built;
pub mod engine;
pub mod layers;
pub mod report;
pub mod targets;

use std::time::Duration;

use anyhow::{anyhow, Result};

pub use engine::{run, Local, Session};
pub use targets::{build_targets, destination, spec_target, Target};

use crate::building::pipeline::VerifySummary;
use crate::cancel::Cancel;
use crate::docker::RegistryFailure;
use crate::progress::Printer;
use crate::registry::{self, credentials, ErrorKind};

/// Seconds to wait for a registry when neither the flag nor the config says.
pub const DEFAULT_TIMEOUT: u64 = 30;

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

    /// Ends the image as `status` with `error`.
    fn end(&mut self, status: Status, error: String) {
        self.status = status;
        self.error = Some(error);
    }
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

/// The destination's registry, reached through our registry client with the credentials
/// the docker CLI would use: what it holds under a tag, and the read-back of a push.
pub(crate) struct Registry<'a> {
    pub host: String,
    pub found: credentials::Found,
    pub client: registry::Client,
    cancel: &'a Cancel,
}

impl<'a> Registry<'a> {
    /// A client for `host` with the credentials `found` for it.
    pub fn new(
        host: String,
        found: credentials::Found,
        options: &Options,
        cancel: &'a Cancel,
    ) -> Result<Registry<'a>> {
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
        Ok(Registry {
            host,
            found,
            client,
            cancel,
        })
    }

    /// A registry client failure that ends the run: one line, exit 2 (the same sentences
    /// as the engine's failures).
    pub fn fail(&self, e: registry::Error) -> anyhow::Error {
        match e.kind() {
            ErrorKind::Interrupted => self.cancel.interrupted().into(),
            ErrorKind::Unreachable | ErrorKind::Timeout => {
                anyhow!("cannot reach the registry {}: {}", self.host, e.detail())
            }
            ErrorKind::Unauthorized | ErrorKind::Denied => self.refused(
                RegistryFailure::Unauthorized(format!("{}: {}", e.what(), e.detail())),
            ),
            _ => anyhow!("{e}"),
        }
    }

    /// An engine push's failure to use the registry: one line, exit 2.
    pub fn refused(&self, failure: RegistryFailure) -> anyhow::Error {
        registry_error(&self.host, &self.found, failure, self.cancel)
    }

    /// The manifest the registry has under `target`'s tag now (none when it says so, or
    /// answers that oddly).
    pub fn current(&self, target: &Target) -> Result<Option<registry::Head>> {
        match self
            .client
            .manifest_head(&target.dest.path, target.dest.tag_or_latest())
        {
            Ok(m) => Ok(m),
            Err(e) if matches!(e.kind(), ErrorKind::Status | ErrorKind::Invalid) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Reads back what the registry holds under `digest` (see [`read_back`]); a problem
    /// fails the image (`Ok(false)`).
    pub fn stored(
        &self,
        target: &Target,
        digest: &str,
        want_arch: &str,
        r: &mut Pushed,
    ) -> Result<bool> {
        let problems =
            read_back(&self.client, target, digest, want_arch, r).map_err(|e| self.fail(e))?;
        if !problems.is_empty() {
            r.end(Status::FailedReadBack, problems.join("; "));
        }
        Ok(problems.is_empty())
    }

    /// The registry has the image under the tag already (`digest`): checked, not sent.
    pub fn already_pushed(
        &self,
        target: &Target,
        digest: &str,
        want_arch: &str,
        r: &mut Pushed,
        printer: &Printer,
    ) -> Result<()> {
        r.digest = Some(digest.to_string());
        if self.stored(target, digest, want_arch, r)? {
            r.status = Status::AlreadyPushed;
            printer.status(format!(
                "{} | already pushed {}@{digest}",
                target.title,
                target.dest.repository()
            ));
        }
        Ok(())
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
