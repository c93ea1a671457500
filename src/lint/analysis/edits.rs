//! Spans and edits: mapping a range of a word's value back to the source, and the edits fixes
//! are built from (deleting words or options, appending a command to a RUN, keeping line
//! endings, continuations and `sudo`), with the [`safe`] and [`unsafe_fix`] constructors. Fixes
//! never add or remove words of an exec-form RUN ([`is_exec_form`]).

use super::package_manager::Opt;
use crate::dockerfile::{Args, Command, Dockerfile, Span, Word};
use crate::lint::{Edit, Run};

/// Whether the RUN is in exec (JSON) form: fixes that add or remove words are not offered there.
pub fn is_exec_form(run: &Run<'_>) -> bool {
    matches!(run.instruction.args, Args::Exec(_))
}

/// The source span of `range` (a byte range of `word.value`), when the word is written verbatim
/// or wrapped whole in one pair of quotes; `None` when escapes make the mapping uncertain.
pub fn inner_span(src: &str, word: &Word, range: std::ops::Range<usize>) -> Option<Span> {
    let raw = src.get(word.span.clone())?;
    let value = word.value.as_str();
    if range.end > value.len() || range.start > range.end {
        return None;
    }
    let base = if raw == value {
        word.span.start
    } else if raw.len() == value.len() + 2
        && (raw.starts_with('"') && raw.ends_with('"')
            || raw.starts_with('\'') && raw.ends_with('\''))
        && raw.get(1..raw.len() - 1) == Some(value)
    {
        word.span.start + 1
    } else {
        return None;
    };
    Some(base + range.start..base + range.end)
}

/// The source span of a whole word's value (inside its quotes), if it can be located exactly.
pub fn value_span(src: &str, word: &Word) -> Option<Span> {
    inner_span(src, word, 0..word.value.len())
}

/// Deletes `span` (one or more whole words) with the blanks after it on the same line, or, at the
/// end of a line, the blanks before it: the rest of the line, comments and continuations stay.
/// When the words are alone on a continuation line (`    --opt \`), the whole line goes.
pub fn delete_words(src: &str, span: Span, escape: char) -> Edit {
    let bytes = src.as_bytes();
    let line_start = src
        .get(..span.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let alone_before = src
        .get(line_start..span.start)
        .is_some_and(|t| t.chars().all(|c| c == ' ' || c == '\t'));
    if alone_before && line_start > 0 {
        let rest = src.get(span.end..).unwrap_or("");
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = trimmed.strip_prefix(escape) {
            let nl = if after.starts_with("\r\n") {
                2
            } else if after.starts_with('\n') {
                1
            } else {
                0
            };
            if nl > 0 {
                let end = span.end + (rest.len() - after.len()) + nl;
                return Edit::delete(line_start..end);
            }
        }
    }
    let mut end = span.end;
    while matches!(bytes.get(end), Some(b' ' | b'\t')) {
        end += 1;
    }
    let at_line_end = matches!(bytes.get(end), None | Some(b'\n' | b'\r'));
    if end > span.end && !at_line_end {
        return Edit::delete(span.start..end);
    }
    let mut start = span.start;
    while start > 0 && matches!(bytes.get(start - 1), Some(b' ' | b'\t')) {
        start -= 1;
    }
    Edit::delete(start..span.end)
}

/// Removes an option: the whole word (and its value word), or one letter of a cluster (`-yq` →
/// `-y`). `None` when the option cannot be removed exactly.
pub fn delete_option(df: &Dockerfile, run: &Run<'_>, opt: &Opt<'_>) -> Option<Edit> {
    let src = df.source.as_str();
    if is_exec_form(run) {
        return None;
    }
    match opt.cluster_at {
        Some(at) => {
            // Remove the letter (and an attached value) but keep the rest of the cluster.
            let end = match &opt.value_in_word {
                Some(r) => r.end,
                None => at + opt.name.len() - 1,
            };
            if at == 1 && end >= opt.word.value.len() {
                // The whole word is this option.
                return Some(delete_words(src, opt.span(), df.escape));
            }
            if opt.value_word.is_some() {
                return None;
            }
            Some(Edit::delete(inner_span(src, opt.word, at..end)?))
        }
        None => {
            // The word must be exactly as written (not a quoted concatenation).
            value_span(src, opt.word)?;
            if let Some(vw) = opt.value_word {
                value_span(src, vw)?;
            }
            Some(delete_words(src, opt.span(), df.escape))
        }
    }
}

/// The line ending used at `offset` (`\r\n` if the line containing it ends so).
pub fn line_ending_at(src: &str, offset: usize) -> &'static str {
    let rest = src.get(offset..).unwrap_or("");
    match rest.find('\n') {
        Some(i) if i > 0 && rest.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        Some(_) => "\n",
        None if src.contains("\r\n") => "\r\n",
        None => "\n",
    }
}

/// An edit appending `text` (a shell command) after the last command of a RUN: inside the
/// last heredoc body as a new line before its delimiter when that is where the commands are,
/// else `&& text` after the last command. `None` for exec-form RUNs.
pub fn append_command(src: &str, run: &Run<'_>, text: &str) -> Option<Edit> {
    if is_exec_form(run) {
        return None;
    }
    let last = run.commands.last()?;
    let end = last.span.end;
    for h in &run.instruction.heredocs {
        if h.body_span.start <= last.span.start && end <= h.body_span.end {
            let at = h.body_span.end;
            let body = src.get(h.body_span.clone())?;
            let nl = line_ending_at(src, h.body_span.start);
            return Some(if body.is_empty() || body.ends_with('\n') {
                Edit::insert(at, format!("{text}{nl}"))
            } else {
                Edit::insert(at, format!("{nl}{text}"))
            });
        }
    }
    Some(Edit::insert(end, format!(" && {text}")))
}

/// The program as written before its arguments, for a command added next to it: `sudo ` kept
/// when the command was run through sudo.
pub fn invocation(c: &Command, name: &str) -> String {
    let sudo = c
        .words
        .get(..c.program)
        .unwrap_or(&[])
        .iter()
        .any(|w| w.value == "sudo");
    if sudo {
        format!("sudo {name}")
    } else {
        name.to_string()
    }
}

/// A safe fix.
pub fn safe(message: impl Into<String>, edits: Vec<Edit>) -> crate::lint::Fix {
    crate::lint::Fix {
        applicability: crate::lint::Applicability::Safe,
        message: message.into(),
        edits,
    }
}

/// An unsafe fix.
pub fn unsafe_fix(message: impl Into<String>, edits: Vec<Edit>) -> crate::lint::Fix {
    crate::lint::Fix {
        applicability: crate::lint::Applicability::Unsafe,
        message: message.into(),
        edits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_words_keeps_layout() {
        let src = "RUN dnf install -q \\\n  x\n";
        let at = src.find("-q").unwrap_or(0);
        let e = delete_words(src, at..at + 2, '\\');
        let mut out = src.to_string();
        out.replace_range(e.range, "");
        assert_eq!(out, "RUN dnf install \\\n  x\n");
        let src = "RUN dnf install x -q\n";
        let at = src.find("-q").unwrap_or(0);
        let e = delete_words(src, at..at + 2, '\\');
        let mut out = src.to_string();
        out.replace_range(e.range, "");
        assert_eq!(out, "RUN dnf install x\n");
        let src = "RUN dnf install \\\r\n  -q \\\r\n  x\r\n";
        let at = src.find("-q").unwrap_or(0);
        let e = delete_words(src, at..at + 2, '\\');
        let mut out = src.to_string();
        out.replace_range(e.range, "");
        assert_eq!(out, "RUN dnf install \\\r\n  x\r\n");
    }
}
