//! `lambda-image verify IMAGE`: the image comes from the Docker Engine API.
//!
//! Needs a reachable Docker Engine (these tests fail, not skip, without one) and Debian's
//! busybox-static. Images are imported from a rootfs tar built here (no registry), tagged
//! under `lambda-image-test/`, and removed afterwards even when an assertion fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::fixtures::*;
use common::{Run, Tree};
use lambda_image::docker::{self, Engine};

const EXPORT_PREFIX: &str = "lambda-image-export-";

/// A test image; removed when dropped.
struct TestImage {
    engine: Engine,
    name: String,
    id: String,
}

impl Drop for TestImage {
    fn drop(&mut self) {
        let _ = self.engine.remove_image(&self.name);
    }
}

fn unique(kind: &str) -> String {
    format!("lambda-image-test/{kind}-{}", common::fixtures::unique())
}

fn engine() -> Engine {
    docker::connect().unwrap_or_else(|e| {
        panic!("these tests need the Docker Engine: {e:#}");
    })
}

fn import(dir: &Path, app: (u32, u64)) -> TestImage {
    let engine = engine();
    let tar = lambda_rootfs(dir, app);
    let repo = unique("daemon");
    let changes: Vec<String> = [
        "ENV LAMBDA_TASK_ROOT=/var/task",
        r#"ENTRYPOINT ["/lambda-entrypoint.sh"]"#,
        r#"CMD ["app.handler"]"#,
        "WORKDIR /var/task",
    ]
    .map(String::from)
    .to_vec();
    let id = engine
        .import_rootfs(&tar, &repo, "latest", &changes)
        .unwrap_or_else(|e| panic!("import {repo}: {e:#}"));
    TestImage {
        engine,
        name: format!("{repo}:latest"),
        id,
    }
}

/// Runs lambda-image in a [`Tree`] with its own temporary directory, which must be empty
/// afterwards.
fn run_in_tmp(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let tree = Tree::new();
    let tmp = tree.join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir");
    let mut envs = envs.to_vec();
    envs.push(("TMPDIR", tmp.to_str().expect("utf8")));
    let run = tree.run_env(args, &envs);
    assert_eq!(listing(&tmp), vec![], "left behind in TMPDIR by {args:?}");
    run
}

/// `lambda-image-export-*` files in the system temporary directory.
fn exports_in_system_tmp() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .expect("read temp dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(EXPORT_PREFIX))
        .collect();
    names.sort();
    names
}

#[test]
fn an_image_in_the_engine_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = import(dir.path(), (0o644, 0));
    let manifest = lambda_manifest(dir.path());
    let before = exports_in_system_tmp();
    let out = run_in_tmp(
        &[
            "verify",
            &image.name,
            "-m",
            manifest.to_str().expect("utf8"),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(exports_in_system_tmp(), before);
    assert_eq!(out.code, 0, "{}", out.both());
    let report = out.json();
    assert_eq!(report["image"]["source"], image.name.as_str());
    assert_eq!(report["image"]["config_digest"], image.id.as_str());
    assert_eq!(report["image"]["tags"][0], image.name.as_str());
    assert_eq!(report["image"]["format"], "docker-archive");
    let checks = report["checks"].as_array().expect("checks");
    assert!(!checks.is_empty());
    for check in checks {
        assert!(
            check["status"] == "pass" || check["status"] == "info",
            "{check}"
        );
    }
    for name in [
        "cmd-arity",
        "entrypoint",
        "handler",
        "permissions",
        "size",
        "single-platform",
    ] {
        assert_eq!(status_of(&report, name), "pass", "{name}: {report}");
    }
    // The config's digest and the layer's diff_id were both recomputed and matched.
    let digests = checks_named(&report, "digest");
    assert!(!digests.is_empty());
    assert!(digests.iter().all(|c| c["status"] == "pass"), "{digests:?}");
    assert_eq!(report["summary"]["fail"], 0);
    // Every manifest path was checked and passed.
    for path in [
        "/var/task/app.py",
        "/lambda-entrypoint.sh",
        "/var/runtime/bootstrap",
        "/bin/sh",
        "/etc/os-release",
        "/usr/bin/yum",
    ] {
        assert!(
            checks
                .iter()
                .any(|c| c["kind"] == "manifest" && c["path"] == path && c["status"] == "pass"),
            "{path}: {report}"
        );
    }
}

#[test]
fn an_unreadable_handler_fails_the_permissions_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = import(dir.path(), (0o600, 1000));
    let out = run_in_tmp(&["verify", &image.name, "--format", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.both());
    let report = out.json();
    assert_eq!(report["image"]["source"], image.name.as_str());
    let permissions = checks_named(&report, "permissions");
    assert_eq!(permissions.len(), 1, "{report}");
    assert_eq!(permissions[0]["status"], "fail");
    assert_eq!(permissions[0]["path"], "/var/task/app.py", "{report}");
    let message = permissions[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("0600"), "{message}");
    // The digests still verify: the failure is the file mode, not the transfer.
    assert!(checks_named(&report, "digest")
        .iter()
        .all(|c| c["status"] == "pass"));

    // The text report names the file as well.
    let text = run_in_tmp(&["verify", &image.name], &[]);
    assert_eq!(text.code, 1, "{}", text.both());
    assert!(text.stdout.contains("/var/task/app.py"), "{}", text.both());
    assert!(text.stdout.contains(&image.name), "{}", text.both());
}

#[test]
fn an_image_not_in_the_engine_is_a_one_line_error() {
    // The engine must be there, so the error is about the image and not the connection.
    drop(engine());
    let name = unique("does-not-exist");
    let out = run_in_tmp(&["verify", &name], &[]);
    out.assert_error(&format!(
        "image `{name}` is not in the Docker Engine \
             (docker images lists what is; lambda-image never pulls)"
    ));
}

#[test]
fn an_unreachable_engine_is_a_one_line_error() {
    let out = run_in_tmp(
        &["verify", "x"],
        &[("DOCKER_HOST", "unix:///nonexistent.sock")],
    );
    out.assert_error(
        "cannot reach the Docker Engine at unix:///nonexistent.sock \
         (/nonexistent.sock does not exist); start Docker or set DOCKER_HOST",
    );
}

/// A manifest that reads file contents: verify then writes the export to TMPDIR first.
const READS_CONTENTS: &str =
    "schemaVersion: lambda-image/v1\npaths:\n  - {path: /var/task/app.py, contains: handler}\n";

/// Verify writes an engine's export to TMPDIR only when its manifest reads file contents;
/// otherwise it reads the export as it arrives and writes nothing.
#[test]
fn the_export_goes_to_tmpdir_only_when_contents_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = import(dir.path(), (0o644, 0));
    let missing = dir.path().join("no-such-dir");
    let tree = Tree::new();
    tree.write("contents.yaml", READS_CONTENTS);
    let tmpdir = [("TMPDIR", missing.to_str().expect("utf8"))];
    let out = tree.run_env(&["verify", &image.name], &tmpdir);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(!missing.exists());
    let out = tree.run_env(&["verify", &image.name, "-m", "contents.yaml"], &tmpdir);
    out.assert_error_starts("");
    let err = &out.stderr;
    assert!(
        err.contains(&format!(
            "creating a temporary file in {}",
            missing.display()
        )),
        "{err}"
    );
    assert!(!missing.exists());
}

#[test]
fn a_bad_manifest_fails_before_anything_is_exported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("manifest.yaml");
    std::fs::write(&manifest, "schemaVersion: nope\n").expect("write");
    // No engine is needed to reject the manifest: nothing is exported.
    let out = run_in_tmp(
        &["verify", "anything", "-m", manifest.to_str().expect("utf8")],
        &[("DOCKER_HOST", "unix:///nonexistent.sock")],
    );
    out.assert_error_starts("");
    let err = &out.stderr;
    assert!(err.contains("manifest.yaml"), "{err}");
    assert!(!err.contains("Docker Engine"), "{err}");
}

#[test]
fn a_reference_that_is_not_one_is_rejected() {
    let out = run_in_tmp(&["verify", "x?all=1"], &[]);
    out.assert_error(
        "`x?all=1` is not an image reference \
         (name[:tag], name@digest or an image id)",
    );
}

/// container-structure-test commandTests run in containers of an engine image, as its docker
/// driver runs them; every container is removed.
#[test]
fn command_tests_run_in_containers_of_the_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = import(dir.path(), (0o644, 0));
    let config = dir.path().join("cst.yaml");
    std::fs::write(
        &config,
        r#"schemaVersion: 2.0.0
globalEnvVars:
  - {key: GREETING, value: hello}
commandTests:
  - name: echo
    envVars: [{key: WHO, value: "${LAMBDA_TASK_ROOT}"}]
    command: sh
    args: ["-c", "echo $GREETING $WHO; echo oops >&2"]
    expectedOutput: ["(?m)^hello /var/task$"]
    expectedError: ["oops"]
    excludedOutput: ["goodbye"]
  - name: exit code
    command: sh
    args: ["-c", "exit 3"]
    exitCode: 3
  - name: wrong output
    command: sh
    args: ["-c", "echo no"]
    expectedOutput: ["yes"]
  - name: with setup
    setup: [["touch", "/tmp/x"]]
    command: ls
"#,
    )
    .expect("write");
    let out = run_in_tmp(
        &[
            "verify",
            &image.name,
            "-m",
            config.to_str().expect("utf8"),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.both());
    let report = out.json();
    assert_eq!(status_of(&report, "echo"), "pass", "{report}");
    assert_eq!(status_of(&report, "exit code"), "pass", "{report}");
    let wrong = checks_named(&report, "wrong output");
    assert_eq!(wrong[0]["status"], "fail");
    assert_eq!(
        wrong[0]["message"],
        "`sh`: output does not match \"yes\"; stdout \"no\", stderr \"\""
    );
    assert!(
        checks_named(&report, "with setup")[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("setup commands are not supported"),
        "{report}"
    );
    let left = Command::new("docker")
        .args(["ps", "-aq", "--filter", "label=lambda-image.verify"])
        .output()
        .expect("docker ps");
    assert_eq!(
        String::from_utf8_lossy(&left.stdout).trim(),
        "",
        "containers left"
    );
}

/// Ctrl-C, SIGTERM (a cancelled CI job, `docker stop`) or SIGHUP (a closed session) in the
/// middle of the export `verify IMAGE` makes: exit 130, 143 or 129 at once, and no
/// `lambda-image-export-*.tar` is left in TMPDIR.
#[test]
fn a_signal_during_the_export_leaves_no_export_behind() {
    use std::io::Write as _;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("tempdir");
    // 256 MiB: the export takes a second or two on this engine.
    const BIG: u64 = 256 << 20;
    let rootfs = dir.path().join("big.tar");
    {
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(&rootfs).expect("create rootfs"));
        out.write_all(&raw_header(b"big", b'0', 0o644, 0, 0, BIG, b""))
            .expect("write");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(BIG >> 20) {
            out.write_all(&zeros).expect("write");
        }
        out.write_all(&[0u8; 1024]).expect("write");
        out.flush().expect("write");
    }
    let engine = engine();
    let repo = unique("export-signal");
    engine
        .import_rootfs(&rootfs, &repo, "latest", &[])
        .unwrap_or_else(|e| panic!("import {repo}: {e:#}"));
    let image = TestImage {
        engine,
        name: format!("{repo}:latest"),
        id: String::new(),
    };
    drop(std::fs::remove_file(&rootfs));
    let manifest = dir.path().join("contents.yaml");
    std::fs::write(&manifest, READS_CONTENTS).expect("write manifest");
    for (signal, exit, last) in [
        ("INT", 130, "lambda-image: interrupted"),
        ("TERM", 143, "lambda-image: interrupted (SIGTERM)"),
        ("HUP", 129, "lambda-image: interrupted (SIGHUP)"),
    ] {
        // Read as it arrives (no manifest): stopped mid-export, nothing printed but the line.
        let tmp = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new();
        let run = tree.spawn_env(
            &["verify", "-v", &image.name],
            &[("TMPDIR", tmp.path().to_str().expect("utf8"))],
        );
        run.wait_for("reading it as it arrives", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(150));
        let (code, took, out) = run.stop(signal);
        assert_eq!(code, Some(exit), "SIG{signal}: {}", out.both());
        assert_eq!(
            out.stderr.lines().last(),
            Some(last),
            "SIG{signal}: {}",
            out.both()
        );
        assert!(out.stdout.is_empty(), "SIG{signal}: {}", out.both());
        assert!(took < Duration::from_secs(5), "SIG{signal}: {took:?}");
        assert_eq!(listing(tmp.path()), vec![], "SIG{signal}: left in TMPDIR");

        // Spooled to TMPDIR (a manifest reads contents): the file removed.
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(bin())
            .args([
                "verify",
                &image.name,
                "-m",
                manifest.to_str().expect("utf8"),
            ])
            .env("NO_COLOR", "1")
            .env("TMPDIR", tmp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run lambda-image");
        // Until the export is under way.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !listing(tmp.path()).iter().any(|(p, size)| {
            *size > 0
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(EXPORT_PREFIX))
        }) {
            assert!(Instant::now() < deadline, "SIG{signal}: no export started");
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = Instant::now();
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        let status = child.wait().expect("wait");
        let took = sent.elapsed();
        let out = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(exit), "SIG{signal}: {err}");
        assert_eq!(err.trim_end(), last, "SIG{signal}");
        assert!(out.stdout.is_empty(), "SIG{signal}");
        assert!(took < Duration::from_secs(5), "SIG{signal}: {took:?}");
        assert_eq!(listing(tmp.path()), vec![], "SIG{signal}: left in TMPDIR");
    }
}
