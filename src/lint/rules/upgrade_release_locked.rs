//! LI115 `upgrade-release-locked`.

/// ## What it does
/// (not written yet)
fn check(_cx: &crate::lint::Context<'_>, _out: &mut Vec<crate::lint::Diagnostic>) {}

crate::declare_rule! {
    /// ## What it does
    /// (not written yet)
    LI115, "upgrade-release-locked", Info, None, check
}
