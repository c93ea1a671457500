//! Runs every rule over a parsed Dockerfile, once.

use super::analysis::stages::{stage_chain, stage_instructions};
use super::{registry::RULES, Context, Diagnostic, Note, Run};
use crate::dockerfile::shell::{split_run_with, ShellIndex};
use crate::dockerfile::{pragma, Dockerfile, Keyword};

/// Builds the [`Context`]: every RUN and every `ONBUILD RUN` split once, with its stage.
pub fn context(df: &Dockerfile) -> Context<'_> {
    let mut runs = Vec::new();
    let shells = ShellIndex::new(df);
    for (index, ins) in df.instructions.iter().enumerate() {
        let inner = match ins.keyword {
            Keyword::Run => ins,
            Keyword::Onbuild => match ins.onbuild.as_deref() {
                Some(inner) if inner.keyword == Keyword::Run => inner,
                _ => continue,
            },
            _ => continue,
        };
        let Some(stage) = ins.stage.and_then(|s| df.stages.get(s)) else {
            continue;
        };
        runs.push(Run {
            index,
            instruction: inner,
            stage,
            commands: split_run_with(df, inner, &shells),
        });
    }
    Context { df, runs }
}

/// Every finding of every rule (LI001 excepted: parse errors come from the parser), pragmas
/// applied, sorted by (span start, code). RUN instructions are split once and shared.
pub fn check(df: &Dockerfile) -> Vec<Diagnostic> {
    let cx = context(df);
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(&cx, &mut out);
    }
    drop_fixes_inside_open_quotes(&cx, &mut out);
    if !out.is_empty() {
        let pragmas = pragma::pragmas(df);
        out.retain(|d| !pragmas.suppresses(d.code, d.span.start));
    }
    out.sort_by(|a, b| (a.span.start, a.code, a.span.end).cmp(&(b.span.start, b.code, b.span.end)));
    out
}

/// Takes the fix off findings whose edits land inside a quote a RUN opens and never closes
/// (`RUN yum -y install libxml2-dr"]`): text inserted there would join the quoted string and
/// change nothing the shell runs, so fixing would never converge. The finding stays; the
/// other fixes still apply.
fn drop_fixes_inside_open_quotes(cx: &Context<'_>, out: &mut [Diagnostic]) {
    // (opening quote, end of the word: the end of its script), source offsets.
    let open: Vec<(usize, usize)> = cx
        .runs
        .iter()
        .flat_map(|run| &run.commands)
        .flat_map(|c| &c.words)
        .filter_map(|w| w.open_quote.map(|q| (q, w.span.end.max(q))))
        .collect();
    if open.is_empty() {
        return;
    }
    for d in out.iter_mut() {
        let inside = d.fix.as_ref().is_some_and(|f| {
            f.edits.iter().any(|e| {
                open.iter()
                    .any(|&(q, end)| e.range.end > q && e.range.start <= end)
            })
        });
        if inside {
            d.fix = None;
        }
    }
}

/// What is wrong with pragmas that suppress nothing: malformed ones, and codes that name no
/// rule (a rule name, a prefix, a hadolint code, a typo), in source order.
pub fn pragma_warnings(df: &Dockerfile) -> Vec<Note> {
    let pragmas = pragma::pragmas(df);
    let mut out: Vec<Note> = pragmas
        .malformed
        .iter()
        .map(|(span, why)| Note {
            span: span.clone(),
            message: why.clone(),
        })
        .collect();
    for (code, span) in &pragmas.written {
        let upper = code.to_ascii_uppercase();
        if RULES.iter().any(|r| r.code == upper) {
            continue;
        }
        let hint = if let Some(rule) = RULES.iter().find(|r| r.name == code.as_str()) {
            format!("`{code}` is a rule name, not a code: write `{}`", rule.code)
        } else if let Some((_, li)) = pragma::HADOLINT.iter().find(|(h, _)| *h == upper) {
            format!("`{code}` is a hadolint code: write `{li}`, or `# hadolint ignore={upper}`")
        } else if upper.len() > 2 && RULES.iter().any(|r| r.code.starts_with(&upper)) {
            format!("`{code}` is a code prefix: pragmas take whole codes such as `LI101`")
        } else {
            format!(
                "`{code}` is not a lambda-image rule code: `lambda-image rule --all` lists them"
            )
        };
        out.push(Note {
            span: span.clone(),
            message: format!("{hint} (as written, the pragma suppresses nothing)"),
        });
    }
    out.sort_by_key(|n| (n.span.start, n.span.end));
    out
}

/// The `FROM` of each stage built on a base lambda-image does not recognise (not `FROM
/// <stage>`: that inherits its parent's), with the image as written. A stage is left out when
/// neither it nor any stage built on it runs anything (no `RUN`, no `ONBUILD RUN`): one that
/// only serves as a `COPY --from` or `--mount=from=` source (`FROM ghcr.io/astral-sh/uv:0.9 AS
/// uv`) has nothing for the migration rules to miss.
pub fn unrecognised_bases(df: &Dockerfile) -> Vec<Note> {
    // The root of each stage's chain, for the stages that run something.
    let running_roots: Vec<usize> = df
        .stages
        .iter()
        .filter(|s| {
            stage_instructions(df, s).iter().any(|ins| {
                ins.keyword == Keyword::Run
                    || ins
                        .onbuild
                        .as_deref()
                        .is_some_and(|inner| inner.keyword == Keyword::Run)
            })
        })
        .filter_map(|s| stage_chain(df, s).first().map(|root| root.index))
        .collect();
    df.stages
        .iter()
        .filter(|s| s.parent.is_none() && !s.base.recognised && running_roots.contains(&s.index))
        .map(|s| Note {
            span: s.image_span.clone(),
            message: s.image_raw.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::{Applicability, Edit, Fix, Severity};

    fn with_fix(edit: Edit) -> Diagnostic {
        Diagnostic {
            code: "LI999",
            name: "test",
            severity: Severity::Warning,
            message: String::new(),
            span: 0..0,
            fix: Some(Fix {
                applicability: Applicability::Safe,
                message: String::new(),
                edits: vec![edit],
            }),
        }
    }

    #[test]
    fn fixes_inside_an_unterminated_quote_are_dropped() {
        let src = "FROM a\nRUN dnf install -y x\"]\nRUN dnf install -y y\n";
        let Ok(df) = crate::dockerfile::parse(src) else {
            panic!("parses");
        };
        let cx = context(&df);
        let quote = src.find('"').unwrap_or(0);
        let end_of_run = src.find("]\n").map_or(0, |i| i + 1);
        let mut d = vec![
            // Appended to the RUN: inside the quote.
            with_fix(Edit::insert(end_of_run, " && dnf clean all")),
            // Replacing the quote itself.
            with_fix(Edit::replace(quote..quote + 1, "")),
            // Before the quote, and in the next RUN: kept.
            with_fix(Edit::replace(11..14, "dnf")),
            with_fix(Edit::insert(src.len() - 1, " && dnf clean all")),
        ];
        drop_fixes_inside_open_quotes(&cx, &mut d);
        let kept: Vec<bool> = d.iter().map(|d| d.fix.is_some()).collect();
        assert_eq!(kept, [false, false, true, true]);
    }
}
