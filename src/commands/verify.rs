//! `lambda-image verify`.

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::commands::ExitStatus;

pub fn run(_args: VerifyArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    eprintln!("lambda-image: error: `lambda-image verify` is not implemented yet");
    Ok(ExitStatus::Error)
}
