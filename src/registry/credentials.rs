//! Registry credentials, found exactly as the docker CLI finds them (for the registry client,
//! for `push` and for `build`'s base pulls through the engine): the CLI's
//! `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), then for the
//! registry host, in order: `credHelpers[host]` (a `docker-credential-<name> get` program,
//! such as ECR's `ecr-login`), `auths[host]` (`identitytoken`, `auth` = base64
//! `user:password`, or `username`/`password`), `credsStore` (the default helper).
//! Nothing found means anonymous. A helper that says it has no credentials for the host is
//! anonymous too; a helper that cannot be run is an error naming it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context as _, Result};
use base64::Engine as _;
use serde::Deserialize;

use crate::docker::{context::config_dir, Credentials};

/// What was found for a registry, and where it was looked for (for error messages).
#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: Option<Credentials>,
    /// `credHelpers "ecr-login" in /home/u/.docker/config.json`, `no credentials for
    /// 127.0.0.1:5000 in /home/u/.docker/config.json`, `no /home/u/.docker/config.json`.
    pub source: String,
}

#[derive(Deserialize, Default)]
struct CliConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The config file the docker CLI reads.
pub fn config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.json"))
}

/// The keys a registry may be stored under in `auths`.
fn auth_keys(host: &str) -> Vec<String> {
    let mut keys = vec![
        host.to_string(),
        format!("https://{host}"),
        format!("http://{host}"),
        format!("https://{host}/v1/"),
        format!("https://{host}/v2/"),
    ];
    if host == "docker.io" {
        keys.push("https://index.docker.io/v1/".into());
        keys.push("index.docker.io".into());
    }
    keys
}

/// Credentials for `host` (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `127.0.0.1:5000`).
pub fn for_registry(host: &str) -> Result<Found> {
    for_registry_in(config_path(), host)
}

/// Credentials for `host` from the docker config file `path` (`None`: no config folder).
pub fn for_registry_in(path: Option<PathBuf>, host: &str) -> Result<Found> {
    let Some(path) = path else {
        return Ok(Found {
            credentials: None,
            source: "no docker config folder (DOCKER_CONFIG and HOME are unset)".into(),
        });
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Found {
                credentials: None,
                source: format!("no {}", path.display()),
            })
        }
        Err(e) => bail!(
            "reading {}: {}",
            path.display(),
            crate::config::io_message(&e)
        ),
    };
    let config: CliConfig = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: not a docker config file: {e}", path.display()))?;
    let server = if host == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        host.to_string()
    };
    if let Some(helper) = config.cred_helpers.get(host) {
        let credentials = run_helper(helper, host, &server)?;
        return Ok(Found {
            credentials,
            source: format!("credHelpers \"{helper}\" in {}", path.display()),
        });
    }
    for key in auth_keys(host) {
        if let Some(entry) = config.auths.get(&key) {
            if let Some(token) = entry.identitytoken.clone().filter(|t| !t.is_empty()) {
                return Ok(Found {
                    credentials: Some(Credentials {
                        identity_token: Some(token),
                        server,
                        ..Default::default()
                    }),
                    source: format!("auths \"{key}\" (identitytoken) in {}", path.display()),
                });
            }
            // `auth` (base64 of user:password) first, then `username` and `password`.
            let basic = match entry.auth.as_deref().filter(|a| !a.is_empty()) {
                Some(auth) => Some(decode_auth(auth).ok_or_else(|| {
                    anyhow!(
                        "{}: auths \"{key}\": `auth` is not base64 of user:password",
                        path.display()
                    )
                })?),
                None => entry.username.clone().zip(entry.password.clone()),
            };
            if let Some((user, pass)) = basic {
                return Ok(Found {
                    credentials: Some(Credentials {
                        username: Some(user),
                        password: Some(pass),
                        server,
                        ..Default::default()
                    }),
                    source: format!("auths \"{key}\" in {}", path.display()),
                });
            }
        }
    }
    if let Some(store) = config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        let credentials = run_helper(store, host, &server)?;
        return Ok(Found {
            credentials,
            source: format!("credsStore \"{store}\" in {}", path.display()),
        });
    }
    Ok(Found {
        credentials: None,
        source: format!("no credentials for {host} in {}", path.display()),
    })
}

/// `docker-credential-<name> get`, the server on stdin. `None` when the helper has none.
fn run_helper(name: &str, host: &str, server: &str) -> Result<Option<Credentials>> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        bail!("credential helper name {name:?} is not a program name");
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow!(
                "the credential helper `{program}` for {host} cannot be run ({}); install it or change credHelpers/credsStore",
                crate::config::io_message(&e)
            )
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("running {program}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let said = format!("{}{}", String::from_utf8_lossy(&out.stderr), stdout);
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        bail!(
            "the credential helper `{program}` failed for {host}: {}",
            said.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    let answer: HelperAnswer = serde_json::from_str(stdout.trim()).map_err(|e| {
        anyhow!("the credential helper `{program}` answered something that is not its JSON: {e}")
    })?;
    Ok(Some(if answer.username == "<token>" {
        Credentials {
            identity_token: Some(answer.secret),
            server: server.to_string(),
            ..Default::default()
        }
    } else {
        Credentials {
            username: Some(answer.username),
            password: Some(answer.secret),
            server: server.to_string(),
            ..Default::default()
        }
    }))
}

/// `user` and `password` from a docker config's `auth` (base64 of `user:password`).
fn decode_auth(auth: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}
