use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = lambda_image::cli::Cli::parse();
    match lambda_image::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            // A closed pipe (`lambda-image lint … | head`) is not an error.
            if err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            if let Some(signal) = lambda_image::cancel::interrupted_by(&err) {
                // After SIGHUP the terminal may be gone: a failed write is not a panic.
                let _ = writeln!(
                    std::io::stderr(),
                    "lambda-image: {}",
                    lambda_image::cancel::Interrupted(signal)
                );
                return lambda_image::ExitStatus::Interrupted(signal).into();
            }
            let _ = writeln!(std::io::stderr(), "lambda-image: error: {err:#}");
            lambda_image::ExitStatus::Error.into()
        }
    }
}
