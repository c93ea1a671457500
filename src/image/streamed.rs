//! An engine image read in one pass over its export, as it arrives: each layer blob is
//! scanned (digests, entries) while it passes and then forgotten; the JSON documents
//! (`manifest.json`, configs, OCI manifests and indexes) and tiny files are kept in memory
//! for [`source::resolve`]. Nothing is written to disk, so the engine's export is the whole
//! cost. Used when no file's contents are wanted (contents are chosen by paths the config
//! expands, and the config may come after the layers); otherwise the export is spooled to
//! a file and read as an archive.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{anyhow, bail, Result};

use super::layer::{scan_layer, LayerScan, ScanOptions};
use super::store::{file_entry, normalise_relative, Store, READ_BUFFER};
use super::tar_reader::{StreamSkip, TarReader};
use super::{incomplete_export, source, Opened, Origin, CONTENT_LIMIT};
use crate::cancel::Cancel;
use crate::docker::{Engine, ExportStream};

/// Files up to this size are kept whole whatever they hold.
const TINY: u64 = 4 * 1024;
/// A JSON document (its first byte `{` or `[`) up to this size is kept whole; anything
/// else larger than [`TINY`] is scanned as a layer.
const DOCUMENT_LIMIT: u64 = 16 * 1024 * 1024;

/// What was kept of an export: the documents, and the size of every file.
pub struct MemStore {
    location: PathBuf,
    kept: BTreeMap<String, Vec<u8>>,
    sizes: BTreeMap<String, u64>,
}

impl Store for MemStore {
    fn location(&self) -> &Path {
        &self.location
    }

    fn is_dir(&self) -> bool {
        false
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.sizes.get(&normalise_relative(path)?).copied()
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>> {
        let key = normalise_relative(path)
            .ok_or_else(|| anyhow!("{path}: not a path inside the export"))?;
        match self.kept.get(&key) {
            Some(bytes) => Ok(Box::new(bytes.as_slice())),
            None if self.sizes.contains_key(&key) => bail!(
                "{}: {path} was scanned as it passed and is not kept",
                self.location.display()
            ),
            None => bail!("{} has no file {path}", self.location.display()),
        }
    }
}

/// The current tar entry's data as a reader.
struct Entry<'a, R: super::tar_reader::Skip>(&'a mut TarReader<R>);

impl<R: super::tar_reader::Skip> Read for Entry<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read_data(buf)
    }
}

/// Counts the bytes read from the export for the caller's progress.
struct Counted<'a, 'e> {
    inner: ExportStream<'e>,
    exported: &'a dyn Fn(u64),
}

impl Read for Counted<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.exported)(n as u64);
        Ok(n)
    }
}

/// Exports `reference` and reads it in one pass (see the module's doc).
pub fn open(
    reference: &str,
    want_arch: Option<&str>,
    engine: &Engine,
    exported: &dyn Fn(u64),
    cancel: &Cancel,
) -> Result<Opened> {
    let stream = engine.export_stream(reference, cancel)?;
    let counted = Counted {
        inner: stream,
        exported,
    };
    let mut tar = TarReader::new(StreamSkip(BufReader::with_capacity(READ_BUFFER, counted)));
    let budget = AtomicU64::new(0);
    let nothing = HashSet::new();
    let options = ScanOptions {
        capture: &nothing,
        capture_limit: CONTENT_LIMIT,
        entry_budget: &budget,
        progress: &|_| {},
    };
    let location = PathBuf::from(format!("the export of `{reference}`"));
    let mut kept = BTreeMap::new();
    let mut sizes = BTreeMap::new();
    let mut scanned: HashMap<String, LayerScan> = HashMap::new();
    let mut count = 0u64;
    loop {
        let header = match tar.next_entry() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => return Err(failed(tar, e.into(), reference, cancel)),
        };
        let Some((key, _)) = file_entry(&header, &mut count, &location)? else {
            continue;
        };
        if sizes.insert(key.clone(), header.size).is_some() {
            bail!(
                "{}: duplicate entry {key}; an image export names each file once",
                location.display()
            );
        }
        let head_len = header.size.min(TINY);
        let head = match tar.read_data_limited(head_len) {
            Ok(h) => h,
            Err(e) => return Err(failed(tar, e.into(), reference, cancel)),
        };
        let document = head
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        if header.size <= TINY || (document && header.size <= DOCUMENT_LIMIT) {
            let mut whole = head;
            let rest = header.size.saturating_sub(head_len);
            if rest > 0 {
                match tar.read_data_limited(rest) {
                    Ok(more) => whole.extend_from_slice(&more),
                    Err(e) => return Err(failed(tar, e.into(), reference, cancel)),
                }
            }
            kept.insert(key, whole);
        } else {
            let scan = scan_layer(std::io::Cursor::new(head).chain(Entry(&mut tar)), &options);
            // A scan stops at the first error; the export's own failure (the engine's, a
            // stall, Ctrl-C) is the one to report.
            if tar_stream(&mut tar).has_failed() {
                return Err(failed(
                    tar,
                    anyhow!("the export ended early"),
                    reference,
                    cancel,
                ));
            }
            scanned.insert(key, scan);
        }
    }
    let store = MemStore {
        location,
        kept,
        sizes,
    };
    let resolved =
        source::resolve(&store, want_arch).map_err(|e| incomplete_export(e, reference))?;
    Ok(Opened {
        store: Box::new(store),
        source: Origin::Engine(reference.to_string()),
        resolved,
        spool: None,
        scanned,
        entries_read: budget.load(Ordering::Relaxed),
    })
}

type Export<'a, 'e> = TarReader<StreamSkip<BufReader<Counted<'a, 'e>>>>;

fn tar_stream<'t, 'e>(tar: &'t mut Export<'_, 'e>) -> &'t mut ExportStream<'e> {
    &mut tar.inner_mut().0.get_mut().inner
}

/// The error to report when reading stopped: the engine's or Ctrl-C's when it was theirs,
/// else what was wrong with the export.
fn failed(
    mut tar: Export<'_, '_>,
    e: anyhow::Error,
    reference: &str,
    cancel: &Cancel,
) -> anyhow::Error {
    if let Some(failure) = tar_stream(&mut tar).failure() {
        return failure;
    }
    if let Err(interrupted) = cancel.check() {
        return interrupted.into();
    }
    e.context(format!(
        "reading `{reference}` as exported by the Docker Engine"
    ))
}
