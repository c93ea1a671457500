//! `lambda-image verify` on archives built in-test: every input format, whiteouts,
//! manifests, Lambda checks, output formats.

mod common;

use common::fixtures::*;
use common::{run, Run};

fn verify_files(files: &Files, extra: &[&str]) -> Run {
    let (_dir, path) = tar_in_temp(files);
    let mut args = vec!["verify", "--archive", path.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn classic_docker_archive_passes() {
    let out = verify_files(&docker_archive_files(&lambda_spec()), &[]);
    let text = out.stdout.clone();
    assert_eq!(out.code, 0, "{text}{}", out.stderr);
    assert!(
        text.contains("(docker-archive, linux/amd64, 2 layers"),
        "{text}"
    );
    // The message names the path, so the line does not repeat it.
    assert!(
        text.contains("  ✓ handler: app.handler → /var/task/app.py (Python module)\n"),
        "{text}"
    );
    assert!(text.contains("PASS: "), "{text}");
}

#[test]
fn oci_layout_directory_with_gzip_layers_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    write_dir(dir.path(), &oci.files);
    let out = run(&[
        "verify",
        "--archive",
        dir.path().to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(report["schema"], "lambda-image/verify-report/v1");
    assert_eq!(report["image"]["format"], "oci-layout");
    assert_eq!(report["image"]["digest"], oci.manifest_digest.as_str());
    assert_eq!(report["image"]["layers"][0]["compression"], "gzip");
    assert_eq!(
        report["image"]["layers"][1]["digest"],
        oci.layer_digests[1].as_str()
    );
    assert_eq!(report["summary"]["fail"], 0);
    // manifest + config + 2 blobs + 2 diff_ids
    let digest = checks_named(&report, "digest");
    assert_eq!(digest.len(), 1);
    assert!(
        digest[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("6 digests verified"),
        "{digest:?}"
    );
}

#[test]
fn oci_archive_tar_passes() {
    let oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    let out = verify_files(&oci.files, &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report = out.json();
    assert_eq!(report["image"]["format"], "oci-archive");
    assert_eq!(report["image"]["layers"][0]["compression"], "gzip");
    assert_eq!(report["image"]["tags"][0], "docker.io/test/image:latest");
    let c = checks_named(&report, "layer-media-type");
    assert_eq!(c[0]["status"], "pass", "{c:?}");
    assert_eq!(c[0]["message"], "2 gzip layers");
}

/// What an OCI layout declares is what a registry holds once the layout is copied blob for
/// blob: uncompressed layers there are what Lambda refuses.
#[test]
fn uncompressed_layers_of_an_oci_layout_fail_with_lambdas_error() {
    let oci = oci_files(&lambda_spec(), false, Wrap::Plain);
    let out = verify_files(&oci.files, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    assert_eq!(report["summary"]["fail"], 1, "{report}");
    let c = checks_named(&report, "layer-media-type");
    assert_eq!(c[0]["status"], "fail");
    assert_eq!(c[0]["layer"], 1);
    assert_eq!(
        c[0]["message"].as_str().unwrap_or_default(),
        format!(
            "layer 1/2 application/vnd.oci.image.layer.v1.tar (uncompressed), layer 2/2 application/vnd.oci.image.layer.v1.tar (uncompressed): \
             Lambda refuses the image with \"InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest {}\"; \
             only gzip layers are safe (buildx: --output type=oci,compression=gzip,force-compression=true)",
            oci.layer_digests[0]
        )
    );
    let out = verify_files(&oci.files, &["--skip", "layer-media-type"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

/// A classic docker-archive declares no media types: its plain tars are the archive's
/// transport, and docker push compresses them. Engine ≥ 25's docker save declares them all
/// uncompressed for the same reason; a mix (containerd image store) fails.
#[test]
fn docker_save_archives_are_not_judged_by_their_transport() {
    let report = verify_files(&docker_archive_files(&lambda_spec()), &["--format", "json"]).json();
    let c = checks_named(&report, "layer-media-type");
    assert_eq!(c[0]["status"], "info", "{c:?}");
    assert!(
        c[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("not applicable: a docker-archive declares no layer media types"),
        "{c:?}"
    );
    let files = docker25_files(&lambda_spec());
    let report = verify_files(&files, &["--format", "json"]).json();
    let c = checks_named(&report, "layer-media-type");
    assert_eq!(c[0]["status"], "info", "{c:?}");

    // The same archive with its second layer declared gzip (and stored so): the first is
    // pushed as it is.
    let mixed = mixed_docker25_files();
    let out = verify_files(&mixed, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let c = checks_named(&report, "layer-media-type");
    assert_eq!(c[0]["status"], "fail", "{c:?}");
    assert!(
        c[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("layer 1/2 application/vnd.docker.image.rootfs.diff.tar (uncompressed): Lambda refuses the image with \"InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest sha256:"),
        "{c:?}"
    );
}

/// Engine ≥ 25 `docker save` of a containerd-store image whose base came in uncompressed
/// (engines.md): layer 1 a plain tar declared so, layer 2 gzip.
fn mixed_docker25_files() -> Files {
    let spec = lambda_spec();
    let tars: Vec<Vec<u8>> = spec.layers.iter().map(Layer::tar).collect();
    let diff_ids: Vec<String> = tars.iter().map(|t| sha(t)).collect();
    let mut files = Files::new();
    let put = |files: &mut Files, bytes: Vec<u8>| {
        let d = sha(&bytes);
        let size = bytes.len();
        files.push((format!("blobs/sha256/{}", hex(&d)), bytes));
        (d, size)
    };
    let (l1, s1) = put(&mut files, tars[0].clone());
    let (l2, s2) = put(&mut files, gzip(&tars[1]));
    let (cd, cs) = put(&mut files, config_json(&spec, &diff_ids));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": l1, "size": s1},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l2, "size": s2},
        ],
    });
    let (md, ms) = put(&mut files, serde_json::to_vec(&manifest).expect("json"));
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms}]});
    push_layout(&mut files, &index);
    let saved = serde_json::json!([{"Config": format!("blobs/sha256/{}", hex(&cd)), "RepoTags": ["test/image:latest"],
        "Layers": [format!("blobs/sha256/{}", hex(&l1)), format!("blobs/sha256/{}", hex(&l2))]}]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&saved).expect("json"),
    ));
    files
}

#[test]
fn docker_25_archive_is_read_through_its_oci_layout() {
    let out = verify_files(&docker25_files(&lambda_spec()), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.json()["image"]["format"], "docker-archive-oci");
}

#[test]
fn multi_platform_index_fails_single_platform_with_lambdas_error_and_the_fix() {
    let oci = oci_files(&lambda_spec(), true, Wrap::MultiPlatform);
    let out = verify_files(&oci.files, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let c = checks_named(&report, "single-platform");
    let msg = c[0]["message"].as_str().unwrap_or_default();
    assert_eq!(c[0]["status"], "fail");
    assert!(
        msg.contains("2 platforms (linux/amd64, linux/arm64)"),
        "{msg}"
    );
    assert!(
        msg.contains("Lambda refuses it with \"The image manifest, config or layer media type for the source image <image> is not supported.\""),
        "{msg}"
    );
    assert!(
        msg.contains("--provenance=false --sbom=false --platform linux/amd64"),
        "{msg}"
    );
    // --arch picks the platform to read.
    let out = verify_files(&oci.files, &["--format", "json", "--arch", "arm64"]);
    assert_eq!(out.json()["image"]["architecture"], "arm64");
}

#[test]
fn arch_picks_the_index_entry_even_when_descriptors_name_no_platform() {
    // arm64 is listed first: without --arch the amd64 image is read, with it the arm64 one.
    let oci = oci_files(&lambda_spec(), true, Wrap::BarePlatforms);
    let report = verify_files(&oci.files, &["--format", "json"]).json();
    assert_eq!(report["image"]["architecture"], "amd64");
    let out = verify_files(&oci.files, &["--format", "json", "--arch", "arm64"]);
    let report = out.json();
    assert_eq!(report["image"]["architecture"], "arm64");
    let arch = checks_named(&report, "architecture");
    assert_eq!(arch[0]["status"], "pass", "{arch:?}");
    let single = checks_named(&report, "single-platform");
    let msg = single[0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("2 platforms (linux/arm64, linux/amd64)"),
        "{msg}"
    );
}

#[test]
fn attestation_index_fails_single_platform() {
    let oci = oci_files(&lambda_spec(), true, Wrap::Attestation);
    let out = verify_files(&oci.files, &["--format", "json"]);
    assert_eq!(out.code, 1);
    let report = out.json();
    let c = checks_named(&report, "single-platform");
    assert!(
        c[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1 attestation manifest"),
        "{c:?}"
    );
    // Everything else about the image is fine.
    assert_eq!(report["summary"]["fail"], 1);
    // Skipping it turns the exit code to 0.
    let out = verify_files(&oci.files, &["--skip", "single-platform"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out
        .stdout
        .contains("- single-platform: skipped (--skip single-platform)"));
}

fn whiteout_spec() -> Spec {
    let mut spec = lambda_spec();
    spec.layers.push(
        Layer::new()
            .dir("var/cache/dnf", 0o755)
            .file("var/cache/dnf/repo.solv", 0o644, &vec![7u8; 40_000])
            .file("opt/big.bin", 0o644, &vec![1u8; 50_000])
            .file("opt/keep/a", 0o644, b"a")
            .file("opt/keep/b", 0o644, b"b"),
    );
    spec.layers.push(
        Layer::new()
            .whiteout("opt/big.bin")
            .opaque("opt/keep")
            .file("opt/keep/c", 0o644, b"c")
            .file(
                "etc/os-release",
                0o644,
                b"NAME=\"Amazon Linux\"\nVERSION_ID=\"2023\"\nID=\"amzn\"\n",
            ),
    );
    spec
}

#[test]
fn whiteouts_hide_lower_layers_and_waste_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /opt/big.bin, absent: true}\n  - {path: /opt/keep/a, absent: true}\n  - {path: /opt/keep/c, type: file}\n  - {path: /etc/os-release, contains: 'ID=\"amzn\"'}\n",
    )
    .expect("write");
    let files = docker_archive_files(&whiteout_spec());
    let out = verify_files(
        &files,
        &[
            "--format",
            "json",
            "-m",
            manifest.to_str().expect("utf8"),
            "--waste-threshold",
            "50kB",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report = out.json();
    let paths = checks_named(&report, "path");
    assert_eq!(paths.len(), 4);
    assert!(paths.iter().all(|c| c["status"] == "pass"), "{paths:?}");
    assert_eq!(paths[2]["layer"], 4);
    let waste = checks_named(&report, "wasted-bytes");
    assert_eq!(waste[0]["status"], "warn");
    let msg = waste[0]["message"].as_str().unwrap_or_default();
    // 50,000 + 1 + 1 bytes deleted, the 38-byte os-release overwritten, 40,000 of dnf cache.
    assert!(
        msg.contains("/opt/big.bin (50.0 kB, layer 3 → deleted in layer 4)"),
        "{msg}"
    );
    assert!(msg.contains("rpm caches left"), "{msg}");
    // A warning fails the run only when asked to.
    let strict = verify_files(
        &files,
        &[
            "--waste-threshold",
            "50kB",
            "--failure-threshold",
            "warning",
        ],
    );
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    // Under the threshold: a pass.
    let out = verify_files(&files, &["--format", "json", "--waste-threshold", "1MB"]);
    assert_eq!(status_of(&out.json(), "wasted-bytes"), "pass");
}

#[test]
fn counts_of_one_are_singular() {
    // One file, deleted by the layer after it.
    let mut spec = lambda_spec();
    spec.layers
        .push(Layer::new().file("opt/tmp.bin", 0o644, b"12345"));
    spec.layers.push(Layer::new().whiteout("opt/tmp.bin"));
    let out = verify_files(&docker_archive_files(&spec), &[]);
    let text = out.stdout.clone();
    assert_eq!(out.code, 0, "{text}");
    assert!(
        text.contains(
            "5 B wasted (threshold 10.0 MB): 5 B in 1 file overwritten or deleted by later layers;"
        ),
        "{text}"
    );
    assert!(
        text.contains("✓ permissions: 3 entries under /var/task and /opt readable by others"),
        "{text}"
    );
    // An empty task root and no /opt: one entry.
    let mut spec = lambda_spec();
    spec.layers[1] = Layer::new().dir("var/task", 0o755);
    let out = verify_files(&docker_archive_files(&spec), &["--skip", "handler"]);
    let text = out.stdout.clone();
    assert!(
        text.contains("✓ permissions: 1 entry under /var/task and /opt readable by others"),
        "{text}"
    );
}

/// An image with a passing and a failing entry of every kind of manifest path check, and a
/// manifest that asks about them (and about metadata and Lambda limits): the archive's files
/// and the manifest, in a temporary folder.
fn native_manifest_case() -> (Files, tempfile::TempDir, std::path::PathBuf) {
    let mut spec = lambda_spec();
    spec.layers.push(
        Layer::new()
            .dir("opt", 0o755)
            .owned_file("opt/secret.txt", 0o600, 1000, 1000, b"x")
            .symlink("opt/release", "/etc/os-release")
            .symlink("opt/rel-release", "../etc/os-release")
            .hardlink("opt/hard", "etc/os-release")
            .symlink("usr/bin/yum", "dnf"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        r#"schemaVersion: lambda-image/v1
paths:
  - {path: "${LAMBDA_TASK_ROOT}/app.py", type: file, readable_by: any}
  - {path: /lambda-entrypoint.sh, type: file, executable_by: any, mode: "0755", uid: 0, gid: 0}
  - {path: /opt/release, contains: 'VERSION_ID="2023"'}
  - {path: /opt/rel-release, type: symlink, target: ../etc/os-release}
  - {path: /opt/hard, contains: Amazon}
  - {path: /opt/secret.txt, readable_by: any, uid: 0}
  - {path: /usr/bin/yum, absent: true}
  - {path: /etc/os-release, contains: 'VERSION_ID="2"'}
  - {path: "${NOT_SET}/x"}
  - {path: /var/task, type: file}
metadata:
  env: {LAMBDA_TASK_ROOT: /var/task}
  entrypoint: ["/lambda-entrypoint.sh"]
  cmd: ["other.handler"]
  workdir: /var/task
lambda: {architecture: x86_64, max_size: 10GB}
"#,
    )
    .expect("write");
    (docker_archive_files(&spec), dir, manifest)
}

#[test]
fn native_manifest_checks_pass_and_fail_with_reasons() {
    let (files, _dir, manifest) = native_manifest_case();
    let out = verify_files(
        &files,
        &["--format", "json", "-m", manifest.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let paths = checks_named(&report, "path");
    let by_path = |p: &str| {
        paths
            .iter()
            .find(|c| c["path"] == p)
            .map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_string(),
                    c["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .unwrap_or_else(|| panic!("no check for {p}: {paths:?}"))
    };
    assert_eq!(by_path("/var/task/app.py").0, "pass");
    assert_eq!(by_path("/lambda-entrypoint.sh").0, "pass");
    assert_eq!(
        by_path("/opt/release"),
        (
            "pass".into(),
            "file 0644 0:0, 38 B (via symlink: /etc/os-release)".into()
        )
    );
    assert_eq!(by_path("/opt/rel-release").0, "pass");
    assert_eq!(by_path("/opt/hard").0, "pass");
    let (status, msg) = by_path("/opt/secret.txt");
    assert_eq!(status, "fail");
    assert_eq!(
        msg,
        "uid is 1000, not 0; not readable by others (mode 0600)"
    );
    let (status, msg) = by_path("/usr/bin/yum");
    assert_eq!(status, "fail");
    assert!(
        msg.starts_with("should be absent, but is there (symlink"),
        "{msg}"
    );
    assert_eq!(
        by_path("/etc/os-release").1,
        "does not contain \"VERSION_ID=\\\"2\\\"\""
    );
    assert_eq!(
        by_path("${NOT_SET}/x").1,
        "uses ${NOT_SET}, which the image's Env does not set"
    );
    assert_eq!(by_path("/var/task").1, "is a directory, not a file");
    assert_eq!(status_of(&report, "env"), "pass");
    assert_eq!(status_of(&report, "entrypoint"), "pass");
    assert_eq!(
        checks_named(&report, "cmd")
            .iter()
            .filter(|c| c["kind"] == "manifest")
            .count(),
        1
    );
    let cmd = checks_named(&report, "cmd");
    assert_eq!(
        cmd[0]["message"],
        "is [\"app.handler\"], not [\"other.handler\"]"
    );
    assert_eq!(status_of(&report, "workdir"), "pass");
    assert_eq!(status_of(&report, "architecture"), "pass");
    assert_eq!(status_of(&report, "max-size"), "pass");
    // The Lambda permissions check finds the same file.
    let perms = checks_named(&report, "permissions");
    assert!(
        perms
            .iter()
            .any(|c| c["path"] == "/opt/secret.txt" && c["status"] == "fail"),
        "{perms:?}"
    );
}

/// The whole text report, as a user reads it: the header, the three groups, the summary;
/// the archive's temporary path redacted.
#[test]
fn the_text_report_as_a_whole() {
    let (files, _dir, manifest) = native_manifest_case();
    let (_archive_dir, archive) = tar_in_temp(&files);
    let archive = archive.to_str().expect("utf8");
    let out = run(&[
        "verify",
        "--archive",
        archive,
        "-m",
        manifest.to_str().expect("utf8"),
    ]);
    assert_eq!(out.code, 1, "{}", out.both());
    insta::with_settings!({filters => vec![(regex::escape(archive).as_str(), "[ARCHIVE]")]}, {
        insta::assert_snapshot!(out.stdout);
    });
}

#[test]
fn absolute_symlinks_resolve_inside_the_image_not_on_the_host() {
    let mut spec = lambda_spec();
    spec.layers.push(
        Layer::new()
            .file("etc/hostname", 0o644, b"image-hostname\n")
            .symlink("opt/abs-link", "/etc/hostname")
            .symlink("opt/escape", "../../../../../../etc/hostname"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /opt/abs-link, contains: image-hostname}\n  - {path: /opt/escape, contains: image-hostname}\n",
    )
    .expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &["-m", manifest.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "  ✓ path: file 0644 0:0, 15 B (via symlink: /etc/hostname) (/opt/escape) [layer 3]\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn container_structure_test_config() {
    let mut spec = lambda_spec();
    spec.labels = vec![("team".into(), "orders".into())];
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("cst.yaml");
    std::fs::write(
        &config,
        r#"schemaVersion: 2.0.0
globalEnvVars:
  - {key: APP, value: "${LAMBDA_TASK_ROOT}/app.py"}
fileExistenceTests:
  - name: handler
    path: ${APP}
    shouldExist: true
    permissions: -rw-r--r--
    uid: 0
    gid: 0
  - name: entrypoint executable
    path: /lambda-entrypoint.sh
    shouldExist: true
    isExecutableBy: other
  - name: no yum
    path: /usr/bin/yum
    shouldExist: false
  - name: wrong permissions
    path: /var/task/app.py
    permissions: -rwxr-xr-x
fileContentTests:
  - name: al2023
    path: /etc/os-release
    expectedContents: ['VERSION_ID="20\d\d"']
    excludedContents: ['VERSION_ID="2"$']
commandTests:
  - name: python version
    command: python3
    args: [--version]
    expectedOutput: [Python 3]
metadataTest:
  envVars:
    - {key: LAMBDA_TASK_ROOT, value: /var/task}
    - {key: PATH, value: "/var/lang/bin:.*", isRegex: true}
  labels:
    - {key: team, value: orders}
  entrypoint: ["/lambda-entrypoint.sh"]
  cmd: ["app.handler"]
  workdir: /var/task
"#,
    )
    .expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &["--format", "json", "-m", config.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    assert_eq!(status_of(&report, "handler"), "pass"); // the Lambda check and the CST test share the name
    assert!(checks_named(&report, "handler")
        .iter()
        .all(|c| c["status"] == "pass"));
    assert_eq!(status_of(&report, "entrypoint executable"), "pass");
    assert_eq!(status_of(&report, "no yum"), "pass");
    let wrong = checks_named(&report, "wrong permissions");
    // The path is the check's own field, not repeated in the message.
    assert_eq!(wrong[0]["path"], "/var/task/app.py");
    assert_eq!(
        wrong[0]["message"],
        "permissions are -rw-r--r--, not -rwxr-xr-x"
    );
    assert_eq!(
        checks_named(&report, "no yum")[0]["message"],
        "does not exist"
    );
    assert_eq!(status_of(&report, "al2023"), "pass");
    let cmd = checks_named(&report, "python version");
    assert_eq!(cmd[0]["status"], "fail");
    assert_eq!(
        cmd[0]["message"],
        "commandTests need a running container: they run when the image is in the Docker Engine (verify IMAGE), not from an archive (--skip commandTests skips them)"
    );
    assert_eq!(status_of(&report, "Metadata Test"), "pass");
    assert_eq!(report["summary"]["fail"], 2);

    // The same config, unchanged, with its commandTests (and, here, fileExistenceTests) skipped
    // by kind: the wrong-permissions test no longer runs, and nothing fails.
    let out = verify_files(
        &docker_archive_files(&spec),
        &[
            "--format",
            "json",
            "-m",
            config.to_str().expect("utf8"),
            "--skip",
            "commandTests,fileExistenceTests",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report = out.json();
    let cmd = checks_named(&report, "python version");
    assert_eq!(cmd[0]["status"], "skip");
    assert_eq!(cmd[0]["message"], "skipped (--skip commandTests)");
    assert_eq!(status_of(&report, "wrong permissions"), "skip");
    assert_eq!(status_of(&report, "al2023"), "pass");
    assert_eq!(report["summary"]["fail"], 0);
}

#[test]
fn lambda_checks_catch_the_classic_mistakes() {
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["app.handler".into(), "extra".into()]);
    spec.layers.push(
        Layer::new()
            .file("lambda-entrypoint.real", 0o750, b"#!/bin/sh\n")
            .symlink("lambda-entrypoint.sh", "lambda-entrypoint.real")
            .file("var/task/app.py", 0o600, b"x")
            .dir("var/task/lib", 0o700),
    );
    let out = verify_files(
        &docker_archive_files(&spec),
        &["--format", "json", "--arch", "arm64"],
    );
    assert_eq!(out.code, 1);
    let report = out.json();
    let arity = checks_named(&report, "cmd-arity");
    assert!(arity[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("has 2 elements"));
    let ep = checks_named(&report, "entrypoint");
    assert_eq!(ep[0]["status"], "fail");
    assert_eq!(
        ep[0]["message"],
        "/lambda-entrypoint.sh (a symlink: /lambda-entrypoint.sh → lambda-entrypoint.real) is not readable and executable by others (mode 0750, needs o+rx); Lambda runs it as an unprivileged user",
        "{ep:?}"
    );
    let perms = checks_named(&report, "permissions");
    let failing: Vec<&str> = perms.iter().filter_map(|c| c["path"].as_str()).collect();
    assert_eq!(failing, vec!["/var/task/app.py", "/var/task/lib"]);
    let arch = checks_named(&report, "architecture");
    assert!(
        arch[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("image is amd64, the function is arm64"),
        "{arch:?}"
    );

    // Each one can be switched off by name; `all` switches off every Lambda check.
    let out = verify_files(
        &docker_archive_files(&spec),
        &[
            "--skip",
            "cmd-arity,entrypoint",
            "--skip",
            "permissions",
            "--arch",
            "amd64",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let out = verify_files(
        &docker_archive_files(&spec),
        &["--skip", "all", "--format", "json"],
    );
    let report = out.json();
    assert_eq!(report["summary"]["skip"], 9);
    assert_eq!(out.code, 0);
}

#[test]
fn entrypoint_must_be_readable_and_reachable_by_others() {
    // A script with o+x but no o+r cannot be read by its interpreter as Lambda's user.
    let mut spec = lambda_spec();
    spec.layers.push(Layer::new().file(
        "lambda-entrypoint.sh",
        0o711,
        b"#!/bin/sh\nexec /var/runtime/bootstrap\n",
    ));
    let out = verify_files(&docker_archive_files(&spec), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let ep = checks_named(&report, "entrypoint");
    assert_eq!(ep[0]["status"], "fail");
    assert_eq!(
        ep[0]["message"],
        "/lambda-entrypoint.sh is not readable and executable by others (mode 0711, needs o+rx); Lambda runs it as an unprivileged user"
    );
    assert_eq!(ep[0]["layer"], 3);

    // An entry point outside LAMBDA_TASK_ROOT and /opt, in a directory others cannot search.
    let mut spec = lambda_spec();
    spec.entrypoint = Some(vec!["/usr/local/bin/entry".into()]);
    spec.layers.push(
        Layer::new()
            .dir("usr", 0o755)
            .dir("usr/local", 0o755)
            .dir("usr/local/bin", 0o700)
            .file("usr/local/bin/entry", 0o755, b"#!/bin/sh\n"),
    );
    let out = verify_files(&docker_archive_files(&spec), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let ep = checks_named(&report, "entrypoint");
    assert_eq!(ep[0]["status"], "fail");
    assert_eq!(ep[0]["path"], "/usr/local/bin/entry");
    assert_eq!(
        ep[0]["message"],
        "others cannot reach /usr/local/bin/entry: /usr/local/bin not searchable (needs o+x); Lambda runs it as an unprivileged user"
    );
}

#[test]
fn handler_resolution_per_runtime() {
    // Python package path and dotted module.
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["pkg.sub.mod.handler".into()]);
    spec.layers.push(
        Layer::new()
            .file("var/lang/bin/python3.12", 0o755, b"")
            .file("var/task/pkg/sub/mod.py", 0o644, b""),
    );
    let out = verify_files(&docker_archive_files(&spec), &[]);
    assert!(
        out.stdout
            .contains("pkg.sub.mod.handler → /var/task/pkg/sub/mod.py (Python module)"),
        "{}",
        out.stdout
    );

    // Node: file.export with .mjs.
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["src/index.handler".into()]);
    spec.layers
        .push(Layer::new().file("var/lang/bin/node", 0o755, b"").file(
            "var/task/src/index.mjs",
            0o644,
            b"",
        ));
    let out = verify_files(&docker_archive_files(&spec), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out
        .stdout
        .contains("→ /var/task/src/index.mjs (Node.js module)"));

    // Node handler with no file: a failure naming the extensions.
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["missing.handler".into()]);
    spec.layers
        .push(Layer::new().file("var/lang/bin/node", 0o755, b""));
    let out = verify_files(&docker_archive_files(&spec), &[]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains(
        "Node.js handler missing.handler: no .js, .mjs or .cjs file for it under /var/task"
    ));

    // Ruby.
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["app.LambdaFunction::Handler.process".into()]);
    spec.layers
        .push(Layer::new().file("var/lang/bin/ruby", 0o755, b"").file(
            "var/task/app.rb",
            0o644,
            b"",
        ));
    let out = verify_files(&docker_archive_files(&spec), &[]);
    assert!(
        out.stdout.contains("→ /var/task/app.rb (Ruby file)"),
        "{}",
        out.stdout
    );

    // Java: info only.
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["example.App::handleRequest".into()]);
    spec.layers
        .push(Layer::new().file("var/lang/bin/java", 0o755, b"").file(
            "var/task/lib/app.jar",
            0o644,
            b"",
        ));
    let out = verify_files(&docker_archive_files(&spec), &["--format", "json"]);
    let report = out.json();
    let h = checks_named(&report, "handler");
    assert_eq!(h[0]["status"], "info");
    assert_eq!(h[0]["message"], "Java handler example.App::handleRequest: 1 jar(s) in /var/task/lib; classes inside jars are not inspected");
}

#[test]
fn output_formats() {
    let mut spec = lambda_spec();
    spec.cmd = None;
    let files = docker_archive_files(&spec);
    let out = verify_files(&files, &["--format", "junit"]);
    assert_eq!(out.code, 1);
    let xml = out.stdout.clone();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"lambda-image verify\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"cmd-arity\" classname=\"lambda-image.verify.lambda\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"no CMD: /lambda-entrypoint.sh needs the handler"),
        "{xml}"
    );

    let out = verify_files(&files, &["--format", "github"]);
    assert_eq!(out.code, 1);
    let gh = out.stdout.clone();
    assert!(
        gh.contains("::error title=lambda-image verify cmd-arity::no CMD: /lambda-entrypoint.sh needs the handler as its only argument; add CMD [\"app.handler\"]"),
        "{gh}"
    );
    assert!(
        !gh.contains("::error title=lambda-image verify entrypoint"),
        "{gh}"
    );
    // The summary adds up to the total, as the text summary does.
    let mut spec = lambda_spec();
    spec.entrypoint = Some(vec!["/var/runtime/bootstrap".into()]);
    let out = verify_files(&docker_archive_files(&spec), &["--format", "github"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        out.stdout.lines().last(),
        Some("lambda-image verify: 10 checks: 7 passed, 0 failed, 0 warnings, 0 skipped, 3 info")
    );

    // Quiet text: only what failed, and the summary.
    let out = verify_files(&files, &["-q"]);
    let text = out.stdout.clone();
    assert!(text.contains("✗ cmd-arity"), "{text}");
    assert!(!text.contains("✓"), "{text}");
    assert!(text.contains("FAIL: "), "{text}");

    // --color always styles text output.
    let out = verify_files(&files, &["--color", "always"]);
    assert!(out.stdout.contains("\x1b["));
}

#[test]
fn unknown_skip_name_is_a_usage_error() {
    let out = verify_files(&docker_archive_files(&lambda_spec()), &["--skip", "hander"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr.trim(),
        "lambda-image: error: --skip hander: no such check (Lambda checks: cmd-arity, entrypoint, handler, permissions, size, architecture, single-platform, layer-media-type, wasted-bytes, or all; container-structure-test kinds: commandTests, fileExistenceTests, fileContentTests, metadataTest, licenseTests)"
    );
}

/// python-slim with awslambdaric: no AWS entrypoint, no LAMBDA_TASK_ROOT.
fn ric_spec(cmd: &[&str]) -> Spec {
    let mut spec = lambda_spec();
    spec.entrypoint = Some(vec![
        "/usr/local/bin/python".into(),
        "-m".into(),
        "awslambdaric".into(),
    ]);
    spec.cmd = Some(cmd.iter().map(|s| s.to_string()).collect());
    spec.env = vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()];
    spec
}

fn lambda_check_names(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["kind"] == "lambda")
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_non_aws_base_gets_the_checks_every_lambda_image_needs() {
    let out = verify_files(&docker_archive_files(&ric_spec(&["app.handler"])), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("  i lambda: not an AWS base image layout (ENTRYPOINT is not /lambda-entrypoint.sh and Env has no LAMBDA_TASK_ROOT): only the checks every Lambda image needs run (cmd-arity, size, architecture, single-platform, layer-media-type); --lambda always runs the rest\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  ✓ cmd-arity: CMD [\"app.handler\"] (handler for awslambdaric)\n"),
        "{}",
        out.stdout
    );
    let report = verify_files(
        &docker_archive_files(&ric_spec(&["app.handler"])),
        &["--format", "json"],
    )
    .json();
    assert_eq!(
        lambda_check_names(&report),
        [
            "lambda",
            "cmd-arity",
            "size",
            "architecture",
            "single-platform",
            "layer-media-type"
        ]
    );

    // No handler for the runtime interface client: it fails to start.
    let out = verify_files(&docker_archive_files(&ric_spec(&[])), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let arity = checks_named(&report, "cmd-arity");
    assert_eq!(
        arity[0]["message"],
        "no CMD: awslambdaric needs the handler as its first argument; add CMD [\"app.handler\"]"
    );
    // Extra arguments are ignored by the client: a warning, which fails only at that threshold.
    let files = docker_archive_files(&ric_spec(&["app.handler", "x"]));
    assert_eq!(verify_files(&files, &[]).code, 0);
    assert_eq!(
        verify_files(&files, &["--failure-threshold", "warning"]).code,
        1
    );
}

#[test]
fn lambda_always_and_never() {
    let files = docker_archive_files(&ric_spec(&["app.handler"]));
    // always: every check, as on an AWS base (this entrypoint is not in the image).
    let out = verify_files(&files, &["--format", "json", "--lambda", "always"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    assert_eq!(
        lambda_check_names(&report)
            .into_iter()
            .filter(|n| n != "permissions")
            .collect::<Vec<_>>(),
        [
            "cmd-arity",
            "entrypoint",
            "handler",
            "size",
            "architecture",
            "single-platform",
            "layer-media-type",
            "wasted-bytes"
        ]
    );
    assert_eq!(
        checks_named(&report, "entrypoint")[0]["message"],
        "/usr/local/bin/python is not in the image (Runtime.InvalidEntrypoint)"
    );
    // never: no Lambda check at all, even on an AWS base with a broken CMD.
    let mut broken = lambda_spec();
    broken.cmd = Some(vec!["a".into(), "b".into()]);
    let out = verify_files(
        &docker_archive_files(&broken),
        &["--format", "json", "--lambda", "never"],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report = out.json();
    assert_eq!(lambda_check_names(&report), ["lambda"]);
    assert_eq!(
        checks_named(&report, "lambda")[0]["message"],
        "Lambda checks are off (--lambda never)"
    );
    let out = verify_files(&files, &["--lambda", "sometimes"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("invalid value 'sometimes' for '--lambda <LAMBDA>'"),
        "{}",
        out.stderr
    );
}

#[test]
fn two_tags_of_one_image_are_one_image() {
    let mut oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    let index = oci
        .files
        .iter_mut()
        .find(|(n, _)| n == "index.json")
        .expect("index");
    let mut v: serde_json::Value = serde_json::from_slice(&index.1).expect("json");
    let mut second = v["manifests"][0].clone();
    second["annotations"]["io.containerd.image.name"] = "docker.io/test/image:v2".into();
    v["manifests"].as_array_mut().expect("array").push(second);
    index.1 = serde_json::to_vec(&v).expect("json");
    let out = verify_files(&oci.files, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// A custom runtime (no Python, Node.js or Ruby handler file, a bootstrap) on the AWS
/// entrypoint, whose task root holds `files`.
fn custom_runtime_spec(task: Layer) -> Spec {
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["function.handler".into()]);
    spec.layers[1] = task;
    spec
}

fn bootstrap_check(spec: &Spec, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = verify_files(&docker_archive_files(spec), &args);
    let report = out.json();
    let handler = checks_named(&report, "handler")
        .first()
        .map(|c| (*c).clone())
        .unwrap_or_else(|| panic!("no handler check: {report}"));
    (out.code, handler)
}

#[test]
fn custom_runtime_bootstrap_must_be_there_and_executable_by_others() {
    // The base layer's /var/runtime/bootstrap (0755) is what the entrypoint execs.
    let ok = custom_runtime_spec(Layer::new().dir("var/task", 0o755));
    let (status, h) = bootstrap_check(&ok, &[]);
    assert_eq!(status, 0, "{h}");
    assert_eq!(h["status"], "info");
    assert_eq!(
        h["message"],
        "custom runtime: /lambda-entrypoint.sh execs /var/runtime/bootstrap (file, mode 0755, readable and executable by others); handler function.handler is passed to it unchecked"
    );

    // Copied without its executable bit: the classic "Permission denied".
    let mut spec = ok.clone();
    spec.layers
        .push(Layer::new().file("var/runtime/bootstrap", 0o644, b"#!/bin/sh\n"));
    let (status, h) = bootstrap_check(&spec, &[]);
    assert_eq!(status, 1, "{h}");
    assert_eq!(h["status"], "fail");
    assert_eq!(h["path"], "/var/runtime/bootstrap");
    assert_eq!(h["layer"], 3);
    assert_eq!(
        h["message"],
        "custom runtime bootstrap: /var/runtime/bootstrap is not readable and executable by others (mode 0644, needs o+rx); /lambda-entrypoint.sh execs it as Lambda's unprivileged user and fails with \"Permission denied\" (Runtime.InvalidEntrypoint): COPY --chmod=755 or RUN chmod 755 it"
    );
    // Executable by its owner only is no better.
    let mut spec = ok.clone();
    spec.layers
        .push(Layer::new().file("var/runtime/bootstrap", 0o750, b"#!/bin/sh\n"));
    assert_eq!(bootstrap_check(&spec, &[]).1["status"], "fail");
    // `--skip handler` turns it off.
    let (status, h) = bootstrap_check(&spec, &["--skip", "handler"]);
    assert_eq!((status, h["status"].as_str()), (0, Some("skip")));

    // Only in the task root: the entrypoint never runs it.
    let mut spec = custom_runtime_spec(Layer::new().dir("var/task", 0o755).file(
        "var/task/bootstrap",
        0o755,
        b"#!/bin/sh\n",
    ));
    spec.layers[0] = Layer::new()
        .file("lambda-entrypoint.sh", 0o755, b"#!/bin/sh\n")
        .dir("var", 0o755)
        .dir("var/runtime", 0o755);
    let (status, h) = bootstrap_check(&spec, &[]);
    assert_eq!(status, 1, "{h}");
    assert_eq!(
        h["message"],
        "custom runtime bootstrap: /var/runtime/bootstrap is not in the image; /lambda-entrypoint.sh execs it and fails with \"No such file or directory\" (Runtime.InvalidEntrypoint); the bootstrap at /var/task/bootstrap is not run by it: copy it to /var/runtime/bootstrap"
    );

    // A symlink into a task root others cannot search: both ends are followed.
    let mut linked = spec.clone();
    linked.layers[1] = Layer::new()
        .dir("var/task", 0o750)
        .file("var/task/bootstrap", 0o755, b"#!/bin/sh\n")
        .symlink("var/runtime/bootstrap", "/var/task/bootstrap");
    let (status, h) = bootstrap_check(&linked, &["--skip", "permissions"]);
    assert_eq!(status, 1, "{h}");
    assert_eq!(
        h["message"],
        "custom runtime bootstrap: others cannot reach /var/runtime/bootstrap (via symlink: /var/task/bootstrap): /var/task not searchable (needs o+x); /lambda-entrypoint.sh execs it as Lambda's unprivileged user (Runtime.InvalidEntrypoint)"
    );
    // The same link with a searchable task root is fine.
    linked.layers[1] = Layer::new()
        .dir("var/task", 0o755)
        .file("var/task/bootstrap", 0o755, b"#!/bin/sh\n")
        .symlink("var/runtime/bootstrap", "/var/task/bootstrap");
    let (status, h) = bootstrap_check(&linked, &[]);
    assert_eq!((status, h["status"].as_str()), (0, Some("info")), "{h}");

    // A dangling link and a directory are not bootstraps either.
    linked.layers[1] = Layer::new()
        .dir("var/task", 0o755)
        .file("opt/bootstrap", 0o755, b"#!/bin/sh\n")
        .symlink("var/runtime/bootstrap", "/var/task/bootstrap");
    let (status, h) = bootstrap_check(&linked, &[]);
    assert_eq!(status, 1, "{h}");
    assert!(
        h["message"].as_str().unwrap_or_default().starts_with(
            "custom runtime bootstrap: /var/runtime/bootstrap is a symlink to /var/task/bootstrap, which is not in the image;"
        ),
        "{h}"
    );
    linked.layers[1] = Layer::new()
        .dir("var/task", 0o755)
        .dir("var/runtime/bootstrap", 0o755);
    let (status, h) = bootstrap_check(&linked, &[]);
    assert_eq!(status, 1, "{h}");
    assert_eq!(
        h["message"],
        "custom runtime bootstrap: /var/runtime/bootstrap is not a regular file; /lambda-entrypoint.sh execs it (Runtime.InvalidEntrypoint)"
    );
}

#[test]
fn executable_by_any_needs_every_directory_on_the_way_searchable() {
    let mut spec = lambda_spec();
    spec.layers
        .push(Layer::new().dir("opt", 0o755).dir("opt/bin", 0o750).file(
            "opt/bin/tool",
            0o755,
            b"#!/bin/sh\n",
        ));
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /opt/bin/tool, executable_by: any}\n  - {path: /opt/bin/tool, executable_by: owner}\n  - {path: /opt/bin/tool, readable_by: any, executable_by: any}\n",
    )
    .expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &[
            "--format",
            "json",
            "--skip",
            "permissions",
            "-m",
            manifest.to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let paths: Vec<(&str, &str)> = checks_named(&report, "path")
        .iter()
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default(),
                c["message"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let unreachable = "others cannot reach it: /opt/bin not searchable (o+x)";
    assert_eq!(
        paths,
        vec![
            ("fail", unreachable),
            ("pass", "file 0755 0:0, 10 B"),
            // Said once, not once per `*_by: any`.
            ("fail", unreachable),
        ]
    );
}

#[test]
fn text_lines_read_name_message_then_the_path() {
    let mut spec = lambda_spec();
    spec.layers
        .push(Layer::new().owned_file("var/task/data.txt", 0o600, 1000, 1000, b"x"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("cst.yaml");
    std::fs::write(
        &config,
        "schemaVersion: 2.0.0\nfileExistenceTests:\n  - {name: owned by root, path: /var/task/data.txt, shouldExist: true, uid: 0}\n",
    )
    .expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &["-m", config.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 1);
    let text = out.stdout.clone();
    // A test's own name and the path it checks no longer run together.
    assert!(
        text.contains("\n  ✗ owned by root: uid is 1000, not 0 (/var/task/data.txt) [layer 3]\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n  ✗ permissions: not readable by others (needs o+r): mode 0600 (/var/task/data.txt) [layer 3]\n"
        ),
        "{text}"
    );
    // The JSON report keeps the path and the layer in their own fields.
    let out = verify_files(
        &docker_archive_files(&spec),
        &["-m", config.to_str().expect("utf8"), "--format", "json"],
    );
    let report = out.json();
    let owned = checks_named(&report, "owned by root");
    assert_eq!(owned[0]["path"], "/var/task/data.txt");
    assert_eq!(owned[0]["layer"], 3);
    assert_eq!(owned[0]["message"], "uid is 1000, not 0");
}

/// A spec folder whose `verify:` manifest wants /var/task/app.py and the handler CMD.
fn spec_dir(architectures: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write =
        |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write(
        "image.yaml",
        &format!("runtime: python3.13\narchitectures: [{architectures}]\ncopy: [{{src: app.py}}]\nhandler: app.handler\ntags: [orders:latest]\nverify: manifest.yaml\n"),
    );
    write("app.py", "def handler(event, context):\n    return 1\n");
    write(
        "manifest.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /var/task/app.py, type: file}\n  - {path: /var/task/orders.py, type: file}\n",
    );
    dir
}

#[test]
fn spec_gives_the_manifest_and_the_architecture() {
    let files = docker_archive_files(&lambda_spec());
    let dir = spec_dir("arm64");
    let spec = dir.path().to_str().expect("utf8");
    let out = verify_files(&files, &["--spec", spec, "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let arch = checks_named(&report, "architecture");
    assert!(
        arch[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("image is amd64, the function is arm64"),
        "{arch:?}"
    );
    let paths = checks_named(&report, "path");
    let statuses: Vec<(&str, &str)> = paths
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap_or_default(),
                c["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("/var/task/app.py", "pass"),
            ("/var/task/orders.py", "fail")
        ]
    );

    // Two architectures: the image is one of them, so say which.
    let dir = spec_dir("x86_64, arm64");
    let spec = dir.path().to_str().expect("utf8");
    let out = verify_files(&files, &["--spec", spec]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr.trim(),
        format!(
            "lambda-image: error: {spec}/image.yaml: the spec builds x86_64 and arm64: say which image with --arch"
        )
    );
    let out = verify_files(
        &files,
        &["--spec", spec, "--arch", "x86_64", "--format", "json"],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(status_of(&out.json(), "architecture"), "pass");
    // --spec brings its manifest: -m beside it is refused.
    let out = verify_files(&files, &["--spec", spec, "-m", "x.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("the argument '--spec <SPEC>' cannot be used with '--manifest <FILE>'"),
        "{}",
        out.stderr
    );
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").count() == 3,
        "nothing written"
    );
}

#[test]
fn verbose_names_what_was_read_and_how_long_it_took() {
    let files = docker_archive_files(&lambda_spec());
    let out = verify_files(&files, &["-v"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out
        .stderr
        .clone()
        .lines()
        .find(|l| l.starts_with("lambda-image: read 2 layers ("))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(line.contains(" files) with every digest in "), "{line}");
    assert!(!verify_files(&files, &[])
        .stderr
        .contains("lambda-image: read "));
}

#[test]
fn a_bad_spec_is_one_line_and_exit_2() {
    let dir = spec_dir("x86_64");
    let spec = dir.path().to_str().expect("utf8");
    let one_line = |args: &[&str], want: &str| {
        let out = run(args);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert_eq!(out.stderr.trim(), format!("lambda-image: error: {want}"));
        assert_eq!(out.stdout, "");
    };
    one_line(
        &["verify", "--spec", spec, "--arch", "arm64"],
        &format!("{spec}/image.yaml: --arch arm64 is not one of the spec's architectures (x86_64)"),
    );
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "schemaVersion: lambda-image/v1\npaths: [{pth: x}]\n",
    )
    .expect("write");
    let out = run(&["verify", "--spec", spec]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(&format!(
            "lambda-image: error: {spec}/manifest.yaml:2:10: unknown field `pth`"
        )),
        "{}",
        out.stderr
    );
    std::fs::remove_file(dir.path().join("manifest.yaml")).expect("rm");
    let out = run(&["verify", "--spec", spec]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("verify: 'manifest.yaml' does not exist"),
        "{}",
        out.stderr
    );
}

/// AWS's runtime interface client on an official `python:*-slim` image: ENTRYPOINT
/// ["/usr/local/bin/python", "-m", "awslambdaric"], where `python` → `python3` → `python3.12`.
/// That works on Lambda: a warning quoting AWS's older advice, not a failure. What is
/// certainly broken still fails: a dangling link, a link climbing out of the image, a target
/// others cannot run.
#[test]
fn a_symlinked_entrypoint_that_reaches_an_executable_is_a_warning() {
    let ric = |layer: Layer| {
        let mut spec = lambda_spec();
        spec.entrypoint = Some(vec![
            "/usr/local/bin/python".into(),
            "-m".into(),
            "awslambdaric".into(),
        ]);
        spec.layers.push(
            Layer::new()
                .dir("usr", 0o755)
                .dir("usr/local", 0o755)
                .dir("usr/local/bin", 0o755)
                .symlink("usr/local/bin/python", "python3"),
        );
        spec.layers.push(layer);
        spec
    };
    let works = ric(Layer::new()
        .symlink("usr/local/bin/python3", "python3.12")
        .file("usr/local/bin/python3.12", 0o755, b"\x7fELF"));
    let out = verify_files(&docker_archive_files(&works), &["--skip", "handler"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .clone()
        .lines()
        .find(|l| l.contains("entrypoint:"))
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        line,
        "  ! entrypoint: a symlink: /usr/local/bin/python → python3 → python3.12 (file, mode 0755); \
         AWS's older documentation says \"do not use symlinks as the entry point\", but this is known to work \
         (AWS's runtime interface client runs this way on the official python images) [layer 4]"
    );
    // A warning fails the run only when asked.
    let out = verify_files(
        &docker_archive_files(&works),
        &["--skip", "handler", "--failure-threshold", "warning"],
    );
    assert_eq!(out.code, 1);

    let message = |spec: &Spec| {
        let out = verify_files(
            &docker_archive_files(spec),
            &["--skip", "handler", "--format", "json"],
        );
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let ep = checks_named(&report, "entrypoint");
        assert_eq!(ep[0]["status"], "fail", "{report}");
        ep[0]["message"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(
        message(&ric(Layer::new().symlink("usr/local/bin/python3", "python3.12"))),
        "/usr/local/bin/python is a symlink to python3.12, which is not in the image (a dangling link; Runtime.InvalidEntrypoint)"
    );
    assert_eq!(
        message(&ric(Layer::new().symlink(
            "usr/local/bin/python3",
            "../../../../usr/bin/python3"
        ))),
        "/usr/local/bin/python is a symlink to ../../../../usr/bin/python3, which leaves the image (it climbs above /); Lambda cannot run it (Runtime.InvalidEntrypoint)"
    );
    assert_eq!(
        message(&ric(Layer::new()
            .symlink("usr/local/bin/python3", "python3.12")
            .file("usr/local/bin/python3.12", 0o750, b"\x7fELF"))),
        "/usr/local/bin/python (a symlink: /usr/local/bin/python → python3 → python3.12) is not readable and executable by others (mode 0750, needs o+rx); Lambda runs it as an unprivileged user"
    );
    assert_eq!(
        message(&ric(
            Layer::new().symlink("usr/local/bin/python3", "/usr/local/bin/python")
        )),
        "/usr/local/bin/python is a symlink loop"
    );
}
