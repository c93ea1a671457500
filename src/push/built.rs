//! `build --push`: the images a build made, pushed once every one built and passed its
//! gate (all or nothing, unless `--keep-going`), through the build's own engine connection
//! and Ctrl-C token, by the ids the build gave them, and without verifying them again. The
//! registry digests go into the build's outcomes, and each pushed image's repository
//! remembers its inputs hash (the registry as the build's memory).

use anyhow::Result;

use super::Target;
use crate::building::{pipeline, Outcome};
use crate::cancel::Cancel;
use crate::docker::Engine;
use crate::progress::Printer;

/// What `build --push` hands the push: the engine the builds ran on (none when nothing
/// was built), the run's Ctrl-C token and the build's options.
pub struct Built<'a> {
    pub engine: Option<&'a Engine>,
    pub cancel: &'a Cancel,
    pub options: &'a pipeline::Options,
    /// `--keep-going`: push the images that passed when others did not.
    pub keep_going: bool,
    /// `--insecure-registry`.
    pub insecure_registries: &'a [String],
    /// The pushed images' `REPO@sha256:…` lines go to stdout (a text report).
    pub to_stdout: bool,
}

/// Pushes the ones of `targets` whose image built and passed (none unless all did, or
/// `keep_going`), skipping those the registry already had (`unchanged (registry)`); `Ok(true)`:
/// every image pushed is in the registry.
pub fn push(
    mut targets: Vec<Target>,
    outcomes: &mut [Outcome],
    built: &Built,
    printer: &Printer,
) -> Result<bool> {
    if targets.is_empty() {
        // An empty shard: nothing to push is a success.
        return Ok(true);
    }
    let failed = outcomes.iter().filter(|o| !o.status.ok()).count();
    if failed > 0 && !built.keep_going {
        printer.line(&format!(
            "nothing pushed: {failed} image{} did not build and verify (all or nothing; --keep-going pushes the ones that did)",
            crate::text::plural(failed, "", "s")
        ));
        return Ok(false);
    }
    let (mut index, mut locals) = (Vec::new(), Vec::new());
    for (i, (t, o)) in targets.iter_mut().zip(outcomes.iter()).enumerate() {
        if !o.status.ok() || o.from_registry {
            continue;
        }
        let id = o.image_id.clone().unwrap_or_default();
        if t.local.is_empty() {
            t.local = id.clone();
        }
        t.verified = built.options.verify;
        index.push(i);
        locals.push(super::Local::Built { id });
    }
    let targets: Vec<super::Target> = index
        .iter()
        .filter_map(|&i| targets.get(i).cloned())
        .collect();
    if targets.is_empty() {
        let remembered = outcomes.iter().filter(|o| o.from_registry).count();
        return Ok(remembered > 0);
    }
    // Images to push were built, on the build's engine (connected here only if not).
    let connected;
    let engine = match built.engine {
        Some(engine) => engine,
        None => {
            connected = crate::docker::connect()?;
            built.cancel.on_signals(connected.handle());
            &connected
        }
    };
    let push_options = super::Options {
        verify: built.options.verify,
        keep_going: built.keep_going,
        timeout: built.options.reach.timeout,
        insecure_registries: built.insecure_registries.to_vec(),
    };
    let session = super::Session {
        engine,
        printer,
        cancel: built.cancel,
        options: &push_options,
    };
    let results = super::run(&targets, &locals, &session)?;
    for ((t, r), &i) in targets.iter().zip(&results).zip(&index) {
        if let Some(o) = outcomes.get_mut(i) {
            o.registry_digest = r.pinned(t);
            let digest = o.registry_digest.as_ref().and(r.digest.as_ref());
            if let (Some(digest), Some(hash)) = (digest, &o.inputs_hash) {
                let reach = &built.options.reach;
                if let Err(e) = crate::building::remember::remember(&t.dest, digest, hash, reach) {
                    printer.warn(format!(
                        "{}: the registry will not remember these inputs ({e:#}); the next run builds it again",
                        t.title
                    ));
                }
            }
        }
    }
    super::report::emit(
        &targets,
        &results,
        crate::cli::PushFormat::Text,
        None,
        printer,
        built.to_stdout,
    )
}
