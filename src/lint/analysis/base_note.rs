//! The base image as messages name it: [`BaseNote`], the image of the root of a stage's chain as
//! resolved, with what it has for a package manager (`` `amazonlinux:2023-minimal` (AL2023
//! minimal: microdnf, no yum) ``). Every rule that names the image a stage runs on uses it, so
//! they all say it the same way.

use super::package_manager::Installed;
use super::stages::stage_chain;
use crate::dockerfile::{BaseClass, Dockerfile, Stage};

/// The image a stage runs on, as every message names it: the image of the first `FROM` of the
/// stage's chain (`FROM builder` followed back), as resolved (global `ARG` defaults substituted),
/// with what it has for a package manager (§2.1). Displays as
/// `` `amazonlinux:2023-minimal` (AL2023 minimal: microdnf, no yum) ``.
#[derive(Debug, Clone, Copy)]
pub struct BaseNote<'d> {
    /// The resolved image (as written when a variable stayed unresolved).
    pub image: &'d str,
    pub class: BaseClass,
    /// Package managers earlier commands of the stage installed over microdnf.
    pub installed: Installed,
}

impl<'d> BaseNote<'d> {
    /// The base of `stage`, before anything was installed over its package manager.
    pub fn of(df: &'d Dockerfile, stage: &'d Stage) -> BaseNote<'d> {
        BaseNote::at(df, stage, Installed::default())
    }

    /// The base of `stage` once `installed` package managers were installed over microdnf.
    pub fn at(df: &'d Dockerfile, stage: &'d Stage, installed: Installed) -> BaseNote<'d> {
        let root = stage_chain(df, stage).first().copied().unwrap_or(stage);
        BaseNote {
            image: root.image.as_deref().unwrap_or(&root.image_raw),
            class: stage.class,
            installed,
        }
    }

    /// The image alone, in backticks: `` `public.ecr.aws/lambda/python:3.12` ``.
    pub fn image(&self) -> String {
        format!("`{}`", self.image)
    }

    /// What the image has for a package manager (§2.1), `None` for an unknown image.
    pub fn note(&self) -> Option<&'static str> {
        Some(match self.class {
            BaseClass::LambdaAl2023 if self.installed.yum => {
                "AL2023 minimal with dnf 4 and yum installed over microdnf"
            }
            BaseClass::LambdaAl2023 if self.installed.dnf => {
                "AL2023 minimal with dnf 4 installed over microdnf, no yum"
            }
            BaseClass::LambdaAl2023 => "AL2023 minimal: microdnf, no yum",
            BaseClass::AmazonLinux2023 => "AL2023: full dnf 4",
            BaseClass::LambdaAl2 | BaseClass::AmazonLinux2 => "Amazon Linux 2: yum",
            BaseClass::Unknown => return None,
        })
    }
}

impl std::fmt::Display for BaseNote<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.note() {
            Some(note) => write!(f, "`{}` ({note})", self.image),
            None => write!(f, "`{}`", self.image),
        }
    }
}
