//! `lambda-image verify` on a real `docker save` archive from the Docker Engine.
//!
//! Needs a reachable Docker Engine and `busybox` (Debian's busybox-static; `.ci/run`
//! installs it). The image is built by `docker import` of a busybox rootfs, so no registry
//! is needed, and removed afterwards.

mod common;

use std::process::Command;

use common::fixtures::*;
use common::run;

/// Removes the test image even when an assertion fails.
struct ImageGuard(String);

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker ({e}); this test needs the Docker Engine"));
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn docker_save_of_an_imported_lambda_image_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rootfs = lambda_rootfs(dir.path(), (0o644, 0));
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let tag = format!("lambda-image-test/verify-{nonce}");
    let _guard = ImageGuard(tag.clone());
    docker(&[
        "import",
        "--change",
        "ENV LAMBDA_TASK_ROOT=/var/task",
        "--change",
        "ENTRYPOINT [\"/lambda-entrypoint.sh\"]",
        "--change",
        "CMD [\"app.handler\"]",
        "--change",
        "WORKDIR /var/task",
        rootfs.to_str().expect("utf8"),
        &tag,
    ]);
    let archive = dir.path().join("image.tar");
    docker(&["save", &tag, "-o", archive.to_str().expect("utf8")]);
    let engine_arch = docker(&["image", "inspect", "--format", "{{.Architecture}}", &tag]);

    let manifest = lambda_manifest(dir.path());
    let out = run(&[
        "verify",
        "--archive",
        archive.to_str().expect("utf8"),
        "-m",
        manifest.to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(report["image"]["tags"][0], format!("{tag}:latest"));
    assert_eq!(report["image"]["architecture"], engine_arch.trim());
    assert_eq!(report["summary"]["fail"], 0);
    for name in [
        "cmd-arity",
        "entrypoint",
        "handler",
        "permissions",
        "size",
        "architecture",
        "single-platform",
    ] {
        assert_eq!(status_of(&report, name), "pass", "{name}: {report}");
    }
    // Docker 20.10 writes the classic format; Engine ≥ 25 an OCI layout beside it.
    let format = report["image"]["format"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        format == "docker-archive" || format == "docker-archive-oci",
        "{format}"
    );
    // Every digest was checked: at least the layer's diff_id (and config on classic saves).
    let digest = checks_named(&report, "digest");
    assert_eq!(digest[0]["status"], "pass");
}
