//! The RUN splitter: a shell script (shell form, exec form, heredoc bodies) → commands → words,
//! each word with its unquoted value and its source span.
//!
//! Splits on `&&`, `||`, `;`, `|`, `&`, newlines (in heredoc bodies), and recurses one level into
//! `sh -c '…'` / `bash -c "…"`. Subshells `( … )` and `{ …; }` groups are flattened into their
//! commands. `if/then/fi`, `for/do/done` keywords are skipped so the commands inside are seen.
//!
//! Quoting follows POSIX sh: `'…'` is literal, `"…"` keeps `$…` and honours `\` before
//! `$ \` " \\` and newline, an unquoted `\` escapes the next character. `$(…)`, `${…}` and
//! backquotes stay inside their word, verbatim. Redirections (`> f`, `2>&1`, `<f`, `<<EOF`) are
//! not words of the command; the bodies of heredocs opened inside a script are skipped.

use super::{Args, Dockerfile, Instruction, Keyword, LogicalText, Span};
use std::ops::Range;

/// One word of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes removed and escapes resolved (variables are left as written: `$X`).
    pub value: String,
    /// Source span of the word as written (quotes included).
    pub span: Span,
    /// Whether any part of the word was quoted.
    pub quoted: bool,
    /// The source offset of a quote the word opens and never closes (`libxml2-dr"]`): the
    /// shell refuses the script (`unexpected EOF while looking for matching quote`), and
    /// everything from there to the end of the word (the end of the script) is inside it.
    pub open_quote: Option<usize>,
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
///
/// A heredoc body is split when it is the script the RUN runs: the shell-form text has no
/// command besides heredoc redirections (`RUN <<EOF`), or its only command is a shell with
/// options alone (`RUN bash -ex <<EOF`), and the body has no `#!` line naming another
/// interpreter. Bodies fed to other programs (`RUN python3 <<EOF`, `RUN cat <<EOF > f`) are data.
pub fn split_run(df: &Dockerfile, ins: &Instruction) -> Vec<Command> {
    split_run_with(df, ins, &ShellIndex::new(df))
}

/// [`split_run`] with the `SHELL` instructions indexed once for the whole file (linear time over
/// many RUNs).
pub fn split_run_with(df: &Dockerfile, ins: &Instruction, shells: &ShellIndex) -> Vec<Command> {
    let mut out = Vec::new();
    if ins.keyword != Keyword::Run {
        return out;
    }
    match &ins.args {
        Args::Shell(_) if !shells.posix(df, ins) => {}
        Args::Shell(lt) => {
            split_script(&lt.text, &Mapper::Logical(lt), 0, &mut out);
            if !ins.heredocs.is_empty() && runs_heredoc_as_script(&out) {
                for h in &ins.heredocs {
                    if shebang_is_shell(&h.body) {
                        split_script(&h.body, &Mapper::Offset(h.body_span.start), 0, &mut out);
                    }
                }
            }
        }
        Args::Exec(words) => {
            let Some(first) = words.first() else {
                return out;
            };
            let program = program_index(words);
            let span = first.span.start..words.last().map_or(first.span.end, |w| w.span.end);
            let script = shell_script_index(words, program);
            out.push(Command {
                words: words.clone(),
                program,
                span,
            });
            if let Some(w) = script.and_then(|i| words.get(i)) {
                match json_string_segments(&df.source, &w.span) {
                    Some((value, segs)) if value == w.value => {
                        let root = Mapper::Offset(0);
                        let mapper = Mapper::Segments {
                            segs: &segs,
                            parent: &root,
                        };
                        split_script(&w.value, &mapper, 1, &mut out);
                    }
                    _ => split_script(&w.value, &Mapper::Whole(w.span.clone()), 1, &mut out),
                }
            }
        }
        Args::None => {}
    }
    out
}

/// The `SHELL` instructions of every stage, in source order: (source offset, whether the shell
/// is POSIX; `None` when not in JSON form).
#[derive(Debug, Clone, Default)]
pub struct ShellIndex {
    per_stage: Vec<Vec<(usize, Option<bool>)>>,
}

impl ShellIndex {
    pub fn new(df: &Dockerfile) -> ShellIndex {
        let mut per_stage = vec![Vec::new(); df.stages.len()];
        for ins in &df.instructions {
            if ins.keyword != Keyword::Shell {
                continue;
            }
            let posix = match &ins.args {
                Args::Exec(words) => {
                    let program = words.first().map_or("", |w| {
                        let name = w.value.rsplit(['/', '\\']).next().unwrap_or(&w.value);
                        name.strip_suffix(".exe").unwrap_or(name)
                    });
                    Some(
                        !["powershell", "pwsh", "cmd"]
                            .iter()
                            .any(|p| p.eq_ignore_ascii_case(program)),
                    )
                }
                _ => None,
            };
            if let Some(list) = ins.stage.and_then(|s| per_stage.get_mut(s)) {
                list.push((ins.span.start, posix));
            }
        }
        ShellIndex { per_stage }
    }

    /// Whether shell-form RUN text of `ins` goes to a POSIX shell: false after a `SHELL
    /// ["powershell", …]` (or pwsh, cmd) in its stage or the stages it builds on.
    fn posix(&self, df: &Dockerfile, ins: &Instruction) -> bool {
        let mut stage = ins.stage;
        let mut before = ins.span.start;
        let mut hops = 0;
        while let Some(st) = stage.and_then(|i| df.stages.get(i)) {
            let shells = self.per_stage.get(st.index).map_or(&[][..], Vec::as_slice);
            let n = shells.partition_point(|&(at, _)| at < before);
            if let Some(&(_, Some(posix))) = n.checked_sub(1).and_then(|i| shells.get(i)) {
                return posix;
            }
            // Parents come before their children; anything else would be a cycle.
            hops += 1;
            if hops > df.stages.len() {
                break;
            }
            stage = st.parent;
            before = usize::MAX;
        }
        true
    }
}

/// Maps offsets of the text being split to source offsets.
enum Mapper<'a> {
    /// Shell-form text of an instruction.
    Logical(&'a LogicalText),
    /// A verbatim copy of the source starting at this offset (heredoc bodies).
    Offset(usize),
    /// The unquoted value of a word: (value offset, offset in the parent's text) pairs, each
    /// starting a run copied verbatim.
    Segments {
        segs: &'a [(usize, usize, usize)],
        parent: &'a Mapper<'a>,
    },
    /// Only known to lie within this span (a JSON string written across continuation lines).
    Whole(Span),
}

impl Mapper<'_> {
    fn to_source(&self, off: usize) -> usize {
        match self {
            Mapper::Logical(lt) => lt.to_source(off),
            Mapper::Offset(base) => base + off,
            Mapper::Segments { segs, parent } => {
                let (v, p, _) = seg_at(segs, off);
                parent.to_source(p + (off - v))
            }
            Mapper::Whole(span) => span.start,
        }
    }

    /// Like `to_source`, but a character written as an escape starts at its escape.
    fn to_source_start(&self, off: usize) -> usize {
        match self {
            Mapper::Segments { segs, parent } => {
                let (v, p, lead) = seg_at(segs, off);
                if off == v {
                    parent.to_source_start(p.saturating_sub(lead))
                } else {
                    parent.to_source_start(p + (off - v))
                }
            }
            _ => self.to_source(off),
        }
    }

    fn whole(&self) -> Option<&Span> {
        match self {
            Mapper::Whole(s) => Some(s),
            Mapper::Segments { parent, .. } => parent.whole(),
            _ => None,
        }
    }

    fn span(&self, r: &Range<usize>) -> Span {
        if let Some(w) = self.whole() {
            return w.clone();
        }
        let start = self.to_source_start(r.start);
        let end = if r.end > r.start {
            self.to_source(r.end - 1) + 1
        } else {
            start
        };
        start..end.max(start)
    }
}

fn seg_at(segs: &[(usize, usize, usize)], off: usize) -> (usize, usize, usize) {
    let i = segs.partition_point(|&(v, _, _)| v <= off);
    i.checked_sub(1)
        .and_then(|i| segs.get(i))
        .copied()
        .unwrap_or((0, 0, 0))
}

/// A word while splitting: its value and its range in the text being split.
struct RawWord {
    value: String,
    range: Range<usize>,
    quoted: bool,
    /// The offset of a quote opened and never closed, in the text being split.
    open_quote: Option<usize>,
}

const SHELLS: [&str; 6] = ["sh", "bash", "dash", "ash", "zsh", "ksh"];

/// Reserved words skipped at the start of a command so the commands inside are seen.
const KEYWORDS: [&str; 15] = [
    "if", "then", "else", "elif", "fi", "while", "until", "do", "done", "esac", "{", "}", "!",
    "[[", "]]",
];

#[derive(Default)]
struct State {
    words: Vec<RawWord>,
    /// The next word is a redirection target; `Some(strip_tabs)` for a heredoc delimiter.
    redirect: Option<Option<bool>>,
    /// Heredocs opened on the current line: (delimiter, strip tabs).
    pending: Vec<(String, bool)>,
    /// Drop words up to the next separator (`for x in a b c;`).
    skip_to_separator: bool,
    /// After `case`, drop words up to `in`.
    case_header: bool,
    case_depth: usize,
    /// Inside `case … in`, before a pattern's `)`.
    in_pattern: bool,
}

fn split_script(text: &str, mapper: &Mapper, depth: u8, out: &mut Vec<Command>) {
    let b = text.as_bytes();
    let mut st = State::default();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\\' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => i += 3,
            b'\n' => {
                finish(&mut st, text, mapper, depth, out);
                st.skip_to_separator = false;
                i += 1;
                if !st.pending.is_empty() {
                    i = skip_heredoc_bodies(text, i, &st.pending);
                    st.pending.clear();
                }
            }
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b';' => {
                finish(&mut st, text, mapper, depth, out);
                st.skip_to_separator = false;
                i += 1;
                if matches!(b.get(i), Some(b';' | b'&')) {
                    i += 1;
                    if b.get(i) == Some(&b'&') {
                        i += 1;
                    }
                    if st.case_depth > 0 {
                        st.in_pattern = true;
                    }
                }
            }
            b'&' => {
                finish(&mut st, text, mapper, depth, out);
                st.skip_to_separator = false;
                match b.get(i + 1) {
                    Some(b'&') => i += 2,
                    Some(b'>') => {
                        i += 2;
                        if b.get(i) == Some(&b'>') {
                            i += 1;
                        }
                        st.redirect = Some(None);
                    }
                    _ => i += 1,
                }
            }
            b'|' => {
                finish(&mut st, text, mapper, depth, out);
                st.skip_to_separator = false;
                i += if matches!(b.get(i + 1), Some(b'|' | b'&')) {
                    2
                } else {
                    1
                };
            }
            b'(' => {
                finish(&mut st, text, mapper, depth, out);
                i += 1;
            }
            b')' => {
                finish(&mut st, text, mapper, depth, out);
                st.in_pattern = false;
                i += 1;
            }
            b'<' | b'>' => {
                let rest = b.get(i..).unwrap_or(&[]);
                let (len, heredoc) = redirection(rest);
                i += len;
                st.redirect = Some(heredoc);
            }
            _ => {
                let mut value = String::new();
                let (end, quoted, open_quote) = lex_word(text, i, &mut value, None);
                let end = end.max(i + 1).min(text.len());
                let io_number = !quoted
                    && !value.is_empty()
                    && value.bytes().all(|c| c.is_ascii_digit())
                    && matches!(b.get(end), Some(b'<' | b'>'));
                let range = i..end;
                i = end;
                if io_number {
                    continue;
                }
                word(
                    &mut st,
                    RawWord {
                        value,
                        range,
                        quoted,
                        open_quote,
                    },
                );
            }
        }
    }
    finish(&mut st, text, mapper, depth, out);
}

/// The length of the redirection operator at the start of `rest`, and for heredocs whether
/// leading tabs are stripped.
fn redirection(rest: &[u8]) -> (usize, Option<bool>) {
    match rest {
        [b'<', b'<', b'<', ..] => (3, None),
        [b'<', b'<', b'-', ..] => (3, Some(true)),
        [b'<', b'<', ..] => (2, Some(false)),
        [b'<', b'>' | b'&', ..] | [b'>', b'>' | b'&' | b'|', ..] => (2, None),
        _ => (1, None),
    }
}

fn word(st: &mut State, w: RawWord) {
    if let Some(heredoc) = st.redirect.take() {
        if let Some(strip) = heredoc {
            st.pending.push((w.value, strip));
        }
        return;
    }
    if st.in_pattern {
        if !w.quoted && w.value == "esac" {
            st.in_pattern = false;
            st.case_depth = st.case_depth.saturating_sub(1);
        }
        return;
    }
    if st.case_header {
        if !w.quoted && w.value == "in" {
            st.case_header = false;
            st.case_depth += 1;
            st.in_pattern = true;
        }
        return;
    }
    if st.skip_to_separator {
        return;
    }
    if st.words.is_empty() && !w.quoted {
        match w.value.as_str() {
            "case" => {
                st.case_header = true;
                return;
            }
            "for" | "select" | "function" => {
                st.skip_to_separator = true;
                return;
            }
            "esac" => {
                st.case_depth = st.case_depth.saturating_sub(1);
                return;
            }
            v if KEYWORDS.contains(&v) => return,
            _ => {}
        }
    }
    st.words.push(w);
}

/// Ends the current command: builds it, and splits the script of `sh -c '…'` one level deep.
fn finish(st: &mut State, text: &str, mapper: &Mapper, depth: u8, out: &mut Vec<Command>) {
    st.redirect = None;
    if st.words.is_empty() {
        return;
    }
    let raw = std::mem::take(&mut st.words);
    let mut script_range = None;
    let mut words = Vec::with_capacity(raw.len());
    let mut ranges = Vec::with_capacity(if depth == 0 { raw.len() } else { 0 });
    for w in raw {
        if depth == 0 {
            ranges.push(w.range.clone());
        }
        words.push(Word {
            span: mapper.span(&w.range),
            value: w.value,
            quoted: w.quoted,
            open_quote: w.open_quote.map(|q| mapper.span(&(q..q + 1)).start),
        });
    }
    let program = program_index(&words);
    if depth == 0 {
        script_range = shell_script_index(&words, program).and_then(|i| ranges.get(i).cloned());
    }
    let span = match (words.first(), words.last()) {
        (Some(f), Some(l)) => f.span.start..l.span.end.max(f.span.start),
        _ => 0..0,
    };
    out.push(Command {
        words,
        program,
        span,
    });
    if let Some(range) = script_range {
        let mut value = String::with_capacity(range.len());
        let mut segs = Vec::new();
        lex_word(text, range.start, &mut value, Some(&mut segs));
        let sub = Mapper::Segments {
            segs: &segs,
            parent: mapper,
        };
        split_script(&value, &sub, depth + 1, out);
    }
}

/// Skips the bodies of the heredocs opened on the line that just ended.
fn skip_heredoc_bodies(text: &str, mut i: usize, pending: &[(String, bool)]) -> usize {
    for (delim, strip) in pending {
        while i < text.len() {
            let rest = text.get(i..).unwrap_or("");
            let (line, next) = match rest.find('\n') {
                Some(n) => (rest.get(..n).unwrap_or(""), i + n + 1),
                None => (rest, text.len()),
            };
            let line = line.trim_end_matches('\r');
            let line = if *strip {
                line.trim_start_matches('\t')
            } else {
                line
            };
            i = next;
            if line == delim {
                break;
            }
        }
    }
    i
}

/// (value offset, offset in the parent text, lead): each run of a word's value starting at the
/// value offset is a copy of the parent text at the parent offset; `lead` counts the bytes of an
/// escape (`\`) written before it, which a span starting there includes.
type Segments = Vec<(usize, usize, usize)>;

/// Appends `piece`, copied verbatim from `at` in the text, to `value`, recording where runs start.
fn push(value: &mut String, map: &mut Option<&mut Segments>, piece: &str, at: usize) {
    if let Some(segs) = map.as_deref_mut() {
        let contiguous = segs
            .last()
            .is_some_and(|&(v, o, _)| o + (value.len() - v) == at);
        if !contiguous {
            segs.push((value.len(), at, 0));
        }
    }
    value.push_str(piece);
}

/// Appends `piece`, the result of the escape sequence `at..at + len` of the text: its bytes map
/// to the end of the sequence (the escaped character itself), the rest of the sequence is lead.
fn push_escape(
    value: &mut String,
    map: &mut Option<&mut Segments>,
    piece: &str,
    at: usize,
    len: usize,
) {
    if let Some(segs) = map.as_deref_mut() {
        let lead = len.saturating_sub(piece.len());
        segs.push((value.len(), at + lead, lead));
    }
    value.push_str(piece);
}

/// Lexes the word starting at `start`: pushes its unquoted value into `value` (and, with `map`,
/// the start of each verbatim run). Returns where the word ends, whether any of it was quoted, and
/// the offset of a quote it opens and never closes.
fn lex_word(
    s: &str,
    start: usize,
    value: &mut String,
    map: Option<&mut Segments>,
) -> (usize, bool, Option<usize>) {
    let mut lexer = Lexer {
        s,
        i: start,
        value,
        map,
        quoted: false,
        open: None,
    };
    while lexer.step() {}
    (lexer.i.min(s.len()), lexer.quoted, lexer.open)
}

/// One word being lexed: the text, the offset reached, the unquoted value so far (with, when
/// asked for, where its runs come from), whether any of it was quoted, and the offset of a quote
/// still open.
struct Lexer<'s, 'v> {
    s: &'s str,
    i: usize,
    value: &'v mut String,
    map: Option<&'v mut Segments>,
    quoted: bool,
    open: Option<usize>,
}

impl Lexer<'_, '_> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.s.as_bytes().get(at).copied()
    }

    /// Lexes one piece of the word; `false` at its end.
    fn step(&mut self) -> bool {
        let Some(c) = self.byte(self.i) else {
            return false;
        };
        match c {
            // A bash array assignment, `NAME=(a b)`, is one word.
            b'(' if self.value.ends_with('=')
                && is_name(self.value.trim_end_matches('=').trim_end_matches('+')) =>
            {
                self.verbatim_to(skip_group(self.s, self.i, b'(', b')'));
            }
            b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                return false
            }
            b'\\' => self.escape(),
            b'\'' => self.single_quoted(),
            b'"' => self.double_quoted(),
            b'$' => self.dollar(),
            _ => self.verbatim_piece(),
        }
        true
    }

    /// Copies the text from the offset reached to `end` verbatim and moves there.
    fn verbatim_to(&mut self, end: usize) {
        let piece = self.s.get(self.i..end).unwrap_or("");
        push(self.value, &mut self.map, piece, self.i);
        self.i = end;
    }

    /// What the top level and double quotes both copy as written: a `$(…)` command
    /// substitution, a backquoted command, or one character.
    fn verbatim_piece(&mut self) {
        let i = self.i;
        let end = match self.byte(i) {
            Some(b'$') if self.byte(i + 1) == Some(b'(') => skip_group(self.s, i + 1, b'(', b')'),
            Some(b'`') => skip_backquote(self.s, i),
            _ => {
                let c = self.s.get(i..).and_then(|r| r.chars().next());
                i + c.map_or(1, char::len_utf8)
            }
        };
        self.verbatim_to(end);
    }

    /// Pushes `piece`, what the escape sequence of `len` bytes at the offset reached stands
    /// for, and moves past the sequence.
    fn escaped(&mut self, piece_len: usize, len: usize) {
        let piece = self.s.get(self.i + 1..self.i + 1 + piece_len).unwrap_or("");
        push_escape(self.value, &mut self.map, piece, self.i, len);
        self.i += len;
    }

    /// A lone backslash, kept as written.
    fn backslash(&mut self) {
        push(self.value, &mut self.map, "\\", self.i);
        self.i += 1;
    }

    /// `\` outside quotes: a line continuation, or the next character taken literally.
    fn escape(&mut self) {
        let next = self.s.get(self.i + 1..).and_then(|r| r.chars().next());
        match next {
            Some('\n') => self.i += 2,
            Some('\r') if self.byte(self.i + 2) == Some(b'\n') => self.i += 3,
            Some(n) => self.escaped(n.len_utf8(), 1 + n.len_utf8()),
            None => self.backslash(),
        }
    }

    /// `'…'`: everything up to the next `'` literally.
    fn single_quoted(&mut self) {
        let i = self.i;
        self.quoted = true;
        let close = self
            .s
            .get(i + 1..)
            .and_then(|r| r.find('\''))
            .map_or(self.s.len(), |n| i + 1 + n);
        self.quoted_run(i, i + 1, close);
    }

    /// `$'…'` (ANSI-C quoting): up to the next unescaped `'`, escapes kept as written.
    fn ansi_c_quoted(&mut self) {
        let i = self.i;
        self.quoted = true;
        let mut j = i + 2;
        while let Some(d) = self.byte(j) {
            match d {
                b'\\' => j += 2,
                b'\'' => break,
                _ => j += 1,
            }
        }
        self.quoted_run(i, i + 2, j.min(self.s.len()));
    }

    /// The body `from..close` of a quote opened at `quote`, which is open when `close` is the
    /// end of the text; moves past the closing quote.
    fn quoted_run(&mut self, quote: usize, from: usize, close: usize) {
        if close >= self.s.len() {
            self.open = Some(quote);
        }
        let piece = self.s.get(from..close).unwrap_or("");
        push(self.value, &mut self.map, piece, from);
        self.i = (close + 1).min(self.s.len());
    }

    /// `"…"`: `\` escapes only `$`, `` ` ``, `"`, `\` and a newline; substitutions are kept.
    fn double_quoted(&mut self) {
        self.quoted = true;
        self.open = Some(self.i);
        self.i += 1;
        while let Some(d) = self.byte(self.i) {
            match d {
                b'"' => {
                    self.open = None;
                    self.i += 1;
                    return;
                }
                b'\\' => match self.byte(self.i + 1) {
                    Some(b'$' | b'`' | b'"' | b'\\') => self.escaped(1, 2),
                    Some(b'\n') => self.i += 2,
                    _ => self.backslash(),
                },
                _ => self.verbatim_piece(),
            }
        }
    }

    /// `$`: a `${…}` expansion, `$'…'`, or what [`Lexer::verbatim_piece`] copies.
    fn dollar(&mut self) {
        match self.byte(self.i + 1) {
            Some(b'{') => self.verbatim_to(skip_group(self.s, self.i + 1, b'{', b'}')),
            Some(b'\'') => self.ansi_c_quoted(),
            _ => self.verbatim_piece(),
        }
    }
}

/// From an opening `open` at `at`, the offset after its matching `close` (quotes respected),
/// or the end of the text.
fn skip_group(s: &str, at: usize, open: u8, close: u8) -> usize {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while b.get(i).is_some_and(|&c| c != b'\'') {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while let Some(&c) = b.get(i) {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        break;
                    }
                    i += 1;
                }
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (i + 1).min(s.len());
                }
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// From a backquote at `at`, the offset after the closing one.
fn skip_backquote(s: &str, at: usize) -> usize {
    let b = s.as_bytes();
    let mut i = at + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'`' => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

/// A shell variable name.
fn is_name(name: &str) -> bool {
    let mut ch = name.chars();
    ch.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && ch.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Words that only set variables: `NAME=value`, `NAME+=value`.
fn is_assignment(w: &Word) -> bool {
    match w.value.split_once('=') {
        Some((name, _)) => is_name(name.strip_suffix('+').unwrap_or(name)),
        None => false,
    }
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Skips the options of a prefix command from `i`: short options in `short_arg` and long ones
/// in `long_arg` take the next word as their argument. With `assignments`, `NAME=value` words
/// are skipped as well (`env`, `sudo`).
fn skip_options(
    words: &[Word],
    mut i: usize,
    short_arg: &str,
    long_arg: &[&str],
    assignments: bool,
) -> usize {
    while let Some(w) = words.get(i) {
        let v = w.value.as_str();
        if v == "--" {
            return i + 1;
        }
        if let Some(long) = v.strip_prefix("--") {
            let takes = !long.contains('=') && long_arg.contains(&long);
            i += if takes { 2 } else { 1 };
            continue;
        }
        if let Some(cluster) = v.strip_prefix('-') {
            if cluster.is_empty() {
                i += 1;
                continue;
            }
            let takes = cluster
                .char_indices()
                .find(|&(_, c)| short_arg.contains(c))
                .is_some_and(|(at, c)| at + c.len_utf8() == cluster.len());
            i += if takes { 2 } else { 1 };
            continue;
        }
        if assignments && is_assignment(w) {
            i += 1;
            continue;
        }
        break;
    }
    i
}

/// The index of the program: past leading assignments and the `sudo`, `env`, `command`, `exec`,
/// `time` and `nice` prefixes (with their options).
fn program_index(words: &[Word]) -> usize {
    let mut p = 0;
    loop {
        while words.get(p).is_some_and(is_assignment) {
            p += 1;
        }
        let Some(w) = words.get(p) else {
            return p;
        };
        p = match basename(&w.value) {
            "sudo" => skip_options(
                words,
                p + 1,
                "ugCDprtUTR",
                &[
                    "user",
                    "group",
                    "chdir",
                    "prompt",
                    "role",
                    "type",
                    "other-user",
                    "command-timeout",
                    "close-from",
                    "chroot",
                    "host",
                ],
                true,
            ),
            "env" => skip_options(
                words,
                p + 1,
                "uCS",
                &["unset", "chdir", "split-string"],
                true,
            ),
            "command" => {
                // `command -v yum` asks whether yum exists; it does not run it.
                if words
                    .get(p + 1)
                    .is_some_and(|n| n.value == "-v" || n.value == "-V")
                {
                    return p;
                }
                skip_options(words, p + 1, "", &[], false)
            }
            "exec" => skip_options(words, p + 1, "a", &[], false),
            "time" => skip_options(words, p + 1, "fo", &["format", "output"], false),
            "nice" => skip_options(words, p + 1, "n", &["adjustment"], false),
            _ => return p,
        };
    }
}

/// For `sh -c 'script'` (any shell, `-c` possibly in a cluster such as `-xec`), the index of the
/// script word.
fn shell_script_index(words: &[Word], program: usize) -> Option<usize> {
    let name = basename(&words.get(program)?.value);
    if !SHELLS.contains(&name) {
        return None;
    }
    let mut has_c = false;
    let mut i = program + 1;
    while let Some(w) = words.get(i) {
        let v = w.value.as_str();
        if v == "--" {
            i += 1;
            break;
        }
        if v.starts_with("--") {
            i += 1;
            continue;
        }
        if let Some(cluster) = v.strip_prefix('-').or_else(|| v.strip_prefix('+')) {
            if cluster.is_empty() {
                i += 1;
                break;
            }
            if v.starts_with('-') && cluster.contains('c') {
                has_c = true;
            }
            i += if cluster.ends_with(['o', 'O']) { 2 } else { 1 };
            continue;
        }
        break;
    }
    (has_c && i < words.len()).then_some(i)
}

/// Whether the commands of a RUN's shell-form line run the heredoc body as the script: no
/// command at all (`RUN <<EOF`), or one shell given only options (`RUN bash -ex <<EOF`).
fn runs_heredoc_as_script(line: &[Command]) -> bool {
    match line {
        [] => true,
        [cmd] => {
            let argv = cmd.argv();
            cmd.name().is_some_and(|n| SHELLS.contains(&n))
                && argv
                    .iter()
                    .skip(1)
                    .all(|w| w.value.starts_with('-') && !w.value.contains('c'))
        }
        _ => false,
    }
}

/// A body without a `#!` line, or whose `#!` names a shell.
fn shebang_is_shell(body: &str) -> bool {
    let Some(line) = body.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return true;
    };
    let mut parts = line.split_whitespace();
    let interp = parts.next().map(basename).unwrap_or("");
    let interp = if interp == "env" {
        parts
            .find(|p| !p.starts_with('-'))
            .map(basename)
            .unwrap_or("")
    } else {
        interp
    };
    SHELLS.contains(&interp)
}

/// Decodes the JSON string whose quoted form is `span` in `source`, recording where each run of
/// its value starts in the source. `None` if the span is not one JSON string.
fn json_string_segments(source: &str, span: &Span) -> Option<(String, Segments)> {
    let raw = source.get(span.clone())?;
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let base = span.start + 1;
    let mut value = String::with_capacity(inner.len());
    let mut segs = Vec::new();
    let mut map = Some(&mut segs);
    let b = inner.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            let (piece, len): (String, usize) = match b.get(i + 1)? {
                b'"' => ("\"".into(), 2),
                b'\\' => ("\\".into(), 2),
                b'/' => ("/".into(), 2),
                b'b' => ("\u{8}".into(), 2),
                b'f' => ("\u{c}".into(), 2),
                b'n' => ("\n".into(), 2),
                b'r' => ("\r".into(), 2),
                b't' => ("\t".into(), 2),
                b'u' => {
                    let hex = inner.get(i + 2..i + 6)?;
                    let cp = u32::from_str_radix(hex, 16).ok()?;
                    (char::from_u32(cp)?.to_string(), 6)
                }
                _ => return None,
            };
            push_escape(&mut value, &mut map, &piece, base + i, len);
            i += len;
        } else {
            let n = inner.get(i..)?.chars().next()?.len_utf8();
            push(&mut value, &mut map, inner.get(i..i + n)?, base + i);
            i += n;
        }
    }
    Some((value, segs))
}
