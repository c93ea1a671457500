//! Checks of a `lambda-image/v1` manifest: paths, metadata, Lambda limits.

use std::collections::BTreeMap;

use crate::image::layer::{normalise_in_root, parent};
use crate::image::{env_map, Content, Image, Lookup, Node, NodeKind};

use super::manifest::{
    normalise_arch, parse_mode, parse_size, LambdaSpec, MetadataSpec, NativeManifest, PathSpec,
    PathType, Who,
};
use super::{expand, human_bytes, Check, Kind, Status};

pub fn checks(image: &Image, manifest: &NativeManifest) -> Vec<Check> {
    let env = env_map(&image.config);
    let mut out: Vec<Check> = manifest
        .paths
        .iter()
        .map(|spec| check_path(image, spec, &env))
        .collect();
    if let Some(meta) = &manifest.metadata {
        out.extend(metadata_checks(image, meta));
    }
    if let Some(lambda) = &manifest.lambda {
        out.extend(lambda_spec_checks(image, lambda));
    }
    out
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::File | NodeKind::Hardlink => "file",
        NodeKind::Dir => "directory",
        NodeKind::Symlink => "symlink",
        NodeKind::Other => "special file",
    }
}

/// Describes an entry: "file 0644 0:0, 12 B" (the layer is reported on its own).
pub fn describe(node: &Node) -> String {
    let size = if matches!(node.kind, NodeKind::File) {
        format!(", {}", human_bytes(node.size))
    } else {
        String::new()
    };
    format!(
        "{} {:04o} {}:{}{size}",
        kind_name(node.kind),
        node.mode & 0o7777,
        node.uid,
        node.gid
    )
}

fn who_bits(who: Who, bit: u32) -> (u32, &'static str) {
    match who {
        Who::Any => (bit, "others"),
        Who::Group => (bit << 3, "its group"),
        Who::Owner => (bit << 6, "its owner"),
    }
}

/// Directories on the way to `path` that others cannot search (o+x missing).
pub fn unsearchable_ancestors(image: &Image, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut dir = parent(path);
    loop {
        if let Some(node) = image.index.get(dir) {
            if node.kind == NodeKind::Dir && node.mode & 0o001 == 0 {
                out.push(dir.to_string());
            }
        }
        if dir == "/" {
            break;
        }
        dir = parent(dir);
    }
    out
}

fn check_path(image: &Image, spec: &PathSpec, env: &BTreeMap<String, String>) -> Check {
    let fail = |path: &str, msg: String| {
        Check::new(Kind::Manifest, "path", Status::Fail, msg).at(path.to_string())
    };
    let path = match expand(&spec.path, env) {
        Ok(p) => normalise_in_root(&p).0,
        Err(var) => {
            return fail(
                &spec.path,
                format!("uses ${{{var}}}, which the image's Env does not set"),
            )
        }
    };
    if spec.absent {
        return match image.index.resolve(&path, false) {
            Lookup::Found(real) => {
                let what = image
                    .index
                    .get(&real)
                    .map(describe)
                    .unwrap_or_else(|| "present".into());
                fail(&path, format!("should be absent, but is there ({what})"))
                    .in_layer(image.index.get(&real).map(|n| n.layer + 1))
            }
            Lookup::Missing(_) | Lookup::Loop(_) => {
                Check::new(Kind::Manifest, "path", Status::Pass, "absent").at(path)
            }
        };
    }
    let want_link = spec.kind == Some(PathType::Symlink) || spec.target.is_some();
    let real = match image.index.resolve(&path, !want_link) {
        Lookup::Found(real) => real,
        Lookup::Loop(_) => return fail(&path, "symlink loop (more than 40 links)".into()),
        Lookup::Missing(at) => {
            // A symlink that points nowhere is reported as such.
            if let Lookup::Found(link) = image.index.resolve(&path, false) {
                if let Some(node) = image.index.get(&link) {
                    if node.kind == NodeKind::Symlink {
                        return fail(
                            &path,
                            format!(
                                "dangling symlink to {} (nothing at {at})",
                                node.link.as_deref().unwrap_or_default()
                            ),
                        )
                        .in_layer(Some(node.layer + 1));
                    }
                }
            }
            return fail(&path, "missing".into());
        }
    };
    let Some(node) = image.index.get(&real) else {
        return fail(&path, "missing".into());
    };
    // Hard links carry the data (and size) of their target.
    let data = image.index.data_node(&real).map(|(_, n)| n).unwrap_or(node);
    let mut problems = Vec::new();
    if let Some(kind) = spec.kind {
        let ok = match kind {
            PathType::File => matches!(node.kind, NodeKind::File | NodeKind::Hardlink),
            PathType::Dir => node.kind == NodeKind::Dir,
            PathType::Symlink => node.kind == NodeKind::Symlink,
        };
        if !ok {
            problems.push(format!(
                "is a {}, not a {}",
                kind_name(node.kind),
                match kind {
                    PathType::File => "file",
                    PathType::Dir => "directory",
                    PathType::Symlink => "symlink",
                }
            ));
        }
    }
    if let Some(mode) = spec.mode.as_deref().and_then(parse_mode) {
        if node.mode & 0o7777 != mode {
            problems.push(format!(
                "mode is {:04o}, not {mode:04o}",
                node.mode & 0o7777
            ));
        }
    }
    if let Some(uid) = spec.uid {
        if node.uid != uid {
            problems.push(format!("uid is {}, not {uid}", node.uid));
        }
    }
    if let Some(gid) = spec.gid {
        if node.gid != gid {
            problems.push(format!("gid is {}, not {gid}", node.gid));
        }
    }
    if let Some(who) = spec.readable_by {
        let (bit, name) = who_bits(who, 0o004);
        if node.mode & bit == 0 {
            problems.push(format!(
                "not readable by {name} (mode {:04o})",
                node.mode & 0o7777
            ));
        }
    }
    if let Some(who) = spec.executable_by {
        let (bit, name) = who_bits(who, 0o001);
        if node.mode & bit == 0 {
            problems.push(format!(
                "not executable by {name} (mode {:04o})",
                node.mode & 0o7777
            ));
        }
    }
    // Lambda's user must also get to the entry (domain.md §3): readable or executable
    // by `any` needs every directory on the way searchable by others.
    if spec.readable_by == Some(Who::Any) || spec.executable_by == Some(Who::Any) {
        let blocked = unsearchable_ancestors(image, &real);
        if !blocked.is_empty() {
            problems.push(format!(
                "others cannot reach it: {} not searchable (o+x)",
                blocked.join(", ")
            ));
        }
    }
    if let Some(target) = &spec.target {
        let actual = node.link.as_deref().unwrap_or_default();
        if node.kind != NodeKind::Symlink {
            problems.push(format!(
                "is a {}, not a symlink to {target}",
                kind_name(node.kind)
            ));
        } else if actual != target {
            problems.push(format!("points to {actual}, not {target}"));
        }
    }
    if let Some(needles) = &spec.contains {
        match image.contents.get(&path) {
            Some(Content::Bytes {
                data: bytes,
                truncated,
                ..
            }) => {
                for needle in needles.items() {
                    if !contains_bytes(bytes, needle.as_bytes()) {
                        let cap = if *truncated {
                            format!(
                                " (only the first {} were searched)",
                                human_bytes(bytes.len() as u64)
                            )
                        } else {
                            String::new()
                        };
                        problems.push(format!("does not contain {needle:?}{cap}"));
                    }
                }
            }
            Some(Content::NotAFile(_, kind)) => {
                problems.push(format!(
                    "is a {}; `contains` needs a file",
                    kind_name(*kind)
                ));
            }
            _ => problems.push("content could not be read".into()),
        }
    }
    let layer = Some(data.layer + 1);
    if problems.is_empty() {
        let via = if real != path {
            format!(" (via symlink: {real})")
        } else {
            String::new()
        };
        Check::new(
            Kind::Manifest,
            "path",
            Status::Pass,
            format!("{}{via}", describe(data)),
        )
        .at(path)
        .in_layer(layer)
    } else {
        fail(&path, problems.join("; ")).in_layer(layer)
    }
}

/// Literal substring search (manifest `contains` is not a regular expression).
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn quoted_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

fn metadata_checks(image: &Image, meta: &MetadataSpec) -> Vec<Check> {
    let mut out = Vec::new();
    let run = image.config.config.clone().unwrap_or_default();
    let env = env_map(&image.config);
    for (key, want) in &meta.env {
        let check = match env.get(key) {
            Some(v) if v == want => {
                Check::new(Kind::Manifest, "env", Status::Pass, format!("{key}={v}"))
            }
            Some(v) => Check::new(
                Kind::Manifest,
                "env",
                Status::Fail,
                format!("{key} is {v:?}, not {want:?}"),
            ),
            None => Check::new(
                Kind::Manifest,
                "env",
                Status::Fail,
                format!("{key} is not set (want {want:?})"),
            ),
        };
        out.push(check);
    }
    let lists = [
        (
            "entrypoint",
            &meta.entrypoint,
            run.entrypoint.clone().unwrap_or_default(),
        ),
        ("cmd", &meta.cmd, run.cmd.clone().unwrap_or_default()),
    ];
    for (name, want, actual) in lists {
        if let Some(want) = want {
            out.push(if *want == actual {
                Check::new(Kind::Manifest, name, Status::Pass, quoted_list(&actual))
            } else {
                Check::new(
                    Kind::Manifest,
                    name,
                    Status::Fail,
                    format!("is {}, not {}", quoted_list(&actual), quoted_list(want)),
                )
            });
        }
    }
    let scalars = [
        (
            "workdir",
            &meta.workdir,
            run.working_dir.clone().unwrap_or_default(),
        ),
        ("user", &meta.user, run.user.clone().unwrap_or_default()),
    ];
    for (name, want, actual) in scalars {
        if let Some(want) = want {
            out.push(if *want == actual {
                Check::new(Kind::Manifest, name, Status::Pass, format!("{actual:?}"))
            } else {
                Check::new(
                    Kind::Manifest,
                    name,
                    Status::Fail,
                    format!("is {actual:?}, not {want:?}"),
                )
            });
        }
    }
    out
}

fn lambda_spec_checks(image: &Image, spec: &LambdaSpec) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(want) = spec.architecture.as_deref() {
        let want_oci = normalise_arch(want).unwrap_or("?");
        let actual = image.config.architecture.as_str();
        out.push(if actual == want_oci {
            Check::new(
                Kind::Manifest,
                "architecture",
                Status::Pass,
                actual.to_string(),
            )
        } else {
            Check::new(
                Kind::Manifest,
                "architecture",
                Status::Fail,
                format!("image is {actual:?}, manifest wants {want}"),
            )
        });
    }
    if let Some(max) = spec.max_size.as_deref() {
        let limit = parse_size(max).unwrap_or(0);
        out.push(if image.size <= limit {
            Check::new(
                Kind::Manifest,
                "max-size",
                Status::Pass,
                format!("{} uncompressed (at most {max})", human_bytes(image.size)),
            )
        } else {
            Check::new(
                Kind::Manifest,
                "max-size",
                Status::Fail,
                format!("{} uncompressed, more than {max}", human_bytes(image.size)),
            )
        });
    }
    out
}
