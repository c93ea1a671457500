//! `POST /build?version=2`: a build on the engine's own BuildKit, with a session of ours.
//!
//! bollard 0.21.1 cannot send this request with a session that serves secrets (its
//! `/build` session offers credentials only, and without its `buildkit` feature it
//! panics on `version=2`), so this module speaks the two requests itself over the
//! engine's socket (`unix://` or plain `tcp://`): `POST /session` upgraded to h2c and
//! served by [`super::session`] (which also serves the build context: BuildKit fetches
//! what it needs of it, see [`super::filesync`]), then `POST /build` with the session's id
//! and `remote=client-session`. Query parameters are bollard's own `BuildImageOptions`,
//! encoded as bollard encodes them. The response is BuildKit's status stream
//! (`moby.buildkit.trace`: base64 protobuf `StatusResponse`s) mapped to our
//! [`BuildEvent`]s: a step per `[n/m] …` vertex (cached or run), whole lines of each
//! vertex's output, and on failure the failing step with its last lines. Dropping the
//! request (Ctrl-C) closes both connections; BuildKit then stops the build and leaves
//! neither a container nor an image.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use bollard::query_parameters::BuilderVersion;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};

use super::build::{one_line, strip_ansi, BuildEvent, BuildFailure, BuildRequest};
use super::session::{self, Services};
use super::Engine;
use crate::cancel::Cancel;

/// Output lines kept per step for a failure's summary.
const TAIL: usize = 30;

/// How the engine is reached for the requests bollard cannot make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Socket {
    Unix(PathBuf),
    Tcp(String),
}

/// Where BuildKit requests go for `host`, or why they cannot.
pub fn socket_of(host: &str) -> Result<Socket, String> {
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Socket::Unix(PathBuf::from(path)));
    }
    if let Some(addr) = host.strip_prefix("tcp://").or(host.strip_prefix("http://")) {
        if tls {
            return Err(format!(
                "BuildKit builds through {host} with TLS (DOCKER_TLS_VERIFY) are not supported yet"
            ));
        }
        return Ok(Socket::Tcp(addr.trim_end_matches('/').to_string()));
    }
    Err(format!(
        "BuildKit builds through {host} are not supported yet (a unix socket or plain tcp:// is)"
    ))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn dial(socket: &Socket) -> std::io::Result<Box<dyn Io>> {
    Ok(match socket {
        Socket::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        Socket::Tcp(addr) => Box::new(tokio::net::TcpStream::connect(addr).await?),
    })
}

/// A session id as BuildKit makes them: 25 lower-case base-32 characters.
fn session_id() -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{:?}-{}-{}",
        std::time::SystemTime::now(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let digest = Sha256::digest(seed.as_bytes());
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    digest
        .iter()
        .take(25)
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect()
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    aux: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorDetail")]
    error_detail: Option<ErrorDetail>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StatusResponse {
    #[prost(message, repeated, tag = "1")]
    vertexes: Vec<Vertex>,
    #[prost(message, repeated, tag = "3")]
    logs: Vec<VertexLog>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Vertex {
    #[prost(string, tag = "1")]
    digest: String,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(bool, tag = "4")]
    cached: bool,
    #[prost(message, optional, tag = "5")]
    started: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    completed: Option<Timestamp>,
    #[prost(string, tag = "7")]
    error: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Timestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct VertexLog {
    #[prost(string, tag = "1")]
    vertex: String,
    #[prost(int64, tag = "3")]
    stream: i64,
    #[prost(bytes = "vec", tag = "4")]
    msg: Vec<u8>,
}

#[derive(Default)]
struct Step {
    name: String,
    announced: bool,
    partial: Vec<u8>,
    tail: VecDeque<String>,
}

/// BuildKit's status stream, turned into events.
#[derive(Default)]
struct Progress {
    steps: HashMap<String, Step>,
    /// The vertices that completed with an error, in order, with it: the failing step when
    /// the build fails (others are cancelled after it), or what it went on without.
    errored: Vec<(String, String)>,
}

impl Progress {
    fn status(&mut self, status: StatusResponse, on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
        for v in status.vertexes {
            let step = self.steps.entry(v.digest.clone()).or_default();
            if !v.name.is_empty() {
                step.name = v.name.clone();
            }
            if !step.announced && (v.started.is_some() || v.cached) {
                step.announced = true;
                on_event(match parse_step(&step.name) {
                    Some((number, total, instruction)) => BuildEvent::Step {
                        number,
                        total,
                        instruction,
                        title: step.name.clone(),
                        cached: v.cached,
                    },
                    None => BuildEvent::Status(format!(
                        "{}{}",
                        step.name,
                        if v.cached { " (cached)" } else { "" }
                    )),
                });
            }
            if v.completed.is_some()
                && !v.error.trim().is_empty()
                && !self.errored.iter().any(|(d, _)| *d == v.digest)
            {
                self.errored.push((v.digest, one_line(&v.error)));
            }
        }
        for log in status.logs {
            let step = self.steps.entry(log.vertex).or_default();
            step.partial.extend_from_slice(&log.msg);
            while let Some(end) = step.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = step.partial.drain(..=end).collect();
                emit(step, &line, on_event);
            }
        }
    }

    fn flush(&mut self, on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
        for step in self.steps.values_mut() {
            if !step.partial.is_empty() {
                let line = std::mem::take(&mut step.partial);
                emit(step, &line, on_event);
            }
        }
    }

    /// After a build that succeeded: a warning for each vertex that failed without failing
    /// the build (a cache import BuildKit could not read).
    fn warnings(&self, on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
        for (digest, error) in &self.errored {
            let name = self
                .steps
                .get(digest)
                .map(|s| s.name.as_str())
                .unwrap_or_default();
            on_event(BuildEvent::Warning(format!("{name}: {error}")));
        }
    }

    /// The failure, with the failing step and its last lines when BuildKit named one: the
    /// first vertex whose error the message holds (a failed cache import before it is not
    /// the step that failed), else the first that failed.
    fn failure(
        &mut self,
        message: &str,
        on_event: &mut (dyn FnMut(BuildEvent) + Send),
    ) -> BuildFailure {
        self.flush(on_event);
        let mut message = one_line(message);
        // The frontend's plumbing, in front of what the user needs to read.
        for noise in [
            "failed to solve with frontend dockerfile.v0: ",
            "failed to solve: ",
            "failed to create LLB definition: ",
        ] {
            if let Some(rest) = message.strip_prefix(noise) {
                message = rest.to_string();
            }
        }
        let failed = self
            .errored
            .iter()
            .find(|(_, error)| message.contains(error.as_str()))
            .or(self.errored.first())
            .map(|(digest, _)| digest);
        match failed.and_then(|d| self.steps.get(d)) {
            Some(step) => BuildFailure::Step {
                step: step.name.clone(),
                tail: step.tail.iter().cloned().collect(),
                message,
            },
            None => BuildFailure::Failed(message),
        }
    }
}

fn emit(step: &mut Step, line: &[u8], on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    let text = text.rsplit('\r').next().unwrap_or(text);
    let text = strip_ansi(text);
    if step.tail.len() == TAIL {
        step.tail.pop_front();
    }
    step.tail.push_back(text.clone());
    on_event(BuildEvent::Output(text));
}

/// `[2/5] RUN …` or `[builder 2/5] RUN …`: (2, 5, `RUN …`).
fn parse_step(name: &str) -> Option<(usize, usize, String)> {
    let rest = name.strip_prefix('[')?;
    let (inside, instruction) = rest.split_once("] ")?;
    let numbers = inside.rsplit(' ').next()?;
    let (n, m) = numbers.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?, instruction.to_string()))
}

/// The query string of a BuildKit build, as bollard would encode it, with the session
/// that serves the context.
fn query(request: &BuildRequest, session: &str) -> Result<String, String> {
    let options = request.options(BuilderVersion::BuilderBuildKit);
    let encoded = serde_urlencoded::to_string(options).map_err(|e| e.to_string())?;
    Ok(format!("{encoded}&remote=client-session&session={session}"))
}

/// What a BuildKit build's session serves as the context: the `context` and `dockerfile`
/// folders, and the key BuildKit keeps their copy under for the next build of the same
/// context (which then receives only what changed).
#[derive(Debug, Clone, Default)]
pub struct SyncedContext {
    pub folders: super::filesync::Folders,
    pub shared_key: String,
}

impl Engine {
    /// A BuildKit build; see the module's doc. Same contract as [`Engine::build`].
    pub(super) fn build_buildkit(
        &self,
        request: &BuildRequest,
        context: &SyncedContext,
        on_event: &mut (dyn FnMut(BuildEvent) + Send),
        cancel: &Cancel,
    ) -> Result<String, BuildFailure> {
        let socket = socket_of(&self.host).map_err(|m| BuildFailure::Engine(anyhow::anyhow!(m)))?;
        let version = self.docker.client_version();
        let api = format!("/v{}.{}", version.major_version, version.minor_version);
        let id = session_id();
        let query = query(request, &id).map_err(|e| {
            BuildFailure::Engine(anyhow::anyhow!("encoding the build request: {e}"))
        })?;
        let services = Arc::new(Services {
            credentials: request.credentials.clone(),
            secrets: request.secrets.clone(),
            folders: context.folders.clone(),
            ssh: request.ssh.clone(),
        });
        let timeout = super::engine_timeout();
        let stalled = |doing: &str| BuildFailure::Engine(super::engine_stalled(&self.host, doing));
        let host = self.host.clone();
        let engine_error = move |doing: &str, e: &dyn std::fmt::Display| {
            BuildFailure::Engine(anyhow::anyhow!("{doing} the Docker Engine at {host}: {e}"))
        };
        let result = self.block_on(async {
            // The session first: the build names it, and the engine looks it up at once.
            let io = dial(&socket)
                .await
                .map_err(|e| engine_error("connecting to", &e))?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(io))
                    .await
                    .map_err(|e| engine_error("opening a session with", &e))?;
            let connection = tokio::spawn(connection.with_upgrades());
            let mut open = hyper::Request::post(format!("{api}/session"))
                .header("Host", "docker")
                .header("Connection", "Upgrade")
                .header("Upgrade", "h2c")
                .header("X-Docker-Expose-Session-Uuid", &id)
                .header("X-Docker-Expose-Session-Name", "lambda-image")
                .header("X-Docker-Expose-Session-Sharedkey", &context.shared_key);
            for method in session::METHODS {
                open = open.header("X-Docker-Expose-Session-Grpc-Method", *method);
            }
            let open = open
                .body(Empty::new())
                .map_err(|e| engine_error("opening a session with", &e))?;
            let response = tokio::select! {
                r = tokio::time::timeout(timeout, sender.send_request(open)) => r
                    .map_err(|_| stalled("the opening of a BuildKit session"))?
                    .map_err(|e| engine_error("opening a session with", &e))?,
                () = cancel.cancelled() => return Err(BuildFailure::Interrupted),
            };
            if response.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
                return Err(engine_error(
                    "opening a BuildKit session with",
                    &format!("HTTP {}", response.status()),
                ));
            }
            let upgraded = hyper::upgrade::on(response)
                .await
                .map_err(|e| engine_error("opening a session with", &e))?;
            let served = tokio::spawn(session::serve(TokioIo::new(upgraded), services));
            let _guard = AbortOnDrop(vec![served.abort_handle(), connection.abort_handle()]);

            // The build; BuildKit fetches the context through the session.
            let io = dial(&socket)
                .await
                .map_err(|e| engine_error("connecting to", &e))?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
                .await
                .map_err(|e| engine_error("building through", &e))?;
            let connection = tokio::spawn(connection);
            let _guard2 = AbortOnDrop(vec![connection.abort_handle()]);
            let build = hyper::Request::post(format!("{api}/build?{query}"))
                .header("Host", "docker")
                .body(Empty::<Bytes>::new())
                .map_err(|e| engine_error("building through", &e))?;
            // Bounded: the response's start; not a silent step afterwards.
            let response = tokio::select! {
                r = tokio::time::timeout(timeout, sender.send_request(build)) => r
                    .map_err(|_| stalled("the build"))?
                    .map_err(|e| engine_error("building through", &e))?,
                () = cancel.cancelled() => return Err(BuildFailure::Interrupted),
            };
            let status = response.status();
            let mut body = response.into_body();
            let mut buffer: Vec<u8> = Vec::new();
            let mut progress = Progress::default();
            let mut image_id = None;
            loop {
                let frame = tokio::select! {
                    f = body.frame() => f,
                    () = cancel.cancelled() => return Err(BuildFailure::Interrupted),
                };
                let Some(frame) = frame else { break };
                let frame = frame.map_err(|e| engine_error("building through", &e))?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buffer.extend_from_slice(&data);
                for message in drain_messages(&mut buffer) {
                    let failure = match message {
                        Ok(message) => {
                            handle(message, status, &mut progress, &mut image_id, on_event)
                        }
                        Err(text) if !status.is_success() => {
                            Some(progress.failure(&text, on_event))
                        }
                        Err(text) => {
                            on_event(BuildEvent::Output(text));
                            None
                        }
                    };
                    if let Some(failure) = failure {
                        return Err(failure);
                    }
                }
            }
            if !status.is_success() {
                let text = String::from_utf8_lossy(&buffer).trim().to_string();
                return Err(progress.failure(
                    &format!(
                        "HTTP {status}{}{text}",
                        if text.is_empty() { "" } else { ": " }
                    ),
                    on_event,
                ));
            }
            progress.flush(on_event);
            progress.warnings(on_event);
            image_id.ok_or_else(|| super::build::no_image_id(&self.host))
        });
        result
    }
}

/// Splits the complete JSON messages (and lines that are not JSON) off the front of `buffer`.
fn drain_messages(buffer: &mut Vec<u8>) -> Vec<Result<Message, String>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(rest) = buffer.get(pos..) {
        let blank = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        pos += blank;
        let Some(rest) = buffer.get(pos..).filter(|r| !r.is_empty()) else {
            break;
        };
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Message>();
        match values.next() {
            Some(Ok(message)) => {
                pos += values.byte_offset();
                out.push(Ok(message));
            }
            Some(Err(e)) if e.is_eof() => break,
            Some(Err(_)) => match rest.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let line = rest.get(..end).unwrap_or_default();
                    out.push(Err(String::from_utf8_lossy(line).trim().to_string()));
                    pos += end + 1;
                }
                None => break,
            },
            None => break,
        }
    }
    buffer.drain(..pos.min(buffer.len()));
    out
}

/// Handles one message of the build's response; `Some` ends the build with a failure.
fn handle(
    message: Message,
    status: hyper::StatusCode,
    progress: &mut Progress,
    image_id: &mut Option<String>,
    on_event: &mut (dyn FnMut(BuildEvent) + Send),
) -> Option<BuildFailure> {
    let error = message
        .error_detail
        .and_then(|d| d.message)
        .or(message.error)
        .or_else(|| (!status.is_success()).then_some(message.message).flatten());
    if let Some(error) = error {
        return Some(progress.failure(&error, on_event));
    }
    if let Some(text) = message.stream.as_deref() {
        for line in text.lines() {
            let line = strip_ansi(line);
            if !line.trim().is_empty() {
                on_event(BuildEvent::Output(line));
            }
        }
    }
    match (message.id.as_deref(), message.aux) {
        (Some("moby.buildkit.trace"), Some(serde_json::Value::String(encoded))) => {
            let status = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_bytes())
                .ok()
                .and_then(|bytes| {
                    <StatusResponse as prost::Message>::decode(bytes.as_slice()).ok()
                });
            if let Some(status) = status {
                progress.status(status, on_event);
            }
        }
        (Some("moby.image.id"), Some(aux)) => {
            if let Some(id) = aux.get("ID").and_then(|v| v.as_str()) {
                *image_id = Some(id.to_string());
            }
        }
        _ => {}
    }
    None
}

/// Aborts tasks when dropped (the build ended, failed or was cancelled).
pub(super) struct AbortOnDrop(pub(super) Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// Secrets by id; kept apart from the request's `Debug` by [`session::SecretValue`].
pub type Secrets = BTreeMap<String, session::SecretValue>;

#[cfg(test)]
mod tests {
    use super::*;

    fn ts() -> Option<Timestamp> {
        Some(Timestamp {
            seconds: 1,
            nanos: 0,
        })
    }

    #[test]
    fn steps_cached_steps_output_and_the_failing_step_become_events() {
        let mut events = Vec::new();
        let mut on = |e: BuildEvent| events.push(e);
        let mut progress = Progress::default();
        progress.status(
            StatusResponse {
                vertexes: vec![
                    Vertex {
                        digest: "a".into(),
                        name: "[internal] load build definition from Dockerfile".into(),
                        started: ts(),
                        ..Default::default()
                    },
                    Vertex {
                        digest: "b".into(),
                        name: "[2/3] RUN dnf install -y gcc".into(),
                        cached: true,
                        started: ts(),
                        completed: ts(),
                        ..Default::default()
                    },
                    Vertex {
                        digest: "c".into(),
                        name: "[builder 3/3] RUN exit 3".into(),
                        started: ts(),
                        ..Default::default()
                    },
                ],
                logs: vec![VertexLog {
                    vertex: "c".into(),
                    stream: 2,
                    msg: b"one\n\x1b[91mtwo\x1b[0m\npart".to_vec(),
                }],
            },
            &mut on,
        );
        progress.status(
            StatusResponse {
                vertexes: vec![Vertex {
                    digest: "c".into(),
                    name: "[builder 3/3] RUN exit 3".into(),
                    started: ts(),
                    completed: ts(),
                    error: "exit code: 3".into(),
                    ..Default::default()
                }],
                logs: vec![],
            },
            &mut on,
        );
        let failure = progress.failure(
            "executor failed running [/bin/sh -c exit 3]:\n exit code: 3",
            &mut on,
        );
        assert_eq!(
            events,
            vec![
                BuildEvent::Status("[internal] load build definition from Dockerfile".into()),
                BuildEvent::Step {
                    number: 2,
                    total: 3,
                    instruction: "RUN dnf install -y gcc".into(),
                    title: "[2/3] RUN dnf install -y gcc".into(),
                    cached: true,
                },
                BuildEvent::Step {
                    number: 3,
                    total: 3,
                    instruction: "RUN exit 3".into(),
                    title: "[builder 3/3] RUN exit 3".into(),
                    cached: false,
                },
                BuildEvent::Output("one".into()),
                BuildEvent::Output("two".into()),
                BuildEvent::Output("part".into()),
            ]
        );
        match failure {
            BuildFailure::Step {
                step,
                tail,
                message,
            } => {
                assert_eq!(step, "[builder 3/3] RUN exit 3");
                assert_eq!(tail, vec!["one", "two", "part"]);
                assert_eq!(
                    message,
                    "executor failed running [/bin/sh -c exit 3]: exit code: 3"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    fn vertex(digest: &str, name: &str, error: &str) -> Vertex {
        Vertex {
            digest: digest.into(),
            name: name.into(),
            started: ts(),
            completed: ts(),
            error: error.into(),
            ..Default::default()
        }
    }

    const IMPORT: &str = "importing cache manifest from 127.0.0.1:1/fn:cache";
    const REFUSED: &str = "failed to do request: Head \"http://127.0.0.1:1/v2/fn/manifests/cache\":\n connect: connection refused";

    #[test]
    fn a_cache_import_that_failed_is_a_warning_and_not_the_failing_step() {
        // The build went on and succeeded: one warning, on one line.
        let mut events = Vec::new();
        let mut on = |e: BuildEvent| events.push(e);
        let mut progress = Progress::default();
        let status = StatusResponse {
            vertexes: vec![vertex("i", IMPORT, REFUSED)],
            logs: vec![],
        };
        progress.status(status.clone(), &mut on);
        progress.warnings(&mut on);
        assert_eq!(
            events.last(),
            Some(&BuildEvent::Warning(format!(
                "{IMPORT}: failed to do request: Head \"http://127.0.0.1:1/v2/fn/manifests/cache\": connect: connection refused"
            )))
        );
        // A RUN failed after it: that step is the failure, with its own output.
        let mut events = Vec::new();
        let mut on = |e: BuildEvent| events.push(e);
        let mut progress = Progress::default();
        progress.status(status, &mut on);
        progress.status(
            StatusResponse {
                vertexes: vec![vertex("r", "[2/2] RUN exit 3", "exit code: 3")],
                logs: vec![VertexLog {
                    vertex: "r".into(),
                    stream: 2,
                    msg: b"oops\n".to_vec(),
                }],
            },
            &mut on,
        );
        match progress.failure(
            "executor failed running [/bin/sh -c exit 3]: exit code: 3",
            &mut on,
        ) {
            BuildFailure::Step { step, tail, .. } => {
                assert_eq!(step, "[2/2] RUN exit 3");
                assert_eq!(tail, vec!["oops"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_query_is_bollards_with_the_session_and_inline_cache() {
        let request = BuildRequest {
            dockerfile: "Dockerfile".into(),
            platform: "linux/amd64".into(),
            cache_from: vec!["127.0.0.1:5000/fn:cache".into()],
            inline_cache: true,
            ..Default::default()
        };
        let q = query(&request, "abc").unwrap_or_default();
        assert!(q.contains("version=2"), "{q}");
        assert!(q.ends_with("&remote=client-session&session=abc"), "{q}");
        assert!(q.contains("BUILDKIT_INLINE_CACHE"), "{q}");
        assert!(
            q.contains("cachefrom=%5B%22127.0.0.1%3A5000%2Ffn%3Acache%22%5D"),
            "{q}"
        );
        assert_eq!(parse_step("[internal] load"), None);
        assert_eq!(session_id().len(), 25);
        assert_eq!(
            socket_of("unix:///var/run/docker.sock"),
            Ok(Socket::Unix("/var/run/docker.sock".into()))
        );
        assert!(socket_of("ssh://me@host").is_err());
    }
}
