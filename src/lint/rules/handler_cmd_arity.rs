//! LI303 `handler-cmd-arity`.

use super::{safe, stage_chain, stage_instructions, Base};
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

/// The handler a `CMD` names, if it names exactly one: `CMD ["app.handler"]`, or a shell-form
/// `CMD app.handler` of one plain word.
fn named_handler(ins: &Instruction) -> Option<&str> {
    let word = match &ins.args {
        Args::Exec(words) => match words.as_slice() {
            [w] => w.value.as_str(),
            _ => return None,
        },
        Args::Shell(text) => text.text.trim(),
        Args::None => return None,
    };
    (plain_word(word) && !word.starts_with('-')).then_some(word)
}

/// The handler a shell-form `CMD` names: the whole text when it is one plain word, else its
/// first word when that has a handler's shape (`app.handler`, `example.App::handleRequest`),
/// else a placeholder.
fn shell_handler(text: &str) -> &str {
    let first = text.split_whitespace().next().unwrap_or("");
    let shaped =
        |w: &str| plain_word(w) && !w.starts_with('-') && (w.contains('.') || w.contains("::"));
    if plain_word(text) && !text.starts_with('-') || shaped(first) {
        first
    } else {
        "<handler>"
    }
}

/// The handler of the last `CMD` in a stage built on an AWS Lambda base image, with its line:
/// a handler the final stage could have had (its `CMD` sits in another stage, or an
/// `ENTRYPOINT` reset it).
fn handler_elsewhere(df: &crate::dockerfile::Dockerfile) -> Option<(&str, usize)> {
    df.instructions
        .iter()
        .filter(|ins| ins.keyword == Keyword::Cmd)
        .filter(|ins| {
            ins.stage
                .and_then(|i| df.stages.get(i))
                .is_some_and(|s| s.base.is_lambda)
        })
        .filter_map(|ins| {
            let handler = named_handler(ins)?;
            Some((
                handler,
                df.line_index.line_col(&df.source, ins.span.start).0,
            ))
        })
        .next_back()
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let df = cx.df;
    let Some(last) = df.stages.last() else { return };
    if !last.base.is_lambda {
        return;
    }
    let chain = stage_chain(df, last);
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
    let image = Base::of(df, last).image();
    let Some(cmd) = cmd else {
        let span = df
            .instructions
            .get(last.from)
            .map_or(last.image_span.clone(), |i| i.span.clone());
        let add = match handler_elsewhere(df) {
            Some((handler, line)) => format!(
                "`CMD [\"{handler}\"]` (the handler of the `CMD` on line {line}, which the final stage does not inherit)"
            ),
            None => "`CMD [\"<handler>\"]`".to_string(),
        };
        out.push(RULE.diagnostic(
            format!(
                "the final stage (on {image}) has no `CMD`: `/lambda-entrypoint.sh` exits 142 without exactly one handler argument; add {add}"
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
                    "shell-form `CMD {word}` runs `/bin/sh -c …`, so `/lambda-entrypoint.sh` (the entrypoint of {image}) gets 3 arguments and exits 142; use exec form with one element: `CMD [\"{}\"]`",
                    shell_handler(word)
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
                    "`CMD [{}]` passes {} arguments, but `/lambda-entrypoint.sh` (the entrypoint of {image}) needs exactly one (the handler) and exits 142 otherwise; use `CMD [\"<handler>\"]`",
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
    /// Checks that the final stage on a Lambda base image passes exactly one handler in `CMD`.
    ///
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
    /// `CMD app.handler` becomes `/bin/sh -c app.handler`: three arguments. The handler's form
    /// depends on the runtime: `app.handler` (Python module and function, Node.js file and
    /// export), `example.App::handleRequest` (Java), `Assembly::Namespace.Class::Method` (.NET).
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
    /// - [AWS Lambda Developer Guide: container images](https://docs.aws.amazon.com/lambda/latest/dg/images-create.html) (the handler in `CMD`)
    /// - [aws/aws-lambda-base-images](https://github.com/aws/aws-lambda-base-images) (the base images' Dockerfiles: `ENTRYPOINT ["/lambda-entrypoint.sh"]` and no `CMD`)
    LI303, "handler-cmd-arity", Warning, Sometimes, check
}
