//! The registry as the build's memory across machines. An image that was built, passed the
//! gate and was pushed carries, in its destination repository, a tag derived from its
//! inputs hash: `li-` and the hash's first 16 hex digits. A later `build --push` anywhere
//! (a fresh CI runner with an empty engine and cache folder) computes the same hash from the
//! same inputs, finds that tag, and instead of building points the requested tag at that
//! manifest with one manifest `PUT`: no build, no pull, no layer sent. The hash tag never
//! moves (inputs that hash alike built it), so repositories with immutable tags work. A base
//! takes part in the hash by its registry digest ([`base_identity`]), so an upstream update
//! behind the same tag is a changed input.

use std::time::Duration;

use anyhow::Result;

use super::pipeline::Base;
use crate::reference::Reference;
use crate::registry::{self, credentials, Client, Manifest};

/// The tag that remembers an inputs hash (`sha256:…`).
pub fn hash_tag(inputs_hash: &str) -> String {
    let hex = inputs_hash.strip_prefix("sha256:").unwrap_or(inputs_hash);
    format!("li-{}", hex.chars().take(16).collect::<String>())
}

/// How the registry is reached.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub insecure: Vec<String>,
    pub timeout: Duration,
}

fn client(host: &str, reach: &Reach, attempts: u32) -> Result<Client> {
    let found = credentials::for_registry(host)?;
    let options = registry::Options {
        timeout: if reach.timeout.is_zero() {
            registry::Options::default().timeout
        } else {
            reach.timeout
        },
        insecure: reach.insecure.clone(),
        attempts,
        ..registry::Options::default()
    };
    Ok(Client::new(host, &options)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_credentials(found))
}

/// What the registry remembers of `inputs_hash` in `dest`'s repository: the manifest the
/// hash tag names, or `None`.
pub fn recall(dest: &Reference, inputs_hash: &str, reach: &Reach) -> Result<Option<Manifest>> {
    let c = client(dest.registry_host(), reach, 3)?;
    c.manifest(&dest.path, &hash_tag(inputs_hash))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Points `dest`'s tag at `manifest` (a `PUT` unless it already names it); its digest.
pub fn point(dest: &Reference, manifest: &Manifest, reach: &Reach) -> Result<String> {
    let c = client(dest.registry_host(), reach, 3)?;
    let tag = dest.tag_or_latest();
    if let Ok(Some(head)) = c.manifest_head(&dest.path, tag) {
        if head.digest == manifest.digest {
            return Ok(head.digest);
        }
    }
    c.put_manifest(&dest.path, tag, manifest)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// After a push: the hash tag for `inputs_hash` names the pushed `digest` in `dest`'s
/// repository (left alone when it already exists: it never moves).
pub fn remember(dest: &Reference, digest: &str, inputs_hash: &str, reach: &Reach) -> Result<()> {
    let c = client(dest.registry_host(), reach, 3)?;
    let tag = hash_tag(inputs_hash);
    if c.manifest_head(&dest.path, &tag)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_some()
    {
        return Ok(());
    }
    let manifest = c
        .manifest(&dest.path, digest)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the pushed {digest} is not in {}",
                dest.repository(),
                dest.registry_host()
            )
        })?;
    c.put_manifest(&dest.path, &tag, &manifest)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// A base as the inputs hash takes it: by its registry digest (`repo@sha256:…`, from the
/// engine's repo digests, or the registry's answer for its tag when the engine does not
/// have it), else by the engine's image id (an image only this engine has), else
/// `missing`.
pub fn base_identity(base: &Base) -> String {
    let Ok(reference) = base.reference.parse::<Reference>() else {
        return base.id.clone().unwrap_or_else(|| "missing".into());
    };
    if let Some(digest) = &reference.digest {
        return format!("{}@{digest}", reference.repository());
    }
    let same_repository = |r: &Reference| {
        r.repository() == reference.repository()
            || (r.registry_host() == reference.registry_host()
                && r.path.trim_start_matches("library/")
                    == reference.path.trim_start_matches("library/"))
    };
    for rd in &base.repo_digests {
        if let Ok(r) = rd.parse::<Reference>() {
            if let (true, Some(d)) = (same_repository(&r), &r.digest) {
                return format!("{}@{d}", reference.repository());
            }
        }
    }
    if let Some(id) = &base.id {
        return id.clone();
    }
    base.registry_digest
        .as_ref()
        .map(|d| format!("{}@{d}", reference.repository()))
        .unwrap_or_else(|| "missing".into())
}

/// The registry's digest for a base the engine does not have (`None` when the registry
/// cannot say: the build will tell why).
pub fn remote_digest(reference: &str) -> Option<String> {
    let r: Reference = reference.parse().ok()?;
    let c = client(
        r.registry_host(),
        &Reach {
            insecure: Vec::new(),
            timeout: Duration::from_secs(10),
        },
        1,
    )
    .ok()?;
    c.manifest_head(&r.path, r.tag_or_latest())
        .ok()
        .flatten()
        .map(|h| h.digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_tag_is_short_and_stable() {
        assert_eq!(
            hash_tag("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            "li-0123456789abcdef"
        );
    }

    #[test]
    fn a_base_is_known_by_its_registry_digest_first() {
        let d = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let base = |repo_digests: Vec<String>, id: Option<&str>, remote: Option<&str>| Base {
            reference: "public.ecr.aws/lambda/python:3.13".into(),
            id: id.map(String::from),
            repo_digests,
            registry_digest: remote.map(String::from),
        };
        let by_digest = format!("public.ecr.aws/lambda/python@{d}");
        // Two engines with different local ids but the same pulled image: one identity.
        assert_eq!(
            base_identity(&base(vec![by_digest.clone()], Some("sha256:1"), None)),
            by_digest
        );
        assert_eq!(
            base_identity(&base(vec![by_digest.clone()], Some("sha256:2"), None)),
            by_digest
        );
        // Not in the engine: the registry's answer.
        assert_eq!(base_identity(&base(vec![], None, Some(d))), by_digest);
        // Only this engine has it (imported): its id.
        assert_eq!(
            base_identity(&base(vec![], Some("sha256:1"), None)),
            "sha256:1"
        );
        assert_eq!(base_identity(&base(vec![], None, None)), "missing");
    }
}
