//! The build report: the outcome table (text), the JSON report
//! (`lambda-image/build-report/v1`), the GitHub job summary (Markdown) and `::error`
//! annotations. Data in, text out; the command writes it.
//!
//! JSON, one object per image:
//! ```json
//! {"schema": "lambda-image/build-report/v1", "verify": true,
//!  "images": [{"name": "orders", "arch": "x86_64", "platform": "linux/amd64",
//!    "spec": "images/orders/image.yaml", "dockerfile": null,
//!    "status": "built|unchanged|failed|skipped|interrupted", "failed_at": "lint|context|build|verify|tag",
//!    "error_kind": null,
//!    "error": "…", "hint": "…", "tags": ["orders:latest"],
//!    "config_digest": "sha256:…", "image_id": "sha256:…", "manifest_digest": null, "registry_digest": null,
//!    "bases": [{"reference": "public.ecr.aws/lambda/python:3.13", "id": "sha256:…", "repo_digests": []}],
//!    "inputs_hash": "sha256:…", "build_seconds": 4.2, "verify_seconds": 0.8,
//!    "lint": {"errors": 0, "warnings": 0, "info": 0},
//!    "verify": {"skipped": false, "pass": 14, "fail": 0, "warn": 0, "info": 2, "failed": []},
//!    "warnings": [], "failing_step": null, "log": null}],
//!  "summary": {"built": 1, "unchanged": 0, "failed": 0, "skipped": 0, "interrupted": 0}}
//! ```
//! `config_digest` (= the engine's image id) and the manifest digests are separate fields:
//! the manifest digests only exist once an image is pushed.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::pipeline::{Outcome, Status};
use super::{Job, Origin};

pub const SCHEMA: &str = "lambda-image/build-report/v1";

fn seconds(d: Option<std::time::Duration>) -> Value {
    d.map(|d| json!((d.as_secs_f64() * 1000.0).round() / 1000.0))
        .unwrap_or(Value::Null)
}

/// The JSON report.
pub fn json(jobs: &[Job], outcomes: &[Outcome], verify: bool) -> Value {
    let images: Vec<Value> = jobs
        .iter()
        .zip(outcomes)
        .map(|(job, o)| {
            let (spec, dockerfile) = match &job.origin {
                Origin::Spec(p) => (json!(p.display().to_string()), Value::Null),
                Origin::Dockerfile(p) => (Value::Null, json!(p.display().to_string())),
            };
            json!({
                "name": job.name,
                "arch": job.arch.lambda_name(),
                "platform": job.platform(),
                "spec": spec,
                "dockerfile": dockerfile,
                "status": o.status.as_str(),
                "builder": o.builder.map(|b| b.as_str()),
                "unchanged_in": if o.status == Status::Unchanged { json!(if o.from_registry { "registry" } else { "engine" }) } else { Value::Null },
                "failed_at": match o.status { Status::Failed(s) => json!(s.as_str()), _ => Value::Null },
                "error_kind": o.error_kind,
                "error": o.error,
                "hint": o.hint,
                "tags": if o.status.ok() { job.tags.iter().map(|t| t.to_string()).collect::<Vec<_>>() } else { Vec::new() },
                "requested_tags": job.tags.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                "config_digest": o.image_id,
                "image_id": o.image_id,
                "manifest_digest": Value::Null,
                "registry_digest": o.registry_digest,
                "bases": o.bases.iter().map(|b| json!({
                    "reference": b.reference, "id": b.id, "repo_digests": b.repo_digests,
                })).collect::<Vec<_>>(),
                "inputs_hash": o.inputs_hash,
                "context_bytes": o.context_bytes,
                "build_seconds": seconds(o.build_time),
                "verify_seconds": seconds(o.verify_time),
                "lint": {"errors": o.lint.0, "warnings": o.lint.1, "info": o.lint.2},
                "verify": match &o.verify {
                    Some(v) => json!({
                        "skipped": false, "before": v.before, "pass": v.pass, "fail": v.fail, "warn": v.warn, "info": v.info,
                        "failed": v.failed.iter().map(|c| json!({
                            "name": c.name, "kind": c.kind.as_str(), "path": c.path, "message": c.message,
                        })).collect::<Vec<_>>(),
                    }),
                    None => json!({"skipped": !verify}),
                },
                "smoke": o.smoke.iter().map(|t| json!({
                    "event": t.event, "status": t.status, "passed": t.passed,
                    "message": t.message, "duration_ms": t.duration_ms,
                })).collect::<Vec<_>>(),
                "warnings": o.warnings,
                "failing_step": o.failing_step,
                "output_tail": o.tail,
                "log": o.log.as_ref().map(|p| p.display().to_string()),
                "log_note": o.log_note,
            })
        })
        .collect();
    let count = |f: &dyn Fn(Status) -> bool| outcomes.iter().filter(|o| f(o.status)).count();
    json!({
        "schema": SCHEMA,
        "builder": outcomes.iter().find_map(|o| o.builder).map(|b| b.as_str()),
        "verify": verify,
        "images": images,
        "summary": {
            "built": count(&|s| s == Status::Built),
            "unchanged": count(&|s| s == Status::Unchanged),
            "failed": count(&|s| matches!(s, Status::Failed(_))),
            "skipped": count(&|s| s == Status::Skipped),
            "interrupted": count(&|s| s == Status::Interrupted),
        },
    })
}

/// Lines longer than this are cut in the middle.
const MAX_LINE_CHARS: usize = 400;
/// Texts with more lines than this keep their first and last lines.
const MAX_LINES: usize = 8;

/// A long text (a RUN with thousands of continuation lines, in the failing step and in the
/// engine's message) cut for the summary: its first and last lines with `… N lines …`
/// between, and a line too long for a terminal its start and end with `… N characters …`.
/// The full log keeps all of it.
pub fn cut(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let shown: Vec<String> = if lines.len() > MAX_LINES {
        let (head, tail) = (MAX_LINES / 2, MAX_LINES / 2 - 1);
        let mut out: Vec<String> = lines.iter().take(head).map(|l| cut_line(l)).collect();
        out.push(format!("… {} lines …", lines.len() - head - tail));
        out.extend(lines.iter().skip(lines.len() - tail).map(|l| cut_line(l)));
        out
    } else {
        lines.iter().map(|l| cut_line(l)).collect()
    };
    shown.join("\n")
}

fn cut_line(line: &str) -> String {
    let n = line.chars().count();
    if n <= MAX_LINE_CHARS {
        return line.to_string();
    }
    let (head, tail) = (MAX_LINE_CHARS * 2 / 3, MAX_LINE_CHARS / 4);
    let start: String = line.chars().take(head).collect();
    let end: String = line.chars().skip(n - tail).collect();
    format!("{start} … {} characters … {end}", n - head - tail)
}

/// The result column of a row: `failed at verify`, or `failed at verify (I/O)` when an
/// error of this machine, not a finding, stopped it.
pub fn result(o: &Outcome) -> String {
    match (o.status, o.error_kind) {
        (Status::Failed(stage), Some(kind)) => format!("failed at {} ({kind})", stage.as_str()),
        (Status::Failed(stage), None) => format!("failed at {}", stage.as_str()),
        (Status::Unchanged, _) if o.from_registry => "unchanged (registry)".to_string(),
        (other, _) => other.as_str().to_string(),
    }
}

fn time_of(o: &Outcome) -> String {
    match (o.build_time, o.verify_time) {
        (Some(b), Some(v)) => format!("{:.1}s + verify {:.1}s", b.as_secs_f64(), v.as_secs_f64()),
        (Some(b), None) => format!("{:.1}s", b.as_secs_f64()),
        _ => String::new(),
    }
}

fn short(id: Option<&str>) -> &str {
    id.map(crate::reference::short_id).unwrap_or("-")
}

/// The outcome table, one line per image, then details of each failure and a summary.
pub fn text(jobs: &[Job], outcomes: &[Outcome], verify: bool) -> String {
    let rows: Vec<[String; 5]> = jobs
        .iter()
        .zip(outcomes)
        .map(|(job, o)| {
            let tags = if o.status.ok() {
                job.tags
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                String::new()
            };
            [
                job.title(),
                result(o),
                short(o.image_id.as_deref()).to_string(),
                time_of(o),
                tags,
            ]
        })
        .collect();
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    let mut out = crate::report::table::columns(&["IMAGE", "RESULT", "ID", "TIME", "TAGS"], &rows);
    for (job, o) in jobs.iter().zip(outcomes) {
        if let Status::Failed(_) = o.status {
            let _ = writeln!(
                out,
                "\n{}: {}",
                job.title(),
                cut(o.error.as_deref().unwrap_or("failed"))
            );
            if let Some(step) = &o.failing_step {
                let _ = writeln!(out, "  failing step: {}", cut(step));
                if !o.tail.is_empty() {
                    let n = o.tail.len();
                    let _ = writeln!(
                        out,
                        "  its output (last {n} line{}):",
                        crate::text::plural(n, "", "s")
                    );
                    for l in &o.tail {
                        let _ = writeln!(out, "  | {l}");
                    }
                }
            }
            if let Some(v) = &o.verify {
                for c in &v.failed {
                    let _ = writeln!(out, "  failed check {}: {}", c.name, c.located());
                }
            }
            if let Some(hint) = &o.hint {
                let _ = writeln!(out, "  hint: {hint}");
            }
            match (&o.log, &o.log_note) {
                (Some(log), None) => {
                    let _ = writeln!(out, "  full log: {}", log.display());
                }
                (Some(log), Some(note)) => {
                    let _ = writeln!(out, "  full log: {} ({note})", log.display());
                }
                (None, Some(note)) => {
                    let _ = writeln!(out, "  full log: {note}");
                }
                (None, None) => {}
            }
        }
    }
    let n = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed(_)))
        .count();
    let mut parts = vec![
        format!("{} built", n(Status::Built)),
        format!("{} unchanged", n(Status::Unchanged)),
    ];
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if n(Status::Skipped) > 0 {
        parts.push(format!("{} skipped", n(Status::Skipped)));
    }
    if n(Status::Interrupted) > 0 {
        parts.push(format!("{} interrupted", n(Status::Interrupted)));
    }
    let _ = writeln!(
        out,
        "\n{}{}",
        parts.join(", "),
        if verify {
            ""
        } else {
            "; not verified (--no-verify)"
        }
    );
    out
}

/// The GitHub job summary: a Markdown table.
pub fn markdown(jobs: &[Job], outcomes: &[Outcome], verify: bool) -> String {
    let mut out = String::from("### lambda-image build\n\n| Image | Result | Image id | Time | Tags |\n|---|---|---|---|---|\n");
    for (job, o) in jobs.iter().zip(outcomes) {
        let tags = if o.status.ok() {
            job.tags
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            String::new()
        };
        let mut result = result(o);
        if let Some(e) = &o.error {
            result = format!("{result}: {}", cut(e).replace('|', "\\|"));
        }
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} |",
            job.title(),
            result,
            short(o.image_id.as_deref()),
            time_of(o),
            tags
        );
    }
    if !verify {
        out.push_str("\nImages were **not verified** (`--no-verify`).\n");
    }
    out.push('\n');
    out
}

/// `::error` annotations for failed images and failed checks, `::warning` for what a build
/// went on without (lint findings are rendered by the lint reporter).
pub fn github(jobs: &[Job], outcomes: &[Outcome]) -> String {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut out = String::new();
    for (job, o) in jobs.iter().zip(outcomes) {
        for w in &o.warnings {
            let _ = writeln!(
                out,
                "::warning title=lambda-image build ({})::{}",
                job.title(),
                esc(&cut(w))
            );
        }
        if let Status::Failed(stage) = o.status {
            let file = match &job.origin {
                Origin::Spec(p) | Origin::Dockerfile(p) => p.display().to_string(),
            };
            let mut message = cut(o.error.as_deref().unwrap_or_default());
            if let Some(h) = &o.hint {
                message = format!("{message} — {h}");
            }
            let _ = writeln!(
                out,
                "::error title=lambda-image build ({}) failed at {},file={}::{}",
                job.title(),
                stage.as_str(),
                esc(&file).replace(',', "%2C").replace(':', "%3A"),
                esc(&message)
            );
            if let Some(v) = &o.verify {
                for c in &v.failed {
                    let _ = writeln!(
                        out,
                        "::error title=lambda-image verify ({}) {}::{}",
                        job.title(),
                        c.name,
                        esc(&c.located())
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn long_commands_keep_their_ends() {
        assert_eq!(cut("RUN make"), "RUN make");
        let long = format!("RUN true{} && false", " && true".repeat(1000));
        let cut_long = cut(&long);
        assert!(cut_long.chars().count() < 400, "{cut_long}");
        assert!(cut_long.starts_with("RUN true && true"), "{cut_long}");
        assert!(cut_long.contains(" … 7651 characters … "), "{cut_long}");
        assert!(cut_long.ends_with("&& true && false"), "{cut_long}");
        let lines: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(
            cut(&lines),
            "line 1\nline 2\nline 3\nline 4\n… 93 lines …\nline 98\nline 99\nline 100"
        );
    }
}
