//! End to end: every example spec under images/ is rendered (`lambda-image render`), built
//! by the Docker Engine (`docker build`, classic builder, nothing pulled) on a stand-in AWS
//! Lambda AL2023 base image, and the result verified with `lambda-image verify IMAGE`.
//!
//! The stand-in bases are imported from a rootfs built here (tests/verify/common.rs,
//! `al2023_base_rootfs`): busybox, the Lambda paths and Env (domain.md §1.1, §1.3), a
//! microdnf stand-in that rejects what microdnf 3.8.1 rejects (§2.2) and stand-ins for
//! pip, npm and bundler that check their arguments. One base per runtime, so `verify`
//! recognises the runtime from /var/lang/bin as it does on AWS's images. Everything is
//! tagged under `lambda-image-test/` and removed afterwards, also when an assertion fails.
//!
//! Needs a reachable Docker Engine, Debian's busybox-static and javac (the Java examples'
//! classes are compiled into a temporary copy, as `mvn package` would before a build).
//! These tests fail, not skip, without them.
//!
//! Not covered: dotnet8 and dotnet10 (they copy a `dotnet publish` output, and no .NET SDK
//! is available to produce one), and any example whose `architectures` lacks this
//! machine's (nodejs24 is arm64 only; its RUN steps would need an arm64 emulator).

#[path = "verify/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use lambda_image::docker::{self, Engine};
use serde_json::{json, Value};

/// Examples this test cannot build here (see the module documentation).
const NOT_COVERED: [&str; 3] = ["dotnet10", "dotnet8", "nodejs24"];

/// Builds run at once.
const BUILD_WORKERS: usize = 3;

struct Job {
    name: String,
    runtime: String,
    example: PathBuf,
    ctx: PathBuf,
    spec: Value,
    dockerfile: String,
    tag: String,
}

/// Images this test created; removed (newest first) when dropped.
struct Images {
    engine: Engine,
    names: Vec<String>,
}

impl Images {
    fn new() -> Self {
        Images {
            engine: docker::connect()
                .unwrap_or_else(|e| panic!("this test needs the Docker Engine: {e:#}")),
            names: Vec::new(),
        }
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        for name in self.names.iter().rev() {
            let _ = self.engine.remove_image(name);
        }
    }
}

fn unique() -> String {
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

/// This machine's architecture in spec terms.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

/// Imports a stand-in base for `runtime`; returns its name.
fn import_base(images: &mut Images, scratch: &Path, runtime: &str) -> String {
    let dir = scratch.join(format!("base-{runtime}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let tar = al2023_base_rootfs(&dir, runtime);
    let repo = format!(
        "lambda-image-test/e2e-base-{}-{}",
        runtime.replace('.', "-"),
        unique()
    );
    let changes: Vec<String> = LAMBDA_BASE_CHANGES.map(String::from).to_vec();
    images
        .engine
        .import_rootfs(&tar, &repo, "latest", &changes)
        .unwrap_or_else(|e| panic!("import {repo}: {e:#}"));
    let name = format!("{repo}:latest");
    images.names.push(name.clone());
    name
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// Files under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = listing(dir)
        .into_iter()
        .filter(|(p, _)| p.is_file())
        .map(|(p, _)| {
            p.strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}

/// A copy of the example in `ctx` with `base:` set to `base`; returns the parsed spec.
fn prepare(example: &Path, ctx: &Path, base: &str) -> Value {
    copy_dir(example, ctx);
    let spec_path = ctx.join("image.yaml");
    let text = std::fs::read_to_string(&spec_path).expect("read image.yaml");
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("base:")).collect();
    std::fs::write(&spec_path, format!("base: {base}\n{}\n", kept.join("\n")))
        .expect("write image.yaml");
    std::fs::remove_file(ctx.join("Dockerfile")).ok();
    serde_saphyr::from_str(&text).expect("image.yaml parses")
}

/// `javac` over the example's sources into target/classes, what `mvn package` does first.
fn compile_java(ctx: &Path) {
    let sources: Vec<PathBuf> = files_under(&ctx.join("src/main/java"))
        .into_iter()
        .filter(|f| f.ends_with(".java"))
        .map(|f| ctx.join("src/main/java").join(f))
        .collect();
    assert!(!sources.is_empty(), "no Java sources in {}", ctx.display());
    let out = Command::new("javac")
        .arg("-d")
        .arg(ctx.join("target/classes"))
        .args(&sources)
        .output()
        .unwrap_or_else(|e| {
            panic!("javac: {e} (this test compiles the Java examples: install a JDK, e.g. apt-get install default-jdk-headless)")
        });
    assert!(out.status.success(), "javac failed: {}", stderr(&out));
}

fn render(ctx: &Path) {
    let dockerfile = ctx.join("Dockerfile");
    let out = run(&[
        "render",
        ctx.to_str().expect("utf8"),
        "--arch",
        host_arch(),
        "-o",
        dockerfile.to_str().expect("utf8"),
    ]);
    assert_eq!(code(&out), 0, "render {}: {}", ctx.display(), stderr(&out));
}

/// A `docker build` and the image ids its steps committed.
struct Build {
    out: Output,
    ids: Vec<String>,
}

/// `docker build` with the classic builder, no cache and nothing pulled. Runs on worker
/// threads, so it does not panic: a CLI that cannot start is reported as an error.
fn docker_build(ctx: &Path, name: &str) -> Result<Build, String> {
    let out = Command::new("docker")
        .args([
            "build",
            "--pull=false",
            "--no-cache",
            "--force-rm",
            "-t",
            name,
        ])
        .arg(ctx)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .map_err(|e| format!("docker build (the docker CLI is needed): {e}"))?;
    let ids = stdout(&out)
        .lines()
        .filter_map(|line| line.trim().strip_prefix("---> "))
        .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(String::from)
        .collect();
    Ok(Build { out, ids })
}

impl Images {
    /// Takes over what a build made (its tag, and every step's image, so that a failed
    /// build leaves nothing behind either) and hands back its output.
    fn keep(&mut self, build: Result<Build, String>, name: &str) -> Output {
        let build = build.unwrap_or_else(|e| panic!("{e}"));
        self.names.extend(build.ids);
        if build.out.status.success() {
            self.names.push(name.to_string());
        }
        build.out
    }
}

fn build_log(out: &Output) -> String {
    format!("{}\n{}", stdout(out), stderr(out))
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The example's own manifest (its spec's `verify:`), plus what the spec and the
/// stand-ins say the image must hold.
fn manifest(example: &Path, ctx: &Path, spec: &Value) -> Value {
    let mut manifest: Value = match spec["verify"].as_str() {
        Some(file) => {
            let text = std::fs::read_to_string(example.join(file)).expect("read manifest");
            serde_saphyr::from_str(&text).expect("manifest parses")
        }
        None => json!({"schemaVersion": "lambda-image/v1"}),
    };
    let root = "${LAMBDA_TASK_ROOT}";
    let runtime = spec["runtime"].as_str().expect("runtime");
    let mut paths = vec![
        // The package cache is gone (microdnf caches in /var/cache/yum, domain.md §2.2).
        json!({"path": "/var/cache/yum/metadata", "absent": true}),
        json!({"path": "/var/cache/yum", "absent": true}),
        json!({"path": "/var/cache/dnf", "absent": true}),
        json!({"path": "/usr/bin/yum", "absent": true}),
        json!({"path": "/etc/os-release", "contains": "VERSION_ID=\"2023\""}),
        json!({"path": "/lambda-entrypoint.sh", "type": "file", "executable_by": "any"}),
        json!({"path": "/var/runtime/bootstrap", "type": "file", "executable_by": "any"}),
    ];
    let installed = "/var/lib/microdnf-standin/installed";
    let packages = strs(&spec["packages"]);
    for p in &packages {
        paths.push(json!({"path": format!("{installed}/{p}"), "type": "file"}));
    }
    for p in strs(&spec["build_packages"]) {
        if !packages.contains(&p) {
            paths.push(json!({"path": format!("{installed}/{p}"), "absent": true}));
        }
    }
    for c in spec["copy"].as_array().into_iter().flatten() {
        let src = c["src"].as_str().expect("copy.src");
        let dest = c["dest"].as_str().unwrap_or(".");
        let dest = if dest == "." {
            root.to_string()
        } else {
            format!("{root}/{}", dest.trim_end_matches('/'))
        };
        let from = ctx.join(src);
        let files = if from.is_dir() {
            files_under(&from)
        } else {
            vec![from
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned()]
        };
        assert!(!files.is_empty(), "{src} copies nothing");
        for f in files {
            paths
                .push(json!({"path": format!("{dest}/{f}"), "type": "file", "readable_by": "any"}));
        }
    }
    if let Some(src) = spec["bootstrap"]["src"].as_str() {
        let text = std::fs::read_to_string(ctx.join(src)).expect("read bootstrap");
        let line = text.lines().nth(1).expect("a second line");
        paths.push(json!({"path": "/var/runtime/bootstrap", "contains": line, "mode": "0755"}));
    }
    if let Some(req) = spec["requirements"].as_str() {
        if runtime.starts_with("python") {
            let text = std::fs::read_to_string(ctx.join(req)).expect("read requirements");
            let names: Vec<String> = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let end = l
                        .find(['=', '<', '>', '!', '~', ';', '['])
                        .unwrap_or(l.len());
                    l[..end].to_lowercase().replace('-', "_")
                })
                .collect();
            for n in names {
                paths.push(json!({"path": format!("{root}/{n}/__init__.py"), "type": "file", "readable_by": "any"}));
            }
        } else if runtime.starts_with("nodejs") {
            paths.push(
                json!({"path": format!("{root}/node_modules/.package-lock.json"), "type": "file"}),
            );
            paths.push(json!({"path": "/tmp/npm-cache", "absent": true}));
        } else if let Some(version) = runtime.strip_prefix("ruby") {
            let gems = format!("{root}/vendor/bundle/ruby/{version}.0");
            paths.push(json!({"path": format!("{gems}/gems"), "type": "dir"}));
            paths.push(json!({"path": format!("{gems}/cache"), "absent": true}));
            paths.push(json!({"path": format!("{root}/.bundle/config"), "contains": "BUNDLE_PATH: \"vendor/bundle\""}));
        } else {
            panic!("requirements for {runtime}: teach this test what they install");
        }
    }
    let list = manifest["paths"]
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    manifest["paths"] = Value::Array(list.into_iter().chain(paths).collect());

    let handler = spec["handler"].as_str().expect("handler");
    let mut env = json!({"LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime"});
    for (k, v) in spec["env"].as_object().into_iter().flatten() {
        env[k] = v.clone();
    }
    let wanted = json!({
        "env": env,
        "entrypoint": ["/lambda-entrypoint.sh"],
        "cmd": [handler],
        "workdir": "/var/task",
    });
    if !manifest["metadata"].is_object() {
        manifest["metadata"] = json!({});
    }
    for (k, v) in wanted.as_object().expect("object") {
        if manifest["metadata"].get(k).is_none() {
            manifest["metadata"][k] = v.clone();
        }
    }
    manifest
}

/// What `verify`'s handler check should say for this runtime.
fn handler_expectation(runtime: &str) -> (&'static str, &'static str) {
    if runtime.starts_with("python") {
        ("pass", "Python module")
    } else if runtime.starts_with("nodejs") {
        ("pass", "Node.js module")
    } else if runtime.starts_with("ruby") {
        ("pass", "Ruby file")
    } else if runtime.starts_with("java") {
        // Java handlers are reported, not resolved (classes may live in jars).
        ("info", "present")
    } else {
        // A custom runtime gets the handler unchecked; the bootstrap is what is checked.
        ("info", "execs /var/runtime/bootstrap (file, mode 0755")
    }
}

fn check_report(name: &str, runtime: &str, out: &Output, manifest: &Value) {
    let context = format!("{name}: {}\n{}", stdout(out), stderr(out));
    assert_eq!(code(out), 0, "{context}");
    let report = json(out);
    assert_eq!(report["summary"]["fail"], 0, "{context}");
    let checks = report["checks"].as_array().expect("checks");
    let digests = checks_named(&report, "digest");
    assert!(!digests.is_empty(), "{context}");
    assert!(digests.iter().all(|c| c["status"] == "pass"), "{context}");
    for check in ["cmd-arity", "entrypoint", "permissions", "architecture"] {
        assert_eq!(status_of(&report, check), "pass", "{check} in {context}");
    }
    let (status, says) = handler_expectation(runtime);
    let handler = checks_named(&report, "handler");
    assert_eq!(handler.len(), 1, "{context}");
    assert_eq!(handler[0]["status"], status, "{context}");
    let message = handler[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "handler: {message}");
    // Every manifest path was checked and passed.
    for path in manifest["paths"].as_array().expect("paths") {
        let p = path["path"]
            .as_str()
            .expect("path")
            .replace("${LAMBDA_TASK_ROOT}", "/var/task");
        assert!(
            checks
                .iter()
                .any(|c| c["kind"] == "manifest" && c["path"] == p.as_str()),
            "{p} not checked in {context}"
        );
    }
    assert!(
        checks
            .iter()
            .filter(|c| c["kind"] == "manifest")
            .all(|c| c["status"] == "pass"),
        "{context}"
    );
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("images/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("image.yaml").is_file())
        .collect();
    out.sort();
    out
}

fn image_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", name])
        .output()
        .expect("docker image inspect")
        .status
        .success()
}

#[test]
fn every_example_renders_builds_and_verifies_on_a_stand_in_base() {
    let started = std::time::Instant::now();
    let mut images = Images::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut bases: Vec<(String, String)> = Vec::new();
    let mut covered = Vec::new();
    let mut skipped = Vec::new();
    let mut jobs = Vec::new();
    for example in examples() {
        let name = example
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(example.join("image.yaml")).expect("read");
        let spec: Value = serde_saphyr::from_str(&text).expect("image.yaml parses");
        let runtime = spec["runtime"].as_str().expect("runtime").to_string();
        let arches = strs(&spec["architectures"]);
        if runtime.starts_with("dotnet") || !arches.iter().any(|a| a == host_arch()) {
            skipped.push(name);
            continue;
        }
        let base = match bases.iter().find(|(r, _)| *r == runtime) {
            Some((_, b)) => b.clone(),
            None => {
                let b = import_base(&mut images, scratch.path(), &runtime);
                bases.push((runtime.clone(), b.clone()));
                b
            }
        };
        let ctx = scratch.path().join(&name);
        let spec = prepare(&example, &ctx, &base);
        if runtime.starts_with("java") {
            compile_java(&ctx);
        }
        render(&ctx);
        let dockerfile = std::fs::read_to_string(ctx.join("Dockerfile")).expect("Dockerfile");
        for line in dockerfile.lines().filter(|l| l.starts_with("FROM ")) {
            assert!(
                line.starts_with(&format!("FROM {base}")),
                "{name}: FROM names an image that is not the stand-in: {line}"
            );
        }
        let tag = format!("lambda-image-test/e2e-{name}-{}", unique());
        jobs.push(Job {
            name,
            runtime,
            example,
            ctx,
            spec,
            dockerfile,
            tag,
        });
    }

    // The builds wait on the engine, not the CPU: a few at a time.
    let next = AtomicUsize::new(0);
    let mut builds: Vec<(usize, Result<Build, String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..BUILD_WORKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        done.push((i, docker_build(&job.ctx, &job.tag)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    builds.sort_by_key(|(i, _)| *i);
    let outputs: Vec<Output> = builds
        .into_iter()
        .map(|(i, build)| images.keep(build, &jobs[i].tag))
        .collect();

    for (job, built) in jobs.iter().zip(&outputs) {
        let name = &job.name;
        assert!(
            built.status.success(),
            "docker build {name} failed:\n{}\n{}",
            job.dockerfile,
            build_log(built)
        );
        let manifest = manifest(&job.example, &job.ctx, &job.spec);
        let manifest_path = scratch.path().join(format!("{name}-manifest.yaml"));
        std::fs::write(
            &manifest_path,
            serde_json::to_string_pretty(&manifest).expect("json"),
        )
        .expect("write manifest");
        let out = run(&[
            "verify",
            &job.tag,
            "-m",
            manifest_path.to_str().expect("utf8"),
            "--arch",
            host_arch(),
            "--format",
            "json",
        ]);
        check_report(name, &job.runtime, &out, &manifest);
        covered.push(name.clone());
    }
    skipped.sort();
    assert_eq!(
        skipped, NOT_COVERED,
        "examples this test does not build (covered: {covered:?})"
    );
    for must in ["python313", "nodejs22", "ruby34", "provided-al2023"] {
        assert!(covered.iter().any(|c| c == must), "{must} not covered");
    }
    // Clean-up removes every image the test made.
    let names = images.names.clone();
    drop(images);
    for name in names.iter().filter(|n| n.contains('/')) {
        assert!(!image_exists(name), "{name} left in the Docker Engine");
    }
    eprintln!(
        "built and verified {} examples in {:.1} s",
        covered.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The stand-in has teeth: the dnf4 spelling `install_weak_deps=False` (which the AL2023
/// user guide shows) fails the build with microdnf's message, and no image is left.
#[test]
fn a_dockerfile_with_a_dnf4_only_option_fails_the_build() {
    let mut images = Images::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("images/python313");
    let base = import_base(&mut images, scratch.path(), "python3.13");
    let ctx = scratch.path().join("python313");
    prepare(&example, &ctx, &base);
    render(&ctx);
    let path = ctx.join("Dockerfile");
    let rendered = std::fs::read_to_string(&path).expect("Dockerfile");
    assert!(
        rendered.contains("--setopt=install_weak_deps=0"),
        "{rendered}"
    );
    std::fs::write(
        &path,
        rendered.replace(
            "--setopt=install_weak_deps=0",
            "--setopt=install_weak_deps=False",
        ),
    )
    .expect("write Dockerfile");
    let tag = format!("lambda-image-test/e2e-weak-deps-{}", unique());
    let out = images.keep(docker_build(&ctx, &tag), &tag);
    let log = build_log(&out);
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains(r#"error: Invalid boolean value "False" in: install_weak_deps=False"#),
        "{log}"
    );
    assert!(log.contains("returned a non-zero code: 1"), "{log}");
    assert!(!image_exists(&tag));
}

/// Runs the microdnf stand-in with busybox's shell, as the base image does, with its
/// install root and cache in `dir`.
fn microdnf(dir: &Path, args: &str) -> Output {
    let script = dir.join("microdnf");
    std::fs::write(&script, MICRODNF_STANDIN).expect("write");
    Command::new("busybox")
        .arg("sh")
        .arg(&script)
        .arg(format!("--setopt=cachedir={}", dir.join("cache").display()))
        .arg(format!("--installroot={}", dir.display()))
        .args(args.split_whitespace())
        .output()
        .expect("busybox (install Debian's busybox-static)")
}

/// microdnf 3.8.1's answers (domain.md §2.2), one per thing dnf4 or yum accept and it does not.
#[test]
fn the_microdnf_stand_in_rejects_what_microdnf_rejects() {
    let rejected = [
        (
            "install -y --allowerasing curl",
            "error: Unknown option --allowerasing",
        ),
        (
            "install -y --skip-broken x",
            "error: Unknown option --skip-broken",
        ),
        ("-q install -y x", "error: Unknown option -q"),
        (
            "clean metadata",
            "error: Invalid clean argument: 'metadata'",
        ),
        ("clean", "error: Clean requires argument: all"),
        (
            "groupinstall -y Development",
            "error: Unknown command: 'groupinstall'",
        ),
        (
            "group install -y Development",
            "error: Unknown command: 'group'",
        ),
        ("install -y @core", "error: No package matches '@core'"),
        ("install -y ./x.rpm", "error: No package matches './x.rpm'"),
        (
            "localinstall -y x.rpm",
            "error: Unknown command: 'localinstall'",
        ),
        (
            "config-manager --enable x",
            "error: Unknown command: 'config-manager'",
        ),
        ("swap curl-minimal curl", "error: Unknown command: 'swap'"),
        (
            "install -y --setopt=install_weak_deps=False x",
            r#"error: Invalid boolean value "False" in: install_weak_deps=False"#,
        ),
        (
            "install -y --setopt=gpgcheck=0 x",
            "error: Unable to handle: gpgcheck=0",
        ),
        (
            "install -y --setopt=tsflags=noscripts x",
            "error: Unable to handle: tsflags=noscripts",
        ),
        ("repolist --installed", "error: Unknown option --installed"),
        ("install x", "Operation aborted."),
        ("install -y", "error: Packages are not specified"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, message) in rejected {
        let out = microdnf(dir.path(), args);
        assert_eq!(code(&out), 1, "microdnf {args}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "microdnf {args}: {}",
            stderr(&out)
        );
    }
    for args in [
        "install -y --setopt=install_weak_deps=0 --nodocs libpq",
        "-y install --setopt=keepcache=1 --setopt=tsflags=nodocs --setopt=amazonlinux.gpgcheck=0 x",
        "--assumeyes --releasever=latest upgrade",
        "clean all",
        "makecache",
        "repolist --all",
        "repoquery --installed",
        "module enable x",
    ] {
        let out = microdnf(dir.path(), args);
        assert_eq!(code(&out), 0, "microdnf {args}: {}", stderr(&out));
    }
}

/// What the image tests observe: install records the package and leaves metadata in the
/// cache; `clean all` empties the metadata but not the cache directory.
#[test]
fn the_microdnf_stand_in_leaves_a_cache_until_cleaned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache/metadata");
    let out = microdnf(dir.path(), "install -y --nodocs libpq");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir
        .path()
        .join("var/lib/microdnf-standin/installed/libpq")
        .is_file());
    assert!(cache.join("libpq").is_file());
    let out = microdnf(dir.path(), "clean all");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(listing(&cache), vec![]);
    assert!(cache.is_dir());
    let out = microdnf(dir.path(), "remove -y libpq");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = microdnf(dir.path(), "remove -y libpq");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("error: No package matches 'libpq'"));
}
