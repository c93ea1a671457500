//! Hand-written serde types for the OCI image spec and Docker's `manifest.json`: only the
//! fields we read; unknown fields are ignored; media types stay strings.

use std::collections::BTreeMap;

use serde::Deserialize;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Layer media types: gzip (what Lambda takes), uncompressed and zstd (what it refuses).
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";

/// What a layer's media type says about how the layer is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerMedia {
    /// gzip: the only layers Lambda is known to take.
    Gzip,
    /// A plain tar: Lambda refuses it (`UnsupportedImageLayerDetected`).
    Uncompressed,
    /// zstd: not known to work on Lambda.
    Zstd,
    /// Anything else (foreign or non-distributable layers, artifacts).
    Other,
}

impl LayerMedia {
    pub fn of(media_type: &str) -> LayerMedia {
        match media_type {
            DOCKER_LAYER_GZIP | OCI_LAYER_GZIP => LayerMedia::Gzip,
            DOCKER_LAYER | OCI_LAYER => LayerMedia::Uncompressed,
            OCI_LAYER_ZSTD | DOCKER_LAYER_ZSTD => LayerMedia::Zstd,
            _ => LayerMedia::Other,
        }
    }

    /// `uncompressed`, `zstd`, … as messages name it.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerMedia::Gzip => "gzip",
            LayerMedia::Uncompressed => "uncompressed",
            LayerMedia::Zstd => "zstd",
            LayerMedia::Other => "not a gzip layer",
        }
    }
}

/// BuildKit marks attestation manifests in an index with this annotation.
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A descriptor's platform; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
}

/// `index.json` and image index blobs (also Docker manifest lists); every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Index {
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

/// An image manifest (OCI or Docker v2 schema 2).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    #[serde(default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// One entry of a `docker save` `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DockerArchiveEntry {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub layers: Vec<String>,
}

/// The image config blob.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Descriptor {
    pub fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_MANIFEST_LIST
    }

    /// An attestation manifest (BuildKit provenance/SBOM), not a runnable image (domain.md §3).
    pub fn is_attestation(&self) -> bool {
        self.annotations.get(REFERENCE_TYPE).map(String::as_str) == Some(ATTESTATION_MANIFEST)
            || self
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
    }
}
