//! Every Dockerfile of the shared corpus parses, except the few that BuildKit rejects too; each
//! of those fails with a spanned error. Also times the whole corpus (parse + RUN splitting).

use lambda_image::dockerfile::{parse, shell, Keyword};
use std::path::PathBuf;
use std::time::Instant;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/dockerfiles");

/// Files BuildKit would not build either: (file name, start of our error message, why).
const EXPECTED_FAILURES: &[(&str, &str, &str)] = &[
    (
        "HewlettPackard__dockerfile-parser-rs__Dockerfile.test",
        "unknown instruction: OTHER",
        "a parser test with an `other foo bar` line",
    ),
    (
        "SriganthSrinivasan__sripo__Dockerfile.orig",
        "unknown instruction: <<<<<<<",
        "left-over git merge-conflict markers",
    ),
    (
        "aws__aws-for-fluent-bit__troubleshooting__tutorials__cloud-firelens-crash-repro-template__Dockerfile",
        "FROM requires either one or three arguments",
        "a template: `FROM {core dump image build}`",
    ),
    (
        "aws__aws-sam-cli-app-templates__al2__graalvm__17__maven____cookiecutter.project_name____Dockerfile",
        "unknown instruction: {%-",
        "a cookiecutter template starting with a `{%- if %}` block",
    ),
    (
        "aws__aws-sam-cli__tests__integration__testdata__buildcmd__PythonImage__InvalidDockerfile",
        "COPY requires at least two arguments",
        "SAM's deliberately invalid test file: `COPY main.py` has no destination",
    ),
    (
        "microsoft__dotnet-framework-docker__eng__dockerfile-templates__aspnet__Dockerfile",
        "unknown instruction: :",
        "a `{{if …}}` template whose branch lines start with `:`",
    ),
    (
        "taiki-e__parse-dockerfile__tests__fixtures__dev.DOCKERFILE",
        "VOLUME requires at least one argument",
        "a parser fixture ending with `VOLUME []`, which BuildKit rejects",
    ),
];

fn corpus() -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("reading {CORPUS}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {name}: {e}"));
            (name, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

#[test]
fn corpus_parses_except_files_buildkit_rejects() {
    let files = corpus();
    assert_eq!(files.len(), 305, "the corpus has 305 Dockerfiles");

    let mut failures = Vec::new();
    for (name, text) in &files {
        match parse(text) {
            Ok(df) => {
                assert!(!df.stages.is_empty(), "{name}: no stages");
                for ins in &df.instructions {
                    assert!(
                        df.source.get(ins.span.clone()).is_some(),
                        "{name}: instruction span {:?} is not a slice of the source",
                        ins.span
                    );
                    let kw = df.source.get(ins.keyword_span.clone()).unwrap_or("");
                    assert!(
                        Keyword::from_name(kw) == Some(ins.keyword),
                        "{name}: keyword span {:?} holds {kw:?}",
                        ins.keyword_span
                    );
                }
            }
            Err(e) => {
                assert!(
                    e.span.end <= text.len() && !e.message.contains('\n'),
                    "{name}: bad error {e:?}"
                );
                failures.push((name.clone(), e.message));
            }
        }
    }
    for (name, message) in &failures {
        eprintln!("rejected {name}: {message}");
    }
    let got: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    let want: Vec<&str> = EXPECTED_FAILURES.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(
        got, want,
        "the rejected files differ from the expected ones"
    );
    for ((_, message), (name, prefix, why)) in failures.iter().zip(EXPECTED_FAILURES) {
        assert!(
            message.starts_with(prefix),
            "{name} ({why}): expected an error starting {prefix:?}, got {message:?}"
        );
    }
}

#[test]
fn corpus_parse_and_split_timing() {
    let files = corpus();
    let start = Instant::now();
    let mut commands = 0usize;
    let mut parsed = 0usize;
    for (_, text) in &files {
        if let Ok(df) = parse(text) {
            parsed += 1;
            for ins in &df.instructions {
                let target = ins.onbuild.as_deref().unwrap_or(ins);
                if target.keyword == Keyword::Run {
                    commands += shell::split_run(&df, target).len();
                }
            }
        }
    }
    let elapsed = start.elapsed();
    eprintln!(
        "parsed {parsed} of {} corpus files and split their RUNs into {commands} commands in {:.2} ms",
        files.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    assert_eq!(parsed, files.len() - EXPECTED_FAILURES.len());
}
