//! Fixing: stable after one run (a second run applies nothing), output that parses, and the
//! layout of the file (line endings, BOM, comments, continuations) kept.

#[path = "common/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};

use lambda_image::dockerfile;
use lambda_image::lint::fix::{apply_once, fix_until_stable, FixOutcome};
use lambda_image::lint::{engine, Diagnostic};

fn all(_: &Diagnostic) -> bool {
    true
}

fn fix(src: &str, unsafe_fixes: bool) -> FixOutcome {
    match fix_until_stable(src, unsafe_fixes, &all) {
        Ok(o) => o,
        Err(e) => panic!("fixing failed: {e}\n{src}"),
    }
}

/// Fixes twice: the second run must apply nothing, and both outputs must parse.
fn assert_stable(name: &str, src: &str) {
    for unsafe_fixes in [false, true] {
        let first = fix(src, unsafe_fixes);
        assert!(
            dockerfile::parse(&first.source).is_ok(),
            "{name}: fixed output does not parse"
        );
        let second = fix(&first.source, unsafe_fixes);
        assert_eq!(
            second.applied, 0,
            "{name}: a second fix run changed the file (unsafe={unsafe_fixes}):\n{}",
            first.source
        );
        assert_eq!(second.source, first.source, "{name}");
        // Whatever is left has no applicable fix.
        let left = second
            .remaining
            .iter()
            .filter(|d| {
                d.fix.as_ref().is_some_and(|f| {
                    unsafe_fixes || f.applicability == lambda_image::lint::Applicability::Safe
                })
            })
            .count();
        assert_eq!(left, 0, "{name}: fixable findings left after fixing");
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The rule fixtures, the parser fixtures (continuations, heredocs, CRLF…; the `rejected-*` ones
/// do not parse) and the fix fixtures: no corpus needed.
#[test]
fn fixtures_fix_to_a_fixed_point() {
    let mut checked = 0;
    for dir in ["lint", "parse", "fix"] {
        for path in files(&fixture_dir(dir)) {
            if path.extension().is_none_or(|e| e != "Dockerfile") {
                continue;
            }
            let src = std::fs::read_to_string(&path).expect("readable fixture");
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("rejected-"))
            {
                assert!(
                    dockerfile::parse(&src).is_err(),
                    "{} parses",
                    path.display()
                );
                continue;
            }
            assert_stable(&path.display().to_string(), &src);
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} fixtures");
}

/// A Dockerfile written for the Amazon Linux 2 Lambda images: the unsafe fix moves its bases to
/// AL2023, then the AL2023 fixes (yum → dnf, `install_weak_deps=0`, `dnf clean all`) apply in the
/// following passes. The result is committed beside it, and fixing that again changes nothing.
#[test]
fn al2_dockerfile_fixes_to_its_committed_al2023_form() {
    let dir = fixture_dir("fix");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let src = read("al2-to-al2023.Dockerfile");
    let want = read("al2-to-al2023.fixed.Dockerfile");
    let first = fix(&src, true);
    assert_eq!(first.source, want);
    assert!(first.applied >= 8, "{} fixes applied", first.applied);
    let second = fix(&first.source, true);
    assert_eq!((second.source.as_str(), second.applied), (want.as_str(), 0));
    // Safe fixes only: the bases stay on AL2, where `yum clean all` is the fix.
    let safe = fix(&src, false);
    assert!(safe.source.contains("python:3.11 AS build"));
    assert!(safe
        .source
        .contains("--setopt=install_weak_deps=False && yum clean all\n"));
    assert_eq!(fix(&safe.source, false).applied, 0);
}

#[test]
fn corpus_fixes_to_a_fixed_point() {
    let Some(paths) = corpus::files("corpus_fixes_to_a_fixed_point") else {
        return;
    };
    let mut checked = 0;
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(src) = String::from_utf8(bytes) else {
            continue;
        };
        if dockerfile::parse(&src).is_err() {
            continue;
        }
        assert_stable(&path.display().to_string(), &src);
        checked += 1;
    }
    assert!(checked > 250, "only {checked} corpus files parsed");
}

fn fixed(src: &str) -> String {
    fix(src, true).source
}

#[test]
fn crlf_and_bom_are_kept() {
    let src = "\u{feff}FROM public.ecr.aws/lambda/python:3.12\r\n# install\r\nRUN yum install -y gcc \\\r\n    --setopt=install_weak_deps=False\r\nCMD [\"app.handler\"]\r\n";
    let out = fixed(src);
    assert_eq!(
        out,
        "\u{feff}FROM public.ecr.aws/lambda/python:3.12\r\n# install\r\nRUN dnf install -y gcc \\\r\n    --setopt=install_weak_deps=0 && dnf clean all\r\nCMD [\"app.handler\"]\r\n"
    );
}

#[test]
fn comments_and_continuations_are_kept() {
    let src = "FROM public.ecr.aws/lambda/python:3.12\n\
RUN dnf install -y \\\n\
      --allowerasing \\\n\
# a comment inside the continuation\n\
      gcc \\\n\
    && dnf clean all\n\
CMD [\"app.handler\"]\n";
    let out = fixed(src);
    assert_eq!(
        out,
        "FROM public.ecr.aws/lambda/python:3.12\n\
RUN dnf install -y \\\n\
# a comment inside the continuation\n\
      gcc \\\n\
    && dnf clean all\n\
CMD [\"app.handler\"]\n"
    );
}

#[test]
fn heredoc_gets_a_new_line_before_the_delimiter() {
    let src = "FROM public.ecr.aws/lambda/python:3.12\nRUN <<EOF\nset -e\ndnf install -y gcc\nEOF\nCMD [\"app.handler\"]\n";
    assert_eq!(
        fixed(src),
        "FROM public.ecr.aws/lambda/python:3.12\nRUN <<EOF\nset -e\ndnf install -y gcc\ndnf clean all\nEOF\nCMD [\"app.handler\"]\n"
    );
}

#[test]
fn safe_only_leaves_unsafe_fixes() {
    let src = "FROM public.ecr.aws/lambda/python:3.12\nRUN dnf install -y --skip-broken gcc && dnf clean all\nCMD [\"app.handler\"]\n";
    let safe = fix(src, false);
    assert_eq!(safe.source, src);
    assert_eq!(safe.applied, 0);
    assert!(safe.remaining.iter().any(|d| d.code == "LI107"));
    let all = fix(src, true);
    assert_eq!(
        all.source,
        "FROM public.ecr.aws/lambda/python:3.12\nRUN dnf install -y gcc && dnf clean all\nCMD [\"app.handler\"]\n"
    );
}

#[test]
fn keep_filter_limits_what_is_fixed() {
    let src =
        "FROM public.ecr.aws/lambda/python:3.12\nRUN yum install -y gcc\nCMD [\"app.handler\"]\n";
    let only_li101 = |d: &Diagnostic| d.code == "LI101";
    let out = fix_until_stable(src, true, &only_li101).expect("fixes");
    assert_eq!(
        out.source,
        "FROM public.ecr.aws/lambda/python:3.12\nRUN dnf install -y gcc\nCMD [\"app.handler\"]\n"
    );
    assert!(out.remaining.iter().all(|d| d.code == "LI101"));
}

#[test]
fn exec_form_run_gets_no_fix() {
    let src = "FROM amazonlinux:2023\nRUN [\"dnf\", \"install\", \"gcc\"]\n";
    let df = dockerfile::parse(src).expect("parses");
    let diags = engine::check(&df);
    assert!(diags.iter().any(|d| d.code == "LI201" && d.fix.is_none()));
    assert!(diags.iter().any(|d| d.code == "LI202" && d.fix.is_none()));
    assert_eq!(apply_once(src, &diags, true), (src.to_string(), 0));
}

/// A RUN with a quote it never closes (`"]` left from an exec form): the shell refuses it, no
/// fix may land inside the quote (appending `&& dnf clean all` there changed nothing and fixing
/// never converged), and the fixes outside it still apply.
#[test]
fn an_unterminated_quote_takes_no_fix_inside_it() {
    let src = "FROM public.ecr.aws/lambda/python:3.12\nRUN yum -y install libxml2-dr\"]\nCMD [\"app.handler\"]\n";
    let out = fix(src, true);
    assert_eq!(
        out.source,
        "FROM public.ecr.aws/lambda/python:3.12\nRUN dnf -y install libxml2-dr\"]\nCMD [\"app.handler\"]\n"
    );
    assert_stable("unterminated quote", src);
    // The cleanup written inside the quote is there: LI101 alone, both `yum`s fixed.
    let src = "FROM public.ecr.aws/lambda/python:3.12\nRUN yum -y install libxml2-devel && yum clean all\"]\nCMD [\"app.handler\"]\n";
    let df = dockerfile::parse(src).expect("parses");
    let codes: Vec<(&str, bool)> = engine::check(&df)
        .iter()
        .map(|d| (d.code, d.fix.is_some()))
        .collect();
    assert_eq!(codes, [("LI101", true), ("LI101", true)]);
    assert_eq!(
        fix(src, true).source,
        "FROM public.ecr.aws/lambda/python:3.12\nRUN dnf -y install libxml2-devel && dnf clean all\"]\nCMD [\"app.handler\"]\n"
    );
}
