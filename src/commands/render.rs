//! `lambda-image render`: image spec → Dockerfile.
//!
//! - `render images/<name>` prints the Dockerfile (or `-o FILE`), with the git provenance
//!   labels (source, revision, created) when git knows them;
//! - `render --write` writes `images/<name>/Dockerfile`, the copy committed next to the spec;
//! - `render --check` exits 1 when that committed copy is out of date and prints a diff.
//!
//! The committed copy leaves out the git labels: a file committed into a repository cannot name
//! the commit that contains it, so it depends only on the spec and the templates (and `--check`
//! gives the same answer on every clone). `lambda-image build` renders afresh with them.
//!
//! Every spec is loaded and rendered before anything is written: on an error nothing changes.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::cli::RenderArgs;
use crate::commands::ExitStatus;
use crate::image_spec as spec;
use crate::progress::Printer;
use crate::render::{self, Options, Vcs};

/// The committed Dockerfile's name, next to `image.yaml`.
pub const DOCKERFILE: &str = "Dockerfile";

pub fn run(args: RenderArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let specs = if args.all {
        spec::discover(Path::new("images"))?
    } else {
        args.specs.clone()
    };
    let to_stdout = !args.write && !args.check;
    if to_stdout && specs.len() > 1 {
        anyhow::bail!(
            "render prints one Dockerfile; with {} specs use --write or --check",
            specs.len()
        );
    }

    // Load and render everything first.
    let mut rendered = Vec::new();
    for path in &specs {
        let spec = spec::load(path)?;
        let vcs = if to_stdout {
            Vcs::from_git(&spec.dir)
        } else {
            Vcs::default()
        };
        let options = Options {
            arch: args.arch,
            vcs,
            templates: args.templates.clone(),
        };
        let text = render::render(&spec, &options)?;
        rendered.push((spec, text));
    }

    if args.check {
        return check(&rendered, printer);
    }
    if args.write {
        for (spec, text) in &rendered {
            let target = spec.dir.join(DOCKERFILE);
            let current = std::fs::read_to_string(&target).ok();
            if current.as_deref() == Some(text.as_str()) {
                if printer.verbose() {
                    printer.line(&format!("{}: up to date", target.display()));
                }
                continue;
            }
            crate::fs::write_atomic(&target, text)?;
            if !printer.quiet() {
                printer.line(&format!("{}: written", target.display()));
            }
        }
        return Ok(ExitStatus::Success);
    }
    let Some((_, text)) = rendered.first() else {
        return Ok(ExitStatus::Success);
    };
    match args.output.as_deref() {
        Some(p) if p != Path::new("-") => crate::fs::write_atomic(p, text)?,
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .context("writing to standard output")?;
            out.flush().context("writing to standard output")?;
        }
    }
    Ok(ExitStatus::Success)
}

fn check(rendered: &[(spec::Spec, String)], printer: &Printer) -> anyhow::Result<ExitStatus> {
    let mut stale = 0usize;
    let mut out = std::io::stdout().lock();
    for (spec, text) in rendered {
        let target = spec.dir.join(DOCKERFILE);
        let current = match std::fs::read_to_string(&target) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", target.display()));
            }
        };
        match current {
            Some(c) if c == *text => {
                if printer.verbose() {
                    printer.line(&format!("{}: up to date", target.display()));
                }
            }
            Some(c) => {
                stale += 1;
                let name = target.display().to_string();
                let diff = similar::TextDiff::from_lines(c.as_str(), text.as_str());
                write!(
                    out,
                    "{}",
                    diff.unified_diff().context_radius(3).header(
                        &format!("{name} (committed)"),
                        &format!("{name} (rendered)")
                    )
                )
                .context("writing to standard output")?;
                printer.line(&format!(
                    "{name}: out of date; run `lambda-image render --write {}`",
                    spec.dir.display()
                ));
            }
            None => {
                stale += 1;
                printer.line(&format!(
                    "{}: missing; run `lambda-image render --write {}`",
                    target.display(),
                    spec.dir.display()
                ));
            }
        }
    }
    out.flush().context("writing to standard output")?;
    if stale > 0 {
        Ok(ExitStatus::Failure)
    } else {
        if !printer.quiet() {
            printer.line(&format!(
                "{} rendered Dockerfile{} up to date",
                rendered.len(),
                crate::text::plural(rendered.len(), "", "s")
            ));
        }
        Ok(ExitStatus::Success)
    }
}
