//! lambda-image: lint, render, build, verify and push AWS Lambda container images on Amazon Linux 2023.
//!
//! `main.rs` is thin: it parses the command line and hands it to [`run`], which returns an
//! [`ExitStatus`] (0 ok, 1 findings or failed checks, 2 usage, input or daemon error).

pub mod arch;
pub mod building;
pub mod cache;
pub mod cancel;
pub mod cli;
pub mod commands;
pub mod config;
pub mod docker;
pub mod dockerfile;
pub mod fs;
pub mod image;
pub mod image_spec;
pub mod invoke;
pub mod lint;
pub mod patterns;
pub mod progress;
pub mod push;
pub mod reference;
pub mod registry;
pub mod render;
pub mod report;
pub mod runtimes;
pub mod text;
pub mod verify;
pub mod yaml;

pub use commands::ExitStatus;

/// Runs one parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitStatus> {
    commands::run(cli)
}
