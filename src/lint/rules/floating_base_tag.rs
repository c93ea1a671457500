//! LI302 `floating-base-tag`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for stage in &cx.df.stages {
        if stage.parent.is_some() {
            continue;
        }
        if !stage.base.floating {
            continue;
        }
        let image = stage.image.as_deref().unwrap_or(&stage.image_raw);
        out.push(RULE.diagnostic(
            format!(
                "{} floats (`latest` or no tag): it is rebuilt in place and has already moved from Amazon Linux 2 to AL2023; pin a tag and a digest (`{}:<tag>@sha256:<digest>`)",
                BaseNote::of(cx.df, stage).image(),
                crate::reference::split_lenient(image).repo
            ),
            stage.image_span.clone(),
            None,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags a Lambda or amazonlinux base image with `latest` or no tag.
    ///
    /// Flags a stage built on a Lambda or amazonlinux image with the `latest` tag or no tag, and
    /// no digest.
    ///
    /// ## Why is this bad?
    /// `latest` moved from Amazon Linux 2 to AL2023 in November 2023 and broke builds overnight
    /// (`yum: command not found`); every plain tag is rebuilt in place. Classes are resolved as
    /// the tag resolves today (AL2023), but the next move will not ask. A tag plus a digest makes
    /// the build reproducible and the upgrade a reviewed change.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/provided
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/provided:al2023@sha256:<digest>
    /// ```
    ///
    /// There is no fix: the digest has to be looked up in the registry.
    ///
    /// ## References
    /// - [aws/aws-lambda-base-images#124](https://github.com/aws/aws-lambda-base-images/issues/124) (`python:latest` moved to AL2023 minimal), [mdneuzerling/lambdr#31](https://github.com/mdneuzerling/lambdr/issues/31)
    LI302, "floating-base-tag", Warning, None, check
}
