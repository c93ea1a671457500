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

/// `-v` adds something on every command that does not need an engine (build, push, invoke
/// and verify IMAGE have their own tests): what it wrote, where to put it, how to silence.
#[test]
fn verbose_says_more_on_every_command() {
    let tree = Tree::new();
    let quiet_new = tree.run(&["new", "images/a", "--runtime", "python3.13"]);
    assert_eq!(quiet_new.code, 0, "{}", quiet_new.both());
    let run = tree.run(&["new", "images/b", "--runtime", "python3.13", "-v"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("lambda-image: images/b/manifest.yaml (644, ")
            && run
                .stderr
                .contains("lambda-image: checked: the spec loads and renders"),
        "{}",
        run.both()
    );
    assert!(!quiet_new.stderr.contains("(644, "), "{}", quiet_new.both());

    let run = tree.run(&["rule", "LI201", "-v"]);
    assert!(
        run.stderr
            .contains("lambda-image: to silence LI201: `# lambda-image: ignore=LI201`")
            && run
                .stderr
                .contains("`# hadolint ignore=DL3032,DL3040` works too"),
        "{}",
        run.both()
    );
    let run = tree.run(&["generate", "completions", "bash", "-v"]);
    assert!(
        run.stderr
            .contains("save them to ~/.local/share/bash-completion/completions/lambda-image"),
        "{}",
        run.both()
    );
    let run = tree.run(&["render", "images/a", "-v", "--write"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let run = tree.run(&["render", "images/a", "-v", "--check"]);
    assert!(
        run.stderr.contains("images/a/Dockerfile: up to date"),
        "{}",
        run.both()
    );
    tree.write(".lambda-image.yaml", "lint:\n  ignore: [LI115]\n");
    let run = tree.run(&["lint", "images/a/Dockerfile", "-v"]);
    assert!(
        run.stderr.contains("lambda-image: using "),
        "{}",
        run.both()
    );
    let run = tree.run(&[
        "verify",
        "--spec",
        "images/a",
        "--archive",
        "missing.tar",
        "-v",
    ]);
    assert!(
        run.stderr
            .contains("lambda-image: manifest images/a/manifest.yaml"),
        "{}",
        run.both()
    );
}

/// Every YAML file (image spec, verify manifest, `.lambda-image.yaml`) is read by one parser
/// with the same budgets, and its errors are in the user's terms, not the parser's.
#[test]
fn yaml_errors_speak_of_the_file_not_the_parser() {
    let tree = Tree::new();
    // The billion laughs.
    let mut laughs = String::from("x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        laughs.push_str(&format!(
            "x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    tree.write(
        "m.yaml",
        "schemaVersion: lambda-image/v1\nmetadata:\n  workdir: /var/task\n  workdir: /tmp\n",
    );
    tree.write(
        "bomb.yaml",
        format!("schemaVersion: lambda-image/v1\n{laughs}"),
    );
    tree.write("image.tar", "not read");
    tree.run(&["verify", "--archive", "image.tar", "-m", "m.yaml"])
        .assert_error("m.yaml:4:3: duplicate key 'workdir'");
    tree.run(&["verify", "--archive", "image.tar", "-m", "bomb.yaml"])
        .assert_error(
            "bomb.yaml:6:10: too many aliases (limit 10000 values copied through aliases)",
        );

    tree.write(".lambda-image.yaml", "build:\n  jobs: 2\n  jobs: 3\n");
    tree.write("Dockerfile", "FROM scratch\n");
    let config = tree.join(".lambda-image.yaml");
    let config = config.display();
    tree.run(&["lint", "Dockerfile"])
        .assert_error(&format!("{config}:3:3: duplicate key 'jobs'"));
    // The configuration file had no budgets before.
    tree.write(
        ".lambda-image.yaml",
        format!("lint:\n  select: [&a LI101, {}LI102]\n", "*a, ".repeat(101)),
    );
    tree.run(&["lint", "Dockerfile"]).assert_error(&format!(
        "{config}:2:422: an anchor is used too often (limit 100 aliases of one anchor)"
    ));
    std::fs::remove_file(tree.join(".lambda-image.yaml")).expect("rm");

    tree.write(
        "images/fn/image.yaml",
        "runtime: python3.13\nhandler: app.handler\nhandler: app.main\n",
    );
    tree.run(&["render", "images/fn"])
        .assert_error("images/fn/image.yaml:3:1: duplicate key 'handler'");
    // (Alias bombs in specs: tests/spec.rs.)
}
