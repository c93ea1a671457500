//! Image references as the docker CLI reads them: `[registry/]path[:tag][@digest]`.
//!
//! The registry is the first component when it contains a `.` or a `:` or is `localhost`;
//! otherwise the image is on Docker Hub (`docker.io`, with `library/` for one-component
//! names). Tags are at most 128 characters of `[A-Za-z0-9_.-]`, not starting with `.` or
//! `-`; a digest is `sha256:` and 64 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `public.ecr.aws`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `127.0.0.1:5000`;
    /// `None` for Docker Hub as written without a host.
    pub registry: Option<String>,
    /// `lambda/python`, `orders`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// The registry host, `docker.io` when none was written.
    pub fn registry_host(&self) -> &str {
        self.registry.as_deref().unwrap_or("docker.io")
    }

    /// `registry/path` as written (no tag or digest): the repository.
    pub fn repository(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The tag, `latest` when neither a tag nor a digest was written.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Why a text is not a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError(pub String);

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReferenceError {}

/// Whether `digest` is `sha256:` and 64 lowercase hex digits.
pub fn is_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A path component: lowercase alphanumerics separated by `.`, `_`, `__` or `-` runs.
fn is_component(c: &str) -> bool {
    !c.is_empty()
        && c.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && c.bytes()
            .last()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && c.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| ReferenceError(format!("`{text}` is not an image reference: {why}"));
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        if text.len() > 255 + 128 + 72 {
            return Err(bad("it is too long"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                if !is_digest(digest) {
                    return Err(bad(
                        "the digest must be sha256: and 64 lowercase hex digits",
                    ));
                }
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest.get(i..).unwrap_or_default().contains('/') => (
                rest.get(..i).unwrap_or_default(),
                Some(rest.get(i + 1..).unwrap_or_default().to_string()),
            ),
            _ => (rest, None),
        };
        if let Some(tag) = &tag {
            if !is_tag(tag) {
                return Err(bad(
                    "a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
                ));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                if !is_host(first) {
                    return Err(bad("the registry host has characters a host cannot have"));
                }
                (Some(first.to_string()), rest)
            }
            _ => (None, name),
        };
        if path.is_empty() || !path.split('/').all(is_component) {
            return Err(bad(
                "the repository must be lowercase letters, digits and separators (`.`, `_`, `-`, `/`)",
            ));
        }
        Ok(Reference {
            registry,
            path: path.to_string(),
            tag,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Reference, ReferenceError> {
        text.parse()
    }

    #[test]
    fn hosts_paths_tags_and_digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("public.ecr.aws/lambda/python:3.13@{d}")).expect("parses");
        assert_eq!(r.registry.as_deref(), Some("public.ecr.aws"));
        assert_eq!(r.path, "lambda/python");
        assert_eq!(r.tag.as_deref(), Some("3.13"));
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        let r = parse("127.0.0.1:5000/orders").expect("parses");
        assert_eq!(r.registry_host(), "127.0.0.1:5000");
        assert_eq!(r.tag_or_latest(), "latest");
        let r = parse("orders:x86_64").expect("parses");
        assert_eq!(r.registry_host(), "docker.io");
        assert_eq!(r.repository(), "orders");
        assert_eq!(r.to_string(), "orders:x86_64");
        let r = parse("lambda-image-test/e2e-python313:latest").expect("parses");
        assert_eq!(r.registry, None);
        assert_eq!(r.path, "lambda-image-test/e2e-python313");
    }

    #[test]
    fn bad_references_say_why() {
        for (text, why) in [
            ("", "empty"),
            ("Orders", "lowercase"),
            ("orders:", "a tag is"),
            ("orders:-x", "a tag is"),
            ("orders@sha256:12", "digest"),
            ("a//b", "lowercase"),
            ("x y", "lowercase"),
        ] {
            let err = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
