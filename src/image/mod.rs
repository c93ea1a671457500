//! Image sources: docker-archive tarballs and OCI layouts, digests verified, merged filesystem index.
//!
//! [`ImageSource::open`] finds the image (config, layer list, index chain) and checks the
//! JSON blobs on the way; [`Opened::read`] streams every layer once, in parallel, checks
//! blob digests and diff_ids, and builds the merged [`FsIndex`]. Checks only ever see an
//! [`Image`], never where it came from.

pub mod fs_index;
pub mod layer;
pub mod oci;
pub mod source;
pub mod store;
pub mod streamed;
pub mod tar_reader;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::Serialize;

pub use fs_index::{FsIndex, Lookup, Node, NodeKind};
pub use layer::Compression;
pub use oci::ImageConfig;
pub use source::{Format, PlatformInfo};

use layer::{normalise_in_root, scan_layer, Captured, LayerScan, ScanOptions};
use source::Resolved;
use store::Store;

/// Most bytes of one file kept for `contains`/`fileContentTests` checks.
pub const CONTENT_LIMIT: u64 = 8 * 1024 * 1024;

/// One digest comparison: a blob against its descriptor, or a layer against its diff_id.
#[derive(Debug, Clone, Serialize)]
pub struct DigestRecord {
    /// `image manifest`, `config`, `image index`, `layer blob`, `layer diff_id`.
    pub subject: String,
    /// 0-based layer index.
    pub layer: Option<usize>,
    pub expected: String,
    pub actual: String,
    pub expected_size: Option<u64>,
    pub actual_size: u64,
}

impl DigestRecord {
    pub fn ok(&self) -> bool {
        self.expected == self.actual && self.expected_size.is_none_or(|s| s == self.actual_size)
    }
}

/// Where an image comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A `docker save` tar, an OCI archive, or an OCI layout directory.
    Archive(PathBuf),
    /// An image in the Docker Engine (name[:tag], name@digest or id): exported through the
    /// Engine API into a temporary file, then read exactly like an archive.
    Engine { reference: String },
}

/// What reports call the image: the archive's path or the engine's reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Archive(PathBuf),
    Engine(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Archive(path) => write!(f, "{}", path.display()),
            Origin::Engine(reference) => f.write_str(reference),
        }
    }
}

/// An image found in its source, layers not read yet.
pub struct Opened {
    store: Box<dyn Store>,
    pub source: Origin,
    pub resolved: Resolved,
    /// The engine export this was read from; removed when dropped.
    spool: Option<tempfile::NamedTempFile>,
    /// Layers scanned as the export passed ([`streamed`]), by their path in it.
    scanned: HashMap<String, LayerScan>,
    /// Layer entries those scans counted (against the budget of every entry).
    entries_read: u64,
}

/// One layer as read.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// Blob digest (as recorded, or as computed when the format records none).
    pub digest: String,
    pub diff_id: String,
    pub media_type: Option<String>,
    pub compression: Option<Compression>,
    /// Bytes stored.
    pub size: u64,
    /// Bytes of the uncompressed tar.
    pub uncompressed_size: u64,
    pub files: usize,
}

/// What a manifest asked to read.
#[derive(Debug, Clone)]
pub enum Content {
    Bytes {
        data: Vec<u8>,
        truncated: bool,
        /// The path after symlinks.
        resolved: String,
    },
    Missing(String),
    NotAFile(String, NodeKind),
    Loop,
}

/// A fully read image.
pub struct Image {
    pub source: Origin,
    pub format: Format,
    pub manifest_digest: Option<String>,
    pub config_digest: String,
    pub config: ImageConfig,
    pub tags: Vec<String>,
    pub platform: PlatformInfo,
    pub layers: Vec<LayerInfo>,
    pub digests: Vec<DigestRecord>,
    /// Layers that could not be read to the end although a digest already failed (1-based, why).
    pub layer_errors: Vec<(usize, String)>,
    /// Layers with entry names outside the root (1-based, count, first name).
    pub escaping_names: Vec<(usize, u64, String)>,
    pub index: FsIndex,
    /// Uncompressed size: the sum of the layers' tar sizes.
    pub size: u64,
    pub contents: BTreeMap<String, Content>,
}

/// Temporary files holding an engine export start with this, so a leftover is easy to
/// recognise.
pub const EXPORT_PREFIX: &str = "lambda-image-export-";

impl ImageSource {
    /// Finds the image: an archive is opened where it is; an engine image is exported
    /// (`docker save`, streamed) and, with `one_pass`, read as it arrives, its layers
    /// scanned on the way and nothing written to disk ([`streamed`]: for a verify that
    /// wants no file's contents); else first written to a temporary file in the system's
    /// temporary directory, which the returned [`Opened`] owns and removes when dropped, on
    /// every error on the way, and on Ctrl-C (`cancel`). `exported` is called with the size
    /// of each chunk.
    pub fn open(
        &self,
        want_arch: Option<&str>,
        engine: Option<&crate::docker::Engine>,
        exported: &dyn Fn(u64),
        cancel: &crate::cancel::Cancel,
        one_pass: bool,
    ) -> Result<Opened> {
        match self {
            ImageSource::Archive(path) => {
                let store = store::open_store(path)?;
                let resolved = source::resolve(store.as_ref(), want_arch)?;
                Ok(Opened {
                    store,
                    source: Origin::Archive(path.clone()),
                    resolved,
                    spool: None,
                    scanned: HashMap::new(),
                    entries_read: 0,
                })
            }
            ImageSource::Engine { reference } => {
                crate::docker::check_reference(reference)?;
                let connected;
                let engine = match engine {
                    Some(engine) => engine,
                    None => {
                        connected = crate::docker::connect()?;
                        &connected
                    }
                };
                if one_pass {
                    return streamed::open(reference, want_arch, engine, exported, cancel);
                }
                let dir = std::env::temp_dir();
                let spool = tempfile::Builder::new()
                    .prefix(EXPORT_PREFIX)
                    .suffix(".tar")
                    .tempfile_in(&dir)
                    .with_context(|| {
                        format!(
                            "creating a temporary file in {} for the export of `{reference}` \
                             (TMPDIR chooses the directory)",
                            dir.display()
                        )
                    })?;
                engine.export_image(reference, spool.path(), exported, cancel)?;
                let store = store::open_store(spool.path()).with_context(|| {
                    format!("reading `{reference}` as exported by the Docker Engine")
                })?;
                let resolved = source::resolve(store.as_ref(), want_arch)
                    .map_err(|e| incomplete_export(e, reference))?;
                Ok(Opened {
                    store,
                    source: Origin::Engine(reference.clone()),
                    resolved,
                    spool: Some(spool),
                    scanned: HashMap::new(),
                    entries_read: 0,
                })
            }
        }
    }
}

/// An error reading an engine's export, with what to do when blobs are missing from it:
/// Docker's containerd image store exports an image it holds without its blobs as if
/// complete, which happens when a pull found the layers already unpacked (from a
/// `docker load` of the same layers uncompressed) and fetched no blob (moby/moby#49473).
pub(crate) fn incomplete_export(e: anyhow::Error, reference: &str) -> anyhow::Error {
    let e = e.context(format!(
        "reading `{reference}` as exported by the Docker Engine"
    ));
    if !e
        .chain()
        .any(|c| c.to_string().starts_with("missing blob "))
    {
        return e;
    }
    anyhow!(
        "{e:#}; the Docker Engine exported `{reference}` without its blobs: its containerd image store \
         skipped them when it pulled layers it already held unpacked (moby/moby#49473); remove the image \
         and every image that shares its layers (docker image rm), and pull it again"
    )
}

impl Opened {
    pub fn config(&self) -> &ImageConfig {
        &self.resolved.config
    }

    /// Bytes of all layer blobs.
    pub fn blob_bytes(&self) -> u64 {
        self.resolved
            .layers
            .iter()
            .filter_map(|l| self.store.size(&l.path))
            .sum()
    }

    /// Bytes of the layer blobs not scanned yet: the work [`Opened::read`] does.
    pub fn unread_bytes(&self) -> u64 {
        self.resolved
            .layers
            .iter()
            .filter(|l| !self.scanned.contains_key(&l.path))
            .filter_map(|l| self.store.size(&l.path))
            .sum()
    }

    /// How each layer blob is stored, from its first bytes (not from what a manifest says).
    pub fn layer_compressions(&self) -> Result<Vec<Compression>> {
        let mut out = Vec::with_capacity(self.resolved.layers.len());
        for layer in &self.resolved.layers {
            let mut head = [0u8; 4];
            let mut reader = self.store.open(&layer.path)?;
            let mut filled = 0;
            while filled < head.len() {
                let n =
                    std::io::Read::read(&mut reader, head.get_mut(filled..).unwrap_or_default())
                        .with_context(|| format!("reading {} in {}", layer.path, self.source))?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            out.push(Compression::detect(head.get(..filled).unwrap_or_default()));
        }
        Ok(out)
    }

    /// A reader over layer `i`'s blob, as stored.
    pub fn open_layer(&self, i: usize) -> Result<Box<dyn std::io::Read + Send + '_>> {
        let layer = self
            .resolved
            .layers
            .get(i)
            .ok_or_else(|| anyhow!("no layer {} in {}", i + 1, self.source))?;
        self.store.open(&layer.path)
    }

    /// Bytes stored for layer `i`.
    pub fn layer_size(&self, i: usize) -> Option<u64> {
        self.store.size(&self.resolved.layers.get(i)?.path)
    }

    /// The image config's exact bytes.
    pub fn config_bytes(&self) -> Result<Vec<u8>> {
        self.store
            .read_small(&self.resolved.config_path, 16 * 1024 * 1024)
    }

    /// The image manifest's exact bytes, for a format that has one (OCI layouts).
    pub fn manifest_bytes(&self) -> Result<Option<Vec<u8>>> {
        match &self.resolved.manifest_digest {
            Some(d) => Ok(Some(
                self.store
                    .read_small(&source::blob_path(d)?, 4 * 1024 * 1024)?,
            )),
            None => Ok(None),
        }
    }

    /// Streams every layer (in parallel across cores), verifies blob digests and diff_ids,
    /// merges the filesystem and reads the contents of `wanted` paths.
    pub fn read(self, wanted: &BTreeSet<String>, progress: &(dyn Fn(u64) + Sync)) -> Result<Image> {
        let Opened {
            store,
            source,
            resolved,
            spool: _spool,
            mut scanned,
            entries_read,
        } = self;
        let store: &dyn Store = store.as_ref();
        let capture: HashSet<String> = wanted.iter().map(|p| normalise_in_root(p).0).collect();
        let budget = AtomicU64::new(entries_read);
        let options = ScanOptions {
            capture: &capture,
            capture_limit: CONTENT_LIMIT,
            entry_budget: &budget,
            progress,
        };
        let layers = &resolved.layers;
        // Scanned as the export passed (a layer named twice: the same scan twice).
        let mut pre: Vec<Option<LayerScan>> = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let again = layers
                .get(i + 1..)
                .is_some_and(|rest| rest.iter().any(|l| l.path == layer.path));
            pre.push(if again {
                scanned.get(&layer.path).cloned()
            } else {
                scanned.remove(&layer.path)
            });
        }
        let scans = scan_all(store, layers, &options, pre)?;

        let total = layers.len();
        let mut digests = resolved.digests.clone();
        let mut layer_errors = Vec::new();
        let mut escaping_names = Vec::new();
        let mut index = FsIndex::new();
        let mut captured: Vec<HashMap<String, Captured>> = Vec::with_capacity(total);
        let mut infos = Vec::with_capacity(total);
        let mut size = 0u64;
        for (i, (layer, scan)) in layers.iter().zip(scans).enumerate() {
            let mut failed = false;
            if let Some(expected) = &layer.digest {
                let record = DigestRecord {
                    subject: "layer blob".into(),
                    layer: Some(i),
                    expected: expected.clone(),
                    actual: scan.blob_digest.clone(),
                    expected_size: layer.size,
                    actual_size: scan.blob_size,
                };
                failed |= !record.ok();
                digests.push(record);
            }
            // Not computed (the layer could not be decompressed): the layer error says why.
            if let Some(actual) = &scan.diff_digest {
                let record = DigestRecord {
                    subject: "layer diff_id".into(),
                    layer: Some(i),
                    expected: layer.diff_id.clone(),
                    actual: actual.clone(),
                    expected_size: None,
                    actual_size: scan.diff_size,
                };
                failed |= !record.ok();
                digests.push(record);
            }
            if let Some(error) = &scan.error {
                if !failed {
                    bail!(
                        "layer {} of {total} ({}) in {}: {error}",
                        i + 1,
                        layer.digest.as_deref().unwrap_or(&layer.path),
                        source
                    );
                }
                layer_errors.push((i + 1, error.clone()));
            }
            if scan.escaping_names > 0 {
                escaping_names.push((
                    i + 1,
                    scan.escaping_names,
                    scan.first_escaping_name.clone().unwrap_or_default(),
                ));
            }
            size += scan.diff_size;
            infos.push(LayerInfo {
                digest: layer
                    .digest
                    .clone()
                    .unwrap_or_else(|| scan.blob_digest.clone()),
                diff_id: layer.diff_id.clone(),
                media_type: layer.media_type.clone().filter(|m| !m.is_empty()),
                compression: scan.compression,
                size: scan.blob_size,
                uncompressed_size: scan.diff_size,
                files: scan.entries.len(),
            });
            let LayerScan {
                entries,
                captured: layer_captured,
                ..
            } = scan;
            index.apply_layer(i, entries);
            captured.push(layer_captured);
        }

        let mut contents = BTreeMap::new();
        for path in wanted {
            let content = match index.resolve(path, true) {
                Lookup::Loop(_) => Content::Loop,
                Lookup::Missing(p) => Content::Missing(p),
                Lookup::Found(real) => match index.data_node(&real) {
                    None => Content::Missing(real.clone()),
                    Some((data_path, node)) if node.kind == NodeKind::File => {
                        let layer = node.layer;
                        let got = match captured.get(layer).and_then(|c| c.get(data_path)) {
                            Some(c) => Some(c.clone()),
                            None => read_one(store, layers, layer, data_path)?,
                        };
                        match got {
                            Some(c) => Content::Bytes {
                                data: c.bytes,
                                truncated: c.truncated,
                                resolved: real.clone(),
                            },
                            None => Content::Missing(real.clone()),
                        }
                    }
                    Some((_, node)) => Content::NotAFile(real.clone(), node.kind),
                },
            };
            contents.insert(path.clone(), content);
        }

        Ok(Image {
            source,
            format: resolved.format,
            manifest_digest: resolved.manifest_digest,
            config_digest: resolved.config_digest,
            config: resolved.config,
            tags: resolved.tags,
            platform: resolved.platform,
            layers: infos,
            digests,
            layer_errors,
            escaping_names,
            index,
            size,
            contents,
        })
    }
}

fn scan_all(
    store: &dyn Store,
    layers: &[source::LayerRef],
    options: &ScanOptions<'_>,
    pre: Vec<Option<LayerScan>>,
) -> Result<Vec<LayerScan>> {
    // Those scanned before are done; the workers read the rest.
    let mut done: Vec<(usize, Result<LayerScan>)> = Vec::with_capacity(layers.len());
    let mut order: Vec<usize> = Vec::new();
    for (i, scan) in pre.into_iter().enumerate() {
        match scan {
            Some(scan) => done.push((i, Ok(scan))),
            None => order.push(i),
        }
    }
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(order.len())
        .max(1);
    // Biggest layers first, so the last one to finish is a small one.
    order.sort_by_key(|i| {
        std::cmp::Reverse(
            layers
                .get(*i)
                .and_then(|l| store.size(&l.path))
                .unwrap_or(0),
        )
    });
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let result = layers
                            .get(i)
                            .ok_or_else(|| anyhow!("layer {i} out of range"))
                            .and_then(|layer| store.open(&layer.path))
                            .map(|reader| scan_layer(reader, options));
                        mine.push((i, result));
                    }
                    mine
                })
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(mine) => done.extend(mine),
                Err(_) => done.push((usize::MAX, Err(anyhow!("a layer reader thread panicked")))),
            }
        }
    });
    done.sort_by_key(|(i, _)| *i);
    let mut scans = Vec::with_capacity(layers.len());
    for (_, result) in done {
        scans.push(result?);
    }
    if scans.len() != layers.len() {
        bail!("not every layer was read");
    }
    Ok(scans)
}

/// Reads one file from one layer (a file reached through a symlink or hard link, which the
/// first pass could not know it would need).
fn read_one(
    store: &dyn Store,
    layers: &[source::LayerRef],
    layer: usize,
    path: &str,
) -> Result<Option<Captured>> {
    let Some(layer_ref) = layers.get(layer) else {
        return Ok(None);
    };
    let capture: HashSet<String> = std::iter::once(path.to_string()).collect();
    let budget = AtomicU64::new(0);
    let options = ScanOptions {
        capture: &capture,
        capture_limit: CONTENT_LIMIT,
        entry_budget: &budget,
        progress: &|_| {},
    };
    let mut scan = scan_layer(store.open(&layer_ref.path)?, &options);
    Ok(scan.captured.remove(path))
}

impl Image {
    /// The image's environment (`Env`), later entries winning.
    pub fn env(&self) -> BTreeMap<String, String> {
        env_map(&self.config)
    }
}

pub fn env_map(config: &ImageConfig) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(env) = config.config.as_ref().and_then(|c| c.env.as_ref()) {
        for item in env {
            let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}
