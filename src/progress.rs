//! The terminal: the one place besides `report/` that writes to it.
//!
//! A [`Printer`] is resolved once in `commands::run` from the global flags (quiet, verbose,
//! colour, progress) and handed to every command instead of the flags. Status lines go to
//! stderr through it; when progress bars are drawn they share one indicatif
//! `MultiProgress`, and every line is printed *through* it (`MultiProgress::println`), so a
//! message never tears a bar. Off a terminal (or with `--no-progress`) there are no bars and
//! every line is written whole, under a lock, so lines from parallel work never interleave
//! mid-line. Reports (stdout) are written by the commands with [`Printer::stdout`].

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{ColorChoice, GlobalArgs};

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `-q`: findings, reports and errors only.
    Quiet,
    Normal,
    /// `-v` and more.
    Verbose,
}

/// Where status, warnings, errors and progress go.
pub struct Printer {
    level: Level,
    color: bool,
    bars: Option<MultiProgress>,
    /// Serialises whole lines on stderr when no bars are drawn.
    lock: Mutex<()>,
}

impl Printer {
    /// Resolves the global flags against the environment (NO_COLOR, terminals).
    pub fn new(global: &GlobalArgs) -> Printer {
        let level = if global.quiet {
            Level::Quiet
        } else if global.verbose > 0 {
            Level::Verbose
        } else {
            Level::Normal
        };
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
            }
        };
        let bars =
            (!global.no_progress && level == Level::Normal && std::io::stderr().is_terminal())
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Printer {
            level,
            color,
            bars,
            lock: Mutex::new(()),
        }
    }

    /// A printer for tests and library callers: no bars, no colour, normal level.
    pub fn plain() -> Printer {
        Printer {
            level: Level::Normal,
            color: false,
            bars: None,
            lock: Mutex::new(()),
        }
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn quiet(&self) -> bool {
        self.level == Level::Quiet
    }

    pub fn verbose(&self) -> bool {
        self.level == Level::Verbose
    }

    /// Whether text written to stdout should be styled.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Whether progress bars are drawn.
    pub fn progress(&self) -> bool {
        self.bars.is_some()
    }

    /// A status line on stderr, unless quiet.
    pub fn status(&self, line: impl AsRef<str>) {
        if self.level >= Level::Normal {
            self.line(line.as_ref());
        }
    }

    /// A line on stderr only with `-v`.
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.level == Level::Verbose {
            self.line(line.as_ref());
        }
    }

    /// A warning on stderr (printed even when quiet).
    pub fn warn(&self, message: impl AsRef<str>) {
        self.line(&format!("lambda-image: warning: {}", message.as_ref()));
    }

    /// An error on stderr for one input among several (the run goes on).
    pub fn error(&self, message: impl AsRef<str>) {
        self.line(&format!("lambda-image: error: {}", message.as_ref()));
    }

    /// Writes whole lines to stderr, around any bars.
    pub fn line(&self, text: &str) {
        match &self.bars {
            Some(bars) if !bars.is_hidden() => {
                for line in text.lines() {
                    let _ = bars.println(line);
                }
            }
            _ => {
                let _guard = self.lock.lock();
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
                let _ = err.flush();
            }
        }
    }

    /// Writes a report (or other payload) to stdout, with bars suspended.
    pub fn stdout(&self, text: &str) -> std::io::Result<()> {
        let write = || {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        };
        match &self.bars {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }

    /// A spinner with a message (`{spinner} {msg}` plus `template`), hidden when bars are off.
    pub fn spinner(&self, template: &str) -> ProgressBar {
        self.add(None, &format!("{{spinner}} {template}"))
    }

    /// A bar over `total` units, hidden when bars are off.
    pub fn bar(&self, total: u64, template: &str) -> ProgressBar {
        self.add(Some(total), template)
    }

    fn add(&self, total: Option<u64>, template: &str) -> ProgressBar {
        let Some(bars) = &self.bars else {
            return ProgressBar::hidden();
        };
        let bar = bars.add(ProgressBar::with_draw_target(
            total,
            ProgressDrawTarget::hidden(),
        ));
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// Removes a finished bar from the display.
    pub fn remove(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        if let Some(bars) = &self.bars {
            bars.remove(bar);
        }
    }
}
