//! `lambda-image build` as a user runs it: bad inputs (one line, exit 2, nothing sent),
//! the lint pre-flight, and real builds on this machine's Docker Engine from stand-in
//! AL2023 bases (nothing pulled): a failing RUN, a failing verify, `.dockerignore`,
//! unchanged images, fail-fast and `--keep-going`, the JSON report and the GitHub summary,
//! arm64 images (COPY-only, and RUN steps under QEMU) on an amd64 engine, Ctrl-C, SIGTERM and SIGHUP, the run after a
//! SIGKILL. Every image is tagged under
//! `lambda-image-test/` and removed afterwards.

mod common;

use std::time::{Duration, Instant};

use common::*;

const DEAD: &str = "unix:///nonexistent/lambda-image-test.sock";

/// A Dockerfile on the stand-in base that answers as a custom runtime would.
fn dockerfile(base: &str, extra: &str) -> String {
    format!(
        "FROM {base}\n{extra}COPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"
    )
}

fn app(tree: &Tree, base: &str, extra: &str) {
    tree.write("app/Dockerfile", dockerfile(base, extra));
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
}

// ---------------------------------------------------------------------------------------
// Bad input: nothing reaches the engine (DOCKER_HOST points at nothing).

#[test]
fn a_dead_engine_is_one_line_and_exit_2_within_2_seconds() {
    let tree = Tree::new();
    app(&tree, "lambda-image-test/none:latest", "");
    let started = Instant::now();
    let run = tree.run_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            "lambda-image-test/x:1",
        ],
        &[("DOCKER_HOST", DEAD)],
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    run.assert_error(&format!(
        "cannot reach the Docker Engine at {DEAD} (/nonexistent/lambda-image-test.sock does not exist); start Docker or set DOCKER_HOST"
    ));
}

#[test]
fn the_docker_context_is_honoured() {
    let tree = Tree::new();
    app(&tree, "lambda-image-test/none:latest", "");
    // A context named `ci` whose endpoint is a socket that does not exist.
    let id = {
        use sha2::Digest;
        sha2::Sha256::digest(b"ci")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    tree.write(
        &format!("dockercfg/contexts/meta/{id}/meta.json"),
        format!(r#"{{"Name":"ci","Endpoints":{{"docker":{{"Host":"{DEAD}"}}}}}}"#),
    );
    tree.write("dockercfg/config.json", r#"{"currentContext":"ci"}"#);
    let cfg = tree.join("dockercfg");
    let run = tree.run_env(
        &["build", "--file", "app/Dockerfile"],
        &[("DOCKER_CONFIG", cfg.to_str().expect("utf8"))],
    );
    run.assert_error_starts(&format!("cannot reach the Docker Engine at {DEAD} "));
    let run = tree.run_env(
        &["build", "--file", "app/Dockerfile"],
        &[
            ("DOCKER_CONFIG", cfg.to_str().expect("utf8")),
            ("DOCKER_CONTEXT", "nope"),
        ],
    );
    run.assert_error_starts("docker context `nope` does not exist");
}

#[test]
fn a_spec_error_exits_2_before_anything_is_sent() {
    let tree = Tree::new();
    tree.write(
        "images/fn/image.yaml",
        "runtime: python3.13\nhandler: app.handler\npakages: [jq]\n",
    );
    let before = tree.snapshot();
    let run = tree.run_env(&["build", "--all"], &[("DOCKER_HOST", DEAD)]);
    run.assert_error_starts("images/fn/image.yaml:3:1: unknown field");
    assert_eq!(tree.snapshot(), before, "nothing written");
}

#[test]
fn usage_errors_are_one_line() {
    let tree = Tree::new();
    app(&tree, "lambda-image-test/none:latest", "");
    let dead = [("DOCKER_HOST", DEAD)];
    tree.run_env(&["build"], &dead)
        .assert_error("give image specs (images/<name>), --all, or --file Dockerfile");
    tree.run_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "--arch",
            "x86_64,arm64",
            "--iidfile",
            "id",
        ],
        &dead,
    )
    .assert_error(
        "--iidfile names one image, but this build makes 2 (narrow it with --arch or one spec)",
    );
    tree.run_env(
        &["build", "--file", "app/Dockerfile", "-t", "Bad:Tag"],
        &dead,
    )
    .assert_error("tag \"Bad:Tag\": `Bad:Tag` is not an image reference: it must be lower-case");
    tree.run_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "--build-arg",
            "NOVALUE",
        ],
        &dead,
    )
    .assert_error("--build-arg \"NOVALUE\": expected NAME=VALUE");
    tree.run_env(&["build", "--file", "missing/Dockerfile"], &dead)
        .assert_error("missing/Dockerfile: No such file or directory");
    tree.write(
        "bad.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: \"${LAMBDA_TASK_ROOT/app.py\"}\n",
    );
    tree.run_env(
        &["build", "--file", "app/Dockerfile", "-m", "bad.yaml"],
        &dead,
    )
    .assert_error("bad.yaml: paths[0] (${LAMBDA_TASK_ROOT/app.py): `${` is not closed by `}`");
    assert!(!tree.join("id").exists());
}

#[test]
fn lint_findings_stop_the_image_before_any_build() {
    let tree = Tree::new();
    app(
        &tree,
        "public.ecr.aws/lambda/python:3.12",
        "RUN yum install -y jq\n",
    );
    // The engine is never contacted: every image stopped at lint.
    let run = tree.run_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            "lambda-image-test/lint:1",
        ],
        &[("DOCKER_HOST", DEAD)],
    );
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stderr.contains("error[LI101]"), "{}", run.both());
    assert!(
        run.stdout.contains("app/x86_64  failed at lint"),
        "{}",
        run.both()
    );
    assert!(
        run.stdout
            .contains("app/Dockerfile: 2 lint findings at or above the failure threshold"),
        "{}",
        run.both()
    );
}

#[test]
fn buildkit_only_syntax_is_refused_with_the_line() {
    let tree = Tree::new();
    app(
        &tree,
        "lambda-image-test/none:latest",
        "RUN --mount=type=cache,target=/root/.cache true\n",
    );
    let run = tree.run_env(
        &[
            "build",
            "--file",
            "app/Dockerfile",
            "--no-lint",
            "--builder",
            "classic",
        ],
        &[("DOCKER_HOST", DEAD)],
    );
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains("app/Dockerfile: the classic builder cannot run this Dockerfile (line 2: RUN --mount, which only BuildKit runs); build it with --builder buildkit"),
        "{}",
        run.both()
    );
}

// ---------------------------------------------------------------------------------------
// Real builds.

/// On each builder: the failing step as that builder names it, its output, the rule that
/// explains it, the full log; no tag, no container.
#[test]
fn a_failing_run_shows_the_step_its_output_and_the_rule_and_tags_nothing() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    for (builder, step, plain) in [
        (
            "buildkit",
            "failing step: [2/3] RUN dnf install -y --allowerasing curl",
            "app/x86_64 | [2/3] RUN dnf install -y --allowerasing curl",
        ),
        ("classic", "failing step: Step 2/", "app/x86_64 | Step 2/"),
    ] {
        let tree = Tree::new();
        app(&tree, &base, "RUN dnf install -y --allowerasing curl\n");
        let tag = images.track(&format!("lambda-image-test/fail-run-{}:1", unique()));
        let run = tree.build_app(&tag, &["--no-lint", "--no-progress", "--builder", builder]);
        assert_eq!(run.code, 1, "{}", run.both());
        let out = &run.stdout;
        assert!(out.contains("failed at build"), "{}", run.both());
        assert!(out.contains(step), "{builder}: {}", run.both());
        assert!(
            out.contains(" RUN dnf install -y --allowerasing curl\n"),
            "{builder}: {}",
            run.both()
        );
        assert!(
            out.contains("| error: Unknown option --allowerasing"),
            "{}",
            run.both()
        );
        assert!(
            out.contains("see `lambda-image rule LI107`"),
            "{}",
            run.both()
        );
        let log_of = |out: &str| {
            out.lines()
                .find_map(|l| l.trim().strip_prefix("full log: "))
                .map(String::from)
                .unwrap_or_else(|| panic!("no log path: {out}"))
        };
        let first = log_of(out);
        // A second run of the same folder keeps a log of its own.
        let again = tree.build_app(&tag, &["--no-lint", "-q", "--builder", builder]);
        assert_eq!(again.code, 1, "{}", again.both());
        let second = log_of(&again.stdout);
        assert_ne!(first, second);
        let dir = std::env::temp_dir().join("lambda-image-logs");
        for log in [&first, &second] {
            let name = std::path::Path::new(log)
                .strip_prefix(&dir)
                .unwrap_or_else(|_| panic!("{log} is not in {}", dir.display()))
                .to_string_lossy()
                .into_owned();
            assert!(
                name.starts_with("app-x86_64-") && name.ends_with(".log"),
                "{name}"
            );
            assert!(
                std::fs::read_to_string(log)
                    .expect("kept")
                    .contains("Unknown option --allowerasing"),
                "{log}"
            );
            let _ = std::fs::remove_file(log);
        }
        assert!(!images.exists(&tag), "a failed build left {tag}");
        assert_eq!(
            containers_from(&base),
            Vec::<String>::new(),
            "containers left"
        );
        // Plain lines, prefixed with the image, whole.
        assert!(run.stderr.contains(plain), "{builder}: {}", run.both());
    }
}

/// A failing RUN of thousands of continuation lines is cut in the summary (its start and
/// end) and on the progress lines; the full log keeps it whole.
#[test]
fn a_long_failing_command_is_cut_in_the_summary() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let run_lines: String = (0..5000).map(|i| format!("  && : {i} \\\n")).collect();
    app(
        &tree,
        &base,
        &format!("RUN echo start \\\n{run_lines}  && exit 3\n"),
    );
    let tag = images.track(&format!("lambda-image-test/long-run-{}:1", unique()));
    let run = tree.build_app(&tag, &["--no-lint", "--no-progress"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stdout.len() < 4_000, "{}", run.stdout);
    assert!(run.stderr.len() < 40_000, "{}", run.stderr.len());
    let step = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("  failing step: "))
        .unwrap_or_else(|| panic!("{}", run.both()));
    assert!(step.starts_with("[2/3] RUN echo start"), "{step}");
    assert!(step.contains(" characters … "), "{step}");
    assert!(step.ends_with("&& : 4999   && exit 3"), "{step}");
    let log = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("  full log: "))
        .unwrap_or_else(|| panic!("{}", run.both()));
    let text = std::fs::read_to_string(log).expect("log");
    assert!(text.contains("&& : 2500 "), "the log keeps the whole step");
    let _ = std::fs::remove_file(log);
}

/// A cache folder that cannot be written makes every build a rebuild: said once per run.
#[test]
fn an_unwritable_cache_is_said_once() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    app(&tree, &base, "");
    let tag = images.track(&format!("lambda-image-test/cache-{}:1", unique()));
    let cache = tree.write("cache-is-a-file", "");
    let env = [("LAMBDA_IMAGE_CACHE_DIR", cache.to_str().expect("utf8"))];
    let args = [
        "build",
        "--file",
        "app/Dockerfile",
        "-t",
        &tag,
        "-q",
        "--format",
        "json",
    ];
    let warning = format!(
        "lambda-image: warning: cannot write the cache folder {} (Not a directory): every build will be a rebuild and every push will verify again; set LAMBDA_IMAGE_CACHE_DIR to a writable folder\n",
        cache.display()
    );
    for _ in 0..2 {
        let run = tree.run_env(&args, &env);
        assert_eq!(run.code, 0, "{}", run.both());
        assert_eq!(run.json()["images"][0]["status"], "built", "{}", run.both());
        // Both records (verified, built from these inputs) failed: one warning.
        assert_eq!(run.stderr, warning);
    }
}

/// A failed build with no log says so, and why: the engine stopped before the first step
/// (nothing to log), or the log could not be written.
#[test]
fn a_failed_build_without_a_log_says_so() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    // The engine refuses this Dockerfile before running any step.
    tree.write("app/Dockerfile", format!("FROM {base}\nFROBNICATE now\n"));
    let tag = images.track(&format!("lambda-image-test/no-log-{}:1", unique()));
    let args = [
        "build",
        "--file",
        "app/Dockerfile",
        "-t",
        &tag,
        "--no-lint",
        "-q",
    ];
    let run = tree.run(&args);
    assert_eq!(run.code, 1, "{}", run.both());
    let details: Vec<&str> = run.stdout.lines().skip(3).collect();
    assert_eq!(
        details,
        [
            "app/x86_64: dockerfile parse error line 2: unknown instruction: FROBNICATE",
            "  full log: none (the engine stopped before the first step, with no output)",
            "",
            "0 built, 0 unchanged, 1 failed",
        ],
        "{}",
        run.both()
    );
    // No folder for the logs: the failure says there is no log, and why.
    app(&tree, &base, "RUN echo broken && exit 3\n");
    let not_a_folder = tree.write("not-a-folder", "");
    let run = tree.run_env(&args, &[("TMPDIR", not_a_folder.to_str().expect("utf8"))]);
    assert_eq!(run.code, 1, "{}", run.both());
    let last = run
        .stdout
        .lines()
        .find(|l| l.starts_with("  full log: "))
        .unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "  full log: none (cannot write one in {}/lambda-image-logs: Not a directory)",
            not_a_folder.display()
        ),
        "{}",
        run.both()
    );
}

/// An I/O error in verify (here a TMPDIR that is a file; a full disk is the same) is an error
/// of this machine, not a failed check: `failed at verify (I/O)` and exit 2, as `verify IMAGE`
/// exits for it, so CI can tell a full disk from a bad image. Verify writes the export to
/// TMPDIR only when its manifest reads a file's contents; without, it reads the export as
/// it arrives and that TMPDIR does not matter.
#[test]
fn an_io_error_in_verify_is_exit_2_not_a_failed_check() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    app(&tree, &base, "");
    tree.write(
        "contents.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: \"${LAMBDA_TASK_ROOT}/function.sh\", contains: handler}\n",
    );
    let tag = images.track(&format!("lambda-image-test/verify-io-{}:1", unique()));
    let missing = tree.write("not-a-folder", "");
    let tmpdir = [("TMPDIR", missing.to_str().expect("utf8"))];
    let run = tree.build_app_env(&tag, &["-q", "--no-lint"], &tmpdir);
    assert_eq!(run.code, 0, "{}", run.both());
    let run = tree.build_app_env(
        &tag,
        &[
            "-q",
            "--force",
            "--manifest",
            "contents.yaml",
            "--report",
            "report.json",
        ],
        &tmpdir,
    );
    assert_eq!(run.code, 2, "{}", run.both());
    let report: serde_json::Value =
        serde_json::from_str(&tree.read("report.json")).expect("report");
    let image = &report["images"][0];
    let id = image["config_digest"]
        .as_str()
        .expect("an image id")
        .to_string();
    images.forget(&id);
    assert_eq!(image["failed_at"], "verify", "{report}");
    assert_eq!(image["error_kind"], "I/O", "{report}");
    let short = id
        .trim_start_matches("sha256:")
        .get(..12)
        .unwrap_or_default();
    // Times and the temporary file's random name masked.
    let lines: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
            match (l.find(&format!("{short} ")), l.find("lambda-image-export-")) {
                (Some(at), _) => l.get(..at + short.len()).unwrap_or_default().to_string(),
                (_, Some(at)) => format!("{}…", l.get(..at).unwrap_or_default()),
                _ => l,
            }
        })
        .collect();
    assert_eq!(
        lines,
        [
            "IMAGE RESULT ID TIME TAGS".to_string(),
            format!("app/x86_64 failed at verify (I/O) {short}"),
            String::new(),
            format!(
                "app/x86_64: creating a temporary file in {0} for the export of `{id}` (TMPDIR chooses the directory): Not a directory (os error 20) at path \"{0}/…",
                missing.display(),
            ),
            String::new(),
            "0 built, 0 unchanged, 1 failed".to_string(),
        ],
        "{}",
        run.both()
    );
}

#[test]
fn a_failing_verify_leaves_no_tag_and_names_the_image_id() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base}\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\", \"extra\"]\n"),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    let tag = images.track(&format!("lambda-image-test/fail-verify-{}:1", unique()));
    let run = tree.build_app(&tag, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.both());
    let report = run.json();
    let image = &report["images"][0];
    assert_eq!(image["status"], "failed", "{report}");
    assert_eq!(image["failed_at"], "verify", "{report}");
    assert_eq!(image["tags"], serde_json::json!([]), "{report}");
    let id = image["config_digest"]
        .as_str()
        .expect("an image id")
        .to_string();
    images.forget(&id);
    let failed = image["verify"]["failed"].as_array().expect("failed checks");
    assert!(failed.iter().any(|c| c["name"] == "cmd-arity"), "{report}");
    assert!(
        image["error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("left untagged as {id}"))),
        "{report}"
    );
    assert!(!images.exists(&tag));
    assert!(
        images.exists(&id),
        "the failed image is kept for inspection"
    );
}

#[test]
fn dockerignore_and_unchanged_and_rebuild_on_change() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base}\nCOPY . ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    tree.write("app/secret.env", "TOKEN=1\n");
    tree.write("app/notes/a.md", "x\n");
    tree.write("app/notes/keep.md", "x\n");
    tree.write("app/.dockerignore", "*.env\nnotes\n!notes/keep.md\n");
    tree.write(
        "manifest.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: \"${LAMBDA_TASK_ROOT}/function.sh\", type: file, readable_by: any}\n  - {path: \"${LAMBDA_TASK_ROOT}/secret.env\", absent: true}\n  - {path: \"${LAMBDA_TASK_ROOT}/notes/a.md\", absent: true}\n  - {path: \"${LAMBDA_TASK_ROOT}/notes/keep.md\", type: file}\n",
    );
    let tag = images.track(&format!("lambda-image-test/ignore-{}:1", unique()));
    let args = [
        "build",
        "--file",
        "app/Dockerfile",
        "-t",
        &tag,
        "-m",
        "manifest.yaml",
        "--iidfile",
        "iid",
        "--format",
        "json",
    ];
    let first = tree.run(&args);
    assert_eq!(first.code, 0, "{}", first.both());
    // .dockerignore, function.sh and notes/keep.md (besides the Dockerfile): no more.
    assert!(
        first
            .stderr
            .contains("app/x86_64 | sending the build context (3 files)\n"),
        "{}",
        first.both()
    );
    let report = first.json();
    assert_eq!(report["images"][0]["status"], "built", "{report}");
    assert_eq!(report["images"][0]["verify"]["fail"], 0, "{report}");
    let id = report["images"][0]["config_digest"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(tree.read("iid"), id, "--iidfile holds the id, no newline");
    assert_eq!(images.id(&tag).as_deref(), Some(id.as_str()));

    // Nothing changed (an ignored file does not count): unchanged, fast.
    tree.write("app/secret.env", "TOKEN=2\n");
    let started = Instant::now();
    let second = tree.run(&args);
    let took = started.elapsed();
    assert_eq!(second.code, 0, "{}", second.both());
    assert_eq!(
        second.json()["images"][0]["status"],
        "unchanged",
        "{}",
        second.both()
    );
    assert!(
        took < Duration::from_secs(2),
        "an unchanged image took {took:?}"
    );

    // A copied file changed: rebuilt.
    tree.write("app/function.sh", "function handler () { echo changed; }\n");
    let third = tree.run(&args);
    assert_eq!(third.code, 0, "{}", third.both());
    let report = third.json();
    assert_eq!(report["images"][0]["status"], "built", "{report}");
    assert_ne!(
        report["images"][0]["config_digest"].as_str(),
        Some(id.as_str())
    );
    images.forget(&id);
    // --force rebuilds an unchanged image.
    let forced = tree.run(&[&args[..], &["--force"]].concat());
    assert_eq!(
        forced.json()["images"][0]["status"],
        "built",
        "{}",
        forced.both()
    );
}

/// Three specs in sorted order: the first fails. Fail-fast skips the rest; --keep-going
/// builds them and still exits 1. The report and the GitHub summary say so.
#[test]
fn fail_fast_keep_going_report_and_github_summary() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let run_id = unique();
    for name in ["a-bad", "b-ok", "c-ok"] {
        let tag = images.track(&format!("lambda-image-test/ff-{name}-{run_id}:latest"));
        tree.write(
            &format!("images/{name}/image.yaml"),
            format!("runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: bootstrap}}\ncopy: [{{src: function.sh}}]\nhandler: function.handler\ntags: [{tag}]\nverify: manifest.yaml\n"),
        );
        // a-bad's manifest wants a file the image does not have.
        let wanted = if name == "a-bad" {
            "/var/task/missing.sh"
        } else {
            "/var/task/function.sh"
        };
        tree.write(
            &format!("images/{name}/manifest.yaml"),
            format!("schemaVersion: lambda-image/v1\npaths:\n  - {{path: {wanted}, type: file}}\n"),
        );
        tree.write(
            &format!("images/{name}/function.sh"),
            "function handler () { echo ok; }\n",
        );
        tree.write(
            &format!("images/{name}/bootstrap"),
            "#!/bin/sh\necho bootstrap\n",
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = tree.join(&format!("images/{name}/bootstrap"));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    let fast = tree.run(&["build", "--all", "-j", "1", "--report", "fast.json"]);
    assert_eq!(fast.code, 1, "{}", fast.both());
    let report: serde_json::Value = serde_json::from_str(&tree.read("fast.json")).expect("report");
    assert_eq!(report["schema"], "lambda-image/build-report/v1");
    let statuses: Vec<&str> = report["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| i["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        statuses,
        ["failed", "skipped", "skipped"],
        "{}",
        fast.both()
    );
    assert!(
        fast.stdout.contains("a-bad/x86_64: 1 verify check failed"),
        "{}",
        fast.both()
    );
    assert!(
        fast.stdout
            .contains("failed check path: does not exist (/var/task/missing.sh)")
            || fast.stdout.contains("/var/task/missing.sh"),
        "{}",
        fast.both()
    );
    if let Some(id) = report["images"][0]["config_digest"].as_str() {
        images.forget(id);
    }

    let summary = tree.join("summary.md");
    let keep = tree.run_env(
        &[
            "build",
            "--all",
            "-j",
            "2",
            "--keep-going",
            "--report",
            "keep.json",
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf8"))],
    );
    assert_eq!(keep.code, 1, "{}", keep.both());
    let report: serde_json::Value = serde_json::from_str(&tree.read("keep.json")).expect("report");
    let images_json = report["images"].as_array().expect("images");
    let statuses: Vec<&str> = images_json
        .iter()
        .map(|i| i["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["failed", "built", "built"], "{}", keep.both());
    for image in &images_json[1..] {
        assert!(image["config_digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")));
        assert!(image["inputs_hash"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")));
        assert_eq!(image["bases"][0]["reference"], base.as_str());
        assert!(image["bases"][0]["id"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")));
        assert!(image["build_seconds"].as_f64().is_some());
        assert_eq!(image["verify"]["fail"], 0);
        assert_eq!(image["registry_digest"], serde_json::Value::Null);
    }
    let md = tree.read("summary.md");
    assert!(
        md.contains("| Image | Result | Image id | Time | Tags |"),
        "{md}"
    );
    assert!(md.contains("| a-bad/x86_64 | failed at verify"), "{md}");
    assert!(md.contains("| b-ok/x86_64 | built |"), "{md}");
    // The outcome table: one line per image.
    assert!(
        keep.stdout
            .lines()
            .any(|l| l.starts_with("c-ok/x86_64") && l.contains("built")),
        "{}",
        keep.both()
    );

    // `verify --spec`: the image the spec's tag names, checked against the spec's manifest.
    let ok_tag = format!("lambda-image-test/ff-b-ok-{run_id}:latest");
    let verify = tree.run(&["verify", "--spec", "images/b-ok"]);
    assert_eq!(verify.code, 0, "{}", verify.both());
    assert!(
        verify.stdout.starts_with(&format!("verify {ok_tag} (")),
        "{}",
        verify.both()
    );
    assert!(
        verify.stdout.contains("✓ path: file") && verify.stdout.contains("(/var/task/function.sh)"),
        "{}",
        verify.both()
    );
    // a-bad failed its verify, so its tag names nothing.
    let bad_tag = format!("lambda-image-test/ff-a-bad-{run_id}:latest");
    tree.run(&["verify", "--spec", "images/a-bad"]).assert_error(&format!(
        "image `{bad_tag}` is not in the Docker Engine (docker images lists what is; lambda-image never pulls)"
    ));
    // An explicit image is checked against the spec's manifest too.
    let wrong = tree.run(&["verify", &ok_tag, "--spec", "images/a-bad"]);
    assert_eq!(wrong.code, 1, "{}", wrong.both());
    assert!(
        wrong
            .stdout
            .contains("✗ path: missing (/var/task/missing.sh)"),
        "{}",
        wrong.both()
    );
}

/// An arm64 image builds on this amd64 engine and verifies as arm64: COPY-only anywhere,
/// and with RUN steps under QEMU (`make test-deps` registers it with binfmt_misc), as
/// Graviton teams build on amd64 CI runners. A program the engine cannot run fails the step
/// with what to do (what an engine without emulation says of every arm64 RUN step).
#[test]
fn an_arm64_image_with_run_steps_builds_and_verifies_as_arm64_on_this_engine() {
    if host_arch() != "x86_64" {
        return;
    }
    require_arm64_emulation();
    let mut images = Images::new();
    let base = images.base_arm64("provided.al2023");
    let tree = Tree::new();
    let build = |tree: &Tree, dir: &str, tag: &str| {
        tree.run(&[
            "build",
            "--file",
            &format!("{dir}/Dockerfile"),
            "--arch",
            "arm64",
            "-t",
            tag,
            "--format",
            "json",
        ])
    };
    tree.write(
        "copy/Dockerfile",
        format!(
            "FROM {base}\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"
        ),
    );
    tree.write("copy/function.sh", "function handler () { echo ok; }\n");
    let tag = images.track(&format!("lambda-image-test/arm64-{}:1", unique()));
    let run = build(&tree, "copy", &tag);
    assert_eq!(run.code, 0, "{}", run.both());
    let report = run.json();
    assert_eq!(report["images"][0]["platform"], "linux/arm64", "{report}");
    assert_eq!(report["images"][0]["verify"]["fail"], 0, "{report}");

    // RUN steps: the arm64 busybox and the microdnf stand-in run under QEMU.
    tree.write(
        "run/Dockerfile",
        format!(
            "FROM {base}\nRUN uname -m > /etc/built-on && dnf install -y --setopt=install_weak_deps=0 --nodocs jq && dnf clean all && rm -rf /var/cache/yum /var/cache/dnf\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"
        ),
    );
    tree.write("run/function.sh", "function handler () { echo ok; }\n");
    let tag = images.track(&format!("lambda-image-test/arm64-run-{}:1", unique()));
    let run = build(&tree, "run", &tag);
    assert_eq!(run.code, 0, "{}", run.both());
    let report = run.json();
    assert_eq!(report["images"][0]["platform"], "linux/arm64", "{report}");
    assert_eq!(report["images"][0]["verify"]["fail"], 0, "{report}");
    let info = images
        .engine
        .inspect_image(&tag)
        .expect("inspect")
        .expect("tagged");
    assert_eq!(info.architecture, "arm64");
    assert_eq!(file_in_image(&tag, "etc/built-on"), "aarch64\n");
    assert_eq!(
        file_in_image(&tag, "var/lib/microdnf-standin/installed/jq"),
        "jq\n"
    );

    // A program no binfmt handler takes: the engine's "exec format error", explained.
    tree.write(
        "foreign/Dockerfile",
        format!("FROM {base}\nCOPY foreign /usr/local/bin/foreign\nRUN [\"/usr/local/bin/foreign\"]\nCMD [\"function.handler\"]\n"),
    );
    let foreign = tree.write("foreign/foreign", foreign_elf());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let tag = images.track(&format!("lambda-image-test/arm64-foreign-{}:1", unique()));
    let run = tree.run(&[
        "build",
        "--file",
        "foreign/Dockerfile",
        "--arch",
        "arm64",
        "-t",
        &tag,
    ]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains("hint: this engine cannot run arm64 programs, so a RUN step of an arm64 image fails (exec format error); build it on an arm64 runner, or install qemu binfmt emulation"),
        "{}",
        run.both()
    );
    assert!(!images.exists(&tag));
}

/// A 64-bit ELF header for no machine (`e_machine` 0): the kernel refuses to run it with
/// ENOEXEC ("exec format error") and no binfmt_misc handler claims it.
fn foreign_elf() -> Vec<u8> {
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[6] = 1; // version
    elf[16] = 2; // an executable
    elf[20] = 1; // version
    elf[52] = 64; // header size
    elf
}

/// A base that is not in the engine and cannot be pulled: one line naming it and its
/// registry (a closed port on loopback stands in for an unreachable registry).
#[test]
fn a_missing_base_names_the_image_and_its_registry() {
    let tree = Tree::new();
    let base = "127.0.0.1:9/lambda-image-test/nowhere:1";
    app(&tree, base, "");
    let tag = format!("lambda-image-test/no-base-{}:1", unique());
    let run = tree.run(&["build", "--file", "app/Dockerfile", "-t", &tag]);
    assert_eq!(run.code, 1, "{}", run.both());
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("app/x86_64: base image"))
        .unwrap_or_else(|| panic!("{}", run.both()));
    assert!(
        line.starts_with(&format!("app/x86_64: base image `{base}` is not in the Docker Engine and could not be pulled from 127.0.0.1:9: ")),
        "{line}"
    );
    assert!(!run.stdout.contains("full log"), "{}", run.both());
}

/// Build arguments, labels and --target reach the engine.
#[test]
fn build_args_labels_and_target_reach_the_image() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base} AS first\nARG GREETING=none\nRUN echo \"$GREETING\" > /greeting\nCMD [\"function.handler\"]\nFROM first AS second\nRUN false\n"),
    );
    tree.write(".lambda-image.yaml", "build:\n  labels: {team: orders}\n");
    let tag = images.track(&format!("lambda-image-test/args-{}:1", unique()));
    let run = tree.build_app(
        &tag,
        &[
            "--build-arg",
            "GREETING=hello",
            "--label",
            "org.example.tier=gold",
            "--target",
            "first",
            "--no-lint",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let info = images
        .engine
        .inspect_image(&tag)
        .expect("inspect")
        .expect("tagged");
    assert_eq!(info.labels.get("team").map(String::as_str), Some("orders"));
    assert_eq!(
        info.labels.get("org.example.tier").map(String::as_str),
        Some("gold")
    );
    tree.write(
        "m.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /greeting, contains: hello}\n",
    );
    let out = tree.run(&["verify", &tag, "-m", "m.yaml"]);
    assert_eq!(out.code, 0, "{}", out.both());
    // Another build argument is another input: rebuilt, not unchanged.
    let run = tree.build_app(
        &tag,
        &[
            "--build-arg",
            "GREETING=bye",
            "--label",
            "org.example.tier=gold",
            "--target",
            "first",
            "--no-lint",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.json()["images"][0]["status"], "built", "{}", run.both());
}

/// Ctrl-C (and SIGTERM, as CI cancels a job, and SIGHUP) mid-build, on each builder: exit
/// 130 (143, 129), the table, the report and the job summary say `interrupted`; no tag, no
/// build container, no temporary file, no log.
#[test]
fn a_signal_cancels_the_build_and_leaves_nothing() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    app(&tree, &base, "RUN echo started && sleep 60\n");
    let tmp = tree.join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let tmp_env = tmp.to_str().expect("utf8").to_string();
    for (builder, (signal, exit, _)) in ["buildkit", "classic"]
        .into_iter()
        .flat_map(|b| STOP_SIGNALS.into_iter().map(move |s| (b, s)))
    {
        let tag = images.track(&format!(
            "lambda-image-test/sig{}-{}:1",
            signal.to_lowercase(),
            unique()
        ));
        let summary = tree.join(&format!("summary-{builder}-{signal}.md"));
        let build = tree.spawn_env(
            &[
                "build",
                "--file",
                "app/Dockerfile",
                "-t",
                &tag,
                "--no-progress",
                "--report",
                "report.json",
                "--builder",
                builder,
            ],
            &[
                ("TMPDIR", &tmp_env),
                ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf8")),
            ],
        );
        // Wait until the RUN step is running.
        build.wait_for("| started", Duration::from_secs(60));
        let (code, took, run) = build.stop(signal);
        let signal = format!("{builder} SIG{signal}");
        assert_eq!(code, Some(exit), "{signal}: {}", run.both());
        assert!(took < Duration::from_secs(10), "{signal}: {took:?}");
        let table: Vec<String> = run
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let time = table
            .get(1)
            .and_then(|l| l.split(' ').nth(3))
            .unwrap_or_default()
            .to_string();
        assert!(time.ends_with('s'), "{signal}: {}", run.both());
        assert_eq!(
            table,
            [
                "IMAGE RESULT ID TIME TAGS".to_string(),
                format!("app/x86_64 interrupted - {time}"),
                String::new(),
                "0 built, 0 unchanged, 1 interrupted".to_string(),
            ],
            "{signal}: {}",
            run.both()
        );
        let report: serde_json::Value =
            serde_json::from_str(&tree.read("report.json")).expect("report");
        assert_eq!(report["images"][0]["status"], "interrupted", "{report}");
        assert_eq!(report["summary"]["interrupted"], 1, "{report}");
        assert!(
            std::fs::read_to_string(&summary)
                .unwrap_or_default()
                .contains("| app/x86_64 | interrupted | `-` |"),
            "{signal}: the job summary"
        );
        assert!(!images.exists(&tag));
        assert_eq!(files_starting(&tmp, "lambda-image-"), Vec::<String>::new());
        // The engine removes the RUN container once the connection is gone.
        let deadline = Instant::now() + Duration::from_secs(15);
        while !containers_from(&base).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(250));
        }
        assert_eq!(
            containers_from(&base),
            Vec::<String>::new(),
            "{signal}: a build container was left"
        );
    }
}

/// SIGKILL cannot be handled: the next run recovers (the engine drops the build with the
/// connection; nothing the killed run left stops the next one).
#[test]
fn the_run_after_a_sigkill_builds() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    app(&tree, &base, "ARG NAP=60\nRUN echo started && sleep $NAP\n");
    let tag = images.track(&format!("lambda-image-test/sigkill-{}:1", unique()));
    let args = [
        "build",
        "--file",
        "app/Dockerfile",
        "-t",
        &tag,
        "--no-progress",
    ];
    let build = tree.spawn_env(&args, &[]);
    build.wait_for("| started", Duration::from_secs(60));
    let (code, _, run) = build.stop("KILL");
    assert_eq!(code, None, "{}", run.both());
    assert!(!images.exists(&tag));
    let run = tree.run(&[&args[..], &["--build-arg", "NAP=0", "--format", "json"]].concat());
    assert_eq!(run.code, 0, "{}", run.both());
    // The killed run's tag lock went with it (the kernel drops it).
    assert!(
        !run.stderr.contains("waiting for another build"),
        "{}",
        run.both()
    );
    assert_eq!(run.json()["images"][0]["status"], "built", "{}", run.both());
    assert!(images.exists(&tag));
    let deadline = Instant::now() + Duration::from_secs(15);
    while !containers_from(&base).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(containers_from(&base), Vec::<String>::new());
}

/// Two builds of one spec at once (two CI jobs on one runner): one builds, the other waits
/// for it (saying so) and finds its image unchanged; both reports, both `--iidfile`s and the
/// tag name the same image.
#[test]
fn two_builds_of_one_spec_at_once_build_once() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    // The classic builder makes two different images of one spec (BuildKit may make one).
    for builder in ["classic", "buildkit"] {
        two_builds_at_once(&mut images, &base, builder);
    }
}

fn two_builds_at_once(images: &mut Images, base: &str, builder: &str) {
    let tree = Tree::new();
    app(&tree, base, "RUN sleep 3\n");
    let tag = images.track(&format!("lambda-image-test/twice-{}:1", unique()));
    let args = |n: &str| {
        [
            "build",
            "--file",
            "app/Dockerfile",
            "-t",
            &tag,
            "--no-progress",
            "--builder",
            builder,
            "--report",
            &format!("report-{n}.json"),
            "--iidfile",
            &format!("iid-{n}"),
        ]
        .map(str::to_string)
    };
    let (a, b) = (args("a"), args("b"));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    let first = tree.spawn_env(&a, &[]);
    // The second starts once the first holds the tag's lock (it is sending its context), so
    // it must wait, however slowly the processes start on a loaded machine.
    first.wait_for("| sending the build context", Duration::from_secs(60));
    let second = tree.spawn_env(&b, &[]);
    let (first, second) = (first.finish(), second.finish());
    assert_eq!(first.code, 0, "{}", first.both());
    assert_eq!(second.code, 0, "{}", second.both());
    let report = |n: &str| -> serde_json::Value {
        serde_json::from_str(&tree.read(&format!("report-{n}.json"))).expect("report")
    };
    let (ra, rb) = (report("a"), report("b"));
    let mut statuses = [
        ra["images"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        rb["images"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    ];
    statuses.sort();
    assert_eq!(statuses, ["built", "unchanged"], "{ra}\n{rb}");
    let waited = if ra["images"][0]["status"] == "unchanged" {
        &first
    } else {
        &second
    };
    assert!(
        waited
            .stderr
            .contains("| waiting for another build of the same tags (pid "),
        "{}",
        waited.both()
    );
    let id = images.id(&tag).expect("tagged");
    assert_eq!(ra["images"][0]["config_digest"], id.as_str(), "{ra}");
    assert_eq!(rb["images"][0]["config_digest"], id.as_str(), "{rb}");
    assert_eq!(tree.read("iid-a"), id);
    assert_eq!(tree.read("iid-b"), id);
}

/// `new` scaffolds a verify manifest that its own image passes: build verifies against it.
#[test]
fn a_new_scaffold_builds_and_passes_its_own_manifest() {
    let mut images = Images::new();
    let tree = Tree::new();
    for runtime in ["python3.13", "provided.al2023"] {
        let base = images.base(runtime);
        let name = format!("fn-{}", runtime.replace('.', "-"));
        let dir = format!("images/{name}");
        let run = tree.run(&["new", &dir, "--runtime", runtime]);
        assert_eq!(run.code, 0, "{}", run.both());
        assert!(tree
            .read(&format!("{dir}/image.yaml"))
            .contains("\nverify: manifest.yaml\n"));
        let tag = images.track(&format!("lambda-image-test/new-{name}-{}:1", unique()));
        let spec = tree.read(&format!("{dir}/image.yaml"));
        tree.write(
            &format!("{dir}/image.yaml"),
            format!("{spec}base: {base}\ntags: [{tag}]\n"),
        );
        let run = tree.run(&["build", &dir, "--format", "json"]);
        assert_eq!(run.code, 0, "{runtime}: {}", run.both());
        let report = run.json();
        assert_eq!(report["images"][0]["status"], "built", "{report}");
        assert_eq!(report["images"][0]["verify"]["fail"], 0, "{report}");
        // The manifest's own checks ran: the handler file, the entrypoint and the CMD.
        let verify = tree.run(&["verify", "--spec", &dir, "--format", "json"]);
        assert_eq!(verify.code, 0, "{}", verify.both());
        let checks = verify.json()["checks"].clone();
        let manifest: Vec<&serde_json::Value> = checks
            .as_array()
            .map(|a| a.iter().filter(|c| c["kind"] == "manifest").collect())
            .unwrap_or_default();
        assert!(manifest.len() >= 4, "{checks}");
        assert!(manifest.iter().all(|c| c["status"] == "pass"), "{checks}");
    }
}

/// The parent chain of an image, as the classic builder records it (newest first).
fn ancestors(image: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = image.to_string();
    for _ in 0..64 {
        let parent = std::process::Command::new("docker")
            .args(["image", "inspect", "-f", "{{.Parent}}", &current])
            .output()
            .expect("docker image inspect");
        let parent = String::from_utf8_lossy(&parent.stdout).trim().to_string();
        if parent.is_empty() {
            break;
        }
        out.push(parent.clone());
        current = parent;
    }
    out
}

/// Images whose Dockerfiles begin alike share those steps even when built at once: one
/// layer for the common `RUN dnf install`, so a rebuild finds every step in the cache.
#[test]
fn images_built_at_once_share_their_common_first_steps() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let run_id = unique();
    let mut tags = Vec::new();
    for name in ["one", "two", "three"] {
        let tag = images.track(&format!("lambda-image-test/share-{name}-{run_id}:latest"));
        provided_spec(&tree, name, &base, &tag, "packages: [jq]\n");
        tags.push(tag);
    }
    // The sharing is the classic builder's (BuildKit merges identical steps itself).
    let run = tree.run(&[
        "build",
        "--all",
        "-j",
        "3",
        "--no-verify",
        "--builder",
        "classic",
    ]);
    assert_eq!(run.code, 0, "{}", run.both());
    let base_id = images
        .engine
        .inspect_image(&base)
        .expect("inspect")
        .expect("base")
        .id;
    // The image right above the base (the RUN dnf install step) is one for all three.
    let above_base: Vec<String> = tags
        .iter()
        .map(|t| {
            let chain = ancestors(t);
            let at = chain
                .iter()
                .position(|id| *id == base_id)
                .unwrap_or_else(|| panic!("{t} does not descend from the base: {chain:?}"));
            assert!(at > 0, "{chain:?}");
            chain[at - 1].clone()
        })
        .collect();
    assert_eq!(above_base[0], above_base[1], "{}", run.both());
    assert_eq!(above_base[1], above_base[2], "{}", run.both());
    // So a forced rebuild of all three runs no step: every one is in the cache.
    let again = tree.run(&[
        "build",
        "--all",
        "-j",
        "3",
        "--no-verify",
        "--force",
        "-v",
        "--builder",
        "classic",
    ]);
    assert_eq!(again.code, 0, "{}", again.both());
    let runs = again
        .stderr
        .lines()
        .chain(again.stdout.lines())
        .filter(|l| l.contains("| ---> Running in "))
        .count();
    assert_eq!(runs, 0, "{}", again.both());
}

/// A forced rebuild that makes the same image (BuildKit's cache) is not exported and
/// checked again when it passed the same plan before; a new manifest checks it again.
#[test]
fn an_image_verified_before_is_not_verified_again() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    app(&tree, &base, "");
    tree.write(
        "manifest.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /var/task/function.sh, type: file}\n",
    );
    let tag = images.track(&format!("lambda-image-test/verified-{}:1", unique()));
    let cache = tree.join("cache");
    let env = [("LAMBDA_IMAGE_CACHE_DIR", cache.to_str().expect("utf8"))];
    let build = |manifest: &str| {
        let run = tree.run_env(
            &[
                "build",
                "--file",
                "app/Dockerfile",
                "-m",
                manifest,
                "-t",
                &tag,
                "--force",
                "--no-progress",
                "-f",
                "json",
            ],
            &env,
        );
        assert_eq!(run.code, 0, "{}", run.both());
        run
    };
    let first = build("manifest.yaml");
    let v1 = first.json()["images"][0]["verify"].clone();
    assert_eq!(v1["before"], false, "{v1}");
    let second = build("manifest.yaml");
    let image = second.json()["images"][0].clone();
    assert_eq!(
        image["config_digest"],
        first.json()["images"][0]["config_digest"]
    );
    assert_eq!(image["verify"]["before"], true, "{image}");
    assert_eq!(image["verify"]["pass"], v1["pass"], "{image}");
    assert!(
        second.stderr.contains(", verified before ("),
        "{}",
        second.both()
    );
    assert!(!second.stderr.contains("| verifying"), "{}", second.both());
    // Another plan: checked again.
    tree.write(
        "other.yaml",
        "schemaVersion: lambda-image/v1\npaths:\n  - {path: /var/task/function.sh, type: file, readable_by: any}\n",
    );
    let third = build("other.yaml");
    assert_eq!(third.json()["images"][0]["verify"]["before"], false);
}

/// The whole output of a build that fails at a `RUN` on BuildKit, as a user reads it: the
/// progress lines on stderr, then the table and the failure's details on stdout; what
/// differs from run to run (ids, times, the tag, the log's name) redacted.
#[test]
fn a_failed_build_as_a_whole() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    app(
        &tree,
        &base,
        // One output stream: BuildKit does not keep the order of lines across stdout and stderr.
        "RUN echo preparing && echo 'Error: Unable to find a match: libfoo' && exit 1\n",
    );
    let tag = images.track(&format!("lambda-image-test/whole-{}:1", unique()));
    let run = tree.build_app(
        &tag,
        &["--no-lint", "--no-progress", "--builder", "buildkit"],
    );
    assert_eq!(run.code, 1, "{}", run.both());
    let filters = vec![
        (r"lambda-image-test/whole-[0-9a-z-]+:1", "[TAG]"),
        (r"(docker\.io/)?lambda-image-test/base-[^ \n]*", "[BASE]"),
        // Whether the engine had the base's step cached depends on earlier builds.
        (r"CACHED \[1/3\]", "[1/3]"),
        (r" \(1 cached\)", ""),
        (r"\b\d+(\.\d+)?s\b", "[T]s"),
        (r"\(\d+(\.\d+)? s\)", "([T] s)"),
        (
            r"Docker Engine [0-9.a-z+~-]+ at [^ \n]+",
            "Docker Engine [VERSION] at [HOST]",
        ),
        (r"full log: [^\n]+", "full log: [LOG]"),
        (r"\n[^\n]*\[internal\][^\n]*", ""),
        (
            r"\n[^\n]*(load build definition|load \.dockerignore|load metadata|transferring)[^\n]*",
            "",
        ),
    ];
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!(format!("stdout:\n{}stderr:\n{}", run.stdout, run.stderr));
    });
}

/// A `FROM ${BASE}` is the base the build uses: the Dockerfile is parsed once with the
/// build args, so the report (and the inputs hash) name the `--build-arg` base, not the
/// `ARG`'s default.
#[test]
fn a_base_given_as_a_build_arg_is_the_base_reported() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        "ARG BASE=lambda-image-test/not-there:1\nFROM ${BASE}\nCOPY function.sh /var/task/\nCMD [\"function.handler\"]\n",
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    let tag = images.track(&format!("lambda-image-test/arg-base-{}:1", unique()));
    let run = tree.build_app(
        &tag,
        &[
            "--no-lint",
            "--no-verify",
            "--build-arg",
            &format!("BASE={base}"),
            "-f",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let bases = run.json()["images"][0]["bases"].to_string();
    assert!(bases.contains(&base), "{bases}");
    assert!(!bases.contains("not-there"), "{bases}");
}
