//! Renders an image spec into a Dockerfile with minijinja templates.
//!
//! One template per runtime family (`templates/<family>.Dockerfile.j2`) extends
//! `templates/base.Dockerfile.j2`. The templates are embedded in the binary; `--templates DIR`
//! reads any of them from a folder instead (files missing there fall back to the built-in ones).
//! Undefined variables are errors (`UndefinedBehavior::Strict`).
//!
//! Spec values reach the text only after [`crate::image_spec`] has checked them; free text (env and
//! label values) goes through the `dquote` filter, the handler through `json` (exec form).

pub mod vcs;

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::image_spec::{Arch, Spec};
pub use vcs::Vcs;

/// The templates shipped in the binary: (name, text).
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    (
        "base.Dockerfile.j2",
        include_str!("../../templates/base.Dockerfile.j2"),
    ),
    (
        "python.Dockerfile.j2",
        include_str!("../../templates/python.Dockerfile.j2"),
    ),
    (
        "nodejs.Dockerfile.j2",
        include_str!("../../templates/nodejs.Dockerfile.j2"),
    ),
    (
        "java.Dockerfile.j2",
        include_str!("../../templates/java.Dockerfile.j2"),
    ),
    (
        "ruby.Dockerfile.j2",
        include_str!("../../templates/ruby.Dockerfile.j2"),
    ),
    (
        "dotnet.Dockerfile.j2",
        include_str!("../../templates/dotnet.Dockerfile.j2"),
    ),
    (
        "provided.Dockerfile.j2",
        include_str!("../../templates/provided.Dockerfile.j2"),
    ),
];

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The architecture to render for (default: the spec's first).
    pub arch: Option<Arch>,
    /// Git provenance for the `org.opencontainers.image.{source,revision,created}` labels;
    /// empty for a Dockerfile that is committed next to its spec.
    pub vcs: Vcs,
    /// A folder of templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Pair {
    key: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct CopyCtx {
    src: String,
    /// The destination as written in COPY: `${LAMBDA_TASK_ROOT}/…`.
    target: String,
    build_output: bool,
}

#[derive(Debug, Serialize)]
struct Ctx<'a> {
    name: &'a str,
    runtime: &'a str,
    family: &'a str,
    arch: &'a str,
    platform: String,
    base: String,
    packages: &'a [String],
    build_packages: &'a [String],
    requirements: Option<&'a crate::image_spec::Requirements>,
    copy: Vec<CopyCtx>,
    bootstrap: Option<&'a crate::image_spec::CopyEntry>,
    handler: &'a str,
    env: Vec<Pair>,
    labels: Vec<Pair>,
}

/// `${LAMBDA_TASK_ROOT}/<dest>`: `dest` is relative to the task root (design: "Image spec").
fn task_root_target(dest: &str) -> String {
    if dest == "." {
        "${LAMBDA_TASK_ROOT}/".to_string()
    } else {
        format!("${{LAMBDA_TASK_ROOT}}/{dest}")
    }
}

/// Quotes a value for `ENV`/`LABEL`: inside double quotes BuildKit's word lexer treats only
/// `\`, `"` and `$` specially, so those three are escaped. Control characters cannot be
/// escaped (a newline ends the instruction); the spec rejects them, and this refuses them too.
pub fn dquote(value: &str) -> Result<String, minijinja::Error> {
    if value.chars().any(char::is_control) {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "a control character cannot be written into a Dockerfile value",
        ));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// JSON text of a value (exec-form `CMD`; JSON strings need no further escaping there: exec
/// form is not subject to variable expansion).
fn json(value: Value) -> Result<String, minijinja::Error> {
    let text = serde_json::to_string(&value).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    if text.chars().any(char::is_control) {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "a control character cannot be written into a Dockerfile",
        ));
    }
    Ok(text)
}

fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN_TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// The minijinja environment: strict undefined, `trim_blocks`, `lstrip_blocks`, trailing
/// newline kept, templates from `dir` first and then the built-in ones.
pub fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| anyhow!("template syntax settings: {e}"))?;
    env.set_syntax(syntax);
    env.add_filter("dquote", |v: String| dquote(&v));
    env.add_filter("json", json);
    if let Some(dir) = dir {
        if !dir.is_dir() {
            anyhow::bail!("--templates {}: not a directory", dir.display());
        }
    }
    let dir = dir.map(Path::to_path_buf);
    env.set_loader(move |name| {
        if let Some(dir) = &dir {
            let plain = Path::new(name)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if plain {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("reading template {}: {e}", path.display()),
                        )
                    });
                }
            }
        }
        Ok(builtin(name).map(str::to_string))
    });
    Ok(env)
}

/// The OCI labels (title, base, and git provenance when known), then the spec's own labels;
/// a spec label with the same key replaces ours. Unknown values are left out, never empty.
fn labels(spec: &Spec, vcs: &Vcs) -> Vec<Pair> {
    let mut ours: Vec<(&str, String)> = vec![("org.opencontainers.image.title", spec.name.clone())];
    if let Some(s) = &vcs.source {
        ours.push(("org.opencontainers.image.source", s.clone()));
    }
    if let Some(r) = &vcs.revision {
        ours.push(("org.opencontainers.image.revision", r.clone()));
    }
    if let Some(c) = &vcs.created {
        ours.push(("org.opencontainers.image.created", c.clone()));
    }
    ours.push(("org.opencontainers.image.base.name", spec.base.name()));
    if let Some(d) = &spec.base.digest {
        ours.push(("org.opencontainers.image.base.digest", d.clone()));
    }
    let mut out: Vec<Pair> = ours
        .into_iter()
        .filter(|(k, _)| !spec.labels.iter().any(|(uk, _)| uk == k))
        .map(|(k, v)| Pair {
            key: k.to_string(),
            value: v,
        })
        .collect();
    out.extend(spec.labels.iter().map(|(k, v)| Pair {
        key: k.clone(),
        value: v.clone(),
    }));
    out
}

/// Renders `spec` into Dockerfile text.
pub fn render(spec: &Spec, options: &Options) -> anyhow::Result<String> {
    let arch = match options.arch {
        Some(a) if !spec.architectures.contains(&a) => return Err(spec.not_its_architecture(&[a])),
        Some(a) => a,
        None => spec.architectures.first().copied().unwrap_or(Arch::X86_64),
    };
    let env = environment(options.templates.as_deref())?;
    let ctx = Ctx {
        name: &spec.name,
        runtime: spec.runtime.id,
        family: spec.runtime.family.name(),
        arch: arch.lambda_name(),
        platform: format!("linux/{}", arch.oci_name()),
        base: spec.base_reference(),
        packages: &spec.packages,
        build_packages: &spec.build_packages,
        requirements: spec.requirements.as_ref(),
        copy: spec
            .copy
            .iter()
            .map(|c| CopyCtx {
                src: c.src.clone(),
                target: task_root_target(&c.dest),
                build_output: c.build_output,
            })
            .collect(),
        bootstrap: spec.bootstrap.as_ref(),
        handler: &spec.handler,
        env: spec
            .env
            .iter()
            .map(|(k, v)| Pair {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        labels: labels(spec, &options.vcs),
    };
    let name = format!("{}.Dockerfile.j2", spec.runtime.family.name());
    let template = env
        .get_template(&name)
        .map_err(|e| anyhow!("template {name}: {}", one_line(&e)))?;
    let text = template
        .render(Value::from(minijinja::value::Serde(&ctx)))
        .map_err(|e| {
            anyhow!(
                "rendering {} with {name}: {}",
                spec.file.display(),
                one_line(&e)
            )
        })?;
    Ok(tidy(&text))
}

/// A minijinja error on one line, with its template position.
fn one_line(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    if let (Some(name), Some(line)) = (e.name(), e.line()) {
        s = format!("{s} ({name}:{line})");
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collapses runs of blank lines left by skipped blocks into one, trims blank lines at both
/// ends, and ends the text with exactly one newline.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push('\n');
        }
        blank = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dquote_escapes_what_buildkit_reads() {
        assert_eq!(dquote("plain").ok().as_deref(), Some("\"plain\""));
        assert_eq!(
            dquote(r#"a"b$c\d`e;f&&g"#).ok().as_deref(),
            Some(r#""a\"b\$c\\d`e;f&&g""#)
        );
        assert!(dquote("a\nb").is_err());
    }

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("\n\nA\n\n\n\nB  \n\n"), "A\n\nB\n");
    }
}
