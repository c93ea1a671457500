//! LI303 `handler-cmd-arity`.

use crate::dockerfile::Args;
use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::safe;
use crate::lint::analysis::handler::{handler_cmd, plain_word, HandlerCmd};
use crate::lint::{Context, Diagnostic, Edit};

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

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let df = cx.df;
    let Some((last, HandlerCmd::Set(cmd))) = handler_cmd(df) else {
        return;
    };
    let image = BaseNote::of(df, last).image();
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
            out.push(RULE.diagnostic(
                format!(
                    "shell-form `CMD {word}` runs `/bin/sh -c …`, so `/lambda-entrypoint.sh` (the entrypoint of {image}) gets 3 arguments and exits 142; use exec form with one element: `CMD [\"{}\"]`",
                    shell_handler(word)
                ),
                cmd.span.clone(),
                fix,
            ));
        }
        Args::Exec(words) if words.len() != 1 => {
            let shown: Vec<String> = words.iter().map(|w| format!("\"{}\"", w.value)).collect();
            out.push(RULE.diagnostic(
                format!(
                    "`CMD [{}]` passes {} arguments, but `/lambda-entrypoint.sh` (the entrypoint of {image}) needs exactly one (the handler) and exits 142 otherwise; use `CMD [\"<handler>\"]`",
                    shown.join(", "),
                    words.len()
                ),
                cmd.span.clone(),
                None,
            ));
        }
        _ => {}
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Checks that the final stage on a Lambda base image passes exactly one handler in `CMD`.
    ///
    /// Checks the `CMD` of the final stage when it is built (directly or through other stages)
    /// on an AWS Lambda base image whose `ENTRYPOINT` is not overridden: a shell-form `CMD`, or
    /// a JSON `CMD` with other than exactly one element, is reported. A final stage with no
    /// `CMD` at all is LI305's.
    ///
    /// ## Why is this bad?
    /// Every AWS Lambda base image runs `/lambda-entrypoint.sh`, which takes exactly one
    /// argument, the handler, and otherwise prints `entrypoint requires the handler name to be
    /// the first argument` and exits 142: every invocation fails. A shell-form
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
    LI303, "handler-cmd-arity", Error, Sometimes, check
}
