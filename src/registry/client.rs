//! The HTTP side of the registry client: connections (HTTPS, or plain HTTP for loopback and
//! `--insecure-registry` hosts), authentication (one re-authentication per request after a
//! 401), per-request timeouts, bounded retries with backoff, and one-line errors.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::auth::{self, Challenge};
use super::credentials::{self, Found};
use super::manifest::{self, Head, Manifest};
use crate::cancel::Cancel;
use crate::docker::Credentials;

/// How the client talks to a registry.
#[derive(Clone)]
pub struct Options {
    /// The longest wait for one request (connecting, answering, the whole body). A
    /// request that runs out of time is not retried: the wait stays bounded by this.
    pub timeout: Duration,
    /// Attempts per request for connection failures, 5xx and 429 (1: no retry).
    pub attempts: u32,
    /// The wait before the first retry; doubled before each further one.
    pub backoff: Duration,
    /// Hosts (`HOST[:PORT]`) spoken to over plain HTTP (`--insecure-registry`).
    pub insecure: Vec<String>,
    /// Stops a request in flight (Ctrl-C).
    pub cancel: Option<Cancel>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: Duration::from_millis(200),
            insecure: Vec::new(),
            cancel: None,
        }
    }
}

/// What kind of failure an [`Error`] is, for callers that branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing answered (refused, reset, no such host), after the retries.
    Unreachable,
    /// No answer within the timeout.
    Timeout,
    /// 401: credentials wanted, or refused.
    Unauthorized,
    /// 403.
    Denied,
    /// 404 where something had to be there.
    NotFound,
    /// Any other unexpected status.
    Status,
    /// TLS failed, or the registry speaks plain HTTP to our HTTPS.
    Tls,
    /// The answer is not what the distribution API promises (bad JSON, wrong digest,
    /// too large).
    Invalid,
    /// A name or digest the client refuses to put into a URL; a credential helper failed.
    Input,
    /// Cancelled (Ctrl-C).
    Interrupted,
}

/// A failed registry operation: one line that names what was being done and the registry
/// (`reading manifest orders:latest from 127.0.0.1:5000: 401 Unauthorized (…)`).
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    what: String,
    host: String,
    detail: String,
    note: Option<String>,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was being done: `reading manifest orders:latest`.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// What went wrong, without the note: `401 Unauthorized: UNAUTHORIZED …`,
    /// `connection refused (after 3 attempts)`.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    fn with_note(mut self, note: String) -> Error {
        self.note = Some(note);
        self
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from {}: {}", self.what, self.host, self.detail)?;
        if let Some(note) = &self.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// How a blob came to be in the registry ([`Client::push_blob`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobSent {
    /// It was there already.
    Existed,
    /// Mounted from this other repository of the registry: no bytes sent.
    Mounted(String),
    /// Its bytes were sent.
    Uploaded,
}

/// A blob in the registry: how it got there, its digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedBlob {
    pub sent: BlobSent,
    pub digest: String,
    /// Bytes sent (for an existing or mounted blob: its size as known).
    pub size: u64,
}

/// Chunks of an upload body.
const CHUNK: usize = 256 * 1024;

/// Reads what `open` gives into `tx`, chunk by chunk, hashing it: `(digest, bytes)`. A read
/// error goes into the body too (the request then fails), and is returned.
fn produce<R: Read>(
    open: impl FnOnce() -> std::io::Result<R>,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<(String, u64)> {
    use sha2::Digest as _;
    let fail = |e: std::io::Error| {
        let _ = tx.blocking_send(Err(std::io::Error::new(e.kind(), e.to_string())));
        e
    };
    let mut reader = open().map_err(fail)?;
    let mut hasher = sha2::Sha256::new();
    let mut total = 0u64;
    loop {
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            let n = match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(e)),
            };
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        buf.truncate(filled);
        hasher.update(&buf);
        total += filled as u64;
        progress(filled as u64);
        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
            return Err(std::io::Error::other("the upload stopped"));
        }
    }
    Ok((
        crate::image::layer::format_digest(&hasher.finalize()),
        total,
    ))
}

/// A request body: whole (`Full`) or streamed from a blob being read (`push_blob`).
type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;
type Http = hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Body>;

fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never: std::convert::Infallible| match never {})
        .boxed_unsync()
}

/// Whether `host` (`HOST[:PORT]`) is this machine: `localhost`, `127.0.0.0/8`, `::1`.
pub fn is_loopback(host: &str) -> bool {
    let name = host_name(host);
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match name.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// `HOST` of `HOST[:PORT]` (`[::1]:5000` → `::1`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// One answer, body read (up to the caller's limit).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// The body was longer than the limit.
    truncated: bool,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why one attempt got no answer.
enum Transport {
    /// Worth another attempt: refused, reset, closed.
    Retry(String),
    /// Not worth another: TLS, plain HTTP to HTTPS, a bad URL.
    Final(ErrorKind, String),
}

/// The most specific message of an error chain, tidied (`connection refused`).
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !s.is_empty() {
            last = s;
        }
        cur = e.source();
    }
    let tidy = match last.find(" (os error") {
        Some(at) => last.get(..at).unwrap_or(&last).to_string(),
        None => last,
    };
    let mut chars = tidy.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => tidy,
    }
}

/// A registry client for one host.
pub struct Client {
    host: String,
    scheme: &'static str,
    options: Options,
    runtime: tokio::runtime::Runtime,
    http: Http,
    /// Looked up on the first challenge unless given.
    found: Mutex<Option<Arc<Found>>>,
    /// `Authorization` values: `basic` for every request once Basic was asked for; Bearer
    /// tokens by `repo:actions`.
    auth: Mutex<AuthCache>,
}

#[derive(Default)]
struct AuthCache {
    basic: Option<String>,
    bearer: HashMap<String, String>,
}

/// What a request is for, in error messages and for the token scope.
struct Op<'a> {
    /// `reading manifest orders:latest`.
    what: &'a str,
    repo: &'a str,
    /// `pull` or `pull,push`.
    actions: &'a str,
}

impl<'a> Op<'a> {
    /// An operation that reads from `repo`.
    fn pull(what: &'a str, repo: &'a str) -> Op<'a> {
        Op {
            what,
            repo,
            actions: "pull",
        }
    }

    /// An operation that writes to `repo`.
    fn push(what: &'a str, repo: &'a str) -> Op<'a> {
        Op {
            what,
            repo,
            actions: "pull,push",
        }
    }
}

impl Client {
    /// A client for `host` (`127.0.0.1:5000`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`).
    /// HTTPS unless the host is loopback or in `options.insecure`.
    pub fn new(host: &str, options: &Options) -> Result<Client, Error> {
        let plain = is_loopback(host)
            || options
                .insecure
                .iter()
                .any(|h| h == host || h == host_name(host));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error {
                kind: ErrorKind::Input,
                what: "starting the registry client".into(),
                host: host.to_string(),
                detail: e.to_string(),
                note: None,
            })?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error {
            kind: ErrorKind::Tls,
            what: "setting up TLS".into(),
            host: host.to_string(),
            detail: e.to_string(),
            note: None,
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_connect_timeout(Some(options.timeout));
        connector.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Client {
            host: host.to_string(),
            scheme: if plain { "http" } else { "https" },
            options: options.clone(),
            runtime,
            http,
            found: Mutex::new(None),
            auth: Mutex::new(AuthCache::default()),
        })
    }

    /// Uses these credentials (found already, by `push`) instead of looking them up.
    pub fn with_credentials(self, found: Found) -> Client {
        if let Ok(mut f) = self.found.lock() {
            *f = Some(Arc::new(found));
        }
        self
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// `https`, or `http` for loopback and insecure registries.
    pub fn scheme(&self) -> &str {
        self.scheme
    }

    /// An error about this registry: `{what} from {host}: {detail}`.
    pub fn error(&self, kind: ErrorKind, what: &str, detail: &str) -> Error {
        Error {
            kind,
            what: what.to_string(),
            host: self.host.clone(),
            detail: detail.to_string(),
            note: None,
        }
    }

    /// The manifest's media type, digest and size; `None` when there is no such manifest.
    pub fn manifest_head(&self, repo: &str, reference: &str) -> Result<Option<Head>, Error> {
        let Some((_, answer)) = self.read_manifest(Method::HEAD, repo, reference, 0)? else {
            return Ok(None);
        };
        let digest = answer
            .header("docker-content-digest")
            .map(str::to_string)
            .filter(|d| crate::reference::is_sha256(d))
            .or_else(|| crate::reference::is_sha256(reference).then(|| reference.to_string()));
        let Some(digest) = digest else {
            // No digest header: the body has to be read to know it.
            return Ok(self.manifest(repo, reference)?.map(|m| Head {
                size: m.bytes.len() as u64,
                media_type: m.media_type,
                digest: m.digest,
            }));
        };
        Ok(Some(Head {
            media_type: manifest::media_type_of(answer.header("content-type"), b""),
            digest,
            size: answer
                .header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0),
        }))
    }

    /// The manifest's bytes, media type and digest; `None` when there is no such manifest.
    /// Read by digest, the bytes are checked against it.
    pub fn manifest(&self, repo: &str, reference: &str) -> Result<Option<Manifest>, Error> {
        let Some((what, answer)) =
            self.read_manifest(Method::GET, repo, reference, manifest::MAX_MANIFEST)?
        else {
            return Ok(None);
        };
        if answer.truncated {
            return Err(self.error(
                ErrorKind::Invalid,
                &what,
                &format!(
                    "the manifest is larger than {} bytes",
                    manifest::MAX_MANIFEST
                ),
            ));
        }
        let bytes = answer.body.to_vec();
        let m = Manifest::new(
            &manifest::media_type_of(answer.header("content-type"), &bytes),
            bytes,
        );
        if crate::reference::is_sha256(reference) && m.digest != reference {
            return Err(self.error(
                ErrorKind::Invalid,
                &what,
                &format!("the registry sent a manifest whose digest is {}", m.digest),
            ));
        }
        Ok(Some(m))
    }

    /// `method` (HEAD or GET) on the manifest `repo:reference`, its body read up to
    /// `max_body` bytes: how errors name the request, and the registry's answer; `None`
    /// when it has no such manifest.
    fn read_manifest(
        &self,
        method: Method,
        repo: &str,
        reference: &str,
        max_body: u64,
    ) -> Result<Option<(String, Answer)>, Error> {
        let what = format!("reading manifest {}", describe_ref(repo, reference));
        let op = Op::pull(&what, repo);
        let answer = self.call(
            &op,
            method,
            "manifests",
            reference,
            manifest::ACCEPT,
            max_body,
        )?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.expect_ok(&op, &answer)?;
        Ok(Some((what, answer)))
    }

    /// Stores `manifest` under `tag` (the registry must have its blobs already: a tag
    /// pointed at an existing manifest moves no layer). Returns the digest the registry
    /// reports.
    pub fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        manifest: &Manifest,
    ) -> Result<String, Error> {
        let what = format!("putting manifest {repo}:{tag}");
        let op = Op::push(&what, repo);
        let url = self.url(&op, repo, "manifests", tag)?;
        let answer = self.block(self.request(
            &op,
            Method::PUT,
            &url,
            &[],
            Some((
                manifest.media_type.clone(),
                Bytes::from(manifest.bytes.clone()),
            )),
            64 * 1024,
        ))?;
        self.expect_ok(&op, &answer)?;
        Ok(answer
            .header("docker-content-digest")
            .filter(|d| crate::reference::is_sha256(d))
            .map(str::to_string)
            .unwrap_or_else(|| manifest.digest.clone()))
    }

    /// The blob's size when the registry has it.
    pub fn blob_exists(&self, repo: &str, digest: &str) -> Result<Option<u64>, Error> {
        let what = format!("checking blob {repo}@{digest}");
        let op = Op::pull(&what, repo);
        let answer = self.call(&op, Method::HEAD, "blobs", digest, &[], 0)?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.expect_ok(&op, &answer)?;
        Ok(Some(
            answer
                .header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0),
        ))
    }

    /// A small blob (an image config), at most `max_bytes`, checked against its digest.
    pub fn blob(&self, repo: &str, digest: &str, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let what = format!("reading blob {repo}@{digest}");
        let op = Op::pull(&what, repo);
        let answer = self.call(&op, Method::GET, "blobs", digest, &[], max_bytes)?;
        if answer.status == StatusCode::NOT_FOUND {
            return Err(self.error(ErrorKind::NotFound, &what, "the registry has no such blob"));
        }
        self.expect_ok(&op, &answer)?;
        if answer.truncated {
            return Err(self.error(
                ErrorKind::Invalid,
                &what,
                &format!("the blob is larger than {max_bytes} bytes"),
            ));
        }
        let bytes = answer.body.to_vec();
        let actual = crate::image::layer::sha256_digest(&bytes);
        if crate::reference::is_sha256(digest) && actual != digest {
            return Err(self.error(
                ErrorKind::Invalid,
                &what,
                &format!("the registry sent a blob whose digest is {actual}"),
            ));
        }
        Ok(bytes)
    }

    /// Puts one blob into `repo`: nothing is sent when the registry has it already (blob
    /// HEAD, when its digest is `known`), it is mounted from `mount_from` (another
    /// repository of this registry that holds it) when the registry offers that, and
    /// otherwise streamed from `open()` (`POST` an upload, one `PATCH` with the bytes as
    /// they are read, `PUT ?digest=`): never whole in memory, hashed on the way, so the
    /// digest of a blob compressed while it is sent is known at its end. `size`, when
    /// known, is sent as the `Content-Length`. The streamed `PATCH` is not retried (its
    /// bytes are gone), and the timeout is then a limit on a stall (no byte taken for that
    /// long), not on the whole upload. `progress` gets the count of each chunk read.
    pub fn push_blob<R: Read + Send>(
        &self,
        repo: &str,
        known: Option<(&str, Option<u64>)>,
        mount_from: Option<&str>,
        open: impl FnOnce() -> std::io::Result<R> + Send,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<PushedBlob, Error> {
        let named = known.map_or("a new blob".to_string(), |(d, _)| d.to_string());
        let what = format!("pushing blob {repo}@{named}");
        let op = Op::push(&what, repo);
        if let Some((digest, _)) = known {
            let answer = self.call(&op, Method::HEAD, "blobs", digest, &[], 0)?;
            if answer.status.is_success() {
                return Ok(PushedBlob {
                    sent: BlobSent::Existed,
                    digest: digest.to_string(),
                    size: answer
                        .header("content-length")
                        .and_then(|l| l.parse().ok())
                        .unwrap_or(0),
                });
            }
            if answer.status != StatusCode::NOT_FOUND {
                self.expect_ok(&op, &answer)?;
            }
        }
        // Start an upload; with a mount, the registry may answer that it has linked it.
        let mut start = format!("{}/", self.url(&op, repo, "blobs", "uploads")?);
        let mount = match (known, mount_from) {
            (Some((digest, _)), Some(from)) if from != repo => {
                self.url(&op, from, "blobs", digest)?;
                start.push_str(&format!("?mount={digest}&from={from}"));
                Some(from)
            }
            _ => None,
        };
        let answer = self.block(self.request(&op, Method::POST, &start, &[], None, 64 * 1024))?;
        if answer.status == StatusCode::CREATED {
            if let (Some(from), Some((digest, size))) = (mount, known) {
                return Ok(PushedBlob {
                    sent: BlobSent::Mounted(from.to_string()),
                    digest: digest.to_string(),
                    size: size.unwrap_or(0),
                });
            }
        }
        self.expect_ok(&op, &answer)?;
        let location = self.upload_location(&op, &start, &answer)?;

        // The bytes: read (and hashed) on a thread of their own, sent as they come.
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
        let size = known.and_then(|(_, s)| s);
        let (answer, produced) = std::thread::scope(|scope| {
            let producer = scope.spawn(move || produce(open, &tx, progress));
            let answer = self.block(self.stream_patch(&op, &location, rx, size));
            let produced = producer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the blob reader panicked")));
            (answer, produced)
        });
        let (digest, sent) = match produced {
            Ok(d) => d,
            Err(e) => {
                return Err(self.error(
                    ErrorKind::Input,
                    &what,
                    &format!("reading the blob to send: {e}"),
                ))
            }
        };
        let answer = answer?;
        self.expect_ok(&op, &answer)?;
        if let Some((want, _)) = known {
            if want != digest {
                return Err(self.error(
                    ErrorKind::Invalid,
                    &what,
                    &format!("the bytes read hash to {digest}, not {want}; nothing was stored"),
                ));
            }
        }
        let location = self.upload_location(&op, &location, &answer)?;
        let sep = if location.contains('?') { '&' } else { '?' };
        let done = format!("{location}{sep}digest={digest}");
        let answer = self.block(self.request(&op, Method::PUT, &done, &[], None, 64 * 1024))?;
        self.expect_ok(&op, &answer)?;
        if let Some(stored) = answer
            .header("docker-content-digest")
            .filter(|d| crate::reference::is_sha256(d))
        {
            if stored != digest {
                return Err(self.error(
                    ErrorKind::Invalid,
                    &what,
                    &format!("the registry stored {stored} for the blob {digest}"),
                ));
            }
        }
        Ok(PushedBlob {
            sent: BlobSent::Uploaded,
            digest,
            size: sent,
        })
    }

    /// The absolute URL of an upload's `Location` (relative to `from`).
    fn upload_location(&self, op: &Op<'_>, from: &str, answer: &Answer) -> Result<String, Error> {
        let location = answer.header("location").ok_or_else(|| {
            self.error(
                ErrorKind::Invalid,
                op.what,
                &format!("{} without a Location for the upload", status_line(answer)),
            )
        })?;
        self.follow(op, from, location)
    }

    /// Whether `url` is on this registry's own host (credentials go there only).
    fn is_own(&self, url: &str) -> bool {
        url.split("://")
            .nth(1)
            .and_then(|r| r.split(['/', '?']).next())
            .is_some_and(|h| h.eq_ignore_ascii_case(&self.host))
    }

    /// One `PATCH` whose body is what `chunks` brings, until it ends. Ends with
    /// [`ErrorKind::Timeout`] when no chunk was taken (or, after the last, no answer came)
    /// for the timeout.
    async fn stream_patch(
        &self,
        op: &Op<'_>,
        url: &str,
        chunks: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
        size: Option<u64>,
    ) -> Result<Answer, Error> {
        use std::sync::atomic::{AtomicU64, Ordering};
        let started = tokio::time::Instant::now();
        let last = Arc::new(AtomicU64::new(0));
        let seen = last.clone();
        let stream = futures_util::stream::unfold(chunks, move |mut rx| {
            let seen = seen.clone();
            async move {
                let item = rx.recv().await?;
                let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                seen.store(now, Ordering::Relaxed);
                Some((item.map(hyper::body::Frame::data), rx))
            }
        });
        let body: Body = http_body_util::StreamBody::new(stream).boxed_unsync();
        let mut builder = Request::builder()
            .method(Method::PATCH)
            .uri(url)
            .header(CONTENT_TYPE, "application/octet-stream");
        if let Some(n) = size {
            builder = builder.header(hyper::header::CONTENT_LENGTH, n);
        }
        if self.is_own(url) {
            if let Some(a) = self.cached_auth(&format!("{}:{}", op.repo, op.actions)) {
                builder = builder.header(AUTHORIZATION, a);
            }
        }
        let request = builder
            .body(body)
            .map_err(|e| self.error(ErrorKind::Input, op.what, &e.to_string()))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| self.error(ErrorKind::Unreachable, op.what, &innermost(&e)))?;
            let (parts, mut incoming) = response.into_parts();
            let mut body = Vec::new();
            while let Some(frame) = incoming.frame().await {
                let frame = frame
                    .map_err(|e| self.error(ErrorKind::Unreachable, op.what, &innermost(&e)))?;
                if let Ok(data) = frame.into_data() {
                    if body.len() < 64 * 1024 {
                        body.extend_from_slice(&data);
                    }
                }
            }
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body: Bytes::from(body),
                truncated: false,
            })
        };
        let timeout = self.options.timeout;
        let stalled = async {
            let tick = (timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
            loop {
                tokio::time::sleep(tick).await;
                let at = Duration::from_millis(last.load(Ordering::Relaxed));
                if started.elapsed().saturating_sub(at) > timeout {
                    return;
                }
            }
        };
        tokio::select! {
            r = exchange => r,
            () = stalled => Err(self.error(
                ErrorKind::Timeout,
                op.what,
                &format!("no progress within {} s", timeout.as_secs_f64()),
            )),
        }
    }

    /// `scheme://host/v2/<repo>/<kind>/<reference>`, after checking the names.
    fn url(&self, op: &Op<'_>, repo: &str, kind: &str, reference: &str) -> Result<String, Error> {
        let repo_ok = !repo.is_empty()
            && repo.split('/').all(|c| {
                c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                    && c.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        let reference_ok = !reference.is_empty()
            && reference.len() <= 200
            && reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b));
        if !repo_ok || !reference_ok {
            return Err(self.error(
                ErrorKind::Input,
                op.what,
                "not a repository and a tag or digest",
            ));
        }
        Ok(format!(
            "{}://{}/v2/{repo}/{kind}/{reference}",
            self.scheme, self.host
        ))
    }

    /// Runs `fut` on this client's runtime, stopped by the cancel token.
    fn block<T>(&self, fut: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let cancel = self.options.cancel.clone();
        let interrupted = self.error(ErrorKind::Interrupted, "talking", "interrupted");
        self.runtime.block_on(async move {
            match cancel {
                Some(c) => tokio::select! {
                    r = fut => r,
                    () = c.cancelled() => Err(interrupted),
                },
                None => fut.await,
            }
        })
    }

    /// Anything but 2xx (and the 404 the caller handled) as one line.
    fn expect_ok(&self, op: &Op<'_>, answer: &Answer) -> Result<(), Error> {
        if answer.status.is_success() {
            return Ok(());
        }
        let kind = match answer.status {
            StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
            StatusCode::FORBIDDEN => ErrorKind::Denied,
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            _ => ErrorKind::Status,
        };
        Err(self.error(kind, op.what, &status_line(answer)))
    }

    /// One request with authentication, redirects (without credentials), retries and the
    /// timeout. Returns the final answer, whatever its status (but 401 after the re-auth).
    /// `method` on `/v2/<repo>/<kind>/<reference>` for `op`, without a body, answered to the
    /// end (at most `max_body` bytes of the body kept).
    fn call(
        &self,
        op: &Op<'_>,
        method: Method,
        kind: &str,
        reference: &str,
        accept: &[&str],
        max_body: u64,
    ) -> Result<Answer, Error> {
        let url = self.url(op, op.repo, kind, reference)?;
        self.block(self.request(op, method, &url, accept, None, max_body))
    }

    async fn request(
        &self,
        op: &Op<'_>,
        method: Method,
        url: &str,
        accept: &[&str],
        body: Option<(String, Bytes)>,
        max_body: u64,
    ) -> Result<Answer, Error> {
        self.request_with(op, method, url, accept, &[], body, max_body)
            .await
    }

    /// [`Client::request`] with extra headers. Credentials go only to this registry's
    /// own host (an upload `Location` elsewhere gets none, as a redirect does).
    #[allow(clippy::too_many_arguments)]
    async fn request_with(
        &self,
        op: &Op<'_>,
        method: Method,
        url: &str,
        accept: &[&str],
        extra: &[(HeaderName, String)],
        body: Option<(String, Bytes)>,
        max_body: u64,
    ) -> Result<Answer, Error> {
        let scope_key = format!("{}:{}", op.repo, op.actions);
        let mut reauthenticated = false;
        let mut attempt = 1u32;
        let mut url = url.to_string();
        let mut redirects = 0;
        let mut authorise = self.is_own(&url);
        loop {
            let mut headers: Vec<(HeaderName, String)> = extra.to_vec();
            if !accept.is_empty() {
                headers.push((ACCEPT, accept.join(", ")));
            }
            if authorise {
                if let Some(a) = self.cached_auth(&scope_key) {
                    headers.push((AUTHORIZATION, a));
                }
            }
            let answer = match self
                .send(method.clone(), &url, &headers, body.clone(), max_body)
                .await
            {
                Ok(a) => a,
                Err(Transport::Final(kind, m)) => return Err(self.error(kind, op.what, &m)),
                Err(Transport::Retry(m)) => {
                    if attempt < self.options.attempts {
                        self.pause(attempt).await;
                        attempt += 1;
                        continue;
                    }
                    let tries = if attempt > 1 {
                        format!(" (after {attempt} attempts)")
                    } else {
                        String::new()
                    };
                    return Err(self.error(
                        ErrorKind::Unreachable,
                        op.what,
                        &format!("{m}{tries}"),
                    ));
                }
            };
            let status = answer.status;
            if status == StatusCode::UNAUTHORIZED && authorise && !reauthenticated {
                reauthenticated = true;
                self.authenticate(op, &scope_key, &answer).await?;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED && authorise {
                return Err(self
                    .error(ErrorKind::Unauthorized, op.what, &status_line(&answer))
                    .with_note(self.credentials_note(true)));
            }
            if status.is_redirection() && (method == Method::GET || method == Method::HEAD) {
                let Some(location) = answer.header("location") else {
                    return Ok(answer);
                };
                redirects += 1;
                if redirects > 5 {
                    return Err(self.error(ErrorKind::Invalid, op.what, "more than 5 redirects"));
                }
                url = self.follow(op, &url, location)?;
                // Credentials stay with the registry: a redirect target (object storage
                // with a signed URL) gets none.
                authorise = false;
                continue;
            }
            if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
                && attempt < self.options.attempts
            {
                self.pause(attempt).await;
                attempt += 1;
                continue;
            }
            if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) && attempt > 1
            {
                return Err(self.error(
                    ErrorKind::Status,
                    op.what,
                    &format!("{} (after {attempt} attempts)", status_line(&answer)),
                ));
            }
            return Ok(answer);
        }
    }

    async fn pause(&self, attempt: u32) {
        let wait = self
            .options
            .backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        tokio::time::sleep(wait).await;
    }

    /// The absolute URL of a `Location`, with the plain-HTTP rule applied to it.
    fn follow(&self, op: &Op<'_>, from: &str, location: &str) -> Result<String, Error> {
        let target = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            let origin = from.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            format!("{origin}{location}")
        } else {
            return Err(self.error(
                ErrorKind::Invalid,
                op.what,
                &format!("a redirect to {location:?}"),
            ));
        };
        self.check_plain(op, &target, "a redirect")?;
        Ok(target)
    }

    /// Plain HTTP is for loopback and insecure hosts only, also for token realms and
    /// redirects.
    fn check_plain(&self, op: &Op<'_>, url: &str, what: &str) -> Result<(), Error> {
        if let Some(rest) = url.strip_prefix("http://") {
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            let allowed = is_loopback(host)
                || self
                    .options
                    .insecure
                    .iter()
                    .any(|h| h == host || h == host_name(host));
            if !allowed {
                return Err(self.error(
                    ErrorKind::Tls,
                    op.what,
                    &format!(
                        "{what} goes to plain HTTP ({}); lambda-image speaks plain HTTP only to loopback registries and to hosts given with --insecure-registry {host}",
                        url.split('?').next().unwrap_or(url)
                    ),
                ));
            }
        } else if !url.starts_with("https://") {
            return Err(self.error(
                ErrorKind::Invalid,
                op.what,
                &format!("{what} is not an http(s) URL: {url}"),
            ));
        }
        Ok(())
    }

    fn cached_auth(&self, scope_key: &str) -> Option<String> {
        let cache = self.auth.lock().ok()?;
        cache
            .bearer
            .get(scope_key)
            .cloned()
            .or_else(|| cache.basic.clone())
    }

    /// The docker config's credentials for this host, looked up once.
    fn credentials(&self, op: &Op<'_>) -> Result<Arc<Found>, Error> {
        let mut slot = self.found.lock().map_err(|_| {
            self.error(
                ErrorKind::Input,
                op.what,
                "the credentials lock is poisoned",
            )
        })?;
        if let Some(f) = slot.as_ref() {
            return Ok(f.clone());
        }
        let found = credentials::for_registry(&self.host)
            .map_err(|e| self.error(ErrorKind::Input, op.what, &format!("{e:#}")))?;
        let found = Arc::new(found);
        *slot = Some(found.clone());
        Ok(found)
    }

    /// `credentials from … were refused` or `the registry wants credentials; …`.
    fn credentials_note(&self, refused: bool) -> String {
        let found = self.found.lock().ok().and_then(|f| f.clone());
        match found {
            Some(f) if f.credentials.is_some() && refused => {
                format!("credentials from {} were refused", f.source)
            }
            Some(f) if f.credentials.is_some() => format!("credentials from {}", f.source),
            Some(f) => format!("the registry wants credentials; looked in {}", f.source),
            None => "the registry wants credentials".to_string(),
        }
    }

    /// Answers a 401's challenge: Basic with the config's credentials, or a Bearer token
    /// from the realm.
    async fn authenticate(
        &self,
        op: &Op<'_>,
        scope_key: &str,
        answer: &Answer,
    ) -> Result<(), Error> {
        let challenges: Vec<Challenge> = answer
            .headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(auth::parse_challenges)
            .collect();
        let found = self.credentials(op)?;
        let creds: Option<&Credentials> = found.credentials.as_ref();
        let unauthorized = |note: String| {
            self.error(ErrorKind::Unauthorized, op.what, &status_line(answer))
                .with_note(note)
        };
        let bearer = challenges.iter().find_map(|c| match c {
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => Some((realm, service, scope)),
            _ => None,
        });
        if let Some((realm, service, scope)) = bearer {
            let own_scope = format!("repository:{}:{}", op.repo, op.actions);
            let scope = scope.clone().unwrap_or(own_scope);
            let token = self
                .token(op, realm, service.as_deref(), &scope, creds, &found)
                .await?;
            if let Ok(mut cache) = self.auth.lock() {
                cache
                    .bearer
                    .insert(scope_key.to_string(), format!("Bearer {token}"));
            }
            return Ok(());
        }
        if challenges.contains(&Challenge::Basic) || challenges.is_empty() {
            let Some(c) = creds else {
                return Err(unauthorized(self.credentials_note(false)));
            };
            let (Some(user), Some(pass)) = (&c.username, &c.password) else {
                return Err(unauthorized(format!(
                    "the registry wants a user and password, and {} has an identity token",
                    found.source
                )));
            };
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            if let Ok(mut cache) = self.auth.lock() {
                cache.basic = Some(format!("Basic {basic}"));
            }
            return Ok(());
        }
        let schemes = challenges
            .iter()
            .map(|c| match c {
                Challenge::Other(s) => s.clone(),
                Challenge::Basic => "Basic".into(),
                Challenge::Bearer { .. } => "Bearer".into(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        Err(unauthorized(format!(
            "the registry asks for {schemes}, which lambda-image does not speak"
        )))
    }

    /// A Bearer token from the realm: Basic credentials on a GET, an identity token as an
    /// OAuth2 refresh-token POST, or anonymous.
    async fn token(
        &self,
        op: &Op<'_>,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        creds: Option<&Credentials>,
        found: &Found,
    ) -> Result<String, Error> {
        self.check_plain(op, realm, "the token realm")?;
        let realm_host = realm
            .split("://")
            .nth(1)
            .and_then(|r| r.split(['/', '?']).next())
            .unwrap_or(realm)
            .to_string();
        let mut headers: Vec<(HeaderName, String)> = Vec::new();
        let (method, url, body) = match creds {
            Some(Credentials {
                identity_token: Some(token),
                ..
            }) => (
                Method::POST,
                realm.to_string(),
                Some((
                    "application/x-www-form-urlencoded".to_string(),
                    Bytes::from(auth::refresh_form(service, Some(scope), token)),
                )),
            ),
            Some(Credentials {
                username: Some(user),
                password: Some(pass),
                ..
            }) => {
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                headers.push((AUTHORIZATION, format!("Basic {basic}")));
                (
                    Method::GET,
                    auth::token_url(realm, service, Some(scope)),
                    None,
                )
            }
            _ => (
                Method::GET,
                auth::token_url(realm, service, Some(scope)),
                None,
            ),
        };
        let mut attempt = 1;
        let answer = loop {
            match self
                .send(method.clone(), &url, &headers, body.clone(), 1024 * 1024)
                .await
            {
                Ok(a)
                    if (a.status.is_server_error()
                        || a.status == StatusCode::TOO_MANY_REQUESTS)
                        && attempt < self.options.attempts =>
                {
                    self.pause(attempt).await;
                    attempt += 1;
                }
                Ok(a) => break a,
                Err(Transport::Retry(_)) if attempt < self.options.attempts => {
                    self.pause(attempt).await;
                    attempt += 1;
                }
                Err(Transport::Retry(m)) | Err(Transport::Final(_, m)) => {
                    return Err(self.error(
                        ErrorKind::Unreachable,
                        op.what,
                        &format!("cannot get a token from {realm_host}: {m}"),
                    ))
                }
            }
        };
        if answer.status == StatusCode::UNAUTHORIZED || answer.status == StatusCode::FORBIDDEN {
            let note = if creds.is_some() {
                format!("credentials from {} were refused", found.source)
            } else {
                format!("the registry wants credentials; looked in {}", found.source)
            };
            return Err(self
                .error(
                    ErrorKind::Unauthorized,
                    op.what,
                    &format!(
                        "the token service {realm_host} answered {}",
                        status_line(&answer)
                    ),
                )
                .with_note(note));
        }
        if !answer.status.is_success() {
            return Err(self.error(
                ErrorKind::Status,
                op.what,
                &format!(
                    "the token service {realm_host} answered {}",
                    status_line(&answer)
                ),
            ));
        }
        serde_json::from_slice::<auth::TokenAnswer>(&answer.body)
            .ok()
            .and_then(auth::TokenAnswer::token)
            .ok_or_else(|| {
                self.error(
                    ErrorKind::Invalid,
                    op.what,
                    &format!("the token service {realm_host} answered without a token"),
                )
            })
    }

    /// One HTTP exchange within the timeout, the body read up to `max_body` bytes.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, String)],
        body: Option<(String, Bytes)>,
        max_body: u64,
    ) -> Result<Answer, Transport> {
        let timeout = self.options.timeout;
        let head = method == Method::HEAD;
        let exchange = async {
            let mut builder = Request::builder().method(method).uri(url);
            for (name, value) in headers {
                let value = HeaderValue::from_str(value).map_err(|_| {
                    Transport::Final(
                        ErrorKind::Input,
                        format!("a {name} header that is not text"),
                    )
                })?;
                builder = builder.header(name, value);
            }
            let payload = match body {
                Some((content_type, bytes)) => {
                    builder = builder.header(CONTENT_TYPE, content_type);
                    bytes
                }
                None => Bytes::new(),
            };
            let request = builder
                .body(full(payload))
                .map_err(|e| Transport::Final(ErrorKind::Input, format!("{e}")))?;
            let response = self.http.request(request).await.map_err(|e| {
                let m = innermost(&e);
                if m.contains("InvalidContentType") || m.contains("corrupt message") {
                    Transport::Final(
                        ErrorKind::Tls,
                        format!(
                            "the registry answers plain HTTP, not HTTPS; lambda-image speaks plain HTTP only to loopback registries and to hosts given with --insecure-registry {}",
                            self.host
                        ),
                    )
                } else if m.contains("certificate") || m.contains("tls") || m.contains("handshake") {
                    Transport::Final(ErrorKind::Tls, format!("TLS: {m}"))
                } else {
                    // Refused, reset, closed, no such host (yet): worth another attempt.
                    Transport::Retry(m)
                }
            })?;
            let (parts, mut incoming) = response.into_parts();
            let mut body = Vec::new();
            let mut truncated = false;
            if !head {
                // Error answers are read for their message only.
                let limit = if parts.status.is_success() {
                    max_body
                } else {
                    64 * 1024
                };
                while let Some(frame) = incoming.frame().await {
                    let frame = frame.map_err(|e| Transport::Retry(innermost(&e)))?;
                    if let Ok(data) = frame.into_data() {
                        body.extend_from_slice(&data);
                        if body.len() as u64 > limit {
                            body.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                            truncated = true;
                            break;
                        }
                    }
                }
            }
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body: Bytes::from(body),
                truncated,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Transport::Final(
                ErrorKind::Timeout,
                format!("no answer within {} s", timeout.as_secs_f64()),
            )),
        }
    }
}

/// `401 Unauthorized: UNAUTHORIZED authentication required` (the registry's first error).
fn status_line(answer: &Answer) -> String {
    let reason = answer.status.canonical_reason().unwrap_or("");
    let mut line = format!("{} {reason}", answer.status.as_u16())
        .trim_end()
        .to_string();
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<RegistryError>,
    }
    #[derive(serde::Deserialize)]
    struct RegistryError {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Some(first) = serde_json::from_slice::<Errors>(&answer.body)
        .ok()
        .and_then(|e| e.errors.into_iter().next())
    {
        let said = format!("{} {}", first.code, first.message);
        let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
        if !said.is_empty() {
            line.push_str(": ");
            line.push_str(&said);
        }
    }
    line
}

/// `repo:tag` or `repo@sha256:…`.
fn describe_ref(repo: &str, reference: &str) -> String {
    if reference.contains(':') {
        format!("{repo}@{reference}")
    } else {
        format!("{repo}:{reference}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost:5000",
            "LOCALHOST",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "0.0.0.0:5000",
            "10.0.0.1:5000",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "localhost.example:5000",
            "[fd00::2]:5000",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn https_unless_loopback_or_insecure() {
        let o = Options::default();
        assert_eq!(
            Client::new("127.0.0.1:5000", &o).expect("client").scheme(),
            "http"
        );
        assert_eq!(
            Client::new("10.0.0.1:5000", &o).expect("client").scheme(),
            "https"
        );
        let insecure = Options {
            insecure: vec!["10.0.0.1:5000".into(), "registry.internal".into()],
            ..Options::default()
        };
        assert_eq!(
            Client::new("10.0.0.1:5000", &insecure)
                .expect("client")
                .scheme(),
            "http"
        );
        assert_eq!(
            Client::new("registry.internal:443", &insecure)
                .expect("client")
                .scheme(),
            "http"
        );
        assert_eq!(
            Client::new("10.0.0.2:5000", &insecure)
                .expect("client")
                .scheme(),
            "https"
        );
    }

    #[test]
    fn names_that_cannot_go_into_a_url_are_one_line() {
        let c = Client::new("127.0.0.1:1", &Options::default()).expect("client");
        let e = c.manifest("Orders", "latest").expect_err("upper case");
        assert_eq!(e.kind(), ErrorKind::Input);
        assert_eq!(
            e.to_string(),
            "reading manifest Orders:latest from 127.0.0.1:1: not a repository and a tag or digest"
        );
        assert!(c.manifest("a", "x/../y").is_err());
        assert!(c.blob_exists("a/../b", "sha256:00").is_err());
    }
}
