//! Base-image classes (lint-rules.md, "Base-image classes"; domain.md §1.2).

/// What a stage's base image implies about its package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaseClass {
    /// AWS Lambda base image on AL2023 minimal: microdnf 3.8.1, `dnf` a symlink to it, no yum.
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

/// Classifies an image reference (after ARG substitution).
pub fn classify(_image: &str) -> BaseImage {
    BaseImage {
        class: BaseClass::Unknown,
        is_lambda: false,
        floating: false,
        successor: None,
    }
}
