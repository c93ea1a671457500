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
    let install = match args.what {
        Generate::Completions { shell } => {
            clap_complete::generate(shell, &mut command, "lambda-image", &mut out);
            match shell {
                clap_complete::Shell::Bash => {
                    "~/.local/share/bash-completion/completions/lambda-image".to_string()
                }
                clap_complete::Shell::Zsh => "a folder on $fpath, as _lambda-image".to_string(),
                clap_complete::Shell::Fish => {
                    "~/.config/fish/completions/lambda-image.fish".to_string()
                }
                clap_complete::Shell::PowerShell => {
                    "your PowerShell profile ($PROFILE), or a file it dot-sources".to_string()
                }
                other => format!("where {other} reads completion scripts"),
            }
        }
        Generate::Man => {
            clap_mangen::Man::new(command)
                .render(&mut out)
                .context("rendering the man page")?;
            "~/.local/share/man/man1/lambda-image.1 (then `man lambda-image`)".to_string()
        }
    };
    printer.detail(format!(
        "lambda-image: {} bytes on standard output; save them to {install}",
        out.len()
    ));
    printer
        .stdout(&String::from_utf8_lossy(&out))
        .context("writing to standard output")?;
    Ok(ExitStatus::Success)
}
