//! Applying fixes: sorted edits, overlapping fixes skipped, re-linted until stable.

use super::Diagnostic;

/// The result of fixing one file.
#[derive(Debug, Clone)]
pub struct FixOutcome {
    /// The fixed text (equal to the input when nothing applied).
    pub source: String,
    /// How many fixes were applied, over all passes.
    pub applied: usize,
    /// The findings left after the last pass (filtered like the input).
    pub remaining: Vec<Diagnostic>,
}

/// Why fixing stopped short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    /// A fix produced text that no longer parses (a bug in a rule's fix): nothing is written.
    #[error("a fix produced an unparsable Dockerfile ({0}); nothing was written")]
    Unparsable(String),
    /// Fixes kept changing the file.
    #[error("fixes did not converge after {0} passes; nothing was written")]
    NoConvergence(usize),
}

/// Applies, once, the fixes of `diagnostics` whose applicability is allowed (`Safe`, or also
/// `Unsafe` when `unsafe_fixes`), skipping any fix that overlaps one already taken.
/// Returns the new text and how many fixes were applied.
pub fn apply_once(source: &str, diagnostics: &[Diagnostic], unsafe_fixes: bool) -> (String, usize) {
    let _ = (diagnostics, unsafe_fixes);
    (source.to_string(), 0)
}

/// Parses, lints (keeping only findings `keep` accepts), applies fixes, and repeats until no fix
/// applies (at most 10 passes).
pub fn fix_until_stable(
    source: &str,
    unsafe_fixes: bool,
    keep: &dyn Fn(&Diagnostic) -> bool,
) -> Result<FixOutcome, FixError> {
    let _ = (unsafe_fixes, keep);
    Ok(FixOutcome {
        source: source.to_string(),
        applied: 0,
        remaining: Vec::new(),
    })
}
