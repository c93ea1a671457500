//! Cancellation: one token per run, fired by a signal, observed by every long operation.
//!
//! [`Cancel::on_signals`] replaces the default behaviour of SIGINT (Ctrl-C), SIGTERM (what CI
//! systems and `docker stop` send to cancel a job) and SIGHUP (a closed session): the process
//! dying where it stands, leaving temporary files, tags, containers and the engine's build
//! containers behind. Instead the token fires and remembers which signal it was: long
//! operations in `docker` race their request against [`Cancel::cancelled`] and drop the
//! request when it fires; the pipeline stops starting new work, removes what it made, and the
//! command exits as a shell reports that signal (130, 143, 129; [`Interrupted`]). A second
//! signal exits at once.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// The signals that stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Int,
    /// SIGTERM: a CI job cancelled, `docker stop`, `kill`.
    Term,
    /// SIGHUP: the terminal or session went away.
    Hup,
}

impl Signal {
    /// The exit code a shell reports for a process this signal ended: 128 + its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
            Signal::Hup => 129,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Signal::Int => 1,
            Signal::Term => 2,
            Signal::Hup => 3,
        }
    }

    fn from_u8(n: u8) -> Option<Signal> {
        match n {
            1 => Some(Signal::Int),
            2 => Some(Signal::Term),
            3 => Some(Signal::Hup),
            _ => None,
        }
    }
}

/// The error a cancelled operation returns, with the signal that cancelled it; `main` maps
/// it to that signal's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted(pub Signal);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Signal::Int => f.write_str("interrupted"),
            other => write!(f, "interrupted ({})", other.name()),
        }
    }
}

impl std::error::Error for Interrupted {}

/// The signal an error chain was interrupted by, when it ends in [`Interrupted`].
pub fn interrupted_by(err: &anyhow::Error) -> Option<Signal> {
    err.chain()
        .find_map(|c| c.downcast_ref::<Interrupted>().map(|i| i.0))
}

/// Whether an error chain ends in [`Interrupted`].
pub fn is_interrupted(err: &anyhow::Error) -> bool {
    interrupted_by(err).is_some()
}

#[derive(Default)]
struct Inner {
    /// 0 until fired, then the signal ([`Signal::to_u8`]).
    fired: AtomicU8,
    notify: Notify,
}

/// A cancellation token, cheap to clone.
#[derive(Clone, Default)]
pub struct Cancel(Arc<Inner>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Fires the token as Ctrl-C would.
    pub fn cancel(&self) {
        self.fire(Signal::Int);
    }

    /// Fires the token for `signal`; the first signal is the one remembered.
    pub fn fire(&self, signal: Signal) {
        let _ =
            self.0
                .fired
                .compare_exchange(0, signal.to_u8(), Ordering::SeqCst, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.signal().is_some()
    }

    /// The signal that fired the token.
    pub fn signal(&self) -> Option<Signal> {
        Signal::from_u8(self.0.fired.load(Ordering::SeqCst))
    }

    /// The error for this token's signal (SIGINT when it has not fired).
    pub fn interrupted(&self) -> Interrupted {
        Interrupted(self.signal().unwrap_or(Signal::Int))
    }

    /// `Err(Interrupted)` once cancelled.
    pub fn check(&self) -> Result<(), Interrupted> {
        match self.signal() {
            Some(signal) => Err(Interrupted(signal)),
            None => Ok(()),
        }
    }

    /// Completes when the token fires.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Fires this token on SIGINT, SIGTERM or SIGHUP instead of letting the process die; a
    /// second signal exits at once with that signal's code. The handlers are in place when
    /// this returns. Needs a tokio runtime: the engine's.
    #[cfg(unix)]
    pub fn on_signals(&self, handle: &tokio::runtime::Handle) {
        use tokio::signal::unix::{signal, SignalKind};
        let _entered = handle.enter();
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        let token = self.clone();
        handle.spawn(async move {
            loop {
                let signal = tokio::select! {
                    Some(()) = int.recv() => Signal::Int,
                    Some(()) = term.recv() => Signal::Term,
                    Some(()) = hup.recv() => Signal::Hup,
                    else => return,
                };
                if token.is_cancelled() {
                    std::process::exit(i32::from(signal.exit_code()));
                }
                token.fire(signal);
            }
        });
    }

    /// Fires this token on Ctrl-C; a second Ctrl-C exits 130 at once.
    #[cfg(not(unix))]
    pub fn on_signals(&self, handle: &tokio::runtime::Handle) {
        let token = self.clone();
        handle.spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            token.fire(Signal::Int);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_is_remembered_and_names_the_exit_code() {
        let cancel = Cancel::new();
        assert_eq!(cancel.check(), Ok(()));
        cancel.fire(Signal::Term);
        cancel.fire(Signal::Int);
        assert_eq!(cancel.signal(), Some(Signal::Term));
        assert_eq!(cancel.check(), Err(Interrupted(Signal::Term)));
        let err = anyhow::Error::from(cancel.interrupted()).context("exporting x");
        assert_eq!(interrupted_by(&err), Some(Signal::Term));
        assert_eq!(format!("{err:#}"), "exporting x: interrupted (SIGTERM)");
        assert_eq!(Interrupted(Signal::Int).to_string(), "interrupted");
        assert_eq!(
            [Signal::Int, Signal::Term, Signal::Hup].map(Signal::exit_code),
            [130, 143, 129]
        );
    }
}
