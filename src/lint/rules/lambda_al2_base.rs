//! LI301 `lambda-al2-base`.

/// ## What it does
/// (not written yet)
fn check(_cx: &crate::lint::Context<'_>, _out: &mut Vec<crate::lint::Diagnostic>) {}

crate::declare_rule! {
    /// ## What it does
    /// (not written yet)
    LI301, "lambda-al2-base", Warning, Sometimes, check
}
