//! Runs every rule over a parsed Dockerfile, once.

use super::Diagnostic;
use crate::dockerfile::Dockerfile;

/// Every finding of every rule (LI001 excepted: parse errors come from the parser), pragmas
/// applied, sorted by (span start, code). RUN instructions are split once and shared.
pub fn check(_df: &Dockerfile) -> Vec<Diagnostic> {
    Vec::new()
}
