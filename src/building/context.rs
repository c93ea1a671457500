//! The build context: a tar of exactly what the build needs. [`prepare`] lists the files
//! and hashes the tar they make (written into the hash, not to disk); [`Context::write_to`]
//! writes the same bytes again, file by file, into the request body as the engine reads
//! it: the context is never held in memory whole and never copied to a temporary file.
//!
//! Deterministic: entries sorted by path, mtime fixed at 0 (or `SOURCE_DATE_EPOCH`),
//! uid/gid 0 and no user names, permission bits kept; the same inputs give the same bytes,
//! so the same SHA-256 and the same layer cache keys on every checkout.

use std::fs::File;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use sha2::{Digest, Sha256};

use super::ignore::Ignore;
use crate::config::io_message;
use crate::text::hex;

/// Where the context's files come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A spec: the rendered Dockerfile plus the files and folders its entries name
    /// (relative to `dir`).
    Spec { dir: PathBuf, files: Vec<String> },
    /// A folder, minus what its `.dockerignore` excludes.
    Dir { dir: PathBuf },
}

/// A prepared context: what goes in, and the digest of the tar it makes.
pub struct Context {
    entries: Vec<(String, PathBuf)>,
    text: String,
    mtime: u64,
    /// `sha256:…` of the tar's bytes.
    pub digest: String,
    /// The Dockerfile's path inside the tar.
    pub dockerfile: String,
    pub count: usize,
    pub bytes: u64,
}

impl Context {
    /// How many entries the tar holds besides the Dockerfile.
    pub fn files(&self) -> usize {
        self.entries.len()
    }
}

/// The name the Dockerfile gets in the context when it is not already inside it.
pub const DOCKERFILE_IN_CONTEXT: &str = ".lambda-image.Dockerfile";

/// Lists the context of `source` with `dockerfile` (its text) at `dockerfile_path`
/// (relative to the context; `None`: [`DOCKERFILE_IN_CONTEXT`]) and hashes its tar.
pub fn list(source: &Source, dockerfile: &str, dockerfile_path: Option<&str>) -> Result<Context> {
    let mtime = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let dockerfile_name = dockerfile_path.unwrap_or(DOCKERFILE_IN_CONTEXT).to_string();
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    match source {
        Source::Spec { dir, files } => {
            for name in files {
                let path = dir.join(name);
                let meta = std::fs::symlink_metadata(&path)
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
                if meta.is_dir() {
                    entries.push((relative(dir, &path)?, path.clone()));
                    walk(dir, &path, None, &mut entries)?;
                } else {
                    entries.push((relative(dir, &path)?, path));
                }
            }
        }
        Source::Dir { dir } => {
            let ignore_path = dir.join(".dockerignore");
            let ignore = match std::fs::read_to_string(&ignore_path) {
                Ok(text) => Ignore::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", ignore_path.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ignore::default(),
                Err(e) => bail!("{}: {}", ignore_path.display(), io_message(&e)),
            };
            walk(dir, dir, Some(&ignore), &mut entries)?;
        }
    }
    entries.retain(|(name, _)| *name != dockerfile_name);
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    let context = Context {
        entries,
        text: dockerfile.to_string(),
        mtime,
        digest: String::new(),
        dockerfile: dockerfile_name,
        count: 0,
        bytes: 0,
    };
    Ok(context)
}

/// [`list`], then the digest of the tar (written into the hash only).
pub fn prepare(
    source: &Source,
    dockerfile: &str,
    dockerfile_path: Option<&str>,
) -> Result<Context> {
    let mut context = list(source, dockerfile, dockerfile_path)?;
    let written = context.write_to(&mut std::io::sink())?;
    context.digest = written.digest;
    context.bytes = written.bytes;
    context.count = written.count;
    Ok(context)
}

/// What [`Context::write_to`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub count: usize,
    /// `sha256:…` of everything after the Dockerfile's entry (the Dockerfile is an input of
    /// its own), so the digest is the same whichever Dockerfile text is sent.
    pub digest: String,
    pub bytes: u64,
}

impl Context {
    /// Writes the tar: the Dockerfile first, then everything else in path order, hashing
    /// as it goes.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<Written> {
        let mut tar = tar::Builder::new(HashingWriter {
            inner: out,
            hasher: Sha256::new(),
            bytes: 0,
            hashing: false,
        });
        tar.follow_symlinks(false);
        let mut count = 0;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(self.text.len() as u64);
        header.set_mode(0o644);
        fixed(&mut header, self.mtime);
        tar.append_data(&mut header, &self.dockerfile, self.text.as_bytes())
            .context("writing the build context")?;
        tar.get_mut().hashing = true;
        count += 1;
        for (name, path) in &self.entries {
            let meta = std::fs::symlink_metadata(path)
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
            let mut header = tar::Header::new_gnu();
            header.set_mode(mode_of(&meta));
            fixed(&mut header, self.mtime);
            if meta.is_dir() {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                tar.append_data(&mut header, format!("{name}/"), std::io::empty())
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(path)
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                tar.append_link(&mut header, name, &target)
            } else if meta.is_file() {
                let file = File::open(path)
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(meta.len());
                // A file that grows while it is read must not overrun its header.
                tar.append_data(&mut header, name, file.take(meta.len()))
            } else {
                // Sockets, devices and pipes are not sent (docker skips them too).
                continue;
            }
            .with_context(|| format!("adding {} to the build context", path.display()))?;
            count += 1;
        }
        let mut w = tar.into_inner().context("writing the build context")?;
        w.flush().context("writing the build context")?;
        Ok(Written {
            count,
            digest: format!("sha256:{}", hex(&w.hasher.finalize())),
            bytes: w.bytes,
        })
    }
}

fn fixed(header: &mut tar::Header, mtime: u64) {
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    let _ = header.set_username("");
    let _ = header.set_groupname("");
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

/// `path` relative to `root`, `/`-separated; refuses anything outside it.
fn relative(root: &Path, path: &Path) -> Result<String> {
    let rel = path.strip_prefix(root).with_context(|| {
        format!(
            "{} is outside the build context {}",
            path.display(),
            root.display()
        )
    })?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(p) => parts.push(
                p.to_str()
                    .with_context(|| format!("{}: the name is not UTF-8", path.display()))?
                    .to_string(),
            ),
            std::path::Component::CurDir => {}
            _ => bail!(
                "{} is outside the build context {}",
                path.display(),
                root.display()
            ),
        }
    }
    Ok(parts.join("/"))
}

/// Adds `dir`'s entries (not following symlinks), skipping what `ignore` excludes. An
/// excluded directory is not entered unless a `!` pattern might re-include something in it.
fn walk(
    root: &Path,
    dir: &Path,
    ignore: Option<&Ignore>,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<()> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {}", dir.display(), io_message(&e)))?;
    let mut children = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| anyhow::anyhow!("{}: {}", dir.display(), io_message(&e)))?;
        children.push(entry.path());
    }
    children.sort();
    for path in children {
        let name = relative(root, &path)?;
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
        let excluded = ignore.is_some_and(|i| i.excludes(&name));
        if meta.is_dir() {
            if !excluded {
                out.push((name, path.clone()));
                walk(root, &path, ignore, out)?;
            } else if ignore.is_some_and(Ignore::has_exclusions) {
                walk(root, &path, ignore, out)?;
            }
        } else if !excluded {
            out.push((name, path));
        }
    }
    Ok(())
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
    /// Off while the Dockerfile's entry is written.
    hashing: bool,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.hashing {
            self.hasher.update(buf.get(..n).unwrap_or_default());
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ctx: &Context) -> Vec<String> {
        let mut bytes = Vec::new();
        let written = ctx.write_to(&mut bytes).expect("write");
        assert_eq!(written.digest, ctx.digest);
        assert_eq!(written.bytes, bytes.len() as u64);
        let mut archive = tar::Archive::new(bytes.as_slice());
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn same_inputs_same_bytes_and_dockerignore_applies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).expect("mkdir");
        std::fs::create_dir_all(root.join("node_modules/x")).expect("mkdir");
        std::fs::write(root.join("src/app.py"), "x").expect("write");
        std::fs::write(root.join("src/deep/b.pyc"), "x").expect("write");
        std::fs::write(root.join("node_modules/x/i.js"), "x").expect("write");
        std::fs::write(root.join("README.md"), "x").expect("write");
        std::fs::write(root.join(".dockerignore"), "node_modules\n**/*.pyc\n*.md\n")
            .expect("write");
        let source = Source::Dir {
            dir: root.to_path_buf(),
        };
        let a = prepare(&source, "FROM x\n", Some("Dockerfile")).expect("context");
        assert_eq!(
            names(&a),
            vec![
                "Dockerfile",
                ".dockerignore",
                "src/",
                "src/app.py",
                "src/deep/"
            ]
        );
        // Later mtimes change nothing.
        std::fs::write(root.join("src/app.py"), "x").expect("write");
        let b = prepare(&source, "FROM x\n", Some("Dockerfile")).expect("context");
        assert_eq!(a.digest, b.digest);
        std::fs::write(root.join("src/app.py"), "y").expect("write");
        let c = prepare(&source, "FROM x\n", Some("Dockerfile")).expect("context");
        assert_ne!(a.digest, c.digest);
    }
}
