//! `lambda-image invoke`: reads the flags, finds the image, runs one invocation through
//! [`invoke::run`] and prints it: the response on stdout, the container's lines and the
//! `REPORT` line on stderr (or one JSON object on stdout).

use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cancel::Cancel;
use crate::cli::{InvokeArgs, InvokeFormat};
use crate::commands::ExitStatus;
use crate::invoke::{self, input, Outcome, Status};
use crate::progress::Printer;

/// Log lines repeated under a failure when they were not shown as they came.
const TAIL: usize = 10;

pub fn run(args: InvokeArgs, printer: &Printer) -> Result<ExitStatus> {
    input::check_limits(args.timeout, args.memory)?;
    let env = input::environment(&args.env, args.env_file.as_deref())?;
    let event = input::read_event(args.event.as_deref())?;
    let (image, function_name) = if crate::image_spec::is_spec(&args.target) {
        let (image, name, _) = input::spec_image(&args.target, args.arch)?;
        (image, name)
    } else {
        crate::docker::check_reference(&args.target)?;
        (args.target.clone(), input::function_name(&args.target))
    };
    let engine = crate::docker::connect()?;
    let config = engine
        .image_config(&image)?
        .ok_or_else(|| crate::docker::not_in_engine(&image))?;
    if let Some(arch) = args.arch {
        if config.architecture != arch.oci_name() {
            bail!(
                "image `{image}` is linux/{}, not {} (--arch)",
                config.architecture,
                arch.lambda_name()
            );
        }
    }
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_string());
    let options = invoke::Options {
        image,
        function_name,
        event,
        env,
        timeout: Duration::from_secs(args.timeout),
        memory_mb: args.memory,
        region,
        cmd: config.cmd,
    };
    let cancel = Cancel::new();
    cancel.on_signals(engine.handle());
    let live = args.format == InvokeFormat::Text && !printer.quiet();
    let outcome = invoke::run(
        &engine,
        &options,
        &mut |line| {
            if live {
                printer.line(line);
            }
        },
        &mut |line| printer.detail(format!("lambda-image: {line}")),
        &cancel,
    )?;
    match args.format {
        InvokeFormat::Json => {
            let text = serde_json::to_string_pretty(&outcome).context("writing the report")?;
            printer
                .stdout(&format!("{text}\n"))
                .context("writing the report")?;
        }
        InvokeFormat::Text => text(&outcome, printer, live)?,
    }
    Ok(if outcome.status == Status::Ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn text(outcome: &Outcome, printer: &Printer, shown: bool) -> Result<()> {
    if let Some(failure) = outcome.failure() {
        let mut message = format!("lambda-image: {failure}");
        if !shown && !outcome.logs.is_empty() {
            let from = outcome.logs.len().saturating_sub(TAIL);
            message.push_str(&format!(
                "\n  its output (last {} lines):",
                outcome.logs.len() - from
            ));
            for line in &outcome.logs[from..] {
                message.push_str(&format!("\n  | {line}"));
            }
        }
        printer.line(&message);
    }
    printer.line(&outcome.report_line());
    let payload = match (&outcome.response, outcome.error_payload()) {
        (Some(response), _) => String::from_utf8_lossy(response).into_owned(),
        (None, Some(error)) => error,
        (None, None) => String::new(),
    };
    if !payload.is_empty() {
        let newline = if payload.ends_with('\n') { "" } else { "\n" };
        printer
            .stdout(&format!("{payload}{newline}"))
            .context("writing the response")?;
    }
    Ok(())
}
