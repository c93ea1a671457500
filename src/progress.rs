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

/// Bytes on their way somewhere (a build context to the engine), counted on a bar.
pub struct CountingWriter<'a> {
    pub out: &'a mut dyn std::io::Write,
    pub bytes: u64,
    pub shown: u64,
    pub bar: Option<ProgressBar>,
    /// What the bar says before the count (`sending the build context`).
    pub label: &'static str,
}

impl std::io::Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        if let Some(bar) = &self.bar {
            if self.bytes - self.shown >= 1 << 20 {
                self.shown = self.bytes;
                bar.set_message(format!(
                    "{}: {}",
                    self.label,
                    crate::verify::human_bytes(self.bytes)
                ));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A job's line: a spinner with the job's state on a terminal; elsewhere (or with -v)
/// plain lines prefixed with its title (`orders/x86_64 | …`), whole.
pub struct JobLine<'a> {
    pub printer: &'a Printer,
    pub bar: ProgressBar,
    title: String,
    started: std::time::Instant,
}

impl<'a> JobLine<'a> {
    /// `prefix` on the bar (`orders x86_64`), `title` on plain lines (`orders/x86_64`).
    pub fn new(printer: &'a Printer, prefix: String, title: String) -> JobLine<'a> {
        let bar = printer.spinner("{prefix:.bold} {wide_msg} {elapsed}");
        bar.set_prefix(prefix);
        bar.set_message("starting");
        JobLine {
            printer,
            bar,
            title,
            started: std::time::Instant::now(),
        }
    }

    /// The current state, shown on the bar (and as a plain line with -v); a step of
    /// thousands of continuation lines is cut (the log keeps it).
    pub fn state(&self, text: &str) {
        let text = crate::building::report::cut(text);
        if self.printer.progress() {
            self.bar.set_message(text);
        } else {
            self.printer.status(format!("{} | {text}", self.title));
        }
    }

    /// A build step starting: on a bar the step running and how many came from the cache so
    /// far; on plain lines each step, cached ones marked `CACHED`.
    pub fn step(&self, step: &str, cached: bool, cached_so_far: usize) {
        if cached {
            if !self.printer.progress() {
                self.state(&format!("CACHED {step}"));
            }
        } else if cached_so_far > 0 {
            self.state(&format!("{step} ({cached_so_far} cached)"));
        } else {
            self.state(step);
        }
    }

    /// A warning about this job (what its build went on without): a line of its own, above
    /// the bars on a terminal, printed even when quiet.
    pub fn warn(&self, text: &str) {
        self.printer
            .line(&format!("{} | warning: {text}", self.title));
    }

    /// A line of build output: plain lines only (a bar shows the step).
    pub fn output(&self, text: &str) {
        if !self.printer.progress() {
            self.printer.status(format!("{} | {text}", self.title));
        }
    }

    pub fn done(&self, text: &str) {
        self.printer.remove(&self.bar);
        self.printer.status(format!(
            "{} | {text} ({:.1} s)",
            self.title,
            self.started.elapsed().as_secs_f64()
        ));
    }
}
