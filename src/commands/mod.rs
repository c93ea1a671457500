//! One file per subcommand. Each returns `anyhow::Result<ExitStatus>`; errors become exit 2 in `main`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod lint;
pub mod new;
pub mod render;
pub mod rule;
pub mod verify;

/// The single exit-code policy of the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing at or above the threshold, every check passed.
    Success,
    /// 1: findings, failed checks, or an out-of-date rendered file.
    Failure,
    /// 2: usage, input, I/O or daemon error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let global = cli.global;
    match cli.command {
        Command::Lint(args) => lint::run(args, &global),
        Command::Rule(args) => rule::run(args, &global),
        Command::Render(args) => render::run(args, &global),
        Command::New(args) => new::run(args, &global),
        Command::Verify(args) => verify::run(args, &global),
        Command::Build(_) => not_built_yet("build"),
        Command::Push(_) => not_built_yet("push"),
    }
}

/// A subcommand whose implementation has not landed says so and exits 2.
fn not_built_yet(name: &str) -> anyhow::Result<ExitStatus> {
    anyhow::bail!(
        "`lambda-image {name}` is not implemented yet in this version; render with \
         `lambda-image render`, build with `docker build --platform linux/<arch>`, then check the \
         image with `lambda-image verify IMAGE` before pushing it"
    )
}
