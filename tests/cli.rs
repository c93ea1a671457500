//! The command line as a whole: the subcommands that have not landed say so.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lambda-image");

#[test]
fn build_and_push_say_they_are_not_implemented_and_exit_2() {
    for (args, name) in [
        (vec!["build", "--all"], "build"),
        (vec!["push", "orders:latest"], "push"),
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .output()
            .expect("run lambda-image");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!(
                "lambda-image: error: `lambda-image {name}` is not implemented yet in this version;"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn a_usage_error_exits_2() {
    let out = Command::new(BIN)
        .args(["lint", "--failure-threshold", "loud"])
        .output()
        .expect("run lambda-image");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'loud'"));
}
