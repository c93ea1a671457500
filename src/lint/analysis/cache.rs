//! Package caches: what an `rm` removes, whether a removed path takes a cache directory with it
//! (`/var/cache/{dnf,yum}` expanded as the images' bash does), and whether a RUN's
//! `--mount=type=cache` (or tmpfs) covers one. LI111 and LI201 read it.

use crate::dockerfile::{Command, Word};
use crate::lint::Run;

/// The paths an `rm` command removes (non-option arguments); empty for other commands.
pub fn removed_paths(c: &Command) -> impl Iterator<Item = &Word> {
    let is_rm = c.name() == Some("rm");
    c.argv()
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .filter(move |w| is_rm && !w.value.starts_with('-'))
}

/// Whether removing `path` removes the cache directory `dir` (`/var/cache/yum`, `…/yum/*`,
/// `/var/cache`, `/var/cache/*`).
pub fn removes_dir(path: &str, dir: &str) -> bool {
    // `/var/cache/{dnf,yum}`: the shell of the Amazon Linux images (bash, also as /bin/sh)
    // expands one brace group.
    if let Some((head, rest)) = path.split_once('{') {
        if let Some((alts, tail)) = rest.split_once('}') {
            if alts.contains(',') && !alts.contains('{') {
                return alts
                    .split(',')
                    .any(|alt| removes_dir(&format!("{head}{alt}{tail}"), dir));
            }
        }
    }
    let p = path.trim_end_matches('/');
    if p == "/var/cache" || p == "/var/cache/*" {
        return true;
    }
    match p.strip_prefix(dir) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || rest.starts_with('*'),
        None => false,
    }
}

/// Whether the RUN's `--mount=type=cache` (or tmpfs) flags cover `dir`.
pub fn mount_covers(run: &Run<'_>, dir: &str) -> bool {
    run.instruction.flags.iter().any(|f| {
        if !f.name.eq_ignore_ascii_case("mount") {
            return false;
        }
        let Some(v) = f.value.as_deref() else {
            return false;
        };
        let mut cache = false;
        let mut target = None;
        for kv in v.split(',') {
            let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
            match k.trim() {
                "type" => cache = matches!(val.trim(), "cache" | "tmpfs"),
                "target" | "dst" | "destination" => target = Some(val.trim()),
                _ => {}
            }
        }
        cache && target.is_some_and(|t| removes_dir(t, dir) || t.trim_end_matches('/') == dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_dir_paths() {
        assert!(removes_dir("/var/cache/yum", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/yum/*", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/yum/", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/*", "/var/cache/yum"));
        assert!(!removes_dir("/var/cache/yumx", "/var/cache/yum"));
        assert!(!removes_dir("/tmp/x", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/{dnf,yum}", "/var/cache/yum"));
        assert!(removes_dir("/var/cache/{yum,dnf}/*", "/var/cache/dnf"));
        assert!(!removes_dir("/var/cache/{apt,apk}", "/var/cache/yum"));
    }
}
