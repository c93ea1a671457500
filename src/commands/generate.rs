//! `lambda-image generate completions SHELL | man`: from the clap definitions in `cli.rs`,
//! so they never drift from the flags.

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use crate::cli::{Cli, Generate, GenerateArgs};
use crate::commands::ExitStatus;
use crate::progress::Printer;

pub fn run(args: GenerateArgs, printer: &Printer) -> Result<ExitStatus> {
    let mut command = Cli::command();
    let mut out: Vec<u8> = Vec::new();
    match args.what {
        Generate::Completions { shell } => {
            clap_complete::generate(shell, &mut command, "lambda-image", &mut out);
        }
        Generate::Man => {
            clap_mangen::Man::new(command)
                .render(&mut out)
                .context("rendering the man page")?;
        }
    }
    printer
        .stdout(&String::from_utf8_lossy(&out))
        .context("writing to standard output")?;
    Ok(ExitStatus::Success)
}
