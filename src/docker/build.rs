//! `POST /build`: the request both builders take, and the classic builder's path. A
//! context tar is written by the caller straight into the request body (a writer thread
//! feeding a bounded channel), the daemon's stream mapped to [`BuildEvent`]s, whole lines
//! only. BuildKit builds ([`Builder::BuildKit`]) go through [`super::buildkit`].

use std::collections::{BTreeMap, HashMap};
use std::pin::pin;

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use futures_util::StreamExt;

use super::{describe, Engine};
use crate::cancel::Cancel;

/// Which of the engine's builders runs a build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Builder {
    /// `/build?version=1`: deprecated since Docker 23.0, no `RUN --mount`.
    #[default]
    Classic,
    /// `/build?version=2`: the engine's BuildKit, with a session of ours.
    BuildKit,
}

impl Builder {
    pub fn as_str(self) -> &'static str {
        match self {
            Builder::Classic => "classic",
            Builder::BuildKit => "buildkit",
        }
    }
}

/// One build, as the engine is asked for it.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    pub builder: Builder,
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
    /// `linux/amd64` or `linux/arm64`.
    pub platform: String,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub target: Option<String>,
    /// Always try to pull a newer base.
    pub pull: bool,
    pub no_cache: bool,
    /// Credentials for the registries the bases (and BuildKit's cache sources) come from:
    /// `X-Registry-Config` on the classic builder, the session's Auth service on BuildKit.
    pub credentials: Vec<super::Credentials>,
    /// BuildKit only: the secrets `RUN --mount=type=secret` reads, by id.
    pub secrets: super::buildkit::Secrets,
    /// BuildKit only: SSH agents `RUN --mount=type=ssh` reaches, by id: their sockets.
    pub ssh: BTreeMap<String, std::path::PathBuf>,
    /// BuildKit only: images whose inline cache the build may use (no pull).
    pub cache_from: Vec<String>,
    /// BuildKit only: the image carries its cache (`BUILDKIT_INLINE_CACHE=1`).
    pub inline_cache: bool,
}

impl BuildRequest {
    /// The request's query parameters for `version` (bollard's type, which encodes them as
    /// the engine reads them); BuildKit's inline cache is a build argument.
    pub(super) fn options(
        &self,
        version: BuilderVersion,
    ) -> bollard::query_parameters::BuildImageOptions {
        let mut build_args: HashMap<String, String> = self.build_args.clone().into_iter().collect();
        if self.inline_cache && version == BuilderVersion::BuilderBuildKit {
            build_args.insert("BUILDKIT_INLINE_CACHE".into(), "1".into());
        }
        let labels: HashMap<String, String> = self.labels.clone().into_iter().collect();
        let mut options = BuildImageOptionsBuilder::default()
            .dockerfile(&self.dockerfile)
            .platform(&self.platform)
            .rm(true)
            .forcerm(true)
            .nocache(self.no_cache)
            .buildargs(&build_args)
            .labels(&labels)
            .version(version);
        if self.pull {
            options = options.pull("true");
        }
        if let Some(target) = &self.target {
            options = options.target(target);
        }
        if !self.cache_from.is_empty() && version == BuilderVersion::BuilderBuildKit {
            options = options.cachefrom(&self.cache_from);
        }
        options.build()
    }
}

/// Writes the context tar into the request body (the classic builder); runs on its own
/// thread.
pub type ContextWriter =
    std::sync::Arc<dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + Send + Sync>;

/// The build context, as each builder takes it: a tar in the request body (classic), or
/// folders the session serves (BuildKit).
pub enum BuildContext {
    Tar(ContextWriter),
    Synced(super::buildkit::SyncedContext),
}

/// bollard's timeout for a request whose wait is bounded otherwise.
pub(super) const UNBOUNDED: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Bytes per chunk of the request body.
const BODY_CHUNK: usize = 256 * 1024;

/// When the engine last asked for more of a build's request body (or the body ended): a
/// build's context upload and the wait for its response are bounded by `--engine-timeout`
/// from then, while a silent `RUN` afterwards is not (neither builder sends anything
/// during one).
#[derive(Clone)]
pub(super) struct BodyMoved(std::sync::Arc<std::sync::Mutex<std::time::Instant>>);

impl BodyMoved {
    pub(super) fn new() -> BodyMoved {
        BodyMoved(std::sync::Arc::new(std::sync::Mutex::new(
            std::time::Instant::now(),
        )))
    }

    /// The request body as a stream of `rx`'s chunks, noting each time it is polled.
    pub(super) fn body(
        &self,
        mut rx: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    ) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
        let moved = self.clone();
        futures_util::stream::poll_fn(move |cx| {
            if let Ok(mut at) = moved.0.lock() {
                *at = std::time::Instant::now();
            }
            rx.poll_recv(cx)
        })
    }

    /// Returns once `--engine-timeout` has passed since the body last moved.
    pub(super) async fn stalled(&self) {
        let timeout = super::engine_timeout();
        loop {
            let since = self.0.lock().map(|at| at.elapsed()).unwrap_or_default();
            if since >= timeout {
                return;
            }
            tokio::time::sleep((timeout - since).min(std::time::Duration::from_secs(1))).await;
        }
    }
}

/// A `Write` that hands full chunks to the request body.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(BODY_CHUNK),
        ));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the build request ended")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BODY_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// What a build reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// A step started (or was found in the cache), as the builder numbers them.
    Step {
        number: usize,
        total: usize,
        instruction: String,
        /// How the builder names it: `Step 4/9 : RUN …` (classic), `[4/9] RUN …` (BuildKit).
        title: String,
        /// Taken from the cache, not run.
        cached: bool,
    },
    /// Any other whole line of output (a RUN step's output, ` ---> Running in …`).
    Output(String),
    /// What the builder is doing besides the steps (BuildKit's `[internal] load metadata
    /// for …`, `exporting to image`): shown, not logged.
    Status(String),
    /// Something failed that the build went on without (BuildKit: a cache import from a
    /// registry that could not be read), one line: `importing cache manifest from …: …`.
    Warning(String),
}

/// Why a build did not produce an image.
#[derive(Debug)]
pub enum BuildFailure {
    /// Cancelled (Ctrl-C): the connection was dropped, the daemon stops the build.
    Interrupted,
    /// The daemon refused or a step failed; its message, on one line.
    Failed(String),
    /// A step failed and the builder said which (BuildKit): its title, its last output
    /// lines and the builder's message.
    Step {
        step: String,
        tail: Vec<String>,
        message: String,
    },
    /// The engine could not be talked to.
    Engine(anyhow::Error),
}

impl Engine {
    /// Builds `request`, calling `on_event` for every step and line of output. Returns the
    /// image id (config digest) of the final stage. Nothing is tagged: the caller tags only
    /// an image that passed its checks.
    pub fn build(
        &self,
        request: &BuildRequest,
        context: BuildContext,
        on_event: &mut (dyn FnMut(BuildEvent) + Send),
        cancel: &Cancel,
    ) -> Result<String, BuildFailure> {
        let context = match (request.builder, context) {
            (Builder::BuildKit, BuildContext::Synced(synced)) => {
                return self.build_buildkit(request, &synced, on_event, cancel)
            }
            (Builder::Classic, BuildContext::Tar(writer)) => writer,
            (builder, _) => {
                return Err(BuildFailure::Failed(format!(
                    "internal error: the {} builder was given the other builder's kind of context",
                    builder.as_str()
                )))
            }
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(8);
        let writer = spawn_context_writer(context, tx);
        let moved = BodyMoved::new();
        let body_stream = moved.body(rx);
        let options = request.options(BuilderVersion::BuilderV1);
        let result = self.block_on(async {
            // `Some` always: bollard 0.21.1 panics on a `None` body.
            let body = bollard::body_try_stream(body_stream);
            let credentials = registry_config(&request.credentials);
            // The engine answers once it has read the context: bounded from the last chunk
            // it took (below), not from the request's start as bollard's timeout would.
            let docker = self.docker.clone().with_timeout(UNBOUNDED);
            let mut stream = pin!(docker.build_image(options, credentials, Some(body)));
            let mut lines = Lines::default();
            let mut image_id = None;
            let mut answered = false;
            loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    () = moved.stalled(), if !answered => return Err(BuildFailure::Engine(
                        super::engine_stalled(&self.host, "the build (its context sent, no response)")
                    )),
                    () = cancel.cancelled() => return Err(BuildFailure::Interrupted),
                };
                answered = true;
                let Some(item) = item else { break };
                match item {
                    Ok(info) => {
                        if let Some(text) = info.stream.as_deref() {
                            lines.push(text, on_event);
                        }
                        if let Some(status) = info.status.as_deref() {
                            // Pull progress of a base image (`--pull`, or a missing base).
                            let id = info.id.as_deref().unwrap_or_default();
                            let line = if id.is_empty() {
                                status.to_string()
                            } else {
                                format!("{id}: {status}")
                            };
                            on_event(BuildEvent::Output(line));
                        }
                        if let Some(id) = info.aux.and_then(|aux| aux.id) {
                            // One after each stage: the last is the final image.
                            image_id = Some(id);
                        }
                    }
                    Err(BollardError::DockerStreamError { error }) => {
                        lines.flush(on_event);
                        return Err(BuildFailure::Failed(one_line(&error)));
                    }
                    Err(BollardError::DockerResponseServerError { message, .. }) => {
                        lines.flush(on_event);
                        return Err(BuildFailure::Failed(one_line(&message)));
                    }
                    Err(e) => {
                        lines.flush(on_event);
                        return Err(BuildFailure::Engine(anyhow::anyhow!(
                            "building through the Docker Engine at {}: {}",
                            self.host,
                            describe(&e)
                        )));
                    }
                }
            }
            lines.flush(on_event);
            image_id.ok_or_else(|| no_image_id(&self.host))
        });
        // The writer ends once the body is read or dropped (a send fails then).
        let _ = writer.join();
        result
    }
}

/// A build the engine ended without naming its image.
pub(super) fn no_image_id(host: &str) -> BuildFailure {
    BuildFailure::Failed(format!(
        "the Docker Engine at {host} finished the build without an image id"
    ))
}

/// Runs `context` on its own thread, its bytes sent in chunks to `tx` (the request body).
pub(super) fn spawn_context_writer(
    context: ContextWriter,
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(BODY_CHUNK),
        };
        let result = context(&mut out).and_then(|()| std::io::Write::flush(&mut out));
        if let Err(e) = result {
            // The engine sees a broken body and fails the build; the reason goes with it.
            let _ = tx.blocking_send(Err(e));
        }
    })
}

/// The `X-Registry-Config` map. bollard encodes it with the standard base64 alphabet and
/// the engine decodes the URL-safe one, ignoring a header it cannot read; the engine matches
/// keys by host name (scheme and path dropped), so among the spellings of each key the
/// first whose encoding has no `+` or `/` is used. `None` when there is nothing to send or
/// no spelling encodes cleanly (the engine would ignore it anyway).
fn registry_config(
    credentials: &[super::Credentials],
) -> Option<HashMap<String, bollard::auth::DockerCredentials>> {
    use base64::Engine as _;
    if credentials.is_empty() {
        return None;
    }
    let spellings = |host: &str| {
        vec![
            host.to_string(),
            format!("{host}/"),
            format!("http://{host}"),
            format!("https://{host}"),
            format!("https://{host}/"),
            format!("http://{host}/"),
            format!("https://{host}/v1/"),
            format!("https://{host}/v2/"),
        ]
    };
    let mut map: HashMap<String, bollard::auth::DockerCredentials> = HashMap::new();
    for c in credentials {
        let mut chosen = None;
        for key in spellings(&c.server) {
            let mut trial = map.clone();
            trial.insert(key.clone(), c.to_bollard());
            let clean = serde_json::to_string(&trial).is_ok_and(|json| {
                !base64::engine::general_purpose::STANDARD
                    .encode(json)
                    .contains(['+', '/'])
            });
            if clean {
                chosen = Some(trial);
                break;
            }
        }
        map = chosen?;
    }
    Some(map)
}

pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits the daemon's `stream` chunks (which may end mid-line) into whole lines.
#[derive(Default)]
struct Lines {
    partial: String,
}

impl Lines {
    fn push(&mut self, text: &str, on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
        self.partial.push_str(text);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            emit(line.trim_end_matches(['\n', '\r']), on_event);
        }
    }

    fn flush(&mut self, on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            emit(line.trim_end_matches(['\n', '\r']), on_event);
        }
    }
}

fn emit(line: &str, on_event: &mut (dyn FnMut(BuildEvent) + Send)) {
    // A carriage return redraws a progress line: keep what is shown last. The daemon
    // colours a RUN step's stderr (`ESC[91m`): the escapes are dropped.
    let line = line.rsplit('\r').next().unwrap_or(line);
    let stripped = strip_ansi(line);
    let line = stripped.as_str();
    on_event(match parse_step(line) {
        Some((number, total, instruction)) => BuildEvent::Step {
            number,
            total,
            cached: false,
            title: line.to_string(),
            instruction,
        },
        None => BuildEvent::Output(line.to_string()),
    });
}

/// `text` without ANSI escape sequences (CSI `ESC [ … letter`, and lone escapes).
pub(super) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// `Step 4/9 : RUN …` (the daemon's own numbering; it counts the LABEL it adds).
fn parse_step(line: &str) -> Option<(usize, usize, String)> {
    let rest = line.strip_prefix("Step ")?;
    let (numbers, instruction) = rest.split_once(" : ")?;
    let (n, m) = numbers.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?, instruction.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_whole_lines_and_steps() {
        let mut events = Vec::new();
        let mut on = |e: BuildEvent| events.push(e);
        let mut lines = Lines::default();
        lines.push("Step 1/3 : FROM x\n ---> ab", &mut on);
        lines.push("c123\nhal", &mut on);
        lines.push("f\rdone\n", &mut on);
        lines.push("tail", &mut on);
        lines.flush(&mut on);
        assert_eq!(
            events,
            vec![
                BuildEvent::Step {
                    number: 1,
                    total: 3,
                    instruction: "FROM x".into(),
                    title: "Step 1/3 : FROM x".into(),
                    cached: false,
                },
                BuildEvent::Output(" ---> abc123".into()),
                BuildEvent::Output("done".into()),
                BuildEvent::Output("tail".into()),
            ]
        );
        assert_eq!(parse_step("Step x/3 : RUN"), None);
        assert_eq!(
            strip_ansi("\u{1b}[91m/bin/sh: yum: not found\u{1b}[0m"),
            "/bin/sh: yum: not found"
        );
    }
}
