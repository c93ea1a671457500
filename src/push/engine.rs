//! Pushing images the Docker Engine has: every image through the gate first (all or
//! nothing unless `keep_going`), then, one image at a time, the registry asked whether it
//! has the image already, the image tagged with its destination and pushed by the engine
//! (its layers drawn as they go), and what the registry stored read back. One image's push
//! is a [`Run`], a method per phase; the engine connection, the Ctrl-C token and what is
//! known of each image come from the caller ([`Session`], [`Local`]), so `build --push`
//! hands over what it has.

use std::time::Instant;

use anyhow::{bail, Result};

use super::{failed_checks, layers, Options, Pushed, Registry, Status, Target};
use crate::cancel::Cancel;
use crate::docker::{self, Engine, ImageInfo, PushEvent, RegistryFailure};
use crate::progress::Printer;
use crate::registry::credentials;
use crate::verify;

/// What a push run works with: the engine, the printer, the run's Ctrl-C token.
#[derive(Clone, Copy)]
pub struct Session<'a> {
    pub engine: &'a Engine,
    pub printer: &'a Printer,
    pub cancel: &'a Cancel,
    pub options: &'a Options,
}

/// A target's local image, as far as it is known before the push.
#[derive(Debug, Clone)]
pub enum Local {
    /// What the engine said of it (`push IMAGE`, a spec's tag).
    Inspected(ImageInfo),
    /// The image a build just made (`build --push`), by its id: the engine's tags and
    /// registry digests of it are asked only when it is pushed.
    Built { id: String },
}

impl Local {
    /// The engine's image `name`; an image it does not have is the error `verify` gives.
    pub fn inspect(engine: &Engine, name: &str) -> Result<Local> {
        Ok(Local::Inspected(
            engine
                .inspect_image(name)?
                .ok_or_else(|| docker::not_in_engine(name))?,
        ))
    }

    pub fn id(&self) -> &str {
        match self {
            Local::Inspected(info) => &info.id,
            Local::Built { id } => id,
        }
    }

    /// The engine's whole answer about the image.
    fn info(&self, engine: &Engine) -> Result<ImageInfo> {
        match self {
            Local::Inspected(info) => Ok(info.clone()),
            Local::Built { id } => engine
                .inspect_image(id)?
                .ok_or_else(|| docker::not_in_engine(id)),
        }
    }
}

/// Verifies (unless done already), then pushes every target (its image in `locals`, in
/// order) and reads it back. Environment errors (registry unreachable, credentials
/// refused, the engine) end the run as `Err`.
pub fn run(targets: &[Target], locals: &[Local], session: &Session) -> Result<Vec<Pushed>> {
    let mut results: Vec<Pushed> = locals
        .iter()
        .map(|l| Pushed::new(Status::Pushed, l.id()))
        .collect();

    // The gate: every image, before anything is sent.
    if session.options.verify {
        for ((t, local), r) in targets.iter().zip(locals).zip(results.iter_mut()) {
            Run {
                session,
                target: t,
                local,
                r,
            }
            .gate()?;
        }
        if hold(&mut results, session.options) {
            return Ok(results);
        }
    }

    for ((t, local), r) in targets.iter().zip(locals).zip(results.iter_mut()) {
        if r.status == Status::Pushed {
            Run {
                session,
                target: t,
                local,
                r,
            }
            .push()?;
        }
    }
    Ok(results)
}

/// All or nothing: when an image failed its gate and not `keep_going`, the others are held
/// back; whether they were.
fn hold(results: &mut [Pushed], options: &Options) -> bool {
    let any_failed = results.iter().any(|r| r.status == Status::FailedVerify);
    if !any_failed || options.keep_going {
        return false;
    }
    for r in results
        .iter_mut()
        .filter(|r| r.status != Status::FailedVerify)
    {
        r.end(
            Status::Held,
            "not pushed: another image failed verification (all or nothing; --keep-going pushes the ones that passed)"
                .into(),
        );
    }
    true
}

/// One image's push.
struct Run<'s, 'a> {
    session: &'s Session<'a>,
    target: &'s Target,
    local: &'s Local,
    r: &'s mut Pushed,
}

impl<'a> Run<'_, 'a> {
    /// The gate ([`verify::gate`]): the image's checks and smoke tests, unless this run
    /// verified it already.
    fn gate(&mut self) -> Result<()> {
        let (s, t) = (self.session, self.target);
        if t.verified {
            self.r.verified = true;
            return Ok(());
        }
        let gate = verify::gate::Gate {
            engine: s.engine,
            printer: s.printer,
            cancel: s.cancel,
            verify: true,
            smoke: true,
        };
        let id = self.local.id();
        let subject = verify::gate::Subject {
            id,
            name: &t.name,
            title: &t.title,
            plan: verify::Plan {
                manifest: t.manifest.clone(),
                options: verify::Options::defaults_for(t.arch.map(|a| a.oci_name())),
            },
            plan_key: &t.plan_key,
            smoke: &t.smoke,
        };
        let short = crate::reference::short_id(id);
        let passage = gate.pass(&subject, &mut |state| {
            s.printer.status(match state {
                verify::gate::State::Verifying => format!("{} | verifying {short}", t.title),
                verify::gate::State::SmokeTests => format!("{} | smoke tests", t.title),
            })
        })?;
        if passage.verify.as_ref().is_some_and(|v| v.before) {
            s.printer
                .status(format!("{} | verified before ({short})", t.title));
        }
        let r = &mut *self.r;
        r.verify_time = passage.verify_time;
        r.verified = true;
        match passage.refused {
            None => {}
            Some(verify::gate::Refusal::Checks) => r.end(
                Status::FailedVerify,
                failed_checks(
                    passage
                        .verify
                        .as_ref()
                        .map(|v| v.failed.as_slice())
                        .unwrap_or_default(),
                ),
            ),
            Some(verify::gate::Refusal::Smoke(failure)) => r.end(
                Status::FailedVerify,
                format!("{}; not pushed", failure.message),
            ),
        }
        r.verify = passage.verify;
        Ok(())
    }

    /// The registry, with credentials the engine can pass on.
    fn registry(&self) -> Result<Registry<'a>> {
        let s = self.session;
        let host = self.target.dest.registry_host().to_string();
        let found = credentials::for_registry(&host)?;
        if let Some(c) = &found.credentials {
            if docker::auth_header_is_garbled(c) {
                bail!(
                    "the credentials for {host} (from {}) cannot be sent through the Docker Engine API by this version: \
                     the Engine API client of this version encodes them in standard base64, which the engine cannot decode and would ignore \
                     (it would then say \"no basic auth credentials\"); use a password without `>`, `?`, `~` or \
                     non-ASCII characters, an identity token, or `docker push` for now",
                    found.source
                );
            }
        }
        Registry::new(host, found, s.options, s.cancel)
    }

    /// Already there, else pushed; then read back.
    fn push(&mut self) -> Result<()> {
        let s = self.session;
        s.cancel.check()?;
        let registry = self.registry()?;
        let info = self.local.info(s.engine)?;
        let t = self.target;
        let want_arch = t
            .arch
            .map(|a| a.oci_name().to_string())
            .unwrap_or_else(|| info.architecture.clone());
        let current = registry.current(t)?;
        if let Some(m) = &current {
            let repository = t.dest.repository();
            let local_digest = info
                .repo_digests
                .iter()
                .find_map(|d| d.strip_prefix(&format!("{repository}@")).map(String::from));
            if local_digest.as_deref() == Some(m.digest.as_str()) {
                return registry.already_pushed(t, &m.digest, &want_arch, self.r, s.printer);
            }
        }
        // The local tag the engine pushes from is removed again, when this run made it,
        // unless the push succeeds (a failure, an error, a signal).
        let dest = t.dest.to_string();
        s.engine
            .tag_image(&info.id, &t.dest.repository(), t.dest.tag_or_latest())?;
        let mut made = MadeTag {
            engine: s.engine,
            name: (!info.repo_tags.contains(&dest)).then(|| dest.clone()),
        };
        let (pushed, layers) = self.send(registry.found.credentials.as_ref(), info.layers);
        let digest = match pushed {
            Ok(d) => d,
            Err(RegistryFailure::TagImmutable(m)) => {
                self.r.end(Status::Failed, format!(
                    "{dest} already exists with digest {} and the registry does not overwrite tags (immutable tags); this image is {}; push it under a new tag ({m})",
                    current.as_ref().map_or("unknown", |c| c.digest.as_str()),
                    info.repo_digests.first().map_or(info.id.as_str(), String::as_str)
                ));
                return Ok(());
            }
            Err(RegistryFailure::Failed(m)) => {
                self.r.end(Status::Failed, format!("pushing {dest}: {m}"));
                return Ok(());
            }
            Err(RegistryFailure::Interrupted) => return Err(s.cancel.interrupted().into()),
            Err(e) => return Err(registry.refused(e)),
        };
        self.r.digest = Some(digest.clone());

        // Read back, through the registry client: what the registry holds, not what the
        // engine says.
        if !registry.stored(t, &digest, &want_arch, self.r)? {
            return Ok(());
        }
        made.keep();
        s.printer.status(format!(
            "{} | pushed {}@{digest} ({}; {}, in {:.1} s)",
            t.title,
            t.dest.repository(),
            self.r.media_type.as_deref().unwrap_or_default(),
            layers.summary(),
            self.r.push_time.unwrap_or_default().as_secs_f64()
        ));
        Ok(())
    }

    /// The engine's push of the tagged image (of `layer_count` layers, 0: not known), its
    /// layers drawn as they go; the registry digest, and what the status stream said of
    /// the layers.
    fn send(
        &mut self,
        credentials: Option<&docker::Credentials>,
        layer_count: usize,
    ) -> (Result<String, RegistryFailure>, layers::Layers) {
        let (s, t) = (self.session, self.target);
        let printer = s.printer;
        let dest = t.dest.to_string();
        printer.status(format!("{} | pushing {dest}", t.title));
        let started = Instant::now();
        let bar = printer.spinner("{prefix:.bold} {wide_msg} {elapsed}");
        bar.set_prefix(t.title.clone());
        bar.set_message(format!("{dest}: preparing"));
        let mut drawn = Drawn {
            printer,
            title: &t.title,
            dest: &dest,
            bar: &bar,
            layers: layers::Layers::of(layer_count),
            layer_bars: Vec::new(),
        };
        let pushed = s.engine.push(
            &t.dest.repository(),
            t.dest.tag_or_latest(),
            credentials,
            &mut |e| drawn.event(&e),
            s.cancel,
            s.options.timeout,
        );
        for b in &drawn.layer_bars {
            printer.remove(b);
        }
        printer.remove(&bar);
        self.r.push_time = Some(started.elapsed());
        (pushed, drawn.layers)
    }
}

/// An engine push as the terminal shows it: on a terminal the image's line counts the
/// layers done, with a bar under it for each layer being sent; off one, a line per
/// finished layer (`-v` adds the engine's other states).
struct Drawn<'a> {
    printer: &'a Printer,
    title: &'a str,
    dest: &'a str,
    bar: &'a indicatif::ProgressBar,
    layers: layers::Layers,
    layer_bars: Vec<indicatif::ProgressBar>,
}

impl Drawn<'_> {
    fn event(&mut self, e: &PushEvent) {
        let changed = self.layers.observe(e);
        if self.printer.progress() {
            self.bars(changed);
        } else {
            self.line(e, changed);
        }
    }

    fn bars(&mut self, changed: Option<usize>) {
        let layers = &self.layers;
        if let Some((i, l)) = changed.and_then(|i| layers.sent.get(i).map(|l| (i, l))) {
            while self.layer_bars.len() <= i {
                let n = self.layer_bars.len() + 1;
                let b = self.printer.bar(
                    l.total,
                    "    {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                );
                b.set_message(format!("layer {n}"));
                self.layer_bars.push(b);
            }
            if let Some(b) = self.layer_bars.get(i) {
                b.set_position(l.current);
                if l.done {
                    b.set_message(format!("layer {} sent", i + 1));
                    b.finish();
                }
            }
        }
        self.bar.set_message(format!(
            "{}: {}/{} layers done",
            self.dest,
            layers.finished(),
            layers.count()
        ));
    }

    fn line(&self, e: &PushEvent, changed: Option<usize>) {
        let (printer, title, layers) = (self.printer, self.title, &self.layers);
        let of = layers.count();
        let finished = layers.finished();
        if e.status == "Pushed" {
            let size = changed
                .and_then(|i| layers.sent.get(i))
                .map(|l| format!(" ({})", verify::human_bytes(l.total)))
                .unwrap_or_default();
            printer.status(format!("{title} | layer {finished}/{of} sent{size}"));
        } else if e.status == "Layer already exists" || e.status.starts_with("Mounted from ") {
            printer.status(format!(
                "{title} | layer {finished}/{of} already in the registry"
            ));
        } else if !matches!(e.status.as_str(), "Pushing" | "Preparing" | "Waiting") {
            printer.detail(format!("{title} | {}", e.status));
        }
    }
}

/// A local tag a push made, removed when dropped unless kept: every way out of a push but
/// success (a failed push, an error, a signal) takes it away again.
struct MadeTag<'a> {
    engine: &'a Engine,
    /// `None`: the tag was there before this run (or is kept).
    name: Option<String>,
}

impl MadeTag<'_> {
    fn keep(&mut self) {
        self.name = None;
    }
}

impl Drop for MadeTag<'_> {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = self.engine.untag(&name);
        }
    }
}
