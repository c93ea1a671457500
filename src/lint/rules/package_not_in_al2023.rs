//! LI113 `package-not-in-al2023`.

/// ## What it does
/// (not written yet)
fn check(_cx: &crate::lint::Context<'_>, _out: &mut Vec<crate::lint::Diagnostic>) {}

crate::declare_rule! {
    /// ## What it does
    /// (not written yet)
    LI113, "package-not-in-al2023", Error, Sometimes, check
}
