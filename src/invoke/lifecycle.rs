//! One invocation from start to end: the Runtime API spawned on the engine's runtime, the
//! container run with Lambda's environment and limits, the phases (init until the event is
//! asked for, then the invocation until its answer or the timeout), the [`Outcome`].

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use bytes::Bytes;

use super::runtime_api::{self, ApiEvent, FunctionError, Invocation, MAX_RESPONSE};
use super::{Options, Outcome, Status, TMP_SIZE_MB, USER_ID};
use crate::cancel::Cancel;
use crate::docker::{ContainerSpec, Ended, Engine};
use crate::text::hex;

/// What the runtime did before the run ended.
enum Served {
    Answered {
        next: Instant,
        at: Instant,
        response: Bytes,
    },
    Failed {
        next: Option<Instant>,
        at: Instant,
        status: Status,
        error: FunctionError,
    },
    TimedOut {
        next: Option<Instant>,
    },
}

/// Runs one invocation of `options.image`. Each line of the container's output goes to
/// `on_log` as it comes; `on_detail` gets how the container is set up (for `-v`). Ctrl-C
/// (`cancel`) removes the container and returns [`Interrupted`](crate::cancel::Interrupted); the container is removed in
/// every case.
pub fn run(
    engine: &Engine,
    options: &Options,
    on_log: &mut (dyn FnMut(&str) + Send),
    on_detail: &mut dyn FnMut(&str),
    cancel: &Cancel,
) -> Result<Outcome> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("opening a loopback port for the Runtime API")?;
    let port = listener
        .local_addr()
        .context("reading the Runtime API's port")?
        .port();
    let request_id = uuid();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let server = engine.spawn(runtime_api::serve(
        listener,
        invocation(options, &request_id),
        tx,
    ));

    // Off Linux the engine runs in a VM whose host network is not this machine's:
    // Docker Desktop forwards host.docker.internal to this machine's loopback.
    let (host_network, api_host) = if cfg!(target_os = "linux") {
        (true, "127.0.0.1")
    } else {
        (false, "host.docker.internal")
    };
    let api = format!("{api_host}:{port}");
    let env = environment(options, &api);
    let spec = container_spec(options, &env, &request_id, host_network);
    describe(&spec, options, &env, &api, on_detail);

    let started: Arc<Mutex<Option<Instant>>> = Arc::default();
    let started_at = started.clone();
    // The container's lines and Lambda's own (`START`, `END`), in the order they happen.
    let log = Mutex::new((on_log, Vec::<String>::new()));
    let say = |line: String| {
        if let Ok(mut log) = log.lock() {
            (log.0)(&line);
            log.1.push(line);
        }
    };
    let start_line = format!("START RequestId: {request_id} Version: $LATEST");
    let say_start = &say;
    let until = served(rx, options.timeout, move || say_start(start_line));
    let result = engine.run_container(
        &spec,
        &mut |_, line| say(line),
        &mut || {
            if let Ok(mut s) = started_at.lock() {
                *s = Some(Instant::now());
            }
        },
        until,
        cancel,
    );
    server.abort();
    let finished = result?;
    if !matches!(finished.ended, Ended::Interrupted) {
        say(format!("END RequestId: {request_id}"));
    }
    let logs = log.into_inner().map(|l| l.1).unwrap_or_default();
    let ended_at = Instant::now();
    let start = started.lock().ok().and_then(|s| *s).unwrap_or(ended_at);
    let outcome = Outcome {
        request_id,
        status: Status::Ok,
        response: None,
        error: None,
        exit_code: None,
        duration_ms: 0.0,
        billed_duration_ms: 0,
        init_duration_ms: 0.0,
        memory_size_mb: options.memory_mb,
        max_memory_used_mb: finished.peak_memory.map(|b| b.div_ceil(1024 * 1024)),
        timeout_seconds: options.timeout.as_secs_f64(),
        logs,
    };
    ended(
        outcome,
        finished.ended,
        start,
        ended_at,
        options.timeout,
        cancel,
    )
}

/// The invocation the Runtime API serves: the event, its request id, deadline and ARN.
fn invocation(options: &Options, request_id: &str) -> Invocation {
    let account = "000000000000";
    Invocation {
        request_id: request_id.to_string(),
        event: options.event.clone(),
        timeout: options.timeout,
        function_arn: format!(
            "arn:aws:lambda:{}:{account}:function:{}",
            options.region, options.function_name
        ),
        trace_id: trace_id(),
    }
}

/// Lambda's environment for the function (the Runtime API at `api`), then the one given,
/// which wins.
fn environment(options: &Options, api: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), api.to_string()),
        (
            "AWS_LAMBDA_FUNCTION_NAME".into(),
            options.function_name.clone(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            options.memory_mb.to_string(),
        ),
        ("AWS_REGION".into(), options.region.clone()),
        ("AWS_DEFAULT_REGION".into(), options.region.clone()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", options.function_name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), log_stream()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
    ];
    if let [handler] = options.cmd.as_slice() {
        env.push(("_HANDLER".into(), handler.clone()));
    }
    for (k, v) in &options.env {
        env.retain(|(key, _)| key != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// The container as Lambda runs it: its user, a read-only root, a writable /tmp, the memory
/// limit.
fn container_spec(
    options: &Options,
    env: &[(String, String)],
    request_id: &str,
    host_network: bool,
) -> ContainerSpec {
    let memory_bytes = i64::try_from(options.memory_mb * 1024 * 1024).unwrap_or(i64::MAX);
    ContainerSpec {
        image: options.image.clone(),
        name: format!(
            "lambda-image-invoke-{}",
            request_id.get(..8).unwrap_or(request_id)
        ),
        user: format!("{}:{}", USER_ID.0, USER_ID.1),
        env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        entrypoint: None,
        cmd: None,
        memory_bytes,
        tmpfs: vec![(
            "/tmp".into(),
            // Owned by the function's user: the engine copies the image's /tmp (its mode
            // too) into the tmpfs, and that may not be writable by others. `exec`: the
            // engine's default is noexec; Lambda's /tmp runs programs.
            format!(
                "rw,exec,nosuid,nodev,size={TMP_SIZE_MB}m,mode=1777,uid={},gid={}",
                USER_ID.0, USER_ID.1
            ),
        )],
        read_only_root: true,
        host_network,
        labels: vec![("lambda-image.invoke".into(), request_id.to_string())],
    }
}

/// For `-v`: how the container is set up, and its environment (the values given on the
/// command line hidden).
fn describe(
    spec: &ContainerSpec,
    options: &Options,
    env: &[(String, String)],
    api: &str,
    on_detail: &mut dyn FnMut(&str),
) {
    on_detail(&format!(
        "container {} from {}: user {}, read-only root, /tmp a {TMP_SIZE_MB} MB tmpfs, memory {} MB, {}, Runtime API at {api}, timeout {} s",
        spec.name,
        spec.image,
        spec.user,
        options.memory_mb,
        if spec.host_network { "host network" } else { "default network" },
        options.timeout.as_secs()
    ));
    let given: Vec<&str> = options.env.iter().map(|(k, _)| k.as_str()).collect();
    on_detail(&format!(
        "environment: {}",
        env.iter()
            .map(|(k, v)| if given.contains(&k.as_str()) {
                format!("{k}=(given)")
            } else {
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    ));
}

/// What the runtime does through the API: initialisation until it asks for the event
/// (`on_next` then), and the invocation until its answer or the timeout.
async fn served(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<ApiEvent>,
    timeout: Duration,
    on_next: impl FnOnce(),
) -> Served {
    // Initialisation: until the runtime asks for the event (Lambda's 10 s init limit and
    // its retry inside the invocation are not modelled: init may take the timeout).
    let next = match tokio::time::timeout(timeout, rx.recv()).await {
        Err(_) => return Served::TimedOut { next: None },
        Ok(Some(ApiEvent::Next(at))) => {
            on_next();
            at
        }
        Ok(Some(ApiEvent::InitError(error, at))) => {
            return Served::Failed {
                next: None,
                at,
                status: Status::InitError,
                error,
            }
        }
        // The API only reports a response after `next`; the channel stays open.
        Ok(_) => std::future::pending().await,
    };
    let deadline = tokio::time::Instant::from_std(next + timeout);
    match tokio::time::timeout_at(deadline, rx.recv()).await {
        Err(_) => Served::TimedOut { next: Some(next) },
        Ok(Some(ApiEvent::Response(response, at))) => Served::Answered { next, at, response },
        Ok(Some(ApiEvent::Error(error, at))) => Served::Failed {
            next: Some(next),
            at,
            status: Status::Error,
            error,
        },
        Ok(Some(ApiEvent::TooLarge(_, at))) => Served::Failed {
            next: Some(next),
            at,
            status: Status::Error,
            error: FunctionError {
                error_type: "Function.ResponseSizeTooLarge".into(),
                message: format!(
                    "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."
                ),
                stack: Vec::new(),
            },
        },
        Ok(_) => std::future::pending().await,
    }
}

/// The outcome from how the run ended: the answer, the error, a timeout or the runtime's
/// exit, and the init and invocation durations from the container's `start` to the run's
/// end, `ended_at`.
fn ended(
    mut outcome: Outcome,
    ended: Ended<Served>,
    start: Instant,
    ended_at: Instant,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Outcome> {
    let request_id = outcome.request_id.clone();
    let (next, end) = match ended {
        Ended::Interrupted => return Err(cancel.interrupted().into()),
        Ended::Done(Served::Answered { next, at, response }) => {
            outcome.response = Some(response);
            (Some(next), at)
        }
        Ended::Done(Served::Failed {
            next,
            at,
            status,
            error,
        }) => {
            outcome.status = status;
            outcome.error = Some(error);
            (next, at)
        }
        Ended::Done(Served::TimedOut { next }) => {
            outcome.status = Status::Timeout;
            outcome.error = Some(FunctionError {
                error_type: "Sandbox.Timedout".into(),
                message: format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    timeout.as_secs_f64()
                ),
                stack: Vec::new(),
            });
            (next, next.unwrap_or(start) + timeout)
        }
        Ended::Exited(code) => {
            outcome.status = Status::Exited;
            outcome.exit_code = Some(code);
            outcome.error = Some(FunctionError {
                error_type: "Runtime.ExitError".into(),
                message: format!(
                    "RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
                ),
                stack: Vec::new(),
            });
            (None, ended_at)
        }
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let init_end = next.unwrap_or(end);
    outcome.init_duration_ms = ms(init_end.saturating_duration_since(start));
    outcome.duration_ms = next.map_or(0.0, |n| ms(end.saturating_duration_since(n)));
    outcome.billed_duration_ms = (outcome.init_duration_ms + outcome.duration_ms).ceil() as u64;
    Ok(outcome)
}

/// 16 random bytes from the kernel, or from the clock and a hasher's random keys.
fn random() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok()
    {
        return bytes;
    }
    use std::hash::{BuildHasher, Hasher};
    for half in bytes.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes
}

/// A version 4 UUID, as Lambda's request ids are.
fn uuid() -> String {
    let mut b = random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An X-Ray trace header: `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`.
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let r = random();
    let p = random();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        hex(&r[..12]),
        hex(&p[..8])
    )
}

/// `YYYY/MM/DD/[$LATEST]<32 hex>`, as Lambda names log streams.
fn log_stream() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}/{m:02}/{d:02}/[$LATEST]{}", hex(&random()))
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(uuid(), id);
    }

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_423), (2025, 12, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
