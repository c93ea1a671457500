//! `lambda-image push` against a real registry: Debian's `docker-registry`, started here on
//! 127.0.0.1 on a free port (once without and once with htpasswd auth), with a throw-away
//! `DOCKER_CONFIG`. What the registry stored is read back with plain HTTP, not through
//! lambda-image. Images are built on stand-in bases and removed afterwards.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::registry::Registry;
use common::stalling::StallingRegistry;
use common::*;

/// `dir/Dockerfile` on `base` copying `dir/function.sh` (whose handler echoes `says`); `cmd`
/// is its CMD.
fn write_app(tree: &Tree, base: &str, dir: &str, cmd: &str, says: &str) {
    tree.write(
        &format!("{dir}/Dockerfile"),
        format!("FROM {base}\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD {cmd}\n"),
    );
    tree.write(
        &format!("{dir}/function.sh"),
        format!("function handler () {{ echo {says}; }}\n"),
    );
}

/// An image built by `lambda-image build` on a stand-in base; `cmd` is its CMD.
fn built(images: &mut Images, tree: &Tree, base: &str, name: &str, cmd: &str) -> String {
    write_app(tree, base, name, cmd, name);
    let tag = images.track(&format!("lambda-image-test/push-{name}-{}:1", unique()));
    let run = tree.run(&[
        "build",
        "--file",
        &format!("{name}/Dockerfile"),
        "-t",
        &tag,
        "--no-verify",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.both());
    tag
}

/// A throw-away docker config folder with `config.json`.
fn docker_config(tree: &Tree, json: &str) -> PathBuf {
    tree.write("dockercfg/config.json", json);
    tree.join("dockercfg")
}

/// `DOCKER_CONFIG` pointing at `cfg`.
fn config_env(cfg: &Path) -> [(&'static str, &str); 1] {
    [("DOCKER_CONFIG", cfg.to_str().expect("utf8"))]
}

/// What most push tests start from: the images they make (removed afterwards), a stand-in
/// `provided.al2023` base, a temporary tree and an empty docker config in it.
fn bench() -> (Images, String, Tree, PathBuf) {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let cfg = docker_config(&tree, "{}");
    (images, base, tree, cfg)
}

#[test]
fn push_reads_back_the_manifest_and_a_second_push_sends_nothing() {
    let registry = Registry::start(None);
    let (mut images, base, tree, cfg) = bench();
    let local = built(&mut images, &tree, &base, "ok", r#"["function.handler"]"#);
    let dest = format!("{}/orders:v1", registry.host());
    images.track(&dest);
    let env = config_env(&cfg);
    let run = tree.run_env(
        &[
            "push",
            &local,
            "--to",
            &dest,
            "--digest-file",
            "digests.txt",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let (media_type, digest) = registry.manifest("orders", "v1");
    assert_eq!(
        media_type,
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        run.stdout,
        format!("{}/orders@{digest}\n", registry.host()),
        "{}",
        run.both()
    );
    assert_eq!(tree.read("digests.txt"), run.stdout);
    assert!(
        run.stderr.contains("verifying"),
        "the gate ran: {}",
        run.both()
    );
    // The whole output, as a user reads it (what differs from run to run redacted).
    let filters = vec![
        (r"127\.0\.0\.1:\d+", "[REGISTRY]"),
        (r"sha256:[0-9a-f]{64}", "[DIGEST]"),
        (r"lambda-image-test/[^ \n|]+", "[IMAGE]"),
        (r"\b[0-9a-f]{12}\b", "[ID]"),
        (r"\d+(\.\d+)? ?(B|kB|MB|GB|KiB|MiB)\b", "[SIZE]"),
        (r"\d+(\.\d+)? ?s\b", "[T]"),
    ];
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!(format!("stdout:\n{}stderr:\n{}", run.stdout, run.stderr));
    });

    let again = tree.run_env(&["push", &local, "--to", &dest, "--format", "json"], &env);
    assert_eq!(again.code, 0, "{}", again.both());
    let report = again.json();
    assert_eq!(report[0]["status"], "already pushed", "{report}");
    assert_eq!(report[0]["registry_digest"], digest.as_str());
    assert!(again.stderr.contains("already pushed"), "{}", again.both());

    // Off a terminal, a line per layer: sent to the empty registry, then (another
    // repository of the same registry) already there.
    let title = format!("{local} | ");
    for n in 1..=2 {
        assert!(
            run.stderr.contains(&format!("{title}layer {n}/2 sent (")),
            "{}",
            run.both()
        );
    }
    assert!(
        run.stderr.contains(&format!("{title}pushed {}/orders@{digest} (application/vnd.docker.distribution.manifest.v2+json; 2 layers: 2 sent, 0 already in the registry, in ", registry.host())),
        "{}",
        run.both()
    );
    let copy = format!("{}/orders-copy:v1", registry.host());
    images.track(&copy);
    let third = tree.run_env(&["push", &local, "--to", &copy], &env);
    assert_eq!(third.code, 0, "{}", third.both());
    assert!(
        third
            .stderr
            .contains(&format!("{title}layer 2/2 already in the registry\n"))
            && third
                .stderr
                .contains("2 layers: 0 sent, 2 already in the registry"),
        "{}",
        third.both()
    );
}

#[test]
fn nothing_is_pushed_unless_every_image_passes_verify() {
    let registry = Registry::start(None);
    let (mut images, base, tree, cfg) = bench();
    let good = built(&mut images, &tree, &base, "good", r#"["function.handler"]"#);
    let bad = built(
        &mut images,
        &tree,
        &base,
        "bad",
        r#"["function.handler", "extra"]"#,
    );
    let env = config_env(&cfg);
    let before = registry.catalog();

    let run = tree.run_env(&["push", &bad, "--to", &registry.host()], &env);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr
            .contains("failed verify: 1 verify check failed: cmd-arity"),
        "{}",
        run.both()
    );
    assert_eq!(run.stdout, "");
    assert_eq!(registry.catalog(), before, "nothing reached the registry");

    let run = tree.run_env(&["push", &good, &bad, "--to", &registry.host()], &env);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr
            .contains("not pushed: another image failed verification"),
        "{}",
        run.both()
    );
    assert_eq!(registry.catalog(), before, "all or nothing");

    let run = tree.run_env(
        &[
            "push",
            &good,
            &bad,
            "--to",
            &registry.host(),
            "--keep-going",
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.both());
    let good_repo = good.split(':').next().unwrap_or_default();
    images.track(&format!("{}/{good_repo}:1", registry.host()));
    assert!(
        registry.catalog().contains(good_repo),
        "{}",
        registry.catalog()
    );
    assert!(
        !registry.catalog().contains("push-bad"),
        "{}",
        registry.catalog()
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.both());
}

#[test]
fn credentials_from_auths_and_from_a_helper_and_a_refusal_in_one_line() {
    let registry = Registry::start(Some(("ci", "s3cret")));
    let (mut images, base, tree, _) = bench();
    let local = built(&mut images, &tree, &base, "auth", r#"["function.handler"]"#);
    let dest = format!("{}/auth:v1", registry.host());
    images.track(&dest);

    // Wrong password: one line naming the registry and where credentials came from.
    let wrong = base64::engine::general_purpose::STANDARD.encode("ci:wrong");
    let cfg = docker_config(
        &tree,
        &format!(
            r#"{{"auths": {{"{}": {{"auth": "{wrong}"}}}}}}"#,
            registry.host()
        ),
    );
    let env = config_env(&cfg);
    let run = tree.run_env(&["push", &local, "--to", &dest, "-q"], &env);
    run.assert_error_starts(&format!(
        "the registry {} refused the credentials from auths \"{}\" in {}",
        registry.host(),
        registry.host(),
        cfg.join("config.json").display()
    ));
    assert!(
        !registry.catalog().contains("auth"),
        "{}",
        registry.catalog()
    );

    // No credentials at all.
    let cfg = docker_config(&tree, "{}");
    let env = config_env(&cfg);
    let run = tree.run_env(&["push", &local, "--to", &dest, "-q"], &env);
    run.assert_error_starts(&format!(
        "the registry {} wants credentials; looked in no credentials for",
        registry.host()
    ));

    // A credential helper on PATH, named by credHelpers, is called and its answer used.
    let bin = tree.join("bin");
    let marker = tree.join("helper-called");
    tree.write(
        "bin/docker-credential-test",
        format!(
            "#!/bin/sh\nread server\necho \"$1 $server\" > {}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"ci\",\"Secret\":\"s3cret\"}}'\n",
            marker.display()
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            bin.join("docker-credential-test"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
    let cfg = docker_config(
        &tree,
        &format!(r#"{{"credHelpers": {{"{}": "test"}}}}"#, registry.host()),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("DOCKER_CONFIG", cfg.to_str().expect("utf8")),
        ("PATH", path.as_str()),
    ];
    let run = tree.run_env(&["push", &local, "--to", &dest], &env);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        tree.read("helper-called"),
        format!("get {}\n", registry.host())
    );
    let (_, digest) = registry.manifest("auth", "v1");
    assert_eq!(run.stdout, format!("{}/auth@{digest}\n", registry.host()));
}

#[test]
fn a_stopped_registry_is_one_line_and_exit_2_in_bounded_time() {
    let registry = Registry::start(None);
    let host = registry.host();
    drop(registry);
    let (mut images, base, tree, cfg) = bench();
    let local = built(&mut images, &tree, &base, "down", r#"["function.handler"]"#);
    let started = Instant::now();
    let run = tree.run_env(
        &[
            "push",
            &local,
            "--to",
            &format!("{host}/down:1"),
            "--timeout",
            "10",
            "-q",
        ],
        &config_env(&cfg),
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    run.assert_error_starts(&format!("cannot reach the registry {host}: "));
}

#[test]
fn bad_push_input_is_one_line() {
    let tree = Tree::new();
    let dead = [("DOCKER_HOST", "unix:///nonexistent/x.sock")];
    tree.run_env(&["push"], &dead).assert_error(
        "give image specs (images/<name>), --all, or images in the Docker Engine (name:tag)",
    );
    let run = Tree::new().run(&[
        "push",
        "lambda-image-test/not-there:1",
        "--to",
        "127.0.0.1:5000",
    ]);
    run.assert_error("image `lambda-image-test/not-there:1` is not in the Docker Engine (docker images lists what is; lambda-image never pulls)");
}

/// `build --push --to`: built, verified, pushed; the report has the registry digest.
#[test]
fn build_push_chains_and_reports_the_registry_digest() {
    let registry = Registry::start(None);
    let (mut images, base, tree, cfg) = bench();
    write_app(&tree, &base, "app", r#"["function.handler"]"#, "ok");
    let tag = images.track(&format!("lambda-image-test/push-chain-{}:1", unique()));
    let dest = format!("{}/chain:{{arch}}", registry.host());
    images.track(&format!("{}/chain:x86_64", registry.host()));
    let run = tree.run_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            &tag,
            "--push",
            "--to",
            &dest,
            "--report",
            "r.json",
        ],
        &config_env(&cfg),
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let (_, digest) = registry.manifest("chain", "x86_64");
    let report: serde_json::Value = serde_json::from_str(&tree.read("r.json")).expect("report");
    assert_eq!(
        report["images"][0]["registry_digest"],
        format!("{}/chain@{digest}", registry.host()).as_str(),
        "{report}"
    );
    assert_ne!(
        report["images"][0]["config_digest"],
        report["images"][0]["registry_digest"]
    );
}

/// A base in a registry that wants credentials is pulled by the build with the credentials
/// `push` uses (X-Registry-Config).
#[test]
fn a_private_base_is_pulled_with_the_docker_config_credentials() {
    let registry = Registry::start(Some(("ci", "s3cret")));
    let (mut images, base, tree, _) = bench();
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret");
    let cfg = docker_config(
        &tree,
        &format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    );
    let env = config_env(&cfg);
    let remote = format!("{}/private-base:1", registry.host());
    let run = tree.run_env(&["push", &base, "--to", &remote, "--no-verify", "-q"], &env);
    assert_eq!(run.code, 0, "{}", run.both());
    // Only the registry has it now.
    images.engine.remove_image(&remote).expect("untag");
    assert!(!images.exists(&remote));
    write_app(&tree, &remote, "app", r#"["function.handler"]"#, "ok");
    images.track(&remote);
    let none = tree.join("nocreds");
    tree.write("nocreds/config.json", "{}");
    // The classic builder gets them in X-Registry-Config and tags the base it pulled;
    // BuildKit asks our session for them and keeps the base in its own cache.
    for builder in ["buildkit", "classic"] {
        let tag = images.track(&format!("lambda-image-test/private-{}:1", unique()));
        let build = |config: &std::path::Path| {
            tree.run_env(
                &[
                    "build",
                    "--file",
                    "app/Dockerfile",
                    "-t",
                    &tag,
                    "--no-lint",
                    "--builder",
                    builder,
                ],
                &config_env(config),
            )
        };
        let run = build(&cfg);
        assert_eq!(run.code, 0, "{builder}: {}", run.both());
        assert!(images.exists(&tag), "{builder}: {}", run.both());
        assert_eq!(images.exists(&remote), builder == "classic", "{builder}");
        // Without credentials the pull is refused, naming the base and its registry.
        images.engine.remove_image(&tag).expect("remove");
        if builder == "classic" {
            images.engine.remove_image(&remote).expect("remove");
        }
        let run = build(&none);
        assert_eq!(run.code, 1, "{builder}: {}", run.both());
        assert!(
            run.stdout.contains(&format!(
                "base image `{remote}` is not in the Docker Engine and could not be pulled from {}",
                registry.host()
            )),
            "{builder}: {}",
            run.both()
        );
        assert!(!images.exists(&tag), "{builder}");
    }
}

/// An image `build` verified is not verified again by `push` (same plan, same content).
#[test]
fn push_after_build_trusts_the_builds_verification() {
    let registry = Registry::start(None);
    let (mut images, base, tree, cfg) = bench();
    write_app(&tree, &base, "app", r#"["function.handler"]"#, "again");
    let tag = images.track(&format!("lambda-image-test/push-again-{}:1", unique()));
    let run = tree.run(&["build", "--file", "app/Dockerfile", "-t", &tag, "-q"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let dest = format!("{}/again:1", registry.host());
    images.track(&dest);
    let run = tree.run_env(
        &["push", &tag, "--arch", "x86_64", "--to", &dest],
        &config_env(&cfg),
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stderr.contains("verified before"), "{}", run.both());
    assert!(!run.stderr.contains("| verifying"), "{}", run.both());
}

/// Ctrl-C (and SIGTERM, SIGHUP) in the middle of a push: exit 130 (143, 129) at once,
/// nothing stored, and the local tag the push made is gone again.
#[test]
fn a_signal_stops_the_push_and_removes_its_tag() {
    let (mut images, base, tree, cfg) = bench();
    let local = built(
        &mut images,
        &tree,
        &base,
        "stall",
        r#"["function.handler"]"#,
    );
    for (signal, exit, last) in STOP_SIGNALS {
        // A registry each: the engine goes on waiting on an abandoned upload.
        let registry = StallingRegistry::start();
        let dest = format!("127.0.0.1:{}/stall:1", registry.port);
        images.track(&dest);
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
            &config_env(&cfg),
        );
        push.wait_for("| pushing ", Duration::from_secs(60));
        // Until the engine is waiting on the upload.
        let deadline = Instant::now() + Duration::from_secs(20);
        while !registry.requests().iter().any(|r| r.starts_with("POST ")) {
            assert!(Instant::now() < deadline, "{:?}", registry.requests());
            std::thread::sleep(Duration::from_millis(50));
        }
        let (code, took, seen) = push.signal(signal);
        assert_eq!(code, Some(exit), "SIG{signal}: {seen}");
        assert!(seen.ends_with(last), "SIG{signal}: {seen}");
        assert!(took < Duration::from_secs(5), "SIG{signal}: {took:?}");
        assert!(
            !images.exists(&dest),
            "SIG{signal}: the push's own tag is left: {seen}"
        );
        assert!(images.exists(&local));
        let requests = registry.requests();
        assert!(
            !requests.iter().any(|r| r.starts_with("PUT ")),
            "SIG{signal}: {requests:?}"
        );
    }
}

/// A push that fails (the registry refuses the upload; the upload stalls past --timeout) removes
/// the local destination tag it made, as Ctrl-C does; a tag that was there before stays.
#[test]
fn a_failed_push_removes_the_tag_it_made() {
    let (mut images, base, tree, cfg) = bench();
    let local = built(
        &mut images,
        &tree,
        &base,
        "fails",
        r#"["function.handler"]"#,
    );
    let env = config_env(&cfg);

    let failing = StallingRegistry::failing();
    let dest = format!("127.0.0.1:{}/fails:1", failing.port);
    images.track(&dest);
    let run = tree.run_env(&["push", &local, "--to", &dest, "--no-verify", "-q"], &env);
    assert_eq!(run.code, 1, "{}", run.both());
    assert_eq!(run.stdout, "", "{}", run.both());
    assert_eq!(
        run.stderr,
        format!(
            "lambda-image: warning: --no-verify: the images are pushed without being verified\n\
             {local}: failed: pushing {dest}: unsupported: x\n"
        )
    );
    assert!(!images.exists(&dest), "the failed push left its tag");
    // A tag this run did not make is not this run's to remove.
    let (repo, tag) = dest.rsplit_once(':').expect("tag");
    images
        .engine
        .tag_image(&local, repo, tag)
        .expect("tag beforehand");
    let run = tree.run_env(&["push", &local, "--to", &dest, "--no-verify", "-q"], &env);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        images.exists(&dest),
        "a tag made before the push was removed"
    );

    let stalling = StallingRegistry::start();
    let dest = format!("127.0.0.1:{}/stalls:1", stalling.port);
    images.track(&dest);
    let run = tree.run_env(
        &[
            "push",
            &local,
            "--to",
            &dest,
            "--no-verify",
            "-q",
            "--timeout",
            "3",
        ],
        &env,
    );
    assert_eq!(run.code, 2, "{}", run.both());
    assert_eq!(
        run.stderr,
        format!(
            "lambda-image: warning: --no-verify: the images are pushed without being verified\n\
             lambda-image: error: cannot reach the registry 127.0.0.1:{}: no answer within 3 s\n",
            stalling.port
        )
    );
    assert!(!images.exists(&dest), "the stalled push left its tag");
    assert!(images.exists(&local));
}

/// A registry that dies mid-upload fails the push within `--timeout`: the engine's
/// `Retrying in N seconds` lines are no progress.
#[test]
fn a_registry_dying_mid_upload_fails_within_the_timeout() {
    let (mut images, base, tree, cfg) = bench();
    let local = built(&mut images, &tree, &base, "dies", r#"["function.handler"]"#);
    let dying = StallingRegistry::dying();
    let dest = format!("127.0.0.1:{}/dies:1", dying.port);
    images.track(&dest);
    let started = Instant::now();
    let run = tree.run_env(
        &[
            "push",
            &local,
            "--to",
            &dest,
            "--no-verify",
            "--timeout",
            "3",
            "-v",
        ],
        &config_env(&cfg),
    );
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        took < Duration::from_secs(8),
        "took {took:?}: {}",
        run.both()
    );
    let error = format!(
        "lambda-image: error: cannot reach the registry 127.0.0.1:{}: no answer within 3 s (the engine was retrying: Retrying in ",
        dying.port
    );
    assert!(run.stderr.contains(&error), "{}", run.both());
    assert!(
        dying.requests().iter().any(|r| r.starts_with("POST ")),
        "{:?}",
        dying.requests()
    );
    assert!(!images.exists(&dest), "the failed push left its tag");
}

/// A registry that is not on a loopback address gets HTTPS only: one that answers plain
/// HTTP is one line naming it and the flag, exit 2, before anything is sent. (0.0.0.0
/// reaches this machine's loopback listener without being a loopback address.)
#[test]
fn plain_http_to_a_non_loopback_registry_is_refused_in_one_line() {
    let registry = Registry::start(None);
    let (mut images, base, tree, cfg) = bench();
    let host = format!("0.0.0.0:{}", registry.port);
    let dest = format!("{host}/plain:1");
    images.track(&dest);
    let run = tree.run_env(
        &["push", &base, "--to", &dest, "--no-verify", "-q"],
        &config_env(&cfg),
    );
    assert_eq!(run.code, 2, "{}", run.both());
    assert_eq!(
        run.stderr,
        format!(
            "lambda-image: warning: --no-verify: the images are pushed without being verified\n\
             lambda-image: error: reading manifest plain:1 from {host}: the registry answers plain HTTP, not HTTPS; \
             lambda-image speaks plain HTTP only to loopback registries and to hosts given with --insecure-registry {host}\n"
        )
    );
    assert!(
        !registry.catalog().contains("plain"),
        "{}",
        registry.catalog()
    );
    assert!(!images.exists(&dest), "no destination tag was made");
}

/// A spec is pushed from the spec and its tags: its build outputs (here the `bootstrap`
/// from `target/`) may be gone once the image is built (issue 14, item 2).
#[test]
fn push_of_a_spec_needs_no_build_output() {
    let registry = Registry::start(None);
    let (mut images, base, tree, cfg) = bench();
    let tag = images.track(&format!("lambda-image-test/push-spec-{}:1", unique()));
    tree.write(
        "images/fn/image.yaml",
        format!("runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: target/bootstrap, build_output: true}}\ncopy: [{{src: function.sh}}]\nhandler: function.handler\ntags: [{tag}]\n"),
    );
    tree.write(
        "images/fn/function.sh",
        "function handler () { echo ok; }\n",
    );
    tree.write("images/fn/target/bootstrap", "#!/bin/sh\necho bootstrap\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = tree.join("images/fn/target/bootstrap");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let run = tree.run(&["build", "images/fn", "-q"]);
    assert_eq!(run.code, 0, "{}", run.both());
    std::fs::remove_dir_all(tree.join("images/fn/target")).expect("remove target/");

    let dest = format!("{}/fn:v1", registry.host());
    images.track(&dest);
    let run = tree.run_env(&["push", "images/fn", "--to", &dest], &config_env(&cfg));
    assert_eq!(run.code, 0, "{}", run.both());
    let (_, digest) = registry.manifest("fn", "v1");
    assert_eq!(
        run.stdout,
        format!("{}/fn@{digest}\n", registry.host()),
        "{}",
        run.both()
    );
}
