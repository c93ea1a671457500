//! What a rule reports. Checks return these and never print; `report/` renders them.

use serde::Serialize;

use crate::dockerfile::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// How far a fix can be trusted (after ruff's definitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Keeps the exact meaning of the Dockerfile; applied by `--fix`.
    Safe,
    /// May change what the build does; applied only with `--unsafe-fixes`.
    Unsafe,
}

/// Replace `range` of the source with `content` (an empty range inserts, empty content deletes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    #[serde(skip)]
    pub range: Span,
    pub content: String,
}

impl Edit {
    pub fn replace(range: Span, content: impl Into<String>) -> Self {
        Edit {
            range,
            content: content.into(),
        }
    }
    pub fn insert(at: usize, content: impl Into<String>) -> Self {
        Edit {
            range: at..at,
            content: content.into(),
        }
    }
    pub fn delete(range: Span) -> Self {
        Edit {
            range,
            content: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, imperative: "Replace `yum` with `dnf`".
    pub message: String,
    /// Non-overlapping edits, sorted by range start.
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// Names the command or package at fault and the replacement.
    pub message: String,
    pub span: Span,
    pub fix: Option<Fix>,
}
