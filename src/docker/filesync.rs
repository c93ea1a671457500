//! The build context served to BuildKit through the session, as the docker CLI and buildx
//! serve it: `moby.filesync.v1.FileSync/DiffCopy`, fsutil's protocol. BuildKit names the
//! folder (`dir-name`: `context` or `dockerfile`) and what it wants of it (include and
//! exclude patterns, follow paths); we send one `STAT` packet per entry in fsutil's walk
//! order and an empty one to end the list; BuildKit compares them with what it kept from
//! the last build of the same shared key and asks (`REQ`) only for the files that differ,
//! which we send as `DATA` packets; `FIN` ends the exchange. So a rebuild sends the bytes of
//! the changed files only, and a build the engine has the context of sends none.
//!
//! A [`Tree`] is what a folder holds, prepared by the caller: paths, modes, sizes, where the
//! bytes are, and a modification time. The caller picks the times (lambda-image derives them
//! from the content, so the same files give the same layers on every checkout while a
//! changed file never looks unchanged to BuildKit).

use std::collections::HashMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::HeaderMap;

use crate::patterns::{Ignore, Include};

/// One entry of a synced folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the folder, `/`-separated.
    pub path: String,
    pub kind: Kind,
    /// Unix permission bits (`0o7777`).
    pub mode: u32,
    /// Nanoseconds since the epoch.
    pub mtime_ns: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// A regular file: its size and where its bytes come from.
    File {
        size: u64,
        source: Source,
    },
    Symlink {
        target: String,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    Disk(PathBuf),
    Inline(Arc<[u8]>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Disk(p) => write!(f, "Disk({})", p.display()),
            Source::Inline(b) => write!(f, "Inline(<{} bytes>)", b.len()),
        }
    }
}

/// A synced folder: its entries, in any order (they are sent in fsutil's).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub entries: Vec<Entry>,
}

/// What BuildKit asked for, from the call's metadata.
#[derive(Debug, Default)]
pub struct Request {
    pub dir: String,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
    pub follow: Vec<String>,
}

impl Request {
    pub fn from_headers(headers: &HeaderMap) -> Request {
        let all = |name: &str| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_string)
                .collect()
        };
        Request {
            dir: all("dir-name").into_iter().next().unwrap_or_default(),
            includes: all("include-patterns"),
            excludes: all("exclude-patterns"),
            follow: all("followpaths"),
        }
    }
}

impl Tree {
    /// The entries `request` selects, with the directories leading to them, in fsutil's
    /// walk order (depth first, each folder's names in byte order).
    pub fn select(&self, request: &Request) -> Result<Vec<Entry>, String> {
        let mut wanted: Vec<String> = request.includes.clone();
        wanted.extend(request.follow.iter().cloned());
        // A followed path that is a link brings its target (inside the folder) with it.
        for path in &request.follow {
            let mut at = path.trim_matches('/').to_string();
            for _ in 0..32 {
                let Some(Entry {
                    kind: Kind::Symlink { target },
                    ..
                }) = self.entries.iter().find(|e| e.path == at)
                else {
                    break;
                };
                let Some(next) = resolve(&at, target) else {
                    break;
                };
                wanted.push(next.clone());
                at = next;
            }
        }
        let include = if wanted.is_empty() {
            None
        } else {
            Some(Include::new(&wanted)?)
        };
        let exclude = if request.excludes.is_empty() {
            None
        } else {
            Some(Ignore::parse(&request.excludes.join("\n"))?)
        };
        let mut out: Vec<Entry> = self
            .entries
            .iter()
            .filter(|e| include.as_ref().is_none_or(|i| i.includes(&e.path)))
            .filter(|e| exclude.as_ref().is_none_or(|x| !x.excludes(&e.path)))
            .cloned()
            .collect();
        // Every entry's parents must come before it.
        let present: std::collections::HashSet<String> =
            out.iter().map(|e| e.path.clone()).collect();
        let mut parents: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for e in &out {
            let mut p = e.path.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                if !present.contains(parent) {
                    parents.insert(parent.to_string());
                }
                p = parent;
            }
        }
        out.extend(parents.into_iter().map(|path| Entry {
            path,
            kind: Kind::Dir,
            mode: 0o755,
            mtime_ns: 0,
        }));
        out.sort_by(|a, b| walk_order(&a.path, &b.path));
        out.dedup_by(|a, b| a.path == b.path);
        Ok(out)
    }
}

/// fsutil's order: component by component, so `a/b` comes before `a.txt`.
fn walk_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

/// A link's target as a path inside the folder, when it stays inside.
fn resolve(link: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        let mut p: Vec<&str> = link.split('/').collect();
        p.pop();
        p
    };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Packet {
    #[prost(int32, tag = "1")]
    kind: i32,
    #[prost(message, optional, tag = "2")]
    stat: Option<Stat>,
    #[prost(uint32, tag = "3")]
    id: u32,
    #[prost(bytes = "bytes", tag = "4")]
    data: Bytes,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Stat {
    #[prost(string, tag = "1")]
    path: String,
    #[prost(uint32, tag = "2")]
    mode: u32,
    #[prost(uint32, tag = "3")]
    uid: u32,
    #[prost(uint32, tag = "4")]
    gid: u32,
    #[prost(int64, tag = "5")]
    size: i64,
    #[prost(int64, tag = "6")]
    mod_time: i64,
    #[prost(string, tag = "7")]
    linkname: String,
}

const STAT: i32 = 0;
const REQ: i32 = 1;
const DATA: i32 = 2;
const FIN: i32 = 3;
const ERR: i32 = 4;

/// Bytes per `DATA` packet (fsutil's buffer).
const CHUNK: usize = 32 * 1024;

/// Go's `os.FileMode` for an entry: permission bits, setuid/setgid/sticky at Go's places
/// and the type bit.
fn go_mode(entry: &Entry) -> u32 {
    let mut mode = entry.mode & 0o777;
    if entry.mode & 0o4000 != 0 {
        mode |= 1 << 23;
    }
    if entry.mode & 0o2000 != 0 {
        mode |= 1 << 22;
    }
    if entry.mode & 0o1000 != 0 {
        mode |= 1 << 20;
    }
    match entry.kind {
        Kind::Dir => mode | 1 << 31,
        Kind::Symlink { .. } => mode | 1 << 27,
        Kind::File { .. } => mode,
    }
}

fn stat_packet(entry: &Entry) -> Packet {
    let (size, linkname) = match &entry.kind {
        Kind::Dir => (0, String::new()),
        Kind::File { size, .. } => (i64::try_from(*size).unwrap_or(i64::MAX), String::new()),
        Kind::Symlink { target } => (target.len() as i64, target.clone()),
    };
    Packet {
        kind: STAT,
        stat: Some(Stat {
            path: entry.path.clone(),
            mode: go_mode(entry),
            uid: 0,
            gid: 0,
            size,
            mod_time: entry.mtime_ns,
            linkname,
        }),
        id: 0,
        data: Bytes::new(),
    }
}

/// Why a DiffCopy ended early.
#[derive(Debug)]
pub(super) enum Ended {
    /// The engine went away or reset the stream.
    Gone,
    /// BuildKit reported an error, or asked for something that is not there.
    Error(String),
}

/// The sender's side of one DiffCopy: `incoming` gives BuildKit's packets as they come,
/// `outgoing` takes ours (one gRPC message each, written in order by the caller).
pub(super) async fn diff_copy(
    entries: Vec<Entry>,
    mut incoming: tokio::sync::mpsc::Receiver<Packet>,
    outgoing: tokio::sync::mpsc::Sender<Packet>,
) -> Result<(), Ended> {
    let entries = Arc::new(entries);
    let send = |tx: &tokio::sync::mpsc::Sender<Packet>, p: Packet| {
        let tx = tx.clone();
        async move { tx.send(p).await.map_err(|_| Ended::Gone) }
    };
    let stats = {
        let entries = Arc::clone(&entries);
        let tx = outgoing.clone();
        tokio::spawn(async move {
            for entry in entries.iter() {
                send(&tx, stat_packet(entry)).await?;
            }
            send(&tx, Packet::default()).await
        })
    };
    let _stats = super::buildkit::AbortOnDrop(vec![stats.abort_handle()]);
    // Files are sent one request after another, read on a blocking thread.
    let (requests, mut requested) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let files = {
        let entries = Arc::clone(&entries);
        let tx = outgoing.clone();
        tokio::spawn(async move {
            while let Some(id) = requested.recv().await {
                send_file(&entries, id, &tx).await?;
            }
            Ok::<(), Ended>(())
        })
    };
    let _files = super::buildkit::AbortOnDrop(vec![files.abort_handle()]);
    loop {
        let Some(packet) = incoming.recv().await else {
            return Err(Ended::Gone);
        };
        match packet.kind {
            // The file task ended: with an error worth telling, if it had one.
            REQ if requests.send(packet.id).is_err() => {
                return match files.await {
                    Ok(Err(ended)) => Err(ended),
                    _ => Err(Ended::Gone),
                };
            }
            FIN => {
                // BuildKit has everything it asked for: answer and end.
                return send(
                    &outgoing,
                    Packet {
                        kind: FIN,
                        ..Packet::default()
                    },
                )
                .await;
            }
            ERR => {
                return Err(Ended::Error(format!(
                    "BuildKit: {}",
                    String::from_utf8_lossy(&packet.data)
                )))
            }
            _ => {}
        }
    }
}

/// Sends entry `id`'s bytes, then the empty packet that ends them.
async fn send_file(
    entries: &[Entry],
    id: u32,
    tx: &tokio::sync::mpsc::Sender<Packet>,
) -> Result<(), Ended> {
    let Some(Entry {
        kind: Kind::File { size, source },
        ..
    }) = usize::try_from(id).ok().and_then(|i| entries.get(i))
    else {
        return Err(Ended::Error(format!(
            "BuildKit asked for entry {id} of the build context, which is not a file"
        )));
    };
    let gone = |_| Ended::Gone;
    match source {
        Source::Inline(bytes) => {
            for chunk in bytes.chunks(CHUNK) {
                tx.send(data(id, Bytes::copy_from_slice(chunk)))
                    .await
                    .map_err(gone)?;
            }
        }
        Source::Disk(path) => {
            let (chunks, mut read) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
            let path = path.clone();
            let size = *size;
            let reader = tokio::task::spawn_blocking(move || read_chunks(&path, size, &chunks));
            while let Some(chunk) = read.recv().await {
                let chunk = chunk.map_err(|e| Ended::Error(e.to_string()))?;
                tx.send(data(id, chunk)).await.map_err(gone)?;
            }
            let _ = reader.await;
        }
    }
    tx.send(data(id, Bytes::new())).await.map_err(gone)
}

fn data(id: u32, bytes: Bytes) -> Packet {
    Packet {
        kind: DATA,
        stat: None,
        id,
        data: bytes,
    }
}

/// Reads `path` in chunks, at most `size` bytes (the size announced in its stat).
fn read_chunks(
    path: &std::path::Path,
    size: u64,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.blocking_send(Err(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            )));
            return;
        }
    };
    let mut file = file.take(size);
    loop {
        let mut buf = vec![0u8; CHUNK * 8];
        match file.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}

/// The shared key BuildKit keeps a synced folder's copy under between builds.
pub fn shared_key(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    crate::text::hex(&h.finalize()).chars().take(32).collect()
}

/// The synced folders of one build, by the name BuildKit asks for.
pub type Folders = HashMap<String, Arc<Tree>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Entry {
        Entry {
            path: path.into(),
            kind: Kind::File {
                size: 1,
                source: Source::Inline(Arc::from(&b"x"[..])),
            },
            mode: 0o644,
            mtime_ns: 7,
        }
    }

    fn paths(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn entries_go_in_walk_order_with_their_parents() {
        let tree = Tree {
            entries: vec![file("a.txt"), file("a/b/c"), file("b"), file("a-b")],
        };
        let all = tree.select(&Request::default()).expect("select");
        assert_eq!(paths(&all), vec!["a", "a/b", "a/b/c", "a-b", "a.txt", "b"]);
        assert!(matches!(all[0].kind, Kind::Dir));
    }

    #[test]
    fn includes_follow_paths_and_excludes_select() {
        let mut tree = Tree {
            entries: vec![
                file(".dockerignore"),
                file("app/x.py"),
                file("app/x.pyc"),
                file("data/big"),
                file("real.txt"),
            ],
        };
        tree.entries.push(Entry {
            path: "link".into(),
            kind: Kind::Symlink {
                target: "real.txt".into(),
            },
            mode: 0o777,
            mtime_ns: 0,
        });
        let only = |includes: &[&str], follow: &[&str], excludes: &[&str]| {
            let request = Request {
                dir: "context".into(),
                includes: includes.iter().map(|s| s.to_string()).collect(),
                follow: follow.iter().map(|s| s.to_string()).collect(),
                excludes: excludes.iter().map(|s| s.to_string()).collect(),
            };
            tree.select(&request)
                .expect("select")
                .iter()
                .map(|e| e.path.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(only(&[], &[".dockerignore"], &[]), vec![".dockerignore"]);
        assert_eq!(only(&[], &["app"], &["**/*.pyc"]), vec!["app", "app/x.py"]);
        assert_eq!(only(&[], &["link"], &[]), vec!["link", "real.txt"]);
    }

    #[test]
    fn go_modes_and_the_end_of_the_stat_list() {
        let mut e = file("x");
        e.mode = 0o4755;
        assert_eq!(go_mode(&e), 0o755 | 1 << 23);
        e.kind = Kind::Dir;
        e.mode = 0o755;
        assert_eq!(go_mode(&e), 0o755 | 1 << 31);
        use prost::Message as _;
        // The end of the list is an empty message: a STAT with no stat.
        assert!(Packet::default().encode_to_vec().is_empty());
        assert_eq!(resolve("a/link", "../b/c"), Some("b/c".into()));
        assert_eq!(resolve("link", "../../etc"), None);
    }

    #[test]
    fn requested_files_are_sent_in_chunks_then_an_empty_packet_and_fin_ends() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![7u8; 300_000]).expect("write");
        let entries = vec![
            Entry {
                path: "big".into(),
                kind: Kind::File {
                    size: 300_000,
                    source: Source::Disk(big),
                },
                mode: 0o644,
                mtime_ns: 1,
            },
            file("small"),
        ];
        let sent = rt.block_on(async {
            let (to_us, incoming) = tokio::sync::mpsc::channel(8);
            let (outgoing, mut from_us) = tokio::sync::mpsc::channel(8);
            let copy = tokio::spawn(diff_copy(entries, incoming, outgoing));
            let mut sent = Vec::new();
            let request = |kind| Packet {
                kind,
                ..Packet::default()
            };
            to_us.send(request(REQ)).await.expect("send");
            while let Some(p) = from_us.recv().await {
                let end_of_file = p.kind == DATA && p.data.is_empty();
                sent.push(p);
                if end_of_file {
                    break;
                }
            }
            to_us.send(request(FIN)).await.expect("send");
            while let Some(p) = from_us.recv().await {
                sent.push(p);
            }
            assert!(matches!(copy.await, Ok(Ok(()))));
            sent
        });
        let stats: Vec<&str> = sent
            .iter()
            .filter(|p| p.kind == STAT)
            .map(|p| p.stat.as_ref().map(|s| s.path.as_str()).unwrap_or(""))
            .collect();
        assert_eq!(stats, vec!["big", "small", ""]);
        let bytes: usize = sent
            .iter()
            .filter(|p| p.kind == DATA && p.id == 0)
            .map(|p| p.data.len())
            .sum();
        assert_eq!(bytes, 300_000);
        assert_eq!(sent.last().map(|p| p.kind), Some(FIN));
        assert!(
            !sent.iter().any(|p| p.kind == DATA && p.id == 1),
            "not asked for"
        );
    }
}
