//! The parser: BuildKit's Dockerfile grammar (`moby/buildkit`, `frontend/dockerfile/parser`),
//! with byte spans on everything.
//!
//! The grammar, as BuildKit reads it:
//! - Parser directives (`# syntax=`, `# escape=`, `# check=`) are comment lines at the very top;
//!   the first line that is not one (an empty line, another comment, an instruction) ends them.
//! - A physical line ending with the escape character (spaces and tabs after it allowed, the
//!   escape itself not escaped) continues on the next line. Comment lines and blank lines inside
//!   a continuation are dropped; a continuation may run into the end of the file.
//! - An instruction is `KEYWORD [--flag[=value]]... arguments`; the keyword is case-insensitive.
//! - RUN, CMD, ENTRYPOINT, SHELL (and ADD, COPY, VOLUME) take JSON form when their arguments are
//!   a valid JSON array of strings, shell form otherwise.
//! - RUN, COPY and ADD (also under ONBUILD) open heredocs with `<<WORD` words; their bodies follow
//!   the instruction, one after the other, each up to a line equal to its delimiter.

use super::shell::Word;
use super::{
    base, Args, Comment, Directive, Dockerfile, Flag, Heredoc, Instruction, KeyValue, Keyword,
    LineIndex, LogicalText, Options, ParseError, Span, Stage,
};
use base::UNRESOLVED;
use std::ops::Range;

impl Keyword {
    /// Every keyword with its upper-case name.
    pub const ALL: [(Keyword, &'static str); 18] = [
        (Keyword::From, "FROM"),
        (Keyword::Run, "RUN"),
        (Keyword::Cmd, "CMD"),
        (Keyword::Label, "LABEL"),
        (Keyword::Maintainer, "MAINTAINER"),
        (Keyword::Expose, "EXPOSE"),
        (Keyword::Env, "ENV"),
        (Keyword::Add, "ADD"),
        (Keyword::Copy, "COPY"),
        (Keyword::Entrypoint, "ENTRYPOINT"),
        (Keyword::Volume, "VOLUME"),
        (Keyword::User, "USER"),
        (Keyword::Workdir, "WORKDIR"),
        (Keyword::Arg, "ARG"),
        (Keyword::Onbuild, "ONBUILD"),
        (Keyword::Stopsignal, "STOPSIGNAL"),
        (Keyword::Healthcheck, "HEALTHCHECK"),
        (Keyword::Shell, "SHELL"),
    ];

    /// The keyword's upper-case name (`RUN`).
    pub fn as_str(self) -> &'static str {
        Keyword::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }

    /// The keyword named `name`, in any case.
    pub fn from_name(name: &str) -> Option<Keyword> {
        Keyword::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(k, _)| *k)
    }
}

fn error(message: impl Into<String>, span: Span) -> ParseError {
    ParseError {
        message: message.into(),
        span,
    }
}

/// `&s[a..b]`, or `""` when the range is not one (never panics).
fn sl(s: &str, a: usize, b: usize) -> &str {
    s.get(a..b).unwrap_or("")
}

/// Go's `unicode.IsSpace`, as BuildKit trims.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// BuildKit's `reWhitespace` (`[\t\v\f\r ]`), which splits the keyword from its arguments.
fn is_sep(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// One physical line: `start..end` is its text without the line ending (`\n`, and any `\r`
/// before it); `next` is where the next line starts.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

fn line_at(src: &str, start: usize) -> Line {
    let bytes = src.as_bytes();
    let rest = bytes.get(start..).unwrap_or(&[]);
    let (mut end, next) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (start + i, start + i + 1),
        None => (src.len(), src.len()),
    };
    while end > start && bytes.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    Line { start, end, next }
}

/// The length of `text` before its continuation escape, if the line continues:
/// BuildKit's `([^E])E[ \t]*$|^E[ \t]*$`.
fn continuation(text: &str, escape: char) -> Option<usize> {
    let before = text.trim_end_matches([' ', '\t']).strip_suffix(escape)?;
    if before.ends_with(escape) {
        return None;
    }
    Some(before.len())
}

/// A parser directive line (`#name=value`, BuildKit's `reDirectives`): (name, value range).
fn directive_of(text: &str) -> Option<(&str, Range<usize>)> {
    let body = text.strip_prefix('#')?;
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}');
    let lead = body.len() - body.trim_start_matches(ws).len();
    let name_and_rest = body.get(lead..)?;
    let mut chars = name_and_rest.char_indices();
    match chars.next() {
        Some((_, c)) if c.is_ascii_alphabetic() => {}
        _ => return None,
    }
    let name_len = name_and_rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name_and_rest.len());
    let name = name_and_rest.get(..name_len)?;
    let after = name_and_rest.get(name_len..)?;
    let after_ws = after.trim_start_matches(ws);
    let value_part = after_ws.strip_prefix('=')?;
    let value_trim_start = value_part.trim_start_matches(ws);
    let value = value_trim_start.trim_end_matches(ws);
    if value.is_empty() {
        return None;
    }
    let value_start = text.len() - value_trim_start.len();
    Some((name, value_start..value_start + value.len()))
}

/// Builds a [`LogicalText`] from source pieces.
#[derive(Default)]
struct Pieces {
    text: String,
    map: Vec<(usize, usize)>,
    first: Option<usize>,
    last_end: usize,
}

impl Pieces {
    fn push(&mut self, src: &str, start: usize, end: usize) {
        if end <= start {
            return;
        }
        self.first.get_or_insert(start);
        self.last_end = end;
        self.map.push((self.text.len(), start));
        self.text.push_str(sl(src, start, end));
    }

    fn finish(self, fallback: usize) -> LogicalText {
        let start = self.first.unwrap_or(fallback);
        LogicalText {
            text: self.text,
            span: start..self.last_end.max(start),
            map: self.map,
        }
    }
}

/// The part `r` of a logical text, as a logical text of its own.
fn sub_text(lt: &LogicalText, r: Range<usize>) -> LogicalText {
    let text = lt.text.get(r.clone()).unwrap_or("").to_string();
    let mut map = vec![(0, lt.to_source(r.start))];
    map.extend(
        lt.map
            .iter()
            .filter(|&&(l, _)| l > r.start && l < r.end)
            .map(|&(l, s)| (l - r.start, s)),
    );
    LogicalText {
        text,
        span: lt.span_of(r),
        map,
    }
}

/// Parses a Dockerfile. The text must already be valid UTF-8; a BOM is allowed.
pub fn parse(source: &str) -> Result<Dockerfile, ParseError> {
    parse_with(source, &Options::default())
}

/// Parses a Dockerfile with what the file does not say: build arguments and the project's
/// base-image aliases (see [`Options`]).
pub fn parse_with(source: &str, options: &Options) -> Result<Dockerfile, ParseError> {
    let mut reader = Reader {
        src: source,
        pos: if source.starts_with('\u{feff}') { 3 } else { 0 },
        escape: '\\',
        comments: Vec::new(),
    };
    let directives = reader.directives()?;
    let mut instructions: Vec<Instruction> = Vec::new();
    while let Some(ins) = reader.next_instruction()? {
        instructions.push(ins);
    }
    if instructions.is_empty() {
        return Err(error("file with no instructions", 0..0));
    }
    let stages = stages(source, reader.escape, &mut instructions, options)?;

    Ok(Dockerfile {
        source: source.to_string(),
        line_index: LineIndex::new(source),
        escape: reader.escape,
        directives,
        instructions,
        stages,
        comments: reader.comments,
    })
}

/// The text of the line `line` with its leading white space, and where that text starts.
fn trim_lead<'s>(src: &'s str, line: &Line) -> (&'s str, usize) {
    let text = sl(src, line.start, line.end);
    let lead = text.len() - text.trim_start_matches(is_space).len();
    (sl(text, lead, text.len()), line.start + lead)
}

/// A Dockerfile being read, line by line: the offset reached, the escape character (once the
/// directives have set it) and the comments met so far.
struct Reader<'s> {
    src: &'s str,
    pos: usize,
    escape: char,
    comments: Vec<Comment>,
}

impl Reader<'_> {
    /// Parser directives: comment lines at the very top.
    fn directives(&mut self) -> Result<Vec<Directive>, ParseError> {
        let src = self.src;
        let mut directives: Vec<Directive> = Vec::new();
        while self.pos < src.len() {
            let line = line_at(src, self.pos);
            let (trimmed, cstart) = trim_lead(src, &line);
            let Some((name, value)) = directive_of(trimmed) else {
                break;
            };
            let lname = name.to_ascii_lowercase();
            if !matches!(lname.as_str(), "syntax" | "escape" | "check") {
                break;
            }
            let vspan = cstart + value.start..cstart + value.end;
            let value = sl(trimmed, value.start, value.end).to_string();
            if directives.iter().any(|d| d.name == lname) {
                return Err(error(
                    format!("only one {lname} parser directive can be used"),
                    cstart..line.end,
                ));
            }
            if lname == "escape" {
                self.escape = match value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(error(
                            format!("invalid escape token '{value}' does not match ` or \\"),
                            vspan,
                        ))
                    }
                };
            }
            self.comments.push(comment_at(src, cstart, line.end));
            directives.push(Directive {
                name: lname,
                value,
                span: cstart..line.end,
            });
            self.pos = line.next;
        }
        Ok(directives)
    }

    /// The next instruction, its span over its heredoc bodies; `None` at the end of the file.
    fn next_instruction(&mut self) -> Result<Option<Instruction>, ParseError> {
        let src = self.src;
        while self.pos < src.len() {
            let line = line_at(src, self.pos);
            self.pos = line.next;
            let (trimmed, cstart) = trim_lead(src, &line);
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with('#') {
                self.comments.push(comment_at(src, cstart, line.end));
                continue;
            }
            let (lt, mut end) = self.logical_line(&line, trimmed, cstart);
            if lt.text.trim().is_empty() {
                // A lone escape line (or escapes only): BuildKit skips it.
                continue;
            }
            let mut ins = instruction(&lt, 0..lt.text.len(), self.escape, false)?;
            if can_contain_heredoc(&ins) {
                let docs = self.heredocs(&lt, &mut end)?;
                if let Some(inner) = ins.onbuild.as_mut() {
                    inner.heredocs = docs.clone();
                }
                ins.heredocs = docs;
            }
            ins.span.end = end;
            if let Some(inner) = ins.onbuild.as_mut() {
                inner.span.end = end;
            }
            return Ok(Some(ins));
        }
        Ok(None)
    }

    /// The logical line that starts with `line` (its text from `cstart` is `trimmed`): the
    /// line and its continuations, comment and blank lines inside dropped. Returns it and where
    /// its last physical line ends.
    fn logical_line(&mut self, line: &Line, trimmed: &str, cstart: usize) -> (LogicalText, usize) {
        let src = self.src;
        let mut pieces = Pieces::default();
        let mut last_end = line.end;
        let mut cont = match continuation(trimmed, self.escape) {
            Some(n) => {
                pieces.push(src, cstart, cstart + n);
                true
            }
            None => {
                pieces.push(src, cstart, line.end);
                false
            }
        };
        while cont && self.pos < src.len() {
            let l = line_at(src, self.pos);
            self.pos = l.next;
            let (tt, tstart) = trim_lead(src, &l);
            if tt.starts_with('#') {
                self.comments.push(comment_at(src, tstart, l.end));
                continue;
            }
            if tt.is_empty() {
                continue;
            }
            last_end = l.end;
            match continuation(sl(src, l.start, l.end), self.escape) {
                Some(n) => pieces.push(src, l.start, l.start + n),
                None => {
                    pieces.push(src, l.start, l.end);
                    cont = false;
                }
            }
        }
        (pieces.finish(cstart), last_end)
    }

    /// The bodies of the heredocs the logical line `lt` opens, read from the lines after it;
    /// `end` moves to the end of the last delimiter line.
    fn heredocs(&mut self, lt: &LogicalText, end: &mut usize) -> Result<Vec<Heredoc>, ParseError> {
        let src = self.src;
        let markers = heredoc_markers(&lt.text);
        let mut docs = Vec::with_capacity(markers.len());
        for m in markers {
            let body_start = self.pos;
            let mut terminated = false;
            while self.pos < src.len() {
                let l = line_at(src, self.pos);
                self.pos = l.next;
                let t = sl(src, l.start, l.end);
                let cand = if m.strip_tabs {
                    t.trim_start_matches('\t')
                } else {
                    t
                };
                if cand == m.name {
                    docs.push(Heredoc {
                        delimiter: m.name.clone(),
                        expand: m.expand,
                        strip_tabs: m.strip_tabs,
                        body: sl(src, body_start, l.start).to_string(),
                        body_span: body_start..l.start,
                    });
                    *end = l.end;
                    terminated = true;
                    break;
                }
            }
            if !terminated {
                return Err(error(
                    format!("unterminated heredoc: no line `{}` closes it", m.name),
                    lt.span_of(m.range),
                ));
            }
        }
        Ok(docs)
    }
}

fn comment_at(src: &str, start: usize, end: usize) -> Comment {
    let t = sl(src, start, end);
    Comment {
        text: t.strip_prefix('#').unwrap_or(t).trim().to_string(),
        span: start..end,
    }
}

/// Parses one logical line (or, for ONBUILD, the part `range` of it) into an instruction. The
/// span ends at the end of the logical text; the caller extends it over heredoc bodies.
fn instruction(
    lt: &LogicalText,
    range: Range<usize>,
    escape: char,
    nested: bool,
) -> Result<Instruction, ParseError> {
    let text = lt.text.as_str();
    let seg = sl(text, range.start, range.end);
    let s = range.start + (seg.len() - seg.trim_start_matches(is_space).len());
    let e = range.start + seg.trim_end_matches(is_space).len();
    let body = sl(text, s, e);
    let kw_len = body.find(is_sep).unwrap_or(body.len());
    let kw_text = sl(body, 0, kw_len);
    let keyword_span = lt.span_of(s..s + kw_len);
    let mut p = s + kw_len;
    p += sl(text, p, e).len() - sl(text, p, e).trim_start_matches(is_sep).len();

    let Some(keyword) = Keyword::from_name(kw_text) else {
        return Err(error(
            format!("unknown instruction: {}", kw_text.to_uppercase()),
            keyword_span,
        ));
    };

    let (raw_flags, args_start) = builder_flags(text, p, e);
    let flags = raw_flags
        .into_iter()
        .map(|(word, r)| {
            let w = word.strip_prefix("--").unwrap_or(&word);
            let (name, value) = match w.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (w.to_string(), None),
            };
            Flag {
                name,
                value,
                span: lt.span_of(r),
            }
        })
        .collect();
    let rest = sl(text, args_start, e);
    let a = args_start + (rest.len() - rest.trim_start_matches(is_space).len());
    let args_range = a..e.max(a);
    let empty = args_range.is_empty();
    let span_end = lt.span_of(s..e).end;

    let mut onbuild = None;
    let args = match keyword {
        _ if empty => Args::None,
        Keyword::Run
        | Keyword::Cmd
        | Keyword::Entrypoint
        | Keyword::Shell
        | Keyword::Add
        | Keyword::Copy
        | Keyword::Volume => match json_array(sl(text, args_range.start, args_range.end)) {
            Json::Strings(items) => Args::Exec(
                items
                    .into_iter()
                    .map(|(value, r)| Word {
                        value,
                        span: lt.span_of(args_range.start + r.start..args_range.start + r.end),
                        quoted: true,
                        open_quote: None,
                    })
                    .collect(),
            ),
            Json::NotStrings => {
                return Err(error(
                    "when using JSON array syntax, arrays must be comprised of strings only",
                    lt.span_of(args_range),
                ))
            }
            Json::Invalid => Args::Shell(sub_text(lt, args_range)),
        },
        Keyword::Onbuild => {
            if nested {
                return Err(error(
                    "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
                    keyword_span,
                ));
            }
            let inner = instruction(lt, args_range.clone(), escape, true)?;
            match inner.keyword {
                Keyword::Onbuild | Keyword::From | Keyword::Maintainer => {
                    let msg = if inner.keyword == Keyword::Onbuild {
                        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".to_string()
                    } else {
                        format!(
                            "{} isn't allowed as an ONBUILD trigger",
                            inner.keyword.as_str()
                        )
                    };
                    return Err(error(msg, inner.keyword_span));
                }
                _ => {}
            }
            onbuild = Some(Box::new(inner));
            Args::Shell(sub_text(lt, args_range))
        }
        _ => Args::Shell(sub_text(lt, args_range)),
    };
    check_arity(keyword, &args, escape, keyword_span.clone())?;

    Ok(Instruction {
        keyword,
        keyword_span: keyword_span.clone(),
        span: keyword_span.start..span_end,
        flags,
        args,
        heredocs: Vec::new(),
        stage: None,
        onbuild,
    })
}

/// The argument counts BuildKit checks when it turns the syntax tree into instructions
/// (`instructions/parse.go`). A bare HEALTHCHECK, an empty RUN or CMD, and `ENTRYPOINT []` /
/// `SHELL []` (which clear the inherited value) pass.
fn check_arity(
    keyword: Keyword,
    args: &Args,
    escape: char,
    keyword_span: Span,
) -> Result<(), ParseError> {
    let name = keyword.as_str();
    let count = match args {
        Args::None => 0,
        Args::Exec(words) => words.len(),
        Args::Shell(lt) => split_ws(&lt.text).len(),
    };
    let span = match args {
        Args::Shell(lt) => keyword_span.start..lt.span.end,
        Args::Exec(w) => keyword_span.start..w.last().map_or(keyword_span.end, |w| w.span.end),
        Args::None => keyword_span.clone(),
    };
    match keyword {
        Keyword::Add | Keyword::Copy if count < 2 => Err(error(
            format!(
                "{name} requires at least two arguments, but only {} provided. Destination could not be determined",
                if count == 1 { "one was" } else { "none were" }
            ),
            span,
        )),
        Keyword::Env
        | Keyword::Label
        | Keyword::Arg
        | Keyword::Expose
        | Keyword::Volume
        | Keyword::User
        | Keyword::Workdir
        | Keyword::Stopsignal
        | Keyword::Maintainer
        | Keyword::Onbuild
            if count == 0 =>
        {
            Err(error(format!("{name} requires at least one argument"), span))
        }
        Keyword::Shell if matches!(args, Args::Shell(_)) => Err(error(
            "SHELL requires the arguments to be in JSON form",
            span,
        )),
        Keyword::Env | Keyword::Label => {
            let Args::Shell(lt) = args else {
                return Ok(());
            };
            let words = parse_words(&lt.text, escape);
            let word = |r: &Range<usize>| sl(&lt.text, r.start, r.end);
            match words.first() {
                Some(first) if !word(first).contains('=') => {
                    if words.len() < 2 {
                        return Err(error(format!("{name} must have two arguments"), span));
                    }
                }
                _ => {
                    if let Some(bad) = words.iter().find(|r| !word(r).contains('=')) {
                        return Err(error(
                            format!(
                                "Syntax error - can't find = in {:?}. Must be of the form: name=value",
                                word(bad)
                            ),
                            lt.span_of(bad.clone()),
                        ));
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// BuildKit's `extractBuilderFlags`: `--name[=value]` words before the arguments (quotes and
/// backslash escapes processed; a lone `--` ends them). Returns the flag words with their
/// logical ranges, and where the arguments start.
fn builder_flags(text: &str, mut pos: usize, end: usize) -> (Vec<(String, Range<usize>)>, usize) {
    let mut flags = Vec::new();
    let ch = |p: usize| sl(text, p, end).chars().next();
    loop {
        while let Some(c) = ch(pos).filter(|c| is_space(*c)) {
            pos += c.len_utf8();
        }
        if pos >= end || !sl(text, pos, end).starts_with("--") {
            return (flags, pos.min(end));
        }
        let start = pos;
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = ch(pos) {
            match quote {
                None if is_space(c) => break,
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    pos += 1;
                }
                Some(q) if c == q => {
                    quote = None;
                    pos += 1;
                }
                _ if c == '\\' => {
                    pos += 1;
                    match ch(pos) {
                        Some(c2) => {
                            word.push(c2);
                            pos += c2.len_utf8();
                        }
                        None => quote = None,
                    }
                }
                _ => {
                    word.push(c);
                    pos += c.len_utf8();
                }
            }
        }
        if word == "--" {
            return (flags, pos);
        }
        flags.push((word, start..pos));
    }
}

fn can_contain_heredoc(ins: &Instruction) -> bool {
    let target = match (&ins.keyword, &ins.onbuild) {
        (Keyword::Onbuild, Some(inner)) => inner,
        _ => ins,
    };
    matches!(target.keyword, Keyword::Run | Keyword::Copy | Keyword::Add)
        && matches!(target.args, Args::Shell(_))
}

struct Marker {
    name: String,
    expand: bool,
    strip_tabs: bool,
    range: Range<usize>,
}

/// The heredocs a logical line opens, in order: every whitespace-separated word (quotes kept)
/// of the form `[n]<<[-]WORD` (BuildKit's `heredocsFromLine`).
fn heredoc_markers(line: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    if !line.contains("<<") {
        return out;
    }
    for r in parse_words(line, '\\') {
        let w = sl(line, r.start, r.end);
        let w2 = w.trim_start_matches(|c: char| c.is_ascii_digit());
        let Some(rest) = w2.strip_prefix("<<") else {
            continue;
        };
        let (strip_tabs, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        let (name, quoted) = unquote(rest);
        if name.is_empty() {
            // `<<''` is not a heredoc (BuildKit's lexer yields no word for it).
            continue;
        }
        out.push(Marker {
            name,
            expand: !quoted,
            strip_tabs,
            range: r,
        });
    }
    out
}

/// Removes quotes and backslash escapes from a word; says whether any quote was removed.
fn unquote(w: &str) -> (String, bool) {
    let mut out = String::with_capacity(w.len());
    let mut quoted = false;
    let mut quote: Option<char> = None;
    let mut it = w.chars();
    while let Some(c) = it.next() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                quoted = true;
            }
            (Some(q), _) if c == q => quote = None,
            (None, '\\') | (Some('"'), '\\') => {
                if let Some(n) = it.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    (out, quoted)
}

/// The outcome of reading arguments as JSON.
enum Json {
    /// Not a valid JSON array: shell form.
    Invalid,
    /// A valid JSON array with something other than strings: an error.
    NotStrings,
    /// The strings, each with the range of its quoted form.
    Strings(Vec<(String, Range<usize>)>),
}

/// Reads `text` as Go's `json.Unmarshal` into `[]any` would, as BuildKit's `parseJSON` does.
fn json_array(text: &str) -> Json {
    let lead = text.len() - text.trim_start_matches(is_space).len();
    if !sl(text, lead, text.len()).starts_with('[') {
        return Json::Invalid;
    }
    let mut j = JsonReader {
        b: text.as_bytes(),
        s: text,
        i: lead,
    };
    let Some(items) = j.array_of_values() else {
        return Json::Invalid;
    };
    j.ws();
    if j.i != text.len() {
        return Json::Invalid;
    }
    let mut strings = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Some(s) => strings.push(s),
            None => return Json::NotStrings,
        }
    }
    Json::Strings(strings)
}

struct JsonReader<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
}

const JSON_MAX_DEPTH: usize = 512;

impl JsonReader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// The top-level array: each element a string (with its range) or `None` for another value.
    #[allow(clippy::type_complexity)]
    fn array_of_values(&mut self) -> Option<Vec<Option<(String, Range<usize>)>>> {
        self.ws();
        if self.peek() != Some(b'[') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(out);
        }
        loop {
            self.ws();
            if self.peek() == Some(b'"') {
                let start = self.i;
                let s = self.string()?;
                out.push(Some((s, start..self.i)));
            } else {
                self.value(1)?;
                out.push(None);
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > JSON_MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return None;
                    }
                    self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return None;
                    }
                    self.i += 1;
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        if sl(self.s, self.i, self.s.len()).starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(h, 16).ok()?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        Some(v)
    }

    /// A string at `"`: its unescaped value (Go replaces bad surrogates with U+FFFD).
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let run_start = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(self.s.get(run_start..self.i)?);
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.i += 1;
                    let c = self.peek()?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                let save = self.i;
                                if sl(self.s, self.i, self.s.len()).starts_with("\\u") {
                                    self.i += 2;
                                    match self.hex4() {
                                        Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                            char::from_u32(
                                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
                                            )
                                        }
                                        _ => {
                                            self.i = save;
                                            None
                                        }
                                    }
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }
}

/// A global ARG's value as far as we know it.
enum Meta {
    /// The value; parts known only at build time are [`UNRESOLVED`].
    Known(String),
    /// Declared without a default, or one of BuildKit's automatic platform ARGs: set at build time.
    Unknown,
}

const AUTOMATIC_ARGS: [&str; 8] = [
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

struct MetaArgs<'o> {
    declared: std::collections::HashMap<String, Meta>,
    /// `--build-arg` values: they win over declared defaults.
    build_args: &'o std::collections::BTreeMap<String, String>,
}

/// The longest value an ARG expansion may reach before we stop evaluating it (and treat it as
/// unknown): far more than any image reference, and it keeps `ARG B=$A$A` chains, which double
/// at each step, from exhausting memory.
const MAX_EXPANSION: usize = 64 * 1024;

impl MetaArgs<'_> {
    /// `None`: never declared (BuildKit expands it to nothing). A later declaration wins.
    fn get(&self, name: &str) -> Option<&Meta> {
        if let Some(m) = self.declared.get(name) {
            return Some(m);
        }
        if AUTOMATIC_ARGS.contains(&name) {
            return Some(&Meta::Unknown);
        }
        None
    }

    /// Declares a global `ARG`: a build argument of that name wins over its default.
    fn declare(&mut self, name: &str, default: Option<Meta>) {
        let value = match self.build_args.get(name) {
            Some(v) => Meta::Known(v.clone()),
            None => default.unwrap_or(Meta::Unknown),
        };
        self.declared.insert(name.to_string(), value);
    }
}

/// Whether a value is known to be empty (`Some(true)`), known not to be (`Some(false)`), or
/// could be either (only unresolved parts).
fn is_empty(v: &str) -> Option<bool> {
    if v.is_empty() {
        Some(true)
    } else if v.chars().all(|c| c == UNRESOLVED) {
        None
    } else {
        Some(false)
    }
}

/// Expands `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+d}`, `${X+d}` and removes quotes as BuildKit's
/// shell lexer does for FROM and ARG. What depends on a value known only at build time (or on a
/// variable never declared) becomes [`UNRESOLVED`]; `None` for an expansion form we do not
/// evaluate.
fn expand(word: &str, escape: char, meta: &MetaArgs<'_>) -> Option<String> {
    let mut out = String::with_capacity(word.len());
    let mut it = word.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = it.next() {
        match (quote, c) {
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => out.push(c),
            (Some('"'), '"') => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (_, c) if c == escape => {
                if let Some((_, n)) = it.next() {
                    out.push(n);
                }
            }
            (_, '$') => {
                let rest = sl(word, i + 1, word.len());
                if let Some(body) = rest.strip_prefix('{') {
                    let close = matching_brace(body)?;
                    let inner = sl(body, 0, close);
                    out.push_str(&expand_braced(inner, escape, meta)?);
                    // Skip `{`, the body and `}`.
                    let skip_to = i + 1 + 1 + close + 1;
                    while it.peek().is_some_and(|&(j, _)| j < skip_to) {
                        it.next();
                    }
                } else {
                    let n = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    if n == 0 {
                        out.push('$');
                        continue;
                    }
                    match meta.get(sl(rest, 0, n)) {
                        Some(Meta::Known(v)) => out.push_str(v),
                        _ => out.push(UNRESOLVED),
                    }
                    for _ in 0..n {
                        it.next();
                    }
                }
            }
            _ => out.push(c),
        }
        if out.len() > MAX_EXPANSION {
            return None;
        }
    }
    Some(out)
}

/// The offset of the `}` closing a `${` whose body starts `body`.
fn matching_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand_braced(inner: &str, escape: char, meta: &MetaArgs<'_>) -> Option<String> {
    let n = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = sl(inner, 0, n);
    let op = sl(inner, n, inner.len());
    let value = meta.get(name);
    let unresolved = || Some(UNRESOLVED.to_string());
    if op.is_empty() {
        return match value {
            Some(Meta::Known(s)) => Some(s.clone()),
            _ => unresolved(),
        };
    }
    let (colon, rest) = match op.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, op),
    };
    let mut chars = rest.chars();
    let kind = chars.next()?;
    let alt = chars.as_str();
    match (kind, value) {
        ('-' | '+', Some(Meta::Unknown)) => unresolved(),
        ('-', None) => expand(alt, escape, meta),
        ('-', Some(Meta::Known(v))) => match (colon, is_empty(v)) {
            (true, Some(true)) => expand(alt, escape, meta),
            (true, None) => unresolved(),
            _ => Some(v.clone()),
        },
        ('+', None) => Some(String::new()),
        ('+', Some(Meta::Known(v))) => match (colon, is_empty(v)) {
            (true, Some(true)) => Some(String::new()),
            (true, None) => unresolved(),
            _ => expand(alt, escape, meta),
        },
        _ => None,
    }
}

/// Words of `text` (BuildKit's `parseWords`: whitespace-separated, quotes kept, the escape
/// character escaping the next one), with their ranges.
fn parse_words(text: &str, escape: char) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut it = text.char_indices();
    while let Some((i, c)) = it.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == escape && q != '\'' {
                    it.next();
                }
            }
            None => {
                if is_space(c) {
                    if let Some(s) = start.take() {
                        out.push(s..i);
                    }
                    continue;
                }
                start.get_or_insert(i);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == escape {
                    it.next();
                }
            }
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

/// The `name[=value]` pairs of an `ARG` or `ENV` instruction (the wrapped one for `ONBUILD`),
/// split as BuildKit splits them; empty for other instructions. `escape` is the file's escape
/// character ([`Dockerfile::escape`](super::Dockerfile::escape)).
pub fn key_values(ins: &Instruction, escape: char) -> Vec<KeyValue> {
    let ins = match (ins.keyword, ins.onbuild.as_deref()) {
        (Keyword::Onbuild, Some(inner)) => inner,
        _ => ins,
    };
    if !matches!(ins.keyword, Keyword::Arg | Keyword::Env) {
        return Vec::new();
    }
    let Args::Shell(lt) = &ins.args else {
        return Vec::new();
    };
    let words = parse_words(&lt.text, escape);
    let word = |r: &Range<usize>| sl(&lt.text, r.start, r.end);
    // ENV's legacy form: `ENV name the rest of the line`.
    if ins.keyword == Keyword::Env {
        if let Some(first) = words.first().filter(|r| !word(r).contains('=')) {
            let rest = lt.text.get(first.end..).unwrap_or("");
            let value_start = first.end + (rest.len() - rest.trim_start_matches(is_space).len());
            let value_end = lt.text.trim_end_matches(is_space).len().max(value_start);
            return vec![KeyValue {
                name: word(first).to_string(),
                name_span: lt.span_of(first.clone()),
                value: Some(unquote(sl(&lt.text, value_start, value_end)).0),
                value_span: Some(lt.span_of(value_start..value_end)),
            }];
        }
    }
    words
        .iter()
        .map(|r| {
            let w = word(r);
            match w.split_once('=') {
                Some((name, value)) => {
                    let eq = r.start + name.len();
                    KeyValue {
                        name: name.to_string(),
                        name_span: lt.span_of(r.start..eq),
                        value: Some(unquote(value).0),
                        value_span: Some(lt.span_of(eq + 1..r.end)),
                    }
                }
                None => KeyValue {
                    name: w.to_string(),
                    name_span: lt.span_of(r.clone()),
                    value: None,
                    value_span: None,
                },
            }
        })
        .collect()
}

/// Builds the stages: assigns every instruction its stage, resolves FROM images with the global
/// ARG defaults, follows stage names, classifies base images.
fn stages(
    src: &str,
    escape: char,
    instructions: &mut [Instruction],
    options: &Options,
) -> Result<Vec<Stage>, ParseError> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut meta = MetaArgs {
        declared: std::collections::HashMap::new(),
        build_args: &options.build_args,
    };
    // Automatic platform ARGs given with --build-arg.
    for name in AUTOMATIC_ARGS {
        if let Some(v) = options.build_args.get(name) {
            meta.declared
                .insert(name.to_string(), Meta::Known(v.clone()));
        }
    }
    let count = instructions.len();
    for (idx, ins) in instructions.iter_mut().enumerate() {
        if ins.keyword == Keyword::From {
            if let Some(prev) = stages.last_mut() {
                prev.instructions.end = idx;
            }
            let stage = from_stage(ins, idx..count, &stages, escape, &meta, options)?;
            stages.push(stage);
        } else if let Some(cur) = stages.len().checked_sub(1) {
            ins.stage = Some(cur);
            if let Some(inner) = ins.onbuild.as_mut() {
                inner.stage = Some(cur);
            }
        } else if ins.keyword == Keyword::Arg {
            declare_global_args(ins, escape, &mut meta);
        } else {
            return Err(error(
                format!(
                    "no build stage in current context: {} comes before the first FROM",
                    ins.keyword.as_str()
                ),
                ins.keyword_span.clone(),
            ));
        }
    }
    if stages.is_empty() {
        let end = src.len();
        return Err(error(
            "the Dockerfile has no FROM instruction (no stage to build)",
            end..end,
        ));
    }
    Ok(stages)
}

/// An ARG before the first FROM: its names, with their defaults expanded, for FROM lines.
fn declare_global_args(ins: &Instruction, escape: char, meta: &mut MetaArgs<'_>) {
    let Args::Shell(lt) = &ins.args else {
        return;
    };
    for r in parse_words(&lt.text, escape) {
        let w = sl(&lt.text, r.start, r.end);
        let (name, value) = match w.split_once('=') {
            Some((n, v)) => (n, expand(v, escape, meta).map(Meta::Known)),
            None => (w, None),
        };
        meta.declare(name, value);
    }
}

/// The stage that the FROM instruction `ins` opens, running over `instructions` until the
/// next FROM sets its end; `earlier` are the stages before it.
fn from_stage(
    ins: &mut Instruction,
    instructions: Range<usize>,
    earlier: &[Stage],
    escape: char,
    meta: &MetaArgs<'_>,
    options: &Options,
) -> Result<Stage, ParseError> {
    let index = earlier.len();
    ins.stage = Some(index);
    let Args::Shell(lt) = &ins.args else {
        return Err(error(
            "FROM requires either one or three arguments",
            ins.span.clone(),
        ));
    };
    let words: Vec<Range<usize>> = split_ws(&lt.text);
    let name = stage_name(lt, &words)?;
    let image_range = words.first().cloned().unwrap_or(0..0);
    let image_raw = sl(&lt.text, image_range.start, image_range.end).to_string();
    let image_span = lt.span_of(image_range);
    // The image with what only the build knows marked; `image` only when fully resolved.
    let marked = expand(&image_raw, escape, meta).filter(|s| !s.is_empty());
    let image = marked.clone().filter(|s| !s.contains(UNRESOLVED));
    let parent = image.as_ref().and_then(|img| {
        let lower = img.to_lowercase();
        // A repeated stage name is only a build-check warning in BuildKit (DuplicateStageName);
        // a reference resolves to the latest stage of that name.
        earlier
            .iter()
            .rposition(|s| s.name.as_deref() == Some(lower.as_str()))
    });
    if let (Some(img), None) = (&image, parent) {
        if let Err(why) = check_reference(img) {
            let shown = if *img == image_raw {
                format!("{img:?}")
            } else {
                format!("{img:?} (from {image_raw:?})")
            };
            return Err(error(
                format!("invalid reference format: base image {shown} {why}"),
                image_span,
            ));
        }
    }
    let base = match (parent.and_then(|p| earlier.get(p)), &marked) {
        (Some(p), _) => p.base.clone(),
        (None, Some(img)) => options.bases.classify(img),
        (None, None) => options.bases.classify(&UNRESOLVED.to_string()),
    };
    let platform = ins
        .flags
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("platform"))
        .and_then(|f| f.value.clone());
    Ok(Stage {
        index,
        name,
        from: instructions.start,
        image_raw,
        image_span,
        image,
        parent,
        class: base.class,
        base,
        platform,
        instructions,
    })
}

/// The stage name of a FROM line split into `words`: `FROM image` has none, `FROM image AS
/// name` one (lower-cased); any other shape is an error.
fn stage_name(lt: &LogicalText, words: &[Range<usize>]) -> Result<Option<String>, ParseError> {
    let word = |i: usize| {
        words
            .get(i)
            .map(|r| sl(&lt.text, r.start, r.end))
            .unwrap_or("")
    };
    match words.len() {
        1 => Ok(None),
        3 if word(1).eq_ignore_ascii_case("as") => {
            let raw = word(2);
            let name = raw.to_lowercase();
            let name_span = words
                .get(2)
                .map_or(lt.span.clone(), |r| lt.span_of(r.clone()));
            if !valid_stage_name(&name) {
                return Err(error(
                    format!(
                        "invalid name for build stage: {raw:?}, name can't start with a number or contain symbols"
                    ),
                    name_span,
                ));
            }
            Ok(Some(name))
        }
        _ => Err(error(
            "FROM requires either one or three arguments",
            lt.span.clone(),
        )),
    }
}

/// BuildKit splits FROM on `[\t\v\f\r ]+`.
fn split_ws(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_sep(c) {
            if let Some(s) = start.take() {
                out.push(s..i);
            }
        } else {
            start.get_or_insert(i);
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

/// `^[a-z][a-z0-9-_\.]*$`
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Checks an image reference against the distribution reference grammar
/// (`[domain[:port]/]path[:tag][@algo:hex]`, path components lower-case): the one parser
/// of [`crate::reference`].
pub(crate) fn check_reference(reference: &str) -> Result<(), &'static str> {
    reference
        .parse::<crate::reference::Reference>()
        .map(|_| ())
        .map_err(|e| e.reason.as_str())
}
