//! Every Dockerfile of the shared corpus parses, except the few that BuildKit rejects too; each
//! of those fails with a spanned error. The corpus is read from `LAMBDA_IMAGE_CORPUS` (see
//! tests/common/corpus.rs); the same checks run on the project's fixtures in
//! tests/fixtures/parse, which need no corpus. (A corpus timing test that asserted nothing the
//! others do not was removed: timing is a benchmark, `make bench-lint` in bench/lint.sh.)

#[path = "common/corpus.rs"]
mod corpus;

use lambda_image::dockerfile::{parse, shell, Args, Dockerfile, Instruction, Keyword, ParseError};
use std::path::Path;

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

/// Parses one file and checks what every parse must give: stages, instruction and keyword spans
/// that are slices of the source, exact maps (see `check_maps`), or a one-line error inside the file.
fn check_file(name: &str, text: &str) -> Result<Dockerfile, ParseError> {
    let result = parse(text);
    match &result {
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
                check_maps(name, df, ins);
                if let Some(inner) = &ins.onbuild {
                    check_maps(name, df, inner);
                }
            }
        }
        Err(e) => assert!(
            e.span.end <= text.len() && !e.message.contains('\n'),
            "{name}: bad error {e:?}"
        ),
    }
    result
}

/// The project's own fixtures (tests/fixtures/parse), so the parser is checked on whole files
/// without the corpus: the `rejected-*` ones are files BuildKit rejects too, given here with the
/// start of our error and the text it points at.
const FIXTURE_FAILURES: &[(&str, &str, &str)] = &[
    (
        "rejected-copy-without-destination.Dockerfile",
        "COPY requires at least two arguments",
        "COPY main.py",
    ),
    (
        "rejected-merge-conflict.Dockerfile",
        "unknown instruction: <<<<<<<",
        "<<<<<<<",
    ),
    (
        "rejected-volume-empty.Dockerfile",
        "VOLUME requires at least one argument",
        "VOLUME",
    ),
];

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parse")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_ok(name: &str) -> Dockerfile {
    check_file(name, &fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {} at {:?}", e.message, e.span))
}

fn shell_text<'a>(name: &str, ins: &'a Instruction) -> &'a str {
    match &ins.args {
        Args::Shell(lt) => &lt.text,
        other => panic!("{name}: expected shell form, got {other:?}"),
    }
}

#[test]
fn fixtures_parse_except_the_rejected_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".Dockerfile"))
        .collect();
    names.sort();
    assert!(names.len() >= 9, "fixtures missing: {names:?}");
    let mut rejected = Vec::new();
    for name in &names {
        let text = fixture(name);
        match check_file(name, &text) {
            Ok(_) => assert!(!name.starts_with("rejected-"), "{name} parsed"),
            Err(e) => {
                let Some((_, prefix, spanned)) =
                    FIXTURE_FAILURES.iter().find(|(n, _, _)| n == name)
                else {
                    panic!("{name}: {} at {:?}", e.message, e.span);
                };
                assert!(e.message.starts_with(prefix), "{name}: {}", e.message);
                assert_eq!(text.get(e.span.clone()), Some(*spanned), "{name}");
                rejected.push(name.as_str());
            }
        }
    }
    let want: Vec<&str> = FIXTURE_FAILURES.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(rejected, want);
}

#[test]
fn fixture_continuations() {
    let name = "continuations.Dockerfile";
    let df = fixture_ok(name);
    let runs: Vec<&Instruction> = df
        .instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Run)
        .collect();
    assert_eq!(runs.len(), 3);
    // The comment and the blank line are dropped, the spaces after a backslash are not text.
    assert_eq!(
        shell_text(name, runs[0])
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["yum", "install", "-y", "gcc", "gcc-c++", "make", "&&", "yum", "clean", "all"]
    );
    assert!(!shell_text(name, runs[0]).contains('#'));
    // Continuations inside quotes are joined too, and the `sh -c` script is split.
    let commands = shell::split_run(&df, runs[1]);
    let argvs: Vec<Vec<&str>> = commands
        .iter()
        .map(|c| c.words.iter().map(|w| w.value.as_str()).collect())
        .collect();
    let script = "pip install       --no-cache-dir       -r requirements.txt -t /asset";
    assert_eq!(
        argvs,
        [
            vec!["sh", "-c", script],
            vec![
                "pip",
                "install",
                "--no-cache-dir",
                "-r",
                "requirements.txt",
                "-t",
                "/asset"
            ],
            vec!["echo", "done with a quoted continuation"],
        ]
    );
    // The last instruction's continuation runs into the end of the file.
    let last = df.instructions.last().expect("instructions");
    assert_eq!(shell_text(name, last), "echo a trailing continuation");
    assert_eq!(last.span.end, df.source.trim_end().len());
}

#[test]
fn fixture_heredocs() {
    let name = "heredocs.Dockerfile";
    let df = fixture_ok(name);
    let docs: Vec<(&str, bool, bool)> = df
        .instructions
        .iter()
        .flat_map(|i| i.onbuild.as_deref().unwrap_or(i).heredocs.iter())
        .map(|h| (h.delimiter.as_str(), h.expand, h.strip_tabs))
        .collect();
    assert_eq!(
        docs,
        [
            ("EOF", true, false),
            ("SCRIPT", false, true),
            ("EOT", true, true),
            ("README", false, false),
            ("EOF", true, false),
            ("PY", false, false),
            ("EOF", true, false),
        ]
    );
    assert_eq!(df.directives.len(), 1);
    // The RUN script's commands are split out of the heredoc body.
    let run = &df.instructions[1];
    let commands = shell::split_run(&df, run);
    let programs: Vec<&str> = commands
        .iter()
        .filter_map(|c| c.words.first().map(|w| w.value.as_str()))
        .collect();
    assert_eq!(programs, ["set", "yum", "yum"]);
    assert_eq!(
        df.instructions.last().map(|i| i.keyword),
        Some(Keyword::Cmd)
    );
}

#[test]
fn fixture_exec_form() {
    let name = "exec-form.Dockerfile";
    let df = fixture_ok(name);
    let forms: Vec<(Keyword, Option<Vec<&str>>)> = df
        .instructions
        .iter()
        .map(|i| {
            let exec = match &i.args {
                Args::Exec(words) => Some(words.iter().map(|w| w.value.as_str()).collect()),
                _ => None,
            };
            (i.keyword, exec)
        })
        .collect();
    assert_eq!(
        forms,
        [
            (Keyword::From, None),
            (Keyword::Entrypoint, Some(vec![])),
            (
                Keyword::Shell,
                Some(vec!["/bin/sh", "-o", "pipefail", "-c"])
            ),
            (Keyword::Run, Some(vec!["microdnf", "install", "-y", "tar"])),
            (
                Keyword::Run,
                Some(vec!["/bin/sh", "-c", "echo \"quoted\" \u{e9} \\ backslash"])
            ),
            // Not valid JSON: shell form, as in BuildKit.
            (Keyword::Cmd, None),
            (Keyword::Cmd, None),
            (Keyword::From, None),
            (Keyword::Entrypoint, Some(vec!["/lambda-entrypoint.sh"])),
            (Keyword::Cmd, Some(vec!["app.handler"])),
        ]
    );
    assert_eq!(shell_text(name, &df.instructions[5]), "[app.handler]");
}

#[test]
fn fixture_escape_backtick() {
    let name = "escape-backtick.Dockerfile";
    let df = fixture_ok(name);
    assert_eq!(df.escape, '`');
    let run = &df.instructions[2];
    assert_eq!(run.keyword, Keyword::Run);
    assert_eq!(
        shell_text(name, run),
        "New-Item -ItemType Directory C:\\app ;     Write-Host \"created C:\\app\""
    );
    // A backslash at the end of a line is a plain character here, not a continuation.
    assert_eq!(shell_text(name, &df.instructions[3]), "app\\ C:\\app\\");
    assert_eq!(df.instructions[4].keyword, Keyword::Workdir);
    assert_eq!(df.instructions.len(), 7);
}

#[test]
fn fixture_crlf() {
    let name = "crlf.Dockerfile";
    let text = fixture(name);
    assert!(
        text.starts_with('\u{feff}') && text.matches("\r\n").count() == text.matches('\n').count(),
        "{name} lost its BOM or CRLF line endings (check .gitattributes)"
    );
    let df = fixture_ok(name);
    let run = &df.instructions[1];
    assert!(
        !shell_text(name, run).contains('\r'),
        "{:?}",
        shell_text(name, run)
    );
    assert_eq!(
        shell_text(name, run).split_whitespace().collect::<Vec<_>>(),
        [
            "yum",
            "install",
            "-y",
            "gcc",
            "--setopt=install_weak_deps=False",
            "&&",
            "yum",
            "clean",
            "all"
        ]
    );
    assert_eq!(
        df.instructions[2].heredocs[0].body,
        "pip install --no-cache-dir requests\r\n"
    );
    assert!(df
        .source
        .get(run.span.clone())
        .is_some_and(|s| !s.ends_with('\r')));
}

#[test]
fn fixture_healthcheck() {
    let name = "healthcheck.Dockerfile";
    let df = fixture_ok(name);
    let checks: Vec<&Instruction> = df
        .instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Healthcheck)
        .collect();
    assert_eq!(checks.len(), 3);
    assert!(matches!(checks[0].args, Args::None), "{:?}", checks[0].args);
    assert_eq!(shell_text(name, checks[1]), "NONE");
    let flags: Vec<&str> = checks[2].flags.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(flags, ["interval", "timeout", "start-period", "retries"]);
    assert_eq!(
        shell_text(name, checks[2]),
        "CMD curl -f http://localhost/ || exit 1"
    );
    assert_eq!(df.stages[1].parent, Some(0));
}

#[test]
fn corpus_parses_except_files_buildkit_rejects() {
    let Some(files) = corpus("corpus_parses_except_files_buildkit_rejects") else {
        return;
    };
    assert_eq!(files.len(), 305, "the corpus has 305 Dockerfiles");

    let mut failures = Vec::new();
    for (name, text) in &files {
        if let Err(e) = check_file(name, text) {
            failures.push((name.clone(), e.message));
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
