//! container-structure-test 2.0.0 configs, answered from the image index (no container).

use std::collections::BTreeMap;

use regex::bytes::Regex;

use crate::image::layer::normalise_in_root;
use crate::image::{Content, Image, Lookup, Node, NodeKind};

use super::manifest::{CstConfig, CstKeyValue, FileContentTest, FileExistenceTest, MetadataTest};
use super::{expand, expansion_env, mode_bits, Check, Kind, Options, Status};

pub const COMMAND_TESTS_MESSAGE: &str =
    "commandTests need a running container: they run when the image is in the Docker Engine (verify IMAGE), not from an archive (--skip commandTests skips them)";

pub fn checks(image: &Image, config: &CstConfig, options: &Options) -> Vec<Check> {
    let skip = &options.skip;
    let manifest = super::manifest::VerifyManifest::Cst(config.clone());
    let env = expansion_env(&image.config, Some(&manifest));
    let mut out = Vec::new();
    let skipped = |kind: &str, name: &str| {
        Check::new(
            Kind::StructureTest,
            name,
            Status::Skip,
            format!("skipped (--skip {kind})"),
        )
    };
    // One test's check, or its skip when `--skip` names its kind.
    let unless_skipped = |kind: &str, name: &str, check: &dyn Fn() -> Check| {
        if skip.contains(kind) {
            skipped(kind, name)
        } else {
            check()
        }
    };
    for t in &config.file_existence_tests {
        out.push(unless_skipped("fileExistenceTests", &t.name, &|| {
            existence(image, t, &env)
        }));
    }
    for t in &config.file_content_tests {
        out.push(unless_skipped("fileContentTests", &t.name, &|| {
            content(image, t, &env)
        }));
    }
    for t in config
        .command_tests
        .iter()
        .filter(|_| !options.commands_run_apart)
    {
        out.push(unless_skipped("commandTests", &t.name, &|| {
            Check::new(
                Kind::StructureTest,
                &t.name,
                Status::Fail,
                COMMAND_TESTS_MESSAGE,
            )
        }));
    }
    if let Some(meta) = &config.metadata_test {
        if skip.contains("metadataTest") {
            out.push(skipped("metadataTest", "metadataTest"));
        } else {
            out.extend(metadata(image, meta));
        }
    }
    if !config.license_tests.is_empty() {
        out.push(unless_skipped("licenseTests", "licenseTests", &|| {
            Check::new(
                Kind::StructureTest,
                "licenseTests",
                Status::Skip,
                "licenseTests are not supported by lambda-image",
            )
        }));
    }
    out
}

/// Go's `os.FileMode.String()`: type letters (`d`, `L`, `u`, `g`, `t`, …) then rwx bits.
pub fn go_mode_string(node: &Node) -> String {
    let mut prefix = String::new();
    match node.kind {
        NodeKind::Dir => prefix.push('d'),
        NodeKind::Symlink => prefix.push('L'),
        NodeKind::Other => prefix.push('D'),
        NodeKind::File | NodeKind::Hardlink => {}
    }
    if node.mode & 0o4000 != 0 {
        prefix.push('u');
    }
    if node.mode & 0o2000 != 0 {
        prefix.push('g');
    }
    if node.mode & 0o1000 != 0 {
        prefix.push('t');
    }
    if prefix.is_empty() {
        prefix.push('-');
    }
    prefix + &mode_bits(node.mode)
}

/// A test's path with `${VAR}` expanded from the image's Env and normalised inside the root, or
/// the failed check when it names a variable the Env does not set.
fn test_path(name: &str, raw: &str, env: &BTreeMap<String, String>) -> Result<String, Box<Check>> {
    match expand(raw, env) {
        Ok(p) => Ok(normalise_in_root(&p).0),
        Err(var) => Err(Box::new(
            Check::new(
                Kind::StructureTest,
                name,
                Status::Fail,
                format!("uses ${{{var}}}, which the image's Env does not set"),
            )
            .at(raw.to_string()),
        )),
    }
}

fn existence(image: &Image, t: &FileExistenceTest, env: &BTreeMap<String, String>) -> Check {
    let check = |status: Status, msg: String| Check::new(Kind::StructureTest, &t.name, status, msg);
    let path = match test_path(&t.name, &t.path, env) {
        Ok(p) => p,
        Err(failed) => return *failed,
    };
    let lstat = image.index.resolve(&path, false);
    let followed = image.index.resolve(&path, true);
    let found = match (&lstat, &followed) {
        (Lookup::Found(_), Lookup::Found(real)) => image.index.get(real),
        _ => None,
    };
    if !t.should_exist {
        return match lstat {
            Lookup::Found(_) => check(Status::Fail, "exists but should not".to_string()),
            _ => check(Status::Pass, "does not exist".to_string()),
        }
        .at(path);
    }
    let Some(node) = found else {
        let why = match (lstat, followed) {
            (_, Lookup::Loop(_)) => "is a symlink loop".to_string(),
            (Lookup::Found(_), Lookup::Missing(at)) => {
                format!("is a dangling symlink (nothing at {at})")
            }
            _ => "does not exist".to_string(),
        };
        return check(Status::Fail, why).at(path);
    };
    let link_node = match image.index.resolve(&path, false) {
        Lookup::Found(p) => image.index.get(&p),
        _ => None,
    };
    let mut problems = Vec::new();
    if let Some(want) = &t.permissions {
        // container-structure-test compares the lstat mode; a symlink shows as "Lrwxrwxrwx".
        let subject = if want.starts_with('L') {
            link_node.unwrap_or(node)
        } else {
            node
        };
        let actual = go_mode_string(subject);
        if &actual != want {
            problems.push(format!("permissions are {actual}, not {want}"));
        }
    }
    if let Some(uid) = t.uid.filter(|u| *u >= 0) {
        if i64::try_from(node.uid).ok() != Some(uid) {
            problems.push(format!("uid is {}, not {uid}", node.uid));
        }
    }
    if let Some(gid) = t.gid.filter(|g| *g >= 0) {
        if i64::try_from(node.gid).ok() != Some(gid) {
            problems.push(format!("gid is {}, not {gid}", node.gid));
        }
    }
    if let Some(who) = &t.is_executable_by {
        let bits = match who.as_str() {
            "owner" => 0o100,
            "group" => 0o010,
            "other" => 0o001,
            _ => 0o111,
        };
        if node.mode & bits == 0 {
            problems.push(format!(
                "not executable by {who} ({})",
                go_mode_string(node)
            ));
        }
    }
    let layer = Some(node.layer + 1);
    if problems.is_empty() {
        check(Status::Pass, format!("exists ({})", go_mode_string(node)))
            .at(path)
            .in_layer(layer)
    } else {
        check(Status::Fail, problems.join("; "))
            .at(path)
            .in_layer(layer)
    }
}

fn content(image: &Image, t: &FileContentTest, env: &BTreeMap<String, String>) -> Check {
    let check = |status: Status, msg: String| Check::new(Kind::StructureTest, &t.name, status, msg);
    let path = match test_path(&t.name, &t.path, env) {
        Ok(p) => p,
        Err(failed) => return *failed,
    };
    let (bytes, truncated) = match image.contents.get(&path) {
        Some(Content::Bytes {
            data, truncated, ..
        }) => (data, *truncated),
        Some(Content::NotAFile(_, _)) => {
            return check(Status::Fail, "is not a file".to_string()).at(path)
        }
        Some(Content::Loop) => {
            return check(Status::Fail, "is a symlink loop".to_string()).at(path)
        }
        _ => return check(Status::Fail, "does not exist".to_string()).at(path),
    };
    let mut problems = Vec::new();
    for pattern in &t.expected_contents {
        match Regex::new(pattern) {
            Ok(re) if re.is_match(bytes) => {}
            Ok(_) => problems.push(format!("expected {pattern:?} not found")),
            Err(_) => problems.push(format!("{pattern:?} is not a valid regular expression")),
        }
    }
    for pattern in &t.excluded_contents {
        match Regex::new(pattern) {
            Ok(re) if re.is_match(bytes) => problems.push(format!("excluded {pattern:?} found")),
            Ok(_) => {}
            Err(_) => problems.push(format!("{pattern:?} is not a valid regular expression")),
        }
    }
    if problems.is_empty() {
        check(Status::Pass, "content matches".to_string()).at(path)
    } else {
        let cap = if truncated {
            format!(" (only the first {} bytes were searched)", bytes.len())
        } else {
            String::new()
        };
        check(Status::Fail, format!("{}{cap}", problems.join("; "))).at(path)
    }
}

fn value_matches(kv: &CstKeyValue, actual: &str) -> bool {
    if kv.is_regex {
        Regex::new(&kv.value).is_ok_and(|re| re.is_match(actual.as_bytes()))
    } else {
        kv.value == actual
    }
}

fn metadata(image: &Image, meta: &MetadataTest) -> Vec<Check> {
    let mut out = Vec::new();
    let run = image.config.config.clone().unwrap_or_default();
    let env = crate::image::env_map(&image.config);
    let mut problems = Vec::new();
    for kv in &meta.env_vars {
        match env.get(&kv.key) {
            Some(v) if value_matches(kv, v) => {}
            Some(v) => problems.push(format!("env {} is {v:?}, not {:?}", kv.key, kv.value)),
            None => problems.push(format!("env {} is not set", kv.key)),
        }
    }
    for k in &meta.unbound_env_vars {
        if env.contains_key(&k.key) {
            problems.push(format!("env {} is set but should not be", k.key));
        }
    }
    let labels = run.labels.clone().unwrap_or_default();
    for kv in &meta.labels {
        match labels.get(&kv.key) {
            Some(v) if value_matches(kv, v) => {}
            Some(v) => problems.push(format!("label {} is {v:?}, not {:?}", kv.key, kv.value)),
            None => problems.push(format!("label {} is not set", kv.key)),
        }
    }
    let list = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
    if let Some(want) = &meta.entrypoint {
        let actual = run.entrypoint.clone().unwrap_or_default();
        if &actual != want {
            problems.push(format!(
                "entrypoint is {}, not {}",
                list(&actual),
                list(want)
            ));
        }
    }
    if let Some(want) = &meta.cmd {
        let actual = run.cmd.clone().unwrap_or_default();
        if &actual != want {
            problems.push(format!("cmd is {}, not {}", list(&actual), list(want)));
        }
    }
    if let Some(want) = &meta.workdir {
        let actual = run.working_dir.clone().unwrap_or_default();
        if &actual != want {
            problems.push(format!("workdir is {actual:?}, not {want:?}"));
        }
    }
    if let Some(want) = &meta.user {
        let actual = run.user.clone().unwrap_or_default();
        if &actual != want {
            problems.push(format!("user is {actual:?}, not {want:?}"));
        }
    }
    let ports = run.exposed_ports.clone().unwrap_or_default();
    let has_port = |p: &str| ports.contains_key(p) || ports.contains_key(&format!("{p}/tcp"));
    for p in &meta.exposed_ports {
        if !has_port(p) {
            problems.push(format!("port {p} is not exposed"));
        }
    }
    for p in &meta.unexposed_ports {
        if has_port(p) {
            problems.push(format!("port {p} is exposed but should not be"));
        }
    }
    let volumes = run.volumes.clone().unwrap_or_default();
    for v in &meta.volumes {
        if !volumes.contains_key(v) {
            problems.push(format!("volume {v} is not declared"));
        }
    }
    for v in &meta.unmounted_volumes {
        if volumes.contains_key(v) {
            problems.push(format!("volume {v} is declared but should not be"));
        }
    }
    out.push(if problems.is_empty() {
        Check::new(
            Kind::StructureTest,
            "Metadata Test",
            Status::Pass,
            "image config matches",
        )
    } else {
        Check::new(
            Kind::StructureTest,
            "Metadata Test",
            Status::Fail,
            problems.join("; "),
        )
    });
    out
}
