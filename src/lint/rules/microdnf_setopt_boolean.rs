//! LI108 `microdnf-setopt-boolean`.

/// ## What it does
/// (not written yet)
fn check(_cx: &crate::lint::Context<'_>, _out: &mut Vec<crate::lint::Diagnostic>) {}

crate::declare_rule! {
    /// ## What it does
    /// (not written yet)
    LI108, "microdnf-setopt-boolean", Error, Always, check
}
