//! The one YAML parser: image specs, verify manifests and `.lambda-image.yaml` all go through
//! [`from_str`], with the same budgets (far above any real file, which is kilobytes; far below
//! what an alias bomb or a deeply nested document needs), and its errors say what is wrong in
//! the user's terms (`duplicate key 'workdir'`, `too many aliases (limit 1000)`), never the
//! parser's (`set DuplicateKeyPolicy in Options`, `RecordedAnchorEvents { … }`).
//! Reading the file (size limit, UTF-8) is [`crate::config::read_yaml`].

use std::fmt;

use serde::de::DeserializeOwned;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::Error as YamlParseError;

/// Aliases (`*name`) in one file.
pub const MAX_ALIASES: usize = 1_000;
/// Anchors (`&name`) in one file.
pub const MAX_ANCHORS: usize = 1_000;
/// Lists and mappings inside one another.
pub const MAX_DEPTH: usize = 32;
/// Values (scalars, lists, mappings).
pub const MAX_NODES: usize = 100_000;
/// Parser events (about two per value).
pub const MAX_EVENTS: usize = 200_000;
/// `<<` merge keys.
pub const MAX_MERGE_KEYS: usize = 100;
/// Values copied through aliases, in all.
pub const MAX_ALIAS_VALUES: usize = 10_000;
/// Bytes copied through aliases, in all.
pub const MAX_ALIAS_BYTES: usize = 1024 * 1024;
/// Aliases of one anchor.
pub const MAX_ALIASES_PER_ANCHOR: usize = 100;

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_events = MAX_EVENTS;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ANCHORS;
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    budget.max_nodes = MAX_NODES;
    budget.max_total_scalar_bytes = crate::config::MAX_YAML_BYTES as usize;
    budget.max_merge_keys = MAX_MERGE_KEYS;
    budget.max_recorded_anchor_events = MAX_ALIAS_VALUES;
    budget.max_recorded_anchor_bytes = MAX_ALIAS_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_VALUES;
    options.alias_limits.max_alias_expansions_per_anchor = MAX_ALIASES_PER_ANCHOR;
    options
}

/// Why a YAML text could not be read into the wanted type: where (1-based; 0 when the
/// parser does not say) and what, on one line without the position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for YamlError {
    /// `line:column: message`, or the message alone when there is no position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for YamlError {}

impl YamlError {
    /// `file:line:column: message` (or `file: message`).
    pub fn in_file(&self, file: &str) -> String {
        if self.line > 0 {
            format!("{file}:{self}")
        } else {
            format!("{file}: {self}")
        }
    }
}

/// Parses `text` (one document) into `T` within the budgets. `what` names the kind of file
/// for messages ("an image spec").
pub fn from_str<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| error(&e, what))
}

fn error(err: &YamlParseError, what: &str) -> YamlError {
    let err = err.without_snippet();
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    YamlError {
        line,
        column,
        message: message(err, what),
    }
}

/// What went wrong, in the user's terms.
fn message(mut err: &YamlParseError, what: &str) -> String {
    // The error itself, out of the wrappers that add where an alias was used.
    while let YamlParseError::AliasError { error, .. } | YamlParseError::WithSnippet { error, .. } =
        err
    {
        err = error;
    }
    match err {
        YamlParseError::DuplicateMappingKey { key: Some(k), .. } => format!("duplicate key '{k}'"),
        YamlParseError::DuplicateMappingKey { key: None, .. } => "duplicate key".into(),
        YamlParseError::MultipleDocuments { .. } => one_document(what),
        YamlParseError::AliasReplayLimitExceeded { .. } => {
            format!(
                "aliases copy too much (limit {MAX_ALIAS_VALUES} values copied through aliases)"
            )
        }
        YamlParseError::AliasExpansionLimitExceeded { .. } => {
            format!("an anchor is used too often (limit {MAX_ALIASES_PER_ANCHOR} aliases of one anchor)")
        }
        YamlParseError::AliasReplayStackDepthExceeded { max_depth, .. } => {
            format!("aliases nest too deeply (limit {max_depth} levels)")
        }
        YamlParseError::Budget { breach, .. } => budget(breach, what),
        other => tidy(&other.to_string()),
    }
}

fn one_document(what: &str) -> String {
    format!("{what} is one YAML document; remove the '---' separator")
}

fn budget(breach: &BudgetBreach, what: &str) -> String {
    match breach {
        BudgetBreach::Aliases { .. } => format!("too many aliases (limit {MAX_ALIASES})"),
        BudgetBreach::Anchors { .. } => format!("too many anchors (limit {MAX_ANCHORS})"),
        BudgetBreach::Depth { .. } => {
            format!("lists and mappings nest too deeply (limit {MAX_DEPTH} levels)")
        }
        BudgetBreach::Documents { .. } => one_document(what),
        BudgetBreach::Nodes { .. } => format!("too many values (limit {MAX_NODES})"),
        BudgetBreach::Events { .. } => {
            format!("too large (limit about {} values)", MAX_EVENTS / 2)
        }
        BudgetBreach::ScalarBytes { .. } => format!(
            "too much text (limit {} bytes in all)",
            crate::config::MAX_YAML_BYTES
        ),
        BudgetBreach::MergeKeys { .. } => {
            format!("too many '<<' merge keys (limit {MAX_MERGE_KEYS})")
        }
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
            format!("too many aliases for its anchors ({aliases} aliases of {anchors} anchors)")
        }
        BudgetBreach::RecordedAnchorEvents { .. } => {
            format!("too many aliases (limit {MAX_ALIAS_VALUES} values copied through aliases)")
        }
        BudgetBreach::RecordedAnchorBytes { .. } => {
            format!("too many aliases (limit {MAX_ALIAS_BYTES} bytes copied through aliases)")
        }
        _ => format!("the YAML is too large or too complex for {what}"),
    }
}

/// The parser's own message, one line, without the positions it names (they go in front).
fn tidy(raw: &str) -> String {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(w) = words.get(i).copied() {
        let next = words.get(i + 1).copied();
        // "at line L, column C", "(defined at line L, column C)".
        let position = (w == "at" || w == "(defined" || w == "(used")
            && next.is_some_and(|n| n == "line" || n == "at");
        if position {
            let mut j = i;
            while let Some(x) = words.get(j) {
                j += 1;
                if *x == "column" {
                    break;
                }
            }
            i = j + 1;
            continue;
        }
        out.push(w);
        i += 1;
    }
    out.join(" ")
        .trim_end_matches(',')
        .replace("expected sequence start", "expected a list")
        .replace("expected mapping start", "expected a mapping (key: value)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        #[serde(default)]
        workdir: Option<String>,
        #[serde(default)]
        list: Vec<serde_json::Value>,
    }

    fn err(text: &str) -> String {
        match from_str::<Doc>(text, "a test file") {
            Ok(d) => format!("parsed: {d:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_are_in_the_users_terms() {
        assert_eq!(
            err("workdir: /a\nworkdir: /b\n"),
            "2:1: duplicate key 'workdir'"
        );
        assert_eq!(
            err("workdir: /a\n---\nworkdir: /b\n"),
            "2:1: a test file is one YAML document; remove the '---' separator"
        );
        assert_eq!(
            err("wrkdir: /a\n"),
            "1:1: unknown field `wrkdir`, expected one of workdir, list"
        );
        assert_eq!(err("list: {a: b}\n"), "1:7: expected a list");
        let deep = format!("list: {}{}\n", "[".repeat(40), "]".repeat(40));
        assert_eq!(
            err(&deep),
            "1:38: lists and mappings nest too deeply (limit 32 levels)"
        );
    }

    #[test]
    fn alias_bombs_stop_at_a_budget_named_in_words() {
        // The billion laughs: each level nine aliases of the one before.
        let mut bomb =
            String::from("list:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "  - &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert_eq!(
            err(&bomb),
            "6:10: too many aliases (limit 10000 values copied through aliases)"
        );
        let mut many = String::from("list: [&a x, ");
        for _ in 0..1001 {
            many.push_str("*a, ");
        }
        many.push_str("x]\n");
        assert_eq!(
            err(&many),
            "1:414: an anchor is used too often (limit 100 aliases of one anchor)"
        );
    }
}
