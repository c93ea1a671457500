//! The BuildKit registry cache as a CI runner uses it: `--cache-to inline`, a push to a
//! loopback registry, then an engine with neither the image nor its build cache builds
//! with `--cache-from` and runs no step. Its own test binary on purpose: it prunes the
//! engine's build cache, and Docker 20.10's builtin BuildKit can crash (a nil dereference
//! in its cache manager) when a prune races a build that is resolving a base image, so
//! nothing else may build while it runs (cargo runs test binaries one at a time).

mod common;

use std::process::Command;

use common::*;

/// `--cache-to inline` then, on an engine with neither the image nor its build cache,
/// `--cache-from` the pushed image: every step comes from the registry's cache, none runs.
#[test]
fn a_fresh_engine_takes_every_step_from_the_registry_cache() {
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let id = unique();
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base}\nRUN echo ran-{id} && echo {id} > /var/task/marker\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"
        ),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    let remote = images.track(&format!("{}/cache-{id}:1", registry.host()));
    let build = |tag: &str, extra: &[&str]| {
        tree.run(
            &[
                &[
                    "build",
                    "--file",
                    "app/Dockerfile",
                    "-t",
                    tag,
                    "--no-lint",
                    "--no-progress",
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let run = build(&remote, &["--cache-to", "inline"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains(&format!("| ran-{id}")),
        "{}",
        run.both()
    );
    docker(&["push", &remote]);
    // A fresh runner: the image is gone and so is the engine's build cache (the cache
    // mounts other tests use are kept).
    docker(&["rmi", &remote]);
    let pruned = Command::new("docker")
        .args(["builder", "prune", "-af", "--filter", "type=regular"])
        .output()
        .expect("docker");
    if !pruned.status.success() {
        eprintln!(
            "SKIPPED: this engine does not allow pruning its build cache: {}",
            String::from_utf8_lossy(&pruned.stderr)
        );
        return;
    }
    let tag = images.track(&format!("lambda-image-test/from-cache-{id}:1"));
    let run = build(&tag, &["--cache-from", &remote]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains(&format!("| CACHED [2/3] RUN echo ran-{id}")),
        "{}",
        run.both()
    );
    assert!(
        !run.stderr.contains(&format!("| ran-{id}")),
        "{}",
        run.both()
    );
    assert_eq!(file_in_image(&tag, "var/task/marker").trim(), id);
}
