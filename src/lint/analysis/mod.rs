//! What the rules share: the analysis of a parsed Dockerfile that more than one rule reads.
//! Rules (one file each in `rules/`) read RUNs through these, never regexes over the raw line.

pub mod base_note;
pub mod cache;
pub mod edits;
pub mod handler;
pub mod package_manager;
pub mod stages;
