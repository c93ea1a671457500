//! Base-image classes (lint-rules.md, "Base-image classes"; domain.md §1.2).

/// What a stage's base image implies about its package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaseClass {
    /// AWS Lambda base image on AL2023 minimal (or the `amazonlinux:2023-minimal` image it is
    /// built from): microdnf 3.8.1, `dnf` a symlink to it, no yum.
    LambdaAl2023,
    /// AWS Lambda base image on Amazon Linux 2 (or AL1): yum.
    LambdaAl2,
    /// amazonlinux:2023 or a SAM build image on AL2023: full dnf 4, `yum` an alias.
    AmazonLinux2023,
    /// amazonlinux:2 or a SAM build image on AL2: yum.
    AmazonLinux2,
    /// Anything else, an unresolved variable, or scratch.
    Unknown,
}

impl BaseClass {
    /// The class name used in messages and docs (`lambda-al2023`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            BaseClass::LambdaAl2023 => "lambda-al2023",
            BaseClass::LambdaAl2 => "lambda-al2",
            BaseClass::AmazonLinux2023 => "amazonlinux2023",
            BaseClass::AmazonLinux2 => "amazonlinux2",
            BaseClass::Unknown => "unknown",
        }
    }

    /// Any AL2023 class (Lambda minimal or full amazonlinux:2023).
    pub fn is_al2023(self) -> bool {
        matches!(self, BaseClass::LambdaAl2023 | BaseClass::AmazonLinux2023)
    }

    /// Whether the stage is rpm-based as far as we know.
    pub fn is_rpm(self) -> bool {
        !matches!(self, BaseClass::Unknown)
    }
}

/// What the classifier knows of one image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    pub class: BaseClass,
    /// A Lambda (`public.ecr.aws/lambda/*`, `amazon/aws-lambda-*`) base image.
    pub is_lambda: bool,
    /// A Lambda or amazonlinux image with `latest` or no tag and no digest (LI302).
    pub floating: bool,
    /// For `lambda-al2` images, the AL2023 successor reference (LI301), e.g.
    /// `public.ecr.aws/lambda/python:3.12` for `public.ecr.aws/lambda/python:3.11`.
    pub successor: Option<String>,
}

/// A reference taken apart: `repo` is everything before the tag (registry included, as written).
struct Reference<'a> {
    repo: &'a str,
    tag: Option<&'a str>,
    digest: bool,
}

fn split_reference(image: &str) -> Reference<'_> {
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    match name_tag
        .get(last_slash..)
        .and_then(|last| last.find(':'))
        .map(|i| last_slash + i)
    {
        Some(colon) => Reference {
            repo: name_tag.get(..colon).unwrap_or(name_tag),
            tag: name_tag.get(colon + 1..),
            digest,
        },
        None => Reference {
            repo: name_tag,
            tag: None,
            digest,
        },
    }
}

/// The repository without a Docker Hub prefix (`docker.io/`, `index.docker.io/`, `library/`).
fn hub_path(repo: &str) -> &str {
    let r = repo
        .strip_prefix("docker.io/")
        .or_else(|| repo.strip_prefix("index.docker.io/"))
        .or_else(|| repo.strip_prefix("registry-1.docker.io/"))
        .unwrap_or(repo);
    r.strip_prefix("library/").unwrap_or(r)
}

/// The Lambda language of a base-image repository (`public.ecr.aws/lambda/python`,
/// `amazon/aws-lambda-python`; domain.md §1.2).
fn lambda_language(repo: &str) -> Option<&str> {
    repo.strip_prefix("public.ecr.aws/lambda/")
        .or_else(|| hub_path(repo).strip_prefix("amazon/aws-lambda-"))
        .filter(|l| !l.is_empty() && !l.contains('/'))
}

/// Removes an architecture suffix (`-x86_64`, `-arm64`), returning (tag, suffix).
fn strip_arch(tag: &str) -> (&str, &str) {
    for suffix in ["-x86_64", "-arm64", "-amd64", "-aarch64"] {
        if let Some(t) = tag.strip_suffix(suffix) {
            return (t, tag.get(t.len()..).unwrap_or(""));
        }
    }
    (tag, "")
}

/// Removes a dated build suffix: `3.11.2023.12.05.16` → `3.11`, `8.al2.2024.01.05.10` → `8.al2`.
fn strip_date(tag: &str) -> &str {
    let mut end = 0usize;
    for (i, part) in tag.split('.').enumerate() {
        let is_year =
            part.len() == 4 && part.starts_with("20") && part.bytes().all(|b| b.is_ascii_digit());
        if is_year && i > 0 {
            return tag.get(..end.saturating_sub(1)).unwrap_or(tag);
        }
        end += part.len() + 1;
    }
    tag
}

/// Leading (major, minor) numbers of a version (`3.12` → (3, 12), `20.x` → (20, None)).
fn version(v: &str) -> Option<(u32, Option<u32>)> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok());
    Some((major, minor))
}

/// Generation of a Lambda runtime image tag (arch suffix and date already removed): `Some(true)`
/// for AL2023, `Some(false)` for AL2 (and AL1, which has no yum-less successor either), `None`
/// if unknown. Floating tags (`latest`) are handled by the caller. domain.md §1.2.
fn lambda_generation(lang: &str, tag: &str) -> Option<bool> {
    if tag.ends_with(".al2023") || tag == "al2023" {
        return Some(true);
    }
    if tag.ends_with(".al2") || tag == "al2" {
        return Some(false);
    }
    match lang {
        // python3.12+ are AL2023; 2.7, 3.6, 3.7 (AL1) and 3.8–3.11 (AL2) are not.
        "python" => version(tag).map(|(ma, mi)| ma > 3 || (ma == 3 && mi.unwrap_or(0) >= 12)),
        "nodejs" => version(tag).map(|(ma, _)| ma >= 20),
        // java:8 (AL1), 8.al2, 11, 17 → AL2; 21, 25 → AL2023.
        "java" => version(tag).map(|(ma, _)| ma >= 21),
        "ruby" => version(tag).map(|(ma, mi)| ma > 3 || (ma == 3 && mi.unwrap_or(0) >= 3)),
        "dotnet" => {
            if tag.starts_with("core") {
                Some(false)
            } else {
                version(tag).map(|(ma, _)| ma >= 8)
            }
        }
        "dotnetcore" => Some(false),
        // provided (alami) is AL1.
        "provided" => (tag == "alami").then_some(false),
        "go" => Some(false),
        _ => None,
    }
}

/// The AL2023 successor tag of an AL2 Lambda image tag (lint-rules.md LI301), as (language, tag).
fn lambda_successor(lang: &str, tag: &str) -> Option<(&'static str, String)> {
    let major = version(tag).map(|(m, _)| m);
    let with_al2023 = |v: &str| format!("{v}.al2023");
    match lang {
        "python" => Some(("python", "3.12".into())),
        "nodejs" => Some(("nodejs", "20".into())),
        "java" => {
            let base = tag.strip_suffix(".al2").unwrap_or(tag);
            match major {
                Some(8 | 11 | 17) => Some(("java", with_al2023(base))),
                _ => Some(("java", "21".into())),
            }
        }
        "ruby" => Some(("ruby", "3.3".into())),
        "dotnet" | "dotnetcore" => Some(("dotnet", "8".into())),
        "provided" | "go" => Some(("provided", "al2023".into())),
        _ => None,
    }
}

/// (language, tag) of a SAM build image runtime id: `python3.12` → (python, 3.12),
/// `nodejs20.x` → (nodejs, 20.x), `java8.al2` → (java, 8.al2), `provided.al2023` → (provided,
/// al2023), `dotnetcore3.1` → (dotnet, core3.1), `provided` → (provided, alami).
fn runtime_id(id: &str) -> Option<(&str, String)> {
    for lang in [
        "python",
        "nodejs",
        "java",
        "ruby",
        "dotnetcore",
        "dotnet",
        "go",
    ] {
        if let Some(v) = id.strip_prefix(lang) {
            if v.is_empty() {
                return None;
            }
            return Some(match lang {
                "dotnetcore" => ("dotnet", format!("core{v}")),
                _ => (lang, v.to_string()),
            });
        }
    }
    match id.strip_prefix("provided") {
        Some("") => Some(("provided", "alami".into())),
        Some(rest) => Some(("provided", rest.trim_start_matches('.').to_string())),
        None => None,
    }
}

fn is_floating(tag: Option<&str>, digest: bool) -> bool {
    !digest && tag.is_none_or(|t| strip_arch(t).0 == "latest")
}

/// Classifies an image reference (after ARG substitution).
///
/// Lambda base images (`public.ecr.aws/lambda/<lang>:<tag>`, `amazon/aws-lambda-<lang>`) by
/// runtime generation; `amazonlinux` by major version; SAM build images
/// (`public.ecr.aws/sam/build-<runtime>`, `amazon/aws-sam-cli-build-image-<runtime>`) by their
/// runtime's generation. `latest` or no tag resolves as AL2023, as those tags do today
/// (domain.md §1.2), and is `floating` unless pinned by digest.
pub fn classify(image: &str) -> BaseImage {
    let r = split_reference(image);
    let unknown = BaseImage {
        class: BaseClass::Unknown,
        is_lambda: false,
        floating: false,
        successor: None,
    };

    if let Some(lang) = lambda_language(r.repo) {
        let floating = is_floating(r.tag, r.digest);
        let Some(tag) = r.tag else {
            let class = if r.digest {
                BaseClass::Unknown
            } else {
                BaseClass::LambdaAl2023
            };
            return BaseImage {
                class,
                is_lambda: true,
                floating,
                successor: None,
            };
        };
        let (bare, arch) = strip_arch(tag);
        let bare = strip_date(bare);
        let generation = if bare == "latest" {
            Some(lang != "go")
        } else {
            lambda_generation(lang, bare)
        };
        let class = match generation {
            Some(true) => BaseClass::LambdaAl2023,
            Some(false) => BaseClass::LambdaAl2,
            None => BaseClass::Unknown,
        };
        let successor = (class == BaseClass::LambdaAl2)
            .then(|| lambda_successor(lang, bare))
            .flatten()
            .map(|(new_lang, new_tag)| {
                let repo = match r.repo.rfind(lang) {
                    Some(at) if r.repo.ends_with(lang) => {
                        format!("{}{new_lang}", r.repo.get(..at).unwrap_or(""))
                    }
                    _ => r.repo.to_string(),
                };
                format!("{repo}:{new_tag}{arch}")
            });
        return BaseImage {
            class,
            is_lambda: true,
            floating,
            successor,
        };
    }

    let path = hub_path(r.repo);
    if path == "amazonlinux" || r.repo == "public.ecr.aws/amazonlinux/amazonlinux" {
        let floating = is_floating(r.tag, r.digest);
        let class = match r.tag.map(|t| strip_arch(t).0) {
            None | Some("latest") if !r.digest || r.tag.is_some() => BaseClass::AmazonLinux2023,
            None | Some("latest") => BaseClass::Unknown,
            // The AL2023 minimal container image is the one Lambda's AL2023 images are built
            // from: microdnf with `dnf` a symlink to it, no yum (§2.1, container-images#110).
            Some(t) if t.starts_with("2023") && t.ends_with("-minimal") => BaseClass::LambdaAl2023,
            Some(t) if t.starts_with("2023") => BaseClass::AmazonLinux2023,
            // AL1 (`1`, `2018.03`, `2017.09`) has yum as well.
            Some(t)
                if t == "1"
                    || t.starts_with("1.")
                    || t.starts_with("2018")
                    || t.starts_with("2017") =>
            {
                BaseClass::AmazonLinux2
            }
            Some(t) if t == "2" || t.starts_with("2.") || t.starts_with("2-") => {
                BaseClass::AmazonLinux2
            }
            Some(_) => BaseClass::Unknown,
        };
        return BaseImage {
            class,
            is_lambda: false,
            floating,
            successor: None,
        };
    }

    let sam = r
        .repo
        .strip_prefix("public.ecr.aws/sam/build-")
        .or_else(|| path.strip_prefix("amazon/aws-sam-cli-build-image-"));
    if let Some((lang, tag)) = sam.and_then(runtime_id) {
        let class = match lambda_generation(lang, &tag) {
            Some(true) => BaseClass::AmazonLinux2023,
            Some(false) => BaseClass::AmazonLinux2,
            None => BaseClass::Unknown,
        };
        return BaseImage { class, ..unknown };
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(image: &str) -> BaseClass {
        classify(image).class
    }

    #[test]
    fn lambda_al2023_images() {
        for image in [
            "public.ecr.aws/lambda/python:3.12",
            "public.ecr.aws/lambda/python:3.13",
            "public.ecr.aws/lambda/python:3.14",
            "public.ecr.aws/lambda/python:3.15",
            "public.ecr.aws/lambda/python:3.12-arm64",
            "public.ecr.aws/lambda/python:3.12-x86_64",
            "public.ecr.aws/lambda/python:3.12.2024.01.05.12",
            "public.ecr.aws/lambda/nodejs:20",
            "public.ecr.aws/lambda/nodejs:22",
            "public.ecr.aws/lambda/nodejs:24",
            "public.ecr.aws/lambda/java:21",
            "public.ecr.aws/lambda/java:25",
            "public.ecr.aws/lambda/java:17.al2023",
            "public.ecr.aws/lambda/java:11.al2023-x86_64",
            "public.ecr.aws/lambda/java:8.al2023",
            "public.ecr.aws/lambda/ruby:3.3",
            "public.ecr.aws/lambda/ruby:3.4",
            "public.ecr.aws/lambda/ruby:4.0",
            "public.ecr.aws/lambda/dotnet:8",
            "public.ecr.aws/lambda/dotnet:9",
            "public.ecr.aws/lambda/dotnet:10",
            "public.ecr.aws/lambda/provided:al2023",
            "public.ecr.aws/lambda/provided:al2023-arm64",
            "amazon/aws-lambda-python:3.12",
            "docker.io/amazon/aws-lambda-nodejs:20",
            "public.ecr.aws/lambda/python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            let b = classify(image);
            assert_eq!(b.class, BaseClass::LambdaAl2023, "{image}");
            assert!(b.is_lambda && !b.floating && b.successor.is_none(), "{image}");
        }
    }

    #[test]
    fn lambda_al2_images_and_their_successors() {
        for (image, successor) in [
            ("public.ecr.aws/lambda/python:3.11", "public.ecr.aws/lambda/python:3.12"),
            ("public.ecr.aws/lambda/python:3.8", "public.ecr.aws/lambda/python:3.12"),
            ("public.ecr.aws/lambda/python:3.7", "public.ecr.aws/lambda/python:3.12"),
            ("public.ecr.aws/lambda/python:3.6", "public.ecr.aws/lambda/python:3.12"),
            ("public.ecr.aws/lambda/python:3.11-arm64", "public.ecr.aws/lambda/python:3.12-arm64"),
            ("public.ecr.aws/lambda/python:3.11.2023.12.05.16", "public.ecr.aws/lambda/python:3.12"),
            (
                "public.ecr.aws/lambda/python:3.9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "public.ecr.aws/lambda/python:3.12",
            ),
            ("public.ecr.aws/lambda/nodejs:18", "public.ecr.aws/lambda/nodejs:20"),
            ("public.ecr.aws/lambda/nodejs:16.2022.08.22.13", "public.ecr.aws/lambda/nodejs:20"),
            ("public.ecr.aws/lambda/java:17", "public.ecr.aws/lambda/java:17.al2023"),
            ("public.ecr.aws/lambda/java:11", "public.ecr.aws/lambda/java:11.al2023"),
            ("public.ecr.aws/lambda/java:8.al2", "public.ecr.aws/lambda/java:8.al2023"),
            ("public.ecr.aws/lambda/java:8", "public.ecr.aws/lambda/java:8.al2023"),
            ("public.ecr.aws/lambda/ruby:3.2", "public.ecr.aws/lambda/ruby:3.3"),
            ("public.ecr.aws/lambda/dotnet:6", "public.ecr.aws/lambda/dotnet:8"),
            ("public.ecr.aws/lambda/dotnet:core3.1", "public.ecr.aws/lambda/dotnet:8"),
            ("public.ecr.aws/lambda/provided:al2", "public.ecr.aws/lambda/provided:al2023"),
            ("public.ecr.aws/lambda/provided:al2-x86_64", "public.ecr.aws/lambda/provided:al2023-x86_64"),
            ("public.ecr.aws/lambda/provided:alami", "public.ecr.aws/lambda/provided:al2023"),
            ("public.ecr.aws/lambda/go:1.x", "public.ecr.aws/lambda/provided:al2023"),
            ("amazon/aws-lambda-python:3.9", "amazon/aws-lambda-python:3.12"),
            ("docker.io/amazon/aws-lambda-go:1", "docker.io/amazon/aws-lambda-provided:al2023"),
        ] {
            let b = classify(image);
            assert_eq!(b.class, BaseClass::LambdaAl2, "{image}");
            assert!(b.is_lambda && !b.floating, "{image}");
            assert_eq!(b.successor.as_deref(), Some(successor), "{image}");
        }
    }

    #[test]
    fn floating_tags_resolve_as_al2023() {
        for image in [
            "public.ecr.aws/lambda/python",
            "public.ecr.aws/lambda/python:latest",
            "amazon/aws-lambda-nodejs:latest",
            "public.ecr.aws/lambda/provided:latest",
        ] {
            let b = classify(image);
            assert_eq!(b.class, BaseClass::LambdaAl2023, "{image}");
            assert!(b.floating && b.is_lambda, "{image}");
        }
        for image in [
            "amazonlinux",
            "amazonlinux:latest",
            "docker.io/library/amazonlinux",
            "public.ecr.aws/amazonlinux/amazonlinux:latest",
        ] {
            let b = classify(image);
            assert_eq!(b.class, BaseClass::AmazonLinux2023, "{image}");
            assert!(b.floating && !b.is_lambda, "{image}");
        }
        let pinned = classify("public.ecr.aws/lambda/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert!(!pinned.floating);
    }

    #[test]
    fn amazonlinux_and_sam_build_images() {
        for (image, want) in [
            ("amazonlinux:2023", BaseClass::AmazonLinux2023),
            ("amazonlinux:2023.6.20241212.0", BaseClass::AmazonLinux2023),
            (
                "public.ecr.aws/amazonlinux/amazonlinux:2023",
                BaseClass::AmazonLinux2023,
            ),
            ("amazonlinux:2", BaseClass::AmazonLinux2),
            ("amazonlinux:2.0.20240109.0", BaseClass::AmazonLinux2),
            (
                "public.ecr.aws/amazonlinux/amazonlinux:2",
                BaseClass::AmazonLinux2,
            ),
            ("amazonlinux:1", BaseClass::AmazonLinux2),
            ("amazonlinux:2018.03", BaseClass::AmazonLinux2),
            (
                "public.ecr.aws/sam/build-python3.12",
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/sam/build-python3.12:latest-x86_64",
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/sam/build-nodejs20.x",
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/sam/build-java21",
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/sam/build-provided.al2023",
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/sam/build-dotnet8",
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/sam/build-python3.9",
                BaseClass::AmazonLinux2,
            ),
            (
                "public.ecr.aws/sam/build-nodejs18.x",
                BaseClass::AmazonLinux2,
            ),
            (
                "public.ecr.aws/sam/build-java8.al2",
                BaseClass::AmazonLinux2,
            ),
            (
                "public.ecr.aws/sam/build-provided.al2",
                BaseClass::AmazonLinux2,
            ),
            (
                "public.ecr.aws/sam/build-dotnetcore3.1",
                BaseClass::AmazonLinux2,
            ),
            ("public.ecr.aws/sam/build-go1.x", BaseClass::AmazonLinux2),
            (
                "amazon/aws-sam-cli-build-image-python3.8",
                BaseClass::AmazonLinux2,
            ),
        ] {
            let b = classify(image);
            assert_eq!(b.class, want, "{image}");
            assert!(
                !b.is_lambda && !b.floating && b.successor.is_none(),
                "{image}"
            );
        }
    }

    #[test]
    fn amazonlinux_minimal_has_microdnf_like_lambda_images() {
        for image in [
            "amazonlinux:2023-minimal",
            "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal",
            "amazonlinux:2023.6.20250107.0-minimal",
        ] {
            let b = classify(image);
            assert_eq!(b.class, BaseClass::LambdaAl2023, "{image}");
            assert!(
                !b.is_lambda && !b.floating && b.successor.is_none(),
                "{image}"
            );
        }
    }

    #[test]
    fn everything_else_is_unknown() {
        for image in [
            "scratch",
            "python:3.12",
            "ubuntu:22.04",
            "public.ecr.aws/docker/library/python:3.12",
            "public.ecr.aws/lambda/python:next",
            "public.ecr.aws/lambda/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "myregistry.example.com/lambda/python:3.12",
            "amazonlinux:next",
            "",
        ] {
            assert_eq!(class(image), BaseClass::Unknown, "{image}");
        }
    }
}
