//! Where the corpus tests find the real-world Dockerfiles: `LAMBDA_IMAGE_CORPUS`, or
//! `../shared/corpus/dockerfiles` beside the checkout. Included with
//! `#[path = "common/corpus.rs"] mod corpus;`.

use std::io::Write;
use std::path::PathBuf;

const VAR: &str = "LAMBDA_IMAGE_CORPUS";

/// The corpus files, sorted. `None`, after saying so on stderr, when the variable is not set
/// and there is no corpus at the default place (a fresh clone); a set variable naming no folder
/// fails the test, so CI, which sets it, cannot skip them.
pub fn files(test: &str) -> Option<Vec<PathBuf>> {
    let set = std::env::var_os(VAR);
    let dir = match &set {
        Some(v) => PathBuf::from(v),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dockerfiles"),
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if set.is_some() => {
            panic!("{VAR} is set but names no corpus: {}: {e}", dir.display())
        }
        Err(_) => {
            // Straight to stderr, not eprintln!: the test harness would hide it on a pass.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: corpus tests skipped: no corpus at {}; set {VAR} to the folder of Dockerfiles",
                dir.display()
            );
            return None;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
                .path()
        })
        .collect();
    files.sort();
    Some(files)
}
