//! Which job starts when, so that builds of one run share the steps they have in common.
//!
//! The classic builder does not share a step that two builds run at the same time: each
//! commits a layer of its own, and its cache later follows only the newest of them, so every
//! other image misses from its next step on, run after run. Jobs whose Dockerfiles begin with
//! the same steps that do not read the context (`FROM`, `RUN`, `ENV`, … up to the first
//! `COPY` or `ADD`), for the same platform and build arguments, form a group: one of them
//! (the leader) starts, and the others start once the leader's build is past those steps
//! (or the leader ended), when each of them finds those steps in the cache. Jobs with
//! nothing in common start in order, as soon as a worker is free.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::pipeline::Options;
use super::Job;
use crate::cancel::Cancel;
use crate::dockerfile::{self, Keyword};

/// The steps a job may share: a key naming them (with the platform and build arguments) and
/// how many steps they are. `None` when there is nothing after `FROM` to share, or nothing is
/// cached (`--no-cache`).
pub fn shared_steps(job: &Job, options: &Options) -> Option<(String, usize)> {
    steps_in(job.parsed.as_deref()?, &job.platform(), options)
}

#[cfg(test)]
fn steps_of(text: &str, platform: &str, options: &Options) -> Option<(String, usize)> {
    steps_in(&dockerfile::parse(text).ok()?, platform, options)
}

fn steps_in(
    df: &dockerfile::Dockerfile,
    platform: &str,
    options: &Options,
) -> Option<(String, usize)> {
    // BuildKit's solver merges identical steps of concurrent builds itself.
    if options.no_cache || options.builder == crate::docker::Builder::BuildKit {
        return None;
    }
    let mut hash = Sha256::new();
    hash.update(platform.as_bytes());
    for (k, v) in &options.build_args {
        hash.update(format!("\0{k}={v}").as_bytes());
    }
    let mut steps = 0;
    let mut after_from = 0;
    for ins in &df.instructions {
        let first_stage = ins.stage.is_none_or(|s| s == 0);
        if !first_stage || matches!(ins.keyword, Keyword::Copy | Keyword::Add) {
            break;
        }
        let text = df.source.get(ins.span.start..ins.span.end)?;
        hash.update(b"\0");
        hash.update(text.as_bytes());
        steps += 1;
        if ins.stage.is_some() && ins.keyword != Keyword::From {
            after_from += 1;
        }
    }
    (after_from > 0).then(|| (crate::text::hex(&hash.finalize()), steps))
}

/// See [`Scheduler::finish_on_drop`].
pub struct Finished<'a> {
    scheduler: &'a Scheduler,
    job: usize,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.scheduler.finished(self.job);
    }
}

enum Gate {
    /// The leader (a job index) has not passed the shared steps yet.
    Leading(usize),
    Open,
}

struct State {
    /// Jobs not started yet, in order.
    waiting: Vec<usize>,
    shared: Vec<Option<(String, usize)>>,
    gates: HashMap<String, Gate>,
}

/// Hands jobs to workers (see the module doc).
pub struct Scheduler {
    state: Mutex<State>,
    changed: Condvar,
}

impl Scheduler {
    /// `todo`: the job indexes to run, in order; `shared`: [`shared_steps`] of every job.
    pub fn new(todo: Vec<usize>, shared: Vec<Option<(String, usize)>>) -> Scheduler {
        Scheduler {
            state: Mutex::new(State {
                waiting: todo,
                shared,
                gates: HashMap::new(),
            }),
            changed: Condvar::new(),
        }
    }

    /// The next job to start, waiting while every job left follows a leader that is not past
    /// its shared steps; `None` when none is left. On Ctrl-C the waiting ends, so that the
    /// worker can record the job as interrupted.
    pub fn next(&self, cancel: &Cancel) -> Option<usize> {
        let mut state = self.state.lock().ok()?;
        loop {
            if state.waiting.is_empty() {
                return None;
            }
            let startable = state.waiting.iter().position(|&i| {
                match state.shared.get(i).and_then(|s| s.as_ref()) {
                    None => true,
                    Some((key, _)) => !matches!(state.gates.get(key), Some(Gate::Leading(_))),
                }
            });
            let pick = match startable {
                Some(p) => Some(p),
                None if cancel.is_cancelled() => Some(0),
                None => None,
            };
            if let Some(p) = pick {
                let job = state.waiting.remove(p);
                if let Some(Some((key, _))) = state.shared.get(job).cloned() {
                    state.gates.entry(key).or_insert(Gate::Leading(job));
                }
                return Some(job);
            }
            state = match self.changed.wait_timeout(state, Duration::from_millis(200)) {
                Ok((s, _)) => s,
                Err(_) => return None,
            };
        }
    }

    /// `job`'s build reached step `number` (1-based, as the builder counts).
    pub fn step(&self, job: usize, number: usize) {
        let past = self
            .state
            .lock()
            .ok()
            .and_then(|s| s.shared.get(job).cloned().flatten())
            .is_some_and(|(_, steps)| number > steps);
        if past {
            self.open(job);
        }
    }

    /// `job` ended, however it ended.
    pub fn finished(&self, job: usize) {
        self.open(job);
    }

    /// Calls [`Scheduler::finished`] for `job` when dropped.
    pub fn finish_on_drop(&self, job: usize) -> Finished<'_> {
        Finished {
            scheduler: self,
            job,
        }
    }

    fn open(&self, job: usize) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let Some(Some((key, _))) = state.shared.get(job).cloned() else {
            return;
        };
        if let Some(gate) = state.gates.get_mut(&key) {
            if matches!(gate, Gate::Leading(leader) if *leader == job) {
                *gate = Gate::Open;
                self.changed.notify_all();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMD64: &str = "linux/amd64";

    #[test]
    fn shared_steps_stop_at_the_first_copy() {
        let options = Options::default();
        let a = steps_of(
            "FROM base\nRUN dnf install -y jq\nCOPY a /a\nRUN x\n",
            AMD64,
            &options,
        );
        let b = steps_of(
            "FROM base\nRUN dnf install -y jq\nCOPY b /b\n",
            AMD64,
            &options,
        );
        assert_eq!(a.as_ref().map(|s| s.1), Some(2));
        assert_eq!(a, b);
        // Another package, another platform or build argument: nothing shared.
        let c = steps_of(
            "FROM base\nRUN dnf install -y git\nCOPY a /a\n",
            AMD64,
            &options,
        );
        assert_ne!(a, c);
        let arm = steps_of(
            "FROM base\nRUN dnf install -y jq\nCOPY a /a\n",
            "linux/arm64",
            &options,
        );
        assert_ne!(a, arm);
        let with_arg = Options {
            build_args: [("V".to_string(), "1".to_string())].into(),
            ..Options::default()
        };
        assert_ne!(
            a,
            steps_of(
                "FROM base\nRUN dnf install -y jq\nCOPY a /a\n",
                AMD64,
                &with_arg
            )
        );
        // Nothing after FROM, or --no-cache: nothing to share.
        assert_eq!(steps_of("FROM base\nCOPY a /a\n", AMD64, &options), None);
        let no_cache = Options {
            no_cache: true,
            ..Options::default()
        };
        assert_eq!(
            steps_of("FROM base\nRUN x\nCOPY a /a\n", AMD64, &no_cache),
            None
        );
        // Only the first stage: a builder stage's steps count, the next stage's do not.
        let staged = steps_of(
            "ARG V=1\nFROM base AS build\nRUN make\nFROM base\nRUN y\n",
            AMD64,
            &options,
        );
        assert_eq!(staged.map(|s| s.1), Some(3));
    }

    #[test]
    fn followers_wait_for_their_leader_and_others_do_not() {
        let shared = vec![
            Some(("k".to_string(), 2)),
            Some(("k".to_string(), 2)),
            None,
            Some(("k".to_string(), 2)),
        ];
        let s = Scheduler::new(vec![0, 1, 2, 3], shared);
        let cancel = Cancel::new();
        assert_eq!(s.next(&cancel), Some(0)); // the leader
        assert_eq!(s.next(&cancel), Some(2)); // 1 and 3 wait for it
        s.step(0, 2);
        let early = std::thread::scope(|scope| {
            let t = scope.spawn(|| s.next(&cancel));
            std::thread::sleep(Duration::from_millis(50));
            s.step(0, 3); // past its two shared steps
            t.join().ok().flatten()
        });
        assert_eq!(early, Some(1));
        assert_eq!(s.next(&cancel), Some(3));
        assert_eq!(s.next(&cancel), None);

        // A leader that ends before its shared steps (a failure, unchanged) opens the gate.
        let s = Scheduler::new(
            vec![0, 1],
            vec![Some(("k".to_string(), 2)), Some(("k".to_string(), 2))],
        );
        assert_eq!(s.next(&cancel), Some(0));
        s.finished(0);
        assert_eq!(s.next(&cancel), Some(1));
    }
}
