//! The SHA-256 of each file of a build context, remembered by the file's stat so an
//! unchanged file is not read again: `files` in the cache folder (beside `inputs/`), one
//! line per file (`<sha256 hex> <size> <mtime ns> <ctime ns> <inode> <absolute path>`).
//! A remembered digest is used only when size, mtime, ctime and inode are all the same, as
//! git's index does; a file modified within the last two seconds is not remembered (a
//! change in the same clock tick could keep the same times), and a file that cannot be stat'ed or read is
//! an error, never a guess. Without a cache folder every file is read every time.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// A file's identity as the remembered digest was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    inode: u64,
}

/// Remembered digests, loaded once per process.
pub struct Digests {
    known: Mutex<HashMap<PathBuf, (Stamp, [u8; 32])>>,
    changed: AtomicBool,
    file: Option<PathBuf>,
}

/// More entries than this and the ones not used by this run are dropped on save.
const KEEP: usize = 200_000;

/// The process's remembered digests.
pub fn global() -> &'static Digests {
    static GLOBAL: OnceLock<Digests> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let file = crate::cache::folder().map(|d| d.join("files"));
        Digests::load(file)
    })
}

impl Digests {
    fn load(file: Option<PathBuf>) -> Digests {
        let mut known = HashMap::new();
        if let Some(text) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
            for line in text.lines() {
                if let Some((path, entry)) = parse_line(line) {
                    known.insert(path, entry);
                }
            }
        }
        Digests {
            known: Mutex::new(known),
            changed: AtomicBool::new(false),
            file,
        }
    }

    /// The SHA-256 of the regular file at `path`, whose metadata is `meta`; at most `size`
    /// bytes are read (the size that goes into the context).
    pub fn of(&self, path: &Path, meta: &std::fs::Metadata) -> std::io::Result<[u8; 32]> {
        let stamp = stamp(meta);
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(stamp) = stamp {
            if let Ok(known) = self.known.lock() {
                if let Some((s, digest)) = known.get(&absolute) {
                    if *s == stamp {
                        return Ok(*digest);
                    }
                }
            }
        }
        let digest = read_digest(path, meta.len())?;
        let settled = stamp.filter(|s| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0);
            now - s.mtime_ns > 2_000_000_000
        });
        if let (Some(stamp), Some(_)) = (settled, absolute.to_str()) {
            if let Ok(mut known) = self.known.lock() {
                known.insert(absolute, (stamp, digest));
                self.changed.store(true, Ordering::SeqCst);
            }
        }
        Ok(digest)
    }

    /// Writes what was learnt, when something was (once per run: `build` after its jobs,
    /// `plan` after its images); a cache folder that cannot be written
    /// is the caller's to report (it says so once for the other records already).
    pub fn save(&self) {
        if !self.changed.swap(false, Ordering::SeqCst) {
            return;
        }
        let (Some(file), Ok(known)) = (&self.file, self.known.lock()) else {
            return;
        };
        let mut lines: Vec<String> = known
            .iter()
            .filter_map(|(path, (s, digest))| {
                Some(format!(
                    "{} {} {} {} {} {}",
                    crate::text::hex(digest),
                    s.size,
                    s.mtime_ns,
                    s.ctime_ns,
                    s.inode,
                    path.to_str()?
                ))
            })
            .collect();
        lines.sort();
        if lines.len() > KEEP {
            lines.truncate(KEEP);
        }
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = crate::fs::write_atomic(file, &(lines.join("\n") + "\n"));
    }
}

fn parse_line(line: &str) -> Option<(PathBuf, (Stamp, [u8; 32]))> {
    let mut parts = line.splitn(6, ' ');
    let hex = parts.next()?;
    let size = parts.next()?.parse().ok()?;
    let mtime_ns = parts.next()?.parse().ok()?;
    let ctime_ns = parts.next()?.parse().ok()?;
    let inode = parts.next()?.parse().ok()?;
    let path = parts.next()?;
    let mut digest = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((
        PathBuf::from(path),
        (
            Stamp {
                size,
                mtime_ns,
                ctime_ns,
                inode,
            },
            digest,
        ),
    ))
}

#[cfg(unix)]
fn stamp(meta: &std::fs::Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    Some(Stamp {
        size: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        inode: meta.ino(),
    })
}

#[cfg(not(unix))]
fn stamp(_: &std::fs::Metadata) -> Option<Stamp> {
    None
}

fn read_digest(path: &Path, size: u64) -> std::io::Result<[u8; 32]> {
    let file = std::fs::File::open(path)?;
    let mut reader = file.take(size);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_digest_is_used_only_for_the_same_stat_and_survives_a_save() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("a.bin");
        std::fs::write(&data, b"one").expect("write");
        // Old enough to be remembered.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&data)
            .and_then(|f| f.set_modified(old))
            .expect("mtime");
        let store = dir.path().join("files");
        let digests = Digests::load(Some(store.clone()));
        let meta = std::fs::metadata(&data).expect("meta");
        let first = digests.of(&data, &meta).expect("digest");
        assert_eq!(first, <[u8; 32]>::from(Sha256::digest(b"one")));
        digests.save();
        let again = Digests::load(Some(store));
        assert_eq!(again.known.lock().expect("lock").len(), 1);
        // The same bytes changed behind the same size: the stat differs, so it is read.
        std::fs::write(&data, b"two").expect("write");
        let meta = std::fs::metadata(&data).expect("meta");
        let second = again.of(&data, &meta).expect("digest");
        assert_eq!(second, <[u8; 32]>::from(Sha256::digest(b"two")));
        // A fresh file is not remembered.
        assert!(!again.changed.load(Ordering::SeqCst));
    }
}
