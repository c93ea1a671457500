//! Containers, for `invoke`: create, attach, start, wait, stats and remove, as one call
//! ([`Engine::run_container`]) that removes the container whatever happens. Bollard's
//! types stay here; callers see [`ContainerSpec`], [`ImageConfig`], [`Ended`] and lines.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use anyhow::{anyhow, Result};
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    StatsOptionsBuilder,
};
use futures_util::{FutureExt, StreamExt};

use super::{check_reference, describe, Engine};
use crate::cancel::Cancel;

/// How long the output of a stopped container may take to arrive in full.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a finished run waits for the memory sample asked for at its start: the
/// engine answers at once when no other stats are being collected, else on its next
/// one-second tick.
const FIRST_SAMPLE: Duration = Duration::from_millis(1100);
/// How long it waits for a last sample (which the engine may hold until its next tick).
const LAST_SAMPLE: Duration = Duration::from_millis(100);

/// The parts of an image's config a container run needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub id: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    /// OCI names: `amd64`, `arm64`.
    pub architecture: String,
}

/// A container as `invoke` asks for it. The image's own ENTRYPOINT and CMD are used.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub image: String,
    pub name: String,
    /// `uid:gid`; empty for the image's own user.
    pub user: String,
    /// `KEY=VALUE`, over the image's Env.
    pub env: Vec<String>,
    /// Replaces the image's ENTRYPOINT (an empty list clears it).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's CMD.
    pub cmd: Option<Vec<String>>,
    /// 0: no limit.
    pub memory_bytes: i64,
    /// Mount point → tmpfs options (`rw,size=512m,mode=1777`).
    pub tmpfs: Vec<(String, String)>,
    pub read_only_root: bool,
    /// The host's network (Linux: the container reaches 127.0.0.1 of this machine).
    pub host_network: bool,
    pub labels: Vec<(String, String)>,
}

/// Which of the container's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How a run ended.
#[derive(Debug)]
pub enum Ended<T> {
    /// The caller's future finished first (the container was then removed).
    Done(T),
    /// The container exited by itself, with this code.
    Exited(i64),
    /// Cancelled (Ctrl-C); the container was removed.
    Interrupted,
}

/// A finished run.
#[derive(Debug)]
pub struct Finished<T> {
    pub ended: Ended<T>,
    /// The most memory the container's cgroup held, in bytes: read from the cgroup when
    /// the engine runs on this machine, else the engine's stats (cgroup v1 `max_usage`, v2
    /// `usage`) sampled at the start and at the end.
    pub peak_memory: Option<u64>,
}

impl Engine {
    /// The image `name`'s config, or `None` when the engine has no such image.
    pub fn image_config(&self, name: &str) -> Result<Option<ImageConfig>> {
        check_reference(name)?;
        match self.block_on(self.docker.inspect_image(name)) {
            Ok(inspect) => {
                let config = inspect.config.unwrap_or_default();
                Ok(Some(ImageConfig {
                    id: inspect.id.unwrap_or_default(),
                    entrypoint: config.entrypoint.unwrap_or_default(),
                    cmd: config.cmd.unwrap_or_default(),
                    env: config.env.unwrap_or_default(),
                    architecture: inspect.architecture.unwrap_or_default(),
                }))
            }
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.image_error("inspecting", name, &e)),
        }
    }

    /// Creates and starts a container from `spec`, hands each whole line of its output to
    /// `on_line`, and runs until `until` completes, the container exits, or `cancel` fires.
    /// The container is removed in every case, also when an engine call fails halfway;
    /// `started` is called just before the engine is asked to start it.
    pub fn run_container<T>(
        &self,
        spec: &ContainerSpec,
        on_line: &mut (dyn FnMut(Stream, String) + Send),
        started: &mut (dyn FnMut() + Send),
        until: impl Future<Output = T>,
        cancel: &Cancel,
    ) -> Result<Finished<T>> {
        check_reference(&spec.image)?;
        self.block_on(async {
            let id = self.create(spec).await?;
            let result = self.drive(&id, on_line, started, until, cancel).await;
            let removed = self.remove(&id).await;
            let finished = result?;
            removed?;
            Ok(finished)
        })
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let limit = (spec.memory_bytes > 0).then_some(spec.memory_bytes);
        let host_config = HostConfig {
            memory: limit,
            memory_swap: limit,
            readonly_rootfs: Some(spec.read_only_root),
            tmpfs: Some(spec.tmpfs.iter().cloned().collect::<HashMap<_, _>>()),
            network_mode: spec.host_network.then(|| "host".to_string()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            user: (!spec.user.is_empty()).then(|| spec.user.clone()),
            env: Some(spec.env.clone()),
            entrypoint: spec.entrypoint.clone(),
            cmd: spec.cmd.clone(),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            labels: Some(spec.labels.iter().cloned().collect()),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| match &e {
                BollardError::DockerResponseServerError {
                    status_code: 404, ..
                } => super::not_in_engine(&spec.image),
                BollardError::RequestTimeoutError => super::engine_stalled(
                    &self.host,
                    &format!("the creation of a container from `{}`", spec.image),
                ),
                _ => anyhow!(
                    "creating a container from `{}` in the Docker Engine at {}: {}",
                    spec.image,
                    self.host,
                    describe(&e)
                ),
            })?;
        Ok(created.id)
    }

    async fn drive<T>(
        &self,
        id: &str,
        on_line: &mut (dyn FnMut(Stream, String) + Send),
        started: &mut (dyn FnMut() + Send),
        until: impl Future<Output = T>,
        cancel: &Cancel,
    ) -> Result<Finished<T>> {
        let engine_error = |doing: &str, e: BollardError| {
            if let BollardError::RequestTimeoutError = e {
                return super::engine_stalled(&self.host, &format!("{doing} the container"));
            }
            anyhow!(
                "{doing} the container in the Docker Engine at {}: {}",
                self.host,
                describe(&e)
            )
        };
        let attach = AttachContainerOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .stream(true)
            .logs(true)
            .build();
        let mut output = self
            .docker
            .attach_container(id, Some(attach))
            .await
            .map_err(|e| engine_error("attaching to", e))?
            .output;
        started();
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| engine_error("starting", e))?;
        let mut wait = pin!(self.docker.wait_container(id, None));
        // Memory: a one-shot sample as soon as it runs, then one more when it is done if
        // the engine answers at once.
        let mut stats = pin!(self.memory_now(id));
        let mut peak: u64 = 0;
        let mut stats_open = true;
        let mut until = pin!(until);
        let mut lines = Lines::default();
        let mut output_open = true;
        let ended = loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break Ended::Interrupted,
                value = &mut until => break Ended::Done(value),
                exit = wait.next() => {
                    let code = match exit {
                        Some(Ok(response)) => response.status_code,
                        Some(Err(BollardError::DockerContainerWaitError { code, .. })) => code,
                        Some(Err(e)) => return Err(engine_error("waiting for", e)),
                        None => -1,
                    };
                    // What the container said just before it exited may have been the answer.
                    match until.as_mut().now_or_never() {
                        Some(value) => break Ended::Done(value),
                        None => break Ended::Exited(code),
                    }
                }
                chunk = output.next(), if output_open => match chunk {
                    Some(Ok(chunk)) => lines.push(chunk, on_line),
                    _ => output_open = false,
                },
                sample = &mut stats, if stats_open => {
                    peak = peak.max(sample.unwrap_or(0));
                    stats_open = false;
                }
            }
        };
        if matches!(ended, Ended::Done(_)) {
            // Still running. An engine on this machine: its cgroup's peak, exact and at
            // once; else the engine's stats, which may wait for the collector's tick.
            match self.local().then(|| cgroup_peak(id)).flatten() {
                Some(bytes) => peak = peak.max(bytes),
                None => {
                    let sample = if stats_open {
                        tokio::time::timeout(FIRST_SAMPLE, &mut stats).await
                    } else {
                        tokio::time::timeout(LAST_SAMPLE, self.memory_now(id)).await
                    };
                    peak = peak.max(sample.ok().flatten().unwrap_or(0));
                }
            }
        }
        if !matches!(ended, Ended::Exited(_)) {
            let _ = self.kill(id).await;
        }
        // The rest of the output: the stream ends once the container has stopped.
        if output_open {
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
                while let Some(Ok(chunk)) = output.next().await {
                    lines.push(chunk, on_line);
                }
            })
            .await;
        }
        lines.flush(on_line);
        Ok(Finished {
            ended,
            peak_memory: (peak > 0).then_some(peak),
        })
    }

    /// One stats sample (`one-shot`): the cgroup's peak (v1) or current (v2) memory.
    async fn memory_now(&self, id: &str) -> Option<u64> {
        let one = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        match self.docker.stats(id, Some(one)).next().await {
            Some(Ok(sample)) => memory_of(&sample),
            _ => None,
        }
    }

    async fn kill(&self, id: &str) -> Result<(), BollardError> {
        self.docker.kill_container(id, None).await
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(anyhow!(
                "removing container {} from the Docker Engine at {}: {}",
                &id[..id.len().min(12)],
                self.host,
                describe(&e)
            )),
        }
    }
}

impl Engine {
    /// Whether the engine runs on this machine (a unix socket).
    fn local(&self) -> bool {
        self.host.starts_with("unix://")
    }
}

/// The peak memory of a running container's cgroup, read from this machine's cgroup
/// filesystem (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`; cgroupfs and systemd
/// drivers); `None` when none of the usual places has it (rootless engines, other layouts).
fn cgroup_peak(id: &str) -> Option<u64> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let root = std::path::Path::new("/sys/fs/cgroup");
    let candidates = [
        root.join(format!("memory/docker/{id}/memory.max_usage_in_bytes")),
        root.join(format!(
            "memory/system.slice/docker-{id}.scope/memory.max_usage_in_bytes"
        )),
        root.join(format!("system.slice/docker-{id}.scope/memory.peak")),
        root.join(format!("docker/{id}/memory.peak")),
    ];
    candidates.iter().find_map(|p| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .filter(|&b| b > 0)
    })
}

fn memory_of(sample: &bollard::models::ContainerStatsResponse) -> Option<u64> {
    let memory = sample.memory_stats.as_ref()?;
    match (memory.max_usage, memory.usage) {
        (Some(max), _) if max > 0 => Some(max),
        (_, Some(usage)) if usage > 0 => Some(usage),
        _ => None,
    }
}

/// Output chunks cut into whole lines, per stream.
#[derive(Default)]
struct Lines {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Lines {
    fn push(&mut self, chunk: LogOutput, on_line: &mut (dyn FnMut(Stream, String) + Send)) {
        let (stream, bytes) = match chunk {
            LogOutput::StdErr { message } => (Stream::Stderr, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (Stream::Stdout, message)
            }
            LogOutput::StdIn { .. } => return,
        };
        let buf = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        buf.extend_from_slice(&bytes);
        while let Some(end) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            on_line(stream, text(&line[..end]));
        }
    }

    fn flush(&mut self, on_line: &mut (dyn FnMut(Stream, String) + Send)) {
        for (stream, buf) in [
            (Stream::Stdout, &mut self.stdout),
            (Stream::Stderr, &mut self.stderr),
        ] {
            if !buf.is_empty() {
                on_line(stream, text(buf));
                buf.clear();
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\r')
        .to_string()
}
