//! The built-in Lambda checks (domain.md §1.3 and §3). Each can be turned off by name;
//! `--lambda` says whether the image is a Lambda image at all (`auto`: every check on an AWS
//! base layout, the ones every Lambda image needs on any other base).

use crate::image::fs_index::FsIndex;
use crate::image::oci::LayerMedia;
use crate::image::{env_map, Format, Image, Lookup, NodeKind};

use super::paths::unsearchable_ancestors;
use super::{human_bytes, Check, Kind, LambdaMode, Options, Status};

/// The AWS base images' entrypoint (domain.md §1.1, §1.3).
pub const LAMBDA_ENTRYPOINT: &str = "/lambda-entrypoint.sh";
/// "Lambda supports images up to 10 GB in size", uncompressed, all layers (domain.md §3).
pub const MAX_IMAGE_BYTES: u64 = 10_000_000_000;
/// At most this many offending paths are listed one by one.
const MAX_LISTED: usize = 20;

/// Exact text of Lambda's refusal of an image index (domain.md §3, aws-lambda-roadmap#82).
pub const INDEX_ERROR: &str =
    "The image manifest, config or layer media type for the source image <image> is not supported.";

/// Lambda's refusal of a layer that is not gzip-compressed (engines.md, bazel-contrib/rules_oci#777).
pub const LAYER_ERROR: &str =
    "InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest <digest>";

fn lambda(name: &str, status: Status, message: impl Into<String>) -> Check {
    Check::new(Kind::Lambda, name, status, message)
}

/// What the checks read of the image, gathered once.
struct Inputs<'a> {
    image: &'a Image,
    options: &'a Options,
    env: std::collections::BTreeMap<String, String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    aws_entrypoint: bool,
    task_root: String,
}

/// One Lambda check: its name (what `--skip` takes), whether every Lambda image needs it
/// whatever its base (a non-AWS base, python-slim with `awslambdaric` say, gets only those
/// under `--lambda auto`), and the check.
struct LambdaCheck {
    name: &'static str,
    any_base: bool,
    run: fn(&Inputs<'_>) -> Vec<Check>,
}

/// The one list of Lambda checks, in the order they run.
const CHECKS: &[LambdaCheck] = &[
    LambdaCheck {
        name: "cmd-arity",
        any_base: true,
        run: |i| vec![cmd_arity(&i.cmd, &i.entrypoint, i.aws_entrypoint, &i.env)],
    },
    LambdaCheck {
        name: "entrypoint",
        any_base: false,
        run: |i| vec![entrypoint_check(i.image, &i.entrypoint)],
    },
    LambdaCheck {
        name: "handler",
        any_base: false,
        run: |i| vec![handler(i.image, &i.cmd, i.aws_entrypoint, &i.task_root)],
    },
    LambdaCheck {
        name: "permissions",
        any_base: false,
        run: |i| permissions(i.image, &i.task_root),
    },
    LambdaCheck {
        name: "size",
        any_base: true,
        run: |i| vec![size(i.image)],
    },
    LambdaCheck {
        name: "architecture",
        any_base: true,
        run: |i| vec![architecture(i.image, i.options)],
    },
    LambdaCheck {
        name: "single-platform",
        any_base: true,
        run: |i| vec![single_platform(i.image)],
    },
    LambdaCheck {
        name: "layer-media-type",
        any_base: true,
        run: |i| vec![layer_media_type(i.image, i.options.gzip_on_push)],
    },
    LambdaCheck {
        name: "wasted-bytes",
        any_base: false,
        run: |i| vec![wasted(i.image, i.options)],
    },
];

/// The names of the Lambda checks (what `--skip` takes), in the order they run.
pub fn names() -> impl Iterator<Item = &'static str> {
    CHECKS.iter().map(|c| c.name)
}

pub fn checks(image: &Image, options: &Options) -> Vec<Check> {
    let run = image.config.config.clone().unwrap_or_default();
    let env = env_map(&image.config);
    let entrypoint = run.entrypoint.clone().unwrap_or_default();
    let cmd = run.cmd.clone().unwrap_or_default();
    let aws_entrypoint = entrypoint.first().map(String::as_str) == Some(LAMBDA_ENTRYPOINT);
    let aws_layout = aws_entrypoint || env.contains_key("LAMBDA_TASK_ROOT");
    let mut out = Vec::new();
    let any_base_only = match options.lambda {
        LambdaMode::Never => {
            out.push(lambda(
                "lambda",
                Status::Info,
                "Lambda checks are off (--lambda never)",
            ));
            if options.arch.is_some() && !options.skip.contains("architecture") {
                out.push(architecture(image, options));
            }
            return out;
        }
        LambdaMode::Auto if !aws_layout => {
            out.push(lambda(
                "lambda",
                Status::Info,
                format!(
                    "not an AWS base image layout (ENTRYPOINT is not {LAMBDA_ENTRYPOINT} and Env has no LAMBDA_TASK_ROOT): only the checks every Lambda image needs run ({}); --lambda always runs the rest",
                    CHECKS
                        .iter()
                        .filter(|c| c.any_base)
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            true
        }
        LambdaMode::Auto | LambdaMode::Always => false,
    };
    let inputs = Inputs {
        image,
        options,
        task_root: env
            .get("LAMBDA_TASK_ROOT")
            .cloned()
            .unwrap_or_else(|| "/var/task".to_string()),
        env,
        entrypoint,
        cmd,
        aws_entrypoint,
    };
    for check in CHECKS.iter().filter(|c| c.any_base || !any_base_only) {
        if options.skip.contains(check.name) {
            out.push(lambda(
                check.name,
                Status::Skip,
                format!("skipped (--skip {})", check.name),
            ));
        } else {
            out.extend((check.run)(&inputs));
        }
    }
    out
}

/// AWS's runtime interface clients, as an ENTRYPOINT names them; each takes the handler as
/// its first argument (`python -m awslambdaric app.handler`).
const RUNTIME_INTERFACE_CLIENTS: &[&str] = &[
    "awslambdaric",
    "aws-lambda-ric",
    "aws_lambda_ric",
    "com.amazonaws.services.lambda.runtime.api.client.AWSLambda",
];

fn runtime_interface_client(entrypoint: &[String]) -> Option<&'static str> {
    RUNTIME_INTERFACE_CLIENTS.iter().copied().find(|ric| {
        entrypoint
            .iter()
            .any(|arg| arg == ric || arg.ends_with(&format!("/{ric}")))
    })
}

fn list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `/lambda-entrypoint.sh` exits 142 unless it gets exactly one argument (domain.md §1.3); a
/// runtime interface client needs the handler as its first argument.
fn cmd_arity(
    cmd: &[String],
    entrypoint: &[String],
    aws_entrypoint: bool,
    env: &std::collections::BTreeMap<String, String>,
) -> Check {
    if !aws_entrypoint {
        let Some(ric) = runtime_interface_client(entrypoint) else {
            return lambda(
                "cmd-arity",
                Status::Info,
                format!(
                    "custom ENTRYPOINT {}: CMD {} not checked",
                    list(entrypoint),
                    list(cmd)
                ),
            );
        };
        return match cmd.len() {
            0 if env.contains_key("_HANDLER") => lambda(
                "cmd-arity",
                Status::Pass,
                format!("no CMD; {ric} takes the handler from _HANDLER"),
            ),
            0 => lambda(
                "cmd-arity",
                Status::Fail,
                format!("no CMD: {ric} needs the handler as its first argument; add CMD [\"app.handler\"]"),
            ),
            1 => lambda(
                "cmd-arity",
                Status::Pass,
                format!("CMD {} (handler for {ric})", list(cmd)),
            ),
            n => lambda(
                "cmd-arity",
                Status::Warn,
                format!(
                    "CMD {} has {n} elements; {ric} takes the first as the handler and ignores the rest",
                    list(cmd)
                ),
            ),
        };
    }
    match cmd.len() {
        1 => lambda("cmd-arity", Status::Pass, format!("CMD {}", list(cmd))),
        0 => lambda(
            "cmd-arity",
            Status::Fail,
            format!("no CMD: {LAMBDA_ENTRYPOINT} needs the handler as its only argument; add CMD [\"app.handler\"]"),
        ),
        n => lambda(
            "cmd-arity",
            Status::Fail,
            format!(
                "CMD {} has {n} elements; {LAMBDA_ENTRYPOINT} takes exactly one (the handler) and fails with \"entrypoint requires the handler name to be the first argument\"",
                list(cmd)
            ),
        ),
    }
}

/// What AWS's older documentation says of symlinks as the entry point (quoted in the warning).
pub const SYMLINK_ENTRYPOINT_ADVICE: &str = "do not use symlinks as the entry point";

/// ENTRYPOINT: absolute, present, a regular file once symlinks are followed, readable and
/// executable by others, and reachable (domain.md §3). A symlink that ends at such a file
/// is a warning, not a failure: AWS's runtime interface client runs that way on the official
/// `python:*-slim` images (`/usr/local/bin/python` → `python3` → `python3.x`). A link that
/// dangles, loops or climbs out of the image fails.
fn entrypoint_check(image: &Image, entrypoint: &[String]) -> Check {
    let fail = |msg: String| lambda("entrypoint", Status::Fail, msg);
    let Some(first) = entrypoint.first() else {
        return fail(
            "no ENTRYPOINT: Lambda needs one (AWS base images use [\"/lambda-entrypoint.sh\"])"
                .into(),
        );
    };
    if !first.starts_with('/') {
        return fail(format!(
            "ENTRYPOINT {first:?} is not an absolute path; Lambda needs one (Runtime.InvalidEntrypoint)"
        ))
        .at(first.clone());
    }
    let path = crate::image::layer::normalise_in_root(first).0;
    let index = &image.index;
    let mut real = match index.resolve(&path, false) {
        Lookup::Found(real) => real,
        Lookup::Loop(_) => return fail(format!("{first} is a symlink loop")).at(path),
        Lookup::Missing(_) => {
            return fail(format!(
                "{first} is not in the image (Runtime.InvalidEntrypoint)"
            ))
            .at(path)
        }
    };
    // Follow the link, hop by hop, so the message can show the chain.
    let mut chain: Vec<String> = Vec::new();
    let mut link_dirs: Vec<String> = Vec::new();
    let node = loop {
        let Some(node) = index.get(&real) else {
            return fail(format!("{first} is not in the image")).at(path);
        };
        if node.kind != NodeKind::Symlink {
            break node;
        }
        if chain.len() >= 40 {
            return fail(format!("{first} is a symlink loop")).at(path);
        }
        let target = node.link.as_deref().unwrap_or_default();
        let dir = parent(&real);
        if climbs_out(dir, target) {
            return fail(format!(
                "{first} is a symlink to {target}, which leaves the image (it climbs above /); Lambda cannot run it (Runtime.InvalidEntrypoint)"
            ))
            .at(path)
            .in_layer(Some(node.layer + 1));
        }
        chain.push(target.to_string());
        link_dirs.push(real.clone());
        let next = if target.starts_with('/') {
            target.to_string()
        } else if dir == "/" {
            format!("/{target}")
        } else {
            format!("{dir}/{target}")
        };
        real = match index.resolve(&next, false) {
            Lookup::Found(r) if index.get(&r).is_some() => r,
            Lookup::Loop(_) => return fail(format!("{first} is a symlink loop")).at(path),
            _ => {
                return fail(format!(
                    "{first} is a symlink to {target}, which is not in the image (a dangling link; Runtime.InvalidEntrypoint)"
                ))
                .at(path)
                .in_layer(Some(node.layer + 1))
            }
        };
    };
    let (real, node) = match index.data_node(&real) {
        Some((r, n)) => (r.to_string(), n),
        None => (real.clone(), node),
    };
    let layer = Some(node.layer + 1);
    let via = if chain.is_empty() {
        String::new()
    } else {
        format!(" (a symlink: {first} → {})", chain.join(" → "))
    };
    if !matches!(node.kind, NodeKind::File | NodeKind::Hardlink) {
        return fail(format!("{first}{via} is not a regular file"))
            .at(path)
            .in_layer(layer);
    }
    // Executables need o+rx, not just o+x: a script is read by its interpreter as the
    // unprivileged user (domain.md §3: "dirs and executables ≥0755").
    if node.mode & 0o005 != 0o005 {
        return fail(format!(
            "{first}{via} is not readable and executable by others (mode {:04o}, needs o+rx); Lambda runs it as an unprivileged user",
            node.mode & 0o7777
        ))
        .at(path)
        .in_layer(layer);
    }
    // The directories of every link on the way and of the file must be searchable.
    let mut blocked = unsearchable_ancestors(image, &real);
    for link in &link_dirs {
        for dir in unsearchable_ancestors(image, link) {
            if !blocked.contains(&dir) {
                blocked.push(dir);
            }
        }
    }
    if !blocked.is_empty() {
        return fail(format!(
            "others cannot reach {first}{via}: {} not searchable (needs o+x); Lambda runs it as an unprivileged user",
            blocked.join(", ")
        ))
        .at(path)
        .in_layer(layer);
    }
    let mode = node.mode & 0o7777;
    if chain.is_empty() {
        return lambda("entrypoint", Status::Pass, format!("file, mode {mode:04o}"))
            .at(path)
            .in_layer(layer);
    }
    lambda(
        "entrypoint",
        Status::Warn,
        format!(
            "a symlink: {first} → {} (file, mode {mode:04o}); AWS's older documentation says \"{SYMLINK_ENTRYPOINT_ADVICE}\", but this is known to work (AWS's runtime interface client runs this way on the official python images)",
            chain.join(" → ")
        ),
    )
    .at(path)
    .in_layer(layer)
}

/// The folder of `path` (`/` for a top-level entry).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => path.get(..i).unwrap_or("/"),
    }
}

/// Whether a link in `dir` to `target` climbs above the root (`../../..` past `/`).
fn climbs_out(dir: &str, target: &str) -> bool {
    let mut depth: usize = if target.starts_with('/') {
        0
    } else {
        dir.split('/').filter(|p| !p.is_empty()).count()
    };
    for part in target.split('/').filter(|p| !p.is_empty()) {
        match part {
            "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Python,
    Node,
    Ruby,
    Java,
    Dotnet,
    Unknown,
}

/// The runtime family, from what the AWS base images install under /var/lang/bin (domain.md §1.3).
fn runtime(image: &Image) -> Runtime {
    let env = env_map(&image.config);
    if env.contains_key("DOTNET_ROOT") {
        return Runtime::Dotnet;
    }
    for (path, _) in image.index.children("/var/lang/bin") {
        let name = path.rsplit('/').next().unwrap_or_default();
        if name.starts_with("python") {
            return Runtime::Python;
        }
        if name == "node" {
            return Runtime::Node;
        }
        if name == "ruby" {
            return Runtime::Ruby;
        }
        if name == "java" {
            return Runtime::Java;
        }
        if name == "dotnet" {
            return Runtime::Dotnet;
        }
    }
    Runtime::Unknown
}

fn is_file(index: &FsIndex, path: &str) -> bool {
    match index.resolve(path, true) {
        Lookup::Found(real) => index
            .get(&real)
            .is_some_and(|n| matches!(n.kind, NodeKind::File | NodeKind::Hardlink)),
        _ => false,
    }
}

fn join(root: &str, rel: &str) -> String {
    format!(
        "{}/{}",
        root.trim_end_matches('/'),
        rel.trim_start_matches('/')
    )
}

/// Python `mod.func`, `pkg/mod.func`, `pkg.mod.func`: a module file or package.
fn python_module(index: &FsIndex, roots: &[&str], handler: &str) -> Option<String> {
    let (module, func) = handler.rsplit_once('.')?;
    if module.is_empty() || func.is_empty() {
        return None;
    }
    let module = module.replace('.', "/");
    for root in roots {
        let base = join(root, &module);
        for candidate in [
            format!("{base}.py"),
            format!("{base}/__init__.py"),
            format!("{base}.pyc"),
        ] {
            if is_file(index, &candidate) {
                return Some(candidate);
            }
        }
        // Extension modules: mod.cpython-312-x86_64-linux-gnu.so, mod.so.
        let dir = crate::image::layer::parent(&base);
        let stem = base.rsplit('/').next().unwrap_or_default();
        if let Lookup::Found(real_dir) = index.resolve(dir, true) {
            for (path, node) in index.children(&real_dir) {
                let name = path.rsplit('/').next().unwrap_or_default();
                if node.kind != NodeKind::Dir
                    && name.ends_with(".so")
                    && (name == format!("{stem}.so") || name.starts_with(&format!("{stem}.")))
                {
                    return Some(path.clone());
                }
            }
        }
    }
    None
}

/// `dir/file.export` → (`dir/file`, `export`): the file part ends at the first dot after the last slash.
fn split_file_handler(handler: &str) -> Option<(&str, &str)> {
    let slash = handler.rfind('/').map_or(0, |i| i + 1);
    let dot = handler.get(slash..)?.find('.')? + slash;
    let file = handler.get(..dot)?;
    let rest = handler.get(dot + 1..)?;
    (!file.is_empty() && !rest.is_empty()).then_some((file, rest))
}

fn node_module(index: &FsIndex, root: &str, handler: &str) -> Option<String> {
    let (file, _) = split_file_handler(handler)?;
    ["js", "mjs", "cjs"]
        .iter()
        .map(|ext| join(root, &format!("{file}.{ext}")))
        .find(|p| is_file(index, p))
}

fn ruby_file(index: &FsIndex, root: &str, handler: &str) -> Option<String> {
    let (file, _) = split_file_handler(handler)?;
    Some(join(root, &format!("{file}.rb"))).filter(|p| is_file(index, p))
}

/// What `/lambda-entrypoint.sh` execs, in Lambda and under the RIE alike (domain.md §1.3).
pub const RUNTIME_BOOTSTRAP: &str = "/var/runtime/bootstrap";

/// A `bootstrap` in any place the RIE looks (domain.md §1.3): the image is a custom runtime.
fn bootstrap(index: &FsIndex, root: &str) -> Option<String> {
    [
        join(root, "bootstrap"),
        "/opt/bootstrap".into(),
        RUNTIME_BOOTSTRAP.into(),
    ]
    .into_iter()
    .find(|p| matches!(index.resolve(p, false), Lookup::Found(_)))
}

/// A custom runtime on the AWS entrypoint: `/lambda-entrypoint.sh` execs
/// `/var/runtime/bootstrap` as Lambda's unprivileged user (domain.md §1.3, §3), so it must
/// be there, be a regular file once symlinks are followed, be o+rx, and be reachable.
/// A bootstrap only at `/var/task/bootstrap` or `/opt/bootstrap` is never run by it.
fn custom_runtime(image: &Image, handler: &str, found: &str) -> Check {
    let index = &image.index;
    let fail = |msg: String| {
        lambda(
            "handler",
            Status::Fail,
            format!("custom runtime bootstrap: {msg}"),
        )
        .at(RUNTIME_BOOTSTRAP)
    };
    let elsewhere = if found == RUNTIME_BOOTSTRAP {
        String::new()
    } else {
        format!("; the bootstrap at {found} is not run by it: copy it to {RUNTIME_BOOTSTRAP}")
    };
    let real = match index.resolve(RUNTIME_BOOTSTRAP, true) {
        Lookup::Found(real) => real,
        Lookup::Loop(_) => return fail(format!("{RUNTIME_BOOTSTRAP} is a symlink loop")),
        Lookup::Missing(_) => {
            let what = match index.resolve(RUNTIME_BOOTSTRAP, false) {
                Lookup::Found(link) => format!(
                    "{RUNTIME_BOOTSTRAP} is a symlink to {}, which is not in the image",
                    index
                        .get(&link)
                        .and_then(|n| n.link.as_deref())
                        .unwrap_or_default()
                ),
                _ => format!("{RUNTIME_BOOTSTRAP} is not in the image"),
            };
            return fail(format!(
                "{what}; {LAMBDA_ENTRYPOINT} execs it and fails with \"No such file or directory\" (Runtime.InvalidEntrypoint){elsewhere}"
            ));
        }
    };
    let Some(node) = index.data_node(&real).map(|(_, n)| n) else {
        return fail(format!(
            "{RUNTIME_BOOTSTRAP} is not in the image{elsewhere}"
        ));
    };
    let layer = Some(node.layer + 1);
    let via = if real == RUNTIME_BOOTSTRAP {
        String::new()
    } else {
        format!(" (via symlink: {real})")
    };
    if !matches!(node.kind, NodeKind::File | NodeKind::Hardlink) {
        return fail(format!(
            "{RUNTIME_BOOTSTRAP}{via} is not a regular file; {LAMBDA_ENTRYPOINT} execs it (Runtime.InvalidEntrypoint)"
        ))
        .in_layer(layer);
    }
    let mode = node.mode & 0o7777;
    if node.mode & 0o005 != 0o005 {
        return fail(format!(
            "{RUNTIME_BOOTSTRAP}{via} is not readable and executable by others (mode {mode:04o}, needs o+rx); {LAMBDA_ENTRYPOINT} execs it as Lambda's unprivileged user and fails with \"Permission denied\" (Runtime.InvalidEntrypoint): COPY --chmod=755 or RUN chmod 755 it"
        ))
        .in_layer(layer);
    }
    // The link's own directories and the target's must both be searchable.
    let mut blocked = unsearchable_ancestors(image, RUNTIME_BOOTSTRAP);
    for dir in unsearchable_ancestors(image, &real) {
        if !blocked.contains(&dir) {
            blocked.push(dir);
        }
    }
    if !blocked.is_empty() {
        return fail(format!(
            "others cannot reach {RUNTIME_BOOTSTRAP}{via}: {} not searchable (needs o+x); {LAMBDA_ENTRYPOINT} execs it as Lambda's unprivileged user (Runtime.InvalidEntrypoint)",
            blocked.join(", ")
        ))
        .in_layer(layer);
    }
    lambda(
        "handler",
        Status::Info,
        format!(
            "custom runtime: {LAMBDA_ENTRYPOINT} execs {RUNTIME_BOOTSTRAP}{via} (file, mode {mode:04o}, readable and executable by others); handler {handler} is passed to it unchecked"
        ),
    )
    .at(RUNTIME_BOOTSTRAP)
    .in_layer(layer)
}

/// The handler in CMD resolves to code in the image (domain.md §3); on a custom runtime,
/// the bootstrap the entrypoint execs is checked instead ([`custom_runtime`]).
fn handler(image: &Image, cmd: &[String], aws_entrypoint: bool, root: &str) -> Check {
    let index = &image.index;
    if !aws_entrypoint {
        return lambda(
            "handler",
            Status::Info,
            "custom ENTRYPOINT: the handler is the entry point's business",
        );
    }
    let Some(handler) = cmd.first().filter(|_| cmd.len() == 1) else {
        return lambda(
            "handler",
            Status::Info,
            "no single-element CMD to resolve (see cmd-arity)",
        );
    };
    let found = |what: &str, path: String| {
        lambda(
            "handler",
            Status::Pass,
            format!("{handler} → {path} ({what})"),
        )
        .at(path)
    };
    let python_roots = [root, "/opt/python", "/var/runtime"];
    let runtime = runtime(image);
    match runtime {
        Runtime::Python => {
            return match python_module(index, &python_roots, handler) {
                Some(p) => found("Python module", p),
                None => lambda(
                    "handler",
                    Status::Fail,
                    format!("Python handler {handler}: no module file ({root}/<module>.py or a package) for it"),
                ),
            };
        }
        Runtime::Node => {
            return match node_module(index, root, handler) {
                Some(p) => found("Node.js module", p),
                None => lambda(
                    "handler",
                    Status::Fail,
                    format!(
                        "Node.js handler {handler}: no .js, .mjs or .cjs file for it under {root}"
                    ),
                ),
            };
        }
        Runtime::Ruby => {
            return match ruby_file(index, root, handler) {
                Some(p) => found("Ruby file", p),
                None => lambda(
                    "handler",
                    Status::Fail,
                    format!("Ruby handler {handler}: no .rb file for it under {root}"),
                ),
            };
        }
        Runtime::Java => {
            let class = handler
                .split("::")
                .next()
                .unwrap_or(handler)
                .replace('.', "/");
            let class_file = join(root, &format!("{class}.class"));
            let jars = index
                .children(&join(root, "lib"))
                .filter(|(p, _)| p.ends_with(".jar"))
                .count();
            let message = if is_file(index, &class_file) {
                format!("Java handler {handler}: {class_file} present")
            } else {
                format!("Java handler {handler}: {jars} jar(s) in {root}/lib; classes inside jars are not inspected")
            };
            return lambda("handler", Status::Info, message);
        }
        Runtime::Dotnet => {
            let assembly = handler.split("::").next().unwrap_or(handler);
            let dll = join(root, &format!("{assembly}.dll"));
            let message = if is_file(index, &dll) {
                format!(".NET handler {handler}: {dll} present")
            } else {
                format!(".NET handler {handler}: no {dll}; check the assembly name")
            };
            return lambda("handler", Status::Info, message);
        }
        Runtime::Unknown => {}
    }
    // Runtime not recognised from /var/lang: accept any interpreted layout that resolves.
    if let Some(p) = python_module(index, &python_roots, handler) {
        return found("Python module", p);
    }
    if let Some(p) = node_module(index, root, handler) {
        return found("Node.js module", p);
    }
    if let Some(p) = ruby_file(index, root, handler) {
        return found("Ruby file", p);
    }
    if let Some(p) = bootstrap(index, root) {
        return custom_runtime(image, handler, &p);
    }
    lambda(
        "handler",
        Status::Fail,
        format!(
            "handler {handler} resolves to no Python, Node.js or Ruby file under {root}, and there is no bootstrap ({root}/bootstrap, /opt/bootstrap, /var/runtime/bootstrap)"
        ),
    )
}

/// Everything under LAMBDA_TASK_ROOT and /opt is readable by others, directories
/// searchable: Lambda runs the function as an unprivileged user (domain.md §3).
fn permissions(image: &Image, root: &str) -> Vec<Check> {
    let mut bad = Vec::new();
    let mut seen = 0usize;
    let mut roots = vec![root.to_string()];
    if root != "/opt" {
        roots.push("/opt".to_string());
    }
    for r in &roots {
        let real = match image.index.resolve(r, true) {
            Lookup::Found(real) => real,
            _ => continue,
        };
        for dir in unsearchable_ancestors(image, &format!("{real}/x")) {
            if !bad.iter().any(|(p, _, _)| p == &dir) {
                if let Some(node) = image.index.get(&dir) {
                    bad.push((dir.clone(), node.mode, node.layer));
                }
            }
        }
        for (path, node) in image.index.subtree(&real) {
            seen += 1;
            let need = match node.kind {
                NodeKind::Dir => 0o005,
                NodeKind::File | NodeKind::Hardlink => 0o004,
                _ => continue,
            };
            if node.mode & need != need && !bad.iter().any(|(p, _, _)| p == path) {
                bad.push((path.clone(), node.mode, node.layer));
            }
        }
    }
    if bad.is_empty() {
        return vec![lambda(
            "permissions",
            Status::Pass,
            format!(
                "{seen} entr{} under {} readable by others",
                crate::text::plural(seen, "y", "ies"),
                roots.join(" and ")
            ),
        )];
    }
    let total = bad.len();
    let mut out: Vec<Check> = bad
        .iter()
        .take(MAX_LISTED)
        .map(|(path, mode, layer)| {
            let what = if image
                .index
                .get(path)
                .is_some_and(|n| n.kind == NodeKind::Dir)
            {
                "directory not readable and searchable by others (needs o+rx)"
            } else {
                "not readable by others (needs o+r)"
            };
            lambda(
                "permissions",
                Status::Fail,
                format!("{what}: mode {:04o}", mode & 0o7777),
            )
            .at(path.clone())
            .in_layer(Some(layer + 1))
        })
        .collect();
    if total > MAX_LISTED {
        out.push(lambda(
            "permissions",
            Status::Fail,
            format!(
                "… and {} more paths not readable by others",
                total - MAX_LISTED
            ),
        ));
    }
    out
}

fn size(image: &Image) -> Check {
    let message = format!(
        "{} uncompressed (Lambda's limit is 10 GB)",
        human_bytes(image.size)
    );
    if image.size <= MAX_IMAGE_BYTES {
        lambda("size", Status::Pass, message)
    } else {
        lambda("size", Status::Fail, message)
    }
}

fn architecture(image: &Image, options: &Options) -> Check {
    let arch = image.config.architecture.as_str();
    let os = image.config.os.as_str();
    if !os.is_empty() && os != "linux" {
        return lambda(
            "architecture",
            Status::Fail,
            format!("os is {os:?}; Lambda runs linux images"),
        );
    }
    if arch != "amd64" && arch != "arm64" {
        return lambda(
            "architecture",
            Status::Fail,
            format!("architecture {arch:?}: Lambda runs x86_64 (amd64) or arm64 images only"),
        );
    }
    if let Some(want) = options.arch {
        if arch != want {
            let lambda_name = if want == "amd64" { "x86_64" } else { "arm64" };
            return lambda(
                "architecture",
                Status::Fail,
                format!(
                    "image is {arch}, the function is {lambda_name}: Lambda fails with \"exec format error\" (Runtime.InvalidEntrypoint); build with --platform linux/{want}"
                ),
            );
        }
    }
    lambda("architecture", Status::Pass, format!("linux/{arch}"))
}

/// Lambda takes one image manifest: no index, no attestations (domain.md §3).
fn single_platform(image: &Image) -> Check {
    if !image.format.has_index() {
        return lambda(
            "single-platform",
            Status::Pass,
            "docker-archive: one image manifest",
        );
    }
    let p = &image.platform;
    if !p.nested_index && p.platforms.len() <= 1 && p.attestations == 0 {
        return lambda(
            "single-platform",
            Status::Pass,
            match p
                .platforms
                .first()
                .filter(|n| n.as_str() != "unknown platform")
            {
                Some(name) => format!("one image manifest ({name})"),
                None => "one image manifest".to_string(),
            },
        );
    }
    let mut what = Vec::new();
    if p.platforms.len() > 1 {
        what.push(format!(
            "{} platforms ({})",
            p.platforms.len(),
            p.platforms.join(", ")
        ));
    }
    if p.attestations > 0 {
        what.push(format!("{} attestation manifest(s)", p.attestations));
    }
    if what.is_empty() {
        what.push("an image index".to_string());
    }
    let arch = if image.config.architecture.is_empty() {
        "<arch>"
    } else {
        image.config.architecture.as_str()
    };
    lambda(
        "single-platform",
        Status::Fail,
        format!(
            "the image is an index with {}; Lambda refuses it with \"{INDEX_ERROR}\". Rebuild with `docker buildx build --provenance=false --sbom=false --platform linux/{arch}`",
            what.join(" and ")
        ),
    )
}

/// Lambda takes gzip layers only: an uncompressed layer is refused with
/// `UnsupportedImageLayerDetected`, zstd is not known to work (engines.md). This checks what
/// the image's manifest declares, which is what a registry would hold when the layout is
/// copied blob for blob (skopeo, crane, oras). A classic `docker save` archive declares no
/// media types, and its layers are plain tars only for the transport: `docker push`
/// compresses them, so the check does not apply (push reads back what the registry holds).
/// Nor does it when an Engine ≥ 25 `docker save` declares every layer uncompressed: the
/// classic image store exports them so and pushes them gzip-compressed. A mix of gzip and
/// uncompressed layers there comes from the containerd image store, which pushes each layer
/// as it holds it: that fails.
///
/// `gzip_on_push`: `push --archive` sends this image, and compresses every uncompressed layer
/// with gzip on the way: only zstd (and other non-gzip kinds) stay refused.
fn layer_media_type(image: &Image, gzip_on_push: bool) -> Check {
    const NAME: &str = "layer-media-type";
    let declared: Vec<(usize, &str, LayerMedia, &str)> = image
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.media_type
                .as_deref()
                .map(|m| (i + 1, m, LayerMedia::of(m), l.digest.as_str()))
        })
        .collect();
    if gzip_on_push {
        let of = image.layers.len();
        let plain = image
            .layers
            .iter()
            .filter(|l| l.compression == Some(crate::image::Compression::Plain))
            .count();
        let refused: Vec<(usize, &str, &str)> = image
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.compression == Some(crate::image::Compression::Zstd)
                    || l.media_type.as_deref().is_some_and(|m| {
                        !matches!(
                            LayerMedia::of(m),
                            LayerMedia::Gzip | LayerMedia::Uncompressed
                        )
                    })
            })
            .map(|(i, l)| {
                (
                    i + 1,
                    l.media_type.as_deref().unwrap_or("zstd"),
                    l.digest.as_str(),
                )
            })
            .collect();
        if let Some((first, _, digest)) = refused.first() {
            return lambda(
                NAME,
                Status::Fail,
                format!(
                    "{}: Lambda refuses the image with \"{}\"; only gzip layers are safe, and push --archive compresses only uncompressed ones (buildx: --output type=oci,compression=gzip,force-compression=true)",
                    refused
                        .iter()
                        .map(|(i, m, _)| format!("layer {i}/{of} {m} ({})", LayerMedia::of(m).as_str()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    LAYER_ERROR.replace("<digest>", digest)
                ),
            )
            .in_layer(Some(*first));
        }
        return lambda(
            NAME,
            Status::Pass,
            format!(
                "{of} layer{}: {} gzip, {plain} compressed with gzip on the way",
                if of == 1 { "" } else { "s" },
                of - plain
            ),
        );
    }
    if image.format == Format::DockerArchive || declared.is_empty() {
        return lambda(
            NAME,
            Status::Info,
            format!(
                "not applicable: a {} declares no layer media types (docker push compresses its layers with gzip; push reads back what the registry holds)",
                image.format.name()
            ),
        );
    }
    let of = image.layers.len();
    let bad: Vec<&(usize, &str, LayerMedia, &str)> = declared
        .iter()
        .filter(|(_, _, kind, _)| *kind != LayerMedia::Gzip)
        .collect();
    if bad.is_empty() {
        return lambda(
            NAME,
            Status::Pass,
            format!("{of} gzip layer{}", crate::text::plural(of, "", "s")),
        );
    }
    if image.format == Format::DockerArchiveOci
        && declared
            .iter()
            .all(|(_, _, kind, _)| *kind == LayerMedia::Uncompressed)
    {
        return lambda(
            NAME,
            Status::Info,
            "not applicable: docker save (classic image store) writes every layer uncompressed, and docker push compresses them with gzip; push reads back what the registry holds",
        );
    }
    let list = bad
        .iter()
        .map(|(i, m, kind, _)| format!("layer {i}/{of} {m} ({})", kind.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let first = bad.first().map(|(i, _, _, d)| (*i, *d));
    lambda(
        NAME,
        Status::Fail,
        format!(
            "{list}: Lambda refuses the image with \"{}\"; only gzip layers are safe (buildx: --output type=oci,compression=gzip,force-compression=true)",
            LAYER_ERROR.replace("<digest>", first.map_or("", |(_, d)| d))
        ),
    )
    .in_layer(first.map(|(i, _)| i))
}

/// Bytes shipped but never seen (files overwritten or deleted later), and rpm caches
/// left in the image.
fn wasted(image: &Image, options: &Options) -> Check {
    let mut cache_bytes = 0u64;
    for dir in ["/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"] {
        for (_, node) in image.index.subtree(dir) {
            if node.kind == NodeKind::File {
                cache_bytes += node.size;
            }
        }
    }
    let total = image.index.wasted_bytes + cache_bytes;
    let files = image.index.wasted_files;
    let mut parts = vec![format!(
        "{} in {files} file{} overwritten or deleted by later layers",
        human_bytes(image.index.wasted_bytes),
        crate::text::plural(files, "", "s")
    )];
    if cache_bytes > 0 {
        parts.push(format!(
            "{} of rpm caches left in /var/cache/yum or /var/cache/dnf (add `dnf clean all && rm -rf /var/cache/yum /var/cache/dnf` to the same RUN)",
            human_bytes(cache_bytes)
        ));
    }
    let top: Vec<String> = image
        .index
        .wasted_top
        .iter()
        .take(5)
        .map(|w| {
            format!(
                "{} ({}, layer {} → {} in layer {})",
                w.path,
                human_bytes(w.size),
                w.layer + 1,
                if w.deleted { "deleted" } else { "overwritten" },
                w.by_layer + 1
            )
        })
        .collect();
    if !top.is_empty() {
        parts.push(format!("largest: {}", top.join(", ")));
    }
    let status = if total > options.waste_threshold {
        Status::Warn
    } else {
        Status::Pass
    };
    lambda(
        "wasted-bytes",
        status,
        format!(
            "{} wasted (threshold {}): {}",
            human_bytes(total),
            human_bytes(options.waste_threshold),
            parts.join("; ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_handlers_split_after_the_last_slash() {
        assert_eq!(split_file_handler("app.handler"), Some(("app", "handler")));
        assert_eq!(
            split_file_handler("src/app.handler"),
            Some(("src/app", "handler"))
        );
        assert_eq!(
            split_file_handler("app.LambdaFunction::Handler.process"),
            Some(("app", "LambdaFunction::Handler.process"))
        );
        assert_eq!(split_file_handler("nodot"), None);
    }
}
