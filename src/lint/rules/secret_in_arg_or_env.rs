//! LI306 `secret-in-arg-or-env`.

use crate::dockerfile::{key_values, Instruction, KeyValue, Keyword, Span};
use crate::lint::{Context, Diagnostic};

/// Name segments that say a variable holds a credential (`NPM_TOKEN`, `DB_PASSWORD`,
/// `AWS_SECRET_ACCESS_KEY`, `GH_PAT`).
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "AUTHTOKEN",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PASSPHRASE",
    "SECRET",
    "APIKEY",
    "PAT",
];

/// Two segments that do together, where the second alone does not: `KEY` alone names public
/// or harmless things (`GPG_KEY`, `SSH_PUB_KEY`, `S3_KEY`).
const SECRET_PAIRS: &[(&str, &str)] = &[("API", "KEY"), ("PRIVATE", "KEY")];

/// Whole names that hold credentials without saying so segment by segment.
const SECRET_NAMES: &[&str] = &["NPM_CONFIG__AUTH", "DOCKER_AUTH_CONFIG"];

/// Segments that, after the one naming a credential, make the variable name something about
/// it rather than the credential itself: `SECRET_ARN`, `DB_PASSWORD_FILE`, `TOKEN_URL`,
/// `SECRETS_MANAGER_ENDPOINT`'s kind.
const ABOUT_WORDS: &[&str] = &[
    "ARN",
    "NAME",
    "NAMES",
    "ID",
    "IDS",
    "PATH",
    "FILE",
    "DIR",
    "ENDPOINT",
    "URL",
    "URI",
    "HOST",
    "PORT",
    "REGION",
    "TYPE",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "DISABLE",
    "HEADER",
    "LENGTH",
    "TTL",
    "EXPIRY",
    "EXPIRATION",
    "EXPIRES",
    "VERSION",
    "PREFIX",
    "SUFFIX",
    "LIMIT",
    "COUNT",
    "SIZE",
    "TIMEOUT",
    "MIN",
    "MAX",
    "POLICY",
    "FIELD",
    "PARAM",
    "PARAMETER",
    "LOCATION",
    "MANAGER",
];

/// A variable name split into upper-case words: at `_`, `-` and `.`, and where a lower-case
/// letter is followed by an upper-case one (`secretAccessKey` → `SECRET`, `ACCESS`, `KEY`).
fn segments(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split(['_', '-', '.']) {
        let mut current = String::new();
        let mut prev_lower = false;
        for c in part.chars() {
            if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            current.push(c.to_ascii_uppercase());
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

/// Whether a variable name says it holds a credential: a segment such as `TOKEN`, `PASSWORD`
/// or `SECRET` (whole words only: `TOKENIZERS_PARALLELISM` and `SECRETS_MANAGER_ENDPOINT` do
/// not), or `API_KEY`/`PRIVATE_KEY`, not followed by a word that makes the name about the
/// credential (`SECRET_ARN`, `PASSWORD_FILE`); or a known name (`NPM_CONFIG__AUTH`).
pub(crate) fn names_a_secret(name: &str) -> bool {
    if SECRET_NAMES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
    {
        return true;
    }
    let segs = segments(name);
    let hit = (0..segs.len()).rev().find(|&i| {
        let Some(seg) = segs.get(i) else {
            return false;
        };
        SECRET_WORDS.contains(&seg.as_str())
            || i.checked_sub(1)
                .and_then(|p| segs.get(p))
                .is_some_and(|prev| SECRET_PAIRS.iter().any(|(a, b)| prev == a && seg == b))
    });
    match hit {
        Some(i) => !segs
            .get(i + 1..)
            .unwrap_or(&[])
            .iter()
            .any(|s| ABOUT_WORDS.contains(&s.as_str())),
        None => false,
    }
}

/// The variable a text is, whole: `$NAME` or `${NAME}`.
fn variable(text: &str) -> Option<&str> {
    let name = text.strip_prefix('$')?;
    let name = match name.strip_prefix('{') {
        Some(braced) => braced.strip_suffix('}')?,
        None => name,
    };
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// Whether `value` has a URL written with credentials: `scheme://user:password@host`, or
/// `scheme://${TOKEN}@host` (a variable that names a credential as the user).
pub(crate) fn url_with_credentials(value: &str) -> bool {
    let mut rest = value;
    while let Some(i) = rest.find("://") {
        let after = rest.get(i + 3..).unwrap_or("");
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = after.get(..end).unwrap_or("");
        if let Some(at) = authority.rfind('@') {
            let userinfo = authority.get(..at).unwrap_or("");
            let password = userinfo
                .split_once(':')
                .is_some_and(|(_, password)| !password.is_empty());
            if password || variable(userinfo).is_some_and(names_a_secret) {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// Why one `name[=value]` is a credential, if it is.
enum Found {
    /// The name says so.
    Name,
    /// The value is a URL with a password in it.
    Url,
}

fn found(ins: &Instruction, kv: &KeyValue, global: bool) -> Option<Found> {
    if kv.value.as_deref().is_some_and(url_with_credentials) {
        return Some(Found::Url);
    }
    // A global ARG only reaches `FROM` lines and the stages that declare it again (which are
    // checked there); an `ENV X=` that clears a variable leaks nothing.
    let cleared = ins.keyword == Keyword::Env && kv.value.as_deref() == Some("");
    (!global && !cleared && names_a_secret(&kv.name)).then_some(Found::Name)
}

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for outer in &cx.df.instructions {
        let ins = match (outer.keyword, outer.onbuild.as_deref()) {
            (Keyword::Onbuild, Some(inner)) => inner,
            _ => outer,
        };
        if !matches!(ins.keyword, Keyword::Arg | Keyword::Env) {
            continue;
        }
        let global = outer.stage.is_none();
        for kv in key_values(ins, cx.df.escape) {
            let Some(why) = found(ins, &kv, global) else {
                continue;
            };
            let keyword = ins.keyword.as_str();
            let name = kv.name.as_str();
            let id = name.to_ascii_lowercase();
            let (what, span): (String, Span) = match why {
                Found::Name => (
                    format!("`{keyword} {name}` passes a credential"),
                    kv.name_span.clone(),
                ),
                Found::Url => (
                    format!("`{keyword} {name}` holds a URL with a password (`user:…@`)"),
                    kv.value_span
                        .clone()
                        .unwrap_or_else(|| kv.name_span.clone()),
                ),
            };
            let kept = match (ins.keyword, global) {
                (Keyword::Env, _) => {
                    "the value is stored in the image config, where anyone who can pull the image reads it, and each new value (a rotated CodeArtifact token) invalidates the cache of every step after it"
                }
                (_, true) => {
                    "every stage that declares it records the value in the history of its RUN steps, and each new value (a rotated CodeArtifact token) invalidates their cache, so the dependency layer is rebuilt"
                }
                (_, false) => {
                    "the value is recorded in the history of the RUN steps after it, and each new value (a rotated CodeArtifact token) invalidates their cache, so the dependency layer is rebuilt"
                }
            };
            out.push(RULE.diagnostic(
                format!(
                    "{what}: {kept}; mount it in the RUN that needs it instead: `RUN --mount=type=secret,id={id},env={name} …`, built with `lambda-image build --secret id={id},env={name}`"
                ),
                span,
                None,
            ));
        }
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags credentials passed to the build as `ARG` or `ENV`.
    ///
    /// Flags, in any stage (and in `ONBUILD`), an `ARG` or `ENV` whose name says it holds a
    /// credential, and any `ARG` default or `ENV` value that is a URL with a password in it
    /// (`PIP_INDEX_URL=https://aws:${CODEARTIFACT_AUTH_TOKEN}@…`, `UV_INDEX_URL`,
    /// `PIP_EXTRA_INDEX_URL`, a database URL). A name holds a credential when, split into
    /// words at `_` (and at camelCase humps), one word is `TOKEN`, `PASSWORD`, `PASSWD`,
    /// `PASS`, `PASSPHRASE`, `SECRET`, `APIKEY`, `AUTHTOKEN` or `PAT`, or two are `API_KEY` or
    /// `PRIVATE_KEY` (`NPM_TOKEN`, `CODEARTIFACT_AUTH_TOKEN`, `AWS_SECRET_ACCESS_KEY`,
    /// `OPENAI_API_KEY`, `secretAccessKey`), or it is `NPM_CONFIG__AUTH` or `DOCKER_AUTH_CONFIG`.
    ///
    /// Whole words only, so `TOKENIZERS_PARALLELISM`, `MAX_TOKENS` and
    /// `SECRETS_MANAGER_ENDPOINT` are not credentials; nor are names where a later word makes
    /// them about the credential rather than the credential itself (`DB_SECRET_ARN`,
    /// `SECRET_NAME`, `DB_PASSWORD_FILE`, `TOKEN_URL`, `PASSWORD_MIN_LENGTH`), nor `KEY` alone
    /// (`GPG_KEY`, `SSH_PUB_KEY`). An `ENV` that clears a variable (`ENV AWS_SESSION_TOKEN=`)
    /// leaks nothing. An `ARG` declared before the first `FROM` is only flagged for a URL with a
    /// password in its default: its name reaches a stage only when the stage declares it again,
    /// and that `ARG` is flagged. An index URL passed whole with `--build-arg` to an `ARG` with
    /// an innocent name (`ARG PIP_INDEX_URL`) cannot be seen in the file.
    ///
    /// ## Why is this bad?
    /// Build arguments and environment variables are not secret. An `ENV` is stored in the
    /// image config: anyone who can pull the image reads it with `docker inspect`. A build
    /// argument is recorded in the image history (`docker history`) of the RUN steps that
    /// follow it, and in BuildKit's provenance attestations in max mode. Both are also part of the cache key of every RUN after them: a token that
    /// rotates (an AWS CodeArtifact authorization token lasts 12 hours at most) makes the
    /// dependency layer, usually the slowest step, rebuild on every rotation.
    ///
    /// A secret mount (`RUN --mount=type=secret,id=…,env=VAR`) gives the one RUN that needs it
    /// the value as an environment variable (or a file under `/run/secrets/`): it is not
    /// written to any layer, history or config, and its value is not part of the cache key.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.13
    /// ARG CODEARTIFACT_AUTH_TOKEN
    /// RUN pip install -r requirements.txt --target "${LAMBDA_TASK_ROOT}" \
    ///     --index-url "https://aws:${CODEARTIFACT_AUTH_TOKEN}@example-111122223333.d.codeartifact.us-east-1.amazonaws.com/pypi/pypi-store/simple/"
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.13
    /// RUN --mount=type=secret,id=pip_index_url,env=PIP_INDEX_URL \
    ///     pip install -r requirements.txt --target "${LAMBDA_TASK_ROOT}"
    /// ```
    /// built with `PIP_INDEX_URL=$(…) lambda-image build --secret id=pip_index_url,env=PIP_INDEX_URL`
    /// (`docker buildx build` takes the same `--secret`).
    ///
    /// There is no fix: the build command has to pass the secret, and the RUN that uses it has
    /// to mount it. A variable whose name only looks like a credential (a placeholder, a public
    /// key) can be silenced with `# lambda-image: ignore=LI306` on the line before.
    ///
    /// ## References
    /// - [Docker docs: build secrets](https://docs.docker.com/build/building/secrets/) (`RUN --mount=type=secret,env=…`; build arguments and environment variables persist in the image)
    /// - [Docker docs: build check `SecretsUsedInArgOrEnv`](https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/)
    /// - [AWS CodeArtifact User Guide: authentication and tokens](https://docs.aws.amazon.com/codeartifact/latest/ug/tokens-authentication.html) (tokens last 12 hours at most)
    /// - [aws/agentcore-cli#1473](https://github.com/aws/agentcore-cli/issues/1473) (a rotating CodeArtifact token in a build argument rebuilds the dependency layer and leaks into the image)
    LI306, "secret-in-arg-or-env", Warning, None, check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for name in [
            "NPM_TOKEN",
            "CODEARTIFACT_AUTH_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "DB_PASSWORD",
            "OPENAI_API_KEY",
            "secretAccessKey",
            "githubToken",
            "GH_PAT",
            "NAGIOSADMIN_PASS",
            "UV_INDEX_PRIVATE_PASSWORD",
            "npm_config__auth",
            "CLIENT_SECRET",
            "SSH_PRIVATE_KEY",
        ] {
            assert!(names_a_secret(name), "{name}");
        }
        for name in [
            "TOKENIZERS_PARALLELISM",
            "SECRETS_MANAGER_ENDPOINT",
            "MAX_TOKENS",
            "DB_SECRET_ARN",
            "SECRET_NAME",
            "DB_PASSWORD_FILE",
            "TOKEN_URL",
            "PASSWORD_MIN_LENGTH",
            "GPG_KEY",
            "SSH_PUB_KEY",
            "AWS_ACCESS_KEY_ID",
            "accessKeyId",
            "PATH",
            "PASSTHROUGH",
            "PIP_INDEX_URL",
        ] {
            assert!(!names_a_secret(name), "{name}");
        }
    }

    #[test]
    fn urls() {
        assert!(url_with_credentials(
            "https://aws:abc@x.d.codeartifact.us-east-1.amazonaws.com/pypi/r/simple/"
        ));
        assert!(url_with_credentials(
            "https://aws:${CODEARTIFACT_AUTH_TOKEN}@host/simple"
        ));
        assert!(url_with_credentials(
            "https://${GITHUB_TOKEN}@github.com/o/r.git"
        ));
        assert!(url_with_credentials(
            "--extra-index-url https://u:p@host/simple"
        ));
        assert!(!url_with_credentials("https://pypi.example.com/simple"));
        assert!(!url_with_credentials("git+ssh://git@github.com/o/r.git"));
        assert!(!url_with_credentials("https://user:@host/"));
        assert!(!url_with_credentials("https://host/path?a=b@c:d"));
        assert!(!url_with_credentials("docker@28.5=/opt/docker"));
    }
}
