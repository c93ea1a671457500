//! The build pipeline: what `lambda-image build` does, image by image.
//!
//! This module owns the plan (specs or a Dockerfile × architectures → [`Job`]s, tags with
//! the `{arch}`/`-<arch>` rule), the lint pre-flight (the project's lint settings, plus a
//! refusal of BuildKit-only syntax the classic builder cannot run), the build context
//! ([`context`]: exactly the files needed, deterministic, streamed from disk), the inputs
//! hash that lets an unchanged image be skipped, the run itself ([`pipeline`]: bounded
//! parallelism, fail-fast or keep-going, Ctrl-C), the explanation of known failures
//! ([`explain`]) and the report ([`report`]: JSON, GitHub summary, the outcome table). It
//! talks to the engine only through [`crate::docker`] and verifies through
//! [`crate::verify::run`]; it prints only through the [`crate::progress::Printer`].

pub mod context;
pub mod digests;
pub mod explain;
pub mod inputs;
pub mod pipeline;
pub mod preflight;
pub mod remember;
pub mod report;
pub mod secrets;
pub mod shard;
pub mod share;
pub mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use sha2::{Digest, Sha256};

use crate::arch::Arch;
use crate::dockerfile::{self, Keyword};
use crate::image_spec::{self as spec, Spec};
use crate::reference::Reference;
use crate::render::{self, Vcs};

pub use pipeline::{run, Outcome, Phase, Status};

/// Where a job's Dockerfile comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Rendered from this spec (its `image.yaml`).
    Spec(PathBuf),
    /// Given with `--file`.
    Dockerfile(PathBuf),
}

/// One image to build: one spec or Dockerfile, one architecture.
#[derive(Debug, Clone)]
pub struct Job {
    /// The spec's name, or the Dockerfile's folder name.
    pub name: String,
    pub arch: Arch,
    pub origin: Origin,
    /// The Dockerfile's text (rendered, or as read).
    pub dockerfile: String,
    /// That text parsed, once, at plan time (`None`: not a Dockerfile; the lint pre-flight
    /// says why): the bases, what the builder cannot run, the secrets mounted and the
    /// shared first steps are read from it.
    pub parsed: Option<std::sync::Arc<dockerfile::Dockerfile>>,
    /// How lint findings name the Dockerfile.
    pub dockerfile_display: String,
    /// The Dockerfile's path inside the context, when it is inside it.
    pub dockerfile_in_context: Option<String>,
    pub context: context::Source,
    pub tags: Vec<Reference>,
    /// The verify manifest, read at plan time (bad input fails before any build).
    pub manifest: Option<(PathBuf, crate::verify::manifest::VerifyManifest, Vec<u8>)>,
    /// The spec file's bytes (part of the inputs hash).
    pub spec_bytes: Option<Vec<u8>>,
    /// The Dockerfile as the inputs hash sees it: for a spec, rendered without the git
    /// labels (source, revision, created), so a new commit that changes no input does not
    /// rebuild the image.
    pub hash_dockerfile: String,
    /// The spec's `push.repository`.
    pub push_to: Option<String>,
    /// The spec's `smoke:` tests, their events read at plan time.
    pub smoke: Vec<Smoke>,
    /// The spec's `secrets:` (ids and sources; `--secret` adds to them).
    pub secrets: Vec<secrets::Secret>,
    /// Where `build --push` sends the image: its repository remembers what was built
    /// ([`remember`]).
    pub registry_dest: Option<Reference>,
}

pub use crate::invoke::smoke::Smoke;

impl Job {
    /// `orders/x86_64`: how output lines are prefixed.
    pub fn title(&self) -> String {
        format!("{}/{}", self.name, self.arch.lambda_name())
    }

    /// `linux/amd64`.
    pub fn platform(&self) -> String {
        format!("linux/{}", self.arch.oci_name())
    }

    /// The external base images the Dockerfile names (`FROM` of images, not of stages or
    /// `scratch`), as resolved with the ARG defaults.
    pub fn bases(&self) -> Vec<String> {
        let Some(df) = &self.parsed else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for stage in &df.stages {
            if stage.parent.is_some() {
                continue;
            }
            let name = stage
                .image
                .clone()
                .unwrap_or_else(|| stage.image_raw.clone());
            if name.eq_ignore_ascii_case("scratch") || out.contains(&name) {
                continue;
            }
            out.push(name);
        }
        out
    }
}

/// Parses `KEY=VALUE` flags.
pub fn key_values(values: &[String], flag: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for v in values {
        let (k, val) = v
            .split_once('=')
            .ok_or_else(|| anyhow!("{flag} {v:?}: expected KEY=VALUE"))?;
        if k.is_empty() || k.contains(char::is_whitespace) {
            bail!("{flag} {v:?}: the key must be non-empty without spaces");
        }
        out.insert(k.to_string(), val.to_string());
    }
    Ok(out)
}

/// What the command line asks of the plan.
#[derive(Debug, Clone, Default)]
pub struct PlanArgs {
    pub tags: Vec<String>,
    pub arches: Vec<Arch>,
    /// Git labels on the image (spec builds from a git checkout).
    pub vcs: bool,
    /// `--all`: a spec without any of `arches` is left out (named in the returned list)
    /// instead of being an error.
    pub all: bool,
    /// How each Dockerfile is parsed, once, at plan time: the build args (so `FROM ${BASE}`
    /// is the base the build will use) and the bases the lint settings know.
    pub dockerfile: dockerfile::Options,
}

fn read_manifest(
    path: &Path,
) -> Result<(PathBuf, crate::verify::manifest::VerifyManifest, Vec<u8>)> {
    let manifest = crate::verify::manifest::load(path)?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path.to_path_buf(), manifest, bytes))
}

/// What `verify --spec` takes from a spec: the one architecture checked, the tag its image
/// gets from `build`, and its `verify:` manifest.
pub struct SpecVerify {
    pub arch: Arch,
    pub tag: Reference,
    pub manifest: Option<crate::verify::manifest::VerifyManifest>,
    pub manifest_path: Option<PathBuf>,
}

/// The spec's image for `arch` (needed when the spec has several architectures).
pub fn spec_verify(path: &Path, arch: Option<Arch>) -> Result<SpecVerify> {
    let spec = spec::load(path)?;
    let arch = spec.one_arch(arch, spec::Unnamed::Ask)?;
    let tag = spec.first_tag(arch)?;
    let manifest_path = spec.verify.as_ref().map(|rel| spec.dir.join(rel));
    let manifest = match &manifest_path {
        Some(path) => Some(crate::verify::manifest::load(path)?),
        None => None,
    };
    Ok(SpecVerify {
        arch,
        tag,
        manifest,
        manifest_path,
    })
}

/// A spec's image for one architecture, as the spec alone says it: what `push` needs of a
/// spec (no template rendered, no build output read).
#[derive(Debug, Clone)]
pub struct SpecImage {
    pub name: String,
    pub arch: Arch,
    pub tags: Vec<Reference>,
    /// Other architectures of the same spec come too (the `-<arch>` rule applies).
    pub several: bool,
    /// The spec's `push.repository`.
    pub push_to: Option<String>,
    pub manifest: Option<(PathBuf, crate::verify::manifest::VerifyManifest, Vec<u8>)>,
    pub smoke: Vec<Smoke>,
}

impl Job {
    /// What the job's spec says of its image; `several`: other architectures of the same
    /// spec are built too.
    pub fn spec_image(&self, several: bool) -> SpecImage {
        SpecImage {
            name: self.name.clone(),
            arch: self.arch,
            tags: self.tags.clone(),
            several,
            push_to: self.push_to.clone(),
            manifest: self.manifest.clone(),
            smoke: self.smoke.clone(),
        }
    }
}

/// The images of `spec` for `arches`: tags, verify manifest and smoke events read.
fn images_of(spec: &Spec, arches: &[Arch], args: &PlanArgs) -> Result<Vec<SpecImage>> {
    let manifest = match &spec.verify {
        Some(rel) => Some(read_manifest(&spec.dir.join(rel))?),
        None => None,
    };
    let smoke = spec.smoke.clone();
    let tags = spec.tag_texts(&args.tags);
    arches
        .iter()
        .map(|&arch| {
            Ok(SpecImage {
                name: spec.name.clone(),
                arch,
                tags: spec::expand_tags(&tags, arch, arches.len() > 1)
                    .map_err(|e| anyhow!("{}: {e}", spec.file.display()))?,
                several: arches.len() > 1,
                push_to: spec.push_repository.clone(),
                manifest: manifest.clone(),
                smoke: smoke.clone(),
            })
        })
        .collect()
}

/// The images of specs, from the specs alone (as [`plan_specs`] would plan them, without
/// rendering or reading what they copy). Also returns the specs left out because they have
/// none of `--arch` (with `--all` only).
pub fn spec_images(paths: &[PathBuf], args: &PlanArgs) -> Result<(Vec<SpecImage>, Vec<String>)> {
    let mut images = Vec::new();
    let mut left_out = Vec::new();
    for path in paths {
        let spec = spec::load(path)?;
        match spec.pick_arches(&args.arches, args.all)? {
            Some(arches) => images.extend(images_of(&spec, &arches, args)?),
            None => left_out.push(spec.name.clone()),
        }
    }
    Ok((images, left_out))
}

/// Jobs for specs: each spec rendered (as `render` does) once per architecture. Also
/// returns the specs left out because they have none of `--arch` (with `--all` only).
pub fn plan_specs(paths: &[PathBuf], args: &PlanArgs) -> Result<(Vec<Job>, Vec<String>)> {
    let mut jobs = Vec::new();
    let mut left_out = Vec::new();
    for path in paths {
        let spec = spec::load(path)?;
        let Some(arches) = spec.pick_arches(&args.arches, args.all)? else {
            left_out.push(spec.name.clone());
            continue;
        };
        let files = spec_files(&spec)?;
        let spec_bytes = std::fs::read(&spec.file)
            .with_context(|| format!("reading {}", spec.file.display()))?;
        let images = images_of(&spec, &arches, args)?;
        let vcs = if args.vcs {
            Vcs::from_git(&spec.dir)
        } else {
            Vcs::default()
        };
        for image in images {
            let plain = render::Options {
                arch: Some(image.arch),
                vcs: Vcs::default(),
                templates: None,
            };
            let hash_dockerfile = render::render(&spec, &plain)?;
            let text = render::render(
                &spec,
                &render::Options {
                    vcs: vcs.clone(),
                    ..plain
                },
            )?;
            jobs.push(Job {
                name: image.name,
                arch: image.arch,
                origin: Origin::Spec(spec.file.clone()),
                parsed: dockerfile::parse_with(&text, &args.dockerfile)
                    .ok()
                    .map(std::sync::Arc::new),
                dockerfile: text,
                dockerfile_display: format!("{} (rendered)", spec.dir.join("Dockerfile").display()),
                dockerfile_in_context: Some("Dockerfile".into()),
                context: context::Source::Spec {
                    dir: spec.dir.clone(),
                    files: files.clone(),
                },
                tags: image.tags,
                manifest: image.manifest,
                spec_bytes: Some(spec_bytes.clone()),
                hash_dockerfile,
                push_to: image.push_to,
                smoke: image.smoke,
                secrets: spec.secrets.clone(),
                registry_dest: None,
            });
        }
    }
    Ok((jobs, left_out))
}

/// The files a spec's Dockerfile copies, relative to its folder. A build output that does
/// not exist yet is an error naming it.
fn spec_files(spec: &Spec) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut need = |src: &str, build_output: bool| -> Result<()> {
        let path = spec.dir.join(src);
        if std::fs::symlink_metadata(&path).is_err() {
            if build_output {
                bail!(
                    "{}: copy: {src} does not exist yet; it is a build output, so run the project's own build first (mvn package, dotnet publish, cargo lambda build …)",
                    spec.file.display()
                );
            }
            bail!(
                "{}: {src} does not exist in {}",
                spec.file.display(),
                spec.dir.display()
            );
        }
        files.push(src.trim_end_matches('/').to_string());
        Ok(())
    };
    for c in &spec.copy {
        need(&c.src, c.build_output)?;
    }
    if let Some(r) = &spec.requirements {
        need(&r.src, false)?;
        if let Some(lock) = &r.lock {
            need(lock, false)?;
        }
    }
    if let Some(b) = &spec.bootstrap {
        need(&b.src, b.build_output)?;
    }
    Ok(files)
}

/// Jobs for `--file`: the Dockerfile as read, once per architecture.
pub fn plan_dockerfile(
    file: &Path,
    context_dir: Option<&Path>,
    manifest: Option<&Path>,
    args: &PlanArgs,
) -> Result<Vec<Job>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow!("{}: {}", file.display(), crate::config::io_message(&e)))?;
    let dir = match context_dir {
        Some(d) => d.to_path_buf(),
        None => match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    if !dir.is_dir() {
        bail!("--context {}: not a folder", dir.display());
    }
    let abs_dir =
        std::fs::canonicalize(&dir).with_context(|| format!("reading {}", dir.display()))?;
    let abs_file =
        std::fs::canonicalize(file).with_context(|| format!("reading {}", file.display()))?;
    let in_context = abs_file.strip_prefix(&abs_dir).ok().and_then(|rel| {
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        parts.map(|p| p.join("/"))
    });
    let name = abs_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("image")
        .to_string();
    let manifest = match manifest {
        Some(p) => Some(read_manifest(p)?),
        None => None,
    };
    let arches = if args.arches.is_empty() {
        vec![Arch::X86_64]
    } else {
        args.arches.clone()
    };
    let mut jobs = Vec::new();
    for &arch in &arches {
        jobs.push(Job {
            name: name.clone(),
            arch,
            origin: Origin::Dockerfile(file.to_path_buf()),
            parsed: dockerfile::parse_with(&text, &args.dockerfile)
                .ok()
                .map(std::sync::Arc::new),
            dockerfile: text.clone(),
            dockerfile_display: file.display().to_string(),
            dockerfile_in_context: in_context.clone(),
            context: context::Source::Dir { dir: dir.clone() },
            tags: spec::expand_tags(&args.tags, arch, arches.len() > 1)?,
            manifest: manifest.clone(),
            spec_bytes: None,
            hash_dockerfile: text.clone(),
            push_to: None,
            smoke: Vec::new(),
            secrets: Vec::new(),
            registry_dest: None,
        });
    }
    Ok(jobs)
}

/// What `builder` cannot run in this Dockerfile, found before a build: one line per
/// finding (`line N: …`). The classic builder: `RUN --mount` (and the other BuildKit-only
/// flags, each named once per instruction), heredocs. BuildKit: heredocs on engines
/// before 23.0 (their builtin frontend predates them) and `# syntax=` lines (the engine
/// pulls the named frontend image from a registry before every build).
pub fn unsupported(
    text: &str,
    builder: crate::docker::Builder,
    engine_version: &str,
) -> Vec<String> {
    unsupported_in(
        dockerfile::parse(text).ok().as_ref(),
        builder,
        engine_version,
    )
}

/// [`unsupported`] of a Dockerfile parsed already (`None`: not one; lint says why).
pub fn unsupported_in(
    df: Option<&dockerfile::Dockerfile>,
    builder: crate::docker::Builder,
    engine_version: &str,
) -> Vec<String> {
    let Some(df) = df else {
        return Vec::new();
    };
    let classic = builder == crate::docker::Builder::Classic;
    let engine = format!("Docker Engine {engine_version}");
    let mut out = Vec::new();
    if !classic {
        for d in df
            .directives
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case("syntax"))
        {
            let (line, _) = df.line_index.line_col(&df.source, d.span.start);
            out.push(format!(
                "line {line}: `# syntax={}` makes BuildKit pull that frontend image from a registry before every build (impossible offline, rate-limited on Docker Hub); remove the line to use {engine}'s builtin frontend",
                d.value
            ));
        }
    }
    let heredocs_run = !classic && engine_major(engine_version).is_some_and(|m| m >= 23);
    for ins in &df.instructions {
        let (line, _) = df.line_index.line_col(&df.source, ins.span.start);
        let word = format!("{:?}", ins.keyword).to_uppercase();
        if !ins.heredocs.is_empty() && !heredocs_run {
            out.push(if classic {
                format!("line {line}: {word} uses a heredoc (<<EOF), which only BuildKit runs")
            } else {
                format!(
                    "line {line}: {word} uses a heredoc (<<EOF), which {engine}'s builtin Dockerfile frontend cannot run (Docker Engine 23.0 or later can)"
                )
            });
        }
        if !classic {
            continue;
        }
        let buildkit_flags: &[&str] = match ins.keyword {
            Keyword::Run => &["mount", "network", "security"],
            Keyword::Copy => &["chmod", "link", "parents", "exclude"],
            Keyword::Add => &["chmod", "link", "checksum", "keep-git-dir", "exclude"],
            _ => &[],
        };
        let mut named: Vec<&str> = Vec::new();
        for flag in &ins.flags {
            if buildkit_flags.contains(&flag.name.as_str()) && !named.contains(&flag.name.as_str())
            {
                named.push(flag.name.as_str());
                out.push(format!(
                    "line {line}: {word} --{}, which only BuildKit runs",
                    flag.name
                ));
            }
        }
    }
    out
}

/// `20` of `20.10.24+dfsg1`.
fn engine_major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// The inputs hash of a job: the spec, the Dockerfile, the context's bytes, the bases as
/// the engine has them, the build options, the manifest and whether it is verified.
pub fn inputs_hash(
    job: &Job,
    context_digest: &str,
    bases: &[(String, Option<String>)],
    options: &pipeline::Options,
) -> String {
    let mut h = Sha256::new();
    let mut line = |k: &str, v: &str| {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b"\n");
    };
    line("schema", "lambda-image/build-inputs/v1");
    line(
        "spec",
        &job.spec_bytes
            .as_ref()
            .map(|b| crate::text::hex(&Sha256::digest(b)))
            .unwrap_or_default(),
    );
    line(
        "dockerfile",
        &crate::text::hex(&Sha256::digest(job.dockerfile.as_bytes())),
    );
    line("context", context_digest);
    for (name, id) in bases {
        line(
            "base",
            &format!("{name} {}", id.as_deref().unwrap_or("missing")),
        );
    }
    for (k, v) in &options.build_args {
        line("arg", &format!("{k}={v}"));
    }
    for (k, v) in &options.labels {
        line("label", &format!("{k}={v}"));
    }
    line("platform", &job.platform());
    line("target", options.target.as_deref().unwrap_or(""));
    line(
        "manifest",
        &job.manifest
            .as_ref()
            .map(|(_, _, b)| crate::text::hex(&Sha256::digest(b)))
            .unwrap_or_default(),
    );
    line("verify", if options.verify { "yes" } else { "no" });
    // Only on BuildKit, so images built by the classic builder keep their hashes.
    if options.builder == crate::docker::Builder::BuildKit {
        line("builder", "buildkit");
        line(
            "inline-cache",
            if options.inline_cache { "yes" } else { "no" },
        );
        // Ids only: a rotated token must not rebuild the image.
        for s in secrets::merge(&job.secrets, &options.secrets) {
            line("secret", &s.id);
        }
        // The agents' ids, not their sockets (a new agent has a new path).
        for id in options.ssh.keys() {
            line("ssh", id);
        }
    }
    // Only for specs with smoke tests, so other images keep their hashes.
    if !job.smoke.is_empty() {
        line("smoke", if options.smoke { "yes" } else { "no" });
        for test in &job.smoke {
            line(
                "smoke-test",
                &format!(
                    "{} {} {:?}",
                    crate::text::hex(&Sha256::digest(&test.event)),
                    test.expect_error,
                    test.contains
                ),
            );
        }
    }
    format!("sha256:{}", crate::text::hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_builder_cannot_run_is_found_once_per_flag() {
        use crate::docker::Builder::{BuildKit, Classic};
        let text = "# syntax=docker/dockerfile:1\nFROM x\nRUN --mount=type=cache,target=/c --mount=type=bind,source=a,target=a true\nCOPY --chmod=755 a b\nRUN <<EOF\nls\nEOF\n";
        assert_eq!(
            unsupported(text, Classic, "20.10.24"),
            vec![
                "line 3: RUN --mount, which only BuildKit runs",
                "line 4: COPY --chmod, which only BuildKit runs",
                "line 5: RUN uses a heredoc (<<EOF), which only BuildKit runs",
            ]
        );
        assert_eq!(
            unsupported(text, BuildKit, "20.10.24+dfsg1"),
            vec![
                "line 1: `# syntax=docker/dockerfile:1` makes BuildKit pull that frontend image from a registry before every build (impossible offline, rate-limited on Docker Hub); remove the line to use Docker Engine 20.10.24+dfsg1's builtin frontend",
                "line 5: RUN uses a heredoc (<<EOF), which Docker Engine 20.10.24+dfsg1's builtin Dockerfile frontend cannot run (Docker Engine 23.0 or later can)",
            ]
        );
        assert_eq!(
            unsupported(&text[29..], BuildKit, "28.2.2"),
            Vec::<String>::new()
        );
        assert!(unsupported("FROM x\nRUN true\nCOPY --from=b a b\n", Classic, "").is_empty());
    }
}
