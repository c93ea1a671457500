//! LI305 `handler-cmd-missing`.

use crate::dockerfile::Keyword;
use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::handler::{handler_cmd, named_handler, HandlerCmd};
use crate::lint::{Context, Diagnostic};

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
    let Some((last, HandlerCmd::Missing)) = handler_cmd(df) else {
        return;
    };
    let image = BaseNote::of(df, last).image();
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
}

crate::declare_rule! {
    /// ## What it does
    /// Flags a final stage on a Lambda base image that sets no `CMD` (no handler).
    ///
    /// Flags the final stage when it is built (directly or through other stages) on an AWS
    /// Lambda base image whose `ENTRYPOINT` is not overridden, and neither it nor a stage it
    /// builds on sets `CMD`. (Until this rule existed, LI303 reported this case.)
    ///
    /// ## Why is this bad?
    /// Every AWS Lambda base image runs `/lambda-entrypoint.sh`, which takes exactly one
    /// argument, the handler, and exits 142 without it. The base images have no `CMD`, so the
    /// function's `ImageConfig.Command` must supply the handler; that is allowed, which is why
    /// this is a warning while a wrong `CMD` (LI303) is an error. The message names a handler
    /// when another stage's `CMD` has one that the final stage does not inherit.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/nodejs:20
    /// COPY index.mjs ${LAMBDA_TASK_ROOT}
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/nodejs:20
    /// COPY index.mjs ${LAMBDA_TASK_ROOT}
    /// CMD ["index.handler"]
    /// ```
    ///
    /// There is no fix: the handler is the function's to name.
    ///
    /// ## References
    /// - [AWS Lambda Developer Guide: container images](https://docs.aws.amazon.com/lambda/latest/dg/images-create.html) (the handler in `CMD`)
    /// - [AWS Lambda API Reference: ImageConfig](https://docs.aws.amazon.com/lambda/latest/api/API_ImageConfig.html) (`Command` overrides the image's `CMD`)
    LI305, "handler-cmd-missing", Warning, None, check
}
