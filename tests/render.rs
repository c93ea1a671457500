//! `render`: golden Dockerfiles for every example, lint-clean output, `--write`, `--check`,
//! `-o`, `--arch`, `--templates`, provenance labels, and value escaping.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use lambda_image::image_spec::{self as spec, Arch};
use lambda_image::render::{self, Options, Vcs};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("images"))
        .expect("images/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("image.yaml").is_file())
        .collect();
    out.sort();
    out
}

fn render_committed(dir: &Path) -> String {
    let spec = spec::load(dir).unwrap_or_else(|e| panic!("{e}"));
    render::render(&spec, &Options::default()).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Parses and lints a Dockerfile; returns the findings as `CODE message` lines.
fn lint(text: &str) -> Vec<String> {
    let df =
        lambda_image::dockerfile::parse(text).unwrap_or_else(|e| panic!("parse: {e:?}\n{text}"));
    lambda_image::lint::engine::check(&df)
        .into_iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

#[test]
fn every_runtime_has_an_example() {
    let runtimes: Vec<String> = examples()
        .iter()
        .map(|d| {
            spec::load(d)
                .unwrap_or_else(|e| panic!("{e}"))
                .runtime
                .id
                .to_string()
        })
        .collect();
    for rt in spec::RUNTIMES {
        assert!(
            runtimes.contains(&rt.id.to_string()),
            "no example for {}",
            rt.id
        );
    }
    assert_eq!(examples().len(), 13);
}

#[test]
fn golden_dockerfiles() {
    for dir in examples() {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let text = render_committed(&dir);
        insta::assert_snapshot!(format!("golden_{name}"), text);
    }
}

#[test]
fn examples_parse_and_lint_clean_for_every_architecture() {
    for dir in examples() {
        let spec = spec::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        for arch in &spec.architectures {
            let options = Options {
                arch: Some(*arch),
                ..Options::default()
            };
            let text = render::render(&spec, &options).unwrap_or_else(|e| panic!("{e:#}"));
            // Zero findings only mean something when the rules ran: every stage must be
            // recognised as an AWS Lambda AL2023 base (the AL2023 rules are silent otherwise).
            let df = lambda_image::dockerfile::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
            for stage in &df.stages {
                assert_eq!(
                    stage.class,
                    lambda_image::dockerfile::BaseClass::LambdaAl2023,
                    "{}: stage FROM {} is not classified lambda-al2023, so lint-clean proves nothing",
                    dir.display(),
                    stage.image_raw
                );
            }
            let findings = lint(&text);
            assert!(
                findings.is_empty(),
                "{}: {findings:#?}\n{text}",
                dir.display()
            );
        }
    }
}

#[test]
fn rendered_dockerfiles_keep_the_promised_shape() {
    for dir in examples() {
        let text = render_committed(&dir);
        let df = lambda_image::dockerfile::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        // Classic-builder compatible: no RUN --mount, no heredocs.
        for ins in &df.instructions {
            assert!(ins.heredocs.is_empty(), "{}: heredoc", dir.display());
            assert!(
                ins.flags.iter().all(|f| f.name != "mount"),
                "{}: --mount",
                dir.display()
            );
        }
        // Ends with a one-element exec-form CMD.
        let last = df.instructions.last().expect("instructions");
        assert_eq!(last.keyword, lambda_image::dockerfile::Keyword::Cmd);
        match &last.args {
            lambda_image::dockerfile::Args::Exec(words) => {
                assert_eq!(words.len(), 1, "{}", dir.display())
            }
            other => panic!("{}: CMD is not exec form: {other:?}", dir.display()),
        }
        // Installs use the microdnf-valid idiom only.
        for line in text.lines().filter(|l| l.contains("dnf install")) {
            assert!(
                line.starts_with("RUN dnf install -y --setopt=install_weak_deps=0 --nodocs "),
                "{line}"
            );
        }
        assert!(!text.contains("yum install"), "{}", dir.display());
    }
}

#[test]
fn build_packages_stay_in_the_builder_stage() {
    let text = render_committed(&root().join("images/python313"));
    let (builder, fin) = text
        .split_once("\nFROM public.ecr.aws/lambda/python:3.13\n")
        .expect("two stages");
    assert!(builder.contains("FROM public.ecr.aws/lambda/python:3.13 AS build"));
    assert!(builder.contains("gcc libpq-devel"));
    assert!(!fin.contains("gcc"), "{fin}");
    assert!(fin.contains("COPY --from=build /build/deps/ ${LAMBDA_TASK_ROOT}/"));
    assert!(fin.contains("--nodocs libpq \\"));
}

#[test]
fn dependencies_come_before_code() {
    for (example, manifest, code) in [
        ("python312", "COPY requirements.txt", "COPY app.py"),
        (
            "nodejs22",
            "COPY package.json package-lock.json",
            "COPY app.mjs",
        ),
        ("ruby33", "COPY Gemfile Gemfile.lock", "COPY app.rb"),
    ] {
        let text = render_committed(&root().join("images").join(example));
        let m = text
            .find(manifest)
            .unwrap_or_else(|| panic!("{example}: {manifest}\n{text}"));
        let c = text
            .find(code)
            .unwrap_or_else(|| panic!("{example}: {code}"));
        assert!(m < c, "{example}: dependencies after code");
    }
}

#[test]
fn committed_dockerfiles_are_current() {
    for dir in examples() {
        let committed =
            std::fs::read_to_string(dir.join("Dockerfile")).expect("committed Dockerfile");
        assert_eq!(
            committed,
            render_committed(&dir),
            "{}: run render --write",
            dir.display()
        );
    }
}

// --- labels --------------------------------------------------------------------------------

#[test]
fn provenance_labels_come_from_vcs_and_are_absent_when_unknown() {
    let spec = spec::load(&root().join("images/python312")).unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        vcs: Vcs {
            source: Some("https://github.com/acme/functions".into()),
            revision: Some("0123456789abcdef0123456789abcdef01234567".into()),
            created: Some("2026-01-02T03:04:05Z".into()),
        },
        ..Options::default()
    };
    let text = render::render(&spec, &options).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(text.contains(r#"org.opencontainers.image.source="https://github.com/acme/functions""#));
    assert!(text.contains(
        r#"org.opencontainers.image.revision="0123456789abcdef0123456789abcdef01234567""#
    ));
    assert!(text.contains(r#"org.opencontainers.image.created="2026-01-02T03:04:05Z""#));
    assert!(text.contains(r#"org.opencontainers.image.title="python312""#));
    assert!(
        text.contains(r#"org.opencontainers.image.base.name="public.ecr.aws/lambda/python:3.12""#)
    );
    assert!(lint(&text).is_empty());

    let bare = render_committed(&root().join("images/python312"));
    for absent in [
        "image.source",
        "image.revision",
        "image.created",
        "image.base.digest",
        "=\"\"",
    ] {
        assert!(!bare.contains(absent), "{absent} in\n{bare}");
    }
}

/// `fn/image.yaml` with `yaml`, plus files (relative to its folder), in a fresh tree.
fn temp_spec(yaml: &str, files: &[(&str, &str)]) -> Tree {
    let tree = Tree::new();
    tree.write("fn/image.yaml", yaml);
    for (name, text) in files {
        tree.write(&format!("fn/{name}"), text);
    }
    tree
}

#[test]
fn digest_pinned_base_gives_base_digest_label() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let tmp = temp_spec(
        &format!(
            "runtime: python3.13\nbase: public.ecr.aws/lambda/python:3.13@{digest}\nhandler: app.handler\ncopy: [{{src: app.py}}]\n"
        ),
        &[("app.py", "")],
    );
    let text = render_committed(&tmp.path().join("fn"));
    assert!(text.contains(&format!(
        "FROM public.ecr.aws/lambda/python:3.13@{digest}\n"
    )));
    assert!(text.contains(&format!(
        "org.opencontainers.image.base.digest=\"{digest}\""
    )));
    assert!(
        text.contains("org.opencontainers.image.base.name=\"public.ecr.aws/lambda/python:3.13\"")
    );
    assert!(lint(&text).is_empty(), "{:?}", lint(&text));
}

#[test]
fn git_provenance_uses_commit_time_not_the_clock() {
    let tmp = temp_spec(
        "runtime: python3.13\nhandler: app.handler\ncopy: [{src: app.py}]\n",
        &[("app.py", "")],
    );
    let repo = tmp.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .env("GIT_COMMITTER_DATE", "2020-02-03T04:05:06Z")
            .env("GIT_AUTHOR_DATE", "2020-02-03T04:05:06Z")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            ok.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        String::from_utf8_lossy(&ok.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        "git@github.com:acme/functions.git",
    ]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "x"]);
    let head = git(&["rev-parse", "HEAD"]);
    let vcs = Vcs::from_git(&repo.join("fn"));
    assert_eq!(
        vcs.source.as_deref(),
        Some("https://github.com/acme/functions")
    );
    assert_eq!(vcs.revision.as_deref(), Some(head.as_str()));
    assert_eq!(vcs.created.as_deref(), Some("2020-02-03T04:05:06Z"));

    // The CLI's stdout render carries them.
    let run = run_in(repo, &["render", "fn"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let text = &run.stdout;
    assert!(
        text.contains(&format!("org.opencontainers.image.revision=\"{head}\"")),
        "{text}"
    );
    assert!(text.contains("org.opencontainers.image.created=\"2020-02-03T04:05:06Z\""));
    // And --write leaves them out: the committed copy depends only on the spec.
    let run = run_in(repo, &["render", "--write", "-q", "fn"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let written = std::fs::read_to_string(repo.join("fn/Dockerfile")).expect("written");
    assert!(!written.contains("image.revision"), "{written}");
}

// --- escaping --------------------------------------------------------------------------------

#[test]
fn hostile_env_and_label_values_are_escaped() {
    let yaml = r#"runtime: python3.13
handler: app.handler
copy: [{src: app.py}]
env:
  QUOTE: 'say "hi"'
  DOLLAR: '$HOME ${PATH} $(id)'
  BACKTICK: '`id`'
  SEMI: 'a; rm -rf / && echo pwned'
  BACKSLASH: 'C:\dir\'
labels:
  com.example.note: '" \
RUN echo pwned'
"#;
    // The label value above spans lines in YAML but folds to one line: `" \ RUN echo pwned`.
    let tmp = temp_spec(yaml, &[("app.py", "")]);
    let text = render_committed(&tmp.path().join("fn"));
    assert!(text.contains(r#"QUOTE="say \"hi\"""#), "{text}");
    assert!(
        text.contains(r#"DOLLAR="\$HOME \${PATH} \$(id)""#),
        "{text}"
    );
    assert!(text.contains(r#"BACKTICK="`id`""#), "{text}");
    assert!(
        text.contains(r#"SEMI="a; rm -rf / && echo pwned""#),
        "{text}"
    );
    assert!(text.contains(r#"BACKSLASH="C:\\dir\\""#), "{text}");
    assert!(
        text.contains(r#"com.example.note="\" \\ RUN echo pwned""#),
        "{text}"
    );
    let df = lambda_image::dockerfile::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
    // No instruction was smuggled in: FROM, ENV, COPY, LABEL, CMD.
    let kinds: Vec<_> = df
        .instructions
        .iter()
        .map(|i| format!("{:?}", i.keyword))
        .collect();
    assert_eq!(kinds, ["From", "Env", "Copy", "Label", "Cmd"], "{text}");
    assert!(lint(&text).is_empty());
}

#[test]
fn java_handler_with_dollar_stays_literal_in_exec_form() {
    let tmp = temp_spec(
        "runtime: java21\nhandler: example.Outer$Inner::handle\ncopy: [{src: target/classes/, build_output: true}]\n",
        &[],
    );
    let text = render_committed(&tmp.path().join("fn"));
    assert!(
        text.ends_with("CMD [\"example.Outer$Inner::handle\"]\n"),
        "{text}"
    );
    // Build outputs need not exist when rendering.
    assert!(text.contains("COPY target/classes/ ${LAMBDA_TASK_ROOT}/\n"));
}

// --- templates -------------------------------------------------------------------------------

/// The templates reach users (embedded in the binary, copied for `--templates`): their notes
/// cite public sources, never the project's own notes.
#[test]
fn templates_cite_no_private_notes() {
    let dir = root().join("templates");
    let mut checked = 0;
    for entry in walk(&dir) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        for private in ["domain.md", "design.md", "lint-rules.md", "§"] {
            assert!(
                !text.contains(private),
                "{} cites {private}",
                entry.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} templates");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn templates_dir_overrides_and_falls_back() {
    let tdir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tdir.path().join("python.Dockerfile.j2"),
        "{% extends \"base.Dockerfile.j2\" %}\n{% block dependencies %}\n# custom dependencies for {{ runtime }}\n{% endblock %}\n",
    )
    .expect("write");
    let spec = spec::load(&root().join("images/python312")).unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        templates: Some(tdir.path().to_path_buf()),
        ..Options::default()
    };
    let text = render::render(&spec, &options).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        text.contains("# custom dependencies for python3.12"),
        "{text}"
    );
    assert!(!text.contains("pip install"));
    assert!(
        text.starts_with("# Rendered by lambda-image"),
        "base came from the built-ins"
    );

    // Strict undefined: a typo in a template is an error, not an empty string.
    std::fs::write(
        tdir.path().join("python.Dockerfile.j2"),
        "{% extends \"base.Dockerfile.j2\" %}\n{% block dependencies %}{{ requirments.src }}{% endblock %}\n",
    )
    .expect("write");
    let err = render::render(&spec, &options).expect_err("undefined variable");
    let msg = format!("{err:#}");
    assert!(msg.contains("undefined"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn arch_changes_the_header_and_must_be_in_the_spec() {
    let run = run_in(&root(), &["render", "--arch", "arm64", "images/python313"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("(python3.13, arm64)"));
    assert!(run.stdout.contains("docker build --platform linux/arm64 ."));
    // The FROM line is the same multi-arch tag for both.
    assert!(run
        .stdout
        .contains("\nFROM public.ecr.aws/lambda/python:3.13\n"));

    run_in(&root(), &["render", "--arch", "x86_64", "images/nodejs24"]).assert_error_starts(
        "images/nodejs24/image.yaml: --arch x86_64 is not one of the spec's architectures (arm64)",
    );
    let _ = Arch::X86_64;
}

// --- CLI: output, --write, --check ----------------------------------------------------------

/// A tree with a copy of `images/<name>`.
fn copy_example(name: &str) -> Tree {
    let tree = Tree::new();
    copy_example_into(&tree, name);
    tree
}

fn copy_example_into(tree: &Tree, name: &str) {
    copy_dir(
        &root().join("images").join(name),
        &tree.join(&format!("images/{name}")),
    );
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

#[test]
fn check_passes_when_current_and_fails_with_a_diff_when_stale() {
    let tree = copy_example("python313");
    let dir = "images/python313";
    let dockerfile = "images/python313/Dockerfile";
    let run = tree.run(&["render", "--check", dir]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.is_empty());

    // Change the spec: the committed Dockerfile is now stale.
    let yaml = tree.read("images/python313/image.yaml");
    tree.write(
        "images/python313/image.yaml",
        yaml.replace("LOG_LEVEL: INFO", "LOG_LEVEL: DEBUG"),
    );
    let before = tree.read(dockerfile);
    let run = tree.run(&["render", "--check", dir]);
    assert_eq!(run.code, 1, "{}", run.both());
    let diff = &run.stdout;
    assert!(diff.contains("-    LOG_LEVEL=\"INFO\""), "{diff}");
    assert!(diff.contains("+    LOG_LEVEL=\"DEBUG\""), "{diff}");
    assert!(diff.contains("@@"), "{diff}");
    assert!(run.stderr.contains("out of date"));
    assert_eq!(tree.read(dockerfile), before, "check wrote");

    // --write brings it up to date; --check agrees.
    let run = tree.run(&["render", "--write", dir]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(tree.read(dockerfile).contains("LOG_LEVEL=\"DEBUG\""));
    assert_eq!(tree.run(&["render", "--check", dir]).code, 0);

    // A missing Dockerfile is stale too.
    std::fs::remove_file(tree.join(dockerfile)).expect("rm");
    let run = tree.run(&["render", "--check", dir]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stderr.contains("missing"));
    assert!(!tree.join(dockerfile).exists());
}

#[test]
fn all_renders_every_spec_under_images() {
    let tree = copy_example("python312");
    copy_example_into(&tree, "nodejs20");
    let run = tree.run(&["render", "--all", "--check"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stderr.contains("2 rendered Dockerfiles up to date"));

    // Without --write/--check, several specs cannot share stdout.
    let run = tree.run(&["render", "--all"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stdout.is_empty());
}

#[test]
fn output_file_and_dash() {
    let tree = copy_example("ruby33");
    let dir = "images/ruby33";
    let run = tree.run(&["render", dir, "-o", "out.Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let written = tree.read("out.Dockerfile");
    assert!(written.ends_with("CMD [\"app.LambdaFunction::Handler.process\"]\n"));
    assert_eq!(tree.run(&["render", dir, "-o", "-"]).stdout, written);
    // image.yaml works as well as the folder.
    assert_eq!(
        tree.run(&["render", "images/ruby33/image.yaml"]).stdout,
        written
    );
}

#[test]
fn write_error_leaves_every_dockerfile_untouched() {
    let tree = copy_example("python312");
    tree.write(
        "images/broken/image.yaml",
        "runtime: python3.13\nhandler: app\n",
    );
    std::fs::remove_file(tree.join("images/python312/Dockerfile")).expect("rm");
    let before = tree.snapshot();
    tree.run(&["render", "--write", "--all"]).assert_error(
        "images/broken/image.yaml:2:10: handler: invalid python handler 'app', expected module.function, e.g. app.handler or pkg/mod.handler",
    );
    assert_eq!(tree.snapshot(), before, "nothing written");
}
