//! Files: the one atomic write (every file lambda-image writes: fixed Dockerfiles, rendered
//! Dockerfiles, reports, digest and id files, cache records) and I/O errors on one line.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Replaces (or creates) `path` atomically: a temporary file in the same directory, then a
/// rename over the target. An existing file keeps its permissions and is replaced where a
/// symlink points; a new one gets 0644. A reader sees the old text or the new, never a mix.
pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let existing = std::fs::canonicalize(path).ok();
    let target = existing.as_deref().unwrap_or(path);
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let permissions = match &existing {
        Some(t) => Some(
            std::fs::metadata(t)
                .with_context(|| format!("reading the permissions of {}", path.display()))?
                .permissions(),
        ),
        None => None,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".lambda-image-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    match permissions {
        Some(p) => std::fs::set_permissions(tmp.path(), p)
            .with_context(|| format!("setting the permissions of {}", path.display()))?,
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = tmp
                    .as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644));
            }
        }
    }
    tmp.persist(target)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `std::io::Error` without the "(os error N)" suffix.
pub fn io_message(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(at) => text.get(..at).unwrap_or(&text).to_string(),
        None => text,
    }
}
