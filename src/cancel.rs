//! Cancellation: one token per run, fired by Ctrl-C, observed by every long operation.
//!
//! [`Cancel::on_ctrl_c`] replaces the default SIGINT behaviour (the process dying where it
//! stands, leaving temporary files, tags and the engine's build containers behind) with a
//! flag: long operations in `docker` race their request against [`Cancel::cancelled`] and
//! drop the request when it fires; the pipeline stops starting new work, removes what it
//! made, and the command exits 130 ([`Interrupted`]). A second Ctrl-C exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// The error a cancelled operation returns; `main` maps it to exit 130.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Whether an error chain ends in [`Interrupted`].
pub fn is_interrupted(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|c| c.downcast_ref::<Interrupted>().is_some())
}

#[derive(Default)]
struct Inner {
    fired: AtomicBool,
    notify: Notify,
}

/// A cancellation token, cheap to clone.
#[derive(Clone, Default)]
pub struct Cancel(Arc<Inner>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.fired.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.fired.load(Ordering::SeqCst)
    }

    /// `Err(Interrupted)` once cancelled.
    pub fn check(&self) -> Result<(), Interrupted> {
        if self.is_cancelled() {
            Err(Interrupted)
        } else {
            Ok(())
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

    /// Fires this token on Ctrl-C (SIGINT) instead of letting the process die; a second
    /// Ctrl-C exits 130 at once. Needs a tokio runtime: the engine's.
    pub fn on_ctrl_c(&self, handle: &tokio::runtime::Handle) {
        let token = self.clone();
        handle.spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    }
}
