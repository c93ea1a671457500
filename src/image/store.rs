//! Where an image's files live: a directory (OCI layout) or a tar file (`docker save`,
//! OCI archive). Both answer "how big is this file" and "give me a reader over it", so the
//! format code above never knows which one it reads.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::tar_reader::{EntryType, Header, SeekSkip, TarReader};

/// Read buffer for blobs: large enough that gunzip, not syscalls, is the bottleneck.
pub const READ_BUFFER: usize = 256 * 1024;

/// Normalises a path written inside an archive (`./blobs/sha256/x`, `blobs//x`) to
/// `blobs/sha256/x`. Returns `None` for paths that climb out (`..`) or are absolute.
pub fn normalise_relative(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

pub trait Store: Sync {
    /// The path the user gave.
    fn location(&self) -> &Path;
    /// Whether this store is a directory (else a tar file).
    fn is_dir(&self) -> bool;
    /// Size of a regular file, or `None` when it does not exist.
    fn size(&self, path: &str) -> Option<u64>;
    /// A buffered reader over exactly that file's bytes.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>>;

    /// Reads a small file (JSON) whole, refusing anything over `limit` bytes.
    fn read_small(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        let size = self
            .size(path)
            .with_context(|| format!("{} has no {path}", self.location().display()))?;
        if size > limit {
            bail!("{path} is {size} bytes, more than the {limit}-byte limit for a JSON document");
        }
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        self.open(path)?
            .read_to_end(&mut out)
            .with_context(|| format!("reading {path} in {}", self.location().display()))?;
        Ok(out)
    }
}

/// An OCI image layout on disk.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: &Path) -> Self {
        DirStore {
            root: root.to_path_buf(),
        }
    }

    fn resolve(&self, path: &str) -> Option<PathBuf> {
        normalise_relative(path).map(|p| self.root.join(p))
    }
}

impl Store for DirStore {
    fn location(&self) -> &Path {
        &self.root
    }

    fn is_dir(&self) -> bool {
        true
    }

    fn size(&self, path: &str) -> Option<u64> {
        let full = self.resolve(path)?;
        // symlink_metadata: a layout entry that is a symlink could point anywhere on the host.
        let meta = std::fs::symlink_metadata(full).ok()?;
        meta.is_file().then_some(meta.len())
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>> {
        let size = self
            .size(path)
            .with_context(|| format!("{} has no file {path}", self.root.display()))?;
        let full = self
            .resolve(path)
            .with_context(|| format!("{path}: not a path inside the layout"))?;
        let file = File::open(&full).with_context(|| format!("opening {}", full.display()))?;
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            file.take(size),
        )))
    }
}

/// A tar file on disk, indexed once (headers only, data skipped by seeking).
pub struct TarStore {
    path: PathBuf,
    /// Normalised path → (data offset, size).
    files: BTreeMap<String, (u64, u64)>,
}

impl TarStore {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let file_len = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        let mut reader = TarReader::new(SeekSkip(BufReader::with_capacity(64 * 1024, file)));
        let mut files = BTreeMap::new();
        let mut count: u64 = 0;
        while let Some(header) = reader
            .next_entry()
            .with_context(|| format!("reading {}", path.display()))?
        {
            let Some((key, name)) = file_entry(&header, &mut count, path)? else {
                continue;
            };
            let end = header.data_offset.saturating_add(header.size);
            if end > file_len {
                bail!(
                    "{}: truncated archive: {name} needs {} bytes but the file ends after {}",
                    path.display(),
                    header.size,
                    file_len.saturating_sub(header.data_offset)
                );
            }
            if files
                .insert(key.clone(), (header.data_offset, header.size))
                .is_some()
            {
                bail!(
                    "{}: duplicate entry {key}; an image archive names each file once",
                    path.display()
                );
            }
        }
        Ok(TarStore {
            path: path.to_path_buf(),
            files,
        })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
}

impl Store for TarStore {
    fn location(&self) -> &Path {
        &self.path
    }

    fn is_dir(&self) -> bool {
        false
    }

    fn size(&self, path: &str) -> Option<u64> {
        let key = normalise_relative(path)?;
        self.files.get(&key).map(|(_, size)| *size)
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>> {
        let key = normalise_relative(path)
            .with_context(|| format!("{path}: not a path inside the archive"))?;
        let (offset, size) = *self
            .files
            .get(&key)
            .with_context(|| format!("{} has no file {path}", self.path.display()))?;
        // One File per reader: workers read different layers in parallel.
        let mut file =
            File::open(&self.path).with_context(|| format!("opening {}", self.path.display()))?;
        file.seek(SeekFrom::Start(offset))
            .with_context(|| format!("reading {}", self.path.display()))?;
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            file.take(size),
        )))
    }
}

/// An entry of an image archive (or of an engine's export as it arrives): its normalised
/// path and its name as written, when it is a regular file a blob can be looked up by.
/// `count` counts the entries, and an archive of more than 1,000,000 is refused.
pub(super) fn file_entry(
    header: &Header,
    count: &mut u64,
    location: &Path,
) -> Result<Option<(String, String)>> {
    *count += 1;
    if *count > 1_000_000 {
        bail!(
            "{}: more than 1,000,000 entries; not an image archive",
            location.display()
        );
    }
    if header.kind != EntryType::File {
        return Ok(None);
    }
    let name = String::from_utf8_lossy(&header.path).into_owned();
    // `docker save` never writes names that climb out; they cannot be blobs we look up.
    Ok(normalise_relative(&name).map(|key| (key, name)))
}

/// Opens a path as a store: a directory or a tar file.
pub fn open_store(path: &Path) -> Result<Box<dyn Store>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() {
        Ok(Box::new(DirStore::new(path)))
    } else {
        Ok(Box::new(TarStore::open(path)?))
    }
}
