//! Manifests as a registry serves them: the media types asked for, the manifest bytes and
//! digest, and the read-back checks `push` runs on what the registry stored, returned as
//! data ([`Problem`]) and never printed.
//!
//! The read-back ([`read_back`]) fetches the manifest by the pushed digest and, for an image
//! manifest, its config blob; [`check`] then wants one single-platform image manifest
//! (Docker v2 schema 2 or OCI: no index, no attestation), the pushed digest, the function's
//! architecture (from the config blob, not from what the engine says) and gzip layers only
//! (an uncompressed or zstd layer is what Lambda refuses with `UnsupportedImageLayerDetected`).

use crate::image::oci::{self, ImageConfig, LayerMedia};
use crate::verify::lambda::{INDEX_ERROR, LAYER_ERROR};

use super::{Client, Error, ErrorKind};

/// What the client accepts for a manifest: Docker v2 and OCI manifests and indexes.
pub const ACCEPT: &[&str] = &[
    oci::DOCKER_MANIFEST,
    oci::OCI_MANIFEST,
    oci::DOCKER_MANIFEST_LIST,
    oci::OCI_INDEX,
];

/// Media types Lambda accepts for an image manifest.
pub const LAMBDA_MEDIA_TYPES: &[&str] = &[oci::DOCKER_MANIFEST, oci::OCI_MANIFEST];

/// The largest manifest read (the distribution spec's own limit is 4 MiB).
pub const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
/// The largest image config read.
pub const MAX_CONFIG: u64 = 16 * 1024 * 1024;

/// What a manifest HEAD says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// A manifest: its media type, digest and exact bytes (the digest is of these bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Manifest {
    /// A manifest of these bytes (the digest computed).
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Manifest {
        Manifest {
            media_type: media_type.to_string(),
            digest: crate::image::layer::sha256_digest(&bytes),
            bytes,
        }
    }

    pub fn is_index(&self) -> bool {
        self.media_type == oci::OCI_INDEX || self.media_type == oci::DOCKER_MANIFEST_LIST
    }
}

/// The media type of a manifest: the `Content-Type` the registry sent, else (missing or
/// generic JSON) the document's own `mediaType`.
pub fn media_type_of(content_type: Option<&str>, bytes: &[u8]) -> String {
    let header = content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "text/plain");
    if let Some(h) = header {
        return h.to_string();
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Typed {
        #[serde(default)]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Typed>(bytes)
        .ok()
        .and_then(|t| t.media_type)
        .unwrap_or_default()
}

/// One layer as the manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
}

/// What the registry holds under a digest, as far as Lambda cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    pub media_type: String,
    pub digest: String,
    /// `os/architecture[/variant]`: from the config blob for an image manifest, from the
    /// entries for an index (attestations left out).
    pub platforms: Vec<String>,
    /// Attestation manifests in an index.
    pub attestations: usize,
    pub layers: Vec<Layer>,
}

fn platform_name(os: &str, architecture: &str, variant: Option<&str>) -> String {
    match variant.filter(|v| !v.is_empty()) {
        Some(v) => format!("{os}/{architecture}/{v}"),
        None => format!("{os}/{architecture}"),
    }
}

/// Reads `repo@digest` (and its config blob) from the registry.
pub fn read_back(client: &Client, repo: &str, digest: &str) -> Result<ReadBack, Error> {
    let what = format!("reading manifest {repo}@{digest}");
    let manifest = client.manifest(repo, digest)?.ok_or_else(|| {
        client.error(
            ErrorKind::NotFound,
            &what,
            "the registry has no such manifest",
        )
    })?;
    let invalid = |e: serde_json::Error| {
        client.error(
            ErrorKind::Invalid,
            &what,
            &format!("not a {} document: {e}", manifest.media_type),
        )
    };
    if manifest.is_index() {
        let index: oci::Index = serde_json::from_slice(&manifest.bytes).map_err(invalid)?;
        let (attest, images): (Vec<_>, Vec<_>) =
            index.manifests.iter().partition(|d| d.is_attestation());
        return Ok(ReadBack {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.clone(),
            platforms: images
                .iter()
                .map(|d| match &d.platform {
                    Some(p) => platform_name(&p.os, &p.architecture, p.variant.as_deref()),
                    None => "unknown platform".into(),
                })
                .collect(),
            attestations: attest.len(),
            layers: Vec::new(),
        });
    }
    if !LAMBDA_MEDIA_TYPES.contains(&manifest.media_type.as_str()) {
        return Ok(ReadBack {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.clone(),
            platforms: Vec::new(),
            attestations: 0,
            layers: Vec::new(),
        });
    }
    let image: oci::ImageManifest = serde_json::from_slice(&manifest.bytes).map_err(invalid)?;
    let config_bytes = client.blob(repo, &image.config.digest, MAX_CONFIG)?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes).map_err(|e| {
        client.error(
            ErrorKind::Invalid,
            &format!("reading the image config {}", image.config.digest),
            &format!("not an image config: {e}"),
        )
    })?;
    Ok(ReadBack {
        media_type: manifest.media_type.clone(),
        digest: manifest.digest.clone(),
        platforms: vec![platform_name(
            &config.os,
            &config.architecture,
            config.variant.as_deref(),
        )],
        attestations: 0,
        layers: image
            .layers
            .iter()
            .map(|l| Layer {
                digest: l.digest.clone(),
                media_type: l.media_type.clone(),
                size: l.size,
            })
            .collect(),
    })
}

/// Why what the registry holds is not what Lambda takes (or not what was pushed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An index (or another kind of document), not one image manifest.
    NotSingleImage {
        media_type: String,
        platforms: Vec<String>,
        attestations: usize,
    },
    /// The registry's manifest is not the pushed one.
    Digest { stored: String },
    /// The image is for another architecture than the function.
    Architecture {
        platforms: Vec<String>,
        want: String,
    },
    /// Layers that are not gzip: (1-based index, the layer, its kind).
    Layers {
        bad: Vec<(usize, Layer, LayerMedia)>,
        of: usize,
    },
}

/// The read-back checks: `pushed` is the digest the push reported, `want_arch` the OCI
/// architecture the function uses (`amd64`, `arm64`).
pub fn check(read: &ReadBack, pushed: &str, want_arch: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    if read.digest != pushed {
        out.push(Problem::Digest {
            stored: read.digest.clone(),
        });
    }
    if !LAMBDA_MEDIA_TYPES.contains(&read.media_type.as_str()) {
        out.push(Problem::NotSingleImage {
            media_type: read.media_type.clone(),
            platforms: read.platforms.clone(),
            attestations: read.attestations,
        });
        return out;
    }
    let want = format!("linux/{want_arch}");
    if !read
        .platforms
        .iter()
        .any(|p| p == &want || p.starts_with(&format!("{want}/")))
    {
        out.push(Problem::Architecture {
            platforms: read.platforms.clone(),
            want: want_arch.to_string(),
        });
    }
    let bad: Vec<(usize, Layer, LayerMedia)> = read
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l.clone(), LayerMedia::of(&l.media_type)))
        .filter(|(_, _, kind)| *kind != LayerMedia::Gzip)
        .collect();
    if !bad.is_empty() {
        out.push(Problem::Layers {
            bad,
            of: read.layers.len(),
        });
    }
    out
}

impl Problem {
    /// One line for `dest` (`127.0.0.1:5000/orders:v1`), with Lambda's own error and the fix.
    pub fn message(&self, dest: &str, pushed: &str) -> String {
        match self {
            Problem::NotSingleImage {
                media_type,
                platforms,
                attestations,
            } => {
                let mut what = Vec::new();
                if !platforms.is_empty() {
                    what.push(format!(
                        "{} platform{}: {}",
                        platforms.len(),
                        if platforms.len() == 1 { "" } else { "s" },
                        platforms.join(", ")
                    ));
                }
                if *attestations > 0 {
                    what.push(format!(
                        "{attestations} attestation manifest{}",
                        if *attestations == 1 { "" } else { "s" }
                    ));
                }
                let what = if what.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", what.join("; "))
                };
                let media_type = if media_type.is_empty() {
                    "document without a media type"
                } else {
                    media_type.as_str()
                };
                format!(
                    "{dest} is a {media_type}{what} in the registry, not a single-platform image manifest; Lambda will refuse it: \"{}\" \
                     Build one architecture per image, without attestations (lambda-image build does), and push it again",
                    INDEX_ERROR.replace("<image>", dest)
                )
            }
            Problem::Digest { stored } => format!(
                "{dest} is {stored} in the registry, not the pushed {pushed}: something else wrote the tag; push again and pin the function to the pushed digest"
            ),
            Problem::Architecture { platforms, want } => format!(
                "{dest} is for {} in the registry, but the function uses linux/{want}; Lambda will fail to start it (exec format error): build it for {want}",
                if platforms.is_empty() {
                    "no platform".to_string()
                } else {
                    platforms.join(", ")
                }
            ),
            Problem::Layers { bad, of } => {
                let list = bad
                    .iter()
                    .map(|(i, l, kind)| {
                        format!("layer {i}/{of} {} ({}, {})", l.media_type, kind.as_str(), l.digest)
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let first = bad.first().map_or("", |(_, l, _)| l.digest.as_str());
                format!(
                    "{dest} has {} layer{} Lambda will not take: {list}; Lambda refuses the image: \"{}\". Only gzip layers are safe: \
                     rebuild the image from its Dockerfile (layers brought in with `docker load` on the containerd image store are pushed as they were loaded), \
                     or have buildx compress them (`--output type=registry,compression=gzip,force-compression=true`), and push it again",
                    bad.len(),
                    if bad.len() == 1 { "" } else { "s" },
                    LAYER_ERROR.replace("<digest>", first)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn image(layers: &[&str]) -> ReadBack {
        ReadBack {
            media_type: oci::DOCKER_MANIFEST.into(),
            digest: d('a'),
            platforms: vec!["linux/amd64".into()],
            attestations: 0,
            layers: layers
                .iter()
                .map(|m| Layer {
                    digest: d('b'),
                    media_type: m.to_string(),
                    size: 1,
                })
                .collect(),
        }
    }

    #[test]
    fn gzip_layers_pass_and_others_fail_with_lambdas_error() {
        assert!(check(
            &image(&[oci::DOCKER_LAYER_GZIP, oci::OCI_LAYER_GZIP]),
            &d('a'),
            "amd64"
        )
        .is_empty());
        let problems = check(
            &image(&[oci::DOCKER_LAYER, oci::OCI_LAYER_GZIP, oci::OCI_LAYER_ZSTD]),
            &d('a'),
            "amd64",
        );
        let [p @ Problem::Layers { bad, of: 3 }] = problems.as_slice() else {
            panic!("{problems:?}");
        };
        assert_eq!(bad.len(), 2);
        let m = p.message("127.0.0.1:5000/x:1", &d('a'));
        assert!(m.starts_with("127.0.0.1:5000/x:1 has 2 layers Lambda will not take: layer 1/3 application/vnd.docker.image.rootfs.diff.tar (uncompressed, sha256:bbbb"), "{m}");
        assert!(
            m.contains("layer 3/3 application/vnd.oci.image.layer.v1.tar+zstd (zstd, "),
            "{m}"
        );
        assert!(m.contains(&format!("\"InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest {}\"", d('b'))), "{m}");
    }

    #[test]
    fn an_index_a_digest_and_an_architecture() {
        let index = ReadBack {
            media_type: oci::OCI_INDEX.into(),
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            attestations: 2,
            ..image(&[])
        };
        let p = check(&index, &d('a'), "amd64");
        assert_eq!(p.len(), 1);
        let m = p[0].message("h/x:1", &d('a'));
        assert!(m.starts_with("h/x:1 is a application/vnd.oci.image.index.v1+json (2 platforms: linux/amd64, linux/arm64; 2 attestation manifests) in the registry, not a single-platform image manifest; Lambda will refuse it: \"The image manifest, config or layer media type for the source image h/x:1 is not supported.\""), "{m}");
        let p = check(&image(&[]), &d('c'), "arm64");
        assert_eq!(
            p,
            [
                Problem::Digest { stored: d('a') },
                Problem::Architecture {
                    platforms: vec!["linux/amd64".into()],
                    want: "arm64".into()
                }
            ]
        );
        let mut v8 = image(&[]);
        v8.platforms = vec!["linux/arm64/v8".into()];
        assert!(check(&v8, &d('a'), "arm64").is_empty());
    }

    #[test]
    fn media_types_from_the_header_or_the_document() {
        assert_eq!(
            media_type_of(
                Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
                b"{}"
            ),
            oci::OCI_MANIFEST
        );
        assert_eq!(
            media_type_of(
                Some("application/json"),
                br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#
            ),
            oci::OCI_INDEX
        );
        assert_eq!(media_type_of(None, b"not json"), "");
    }
}
