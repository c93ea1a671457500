//! Pragmas in comments: `# lambda-image: ignore=LI101,LI201` (the next instruction),
//! `# lambda-image: ignore-file=LI301` (the whole file), and `# hadolint ignore=DL3040` for the
//! hadolint codes we map (DL3032/DL3040 → LI201, DL3030/DL3038 → LI202).

use super::{Dockerfile, Span};

/// What the pragmas of one file say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pragmas {
    /// Codes ignored in the whole file.
    pub file: Vec<String>,
    /// (span of the instruction the pragma precedes, codes ignored there).
    pub next: Vec<(Span, Vec<String>)>,
}

impl Pragmas {
    /// Whether a finding with `code` at byte `offset` is suppressed.
    pub fn suppresses(&self, code: &str, offset: usize) -> bool {
        self.file.iter().any(|c| c == code)
            || self
                .next
                .iter()
                .any(|(span, codes)| span.contains(&offset) && codes.iter().any(|c| c == code))
    }
}

/// Reads the pragmas of a parsed file.
pub fn pragmas(_df: &Dockerfile) -> Pragmas {
    Pragmas::default()
}
