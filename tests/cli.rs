//! The command line as a whole.

mod common;

use common::Tree;

#[test]
fn invoke_is_a_command() {
    let run = Tree::new().run(&["invoke", "orders:latest", "--timeout", "0"]);
    run.assert_error("--timeout 0: Lambda's timeout is 1 to 900 seconds");
}

#[test]
fn a_usage_error_exits_2() {
    let run = Tree::new().run(&["lint", "--failure-threshold", "loud"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'loud'"));
}
