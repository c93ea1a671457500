//! Builds image archives in-test: layers as tar (plain or gzip), docker-archive (classic
//! and Engine ≥ 25), OCI layouts (directory or tar), indexes with several platforms or
//! attestations. Also runs the binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

pub fn sha(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

#[derive(Clone)]
pub enum Entry {
    File {
        path: String,
        mode: u32,
        uid: u64,
        gid: u64,
        data: Vec<u8>,
    },
    Dir {
        path: String,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
}

#[derive(Clone, Default)]
pub struct Layer {
    pub entries: Vec<Entry>,
}

impl Layer {
    pub fn new() -> Self {
        Layer::default()
    }
    pub fn file(mut self, path: &str, mode: u32, data: &[u8]) -> Self {
        self.entries.push(Entry::File {
            path: path.into(),
            mode,
            uid: 0,
            gid: 0,
            data: data.to_vec(),
        });
        self
    }
    pub fn owned_file(mut self, path: &str, mode: u32, uid: u64, gid: u64, data: &[u8]) -> Self {
        self.entries.push(Entry::File {
            path: path.into(),
            mode,
            uid,
            gid,
            data: data.to_vec(),
        });
        self
    }
    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        self.entries.push(Entry::Dir {
            path: path.into(),
            mode,
        });
        self
    }
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.entries.push(Entry::Symlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.entries.push(Entry::Hardlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }
    /// `.wh.<name>`: deletes `path` from lower layers.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.file(&format!("{dir}/.wh.{name}"), 0o644, b"")
    }
    /// `.wh..wh..opq`: hides lower layers' content of `dir`.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), 0o644, b"")
    }

    /// The layer as an uncompressed tar. Names are written raw (no validation), so tests
    /// can use `../` and absolute names.
    pub fn tar(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.entries {
            let (path, kind, mode, uid, gid, data, link): (&str, u8, u32, u64, u64, &[u8], &str) =
                match e {
                    Entry::File {
                        path,
                        mode,
                        uid,
                        gid,
                        data,
                    } => (path, b'0', *mode, *uid, *gid, data, ""),
                    Entry::Dir { path, mode } => (path, b'5', *mode, 0, 0, &[], ""),
                    Entry::Symlink { path, target } => (path, b'2', 0o777, 0, 0, &[], target),
                    Entry::Hardlink { path, target } => (path, b'1', 0o644, 0, 0, &[], target),
                };
            out.extend_from_slice(&raw_header(
                path.as_bytes(),
                kind,
                mode,
                uid,
                gid,
                data.len() as u64,
                link.as_bytes(),
            ));
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

/// A ustar header with the name written as-is (GNU long-name record when over 100 bytes).
pub fn raw_header(
    name: &[u8],
    kind: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    link: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    if name.len() > 100 {
        out.extend_from_slice(&raw_header(
            b"././@LongLink",
            b'L',
            0o644,
            0,
            0,
            name.len() as u64 + 1,
            b"",
        ));
        out.extend_from_slice(name);
        out.push(0);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
    h[108..116].copy_from_slice(format!("{uid:07o}\0").as_bytes());
    h[116..124].copy_from_slice(format!("{gid:07o}\0").as_bytes());
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

#[derive(Clone)]
pub struct Spec {
    pub layers: Vec<Layer>,
    pub env: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub workdir: Option<String>,
    pub arch: String,
    pub labels: Vec<(String, String)>,
}

/// A small image that passes every Lambda check.
pub fn lambda_spec() -> Spec {
    Spec {
        layers: vec![
            Layer::new()
                .dir("etc", 0o755)
                .file(
                    "etc/os-release",
                    0o644,
                    b"NAME=\"Amazon Linux\"\nVERSION_ID=\"2023\"\n",
                )
                .file(
                    "lambda-entrypoint.sh",
                    0o755,
                    b"#!/bin/sh\nexec /var/runtime/bootstrap\n",
                )
                .dir("var", 0o755)
                .dir("var/runtime", 0o755)
                .file("var/runtime/bootstrap", 0o755, b"#!/bin/sh\n"),
            Layer::new().dir("var/task", 0o755).file(
                "var/task/app.py",
                0o644,
                b"def handler(event, context):\n    return 'ok'\n",
            ),
        ],
        env: vec![
            "PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin".into(),
            "LAMBDA_TASK_ROOT=/var/task".into(),
            "LAMBDA_RUNTIME_DIR=/var/runtime".into(),
        ],
        entrypoint: Some(vec!["/lambda-entrypoint.sh".into()]),
        cmd: Some(vec!["app.handler".into()]),
        workdir: Some("/var/task".into()),
        arch: "amd64".into(),
        labels: vec![],
    }
}

pub fn config_json(spec: &Spec, diff_ids: &[String]) -> Vec<u8> {
    let labels: serde_json::Map<String, serde_json::Value> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": spec.arch,
        "os": "linux",
        "config": {
            "Env": spec.env,
            "Entrypoint": spec.entrypoint,
            "Cmd": spec.cmd,
            "WorkingDir": spec.workdir,
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("json")
}

/// Files of an archive, in order.
pub type Files = Vec<(String, Vec<u8>)>;

/// Adds an OCI layout's `index.json` (this index) and its `oci-layout` file.
pub fn push_layout(files: &mut Files, index: &serde_json::Value) {
    files.push((
        "index.json".into(),
        serde_json::to_vec(index).expect("json"),
    ));
    files.push((
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
}

pub fn write_tar(path: &Path, files: &Files) {
    let mut out = Vec::new();
    for (name, data) in files {
        out.extend_from_slice(&raw_header(
            name.as_bytes(),
            b'0',
            0o644,
            0,
            0,
            data.len() as u64,
            b"",
        ));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    std::fs::write(path, out).expect("write tar");
}

pub fn write_dir(root: &Path, files: &Files) {
    for (name, data) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
}

/// Classic `docker save` (Engine < 25): manifest.json, <config>.json, <id>/layer.tar.
pub fn docker_archive_files(spec: &Spec) -> Files {
    let tars: Vec<Vec<u8>> = spec.layers.iter().map(Layer::tar).collect();
    let diff_ids: Vec<String> = tars.iter().map(|t| sha(t)).collect();
    let config = config_json(spec, &diff_ids);
    let config_name = format!("{}.json", hex(&sha(&config)));
    let mut files = Files::new();
    let mut layer_paths = Vec::new();
    for (i, t) in tars.iter().enumerate() {
        // Layer directories are v1 ids, not digests.
        let id = hex(&sha(format!("v1-layer-{i}").as_bytes())).to_string();
        let p = format!("{id}/layer.tar");
        files.push((p.clone(), t.clone()));
        layer_paths.push(p);
    }
    files.push((config_name.clone(), config));
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": ["test/image:latest"], "Layers": layer_paths}]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("json"),
    ));
    files
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// index.json → image manifest.
    Plain,
    /// index.json → index → {amd64, arm64}.
    MultiPlatform,
    /// index.json → index → {image, attestation manifest} (BuildKit provenance).
    Attestation,
    /// index.json → {arm64, amd64}, descriptors without a platform (the configs say it).
    BarePlatforms,
}

pub struct Oci {
    pub files: Files,
    pub manifest_digest: String,
    pub layer_digests: Vec<String>,
}

fn blob(files: &mut Files, bytes: Vec<u8>) -> (String, u64) {
    let d = sha(&bytes);
    let size = bytes.len() as u64;
    let name = format!("blobs/sha256/{}", hex(&d));
    if !files.iter().any(|(n, _)| *n == name) {
        files.push((name, bytes));
    }
    (d, size)
}

fn image_manifest(files: &mut Files, spec: &Spec, gzip_layers: bool) -> (String, u64, Vec<String>) {
    let tars: Vec<Vec<u8>> = spec.layers.iter().map(Layer::tar).collect();
    let diff_ids: Vec<String> = tars.iter().map(|t| sha(t)).collect();
    let mut layers = Vec::new();
    let mut digests = Vec::new();
    for t in tars {
        let (bytes, media) = if gzip_layers {
            (gzip(&t), "application/vnd.oci.image.layer.v1.tar+gzip")
        } else {
            (t, "application/vnd.oci.image.layer.v1.tar")
        };
        let (d, size) = blob(files, bytes);
        digests.push(d.clone());
        layers.push(serde_json::json!({"mediaType": media, "digest": d, "size": size}));
    }
    let (cd, cs) = blob(files, config_json(spec, &diff_ids));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": layers,
    });
    let (md, ms) = blob(files, serde_json::to_vec(&manifest).expect("json"));
    (md, ms, digests)
}

/// An OCI image layout (files only; write with `write_dir` or `write_tar`).
pub fn oci_files(spec: &Spec, gzip_layers: bool, wrap: Wrap) -> Oci {
    let mut files = Files::new();
    let (md, ms, layer_digests) = image_manifest(&mut files, spec, gzip_layers);
    let platform = serde_json::json!({"architecture": spec.arch, "os": "linux"});
    if wrap == Wrap::BarePlatforms {
        let mut arm = spec.clone();
        arm.arch = "arm64".into();
        let (ad, asz, _) = image_manifest(&mut files, &arm, gzip_layers);
        let entry = |d: &str, size: u64| serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size});
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry(&ad, asz), entry(&md, ms)]});
        push_layout(&mut files, &index);
        return Oci {
            files,
            manifest_digest: md,
            layer_digests,
        };
    }
    let top = match wrap {
        Wrap::Plain => serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
            "annotations": {"io.containerd.image.name": "docker.io/test/image:latest"},
        }),
        Wrap::MultiPlatform | Wrap::Attestation | Wrap::BarePlatforms => {
            let second = if wrap == Wrap::MultiPlatform {
                let mut arm = spec.clone();
                arm.arch = "arm64".into();
                let (ad, asz, _) = image_manifest(&mut files, &arm, gzip_layers);
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ad, "size": asz,
                    "platform": {"architecture": "arm64", "os": "linux"},
                })
            } else {
                let (sd, ss) = blob(
                    &mut files,
                    b"{\"_type\":\"https://in-toto.io/Statement/v0.1\"}".to_vec(),
                );
                let att = serde_json::json!({
                    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sd, "size": ss},
                    "layers": [],
                });
                let (atd, ats) = blob(&mut files, serde_json::to_vec(&att).expect("json"));
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": atd, "size": ats,
                    "platform": {"architecture": "unknown", "os": "unknown"},
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": md},
                })
            };
            let index = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "platform": platform},
                    second,
                ],
            });
            let (id, is) = blob(&mut files, serde_json::to_vec(&index).expect("json"));
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.index.v1+json", "digest": id, "size": is,
                "annotations": {"io.containerd.image.name": "docker.io/test/image:latest"},
            })
        }
    };
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [top]});
    push_layout(&mut files, &index);
    Oci {
        files,
        manifest_digest: md,
        layer_digests,
    }
}

/// Docker Engine ≥ 25 `docker save`: an OCI layout plus manifest.json naming blobs.
pub fn docker25_files(spec: &Spec) -> Files {
    let oci = oci_files(spec, false, Wrap::Plain);
    let mut files = oci.files;
    let manifest_bytes = files
        .iter()
        .find(|(n, _)| *n == format!("blobs/sha256/{}", hex(&oci.manifest_digest)))
        .map(|(_, b)| b.clone())
        .expect("manifest blob");
    let m: serde_json::Value = serde_json::from_slice(&manifest_bytes).expect("json");
    let config = format!(
        "blobs/sha256/{}",
        hex(m["config"]["digest"].as_str().expect("digest"))
    );
    let layers: Vec<String> = oci
        .layer_digests
        .iter()
        .map(|d| format!("blobs/sha256/{}", hex(d)))
        .collect();
    let manifest = serde_json::json!([{"Config": config, "RepoTags": ["test/image:latest"], "Layers": layers}]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("json"),
    ));
    files
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lambda-image")
}

/// A command's standard output, for commands other than lambda-image (whose runs are
/// [`super::Run`]s).
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The check(s) with this name (and path, when given) in a JSON report.
pub fn checks_named<'a>(report: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    report["checks"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["name"] == name).collect())
        .unwrap_or_default()
}

pub fn status_of(report: &serde_json::Value, name: &str) -> String {
    checks_named(report, name)
        .first()
        .and_then(|c| c["status"].as_str())
        .unwrap_or("none")
        .to_string()
}

/// A temp dir holding `image.tar` built from `files`.
pub fn tar_in_temp(files: &Files) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar");
    write_tar(&path, files);
    (dir, path)
}

/// Everything under `dir` (names and sizes), to show a command wrote nothing.
pub fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let meta = e.metadata().expect("meta");
            if meta.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), meta.len()));
        }
    }
    out.sort();
    out
}

/// Debian's busybox-static, found on PATH; the Docker Engine tests build their rootfs from it.
pub fn busybox() -> Vec<u8> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("busybox"))
            .find(|p| p.is_file())
    });
    let path = found.unwrap_or_else(|| {
        panic!("busybox is not installed: install Debian's busybox-static (apt-get install busybox-static); this test needs it")
    });
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A Lambda-shaped root filesystem written to `dir/rootfs.tar`: busybox, the AWS-style
/// entrypoint, a Python handler whose (mode, uid) is `app`, the runtime bootstrap and an
/// AL2023 os-release.
pub fn lambda_rootfs(dir: &Path, app: (u32, u64)) -> PathBuf {
    let busybox = busybox();
    let layer = Layer::new()
        .dir("bin", 0o755)
        .file("bin/busybox", 0o755, &busybox)
        .symlink("bin/sh", "busybox")
        .file(
            "lambda-entrypoint.sh",
            0o755,
            b"#!/bin/sh\nif [ $# -ne 1 ]; then\n  echo \"entrypoint requires the handler name to be the first argument\" 1>&2\n  exit 142\nfi\nexec /var/runtime/bootstrap \"$1\"\n",
        )
        .dir("var", 0o755)
        .dir("var/task", 0o755)
        .owned_file(
            "var/task/app.py",
            app.0,
            app.1,
            app.1,
            b"def handler(event, context):\n    return {'ok': True}\n",
        )
        .dir("var/runtime", 0o755)
        .file("var/runtime/bootstrap", 0o755, b"#!/bin/sh\necho \"$1\"\n")
        .dir("etc", 0o755)
        .file(
            "etc/os-release",
            0o644,
            b"NAME=\"Amazon Linux\"\nVERSION_ID=\"2023\"\n",
        );
    let path = dir.join("rootfs.tar");
    std::fs::write(&path, layer.tar()).expect("write rootfs");
    path
}

/// `/lambda-entrypoint.sh` as the AWS base images ship it (domain.md §1.3).
pub const AWS_LAMBDA_ENTRYPOINT: &str = include_str!("../fixtures/standin/lambda-entrypoint.sh");

/// The Env, WORKDIR and ENTRYPOINT of every AWS Lambda base image, as `docker import`
/// changes (domain.md §1.1: no CMD).
pub const LAMBDA_BASE_CHANGES: [&str; 7] = [
    "ENV LANG=en_US.UTF-8",
    "ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    "ENV LAMBDA_TASK_ROOT=/var/task",
    "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
    "WORKDIR /var/task",
    r#"ENTRYPOINT ["/lambda-entrypoint.sh"]"#,
];

/// The busybox applets linked into the stand-in base: roughly what AL2023-minimal has
/// (coreutils-single, grep, sed, gawk, bash). Deliberately not find, xargs, tar, gzip,
/// unzip or which, which AL2023-minimal lacks (domain.md §2.5): a Dockerfile that needs
/// them fails here as it would on AWS's image.
pub const AL2023_APPLETS: &[&str] = &[
    "sh", "[", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dirname", "echo",
    "env", "false", "grep", "head", "id", "ln", "ls", "mkdir", "mktemp", "mv", "printf", "pwd",
    "readlink", "realpath", "rm", "rmdir", "sed", "sleep", "sort", "stat", "tail", "tee", "test",
    "touch", "tr", "true", "uname", "uniq", "wc",
];

/// Stand-in for microdnf 3.8.1 (`/usr/bin/microdnf`, `dnf` links to it): accepts the
/// commands and options microdnf accepts and rejects everything else with microdnf's own
/// messages (domain.md §2.1, §2.2). `install` records the package under
/// `<installroot>/var/lib/microdnf-standin/installed/` and leaves repository metadata in
/// `<cachedir>/metadata/` (microdnf's cache dir is /var/cache/yum); `clean all` empties
/// `metadata/` but, like microdnf, leaves the cache directory itself.
pub const MICRODNF_STANDIN: &str = include_str!("../fixtures/standin/microdnf.sh");

/// Stand-in for pip: only `pip install [--no-cache-dir] -r FILE --target DIR`; each
/// requirement line becomes `DIR/<name>/__init__.py`.
pub const PIP_STANDIN: &str = r#"#!/bin/sh
set -f
got="pip $*"
die() { echo "pip (stand-in): $*; got: $got" >&2; exit 2; }
[ "${1:-}" = install ] || die "only 'install' is handled"
shift
req=
target=
while [ $# -gt 0 ]; do
  case "$1" in
    --no-cache-dir) ;;
    -r|--requirement) [ $# -ge 2 ] || die "$1 needs a file"; req="$2"; shift ;;
    -t|--target) [ $# -ge 2 ] || die "$1 needs a directory"; target="$2"; shift ;;
    *) die "unexpected argument '$1'" ;;
  esac
  shift
done
[ -n "$req" ] || die "no -r FILE"
[ -n "$target" ] || die "no --target DIR: packages would go into the runtime's site-packages"
[ -f "$req" ] || die "no requirements file '$req' in $(pwd)"
while IFS= read -r line || [ -n "$line" ]; do
  name=$(printf '%s' "${line%%#*}" | sed 's/[[:space:]]//g; s/[=<>!~;[].*//' | tr 'A-Z-' 'a-z_')
  [ -n "$name" ] || continue
  case "$name" in -*) die "requirement options are not handled: $line" ;; esac
  mkdir -p "$target/$name" && printf '# %s\n' "$line" > "$target/$name/__init__.py" || die "cannot write $target/$name"
  echo "Installed $name into $target (stand-in)"
done < "$req"
"#;

/// Stand-in for npm: only `npm ci --omit=dev [--no-audit] [--no-fund] [--cache DIR]`,
/// with package.json and package-lock.json in the working directory.
pub const NPM_STANDIN: &str = r#"#!/bin/sh
set -f
got="npm $*"
die() { echo "npm (stand-in): $*; got: $got" >&2; exit 2; }
[ "${1:-}" = ci ] || die "only 'ci' is handled"
shift
omit=
cache=
while [ $# -gt 0 ]; do
  case "$1" in
    --omit=dev) omit=1 ;;
    --no-audit|--no-fund) ;;
    --cache) [ $# -ge 2 ] || die "--cache needs a directory"; cache="$2"; shift ;;
    --cache=*) cache="${1#*=}" ;;
    *) die "unexpected argument '$1'" ;;
  esac
  shift
done
[ -n "$omit" ] || die "no --omit=dev: dev dependencies would be installed"
[ -f package.json ] || die "no package.json in $(pwd)"
[ -f package-lock.json ] || die "npm ci needs package-lock.json in $(pwd)"
rm -rf node_modules && mkdir node_modules && cp package-lock.json node_modules/.package-lock.json || exit 1
if [ -n "$cache" ]; then
  mkdir -p "$cache/_cacache" && echo index > "$cache/_cacache/index" || exit 1
fi
echo "added 0 packages (stand-in)"
"#;

/// Stand-in for bundler: only `bundle config set --local KEY VALUE` (path, frozen,
/// without, deployment) and `bundle install` with Gemfile and Gemfile.lock in the working
/// directory and a local `path`; gems from Gemfile.lock go to `<path>/ruby/<abi>/gems`,
/// their .gem files to `<path>/ruby/<abi>/cache`. `@ABI@` is the Ruby ABI version.
pub const BUNDLE_STANDIN: &str = r#"#!/bin/sh
set -f
got="bundle $*"
die() { echo "bundle (stand-in): $*; got: $got" >&2; exit 2; }
case "${1:-}" in
  config)
    [ "${2:-}" = set ] && [ "${3:-}" = --local ] && [ $# -eq 5 ] || die "only 'config set --local KEY VALUE' is handled"
    case "$4" in path|frozen|without|deployment) ;; *) die "unknown setting '$4'" ;; esac
    key=$(echo "$4" | tr a-z A-Z)
    mkdir -p .bundle && printf 'BUNDLE_%s: "%s"\n' "$key" "$5" >> .bundle/config || exit 1 ;;
  install)
    [ $# -eq 1 ] || die "'install' takes no arguments here"
    [ -f Gemfile ] || die "no Gemfile in $(pwd)"
    [ -f Gemfile.lock ] || die "no Gemfile.lock in $(pwd)"
    path=
    [ -f .bundle/config ] && path=$(sed -n 's/^BUNDLE_PATH: "\(.*\)"$/\1/p' .bundle/config | tail -n 1)
    [ -n "$path" ] || die "no local path set (bundle config set --local path DIR): gems would go to the system"
    dir="$path/ruby/@ABI@"
    mkdir -p "$dir/gems" "$dir/cache" && echo "stand-in" > "$dir/cache/bundler-standin.gem" || exit 1
    sed -n 's/^    \([^ ]*\) (\([^)]*\))$/\1-\2/p' Gemfile.lock | while read -r gem; do
      mkdir -p "$dir/gems/$gem" && echo "$gem" > "$dir/cache/$gem.gem" || exit 1
    done || exit 1
    echo "Bundle complete! (stand-in)" ;;
  *) die "only 'config set --local' and 'install' are handled" ;;
esac
"#;

/// A language interpreter that is not there: the stand-in base only has to let the
/// runtime be recognised from `/var/lang/bin` (domain.md §1.3).
pub fn no_interpreter(name: &str) -> String {
    format!("#!/bin/sh\necho \"{name}: no interpreter in this stand-in base image; got: $*\" >&2\nexit 127\n")
}

/// A stand-in AWS Lambda AL2023 base image's root filesystem for `runtime` (a Lambda
/// runtime id such as `python3.13`, `nodejs22.x`, `ruby3.4`, `java21`, `provided.al2023`),
/// written to `dir/rootfs.tar` for `docker import` with [`LAMBDA_BASE_CHANGES`]: busybox
/// with [`AL2023_APPLETS`] in /usr/bin (/bin links to it, as on AL2023), the entrypoint,
/// a runtime bootstrap, /var/task, an AL2023 os-release, the microdnf stand-in with its
/// `dnf` link and no yum, and the runtime's tools under /var/lang/bin.
pub fn al2023_base_rootfs(dir: &Path, runtime: &str) -> PathBuf {
    let path = dir.join("rootfs.tar");
    std::fs::write(&path, al2023_base_layer(runtime, &busybox()).tar()).expect("write rootfs");
    path
}

/// The layer of [`al2023_base_rootfs`] with the given busybox binary (the host's, or
/// [`busybox_arm64`] for an arm64 base).
pub fn al2023_base_layer(runtime: &str, busybox: &[u8]) -> Layer {
    let mut layer = Layer::new()
        .dir("usr", 0o755)
        .dir("usr/bin", 0o755)
        .symlink("bin", "usr/bin")
        .file("usr/bin/busybox", 0o755, busybox);
    for applet in AL2023_APPLETS {
        layer = layer.symlink(&format!("usr/bin/{applet}"), "busybox");
    }
    layer = layer
        .file("usr/bin/microdnf", 0o755, MICRODNF_STANDIN.as_bytes())
        .symlink("usr/bin/dnf", "microdnf")
        .dir("usr/local", 0o755)
        .dir("usr/local/bin", 0o755)
        .file(
            "usr/local/bin/aws-lambda-rie",
            0o755,
            b"#!/bin/sh\necho \"aws-lambda-rie: not in this stand-in base image; got: $*\" >&2\nexit 127\n",
        )
        .file("lambda-entrypoint.sh", 0o755, AWS_LAMBDA_ENTRYPOINT.as_bytes())
        .dir("etc", 0o755)
        .file(
            "etc/os-release",
            0o644,
            b"NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPLATFORM_ID=\"platform:al2023\"\nPRETTY_NAME=\"Amazon Linux 2023\"\n",
        )
        .dir("tmp", 0o1777)
        .dir("var", 0o755)
        .dir("var/cache", 0o755)
        .dir("var/task", 0o755)
        .dir("var/runtime", 0o755)
        .file(
            "var/runtime/bootstrap",
            0o755,
            b"#!/bin/sh\necho \"runtime bootstrap (stand-in): handler $_HANDLER\"\n",
        )
        .dir("var/lang", 0o755)
        .dir("var/lang/bin", 0o755);
    let tools: Vec<(String, String)> = if let Some(version) = runtime.strip_prefix("python") {
        vec![
            (format!("python{version}"), no_interpreter("python")),
            ("pip".into(), PIP_STANDIN.into()),
        ]
    } else if runtime.starts_with("nodejs") {
        vec![
            ("node".into(), no_interpreter("node")),
            ("npm".into(), NPM_STANDIN.into()),
        ]
    } else if let Some(version) = runtime.strip_prefix("ruby") {
        vec![
            ("ruby".into(), no_interpreter("ruby")),
            (
                "bundle".into(),
                BUNDLE_STANDIN.replace("@ABI@", &format!("{version}.0")),
            ),
        ]
    } else if runtime.starts_with("java") {
        vec![("java".into(), no_interpreter("java"))]
    } else {
        vec![]
    };
    for (name, script) in &tools {
        layer = layer.file(&format!("var/lang/bin/{name}"), 0o755, script.as_bytes());
    }
    layer
}

/// Debian's busybox-static for arm64, which `make test-deps` (.ci/fetch-test-debs) extracts
/// into target/busybox-arm64: the shell of the arm64 stand-in bases, run under QEMU.
pub fn busybox_arm64() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/busybox-arm64/bin/busybox");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make test-deps` (it fetches Debian's busybox-static for arm64 there)",
            path.display()
        )
    })
}

/// A lambda-image/v1 manifest for [`lambda_rootfs`] imported with the Lambda ENV,
/// ENTRYPOINT, CMD and WORKDIR, written to `dir/manifest.yaml`.
pub fn lambda_manifest(dir: &Path) -> PathBuf {
    let path = dir.join("manifest.yaml");
    std::fs::write(
        &path,
        r#"schemaVersion: lambda-image/v1
paths:
  - {path: "${LAMBDA_TASK_ROOT}/app.py", type: file, readable_by: any}
  - {path: /lambda-entrypoint.sh, type: file, executable_by: any, mode: "0755"}
  - {path: /var/runtime/bootstrap, uid: 0, gid: 0, mode: "0755"}
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
    path
}

/// A name no other test run uses.
pub fn unique() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}
