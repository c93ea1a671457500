//! Image sources: which image an archive or layout holds, with its config and layer list.
//! Every JSON blob on the way is checked against its descriptor (digest and size).

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use super::layer::sha256_digest;
use super::oci::{Descriptor, DockerArchiveEntry, ImageConfig, ImageManifest, Index, Platform};
use super::store::{normalise_relative, Store};
use super::DigestRecord;

/// Largest JSON document (index, manifest, config) we read.
const MAX_JSON: u64 = 16 * 1024 * 1024;
/// Deepest index nesting we follow.
const MAX_INDEX_DEPTH: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `docker save` before Engine 25: `manifest.json` and `<id>/layer.tar`.
    DockerArchive,
    /// `docker save` from Engine 25 on: an OCI layout plus `manifest.json`.
    DockerArchiveOci,
    /// An OCI image layout in a tar file.
    OciArchive,
    /// An OCI image layout directory.
    OciLayout,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::DockerArchiveOci => "docker-archive-oci",
            Format::OciArchive => "oci-archive",
            Format::OciLayout => "oci-layout",
        }
    }

    /// Whether the image came with an OCI index (and so can hold several platforms).
    pub fn has_index(self) -> bool {
        !matches!(self, Format::DockerArchive)
    }
}

/// One layer to stream.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// Path of the blob inside the store.
    pub path: String,
    /// Expected blob digest and size, when the format records them.
    pub digest: Option<String>,
    pub size: Option<u64>,
    pub media_type: Option<String>,
    /// The config's `rootfs.diff_ids` entry for this layer.
    pub diff_id: String,
}

/// What the index chain looks like (Lambda wants one image manifest, domain.md §3).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlatformInfo {
    /// An image index (other than the layout's own `index.json`) was on the way.
    pub nested_index: bool,
    /// `os/arch[/variant]` of every image manifest found.
    pub platforms: Vec<String>,
    /// Attestation manifests (provenance, SBOM) found.
    pub attestations: usize,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub format: Format,
    pub manifest_digest: Option<String>,
    pub config_digest: String,
    /// Where the config's bytes are in the store.
    pub config_path: String,
    pub config: ImageConfig,
    pub layers: Vec<LayerRef>,
    pub tags: Vec<String>,
    pub platform: PlatformInfo,
    pub digests: Vec<DigestRecord>,
}

pub fn blob_path(digest: &str) -> Result<String> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| anyhow!("unsupported digest {digest}: only sha256 is supported"))?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        bail!("malformed digest {digest:?}");
    }
    Ok(format!("blobs/sha256/{hex}"))
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| anyhow!("{what} is not valid: {e}"))
}

/// Reads a JSON blob named by a descriptor and records whether digest and size match.
fn read_blob(
    store: &dyn Store,
    desc: &Descriptor,
    what: &str,
    digests: &mut Vec<DigestRecord>,
) -> Result<Vec<u8>> {
    let path = blob_path(&desc.digest)?;
    if store.size(&path).is_none() {
        bail!(
            "missing blob {} ({what}) in {}",
            desc.digest,
            store.location().display()
        );
    }
    let bytes = store.read_small(&path, MAX_JSON)?;
    digests.push(DigestRecord {
        subject: what.to_string(),
        layer: None,
        expected: desc.digest.clone(),
        actual: sha256_digest(&bytes),
        expected_size: Some(desc.size),
        actual_size: bytes.len() as u64,
    });
    Ok(bytes)
}

fn platform_name(desc: &Descriptor) -> String {
    match &desc.platform {
        Some(p) => match &p.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{}", p.os, p.architecture, v),
            _ => format!("{}/{}", p.os, p.architecture),
        },
        None => "unknown platform".to_string(),
    }
}

/// Finds the image in a store.
pub fn resolve(store: &dyn Store, want_arch: Option<&str>) -> Result<Resolved> {
    let has_index = store.size("index.json").is_some();
    let has_manifest = store.size("manifest.json").is_some();
    if has_index {
        let format = if store.is_dir() {
            Format::OciLayout
        } else if has_manifest {
            Format::DockerArchiveOci
        } else {
            Format::OciArchive
        };
        return resolve_oci(store, format, want_arch);
    }
    if has_manifest {
        return resolve_docker(store);
    }
    bail!(
        "{} is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)",
        store.location().display()
    )
}

fn resolve_docker(store: &dyn Store) -> Result<Resolved> {
    let location = store.location().display().to_string();
    let bytes = store.read_small("manifest.json", MAX_JSON)?;
    let entries: Vec<DockerArchiveEntry> =
        parse_json(&bytes, &format!("manifest.json in {location}"))?;
    let entry = match entries.as_slice() {
        [one] => one.clone(),
        [] => bail!("manifest.json in {location} lists no image"),
        many => bail!(
            "{location} holds {} images ({}); save one image per archive",
            many.len(),
            many.iter()
                .map(|e| e.repo_tags.clone().unwrap_or_default().join(" "))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut digests = Vec::new();
    let config_bytes = store
        .read_small(&entry.config, MAX_JSON)
        .with_context(|| format!("reading the image config {}", entry.config))?;
    let config_digest = sha256_digest(&config_bytes);
    // The config file is named by its digest (`<hex>.json` or `blobs/sha256/<hex>`).
    let stem = entry
        .config
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".json");
    if stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()) {
        digests.push(DigestRecord {
            subject: "config".into(),
            layer: None,
            expected: format!("sha256:{stem}"),
            actual: config_digest.clone(),
            expected_size: None,
            actual_size: config_bytes.len() as u64,
        });
    }
    let config: ImageConfig = parse_json(&config_bytes, &format!("image config {}", entry.config))?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != entry.layers.len() {
        bail!(
            "image config {} lists {} diff_ids but manifest.json lists {} layers",
            entry.config,
            diff_ids.len(),
            entry.layers.len()
        );
    }
    let mut layers = Vec::new();
    for (i, (path, diff_id)) in entry.layers.iter().zip(diff_ids).enumerate() {
        let key = normalise_relative(path).ok_or_else(|| {
            anyhow!("manifest.json names layer {path:?}, which is outside the archive")
        })?;
        store.size(&key).ok_or_else(|| {
            anyhow!(
                "missing layer {path} (layer {} of {}) in {location}",
                i + 1,
                entry.layers.len()
            )
        })?;
        // Docker ≥ 25 names layers by blob digest; older ones by a v1 id that is no digest.
        let digest = key
            .strip_prefix("blobs/sha256/")
            .filter(|hex| hex.len() == 64)
            .map(|hex| format!("sha256:{hex}"));
        layers.push(LayerRef {
            path: key,
            digest,
            size: None,
            media_type: None,
            diff_id,
        });
    }
    Ok(Resolved {
        format: Format::DockerArchive,
        manifest_digest: None,
        config_digest,
        config_path: entry.config.clone(),
        config,
        layers,
        tags: entry.repo_tags.unwrap_or_default(),
        platform: PlatformInfo::default(),
        digests,
    })
}

struct Leaf {
    desc: Descriptor,
    name: Option<String>,
}

fn walk_index(
    store: &dyn Store,
    manifests: &[Descriptor],
    depth: usize,
    name: Option<&str>,
    platform: &mut PlatformInfo,
    leaves: &mut Vec<Leaf>,
    digests: &mut Vec<DigestRecord>,
) -> Result<()> {
    if depth > MAX_INDEX_DEPTH {
        bail!("image indexes nested more than {MAX_INDEX_DEPTH} deep");
    }
    for desc in manifests {
        let ref_name = desc
            .annotations
            .get("io.containerd.image.name")
            .or_else(|| desc.annotations.get("org.opencontainers.image.ref.name"))
            .map(String::as_str)
            .or(name);
        if desc.is_index() {
            platform.nested_index = true;
            let bytes = read_blob(store, desc, "image index", digests)?;
            let index: Index = parse_json(&bytes, &format!("image index {}", desc.digest))?;
            walk_index(
                store,
                &index.manifests,
                depth + 1,
                ref_name,
                platform,
                leaves,
                digests,
            )?;
        } else if desc.is_attestation() {
            platform.attestations += 1;
        } else if leaves.iter().any(|l| l.desc.digest == desc.digest) {
            // The same manifest under another tag.
            continue;
        } else {
            let mut desc = desc.clone();
            if desc.platform.is_none() {
                desc.platform = platform_from_config(store, &desc);
            }
            platform.platforms.push(platform_name(&desc));
            leaves.push(Leaf {
                desc,
                name: ref_name.map(str::to_string),
            });
        }
    }
    Ok(())
}

/// The platform of an image manifest whose descriptor does not name one (some tools leave
/// it out), read from its config; `None` when the blobs are missing or unreadable (the
/// chosen manifest's own read reports that).
fn platform_from_config(store: &dyn Store, desc: &Descriptor) -> Option<Platform> {
    let mut scratch = Vec::new();
    let bytes = read_blob(store, desc, "image manifest", &mut scratch).ok()?;
    let manifest: ImageManifest = serde_json::from_slice(&bytes).ok()?;
    let config = read_blob(store, &manifest.config, "config", &mut scratch).ok()?;
    let config: ImageConfig = serde_json::from_slice(&config).ok()?;
    if config.architecture.is_empty() {
        return None;
    }
    Some(Platform {
        architecture: config.architecture,
        os: config.os,
        variant: config.variant,
    })
}

fn resolve_oci(store: &dyn Store, format: Format, want_arch: Option<&str>) -> Result<Resolved> {
    let location = store.location().display().to_string();
    let bytes = store.read_small("index.json", MAX_JSON)?;
    let index: Index = parse_json(&bytes, &format!("index.json in {location}"))?;
    let mut platform = PlatformInfo::default();
    let mut leaves = Vec::new();
    let mut digests = Vec::new();
    // Distinct images (not platforms of one image) at the top: refuse, like `manifest.json`.
    let mut names: Vec<&str> = index
        .manifests
        .iter()
        .filter_map(|d| {
            d.annotations
                .get("io.containerd.image.name")
                .or_else(|| d.annotations.get("org.opencontainers.image.ref.name"))
                .map(String::as_str)
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    // Several tags of one image share a digest: that is still one image.
    let mut digests_named: Vec<&str> = index
        .manifests
        .iter()
        .filter(|d| {
            d.annotations.contains_key("io.containerd.image.name")
                || d.annotations
                    .contains_key("org.opencontainers.image.ref.name")
        })
        .map(|d| d.digest.as_str())
        .collect();
    digests_named.sort_unstable();
    digests_named.dedup();
    if names.len() > 1 && digests_named.len() > 1 {
        bail!(
            "{location} holds {} images ({}); save one image per archive",
            names.len(),
            names.join(", ")
        );
    }
    walk_index(
        store,
        &index.manifests,
        0,
        None,
        &mut platform,
        &mut leaves,
        &mut digests,
    )?;
    if leaves.is_empty() {
        bail!("index.json in {location} lists no image manifest");
    }
    // Prefer the requested architecture, then amd64, then the first; skip platforms whose
    // manifest is not in the archive (the containerd store saves only the local one).
    let present = |leaf: &&Leaf| {
        blob_path(&leaf.desc.digest)
            .ok()
            .and_then(|p| store.size(&p))
            .is_some()
    };
    let arch_of = |leaf: &&Leaf| {
        leaf.desc
            .platform
            .as_ref()
            .map(|p| p.architecture.clone())
            .unwrap_or_default()
    };
    let chosen = leaves
        .iter()
        .filter(present)
        .find(|l| want_arch.is_some_and(|a| arch_of(l) == a))
        .or_else(|| {
            leaves
                .iter()
                .filter(present)
                .find(|l| arch_of(l) == "amd64")
        })
        .or_else(|| leaves.iter().find(|l| present(l)))
        .or_else(|| leaves.first())
        .ok_or_else(|| anyhow!("index.json in {location} lists no image manifest"))?;
    let manifest_bytes = read_blob(store, &chosen.desc, "image manifest", &mut digests)?;
    let manifest: ImageManifest = parse_json(
        &manifest_bytes,
        &format!("image manifest {}", chosen.desc.digest),
    )?;
    let config_bytes = read_blob(store, &manifest.config, "config", &mut digests)?;
    let config: ImageConfig = parse_json(
        &config_bytes,
        &format!("image config {}", manifest.config.digest),
    )?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != manifest.layers.len() {
        bail!(
            "image config {} lists {} diff_ids but the manifest lists {} layers",
            manifest.config.digest,
            diff_ids.len(),
            manifest.layers.len()
        );
    }
    let total = manifest.layers.len();
    let mut layers = Vec::new();
    for (i, (desc, diff_id)) in manifest.layers.iter().zip(diff_ids).enumerate() {
        let path = blob_path(&desc.digest)?;
        if store.size(&path).is_none() {
            bail!(
                "missing blob {} (layer {} of {total}) in {location}",
                desc.digest,
                i + 1
            );
        }
        layers.push(LayerRef {
            path,
            digest: Some(desc.digest.clone()),
            size: Some(desc.size),
            media_type: Some(desc.media_type.clone()),
            diff_id,
        });
    }
    Ok(Resolved {
        format,
        manifest_digest: Some(chosen.desc.digest.clone()),
        config_digest: manifest.config.digest.clone(),
        config_path: blob_path(&manifest.config.digest)?,
        config,
        layers,
        tags: chosen.name.clone().into_iter().collect(),
        platform,
        digests,
    })
}
