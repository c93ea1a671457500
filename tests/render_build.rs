//! End to end: every example spec under images/ that can be built here is built by
//! `lambda-image build --all -j 2` (render → lint → Docker Engine build → verify) on
//! stand-in AWS Lambda AL2023 base images, nothing pulled; a second run says "unchanged"
//! for each in a fraction of the time, and changing one copied file rebuilds only that
//! image. The tags are then checked once more with `lambda-image verify IMAGE`.
//!
//! The stand-in bases are imported from a rootfs built here (tests/verify/common.rs,
//! `al2023_base_rootfs`): busybox, the Lambda paths and Env, a microdnf stand-in that
//! rejects what microdnf 3.8.1 rejects, and stand-ins for pip, npm and bundler that check
//! their arguments. One base per runtime, so `verify` recognises the runtime from
//! /var/lang/bin as it does on AWS's images. Everything is tagged under
//! `lambda-image-test/` and removed afterwards, also when an assertion fails.
//!
//! Needs a reachable Docker Engine, Debian's busybox-static and javac (the Java examples'
//! classes are compiled into a temporary copy, as `mvn package` would before a build).
//! These tests fail, not skip, without them.
//!
//! Every example's arm64 architecture is built too, on arm64 stand-in bases (Debian's arm64
//! busybox) whose RUN steps run under QEMU, as Graviton teams build on amd64 CI runners
//! (`make test-deps` registers qemu-user-static with binfmt_misc).
//!
//! Not covered: dotnet8 and dotnet10 (they copy a `dotnet publish` output, and no .NET SDK
//! is available to produce one). `build --all --arch <this machine's>` leaves out the
//! examples whose `architectures` lack this machine's (nodejs24 is arm64 only) and says so;
//! the arm64 test builds them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use common::fixtures::{checks_named, code, listing, status_of, stderr, MICRODNF_STANDIN};
use common::*;
use serde_json::{json, Value};

/// Examples the test for this machine's architecture leaves out (see the module
/// documentation): nodejs24 is built by the arm64 test.
const NOT_COVERED: [&str; 3] = ["dotnet10", "dotnet8", "nodejs24"];

/// Examples with an arm64 architecture (not dotnet, see the module documentation).
const ARM64: [&str; 2] = ["nodejs24", "python313"];

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

/// A copy of the example in `images/<name>` of `root` with `base:`, `tags:` and `verify:`
/// set; returns the parsed original spec.
fn prepare(example: &Path, ctx: &Path, base: &str, tag: &str) -> Value {
    copy_dir(example, ctx);
    let spec_path = ctx.join("image.yaml");
    let text = std::fs::read_to_string(&spec_path).expect("read image.yaml");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("base:") && !l.starts_with("tags:") && !l.starts_with("verify:"))
        .collect();
    std::fs::write(
        &spec_path,
        format!(
            "base: {base}\ntags: [{tag}]\nverify: e2e-manifest.yaml\n{}\n",
            kept.join("\n")
        ),
    )
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

fn check_report(name: &str, runtime: &str, out: &Run, manifest: &Value) {
    let context = format!("{name}: {}", out.both());
    assert_eq!(out.code, 0, "{context}");
    let report = out.json();
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

/// The build report's entry for `name`.
fn entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["images"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == name))
        .unwrap_or_else(|| panic!("{name} not in the report: {report}"))
}

#[test]
fn every_example_builds_and_verifies_and_a_second_run_is_unchanged() {
    let mut images = Images::new();
    let scratch = Tree::new();
    let mut bases: Vec<(String, String)> = Vec::new();
    let mut left_out = Vec::new();
    let mut jobs: Vec<(String, String, PathBuf, Value, String)> = Vec::new();
    let run_id = unique();
    for example in examples() {
        let name = example
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(example.join("image.yaml")).expect("read");
        let spec: Value = serde_saphyr::from_str(&text).expect("image.yaml parses");
        let runtime = spec["runtime"].as_str().expect("runtime").to_string();
        if runtime.starts_with("dotnet") {
            left_out.push(name);
            continue;
        }
        let base = match bases.iter().find(|(r, _)| *r == runtime) {
            Some((_, b)) => b.clone(),
            None => {
                let b = images.base(&runtime);
                bases.push((runtime.clone(), b.clone()));
                b
            }
        };
        let ctx = scratch.join(&format!("images/{name}"));
        let tag = images.track(&format!("lambda-image-test/e2e-{name}-{run_id}:latest"));
        let spec = prepare(&example, &ctx, &base, &tag);
        if runtime.starts_with("java") {
            compile_java(&ctx);
        }
        let manifest = manifest(&example, &ctx, &spec);
        std::fs::write(
            ctx.join("e2e-manifest.yaml"),
            serde_json::to_string_pretty(&manifest).expect("json"),
        )
        .expect("write manifest");
        jobs.push((name, runtime, ctx, manifest, tag));
    }

    let args = [
        "build",
        "--all",
        "-j",
        "2",
        "--arch",
        host_arch(),
        "--format",
        "json",
        "--report",
        "report.json",
    ];
    let started = Instant::now();
    let first = scratch.run(&args);
    let cold = started.elapsed();
    let report = first.json();
    for id in report["images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["config_digest"].as_str())
    {
        images.forget(id);
    }
    assert_eq!(first.code, 0, "{}", first.both());
    for line in first.stderr.lines().filter(|l| l.contains("left out")) {
        left_out.push(line.split(':').next().unwrap_or_default().to_string());
    }
    left_out.sort();
    assert_eq!(left_out, NOT_COVERED, "examples this test does not build");
    let covered: Vec<String> = jobs
        .iter()
        .map(|j| j.0.clone())
        .filter(|n| !left_out.contains(n))
        .collect();
    for must in [
        "python313",
        "nodejs22",
        "ruby34",
        "provided-al2023",
        "java21",
    ] {
        assert!(covered.iter().any(|c| c == must), "{must} not covered");
    }
    for (name, runtime, _, manifest, tag) in jobs.iter().filter(|j| covered.contains(&j.0)) {
        let image = entry(&report, name);
        assert_eq!(image["status"], "built", "{name}: {image}");
        assert_eq!(image["verify"]["fail"], 0, "{name}: {image}");
        assert_eq!(image["tags"], json!([tag]), "{name}: {image}");
        // The tag is what verify checks, path by path.
        let manifest_path = scratch.join(&format!("{name}-check.yaml"));
        std::fs::write(
            &manifest_path,
            serde_json::to_string_pretty(manifest).expect("json"),
        )
        .expect("write");
        let out = run(&[
            "verify",
            tag,
            "-m",
            manifest_path.to_str().expect("utf8"),
            "--arch",
            host_arch(),
            "--format",
            "json",
        ]);
        check_report(name, runtime, &out, manifest);
    }
    assert!(scratch.join("report.json").is_file());

    // Nothing changed: every image unchanged, in a fraction of the time.
    let started = Instant::now();
    let second = scratch.run(&args);
    let noop = started.elapsed();
    assert_eq!(second.code, 0, "{}", second.both());
    let report = second.json();
    for name in &covered {
        assert_eq!(
            entry(&report, name)["status"],
            "unchanged",
            "{name}: {}",
            second.both()
        );
    }
    assert!(noop * 5 < cold, "no-op {noop:?} vs cold {cold:?}");

    // One copied file changed: only that image is rebuilt.
    let changed = jobs.iter().find(|j| j.0 == "python313").expect("python313");
    let app = changed.2.join("app.py");
    let mut text = std::fs::read_to_string(&app).expect("app.py");
    text.push_str("\n# changed\n");
    std::fs::write(&app, text).expect("write");
    let third = scratch.run(&args);
    assert_eq!(third.code, 0, "{}", third.both());
    let report = third.json();
    for image in report["images"].as_array().into_iter().flatten() {
        let want = if image["name"] == "python313" {
            "built"
        } else {
            "unchanged"
        };
        assert_eq!(image["status"], want, "{image}");
        if let Some(id) = image["config_digest"].as_str() {
            images.forget(id);
        }
    }
    eprintln!(
        "built and verified {} examples: cold {:.1} s, no-op {:.2} s",
        covered.len(),
        cold.as_secs_f64(),
        noop.as_secs_f64()
    );
}

/// Every example with arm64 in its `architectures` builds for arm64 here, its RUN steps
/// (the microdnf, pip and npm stand-ins, busybox) under QEMU, and verifies as arm64 with
/// everything its spec and manifest ask for.
#[test]
fn every_examples_arm64_architecture_builds_and_verifies_under_emulation() {
    if host_arch() != "x86_64" {
        return;
    }
    require_arm64_emulation();
    let mut images = Images::new();
    let scratch = Tree::new();
    let mut bases: Vec<(String, String)> = Vec::new();
    let mut jobs: Vec<(String, String, Value)> = Vec::new();
    let run_id = unique();
    for example in examples() {
        let name = example
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(example.join("image.yaml")).expect("read");
        let spec: Value = serde_saphyr::from_str(&text).expect("image.yaml parses");
        let runtime = spec["runtime"].as_str().expect("runtime").to_string();
        if !strs(&spec["architectures"]).iter().any(|a| a == "arm64")
            || runtime.starts_with("dotnet")
        {
            continue;
        }
        let base = match bases.iter().find(|(r, _)| *r == runtime) {
            Some((_, b)) => b.clone(),
            None => {
                let b = images.base_arm64(&runtime);
                bases.push((runtime.clone(), b.clone()));
                b
            }
        };
        let ctx = scratch.join(&format!("images/{name}"));
        let tag = format!("lambda-image-test/e2e-arm64-{name}-{run_id}:latest");
        let spec = prepare(&example, &ctx, &base, &tag);
        let manifest = manifest(&example, &ctx, &spec);
        std::fs::write(
            ctx.join("e2e-manifest.yaml"),
            serde_json::to_string_pretty(&manifest).expect("json"),
        )
        .expect("write manifest");
        jobs.push((name, runtime, manifest));
    }
    let names: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
    assert_eq!(names, ARM64, "the examples with an arm64 architecture");

    let started = Instant::now();
    let out = scratch.run(&[
        "build", "--all", "-j", "2", "--arch", "arm64", "--format", "json",
    ]);
    let took = started.elapsed();
    let report = out.json();
    for image in report["images"].as_array().into_iter().flatten() {
        if let Some(id) = image["config_digest"].as_str() {
            images.forget(id);
        }
        for tag in strs(&image["tags"]) {
            images.track(&tag);
        }
    }
    assert_eq!(out.code, 0, "{}", out.both());
    for (name, runtime, manifest) in &jobs {
        let image = entry(&report, name);
        assert_eq!(image["status"], "built", "{name}: {image}");
        assert_eq!(image["platform"], "linux/arm64", "{name}: {image}");
        assert_eq!(image["verify"]["fail"], 0, "{name}: {image}");
        let tag = strs(&image["tags"]).pop().expect("a tag");
        let manifest_path = scratch.join(&format!("{name}-check.yaml"));
        std::fs::write(
            &manifest_path,
            serde_json::to_string_pretty(manifest).expect("json"),
        )
        .expect("write");
        let out = run(&[
            "verify",
            &tag,
            "-m",
            manifest_path.to_str().expect("utf8"),
            "--arch",
            "arm64",
            "--format",
            "json",
        ]);
        check_report(name, runtime, &out, manifest);
        assert_eq!(out.json()["image"]["architecture"], "arm64", "{name}");
    }
    eprintln!(
        "built and verified {} examples for arm64 under QEMU in {:.1} s",
        jobs.len(),
        took.as_secs_f64()
    );
}

/// The stand-in has teeth: the dnf4 spelling `install_weak_deps=False` (which the AL2023
/// user guide shows) fails the build with microdnf's message, names the rule, and tags
/// nothing.
#[test]
fn a_dockerfile_with_a_dnf4_only_option_fails_the_build() {
    let mut images = Images::new();
    let scratch = Tree::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("images/python313");
    let base = images.base("python3.13");
    let ctx = scratch.join("images/python313");
    let tag = images.track(&format!("lambda-image-test/e2e-weak-deps-{}:1", unique()));
    prepare(&example, &ctx, &base, &tag);
    std::fs::write(
        ctx.join("e2e-manifest.yaml"),
        "schemaVersion: lambda-image/v1\n",
    )
    .expect("write");
    let out = scratch.run(&[
        "render",
        "images/python313",
        "-o",
        "images/python313/Dockerfile",
    ]);
    assert_eq!(out.code, 0, "{}", out.both());
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
    let out = scratch.run(&[
        "build",
        "--file",
        "images/python313/Dockerfile",
        "-t",
        &tag,
        "--no-lint",
    ]);
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(
        out.stdout
            .contains(r#"| error: Invalid boolean value "False" in: install_weak_deps=False"#),
        "{}",
        out.both()
    );
    // BuildKit's words for a failed RUN (the classic builder says "returned a non-zero code").
    assert!(out.stdout.contains("exit code: 1"), "{}", out.both());
    assert!(
        out.stdout.contains("see `lambda-image rule LI108`"),
        "{}",
        out.both()
    );
    assert!(!images.exists(&tag));
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
