//! `lambda-image rule`.

use crate::cli::{RuleArgs, GlobalArgs};
use crate::commands::ExitStatus;

pub fn run(_args: RuleArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    eprintln!("lambda-image: error: `lambda-image rule` is not implemented yet");
    Ok(ExitStatus::Error)
}
