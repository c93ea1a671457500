//! `lambda-image lint --format json` over the whole corpus of real Dockerfiles in one process:
//! no panic, valid JSON, and parse errors only for the files that are not Dockerfiles. The corpus
//! is read from `LAMBDA_IMAGE_CORPUS` (see tests/common/corpus.rs); the project's fixtures get the
//! same checks without it.

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Corpus files that BuildKit rejects too (the list tests/corpus_parse.rs keeps, with reasons
/// there): a parser test, merge-conflict markers, templates, deliberately invalid fixtures.
const NOT_DOCKERFILES: &[&str] = &[
    "HewlettPackard__dockerfile-parser-rs__Dockerfile.test",
    "SriganthSrinivasan__sripo__Dockerfile.orig",
    "aws__aws-for-fluent-bit__troubleshooting__tutorials__cloud-firelens-crash-repro-template__Dockerfile",
    "aws__aws-sam-cli-app-templates__al2__graalvm__17__maven____cookiecutter.project_name____Dockerfile",
    "aws__aws-sam-cli__tests__integration__testdata__buildcmd__PythonImage__InvalidDockerfile",
    "microsoft__dotnet-framework-docker__eng__dockerfile-templates__aspnet__Dockerfile",
    "taiki-e__parse-dockerfile__tests__fixtures__dev.DOCKERFILE",
];

/// Lints `files` in one process and checks the JSON: no panic, findings only for those files and
/// inside them, and a parse error (LI001) for exactly the `not_dockerfiles` (file names).
fn lint_json(files: &[String], not_dockerfiles: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_lambda-image"))
        .args(["lint", "--no-config", "--format", "json"])
        .args(files)
        .output()
        .expect("run lambda-image");
    let code = output.status.code();
    assert!(
        matches!(code, Some(1) | Some(2)),
        "exit code {code:?} (a panic is 101):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("stdout is a JSON array");
    assert!(
        findings.iter().any(|f| f["code"] != "LI001"),
        "no rule fired on the Lambda Dockerfiles"
    );
    for f in &findings {
        let file = f["file"].as_str().unwrap_or("");
        assert!(
            files.iter().any(|p| p == file),
            "finding for a file not linted: {f}"
        );
    }

    let parse_errors: BTreeSet<String> = findings
        .iter()
        .filter(|f| f["code"] == "LI001")
        .map(|f| {
            let file = f["file"].as_str().unwrap_or("");
            file.rsplit('/').next().unwrap_or(file).to_string()
        })
        .collect();
    let unexpected: Vec<&String> = parse_errors
        .iter()
        .filter(|f| !not_dockerfiles.contains(&f.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "parse errors on real Dockerfiles: {unexpected:?}"
    );
    let missing: Vec<&&str> = not_dockerfiles
        .iter()
        .filter(|f| !parse_errors.contains(**f))
        .collect();
    assert!(missing.is_empty(), "no parse error for {missing:?}");
    assert_eq!(
        code == Some(2),
        !parse_errors.is_empty(),
        "exit 2 exactly when a file did not parse"
    );

    // Every finding is positioned inside its file.
    for f in &findings {
        let line = f["line"].as_u64().unwrap_or(0);
        let end_line = f["end_line"].as_u64().unwrap_or(0);
        assert!(line >= 1 && end_line >= line, "{f}");
        assert!(f["column"].as_u64().unwrap_or(0) >= 1, "{f}");
    }
}

#[test]
fn lint_json_over_the_corpus() {
    let Some(paths) = corpus::files("lint_json_over_the_corpus") else {
        return;
    };
    let files: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 305, "the corpus has 305 files");
    lint_json(&files, NOT_DOCKERFILES);
}

/// The same over the project's parser and fix fixtures, which need no corpus.
#[test]
fn lint_json_over_the_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for dir in ["parse", "fix"] {
        let entries = std::fs::read_dir(root.join(dir)).expect("fixture folder");
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "Dockerfile") {
                files.push(path.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    lint_json(
        &files,
        &[
            "rejected-copy-without-destination.Dockerfile",
            "rejected-merge-conflict.Dockerfile",
            "rejected-volume-empty.Dockerfile",
        ],
    );
}
