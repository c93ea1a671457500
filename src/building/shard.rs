//! `--shard I/N`: which images one of N CI jobs builds. An image (its name and
//! architecture) falls in shard `sha256("name/arch") mod N`, so each image goes to exactly
//! one shard, and the same one in every run whatever else is in the plan (adding an image
//! never moves another). The split is by hash, not balanced: with few images a shard may
//! get none, which is a successful run that builds nothing.

use anyhow::{bail, Result};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// `I/N` with 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || anyhow::anyhow!("--shard {text}: expected I/N with 1 ≤ I ≤ N (such as 1/4)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count || count > 1024 {
            bail!(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the image `name` for `arch` (`x86_64`, `arm64`) falls in this shard.
    pub fn takes(&self, name: &str, arch: &str) -> bool {
        shard_of(name, arch, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The 1-based shard of `name/arch` among `count`.
pub fn shard_of(name: &str, arch: &str, count: u64) -> u64 {
    let digest = Sha256::digest(format!("{name}/{arch}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count.max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_image_is_in_exactly_one_shard_whatever_else_is_planned() {
        let names: Vec<String> = (0..50).map(|i| format!("fn{i}")).collect();
        for n in 1..=5u64 {
            for name in &names {
                let owners: Vec<u64> = (1..=n)
                    .filter(|&i| Shard { index: i, count: n }.takes(name, "x86_64"))
                    .collect();
                assert_eq!(owners.len(), 1, "{name} in {n} shards: {owners:?}");
            }
        }
        // By name, not by position: the same image, the same shard.
        assert_eq!(
            shard_of("orders", "arm64", 4),
            shard_of("orders", "arm64", 4)
        );
        let spread: std::collections::BTreeSet<u64> =
            names.iter().map(|n| shard_of(n, "x86_64", 4)).collect();
        assert_eq!(spread.len(), 4);
    }

    #[test]
    fn bad_shards_say_what_is_expected() {
        for bad in ["0/2", "3/2", "1", "a/b", "1/0", "", "2/1"] {
            assert_eq!(
                Shard::parse(bad).err().map(|e| e.to_string()),
                Some(format!(
                    "--shard {bad}: expected I/N with 1 ≤ I ≤ N (such as 1/4)"
                ))
            );
        }
        assert_eq!(Shard::parse("2/3").ok(), Some(Shard { index: 2, count: 3 }));
    }
}
