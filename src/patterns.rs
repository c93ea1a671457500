//! Docker's path patterns (moby's `patternmatcher`). [`Ignore`] is a `.dockerignore`: one
//! pattern per line, `#` comments, a leading `!` re-includes, later lines win; `*` and `?`
//! stay within one path component, `**` spans any number of them, `[…]` is a class, `\`
//! escapes; a pattern that matches a directory also matches everything under it.
//! [`Include`] is the other direction, what BuildKit asks of a synced folder: the paths its
//! patterns match, everything under them, and the directories leading to them. Paths are
//! relative to the context root, with `/` separators; a leading `/` in a pattern is ignored.

use regex::Regex;

/// One compiled pattern.
#[derive(Debug)]
struct Pattern {
    regex: Regex,
    exclusion: bool,
}

/// The patterns of one `.dockerignore`.
#[derive(Debug, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

impl Ignore {
    /// Parses a `.dockerignore` text. Errors name the 1-based line.
    pub fn parse(text: &str) -> Result<Ignore, String> {
        let mut patterns = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let pattern = clean(pattern);
            if pattern.is_empty() {
                continue;
            }
            let regex = Regex::new(&to_regex(&pattern))
                .map_err(|_| format!("line {}: `{line}` is not a valid pattern", n + 1))?;
            patterns.push(Pattern { regex, exclusion });
        }
        Ok(Ignore { patterns })
    }

    /// Whether `path` (relative, `/`-separated) is left out of the context.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        let parents: Vec<&str> = path
            .match_indices('/')
            .map(|(i, _)| path.get(..i).unwrap_or_default())
            .collect();
        for pattern in &self.patterns {
            // An inclusion cannot change an excluded path, nor an exclusion an included one.
            if pattern.exclusion != excluded {
                continue;
            }
            let hit =
                pattern.regex.is_match(path) || parents.iter().any(|p| pattern.regex.is_match(p));
            if hit {
                excluded = !pattern.exclusion;
            }
        }
        excluded
    }

    /// Whether some `!` pattern could re-include a path under an excluded directory (then
    /// the directory must still be walked).
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }
}

/// The paths a list of include patterns selects (BuildKit's `include-patterns` and
/// `followpaths`).
#[derive(Debug)]
pub struct Include {
    /// Each pattern whole, and split into its components; `None`: the whole folder (`.`).
    patterns: Vec<Option<(Regex, Vec<Regex>)>>,
}

impl Include {
    /// Compiles `patterns`; a pattern that is not valid is an error naming it.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Include, String> {
        let mut compiled = Vec::new();
        for raw in patterns {
            let pattern = clean(raw.as_ref());
            if pattern.is_empty() {
                compiled.push(None);
                continue;
            }
            let bad = |_| format!("`{}` is not a valid pattern", raw.as_ref());
            let whole = Regex::new(&to_regex(&pattern)).map_err(bad)?;
            let parts = pattern
                .split('/')
                .map(|part| Regex::new(&to_regex(part)).map_err(bad))
                .collect::<Result<Vec<_>, _>>()?;
            compiled.push(Some((whole, parts)));
        }
        Ok(Include { patterns: compiled })
    }

    /// Whether `path` is sent: a pattern matches it or one of its parents, or it is a
    /// directory on the way to what a pattern may match.
    pub fn includes(&self, path: &str) -> bool {
        let components: Vec<&str> = path.split('/').collect();
        self.patterns.iter().any(|pattern| {
            let Some((whole, parts)) = pattern else {
                return true;
            };
            let mut prefix = String::new();
            for (i, c) in components.iter().enumerate() {
                if i > 0 {
                    prefix.push('/');
                }
                prefix.push_str(c);
                if whole.is_match(&prefix) {
                    return true;
                }
            }
            // A directory leading to the pattern: its components match the pattern's first
            // ones (a `**` may stand for any of them).
            components.len() < parts.len()
                && components
                    .iter()
                    .zip(parts)
                    .all(|(c, part)| part.as_str() == "^.*$" || part.is_match(c))
        })
    }
}

/// Go's `filepath.Clean` for a pattern, with the leading `/` dropped.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn to_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("^");
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                }
                if i + 1 == chars.len() {
                    out.push_str(".*");
                } else {
                    out.push_str("(.*/)?");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '\\' => {
                i += 1;
                if let Some(&next) = chars.get(i) {
                    out.push_str(&regex::escape(&next.to_string()));
                }
            }
            '[' => {
                // A class up to its `]`, passed through (a `!`/`^` negation kept).
                let mut class = String::from("[");
                let mut j = i + 1;
                if matches!(chars.get(j), Some('!') | Some('^')) {
                    class.push('^');
                    j += 1;
                }
                let mut closed = false;
                while let Some(&k) = chars.get(j) {
                    if k == ']' && j > i + 1 {
                        closed = true;
                        break;
                    }
                    if k == '\\' || k == '[' {
                        class.push('\\');
                    }
                    class.push(k);
                    j += 1;
                }
                if closed {
                    class.push(']');
                    out.push_str(&class);
                    i = j;
                } else {
                    out.push_str("\\[");
                }
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> Ignore {
        Ignore::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn docker_semantics() {
        let i = ignore("# comment\n*.md\n!README.md\nnode_modules\n**/*.pyc\n/tests/**\ntmp?\n");
        assert!(i.excludes("CHANGES.md"));
        assert!(!i.excludes("README.md"));
        assert!(!i.excludes("docs/x.md"), "* stays in one component");
        assert!(
            i.excludes("node_modules/a/b.js"),
            "a directory excludes what is under it"
        );
        assert!(i.excludes("a/b/c.pyc"));
        assert!(i.excludes("x.pyc"), "**/ matches zero directories");
        assert!(i.excludes("tests/unit/t.py"));
        assert!(i.excludes("tmp1"));
        assert!(!i.excludes("tmp12"));
        assert!(!i.excludes("src/app.py"));
    }

    #[test]
    fn later_lines_win_and_reinclude_under_excluded_dirs() {
        let i = ignore("data\n!data/keep.txt\n");
        assert!(i.excludes("data/big.bin"));
        assert!(!i.excludes("data/keep.txt"));
        assert!(i.has_exclusions());
        let i = ignore("!a.txt\n*.txt\n");
        assert!(i.excludes("a.txt"));
    }

    #[test]
    fn includes_select_paths_what_is_under_them_and_the_way_to_them() {
        let i = Include::new(&["app.py", "data/", "src/*.py", "docs/**/x.md"]).expect("patterns");
        for yes in [
            "app.py",
            "data",
            "data/a/b.bin",
            "src",
            "src/m.py",
            "docs",
            "docs/a",
            "docs/a/b/x.md",
        ] {
            assert!(i.includes(yes), "{yes}");
        }
        for no in ["app.pyc", "other", "src/m.js", "src/sub/m.py", "database"] {
            assert!(!i.includes(no), "{no}");
        }
        assert!(Include::new(&["."]).expect("dot").includes("any/thing"));
        assert!(Include::new(&["[z-a]"]).is_err());
    }

    #[test]
    fn classes_and_escapes() {
        let i = ignore("file[0-9].log\n\\*star\n");
        assert!(i.excludes("file3.log"));
        assert!(!i.excludes("filex.log"));
        assert!(i.excludes("*star"));
        assert!(!i.excludes("xstar"));
    }
}
