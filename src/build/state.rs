//! What `build` remembers between runs: for each inputs hash, the id of the image built and
//! verified from those inputs, one small file per hash under the cache folder
//! (`$LAMBDA_IMAGE_CACHE_DIR`, else `$XDG_CACHE_HOME/lambda-image`, else
//! `~/.cache/lambda-image`), written only once the image passed and was tagged.
//!
//! Beside it, `verified/<image id>-<plan>`: that an image (its config digest, so its
//! content) passed every check of a plan (manifest and architecture, and this version of
//! lambda-image), so `push` after `build` does not export and verify the image again.
//!
//! A file, not a label on the image: the classic builder turns every `labels` entry into an
//! extra `LABEL` step, which costs about a second per image on a cold build.

use std::path::PathBuf;

/// The folder of the per-hash files; `None` when no cache folder can be named.
pub fn dir() -> Option<PathBuf> {
    let base = match std::env::var_os("LAMBDA_IMAGE_CACHE_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(d) => PathBuf::from(d).join("lambda-image"),
            None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?)
                .join(".cache/lambda-image"),
        },
    };
    Some(base.join("inputs"))
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

/// Records that `id` was built and verified from `hash`. A cache that cannot be written
/// only costs a rebuild next time.
pub fn record(hash: &str, id: &str) {
    let (Some(path), Some(dir)) = (file(hash), dir()) else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let _ = crate::fs::write_atomic(&path, id);
}

/// What a verification was against: the manifest's bytes and the architecture checked.
pub fn plan_key(manifest: Option<&[u8]>, arch: Option<crate::cli::Arch>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // A new version may check more: its verdicts are its own.
    h.update(concat!("lambda-image/verified/", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    h.update(manifest.unwrap_or_default());
    h.update(b"\n");
    h.update(arch.map(|a| a.lambda_name()).unwrap_or("-").as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn verified_file(id: &str, key: &str) -> Option<PathBuf> {
    let hex = id.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        dir()?
            .parent()?
            .join("verified")
            .join(format!("{hex}-{key}")),
    )
}

/// Records that image `id` passed every check of the plan `key`.
pub fn record_verified(id: &str, key: &str) {
    let Some(path) = verified_file(id, key) else {
        return;
    };
    if let Some(parent) = path.parent() {
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
    }
    let _ = crate::fs::write_atomic(&path, "passed\n");
}

/// Whether image `id` (its config digest: its content) already passed the plan `key`.
pub fn was_verified(id: &str, key: &str) -> bool {
    verified_file(id, key).is_some_and(|p| p.is_file())
}
