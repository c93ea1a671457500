//! `push --archive`: what was verified is what lands. The archive (a `docker save` tar, an
//! OCI layout, tar or folder, as `verify --archive` reads them) goes through the gate, then
//! its own bytes go to the registry through our registry client, with no engine between:
//! gzip layers as they are, uncompressed layers gzip-compressed on the way
//! ([`GZIP_LEVEL`], no name or time in the header: the same layer gives the same bytes
//! every time), the config as it is. An OCI layout whose layers are all gzip keeps its own
//! manifest (its digest is the digest that lands); otherwise a manifest is written (Docker
//! v2 schema 2 for a `docker save` archive, OCI for a layout) whose layer digests are those
//! of the compressed bytes, the config's `rootfs.diff_ids` staying the uncompressed ones.
//! Blobs the registry has are not sent (blob HEAD), and one that another repository of the
//! registry holds is mounted from it. The registry's manifest is read back as for any push.
//!
//! What was sent is remembered in the cache folder (beside `build`'s): the compressed
//! digest of each uncompressed layer (so a second push knows it without compressing, and
//! asks the registry first), and the repositories each blob went to (the mount source).

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Result};

use super::{Options, Pushed, Registry, Status, Target};
use crate::building::pipeline::VerifySummary;
use crate::cancel::Cancel;
use crate::image::oci::{self, LayerMedia};
use crate::image::{Compression, ImageSource, Opened};
use crate::progress::Printer;
use crate::registry::{self, credentials, BlobSent, PushedBlob};
use crate::verify::{self, human_bytes, lambda::LAYER_ERROR};

/// The gzip level of layers compressed on the way (zlib-rs): fixed, so the bytes are too.
pub const GZIP_LEVEL: u32 = 1;

/// The config's media type in a Docker v2 schema 2 manifest.
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// The config's media type in an OCI manifest.
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// `layer` gzip-compressed as `push --archive` sends it: level [`GZIP_LEVEL`], no file name,
/// no modification time, OS "unknown" in the header.
pub fn gzip_reader<R: Read>(layer: R) -> impl Read {
    flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .read(layer, flate2::Compression::new(GZIP_LEVEL))
}

/// An uncompressed layer read for compression, hashed on the way: at its end, a read error
/// unless it hashes to its diff_id (the archive changed after it was verified).
struct Checked<R: Read> {
    hashing: Option<crate::image::layer::HashRead<R>>,
    diff_id: String,
    /// 1-based, for the message.
    layer: usize,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(inner) = self.hashing.as_mut() else {
            return Ok(0);
        };
        let n = inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            if let Some(done) = self.hashing.take() {
                let (digest, _) = done.finish();
                if digest != self.diff_id {
                    return Err(std::io::Error::other(format!(
                        "layer {} hashes to {digest}, not to its diff_id {} (the archive changed since it was verified, or was never right); nothing was stored",
                        self.layer, self.diff_id
                    )));
                }
            }
        }
        Ok(n)
    }
}

/// One blob of the image, as it will be sent.
struct Blob {
    /// Layer index in the archive; `None`: the config.
    layer: Option<usize>,
    /// The digest as sent, when known before sending.
    digest: Option<String>,
    size: Option<u64>,
    media_type: String,
    /// Compressed on the way.
    compress: bool,
    /// The uncompressed digest (a layer's diff_id).
    diff_id: Option<String>,
}

/// `{"mediaType", "size", "digest"}` in the order registries write them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    media_type: &'a str,
    size: u64,
    digest: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestDoc<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: Descriptor<'a>,
    layers: Vec<Descriptor<'a>>,
}

/// The manifest for these blobs (config first, then the layers, all digests known).
fn manifest(media_type: &str, config: &Blob, layers: &[Blob]) -> Option<registry::Manifest> {
    let descriptor = |b: &'_ Blob| -> Option<(String, u64, String)> {
        Some((b.media_type.clone(), b.size?, b.digest.clone()?))
    };
    let config = descriptor(config)?;
    let layers: Vec<(String, u64, String)> =
        layers.iter().map(descriptor).collect::<Option<_>>()?;
    let doc = ManifestDoc {
        schema_version: 2,
        media_type,
        config: Descriptor {
            media_type: &config.0,
            size: config.1,
            digest: &config.2,
        },
        layers: layers
            .iter()
            .map(|(m, s, d)| Descriptor {
                media_type: m,
                size: *s,
                digest: d,
            })
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&doc).ok()?;
    Some(registry::Manifest::new(media_type, bytes))
}

/// The failure of the `layer-media-type` check for zstd layers (the scan cannot read them,
/// so the gate would stop on them as an unreadable input instead).
fn zstd_refusal(layers: &[(usize, String, String)], of: usize) -> String {
    let list = layers
        .iter()
        .map(|(i, m, _)| format!("layer {i}/{of} {m} (zstd)"))
        .collect::<Vec<_>>()
        .join(", ");
    let first = layers.first().map_or("", |(_, _, d)| d.as_str());
    format!(
        "1 verify check failed: layer-media-type: {list}: Lambda refuses the image with \"{}\"; only gzip layers are safe (buildx: --output type=oci,compression=gzip,force-compression=true); not pushed",
        LAYER_ERROR.replace("<digest>", first)
    )
}

/// The zstd layers of `opened` (1-based index, media type, digest), which Lambda refuses.
fn zstd_layers(opened: &Opened, compressions: &[Compression]) -> Vec<(usize, String, String)> {
    opened
        .resolved
        .layers
        .iter()
        .zip(compressions)
        .enumerate()
        .filter(|(_, (l, c))| {
            **c == Compression::Zstd
                || l.media_type.as_deref().map(LayerMedia::of) == Some(LayerMedia::Zstd)
        })
        .map(|(i, (l, _))| {
            (
                i + 1,
                l.media_type
                    .clone()
                    .unwrap_or_else(|| oci::OCI_LAYER_ZSTD.to_string()),
                l.digest.clone().unwrap_or_else(|| l.path.clone()),
            )
        })
        .collect()
}

/// Verifies the archive `path`, then pushes its bytes to `target.dest` and reads them back.
/// Environment errors (an unreadable archive, the registry unreachable, credentials refused)
/// are `Err`: one line, exit 2.
pub fn run(
    target: &Target,
    path: &Path,
    options: &Options,
    printer: &Printer,
    cancel: &Cancel,
) -> Result<Pushed> {
    let source = ImageSource::Archive(path.to_path_buf());
    let want_arch = target.arch.map(|a| a.oci_name());
    let opened = source.open(want_arch, None, &|_| {}, cancel, false)?;
    let mut r = Pushed::new(Status::Pushed, &opened.resolved.config_digest);
    let compressions = opened.layer_compressions()?;

    // zstd: refused as Lambda refuses it, before anything else.
    let zstd = zstd_layers(&opened, &compressions);
    if !zstd.is_empty() {
        r.end(
            Status::FailedVerify,
            zstd_refusal(&zstd, compressions.len()),
        );
        return Ok(r);
    }
    drop(opened);

    // The gate: the same verify every push runs, on the archive itself. Smoke tests need
    // the engine: an archive push has none (it takes no spec).
    let verified_layers = if options.verify {
        match gate(target, &source, printer, cancel, &mut r)? {
            Some(layers) => Some(layers),
            None => return Ok(r),
        }
    } else {
        None
    };
    cancel.check()?;

    let opened = source.open(want_arch, None, &|_| {}, cancel, false)?;
    let contents = Contents::of(&opened, &compressions, verified_layers.as_deref())?;
    let host = target.dest.registry_host().to_string();
    let registry = Registry::new(
        host.clone(),
        credentials::for_registry(&host)?,
        options,
        cancel,
    )?;
    let arch = want_arch
        .map(str::to_string)
        .unwrap_or_else(|| opened.resolved.config.architecture.clone());

    // Already there? (Known without compressing when every digest is.)
    if let Some(m) = contents.manifest() {
        let current = registry.current(target)?;
        if current.as_ref().map(|c| c.digest.as_str()) == Some(m.digest.as_str()) {
            registry.already_pushed(target, &m.digest, &arch, &mut r, printer)?;
            return Ok(r);
        }
    }

    // Push: layers, then the config, then the manifest (the tag moves last).
    printer.status(format!("{} | pushing {}", target.title, target.dest));
    let started = Instant::now();
    let mut upload = Upload {
        target,
        opened: &opened,
        registry: &registry,
        printer,
        cancel,
        contents,
        counts: Counts::default(),
    };
    upload.layers()?;
    upload.config()?;
    let m = upload
        .contents
        .manifest()
        .ok_or_else(|| anyhow!("a layer digest is missing after the push"))?;
    let digest = registry
        .client
        .put_manifest(&target.dest.path, target.dest.tag_or_latest(), &m)
        .map_err(|e| registry.fail(e))?;
    r.push_time = Some(started.elapsed());
    r.digest = Some(digest.clone());
    if digest != m.digest {
        r.end(
            Status::FailedReadBack,
            format!(
                "{} is {digest} in the registry, but the manifest sent is {}: the registry rewrote it",
                target.dest, m.digest
            ),
        );
        return Ok(r);
    }
    if !registry.stored(target, &digest, &arch, &mut r)? {
        return Ok(r);
    }
    let Counts {
        sent,
        existed,
        mounted,
    } = upload.counts;
    let count = upload.contents.layers.len();
    printer.status(format!(
        "{} | pushed {}@{digest} ({}; {count} layer{}: {sent} sent, {existed} already in the registry, {mounted} mounted, in {:.1} s)",
        target.title,
        target.dest.repository(),
        r.media_type.as_deref().unwrap_or_default(),
        if count == 1 { "" } else { "s" },
        r.push_time.unwrap_or_default().as_secs_f64()
    ));
    Ok(r)
}

/// The gate on the archive itself; the verified layers, or `None` when a check failed (the
/// image is refused on `r`).
fn gate(
    target: &Target,
    source: &ImageSource,
    printer: &Printer,
    cancel: &Cancel,
    r: &mut Pushed,
) -> Result<Option<Vec<crate::image::LayerInfo>>> {
    printer.status(format!("{} | verifying", target.title));
    let started = Instant::now();
    let mut plan_options = verify::Options::defaults_for(target.arch.map(|a| a.oci_name()));
    plan_options.gzip_on_push = true;
    let plan = verify::Plan {
        manifest: target.manifest.clone(),
        options: plan_options,
    };
    let v = verify::run(source, &plan, printer, None, cancel)?;
    r.verify_time = Some(started.elapsed());
    let summary = VerifySummary::of(&v);
    let failed = summary.failed.clone();
    r.verify = Some(summary);
    r.verified = true;
    if !failed.is_empty() {
        r.end(Status::FailedVerify, super::failed_checks(&failed));
        return Ok(None);
    }
    Ok(Some(v.image.layers))
}

/// What is sent: the config and the layers as blobs, and the manifest that names them.
struct Contents {
    config: Blob,
    config_bytes: Vec<u8>,
    layers: Vec<Blob>,
    manifest_type: String,
    /// The archive's own manifest, kept as it is (all its layers are gzip).
    kept: Option<Vec<u8>>,
}

impl Contents {
    /// The blobs of `opened` as they will be sent: its gzip layers as they are (their
    /// digests from the archive or the gate), the others compressed on the way (their
    /// digests known only when the cache remembers them).
    fn of(
        opened: &Opened,
        compressions: &[Compression],
        verified_layers: Option<&[crate::image::LayerInfo]>,
    ) -> Result<Contents> {
        let config_bytes = opened.config_bytes()?;
        let original = opened.manifest_bytes()?;
        let keep_manifest = original.is_some()
            && compressions.iter().all(|c| *c == Compression::Gzip)
            && opened
                .resolved
                .layers
                .iter()
                .all(|l| l.media_type.as_deref().map(LayerMedia::of) == Some(LayerMedia::Gzip));
        let (manifest_type, layer_type, config_type) =
            media_types(opened, original.as_deref(), keep_manifest);
        let config = Blob {
            layer: None,
            digest: Some(opened.resolved.config_digest.clone()),
            size: Some(config_bytes.len() as u64),
            media_type: config_type,
            compress: false,
            diff_id: None,
        };
        let mut layers = Vec::with_capacity(compressions.len());
        for (i, (l, c)) in opened.resolved.layers.iter().zip(compressions).enumerate() {
            let compress = *c == Compression::Plain;
            let (digest, size) = if compress {
                match cache::gzip_of(&l.diff_id) {
                    Some((d, s)) => (Some(d), Some(s)),
                    None => (None, None),
                }
            } else {
                let computed = verified_layers
                    .and_then(|v| v.get(i))
                    .map(|v| v.digest.clone());
                (l.digest.clone().or(computed), opened.layer_size(i))
            };
            // A written manifest says gzip in its own kind of media type.
            layers.push(Blob {
                layer: Some(i),
                digest,
                size,
                media_type: layer_type.to_string(),
                compress,
                diff_id: Some(l.diff_id.clone()),
            });
        }
        Ok(Contents {
            config,
            config_bytes,
            layers,
            manifest_type,
            kept: original.filter(|_| keep_manifest),
        })
    }

    /// The manifest that lands: the archive's own, kept, or one written for these blobs
    /// (`None` while a layer's digest is not known).
    fn manifest(&self) -> Option<registry::Manifest> {
        match &self.kept {
            Some(bytes) => Some(registry::Manifest::new(&self.manifest_type, bytes.clone())),
            None => manifest(&self.manifest_type, &self.config, &self.layers),
        }
    }
}

/// The media types of the manifest, its layers and its config. A kept manifest keeps its
/// own; the one written when it cannot be kept is Docker v2 schema 2 for a `docker save`
/// (classic or Engine ≥ 25), OCI for an OCI layout.
fn media_types(
    opened: &Opened,
    original: Option<&[u8]>,
    keep_manifest: bool,
) -> (String, &'static str, String) {
    let from_docker_save = matches!(
        opened.resolved.format,
        crate::image::Format::DockerArchive | crate::image::Format::DockerArchiveOci
    );
    let own_type = original
        .map(|b| registry::manifest::media_type_of(None, b))
        .filter(|t| t == oci::DOCKER_MANIFEST || t == oci::OCI_MANIFEST)
        .unwrap_or_else(|| oci::OCI_MANIFEST.to_string());
    if keep_manifest {
        let config_type = original
            .and_then(|b| serde_json::from_slice::<oci::ImageManifest>(b).ok())
            .map(|m| m.config.media_type)
            .unwrap_or_default();
        (own_type, oci::OCI_LAYER_GZIP, config_type)
    } else if from_docker_save || own_type == oci::DOCKER_MANIFEST {
        (
            oci::DOCKER_MANIFEST.to_string(),
            oci::DOCKER_LAYER_GZIP,
            DOCKER_CONFIG.to_string(),
        )
    } else {
        (
            oci::OCI_MANIFEST.to_string(),
            oci::OCI_LAYER_GZIP,
            OCI_CONFIG.to_string(),
        )
    }
}

/// How the layers got to the registry.
#[derive(Default)]
struct Counts {
    sent: usize,
    existed: usize,
    mounted: usize,
}

/// The blobs of one archive on their way to the registry.
struct Upload<'a> {
    target: &'a Target,
    opened: &'a Opened,
    registry: &'a Registry<'a>,
    printer: &'a Printer,
    cancel: &'a Cancel,
    contents: Contents,
    counts: Counts,
}

impl Upload<'_> {
    /// Every layer: HEAD, mount or upload, two at a time (compressing is the work, and two
    /// cores are what a CI runner has); then what was sent is remembered.
    fn layers(&mut self) -> Result<()> {
        let count = self.contents.layers.len();
        let workers = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, 2)
            .min(count.max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let this = &*self;
        let mut results: Vec<(usize, Result<PushedBlob, registry::Error>)> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut mine = Vec::new();
                            loop {
                                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                let Some(blob) = this.contents.layers.get(k) else {
                                    break;
                                };
                                if this.cancel.is_cancelled() {
                                    break;
                                }
                                let result = this.layer(blob, count);
                                let failed = result.is_err();
                                mine.push((k, result));
                                if failed {
                                    break;
                                }
                            }
                            mine
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            });
        self.cancel.check()?;
        results.sort_by_key(|(k, _)| *k);
        for (k, result) in results {
            let pushed = result.map_err(|e| self.registry.fail(e))?;
            self.record(k, &pushed);
        }
        Ok(())
    }

    /// One layer's HEAD, mount or upload (compressed on the way, and checked against its
    /// diff_id, when it is not gzip), with its bar and, when done, its line.
    fn layer(&self, blob: &Blob, count: usize) -> Result<PushedBlob, registry::Error> {
        let (printer, title) = (self.printer, &self.target.title);
        let repo = &self.target.dest.path;
        let i = blob.layer.unwrap_or(0);
        let n = i + 1;
        let from = blob
            .digest
            .as_deref()
            .and_then(|d| cache::mounted_from(d, &self.registry.host, repo));
        let bar = printer.bar(
            self.opened.layer_size(i).unwrap_or(0),
            "    {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
        );
        bar.set_message(format!("layer {n}"));
        let known = blob.digest.as_deref().map(|d| (d, blob.size));
        let compress = blob.compress;
        let diff_id = blob.diff_id.clone().unwrap_or_default();
        let opened = self.opened;
        let pushed = self.registry.client.push_blob(
            repo,
            known,
            from.as_deref(),
            move || -> std::io::Result<Box<dyn Read + Send + '_>> {
                let raw = opened
                    .open_layer(i)
                    .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                Ok(if compress {
                    // What is compressed must still be what was verified.
                    Box::new(gzip_reader(Checked {
                        hashing: Some(crate::image::layer::HashRead::new(raw)),
                        diff_id: diff_id.clone(),
                        layer: n,
                    }))
                } else {
                    raw
                })
            },
            &|k| bar.inc(k),
        );
        printer.remove(&bar);
        let pushed = pushed?;
        printer.status(match &pushed.sent {
            BlobSent::Existed => format!("{title} | layer {n}/{count} already in the registry"),
            BlobSent::Mounted(from) => format!("{title} | layer {n}/{count} mounted from {from}"),
            BlobSent::Uploaded => format!(
                "{title} | layer {n}/{count} sent ({}{})",
                human_bytes(pushed.size),
                if compress { ", gzip-compressed" } else { "" }
            ),
        });
        Ok(pushed)
    }

    /// Layer `k` as it landed: counted, its digest and size known from now on, and
    /// remembered in the cache folder (its compressed digest, where it went).
    fn record(&mut self, k: usize, pushed: &PushedBlob) {
        let (host, repo) = (&self.registry.host, &self.target.dest.path);
        let Some(blob) = self.contents.layers.get_mut(k) else {
            return;
        };
        match pushed.sent {
            BlobSent::Existed => self.counts.existed += 1,
            BlobSent::Mounted(_) => self.counts.mounted += 1,
            BlobSent::Uploaded => self.counts.sent += 1,
        }
        if pushed.sent == BlobSent::Uploaded || blob.size.is_none() {
            blob.size = Some(pushed.size);
        }
        blob.digest = Some(pushed.digest.clone());
        if blob.compress {
            if let (Some(diff_id), Some(size)) = (&blob.diff_id, blob.size) {
                crate::cache::warn_once(
                    self.printer,
                    cache::record_gzip(diff_id, &pushed.digest, size),
                );
            }
        }
        crate::cache::warn_once(
            self.printer,
            cache::record_where(&pushed.digest, host, repo),
        );
    }

    /// The config blob, as it is.
    fn config(&self) -> Result<()> {
        let (host, repo) = (&self.registry.host, &self.target.dest.path);
        let digest = self.contents.config.digest.as_deref().unwrap_or_default();
        let bytes = self.contents.config_bytes.as_slice();
        let pushed = self
            .registry
            .client
            .push_blob(
                repo,
                Some((digest, Some(bytes.len() as u64))),
                cache::mounted_from(digest, host, repo).as_deref(),
                || Ok(std::io::Cursor::new(bytes)),
                &|_| {},
            )
            .map_err(|e| self.registry.fail(e))?;
        crate::cache::warn_once(
            self.printer,
            cache::record_where(&pushed.digest, host, repo),
        );
        Ok(())
    }
}

/// What `push --archive` remembers in the cache folder: small files, written atomically;
/// a cache that cannot be written costs only a compression (or a mount) next time.
mod cache {
    use std::path::PathBuf;

    fn root() -> Option<PathBuf> {
        Some(crate::cache::folder()?.join("push"))
    }

    fn hex(digest: &str) -> Option<&str> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
    }

    /// The compressed file of a diff_id, for this version's compressor.
    fn gzip_file(diff_id: &str) -> Option<PathBuf> {
        Some(
            root()?
                .join(format!(
                    "gzip-{}-{}",
                    env!("CARGO_PKG_VERSION"),
                    super::GZIP_LEVEL
                ))
                .join(hex(diff_id)?),
        )
    }

    fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                format!(
                    "cannot write the cache folder {} ({}): push --archive will compress again next time",
                    parent.display(),
                    crate::fs::io_message(&e)
                )
            })?;
        }
        crate::fs::write_atomic(path, text).map_err(|e| format!("{e:#}"))
    }

    /// `(digest, size)` of the gzip-compressed layer whose diff_id this is.
    pub fn gzip_of(diff_id: &str) -> Option<(String, u64)> {
        let text = std::fs::read_to_string(gzip_file(diff_id)?).ok()?;
        let (digest, size) = text.trim().split_once(' ')?;
        hex(digest)?;
        Some((digest.to_string(), size.parse().ok()?))
    }

    pub fn record_gzip(diff_id: &str, digest: &str, size: u64) -> Result<(), String> {
        match gzip_file(diff_id) {
            Some(path) => write(&path, &format!("{digest} {size}\n")),
            None => Ok(()),
        }
    }

    fn where_file(digest: &str) -> Option<PathBuf> {
        Some(root()?.join("blobs").join(hex(digest)?))
    }

    /// Another repository of `host` this blob was pushed to (the last one).
    pub fn mounted_from(digest: &str, host: &str, repo: &str) -> Option<String> {
        let text = std::fs::read_to_string(where_file(digest)?).ok()?;
        text.lines()
            .rev()
            .filter_map(|l| l.split_once('/'))
            .find(|(h, r)| *h == host && *r != repo)
            .map(|(_, r)| r.to_string())
    }

    pub fn record_where(digest: &str, host: &str, repo: &str) -> Result<(), String> {
        let Some(path) = where_file(digest) else {
            return Ok(());
        };
        let line = format!("{host}/{repo}");
        let mut lines: Vec<String> = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter(|l| *l != line)
            .map(String::from)
            .collect();
        lines.push(line);
        let keep = lines.len().saturating_sub(20);
        write(&path, &(lines.split_off(keep).join("\n") + "\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_layer_compresses_to_the_same_bytes() {
        let layer: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut a = Vec::new();
        gzip_reader(layer.as_slice())
            .read_to_end(&mut a)
            .expect("gzip");
        let mut b = Vec::new();
        gzip_reader(layer.as_slice())
            .read_to_end(&mut b)
            .expect("gzip");
        assert_eq!(a, b);
        // No time, no name: flags 0, mtime 0, "fastest" (level 1), OS unknown.
        assert_eq!(
            a.get(..10),
            Some(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255][..])
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(a.as_slice())
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, layer);
    }
}
