//! `lambda-image lint` and `lambda-image rule`, run as a user runs them: the built binary in a
//! temporary directory, relative paths, `--no-config` unless the config file is under test.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

mod common;

use common::*;

/// A small Dockerfile with findings of every severity, safe and unsafe fixes.
const SAMPLE: &str = "\
FROM public.ecr.aws/lambda/python:3.12
RUN yum install -y gcc && yum clean all
RUN dnf install -y --setopt=install_weak_deps=False --skip-broken libpq
RUN dnf upgrade -y && dnf clean all
CMD app.handler
";

/// Nothing to report.
const CLEAN: &str = "\
FROM public.ecr.aws/lambda/python:3.12@sha256:0000000000000000000000000000000000000000000000000000000000000000
COPY app.py ${LAMBDA_TASK_ROOT}/
CMD [\"app.handler\"]
";

/// One finding with no fix: a floating base tag (LI302).
const UNFIXABLE: &str = "\
FROM public.ecr.aws/lambda/python
CMD [\"app.handler\"]
";

/// Only a warning: `dnf install` without cleaning its cache (LI201).
const WARNING_ONLY: &str = "\
FROM public.ecr.aws/lambda/python:3.12@sha256:0000000000000000000000000000000000000000000000000000000000000000
RUN dnf install -y libpq
CMD [\"app.handler\"]
";

fn json(run: &Run) -> Vec<serde_json::Value> {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}

fn codes(run: &Run) -> Vec<String> {
    json(run)
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["file"].as_str().unwrap_or(""),
                f["code"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Bytes and modification time of a file, to show it was left alone.
fn snapshot_file(path: &Path) -> (Vec<u8>, SystemTime) {
    let bytes = std::fs::read(path).expect("read");
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime");
    (bytes, mtime)
}

// ---------------------------------------------------------------------------------------------
// exit codes

#[test]
fn exit_0_when_clean_1_with_findings_2_on_parse_error() {
    let dir = Tree::new();
    dir.write("clean/Dockerfile", CLEAN);
    dir.write("sample/Dockerfile", SAMPLE);
    dir.write("broken/Dockerfile", "FROM a\nFROBNICATE x\n");

    let clean = dir.run(&["lint", "--no-config", "clean/Dockerfile"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(clean.stdout.contains("No findings."), "{}", clean.stdout);

    let sample = dir.run(&["lint", "--no-config", "sample/Dockerfile"]);
    assert_eq!(sample.code, 1, "{}{}", sample.stdout, sample.stderr);

    let broken = dir.run(&["lint", "--no-config", "broken/Dockerfile"]);
    assert_eq!(broken.code, 2, "{}{}", broken.stdout, broken.stderr);
    assert!(broken.stdout.contains("error[LI001]"), "{}", broken.stdout);
    assert!(
        broken.stdout.contains("--> broken/Dockerfile:2:1"),
        "{}",
        broken.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// formats: the same Dockerfile through every renderer

fn sample_dir() -> Tree {
    let dir = Tree::new();
    dir.write("svc/Dockerfile", SAMPLE);
    dir
}

#[test]
fn format_text() {
    let dir = sample_dir();
    let run = dir.run(&["lint", "--no-config", "svc/Dockerfile"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn format_json() {
    let dir = sample_dir();
    let run = dir.run(&["lint", "--no-config", "-f", "json", "svc/Dockerfile"]);
    assert_eq!(run.code, 1);
    let findings = json(&run);
    let keys = [
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "name",
        "severity",
        "message",
        "fix",
    ];
    for finding in &findings {
        let object = finding.as_object().expect("object");
        let mut got: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut want = keys.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "the JSON contract's keys");
    }
    let order: Vec<(u64, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
                f["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "sorted by line, column, code");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn format_sarif() {
    let dir = sample_dir();
    let run = dir.run(&["lint", "--no-config", "-f", "sarif", "svc/Dockerfile"]);
    assert_eq!(run.code, 1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("sarif-2.1.0")));
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "lambda-image");
    let rules = driver["rules"].as_array().expect("rules");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap_or("")));
        // One severity per rule: a result's level is its rule's (no overrides here).
        assert_eq!(
            result["level"], rules[index]["defaultConfiguration"]["level"],
            "{}",
            result["ruleId"]
        );
    }
    for rule in rules {
        assert!(rule["fullDescription"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        assert!(rule["defaultConfiguration"]["level"].is_string());
    }
    // The rule docs change as rules are written; the results are what this file pins.
    insta::assert_json_snapshot!(log["runs"][0]["results"]);
}

#[test]
fn format_github() {
    let dir = sample_dir();
    let run = dir.run(&["lint", "--no-config", "-f", "github", "svc/Dockerfile"]);
    assert_eq!(run.code, 1);
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("::error title=lambda-image (LI")
                || line.starts_with("::warning title=lambda-image (LI")
                || line.starts_with("::notice title=lambda-image (LI"),
            "{line}"
        );
    }
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn format_checkstyle() {
    let dir = sample_dir();
    let run = dir.run(&["lint", "--no-config", "-f", "checkstyle", "svc/Dockerfile"]);
    assert_eq!(run.code, 1);
    assert!(run
        .stdout
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">"));
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn github_format_escapes_paths_and_drops_columns_on_multiline_spans() {
    let dir = Tree::new();
    // A file name with a comma and a colon, and a finding (shell-form CMD, LI303) spanning a
    // continuation.
    dir.write(
        "a,b:c.Dockerfile",
        "FROM public.ecr.aws/lambda/python:3.12\nCMD app.handler \\\n    --verbose\n",
    );
    let run = dir.run(&["lint", "--no-config", "-f", "github", "a,b:c.Dockerfile"]);
    assert!(
        run.stdout.contains("file=a%2Cb%3Ac.Dockerfile,"),
        "{}",
        run.stdout
    );
    let multiline: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("line=2,") && l.contains("endLine=3"))
        .collect();
    assert!(
        !multiline.is_empty(),
        "expected a finding over lines 2-3:\n{}",
        run.stdout
    );
    for line in multiline {
        assert!(
            !line.contains(",col=") && !line.contains("endColumn="),
            "{line}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// selection and threshold

#[test]
fn select_ignore_and_names() {
    let dir = sample_dir();
    let all = codes(&dir.run(&["lint", "--no-config", "-f", "json", "svc/Dockerfile"]));
    assert!(all.iter().any(|c| c.ends_with("LI101")));
    assert!(all.iter().any(|c| c.ends_with("LI201")));
    assert!(all.iter().any(|c| c.ends_with("LI303")));

    let li1 = codes(&dir.run(&[
        "lint",
        "--no-config",
        "-f",
        "json",
        "--select",
        "LI1",
        "svc/Dockerfile",
    ]));
    assert!(!li1.is_empty());
    assert!(li1.iter().all(|c| c.contains(":LI1")), "{li1:?}");

    let ignored = codes(&dir.run(&[
        "lint",
        "--no-config",
        "-f",
        "json",
        "--ignore",
        "yum-not-available,LI3",
        "svc/Dockerfile",
    ]));
    assert!(
        ignored
            .iter()
            .all(|c| !c.ends_with("LI101") && !c.contains(":LI3")),
        "{ignored:?}"
    );
    assert!(ignored.iter().any(|c| c.ends_with("LI201")));

    let unknown = dir.run(&["lint", "--no-config", "--select", "LI999", "svc/Dockerfile"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(
        unknown.stderr,
        "lambda-image: error: --select: unknown rule code or name `LI999` (see `lambda-image rule --all`)\n"
    );
    assert!(unknown.stdout.is_empty());
}

#[test]
fn failure_threshold_decides_exit_code() {
    let dir = Tree::new();
    dir.write("Dockerfile", WARNING_ONLY);
    let run = dir.run(&["lint", "--no-config", "-f", "json", "Dockerfile"]);
    assert_eq!(codes(&run), ["Dockerfile:LI201"]);
    assert_eq!(run.code, 1);
    let run = dir.run(&[
        "lint",
        "--no-config",
        "--failure-threshold",
        "warning",
        "Dockerfile",
    ]);
    assert_eq!(run.code, 1);
    let run = dir.run(&[
        "lint",
        "--no-config",
        "--failure-threshold",
        "error",
        "Dockerfile",
    ]);
    assert_eq!(
        run.code, 0,
        "findings below the threshold are shown but do not fail"
    );
    assert!(run.stdout.contains("warning[LI201]"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// config file

#[test]
fn config_file_ignore_severity_threshold_and_cli_override() {
    let dir = Tree::new();
    dir.write("svc/Dockerfile", WARNING_ONLY);
    dir.write(
        ".lambda-image.yaml",
        "lint:\n  severity: {LI201: error}\n  failure-threshold: error\n",
    );
    // Found from a subdirectory too (nearest upwards).
    let run = run_in(
        &dir.path().join("svc"),
        &["lint", "-f", "json", "Dockerfile"],
    );
    let findings = json(&run);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0]["severity"], "error",
        "severity override applied"
    );
    assert_eq!(run.code, 1, "the overridden severity meets the threshold");

    // The command line wins over the file.
    let run = dir.run(&["lint", "--ignore", "LI201", "svc/Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // --no-config: defaults (warning, threshold info → 1).
    let run = dir.run(&["lint", "--no-config", "-f", "json", "svc/Dockerfile"]);
    assert_eq!(json(&run)[0]["severity"], "warning");

    dir.write("other.yaml", "lint:\n  ignore: [rpm-cache-left]\n");
    let run = dir.run(&["lint", "--config", "other.yaml", "svc/Dockerfile"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn config_file_errors_name_file_line_and_column() {
    let dir = Tree::new();
    dir.write("Dockerfile", CLEAN);
    dir.write(
        ".lambda-image.yaml",
        "lint:\n  ignore: [LI115]\n  serverity: {LI302: error}\n",
    );
    let before = snapshot_file(&dir.path().join("Dockerfile"));
    let run = dir.run(&["lint", "--fix", "Dockerfile"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("lambda-image: error: ")
            && run
                .stderr
                .contains(".lambda-image.yaml:3:3: unknown field `serverity`"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(snapshot_file(&dir.path().join("Dockerfile")), before);

    dir.write(".lambda-image.yaml", "lint:\n  failure-threshold: fatal\n");
    let run = dir.run(&["lint", "Dockerfile"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".lambda-image.yaml:2:22: unknown variant `fatal`"),
        "{}",
        run.stderr
    );

    dir.write(".lambda-image.yaml", "lint:\n  select: [LI1, LI404]\n");
    let run = dir.run(&["lint", "Dockerfile"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(".lambda-image.yaml:2:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`LI404`"), "{}", run.stderr);

    let run = dir.run(&["lint", "--config", "missing.yaml", "Dockerfile"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("reading config file missing.yaml"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// inputs

#[test]
fn stdin_is_named_by_stdin_filename() {
    let dir = Tree::new();
    let run = dir.run_stdin(
        &[
            "lint",
            "--no-config",
            "-f",
            "json",
            "--stdin-filename",
            "api/Dockerfile",
            "-",
        ],
        WARNING_ONLY.as_bytes(),
    );
    assert_eq!(run.code, 1);
    assert_eq!(codes(&run), ["api/Dockerfile:LI201"]);
}

#[test]
fn stdin_fix_writes_the_fixed_text_to_stdout() {
    let dir = Tree::new();
    let run = dir.run_stdin(
        &["lint", "--no-config", "--fix", "-"],
        WARNING_ONLY.as_bytes(),
    );
    assert!(
        run.stdout
            .starts_with("FROM public.ecr.aws/lambda/python:3.12"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("dnf install -y libpq && dnf clean all"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Fixed 1 finding in 1 file; 0 left."),
        "{}",
        run.stderr
    );
}

#[test]
fn directory_walk_matches_names_skips_hidden_target_node_modules_and_sorts() {
    let dir = Tree::new();
    for name in [
        "Dockerfile",
        "b/api.Dockerfile",
        "b/worker.dockerfile",
        "a/Dockerfile.al2",
        "a/Containerfile",
        "a/deep/er/Dockerfile",
        ".hidden/Dockerfile",
        "target/Dockerfile",
        "node_modules/pkg/Dockerfile",
        "b/README.md",
        "b/Dockerfile-old",
        "c/dockerfile",
        "c/DOCKERFILE.dev",
        "c/Dockerfile-lambda",
        "c/worker.Containerfile",
        "d/containerfile",
        "d/Dockerfile.j2",
    ] {
        dir.write(name, WARNING_ONLY);
    }
    // BuildKit's per-Dockerfile ignore files are not Dockerfiles (they would not parse).
    dir.write("a/Dockerfile.dockerignore", "node_modules\n*.log\n");
    dir.write("b/api.Dockerfile.dockerignore", "target\n");
    let run = dir.run(&["lint", "--no-config", "-f", "json"]);
    let files: Vec<String> = json(&run)
        .iter()
        .map(|f| f["file"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        files,
        [
            "Dockerfile",
            "a/Containerfile",
            "a/Dockerfile.al2",
            "a/deep/er/Dockerfile",
            "b/api.Dockerfile",
            "b/worker.dockerfile",
            "c/DOCKERFILE.dev",
            "c/Dockerfile-lambda",
            "c/dockerfile",
            "c/worker.Containerfile",
            "d/containerfile",
        ]
    );
    // Text output follows the same order, and the summary ends with the count.
    let text = dir.run(&["lint", "--no-config", "."]).stdout;
    let arrows: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("-->"))
        .collect();
    assert_eq!(arrows.len(), 11);
    assert!(
        arrows[0].contains("--> Dockerfile:") && arrows[10].contains("--> d/containerfile:"),
        "{arrows:?}"
    );
    assert!(
        text.ends_with("Found 11 findings (11 fixable with --fix). Checked 11 files.\n"),
        "{text}"
    );
}

/// Every unreadable input gets a one-line error naming it and exit 2, while the other files are
/// still linted and reported, and (even with --fix) nothing is written.
#[test]
fn bad_inputs_are_one_line_errors_and_the_rest_is_still_linted() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("missing/Dockerfile", b"", "lambda-image: error: missing/Dockerfile: No such file or directory"),
        ("empty", b"", "lambda-image: error: empty: no Dockerfiles found"),
        (
            "bin.Dockerfile",
            b"FROM a\n\x00\x01\x02",
            "lambda-image: error: bin.Dockerfile: binary file (NUL byte at line 2, column 1), not a Dockerfile",
        ),
        (
            "latin1.Dockerfile",
            b"FROM a\nLABEL x=caf\xe9\n",
            "lambda-image: error: latin1.Dockerfile: not valid UTF-8 (byte 0xE9 at line 2, column 12)",
        ),
    ];
    for (name, content, expected) in cases {
        let dir = Tree::new();
        dir.write("good/Dockerfile", UNFIXABLE);
        match *name {
            "missing/Dockerfile" => {}
            "empty" => std::fs::create_dir(dir.path().join("empty")).expect("mkdir"),
            _ => {
                dir.write(name, content);
            }
        }
        let good = dir.path().join("good/Dockerfile");
        let bad = dir.path().join(name);
        let before_good = snapshot_file(&good);
        let before_bad = bad.is_file().then(|| snapshot_file(&bad));

        for format in ["text", "json"] {
            let run = dir.run(&[
                "lint",
                "--no-config",
                "--fix",
                "-f",
                format,
                name,
                "good/Dockerfile",
            ]);
            assert_eq!(run.code, 2, "{name} {format}: {}", run.stderr);
            let errors: Vec<&str> = run
                .stderr
                .lines()
                .filter(|l| l.starts_with("lambda-image: error:"))
                .collect();
            assert_eq!(errors.len(), 1, "{name}: {}", run.stderr);
            assert!(errors[0].starts_with(expected), "{name}: {}", errors[0]);
            if format == "json" {
                let findings = json(&run);
                assert!(
                    findings
                        .iter()
                        .any(|f| f["file"] == "good/Dockerfile" && f["code"] == "LI302"),
                    "{name}: {}",
                    run.stdout
                );
            } else {
                assert!(
                    run.stdout.contains("--> good/Dockerfile:1:"),
                    "{name}: {}",
                    run.stdout
                );
            }
        }
        assert_eq!(
            snapshot_file(&good),
            before_good,
            "{name}: good file modified"
        );
        if let Some(before) = before_bad {
            assert_eq!(snapshot_file(&bad), before, "{name} was modified");
        }
    }
}

#[test]
fn unreadable_files_are_findings_in_machine_formats() {
    let dir = Tree::new();
    dir.write("bin.Dockerfile", b"FROM a\nRUN x\x00");
    let run = dir.run(&["lint", "--no-config", "-f", "json", "bin.Dockerfile"]);
    assert_eq!(run.code, 2);
    let findings = json(&run);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["code"], "LI001");
    assert_eq!(
        (findings[0]["line"].as_u64(), findings[0]["column"].as_u64()),
        (Some(2), Some(6))
    );
    let run = dir.run(&["lint", "--no-config", "-f", "checkstyle", "bin.Dockerfile"]);
    assert!(run.stdout.contains("source=\"LI001\""), "{}", run.stdout);
}

#[test]
fn unparsable_file_is_reported_and_others_still_linted_nothing_written() {
    let dir = Tree::new();
    dir.write("a/Dockerfile", "FROM a\nFROBNICATE x\n");
    dir.write("b/Dockerfile", WARNING_ONLY);
    let broken = dir.path().join("a/Dockerfile");
    let before = snapshot_file(&broken);
    let run = dir.run(&["lint", "--no-config", "--fix", "-f", "json", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let findings = json(&run);
    assert_eq!(findings[0]["file"], "a/Dockerfile");
    assert_eq!(findings[0]["code"], "LI001");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(snapshot_file(&broken), before);
    // The parseable file was fixed.
    let fixed = std::fs::read_to_string(dir.path().join("b/Dockerfile")).expect("read");
    assert!(fixed.contains("dnf clean all"), "{fixed}");
}

// ---------------------------------------------------------------------------------------------
// fixes

#[test]
fn fix_writes_atomically_keeps_permissions_and_is_stable() {
    let dir = Tree::new();
    dir.write("Dockerfile", SAMPLE);
    let path = dir.path().join("Dockerfile");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let inode_before = std::fs::metadata(&path).expect("meta").ino();

    let run = dir.run(&["lint", "--no-config", "--fix", "Dockerfile"]);
    assert_eq!(run.code, 1, "unfixable findings remain: {}", run.stdout);
    assert!(run.stderr.starts_with("Fixed "), "{}", run.stderr);
    let fixed = std::fs::read_to_string(&path).expect("read");
    assert_ne!(fixed, SAMPLE);
    assert!(!fixed.contains("yum"), "{fixed}");
    assert!(fixed.contains("CMD [\"app.handler\"]"), "{fixed}");
    assert!(
        fixed.contains("--skip-broken"),
        "unsafe fix not applied by --fix: {fixed}"
    );
    let meta = std::fs::metadata(&path).expect("meta");
    assert_eq!(meta.permissions().mode() & 0o777, 0o640, "permissions kept");
    assert_ne!(
        meta.ino(),
        inode_before,
        "replaced by rename, not rewritten in place"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("readdir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n != "Dockerfile")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let after_first = snapshot_file(&path);
    let again = dir.run(&["lint", "--no-config", "--fix", "Dockerfile"]);
    assert_eq!(
        snapshot_file(&path),
        after_first,
        "a second --fix changes nothing"
    );
    assert!(
        again.stderr.starts_with("No fixes applied;"),
        "{}",
        again.stderr
    );

    // --unsafe-fixes goes further.
    let run = dir.run(&["lint", "--no-config", "--unsafe-fixes", "Dockerfile"]);
    let fixed = std::fs::read_to_string(&path).expect("read");
    assert!(!fixed.contains("--skip-broken"), "{fixed}\n{}", run.stderr);
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = Tree::new();
    dir.write("svc/Dockerfile", SAMPLE);
    let path = dir.path().join("svc/Dockerfile");
    let before = snapshot_file(&path);
    let run = dir.run(&["lint", "--no-config", "--diff", "svc/Dockerfile"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(snapshot_file(&path), before);
    assert!(
        run.stdout
            .starts_with("--- a/svc/Dockerfile\n+++ b/svc/Dockerfile\n@@"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\n-RUN yum install -y gcc && yum clean all\n"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.starts_with("Would fix "), "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);

    let clean = Tree::new();
    clean.write("Dockerfile", CLEAN);
    let run = run_in(
        clean.path(),
        &["lint", "--no-config", "--diff", "Dockerfile"],
    );
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
}

#[test]
fn crlf_and_bom_survive_fixes() {
    let dir = Tree::new();
    let original = format!("\u{feff}{}", SAMPLE.replace('\n', "\r\n"));
    dir.write("Dockerfile", &original);
    let path = dir.path().join("Dockerfile");
    let run = dir.run(&["lint", "--no-config", "--fix", "Dockerfile"]);
    assert!(run.stderr.starts_with("Fixed "), "{}", run.stderr);
    let fixed = std::fs::read(&path).expect("read");
    assert!(fixed.starts_with("\u{feff}".as_bytes()), "BOM kept");
    let text = String::from_utf8(fixed).expect("utf-8");
    assert_ne!(text, original);
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line ending is CRLF: {text:?}"
    );
    assert_eq!(
        text.matches("\r\n").count(),
        original.matches("\r\n").count()
    );
}

#[test]
fn findings_on_a_bom_file_have_the_same_columns() {
    let dir = Tree::new();
    dir.write("plain.Dockerfile", SAMPLE);
    dir.write("bom.Dockerfile", format!("\u{feff}{SAMPLE}"));
    let plain = json(&dir.run(&["lint", "--no-config", "-f", "json", "plain.Dockerfile"]));
    let bom = json(&dir.run(&["lint", "--no-config", "-f", "json", "bom.Dockerfile"]));
    let strip = |v: &Vec<serde_json::Value>| {
        v.iter()
            .map(|f| {
                (
                    f["line"].clone(),
                    f["column"].clone(),
                    f["end_column"].clone(),
                    f["code"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&plain), strip(&bom));
}

// ---------------------------------------------------------------------------------------------
// rule

#[test]
fn rule_prints_doc_by_code_or_name() {
    let dir = Tree::new();
    let by_code = dir.run(&["rule", "LI101"]);
    assert_eq!(by_code.code, 0);
    assert!(
        by_code
            .stdout
            .starts_with("# yum-not-available (LI101)\n\nSeverity: error. Fix is "),
        "{}",
        by_code.stdout
    );
    assert!(
        by_code.stdout.contains("\n## What it does\n"),
        "{}",
        by_code.stdout
    );
    assert!(
        !by_code.stdout.contains("\n ## "),
        "doc lines lose their leading space"
    );
    let by_name = dir.run(&["rule", "yum-not-available"]);
    assert_eq!(by_name.stdout, by_code.stdout);

    let json_run = dir.run(&["rule", "li101", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json_run.stdout).expect("json");
    assert_eq!(value["code"], "LI101");
    assert_eq!(value["name"], "yum-not-available");
    assert!(value["doc"]
        .as_str()
        .is_some_and(|d| d.contains("## What it does")));
}

#[test]
fn rule_unknown_code_is_a_one_line_error() {
    let dir = Tree::new();
    let run = dir.run(&["rule", "LI999"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr,
        "lambda-image: error: unknown rule `LI999`; `lambda-image rule --all` lists every rule\n"
    );
    let run = dir.run(&["rule", "DL3008"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.starts_with("lambda-image: error: `DL3008` is a hadolint code with no lambda-image rule (hadolint codes honoured in pragmas: DL3032 → LI201,")
            && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
}

#[test]
fn rule_of_a_hadolint_code_points_at_the_rule_that_honours_it() {
    let dir = Tree::new();
    for (code, rule) in [
        ("DL3032", "LI201"),
        ("dl3040", "LI201"),
        ("DL3038", "LI202"),
    ] {
        let run = dir.run(&["rule", code]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let own = dir.run(&["rule", rule]);
        assert_eq!(run.stdout, own.stdout, "{code}: the page of {rule}");
        assert!(
            run.stderr.contains(&format!(
                "{} is hadolint's code; lambda-image's rule for it is {rule}",
                code.to_ascii_uppercase()
            )),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn rule_all_lists_every_rule_in_each_format() {
    let dir = Tree::new();
    let text = dir.run(&["rule", "--all"]);
    assert_eq!(text.code, 0);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(lines[0].starts_with("CODE"));
    let json_run = dir.run(&["rule", "--all", "--format", "json"]);
    let rules: Vec<serde_json::Value> = serde_json::from_str(&json_run.stdout).expect("json");
    assert_eq!(lines.len(), rules.len() + 1);
    assert!(rules.iter().any(|r| r["code"] == "LI001"));
    assert!(rules.iter().any(|r| r["code"] == "LI304"));
    let markdown = dir.run(&["rule", "--all", "--format", "markdown"]);
    assert_eq!(markdown.stdout.lines().count(), rules.len() + 2);
    for rule in &rules {
        let code = rule["code"].as_str().unwrap_or("");
        assert!(markdown.stdout.contains(&format!("| {code} | `")), "{code}");
        let summary = rule["summary"].as_str().unwrap_or("");
        assert!(
            !summary.is_empty() && !summary.contains("not written yet"),
            "{code} has no summary"
        );
    }
}

#[test]
fn readme_rule_table_is_up_to_date() {
    const START: &str = "<!-- rules:start -->";
    const END: &str = "<!-- rules:end -->";
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let regenerate = "regenerate it with `cargo run -q -- rule --all --format markdown` and paste the \
                      output between `<!-- rules:start -->` and `<!-- rules:end -->` in README.md's `## Rules` section";
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md has no rule table markers; {regenerate}");
    };
    let table = readme.get(start + START.len()..end).unwrap_or("").trim();
    let generated = run_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["rule", "--all", "--format", "markdown"],
    );
    assert_eq!(
        table,
        generated.stdout.trim(),
        "README.md's rule table is out of date; {regenerate}"
    );
}

// ---------------------------------------------------------------------------------------------
// the README quick start

#[test]
fn example_al2_dockerfile_moves_to_python_3_12() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = root.join("examples/Dockerfile.al2");
    let before = snapshot_file(&example);
    let run = run_in(
        root,
        &[
            "lint",
            "--no-config",
            "-f",
            "json",
            "examples/Dockerfile.al2",
        ],
    );
    assert_eq!(run.code, 1);
    let found = codes(&run);
    assert!(
        found.contains(&"examples/Dockerfile.al2:LI301".to_string()),
        "{found:?}"
    );

    let diff = run_in(
        root,
        &[
            "lint",
            "--no-config",
            "--unsafe-fixes",
            "--diff",
            "examples/Dockerfile.al2",
        ],
    );
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    for line in [
        "+FROM public.ecr.aws/lambda/python:3.12",
        "+RUN dnf install -y --setopt=install_weak_deps=0 gcc openssl-devel \\",
        "+CMD [\"app.handler\"]",
    ] {
        assert!(
            diff.stdout.lines().any(|l| l == line),
            "missing {line:?} in\n{}",
            diff.stdout
        );
    }
    assert_eq!(snapshot_file(&example), before, "--diff wrote the example");
}

#[test]
fn color_always_styles_text_output() {
    let dir = sample_dir();
    let plain = dir.run(&["lint", "--no-config", "svc/Dockerfile"]);
    assert!(!plain.stdout.contains('\u{1b}'));
    let colored = dir.run(&["lint", "--no-config", "--color", "always", "svc/Dockerfile"]);
    assert!(colored.stdout.contains('\u{1b}'), "{}", colored.stdout);
}

#[test]
fn quiet_leaves_out_the_summary() {
    let dir = sample_dir();
    let run = dir.run(&["lint", "--no-config", "-q", "svc/Dockerfile"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("error[LI101]"));
    assert!(!run.stdout.contains("Found "), "{}", run.stdout);
}

#[test]
fn a_device_is_refused_with_one_line() {
    let dir = Tree::new();
    dir.write("Dockerfile", CLEAN);
    // `/dev/zero` never ends: refused before reading, the other input is still linted.
    let run = dir.run(&["lint", "--no-config", "/dev/zero", "Dockerfile"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "lambda-image: error: /dev/zero: not a regular file (a device), not a Dockerfile\n"
    );
}

#[test]
fn an_endless_input_is_cut_off_with_one_line() {
    let dir = Tree::new();
    let big = vec![b'#'; (16 << 20) + 100];
    let run = dir.run_stdin(&["lint", "--no-config", "-"], &big);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "lambda-image: error: -: larger than 16 MiB, not a Dockerfile\n"
    );
}

#[test]
fn a_pipe_is_read() {
    // `lint <(generate)`: the path is a pipe, not a regular file.
    let dir = Tree::new();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::write(fifo, UNFIXABLE).expect("write fifo")
    });
    let run = dir.run(&["lint", "--no-config", "--format", "json", "fifo"]);
    writer.join().expect("writer");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(codes(&run), ["fifo:LI302"]);
}

#[test]
fn doubling_arg_chains_stay_bounded() {
    // Each ARG doubles the previous one: 2^60 bytes if expanded in full.
    let dir = Tree::new();
    let mut text = String::from("ARG A0=0123456789\n");
    for i in 1..60 {
        text.push_str(&format!("ARG A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
    }
    text.push_str("FROM ${A59}\nRUN yum install -y x\n");
    dir.write("Dockerfile", &text);
    let start = std::time::Instant::now();
    let run = dir.run(&["lint", "--no-config", "Dockerfile"]);
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    // The image is unknown: migration rules stay silent.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn text_summary_never_reads_clean_when_an_input_could_not_be_linted() {
    let dir = Tree::new();
    dir.write(
        "ok/Dockerfile",
        "FROM public.ecr.aws/lambda/python:3.12\nCMD [\"app.handler\"]\n",
    );
    let run = dir.run(&["lint", "--no-config", "missing/Dockerfile", "ok/Dockerfile"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stdout.trim_end(),
        "No findings. Some inputs could not be linted: see the errors above. Checked 1 file."
    );
    let clean = dir.run(&["lint", "--no-config", "ok/Dockerfile"]);
    assert_eq!(clean.code, 0);
    assert_eq!(clean.stdout.trim_end(), "No findings. Checked 1 file.");
}

// ---------------------------------------------------------------------------------------------
// bases lambda-image cannot see by itself: mirrors, variables, the summary note

const MIRRORED: &str = "\
FROM registry.example.com/mirror/lambda/python:3.12
RUN yum install -y gcc && yum clean all
CMD [\"app.handler\"]
";

#[test]
fn an_unrecognised_base_is_said_once_and_base_aliases_resolve_it() {
    let dir = Tree::new();
    dir.write("svc/Dockerfile", MIRRORED);
    dir.write(
        "other/Dockerfile",
        "ARG BASE\nFROM ${BASE}\nRUN yum install -y x\n",
    );
    let run = dir.run(&["lint", "--no-config", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "2 stages have a base lambda-image does not recognise: migration rules are off for them; see \"Unrecognised bases\" under `lambda-image lint` in the README (base-aliases, --build-arg).\nNo findings. Checked 2 files.\n"
    );
    // -v says which.
    let verbose = dir.run(&["lint", "--no-config", "-v", "."]);
    assert!(
        verbose.stderr.contains(
            "lambda-image: other/Dockerfile:2:6: `${BASE}` is not a base lambda-image recognises"
        ) && verbose
            .stderr
            .contains("svc/Dockerfile:1:6: `registry.example.com/mirror/lambda/python:3.12`"),
        "{}",
        verbose.stderr
    );

    dir.write(
        ".lambda-image.yaml",
        "lint:\n  base-aliases:\n    registry.example.com/mirror/lambda/: public.ecr.aws/lambda/\n",
    );
    let run = dir.run(&["lint", "svc/Dockerfile"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("error[LI101]: `yum` does not exist in `registry.example.com/mirror/lambda/python:3.12` (AL2023 minimal: microdnf, no yum)"), "{}", run.stdout);
    assert!(!run.stdout.contains("does not recognise"), "{}", run.stdout);

    // A misspelt value is an error with its position.
    dir.write(
        ".lambda-image.yaml",
        "lint:\n  runtime-targets: [python3.11]\n",
    );
    let run = dir.run(&["lint", "svc/Dockerfile"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(".lambda-image.yaml:2:")
            && run
                .stderr
                .contains("`python3.11` is not an AL2023 Lambda runtime"),
        "{}",
        run.stderr
    );
}

/// uv's guide for AWS Lambda: the uv image is only a `--mount=from=` source.
const UV_GUIDE: &str = r#"FROM ghcr.io/astral-sh/uv:0.9 AS uv
FROM public.ecr.aws/lambda/python:3.13
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv export --frozen --no-emit-workspace --no-dev --no-editable -o requirements.txt && \
    uv pip install -r requirements.txt --target "${LAMBDA_TASK_ROOT}"
COPY app ${LAMBDA_TASK_ROOT}/app
CMD ["app.main.handler"]
"#;

#[test]
fn a_stage_that_runs_nothing_is_not_an_unrecognised_base() {
    let dir = Tree::new();
    dir.write("Dockerfile", UV_GUIDE);
    for args in [
        &["lint", "--no-config", "Dockerfile"][..],
        &["lint", "--no-config", "-v", "Dockerfile"],
    ] {
        let run = dir.run(args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout, "No findings. Checked 1 file.\n");
        assert!(!run.stderr.contains("recognise"), "{}", run.stderr);
    }
    // A stage that runs something, itself or through a stage built on it, still counts.
    dir.write("Dockerfile",
        "FROM registry.example.com/base:1 AS base\nFROM base AS build\nRUN make\nFROM registry.example.com/tools:1 AS tools\nFROM public.ecr.aws/lambda/provided:al2023\nCOPY --from=build /out /var/task\nCOPY --from=tools /bin/t /bin/t\nCMD [\"h\"]\n",
    );
    let run = dir.run(&["lint", "--no-config", "-v", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("1 stage has a base lambda-image does not recognise"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("Dockerfile:1:6: `registry.example.com/base:1`")
            && !run.stderr.contains("registry.example.com/tools:1"),
        "{}",
        run.stderr
    );
}

#[test]
fn build_args_resolve_from_lines() {
    let dir = Tree::new();
    dir.write(
        "Dockerfile",
        "ARG BASE\nFROM ${BASE}\nRUN yum install -y gcc && yum clean all\nCMD [\"app.handler\"]\n",
    );
    let run = dir.run(&[
        "lint",
        "--no-config",
        "--build-arg",
        "BASE=public.ecr.aws/lambda/python:3.13",
        "-f",
        "json",
        "Dockerfile",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(codes(&run), ["Dockerfile:LI101", "Dockerfile:LI101"]);
    // The config file's `build: build-args` are the build's too; --build-arg wins.
    dir.write(
        ".lambda-image.yaml",
        "build:\n  build-args: {BASE: 'public.ecr.aws/lambda/python:3.11'}\n",
    );
    let run = dir.run(&["lint", "-f", "json", "Dockerfile"]);
    assert_eq!(codes(&run), ["Dockerfile:LI301"]);
    let run = dir.run(&["lint", "--build-arg", "BASE=ubuntu:24.04", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "No findings. Checked 1 file.\n");
    let bad = dir.run(&["lint", "--build-arg", "BASE", "Dockerfile"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "lambda-image: error: --build-arg \"BASE\": expected NAME=VALUE\n"
    );
}

#[test]
fn pragmas_that_suppress_nothing_are_warned_about_on_stderr() {
    let dir = Tree::new();
    dir.write("Dockerfile",
        "FROM public.ecr.aws/lambda/python:3.12\n# lambda-image: ignore=yum-not-available\nRUN yum install -y gcc && yum clean all\n# lambda-image: ignroe=LI201\nRUN dnf install -y make\nCMD [\"app.handler\"]\n",
    );
    let run = dir.run(&["lint", "--no-config", "-f", "json", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        codes(&run),
        ["Dockerfile:LI101", "Dockerfile:LI101", "Dockerfile:LI201"]
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].starts_with("lambda-image: warning: Dockerfile:2:24: `yum-not-available` is a rule name, not a code: write `LI101`"),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].starts_with(
            "lambda-image: warning: Dockerfile:4:1: `# lambda-image: ignroe=LI201` is not a pragma"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn fix_summary_ends_with_the_files_checked() {
    let dir = Tree::new();
    dir.write("a/Dockerfile", WARNING_ONLY);
    dir.write("b/Dockerfile", CLEAN);
    let run = dir.run(&["lint", "--no-config", "--fix", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .ends_with("Fixed 1 finding in 1 file; 0 left. Checked 2 files.\n"),
        "{}",
        run.stderr
    );
}
