//! Pragmas in comments: `# lambda-image: ignore=LI101,LI201` (the next instruction),
//! `# lambda-image: ignore-file=LI301` (the whole file), and `# hadolint ignore=DL3040` for the
//! hadolint codes we map (DL3032/DL3040 → LI201, DL3030/DL3038 → LI202).

use super::{Dockerfile, Span};

/// What the pragmas of one file say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pragmas {
    /// Codes ignored in the whole file.
    pub file: Vec<String>,
    /// (span of the instruction the pragma precedes, codes ignored there).
    pub next: Vec<(Span, Vec<String>)>,
    /// Every code a `# lambda-image:` pragma names, as written, with its span: the linter
    /// checks them against its rules (this module does not know them).
    pub written: Vec<(String, Span)>,
    /// Comments meant as `# lambda-image:` pragmas that are not one (a misspelt key, a missing
    /// colon, no codes), with what is wrong: they suppress nothing.
    pub malformed: Vec<(Span, String)>,
}

impl Pragmas {
    /// Whether a finding with `code` at byte `offset` is suppressed.
    pub fn suppresses(&self, code: &str, offset: usize) -> bool {
        self.file.iter().any(|c| c == code)
            || self
                .next
                .iter()
                .any(|(span, codes)| span.contains(&offset) && codes.iter().any(|c| c == code))
    }
}

/// Hadolint codes with an equivalent here (lint-rules.md, "Behaviour every rule shares").
pub const HADOLINT: [(&str, &str); 4] = [
    ("DL3032", "LI201"),
    ("DL3040", "LI201"),
    ("DL3030", "LI202"),
    ("DL3038", "LI202"),
];

/// The codes of `ignore=A,B, C` with their offsets in `value`: up to the first word that is not
/// part of the list.
fn codes(value: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for part in value.split(',') {
        let lead = part.len() - part.trim_start().len();
        let trimmed = part.trim_start();
        let code = trimmed.split_whitespace().next().unwrap_or("");
        if !code.is_empty() {
            out.push((code.to_string(), offset + lead));
        }
        if code.len() < trimmed.trim_end().len() {
            break;
        }
        offset += part.len() + 1;
    }
    out
}

/// What one comment says as a pragma.
enum Parsed {
    /// Not a pragma.
    None,
    /// (file-wide, codes as written with their offsets in the comment text, from hadolint).
    Ignore(bool, Vec<(String, usize)>, bool),
    /// Meant as a `# lambda-image:` pragma, but not one: why.
    Malformed(String),
}

const FORMS: &str = "`# lambda-image: ignore=LI101,LI201` (the next instruction) or `# lambda-image: ignore-file=LI301` (the whole file)";

fn pragma(text: &str) -> Parsed {
    let offset = |rest: &str| text.len() - rest.len();
    if let Some(rest) = strip_prefix_ci(text, "lambda-image:") {
        let rest = rest.trim_start();
        let (file, value) = if let Some(v) = strip_prefix_ci(rest, "ignore-file=") {
            (true, v)
        } else if let Some(v) = strip_prefix_ci(rest, "ignore=") {
            (false, v)
        } else {
            return Parsed::Malformed(format!(
                "`# {text}` is not a pragma lambda-image knows and suppresses nothing; write {FORMS}"
            ));
        };
        let at = offset(value);
        let found: Vec<(String, usize)> =
            codes(value).into_iter().map(|(c, o)| (c, o + at)).collect();
        if found.is_empty() {
            return Parsed::Malformed(format!(
                "`# {text}` names no rule code and suppresses nothing; write {FORMS}"
            ));
        }
        return Parsed::Ignore(file, found, false);
    }
    if let Some(rest) = strip_prefix_ci(text, "lambda-image") {
        let after = rest.trim_start();
        if after.len() < rest.len() && strip_prefix_ci(after, "ignore").is_some() {
            return Parsed::Malformed(format!(
                "`# {text}` is missing the colon after `lambda-image` and suppresses nothing; write {FORMS}"
            ));
        }
        return Parsed::None;
    }
    let Some(rest) = strip_prefix_ci(text, "hadolint") else {
        return Parsed::None;
    };
    if !rest.starts_with([' ', '\t']) {
        return Parsed::None;
    }
    let rest = rest.trim_start();
    let (file, rest) = match strip_prefix_ci(rest, "global") {
        Some(r) if r.starts_with([' ', '\t']) => (true, r.trim_start()),
        _ => (false, rest),
    };
    let Some(v) = strip_prefix_ci(rest, "ignore=") else {
        return Parsed::None;
    };
    let mapped: Vec<(String, usize)> = codes(v)
        .into_iter()
        .filter_map(|(c, o)| {
            let upper = c.to_ascii_uppercase();
            HADOLINT
                .iter()
                .find(|(h, _)| *h == upper)
                .map(|(_, li)| (li.to_string(), o))
        })
        .collect();
    Parsed::Ignore(file, mapped, true)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Reads the pragmas of a parsed file.
///
/// `# lambda-image: ignore=…` and `# hadolint ignore=…` cover the instruction the comment
/// precedes (its whole span, heredoc bodies and ONBUILD included), or the instruction it sits in
/// when written between continuation lines. `# lambda-image: ignore-file=…` and
/// `# hadolint global ignore=…` cover the file. Codes are case-insensitive.
pub fn pragmas(df: &Dockerfile) -> Pragmas {
    let mut out = Pragmas::default();
    for comment in &df.comments {
        let (file, found, hadolint) = match pragma(&comment.text) {
            Parsed::None => continue,
            Parsed::Malformed(why) => {
                out.malformed.push((comment.span.clone(), why));
                continue;
            }
            Parsed::Ignore(file, found, hadolint) => (file, found, hadolint),
        };
        // Where the comment's text starts in the source (after `#` and blanks).
        let text_at = df
            .source
            .get(comment.span.clone())
            .and_then(|line| line.find(comment.text.as_str()))
            .map_or(comment.span.start, |i| comment.span.start + i);
        if !hadolint {
            for (code, offset) in &found {
                let start = text_at + offset;
                out.written.push((code.clone(), start..start + code.len()));
            }
        }
        let codes: Vec<String> = found
            .into_iter()
            .map(|(c, _)| c.to_ascii_uppercase())
            .collect();
        if codes.is_empty() {
            continue;
        }
        if file {
            for c in codes {
                if !out.file.contains(&c) {
                    out.file.push(c);
                }
            }
            continue;
        }
        let at = comment.span.start;
        let target = df
            .instructions
            .iter()
            .find(|i| i.span.contains(&at) || i.span.start >= comment.span.end);
        if let Some(ins) = target {
            out.next.push((ins.span.clone(), codes));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;

    fn of(src: &str) -> (Dockerfile, Pragmas) {
        match parse(src) {
            Ok(df) => {
                let p = pragmas(&df);
                (df, p)
            }
            Err(e) => panic!("{}", e.message),
        }
    }

    fn offset(src: &str, needle: &str) -> usize {
        src.find(needle).unwrap_or(usize::MAX)
    }

    #[test]
    fn ignore_covers_the_next_instruction_only() {
        let src = "FROM a\n# lambda-image: ignore=li101, LI201 because of reasons\nRUN yum install x \\\n && yum y\nRUN yum z\n";
        let (_, p) = of(src);
        assert!(p.suppresses("LI101", offset(src, "yum install")));
        assert!(p.suppresses("LI201", offset(src, "yum y")));
        assert!(!p.suppresses("LI202", offset(src, "yum install")));
        assert!(!p.suppresses("LI101", offset(src, "yum z")));
        assert!(!p.suppresses("LI101", offset(src, "FROM")));
        assert_eq!(p.next[0].1, ["LI101", "LI201"]);
    }

    #[test]
    fn ignore_file_anywhere_and_hadolint_mapping() {
        let src = "FROM a\nRUN yum x\n# Lambda-Image: ignore-file=LI301\n# hadolint ignore=DL3040,DL3032,DL3038,DL3008\nRUN dnf install x\n# hadolint global ignore=DL3030\n";
        let (_, p) = of(src);
        assert_eq!(p.file, ["LI301", "LI202"]);
        assert!(p.suppresses("LI301", 0));
        assert!(p.suppresses("LI201", offset(src, "dnf install")));
        assert!(p.suppresses("LI202", offset(src, "dnf install")));
        assert!(!p.suppresses("LI201", offset(src, "yum x")));
        assert_eq!(p.next[0].1, ["LI201", "LI201", "LI202"]);
    }

    #[test]
    fn pragma_inside_a_continuation_covers_its_instruction() {
        let src = "FROM a\nRUN yum install x \\\n  # lambda-image: ignore=LI101\n  && yum clean all\nRUN yum y\n";
        let (_, p) = of(src);
        assert!(p.suppresses("LI101", offset(src, "yum install")));
        assert!(!p.suppresses("LI101", offset(src, "yum y")));
    }

    #[test]
    fn heredoc_body_and_onbuild_are_covered() {
        let src = "FROM a\n# lambda-image: ignore=LI101\nRUN <<EOF\nyum install x\nEOF\n# lambda-image: ignore=LI201\nONBUILD RUN dnf install y\n";
        let (_, p) = of(src);
        assert!(p.suppresses("LI101", offset(src, "yum install")));
        assert!(p.suppresses("LI201", offset(src, "dnf install")));
    }

    #[test]
    fn other_comments_are_not_pragmas() {
        let (_, p) = of("# syntax=docker/dockerfile:1\nFROM a\n# ignore=LI101\n# lambda-image builds this\n# hadolintignore=DL3040\nRUN x\n");
        assert_eq!(p, Pragmas::default());
    }

    #[test]
    fn written_codes_have_spans_and_malformed_pragmas_say_why() {
        let src = "FROM a\n#  lambda-image: ignore=LI101, li999 why\n# lambda-image: ignroe=LI101\n# lambda-image ignore=LI101\n# lambda-image: ignore=\n# hadolint ignore=DL3008\nRUN x\n";
        let (_, p) = of(src);
        let written: Vec<(&str, &str)> = p
            .written
            .iter()
            .map(|(c, span)| (c.as_str(), src.get(span.clone()).unwrap_or("")))
            .collect();
        assert_eq!(written, [("LI101", "LI101"), ("li999", "li999")]);
        let why: Vec<&str> = p.malformed.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(
            why[0].contains("ignroe") && why[0].contains("not a pragma"),
            "{why:?}"
        );
        assert!(why[1].contains("missing the colon"), "{why:?}");
        assert!(why[2].contains("names no rule code"), "{why:?}");
        assert!(p
            .malformed
            .iter()
            .all(|(span, _)| src.get(span.clone()).is_some_and(|l| l.starts_with('#'))));
    }
}
