//! `lambda-image lint`.

use crate::cli::{LintArgs, GlobalArgs};
use crate::commands::ExitStatus;

pub fn run(_args: LintArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    eprintln!("lambda-image: error: `lambda-image lint` is not implemented yet");
    Ok(ExitStatus::Error)
}
