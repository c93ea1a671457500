//! LI303 `handler-cmd-arity`.

use super::{safe, stage_chain, stage_instructions};
use crate::dockerfile::base::classify;
use crate::dockerfile::{Args, Instruction, Keyword};
use crate::lint::{Context, Diagnostic, Edit, Severity};

/// The entrypoint of every AWS Lambda base image (§1.1).
const LAMBDA_ENTRYPOINT: &str = "/lambda-entrypoint.sh";

/// Whether an ENTRYPOINT sets something other than the base image's `/lambda-entrypoint.sh`.
fn overrides(ins: &Instruction) -> bool {
    match &ins.args {
        Args::Exec(words) => !matches!(words.as_slice(), [w] if w.value == LAMBDA_ENTRYPOINT),
        Args::Shell(_) | Args::None => true,
    }
}

/// A shell-form argument that means the same as one exec-form element.
fn plain_word(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\''
                        | '\\'
                        | '$'
                        | '`'
                        | ';'
                        | '&'
                        | '|'
                        | '<'
                        | '>'
                        | '('
                        | ')'
                        | '{'
                        | '}'
                        | '*'
                        | '?'
                        | '['
                        | ']'
                        | '~'
                        | '#'
                        | '!'
                )
        })
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let df = cx.df;
    let Some(last) = df.stages.last() else { return };
    let chain = stage_chain(df, last);
    let Some(root) = chain.first() else { return };
    let Some(image) = root.image.as_deref() else {
        return;
    };
    if !classify(image).is_lambda {
        return;
    }
    // BuildKit: an ENTRYPOINT resets a CMD inherited from the parent image, not one set earlier
    // in the same stage.
    let mut cmd: Option<&Instruction> = None;
    let mut overridden = false;
    for stage in &chain {
        let mut cmd_set_here = false;
        for ins in stage_instructions(df, stage) {
            match ins.keyword {
                Keyword::Cmd => {
                    cmd = Some(ins);
                    cmd_set_here = true;
                }
                Keyword::Entrypoint => {
                    overridden = overrides(ins);
                    if !cmd_set_here {
                        cmd = None;
                    }
                }
                _ => {}
            }
        }
    }
    if overridden {
        return;
    }
    let Some(cmd) = cmd else {
        let span = df
            .instructions
            .get(last.from)
            .map_or(last.image_span.clone(), |i| i.span.clone());
        out.push(RULE.diagnostic(
            format!(
                "the final stage (on `{}`) has no `CMD`: `/lambda-entrypoint.sh` exits 142 without exactly one handler argument; add `CMD [\"<module>.<handler>\"]`, e.g. `CMD [\"app.handler\"]`",
                root.image_raw
            ),
            span,
            None,
        ));
        return;
    };
    let src = df.source.as_str();
    match &cmd.args {
        Args::Shell(text) => {
            let word = text.text.trim();
            let fix = src
                .get(text.span.clone())
                .filter(|raw| raw.trim() == word && plain_word(word))
                .map(|_| {
                    safe(
                        format!("Replace `CMD {word}` with `CMD [\"{word}\"]`"),
                        vec![Edit::replace(text.span.clone(), format!("[\"{word}\"]"))],
                    )
                });
            let mut d = RULE.diagnostic(
                format!(
                    "shell-form `CMD {word}` runs `/bin/sh -c …`, so `/lambda-entrypoint.sh` gets 3 arguments and exits 142; use exec form with one element: `CMD [\"{}\"]`",
                    word.split_whitespace().next().unwrap_or("app.handler")
                ),
                cmd.span.clone(),
                fix,
            );
            d.severity = Severity::Error;
            out.push(d);
        }
        Args::Exec(words) if words.len() != 1 => {
            let shown: Vec<String> = words.iter().map(|w| format!("\"{}\"", w.value)).collect();
            let mut d = RULE.diagnostic(
                format!(
                    "`CMD [{}]` passes {} arguments, but `/lambda-entrypoint.sh` needs exactly one (the handler) and exits 142 otherwise; use `CMD [\"<handler>\"]`",
                    shown.join(", "),
                    words.len()
                ),
                cmd.span.clone(),
                None,
            );
            d.severity = Severity::Error;
            out.push(d);
        }
        _ => {}
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Checks the `CMD` of the final stage when it is built (directly or through other stages)
    /// on an AWS Lambda base image whose `ENTRYPOINT` is not overridden: a missing `CMD` is a
    /// warning; a shell-form `CMD`, or a JSON `CMD` with other than exactly one element, is an
    /// error.
    ///
    /// ## Why is this bad?
    /// Every AWS Lambda base image runs `/lambda-entrypoint.sh`, which takes exactly one
    /// argument, the handler, and otherwise prints `entrypoint requires the handler name to be
    /// the first argument` and exits 142. The base images have no `CMD`, so without one the
    /// function's `ImageConfig.Command` must supply it (hence only a warning). A shell-form
    /// `CMD app.handler` becomes `/bin/sh -c app.handler`: three arguments.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// COPY app.py ${LAMBDA_TASK_ROOT}
    /// CMD app.handler
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// COPY app.py ${LAMBDA_TASK_ROOT}
    /// CMD ["app.handler"]
    /// ```
    ///
    /// ## Fix safety
    /// A shell-form `CMD` of one plain word (no quotes, variables or shell syntax) becomes the
    /// one-element JSON form; the fix is safe: it passes the handler the entrypoint expects.
    /// Other cases have no fix.
    ///
    /// ## References
    /// - domain.md §1.1 (no CMD in the base images), §1.3 (`/lambda-entrypoint.sh`), §3, §4 #10
    /// - AWS Lambda Developer Guide, images-create (handler in `CMD`)
    LI303, "handler-cmd-arity", Warning, Sometimes, check
}
