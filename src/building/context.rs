//! The build context: exactly what the build needs. [`list`] names the files;
//! [`Context::fingerprint`] gives its digest (each entry's path, type, mode, size and
//! content digest, the contents through [`super::digests`] so unchanged files are not read
//! again); the classic builder gets it as a tar written file by file into the request body
//! ([`Context::write_to`]), BuildKit as folders our session serves ([`Context::synced`]),
//! which send only what BuildKit does not have already. Neither is held in memory whole or
//! copied to a temporary file.
//!
//! Deterministic: mtime fixed at 0 (or `SOURCE_DATE_EPOCH`), uid/gid 0 and no user names,
//! permission bits kept; the same inputs give the same bytes, so the same layers and the
//! same layer cache keys on every checkout. For BuildKit a file's sub-second mtime is taken
//! from its content digest: BuildKit decides what to fetch again by size and mtime, so a
//! changed file must never look unchanged, and the same content always gets the same time.

use std::fs::File;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use sha2::{Digest, Sha256};

use crate::config::io_message;
use crate::patterns::Ignore;
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

/// A listed context: what goes in.
pub struct Context {
    root: PathBuf,
    entries: Vec<(String, PathBuf)>,
    text: String,
    mtime: u64,
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
}

/// What [`Context::fingerprint`] found: the digest, and each entry as it was read.
pub struct Fingerprint {
    /// `sha256:…` over every entry but the Dockerfile (an input of its own).
    pub digest: String,
    /// Entries besides the Dockerfile.
    pub count: usize,
    /// Bytes of the files.
    pub bytes: u64,
    entries: Vec<crate::docker::filesync::Entry>,
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
    let root = match source {
        Source::Spec { dir, .. } | Source::Dir { dir } => dir.clone(),
    };
    Ok(Context {
        root,
        entries,
        text: dockerfile.to_string(),
        mtime,
        dockerfile: dockerfile_name,
    })
}

/// What [`Context::write_to`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub count: usize,
    pub bytes: u64,
}

impl Context {
    /// Reads what the context holds (file contents through the remembered digests) and
    /// digests it: per entry its type, mode, size, content digest or link target, and path.
    pub fn fingerprint(&self) -> Result<Fingerprint> {
        use crate::docker::filesync::{Entry, Kind, Source as From};
        let digests = super::digests::global();
        let mut hasher = Sha256::new();
        let mut entries = Vec::with_capacity(self.entries.len() + 1);
        let mut bytes = 0;
        let base_ns = i64::try_from(self.mtime)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000);
        for (name, path) in &self.entries {
            let meta = std::fs::symlink_metadata(path)
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
            let mode = mode_of(&meta);
            let (line, kind, mtime_ns) = if meta.is_dir() {
                (format!("dir {mode:o} - {name}"), Kind::Dir, base_ns)
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(path)
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
                let target = target.to_string_lossy().into_owned();
                (
                    format!("link {mode:o} {target} {name}"),
                    Kind::Symlink { target },
                    base_ns,
                )
            } else if meta.is_file() {
                let digest = digests
                    .of(path, &meta)
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_message(&e)))?;
                bytes += meta.len();
                (
                    format!("file {mode:o} {} {} {name}", meta.len(), hex(&digest)),
                    Kind::File {
                        size: meta.len(),
                        source: From::Disk(path.clone()),
                    },
                    base_ns + content_nanos(&digest),
                )
            } else {
                // Sockets, devices and pipes are not sent (docker skips them too).
                continue;
            };
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
            entries.push(Entry {
                path: name.clone(),
                kind,
                mode,
                mtime_ns,
            });
        }
        let count = entries.len();
        let dockerfile_digest: [u8; 32] = Sha256::digest(self.text.as_bytes()).into();
        entries.push(Entry {
            path: self.dockerfile.clone(),
            kind: Kind::File {
                size: self.text.len() as u64,
                source: From::Inline(Arc::from(self.text.as_bytes())),
            },
            mode: 0o644,
            mtime_ns: base_ns + content_nanos(&dockerfile_digest),
        });
        Ok(Fingerprint {
            digest: format!("sha256:{}", hex(&hasher.finalize())),
            count,
            bytes,
            entries,
        })
    }

    /// The folders a BuildKit build syncs: `context` (everything, the Dockerfile's text at
    /// its path) and `dockerfile` (the Dockerfile alone), under a key of the context's
    /// folder and Dockerfile, so the next build of this context receives only what changed.
    pub fn synced(&self, fingerprint: &Fingerprint) -> crate::docker::buildkit::SyncedContext {
        use crate::docker::filesync::{shared_key, Folders, Tree};
        let dockerfile: Vec<_> = fingerprint
            .entries
            .iter()
            .filter(|e| e.path == self.dockerfile)
            .cloned()
            .collect();
        let root = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        let mut folders = Folders::new();
        folders.insert(
            "context".to_string(),
            Arc::new(Tree {
                entries: fingerprint.entries.clone(),
            }),
        );
        folders.insert(
            "dockerfile".to_string(),
            Arc::new(Tree {
                entries: dockerfile,
            }),
        );
        crate::docker::buildkit::SyncedContext {
            folders,
            shared_key: shared_key(&[&root.to_string_lossy(), &self.dockerfile]),
        }
    }

    /// Writes the tar: the Dockerfile first, then everything else in path order.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<Written> {
        let mut tar = tar::Builder::new(CountingWriter {
            inner: out,
            bytes: 0,
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

/// The sub-second part of a file's mtime for BuildKit, from its content digest.
fn content_nanos(digest: &[u8; 32]) -> i64 {
    let [a, b, c, d, ..] = *digest;
    i64::from(u32::from_be_bytes([a, b, c, d]) % 1_000_000_000)
}

struct CountingWriter<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
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
    fn same_inputs_same_digest_and_dockerignore_applies() {
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
        let digest = |text: &str| {
            list(&source, text, Some("Dockerfile"))
                .and_then(|c| c.fingerprint())
                .expect("context")
                .digest
        };
        let a = list(&source, "FROM x\n", Some("Dockerfile")).expect("context");
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
        let first = digest("FROM x\n");
        // Later mtimes change nothing, nor does the Dockerfile (an input of its own).
        std::fs::write(root.join("src/app.py"), "x").expect("write");
        assert_eq!(first, digest("FROM y\n"));
        std::fs::write(root.join("src/app.py"), "y").expect("write");
        assert_ne!(first, digest("FROM x\n"));
    }

    #[test]
    fn buildkit_gets_the_dockerfile_alone_and_content_timed_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "same").expect("write");
        std::fs::write(root.join("b.txt"), "same").expect("write");
        std::fs::write(root.join("c.txt"), "else").expect("write");
        let source = Source::Dir {
            dir: root.to_path_buf(),
        };
        let ctx = list(&source, "FROM x\n", Some("Dockerfile")).expect("context");
        let fingerprint = ctx.fingerprint().expect("fingerprint");
        assert_eq!(fingerprint.count, 3);
        let synced = ctx.synced(&fingerprint);
        let tree = |name: &str| {
            synced
                .folders
                .get(name)
                .map(|t| t.entries.clone())
                .unwrap_or_default()
        };
        let dockerfile = tree("dockerfile");
        assert_eq!(dockerfile.len(), 1);
        assert_eq!(dockerfile[0].path, "Dockerfile");
        let context = tree("context");
        let time = |p: &str| context.iter().find(|e| e.path == p).map(|e| e.mtime_ns);
        assert_eq!(time("a.txt"), time("b.txt"));
        assert_ne!(time("a.txt"), time("c.txt"));
        assert!(time("a.txt").is_some_and(|t| t < 1_000_000_000), "second 0");
        assert_eq!(synced.shared_key, ctx.synced(&fingerprint).shared_key);
    }
}
