//! Every Dockerfile of the shared corpus parses, except the few that BuildKit rejects too; each
//! of those fails with a spanned error. Also times the whole corpus (parse + RUN splitting). The
//! corpus is read from `LAMBDA_IMAGE_CORPUS` (see tests/common/corpus.rs).

#[path = "common/corpus.rs"]
mod corpus;

use lambda_image::dockerfile::{parse, shell, Args, Dockerfile, Instruction, Keyword};
use std::time::Instant;

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

/// The corpus as (file name, text), or `None` when the corpus tests are skipped.
fn corpus(test: &str) -> Option<Vec<(String, String)>> {
    let paths = corpus::files(test)?;
    let files = paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {name}: {e}"));
            (name, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    Some(files)
}

/// Every logical character maps back to the same source character, heredoc bodies are verbatim
/// slices, and every plain word of every command is its own source text.
fn check_maps(name: &str, df: &Dockerfile, ins: &Instruction) {
    if let Args::Shell(lt) = &ins.args {
        for (i, c) in lt.text.char_indices() {
            let s = lt.to_source(i);
            let got = df.source.get(s..).and_then(|t| t.chars().next());
            assert_eq!(got, Some(c), "{name}: logical {i} of {:?}", lt.text);
        }
    }
    for h in &ins.heredocs {
        assert_eq!(
            df.source.get(h.body_span.clone()),
            Some(h.body.as_str()),
            "{name}"
        );
    }
    if ins.keyword == Keyword::Run {
        for cmd in shell::split_run(df, ins) {
            assert!(df.source.get(cmd.span.clone()).is_some(), "{name}: {cmd:?}");
            for w in &cmd.words {
                let text = df.source.get(w.span.clone());
                assert!(text.is_some(), "{name}: word span {:?}", w.span);
                let text = text.unwrap_or("");
                let plain = !w.quoted && !text.contains(['\\', '\n', '`', '$']);
                if plain {
                    assert_eq!(text, w.value, "{name}: word span {:?}", w.span);
                }
            }
        }
    }
}

#[test]
fn corpus_parses_except_files_buildkit_rejects() {
    let Some(files) = corpus("corpus_parses_except_files_buildkit_rejects") else {
        return;
    };
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
                    check_maps(name, &df, ins);
                    if let Some(inner) = &ins.onbuild {
                        check_maps(name, &df, inner);
                    }
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
    let Some(files) = corpus("corpus_parse_and_split_timing") else {
        return;
    };
    let mut runs = Vec::new();
    let mut commands = 0usize;
    let mut parsed = 0usize;
    for _ in 0..5 {
        commands = 0;
        parsed = 0;
        let start = Instant::now();
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
        runs.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let best = runs.iter().copied().fold(f64::INFINITY, f64::min);
    eprintln!(
        "parsed {parsed} of {} corpus files and split their RUNs into {commands} commands: \
         first run {:.2} ms, best of {} {best:.2} ms",
        files.len(),
        runs.first().copied().unwrap_or(0.0),
        runs.len(),
    );
    assert_eq!(parsed, files.len() - EXPECTED_FAILURES.len());
}
