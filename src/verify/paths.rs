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
    let path = match expand(&spec.path, env) {
        Ok(p) => normalise_in_root(&p).0,
        Err(var) => {
            return path_failed(
                &spec.path,
                format!("uses ${{{var}}}, which the image's Env does not set"),
            )
        }
    };
    if spec.absent {
        return absent_check(image, path);
    }
    let (real, node) = match found(image, spec, &path) {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    // Hard links carry the data (and size) of their target.
    let data = image.index.data_node(&real).map(|(_, n)| n).unwrap_or(node);
    let mut problems = attribute_problems(spec, node);
    problems.extend(reach_problems(image, spec, &real));
    problems.extend(target_problems(spec, node));
    problems.extend(content_problems(image, spec, &path));
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
        path_failed(&path, problems.join("; ")).in_layer(layer)
    }
}

fn path_failed(path: &str, message: String) -> Check {
    Check::new(Kind::Manifest, "path", Status::Fail, message).at(path.to_string())
}

/// `absent: true`: passes when nothing is at `path` (a symlink there counts as something).
fn absent_check(image: &Image, path: String) -> Check {
    match image.index.resolve(&path, false) {
        Lookup::Found(real) => {
            let what = image
                .index
                .get(&real)
                .map(describe)
                .unwrap_or_else(|| "present".into());
            path_failed(&path, format!("should be absent, but is there ({what})"))
                .in_layer(image.index.get(&real).map(|n| n.layer + 1))
        }
        Lookup::Missing(_) | Lookup::Loop(_) => {
            Check::new(Kind::Manifest, "path", Status::Pass, "absent").at(path)
        }
    }
}

/// The entry at `path` (symlinks followed unless the spec asks about the link itself) and
/// its real path, or the failed check that says why there is none.
fn found<'i>(image: &'i Image, spec: &PathSpec, path: &str) -> Result<(String, &'i Node), Check> {
    let want_link = spec.kind == Some(PathType::Symlink) || spec.target.is_some();
    let real = match image.index.resolve(path, !want_link) {
        Lookup::Found(real) => real,
        Lookup::Loop(_) => {
            return Err(path_failed(
                path,
                "symlink loop (more than 40 links)".into(),
            ))
        }
        Lookup::Missing(at) => {
            // A symlink that points nowhere is reported as such.
            if let Lookup::Found(link) = image.index.resolve(path, false) {
                if let Some(node) = image.index.get(&link) {
                    if node.kind == NodeKind::Symlink {
                        return Err(path_failed(
                            path,
                            format!(
                                "dangling symlink to {} (nothing at {at})",
                                node.link.as_deref().unwrap_or_default()
                            ),
                        )
                        .in_layer(Some(node.layer + 1)));
                    }
                }
            }
            return Err(path_failed(path, "missing".into()));
        }
    };
    match image.index.get(&real) {
        Some(node) => Ok((real, node)),
        None => Err(path_failed(path, "missing".into())),
    }
}

/// `type`, `mode`, `uid`, `gid`, `readable_by` and `executable_by` against the entry.
fn attribute_problems(spec: &PathSpec, node: &Node) -> Vec<String> {
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
    for (who, bit, verb) in [
        (spec.readable_by, 0o004, "readable"),
        (spec.executable_by, 0o001, "executable"),
    ] {
        if let Some(who) = who {
            let (bit, name) = who_bits(who, bit);
            if node.mode & bit == 0 {
                problems.push(format!(
                    "not {verb} by {name} (mode {:04o})",
                    node.mode & 0o7777
                ));
            }
        }
    }
    problems
}

/// Lambda's user must also get to the entry (domain.md §3): readable or executable by `any`
/// needs every directory on the way searchable by others.
fn reach_problems(image: &Image, spec: &PathSpec, real: &str) -> Option<String> {
    if spec.readable_by != Some(Who::Any) && spec.executable_by != Some(Who::Any) {
        return None;
    }
    let blocked = unsearchable_ancestors(image, real);
    (!blocked.is_empty()).then(|| {
        format!(
            "others cannot reach it: {} not searchable (o+x)",
            blocked.join(", ")
        )
    })
}

/// `target`: the entry is a symlink to it.
fn target_problems(spec: &PathSpec, node: &Node) -> Option<String> {
    let target = spec.target.as_ref()?;
    let actual = node.link.as_deref().unwrap_or_default();
    if node.kind != NodeKind::Symlink {
        Some(format!(
            "is a {}, not a symlink to {target}",
            kind_name(node.kind)
        ))
    } else if actual != target {
        Some(format!("points to {actual}, not {target}"))
    } else {
        None
    }
}

/// `contains`: each text is in the file's content (as far as it was kept).
fn content_problems(image: &Image, spec: &PathSpec, path: &str) -> Vec<String> {
    let Some(needles) = &spec.contains else {
        return Vec::new();
    };
    match image.contents.get(path) {
        Some(Content::Bytes {
            data: bytes,
            truncated,
            ..
        }) => {
            let cap = if *truncated {
                format!(
                    " (only the first {} were searched)",
                    human_bytes(bytes.len() as u64)
                )
            } else {
                String::new()
            };
            needles
                .items()
                .into_iter()
                .filter(|needle| !contains_bytes(bytes, needle.as_bytes()))
                .map(|needle| format!("does not contain {needle:?}{cap}"))
                .collect()
        }
        Some(Content::NotAFile(_, kind)) => {
            vec![format!(
                "is a {}; `contains` needs a file",
                kind_name(*kind)
            )]
        }
        _ => vec!["content could not be read".into()],
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
