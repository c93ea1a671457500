//! The command line as a whole: the subcommand that has not landed says so.

mod common;

use common::Tree;

#[test]
fn push_says_it_is_not_implemented_and_exits_2() {
    let tree = Tree::new();
    tree.run(&["push", "orders:latest"])
        .assert_error_starts("`lambda-image push` is not implemented yet in this version;");
}

#[test]
fn a_usage_error_exits_2() {
    let run = Tree::new().run(&["lint", "--failure-threshold", "loud"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'loud'"));
}
