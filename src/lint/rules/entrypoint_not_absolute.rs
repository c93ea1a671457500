//! LI304 `entrypoint-not-absolute`.

use crate::dockerfile::{Args, Instruction, Keyword, Span};
use crate::lint::analysis::stages::stage_chain;
use crate::lint::{Context, Diagnostic};

/// A relative path (`./main`, `bin/main`), not an absolute path, a variable or a bare name
/// looked up in `PATH`.
fn is_relative(program: &str) -> bool {
    !program.starts_with('/') && !program.starts_with('$') && program.contains('/')
}

/// The program of an ENTRYPOINT and its source span.
fn program(ins: &Instruction) -> Option<(String, Span)> {
    match &ins.args {
        Args::Exec(words) => words.first().map(|w| (w.value.clone(), w.span.clone())),
        Args::Shell(text) => {
            let trimmed = text.text.trim_start();
            let start = text.text.len() - trimmed.len();
            let word = trimmed.split_whitespace().next()?;
            Some((word.to_string(), text.span_of(start..start + word.len())))
        }
        Args::None => None,
    }
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Only the image that is deployed matters: the final stage and the stages it builds on (an
    // ENTRYPOINT of a build stage copied from with `COPY --from` never runs in Lambda).
    let Some(last) = cx.df.stages.last() else {
        return;
    };
    let deployed: Vec<usize> = stage_chain(cx.df, last).iter().map(|s| s.index).collect();
    for ins in &cx.df.instructions {
        if ins.keyword != Keyword::Entrypoint || !ins.stage.is_some_and(|s| deployed.contains(&s)) {
            continue;
        }
        let Some((prog, span)) = program(ins) else {
            continue;
        };
        if !is_relative(&prog) {
            continue;
        }
        let rest = prog.trim_start_matches("./");
        out.push(RULE.diagnostic(
            format!(
                "ENTRYPOINT program `{prog}` is a relative path; Lambda wants an absolute path that is not a symlink, e.g. `/var/task/{rest}`"
            ),
            span,
            None,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags an `ENTRYPOINT` whose program is a relative path (`./main`, `bin/bootstrap`).
    ///
    /// Only the image that is deployed is checked: the final stage and the stages it builds on
    /// (`FROM builder`); an `ENTRYPOINT` of a build stage that is only copied from is not.
    ///
    /// ## Why is this bad?
    /// Lambda's container image requirements ask for the absolute path of the entry point,
    /// and not a symlink; a relative path depends on `WORKDIR` (and on `ImageConfig.WorkingDirectory`,
    /// which can override it) and ends in `Runtime.InvalidEntrypoint` when they disagree. The
    /// widely copied Go example `ENTRYPOINT [ "./main" ]` works only while the working
    /// directory stays `/var/task`.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/provided:al2023
    /// COPY --from=build /src/main ./main
    /// ENTRYPOINT [ "./main" ]
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/provided:al2023
    /// COPY --from=build /src/main /var/task/main
    /// ENTRYPOINT [ "/var/task/main" ]
    /// ```
    ///
    /// There is no fix: the absolute path depends on where the program was copied.
    ///
    /// ## References
    /// - [AWS Lambda Developer Guide: container images](https://docs.aws.amazon.com/lambda/latest/dg/images-create.html) (an absolute entry point, not a symlink)
    /// - [AWS Lambda Developer Guide: troubleshooting container images](https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-images.html) (`Runtime.InvalidEntrypoint`)
    LI304, "entrypoint-not-absolute", Warning, None, check
}
