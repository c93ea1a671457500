//! LI203 `syntax-directive-pull`.

use crate::lint::{Context, Diagnostic};

/// Where an image reference is pulled from: its registry host, or Docker Hub when the first
/// path component is not one (no `.` or `:`, not `localhost`), as the docker CLI reads it.
fn registry(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((host, _)) if !crate::reference::on_docker_hub(reference) => host,
        _ => "Docker Hub",
    }
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for directive in &cx.df.directives {
        if directive.name != "syntax" {
            continue;
        }
        let image = directive.value.as_str();
        let from = match registry(image) {
            "Docker Hub" => "Docker Hub (anonymous pulls are rate-limited)".to_string(),
            host => format!("`{host}`"),
        };
        out.push(RULE.diagnostic(
            format!(
                "`# syntax={image}` makes BuildKit fetch the Dockerfile frontend `{image}` from {from} before every build, which fails offline; Docker Engine 23.0 and later run heredocs and `RUN --mount` with their built-in frontend: remove the line unless the file needs a newer frontend"
            ),
            directive.span.clone(),
            None,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Reports a `# syntax=` parser directive, which makes every build fetch a frontend image.
    ///
    /// Reports the `# syntax=<image>` directive at the top of a Dockerfile, whatever image it
    /// names (`docker/dockerfile:1`, `docker/dockerfile:1.4`, a mirror).
    ///
    /// ## Why is this bad?
    /// With the directive, BuildKit does not read the Dockerfile with the frontend built into
    /// the engine: before the first instruction it resolves the named image in its registry,
    /// pulls it when it is not cached (on Docker Hub, a pull counted against the rate limit for
    /// anonymous pulls), then runs it to read the file. That is an extra registry round trip on
    /// every build, and a build that fails at once offline or in an air-gapped network without
    /// a mirror of that image. The classic builder ignores the line.
    ///
    /// What the directive buys is a frontend newer than the engine's. On Docker Engine before
    /// 23.0 the built-in frontend predates heredocs (`RUN <<EOF`), and the directive is how
    /// they are enabled; from 23.0 on, the built-in frontend runs heredocs and `RUN --mount`
    /// itself, and the directive is needed only for features newer than the engine.
    ///
    /// This is information, not a warning: the directive is Docker's own recommendation, the
    /// file builds with it wherever the registry is reachable, and whether the features it
    /// brings are needed depends on the engines that build the file, which the linter cannot
    /// see. Teams that keep it on purpose silence the rule with `ignore: [LI203]` in
    /// `.lambda-image.yaml`, or `# lambda-image: ignore-file=LI203` (a pragma on the line
    /// before would end the parser directives, so the next-line form cannot be used here).
    ///
    /// ## Example
    /// ```dockerfile
    /// # syntax=docker/dockerfile:1
    /// FROM public.ecr.aws/lambda/python:3.13
    /// RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt --target "${LAMBDA_TASK_ROOT}"
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.13
    /// RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt --target "${LAMBDA_TASK_ROOT}"
    /// ```
    ///
    /// There is no fix: removing the line changes which frontend reads the file, and a feature
    /// newer than the engine's built-in frontend would then fail to parse.
    ///
    /// ## References
    /// - [Docker docs: custom Dockerfile syntax](https://docs.docker.com/build/buildkit/frontend/) (the frontend is an image BuildKit pulls; the engine ships a built-in one)
    /// - [Dockerfile reference: parser directives, `syntax`](https://docs.docker.com/reference/dockerfile/#syntax)
    /// - [Docker docs: Docker Hub usage and rate limits](https://docs.docker.com/docker-hub/usage/)
    LI203, "syntax-directive-pull", Info, None, check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries() {
        assert_eq!(registry("docker/dockerfile:1"), "Docker Hub");
        assert_eq!(registry("docker.io/docker/dockerfile:1.4.3"), "Docker Hub");
        assert_eq!(registry("dockerfile:1"), "Docker Hub");
        assert_eq!(
            registry("123456789012.dkr.ecr.eu-west-1.amazonaws.com/dockerfile:1"),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(registry("localhost:5000/dockerfile:1"), "localhost:5000");
    }
}
