//! Hostile and broken inputs: each gives a one-line error and exit 2 (or a failed check
//! and exit 1 where that is the honest answer), never a panic, never a write, and bounded
//! memory.

mod common;

use std::path::Path;

use common::fixtures::*;
use common::{run, Run};

/// Runs verify on `files` (as image.tar) and asserts the run wrote nothing next to it.
fn verify_files(files: &Files, extra: &[&str]) -> Run {
    let (dir, path) = tar_in_temp(files);
    verify_path(dir.path(), &path, extra)
}

fn verify_path(dir: &Path, path: &Path, extra: &[&str]) -> Run {
    let before = listing(dir);
    let mut args = vec!["verify", "--archive", path.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(listing(dir), before, "verify wrote into {}", dir.display());
    out
}

/// Exit 2, one line on stderr starting with our prefix, nothing on stdout; returns the line.
fn one_line_error(out: &Run) -> String {
    out.assert_error_starts("");
    out.stderr.trim_end().to_string()
}

#[test]
fn parent_and_absolute_entry_names_stay_inside_the_image() {
    let marker = format!("lambda-image-escape-{}", std::process::id());
    let mut spec = lambda_spec();
    spec.layers.push(
        Layer::new()
            .file(&format!("../../../../tmp/{marker}"), 0o644, b"escaped?")
            .file(&format!("/{marker}-abs"), 0o644, b"abs"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        format!("schemaVersion: lambda-image/v1\npaths:\n  - {{path: /tmp/{marker}, contains: escaped?}}\n  - {{path: /{marker}-abs, type: file}}\n"),
    )
    .expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &["--format", "json", "-m", manifest.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report = out.json();
    let names = checks_named(&report, "entry-names");
    assert_eq!(names[0]["status"], "warn");
    assert_eq!(names[0]["layer"], 3);
    assert!(
        names[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("2 entries named outside the image root"),
        "{names:?}"
    );
    assert!(!Path::new(&format!("/tmp/{marker}")).exists());
    assert!(!Path::new(&format!("/{marker}-abs")).exists());
}

#[test]
fn symlink_loops_are_failed_checks_not_hangs() {
    let mut spec = lambda_spec();
    spec.layers.push(
        Layer::new()
            .symlink("opt/a", "b")
            .symlink("opt/b", "/opt/a")
            .symlink("opt/self", "self"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(&manifest, "schemaVersion: lambda-image/v1\npaths:\n  - {path: /opt/a/x, type: file}\n  - {path: /opt/self, contains: x}\n").expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &["--format", "json", "-m", manifest.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 1);
    let report = out.json();
    let paths = checks_named(&report, "path");
    assert_eq!(paths.len(), 2);
    for c in paths {
        assert_eq!(c["status"], "fail");
        assert_eq!(c["message"], "symlink loop (more than 40 links)");
    }
}

/// VmHWM (peak RSS) of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// An OCI archive whose app layer is one file of `big` zero bytes, gzipped to a few
/// hundred kB. Compressing that many zeros here would be slow, so one fully flushed
/// 1 MiB block of zeros is repeated: each decodes on its own.
fn zero_bomb(big: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    const CHUNK: usize = 1024 * 1024;
    let header = raw_header(b"zeros.bin", b'0', 0o644, 0, 0, big, b"");
    let zeros = vec![0u8; CHUNK];
    let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
    let mut body = Vec::with_capacity(512 * 1024);
    let mut compress = |input: &[u8], flush: flate2::FlushCompress, out: &mut Vec<u8>| {
        let mut buf = vec![0u8; 2 * CHUNK];
        let before_in = deflate.total_in();
        let before_out = deflate.total_out();
        deflate.compress(input, &mut buf, flush).expect("deflate");
        assert_eq!((deflate.total_in() - before_in) as usize, input.len());
        out.extend_from_slice(&buf[..(deflate.total_out() - before_out) as usize]);
    };
    compress(&header, flate2::FlushCompress::Full, &mut body);
    let mut block = Vec::new();
    compress(&zeros, flate2::FlushCompress::Full, &mut block);
    for _ in 0..big / CHUNK as u64 {
        body.extend_from_slice(&block);
    }
    let end = [0u8; 1024];
    compress(&end, flate2::FlushCompress::Finish, &mut body);
    // gzip = header + raw deflate + CRC-32 + size.
    let mut crc = flate2::Crc::new();
    crc.update(&header);
    let mut crc_zeros = flate2::Crc::new();
    crc_zeros.update(&zeros);
    for _ in 0..big / CHUNK as u64 {
        crc.combine(&crc_zeros);
    }
    crc.update(&end);
    let mut blob = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    blob.extend_from_slice(&body);
    blob.extend_from_slice(&crc.sum().to_le_bytes());
    blob.extend_from_slice(&((big + 1536) as u32).to_le_bytes());
    assert!(blob.len() < 512 * 1024, "{}", blob.len());
    let mut diff = sha2::Sha256::default();
    sha2::Digest::update(&mut diff, &header);
    for _ in 0..big / CHUNK as u64 {
        sha2::Digest::update(&mut diff, &zeros);
    }
    sha2::Digest::update(&mut diff, end);
    let diff_id = format!(
        "sha256:{}",
        sha2::Digest::finalize(diff)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );

    let spec = lambda_spec();
    let mut oci = oci_files(&spec, true, Wrap::Plain);
    // Replace the app layer by the bomb: new blob, descriptor, diff_id, config, manifest.
    let blob_digest = sha(&blob);
    let base_tar = spec.layers[0].tar();
    let base_blob = gzip(&base_tar);
    let config = {
        let mut s = spec.clone();
        s.layers.truncate(1);
        let mut c: serde_json::Value =
            serde_json::from_slice(&config_json(&s, &[sha(&base_tar), diff_id])).expect("json");
        c["config"]["Cmd"] = serde_json::json!(["app.handler"]);
        serde_json::to_vec(&c).expect("json")
    };
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&config), "size": config.len()},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(&base_blob), "size": base_blob.len()},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob_digest, "size": blob.len()},
        ],
    });
    let manifest = serde_json::to_vec(&manifest).expect("json");
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&manifest), "size": manifest.len()}
    ]});
    oci.files = vec![
        (
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        (
            "index.json".into(),
            serde_json::to_vec(&index).expect("json"),
        ),
        (format!("blobs/sha256/{}", hex(&sha(&manifest))), manifest),
        (format!("blobs/sha256/{}", hex(&sha(&config))), config),
        (format!("blobs/sha256/{}", hex(&sha(&base_blob))), base_blob),
        (format!("blobs/sha256/{}", hex(&blob_digest)), blob),
    ];
    tar_in_temp(&oci.files)
}

/// Runs verify on a zero bomb of `big` bytes (asking for its content too, which is
/// captured up to a cap) and returns the JSON report and the peak RSS in KiB.
fn bomb_run(big: u64) -> (serde_json::Value, u64) {
    let (dir, path) = zero_bomb(big);
    let manifest_path = dir.path().join("m.yaml");
    std::fs::write(
        &manifest_path,
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /zeros.bin, contains: needle}\n",
    )
    .expect("write");
    let mut child = std::process::Command::new(bin())
        .args([
            "verify",
            "--archive",
            path.to_str().expect("utf8"),
            "--format",
            "json",
            "--skip",
            "handler",
            "-m",
        ])
        .arg(&manifest_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    (
        serde_json::from_slice(&out.stdout).expect("a JSON report"),
        peak,
    )
}

#[test]
fn gzip_bomb_layer_streams_in_bounded_memory() {
    // Memory is measured against the same run on a 1 MiB file, so the proof does not
    // depend on the binary's own footprint (debug builds are large): buffering the
    // 64 MiB layer, or the file, would add 64 MiB; streaming adds at most the 8 MiB
    // content cap and its buffer.
    const BIG: u64 = 64 * 1024 * 1024;
    const SMALL: u64 = 1024 * 1024;
    let (_, small_peak) = bomb_run(SMALL);
    let (report, peak) = bomb_run(BIG);
    assert_eq!(
        report["image"]["layers"][1]["uncompressed_size"],
        BIG + 1536
    );
    assert!(
        checks_named(&report, "digest")[0]["status"] == "pass",
        "{report}"
    );
    let p = checks_named(&report, "path");
    assert!(
        p[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not contain \"needle\" (only the first 8.4 MB were searched)"),
        "{p:?}"
    );
    assert!(small_peak > 0 && peak > 0, "peak RSS not measured");
    assert!(
        peak < small_peak + 24 * 1024,
        "peak RSS {peak} KiB for a {BIG}-byte layer, {small_peak} KiB for a {SMALL}-byte one"
    );
}

#[test]
fn truncated_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar");
    write_tar(&path, &docker_archive_files(&lambda_spec()));
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 3]).expect("write");
    let err = one_line_error(&verify_path(dir.path(), &path, &[]));
    assert!(err.contains("image.tar: truncated"), "{err}");
}

#[test]
fn duplicate_entries_in_the_archive_are_refused() {
    let mut files = docker_archive_files(&lambda_spec());
    let dup = files[0].clone();
    files.push(dup.clone());
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(
        err.ends_with(&format!(
            "duplicate entry {}; an image archive names each file once",
            dup.0
        )),
        "{err}"
    );
}

#[test]
fn duplicate_entries_in_a_layer_later_one_wins() {
    let mut spec = lambda_spec();
    spec.layers.push(
        Layer::new()
            .file("opt/dup", 0o644, b"first")
            .file("opt/dup", 0o644, b"second"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /opt/dup, contains: second}\n",
    )
    .expect("write");
    let out = verify_files(
        &docker_archive_files(&spec),
        &["-m", manifest.to_str().expect("utf8")],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn huge_pax_header_is_refused_without_buffering_it() {
    let mut layer = raw_header(b"././@PaxHeader", b'x', 0o644, 0, 0, 2 * 1024 * 1024, b"");
    let record = {
        let value = "a".repeat(2 * 1024 * 1024 - 20);
        let body = format!(" path={value}\n");
        let mut len = body.len() + 7;
        let mut rec = format!("{len}{body}");
        while rec.len() != len {
            len = rec.len();
            rec = format!("{len}{body}");
        }
        rec
    };
    let mut data = record.into_bytes();
    data.resize(2 * 1024 * 1024, b'\n');
    layer.extend_from_slice(&data);
    layer.extend_from_slice(&[0u8; 1024]);
    let mut spec = lambda_spec();
    spec.layers.truncate(1);
    // A layer whose diff_id is right, so the only problem is the header.
    let mut files = Files::new();
    let base = spec.layers[0].tar();
    let config = config_json(&spec, &[sha(&base), sha(&layer)]);
    let config_name = format!("{}.json", hex(&sha(&config)));
    files.push(("l0/layer.tar".into(), base));
    files.push(("l1/layer.tar".into(), layer));
    files.push((config_name.clone(), config));
    files.push(("manifest.json".into(), serde_json::to_vec(&serde_json::json!([{"Config": config_name, "Layers": ["l0/layer.tar", "l1/layer.tar"]}])).expect("json")));
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(err.contains("layer 2 of 2"), "{err}");
    assert!(
        err.ends_with("PAX header of 2097152 bytes is larger than the 1048576-byte limit"),
        "{err}"
    );
}

#[test]
fn missing_blob() {
    let oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    let missing = format!("blobs/sha256/{}", hex(&oci.layer_digests[1]));
    let files: Files = oci
        .files
        .into_iter()
        .filter(|(n, _)| *n != missing)
        .collect();
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(
        err.contains(&format!(
            "missing blob {} (layer 2 of 2) in ",
            oci.layer_digests[1]
        )),
        "{err}"
    );
}

#[test]
fn yaml_alias_bomb_in_the_manifest_is_refused() {
    let mut yaml = String::from(
        "schemaVersion: lambda-image/v1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        yaml.push_str(&format!(
            "x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (dir, path) = tar_in_temp(&docker_archive_files(&lambda_spec()));
    let manifest = dir.path().join("bomb.yaml");
    std::fs::write(&manifest, yaml).expect("write");
    let err = one_line_error(&verify_path(
        dir.path(),
        &path,
        &["-m", manifest.to_str().expect("utf8")],
    ));
    assert!(err.contains("bomb.yaml"), "{err}");
    assert!(
        err.ends_with(
            "bomb.yaml:6:10: too many aliases (limit 10000 values copied through aliases)"
        ),
        "{err}"
    );
}

#[test]
fn manifest_with_an_unknown_field_names_line_and_column() {
    let (dir, path) = tar_in_temp(&docker_archive_files(&lambda_spec()));
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "schemaVersion: lambda-image/v1\npaths:\n  - path: /x\n    mdoe: \"0755\"\n",
    )
    .expect("write");
    let err = one_line_error(&verify_path(
        dir.path(),
        &path,
        &["-m", manifest.to_str().expect("utf8")],
    ));
    assert!(
        err.contains("m.yaml:4:5: unknown field `mdoe`, expected one of path, type, mode"),
        "{err}"
    );
}

#[test]
fn manifest_with_a_wrong_schema_version() {
    let (dir, path) = tar_in_temp(&docker_archive_files(&lambda_spec()));
    let manifest = dir.path().join("m.yaml");
    std::fs::write(&manifest, "schemaVersion: 1.0.0\n").expect("write");
    let err = one_line_error(&verify_path(
        dir.path(),
        &path,
        &["-m", manifest.to_str().expect("utf8")],
    ));
    assert!(err.ends_with("m.yaml: unsupported schemaVersion \"1.0.0\" (expected \"lambda-image/v1\" or container-structure-test \"2.0.0\")"), "{err}");
}

#[test]
fn manifest_json_that_is_not_json() {
    let mut files = docker_archive_files(&lambda_spec());
    if let Some(m) = files.iter_mut().find(|(n, _)| n == "manifest.json") {
        m.1 = b"[{\"Config\": oops".to_vec();
    }
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(
        err.contains("manifest.json in ") && err.contains("is not valid: "),
        "{err}"
    );
}

#[test]
fn config_with_a_diff_id_count_that_differs_from_the_layers() {
    let spec = lambda_spec();
    let tars: Vec<Vec<u8>> = spec.layers.iter().map(Layer::tar).collect();
    let config = config_json(&spec, &[sha(&tars[0])]);
    let config_name = format!("{}.json", hex(&sha(&config)));
    let files: Files = vec![
        ("a/layer.tar".into(), tars[0].clone()),
        ("b/layer.tar".into(), tars[1].clone()),
        (config_name.clone(), config),
        ("manifest.json".into(), serde_json::to_vec(&serde_json::json!([{"Config": config_name, "Layers": ["a/layer.tar", "b/layer.tar"]}])).expect("json")),
    ];
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(
        err.ends_with(&format!(
            "image config {config_name} lists 1 diff_ids but manifest.json lists 2 layers"
        )),
        "{err}"
    );
}

#[test]
fn layer_digest_mismatch_is_a_failed_check_naming_the_layer() {
    let oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    let target = format!("blobs/sha256/{}", hex(&oci.layer_digests[1]));
    let mut files = oci.files.clone();
    let evil = gzip(
        &Layer::new()
            .file(
                "var/task/app.py",
                0o644,
                b"import os; os.system('curl evil')\n",
            )
            .tar(),
    );
    for f in files.iter_mut().filter(|(n, _)| *n == target) {
        f.1 = evil.clone();
    }
    let out = verify_files(&files, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    let d = checks_named(&report, "digest");
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0]["layer"], 2);
    let m0 = d[0]["message"].as_str().unwrap_or_default();
    assert!(
        m0.starts_with(&format!(
            "layer 2 of 2: blob {} does not match its descriptor",
            oci.layer_digests[1]
        )),
        "{m0}"
    );
    assert!(
        d[1]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("but the config's diff_id is"),
        "{d:?}"
    );

    // A corrupt gzip stream: the digest fails and the layer is reported unreadable.
    let mut files = oci.files.clone();
    for f in files.iter_mut().filter(|(n, _)| *n == target) {
        let mid = f.1.len() / 2;
        f.1[mid] ^= 0xff;
        f.1[mid + 1] ^= 0xff;
    }
    let out = verify_files(&files, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = out.json();
    assert!(checks_named(&report, "digest")[0]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("layer 2 of 2: blob"));
}

#[test]
fn classic_layer_with_changed_content_fails_its_diff_id() {
    let mut files = docker_archive_files(&lambda_spec());
    let layer = files
        .iter_mut()
        .find(|(n, _)| n.ends_with("layer.tar"))
        .expect("layer");
    let pos = layer
        .1
        .windows(11)
        .position(|w| w == b"Amazon Linu")
        .expect("content");
    layer.1[pos] = b'X';
    let out = verify_files(&files, &["--format", "json"]);
    assert_eq!(out.code, 1);
    let report = out.json();
    let d = checks_named(&report, "digest");
    assert_eq!(d[0]["layer"], 1);
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("layer 1 of 2: uncompressed content hashes to"),
        "{d:?}"
    );
}

#[test]
fn zstd_layers_say_they_are_not_supported_yet() {
    let spec = lambda_spec();
    let oci = oci_files(&spec, false, Wrap::Plain);
    let target = format!("blobs/sha256/{}", hex(&oci.layer_digests[1]));
    // Same digest bookkeeping, zstd magic: rebuild the blob name and descriptor around it.
    let zstd = vec![0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0];
    let mut files: Files = Vec::new();
    for (name, data) in oci.files {
        if name == target {
            files.push((format!("blobs/sha256/{}", hex(&sha(&zstd))), zstd.clone()));
            continue;
        }
        files.push((name, data));
    }
    // Point the manifest at the new blob.
    let old = oci.layer_digests[1].clone();
    let new = sha(&zstd);
    let manifest_name = format!("blobs/sha256/{}", hex(&oci.manifest_digest));
    let manifest = files
        .iter()
        .find(|(n, _)| *n == manifest_name)
        .map(|(_, b)| b.clone())
        .expect("manifest");
    let text = String::from_utf8(manifest).expect("utf8");
    let mut m: serde_json::Value = serde_json::from_str(&text.replace(&old, &new)).expect("json");
    m["layers"][1]["size"] = serde_json::json!(zstd.len());
    let manifest = serde_json::to_vec(&m).expect("json");
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&manifest), "size": manifest.len()}
    ]});
    files.retain(|(n, _)| *n != manifest_name && n != "index.json");
    files.push((format!("blobs/sha256/{}", hex(&sha(&manifest))), manifest));
    files.push((
        "index.json".into(),
        serde_json::to_vec(&index).expect("json"),
    ));
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(
        err.contains("layer 2 of 2") && err.contains("zstd layers are not supported yet"),
        "{err}"
    );
}

#[test]
fn not_an_archive_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, this is not a tar file\n".repeat(40)).expect("write");
    let err = one_line_error(&verify_path(dir.path(), &path, &[]));
    assert!(err.contains("notes.txt: not a tar archive"), "{err}");
    let missing = dir.path().join("nope.tar");
    let err = one_line_error(&verify_path(dir.path(), &missing, &[]));
    assert!(err.contains("nope.tar: No such file or directory"), "{err}");
    // A tar without manifest.json or index.json.
    let other = dir.path().join("other.tar");
    write_tar(&other, &vec![("hello.txt".to_string(), b"hi".to_vec())]);
    let err = one_line_error(&verify_path(dir.path(), &other, &[]));
    assert!(err.ends_with("other.tar is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)"), "{err}");
}

#[test]
fn archive_with_two_images_is_refused() {
    let mut files = docker_archive_files(&lambda_spec());
    let m = files
        .iter_mut()
        .find(|(n, _)| n == "manifest.json")
        .expect("manifest");
    let mut v: serde_json::Value = serde_json::from_slice(&m.1).expect("json");
    let first = v[0].clone();
    v.as_array_mut().expect("array").push(first);
    m.1 = serde_json::to_vec(&v).expect("json");
    let err = one_line_error(&verify_files(&files, &[]));
    assert!(
        err.contains(
            "holds 2 images (test/image:latest, test/image:latest); save one image per archive"
        ),
        "{err}"
    );
}
