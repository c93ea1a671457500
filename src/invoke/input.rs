//! What `invoke` is given, checked before anything reaches the engine: the event, the
//! environment (`--env`, `--env-file`), the limits, and which image a spec names.

use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;

use super::{MAX_EVENT, MEMORY_RANGE, TIMEOUT_RANGE};
use crate::arch::Arch;

/// The event from `path` (`-`: standard input), or `{}`; it must be JSON, as Lambda's
/// Invoke requires, and at most 6 MB.
pub fn read_event(path: Option<&Path>) -> Result<Bytes> {
    let Some(path) = path else {
        return Ok(Bytes::from_static(b"{}"));
    };
    let (name, bytes) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_EVENT as u64 + 1)
            .read_to_end(&mut bytes)
            .context("reading the event from standard input")?;
        ("standard input".to_string(), bytes)
    } else {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).with_context(|| format!("reading {name}"))?;
        if !meta.is_file() {
            bail!("{name}: not a file");
        }
        if meta.len() > MAX_EVENT as u64 {
            bail!(
                "{name}: the event is {} bytes; Lambda accepts at most {MAX_EVENT}",
                meta.len()
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {name}"))?;
        (name, bytes)
    };
    if bytes.len() > MAX_EVENT {
        bail!("{name}: the event is over {MAX_EVENT} bytes, Lambda's limit");
    }
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        bail!("{name}: the event is not JSON ({e}); Lambda accepts only JSON events");
    }
    Ok(Bytes::from(bytes))
}

fn check_key(key: &str, origin: &str) -> Result<()> {
    let mut chars = key.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        bail!("{origin}: `{key}` is not an environment variable name (letters, digits, `_`)");
    }
    Ok(())
}

/// One `KEY=VALUE` (or `KEY`, taking this process's value).
fn one(entry: &str, origin: &str) -> Result<(String, String)> {
    match entry.split_once('=') {
        Some((key, value)) => {
            check_key(key, origin)?;
            if value.contains('\0') {
                bail!("{origin}: the value of `{key}` contains a NUL byte");
            }
            Ok((key.to_string(), value.to_string()))
        }
        None => {
            check_key(entry, origin)?;
            let value = std::env::var(entry)
                .map_err(|_| anyhow!("{origin}: `{entry}` is not set in this environment"))?;
            Ok((entry.to_string(), value))
        }
    }
}

/// `--env-file` lines first, then `--env` flags (later ones win).
pub fn environment(flags: &[String], file: Option<&Path>) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |(k, v): (String, String)| {
        out.retain(|(key, _)| *key != k);
        out.push((k, v));
    };
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            put(one(line, &format!("{}:{}", file.display(), n + 1))?);
        }
    }
    for flag in flags {
        put(one(flag, "--env")?);
    }
    Ok(out)
}

/// `--timeout` and `--memory` within Lambda's limits.
pub fn check_limits(timeout: u64, memory: u64) -> Result<()> {
    if !TIMEOUT_RANGE.contains(&timeout) {
        bail!(
            "--timeout {timeout}: Lambda's timeout is {} to {} seconds",
            TIMEOUT_RANGE.start(),
            TIMEOUT_RANGE.end()
        );
    }
    if !MEMORY_RANGE.contains(&memory) {
        bail!(
            "--memory {memory}: Lambda's memory is {} to {} MB",
            MEMORY_RANGE.start(),
            MEMORY_RANGE.end()
        );
    }
    Ok(())
}

/// The image `build` tagged for a spec (its first tag, for `arch`, else this machine's
/// architecture when the spec has it, else the spec's first), and the function's name.
pub fn spec_image(target: &str, arch: Option<Arch>) -> Result<(String, String, Arch)> {
    let spec = crate::image_spec::load(Path::new(target))?;
    let arch = spec.one_arch(arch, crate::image_spec::Unnamed::HostFirst)?;
    let tag = spec.first_tag(arch)?;
    Ok((tag.to_string(), function_name(&spec.name), arch))
}

/// A Lambda function name from an image name: its last path component, without the tag,
/// in the characters Lambda allows (letters, digits, `-`, `_`; at most 64).
pub fn function_name(image: &str) -> String {
    let repo = crate::reference::split_lenient(image).repo;
    let base = repo.rsplit('/').next().unwrap_or(repo);
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() || image.starts_with("sha256:") {
        "function".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_from_images() {
        assert_eq!(function_name("orders:latest"), "orders");
        assert_eq!(
            function_name("123.dkr.ecr.eu-west-1.amazonaws.com/team/orders.api:1"),
            "orders-api"
        );
        assert_eq!(function_name("localhost:5000/x@sha256:00"), "x");
        assert_eq!(function_name("sha256:0123"), "function");
    }

    #[test]
    fn environment_flags_and_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("env");
        std::fs::write(&file, "# comment\n\nA=1\nB=two=2\n").expect("write");
        let env = environment(&["A=3".into(), "C=".into()], Some(&file)).expect("env");
        assert_eq!(
            env,
            [
                ("B".into(), "two=2".into()),
                ("A".into(), "3".into()),
                ("C".into(), String::new())
            ]
        );
        let err = environment(&["1X=1".into()], None).expect_err("bad key");
        assert!(err.to_string().contains("not an environment variable name"));
        std::fs::write(&file, "ok=1\nbad key=1\n").expect("write");
        let err = environment(&[], Some(&file)).expect_err("bad line");
        assert!(err.to_string().contains(":2: `bad key`"), "{err}");
    }

    #[test]
    fn limits_are_lambdas() {
        assert!(check_limits(30, 512).is_ok());
        assert!(check_limits(900, 10240).is_ok());
        assert!(check_limits(0, 512).is_err());
        assert!(check_limits(901, 512).is_err());
        assert!(check_limits(3, 127).is_err());
    }
}
