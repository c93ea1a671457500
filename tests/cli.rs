//! The command line as a whole.

mod common;

use common::Tree;

#[test]
fn invoke_is_not_a_command_yet() {
    let run = Tree::new().run(&["invoke", "orders:latest"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unrecognized subcommand 'invoke'"),
        "{}",
        run.both()
    );
}

#[test]
fn a_usage_error_exits_2() {
    let run = Tree::new().run(&["lint", "--failure-threshold", "loud"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'loud'"));
}
