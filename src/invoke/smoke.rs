//! Smoke tests: the built image invoked as Lambda runs it with the events a spec names
//! (`smoke:`), each answer compared with what it expects (an answer or an error, and text it
//! contains). `build` runs them before an image gets its tags and `push` before it leaves
//! the machine, both through [`crate::verify::gate`]; the invocations are [`super::run`].

use std::time::Duration;

use crate::cancel::Cancel;
use crate::docker::Engine;
use crate::progress::Printer;

/// The invocation's last log lines kept for a failure.
const TAIL: usize = 30;

/// A smoke test: an event to invoke the image with, and what must come back.
#[derive(Debug, Clone)]
pub struct Smoke {
    /// The event file, as the spec names it (relative to its folder).
    pub event_path: String,
    pub event: bytes::Bytes,
    pub expect_error: bool,
    pub contains: Option<String>,
}

/// Why a smoke test failed, and the last lines of its invocation's output.
#[derive(Debug, Clone)]
pub struct SmokeFailure {
    pub message: String,
    pub tail: Vec<String>,
}

/// One smoke test's result.
#[derive(Debug, Clone)]
pub struct SmokeResult {
    pub event: String,
    pub status: super::Status,
    pub passed: bool,
    /// Why it failed.
    pub message: Option<String>,
    pub duration_ms: f64,
}

/// Invokes `image_id` (the function `name`, output lines prefixed with `title` under
/// `-v`) with each of `tests`, stopping at the first failure. Returns the results and, for
/// a failure, a line saying why and the invocation's last log lines. `Err`: the engine
/// failed, or Ctrl-C.
pub fn run(
    name: &str,
    title: &str,
    tests: &[Smoke],
    image_id: &str,
    engine: &Engine,
    printer: &Printer,
    cancel: &Cancel,
) -> anyhow::Result<(Vec<SmokeResult>, Option<SmokeFailure>)> {
    let cmd = engine
        .image_config(image_id)?
        .map(|c| c.cmd)
        .unwrap_or_default();
    let mut results = Vec::new();
    for test in tests {
        let options = super::Options {
            image: image_id.to_string(),
            function_name: name.to_string(),
            event: test.event.clone(),
            env: Vec::new(),
            timeout: Duration::from_secs(30),
            memory_mb: 512,
            region: "us-east-1".to_string(),
            cmd: cmd.clone(),
        };
        let result = super::run(
            engine,
            &options,
            &mut |l| printer.detail(format!("{title} | {l}")),
            &mut |l| printer.detail(format!("{title} | smoke {}: {l}", test.event_path)),
            cancel,
        )
        .map_err(|e| e.context(format!("smoke test {}", test.event_path)))?;
        let wanted = if test.expect_error {
            super::Status::Error
        } else {
            super::Status::Ok
        };
        let payload = result
            .response
            .as_ref()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .or_else(|| result.error_payload())
            .unwrap_or_default();
        let message = if result.status != wanted {
            Some(match result.failure() {
                Some(failure) => format!("expected status {}, but {failure}", status_name(wanted)),
                None => format!(
                    "expected status {}, but the function answered",
                    status_name(wanted)
                ),
            })
        } else {
            test.contains
                .as_ref()
                .filter(|c| !payload.contains(c.as_str()))
                .map(|c| {
                    format!(
                        "the {} does not contain {c:?}",
                        if test.expect_error {
                            "error"
                        } else {
                            "response"
                        }
                    )
                })
        };
        results.push(SmokeResult {
            event: test.event_path.clone(),
            status: result.status,
            passed: message.is_none(),
            message: message.clone(),
            duration_ms: result.duration_ms,
        });
        if let Some(message) = message {
            let tail = result.logs.iter().rev().take(TAIL).rev().cloned().collect();
            return Ok((
                results,
                Some(SmokeFailure {
                    message: format!("smoke test {}: {message}", test.event_path),
                    tail,
                }),
            ));
        }
    }
    Ok((results, None))
}

fn status_name(status: super::Status) -> &'static str {
    match status {
        super::Status::Ok => "ok",
        _ => "error",
    }
}
