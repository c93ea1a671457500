//! The Dockerfile front end: our own parser of BuildKit's grammar (directives, instructions,
//! continuations, heredocs, JSON form), with byte spans on everything.
//!
//! Shared by `lint`, the render tests and the build pre-flight. This module never imports `lint/`.
//!
//! Spans are byte ranges into [`Dockerfile::source`] (the original text, BOM and CRLF included);
//! they become line/column only when rendered, through [`LineIndex`].

pub mod base;
pub mod line_index;
pub mod parse;
pub mod pragma;
pub mod shell;

pub use base::{BaseClass, BaseImage};
pub use line_index::LineIndex;
pub use parse::{key_values, parse, parse_with};
pub use shell::{Command, Word};

/// A byte range into the source text.
/// `NAME=VALUE` values of `--build-arg` (`lint` and `build` alike), as Docker takes them: any
/// non-empty name before the first `=`; the value may contain `=` or be empty. An error names
/// the value at fault.
pub fn parse_build_args(values: &[String]) -> Result<Vec<(String, String)>, String> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            Some(_) => Err(format!("--build-arg {v:?}: the name before `=` is empty")),
            None => Err(format!("--build-arg {v:?}: expected NAME=VALUE")),
        })
        .collect()
}

pub type Span = std::ops::Range<usize>;

/// What the file does not say about its build: the values of `ARG`s (`--build-arg`) and how
/// to read base images beyond the built-in catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `NAME=VALUE` as the build passes them: a value replaces the default of an `ARG` declared
    /// before the first `FROM` (or gives it one), and sets BuildKit's automatic platform `ARG`s
    /// (`TARGETARCH`…). Values are taken literally, as the build takes them.
    pub build_args: std::collections::BTreeMap<String, String>,
    pub bases: base::Resolver,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// The original text, unchanged (BOM and CRLF kept).
    pub source: String,
    pub line_index: LineIndex,
    /// The escape character (`\` unless a `# escape=` directive says otherwise).
    pub escape: char,
    /// Parser directives at the top of the file (`syntax`, `escape`, `check`).
    pub directives: Vec<Directive>,
    /// Every instruction, in source order (including those before the first FROM: ARG only).
    pub instructions: Vec<Instruction>,
    /// Build stages, in order; `Instruction::stage` indexes into this.
    pub stages: Vec<Stage>,
    /// Every comment line (`# …`), including those inside continuations; pragmas are read from these.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The text after `#`, trimmed.
    pub text: String,
    /// The whole comment line, `#` included, line ending excluded.
    pub span: Span,
}

/// Instruction keywords. Unknown keywords are a parse error, as in BuildKit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    From,
    Run,
    Cmd,
    Label,
    Maintainer,
    Expose,
    Env,
    Add,
    Copy,
    Entrypoint,
    Volume,
    User,
    Workdir,
    Arg,
    Onbuild,
    Stopsignal,
    Healthcheck,
    Shell,
}

/// One instruction.
#[derive(Debug, Clone)]
pub struct Instruction {
    pub keyword: Keyword,
    /// The keyword as written (any case).
    pub keyword_span: Span,
    /// From the keyword to the end of its last line (line ending excluded), heredoc bodies included.
    pub span: Span,
    /// `--name=value` flags before the arguments (`--platform`, `--from`, `--mount`, `--chown`…).
    pub flags: Vec<Flag>,
    pub args: Args,
    /// Heredocs opened on this instruction (`RUN <<EOF`, `COPY <<EOF /x`).
    pub heredocs: Vec<Heredoc>,
    /// Index into [`Dockerfile::stages`]; `None` for ARGs before the first FROM.
    pub stage: Option<usize>,
    /// For `ONBUILD <instruction>`, the wrapped instruction (with `Args::Shell`/`Exec` of its own).
    pub onbuild: Option<Box<Instruction>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
    pub span: Span,
}

/// The arguments of an instruction.
#[derive(Debug, Clone)]
pub enum Args {
    /// JSON (exec) form: `["a", "b"]`; each element unescaped, spans cover the quoted string.
    /// `[]` is accepted (BuildKit clears ENTRYPOINT/SHELL with it).
    Exec(Vec<Word>),
    /// Shell form / plain text, continuations joined and comment lines inside them dropped.
    Shell(LogicalText),
    /// No arguments (`HEALTHCHECK`, `RUN` or `CMD` alone: BuildKit accepts them).
    None,
}

/// Text made of one or more physical lines joined at their escape+newline continuations, with
/// comment lines inside the continuation removed. `map` turns an offset into `text` back into a
/// source offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalText {
    pub text: String,
    /// Source span of the arguments (first to last byte, across lines).
    pub span: Span,
    /// Sorted (logical offset, source offset) pairs: each piece of `text` starting at the logical
    /// offset is a verbatim copy of the source starting at the source offset.
    pub map: Vec<(usize, usize)>,
}

impl LogicalText {
    /// The source offset of a logical offset (an offset equal to `text.len()` maps to the end).
    pub fn to_source(&self, logical: usize) -> usize {
        let idx = self.map.partition_point(|&(l, _)| l <= logical);
        match idx.checked_sub(1).and_then(|i| self.map.get(i)) {
            Some(&(l, s)) => s + (logical - l),
            None => self.span.start + logical,
        }
    }

    /// The source span of a logical range.
    pub fn span_of(&self, logical: Span) -> Span {
        let start = self.to_source(logical.start);
        let end = if logical.end > logical.start {
            self.to_source(logical.end - 1) + 1
        } else {
            start
        };
        start..end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`), without `<<`, `-` or quotes.
    pub delimiter: String,
    /// Whether the body undergoes expansion (unquoted delimiter).
    pub expand: bool,
    /// Whether `<<-` (leading tabs stripped).
    pub strip_tabs: bool,
    /// The body, between the line after the instruction and the delimiter line (exclusive).
    pub body: String,
    /// Source span of the body (`body` is a verbatim copy of it).
    pub body_span: Span,
}

/// A build stage, opened by a FROM.
#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    /// `AS name`, lower-cased as BuildKit compares it.
    pub name: Option<String>,
    /// Index of the FROM instruction in [`Dockerfile::instructions`].
    pub from: usize,
    /// The image as written.
    pub image_raw: String,
    /// Source span of the image word.
    pub image_span: Span,
    /// The image after substituting global `ARG` defaults; `None` if a variable stayed unresolved.
    pub image: Option<String>,
    /// The stage this one builds on (`FROM builder`), if any.
    pub parent: Option<usize>,
    /// The base-image class (inherited through `parent`).
    pub class: BaseClass,
    /// What the stage is built on: its image classified, or, for `FROM <stage>`, the base of
    /// the stage it builds on.
    pub base: BaseImage,
    /// `--platform` value, if given.
    pub platform: Option<String>,
    /// Instruction indices belonging to the stage (FROM included).
    pub instructions: std::ops::Range<usize>,
}

/// One `name[=value]` of an `ARG` or `ENV`, as BuildKit splits the instruction (ENV's legacy
/// `ENV name value` form included); see [`key_values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The name as written.
    pub name: String,
    pub name_span: Span,
    /// The value with quotes and escapes removed, variables not expanded (`${TOKEN}` stays);
    /// `None` for an `ARG name` without a default.
    pub value: Option<String>,
    /// The source span of the value as written (quotes included).
    pub value_span: Option<Span>,
}

/// A spanned parse error: the file is not a Dockerfile BuildKit would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::parse_build_args;

    #[test]
    fn build_args_take_any_non_empty_name() {
        let args = ["1X=y", "a-b=c", "URL=a=b", "EMPTY="].map(String::from);
        assert_eq!(
            parse_build_args(&args).expect("valid"),
            [("1X", "y"), ("a-b", "c"), ("URL", "a=b"), ("EMPTY", "")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(
            parse_build_args(&["X".into()]).err().as_deref(),
            Some("--build-arg \"X\": expected NAME=VALUE")
        );
        assert!(parse_build_args(&["=x".into()]).is_err());
    }
}
