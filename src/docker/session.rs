//! The BuildKit session lambda-image serves during a BuildKit build: the build context,
//! registry credentials, build secrets and the health check, nothing else.
//!
//! The engine reaches back to the client through a session: `POST /session` upgraded to
//! h2c, over which the engine is the HTTP/2 client and we are a gRPC server. bollard's own
//! session serves credentials only, so secrets (`RUN --mount=type=secret`) need this one.
//! It answers `grpc.health.v1.Health/Check` (BuildKit drops a session that stops
//! answering), `moby.filesync.v1.Auth/Credentials` (the credentials found in the docker
//! config for the bases' and cache sources' registries, so BuildKit fetches its own
//! tokens), `moby.buildkit.secrets.v1.Secrets/GetSecret` and
//! `moby.filesync.v1.FileSync/DiffCopy` (the context and the Dockerfile, by
//! [`super::filesync`]) and `moby.sshforward.v1.SSH/*` (`--ssh`: each connection BuildKit
//! opens relayed to the agent's socket, so keys stay in the agent); every other method is
//! `UNIMPLEMENTED`, which BuildKit treats as "not offered". A secret's value goes only
//! into the gRPC reply: [`SecretValue`] has no `Debug` or `Display` that shows it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderValue};
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncWrite};

use super::filesync::{self, Folders};
use super::Credentials;

/// The methods the session offers, as the `X-Docker-Expose-Session-Grpc-Method` headers
/// list them.
pub const METHODS: &[&str] = &[
    HEALTH,
    CREDENTIALS,
    GET_SECRET,
    DIFF_COPY,
    CHECK_AGENT,
    FORWARD_AGENT,
];

const HEALTH: &str = "/grpc.health.v1.Health/Check";
const CREDENTIALS: &str = "/moby.filesync.v1.Auth/Credentials";
const GET_SECRET: &str = "/moby.buildkit.secrets.v1.Secrets/GetSecret";
const DIFF_COPY: &str = "/moby.filesync.v1.FileSync/DiffCopy";
const CHECK_AGENT: &str = "/moby.sshforward.v1.SSH/CheckAgent";
const FORWARD_AGENT: &str = "/moby.sshforward.v1.SSH/ForwardAgent";

/// The largest request message read (the ones served are a host name or a secret id).
const MAX_REQUEST: usize = 64 * 1024;

/// gRPC status codes used here.
const NOT_FOUND: u32 = 5;
const UNIMPLEMENTED: u32 = 12;
const INVALID_ARGUMENT: u32 = 3;
const UNKNOWN: u32 = 2;

/// A build secret's bytes. Never shown: its `Debug` says only how long it is.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Vec<u8>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> SecretValue {
        SecretValue(bytes)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes, for the gRPC reply and for tests that look for them where they must not be.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue(<{} bytes>)", self.0.len())
    }
}

/// What the session answers with. Its `Debug` names registries and secret ids only.
#[derive(Default)]
pub struct Services {
    pub credentials: Vec<Credentials>,
    pub secrets: BTreeMap<String, SecretValue>,
    /// The folders BuildKit may sync (`context`, `dockerfile`).
    pub folders: Folders,
    /// SSH agents by id (`default`): their sockets.
    pub ssh: BTreeMap<String, std::path::PathBuf>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field(
                "credentials",
                &self
                    .credentials
                    .iter()
                    .map(|c| &c.server)
                    .collect::<Vec<_>>(),
            )
            .field("secrets", &self.secrets)
            .field("folders", &self.folders.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    status: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CredentialsRequest {
    #[prost(string, tag = "1")]
    host: String,
}

#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
struct CredentialsResponse {
    #[prost(string, tag = "1")]
    username: String,
    #[prost(string, tag = "2")]
    secret: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CheckAgentRequest {
    #[prost(string, tag = "1")]
    id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CheckAgentResponse {}

#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
struct BytesMessage {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetSecretRequest {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(map = "string, string", tag = "2")]
    annotations: HashMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
struct GetSecretResponse {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

/// A gRPC error: a status code and its message.
struct Status(u32, String);

/// Serves the session on `io` (the upgraded `/session` connection) until the engine
/// closes it or the task is dropped.
pub async fn serve<T>(io: T, services: Arc<Services>) -> Result<(), h2::Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut connection = h2::server::handshake(io).await?;
    while let Some(accepted) = connection.accept().await {
        let (request, respond) = accepted?;
        let services = Arc::clone(&services);
        tokio::spawn(async move {
            // A stream the engine gave up on needs no answer.
            let _ = answer(request, respond, &services).await;
        });
    }
    Ok(())
}

async fn answer(
    request: hyper::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    services: &Services,
) -> Result<(), h2::Error> {
    let path = request.uri().path().to_string();
    if path == DIFF_COPY {
        return sync_folder(request, respond, services).await;
    }
    if path == FORWARD_AGENT {
        return forward_agent(request, respond, services).await;
    }
    let mut body = request.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
        if data.len() > MAX_REQUEST {
            break;
        }
    }
    let reply = match unframe(&data) {
        Some(message) => dispatch(&path, message, services).await,
        None => Err(Status(INVALID_ARGUMENT, "not one gRPC message".into())),
    };
    match reply {
        Ok(message) => {
            let head = grpc_response(None);
            let mut send = respond.send_response(head, false)?;
            send.send_data(frame(&message), false)?;
            send.send_trailers(trailers(None))?;
        }
        Err(status) => {
            // Trailers-only: the status goes with the headers and ends the stream.
            respond.send_response(grpc_response(Some(status)), true)?;
        }
    }
    Ok(())
}

/// A DiffCopy: BuildKit's packets decoded as they come, ours written one whole message at
/// a time within HTTP/2 flow control, and the call's status in the trailers.
async fn sync_folder(
    request: hyper::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    services: &Services,
) -> Result<(), h2::Error> {
    let wanted = filesync::Request::from_headers(request.headers());
    let Some(tree) = services.folders.get(&wanted.dir) else {
        let status = Status(
            NOT_FOUND,
            format!("no access allowed to dir {:?}", wanted.dir),
        );
        respond.send_response(grpc_response(Some(status)), true)?;
        return Ok(());
    };
    let entries = match tree.select(&wanted) {
        Ok(entries) => entries,
        Err(message) => {
            respond.send_response(grpc_response(Some(Status(INVALID_ARGUMENT, message))), true)?;
            return Ok(());
        }
    };
    let mut send = respond.send_response(grpc_response(None), false)?;
    let (outgoing, mut from_copy) = tokio::sync::mpsc::channel::<filesync::Packet>(16);
    let (incoming, _reader) = messages::<filesync::Packet>(request.into_body());
    let copy = tokio::spawn(filesync::diff_copy(entries, incoming, outgoing));
    let _copy = super::buildkit::AbortOnDrop(vec![copy.abort_handle()]);
    while let Some(packet) = from_copy.recv().await {
        let message = frame(&prost::Message::encode_to_vec(&packet));
        send_within_window(&mut send, message).await?;
    }
    let status = match copy.await {
        Ok(Ok(())) => None,
        Ok(Err(filesync::Ended::Error(message))) => Some(Status(UNKNOWN, message)),
        Ok(Err(filesync::Ended::Gone)) | Err(_) => return Ok(()),
    };
    send.send_trailers(trailers(status))
}

/// The id BuildKit asks for (`RUN --mount=type=ssh` without `id=` is `default`).
fn ssh_id(id: &str) -> &str {
    if id.is_empty() {
        "default"
    } else {
        id
    }
}

/// One `RUN --mount=type=ssh` connection: BuildKit's messages written to the agent's
/// socket, the agent's answers sent back, until either side closes.
async fn forward_agent(
    request: hyper::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    services: &Services,
) -> Result<(), h2::Error> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let id = request
        .headers()
        .get("buildkit.ssh.id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let id = ssh_id(&id);
    let agent = match services.ssh.get(id) {
        Some(path) => tokio::net::UnixStream::connect(path).await.map_err(|e| {
            Status(
                UNKNOWN,
                format!("the ssh agent {id} ({}): {e}", path.display()),
            )
        }),
        None => Err(Status(NOT_FOUND, format!("unset ssh forward key {id}"))),
    };
    let agent = match agent {
        Ok(a) => a,
        Err(status) => {
            respond.send_response(grpc_response(Some(status)), true)?;
            return Ok(());
        }
    };
    let (mut from_agent, mut to_agent) = agent.into_split();
    let mut send = respond.send_response(grpc_response(None), false)?;
    let (mut from_buildkit, _reader) = messages::<BytesMessage>(request.into_body());
    let upstream = tokio::spawn(async move {
        while let Some(message) = from_buildkit.recv().await {
            if to_agent.write_all(&message.data).await.is_err() {
                return;
            }
        }
        let _ = to_agent.shutdown().await;
    });
    let _upstream = super::buildkit::AbortOnDrop(vec![upstream.abort_handle()]);
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match from_agent.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = buf.get(..n).unwrap_or_default().to_vec();
        send_within_window(&mut send, frame(&BytesMessage { data }.encode_to_vec())).await?;
    }
    send.send_trailers(trailers(None))
}

/// A streaming call's messages as they come, decoded, on a channel that closes at the end
/// of the stream or at a message that does not decode; the reader stops when the guard is
/// dropped.
fn messages<M: prost::Message + Default + Send + 'static>(
    mut body: h2::RecvStream,
) -> (tokio::sync::mpsc::Receiver<M>, super::buildkit::AbortOnDrop) {
    let (tx, rx) = tokio::sync::mpsc::channel::<M>(16);
    let reader = tokio::spawn(async move {
        let mut buffer: Vec<u8> = Vec::new();
        while let Some(Ok(chunk)) = body.data().await {
            let _ = body.flow_control().release_capacity(chunk.len());
            buffer.extend_from_slice(&chunk);
            while let Some((message, used)) = next_message(&buffer) {
                let decoded = M::decode(message);
                buffer.drain(..used);
                let Ok(decoded) = decoded else { return };
                if tx.send(decoded).await.is_err() {
                    return;
                }
            }
        }
    });
    (
        rx,
        super::buildkit::AbortOnDrop(vec![reader.abort_handle()]),
    )
}

/// Sends `data` as the peer's window allows, instead of queueing it all in memory.
async fn send_within_window(
    send: &mut h2::SendStream<Bytes>,
    mut data: Bytes,
) -> Result<(), h2::Error> {
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let granted = std::future::poll_fn(|cx| send.poll_capacity(cx)).await;
        let n = match granted {
            Some(Ok(n)) => n.min(data.len()),
            Some(Err(e)) => return Err(e),
            None => return Ok(()),
        };
        if n == 0 {
            continue;
        }
        send.send_data(data.split_to(n), false)?;
    }
    Ok(())
}

/// The first whole length-prefixed message in `buffer` and the bytes it takes.
fn next_message(buffer: &[u8]) -> Option<(&[u8], usize)> {
    let len = buffer.get(1..5)?;
    let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
    let message = buffer.get(5..5 + len)?;
    Some((message, 5 + len))
}

async fn dispatch(path: &str, message: &[u8], services: &Services) -> Result<Vec<u8>, Status> {
    let bad = |e: prost::DecodeError| Status(INVALID_ARGUMENT, e.to_string());
    match path {
        HEALTH => Ok(HealthCheckResponse { status: 1 }.encode_to_vec()),
        CREDENTIALS => {
            let request = CredentialsRequest::decode(message).map_err(bad)?;
            let found = services
                .credentials
                .iter()
                .find(|c| same_registry(&c.server, &request.host));
            let response = match found {
                Some(c) => match &c.identity_token {
                    Some(token) => CredentialsResponse {
                        username: String::new(),
                        secret: token.clone(),
                    },
                    None => CredentialsResponse {
                        username: c.username.clone().unwrap_or_default(),
                        secret: c.password.clone().unwrap_or_default(),
                    },
                },
                // Anonymous: BuildKit goes on without credentials.
                None => CredentialsResponse {
                    username: String::new(),
                    secret: String::new(),
                },
            };
            Ok(response.encode_to_vec())
        }
        GET_SECRET => {
            let request = GetSecretRequest::decode(message).map_err(bad)?;
            match services.secrets.get(&request.id) {
                Some(value) => Ok(GetSecretResponse {
                    data: value.expose().to_vec(),
                }
                .encode_to_vec()),
                None => Err(Status(
                    NOT_FOUND,
                    format!("secret {} not found", request.id),
                )),
            }
        }
        CHECK_AGENT => {
            let request = CheckAgentRequest::decode(message).map_err(bad)?;
            let id = ssh_id(&request.id);
            if services.ssh.contains_key(id) {
                Ok(CheckAgentResponse {}.encode_to_vec())
            } else {
                Err(Status(NOT_FOUND, format!("unset ssh forward key {id}")))
            }
        }
        _ => Err(Status(UNIMPLEMENTED, format!("{path} is not offered"))),
    }
}

/// Whether a docker-config server key (`https://host/v1/`, `host`) names `host`.
fn same_registry(server: &str, host: &str) -> bool {
    let bare = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let bare = bare.split('/').next().unwrap_or(bare);
    let docker_hub =
        |h: &str| matches!(h, "index.docker.io" | "registry-1.docker.io" | "docker.io");
    bare == host || (docker_hub(bare) && docker_hub(host))
}

fn grpc_response(status: Option<Status>) -> hyper::Response<()> {
    let mut response = hyper::Response::new(());
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/grpc+proto"),
    );
    if let Some(status) = status {
        put_status(headers, status);
    }
    response
}

/// The trailers that end a call: its status (`None`: OK).
fn trailers(status: Option<Status>) -> HeaderMap {
    let mut trailers = HeaderMap::new();
    put_status(&mut trailers, status.unwrap_or(Status(0, String::new())));
    trailers
}

/// `grpc-status`, and `grpc-message` when there is one.
fn put_status(headers: &mut HeaderMap, Status(code, message): Status) {
    headers.insert("grpc-status", HeaderValue::from(code));
    if message.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&percent_encode(&message)) {
        headers.insert("grpc-message", v);
    }
}

/// One length-prefixed gRPC message, uncompressed.
fn frame(message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(0);
    out.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(message);
    Bytes::from(out)
}

/// The message of one uncompressed length-prefixed gRPC frame.
fn unframe(data: &[u8]) -> Option<&[u8]> {
    if data.first() != Some(&0) {
        return None;
    }
    next_message(data).map(|(message, _)| message)
}

/// gRPC's `grpc-message` encoding: printable ASCII except `%` as is, the rest `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> Services {
        let mut secrets = BTreeMap::new();
        secrets.insert("token".to_string(), SecretValue::new(b"s3cr3t".to_vec()));
        Services {
            credentials: vec![Credentials {
                username: Some("ci".into()),
                password: Some("pw".into()),
                identity_token: None,
                server: "https://127.0.0.1:5000/v2/".into(),
            }],
            secrets,
            folders: Folders::default(),
            ssh: BTreeMap::new(),
        }
    }

    fn run(path: &str, message: Vec<u8>) -> Result<Vec<u8>, Status> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(dispatch(path, &message, &services()))
    }

    #[test]
    fn secrets_are_served_by_id_and_a_missing_one_is_not_found() {
        let ok = run(
            GET_SECRET,
            GetSecretRequest {
                id: "token".into(),
                annotations: HashMap::new(),
            }
            .encode_to_vec(),
        )
        .ok()
        .and_then(|m| GetSecretResponse::decode(m.as_slice()).ok());
        assert_eq!(ok.map(|r| r.data), Some(b"s3cr3t".to_vec()));
        let missing = run(
            GET_SECRET,
            GetSecretRequest {
                id: "other".into(),
                annotations: HashMap::new(),
            }
            .encode_to_vec(),
        );
        assert!(matches!(missing, Err(Status(NOT_FOUND, m)) if m == "secret other not found"));
        assert!(matches!(
            run("/moby.filesync.v1.FileSend/DiffCopy", Vec::new()),
            Err(Status(UNIMPLEMENTED, _))
        ));
        // No agent given: BuildKit is told so (`RUN --mount=type=ssh` then fails).
        assert!(matches!(
            run(CHECK_AGENT, Vec::new()),
            Err(Status(NOT_FOUND, m)) if m == "unset ssh forward key default"
        ));
    }

    #[test]
    fn credentials_match_the_host_and_are_anonymous_elsewhere() {
        let answer = |host: &str| {
            run(
                CREDENTIALS,
                CredentialsRequest { host: host.into() }.encode_to_vec(),
            )
            .ok()
            .and_then(|m| CredentialsResponse::decode(m.as_slice()).ok())
            .map(|r| (r.username, r.secret))
        };
        assert_eq!(answer("127.0.0.1:5000"), Some(("ci".into(), "pw".into())));
        assert_eq!(
            answer("127.0.0.1:5001"),
            Some((String::new(), String::new()))
        );
    }

    #[test]
    fn frames_round_trip_and_debug_hides_the_value() {
        let framed = frame(b"abc");
        assert_eq!(unframe(&framed), Some(&b"abc"[..]));
        assert_eq!(unframe(&[0, 0, 0, 0, 9, 1]), None);
        assert_eq!(unframe(&[]), None);
        let shown = format!("{:?}", services());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<6 bytes>"), "{shown}");
        assert_eq!(percent_encode("a%b\n"), "a%25b%0A");
    }
}
