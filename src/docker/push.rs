//! `POST /images/{name}/push` with registry credentials, mapped to our own types. What the
//! registry then holds is read back by our own registry client ([`crate::registry`]), not
//! through the engine.
//!
//! bollard 0.21.1 drops the push's final `aux` record, so the digest is read from the
//! status line `"<tag>: digest: sha256:<hex> size: <n>"`; a spurious "bytes remaining on
//! stream" error after that line is ignored (bollard #560). bollard encodes
//! `X-Registry-Auth` with the standard base64 alphabet while the engine decodes the URL-safe
//! one and silently ignores a header it cannot decode: [`auth_header_is_garbled`] finds
//! the credentials that would be sent wrongly, so the caller can say so instead of passing
//! on the engine's misleading "no basic auth credentials".

use std::pin::pin;
use std::time::Duration;

use base64::Engine as _;
use bollard::auth::DockerCredentials;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::PushImageOptionsBuilder;
use futures_util::StreamExt;

use super::{describe, Engine};
use crate::cancel::Cancel;

/// Credentials for one registry, as the docker CLI would send them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    /// An identity (refresh) token, from a helper's `<token>` user or `identitytoken`.
    pub identity_token: Option<String>,
    pub server: String,
}

impl Credentials {
    pub(super) fn to_bollard(&self) -> DockerCredentials {
        DockerCredentials {
            username: self.username.clone(),
            password: self.password.clone(),
            identitytoken: self.identity_token.clone(),
            serveraddress: Some(self.server.clone()),
            ..Default::default()
        }
    }
}

/// Whether bollard would send these credentials in a form the engine cannot decode
/// (standard base64 with `+` or `/`, which the engine's URL-safe decoder refuses).
pub fn auth_header_is_garbled(credentials: &Credentials) -> bool {
    let Ok(json) = serde_json::to_string(&credentials.to_bollard()) else {
        return false;
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    encoded.contains(['+', '/'])
}

/// What a push reports as it goes: a layer's state (`Preparing`, `Waiting`, `Pushing`
/// with bytes, `Pushed`, `Layer already exists`) or another status line. bollard 0.21.1
/// keeps no layer id, so the layers cannot be told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    pub status: String,
    pub current: Option<u64>,
    pub total: Option<u64>,
}

/// Why a push or a registry request did not succeed.
#[derive(Debug)]
pub enum RegistryFailure {
    Interrupted,
    /// The registry wants credentials, or refused the ones sent.
    Unauthorized(String),
    /// The registry could not be reached, or did not answer in time.
    Unreachable(String),
    /// The tag already exists and the registry does not overwrite tags (ECR immutable tags).
    TagImmutable(String),
    /// The engine did not answer (`--engine-timeout`): one line naming it.
    Engine(String),
    /// Anything else the engine or registry said, on one line.
    Failed(String),
}

impl RegistryFailure {
    fn classify(message: &str) -> RegistryFailure {
        let m = message.to_ascii_lowercase();
        let one = message.split_whitespace().collect::<Vec<_>>().join(" ");
        if m.contains("unauthorized")
            || m.contains("authentication required")
            || m.contains("no basic auth credentials")
            || m.contains("denied")
        {
            RegistryFailure::Unauthorized(one)
        } else if m.contains("immutable") || m.contains("already exists and cannot be overwritten")
        {
            RegistryFailure::TagImmutable(one)
        } else if m.contains("connection refused")
            || m.contains("no such host")
            || m.contains("i/o timeout")
            || m.contains("dial tcp")
            || m.contains("timeout")
            || m.contains("connection reset")
            || m.contains("no route to host")
        {
            RegistryFailure::Unreachable(one)
        } else {
            RegistryFailure::Failed(one)
        }
    }
}

/// The engine's `Retrying in 5 seconds`: a failed upload about to be tried again, which is
/// no progress.
fn is_retrying(status: &str) -> bool {
    status.starts_with("Retrying in ")
}

/// The digest in a push status line (`latest: digest: sha256:… size: 528`).
pub fn digest_of_status(status: &str) -> Option<String> {
    let (_, rest) = status.split_once(": digest: ")?;
    let digest = rest.split_whitespace().next()?;
    crate::reference::is_sha256(digest).then(|| digest.to_string())
}

impl Engine {
    /// Pushes `repository:tag` (already tagged locally). Returns the manifest digest the
    /// registry stored. `timeout` bounds each wait for the next message.
    pub fn push(
        &self,
        repository: &str,
        tag: &str,
        credentials: Option<&Credentials>,
        on_event: &mut (dyn FnMut(PushEvent) + Send),
        cancel: &Cancel,
        timeout: Duration,
    ) -> Result<String, RegistryFailure> {
        super::check_reference(repository)
            .map_err(|e| RegistryFailure::Failed(format!("{e:#}")))?;
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let creds = credentials.map(Credentials::to_bollard);
        self.block_on(async {
            let mut stream = pin!(self.docker.push_image(repository, Some(options), creds));
            let mut digest = None;
            // The engine's first line comes before it contacts the registry: a wait for it
            // is the engine's (`--engine-timeout`). After that `timeout` bounds the time
            // without progress; the engine's `Retrying in N seconds` lines are not progress.
            let mut first = true;
            let mut deadline = tokio::time::Instant::now() + super::engine_timeout();
            let mut retrying: Option<String> = None;
            loop {
                let item = tokio::select! {
                    item = tokio::time::timeout_at(deadline, stream.next()) => match item {
                        Ok(item) => item,
                        Err(_) if first => return Err(RegistryFailure::Engine(format!(
                            "{:#}",
                            super::engine_stalled(&self.host, &format!("the push of {repository}:{tag}"))
                        ))),
                        Err(_) => return Err(RegistryFailure::Unreachable(match &retrying {
                            Some(last) => format!(
                                "no answer within {} s (the engine was retrying: {last})",
                                timeout.as_secs()
                            ),
                            None => format!("no answer within {} s", timeout.as_secs()),
                        })),
                    },
                    () = cancel.cancelled() => return Err(RegistryFailure::Interrupted),
                };
                let retry = matches!(&item, Some(Ok(info))
                    if info.status.as_deref().is_some_and(is_retrying));
                if retry {
                    retrying = item
                        .as_ref()
                        .and_then(|i| i.as_ref().ok())
                        .and_then(|i| i.status.clone());
                } else {
                    first = false;
                    retrying = None;
                    deadline = tokio::time::Instant::now() + timeout;
                }
                let Some(item) = item else { break };
                match item {
                    Ok(info) => {
                        if let Some(message) = info.error_detail.and_then(|e| e.message) {
                            return Err(RegistryFailure::classify(&message));
                        }
                        let status = info.status.unwrap_or_default();
                        if let Some(d) = digest_of_status(&status) {
                            digest = Some(d);
                        }
                        let detail = info.progress_detail;
                        on_event(PushEvent {
                            status,
                            current: detail
                                .as_ref()
                                .and_then(|d| d.current)
                                .and_then(|c| u64::try_from(c).ok()),
                            total: detail
                                .as_ref()
                                .and_then(|d| d.total)
                                .and_then(|t| u64::try_from(t).ok()),
                        });
                    }
                    Err(e) if digest.is_some() => {
                        // bollard #560: "bytes remaining on stream" after the last line.
                        let _ = e;
                        break;
                    }
                    Err(BollardError::RequestTimeoutError) => {
                        // The engine's response never started: the engine's, not the registry's.
                        return Err(RegistryFailure::Engine(format!(
                            "{:#}",
                            super::engine_stalled(&self.host, &format!("the push of {repository}:{tag}"))
                        )));
                    }
                    Err(BollardError::DockerStreamError { error }) => {
                        return Err(RegistryFailure::classify(&error))
                    }
                    Err(BollardError::DockerResponseServerError { message, .. }) => {
                        return Err(RegistryFailure::classify(&message))
                    }
                    Err(e) => return Err(RegistryFailure::classify(&describe(&e))),
                }
            }
            digest.ok_or_else(|| {
                RegistryFailure::Failed(format!(
                    "the Docker Engine at {} finished the push of {repository}:{tag} without a digest",
                    self.host
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_comes_from_the_status_line() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            digest_of_status(&format!("latest: digest: {d} size: 528")),
            Some(d)
        );
        assert_eq!(digest_of_status("Pushed"), None);
        assert_eq!(digest_of_status("x: digest: sha256:12 size: 1"), None);
    }

    #[test]
    fn retries_are_told_from_progress() {
        assert!(is_retrying("Retrying in 5 seconds"));
        assert!(is_retrying("Retrying in 1 second"));
        assert!(!is_retrying("Pushing"));
        assert!(!is_retrying("Layer already exists"));
    }

    #[test]
    fn garbled_auth_headers_are_found() {
        let plain = Credentials {
            username: Some("user".into()),
            password: Some("pass".into()),
            server: "127.0.0.1:5000".into(),
            ..Default::default()
        };
        let garbled = (0..64)
            .map(|i| Credentials {
                password: Some(format!("p?~>{}", "x".repeat(i))),
                ..plain.clone()
            })
            .any(|c| auth_header_is_garbled(&c));
        assert!(garbled, "some password with ? ~ > encodes with + or /");
        let clean = (0..64)
            .filter(|i| {
                !auth_header_is_garbled(&Credentials {
                    password: Some(format!("abc{}", "x".repeat(*i))),
                    ..plain.clone()
                })
            })
            .count();
        assert!(clean > 0);
    }
}
