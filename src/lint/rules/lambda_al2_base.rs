//! LI301 `lambda-al2-base`.

use crate::dockerfile::base::{Choice, Successor};
use crate::dockerfile::BaseClass;
use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::edits::unsafe_fix;
use crate::lint::{Context, Diagnostic, Edit};

/// Why the fix moves to this image, as the fix message says it.
fn why(s: &Successor) -> String {
    let pick = "`runtime-targets` in .lambda-image.yaml picks another";
    match s.choice {
        Choice::Configured => format!("`{}:{}`, from `runtime-targets`", s.language, s.tag),
        Choice::Oldest => format!("the oldest AL2023 `{}` image; {pick}", s.language),
        Choice::SameVersion => format!("the same `{}` version on AL2023; {pick}", s.language),
        Choice::Only => "the AL2023 OS-only image".to_string(),
    }
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for stage in &cx.df.stages {
        // Stages built on another stage inherit its class; the finding is on the real image.
        if stage.parent.is_some() || stage.class != BaseClass::LambdaAl2 {
            continue;
        }
        let successor = stage.base.successor.as_ref();
        let fix = successor
            .filter(|_| !stage.image_raw.contains('$'))
            .map(|s| {
                unsafe_fix(
                    format!(
                        "Replace `{}` with `{}` ({})",
                        stage.image_raw,
                        s.image,
                        why(s)
                    ),
                    vec![Edit::replace(stage.image_span.clone(), s.image.as_str())],
                )
            });
        let instead = match successor {
            Some(s) => format!("move to `{}`", s.image),
            None => "move to an AL2023 runtime image (`python:3.12`, `nodejs:20`, `java:21`, `provided:al2023`…)".into(),
        };
        out.push(RULE.diagnostic(
            format!(
                "{} is an Amazon Linux 2 Lambda image (yum, glibc 2.26, AL2 end of support); {instead}",
                BaseNote::of(cx.df, stage).image()
            ),
            stage.image_span.clone(),
            fix,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags a stage built on an Amazon Linux 2 AWS Lambda base image.
    ///
    /// Flags a stage built on an AWS Lambda base image for Amazon Linux 2 (or AL1):
    /// `python:3.8`…`3.11`, `nodejs:16`/`18`, `java:8.al2`/`11`/`17`, `ruby:3.2`, `dotnet:6`,
    /// `provided:al2`, and the AL1 tags.
    ///
    /// ## Why is this bad?
    /// These images use yum and glibc 2.26, and their runtimes reach Lambda deprecation with
    /// Amazon Linux 2's end of support; AWS keeps only critical patches flowing until then. Their
    /// successors are built on Amazon Linux 2023 minimal (microdnf, glibc 2.34), so moving is also
    /// when the other LI1xx rules start to matter.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.11
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// ```
    ///
    /// ## Fix safety
    /// The fix rewrites the image to its AL2023 successor and says which one it picked. By
    /// default that is the oldest AL2023 version of the language (`python:3.11` → `python:3.12`,
    /// `nodejs:18` → `nodejs:20`, `ruby:3.2` → `ruby:3.3`, `dotnet:6` → `dotnet:8`), the same
    /// Java on AL2023 (`java:17` → `java:17.al2023`), or `provided:al2` → `provided:al2023`.
    /// `runtime-targets` in `.lambda-image.yaml` names other targets by Lambda runtime
    /// identifier:
    ///
    /// ```yaml
    /// lint:
    ///   runtime-targets: [python3.13, nodejs22.x, java21]
    /// ```
    ///
    /// The fix is unsafe: the language version and the operating system change, a digest is
    /// dropped, and yum steps stop working (see LI101). It is offered only when the image is
    /// written without variables; registry, mirror and arch suffix are kept.
    ///
    /// ## References
    /// - [AWS Lambda Developer Guide: Lambda runtimes](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) (each runtime's operating system and deprecation date)
    /// - [AL2023 User Guide: AL2023 in AWS Lambda](https://docs.aws.amazon.com/linux/al2023/ug/lambda.html)
    /// - [aws/aws-lambda-base-images#92](https://github.com/aws/aws-lambda-base-images/issues/92) (glibc 2.34 on AL2023, 2.26 on AL2)
    /// - [aws/aws-lambda-roadmap#86](https://github.com/aws/aws-lambda-roadmap/issues/86) (AL2 support for Lambda images)
    LI301, "lambda-al2-base", Warning, Sometimes, check
}
