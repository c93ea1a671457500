//! Value checks for image specs. Each returns `Err(message)`; the caller adds file and position.
//!
//! Nothing from a spec reaches a Dockerfile unchecked: values that could change the Dockerfile's
//! structure are rejected here (control characters anywhere, shell and Dockerfile syntax in
//! names and paths), and free text (env and label values) is quoted by the renderer.

use std::path::{Path, PathBuf};

use super::Family;

/// The longest string any spec field may hold.
pub const MAX_VALUE_BYTES: usize = 4096;

/// Any string: bounded, and free of control characters (a newline would start a new
/// Dockerfile instruction; NUL and the rest have no business in a Dockerfile).
pub fn text(value: &str) -> Result<(), String> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "value is {} bytes long; the limit is {MAX_VALUE_BYTES}",
            value.len()
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "value contains the control character {}; newlines, tabs, NUL and other control \
             characters are not allowed",
            c.escape_unicode()
        ));
    }
    Ok(())
}

fn first_bad_char(value: &str, ok: impl Fn(char) -> bool) -> Option<char> {
    value.chars().find(|&c| !ok(c))
}

fn describe(c: char) -> String {
    if c == ' ' {
        "a space".to_string()
    } else {
        format!("'{c}'")
    }
}

/// An RPM package name as `dnf install` takes it: `name`, or `name-version[-release][.arch]`
/// (for example `libpq`, `gcc-c++`, `postgresql15-15.4`). Letters, digits and `. _ + -`, not
/// starting with `-` or `.`; no globs, groups (`@x`), paths or URLs, which microdnf rejects anyway
/// (domain §2.2).
pub fn package(name: &str) -> Result<(), String> {
    text(name)?;
    if name.is_empty() {
        return Err("empty package name".into());
    }
    if name.len() > 256 {
        return Err(format!(
            "package name '{name}' is longer than 256 characters"
        ));
    }
    if let Some(c) = first_bad_char(name, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')
    }) {
        return Err(format!(
            "'{name}' is not a valid RPM package name: {} is not allowed (use letters, digits \
             and . _ + -, optionally name-version)",
            describe(c)
        ));
    }
    if name.starts_with(['-', '.']) {
        return Err(format!(
            "'{name}' is not a valid RPM package name: it must start with a letter, digit, '_' or '+'"
        ));
    }
    Ok(())
}

fn ident(s: &str, extra: &[char]) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || extra.contains(&c) => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
}

/// A file path segment in a handler (`src/app`, `my-handler`).
fn file_part(s: &str) -> bool {
    !s.is_empty()
        && s.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}

/// The handler string for a runtime family, as the AWS base images read it from `CMD`
/// (domain §3): Python `module.function` (module may be `pkg/mod` or `pkg.mod`), Node.js
/// `file.export`, Ruby `file.method` or `file.Module::Class.method`, Java `package.Class` or
/// `package.Class::method`, .NET `Assembly::Namespace.Class::Method`, provided.al2023 any
/// single word (it reaches the bootstrap as `_HANDLER`).
pub fn handler(family: Family, h: &str) -> Result<(), String> {
    text(h)?;
    if h.len() > 256 {
        return Err("handler is longer than 256 characters".into());
    }
    let expected = match family {
        Family::Python => "module.function, e.g. app.handler or pkg/mod.handler",
        Family::Nodejs => "file.export, e.g. app.handler or src/index.handler",
        Family::Ruby => {
            "file.method or file.Module::Class.method, e.g. app.LambdaFunction::Handler.process"
        }
        Family::Java => {
            "package.Class or package.Class::method, e.g. example.Handler::handleRequest"
        }
        Family::Dotnet => "Assembly::Namespace.Class::Method, e.g. Hello::Hello.Function::Handler",
        Family::Provided => "a single word without spaces, e.g. function.handler",
    };
    let ok = match family {
        Family::Python => match h.rsplit_once('.') {
            Some((module, func)) => {
                ident(func, &[]) && module.split(['/', '.']).all(|seg| ident(seg, &[]))
            }
            None => false,
        },
        Family::Nodejs => match h.rsplit_once('.') {
            Some((file, export)) => ident(export, &[]) && file_part(file),
            None => false,
        },
        Family::Ruby => match h.split_once('.') {
            Some((file, rest)) => {
                // rest: method | Const(::Const)*.method
                let (consts, method) = match rest.rsplit_once('.') {
                    Some((c, m)) => (Some(c), m),
                    None => (None, rest),
                };
                let method = method.strip_suffix(['?', '!']).unwrap_or(method);
                file_part(file)
                    && ident(method, &[])
                    && consts.is_none_or(|c| {
                        c.split("::").all(|seg| {
                            ident(seg, &[]) && seg.starts_with(|ch: char| ch.is_ascii_uppercase())
                        })
                    })
            }
            None => false,
        },
        Family::Java => {
            let (class, method) = match h.split_once("::") {
                Some((c, m)) => (c, Some(m)),
                None => (h, None),
            };
            class.split('.').all(|seg| ident(seg, &['$']))
                && method.is_none_or(|m| ident(m, &['$']))
        }
        Family::Dotnet => {
            let parts: Vec<&str> = h.split("::").collect();
            match parts.as_slice() {
                [assembly, class, method] => {
                    assembly.split('.').all(|seg| ident(seg, &[]))
                        && class.split('.').all(|seg| ident(seg, &[]))
                        && ident(method, &[])
                }
                _ => false,
            }
        }
        Family::Provided => {
            !h.is_empty()
                && h.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '+')
                })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid {family} handler '{h}', expected {expected}"
        ))
    }
}

/// Names that the base image or its entrypoint own (domain §1.1, §1.3).
const RESERVED_ENV: &[&str] = &["LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER"];

/// An environment variable name: `^[A-Za-z_][A-Za-z0-9_]*$`, not one the base image owns.
pub fn env_key(key: &str) -> Result<(), String> {
    text(key)?;
    if !ident(key, &[]) {
        return Err(format!(
            "invalid environment variable name '{key}': use letters, digits and '_', not starting \
             with a digit"
        ));
    }
    if RESERVED_ENV.contains(&key) {
        return Err(format!(
            "environment variable '{key}' is set by the Lambda base image and must not be \
             overridden"
        ));
    }
    Ok(())
}

/// A label key: letters, digits and `. _ - /`, starting and ending with a letter or digit
/// (reverse-DNS keys such as `com.example.team`).
pub fn label_key(key: &str) -> Result<(), String> {
    text(key)?;
    let ok = key.len() <= 256
        && key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key.ends_with(|c: char| c.is_ascii_alphanumeric())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid label key '{key}': use letters, digits and . _ - /, starting and ending with \
             a letter or digit"
        ))
    }
}

pub use crate::reference::Reference;

/// A Docker image reference: `[registry[:port]/]path[:tag][@sha256:<hex>]` (the one grammar
/// of [`crate::reference`]; a spec's digests must be sha256).
pub fn reference(value: &str) -> Result<Reference, String> {
    use crate::reference::Reason;
    text(value)?;
    let bad = || {
        format!(
            "'{value}' is not a valid image reference, expected [registry/]name[:tag][@sha256:digest]"
        )
    };
    let bad_digest =
        || format!("'{value}' has an invalid digest: expected sha256: and 64 lowercase hex digits");
    match value.parse::<Reference>() {
        Ok(r)
            if r.digest
                .as_deref()
                .is_some_and(|d| !crate::reference::is_sha256(d)) =>
        {
            Err(bad_digest())
        }
        Ok(r) => Ok(r),
        Err(e) if e.reason == Reason::Digest => {
            if value
                .split_once('@')
                .is_some_and(|(_, d)| d.starts_with("sha256:"))
            {
                Err(bad_digest())
            } else {
                Err(bad())
            }
        }
        Err(_) => Err(bad()),
    }
}

/// A path inside the spec's folder, in the form it will be written into the Dockerfile:
/// relative, `/`-separated, without `.` segments, a trailing `/` kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelPath {
    pub text: String,
    /// Whether it exists in the spec folder now.
    pub exists: bool,
    pub is_dir: bool,
}

/// Characters a path may use: they need no quoting or escaping in a Dockerfile (COPY expands
/// `$`, treats `*?[` as globs and splits on spaces).
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@' | '/' | '=' | ',')
}

/// Syntax only: relative, no `..`, safe characters. Returns the normalised text.
pub fn rel_path_syntax(raw: &str) -> Result<String, String> {
    text(raw)?;
    if raw.is_empty() {
        return Err("empty path".into());
    }
    if raw.starts_with('/') {
        return Err(format!(
            "'{raw}' is an absolute path; paths are relative to the spec's folder"
        ));
    }
    if let Some(c) = first_bad_char(raw, path_char) {
        return Err(format!(
            "path '{raw}' contains {}; paths may use letters, digits and . _ - + @ = , /",
            describe(c)
        ));
    }
    let mut segments = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "path '{raw}' uses '..'; paths must stay inside the spec's folder"
                ))
            }
            s if s.starts_with('-') => {
                return Err(format!("path '{raw}' has a segment starting with '-'"))
            }
            s => segments.push(s),
        }
    }
    if segments.is_empty() {
        return Ok(".".to_string());
    }
    let mut out = segments.join("/");
    if raw.ends_with('/') {
        out.push('/');
    }
    Ok(out)
}

/// A path relative to `dir` that must stay inside it once symlinks are resolved. When
/// `must_exist` is false (a build output), the path may be missing, but whatever part of it
/// exists must still resolve inside the folder.
pub fn rel_path(dir: &Path, raw: &str, must_exist: bool) -> Result<RelPath, String> {
    let text = rel_path_syntax(raw)?;
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve the spec folder {}: {e}", dir.display()))?;
    let full = dir.join(text.trim_end_matches('/'));
    // The deepest existing ancestor (the path itself when it exists).
    let mut probe: PathBuf = full.clone();
    let mut exists = true;
    loop {
        if probe.symlink_metadata().is_ok() {
            break;
        }
        exists = false;
        if !probe.pop() {
            break;
        }
    }
    if exists {
        let resolved = full
            .canonicalize()
            .map_err(|e| format!("'{raw}' cannot be resolved: {e}"))?;
        if !resolved.starts_with(&root) {
            return Err(format!(
                "'{raw}' resolves to {} (through a symlink), outside the spec's folder",
                resolved.display()
            ));
        }
        let is_dir = resolved.is_dir();
        if text.ends_with('/') && !is_dir {
            return Err(format!("'{raw}' ends with '/' but is not a directory"));
        }
        return Ok(RelPath {
            text,
            exists: true,
            is_dir,
        });
    }
    if must_exist {
        return Err(format!(
            "'{raw}' does not exist in {} (mark build outputs with build_output: true)",
            dir.display()
        ));
    }
    if let Ok(resolved) = probe.canonicalize() {
        if !resolved.starts_with(&root) {
            return Err(format!(
                "'{raw}' resolves to {} (through a symlink), outside the spec's folder",
                resolved.display()
            ));
        }
    }
    let is_dir = text.ends_with('/');
    Ok(RelPath {
        text,
        exists: false,
        is_dir,
    })
}

/// `dest` of a `copy` entry: relative to `LAMBDA_TASK_ROOT`, same character rules as a path.
pub fn dest(raw: &str) -> Result<String, String> {
    rel_path_syntax(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages() {
        for ok in [
            "libpq",
            "gcc-c++",
            "postgresql15-15.4",
            "python3.12-devel",
            "glibc.x86_64",
            "_x",
        ] {
            assert!(package(ok).is_ok(), "{ok}");
        }
        for bad in [
            "-y",
            "foo; rm -rf /",
            "foo bar",
            "@Development",
            "./x.rpm",
            "https://x/y.rpm",
            "a*",
            "",
            ".x",
            "a\nb",
            "$(id)",
        ] {
            assert!(package(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn handlers() {
        let ok = [
            (Family::Python, "app.handler"),
            (Family::Python, "pkg/mod.handler"),
            (Family::Python, "pkg.mod.handler"),
            (Family::Nodejs, "index.handler"),
            (Family::Nodejs, "src/my-fn.handler"),
            (Family::Ruby, "app.LambdaFunction::Handler.process"),
            (Family::Ruby, "lambda_function.lambda_handler"),
            (Family::Java, "example.Handler::handleRequest"),
            (Family::Java, "example.Handler"),
            (Family::Java, "example.Outer$Inner::handle"),
            (Family::Dotnet, "Hello::Hello.Function::Handler"),
            (Family::Provided, "function.handler"),
            (Family::Provided, "bootstrap"),
        ];
        for (f, h) in ok {
            assert!(handler(f, h).is_ok(), "{f} {h}");
        }
        let bad = [
            (Family::Python, "app"),
            (Family::Python, "app.handler()"),
            (Family::Python, "app.handler; rm -rf /"),
            (Family::Python, "../app.handler"),
            (Family::Nodejs, "index"),
            (Family::Ruby, "app.lambda::handler"),
            (Family::Java, "example.Handler::"),
            (Family::Java, "a b"),
            (Family::Dotnet, "Hello.Function::Handler"),
            (Family::Provided, "two words"),
            (Family::Provided, "x\"]"),
            (Family::Provided, ""),
        ];
        for (f, h) in bad {
            assert!(handler(f, h).is_err(), "{f} {h}");
        }
    }

    #[test]
    fn references() {
        let r = reference("public.ecr.aws/lambda/python:3.13").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.repository(), "public.ecr.aws/lambda/python");
        assert_eq!(r.tag.as_deref(), Some("3.13"));
        let d = format!(
            "public.ecr.aws/lambda/python:3.13@sha256:{}",
            "a".repeat(64)
        );
        assert_eq!(
            reference(&d).ok().and_then(|r| r.digest),
            Some(format!("sha256:{}", "a".repeat(64)))
        );
        for ok in [
            "orders:latest",
            "localhost:5000/orders",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/orders:1.0",
        ] {
            assert!(reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Orders",
            "orders:",
            "a b",
            "x:y;z",
            "x@sha256:abc",
            "-x",
            "x/../y",
            "$X",
        ] {
            assert!(reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_syntax() {
        assert_eq!(rel_path_syntax("./src/").as_deref(), Ok("src/"));
        assert_eq!(rel_path_syntax(".").as_deref(), Ok("."));
        assert_eq!(rel_path_syntax("a//b").as_deref(), Ok("a/b"));
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../../b",
            "a b",
            "$HOME",
            "*.py",
            "a\nb",
            "-rf",
            "x\"y",
        ] {
            assert!(rel_path_syntax(bad).is_err(), "{bad}");
        }
    }
}
