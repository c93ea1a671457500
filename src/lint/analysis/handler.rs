//! The handler `CMD` of a Lambda image (LI303, LI305): the `CMD` the final stage passes
//! `/lambda-entrypoint.sh` when it keeps that entrypoint (an `ENTRYPOINT` resets an inherited
//! `CMD`), and the handler a `CMD` names when it names exactly one.

use super::stages::{stage_chain, stage_instructions};
use crate::dockerfile::{Args, Dockerfile, Stage};

/// The entrypoint of every AWS Lambda base image.
const LAMBDA_ENTRYPOINT: &str = "/lambda-entrypoint.sh";

/// What the final stage of a Lambda image passes `/lambda-entrypoint.sh`.
#[derive(Debug, Clone, Copy)]
pub enum HandlerCmd<'d> {
    /// The `CMD` in effect.
    Set(&'d crate::dockerfile::Instruction),
    /// None: neither the final stage nor a stage it builds on sets one (after any
    /// `ENTRYPOINT` that resets it).
    Missing,
}

/// Whether an ENTRYPOINT sets something other than the base image's `/lambda-entrypoint.sh`.
fn overrides_entrypoint(ins: &crate::dockerfile::Instruction) -> bool {
    match &ins.args {
        Args::Exec(words) => !matches!(words.as_slice(), [w] if w.value == LAMBDA_ENTRYPOINT),
        Args::Shell(_) | Args::None => true,
    }
}

/// The final stage and its `CMD`, when the final stage is built on an AWS Lambda base image
/// and keeps its `/lambda-entrypoint.sh`. BuildKit: an ENTRYPOINT resets a CMD inherited from
/// the parent image, not one set earlier in the same stage.
pub fn handler_cmd(df: &Dockerfile) -> Option<(&Stage, HandlerCmd<'_>)> {
    let last = df.stages.last()?;
    if !last.base.is_lambda {
        return None;
    }
    let mut cmd = None;
    let mut overridden = false;
    for stage in stage_chain(df, last) {
        let mut cmd_set_here = false;
        for ins in stage_instructions(df, stage) {
            match ins.keyword {
                crate::dockerfile::Keyword::Cmd => {
                    cmd = Some(ins);
                    cmd_set_here = true;
                }
                crate::dockerfile::Keyword::Entrypoint => {
                    overridden = overrides_entrypoint(ins);
                    if !cmd_set_here {
                        cmd = None;
                    }
                }
                _ => {}
            }
        }
    }
    if overridden {
        return None;
    }
    Some((last, cmd.map_or(HandlerCmd::Missing, HandlerCmd::Set)))
}

/// A shell-form argument that means the same as one exec-form element.
pub fn plain_word(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\''
                        | '\\'
                        | '$'
                        | '`'
                        | ';'
                        | '&'
                        | '|'
                        | '<'
                        | '>'
                        | '('
                        | ')'
                        | '{'
                        | '}'
                        | '*'
                        | '?'
                        | '['
                        | ']'
                        | '~'
                        | '#'
                        | '!'
                )
        })
}

/// The handler a `CMD` names, if it names exactly one: `CMD ["app.handler"]`, or a shell-form
/// `CMD app.handler` of one plain word.
pub fn named_handler(ins: &crate::dockerfile::Instruction) -> Option<&str> {
    let word = match &ins.args {
        Args::Exec(words) => match words.as_slice() {
            [w] => w.value.as_str(),
            _ => return None,
        },
        Args::Shell(text) => text.text.trim(),
        Args::None => return None,
    };
    (plain_word(word) && !word.starts_with('-')).then_some(word)
}
