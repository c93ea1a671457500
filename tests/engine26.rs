//! The tests that can differ by engine (build, verify of `IMAGE`, smoke tests and invoke,
//! push and its read-back, Ctrl-C, arm64 under QEMU) on a second engine: Docker 26.1.5
//! with the containerd image store, as fresh Docker 28/29 installs on users' CI runners
//! keep images (tests/common/engine26.rs starts it for this test binary and stops it when
//! the binary ends). The other test files run the same areas on the system's engine
//! (Docker 20.10, classic image store).
//!
//! What differs there, and what these tests hold lambda-image to:
//! - Its BuildKit cannot read a build context sent as a tar (moby/moby#47717, fixed in
//!   27.5): `build` takes the classic builder and says why.
//! - It pushes each layer as it keeps it: a base brought in by `docker load` is kept
//!   uncompressed, and would reach the registry (and Lambda, which refuses it) so: verify's
//!   `layer-media-type` check and push's read-back say so.
//! - Its push says nothing of a layer until it is done (no "Preparing", no bytes): push's
//!   lines count the image's layers all the same.
//!
//! Bases come from the system's engine (imported from a rootfs there, tests/common) through
//! a `docker-registry` on loopback (gzip layers, as a base pulled from ECR) or through
//! `docker save | docker load`, one runtime each, so that the tests, which run at once,
//! share no base layer (see `Engine26::pull_from_system`) and no base image. What the tests leave in that engine goes with its state
//! folder; what they make in the system's engine is removed. Needs root (a daemon, a bridge) and `make test-deps`;
//! without them these tests skip loudly, and fail in CI.

mod common;

use std::time::Duration;

use common::engine26::{engine26, Engine26};
use common::stalling::StallingRegistry;
use common::*;

/// A layer media type of gzip, Docker's or OCI's.
fn gzip(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.oci.image.layer.v1.tar+gzip"
    )
}

/// The layer media types of `repo:tag` as the registry holds it.
fn registry_layers(registry: &Registry, repo: &str, tag: &str) -> Vec<String> {
    let (status, _, body) = registry
        .get(
            &format!("/v2/{repo}/manifests/{tag}"),
            &[
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
            ],
        )
        .expect("the registry answers");
    assert_eq!(status, 200, "{body}");
    let manifest: serde_json::Value = serde_json::from_str(&body).expect("a manifest");
    manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Runs lambda-image in `tree` against the second engine.
fn run26(e: &Engine26, tree: &Tree, args: &[&str]) -> Run {
    tree.run_env(args, &[("DOCKER_HOST", &e.host)])
}

/// The `layer i/n …` lines of a push, as (i, n).
fn layer_lines(run: &Run) -> Vec<(usize, usize)> {
    run.stderr
        .lines()
        .chain(run.stdout.lines())
        .filter_map(|l| l.split(" | layer ").nth(1))
        .filter_map(|rest| {
            let (i, rest) = rest.split_once('/')?;
            let n = rest.split(' ').next()?;
            Some((i.parse().ok()?, n.parse().ok()?))
        })
        .collect()
}

/// A spec a user deploys (a `dnf install`, a custom runtime, a smoke test) on a base pulled
/// from a registry: built (by the classic builder, saying why; unchanged the second time),
/// verified, smoke-tested, verified again as `IMAGE`, invoked, and pushed with one line per
/// layer counted against all of the image's layers; the registry then holds gzip layers only.
#[test]
fn a_function_builds_verifies_runs_and_pushes_on_the_containerd_image_store() {
    let Some(e) = engine26() else { return };
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = e.pull_from_system(&images.base("provided.al2023"), &registry);
    let tree = Tree::new();
    let tag = format!("lambda-image-test/e26-fn-{}:1", unique());
    echo_spec(&tree, "fn", &base, &tag, "x86_64", "");

    let run = run26(e, &tree, &["build", "images/fn", "--report", "report.json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report: serde_json::Value =
        serde_json::from_str(&tree.read("report.json")).expect("report");
    assert_eq!(report["images"][0]["smoke"][0]["passed"], true, "{report}");
    assert!(
        run.both().contains(&format!(
            "with the classic builder (Docker Engine {} with the containerd image store cannot read a build context sent to its BuildKit (moby/moby#47717, fixed in Engine 27.5))",
            e.version
        )),
        "{}",
        run.both()
    );
    assert!(run.stdout.contains(&tag), "{}", run.both());
    // Built again with nothing changed: unchanged (the inputs hash as the engine keeps it).
    let run = run26(e, &tree, &["build", "images/fn", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.json()["images"][0]["status"],
        "unchanged",
        "{}",
        run.both()
    );
    // BuildKit asked for by name: one line saying why not, before anything is built.
    let run = run26(e, &tree, &["build", "images/fn", "--builder", "buildkit"]);
    run.assert_error_starts(&format!(
        "--builder buildkit: Docker Engine {} with the containerd image store cannot read a build context",
        e.version
    ));

    let run = run26(e, &tree, &["verify", &tag, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report = run.json();
    assert_eq!(report["summary"]["fail"], 0, "{report}");
    let media = common::fixtures::checks_named(&report, "layer-media-type");
    assert_eq!(media.len(), 1, "{report}");
    assert_eq!(media[0]["status"], "pass", "{report}");
    assert!(
        e.layer_media_types(&tag).iter().all(|m| gzip(m)),
        "{:?}",
        e.layer_media_types(&tag)
    );

    tree.write("event.json", r#"{"hello": "world"}"#);
    let run = run26(e, &tree, &["invoke", &tag, "--event", "event.json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.stdout.trim(),
        r#"{"arch": "x86_64", "event": {"hello": "world"}}"#,
        "{}",
        run.both()
    );
    assert_eq!(
        e.docker_text(&["ps", "-a", "-q", "--filter", &format!("ancestor={tag}")]),
        "",
        "no container left"
    );

    let run = run26(e, &tree, &["push", &tag, "--to", &registry.host()]);
    assert_eq!(run.code, 0, "{}", run.both());
    let layers = e
        .docker_text(&[
            "image",
            "inspect",
            &tag,
            "--format",
            "{{len .RootFS.Layers}}",
        ])
        .trim()
        .parse::<usize>()
        .expect("a count");
    let lines = layer_lines(&run);
    assert_eq!(
        lines,
        (1..=layers).map(|i| (i, layers)).collect::<Vec<_>>(),
        "{}",
        run.both()
    );
    let (repo, version) = tag.split_once(':').expect("a tag");
    let pushed = registry_layers(&registry, repo, version);
    assert_eq!(pushed.len(), layers);
    assert!(pushed.iter().all(|m| gzip(m)), "{pushed:?}");
}

/// A base brought in with `docker load` is kept uncompressed by the containerd image store,
/// which pushes it so; Lambda refuses such an image (`UnsupportedImageLayerDetected`).
/// build's verify fails it and leaves it untagged; `verify IMAGE` says the same; push
/// refuses it; pushed anyway (`--no-verify`), the read-back finds the uncompressed layer
/// in the registry and fails the push.
#[test]
fn a_base_loaded_with_docker_load_is_stopped_before_lambda_refuses_it() {
    let Some(e) = engine26() else { return };
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = images.base("python3.13");
    e.load_from_system(&base);
    assert_eq!(
        e.layer_media_types(&base),
        ["application/vnd.docker.image.rootfs.diff.tar"],
        "the engine keeps the loaded layer uncompressed"
    );
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base}\nRUN echo built > /etc/built\nCOPY app.py ${{LAMBDA_TASK_ROOT}}/\nCMD [\"app.handler\"]\n"),
    );
    tree.write(
        "app/app.py",
        "def handler(event, context):\n    return 'ok'\n",
    );
    let refused = "failed check layer-media-type: layer 1/3 application/vnd.docker.image.rootfs.diff.tar (uncompressed): Lambda refuses the image with \"InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest sha256:";
    let tag = format!("lambda-image-test/e26-loaded-{}:1", unique());
    let run = run26(e, &tree, &["build", "--file", "app/Dockerfile", "-t", &tag]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stdout.contains(refused), "{}", run.both());
    assert!(
        e.docker_text(&["image", "ls", "-q", &tag]).is_empty(),
        "left untagged"
    );

    let run = run26(
        e,
        &tree,
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            &tag,
            "--no-verify",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let run = run26(e, &tree, &["verify", &tag]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains("layer-media-type")
            && run.stdout.contains("layer 1/3 application/vnd.docker.image.rootfs.diff.tar (uncompressed): Lambda refuses the image"),
        "{}",
        run.both()
    );

    let (repo, version) = tag.split_once(':').expect("a tag");
    let run = run26(e, &tree, &["push", &tag, "--to", &registry.host()]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.both().contains("not pushed"), "{}", run.both());
    assert!(!registry.catalog().contains(repo), "{}", registry.catalog());

    let run = run26(
        e,
        &tree,
        &["push", &tag, "--to", &registry.host(), "--no-verify"],
    );
    assert_eq!(run.code, 1, "{}", run.both());
    let pushed = registry_layers(&registry, repo, version);
    assert_eq!(
        pushed[0], "application/vnd.docker.image.rootfs.diff.tar",
        "what Lambda would get: {pushed:?}"
    );
    assert!(
        run.both().contains("uncompressed") && run.both().contains("UnsupportedImageLayerDetected"),
        "the read-back names the layer: {}",
        run.both()
    );
}

/// Ctrl-C mid-build on this engine: exit 130, `interrupted`, no tag, no build container.
#[test]
fn ctrl_c_cancels_a_build_on_the_containerd_image_store() {
    let Some(e) = engine26() else { return };
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = e.pull_from_system(&images.base("nodejs22.x"), &registry);
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base}\nRUN echo started && sleep 60\nCMD [\"function.handler\"]\n"),
    );
    let tag = format!("lambda-image-test/e26-sigint-{}:1", unique());
    let build = tree.spawn_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            &tag,
            "--no-progress",
        ],
        &[("DOCKER_HOST", &e.host)],
    );
    build.wait_for("| started", Duration::from_secs(60));
    let (code, took, run) = build.stop("INT");
    assert_eq!(code, Some(130), "{}", run.both());
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        run.stdout.contains("0 built, 0 unchanged, 1 interrupted"),
        "{}",
        run.both()
    );
    assert!(e.docker_text(&["image", "ls", "-q", &tag]).is_empty());
    // The engine removes the RUN container once the connection is gone (the other tests'
    // containers run no `sleep 60`).
    let sleeping = || {
        e.docker_text(&["ps", "-a", "--no-trunc", "--format", "{{.Command}}"])
            .lines()
            .filter(|c| c.contains("sleep 60"))
            .count()
    };
    let mut left = sleeping();
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        left = sleeping();
    }
    assert_eq!(left, 0, "no build container left");
}

/// What Graviton teams deploy, built on amd64 under QEMU: an arm64 function with a
/// `dnf install` step builds, verifies as arm64, passes its smoke test (the function says
/// `aarch64`), is invoked, and pushed as an arm64 image of gzip layers.
#[test]
fn an_arm64_function_with_run_steps_builds_and_runs_on_the_containerd_image_store() {
    let Some(e) = engine26() else { return };
    if host_arch() != "x86_64" {
        return;
    }
    require_arm64_emulation();
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = e.pull_from_system(&images.base_arm64("provided.al2023"), &registry);
    let tree = Tree::new();
    let tag = format!("lambda-image-test/e26-arm64-{}:1", unique());
    echo_spec(
        &tree,
        "fn",
        &base,
        &tag,
        "aarch64",
        "architectures: [arm64]\n",
    );
    let run = run26(e, &tree, &["build", "images/fn", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report = run.json();
    assert_eq!(report["images"][0]["platform"], "linux/arm64", "{report}");
    assert_eq!(report["images"][0]["verify"]["fail"], 0, "{report}");
    assert_eq!(report["images"][0]["smoke"][0]["passed"], true, "{report}");
    let run = run26(e, &tree, &["verify", &tag, "--arch", "arm64"]);
    assert_eq!(run.code, 0, "{}", run.both());
    tree.write("event.json", r#"{"n": 2}"#);
    let run = run26(e, &tree, &["invoke", &tag, "--event", "event.json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.stdout.trim(),
        r#"{"arch": "aarch64", "event": {"n": 2}}"#,
        "{}",
        run.both()
    );
    let run = run26(
        e,
        &tree,
        &["push", &tag, "--to", &registry.host(), "--arch", "arm64"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let (repo, version) = tag.split_once(':').expect("a tag");
    let pushed = registry_layers(&registry, repo, version);
    assert!(pushed.iter().all(|m| gzip(m)), "{pushed:?}");
}

/// Ctrl-C in the middle of a push from this engine (the registry never answers the upload):
/// exit 130 at once, nothing stored, and the local tag the push made is gone again.
#[test]
fn ctrl_c_stops_a_push_from_the_containerd_image_store() {
    let Some(e) = engine26() else { return };
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = e.pull_from_system(&images.base("ruby3.4"), &registry);
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base}\nCOPY function.sh /var/task/\nCMD [\"function.handler\"]\n"),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    let local = format!("lambda-image-test/e26-stall-{}:1", unique());
    let run = run26(
        e,
        &tree,
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            &local,
            "-q",
            "--no-verify",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let stalling = StallingRegistry::start();
    let dest = format!("127.0.0.1:{}/stall:1", stalling.port);
    let push = tree.spawn_env(
        &[
            "push",
            &local,
            "--to",
            &dest,
            "--no-verify",
            "--timeout",
            "60",
        ],
        &[("DOCKER_HOST", &e.host)],
    );
    push.wait_for("| pushing ", Duration::from_secs(60));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !stalling.requests().iter().any(|r| r.starts_with("POST ")) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            stalling.requests()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, took, seen) = push.interrupt();
    assert_eq!(code, Some(130), "{seen}");
    assert!(seen.ends_with("lambda-image: interrupted"), "{seen}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        e.docker_text(&["image", "ls", "-q", &dest]).is_empty(),
        "the push's own tag is left: {seen}"
    );
    assert!(!e.docker_text(&["image", "ls", "-q", &local]).is_empty());
    let requests = stalling.requests();
    assert!(
        !requests.iter().any(|r| r.starts_with("PUT ")),
        "{requests:?}"
    );
}

/// An image this engine holds without its blobs (a base brought in with `docker load`, then
/// the same layers pulled from a registry: the pull finds them unpacked and fetches no blob,
/// moby/moby#49473) exports incomplete; `verify IMAGE` says what happened and what to do,
/// in one line.
#[test]
fn an_image_the_engine_holds_without_its_blobs_is_explained() {
    let Some(e) = engine26() else { return };
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = images.base("java21");
    e.load_from_system(&base);
    let pulled = e.pull_from_system(&base, &registry);
    let tree = Tree::new();
    let run = run26(e, &tree, &["verify", &pulled]);
    run.assert_error_starts(&format!(
        "reading `{pulled}` as exported by the Docker Engine: missing blob sha256:"
    ));
    assert!(
        run.stderr.trim_end().ends_with(&format!("the Docker Engine exported `{pulled}` without its blobs: its containerd image store skipped them when it pulled layers it already held unpacked (moby/moby#49473); remove the image and every image that shares its layers (docker image rm), and pull it again")),
        "{}",
        run.both()
    );
    // What it says to do mends it.
    e.docker(&["image", "rm", &pulled, &base]);
    e.docker(&["pull", "-q", &pulled]);
    let run = run26(e, &tree, &["verify", &pulled, "--format", "json"]);
    assert_ne!(run.code, 2, "{}", run.both());
    assert_eq!(
        common::fixtures::status_of(&run.json(), "layer-media-type"),
        "pass",
        "{}",
        run.both()
    );
}
