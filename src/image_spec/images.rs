//! A spec's images: which architectures a command takes from it, and the tags each image
//! gets (the `{arch}` and `-<arch>` rules, which `push` destinations follow too).

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::{Arch, Spec, SPEC_FILE};
use crate::reference::Reference;

/// Whether `target` names an image spec (its folder or its `image.yaml`) rather than an
/// image.
pub fn is_spec(target: &str) -> bool {
    Path::new(target).join(SPEC_FILE).is_file() || target.ends_with(SPEC_FILE)
}

/// `{arch}` in `text` replaced by the architecture's Lambda name.
pub fn replace_arch(text: &str, arch: Arch) -> String {
    text.replace("{arch}", arch.lambda_name())
}

/// The `-<arch>` rule: with `several` architectures, `tag` (as it was `written`) gets a
/// `-<arch>` suffix unless `{arch}` was written in it.
pub fn arch_suffix(tag: &str, written: &str, arch: Arch, several: bool) -> String {
    if several && !written.contains("{arch}") {
        format!("{tag}-{}", arch.lambda_name())
    } else {
        tag.to_string()
    }
}

/// The tags of one architecture: `{arch}` replaced; with several architectures, a tag
/// without `{arch}` gets a `-<arch>` suffix (`orders:latest` → `orders:latest-arm64`).
pub fn expand_tags(tags: &[String], arch: Arch, several: bool) -> Result<Vec<Reference>> {
    let mut out = Vec::new();
    for tag in tags {
        let text = if tag.contains("{arch}") {
            replace_arch(tag, arch)
        } else if several {
            let r: Reference = tag.parse().map_err(|e| anyhow!("tag {tag:?}: {e}"))?;
            if r.digest.is_some() {
                bail!("tag {tag:?}: a tag cannot name a digest");
            }
            format!(
                "{}:{}",
                r.repository(),
                arch_suffix(r.tag_or_latest(), tag, arch, several)
            )
        } else {
            tag.clone()
        };
        let r: Reference = text.parse().map_err(|e| anyhow!("tag {text:?}: {e}"))?;
        if r.digest.is_some() {
            bail!("tag {text:?}: a tag cannot name a digest");
        }
        let r = Reference {
            tag: Some(r.tag_or_latest().to_string()),
            ..r
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// How a command picks one architecture of a spec when none is requested and the spec has
/// several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unnamed {
    /// An error asking for `--arch` (`verify --spec`).
    Ask,
    /// This machine's architecture when the spec has it, else the spec's first (`invoke`).
    HostFirst,
}

impl Spec {
    /// The tags the spec's images get: `given` (`--tag`), else the spec's `tags`, else
    /// `<name>:latest`; before the `{arch}` rules.
    pub fn tag_texts(&self, given: &[String]) -> Vec<String> {
        if !given.is_empty() {
            given.to_vec()
        } else if self.tags.is_empty() {
            vec![format!("{}:latest", self.name)]
        } else {
            self.tags.clone()
        }
    }

    /// The architectures `requested` (`--arch`) picks from the spec, all of them when it is
    /// empty; `None` with `all` (`--all`) when it picks none, an error without.
    pub fn pick_arches(&self, requested: &[Arch], all: bool) -> Result<Option<Vec<Arch>>> {
        if requested.is_empty() {
            return Ok(Some(self.architectures.clone()));
        }
        let picked: Vec<Arch> = self
            .architectures
            .iter()
            .copied()
            .filter(|a| requested.contains(a))
            .collect();
        if picked.is_empty() && all {
            return Ok(None);
        }
        if picked.is_empty() {
            return Err(self.not_its_architecture(requested));
        }
        Ok(Some(picked))
    }

    /// The one architecture a command works on: `requested` when the spec has it, else
    /// its only one, else as `unnamed` says.
    pub fn one_arch(&self, requested: Option<Arch>, unnamed: Unnamed) -> Result<Arch> {
        let list = self.architectures.as_slice();
        match (requested, list, unnamed) {
            (Some(a), list, _) if list.contains(&a) => Ok(a),
            (Some(a), _, _) => Err(self.not_its_architecture(&[a])),
            (None, [only], _) => Ok(*only),
            (None, list, Unnamed::HostFirst) => {
                let host = Arch::host();
                if list.contains(&host) {
                    Ok(host)
                } else {
                    list.first()
                        .copied()
                        .ok_or_else(|| anyhow!("{}: no architectures", self.file.display()))
                }
            }
            (None, list, Unnamed::Ask) => bail!(
                "{}: the spec builds {}: say which image with --arch",
                self.file.display(),
                list.iter()
                    .map(|a| a.lambda_name())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        }
    }

    /// The tag `build` gives the spec's image for `arch` (its first, all architectures built).
    pub fn first_tag(&self, arch: Arch) -> Result<Reference> {
        expand_tags(&self.tag_texts(&[]), arch, self.architectures.len() > 1)
            .map_err(|e| anyhow!("{}: {e}", self.file.display()))?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("{}: the spec names no tag", self.file.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_arch_rule() {
        let one = expand_tags(&["orders:latest".into()], Arch::X86_64, false).expect("tags");
        assert_eq!(one[0].to_string(), "orders:latest");
        let two = expand_tags(
            &["orders:latest".into(), "orders".into()],
            Arch::Arm64,
            true,
        )
        .expect("tags");
        assert_eq!(
            two.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            vec!["orders:latest-arm64"]
        );
        let braces = expand_tags(&["x/orders:{arch}".into()], Arch::Arm64, true).expect("tags");
        assert_eq!(braces[0].to_string(), "x/orders:arm64");
        assert!(expand_tags(&["Orders".into()], Arch::X86_64, false).is_err());
    }
}
