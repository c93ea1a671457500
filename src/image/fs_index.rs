//! The merged filesystem: layers applied in order, whiteouts honoured (OCI image spec,
//! "Representing Changes"), path → metadata and the layer that put it there.
//! Symlinks resolve inside the image root, never on the host.

use std::collections::BTreeMap;

use serde::Serialize;

use super::layer::{parent, EntryKind, LayerEntry};

/// Linux gives up after 40 symlinks (ELOOP); so do we.
const MAX_SYMLINK_HOPS: usize = 40;
/// How many of the biggest wasted files we remember.
const WASTE_TOP: usize = 10;

/// What a node is: a tar entry's type.
pub use super::tar_reader::EntryType as NodeKind;

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// Symlink target as written; hard link target normalised.
    pub link: Option<String>,
    /// 0-based index of the layer that wrote this entry.
    pub layer: usize,
    /// A directory no layer listed, implied by a path under it.
    pub implicit: bool,
}

impl Node {
    /// A directory no layer listed (the root, or a parent of a path `layer` wrote).
    fn implicit_dir(layer: usize) -> Node {
        Node {
            kind: NodeKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            link: None,
            layer,
            implicit: true,
        }
    }
}

/// Bytes a later layer made unreachable: still shipped, never seen.
#[derive(Debug, Clone, Serialize)]
pub struct Waste {
    pub path: String,
    pub size: u64,
    /// 0-based layer that added the bytes.
    pub layer: usize,
    /// 0-based layer that overwrote or deleted them.
    pub by_layer: usize,
    pub deleted: bool,
}

#[derive(Debug, Default)]
pub struct FsIndex {
    nodes: BTreeMap<String, Node>,
    pub wasted_bytes: u64,
    pub wasted_files: u64,
    /// The biggest wasted files, largest first.
    pub wasted_top: Vec<Waste>,
}

/// Where a path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The resolved path (symlinks in it replaced).
    Found(String),
    /// Nothing there; the path as far as it resolved.
    Missing(String),
    /// More than 40 symlinks: a loop.
    Loop(String),
}

impl FsIndex {
    pub fn new() -> Self {
        let mut index = FsIndex::default();
        index.nodes.insert("/".to_string(), Node::implicit_dir(0));
        index
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Every entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    /// `dir` itself and every entry below it.
    pub fn subtree<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let own = self.nodes.get_key_value(dir);
        own.into_iter().chain(
            self.nodes
                .range(prefix.clone()..)
                .take_while(move |(k, _)| k.starts_with(&prefix)),
        )
    }

    /// Direct children of a directory.
    pub fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let depth = prefix.len();
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| k.get(depth..).is_some_and(|rest| !rest.contains('/')))
    }

    fn note_waste(&mut self, path: &str, node: &Node, by_layer: usize, deleted: bool) {
        if node.kind != NodeKind::File || node.size == 0 {
            return;
        }
        self.wasted_bytes += node.size;
        self.wasted_files += 1;
        let smallest = self.wasted_top.last().map_or(0, |w| w.size);
        if self.wasted_top.len() < WASTE_TOP || node.size > smallest {
            self.wasted_top.push(Waste {
                path: path.to_string(),
                size: node.size,
                layer: node.layer,
                by_layer,
                deleted,
            });
            self.wasted_top
                .sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
            self.wasted_top.truncate(WASTE_TOP);
        }
    }

    /// Removes `path` and everything below it; the bytes count as waste.
    fn remove_tree(&mut self, path: &str, by_layer: usize, include_self: bool) {
        if path == "/" && include_self {
            return self.remove_tree(path, by_layer, false);
        }
        let keys: Vec<String> = self
            .subtree(path)
            .filter(|(k, _)| include_self || k.as_str() != path)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            if let Some(node) = self.nodes.remove(&key) {
                self.note_waste(&key, &node, by_layer, true);
            }
        }
    }

    /// Makes sure every ancestor of `path` is a directory (overlayfs: a directory in an
    /// upper layer replaces a non-directory below).
    fn ensure_parents(&mut self, path: &str, layer: usize) {
        let mut ancestors = Vec::new();
        let mut p = parent(path);
        while p != "/" {
            ancestors.push(p.to_string());
            p = parent(p);
        }
        for dir in ancestors.into_iter().rev() {
            match self.nodes.get(&dir) {
                Some(node) if node.kind == NodeKind::Dir => {}
                existing => {
                    if let Some(old) = existing.cloned() {
                        self.note_waste(&dir, &old, layer, false);
                    }
                    self.nodes.insert(dir, Node::implicit_dir(layer));
                }
            }
        }
    }

    /// Applies one layer on top of what is there: its whiteouts first (they only ever hide
    /// lower layers), then its entries in order (a later duplicate wins).
    pub fn apply_layer(&mut self, layer: usize, entries: Vec<LayerEntry>) {
        for entry in &entries {
            match entry.kind {
                EntryKind::Whiteout => self.remove_tree(&entry.path, layer, true),
                EntryKind::Opaque => self.remove_tree(&entry.path, layer, false),
                _ => {}
            }
        }
        for entry in entries {
            let kind = match entry.kind {
                EntryKind::File => NodeKind::File,
                EntryKind::Dir => NodeKind::Dir,
                EntryKind::Symlink => NodeKind::Symlink,
                EntryKind::Hardlink => NodeKind::Hardlink,
                EntryKind::Other => NodeKind::Other,
                EntryKind::Whiteout | EntryKind::Opaque => continue,
            };
            if entry.path == "/" {
                if let Some(root) = self.nodes.get_mut("/") {
                    if kind == NodeKind::Dir {
                        root.mode = entry.mode;
                        root.uid = entry.uid;
                        root.gid = entry.gid;
                        root.layer = layer;
                        root.implicit = false;
                    }
                }
                continue;
            }
            self.ensure_parents(&entry.path, layer);
            if let Some(old) = self.nodes.get(&entry.path).cloned() {
                if old.kind == NodeKind::Dir && kind != NodeKind::Dir {
                    self.remove_tree(&entry.path, layer, false);
                }
                self.note_waste(&entry.path, &old, layer, false);
            }
            let size = if kind == NodeKind::Hardlink {
                0
            } else {
                entry.size
            };
            self.nodes.insert(
                entry.path,
                Node {
                    kind,
                    mode: entry.mode,
                    uid: entry.uid,
                    gid: entry.gid,
                    size,
                    link: entry.link,
                    layer,
                    implicit: false,
                },
            );
        }
    }

    /// Resolves `path` inside the image. With `follow_last` the final component is
    /// followed too (stat); without, it is not (lstat). Absolute symlink targets start
    /// again at the image root, `..` never climbs above it.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Lookup {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let mut current: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    current.pop();
                    continue;
                }
                _ => {}
            }
            current.push(component);
            let is_last = pending.is_empty();
            let joined = join_components(&current);
            let Some(node) = self.nodes.get(&joined) else {
                let mut rest = joined;
                for p in pending.iter().rev() {
                    rest.push('/');
                    rest.push_str(p);
                }
                return Lookup::Missing(rest);
            };
            match node.kind {
                NodeKind::Symlink if !is_last || follow_last => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Lookup::Loop(path.to_string());
                    }
                    current.pop();
                    let target = node.link.as_deref().unwrap_or_default();
                    if target.starts_with('/') {
                        current.clear();
                    }
                    for part in target.split('/').rev().filter(|p| !p.is_empty()) {
                        pending.push(part.to_string());
                    }
                }
                NodeKind::Dir => {}
                _ if !is_last => {
                    // A path through a file: ENOTDIR.
                    return Lookup::Missing(joined);
                }
                _ => {}
            }
        }
        Lookup::Found(join_components(&current))
    }

    /// Follows a hard link to the entry holding the data.
    pub fn data_node<'a>(&'a self, path: &'a str) -> Option<(&'a str, &'a Node)> {
        let node = self.nodes.get(path)?;
        if node.kind == NodeKind::Hardlink {
            let target = node.link.as_deref()?;
            let (key, target_node) = self.nodes.get_key_value(target)?;
            return Some((key.as_str(), target_node));
        }
        Some((path, node))
    }
}

fn join_components(parts: &[String]) -> String {
    if parts.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind, size: u64, link: Option<&str>) -> LayerEntry {
        LayerEntry {
            path: path.into(),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            link: link.map(str::to_string),
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers() {
        let mut index = FsIndex::new();
        index.apply_layer(
            0,
            vec![
                entry("/a/x", EntryKind::File, 10, None),
                entry("/a/y", EntryKind::File, 20, None),
                entry("/b/z", EntryKind::File, 30, None),
            ],
        );
        index.apply_layer(
            1,
            vec![
                entry("/a/x", EntryKind::Whiteout, 0, None),
                entry("/b", EntryKind::Opaque, 0, None),
                entry("/b/new", EntryKind::File, 1, None),
            ],
        );
        assert!(index.get("/a/x").is_none());
        assert!(index.get("/a/y").is_some());
        assert!(index.get("/b/z").is_none());
        assert!(index.get("/b/new").is_some());
        assert_eq!(index.wasted_bytes, 40);
    }

    #[test]
    fn symlinks_resolve_inside_the_image() {
        let mut index = FsIndex::new();
        index.apply_layer(
            0,
            vec![
                entry("/etc/hostname", EntryKind::File, 5, None),
                entry("/opt/abs", EntryKind::Symlink, 0, Some("/etc/hostname")),
                entry(
                    "/opt/rel",
                    EntryKind::Symlink,
                    0,
                    Some("../../../etc/hostname"),
                ),
                entry("/loop/a", EntryKind::Symlink, 0, Some("b")),
                entry("/loop/b", EntryKind::Symlink, 0, Some("a")),
            ],
        );
        assert_eq!(
            index.resolve("/opt/abs", true),
            Lookup::Found("/etc/hostname".into())
        );
        assert_eq!(
            index.resolve("/opt/rel", true),
            Lookup::Found("/etc/hostname".into())
        );
        assert_eq!(
            index.resolve("/opt/abs", false),
            Lookup::Found("/opt/abs".into())
        );
        assert!(matches!(index.resolve("/loop/a", true), Lookup::Loop(_)));
    }
}
