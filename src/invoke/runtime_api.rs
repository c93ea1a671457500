//! The Lambda Runtime API (version 2018-06-01) for one invocation, served over HTTP/1.1 on
//! a loopback port: `GET /runtime/invocation/next` hands out the event once (a second call
//! waits, as a frozen sandbox does), `POST /runtime/invocation/{id}/response|error` and
//! `POST /runtime/init/error` are passed on as [`ApiEvent`]s. Status codes and error
//! bodies are Lambda's: 400 `InvalidRequestID`, 403 `InvalidStateTransition`, 404, 405,
//! 413 for a response over [`MAX_RESPONSE`].

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

/// Lambda's limit on a synchronous response: 6 MB (6,291,556 bytes).
pub const MAX_RESPONSE: usize = 6_291_556;
/// Bytes read from a request body before the connection is dropped.
const READ_CAP: usize = 64 * 1024 * 1024;
const PREFIX: &str = "/2018-06-01/runtime/";

/// What a function reports as an error (`errorType`, `errorMessage`, `stackTrace`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FunctionError {
    #[serde(rename = "type")]
    pub error_type: String,
    pub message: String,
    pub stack: Vec<String>,
}

/// What the runtime did, in the order it did it.
#[derive(Debug)]
pub enum ApiEvent {
    /// The runtime asked for the event: initialisation is over, the invocation starts.
    Next(Instant),
    Response(Bytes, Instant),
    /// A response over [`MAX_RESPONSE`] bytes (its size).
    TooLarge(usize, Instant),
    Error(FunctionError, Instant),
    InitError(FunctionError, Instant),
}

/// The one invocation served.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub event: Bytes,
    /// The function's timeout: the deadline is this long after the event is handed out.
    pub timeout: std::time::Duration,
    pub function_arn: String,
    pub trace_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    Invoked,
    Answered,
}

struct Api {
    invocation: Invocation,
    phase: Mutex<Phase>,
    events: UnboundedSender<ApiEvent>,
}

/// Serves the Runtime API on `listener` until the future is dropped.
pub async fn serve(
    listener: std::net::TcpListener,
    invocation: Invocation,
    events: UnboundedSender<ApiEvent>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let api = Arc::new(Api {
        invocation,
        phase: Mutex::new(Phase::Init),
        events,
    });
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let api = api.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(api.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .title_case_headers(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

impl Api {
    fn phase(&self) -> Phase {
        self.phase.lock().map(|p| *p).unwrap_or(Phase::Answered)
    }

    fn set_phase(&self, phase: Phase) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
    }

    fn send(&self, event: ApiEvent) {
        let _ = self.events.send(event);
    }

    async fn handle(&self, request: Request<Incoming>) -> Reply {
        let path = request.uri().path().to_string();
        let Some(route) = path.strip_prefix(PREFIX) else {
            return error(StatusCode::NOT_FOUND, "NotFound", "no such resource");
        };
        let parts: Vec<&str> = route.split('/').collect();
        let method = request.method().clone();
        match parts.as_slice() {
            ["invocation", "next"] => {
                if method != Method::GET {
                    return not_allowed();
                }
                self.next().await
            }
            ["invocation", id, kind @ ("response" | "error")] => {
                if method != Method::POST {
                    return not_allowed();
                }
                if *id != self.invocation.request_id {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestID",
                        "Invalid request ID",
                    );
                }
                if self.phase() != Phase::Invoked {
                    return state_error();
                }
                let header_type = header(&request, "lambda-runtime-function-error-type");
                let Some((body, size)) = read(request).await else {
                    return error(StatusCode::BAD_REQUEST, "InvalidRequest", "unreadable body");
                };
                self.set_phase(Phase::Answered);
                let now = Instant::now();
                if *kind == "response" {
                    if size > MAX_RESPONSE {
                        self.send(ApiEvent::TooLarge(size, now));
                        return error(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "RequestEntityTooLarge",
                            &format!(
                                "Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."
                            ),
                        );
                    }
                    self.send(ApiEvent::Response(body, now));
                } else {
                    self.send(ApiEvent::Error(parse_error(&body, header_type), now));
                }
                accepted()
            }
            ["init", "error"] => {
                if method != Method::POST {
                    return not_allowed();
                }
                if self.phase() != Phase::Init {
                    return state_error();
                }
                let header_type = header(&request, "lambda-runtime-function-error-type");
                let body = read(request).await.map(|(b, _)| b).unwrap_or_default();
                self.set_phase(Phase::Answered);
                self.send(ApiEvent::InitError(
                    parse_error(&body, header_type),
                    Instant::now(),
                ));
                accepted()
            }
            _ => error(StatusCode::NOT_FOUND, "NotFound", "no such resource"),
        }
    }

    async fn next(&self) -> Reply {
        let first = match self.phase.lock() {
            Ok(mut phase) => {
                let first = *phase == Phase::Init;
                if first {
                    *phase = Phase::Invoked;
                }
                first
            }
            Err(_) => false,
        };
        if !first {
            // One invocation per run: the sandbox is frozen here until it is removed.
            return std::future::pending().await;
        }
        self.send(ApiEvent::Next(Instant::now()));
        let inv = &self.invocation;
        let mut reply = Response::new(Full::new(inv.event.clone()));
        let headers = reply.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("lambda-runtime-aws-request-id", inv.request_id.clone()),
            (
                "lambda-runtime-deadline-ms",
                deadline_ms(inv.timeout).to_string(),
            ),
            (
                "lambda-runtime-invoked-function-arn",
                inv.function_arn.clone(),
            ),
            ("lambda-runtime-trace-id", inv.trace_id.clone()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        reply
    }
}

/// Unix milliseconds `timeout` from now.
fn deadline_ms(timeout: std::time::Duration) -> u128 {
    (std::time::SystemTime::now() + timeout)
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

fn header(request: &Request<Incoming>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The body, kept up to one byte over [`MAX_RESPONSE`], and its full size; `None` when
/// it cannot be read or exceeds [`READ_CAP`].
async fn read(request: Request<Incoming>) -> Option<(Bytes, usize)> {
    let mut body = request.into_body();
    let mut kept: Vec<u8> = Vec::new();
    let mut size = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        if let Ok(data) = frame.into_data() {
            size += data.len();
            if size > READ_CAP {
                return None;
            }
            if kept.len() <= MAX_RESPONSE {
                kept.extend_from_slice(&data);
            }
        }
    }
    Some((Bytes::from(kept), size))
}

/// An error body as runtimes send it; anything else is kept as the message.
fn parse_error(body: &[u8], header_type: Option<String>) -> FunctionError {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        error_type: Option<String>,
        error_message: Option<String>,
        stack_trace: Option<serde_json::Value>,
    }
    let raw: Raw = serde_json::from_slice(body).unwrap_or_default();
    let stack = match raw.stack_trace {
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Some(serde_json::Value::String(s)) => s.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let message = raw.error_message.unwrap_or_else(|| {
        if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
            String::new()
        } else {
            String::from_utf8_lossy(body).trim().to_string()
        }
    });
    FunctionError {
        error_type: raw
            .error_type
            .or(header_type)
            .unwrap_or_else(|| "Unhandled".to_string()),
        message,
        stack,
    }
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

fn accepted() -> Reply {
    json_reply(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Reply {
    json_reply(
        status,
        serde_json::json!({"errorMessage": message, "errorType": error_type}),
    )
}

fn not_allowed() -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "method not allowed",
    )
}

fn state_error() -> Reply {
    error(
        StatusCode::FORBIDDEN,
        "InvalidStateTransition",
        "State transition from the current state is not allowed",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_as_runtimes_send_them() {
        let e = parse_error(
            br#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":["a","b"]}"#,
            None,
        );
        assert_eq!(e.error_type, "ValueError");
        assert_eq!(e.message, "boom");
        assert_eq!(e.stack, ["a", "b"]);
        let e = parse_error(b"plain text", Some("Runtime.Custom".into()));
        assert_eq!(e.error_type, "Runtime.Custom");
        assert_eq!(e.message, "plain text");
        assert_eq!(parse_error(b"", None).error_type, "Unhandled");
    }
}
