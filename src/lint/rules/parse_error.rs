//! LI001 `parse-error`.

/// Parse errors are produced by the parser, not by a check over a parsed file.
fn check(_cx: &crate::lint::Context<'_>, _out: &mut Vec<crate::lint::Diagnostic>) {}

crate::declare_rule! {
    /// ## What it does
    /// Reports a file that is not a Dockerfile BuildKit would accept.
    ///
    /// The finding comes from the parser, at the position where parsing failed (an unknown
    /// instruction, an unterminated heredoc or JSON array, a flag BuildKit does not know…);
    /// no rule runs on such a file. The other files given to `lint` are still linted, and the run
    /// exits with status 2.
    ///
    /// ## Why is this bad?
    /// `docker build` rejects the file before running any step, so nothing else can be checked.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUNN dnf install -y gcc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM public.ecr.aws/lambda/python:3.12
    /// RUN dnf install -y gcc
    /// ```
    ///
    /// This finding cannot be ignored with a pragma: a file that does not parse has no
    /// instructions to attach one to.
    ///
    /// ## References
    /// - [Dockerfile reference](https://docs.docker.com/reference/dockerfile/)
    LI001, "parse-error", Error, None, check
}
