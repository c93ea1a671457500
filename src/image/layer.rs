//! Streams one layer blob: hashes the blob as stored, decompresses it (by magic bytes),
//! hashes the uncompressed tar (the diff_id) and records every entry's metadata. Nothing
//! is written to disk and no layer is held in memory: only the entry list and the
//! contents of the few files a manifest asks to read (each under a cap).

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use flate2::bufread::GzDecoder;
use sha2::{Digest, Sha256};

use super::store::READ_BUFFER;
use super::tar_reader::{EntryType, StreamSkip, TarReader};

/// The most entries we index across all layers; real Lambda images have well under 500k.
pub const MAX_ENTRIES: u64 = 2_000_000;

/// How a layer blob is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Plain,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::Plain,
        }
    }
}

/// Bytes in flight to a hashing thread, per hasher.
const HASH_QUEUE: usize = 4;

/// SHA-256 on its own thread: the reader hands over copies of what it read, so
/// decompression and hashing of one layer run on different cores. Buffers are recycled
/// through a return channel; at most `HASH_QUEUE` + 1 are alive per hasher.
struct HashThread {
    tx: Option<SyncSender<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<String>>,
}

impl HashThread {
    fn spawn() -> HashThread {
        let (tx, rx) = sync_channel::<Vec<u8>>(HASH_QUEUE);
        let (back_tx, back_rx) = sync_channel::<Vec<u8>>(HASH_QUEUE + 1);
        let handle = std::thread::Builder::new()
            .name("sha256".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                for buf in rx {
                    hasher.update(&buf);
                    let _ = back_tx.try_send(buf);
                }
                format_digest(&hasher.finalize())
            })
            .ok();
        HashThread {
            tx: Some(tx),
            recycled: back_rx,
            handle,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        let mut buf = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(READ_BUFFER));
        buf.clear();
        buf.extend_from_slice(data);
        if let Some(tx) = &self.tx {
            let _ = tx.send(buf);
        }
    }

    fn finish(mut self) -> String {
        self.tx = None;
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_else(|| "(hashing failed)".to_string())
    }
}

/// A reader that hashes (SHA-256, on another thread) and counts what passes through it.
pub struct HashRead<R> {
    inner: R,
    hasher: HashThread,
    bytes: u64,
}

impl<R: Read> HashRead<R> {
    pub fn new(inner: R) -> Self {
        HashRead {
            inner,
            hasher: HashThread::spawn(),
            bytes: 0,
        }
    }

    /// `sha256:<hex>` and the byte count.
    pub fn finish(self) -> (String, u64) {
        (self.hasher.finish(), self.bytes)
    }
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.feed(buf.get(..n).unwrap_or_default());
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

pub fn format_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::text::hex(bytes))
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format_digest(&Sha256::digest(bytes))
}

/// One entry of one layer, its name normalised inside the image root.
#[derive(Debug, Clone)]
pub struct LayerEntry {
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// Symlink target as written, or hard link target normalised.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Other,
    /// `.wh.<name>`: deletes `path` from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides everything lower layers put under `path`.
    Opaque,
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// What streaming one layer found.
#[derive(Debug, Default, Clone)]
pub struct LayerScan {
    pub compression: Option<Compression>,
    pub blob_digest: String,
    pub blob_size: u64,
    /// Digest of the uncompressed tar; `None` when it could not be decompressed to the end.
    pub diff_digest: Option<String>,
    pub diff_size: u64,
    pub entries: Vec<LayerEntry>,
    pub captured: HashMap<String, Captured>,
    /// Entry names that pointed outside the root (`../x`, `/x`), normalised inside it.
    pub escaping_names: u64,
    pub first_escaping_name: Option<String>,
    /// Why the layer could not be read to the end.
    pub error: Option<String>,
}

/// What the scan should collect besides metadata.
pub struct ScanOptions<'a> {
    pub capture: &'a HashSet<String>,
    pub capture_limit: u64,
    pub entry_budget: &'a AtomicU64,
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// Normalises an entry name inside the image root: `./a/../b` → `/b`, `../../etc` → `/etc`,
/// `/abs` → `/abs`. Purely lexical: nothing on the host is consulted.
pub fn normalise_in_root(name: &str) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut escaped = name.starts_with('/');
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escaped = true;
                }
            }
            other => parts.push(other),
        }
    }
    let mut out = String::with_capacity(name.len() + 1);
    for part in &parts {
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    (out, escaped)
}

/// Parent directory of a normalised path (`/a/b` → `/a`, `/a` → `/`).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => path.get(..i).unwrap_or("/"),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

struct Progress<'a, R> {
    inner: R,
    report: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.report)(n as u64);
        Ok(n)
    }
}

/// Streams a layer blob to the end. I/O and format errors end up in `LayerScan::error`
/// (after the rest of the blob is still hashed), so the caller can tell a corrupt layer
/// whose digest also mismatches (a failed check) from an unreadable input.
pub fn scan_layer(blob: impl Read, options: &ScanOptions<'_>) -> LayerScan {
    let mut scan = LayerScan::default();
    let mut raw = HashRead::new(Progress {
        inner: blob,
        report: options.progress,
    });
    let result = scan_inner(&mut raw, options, &mut scan);
    if let Err(err) = result {
        scan.error = Some(err.to_string());
        scan.diff_digest = None;
        // Hash whatever is left, so the blob digest is still reported.
        let _ = io::copy(&mut raw, &mut io::sink());
    }
    let (digest, size) = raw.finish();
    scan.blob_digest = digest;
    scan.blob_size = size;
    if scan.compression == Some(Compression::Plain) {
        // An uncompressed layer's blob is its diff: hashed once (to the end, even when
        // its tar structure is broken).
        scan.diff_digest = Some(scan.blob_digest.clone());
        scan.diff_size = scan.blob_size;
    }
    scan
}

fn scan_inner<R: Read>(
    raw: &mut HashRead<R>,
    options: &ScanOptions<'_>,
    scan: &mut LayerScan,
) -> io::Result<()> {
    let mut buf = BufReader::with_capacity(READ_BUFFER, raw);
    let compression = Compression::detect(buf.fill_buf()?);
    scan.compression = Some(compression);
    match compression {
        Compression::Plain => {
            walk(StreamSkip(&mut buf), options, scan)?;
        }
        Compression::Gzip => {
            let mut decoded = HashRead::new(GzDecoder::new(&mut buf));
            walk(
                StreamSkip(BufReader::with_capacity(128 * 1024, &mut decoded)),
                options,
                scan,
            )?;
            let (digest, size) = decoded.finish();
            scan.diff_digest = Some(digest);
            scan.diff_size = size;
        }
        Compression::Zstd => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "zstd layers are not supported yet, nor known to work on Lambda (rebuild with gzip \
                 layers, e.g. `docker buildx build --output type=docker,compression=gzip`)",
            ));
        }
    }
    // Bytes after the compressed stream still belong to the blob.
    io::copy(&mut buf, &mut io::sink())?;
    Ok(())
}

fn walk<R: BufRead>(
    reader: StreamSkip<R>,
    options: &ScanOptions<'_>,
    scan: &mut LayerScan,
) -> io::Result<()> {
    let mut tar = TarReader::new(reader);
    while let Some(header) = tar.next_entry()? {
        if options.entry_budget.fetch_add(1, Ordering::Relaxed) >= MAX_ENTRIES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "more than {MAX_ENTRIES} entries across the layers; refusing to index more"
                ),
            ));
        }
        let name = String::from_utf8_lossy(&header.path);
        let (path, escaped) = normalise_in_root(&name);
        if escaped {
            scan.escaping_names += 1;
            if scan.first_escaping_name.is_none() {
                scan.first_escaping_name = Some(name.clone().into_owned());
            }
        }
        let base = path.rsplit('/').next().unwrap_or_default();
        let (kind, path) = if base == ".wh..wh..opq" {
            (EntryKind::Opaque, parent(&path).to_string())
        } else if base.starts_with(".wh..wh.") {
            // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the filesystem.
            continue;
        } else if let Some(hidden) = base.strip_prefix(".wh.") {
            (EntryKind::Whiteout, join(parent(&path), hidden))
        } else {
            let kind = match header.kind {
                EntryType::File => EntryKind::File,
                EntryType::Dir => EntryKind::Dir,
                EntryType::Symlink => EntryKind::Symlink,
                EntryType::Hardlink => EntryKind::Hardlink,
                EntryType::Other => EntryKind::Other,
            };
            (kind, path)
        };
        let link = match kind {
            EntryKind::Symlink => Some(String::from_utf8_lossy(&header.link).into_owned()),
            EntryKind::Hardlink => {
                Some(normalise_in_root(&String::from_utf8_lossy(&header.link)).0)
            }
            _ => None,
        };
        if kind == EntryKind::File && options.capture.contains(&path) {
            let bytes = tar.read_data_limited(options.capture_limit + 1)?;
            let truncated = bytes.len() as u64 > options.capture_limit;
            let mut bytes = bytes;
            bytes.truncate(usize::try_from(options.capture_limit).unwrap_or(usize::MAX));
            scan.captured
                .insert(path.clone(), Captured { bytes, truncated });
        }
        scan.entries.push(LayerEntry {
            path,
            kind,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            size: header.size,
            link,
        });
    }
    // Drain the end-of-archive blocks and anything after them: the diff_id covers all of it.
    let mut rest = tar.into_inner();
    io::copy(&mut rest, &mut io::sink())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the bytes, scanning returns (with an error) instead of panicking.
        #[test]
        fn scanning_arbitrary_bytes_never_panics(
            prefix in prop::sample::select(vec![vec![], vec![0x1f, 0x8b, 8, 0], vec![0x28, 0xb5, 0x2f, 0xfd]]),
            body in prop::collection::vec(any::<u8>(), 0..4096),
        ) {
            let mut bytes = prefix;
            bytes.extend_from_slice(&body);
            let capture = HashSet::new();
            let budget = AtomicU64::new(0);
            let options = ScanOptions {
                capture: &capture,
                capture_limit: 16,
                entry_budget: &budget,
                progress: &|_| {},
            };
            let scan = scan_layer(bytes.as_slice(), &options);
            prop_assert_eq!(scan.blob_size, bytes.len() as u64);
        }
    }

    #[test]
    fn names_stay_inside_the_root() {
        assert_eq!(normalise_in_root("./a/b").0, "/a/b");
        assert_eq!(
            normalise_in_root("../../etc/passwd"),
            ("/etc/passwd".into(), true)
        );
        assert_eq!(normalise_in_root("a/../../x"), ("/x".into(), true));
        assert_eq!(normalise_in_root("/abs/path").0, "/abs/path");
        assert_eq!(normalise_in_root("./").0, "/");
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
    }
}
