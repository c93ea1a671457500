//! `lambda-image new`.

use crate::cli::{NewArgs, GlobalArgs};
use crate::commands::ExitStatus;

pub fn run(_args: NewArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    eprintln!("lambda-image: error: `lambda-image new` is not implemented yet");
    Ok(ExitStatus::Error)
}
