//! The cache folder: where lambda-image keeps what it learns between runs
//! (`$LAMBDA_IMAGE_CACHE_DIR`, else `$XDG_CACHE_HOME/lambda-image`, else
//! `~/.cache/lambda-image`). Its users own their sub-folders (`inputs/` and `locks/`:
//! [`crate::building::state`]; `verified/`: [`crate::verify::ledger`]; `files`: the build
//! context's file digests). A cache that cannot be written costs time, never a result: its
//! users say so once per run ([`warn_once`]).

use std::path::PathBuf;

/// The cache folder; `None` when no variable names one.
pub fn folder() -> Option<PathBuf> {
    match std::env::var_os("LAMBDA_IMAGE_CACHE_DIR").filter(|v| !v.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(d) => Some(PathBuf::from(d).join("lambda-image")),
            None => Some(
                PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?)
                    .join(".cache/lambda-image"),
            ),
        },
    }
}

/// Why a sub-folder of the cache cannot be written, in one line.
pub fn unwritable(dir: &std::path::Path, e: &dyn std::fmt::Display) -> String {
    format!(
        "cannot write the cache folder {} ({e}): every build will be a rebuild and every push will verify again; set LAMBDA_IMAGE_CACHE_DIR to a writable folder",
        dir.parent().unwrap_or(dir).display()
    )
}

/// The warning when no cache folder can be named.
pub fn no_folder() -> String {
    "no cache folder (neither LAMBDA_IMAGE_CACHE_DIR, XDG_CACHE_HOME nor HOME is set): every build will be a rebuild; set LAMBDA_IMAGE_CACHE_DIR".into()
}

/// Says once per run that the cache cannot be written; later problems are not repeated.
pub fn warn_once(printer: &crate::progress::Printer, problem: Result<(), String>) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Err(message) = problem {
        if !SAID.swap(true, std::sync::atomic::Ordering::SeqCst) {
            printer.warn(message);
        }
    }
}
