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

/// The codes of `ignore=A,B, C`: upper-cased, up to the first word that is not part of the list.
fn codes(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in value.split(',') {
        let part = part.trim_start();
        let code = part.split_whitespace().next().unwrap_or("");
        if !code.is_empty() {
            out.push(code.to_ascii_uppercase());
        }
        if code.len() < part.trim_end().len() {
            break;
        }
    }
    out
}

/// (file-wide, codes) of one comment's pragma, if it has one.
fn pragma(text: &str) -> Option<(bool, Vec<String>)> {
    if let Some(rest) = strip_prefix_ci(text, "lambda-image:") {
        let rest = rest.trim_start();
        if let Some(v) = strip_prefix_ci(rest, "ignore-file=") {
            return Some((true, codes(v)));
        }
        if let Some(v) = strip_prefix_ci(rest, "ignore=") {
            return Some((false, codes(v)));
        }
        return None;
    }
    let rest = strip_prefix_ci(text, "hadolint")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start();
    let (file, rest) = match strip_prefix_ci(rest, "global") {
        Some(r) if r.starts_with([' ', '\t']) => (true, r.trim_start()),
        _ => (false, rest),
    };
    let v = strip_prefix_ci(rest, "ignore=")?;
    let mapped: Vec<String> = codes(v)
        .iter()
        .filter_map(|c| {
            HADOLINT
                .iter()
                .find(|(h, _)| h == c)
                .map(|(_, li)| li.to_string())
        })
        .collect();
    Some((file, mapped))
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
        let Some((file, codes)) = pragma(&comment.text) else {
            continue;
        };
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
        let (_, p) = of("# syntax=docker/dockerfile:1\nFROM a\n# ignore=LI101\n# lambda-image ignore=LI101\n# hadolintignore=DL3040\nRUN x\n");
        assert_eq!(p, Pragmas::default());
    }
}
