//! Applying fixes: sorted edits, overlapping fixes skipped, re-linted until stable.

use super::{Applicability, Diagnostic, Fix};
use crate::dockerfile;

/// The most passes [`fix_until_stable`] makes before giving up.
pub const MAX_PASSES: usize = 10;

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

fn allowed(fix: &Fix, unsafe_fixes: bool) -> bool {
    match fix.applicability {
        Applicability::Safe => true,
        Applicability::Unsafe => unsafe_fixes,
    }
}

/// Applies, once, the fixes of `diagnostics` whose applicability is allowed (`Safe`, or also
/// `Unsafe` when `unsafe_fixes`), skipping any fix that overlaps one already taken.
/// Returns the new text and how many fixes were applied.
pub fn apply_once(source: &str, diagnostics: &[Diagnostic], unsafe_fixes: bool) -> (String, usize) {
    let mut fixes: Vec<&Fix> = diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| allowed(f, unsafe_fixes) && !f.edits.is_empty())
        .filter(|f| {
            // Every edit must lie inside the text and on character boundaries.
            f.edits.iter().all(|e| {
                e.range.start <= e.range.end
                    && source.is_char_boundary(e.range.start)
                    && source.is_char_boundary(e.range.end)
            })
        })
        .collect();
    fixes.sort_by_key(|f| {
        let first = f.edits.iter().map(|e| e.range.start).min().unwrap_or(0);
        let last = f.edits.iter().map(|e| e.range.end).max().unwrap_or(0);
        (first, last)
    });

    let mut accepted: Vec<&Fix> = Vec::new();
    // End of the last accepted fix; a fix starting at or before it is skipped (ruff's rule: two
    // insertions at one point, or touching edits, wait for the next pass).
    let mut last_end: Option<usize> = None;
    for fix in fixes {
        let mut edits: Vec<_> = fix.edits.iter().collect();
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        let self_overlap = edits
            .windows(2)
            .any(|w| matches!(w, [a, b] if b.range.start < a.range.end));
        if self_overlap {
            continue;
        }
        let start = edits.first().map_or(0, |e| e.range.start);
        let end = edits.iter().map(|e| e.range.end).max().unwrap_or(start);
        if last_end.is_some_and(|l| start <= l) {
            continue;
        }
        last_end = Some(end);
        accepted.push(fix);
    }

    let mut edits: Vec<_> = accepted.iter().flat_map(|f| f.edits.iter()).collect();
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = source.to_string();
    for e in edits.iter().rev() {
        out.replace_range(e.range.clone(), &e.content);
    }
    (out, accepted.len())
}

/// Parses, lints (keeping only findings `keep` accepts), applies fixes, and repeats until no fix
/// applies (at most 10 passes).
pub fn fix_until_stable(
    source: &str,
    unsafe_fixes: bool,
    keep: &dyn Fn(&Diagnostic) -> bool,
) -> Result<FixOutcome, FixError> {
    fix_until_stable_with(source, unsafe_fixes, keep, &dockerfile::Options::default())
}

/// [`fix_until_stable`], reading the file with `options` (build arguments, base aliases,
/// runtime targets) as the first check did.
pub fn fix_until_stable_with(
    source: &str,
    unsafe_fixes: bool,
    keep: &dyn Fn(&Diagnostic) -> bool,
    options: &dockerfile::Options,
) -> Result<FixOutcome, FixError> {
    let mut text = source.to_string();
    let mut applied = 0;
    for pass in 0..=MAX_PASSES {
        let df = dockerfile::parse_with(&text, options).map_err(|e| {
            let (line, col) = dockerfile::LineIndex::new(&text).line_col(&text, e.span.start);
            FixError::Unparsable(format!("{line}:{col}: {}", e.message))
        })?;
        let mut diagnostics = super::engine::check(&df);
        diagnostics.retain(|d| keep(d));
        let (next, n) = apply_once(&text, &diagnostics, unsafe_fixes);
        if n == 0 || next == text {
            return Ok(FixOutcome {
                source: text,
                applied,
                remaining: diagnostics,
            });
        }
        if pass == MAX_PASSES {
            break;
        }
        applied += n;
        text = next;
    }
    Err(FixError::NoConvergence(MAX_PASSES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::{Edit, Severity};

    fn diag(start: usize, edits: Vec<Edit>, applicability: Applicability) -> Diagnostic {
        Diagnostic {
            code: "LI999",
            name: "test",
            severity: Severity::Warning,
            message: String::new(),
            span: start..start,
            fix: Some(Fix {
                applicability,
                message: String::new(),
                edits,
            }),
        }
    }

    #[test]
    fn applies_back_to_front_and_skips_overlaps() {
        let src = "abcdef";
        let d = vec![
            diag(4, vec![Edit::replace(4..5, "E")], Applicability::Safe),
            diag(0, vec![Edit::replace(0..2, "AB")], Applicability::Safe),
            diag(1, vec![Edit::replace(1..3, "xx")], Applicability::Safe),
            diag(5, vec![Edit::insert(6, "!")], Applicability::Unsafe),
        ];
        assert_eq!(apply_once(src, &d, false), ("ABcdEf".to_string(), 2));
        assert_eq!(apply_once(src, &d, true), ("ABcdEf!".to_string(), 3));
    }

    #[test]
    fn two_inserts_at_one_point_take_one() {
        let d = vec![
            diag(0, vec![Edit::insert(3, " x")], Applicability::Safe),
            diag(0, vec![Edit::insert(3, " x")], Applicability::Safe),
        ];
        assert_eq!(apply_once("abc", &d, false), ("abc x".to_string(), 1));
    }
}
