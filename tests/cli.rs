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

#[test]
fn completions_and_the_man_page_come_from_the_flags() {
    let tree = Tree::new();
    let run = tree.run(&["generate", "completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("--keep-going"),
        "build's flags are in the completions"
    );
    let run = tree.run(&["generate", "man"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH lambda-image"),
        "{}",
        run.stdout
    );
    let run = tree.run(&["new", "--help"]);
    assert!(run.stdout.contains("provided.al2023"), "{}", run.stdout);
}

#[test]
fn a_tls_engine_without_tls_support_says_how_to_get_it() {
    if cfg!(feature = "ssl") {
        return;
    }
    let tree = Tree::new();
    tree.write("Dockerfile", "FROM x\n");
    let run = tree.run_env(
        &["verify", "lambda-image-test/x:1"],
        &[("DOCKER_HOST", "https://127.0.0.1:2376")],
    );
    run.assert_error("the Docker Engine at https://127.0.0.1:2376 (DOCKER_HOST) needs TLS, and this lambda-image was built without TLS support; build it with `cargo install --path . --features ssl`");
}
