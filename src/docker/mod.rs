//! The Docker Engine API, behind synchronous functions.
//!
//! This is the only module that imports bollard: its types, errors and streams are mapped
//! here into our own values ([`BuildEvent`], [`ImageInfo`], files, one-line errors), so
//! commands, the build pipeline and tests never see them. Nothing here pulls from a
//! registry unless a build is asked to (`--pull`).
//!
//! Concurrency: an [`Engine`] is cheap to clone and every clone shares one multi-thread
//! tokio runtime (two workers: the work is waiting on the engine, not computing). Callers
//! stay synchronous: each long operation (a build, an export) is one blocking call made
//! from the caller's own thread, so `build -j N` runs N such calls on N threads and the
//! runtime multiplexes their connections. Every long operation takes a [`Cancel`]: when it
//! fires (Ctrl-C), the request's future is dropped, which closes its connection; the
//! engine then stops a classic build itself and removes its intermediate container
//! (`rm`/`forcerm`). Servers that must run beside a container (the Runtime API of
//! `invoke`) are spawned on the same runtime through [`Engine::spawn`].

mod build;
pub mod buildkit;
mod container;
pub mod context;
pub mod filesync;
mod push;
pub mod session;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use bollard::Docker;
use bytes::Bytes;
use futures_util::StreamExt;

pub use build::{BuildContext, BuildEvent, BuildFailure, BuildRequest, Builder, ContextWriter};
pub use container::{ContainerSpec, Ended, Finished, ImageConfig, Stream};
pub use context::DEFAULT_HOST;
pub use push::{auth_header_is_garbled, digest_of_status, Credentials, PushEvent, RegistryFailure};

use crate::cancel::Cancel;

/// How long connecting and the version handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The default of `--engine-timeout`: how long any request may wait for the engine's
/// response to start, and a stream that must progress (an export, an import, a push's
/// status) for its next item. Measured on Docker 20.10 (fuse-overlayfs): an export sends
/// its first byte only once every layer is copied (1.7 s for 268 MB, so about 65 s for a
/// 10 GB image, Lambda's largest); a build's response starts once its context is read.
/// A build's silent `RUN` is not bounded (neither builder sends anything meanwhile).
pub const DEFAULT_ENGINE_TIMEOUT: u64 = 300;
/// `--engine-timeout`, in seconds, set once by the command line before connecting.
static ENGINE_TIMEOUT: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(DEFAULT_ENGINE_TIMEOUT);
/// Bytes per chunk when streaming a file to the engine.
const UPLOAD_CHUNK: usize = 256 * 1024;
/// Bytes buffered before writing an export to disk.
const WRITE_BUFFER: usize = 1024 * 1024;

/// A connection to a Docker Engine, API version negotiated. Clones share the connection
/// pool and the runtime.
#[derive(Clone)]
pub struct Engine {
    runtime: Arc<tokio::runtime::Runtime>,
    docker: Docker,
    host: String,
    /// What `/version` said when the engine was reached.
    version: Option<bollard::models::SystemVersion>,
}

/// What the engine says about an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// The config digest (`sha256:…`), which is the image id.
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// OCI names: `amd64`, `arm64`.
    pub architecture: String,
    pub os: String,
    /// Its distinct layers (`RootFS.Layers`; an empty layer may come twice): as many as a
    /// push sends or finds in the registry.
    pub layers: usize,
}

/// The engine address: `DOCKER_HOST`, the docker context, or the default unix socket.
pub fn host() -> String {
    context::endpoint()
        .map(|e| e.host)
        .unwrap_or_else(|_| DEFAULT_HOST.to_string())
}

/// Sets `--engine-timeout` (seconds, at least 1) for the engines connected from now on.
pub fn set_engine_timeout(secs: u64) {
    ENGINE_TIMEOUT.store(secs.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// `--engine-timeout`.
pub fn engine_timeout() -> Duration {
    Duration::from_secs(ENGINE_TIMEOUT.load(std::sync::atomic::Ordering::Relaxed))
}

/// An engine that did not answer in time (`--engine-timeout`): an error of the run, not of
/// the image (a build says so with exit 2).
#[derive(Debug)]
pub struct EngineStalled(String);

impl std::fmt::Display for EngineStalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineStalled {}

/// The one line for an engine that did not answer in time.
pub fn engine_stalled(host: &str, doing: &str) -> anyhow::Error {
    EngineStalled(format!(
        "the Docker Engine at {host} did not answer {doing} within {} s (--engine-timeout)",
        engine_timeout().as_secs()
    ))
    .into()
}

/// Connects to the engine (`DOCKER_HOST`, else the docker context, else the default socket)
/// and negotiates the API version (the engine may be older than the client's default).
pub fn connect() -> Result<Engine> {
    let endpoint = context::endpoint()?;
    let host = endpoint.host;
    let tls = host.starts_with("https://")
        || std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    if tls && !cfg!(feature = "ssl") {
        bail!(
            "the Docker Engine at {host} ({}) needs TLS, and this lambda-image was built without TLS support; \
             build it with `cargo install --path . --features ssl`",
            endpoint.from
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("lambda-image-engine")
        .enable_all()
        .build()
        .context("starting the Docker Engine client")?;
    // The version is asked beside the negotiation (`/version` is not versioned), so the
    // first line's "Docker Engine 20.10.24" costs no second round trip.
    let (docker, version) = runtime
        .block_on(async {
            let docker = Docker::connect_with_host(&host)?.with_timeout(CONNECT_TIMEOUT);
            let asked = docker.clone();
            let (negotiated, version) = tokio::join!(docker.negotiate_version(), asked.version());
            Ok::<_, bollard::errors::Error>((negotiated?, version.ok()))
        })
        .map_err(|e| unreachable_error(&host, &e))?;
    Ok(Engine {
        runtime: Arc::new(runtime),
        docker: docker.with_timeout(engine_timeout()),
        host,
        version,
    })
}

impl Engine {
    /// The address this engine was reached at.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The runtime's handle, for signal handling ([`Cancel::on_signals`]).
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// Runs a future on the engine's runtime (a server beside a container).
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.handle().block_on(future)
    }

    /// The next item of a stream that must progress, within `--engine-timeout`; a stall is
    /// the one line naming the engine and `doing`.
    async fn next_within<S: futures_util::Stream + Unpin>(
        &self,
        stream: &mut S,
        doing: &str,
    ) -> Result<Option<S::Item>> {
        tokio::time::timeout(engine_timeout(), stream.next())
            .await
            .map_err(|_| engine_stalled(&self.host, doing))
    }

    /// The engine's version (`20.10.24`) and whether its BuildKit can run our builds
    /// (`Err` says why not: an engine before API 1.39, not Linux, or an address the
    /// BuildKit requests cannot go through yet).
    pub fn builders(&self) -> Result<(String, Result<(), String>)> {
        let v = match &self.version {
            Some(v) => v.clone(),
            None => self.block_on(self.docker.version()).map_err(|e| {
                anyhow!(
                    "asking the Docker Engine at {} for its version: {}",
                    self.host,
                    describe(&e)
                )
            })?,
        };
        let version = v.version.unwrap_or_default();
        let api = self.docker.client_version();
        let buildkit = if (api.major_version, api.minor_version) < (1, 39) {
            Err(format!(
                "Docker Engine {version} (API {}.{}) has no BuildKit builds (API 1.39 or later)",
                api.major_version, api.minor_version
            ))
        } else if v.os.as_deref().is_some_and(|os| os != "linux") {
            Err(format!(
                "Docker Engine {version} runs {} containers; BuildKit builds need Linux",
                v.os.unwrap_or_default()
            ))
        } else {
            buildkit::socket_of(&self.host).map(|_| ())
        };
        Ok((version, buildkit))
    }

    /// The engine's own architecture, in OCI terms (`amd64`, `arm64`).
    pub fn architecture(&self) -> Result<String> {
        let info = self.block_on(self.docker.info()).map_err(|e| {
            anyhow!(
                "asking the Docker Engine at {} for its info: {}",
                self.host,
                describe(&e)
            )
        })?;
        Ok(match info.architecture.as_deref() {
            Some("x86_64") => "amd64".to_string(),
            Some("aarch64") => "arm64".to_string(),
            Some(other) => other.to_string(),
            None => String::new(),
        })
    }

    /// The image `name` as the engine has it, or `None` when it has no such image.
    pub fn inspect_image(&self, name: &str) -> Result<Option<ImageInfo>> {
        check_reference(name)?;
        match self.block_on(self.docker.inspect_image(name)) {
            Ok(inspect) => Ok(Some(ImageInfo {
                id: inspect.id.unwrap_or_default(),
                repo_tags: inspect.repo_tags.unwrap_or_default(),
                repo_digests: inspect.repo_digests.unwrap_or_default(),
                labels: inspect
                    .config
                    .and_then(|c| c.labels)
                    .map(|l| l.into_iter().collect())
                    .unwrap_or_default(),
                architecture: inspect.architecture.unwrap_or_default(),
                os: inspect.os.unwrap_or_default(),
                layers: inspect.root_fs.and_then(|r| r.layers).map_or(0, |l| {
                    l.iter().collect::<std::collections::BTreeSet<_>>().len()
                }),
            })),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.image_error("inspecting", name, &e)),
        }
    }

    /// Points `repo:tag` at the image `id`.
    pub fn tag_image(&self, id: &str, repo: &str, tag: &str) -> Result<()> {
        check_reference(id)?;
        let options = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        self.block_on(self.docker.tag_image(id, Some(options)))
            .map_err(|e| match e {
                BollardError::RequestTimeoutError => {
                    engine_stalled(&self.host, &format!("the tagging of {id} as {repo}:{tag}"))
                }
                e => anyhow!("tagging {id} as {repo}:{tag}: {}", describe(&e)),
            })
    }

    /// Pulls `reference` (`repo@sha256:…` or `repo:tag`) from its registry, with `credentials`
    /// when given; returns the image id. Stops with [`Interrupted`](crate::cancel::Interrupted)
    /// when `cancel` fires. Only `build --reuse pull` pulls.
    pub fn pull(
        &self,
        reference: &str,
        credentials: Option<&Credentials>,
        cancel: &Cancel,
    ) -> Result<String> {
        check_reference(reference)?;
        let options = CreateImageOptionsBuilder::default()
            .from_image(reference)
            .build();
        let auth = credentials.map(Credentials::to_bollard);
        self.block_on(async {
            let mut stream = pin!(self.docker.create_image(Some(options), None, auth));
            loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    () = cancel.cancelled() => return Err(cancel.interrupted().into()),
                };
                match item {
                    None => return Ok(()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        return Err(anyhow!(
                            "pulling {reference} through the Docker Engine at {}: {}",
                            self.host,
                            describe(&e)
                        ))
                    }
                }
            }
        })?;
        self.inspect_image(reference)?.map(|i| i.id).ok_or_else(|| {
            anyhow!(
                "the Docker Engine at {} pulled {reference} but does not have it",
                self.host
            )
        })
    }

    /// Writes `docker save NAME` (an uncompressed tar) to `dest`, chunk by chunk, calling
    /// `progress` with the size of each chunk written. Returns the bytes written. Stops with
    /// [`Interrupted`](crate::cancel::Interrupted) when `cancel` fires (the caller removes `dest`).
    pub fn export_image(
        &self,
        name: &str,
        dest: &Path,
        progress: impl Fn(u64),
        cancel: &Cancel,
    ) -> Result<u64> {
        let file = File::create(dest).with_context(|| format!("creating {}", dest.display()))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut stream = self.export_stream(name, cancel)?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next_chunk()? {
            out.write_all(&chunk)
                .with_context(|| format!("writing {}", dest.display()))?;
            let n = chunk.len() as u64;
            written += n;
            progress(n);
        }
        out.flush()
            .with_context(|| format!("writing {}", dest.display()))?;
        Ok(written)
    }

    /// `docker save NAME` as it arrives: a reader (and [`ExportStream::next_chunk`]) over the
    /// engine's export. The stream is read by a task on the runtime's threads, which also
    /// drive its I/O, and its chunks are handed over: polled from the (blocked) caller
    /// instead, every chunk cost several cross-thread wake-ups, about 2 s of system time for
    /// a 560 MB image, a third more than the engine's own export.
    pub fn export_stream<'a>(&'a self, name: &str, cancel: &Cancel) -> Result<ExportStream<'a>> {
        check_reference(name)?;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ExportEnded>>(16);
        let (docker, reference, token) = (self.docker.clone(), name.to_string(), cancel.clone());
        let reader = self.runtime.spawn(async move {
            let mut stream = pin!(docker.export_image(&reference));
            loop {
                let next = tokio::select! {
                    next = tokio::time::timeout(engine_timeout(), stream.next()) => next,
                    () = token.cancelled() => return,
                };
                let item = match next {
                    Err(_) => Err(ExportEnded::Stalled),
                    Ok(None) => return,
                    Ok(Some(chunk)) => chunk.map_err(ExportEnded::Failed),
                };
                let last = item.is_err();
                if tx.send(item).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(ExportStream {
            engine: self,
            name: name.to_string(),
            cancel: cancel.clone(),
            rx,
            reader,
            chunk: Bytes::new(),
            received: 0,
            failure: None,
        })
    }

    /// Creates `repo:tag` from a root filesystem tar (`POST /images/create?fromSrc=-`, what
    /// `docker import` does), applying Dockerfile instructions such as
    /// `ENV LAMBDA_TASK_ROOT=/var/task`, `ENTRYPOINT ["/lambda-entrypoint.sh"]` or
    /// `CMD ["app.handler"]`. The tar is streamed from disk. Returns the image id.
    pub fn import_rootfs(
        &self,
        tar_path: &Path,
        repo: &str,
        tag: &str,
        changes: &[String],
    ) -> Result<String> {
        let file =
            File::open(tar_path).with_context(|| format!("reading {}", tar_path.display()))?;
        let name = format!("{repo}:{tag}");
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(repo)
            .tag(tag)
            .changes(changes.to_vec())
            .build();
        self.block_on(async {
            let body = bollard::body_try_stream(file_chunks(file));
            let mut stream = pin!(self.docker.create_image(Some(options), Some(body), None));
            // Drained to the end: an error may come after progress messages.
            let doing = format!("the import of `{name}`");
            while let Some(item) = self.next_within(&mut stream, &doing).await? {
                item.map_err(|e| {
                    anyhow!(
                        "importing {} as `{name}` into the Docker Engine at {}: {}",
                        tar_path.display(),
                        self.host,
                        describe(&e)
                    )
                })?;
            }
            let inspect = self
                .docker
                .inspect_image(&name)
                .await
                .map_err(|e| self.image_error("inspecting", &name, &e))?;
            inspect.id.ok_or_else(|| {
                anyhow!(
                    "the Docker Engine at {} reported no id for the imported `{name}`",
                    self.host
                )
            })
        })
    }

    /// Loads a `docker save` archive (`POST /images/load`), streamed from disk.
    pub fn load_archive(&self, tar_path: &Path) -> Result<()> {
        let file =
            File::open(tar_path).with_context(|| format!("reading {}", tar_path.display()))?;
        self.block_on(async {
            let body = bollard::body_try_stream(file_chunks(file));
            let options = bollard::query_parameters::ImportImageOptionsBuilder::default()
                .quiet(true)
                .build();
            let mut stream = pin!(self.docker.import_image(options, body, None));
            let doing = format!("the load of {}", tar_path.display());
            while let Some(item) = self.next_within(&mut stream, &doing).await? {
                item.map_err(|e| {
                    anyhow!(
                        "loading {} into the Docker Engine at {}: {}",
                        tar_path.display(),
                        self.host,
                        describe(&e)
                    )
                })?;
            }
            Ok(())
        })
    }

    /// Removes an image (by name or id), untagging it if it has several names.
    pub fn remove_image(&self, name: &str) -> Result<()> {
        check_reference(name)?;
        let options = RemoveImageOptionsBuilder::default().force(true).build();
        self.block_on(self.docker.remove_image(name, Some(options), None))
            .map_err(|e| self.image_error("removing", name, &e))?;
        Ok(())
    }

    /// Removes one name of an image, leaving the image if it has others (`docker rmi NAME`
    /// without force).
    pub fn untag(&self, name: &str) -> Result<()> {
        check_reference(name)?;
        let options = RemoveImageOptionsBuilder::default().noprune(true).build();
        self.block_on(self.docker.remove_image(name, Some(options), None))
            .map_err(|e| self.image_error("untagging", name, &e))?;
        Ok(())
    }

    fn image_error(&self, doing: &str, name: &str, err: &BollardError) -> anyhow::Error {
        match err {
            BollardError::DockerResponseServerError {
                status_code: 404, ..
            } => not_in_engine(name),
            BollardError::RequestTimeoutError => {
                engine_stalled(&self.host, &format!("{doing} image `{name}`"))
            }
            _ => anyhow!(
                "{doing} image `{name}` in the Docker Engine at {}: {}",
                self.host,
                describe(err)
            ),
        }
    }
}

fn unreachable_error(host: &str, err: &BollardError) -> anyhow::Error {
    let why = match err {
        BollardError::SocketNotFoundError(path) => format!("{path} does not exist"),
        BollardError::RequestTimeoutError => {
            format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())
        }
        other => describe(other),
    };
    anyhow!("cannot reach the Docker Engine at {host} ({why}); start Docker or set DOCKER_HOST")
}

/// An error and its causes on one line, without repeating a cause a message already quotes.
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    if let Some(BollardError::RequestTimeoutError) = err.downcast_ref::<BollardError>() {
        return format!(
            "no answer within {} s (--engine-timeout)",
            engine_timeout().as_secs()
        );
    }
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The one error for an image reference the engine does not hold.
pub fn not_in_engine(name: &str) -> anyhow::Error {
    anyhow!(
        "image `{name}` is not in the Docker Engine (docker images lists what is; lambda-image never pulls)"
    )
}

/// Names go into the request path: accept what a reference or an image id can hold, and
/// nothing that would change the request.
pub fn check_reference(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with(['-', '/', '.'])
        && !name.contains("..")
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'@')
        });
    if !ok {
        bail!("`{name}` is not an image reference (name[:tag], name@digest or an image id)");
    }
    Ok(())
}

/// A file as a stream of chunks for a request body. The reads block, briefly, on the
/// current-thread runtime; the first read error ends the stream.
fn file_chunks(
    file: File,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; UPLOAD_CHUNK];
        loop {
            match file.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => {
                    buf.truncate(n);
                    return Some((Ok(Bytes::from(buf)), Some(file)));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Some((Err(e), None)),
            }
        }
    })
}

/// Why the export's reading task stopped early.
enum ExportEnded {
    Stalled,
    Failed(BollardError),
}

/// The engine's export of one image, as it arrives ([`Engine::export_stream`]). Reading it
/// fails with an I/O error when the engine fails, stalls or Ctrl-C fires; [`ExportStream::failure`]
/// then says which, as the one-line error the run reports.
pub struct ExportStream<'a> {
    engine: &'a Engine,
    name: String,
    cancel: Cancel,
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, ExportEnded>>,
    reader: tokio::task::JoinHandle<()>,
    chunk: Bytes,
    received: u64,
    failure: Option<anyhow::Error>,
}

impl ExportStream<'_> {
    /// The next chunk; `None` at the end of a complete export.
    pub fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if !self.chunk.is_empty() {
            return Ok(Some(std::mem::take(&mut self.chunk)));
        }
        match self.rx.blocking_recv() {
            Some(Ok(chunk)) => {
                self.received += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Some(Err(ended)) => Err(match ended {
                ExportEnded::Stalled => {
                    engine_stalled(&self.engine.host, &format!("the export of `{}`", self.name))
                }
                ExportEnded::Failed(e) => self.engine.image_error("exporting", &self.name, &e),
            }),
            None => {
                // The task ended: the export is complete, or Ctrl-C fired.
                self.cancel.check()?;
                if self.received == 0 {
                    bail!(
                        "the Docker Engine at {} sent an empty export of `{}`",
                        self.engine.host,
                        self.name
                    );
                }
                Ok(None)
            }
        }
    }

    /// Why reading failed, when it was the engine or Ctrl-C (taken once).
    pub fn failure(&mut self) -> Option<anyhow::Error> {
        self.failure.take()
    }

    /// Whether reading failed because of the engine or Ctrl-C.
    pub fn has_failed(&self) -> bool {
        self.failure.is_some()
    }
}

impl Read for ExportStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.chunk.is_empty() {
            match self.next_chunk() {
                Ok(Some(chunk)) => self.chunk = chunk,
                Ok(None) => return Ok(0),
                Err(e) => {
                    let message = format!("{e:#}");
                    self.failure = Some(e);
                    return Err(std::io::Error::other(message));
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), self.chunk.get(..n)) {
            to.copy_from_slice(from);
        }
        bytes::Buf::advance(&mut self.chunk, n);
        Ok(n)
    }
}

impl Drop for ExportStream<'_> {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_that_would_change_the_request_are_rejected() {
        for good in [
            "python:3.13",
            "lambda-image-test/daemon-1:latest",
            "public.ecr.aws/lambda/python:3.13",
            "localhost:5000/x@sha256:0123abcd",
            "sha256:0123abcd",
            "0123abcd",
        ] {
            assert!(check_reference(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "x?all=1",
            "x#y",
            "../containers/json",
            "a/../b",
            "/images",
            "-x",
            "a b",
            "x%2f",
        ] {
            let err = check_reference(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("is not an image reference")),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn describe_keeps_causes_on_one_line_without_repeats() {
        let inner = std::io::Error::new(ErrorKind::PermissionDenied, "Permission denied");
        let outer = BollardError::IOError { err: inner };
        let text = describe(&outer);
        assert!(!text.contains('\n'));
        assert_eq!(text.matches("Permission denied").count(), 1, "{text}");
    }
}
