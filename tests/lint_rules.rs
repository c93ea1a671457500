//! Every rule against its fixture (`tests/fixtures/lint/<CODE>[-variant].Dockerfile`), and
//! one-line catches / catches-not tables for the edge cases.
//!
//! Fixture convention, checked by machine: a comment line `# fires: …` right before an
//! instruction means the fixture's rule must report at least one finding inside that
//! instruction; `# ok: …` means it must report none there. Every fixture has both kinds.

use std::path::Path;

use lambda_image::dockerfile::{self, Dockerfile};
use lambda_image::lint::config::{self, Settings};
use lambda_image::lint::{self, engine, fix, Applicability, Diagnostic};

fn parse(src: &str) -> Dockerfile {
    match dockerfile::parse(src) {
        Ok(df) => df,
        Err(e) => panic!("does not parse: {e} at {:?}\n{src}", e.span),
    }
}

fn findings(code: &str, src: &str) -> Vec<Diagnostic> {
    let df = parse(src);
    engine::check(&df)
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

/// The rule code a fixture is for: `LI303-exec.Dockerfile` → `LI303`.
fn code_of(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.split(['-', '.'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Checks the `# fires:` / `# ok:` markers against the findings.
fn check_markers(code: &str, df: &Dockerfile, diags: &[Diagnostic]) {
    let (mut fires, mut oks) = (0, 0);
    for comment in &df.comments {
        let expect_fire = if comment.text.starts_with("fires:") {
            true
        } else if comment.text.starts_with("ok:") {
            false
        } else {
            continue;
        };
        let Some(ins) = df
            .instructions
            .iter()
            .find(|i| i.span.start > comment.span.end)
        else {
            panic!(
                "{code}: marker `{}` is not followed by an instruction",
                comment.text
            );
        };
        let hit = diags.iter().any(|d| ins.span.contains(&d.span.start));
        let (line, _) = df.line_index.line_col(&df.source, ins.span.start);
        if expect_fire {
            fires += 1;
            assert!(
                hit,
                "{code}: expected a finding on line {line} (`{}`)",
                comment.text
            );
        } else {
            oks += 1;
            assert!(
                !hit,
                "{code}: unexpected finding on line {line} (`{}`)",
                comment.text
            );
        }
    }
    assert!(fires + oks > 0, "{code}: fixture has no markers");
}

fn render(code: &str, src: &str) -> String {
    let df = parse(src);
    let diags: Vec<Diagnostic> = engine::check(&df)
        .into_iter()
        .filter(|d| d.code == code)
        .collect();
    check_markers(code, &df, &diags);
    let mut out = String::new();
    for d in &diags {
        let (l1, c1) = df.line_index.line_col(src, d.span.start);
        let (l2, c2) = df.line_index.line_col(src, d.span.end);
        out.push_str(&format!(
            "{} {l1}:{c1}-{l2}:{c2} {} {}\n",
            d.code,
            d.severity.as_str(),
            d.message
        ));
        match &d.fix {
            Some(f) => {
                let app = match f.applicability {
                    Applicability::Safe => "safe",
                    Applicability::Unsafe => "unsafe",
                };
                out.push_str(&format!("  fix ({app}): {}\n", f.message));
            }
            None => out.push_str("  fix: none\n"),
        }
    }
    let (fixed, n) = fix::apply_once(src, &diags, true);
    out.push_str(&format!("\n--- after applying {n} fix(es), one pass ---\n"));
    out.push_str(&fixed);
    out
}

#[test]
fn rule_fixtures() {
    insta::glob!("fixtures/lint/*.Dockerfile", |path| {
        let src = std::fs::read_to_string(path).expect("fixture is readable");
        let code = code_of(path);
        assert!(
            lambda_image::lint::registry::find(&code).is_some(),
            "fixture {path:?} names no rule"
        );
        insta::assert_snapshot!(render(&code, &src));
    });
}

/// The rule docs are user documentation (`lambda-image rule`, SARIF help): they cite public
/// sources, each reference a link, and never the project's own notes, which users do not have.
#[test]
fn rule_docs_cite_public_sources() {
    for rule in lambda_image::lint::registry::RULES {
        for private in ["domain.md", "design.md", "lint-rules.md", "§"] {
            assert!(
                !rule.doc.contains(private),
                "{}: the doc cites {private}",
                rule.code
            );
        }
        let references = rule.doc.split("## References").nth(1);
        let references = references.unwrap_or_else(|| panic!("{}: no References", rule.code));
        for line in references.lines().map(str::trim).filter(|l| !l.is_empty()) {
            assert!(
                line.starts_with("- [") && line.contains("](https://"),
                "{}: a reference that is not a link: {line}",
                rule.code
            );
        }
    }
}

/// One severity per rule, as ruff and hadolint have: what `rule --all`, SARIF's rule table and
/// every finding of the rule say agree (before any `severity:` override).
#[test]
fn every_finding_has_its_rules_severity() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let src = std::fs::read_to_string(&path).expect("fixture is readable");
        for d in engine::check(&parse(&src)) {
            let rule = lambda_image::lint::registry::find(d.code).expect("a registered code");
            assert_eq!(d.severity, rule.severity, "{}: {path:?}", d.code);
            seen += 1;
        }
    }
    assert!(seen > 50, "{seen}");
}

#[test]
fn every_rule_has_a_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    for rule in lambda_image::lint::registry::RULES {
        if rule.code == "LI001" {
            continue;
        }
        assert!(
            dir.join(format!("{}.Dockerfile", rule.code)).exists(),
            "no fixture for {}",
            rule.code
        );
    }
}

#[track_caller]
fn catches(code: &str, src: &str) {
    let d = findings(code, src);
    assert!(!d.is_empty(), "{code} should fire on:\n{src}");
}

#[track_caller]
fn catches_not(code: &str, src: &str) {
    let d = findings(code, src);
    assert!(d.is_empty(), "{code} should not fire on:\n{src}\n{d:#?}");
}

const PY312: &str = "FROM public.ecr.aws/lambda/python:3.12\n";
const PY311: &str = "FROM public.ecr.aws/lambda/python:3.11\n";
const AL2023: &str = "FROM amazonlinux:2023\n";

/// [`catches`] on a stage `FROM` the Python 3.12 Lambda base (AL2023 minimal).
fn catches_py(code: &str, rest: &str) {
    catches(code, &on(PY312, rest));
}

/// [`catches_not`] on a stage `FROM` the Python 3.12 Lambda base (AL2023 minimal).
fn catches_not_py(code: &str, rest: &str) {
    catches_not(code, &on(PY312, rest));
}

fn on(base: &str, rest: &str) -> String {
    format!("{base}{rest}")
}

#[test]
fn migration_rules_are_silent_on_al2() {
    for (code, run) in [
        ("LI101", "RUN yum install -y gcc && yum clean all"),
        (
            "LI104",
            "RUN yum groupinstall -y 'Development Tools' && yum clean all",
        ),
        (
            "LI105",
            "RUN yum localinstall -y /tmp/x.rpm && yum clean all",
        ),
        (
            "LI106",
            "RUN yum-config-manager --enable x && yum search jq",
        ),
        (
            "LI107",
            "RUN yum install -y -q --skip-broken gcc && yum clean all",
        ),
        (
            "LI108",
            "RUN yum install -y --setopt=install_weak_deps=False gcc",
        ),
        ("LI110", "RUN yum clean metadata"),
        ("LI111", "RUN yum install -y gcc && rm -rf /var/cache/dnf"),
        ("LI112", "RUN yum install -y curl"),
        ("LI113", "RUN yum install -y openssl11-devel"),
        ("LI114", "RUN find / -name x"),
        ("LI115", "RUN yum update -y"),
    ] {
        catches_not(code, &on(PY311, run));
        catches_not(code, &on("FROM amazonlinux:2\n", run));
    }
}

#[test]
fn global_arg_and_stage_alias_decide_the_class() {
    catches(
        "LI101",
        "ARG PY=3.12\nFROM public.ecr.aws/lambda/python:${PY} AS base\nFROM base\nRUN yum install -y gcc",
    );
    catches_not(
        "LI101",
        "ARG PY=3.11\nFROM public.ecr.aws/lambda/python:${PY} AS base\nFROM base\nRUN yum install -y gcc",
    );
    catches(
        "LI101",
        "FROM public.ecr.aws/lambda/python:3.12-arm64\nRUN yum install -y gcc",
    );
    catches(
        "LI101",
        "FROM amazon/aws-lambda-nodejs:20\nRUN yum install -y gcc",
    );
    catches_not("LI101", "FROM ${UNSET}\nRUN yum install -y gcc");
}

#[test]
fn onbuild_heredoc_and_sh_c_are_linted() {
    catches_py("LI101", "ONBUILD RUN yum install -y gcc");
    catches_py("LI101", "RUN <<EOF\nset -e\nyum install -y gcc\nEOF\n");
    catches_py("LI101", "RUN sh -c 'yum install -y gcc'");
    catches_py("LI101", "RUN bash -c \"yum install -y gcc\"");
    catches_py("LI201", "ONBUILD RUN dnf install -y gcc");
    catches_py(
        "LI108",
        "RUN <<EOF\ndnf install -y --setopt=install_weak_deps=False x\nEOF\n",
    );
}

#[test]
fn prefixes_are_looked_through() {
    catches_py("LI101", "RUN sudo yum install -y gcc");
    catches_py("LI101", "RUN env LANG=C yum install -y gcc");
    catches_py("LI101", "RUN command yum install -y gcc");
    catches_py(
        "LI108",
        "RUN sudo -E dnf install -y --setopt=install_weak_deps=False x",
    );
    catches_not_py("LI101", "RUN echo yum install -y gcc");
}

#[test]
fn option_spellings() {
    catches_py(
        "LI108",
        "RUN dnf install -y --setopt=install_weak_deps=False x",
    );
    catches_py(
        "LI108",
        "RUN dnf install -y --setopt install_weak_deps=False x",
    );
    catches_py(
        "LI108",
        "RUN dnf -y --setopt=install_weak_deps=true install x",
    );
    catches_not_py("LI108", "RUN dnf install -y --setopt=install_weak_deps=0 x");
    catches_not(
        "LI108",
        &on(
            AL2023,
            "RUN dnf install -y --setopt=install_weak_deps=False x",
        ),
    );
    catches_py("LI107", "RUN dnf install -y --exclude kernel x");
    catches_py("LI107", "RUN dnf --quiet install -y x");
    catches_py("LI107", "RUN microdnf install -y --nogpgcheck x");
    catches_not_py("LI107", "RUN dnf install -y --nodocs --best --refresh x");
    catches_py("LI109", "RUN dnf install -y --setopt=tsflags=noscripts x");
    catches_not_py("LI109", "RUN dnf install -y --setopt=tsflags=nodocs x");
}

#[test]
fn subcommand_aliases() {
    catches_py("LI104", "RUN dnf groups install -y 'Development Tools'");
    catches_py("LI106", "RUN dnf whatprovides libz.so.1");
    catches_py("LI106", "RUN dnf -y autoremove");
    catches_py("LI115", "RUN dnf up -y");
    catches_py("LI113", "RUN dnf in -y python2-pip");
    catches("LI202", &on(AL2023, "RUN dnf erase gcc"));
    catches_not("LI202", &on(AL2023, "RUN dnf repolist"));
    catches_not_py("LI106", "RUN dnf module enable -y nodejs:20");
}

#[test]
fn full_dnf_installed_over_microdnf_is_dnf4() {
    let swap = "RUN dnf remove -y microdnf-dnf && microdnf install -y dnf && microdnf clean all\n";
    let after = |run: &str| on(PY312, &format!("{swap}{run}"));
    for (code, run) in [
        (
            "LI104",
            "RUN dnf groupinstall -y development && dnf clean all",
        ),
        ("LI105", "RUN dnf install -y ./x.rpm && dnf clean all"),
        ("LI106", "RUN dnf config-manager --add-repo x"),
        (
            "LI107",
            "RUN dnf install -y --allowerasing -q curl && dnf clean all",
        ),
        (
            "LI108",
            "RUN dnf install -y --setopt=install_weak_deps=False x && dnf clean all",
        ),
        (
            "LI109",
            "RUN dnf install -y --setopt=skip_if_unavailable=1 x && dnf clean all",
        ),
        (
            "LI110",
            "RUN dnf install -y x && dnf clean packages && rm -rf /var/cache/dnf",
        ),
        ("LI111", "RUN dnf install -y x && rm -rf /var/cache/dnf"),
        (
            "LI112",
            "RUN dnf install -y --allowerasing curl && dnf clean all",
        ),
    ] {
        catches_py(code, run);
        catches_not(code, &after(run));
    }
    // dnf 4 caches in /var/cache/dnf and prompts without -y.
    catches(
        "LI201",
        &after("RUN dnf install -y x && rm -rf /var/cache/yum"),
    );
    catches("LI202", &after("RUN dnf install x && dnf clean all"));
    // yum is still missing; dnf 4 takes any yum command.
    let d = findings("LI101", &after("RUN yum groupinstall -y development"));
    assert!(d.iter().all(|d| d.fix.is_some()), "{d:#?}");
    // The microdnf program itself stays microdnf.
    catches(
        "LI107",
        &after("RUN microdnf install -y -q x && microdnf clean all"),
    );
}

#[test]
fn amazonlinux_minimal_is_microdnf() {
    // The AL2023 minimal container image has microdnf (cache in /var/cache/yum) and no yum.
    let min = "FROM public.ecr.aws/amazonlinux/amazonlinux:2023-minimal\n";
    catches(
        "LI111",
        &on(min, "RUN dnf install -y x && rm -rf /var/cache/dnf"),
    );
    catches("LI101", &on(min, "RUN yum install -y x && yum clean all"));
    catches(
        "LI104",
        &on(min, "RUN dnf groupinstall -y 'Development Tools'"),
    );
    catches("LI114", &on(min, "RUN find / -name x"));
    catches_not("LI303", &on(min, "RUN dnf install -y x && dnf clean all"));
    catches_not(
        "LI104",
        &on(AL2023, "RUN dnf groupinstall -y 'Development Tools'"),
    );
}

#[test]
fn cache_cleanup_is_not_asked_twice() {
    // LI110's safe fix turns `clean metadata` into `clean all`: LI201 offers no second one.
    for src in [
        on(PY312, "RUN yum install -y x && yum clean metadata"),
        on(
            PY312,
            "RUN <<EOF\ndnf install -y x\ndnf clean packages\nEOF",
        ),
    ] {
        let d = findings("LI201", &src);
        assert!(d.len() == 1 && d.iter().all(|d| d.fix.is_none()), "{d:#?}");
        catches("LI110", &src);
    }
    let d = findings(
        "LI201",
        &on(AL2023, "RUN dnf install -y x && dnf clean metadata"),
    );
    assert!(d.len() == 1 && d.iter().all(|d| d.fix.is_some()), "{d:#?}");
    // `yum` becomes `dnf` (LI101): removing /var/cache/dnf is LI111's business, as for dnf.
    let src = on(PY312, "RUN yum install -y x && rm -rf /var/cache/dnf");
    catches_not("LI201", &src);
    catches("LI111", &src);
    // Brace expansion.
    catches_not_py(
        "LI201",
        "RUN dnf install -y x && rm -rf /var/cache/{dnf,yum}",
    );
    catches_not_py(
        "LI111",
        "RUN dnf install -y x && rm -rf /var/cache/{dnf,yum}",
    );
    catches(
        "LI201",
        &on(
            AL2023,
            "RUN dnf install -y x && rm -rf /var/cache/{apt,yum}",
        ),
    );
}

#[test]
fn yum_and_its_cleanup_on_al2023_minimal_is_li101_alone() {
    // The cleanup is there and the step cannot run (no yum): LI101's fix turns both into dnf.
    for base in [
        PY312,
        "FROM public.ecr.aws/amazonlinux/amazonlinux:2023-minimal\n",
    ] {
        for run in [
            "RUN yum install -y gcc && yum clean all",
            "RUN yum -y install gcc \\\n && yum clean all",
            "RUN <<EOF\nyum install -y gcc\nyum clean all\nEOF\n",
            "RUN yum install -y gcc && yum clean all\"]",
            "RUN yum install -y \"gcc && yum clean all",
        ] {
            let src = on(base, &format!("{run}\nCMD [\"app.handler\"]\n"));
            let d = engine::check(&parse(&src));
            assert!(
                d.iter().all(|d| d.code == "LI101" && d.fix.is_some()) && !d.is_empty(),
                "{src}\n{d:#?}"
            );
        }
    }
    // Balanced quotes are read as the shell reads them: the cleanup is an argument.
    catches_py("LI201", "RUN yum install -y \"gcc && yum clean all\"");
}

#[test]
fn cache_cleanup_variants() {
    catches_py("LI201", "RUN dnf install -y x && rm -rf /tmp/x");
    catches_py("LI201", "RUN rm -rf /var/cache/yum && dnf install -y x");
    catches_not_py("LI201", "RUN dnf install -y x && microdnf clean all");
    catches_not_py("LI201", "RUN dnf install -y x && rm -rf /var/cache/*");
    catches_not_py(
        "LI201",
        "RUN --mount=type=cache,target=/var/cache dnf install -y x",
    );
    catches(
        "LI201",
        &on(
            AL2023,
            "RUN --mount=type=cache,target=/var/cache/yum dnf install -y x",
        ),
    );
    catches_not(
        "LI201",
        &on(AL2023, "RUN dnf install -y x && yum clean all"),
    );
    catches(
        "LI201",
        &on(
            "FROM amazonlinux:2\n",
            "RUN yum install -y x && rm -rf /var/cache/dnf",
        ),
    );
    catches_not("LI201", "FROM debian:12\nRUN dnf install -y x");
    catches_not_py(
        "LI111",
        "RUN dnf install -y x && rm -rf /var/cache/dnf /var/cache/yum",
    );
}

#[test]
fn lambda_image_rules() {
    catches_py("LI303", "CMD app.handler");
    catches_py("LI303", "CMD [\"a\", \"b\"]");
    catches_py("LI303", "CMD []");
    catches_not("LI303", PY312);
    catches("LI305", PY312);
    catches_py(
        "LI305",
        "CMD [\"app.handler\"]\nFROM public.ecr.aws/lambda/nodejs:20",
    );
    catches_not_py("LI305", "CMD app.handler");
    catches_not_py("LI305", "ENTRYPOINT [\"/main\"]");
    catches_not("LI305", "FROM ubuntu:22.04");
    catches_not_py("LI303", "CMD [\"app.handler\"]");
    catches_not_py("LI303", "ENTRYPOINT [\"/main\"]");
    catches_not("LI303", "FROM ubuntu:22.04\nCMD echo hi");
    catches_py(
        "LI303",
        "ENTRYPOINT [\"/lambda-entrypoint.sh\"]\nCMD [\"a\", \"b\"]",
    );
    catches(
        "LI304",
        "FROM public.ecr.aws/lambda/provided:al2023\nENTRYPOINT [\"./main\"]",
    );
    catches_not(
        "LI304",
        "FROM public.ecr.aws/lambda/provided:al2023\nENTRYPOINT [\"/var/task/main\"]",
    );
    catches("LI302", "FROM public.ecr.aws/lambda/provided\nCMD [\"x\"]");
    catches_not(
        "LI302",
        "FROM public.ecr.aws/lambda/provided:al2023\nCMD [\"x\"]",
    );
    catches(
        "LI301",
        "FROM public.ecr.aws/lambda/python:3.8-x86_64\nCMD [\"x\"]",
    );
}

#[test]
fn a_missing_cmd_is_a_warning_a_wrong_one_an_error() {
    let sev = |code: &str, src: &str| {
        findings(code, src)
            .first()
            .map(|d| d.severity.as_str())
            .unwrap_or("none")
    };
    assert_eq!(sev("LI305", PY312), "warning");
    assert_eq!(sev("LI303", &on(PY312, "CMD app.handler")), "error");
    assert_eq!(sev("LI303", &on(PY312, "CMD [\"a\", \"b\"]")), "error");
    assert_eq!(
        findings("LI115", &on(PY312, "RUN dnf upgrade -y"))
            .first()
            .map(|d| d.severity.as_str()),
        Some("info")
    );
}

#[test]
fn pragmas() {
    // Next-line pragma: only the instruction after it, only the named codes.
    catches_not_py(
        "LI101",
        "# lambda-image: ignore=LI101,LI201\nRUN yum install -y gcc",
    );
    catches_py(
        "LI101",
        "# lambda-image: ignore=LI201\nRUN yum install -y gcc",
    );
    catches_py(
        "LI101",
        "# lambda-image: ignore=LI101\nRUN echo\nRUN yum install -y gcc",
    );
    // Whole file.
    catches_not(
        "LI301",
        "# lambda-image: ignore-file=LI301\nFROM public.ecr.aws/lambda/python:3.11\nCMD [\"x\"]",
    );
    // hadolint codes we map.
    catches_not_py("LI201", "# hadolint ignore=DL3040\nRUN dnf install -y gcc");
    catches_not_py("LI201", "# hadolint ignore=DL3032\nRUN dnf install -y gcc");
    catches_not(
        "LI202",
        &on(
            AL2023,
            "# hadolint ignore=DL3038\nRUN dnf install gcc && dnf clean all",
        ),
    );
    catches_py("LI201", "# hadolint ignore=DL3041\nRUN dnf install -y gcc");
}

#[test]
fn summary_is_the_first_sentence_over_wrapped_lines() {
    let rule = |doc: &'static str| lambda_image::lint::Rule {
        doc,
        ..lambda_image::lint::registry::RULES[0]
    };
    let doc = " ## What it does\n Flags `yum` in a stage built on\n an AL2023 image. More text.\n\n ## Why\n x\n";
    assert_eq!(
        rule(doc).summary(),
        "Flags `yum` in a stage built on an AL2023 image."
    );
    assert_eq!(
        rule(" ## What it does\n Uses `a.b` here.\n").summary(),
        "Uses `a.b` here."
    );
    assert_eq!(rule(" ## Why\n x.\n").summary(), "");
}

#[test]
fn rule_docs_have_every_section() {
    use lambda_image::lint::FixAvailability;
    for rule in lambda_image::lint::registry::RULES {
        let summary = rule.summary();
        assert!(
            summary.ends_with('.') && !summary.is_empty(),
            "{}: `## What it does` must start with a whole sentence: {summary:?}",
            rule.code
        );
        for heading in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
            "## References",
        ] {
            assert!(rule.doc.contains(heading), "{}: no `{heading}`", rule.code);
        }
        assert_eq!(
            rule.doc.contains("## Fix safety"),
            rule.fix != FixAvailability::None,
            "{}: `## Fix safety` goes with a fix",
            rule.code
        );
    }
}

fn messages(code: &str, src: &str) -> Vec<String> {
    findings(code, src).into_iter().map(|d| d.message).collect()
}

#[test]
fn messages_name_the_base_as_resolved() {
    // Through a global ARG and a stage alias, to the image the stage really runs on.
    let m = messages(
        "LI101",
        "ARG AL=amazonlinux:2023-minimal\nFROM ${AL} AS base\nFROM base\nRUN yum install -y gcc && yum clean all\n",
    );
    assert_eq!(
        m.first().map(String::as_str),
        Some("`yum` does not exist in `amazonlinux:2023-minimal` (AL2023 minimal: microdnf, no yum), so the step exits 127; use `dnf install` (microdnf)")
    );
    let m = messages("LI106", &on(PY312, "RUN dnf search jq"));
    assert_eq!(
        m.first().map(String::as_str),
        Some("`dnf search` fails in `public.ecr.aws/lambda/python:3.12` (AL2023 minimal: microdnf, no yum) with `error: Unknown command`: microdnf does not have it; use `dnf repoquery <name>` instead")
    );
    // Once dnf 4 is installed over microdnf, the message says so.
    let m = messages(
        "LI101",
        &on(
            PY312,
            "RUN microdnf install -y dnf && microdnf clean all\nRUN yum search jq",
        ),
    );
    assert_eq!(
        m.first().map(String::as_str),
        Some("`yum` does not exist in `public.ecr.aws/lambda/python:3.12` (AL2023 minimal with dnf 4 installed over microdnf, no yum), so the step exits 127; use `dnf search` (the dnf 4 an earlier step installed)")
    );
    catches_py(
        "LI202",
        "RUN microdnf install -y dnf && microdnf clean all\nRUN dnf install gcc && dnf clean all",
    );
    let m = messages(
        "LI202",
        &on(PY312, "RUN microdnf install -y dnf && microdnf clean all\nRUN dnf install gcc && dnf clean all"),
    );
    assert!(
        m.iter()
            .all(|m| m.contains("(AL2023 minimal with dnf 4 installed over microdnf, no yum)")),
        "{m:#?}"
    );
}

#[test]
fn no_message_calls_amazonlinux_minimal_a_lambda_image() {
    let src = "FROM amazonlinux:2023-minimal\n\
        RUN yum install -y gcc && amazon-linux-extras install epel\n\
        RUN dnf groupinstall -y 'Development Tools' && dnf install -y ./x.rpm @core\n\
        RUN dnf config-manager --add-repo x && dnf install -y -q --setopt=install_weak_deps=False --setopt=x=1 curl openssl11\n\
        RUN dnf upgrade -y && dnf clean metadata && rm -rf /var/cache/dnf\n\
        RUN find / -name x\n";
    let df = parse(src);
    let diags = engine::check(&df);
    let codes: std::collections::BTreeSet<&str> = diags.iter().map(|d| d.code).collect();
    for code in [
        "LI101", "LI102", "LI103", "LI104", "LI105", "LI106", "LI107", "LI108", "LI109", "LI110",
        "LI111", "LI112", "LI113", "LI114", "LI115", "LI201",
    ] {
        assert!(codes.contains(code), "{code} does not fire: {codes:?}");
    }
    for d in &diags {
        assert!(!d.message.contains("Lambda"), "{}: {}", d.code, d.message);
        assert!(
            d.message
                .contains("`amazonlinux:2023-minimal` (AL2023 minimal: microdnf, no yum)"),
            "{}: {}",
            d.code,
            d.message
        );
    }
}

#[test]
fn li303_and_li305_suggest_the_handler_they_saw() {
    let first = |src: &str| {
        let mut d = findings("LI303", src);
        d.extend(findings("LI305", src));
        d.into_iter().map(|d| d.message).next().unwrap_or_default()
    };
    // A CMD in another stage, or one an ENTRYPOINT reset: its handler, with its line.
    let m = first(
        "FROM public.ecr.aws/lambda/java:21 AS a\nCMD [\"example.App::handleRequest\"]\nFROM public.ecr.aws/lambda/java:21\n",
    );
    assert!(
        m.ends_with("add `CMD [\"example.App::handleRequest\"]` (the handler of the `CMD` on line 2, which the final stage does not inherit)"),
        "{m}"
    );
    let m = first(
        "FROM public.ecr.aws/lambda/python:3.12 AS a\nCMD [\"app.lambda_handler\"]\nFROM a\nENTRYPOINT [\"/lambda-entrypoint.sh\"]\n",
    );
    assert!(m.contains("add `CMD [\"app.lambda_handler\"]`"), "{m}");
    // Nothing seen: a neutral placeholder, not a Python handler.
    let m = first("FROM public.ecr.aws/lambda/nodejs:20\n");
    assert!(m.ends_with("add `CMD [\"<handler>\"]`"), "{m}");
    // A build stage's CMD on a non-Lambda image is not a handler.
    let m = first(
        "FROM golang:1.24 AS build\nCMD [\"build\"]\nFROM public.ecr.aws/lambda/provided:al2023\n",
    );
    assert!(m.ends_with("add `CMD [\"<handler>\"]`"), "{m}");
    // Shell form: the word when it is one, or a handler-shaped first word, else the placeholder.
    let m = first(&on(PY312, "CMD app.handler --verbose"));
    assert!(m.ends_with("`CMD [\"app.handler\"]`"), "{m}");
    let m = first(&on(PY312, "CMD python3 app.py"));
    assert!(m.ends_with("`CMD [\"<handler>\"]`"), "{m}");
    let m = first(&on(PY312, "CMD bootstrap"));
    assert!(m.ends_with("`CMD [\"bootstrap\"]`"), "{m}");
}

// ---------------------------------------------------------------------------------------------
// What the file does not say: base aliases, build arguments, runtime targets

fn settings(yaml: &str) -> Settings {
    let config = config::parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    Settings::from_config(config, None)
}

fn checked(src: &str, settings: &Settings) -> lambda_image::lint::Checked {
    lint::check_file(src, settings).unwrap_or_else(|d| panic!("does not parse: {d:?}\n{src}"))
}

fn codes_of(checked: &lambda_image::lint::Checked) -> Vec<&'static str> {
    checked.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn a_private_mirror_is_read_through_base_aliases() {
    let src = "FROM registry.example.com/mirror/lambda/python:3.12\nRUN yum install -y gcc && yum clean all\nCMD [\"app.handler\"]\n";
    // Unknown: the migration rules are off, and the summary will say so.
    let plain = checked(src, &Settings::default());
    assert_eq!(codes_of(&plain), Vec::<&str>::new());
    assert_eq!(plain.unrecognised_bases.len(), 1);
    let aliased = settings(
        "lint:\n  base-aliases:\n    registry.example.com/mirror/lambda/: public.ecr.aws/lambda/\n",
    );
    let c = checked(src, &aliased);
    assert_eq!(codes_of(&c), ["LI101", "LI101"]);
    assert!(c.unrecognised_bases.is_empty());
    // The fix of LI301 keeps the mirror.
    let old = "FROM registry.example.com/mirror/lambda/nodejs:18\nCMD [\"index.handler\"]\n";
    let c = checked(old, &aliased);
    let fix = c.diagnostics.first().and_then(|d| d.fix.as_ref());
    assert!(
        fix.is_some_and(|f| f
            .message
            .contains("with `registry.example.com/mirror/lambda/nodejs:20`")),
        "{:#?}",
        c.diagnostics
    );
}

#[test]
fn build_args_resolve_from_as_the_build_would() {
    let src = "ARG BASE\nARG PY=3.12\nFROM ${BASE} AS app\nRUN yum install -y gcc && yum clean all\nFROM public.ecr.aws/lambda/python:${PY} AS other\nCMD [\"app.handler\"]\n";
    let plain = checked(src, &Settings::default());
    assert_eq!(codes_of(&plain), Vec::<&str>::new());
    assert_eq!(plain.unrecognised_bases.len(), 1);
    assert_eq!(
        plain.unrecognised_bases.first().map(|n| n.message.as_str()),
        Some("${BASE}")
    );
    let mut with_args = Settings::default();
    with_args.dockerfile.build_args = [
        ("BASE", "public.ecr.aws/lambda/python:3.13"),
        ("PY", "3.11"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let c = checked(src, &with_args);
    // The value of BASE, and PY's value winning over its default.
    assert_eq!(codes_of(&c), ["LI101", "LI101", "LI301"]);
    assert!(c.unrecognised_bases.is_empty());
    // A stage name works too, and the automatic platform ARGs can be given.
    with_args.dockerfile.build_args = [("BASE", "base"), ("TARGETARCH", "arm64")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let c = checked(
        "ARG BASE\nFROM amazonlinux:2023-minimal AS base\nFROM ${BASE}\nRUN yum install -y x && yum clean all\nFROM public.ecr.aws/lambda/python:3.11-${TARGETARCH}\nCMD [\"app.handler\"]\n",
        &with_args,
    );
    assert_eq!(codes_of(&c), ["LI101", "LI101", "LI301"]);
    let fix = c.diagnostics.last().and_then(|d| d.fix.as_ref());
    assert!(
        fix.is_none(),
        "the image is written with a variable: no fix"
    );
}

#[test]
fn runtime_targets_pick_the_li301_fix_and_the_fix_says_which() {
    let src = "FROM public.ecr.aws/lambda/python:3.11\nCMD [\"app.handler\"]\n";
    let message = |s: &Settings| {
        checked(src, s)
            .diagnostics
            .into_iter()
            .filter_map(|d| d.fix.map(|f| f.message))
            .next()
            .unwrap_or_default()
    };
    assert_eq!(
        message(&Settings::default()),
        "Replace `public.ecr.aws/lambda/python:3.11` with `public.ecr.aws/lambda/python:3.12` (the oldest AL2023 `python` image; `runtime-targets` in .lambda-image.yaml picks another)"
    );
    assert_eq!(
        message(&settings("lint:\n  runtime-targets: [python3.13]\n")),
        "Replace `public.ecr.aws/lambda/python:3.11` with `public.ecr.aws/lambda/python:3.13` (`python:3.13`, from `runtime-targets`)"
    );
    let fixed = fix::fix_until_stable_with(
        src,
        true,
        &|_| true,
        &settings("lint:\n  runtime-targets: [python3.14]\n").dockerfile,
    )
    .expect("fixes");
    assert!(
        fixed
            .source
            .starts_with("FROM public.ecr.aws/lambda/python:3.14\n"),
        "{}",
        fixed.source
    );
}

#[test]
fn known_non_amazon_bases_are_not_unrecognised() {
    let c = checked(
        "FROM golang:1.22 AS build\nFROM python:3.12-slim AS py\nFROM scratch AS s\nFROM build\nFROM public.ecr.aws/docker/library/node:20\n",
        &Settings::default(),
    );
    assert!(
        c.unrecognised_bases.is_empty(),
        "{:?}",
        c.unrecognised_bases
    );
    let c = checked(
        "FROM ghcr.io/example/base:1 AS a\nFROM a\nRUN make\nFROM public.ecr.aws/lambda/python:next\nONBUILD RUN make\nFROM ghcr.io/astral-sh/uv:0.9 AS uv\n",
        &Settings::default(),
    );
    let images: Vec<&str> = c
        .unrecognised_bases
        .iter()
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(
        images,
        [
            "ghcr.io/example/base:1",
            "public.ecr.aws/lambda/python:next"
        ]
    );
    // A stage that runs nothing (a copy or mount source) has nothing for the rules to miss.
    let c = checked(
        "FROM ghcr.io/astral-sh/uv:0.9 AS uv\nFROM public.ecr.aws/lambda/python:3.13\nRUN --mount=from=uv,source=/uv,target=/bin/uv uv pip install x\n",
        &Settings::default(),
    );
    assert!(
        c.unrecognised_bases.is_empty(),
        "{:?}",
        c.unrecognised_bases
    );
}

#[test]
fn pragmas_that_suppress_nothing_are_warned_about() {
    let src = "FROM public.ecr.aws/lambda/python:3.12\n# lambda-image: ignore=LI101,yum-not-available, LI999, li1, DL3040\nRUN yum install -y x\n# lambda-image: ignroe=LI201\n# lambda-image ignore=LI201\nRUN dnf install -y y\n# hadolint ignore=DL3008,DL3040\nCMD [\"app.handler\"]\n";
    let c = checked(src, &Settings::default());
    let warnings: Vec<String> = c
        .pragma_warnings
        .iter()
        .map(|n| format!("{} {}", src.get(n.span.clone()).unwrap_or(""), n.message))
        .collect();
    assert_eq!(warnings.len(), 6, "{warnings:#?}");
    for (warning, want) in warnings.iter().zip([
        "yum-not-available `yum-not-available` is a rule name, not a code: write `LI101`",
        "LI999 `LI999` is not a lambda-image rule code",
        "li1 `li1` is a code prefix",
        "DL3040 `DL3040` is a hadolint code: write `LI201`, or `# hadolint ignore=DL3040`",
        "# lambda-image: ignroe=LI201 `# lambda-image: ignroe=LI201` is not a pragma",
        "# lambda-image ignore=LI201 `# lambda-image ignore=LI201` is missing the colon",
    ]) {
        assert!(warning.starts_with(want), "{warning}\nwanted: {want}");
    }
    // The valid part of the first pragma still works; hadolint's own codes are hadolint's.
    assert!(!codes_of(&c).contains(&"LI101"), "{:?}", codes_of(&c));
}

// ---------------------------------------------------------------------------------------------
// LI306 secret-in-arg-or-env: which names are credentials, both sides of the heuristic

#[test]
fn credentials_in_arg_and_env() {
    let stage = |line: &str| on("FROM public.ecr.aws/lambda/python:3.13\n", line);
    for line in [
        "ARG NPM_TOKEN",
        "ARG CODEARTIFACT_AUTH_TOKEN",
        "ARG AWS_SECRET_ACCESS_KEY",
        "ARG AWS_SESSION_TOKEN",
        "ENV OPENAI_API_KEY=${OPENAI_API_KEY}",
        "ENV DB_PASSWORD hunter2",
        "ENV UV_INDEX_PRIVATE_PASSWORD=x",
        "ENV secretAccessKey=${secretAccessKey}",
        "ARG SSH_PRIVATE_KEY",
        "ARG GH_PAT",
        "ENV NPM_CONFIG__AUTH=dXNlcjpwYXNz",
        "ONBUILD ARG GITHUB_TOKEN",
        // A URL with a password, whatever the name.
        "ENV PIP_INDEX_URL=https://aws:${CODEARTIFACT_AUTH_TOKEN}@d.codeartifact.us-east-1.amazonaws.com/pypi/r/simple/",
        "ARG PIP_EXTRA_INDEX_URL=\"https://user:pass@pypi.example.com/simple\"",
        "ENV UV_INDEX_URL=https://${GITHUB_TOKEN}@example.com/simple",
        "ENV DATABASE_URL=postgres://app:secret@db:5432/app",
    ] {
        catches("LI306", &stage(line));
    }
    for line in [
        "ENV TOKENIZERS_PARALLELISM=false",
        "ENV SECRETS_MANAGER_ENDPOINT=https://secretsmanager.us-east-1.amazonaws.com",
        "ENV MAX_TOKENS=4096",
        "ENV DB_SECRET_ARN=arn:aws:secretsmanager:us-east-1:111122223333:secret:db",
        "ENV SECRET_NAME=prod/db",
        "ENV DB_PASSWORD_FILE=/run/secrets/db",
        "ENV TOKEN_URL=https://auth.example.com/token",
        "ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305",
        "ARG SSH_PUB_KEY",
        "ARG AWS_ACCESS_KEY_ID",
        "ARG PIP_INDEX_URL",
        "ENV PIP_INDEX_URL=https://pypi.example.com/simple",
        "RUN pip install --index-url https://pypi.example.com/simple x",
        "ENV AWS_SESSION_TOKEN=",
        "ARG PASSTHROUGH=1",
        "LABEL api_token=none",
        "# lambda-image: ignore=LI306\nARG NPM_TOKEN",
    ] {
        catches_not("LI306", &stage(line));
    }
    // Before the first FROM only a credential written in the default counts.
    catches_not(
        "LI306",
        "ARG NPM_TOKEN\nFROM public.ecr.aws/lambda/python:3.13\n",
    );
    catches(
        "LI306",
        "ARG IDX=https://u:p@pypi.example.com/simple\nFROM public.ecr.aws/lambda/python:3.13\n",
    );
    // One finding per credential, at its name; the message never repeats the value.
    let d = findings(
        "LI306",
        &stage("ENV A=1 NPM_TOKEN=abc123 DB_PASSWORD=hunter2"),
    );
    assert_eq!(d.len(), 2, "{d:#?}");
    let src = stage("ENV A=1 NPM_TOKEN=abc123 DB_PASSWORD=hunter2");
    assert_eq!(src.get(d[0].span.clone()), Some("NPM_TOKEN"));
    assert!(d
        .iter()
        .all(|d| !d.message.contains("abc123") && !d.message.contains("hunter2")));
    assert!(
        d[0].message
            .contains("`RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN …`")
            && d[0]
                .message
                .contains("`lambda-image build --secret id=npm_token,env=NPM_TOKEN`"),
        "{}",
        d[0].message
    );
}

// ---------------------------------------------------------------------------------------------
// LI203 syntax-directive-pull

#[test]
fn syntax_directive() {
    for src in [
        "# syntax=docker/dockerfile:1\nFROM public.ecr.aws/lambda/python:3.13\n",
        "# Syntax = docker/dockerfile:1.4\nFROM public.ecr.aws/lambda/python:3.13\n",
        "\u{feff}# escape=`\n# syntax=docker.io/docker/dockerfile:1.4.3\nFROM a\n",
    ] {
        let d = findings("LI203", src);
        assert_eq!(d.len(), 1, "{src}");
        assert_eq!(d[0].severity.as_str(), "info");
        assert!(d[0].fix.is_none());
    }
    // A comment before it, or an instruction: only a comment then.
    catches_not(
        "LI203",
        "# build me\n# syntax=docker/dockerfile:1\nFROM public.ecr.aws/lambda/python:3.13\n",
    );
    catches_not("LI203", "FROM a\n# syntax=docker/dockerfile:1\n");
    catches_not("LI203", "# check=skip=all\nFROM a\n");
    // Another registry is named as such.
    let m = messages(
        "LI203",
        "# syntax=123456789012.dkr.ecr.eu-west-1.amazonaws.com/dockerfile:1\nFROM a\n",
    );
    assert!(
        m[0].contains("from `123456789012.dkr.ecr.eu-west-1.amazonaws.com`"),
        "{m:?}"
    );
    // The next-line pragma cannot precede a directive; the file-wide one silences it.
    catches_not(
        "LI203",
        "# syntax=docker/dockerfile:1\n# lambda-image: ignore-file=LI203\nFROM a\n",
    );
}
