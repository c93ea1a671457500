//! What `build` remembers between runs: for each inputs hash, the id of the image built and
//! verified from those inputs, one small file per hash under the cache folder
//! (`$LAMBDA_IMAGE_CACHE_DIR`, else `$XDG_CACHE_HOME/lambda-image`, else
//! `~/.cache/lambda-image`), written only once the image passed and was tagged.
//!
//! And `locks/<16 hex>.lock`, one per image tag (`repo:tag`): a build holds an OS lock
//! (`flock`) on each of its tags' files from before it looks at the engine until the tags
//! are set, so two builds that would set the same tag on one machine (two CI jobs of one
//! spec) run one after the other and the second finds the first's result. The key is the
//! tag, not the inputs hash: it costs no read of the context, and it is what the two builds
//! race on. The kernel drops the lock of a process that ends, however it ends (SIGKILL
//! too), so a killed run never blocks the next.
//!
//! A file, not a label on the image: the classic builder turns every `labels` entry into an
//! extra `LABEL` step, which costs about a second per image on a cold build.

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The folder of the per-hash files; `None` when no cache folder can be named.
pub fn dir() -> Option<PathBuf> {
    Some(crate::cache::folder()?.join("inputs"))
}

fn file(hash: &str) -> Option<PathBuf> {
    let hex = hash.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(dir()?.join(hex))
}

/// The image id recorded for `hash`.
pub fn lookup(hash: &str) -> Option<String> {
    let text = std::fs::read_to_string(file(hash)?).ok()?;
    let id = text.trim();
    crate::reference::is_sha256(id).then(|| id.to_string())
}

use crate::cache::{no_folder, unwritable};

/// Records that `id` was built and verified from `hash`. A cache that cannot be written
/// only costs a rebuild next time; `Err` says why, for a warning.
pub fn record(hash: &str, id: &str) -> Result<(), String> {
    let Some(dir) = dir() else {
        return Err(no_folder());
    };
    let Some(path) = file(hash) else {
        return Ok(());
    };
    std::fs::create_dir_all(&dir).map_err(|e| unwritable(&dir, &crate::fs::io_message(&e)))?;
    crate::fs::write_atomic(&path, id).map_err(|e| unwritable(&dir, &format!("{e:#}")))
}

/// A build's hold on its tags' lock files ([`lock_tags`]); dropped, the locks go.
#[derive(Debug)]
pub struct TagLock {
    _files: Vec<std::fs::File>,
}

/// The lock file of a tag.
fn lock_file(tag: &str) -> Option<PathBuf> {
    let digest = Sha256::digest(tag.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Some(
        crate::cache::folder()?
            .join("locks")
            .join(format!("{hex}.lock")),
    )
}

/// Locks every tag in `tags` (in one order, so two builds never wait on each other), waiting
/// for a build that holds one; `waiting` is told once, with that build's pid when its file
/// names it. `Ok(None)`: no cache folder, or one that cannot be written (no lock, as
/// before). `Err` when `cancel` fires while waiting.
pub fn lock_tags(
    tags: &[String],
    mut waiting: impl FnMut(Option<u32>),
    cancel: &crate::cancel::Cancel,
) -> Result<Option<TagLock>, crate::cancel::Interrupted> {
    let mut paths: Vec<PathBuf> = tags.iter().filter_map(|t| lock_file(t)).collect();
    paths.sort();
    paths.dedup();
    let mut files = Vec::new();
    let mut told = false;
    for path in paths {
        let Some(parent) = path.parent() else {
            continue;
        };
        if std::fs::create_dir_all(parent).is_err() {
            return Ok(None);
        }
        let Ok(mut file) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        else {
            return Ok(None);
        };
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !told {
                        told = true;
                        let pid = std::fs::read_to_string(&path)
                            .ok()
                            .and_then(|t| t.trim().parse().ok());
                        waiting(pid);
                    }
                    if cancel.is_cancelled() {
                        return Err(cancel.interrupted());
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(_)) => return Ok(None),
            }
        }
        // Who holds it, for the next build's message.
        use std::io::{Seek, Write};
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        files.push(file);
    }
    Ok(Some(TagLock { _files: files }))
}
