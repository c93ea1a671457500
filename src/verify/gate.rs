//! The gate an image passes before it gets its tags (`build`) or leaves the machine
//! (`push`): the verify plan, then the image's smoke tests, deciding "passed" once, for
//! both commands. An image that passed the same plan and the same smoke tests before (its
//! id is its content; see [`super::ledger`]) is neither exported, checked nor invoked
//! again; otherwise it is recorded as passed only when its checks and its smoke tests all
//! passed. The gate returns what it found and never prints: callers show its states and
//! its verdict. Errors of this machine (the engine, a full disk, Ctrl-C) are `Err`, not a
//! refusal of the image.

use std::time::{Duration, Instant};

use super::{ledger, Check, Status as CheckStatus};
use crate::cancel::Cancel;
use crate::docker::Engine;
use crate::image::ImageSource;
use crate::invoke::smoke::{Smoke, SmokeFailure, SmokeResult};
use crate::progress::Printer;

/// Counts of a verify run.
#[derive(Debug, Clone, Default)]
pub struct VerifySummary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
    pub failed: Vec<Check>,
    /// Passed this plan before (an earlier build or push of the same image): not checked
    /// again, the counts are that run's.
    pub before: bool,
}

impl VerifySummary {
    /// The counts and the failed checks of a verify run.
    pub fn of(v: &super::Verified) -> VerifySummary {
        VerifySummary {
            pass: v.count(CheckStatus::Pass),
            fail: v.count(CheckStatus::Fail),
            warn: v.count(CheckStatus::Warn),
            info: v.count(CheckStatus::Info),
            failed: v
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Fail)
                .cloned()
                .collect(),
            before: false,
        }
    }
}

/// The image at the gate.
pub struct Subject<'a> {
    /// Its id (config digest).
    pub id: &'a str,
    /// The function's name, for the smoke tests' invocations.
    pub name: &'a str,
    /// How its lines are prefixed (`orders/x86_64`).
    pub title: &'a str,
    pub plan: super::Plan,
    /// [`ledger::plan_key`] of the plan.
    pub plan_key: &'a str,
    pub smoke: &'a [Smoke],
}

/// What the gate does: checks (`verify`), smoke tests (`smoke`), or neither.
pub struct Gate<'a> {
    pub engine: &'a Engine,
    pub printer: &'a Printer,
    pub cancel: &'a Cancel,
    pub verify: bool,
    pub smoke: bool,
}

/// Where the gate is, for the caller's progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Verifying,
    SmokeTests,
}

/// What the gate found.
#[derive(Debug, Default)]
pub struct Passage {
    pub verify: Option<VerifySummary>,
    pub verify_time: Option<Duration>,
    pub smoke: Vec<SmokeResult>,
    /// Why the image may not pass; `None`: it passed.
    pub refused: Option<Refusal>,
}

#[derive(Debug)]
pub enum Refusal {
    /// Checks failed (they are in the summary's `failed`).
    Checks,
    /// A smoke test failed.
    Smoke(SmokeFailure),
}

impl Gate<'_> {
    /// Passes `subject` through the gate; `on_state` hears each phase as it starts.
    pub fn pass(
        &self,
        subject: &Subject,
        on_state: &mut dyn FnMut(State),
    ) -> anyhow::Result<Passage> {
        let smoke: &[Smoke] = if self.smoke { subject.smoke } else { &[] };
        let key = ledger::with_smoke(subject.plan_key, smoke);
        let mut passage = Passage::default();
        if self.verify {
            if let Some((pass, warn, info)) = ledger::passed(subject.id, &key) {
                passage.verify = Some(VerifySummary {
                    pass,
                    warn,
                    info,
                    before: true,
                    ..VerifySummary::default()
                });
                return Ok(passage);
            }
            on_state(State::Verifying);
            let started = Instant::now();
            let source = ImageSource::Engine {
                reference: subject.id.to_string(),
            };
            let verified = super::run(
                &source,
                &subject.plan,
                self.printer,
                Some(self.engine),
                self.cancel,
            );
            passage.verify_time = Some(started.elapsed());
            let summary = VerifySummary::of(&verified?);
            let failed = summary.fail > 0;
            passage.verify = Some(summary);
            if failed {
                passage.refused = Some(Refusal::Checks);
                return Ok(passage);
            }
        }
        if !smoke.is_empty() {
            on_state(State::SmokeTests);
            let (results, failure) = crate::invoke::smoke::run(
                subject.name,
                subject.title,
                smoke,
                subject.id,
                self.engine,
                self.printer,
                self.cancel,
            )?;
            passage.smoke = results;
            if let Some(failure) = failure {
                passage.refused = Some(Refusal::Smoke(failure));
                return Ok(passage);
            }
        }
        if let Some(v) = passage.verify.as_ref().filter(|_| self.verify) {
            crate::cache::warn_once(
                self.printer,
                ledger::record(subject.id, &key, (v.pass, v.warn, v.info)),
            );
        }
        Ok(passage)
    }
}
