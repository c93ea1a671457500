//! LI111 `microdnf-cache-path`.

/// ## What it does
/// (not written yet)
fn check(_cx: &crate::lint::Context<'_>, _out: &mut Vec<crate::lint::Diagnostic>) {}

crate::declare_rule! {
    /// ## What it does
    /// (not written yet)
    LI111, "microdnf-cache-path", Warning, Always, check
}
