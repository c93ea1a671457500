//! Image references as the docker CLI reads them: `[registry/]path[:tag][@digest]`.
//!
//! One parser for every reference lambda-image reads (FROM lines, spec `base:` and `tags:`,
//! `--tag`, and later push destinations), by the distribution reference grammar: the
//! registry is the first component when it contains a `.` or a `:`, is `localhost`, or has
//! an upper-case letter; otherwise the image is on Docker Hub (`docker.io`). Path components
//! are `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`; tags are at most 128 characters of
//! `[A-Za-z0-9_.-]`, not starting with `.` or `-`; digests are `sha256`, `sha384` or
//! `sha512` with their number of lowercase hex digits.

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

    /// `repository[:tag]`, the name without the digest.
    pub fn name(&self) -> String {
        match &self.tag {
            Some(tag) => format!("{}:{tag}", self.repository()),
            None => self.repository(),
        }
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

/// Why a text is not a reference. [`Reason::as_str`] is a phrase that follows the text
/// (`` `x` has an invalid tag ``).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Empty,
    Digest,
    Tag,
    Name,
    UpperCase,
    RegistryHost,
    RegistryPort,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Empty => "is empty",
            Reason::Digest => "has a malformed digest",
            Reason::Tag => "has an invalid tag",
            Reason::Name => "is not a valid image name",
            Reason::UpperCase => "must be lower-case",
            Reason::RegistryHost => "has an invalid registry host",
            Reason::RegistryPort => "has an invalid registry port",
        }
    }
}

/// A text that is not a reference, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    pub text: String,
    pub reason: Reason,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an image reference: it {}",
            self.text,
            self.reason.as_str()
        )
    }
}

impl std::error::Error for ReferenceError {}

/// Whether `digest` is `sha256:` and 64 lowercase hex digits (what lambda-image writes and
/// what registries return).
pub fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A digest as the distribution grammar allows it: `sha256`, `sha384` or `sha512` with the
/// matching number of lowercase hex digits.
fn is_digest(digest: &str) -> bool {
    let Some((algo, hex)) = digest.split_once(':') else {
        return false;
    };
    let len = match algo {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut need_alnum = true;
    while let Some(&b) = bytes.get(i) {
        if alnum(b) {
            need_alnum = false;
            i += 1;
            continue;
        }
        if need_alnum {
            return false;
        }
        match b {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        need_alnum = true;
    }
    !need_alnum
}

fn check_domain(domain: &str) -> Result<(), Reason> {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Reason::RegistryPort);
        }
    }
    let ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.starts_with(|c: char| c.is_ascii_alphanumeric())
                && label.ends_with(|c: char| c.is_ascii_alphanumeric())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(Reason::RegistryHost)
    }
}

/// A reference taken apart without checking it: the lenient entry, for `FROM` lines that
/// may still hold `${VAR}` and for names that only need their parts. `repo` is everything
/// before the tag, registry included as written; the tag is after the first `:` that
/// follows the last `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub repo: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits `text` into [`Parts`], checking nothing.
pub fn split_lenient(text: &str) -> Parts<'_> {
    let (name_tag, digest) = match text.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (text, None),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    match name_tag
        .get(last_slash..)
        .and_then(|last| last.find(':'))
        .map(|i| last_slash + i)
    {
        Some(colon) => Parts {
            repo: name_tag.get(..colon).unwrap_or(name_tag),
            tag: name_tag.get(colon + 1..),
            digest,
        },
        None => Parts {
            repo: name_tag,
            tag: None,
            digest,
        },
    }
}

/// Whether the first component of a name is a registry host by its spelling (a `.` or a
/// `:`, or `localhost`); the grammar also takes one with an upper-case letter.
pub fn names_registry(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost"
}

/// Whether `repo` (no tag) is on Docker Hub: no registry host, or one of Docker Hub's.
pub fn on_docker_hub(repo: &str) -> bool {
    match repo.split_once('/') {
        Some((first, _)) => {
            !names_registry(first)
                || matches!(
                    first,
                    "docker.io" | "index.docker.io" | "registry-1.docker.io"
                )
        }
        None => true,
    }
}

/// An ECR private registry host: `123456789012.dkr.ecr.eu-west-1.amazonaws.com` (also
/// `dkr.ecr-fips` and the `.amazonaws.com.cn` partition).
pub fn is_ecr_host(host: &str) -> bool {
    let Some((account, rest)) = host.split_once('.') else {
        return false;
    };
    let Some(rest) = rest
        .strip_prefix("dkr.ecr.")
        .or_else(|| rest.strip_prefix("dkr.ecr-fips."))
    else {
        return false;
    };
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"));
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && region.is_some_and(|r| {
            !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Parses `text` by the distribution reference grammar: [`split_lenient`], then every part
/// checked.
fn parse(text: &str) -> Result<Reference, Reason> {
    if text.is_empty() {
        return Err(Reason::Empty);
    }
    let parts = split_lenient(text);
    if parts.digest.is_some_and(|d| !is_digest(d)) {
        return Err(Reason::Digest);
    }
    let digest = parts.digest.map(str::to_string);
    let (name, tag) = (parts.repo, parts.tag.map(str::to_string));
    if let Some(tag) = &tag {
        if !is_tag(tag) {
            return Err(Reason::Tag);
        }
    }
    if name.is_empty() || name.len() > 255 {
        return Err(Reason::Name);
    }
    let (registry, path) = match name.split_once('/') {
        Some((first, rest))
            if names_registry(first) || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            check_domain(first)?;
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    };
    for component in path.split('/') {
        if component.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(Reason::UpperCase);
        }
        if !is_component(component) {
            return Err(Reason::Name);
        }
    }
    Ok(Reference {
        registry,
        path: path.to_string(),
        tag,
        digest,
    })
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).map_err(|reason| ReferenceError {
            text: text.to_string(),
            reason,
        })
    }
}

/// The first 12 hex digits of an image id or digest (`sha256:` left off), as the docker CLI
/// shows them.
pub fn short_id(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.get(..12).unwrap_or(hex)
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
            ("", "is empty"),
            ("Orders", "must be lower-case"),
            ("orders:", "invalid tag"),
            ("orders:-x", "invalid tag"),
            ("orders@sha256:12", "malformed digest"),
            ("a//b", "not a valid image name"),
            ("x y", "not a valid image name"),
            ("exa_mple.com/x", "invalid registry host"),
            ("localhost:/x", "invalid registry port"),
            ("a:b:c", "invalid tag"),
        ] {
            let err = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn lenient_split_takes_from_lines_with_variables() {
        let p = split_lenient("${REGISTRY}/lambda/python:${TAG}-arm64@sha256:00");
        assert_eq!(p.repo, "${REGISTRY}/lambda/python");
        assert_eq!(p.tag, Some("${TAG}-arm64"));
        assert_eq!(p.digest, Some("sha256:00"));
        assert_eq!(split_lenient("localhost:5000/x").tag, None);
        assert!(on_docker_hub("amazon/aws-lambda-python"));
        assert!(on_docker_hub("docker.io/library/amazonlinux"));
        assert!(!on_docker_hub("public.ecr.aws/lambda/python"));
    }

    #[test]
    fn ecr_hosts() {
        for (host, ecr) in [
            ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", true),
            ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", true),
            ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", true),
            ("127.0.0.1:5000", false),
            ("public.ecr.aws", false),
            ("1234.dkr.ecr.eu-west-1.amazonaws.com", false),
        ] {
            assert_eq!(is_ecr_host(host), ecr, "{host}");
        }
    }
}
