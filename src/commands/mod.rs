//! One file per subcommand. Each returns `anyhow::Result<ExitStatus>`; errors become exit 2 in `main`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::progress::Printer;

pub mod build;
pub mod generate;
pub mod invoke;
pub mod lint;
pub mod new;
pub mod plan;
pub mod push;
pub mod render;
pub mod rule;
pub mod verify;

/// The single exit-code policy of the tool. Ordered by severity, so the status of many
/// results is their `max()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// 0: nothing at or above the threshold, every check passed.
    Success,
    /// 1: findings, failed checks, or an out-of-date rendered file.
    Failure,
    /// 2: usage, input, I/O or daemon error.
    Error,
    /// 130, 143, 129: stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP, after cleaning up.
    Interrupted(crate::cancel::Signal),
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Interrupted(signal) => ExitCode::from(signal.exit_code()),
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let printer = Printer::new(&cli.global);
    crate::docker::set_engine_timeout(cli.global.engine_timeout);
    match cli.command {
        Command::Lint(args) => lint::run(args, &printer),
        Command::Rule(args) => rule::run(args, &printer),
        Command::Render(args) => render::run(args, &printer),
        Command::New(args) => new::run(args, &printer),
        Command::Verify(args) => verify::run(args, &printer),
        Command::Build(args) => build::run(*args, &printer),
        Command::Plan(args) => plan::run(*args, &printer),
        Command::Push(args) => push::run(args, &printer),
        Command::Generate(args) => generate::run(args, &printer),
        Command::Invoke(args) => invoke::run(args, &printer),
    }
}
