//! Running the jobs: up to `jobs` at once, each context → inputs hash → (unchanged?) →
//! build → verify → tag. An image is tagged only once it passed verification, so a tag
//! never points at an image that failed; a failed image stays untagged and its id is
//! printed. A failure stops new builds (in-flight ones finish) unless `keep_going`.
//! Ctrl-C cancels every in-flight build and skips the rest.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{context, explain, inputs_hash, remember, secrets, share, state, Job};
use crate::cancel::{is_interrupted, Cancel};
use crate::docker::{BuildEvent, BuildFailure, BuildRequest, Builder, Engine};
use crate::progress::{CountingWriter, JobLine, Printer};
use crate::verify;

/// How many output lines of a failing step are shown.
pub const TAIL_LINES: usize = 30;

/// Build options shared by every job.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub target: Option<String>,
    pub pull: bool,
    pub no_cache: bool,
    pub jobs: usize,
    pub keep_going: bool,
    pub force: bool,
    pub verify: bool,
    /// Run the specs' smoke tests (`--no-smoke` turns them off).
    pub smoke: bool,
    /// The engine's builder that runs the builds.
    pub builder: Builder,
    /// `--secret`s (a spec's own `secrets:` come first).
    pub secrets: Vec<secrets::Secret>,
    /// `--ssh`: the SSH agents `RUN --mount=type=ssh` reaches, by id.
    pub ssh: BTreeMap<String, PathBuf>,
    /// BuildKit: images whose inline cache the builds may use.
    pub cache_from: Vec<String>,
    /// BuildKit: the images carry their cache (`--cache-to inline`).
    pub inline_cache: bool,
    /// How the registries that remember builds are reached (`build --push`).
    pub reach: remember::Reach,
    /// `--reuse pull`: an image the registry remembers is pulled and tagged here (without
    /// it, and without --push, the registry is not asked).
    pub reuse_pull: bool,
}

/// Where an image stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Lint,
    Context,
    Build,
    Verify,
    Smoke,
    Tag,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Lint => "lint",
            Phase::Context => "context",
            Phase::Build => "build",
            Phase::Verify => "verify",
            Phase::Smoke => "smoke",
            Phase::Tag => "tag",
        }
    }
}

/// What became of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Built,
    Unchanged,
    Failed(Phase),
    /// Not started: an earlier image failed (fail-fast).
    Skipped,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Built => "built",
            Status::Unchanged => "unchanged",
            Status::Failed(_) => "failed",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
        }
    }

    pub fn ok(self) -> bool {
        matches!(self, Status::Built | Status::Unchanged)
    }
}

/// A base image as the engine has it.
#[derive(Debug, Clone, Default)]
pub struct Base {
    pub reference: String,
    pub id: Option<String>,
    pub repo_digests: Vec<String>,
    /// The registry's digest for its tag, asked only when the engine does not have it and
    /// the registry is the build's memory (`build --push`, `plan`).
    pub registry_digest: Option<String>,
}

pub use crate::verify::gate::VerifySummary;

/// The result of one job.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// One line.
    pub error: Option<String>,
    /// What a known failure means, and the rule that explains it.
    pub hint: Option<String>,
    /// The config digest (image id).
    pub image_id: Option<String>,
    pub inputs_hash: Option<String>,
    pub bases: Vec<Base>,
    pub build_time: Option<Duration>,
    pub verify_time: Option<Duration>,
    pub lint: (usize, usize, usize),
    pub verify: Option<VerifySummary>,
    /// The failing step and its last output lines.
    pub failing_step: Option<String>,
    pub tail: Vec<String>,
    /// The full build log, kept when the build failed.
    pub log: Option<PathBuf>,
    /// Why a failed build has no log (`none (…)`), or why its log is incomplete.
    pub log_note: Option<String>,
    pub context_bytes: u64,
    /// `REPO@sha256:…` in the registry, after `--push`.
    pub registry_digest: Option<String>,
    /// The smoke tests run, in order (the first failure ends them).
    pub smoke: Vec<crate::invoke::smoke::SmokeResult>,
    /// The builder that ran the build (`None` when nothing was built).
    pub builder: Option<Builder>,
    /// `unchanged` because the destination registry had an image built from the same
    /// inputs (its tag was pointed at it; `registry_digest` says which).
    pub from_registry: bool,
    /// A failure that is an error of this machine, not a finding about the image (`I/O`:
    /// no space for the export, say; `engine`): the run exits 2, as `verify IMAGE` does.
    pub error_kind: Option<&'static str>,
    /// What the build went on without (a cache import that failed), one line each.
    pub warnings: Vec<String>,
}

impl Outcome {
    pub fn new(status: Status) -> Outcome {
        Outcome {
            status,
            error: None,
            hint: None,
            image_id: None,
            inputs_hash: None,
            bases: Vec::new(),
            build_time: None,
            verify_time: None,
            lint: (0, 0, 0),
            verify: None,
            failing_step: None,
            tail: Vec::new(),
            log: None,
            log_note: None,
            context_bytes: 0,
            registry_digest: None,
            smoke: Vec::new(),
            builder: None,
            from_registry: false,
            error_kind: None,
            warnings: Vec::new(),
        }
    }
}

/// Runs `jobs` (the ones whose `pre` outcome is `None`; the others keep theirs, such as a
/// lint failure) and returns one outcome per job, in order.
pub fn run(
    jobs: &[Job],
    pre: Vec<Option<Outcome>>,
    options: &Options,
    engine: &Engine,
    printer: &Printer,
    cancel: &Cancel,
) -> Vec<Outcome> {
    let stop = AtomicBool::new(pre.iter().flatten().any(|o| !o.status.ok()) && !options.keep_going);
    let todo: Vec<usize> = (0..jobs.len())
        .filter(|&i| pre.get(i).is_none_or(Option::is_none))
        .collect();
    let scheduler = share::Scheduler::new(
        todo,
        jobs.iter()
            .map(|j| share::shared_steps(j, options))
            .collect(),
    );
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(pre);
    // Asked only when a build fails (to tell a cross-architecture failure).
    let engine_arch = std::sync::OnceLock::<String>::new();
    let workers = options.jobs.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(i) = scheduler.next(cancel) {
                    // Opens the job's group to the others however the job ends (a panic too).
                    let _finished = scheduler.finish_on_drop(i);
                    let Some(job) = jobs.get(i) else { break };
                    let outcome = if cancel.is_cancelled() {
                        Outcome::new(Status::Interrupted)
                    } else if stop.load(Ordering::SeqCst) {
                        Outcome::new(Status::Skipped)
                    } else {
                        let o = build_one(
                            job,
                            options,
                            engine,
                            &engine_arch,
                            printer,
                            cancel,
                            &|step| scheduler.step(i, step),
                        );
                        if !o.status.ok() && !options.keep_going {
                            stop.store(true, Ordering::SeqCst);
                        }
                        o
                    };
                    if let Ok(mut r) = results.lock() {
                        if let Some(slot) = r.get_mut(i) {
                            *slot = Some(outcome);
                        }
                    }
                }
            });
        }
    });
    // What the jobs learnt of the contexts' files, written once for the run.
    super::digests::global().save();
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::new(Status::Skipped)))
        .collect()
}

/// The inputs hash (kept on `outcome`, with the context's size).
fn hash_now(
    job: &Job,
    fingerprint: &context::Fingerprint,
    base_ids: &[(String, Option<String>)],
    options: &Options,
    outcome: &mut Outcome,
) -> String {
    let hash = inputs_hash(job, &fingerprint.digest, base_ids, options);
    outcome.inputs_hash = Some(hash.clone());
    outcome.context_bytes = fingerprint.bytes;
    hash
}

/// `--reuse pull`: pulls `dest`'s repository at `digest` and gives it the job's tags; the
/// image id.
fn reuse_pulled(
    job: &Job,
    dest: &crate::reference::Reference,
    digest: &str,
    engine: &Engine,
    cancel: &Cancel,
) -> anyhow::Result<String> {
    let found = crate::registry::credentials::for_registry(dest.registry_host())?;
    let id = engine.pull(
        &format!("{}@{digest}", dest.repository()),
        found.credentials.as_ref(),
        cancel,
    )?;
    for tag in &job.tags {
        engine.tag_image(&id, &tag.repository(), tag.tag_or_latest())?;
    }
    Ok(id)
}

/// The job's base images, as the engine has them; with `ask_registry`, the registry's
/// digest of those it does not have (one `HEAD`, one attempt, 10 s at most).
pub fn bases_of(job: &Job, engine: &Engine, ask_registry: bool) -> Vec<Base> {
    job.bases()
        .into_iter()
        .map(|reference| {
            let checked = crate::docker::check_reference(&reference).is_ok();
            let info = if checked {
                engine.inspect_image(&reference).ok().flatten()
            } else {
                None
            };
            let registry_digest = (checked && ask_registry && info.is_none())
                .then(|| remember::remote_digest(&reference))
                .flatten();
            Base {
                id: info.as_ref().map(|i| i.id.clone()),
                repo_digests: info.map(|i| i.repo_digests).unwrap_or_default(),
                registry_digest,
                reference,
            }
        })
        .collect()
}

/// The bases as the inputs hash takes them: by registry digest where there is one, so the
/// hash is the same on every machine ([`remember::base_identity`]).
pub fn base_ids(bases: &[Base]) -> Vec<(String, Option<String>)> {
    bases
        .iter()
        .map(|b| (b.reference.clone(), Some(remember::base_identity(b))))
        .collect()
}

/// `on_step` hears each step number the builder starts.
fn build_one(
    job: &Job,
    options: &Options,
    engine: &Engine,
    engine_arch: &std::sync::OnceLock<String>,
    printer: &Printer,
    cancel: &Cancel,
    on_step: &(dyn Fn(usize) + Sync),
) -> Outcome {
    let line = JobLine::new(
        printer,
        format!("{} {}", job.name, job.arch.lambda_name()),
        job.title(),
    );
    let outcome = Run {
        job,
        options,
        engine,
        engine_arch,
        printer,
        cancel,
        line: &line,
        on_step,
    }
    .outcome();
    let summary = match outcome.status {
        Status::Built => format!(
            "built {}{}",
            short(outcome.image_id.as_deref()),
            if outcome.verify.as_ref().is_some_and(|v| v.before) {
                ", verified before"
            } else if options.verify {
                ", verified"
            } else {
                ", not verified (--no-verify)"
            }
        ),
        Status::Unchanged if outcome.from_registry => format!(
            "unchanged (registry) {}",
            outcome.registry_digest.as_deref().unwrap_or_default()
        ),
        Status::Unchanged => format!("unchanged {}", short(outcome.image_id.as_deref())),
        Status::Failed(_) => super::report::result(&outcome),
        Status::Skipped => "skipped".to_string(),
        Status::Interrupted => "interrupted".to_string(),
    };
    line.done(&summary);
    outcome
}

/// The instruction of a step's title: `Step 3/5 : RUN …` (classic), `[3/5] RUN …` or
/// `[builder 3/5] RUN …` (BuildKit).
fn step_instruction(title: &str) -> &str {
    if let Some((_, i)) = title.split_once(" : ") {
        return i;
    }
    match title.strip_prefix('[').and_then(|t| t.split_once("] ")) {
        Some((_, i)) => i,
        None => "",
    }
}

fn short(id: Option<&str>) -> &str {
    id.map(crate::reference::short_id).unwrap_or_default()
}

/// The registry a reference's image comes from, for messages.
fn registry_of(reference: &str) -> String {
    reference
        .parse::<crate::reference::Reference>()
        .map(|r| r.registry_host().to_string())
        .unwrap_or_else(|_| "its registry".to_string())
}

/// One job on its way through the phases: the context, the tag lock, the registry's and
/// this machine's memory of the inputs, the build, the gate and the tags. Each phase is a
/// method; `Err(status)` ends the job with that status (the reason is on the outcome).
struct Run<'a> {
    job: &'a Job,
    options: &'a Options,
    engine: &'a Engine,
    engine_arch: &'a std::sync::OnceLock<String>,
    printer: &'a Printer,
    cancel: &'a Cancel,
    line: &'a JobLine<'a>,
    on_step: &'a (dyn Fn(usize) + Sync),
}

/// How a phase ends a job.
type Ended = Result<(), Status>;

impl Run<'_> {
    fn outcome(&self) -> Outcome {
        let mut outcome = Outcome::new(Status::Built);
        if let Err(status) = self.phases(&mut outcome) {
            outcome.status = status;
        }
        outcome
    }

    fn phases(&self, outcome: &mut Outcome) -> Ended {
        let (ctx, fingerprint) = self.context(outcome)?;
        // One build at a time per tag on this machine: a second build of the same spec
        // waits, then finds the first's image (held until the tags are set, or the build
        // ends).
        let _lock = self.lock()?;
        outcome.bases = bases_of(self.job, self.engine, true);
        let base_ids = base_ids(&outcome.bases);
        let hash = hash_now(self.job, &fingerprint, &base_ids, self.options, outcome);
        if self.in_registry(&hash, outcome)? || self.unchanged(&hash, outcome) {
            outcome.status = Status::Unchanged;
            return Ok(());
        }
        let image_id = self.build(ctx, &fingerprint, outcome)?;
        // The gate: verify, then smoke tests, before the image gets a tag.
        self.gate(&image_id, outcome)?;
        self.tag(&image_id, outcome)
    }

    /// The context, listed and digested.
    fn context(
        &self,
        outcome: &mut Outcome,
    ) -> Result<(context::Context, context::Fingerprint), Status> {
        self.line.state("reading the build context");
        let job = self.job;
        context::list(
            &job.context,
            &job.dockerfile,
            job.dockerfile_in_context.as_deref(),
        )
        .and_then(|ctx| ctx.fingerprint().map(|f| (ctx, f)))
        .map_err(|e| fail(outcome, Phase::Context, format!("{e:#}")))
    }

    fn lock(&self) -> Result<Option<state::TagLock>, Status> {
        let tags: Vec<String> = self.job.tags.iter().map(|t| t.to_string()).collect();
        state::lock_tags(
            &tags,
            |pid| {
                self.line.state(&match pid {
                    Some(pid) => {
                        format!("waiting for another build of the same tags (pid {pid})")
                    }
                    None => "waiting for another build of the same tags".to_string(),
                })
            },
            self.cancel,
        )
        .map_err(|_| Status::Interrupted)
    }

    /// Unchanged in the registry: an image built from these inputs passed the gate and was
    /// pushed (on any machine); its manifest gets the requested tag (or, with `--reuse
    /// pull`, it is pulled and tagged here), nothing is built.
    fn in_registry(&self, hash: &str, outcome: &mut Outcome) -> Result<bool, Status> {
        let (Some(dest), false) = (&self.job.registry_dest, self.options.force) else {
            return Ok(false);
        };
        self.line.state("looking the inputs up in the registry");
        let manifest = match remember::recall(dest, hash, &self.options.reach) {
            Ok(Some(manifest)) => manifest,
            Ok(None) => return Ok(false),
            Err(e) => {
                self.line.output(&format!(
                    "the registry could not say whether it has these inputs ({e:#}); building"
                ));
                return Ok(false);
            }
        };
        outcome.from_registry = true;
        let digest = if self.options.reuse_pull {
            self.line
                .state("pulling the image the registry has for these inputs");
            match reuse_pulled(self.job, dest, &manifest.digest, self.engine, self.cancel) {
                Ok(id) => {
                    crate::cache::warn_once(self.printer, state::record(hash, &id));
                    outcome.image_id = Some(id);
                    manifest.digest.clone()
                }
                Err(e) if is_interrupted(&e) => return Err(Status::Interrupted),
                Err(e) => return Err(fail(outcome, Phase::Tag, format!("{e:#}"))),
            }
        } else {
            remember::point(dest, &manifest, &self.options.reach)
                .map_err(|e| fail(outcome, Phase::Tag, format!("{e:#}")))?
        };
        outcome.registry_digest = Some(format!("{}@{digest}", dest.repository()));
        Ok(true)
    }

    /// Unchanged here: every requested tag names the image built and verified from these
    /// inputs.
    fn unchanged(&self, hash: &str, outcome: &mut Outcome) -> bool {
        if self.options.force {
            return false;
        }
        let tag_ids: Vec<Option<String>> = self
            .job
            .tags
            .iter()
            .map(|t| {
                self.engine
                    .inspect_image(&t.to_string())
                    .ok()
                    .flatten()
                    .map(|i| i.id)
            })
            .collect();
        let Some(Some(tagged)) = tag_ids.first() else {
            return false;
        };
        if tag_ids.iter().any(|id| id.as_ref() != Some(tagged)) {
            return false;
        }
        match state::lookup(hash) {
            Some(id) if id == *tagged => {
                outcome.image_id = Some(id);
                true
            }
            _ => false,
        }
    }

    /// The build request: the options, the secrets' values, and the credentials of the
    /// registries the engine may pull from (bases it does not have, cache sources).
    fn request(&self, dockerfile: &str, outcome: &mut Outcome) -> Result<BuildRequest, Status> {
        let options = self.options;
        // (reference, is a base): a base's unreadable credentials fail the build, a cache
        // source's only leave it unused.
        let pulled = outcome
            .bases
            .iter()
            .filter(|b| b.id.is_none() || options.pull)
            .map(|b| (b.reference.clone(), true));
        let cache_sources = options.cache_from.iter().map(|r| (r.clone(), false));
        let mut credentials: Vec<crate::docker::Credentials> = Vec::new();
        for (reference, is_base) in pulled.chain(cache_sources) {
            let Ok(r) = reference.parse::<crate::reference::Reference>() else {
                continue;
            };
            match crate::registry::credentials::for_registry(r.registry_host()) {
                Ok(found) => {
                    if let Some(c) = found.credentials {
                        if !credentials.iter().any(|x| x.server == c.server) {
                            credentials.push(c);
                        }
                    }
                }
                Err(e) if is_base => return Err(fail(outcome, Phase::Build, format!("{e:#}"))),
                Err(_) => {}
            }
        }
        let secrets = secrets::read(&secrets::merge(&self.job.secrets, &options.secrets))
            .map_err(|e| fail(outcome, Phase::Build, format!("{e:#}")))?;
        Ok(BuildRequest {
            builder: options.builder,
            secrets,
            ssh: options.ssh.clone(),
            cache_from: options.cache_from.clone(),
            inline_cache: options.inline_cache,
            dockerfile: dockerfile.to_string(),
            platform: self.job.platform(),
            build_args: options.build_args.clone(),
            labels: options.labels.clone(),
            target: options.target.clone(),
            pull: options.pull,
            no_cache: options.no_cache,
            credentials,
        })
    }

    /// The build, its steps on the job's line and in its log; the image id.
    fn build(
        &self,
        ctx: context::Context,
        fingerprint: &context::Fingerprint,
        outcome: &mut Outcome,
    ) -> Result<String, Status> {
        let request = self.request(&ctx.dockerfile, outcome)?;
        outcome.builder = Some(self.options.builder);
        let log_path = log_path(self.job);
        let mut watch = Watch {
            line: self.line,
            on_step: self.on_step,
            log: log_path
                .as_ref()
                .and_then(|p| std::fs::File::create(p).ok())
                .map(LogWriter::new),
            step: String::new(),
            cached_steps: 0,
            tail: VecDeque::new(),
            warnings: Vec::new(),
        };
        self.line.state(&format!(
            "sending the build context ({} file{})",
            ctx.files(),
            if ctx.files() == 1 { "" } else { "s" }
        ));
        let context = self.context_for_builder(ctx, fingerprint);
        let started = Instant::now();
        let result = self
            .engine
            .build(&request, context, &mut |e| watch.event(e), self.cancel);
        let log_error = watch.log.take().and_then(LogWriter::finish);
        outcome.build_time = Some(started.elapsed());
        outcome.warnings = std::mem::take(&mut watch.warnings);
        match result {
            Ok(id) => {
                remove_log(&log_path);
                outcome.image_id = Some(id.clone());
                Ok(id)
            }
            Err(BuildFailure::Interrupted) => {
                remove_log(&log_path);
                Err(Status::Interrupted)
            }
            Err(failure) => {
                self.failed(failure, watch, log_path, log_error, outcome);
                Err(Status::Failed(Phase::Build))
            }
        }
    }

    /// BuildKit fetches what it does not have of the context through the session; the
    /// classic builder reads a tar (on a terminal the line counts the bytes sent).
    fn context_for_builder(
        &self,
        ctx: context::Context,
        fingerprint: &context::Fingerprint,
    ) -> crate::docker::BuildContext {
        if self.options.builder == Builder::BuildKit {
            return crate::docker::BuildContext::Synced(ctx.synced(fingerprint));
        }
        let ctx = std::sync::Arc::new(ctx);
        let bar = self.line.printer.progress().then(|| self.line.bar.clone());
        crate::docker::BuildContext::Tar(std::sync::Arc::new(move |out| {
            let mut counting = CountingWriter {
                out,
                bytes: 0,
                shown: 0,
                bar: bar.clone(),
                label: "sending the build context",
            };
            ctx.write_to(&mut counting)
                .map(|_| ())
                .map_err(|e| std::io::Error::other(format!("{e:#}")))
        }))
    }

    /// A failed build on `outcome`: the message, the failing step, its last lines, the
    /// explanation and the log (or, when a base could not be pulled, that alone).
    fn failed(
        &self,
        failure: BuildFailure,
        watch: Watch<'_>,
        log_path: Option<PathBuf>,
        log_error: Option<String>,
        outcome: &mut Outcome,
    ) {
        let mut step = watch.step;
        let mut tail: Vec<String> = watch.tail.into_iter().collect();
        let message = match failure {
            BuildFailure::Failed(m) => m,
            BuildFailure::Step {
                step: failing,
                tail: lines,
                message,
            } => {
                step = failing;
                tail = lines;
                message
            }
            BuildFailure::Engine(e) => {
                if e.downcast_ref::<crate::docker::EngineStalled>().is_some() {
                    // The engine, not the image: exit 2.
                    outcome.error_kind = Some("engine");
                }
                format!("{e:#}")
            }
            BuildFailure::Interrupted => String::new(),
        };
        if let Some(base) = missing_base(&outcome.bases, &message) {
            // Nothing ran: the step, its output and the log add nothing.
            remove_log(&log_path);
            outcome.error = Some(format!(
                "base image `{base}` is not in the Docker Engine and could not be pulled from {}: {message}",
                registry_of(&base)
            ));
            return;
        }
        let engine_arch = self
            .engine_arch
            .get_or_init(|| self.engine.architecture().unwrap_or_default());
        let cross = (!engine_arch.is_empty() && engine_arch != self.job.arch.oci_name())
            .then(|| self.job.arch.lambda_name());
        outcome.error = Some(message.clone());
        outcome.hint = explain::explain(step_instruction(&step), &tail, &message, cross);
        outcome.failing_step = (!step.is_empty()).then_some(step);
        outcome.tail = tail;
        (outcome.log, outcome.log_note) = keep_log(log_path, log_error);
    }

    /// Passes `image_id` through the gate ([`verify::gate`]): its checks, then its smoke
    /// tests. `Err`: the status the image ends with (the reason is on `outcome`).
    fn gate(&self, image_id: &str, outcome: &mut Outcome) -> Ended {
        let (job, options, engine, printer, cancel, line) = (
            self.job,
            self.options,
            self.engine,
            self.printer,
            self.cancel,
            self.line,
        );
        let gate = verify::gate::Gate {
            engine,
            printer,
            cancel,
            verify: options.verify,
            smoke: options.smoke,
        };
        let manifest = job.manifest.as_ref();
        let title = job.title();
        let subject = verify::gate::Subject {
            id: image_id,
            name: &job.name,
            title: &title,
            plan: verify::Plan {
                manifest: manifest.map(|(_, m, _)| m.clone()),
                options: verify::Options::defaults_for(Some(job.arch.oci_name())),
            },
            plan_key: &verify::ledger::plan_key(
                manifest.map(|(_, _, b)| b.as_slice()),
                Some(job.arch),
            ),
            smoke: &job.smoke,
        };
        let mut at = verify::gate::State::Verifying;
        let passage = gate.pass(&subject, &mut |state| {
            at = state;
            line.state(match state {
                verify::gate::State::Verifying => "verifying",
                verify::gate::State::SmokeTests => "smoke tests",
            })
        });
        let passage = match passage {
            Ok(p) => p,
            Err(e) if is_interrupted(&e) => return Err(Status::Interrupted),
            Err(e) => {
                outcome.error_kind = Some(error_kind(&e));
                outcome.error = Some(format!("{e:#}"));
                return Err(Status::Failed(match at {
                    verify::gate::State::Verifying => Phase::Verify,
                    verify::gate::State::SmokeTests => Phase::Smoke,
                }));
            }
        };
        outcome.verify_time = passage.verify_time;
        outcome.verify = passage.verify;
        outcome.smoke = passage.smoke;
        match passage.refused {
            None => Ok(()),
            Some(verify::gate::Refusal::Checks) => {
                let fail = outcome.verify.as_ref().map_or(0, |s| s.fail);
                outcome.error = Some(format!(
                    "{fail} verify check{} failed; the image is left untagged as {image_id} (`lambda-image verify {image_id}` shows the report)",
                    if fail == 1 { "" } else { "s" }
                ));
                Err(Status::Failed(Phase::Verify))
            }
            Some(verify::gate::Refusal::Smoke(failure)) => {
                outcome.error = Some(format!(
                    "{}; the image is left untagged as {image_id}",
                    failure.message
                ));
                outcome.tail = failure.tail;
                Err(Status::Failed(Phase::Smoke))
            }
        }
    }

    /// The tags, then the record that these inputs made this image.
    fn tag(&self, image_id: &str, outcome: &mut Outcome) -> Ended {
        if self.cancel.is_cancelled() {
            return Err(Status::Interrupted);
        }
        for tag in &self.job.tags {
            self.engine
                .tag_image(image_id, &tag.repository(), tag.tag_or_latest())
                .map_err(|e| fail(outcome, Phase::Tag, format!("{e:#}")))?;
        }
        if let Some(hash) = &outcome.inputs_hash {
            crate::cache::warn_once(self.printer, state::record(hash, image_id));
        }
        Ok(())
    }
}

/// Puts `error` on `outcome`; the status of a failure at `phase`.
fn fail(outcome: &mut Outcome, phase: Phase, error: String) -> Status {
    outcome.error = Some(error);
    Status::Failed(phase)
}

/// What a build's events leave behind: the job's line, the log, the step running and its
/// last lines.
struct Watch<'a> {
    line: &'a JobLine<'a>,
    on_step: &'a (dyn Fn(usize) + Sync),
    log: Option<LogWriter>,
    step: String,
    cached_steps: usize,
    tail: VecDeque<String>,
    warnings: Vec<String>,
}

impl Watch<'_> {
    fn event(&mut self, event: BuildEvent) {
        match event {
            BuildEvent::Step {
                number,
                title,
                cached,
                ..
            } => {
                (self.on_step)(number);
                self.step = title;
                self.tail.clear();
                if let Some(log) = self.log.as_mut() {
                    let _ = writeln!(log, "{}{}", if cached { "CACHED " } else { "" }, self.step);
                }
                if cached {
                    self.cached_steps += 1;
                }
                self.line.step(&self.step, cached, self.cached_steps);
            }
            BuildEvent::Status(text) => self.line.state(&text),
            BuildEvent::Warning(text) => {
                if let Some(log) = self.log.as_mut() {
                    let _ = writeln!(log, "warning: {text}");
                }
                self.line.warn(&text);
                self.warnings.push(text);
            }
            BuildEvent::Output(text) => {
                if let Some(log) = self.log.as_mut() {
                    let _ = writeln!(log, "{text}");
                }
                self.line.output(&text);
                // The tail is the step's own output, not the builder's bookkeeping.
                let bookkeeping = text.starts_with(" ---> ")
                    || text.starts_with("Removing intermediate container ");
                if !bookkeeping {
                    if self.tail.len() == TAIL_LINES {
                        self.tail.pop_front();
                    }
                    self.tail.push_back(text);
                }
            }
        }
    }
}

/// What kind of error (not a finding) stopped an image: `I/O` when the chain holds an I/O
/// error (a full disk, an unwritable TMPDIR), else `engine`.
fn error_kind(e: &anyhow::Error) -> &'static str {
    if e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
    {
        "I/O"
    } else {
        "engine"
    }
}

/// The base that was missing locally when the engine's message is about pulling it.
fn missing_base(bases: &[Base], message: &str) -> Option<String> {
    let about_pull = [
        "pull access denied",
        "manifest unknown",
        "not found",
        "no such host",
        "dial tcp",
        "i/o timeout",
        "connection refused",
        "unauthorized",
        "Unauthorized",
        "pulling from host",
        "failed to resolve source metadata",
        "Error response from daemon",
        "failed to resolve",
        "lookup ",
        "no basic auth credentials",
        "authentication required",
        "denied",
    ]
    .iter()
    .any(|n| message.contains(n));
    if !about_pull {
        return None;
    }
    bases
        .iter()
        .find(|b| b.id.is_none() && (message.contains(&b.reference) || bases.len() == 1))
        .or_else(|| bases.iter().find(|b| b.id.is_none()))
        .map(|b| b.reference.clone())
}

/// The folder of build logs: `<temp>/lambda-image-logs`.
fn logs_dir() -> PathBuf {
    std::env::temp_dir().join("lambda-image-logs")
}

/// A new, empty `<temp>/lambda-image-logs/<name>-<arch>-<random>.log`, a name of this run's
/// own (two builds of one folder, or two jobs on one runner, do not write into each other's);
/// `None` when it cannot be made.
fn log_path(job: &Job) -> Option<PathBuf> {
    let dir = logs_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let safe: String = job
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (_, path) = tempfile::Builder::new()
        .prefix(&format!("{safe}-{}-", job.arch.lambda_name()))
        .suffix(".log")
        .tempfile_in(&dir)
        .ok()?
        .keep()
        .ok()?;
    Some(path)
}

/// The build log: buffered; the first write error (a full disk) is kept and later writes
/// are dropped, so a failed build can say its log is incomplete.
struct LogWriter {
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl LogWriter {
    fn new(file: std::fs::File) -> LogWriter {
        LogWriter {
            out: std::io::BufWriter::new(file),
            error: None,
        }
    }

    /// Flushes the log; the first error writing it, as words.
    fn finish(mut self) -> Option<String> {
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.error = Some(e);
            }
        }
        self.error.map(|e| crate::fs::io_message(&e))
    }
}

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(buf) {
                self.error = Some(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of a failed build and a note: none when it could not be written (and why) or
/// when the engine stopped before any output; marked incomplete when writing it failed.
fn keep_log(path: Option<PathBuf>, error: Option<String>) -> (Option<PathBuf>, Option<String>) {
    let Some(path) = path else {
        let dir = logs_dir();
        let why = match std::fs::create_dir_all(&dir) {
            Err(e) => crate::fs::io_message(&e),
            Ok(()) => "cannot create a file there".to_string(),
        };
        return (
            None,
            Some(format!(
                "none (cannot write one in {}: {why})",
                dir.display()
            )),
        );
    };
    let empty = std::fs::metadata(&path)
        .map(|m| m.len() == 0)
        .unwrap_or(true);
    match error {
        Some(e) => (
            Some(path),
            Some(format!("incomplete: writing it failed: {e}")),
        ),
        None if empty => {
            remove_log(&Some(path));
            (
                None,
                Some("none (the engine stopped before the first step, with no output)".into()),
            )
        }
        None => (Some(path), None),
    }
}

/// Removes a log that is not needed, and its folder when that leaves it empty.
fn remove_log(path: &Option<PathBuf>) {
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
        if let Some(dir) = p.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
