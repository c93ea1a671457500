//! `invoke`: one invocation of an image the way Lambda runs it. This module owns the
//! invocation's lifecycle ([`run`]: a Runtime API server on a loopback port, the container
//! started from the image unchanged with Lambda's environment, a non-root user, a
//! read-only root filesystem with a writable `/tmp` and a memory limit, then the timeout,
//! the outcome and the container's removal) and the [`Outcome`] it returns: the response
//! or the error, durations, memory and log lines, with the `REPORT` line Lambda prints.
//! The Runtime API itself is in [`runtime_api`]; the container calls are in `docker`;
//! printing is the command's.

pub mod input;
mod lifecycle;
pub mod runtime_api;
pub mod smoke;

pub use lifecycle::run;

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use runtime_api::FunctionError;

/// The user the function runs as (uid, gid): Lambda's `sbx_user1051` is uid 993, gid 990.
pub const USER_ID: (u32, u32) = (993, 990);
/// The size of the writable `/tmp` (Lambda's default ephemeral storage).
pub const TMP_SIZE_MB: u64 = 512;
/// Lambda's limits on `--memory` (MB) and `--timeout` (seconds).
pub const MEMORY_RANGE: std::ops::RangeInclusive<u64> = 128..=10240;
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=900;
/// Lambda's limit on a synchronous invocation's event.
pub const MAX_EVENT: usize = 6_291_456;

/// One invocation, as asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The image, as the engine names it.
    pub image: String,
    pub function_name: String,
    pub event: Bytes,
    /// Extra environment (`--env`, `--env-file`), over Lambda's and the image's.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u64,
    pub region: String,
    /// The image's CMD (the handler), for `_HANDLER`.
    pub cmd: Vec<String>,
}

/// How the invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The function answered.
    Ok,
    /// It returned an error (or a response over Lambda's limit).
    Error,
    Timeout,
    /// It reported an initialisation error (`runtime/init/error`).
    InitError,
    /// The container exited without answering.
    Exited,
}

/// What happened.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub request_id: String,
    pub status: Status,
    /// The function's response, as it sent it.
    #[serde(serialize_with = "as_json_or_text")]
    pub response: Option<Bytes>,
    pub error: Option<FunctionError>,
    /// The container's exit code, when it exited by itself.
    pub exit_code: Option<i64>,
    pub duration_ms: f64,
    pub billed_duration_ms: u64,
    pub init_duration_ms: f64,
    pub memory_size_mb: u64,
    pub max_memory_used_mb: Option<u64>,
    pub timeout_seconds: f64,
    /// The container's output, line by line.
    pub logs: Vec<String>,
}

fn as_json_or_text<S: serde::Serializer>(
    value: &Option<Bytes>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        None => serializer.serialize_none(),
        Some(bytes) => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(json) => json.serialize(serializer),
            Err(_) => serializer.serialize_str(&String::from_utf8_lossy(bytes)),
        },
    }
}

impl Outcome {
    /// `REPORT RequestId: …` as Lambda logs it (tab-separated), with `Status:` and
    /// `Error Type:` when the invocation did not succeed.
    pub fn report_line(&self) -> String {
        let mut line = format!(
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\tInit Duration: {:.2} ms",
            self.request_id,
            self.duration_ms,
            self.billed_duration_ms,
            self.memory_size_mb,
            self.max_memory_used_mb
                .map_or_else(|| "-".to_string(), |m| m.to_string()),
            self.init_duration_ms,
        );
        match self.status {
            Status::Ok => {}
            Status::Timeout => line.push_str("\tStatus: timeout"),
            _ => {
                line.push_str("\tStatus: error");
                if let Some(e) = &self.error {
                    line.push_str(&format!("\tError Type: {}", e.error_type));
                }
            }
        }
        line
    }

    /// What Lambda's Invoke returns as the payload of a failed invocation.
    pub fn error_payload(&self) -> Option<String> {
        let e = self.error.as_ref()?;
        let mut payload = serde_json::json!({
            "errorMessage": e.message,
            "errorType": e.error_type,
        });
        if !e.stack.is_empty() {
            payload["stackTrace"] = serde_json::json!(e.stack);
        }
        Some(payload.to_string())
    }

    /// One line saying how a failed invocation failed.
    pub fn failure(&self) -> Option<String> {
        let what = |e: &FunctionError| {
            if e.message.is_empty() {
                e.error_type.clone()
            } else {
                format!("{}: {}", e.error_type, e.message)
            }
        };
        let e = self.error.as_ref();
        Some(match self.status {
            Status::Ok => return None,
            Status::Error => format!(
                "the function returned an error: {}",
                e.map(what).unwrap_or_default()
            ),
            Status::Timeout => format!(
                "the function timed out after {:.2} seconds (--timeout)",
                self.timeout_seconds
            ),
            Status::InitError => format!(
                "the function failed to initialise: {}",
                e.map(what).unwrap_or_default()
            ),
            Status::Exited => format!(
                "the container exited with code {} without answering",
                self.exit_code.unwrap_or(-1)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_line_is_lambdas() {
        let outcome = Outcome {
            request_id: "id".into(),
            status: Status::Timeout,
            response: None,
            error: None,
            exit_code: None,
            duration_ms: 3000.004,
            billed_duration_ms: 3120,
            init_duration_ms: 120.25,
            memory_size_mb: 128,
            max_memory_used_mb: Some(18),
            timeout_seconds: 3.0,
            logs: Vec::new(),
        };
        assert_eq!(
            outcome.report_line(),
            "REPORT RequestId: id\tDuration: 3000.00 ms\tBilled Duration: 3120 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 120.25 ms\tStatus: timeout"
        );
    }
}
