//! The command line, with clap derive. Every flag is defined here; commands read the parsed structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::arch::Arch;

/// Lint, render, build, verify and push AWS Lambda container images on Amazon Linux 2023.
#[derive(Debug, Parser)]
#[command(name = "lambda-image", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print less: only findings and errors.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// Print more about what is being done (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    /// When to use colour in text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "LAMBDA_IMAGE_COLOR", help_heading = "Global options")]
    pub color: ColorChoice,
    /// Never draw progress bars.
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_progress: bool,
    /// Seconds the Docker Engine may take to start answering a request, or to send the next
    /// part of an export, import or push (a build's silent step is not bounded).
    #[arg(long, global = true, value_name = "SECS", default_value_t = crate::docker::DEFAULT_ENGINE_TIMEOUT,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Global options")]
    pub engine_timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// Whether text written to stdout should be styled.
    pub fn color_stdout(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
            }
        }
    }

    /// Whether progress bars may be drawn on stderr.
    pub fn progress(&self) -> bool {
        use std::io::IsTerminal;
        !self.no_progress && !self.quiet && self.verbose == 0 && std::io::stderr().is_terminal()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find what breaks in Dockerfiles on the move to Amazon Linux 2023, and fix what is safe to fix.
    Lint(LintArgs),
    /// Print a lint rule's documentation (`rule LI101`) or the table of all rules (`rule --all`).
    Rule(RuleArgs),
    /// Render an image spec (images/<name>/image.yaml) into an AL2023 Dockerfile.
    Render(RenderArgs),
    /// Scaffold a new image spec and a handler.
    New(NewArgs),
    /// Lint, build through the Docker Engine API, verify and tag images (specs or a Dockerfile).
    Build(Box<BuildArgs>),
    /// The images `build` would make, with their inputs hashes; builds and pushes nothing.
    Plan(Box<PlanArgs>),
    /// Verify an image's layers and config against a manifest and Lambda's rules.
    Verify(VerifyArgs),
    /// Verify, push to ECR or another registry, and read back what the registry stored.
    Push(PushArgs),
    /// Shell completions and the man page, from this command line's definition.
    Generate(GenerateArgs),
    /// Run an image once the way Lambda does, with the Runtime API served by lambda-image.
    Invoke(InvokeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
    Github,
    Checkstyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Threshold {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Dockerfiles or directories to lint; `-` reads standard input. Directories are searched,
    /// in any case, for `Dockerfile`, `Dockerfile.*`, `Dockerfile-*`, `Dockerfile_*`,
    /// `*.Dockerfile` and the same names with `Containerfile` (not `*.dockerignore`, templates
    /// such as `Dockerfile.j2`, or backups).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Apply safe fixes in place.
    #[arg(long)]
    pub fix: bool,
    /// Apply unsafe fixes too (implies --fix unless --diff is given).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them.
    #[arg(long)]
    pub diff: bool,
    /// Only these rule codes (comma-separated; prefixes such as LI1 allowed).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,
    /// Skip these rule codes (comma-separated; prefixes allowed).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1 [default: the config file's, else info].
    #[arg(long, value_enum)]
    pub failure_threshold: Option<Threshold>,
    /// Give an ARG the value the build passes, so that bases such as `FROM ${BASE}` are read as
    /// the build reads them (repeatable). Applies to ARGs declared before the first FROM and to
    /// TARGETARCH and the other automatic platform ARGs; wins over the config file's
    /// `build: build-args`, which are read too.
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_arg: Vec<String>,
    /// Configuration file (default: the nearest .lambda-image.yaml from the current directory up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// The name to report for standard input.
    #[arg(long, value_name = "NAME", default_value = "-")]
    pub stdin_filename: String,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// A rule code, such as LI101, or a rule name, such as yum-not-available.
    #[arg(value_name = "CODE", required_unless_present = "all")]
    pub code: Option<String>,
    /// Print the table of every rule.
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RuleFormat::Text)]
    pub format: RuleFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Image spec folders (images/<name>) or image.yaml files.
    #[arg(value_name = "SPEC", required_unless_present = "all")]
    pub specs: Vec<PathBuf>,
    /// Render every spec under ./images.
    #[arg(long, conflicts_with = "specs")]
    pub all: bool,
    /// Architecture to render for (default: the spec's first).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Where to write the Dockerfile: a file, or `-` for standard output
    /// (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when the committed Dockerfile next to the spec is out of date; write nothing.
    #[arg(long, conflicts_with = "output")]
    pub check: bool,
    /// Write the Dockerfile next to each spec (images/<name>/Dockerfile).
    #[arg(long, conflicts_with_all = ["output", "check"])]
    pub write: bool,
    /// Read templates from this folder instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The folder to create (images/<name>).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The Lambda runtime: python3.12, python3.13, python3.14, nodejs20.x, nodejs22.x,
    /// nodejs24.x, java21, java25, ruby3.3, ruby3.4, dotnet8, dotnet10 or provided.al2023.
    #[arg(long)]
    pub runtime: String,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: Generate,
}

#[derive(Debug, Subcommand)]
pub enum Generate {
    /// Shell completions on stdout (`lambda-image generate completions bash > /etc/bash_completion.d/lambda-image`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on stdout (`lambda-image generate man > lambda-image.1`).
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
    Junit,
    Github,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// An image in the Docker Engine (name[:tag], name@digest or id), exported through the Engine API
    /// (DOCKER_HOST or the default socket) to a temporary file; never pulled.
    #[arg(value_name = "IMAGE", required_unless_present_any = ["archive", "spec"])]
    pub image: Option<String>,
    /// An image archive: `docker save` output (tar), or an OCI image layout (directory or tar).
    #[arg(long, value_name = "PATH", conflicts_with = "image")]
    pub archive: Option<PathBuf>,
    /// A manifest of required paths and metadata (lambda-image/v1 or container-structure-test 2.0.0).
    #[arg(long, short = 'm', value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The architecture the function uses; the image must match.
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
    /// Switch off Lambda checks (comma-separated, or `all`) or container-structure-test kinds
    /// (`commandTests`, `fileExistenceTests`, `fileContentTests`, `metadataTest`, `licenseTests`)
    /// by name.
    #[arg(long, value_delimiter = ',', value_name = "CHECKS")]
    pub skip: Vec<String>,
    /// Check the image as a Lambda image: `auto` runs every Lambda check on an AWS base layout
    /// and, on any other base, the ones every Lambda image needs (cmd-arity, size,
    /// architecture, single-platform); `always` runs every one; `never` none.
    #[arg(long, value_enum, default_value_t = VerifyLambda::Auto)]
    pub lambda: VerifyLambda,
    /// An image spec folder (images/<name>) or image.yaml: its `verify:` manifest and
    /// architectures, and its tag as the image when none is given.
    #[arg(long, value_name = "SPEC", conflicts_with = "manifest")]
    pub spec: Option<PathBuf>,
    /// Warn when wasted bytes (overwritten/deleted files, rpm caches) exceed this many bytes
    /// (suffixes kB, MB, GB, KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", default_value = "10MB")]
    pub waste_threshold: String,
    /// Lowest check status that makes the exit code 1: `error` (failed checks only) or
    /// `warning` (warnings too).
    #[arg(long, value_enum, default_value_t = VerifyThreshold::Error)]
    pub failure_threshold: VerifyThreshold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyLambda {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyThreshold {
    Error,
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildFormat {
    Text,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub inputs: ImageInputs,
    /// Always try to pull a newer version of the base images.
    #[arg(long)]
    pub pull: bool,
    /// Do not use the engine's layer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// An SSH agent RUN --mount=type=ssh may use: `default` (or an id) for $SSH_AUTH_SOCK,
    /// `ID=SOCKET` for another (repeatable; BuildKit; agents only, never key files).
    #[arg(long, value_name = "default|ID=SOCKET")]
    pub ssh: Vec<String>,
    /// An image whose inline cache the build may use, from its registry without a pull
    /// (repeatable; BuildKit).
    #[arg(long, value_name = "REF")]
    pub cache_from: Vec<String>,
    /// Images built at once [default: the config's `build.jobs`, else 8].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Go on building the other images after one fails.
    #[arg(long)]
    pub keep_going: bool,
    /// Build even when nothing changed since the image was built.
    #[arg(long)]
    pub force: bool,
    /// Skip the lint pre-flight.
    #[arg(long)]
    pub no_lint: bool,
    /// Write the JSON build report (lambda-image/build-report/v1) here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the image id (sha256:…) here; one image only.
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Output format of the final report on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = BuildFormat::Text)]
    pub format: BuildFormat,
    /// Push the images once every one is built and verified (all or nothing, unless
    /// --keep-going), to --to or the spec's `push.repository`.
    #[arg(long)]
    pub push: bool,
    /// Where --push sends the images (see `push --to`).
    #[arg(long, value_name = "DEST", requires = "push")]
    pub to: Option<String>,
    /// Seconds to wait for the registry before giving up [default: the config's, else 30].
    #[arg(long, value_name = "SECS", requires = "push")]
    pub push_timeout: Option<u64>,
    /// Speak plain HTTP to this registry (HOST[:PORT], repeatable) when --push reads back
    /// what it stored; loopback registries always are.
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// What to do when the destination registry already has an image built from the same
    /// inputs (`--to`, the spec's or the config's destination): `build` it anyway (the
    /// default without --push), or `pull` it and tag it here. With --push the registry's
    /// image is always reused (its tag is pointed at it).
    #[arg(long, value_enum, value_name = "build|pull", conflicts_with = "push")]
    pub reuse: Option<Reuse>,
}

/// `lambda-image plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub inputs: ImageInputs,
    /// Output: a table, JSON (lambda-image/plan/v1), or a GitHub Actions matrix
    /// (`{"include": [...]}` on one line, for `fromJSON`).
    #[arg(long, short = 'f', value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Ask the destination (as `build --push --to`, else the spec's or the config's) whether
    /// it already has each image (built from the same inputs, verified and pushed).
    #[arg(long, value_name = "DEST")]
    pub to: Option<String>,
    /// Speak plain HTTP to this registry (HOST[:PORT], repeatable); loopback ones always are.
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    GithubMatrix,
}

/// What makes an image, and so its inputs hash: shared by `build` and `plan`.
#[derive(Debug, Clone, Args)]
pub struct ImageInputs {
    /// Image spec folders (images/<name>) or image.yaml files.
    #[arg(value_name = "SPEC", conflicts_with_all = ["all", "file"])]
    pub specs: Vec<PathBuf>,
    /// Build every spec under ./images.
    #[arg(long, conflicts_with = "file")]
    pub all: bool,
    /// Build this Dockerfile instead of a spec.
    #[arg(long, value_name = "DOCKERFILE")]
    pub file: Option<PathBuf>,
    /// The build context of --file [default: the Dockerfile's folder].
    #[arg(long, value_name = "DIR", requires = "file")]
    pub context: Option<PathBuf>,
    /// The verify manifest for --file (a spec names its own with `verify:`).
    #[arg(long, short = 'm', value_name = "FILE", requires = "file")]
    pub manifest: Option<PathBuf>,
    /// Tag the image (repeatable); replaces a spec's `tags`. `{arch}` is replaced by the
    /// architecture; with several architectures, tags without it get a `-<arch>` suffix.
    #[arg(long, short = 't', value_name = "REF")]
    pub tag: Vec<String>,
    /// Architectures to build [default: the spec's, or x86_64 for --file].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub arch: Vec<Arch>,
    /// A build argument (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub build_arg: Vec<String>,
    /// A label on the image (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Build up to this stage.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Which of the engine's builders runs the builds: BuildKit when the engine has it
    /// (auto), or one of them [default: the config's `build.builder`, else auto].
    #[arg(long, value_enum, value_name = "BUILDER")]
    pub builder: Option<BuilderChoice>,
    /// A secret for `RUN --mount=type=secret` (repeatable; BuildKit): `id=ID,src=FILE` or
    /// `id=ID,env=VAR`. Its value reaches only that RUN, never the image or a log.
    #[arg(long, value_name = "id=ID,src=FILE|env=VAR")]
    pub secret: Vec<String>,
    /// Write the build cache into the image (`inline`; BuildKit), for a later --cache-from.
    #[arg(long, value_enum, value_name = "inline")]
    pub cache_to: Option<CacheTo>,
    /// Build only the images of shard I of N (`--shard 2/4`): each image, by name and
    /// architecture, falls in exactly one shard, the same in every run (a CI matrix of N
    /// jobs builds everything once).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Skip verifying the built images (said so in the output and the report).
    #[arg(long)]
    pub no_verify: bool,
    /// Skip the specs' smoke tests (`smoke:` in image.yaml; said so in the output).
    #[arg(long)]
    pub no_smoke: bool,
    /// Configuration file (default: the nearest .lambda-image.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

/// `build --builder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuilderChoice {
    /// BuildKit when the engine has it, else the classic builder.
    Auto,
    /// The engine's BuildKit (`RUN --mount`, secrets, registry cache).
    Buildkit,
    /// The classic builder (deprecated by Docker since 23.0).
    Classic,
}

/// `build --reuse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Reuse {
    /// Build, whatever the registry has.
    Build,
    /// Pull the registry's image built from the same inputs, and tag it.
    Pull,
}

/// `build --cache-to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CacheTo {
    /// The image carries its build cache (`BUILDKIT_INLINE_CACHE=1`).
    Inline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PushFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Image spec folders (images/<name>), or images in the Docker Engine (name[:tag] or id).
    #[arg(value_name = "TARGET", conflicts_with = "all")]
    pub targets: Vec<String>,
    /// Push every spec under ./images (the tags `build` gave them).
    #[arg(long)]
    pub all: bool,
    /// Where to: REGISTRY, REGISTRY/REPO or REGISTRY/REPO:TAG (`{arch}` allowed) [default: the
    /// spec's `push.repository`, else the config's `push.to`].
    #[arg(long, value_name = "DEST")]
    pub to: Option<String>,
    /// The verify manifest for image references (a spec names its own).
    #[arg(long, short = 'm', value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Architectures of the specs to push, or the architecture an image reference must have.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub arch: Vec<Arch>,
    /// Push the images that passed verification even when another failed (still exits 1).
    #[arg(long)]
    pub keep_going: bool,
    /// Push without verifying first (said so in the output).
    #[arg(long)]
    pub no_verify: bool,
    /// Write the pushed REPO@sha256:… here, one per line (JSON with --format json).
    #[arg(long, value_name = "FILE")]
    pub digest_file: Option<PathBuf>,
    /// Seconds to wait for the registry before giving up [default: the config's, else 30].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Push only the specs' images of shard I of N (as `build --shard`).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = PushFormat::Text)]
    pub format: PushFormat,
    /// Configuration file (default: the nearest .lambda-image.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Speak plain HTTP to this registry (HOST[:PORT], repeatable); loopback registries
    /// (127.0.0.0/8, ::1, localhost) always are, every other one is HTTPS.
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Verify and push this image archive (a `docker save` tar, an OCI layout, tar or
    /// folder, as `verify --archive` reads them) through lambda-image's registry client, no
    /// engine: the bytes verified are the bytes pushed (uncompressed layers gzip-compressed
    /// on the way). Needs --to REGISTRY/REPO[:TAG].
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["targets", "all", "shard"])]
    pub archive: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvokeFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// An image in the Docker Engine (name[:tag] or id; never pulled), or an image spec
    /// folder (images/<name>: the image `build` tagged).
    #[arg(value_name = "IMAGE|SPEC")]
    pub target: String,
    /// The event: a JSON file, or `-` for standard input [default: {}].
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// An environment variable for the function (repeatable); `KEY` alone passes this
    /// process's value on.
    #[arg(long, short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A file of environment variables: `KEY=VALUE` lines, `#` comments (as `docker run
    /// --env-file` reads it).
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Seconds before the invocation is ended (1–900, as on Lambda).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// The function's memory in MB (128–10240); the container is limited to it.
    #[arg(long, value_name = "MB", default_value_t = 512)]
    pub memory: u64,
    /// The architecture the function uses; the image must have it (for a spec: which
    /// architecture's tag to run).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Output format: text (the response on stdout, logs and REPORT on stderr) or one JSON
    /// object on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = InvokeFormat::Text)]
    pub format: InvokeFormat,
}
