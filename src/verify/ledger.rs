//! Which images passed the gate: `verified/<image id>-<key>` in the cache folder, written
//! when an image (its config digest, so its content) passed every check of a verify plan
//! (the manifest and architecture, and this version of lambda-image) and every smoke test
//! it has. The key covers all of them, so an image that passed is not exported, checked or
//! invoked again by a later build or push, while a changed manifest, architecture, smoke
//! test or version is a new key. The record holds the check counts (passed, warnings,
//! notes), so the run that skips the checks can say them again.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::cache::{no_folder, unwritable};

/// What a verification is against: the manifest's bytes and the architecture checked.
pub fn plan_key(manifest: Option<&[u8]>, arch: Option<crate::arch::Arch>) -> String {
    let mut h = Sha256::new();
    // A new version may check more: its verdicts are its own.
    h.update(concat!("lambda-image/verified/", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    h.update(manifest.unwrap_or_default());
    h.update(b"\n");
    h.update(arch.map(|a| a.lambda_name()).unwrap_or("-").as_bytes());
    crate::text::hex(&h.finalize())
}

/// `plan` extended with the smoke tests that must also pass (none: `plan` itself).
pub fn with_smoke(plan: &str, smoke: &[crate::invoke::smoke::Smoke]) -> String {
    if smoke.is_empty() {
        return plan.to_string();
    }
    let mut h = Sha256::new();
    h.update(plan.as_bytes());
    for test in smoke {
        h.update(b"\nsmoke\n");
        h.update(Sha256::digest(&test.event));
        h.update([u8::from(test.expect_error)]);
        h.update(test.contains.as_deref().unwrap_or("\0").as_bytes());
    }
    crate::text::hex(&h.finalize())
}

fn file(id: &str, key: &str) -> Option<PathBuf> {
    let hex = id.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        crate::cache::folder()?
            .join("verified")
            .join(format!("{hex}-{key}")),
    )
}

/// Records that image `id` passed `key`, with its check counts (passed, warnings, notes);
/// `Err` says why it could not, for a warning.
pub fn record(id: &str, key: &str, counts: (usize, usize, usize)) -> Result<(), String> {
    if crate::cache::folder().is_none() {
        return Err(no_folder());
    }
    let Some(path) = file(id, key) else {
        return Ok(());
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| unwritable(parent, &crate::fs::io_message(&e)))?;
        let (pass, warn, info) = counts;
        crate::fs::write_atomic(&path, &format!("passed {pass} {warn} {info}\n"))
            .map_err(|e| unwritable(parent, &format!("{e:#}")))?;
    }
    Ok(())
}

/// The check counts (passed, warnings, notes) of image `id` when it already passed `key`
/// (zeros when the record has none).
pub fn passed(id: &str, key: &str) -> Option<(usize, usize, usize)> {
    let text = std::fs::read_to_string(file(id, key)?).ok()?;
    let mut numbers = text
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse::<usize>().unwrap_or(0));
    Some((
        numbers.next().unwrap_or(0),
        numbers.next().unwrap_or(0),
        numbers.next().unwrap_or(0),
    ))
}
