//! Base-image classes (lint-rules.md, "Base-image classes"; domain.md §1.2).
//!
//! [`classify`] reads an image reference by the built-in catalogue: the AWS Lambda base images
//! (`public.ecr.aws/lambda/*`, Docker Hub's `amazon/aws-lambda-*`), `amazonlinux`, the SAM build
//! images, and the mirrors of them that resolve to the same image: ECR Public's copy of Docker
//! Hub's library images (`public.ecr.aws/docker/library/amazonlinux`) and ECR pull-through caches
//! under their usual prefixes (`<account>.dkr.ecr.<region>.amazonaws.com/ecr-public/lambda/python`,
//! `…/docker-hub/library/amazonlinux`). A [`Resolver`] adds the project's own prefixes
//! (`base-aliases`) and the AL2023 runtimes LI301 moves to (`runtime-targets`).

use std::collections::BTreeMap;

use crate::reference::{is_ecr_host, on_docker_hub, split_lenient, Parts};
use crate::runtimes;

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

/// Stands, in an image reference, for the value of an `ARG` known only at build time
/// (declared without a default and not given with `--build-arg`):
/// `public.ecr.aws/lambda/python:3.12-$IMAGE_ARCH` is classified as
/// `public.ecr.aws/lambda/python:3.12-` followed by this character.
pub const UNRESOLVED: char = '\u{0}';

/// What the classifier knows of one image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    pub class: BaseClass,
    /// A Lambda (`public.ecr.aws/lambda/*`, `amazon/aws-lambda-*`) base image.
    pub is_lambda: bool,
    /// A Lambda or amazonlinux image with `latest` or no tag and no digest (LI302).
    pub floating: bool,
    /// For `lambda-al2` images, the AL2023 image to move to (LI301).
    pub successor: Option<Successor>,
    /// Whether lambda-image knows what the image is: a class other than `unknown`, `scratch`,
    /// or one of Docker Hub's library images (`python:3.12`, `golang`, also through ECR Public's
    /// mirror), none of which is Amazon Linux. `false` for anything else: another registry or
    /// namespace, a variable left unresolved in the name, an unknown tag of a Lambda or
    /// amazonlinux image.
    pub recognised: bool,
}

impl BaseImage {
    fn unknown(recognised: bool) -> Self {
        BaseImage {
            class: BaseClass::Unknown,
            is_lambda: false,
            floating: false,
            successor: None,
            recognised,
        }
    }
}

/// The AL2023 image LI301 moves a `lambda-al2` stage to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Successor {
    /// The reference, spelt as the stage's image is (registry, mirror and arch suffix kept;
    /// a digest dropped): `public.ecr.aws/lambda/python:3.12` for `…/python:3.11`.
    pub image: String,
    /// The Lambda language of the new image (`python`, `provided` for `go`).
    pub language: &'static str,
    /// Its tag, without the arch suffix (`3.12`, `17.al2023`).
    pub tag: String,
    pub choice: Choice,
}

/// Why a successor was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `runtime-targets` names it.
    Configured,
    /// The oldest AL2023 version of the language (`python:3.12`, `nodejs:20`, `java:21`).
    Oldest,
    /// The same language version on AL2023 (`java:17` → `java:17.al2023`).
    SameVersion,
    /// The only AL2023 image of its kind (`provided:al2023`).
    Only,
}

/// How to read base images beyond the built-in catalogue: the project's `base-aliases` and
/// `runtime-targets` (`.lambda-image.yaml`, `lint:` section).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolver {
    /// (image prefix, upstream prefix): an image that starts with the prefix, at a `/`, `:` or
    /// `@` boundary (or a prefix ending in `/`), is classified as the upstream prefix followed
    /// by the rest. The longest matching prefix wins.
    pub aliases: Vec<(String, String)>,
    /// The AL2023 tag LI301 moves each Lambda language to (`python` → `3.13`), replacing the
    /// built-in choice.
    pub targets: BTreeMap<String, String>,
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
        "dotnet" if tag.starts_with("core") => Some(false),
        "dotnetcore" | "go" => Some(false),
        // provided (alami) is AL1.
        "provided" => (tag == "alami").then_some(false),
        // AL2023 from the language's oldest AL2023 runtime on (python 3.12, nodejs 20, java 21,
        // ruby 3.3, dotnet 8); the versions before it are AL1 or AL2 (java:8, 8.al2, 11, 17).
        _ => {
            let oldest = runtimes::oldest_al2023(lang)?;
            let (major, minor) = version(tag)?;
            let (first_major, first_minor) = version(oldest.tag)?;
            Some((major, minor.unwrap_or(0)) >= (first_major, first_minor.unwrap_or(0)))
        }
    }
}

/// The built-in AL2023 successor of an AL2 Lambda image tag (lint-rules.md LI301), as
/// (language, tag, why): the same Java on AL2023 for 8, 11 and 17, else the language's oldest
/// AL2023 runtime.
fn lambda_successor(lang: &str, tag: &str) -> Option<(&'static str, String, Choice)> {
    let (language, choice) = match lang {
        "python" | "nodejs" | "java" | "ruby" => (lang, Choice::Oldest),
        "dotnet" | "dotnetcore" => ("dotnet", Choice::Oldest),
        "provided" | "go" => ("provided", Choice::Only),
        _ => return None,
    };
    if language == "java" {
        if let Some((8 | 11 | 17, _)) = version(tag) {
            let base = tag.strip_suffix(".al2").unwrap_or(tag);
            return Some(("java", format!("{base}.al2023"), Choice::SameVersion));
        }
    }
    let oldest = runtimes::oldest_al2023(language)?;
    Some((oldest.repository, oldest.tag.to_string(), choice))
}

/// (language, tag) of a SAM build image runtime id: `python3.12` → (python, 3.12),
/// `nodejs20.x` → (nodejs, 20.x), `java8.al2` → (java, 8.al2), `provided.al2023` → (provided,
/// al2023), `dotnetcore3.1` → (dotnet, core3.1), `provided` → (provided, alami).
fn runtime_id(id: &str) -> Option<(&'static str, String)> {
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

/// Reads a `runtime-targets` entry: an AL2023 Lambda runtime identifier (`python3.13`,
/// `nodejs22.x`, `java21`, `java17.al2023`, `ruby3.4`, `dotnet8`, `provided.al2023`) as the
/// (language, image tag) LI301 moves that language to.
pub fn runtime_target(id: &str) -> Result<(&'static str, String), String> {
    let id = id.trim();
    let known = "python3.12 or later, nodejs20.x or later, java21, java25, java17.al2023, ruby3.3 or later, dotnet8 or later, provided.al2023";
    let Some((lang, tag)) = runtime_id(id) else {
        return Err(format!(
            "`{id}` is not a Lambda runtime identifier (AL2023 ones: {known})"
        ));
    };
    if lambda_generation(lang, &tag) != Some(true) {
        return Err(format!(
            "`{id}` is not an AL2023 Lambda runtime (AL2023 ones: {known})"
        ));
    }
    let tag = match lang {
        "nodejs" => tag.strip_suffix(".x").unwrap_or(&tag).to_string(),
        _ => tag,
    };
    Ok((lang, tag))
}

fn is_floating(tag: Option<&str>, digest: bool) -> bool {
    !digest && tag.is_none_or(|t| strip_arch(t).0 == "latest")
}

/// Whether `image` starts with the alias prefix `prefix` at a component boundary.
fn has_prefix(image: &str, prefix: &str) -> bool {
    !prefix.is_empty()
        && image.starts_with(prefix)
        && (prefix.ends_with('/')
            || matches!(
                image.get(prefix.len()..).and_then(|r| r.chars().next()),
                None | Some(':' | '@' | '/')
            ))
}

/// The image a built-in mirror stands for: ECR Public's copy of Docker Hub's library
/// (`public.ecr.aws/docker/library/amazonlinux:2023` → `amazonlinux:2023`), and ECR
/// pull-through caches under their usual prefixes (`<ecr host>/ecr-public/lambda/python:3.13` →
/// `public.ecr.aws/lambda/python:3.13`; `<ecr host>/docker-hub/…` or `/dockerhub/…` → Docker
/// Hub).
fn unmirror(image: &str) -> Option<String> {
    if let Some(rest) = image.strip_prefix("public.ecr.aws/docker/library/") {
        return Some(format!("library/{rest}"));
    }
    let (host, path) = image.split_once('/')?;
    if !is_ecr_host(host) {
        return None;
    }
    if let Some(rest) = path.strip_prefix("ecr-public/") {
        return Some(format!("public.ecr.aws/{rest}"));
    }
    path.strip_prefix("docker-hub/")
        .or_else(|| path.strip_prefix("dockerhub/"))
        .map(|rest| format!("docker.io/{rest}"))
}

/// Spells the successor `language:tag` in the user's reference: its repository (the language
/// part replaced when it changes, `aws-lambda-go` → `aws-lambda-provided`) and arch suffix.
/// `None` when the user's reference does not end in the same repository and tag as the image
/// classified (an alias that maps a whole reference).
fn respell(
    user: &str,
    classified: &Parts<'_>,
    lang: &str,
    new_lang: &str,
    new_tag: &str,
    arch: &str,
) -> Option<String> {
    let u = split_lenient(user);
    if u.tag != classified.tag {
        return None;
    }
    let repo = if new_lang == lang {
        u.repo.to_string()
    } else {
        let at = u.repo.strip_suffix(lang)?.len();
        if !matches!(u.repo.get(..at)?.chars().last(), Some('/' | '-')) {
            return None;
        }
        format!("{}{new_lang}", u.repo.get(..at)?)
    };
    Some(format!("{repo}:{new_tag}{arch}"))
}

/// Classifies an image reference (after ARG substitution) by the built-in catalogue.
pub fn classify(image: &str) -> BaseImage {
    Resolver::default().classify(image)
}

impl Resolver {
    /// The image `image` stands for: an alias rewritten to its upstream, then a built-in mirror
    /// to the image it copies.
    pub fn upstream(&self, image: &str) -> String {
        let aliased = self
            .aliases
            .iter()
            .filter(|(prefix, _)| has_prefix(image, prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(prefix, upstream)| {
                format!("{upstream}{}", image.get(prefix.len()..).unwrap_or(""))
            })
            .unwrap_or_else(|| image.to_string());
        unmirror(&aliased).unwrap_or(aliased)
    }

    /// Classifies an image reference (after ARG substitution; [`UNRESOLVED`] marks what an
    /// `ARG` without a value stands for).
    ///
    /// Lambda base images (`public.ecr.aws/lambda/<lang>:<tag>`, `amazon/aws-lambda-<lang>`) by
    /// runtime generation; `amazonlinux` by major version; SAM build images
    /// (`public.ecr.aws/sam/build-<runtime>`, `amazon/aws-sam-cli-build-image-<runtime>`) by
    /// their runtime's generation. `latest` or no tag (a digest alone included) resolves as
    /// AL2023, as those tags do today (domain.md §1.2), and is `floating` unless pinned by
    /// digest. A tag whose end is unresolved after a `-` (`3.12-$IMAGE_ARCH`,
    /// `al2023-${SUFFIX}`) is classified by its runtime part: only the arch suffix follows it.
    pub fn classify(&self, image: &str) -> BaseImage {
        let upstream = self.upstream(image);
        let mut base = self.classify_upstream(&upstream, image);
        if base.class != BaseClass::Unknown {
            base.recognised = true;
        }
        base
    }

    fn classify_upstream(&self, image: &str, user: &str) -> BaseImage {
        let r = split_lenient(image);
        if r.repo.contains(UNRESOLVED) || r.repo.is_empty() {
            return BaseImage::unknown(false);
        }
        // A tag with an unresolved end: its known part, when a `-` separates the two.
        let (tag, partial) = match r.tag {
            Some(t) => match t.find(UNRESOLVED) {
                Some(at) => {
                    let known = t.get(..at).unwrap_or("").strip_suffix('-');
                    (known.filter(|k| !k.is_empty()), true)
                }
                None => (Some(t), false),
            },
            None => (None, false),
        };
        let path = hub_path(r.repo);

        if let Some(lang) = lambda_language(r.repo) {
            if partial && tag.is_none() {
                // `python:${PY}`: a Lambda image, of no known generation.
                return BaseImage {
                    is_lambda: true,
                    ..BaseImage::unknown(false)
                };
            }
            let floating = is_floating(tag, r.digest.is_some());
            let (bare, arch) = match tag {
                Some(t) => strip_arch(t),
                // No tag (a digest alone, or nothing): as `latest` resolves.
                None => ("latest", ""),
            };
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
                .and_then(|(new_lang, default_tag, default_choice)| {
                    let (tag, choice) = match self.targets.get(new_lang) {
                        Some(t) => (t.clone(), Choice::Configured),
                        None => (default_tag, default_choice),
                    };
                    let spelt = if partial {
                        None
                    } else {
                        respell(user, &r, lang, new_lang, &tag, arch)
                    }?;
                    Some(Successor {
                        image: spelt,
                        language: new_lang,
                        tag,
                        choice,
                    })
                });
            return BaseImage {
                class,
                is_lambda: true,
                floating,
                successor,
                recognised: false,
            };
        }

        if path == "amazonlinux" || r.repo == "public.ecr.aws/amazonlinux/amazonlinux" {
            if partial {
                // `2023-${VARIANT}` could be `2023-minimal` (microdnf) as well as full dnf.
                return BaseImage::unknown(false);
            }
            let class = match tag.map(|t| strip_arch(t).0) {
                None | Some("latest") => BaseClass::AmazonLinux2023,
                // The AL2023 minimal container image is the one Lambda's AL2023 images are
                // built from: microdnf with `dnf` a symlink to it, no yum (§2.1,
                // container-images#110).
                Some(t) if t.starts_with("2023") && t.ends_with("-minimal") => {
                    BaseClass::LambdaAl2023
                }
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
                floating: is_floating(tag, r.digest.is_some()),
                successor: None,
                recognised: false,
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
            return BaseImage {
                class,
                ..BaseImage::unknown(false)
            };
        }
        // Docker Hub's library images (Debian, Alpine, Ubuntu… never Amazon Linux but for
        // `amazonlinux`, read above) and `scratch` are known not to be rpm-based Amazon Linux.
        let library = on_docker_hub(r.repo) && !path.contains('/');
        BaseImage::unknown(library || image == "scratch")
    }
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
            assert_eq!(
                b.successor.map(|s| s.image).as_deref(),
                Some(successor),
                "{image}"
            );
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
    fn a_digest_alone_resolves_as_a_missing_tag() {
        let digest = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for (image, want) in [
            ("public.ecr.aws/lambda/nodejs", BaseClass::LambdaAl2023),
            ("amazon/aws-lambda-python", BaseClass::LambdaAl2023),
            ("public.ecr.aws/lambda/go", BaseClass::LambdaAl2),
            ("amazonlinux", BaseClass::AmazonLinux2023),
            (
                "public.ecr.aws/amazonlinux/amazonlinux",
                BaseClass::AmazonLinux2023,
            ),
        ] {
            let b = classify(&format!("{image}{digest}"));
            assert_eq!(b.class, want, "{image}");
            assert!(!b.floating && b.recognised, "{image}");
        }
    }

    #[test]
    fn an_unresolved_arch_suffix_keeps_the_runtime() {
        let u = UNRESOLVED;
        for (image, want) in [
            (
                format!("public.ecr.aws/lambda/python:3.12-{u}"),
                BaseClass::LambdaAl2023,
            ),
            (
                format!("public.ecr.aws/lambda/provided:al2023-{u}"),
                BaseClass::LambdaAl2023,
            ),
            (
                format!("public.ecr.aws/lambda/nodejs:18-{u}"),
                BaseClass::LambdaAl2,
            ),
            (
                format!("public.ecr.aws/sam/build-python3.12:latest-{u}"),
                BaseClass::AmazonLinux2023,
            ),
            (
                format!("public.ecr.aws/lambda/python:3.12-{u}@sha256:{u}"),
                BaseClass::LambdaAl2023,
            ),
        ] {
            let b = classify(&image);
            assert_eq!(b.class, want, "{image:?}");
            assert!(!b.floating && b.recognised, "{image:?}");
        }
        // No successor can be spelt in the user's terms, but the class is known.
        assert_eq!(
            classify(&format!("public.ecr.aws/lambda/nodejs:18-{u}")).successor,
            None
        );
        assert!(classify(&format!("public.ecr.aws/lambda/python:latest-{u}")).floating);
        for image in [
            format!("public.ecr.aws/lambda/python:{u}"),
            format!("public.ecr.aws/lambda/python:3.{u}"),
            format!("public.ecr.aws/lambda/python:3.12{u}"),
            format!("public.ecr.aws/lambda/python:-{u}"),
            format!("amazonlinux:2023-{u}"),
            format!("{u}/lambda/python:3.12"),
            format!("public.ecr.aws/lambda/{u}:3.12"),
            u.to_string(),
        ] {
            let b = classify(&image);
            assert_eq!(b.class, BaseClass::Unknown, "{image:?}");
            assert!(!b.recognised, "{image:?}");
        }
        assert!(classify(&format!("public.ecr.aws/lambda/python:{u}")).is_lambda);
    }

    #[test]
    fn mirrors_resolve_to_the_image_they_copy() {
        let ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
        for (image, want) in [
            (
                "public.ecr.aws/docker/library/amazonlinux:latest".to_string(),
                BaseClass::AmazonLinux2023,
            ),
            (
                "public.ecr.aws/docker/library/amazonlinux:2".to_string(),
                BaseClass::AmazonLinux2,
            ),
            (
                format!("{ecr}/ecr-public/lambda/python:3.13"),
                BaseClass::LambdaAl2023,
            ),
            (
                format!("{ecr}/ecr-public/lambda/nodejs:18"),
                BaseClass::LambdaAl2,
            ),
            (
                format!("{ecr}/ecr-public/amazonlinux/amazonlinux:2023-minimal"),
                BaseClass::LambdaAl2023,
            ),
            (
                format!("{ecr}/docker-hub/library/amazonlinux:2023"),
                BaseClass::AmazonLinux2023,
            ),
            (
                format!("{ecr}/dockerhub/amazon/aws-lambda-python:3.9"),
                BaseClass::LambdaAl2,
            ),
            (
                "210987654321.dkr.ecr-fips.us-gov-west-1.amazonaws.com/ecr-public/lambda/java:21"
                    .to_string(),
                BaseClass::LambdaAl2023,
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/ecr-public/lambda/ruby:3.2"
                    .to_string(),
                BaseClass::LambdaAl2,
            ),
        ] {
            assert_eq!(classify(&image).class, want, "{image}");
        }
        // The successor keeps the mirror.
        assert_eq!(
            classify(&format!("{ecr}/ecr-public/lambda/python:3.11-arm64"))
                .successor
                .map(|s| s.image),
            Some(format!("{ecr}/ecr-public/lambda/python:3.12-arm64"))
        );
        assert_eq!(
            classify(&format!("{ecr}/dockerhub/amazon/aws-lambda-go:1"))
                .successor
                .map(|s| s.image),
            Some(format!("{ecr}/dockerhub/amazon/aws-lambda-provided:al2023"))
        );
        // Other prefixes, hosts and accounts are not guessed at.
        for image in [
            format!("{ecr}/my-cache/lambda/python:3.12"),
            format!("{ecr}/lambda/python:3.12"),
            "12345.dkr.ecr.eu-west-1.amazonaws.com/ecr-public/lambda/python:3.12".to_string(),
            "registry.example.com/ecr-public/lambda/python:3.12".to_string(),
        ] {
            let b = classify(&image);
            assert_eq!(b.class, BaseClass::Unknown, "{image}");
            assert!(!b.recognised, "{image}");
        }
    }

    #[test]
    fn aliases_map_prefixes_to_the_upstream_image() {
        let resolver = Resolver {
            aliases: vec![
                (
                    "registry.example.com/mirror/lambda/".into(),
                    "public.ecr.aws/lambda/".into(),
                ),
                (
                    "registry.example.com/mirror".into(),
                    "public.ecr.aws".into(),
                ),
                (
                    "registry.example.com/base:1".into(),
                    "public.ecr.aws/lambda/python:3.11".into(),
                ),
                (
                    "registry.example.com/py".into(),
                    "public.ecr.aws/lambda/python".into(),
                ),
            ],
            targets: BTreeMap::new(),
        };
        let b = resolver.classify("registry.example.com/mirror/lambda/python:3.11");
        assert_eq!(b.class, BaseClass::LambdaAl2);
        assert_eq!(
            b.successor.map(|s| s.image).as_deref(),
            Some("registry.example.com/mirror/lambda/python:3.12")
        );
        assert_eq!(
            resolver
                .classify("registry.example.com/mirror/amazonlinux/amazonlinux:2")
                .class,
            BaseClass::AmazonLinux2
        );
        // A whole reference: the class is known, the successor cannot be spelt.
        let b = resolver.classify("registry.example.com/base:1");
        assert_eq!(b.class, BaseClass::LambdaAl2);
        assert_eq!(b.successor, None);
        assert_eq!(
            resolver.classify("registry.example.com/py:3.13").class,
            BaseClass::LambdaAl2023
        );
        // Prefixes match at a component boundary only.
        for image in [
            "registry.example.com/base:10",
            "registry.example.com/python:3.12",
            "registry.example.com/mirrors/lambda/python:3.12",
        ] {
            assert_eq!(
                resolver.classify(image).class,
                BaseClass::Unknown,
                "{image}"
            );
        }
    }

    #[test]
    fn runtime_targets_pick_the_successor() {
        let mut targets = BTreeMap::new();
        for id in ["python3.13", "nodejs22.x", "java21"] {
            let (lang, tag) = runtime_target(id).unwrap_or_default();
            targets.insert(lang.to_string(), tag);
        }
        let resolver = Resolver {
            aliases: Vec::new(),
            targets,
        };
        for (image, successor) in [
            (
                "public.ecr.aws/lambda/python:3.9",
                "public.ecr.aws/lambda/python:3.13",
            ),
            (
                "public.ecr.aws/lambda/nodejs:18-arm64",
                "public.ecr.aws/lambda/nodejs:22-arm64",
            ),
            (
                "public.ecr.aws/lambda/java:17",
                "public.ecr.aws/lambda/java:21",
            ),
            (
                "public.ecr.aws/lambda/ruby:3.2",
                "public.ecr.aws/lambda/ruby:3.3",
            ),
        ] {
            let s = resolver.classify(image).successor;
            assert_eq!(
                s.as_ref().map(|s| s.image.as_str()),
                Some(successor),
                "{image}"
            );
        }
        let s = resolver
            .classify("public.ecr.aws/lambda/python:3.9")
            .successor;
        assert_eq!(s.map(|s| s.choice), Some(Choice::Configured));
        let s = classify("public.ecr.aws/lambda/python:3.9").successor;
        assert_eq!(s.map(|s| s.choice), Some(Choice::Oldest));
        let s = classify("public.ecr.aws/lambda/java:11").successor;
        assert_eq!(s.map(|s| s.choice), Some(Choice::SameVersion));
    }

    #[test]
    fn runtime_targets_must_be_al2023_runtimes() {
        for (id, lang, tag) in [
            ("python3.13", "python", "3.13"),
            ("nodejs22.x", "nodejs", "22"),
            ("java25", "java", "25"),
            ("java17.al2023", "java", "17.al2023"),
            ("ruby3.4", "ruby", "3.4"),
            ("dotnet10", "dotnet", "10"),
            ("provided.al2023", "provided", "al2023"),
        ] {
            assert_eq!(runtime_target(id), Ok((lang, tag.to_string())), "{id}");
        }
        for id in [
            "python3.11",
            "nodejs18.x",
            "java17",
            "provided",
            "go1.x",
            "perl5",
            "",
        ] {
            assert!(runtime_target(id).is_err(), "{id}");
        }
    }

    #[test]
    fn recognised_means_known_not_to_be_amazon_linux() {
        for image in [
            "scratch",
            "python:3.12",
            "golang",
            "docker.io/library/node:20",
            "public.ecr.aws/docker/library/python:3.12",
            "ubuntu:22.04",
        ] {
            let b = classify(image);
            assert_eq!(b.class, BaseClass::Unknown, "{image}");
            assert!(b.recognised, "{image}");
        }
        for image in [
            "myorg/base:1",
            "ghcr.io/example/base:1",
            "registry.example.com/lambda/python:3.12",
            "public.ecr.aws/lambda/python:next",
            "amazonlinux:next",
        ] {
            assert!(!classify(image).recognised, "{image}");
        }
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
            "myregistry.example.com/lambda/python:3.12",
            "amazonlinux:next",
            "",
        ] {
            assert_eq!(class(image), BaseClass::Unknown, "{image}");
        }
    }
}
