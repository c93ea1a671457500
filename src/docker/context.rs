//! Which engine to talk to, found as the docker CLI finds it: `DOCKER_HOST`, else the
//! context named by `DOCKER_CONTEXT`, else `currentContext` in the CLI's `config.json`
//! (`$DOCKER_CONFIG` or `~/.docker`), else the default socket. A named context's endpoint
//! is in `contexts/meta/<sha256 of the name>/meta.json` under the same folder.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::text::hex;

/// Where the engine listens when nothing says otherwise.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The docker CLI's configuration folder.
pub fn config_dir() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| PathBuf::from(home).join(".docker")),
    }
}

/// The engine address and where it came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    /// `DOCKER_HOST`, `docker context "name"`, or `default`.
    pub from: String,
}

#[derive(Deserialize)]
struct CliConfig {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Endpoints", default)]
    endpoints: std::collections::BTreeMap<String, MetaEndpoint>,
}

#[derive(Deserialize)]
struct MetaEndpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
}

/// Resolves the endpoint from the environment and the CLI's files.
pub fn endpoint() -> Result<Endpoint> {
    if let Some(host) = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
        return Ok(Endpoint {
            host,
            from: "DOCKER_HOST".into(),
        });
    }
    let dir = config_dir();
    let name = match std::env::var("DOCKER_CONTEXT")
        .ok()
        .filter(|c| !c.is_empty())
    {
        Some(name) => Some(name),
        None => dir.as_deref().and_then(current_context),
    };
    match name.as_deref() {
        None | Some("default") => Ok(Endpoint {
            host: DEFAULT_HOST.into(),
            from: "default".into(),
        }),
        Some(name) => {
            let dir = dir.ok_or_else(|| {
                anyhow!(
                    "docker context `{name}`: no docker config folder (set DOCKER_CONFIG or HOME)"
                )
            })?;
            let host = context_host(&dir, name)?;
            Ok(Endpoint {
                host,
                from: format!("docker context `{name}`"),
            })
        }
    }
}

fn current_context(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let config: CliConfig = serde_json::from_str(&text).ok()?;
    config.current_context.filter(|c| !c.is_empty())
}

/// The `docker` endpoint of context `name`.
pub fn context_host(dir: &Path, name: &str) -> Result<String> {
    let id = hex(&Sha256::digest(name.as_bytes()));
    let meta = dir.join("contexts/meta").join(id).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|_| {
        anyhow!(
            "docker context `{name}` does not exist (no {}); `docker context ls` lists them",
            meta.display()
        )
    })?;
    let meta: Meta = serde_json::from_str(&text)
        .map_err(|e| anyhow!("docker context `{name}`: {}: {e}", "meta.json"))?;
    meta.endpoints
        .get("docker")
        .and_then(|e| e.host.clone())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| anyhow!("docker context `{name}` has no docker endpoint host"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_is_found_by_the_sha256_of_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = hex(&Sha256::digest(b"remote"));
        let meta = dir.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).expect("mkdir");
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2375"}}}"#,
        )
        .expect("write");
        assert_eq!(
            context_host(dir.path(), "remote").ok().as_deref(),
            Some("tcp://10.0.0.5:2375")
        );
        let err = context_host(dir.path(), "nope")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("docker context `nope` does not exist")));
    }
}
