//! The RUN splitter: a shell script (shell form, exec form, heredoc bodies) → commands → words,
//! each word with its unquoted value and its source span.
//!
//! Splits on `&&`, `||`, `;`, `|`, `&`, newlines (in heredoc bodies), and recurses one level into
//! `sh -c '…'` / `bash -c "…"`. Subshells `( … )` and `{ …; }` groups are flattened into their
//! commands. `if/then/fi`, `for/do/done` keywords are skipped so the commands inside are seen.

use super::{Dockerfile, Instruction, Span};

/// One word of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes removed and escapes resolved (variables are left as written: `$X`).
    pub value: String,
    /// Source span of the word as written (quotes included).
    pub span: Span,
    /// Whether any part of the word was quoted.
    pub quoted: bool,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Every word, prefixes included (`sudo`, `env X=1`, `command`, leading `X=1` assignments).
    pub words: Vec<Word>,
    /// Index in `words` of the program: the first word after the prefixes.
    pub program: usize,
    /// Source span from the first to the last word.
    pub span: Span,
}

impl Command {
    /// The program and its arguments, prefixes skipped.
    pub fn argv(&self) -> &[Word] {
        self.words.get(self.program..).unwrap_or(&[])
    }

    /// The program's name without a directory (`/usr/bin/yum` → `yum`), if any.
    pub fn name(&self) -> Option<&str> {
        self.argv()
            .first()
            .map(|w| w.value.rsplit('/').next().unwrap_or(&w.value))
    }
}

/// Splits a RUN instruction (or the RUN wrapped by ONBUILD: pass the inner instruction) into its
/// commands, in source order. Heredoc bodies are split too.
pub fn split_run(_df: &Dockerfile, _ins: &Instruction) -> Vec<Command> {
    Vec::new()
}
