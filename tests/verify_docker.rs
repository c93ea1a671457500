//! `lambda-image verify` on a real `docker save` archive from the Docker Engine.
//!
//! Needs a reachable Docker Engine and `busybox` (Debian's busybox-static; `.ci/run`
//! installs it). The image is built by `docker import` of a busybox rootfs, so no registry
//! is needed, and removed afterwards.

#[path = "verify/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Removes the test image even when an assertion fails.
struct ImageGuard(String);

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

fn busybox() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("busybox"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("busybox is not installed: install Debian's busybox-static (apt-get install busybox-static); this test needs it")
    })
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

fn rootfs(dir: &Path) -> PathBuf {
    let busybox = std::fs::read(busybox()).expect("read busybox");
    let layer = Layer::new()
        .dir("bin", 0o755)
        .file("bin/busybox", 0o755, &busybox)
        .symlink("bin/sh", "busybox")
        .file(
            "lambda-entrypoint.sh",
            0o755,
            b"#!/bin/sh\nif [ $# -ne 1 ]; then\n  echo \"entrypoint requires the handler name to be the first argument\" 1>&2\n  exit 142\nfi\nexec /bin/sh -c \"echo $1\"\n",
        )
        .dir("var", 0o755)
        .dir("var/task", 0o755)
        .file("var/task/app.py", 0o644, b"def handler(event, context):\n    return {'ok': True}\n")
        .dir("etc", 0o755)
        .file("etc/os-release", 0o644, b"NAME=\"Amazon Linux\"\nVERSION_ID=\"2023\"\n");
    let path = dir.join("rootfs.tar");
    std::fs::write(&path, layer.tar()).expect("write rootfs");
    path
}

#[test]
fn docker_save_of_an_imported_lambda_image_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rootfs = rootfs(dir.path());
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

    let manifest = dir.path().join("manifest.yaml");
    std::fs::write(
        &manifest,
        r#"schemaVersion: lambda-image/v1
paths:
  - {path: "${LAMBDA_TASK_ROOT}/app.py", type: file, readable_by: any}
  - {path: /lambda-entrypoint.sh, type: file, executable_by: any, mode: "0755"}
  - {path: /bin/sh, type: symlink, target: busybox}
  - {path: /etc/os-release, contains: 'VERSION_ID="2023"'}
  - {path: /usr/bin/yum, absent: true}
metadata:
  env: {LAMBDA_TASK_ROOT: /var/task}
  entrypoint: ["/lambda-entrypoint.sh"]
  cmd: ["app.handler"]
  workdir: /var/task
"#,
    )
    .expect("write manifest");
    let out = run(&[
        "verify",
        "--archive",
        archive.to_str().expect("utf8"),
        "-m",
        manifest.to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let report = json(&out);
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
