//! The Dockerfile front end: parser, RUN splitter, base-image classes, pragmas.

use lambda_image::dockerfile::{parse, Args, BaseClass, Dockerfile, Instruction, Keyword};

fn ok(src: &str) -> Dockerfile {
    match parse(src) {
        Ok(df) => df,
        Err(e) => panic!("parse failed: {} at {:?}\n{src}", e.message, e.span),
    }
}

fn err(src: &str) -> lambda_image::dockerfile::ParseError {
    match parse(src) {
        Ok(_) => panic!("expected a parse error for {src:?}"),
        Err(e) => e,
    }
}

fn at<'a>(df: &'a Dockerfile, span: &std::ops::Range<usize>) -> &'a str {
    df.source.get(span.clone()).unwrap_or("<bad span>")
}

fn shell_text(ins: &Instruction) -> &str {
    match &ins.args {
        Args::Shell(lt) => &lt.text,
        other => panic!("expected shell form, got {other:?}"),
    }
}

fn exec_values(ins: &Instruction) -> Vec<&str> {
    match &ins.args {
        Args::Exec(words) => words.iter().map(|w| w.value.as_str()).collect(),
        other => panic!("expected exec form, got {other:?}"),
    }
}

/// Every logical offset maps back to the same character in the source.
fn assert_map_exact(df: &Dockerfile, ins: &Instruction) {
    if let Args::Shell(lt) = &ins.args {
        for (i, c) in lt.text.char_indices() {
            let s = lt.to_source(i);
            let got = df.source.get(s..).and_then(|t| t.chars().next());
            assert_eq!(
                got,
                Some(c),
                "logical {i} of {:?} maps to source {s}",
                lt.text
            );
        }
    }
}

mod parser {
    use super::*;

    #[test]
    fn arg_and_env_key_values_with_spans() {
        use lambda_image::dockerfile::key_values;
        let src = "FROM a\nARG A B=\"x y\" \\\n  C=${T}\nENV D e f\nENV G=1 H=\nONBUILD ENV I=2\nRUN J=3\n";
        let df = ok(src);
        let kv = |i: usize| {
            let ins = df.instructions.get(i).expect("instruction");
            key_values(ins, df.escape)
                .into_iter()
                .map(|kv| {
                    let value = kv.value_span.as_ref().map(|s| at(&df, s).to_string());
                    (at(&df, &kv.name_span).to_string(), kv.value, value)
                })
                .collect::<Vec<_>>()
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            kv(1),
            [
                ("A".into(), None, None),
                ("B".into(), s("x y"), s("\"x y\"")),
                ("C".into(), s("${T}"), s("${T}")),
            ]
        );
        assert_eq!(kv(2), [("D".into(), s("e f"), s("e f"))]);
        assert_eq!(
            kv(3),
            [("G".into(), s("1"), s("1")), ("H".into(), s(""), s(""))]
        );
        assert_eq!(kv(4), [("I".into(), s("2"), s("2"))]);
        assert!(kv(5).is_empty());
    }

    #[test]
    fn continuation_joins_lines_and_drops_comment_and_blank_lines() {
        let src = "FROM alpine\nRUN apk add \\\n    # a comment inside\n\n    curl \\   \n    git\nCMD x\n";
        let df = ok(src);
        let run = &df.instructions[1];
        assert_eq!(run.keyword, Keyword::Run);
        assert_eq!(shell_text(run), "apk add     curl     git");
        assert_map_exact(&df, run);
        assert_eq!(
            at(&df, &run.span),
            "RUN apk add \\\n    # a comment inside\n\n    curl \\   \n    git"
        );
        assert_eq!(df.comments.len(), 1);
        assert_eq!(df.comments[0].text, "a comment inside");
        assert_eq!(at(&df, &df.comments[0].span), "# a comment inside");
        assert_eq!(df.instructions[2].keyword, Keyword::Cmd);
    }

    #[test]
    fn continuation_at_end_of_file() {
        let df = ok("FROM a\nRUN echo \\");
        assert_eq!(shell_text(&df.instructions[1]), "echo");
    }

    #[test]
    fn double_escape_at_end_is_not_a_continuation() {
        let df = ok("FROM a\nRUN echo \\\\\nCMD x\n");
        assert_eq!(df.instructions.len(), 3);
        assert_eq!(shell_text(&df.instructions[1]), "echo \\\\");
    }

    #[test]
    fn crlf_and_bom() {
        let src = "\u{feff}# syntax=docker/dockerfile:1\r\nfrom alpine:3 AS Base\r\nRun echo a \\\r\n  b\r\n";
        let df = ok(src);
        assert_eq!(df.directives.len(), 1);
        assert_eq!(df.directives[0].name, "syntax");
        assert_eq!(df.directives[0].value, "docker/dockerfile:1");
        assert_eq!(df.stages[0].name.as_deref(), Some("base"));
        assert_eq!(at(&df, &df.instructions[0].keyword_span), "from");
        let run = &df.instructions[1];
        assert_eq!(shell_text(run), "echo a   b");
        assert_map_exact(&df, run);
        assert_eq!(at(&df, &run.span), "Run echo a \\\r\n  b");
    }

    #[test]
    fn backtick_escape_directive() {
        let src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ `\n    && echo hi\n";
        let df = ok(src);
        assert_eq!(df.escape, '`');
        assert_eq!(shell_text(&df.instructions[1]), "dir C:\\     && echo hi");
    }

    #[test]
    fn directive_scanning_stops_at_the_first_other_line() {
        let df = ok("# a comment\n# escape=`\nFROM a\nRUN x \\\n  y\n");
        assert!(df.directives.is_empty());
        assert_eq!(df.escape, '\\');
        assert_eq!(shell_text(&df.instructions[1]), "x   y");
        let df = ok("# check=skip=all\n# syntax=docker/dockerfile:1.7\n\n# escape=`\nFROM a\n");
        let names: Vec<&str> = df.directives.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["check", "syntax"]);
    }

    #[test]
    fn bad_directives_are_errors() {
        let e = err("# escape=x\nFROM a\n");
        assert!(e.message.contains("invalid escape token"), "{}", e.message);
        let e = err("# syntax=a\n# syntax=b\nFROM a\n");
        assert_eq!(e.message, "only one syntax parser directive can be used");
    }

    #[test]
    fn json_form_and_fallback_to_shell_form() {
        let src = "FROM a\nCMD [\"app.handler\"]\nENTRYPOINT []\nRUN [\"yum\", \"install\", \"-y\", \"x\"]\nCMD [app.handler]\nCMD [\"a\"] trailing\nRUN [\"a\\\"b\", \"\\u00e9\"]\n";
        let df = ok(src);
        let cmd = &df.instructions[1];
        assert_eq!(exec_values(cmd), ["app.handler"]);
        if let Args::Exec(w) = &cmd.args {
            assert_eq!(at(&df, &w[0].span), "\"app.handler\"");
        }
        assert!(exec_values(&df.instructions[2]).is_empty());
        assert_eq!(
            exec_values(&df.instructions[3]),
            ["yum", "install", "-y", "x"]
        );
        assert_eq!(shell_text(&df.instructions[4]), "[app.handler]");
        assert_eq!(shell_text(&df.instructions[5]), "[\"a\"] trailing");
        assert_eq!(exec_values(&df.instructions[6]), ["a\"b", "é"]);
    }

    #[test]
    fn json_array_of_non_strings_is_an_error() {
        let src = "FROM a\nCMD [\"a\", 1]\n";
        let e = err(src);
        assert!(e
            .message
            .contains("arrays must be comprised of strings only"));
        assert_eq!(&src[e.span], "[\"a\", 1]");
    }

    #[test]
    fn shell_and_entrypoint_cleared_healthcheck_bare() {
        let df = ok("FROM a\nSHELL []\nENTRYPOINT []\nHEALTHCHECK\nHEALTHCHECK NONE\nCMD []\n");
        assert!(exec_values(&df.instructions[1]).is_empty());
        assert!(matches!(df.instructions[3].args, Args::None));
        assert_eq!(shell_text(&df.instructions[4]), "NONE");
    }

    #[test]
    fn flags_before_arguments() {
        let src = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM scratch\nCOPY --from=build --chown=1000:1000 --link /out /app\nRUN --mount=type=cache,target=/var/cache/dnf --network=none dnf -y install x\n";
        let df = ok(src);
        assert_eq!(df.stages[0].platform.as_deref(), Some("$BUILDPLATFORM"));
        let copy = &df.instructions[2];
        let names: Vec<(&str, Option<&str>)> = copy
            .flags
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("from", Some("build")),
                ("chown", Some("1000:1000")),
                ("link", None)
            ]
        );
        assert_eq!(at(&df, &copy.flags[1].span), "--chown=1000:1000");
        assert_eq!(shell_text(copy), "/out /app");
        let run = &df.instructions[3];
        assert_eq!(
            run.flags[0].value.as_deref(),
            Some("type=cache,target=/var/cache/dnf")
        );
        assert_eq!(shell_text(run), "dnf -y install x");
    }

    #[test]
    fn onbuild_wraps_an_instruction() {
        let src = "FROM a\nONBUILD RUN yum install -y x\nONBUILD run [\"a\"]\n";
        let df = ok(src);
        let inner = df.instructions[1].onbuild.as_deref().expect("inner");
        assert_eq!(inner.keyword, Keyword::Run);
        assert_eq!(shell_text(inner), "yum install -y x");
        assert_eq!(at(&df, &inner.span), "RUN yum install -y x");
        assert_eq!(at(&df, &inner.keyword_span), "RUN");
        let inner = df.instructions[2].onbuild.as_deref().expect("inner");
        assert_eq!(exec_values(inner), ["a"]);
        for (src, msg) in [
            ("FROM a\nONBUILD ONBUILD RUN x\n", "Chaining ONBUILD"),
            (
                "FROM a\nONBUILD FROM x\n",
                "FROM isn't allowed as an ONBUILD trigger",
            ),
            (
                "FROM a\nONBUILD\n",
                "ONBUILD requires at least one argument",
            ),
            ("FROM a\nONBUILD FOO x\n", "unknown instruction: FOO"),
        ] {
            let e = err(src);
            assert!(e.message.starts_with(msg), "{src:?}: {}", e.message);
        }
    }

    #[test]
    fn heredocs() {
        let src = "FROM a\nRUN <<EOF\nyum install -y x\nyum clean all\nEOF\nCOPY <<-'A' /a <<\"B\" /b\n\tbody a $X\n\tA\nbody b\nB\nRUN cat <<EOF > /x && echo done\nhello\nEOF\nCMD x\n";
        let df = ok(src);
        let run = &df.instructions[1];
        assert_eq!(run.heredocs.len(), 1);
        let h = &run.heredocs[0];
        assert_eq!(h.delimiter, "EOF");
        assert!(h.expand && !h.strip_tabs);
        assert_eq!(h.body, "yum install -y x\nyum clean all\n");
        assert_eq!(at(&df, &h.body_span), h.body);
        assert_eq!(
            at(&df, &run.span),
            "RUN <<EOF\nyum install -y x\nyum clean all\nEOF"
        );
        let copy = &df.instructions[2];
        let docs: Vec<(&str, bool, bool, &str)> = copy
            .heredocs
            .iter()
            .map(|h| {
                (
                    h.delimiter.as_str(),
                    h.expand,
                    h.strip_tabs,
                    h.body.as_str(),
                )
            })
            .collect();
        assert_eq!(
            docs,
            [
                ("A", false, true, "\tbody a $X\n"),
                ("B", false, false, "body b\n")
            ]
        );
        assert_eq!(df.instructions[3].heredocs[0].body, "hello\n");
        assert_eq!(df.instructions[4].keyword, Keyword::Cmd);
    }

    #[test]
    fn heredoc_look_alikes_are_not_heredocs() {
        let df = ok("FROM a\nRUN echo \"<<EOF\" <<<x cat<<EOF\nCMD [\"<<EOF\"]\nCOPY <<'' /x\n");
        assert!(df.instructions.iter().all(|i| i.heredocs.is_empty()));
        assert_eq!(df.instructions.len(), 4);
    }

    #[test]
    fn unterminated_heredoc_is_an_error() {
        let src = "FROM a\nRUN <<EOF\necho hi\n";
        let e = err(src);
        assert!(
            e.message.starts_with("unterminated heredoc"),
            "{}",
            e.message
        );
        assert_eq!(&src[e.span], "<<EOF");
    }

    #[test]
    fn heredoc_on_onbuild_run() {
        let df = ok("FROM a\nONBUILD RUN <<EOF\nyum install x\nEOF\n");
        let outer = &df.instructions[1];
        let inner = outer.onbuild.as_deref().expect("inner");
        assert_eq!(inner.heredocs.len(), 1);
        assert_eq!(inner.heredocs[0].body, "yum install x\n");
        assert_eq!(outer.span.end, df.source.len() - 1);
    }

    #[test]
    fn stages_names_parents_and_arg_substitution() {
        let src = "ARG PY=3.12\nARG REG=public.ecr.aws/lambda\nARG SUFFIX\nFROM ${REG}/python:${PY} AS Build\nRUN x\nFROM build AS final\nFROM $REG/python:${PY}${SUFFIX}\nFROM ${REG}/nodejs:${NODE:-18}\nFROM python:${PY:+3.11}\n";
        let df = ok(src);
        let s = &df.stages;
        assert_eq!(s.len(), 5);
        assert_eq!(s[0].name.as_deref(), Some("build"));
        assert_eq!(
            s[0].image.as_deref(),
            Some("public.ecr.aws/lambda/python:3.12")
        );
        assert_eq!(s[0].image_raw, "${REG}/python:${PY}");
        assert_eq!(at(&df, &s[0].image_span), "${REG}/python:${PY}");
        assert_eq!(s[0].class, BaseClass::LambdaAl2023);
        assert_eq!(s[0].instructions, 3..5);
        assert_eq!(s[1].parent, Some(0));
        assert_eq!(s[1].class, BaseClass::LambdaAl2023, "inherited from build");
        assert_eq!(s[2].image, None, "SUFFIX has no default");
        assert_eq!(s[2].class, BaseClass::Unknown);
        assert_eq!(
            s[3].image.as_deref(),
            Some("public.ecr.aws/lambda/nodejs:18")
        );
        assert_eq!(s[4].image.as_deref(), Some("python:3.11"));
        assert_eq!(df.instructions[0].stage, None);
        assert_eq!(df.instructions[4].stage, Some(0));
        assert_eq!(df.instructions[5].stage, Some(1));
    }

    #[test]
    fn structural_errors_carry_spans() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "FROM a\nOTHER foo bar\n",
                "unknown instruction: OTHER",
                "OTHER",
            ),
            (
                "FROM a\n<<<<<<< HEAD\n",
                "unknown instruction: <<<<<<<",
                "<<<<<<<",
            ),
            (
                "RUN x\nFROM a\n",
                "no build stage in current context",
                "RUN",
            ),
            (
                "FROM\n",
                "FROM requires either one or three arguments",
                "FROM",
            ),
            (
                "FROM a b\n",
                "FROM requires either one or three arguments",
                "a b",
            ),
            (
                "FROM {{ x }}\n",
                "FROM requires either one or three arguments",
                "{{ x }}",
            ),
            ("FROM {{x}}\n", "invalid reference format", "{{x}}"),
            (
                "ARG X={{x}}\nFROM ${X}\n",
                "invalid reference format",
                "${X}",
            ),
            ("FROM Ubuntu\n", "invalid reference format", "Ubuntu"),
            ("FROM a AS 1x\n", "invalid name for build stage", "1x"),
            (
                "FROM a\nCOPY x\n",
                "COPY requires at least two arguments",
                "COPY x",
            ),
            ("FROM a\nENV X\n", "ENV must have two arguments", "ENV X"),
            ("", "file with no instructions", ""),
            ("# only a comment\n", "file with no instructions", ""),
            ("ARG X=1\n", "the Dockerfile has no FROM", ""),
        ];
        for (src, msg, spanned) in cases {
            let e = err(src);
            assert!(e.message.starts_with(msg), "{src:?}: {}", e.message);
            assert_eq!(
                src.get(e.span.clone()),
                Some(*spanned),
                "{src:?}: span {:?}",
                e.span
            );
            assert!(!e.message.contains('\n'));
        }
    }

    #[test]
    fn unresolved_from_variable_is_not_an_error() {
        let df = ok("ARG BASE\nFROM ${BASE}\nFROM $UNDECLARED:1\nFROM --platform=$TARGETPLATFORM python:3.12-${TARGETARCH}\n");
        assert!(df
            .stages
            .iter()
            .all(|s| s.image.is_none() && s.class == BaseClass::Unknown));
    }

    #[test]
    fn duplicate_stage_names_resolve_to_the_latest() {
        // BuildKit only warns (build check DuplicateStageName).
        let df = ok("FROM amazonlinux:2 AS x\nFROM amazonlinux:2023 AS x\nFROM x\n");
        assert_eq!(df.stages[2].parent, Some(1));
        assert_eq!(df.stages[2].class, BaseClass::AmazonLinux2023);
    }

    #[test]
    fn random_input_never_panics() {
        // A deterministic xorshift over bytes that matter to the grammar.
        let alphabet: &[u8] = b"FROMRUNCOPYADDONBUILDCMD \t\n\r\\`#[]\"',<<-EOF${}:=@/.-ASx1";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let len = (state % 120) as usize;
            let mut text = String::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let b = alphabet[(state % alphabet.len() as u64) as usize];
                text.push(b as char);
            }
            if state.is_multiple_of(3) {
                text.insert_str(0, "FROM a\n");
            }
            if let Ok(df) = parse(&text) {
                for ins in &df.instructions {
                    assert!(df.source.get(ins.span.clone()).is_some(), "{text:?}");
                    let target = ins.onbuild.as_deref().unwrap_or(ins);
                    for c in lambda_image::dockerfile::shell::split_run(&df, target) {
                        for w in &c.words {
                            assert!(df.source.get(w.span.clone()).is_some(), "{text:?}");
                        }
                    }
                }
            }
        }
    }
}

mod splitter {
    use super::*;
    use lambda_image::dockerfile::shell::split_run;
    use lambda_image::dockerfile::Command;

    /// (program name, argv values) of every command of the RUN at `index`.
    fn commands(df: &Dockerfile, index: usize) -> Vec<Command> {
        let ins = &df.instructions[index];
        split_run(df, ins.onbuild.as_deref().unwrap_or(ins))
    }

    fn argvs(cmds: &[Command]) -> Vec<Vec<&str>> {
        cmds.iter()
            .map(|c| c.argv().iter().map(|w| w.value.as_str()).collect())
            .collect()
    }

    /// Every word's span holds the word as written.
    fn assert_spans(df: &Dockerfile, cmds: &[Command], written: &[&[&str]]) {
        let got: Vec<Vec<&str>> = cmds
            .iter()
            .map(|c| c.words.iter().map(|w| at(df, &w.span)).collect())
            .collect();
        let want: Vec<Vec<&str>> = written.iter().map(|w| w.to_vec()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn operators_split_commands() {
        let df = ok("FROM a\nRUN yum install -y a&&yum clean all || true; echo x | tee y & wait\n");
        let cmds = commands(&df, 1);
        assert_eq!(
            argvs(&cmds),
            [
                vec!["yum", "install", "-y", "a"],
                vec!["yum", "clean", "all"],
                vec!["true"],
                vec!["echo", "x"],
                vec!["tee", "y"],
                vec!["wait"],
            ]
        );
        assert_eq!(at(&df, &cmds[1].span), "yum clean all");
        assert_eq!(cmds[0].name(), Some("yum"));
    }

    #[test]
    fn quotes_escapes_and_substitutions() {
        let src =
            "FROM a\nRUN echo 'a b' \"c \\\"d\\\" $X\" e\\ f $(uname -m) ${Y:-z w} `date +%s`\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        assert_eq!(
            argvs(&cmds),
            [vec![
                "echo",
                "a b",
                "c \"d\" $X",
                "e f",
                "$(uname -m)",
                "${Y:-z w}",
                "`date +%s`"
            ]]
        );
        assert_spans(
            &df,
            &cmds,
            &[&[
                "echo",
                "'a b'",
                "\"c \\\"d\\\" $X\"",
                "e\\ f",
                "$(uname -m)",
                "${Y:-z w}",
                "`date +%s`",
            ]],
        );
        let w = &cmds[0].words;
        assert!(w[1].quoted && w[2].quoted && !w[3].quoted);
    }

    #[test]
    fn continuation_lines_map_words_into_the_source() {
        let src = "FROM a\nRUN yum install -y \\\n    # comment\n    httpd \\\n    mod_ssl && \\\n    yum clean all\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        assert_spans(
            &df,
            &cmds,
            &[
                &["yum", "install", "-y", "httpd", "mod_ssl"],
                &["yum", "clean", "all"],
            ],
        );
    }

    #[test]
    fn array_assignments_stay_one_word() {
        let df = ok("FROM a\nRUN LIST=(\"a b\" c) && rpm -i \"${LIST[@]}\"\n");
        let cmds = commands(&df, 1);
        assert_eq!(argvs(&cmds), [vec![], vec!["rpm", "-i", "${LIST[@]}"]]);
        assert_eq!(at(&df, &cmds[0].words[0].span), "LIST=(\"a b\" c)");
    }

    #[test]
    fn redirections_are_not_words() {
        let df =
            ok("FROM a\nRUN yum install -y x > /dev/null 2>&1 && cat <in >>out 2> err &>all\n");
        assert_eq!(
            argvs(&commands(&df, 1)),
            [vec!["yum", "install", "-y", "x"], vec!["cat"]]
        );
    }

    #[test]
    fn groups_subshells_and_keywords() {
        let src = "FROM a\nRUN if [ -f /x ]; then yum -y install a; else dnf -y install b; fi && (cd /x && make) && { echo a; echo b; } && for p in a b; do rpm -q $p; done && while true; do break; done && ! false\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        let names: Vec<&str> = cmds.iter().filter_map(|c| c.name()).collect();
        assert_eq!(
            names,
            ["[", "yum", "dnf", "cd", "make", "echo", "echo", "rpm", "true", "break", "false"]
        );
    }

    #[test]
    fn case_patterns_are_skipped() {
        let src = "FROM a\nRUN case \"$(uname -m)\" in x86_64|amd64) ARCH=x64 ;; aarch64) yum -y install a ;; *) exit 1 ;; esac && echo done\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        let names: Vec<Option<&str>> = cmds.iter().map(|c| c.name()).collect();
        assert_eq!(names, [None, Some("yum"), Some("exit"), Some("echo")]);
    }

    #[test]
    fn prefixes_are_looked_through() {
        let src = "FROM a\nRUN sudo -E -u root yum -y install a && env -i PATH=/bin X=1 /usr/bin/dnf install b && command yum check && DEBIAN=1 LANG=C exec time nice -n 5 microdnf install c && command -v yum && sudo --user=x -- yum x\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        let names: Vec<Option<&str>> = cmds.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                Some("yum"),
                Some("dnf"),
                Some("yum"),
                Some("microdnf"),
                Some("command"),
                Some("yum")
            ]
        );
        assert_eq!(cmds[0].program, 4);
        assert_eq!(cmds[1].argv()[0].value, "/usr/bin/dnf");
        assert_eq!(cmds[3].program, 7);
    }

    #[test]
    fn sh_c_scripts_are_split_with_exact_spans() {
        let src = "FROM a\nRUN sh -c 'yum install -y a && yum clean all' && bash -xec \"dnf -y install \\\"b\\\"; rm -rf /var/cache/dnf\" && /bin/sh -c yum\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        assert_eq!(
            argvs(&cmds),
            [
                vec!["sh", "-c", "yum install -y a && yum clean all"],
                vec!["yum", "install", "-y", "a"],
                vec!["yum", "clean", "all"],
                vec![
                    "bash",
                    "-xec",
                    "dnf -y install \"b\"; rm -rf /var/cache/dnf"
                ],
                vec!["dnf", "-y", "install", "b"],
                vec!["rm", "-rf", "/var/cache/dnf"],
                vec!["/bin/sh", "-c", "yum"],
                vec!["yum"],
            ]
        );
        assert_eq!(at(&df, &cmds[1].span), "yum install -y a");
        assert_eq!(at(&df, &cmds[2].words[2].span), "all");
        assert_eq!(at(&df, &cmds[4].words[3].span), "\\\"b\\\"");
        assert_eq!(at(&df, &cmds[5].words[2].span), "/var/cache/dnf");
        assert_eq!(at(&df, &cmds[7].span), "yum");
    }

    #[test]
    fn sh_c_is_split_one_level_only() {
        let df = ok("FROM a\nRUN sh -c \"bash -c 'yum x'\"\n");
        let cmds = commands(&df, 1);
        assert_eq!(
            argvs(&cmds),
            [
                vec!["sh", "-c", "bash -c 'yum x'"],
                vec!["bash", "-c", "yum x"]
            ]
        );
    }

    #[test]
    fn exec_form() {
        let src = "FROM a\nRUN [\"yum\", \"install\", \"-y\", \"x\"]\nRUN [\"/bin/sh\", \"-c\", \"yum -y install a && yum clean all\"]\nRUN [\"sh\", \"-c\", \"echo \\\"q\\\" && yum x\"]\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        assert_eq!(argvs(&cmds), [vec!["yum", "install", "-y", "x"]]);
        assert_eq!(at(&df, &cmds[0].words[3].span), "\"x\"");
        let cmds = commands(&df, 2);
        assert_eq!(
            argvs(&cmds)[1..],
            [
                vec!["yum", "-y", "install", "a"],
                vec!["yum", "clean", "all"]
            ]
        );
        assert_eq!(at(&df, &cmds[2].span), "yum clean all");
        let cmds = commands(&df, 3);
        assert_eq!(argvs(&cmds)[1..], [vec!["echo", "q"], vec!["yum", "x"]]);
        assert_eq!(at(&df, &cmds[1].words[1].span), "\\\"q\\\"");
        assert_eq!(at(&df, &cmds[2].span), "yum x");
    }

    #[test]
    fn heredoc_bodies_are_split_when_they_are_the_script() {
        let src = "FROM a\nRUN <<EOF\nset -e\n# install\nyum install -y \\\n  a b\nyum clean all\nEOF\nRUN bash -ex <<'SCRIPT'\ndnf -y install c\nSCRIPT\nRUN python3 <<EOF\nimport os\nEOF\nRUN cat <<EOF > /etc/x.repo\n[x]\nname=x\nEOF\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nRUN <<EOF\ncat > /f <<INNER\nyum is data here\nINNER\nmicrodnf install d\nEOF\n";
        let df = ok(src);
        let cmds = commands(&df, 1);
        assert_eq!(
            argvs(&cmds),
            [
                vec!["set", "-e"],
                vec!["yum", "install", "-y", "a", "b"],
                vec!["yum", "clean", "all"]
            ]
        );
        assert_spans(
            &df,
            &cmds,
            &[
                &["set", "-e"],
                &["yum", "install", "-y", "a", "b"],
                &["yum", "clean", "all"],
            ],
        );
        assert_eq!(
            argvs(&commands(&df, 2)),
            [vec!["bash", "-ex"], vec!["dnf", "-y", "install", "c"]]
        );
        assert_eq!(argvs(&commands(&df, 3)), [vec!["python3"]]);
        assert_eq!(argvs(&commands(&df, 4)), [vec!["cat"]]);
        assert!(commands(&df, 5).is_empty());
        assert_eq!(
            argvs(&commands(&df, 6)),
            [vec!["cat"], vec!["microdnf", "install", "d"]]
        );
    }

    #[test]
    fn powershell_and_cmd_runs_are_not_split() {
        let src = "FROM a AS win\nSHELL [\"powershell\", \"-Command\"]\nRUN Write-Host hi; yum\nFROM win\nRUN Get-Item x\nSHELL [\"/bin/bash\", \"-c\"]\nRUN yum x\nFROM b\nSHELL [\"cmd.exe\", \"/S\", \"/C\"]\nRUN dir\nRUN [\"yum\"]\n";
        let df = ok(src);
        assert!(commands(&df, 2).is_empty());
        assert!(commands(&df, 4).is_empty(), "inherited from stage win");
        assert_eq!(argvs(&commands(&df, 6)), [vec!["yum", "x"]]);
        assert!(commands(&df, 9).is_empty());
        assert_eq!(
            argvs(&commands(&df, 10)),
            [vec!["yum"]],
            "exec form runs no shell"
        );
    }

    #[test]
    fn onbuild_run_and_non_run_instructions() {
        let df = ok("FROM a\nONBUILD RUN yum -y install x\nCMD yum x\n");
        assert_eq!(
            argvs(&commands(&df, 1)),
            [vec!["yum", "-y", "install", "x"]]
        );
        assert!(commands(&df, 2).is_empty());
    }

    #[test]
    fn crlf_heredoc_and_backtick_escape() {
        let df = ok("FROM a\r\nRUN <<EOF\r\nyum -y install a\r\nEOF\r\n");
        let cmds = commands(&df, 1);
        assert_eq!(argvs(&cmds), [vec!["yum", "-y", "install", "a"]]);
        assert_eq!(at(&df, &cmds[0].span), "yum -y install a");
        let df = ok("# escape=`\nFROM a\nRUN yum -y install a `\n  && echo C:\\x\n");
        let cmds = commands(&df, 1);
        assert_eq!(
            argvs(&cmds),
            [vec!["yum", "-y", "install", "a"], vec!["echo", "C:x"]]
        );
    }
}

mod no_panics {
    use lambda_image::dockerfile::{parse, pragma, shell::split_run};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn parse_split_and_pragmas_never_panic(
            body in "[ -~\t\n\r\u{e9}\u{feff}\u{a0}]{0,160}",
            prefix in prop::sample::select(vec!["", "FROM a\n", "# escape=`\nFROM a\n", "FROM a\nRUN <<EOF\n", "FROM a\nRUN sh -c \""]),
        ) {
            let text = format!("{prefix}{body}");
            if let Ok(df) = parse(&text) {
                let _ = pragma::pragmas(&df);
                for ins in &df.instructions {
                    prop_assert!(df.source.get(ins.span.clone()).is_some());
                    let target = ins.onbuild.as_deref().unwrap_or(ins);
                    for c in split_run(&df, target) {
                        for w in &c.words {
                            prop_assert!(df.source.get(w.span.clone()).is_some());
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_quote_never_closed_is_marked_on_its_word() {
    use lambda_image::dockerfile::shell::split_run;
    let src =
        "FROM a\nRUN yum -y install libxml2-dr\"]\nRUN echo 'a' \"b\" $'c'\nRUN echo 'x && y\n";
    let df = ok(src);
    let open = |i: usize| -> Vec<Option<usize>> {
        split_run(&df, &df.instructions[i])
            .iter()
            .flat_map(|c| c.words.iter().map(|w| w.open_quote))
            .collect()
    };
    let quote = src.find('"');
    assert_eq!(open(1), [None, None, None, quote]);
    assert_eq!(open(2), [None, None, None, None]);
    assert_eq!(open(3), [None, src.find("'x")]);
}
