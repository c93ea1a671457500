//! `lambda-image render`.

use crate::cli::{RenderArgs, GlobalArgs};
use crate::commands::ExitStatus;

pub fn run(_args: RenderArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    eprintln!("lambda-image: error: `lambda-image render` is not implemented yet");
    Ok(ExitStatus::Error)
}
