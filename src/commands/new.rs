//! `lambda-image new <dir> --runtime <id>`: scaffolds an image spec, a handler, the
//! runtime's dependency manifest and a verify manifest (the spec's `verify:`) with what that
//! runtime's handler needs, ready to render, lint clean and build.
//!
//! The folder is assembled in a temporary folder next to the target, checked (the spec loads
//! and renders), then renamed into place: an existing folder is never touched, and a failure
//! leaves nothing behind.

use std::path::Path;

use anyhow::Context as _;

use crate::cli::NewArgs;
use crate::commands::ExitStatus;
use crate::image_spec::{self as spec, Family};
use crate::progress::Printer;

/// One scaffold file: path in the new folder, text, executable, rendered with minijinja.
struct File {
    path: &'static str,
    text: &'static str,
    executable: bool,
    template: bool,
}

const fn file(path: &'static str, text: &'static str) -> File {
    File {
        path,
        text,
        executable: false,
        template: false,
    }
}

const fn templated(path: &'static str, text: &'static str) -> File {
    File {
        path,
        text,
        executable: false,
        template: true,
    }
}

macro_rules! scaffold {
    ($dir:literal, $file:literal) => {
        include_str!(concat!("../../templates/new/", $dir, "/", $file))
    };
}

fn files(family: Family) -> Vec<File> {
    match family {
        Family::Python => vec![
            templated("image.yaml", scaffold!("python", "image.yaml")),
            file("manifest.yaml", scaffold!("python", "manifest.yaml")),
            file("app.py", scaffold!("python", "app.py")),
            file("requirements.txt", scaffold!("python", "requirements.txt")),
        ],
        Family::Nodejs => vec![
            templated("image.yaml", scaffold!("nodejs", "image.yaml")),
            file("manifest.yaml", scaffold!("nodejs", "manifest.yaml")),
            file("app.mjs", scaffold!("nodejs", "app.mjs")),
            file("package.json", scaffold!("nodejs", "package.json")),
            file(
                "package-lock.json",
                scaffold!("nodejs", "package-lock.json"),
            ),
        ],
        Family::Ruby => vec![
            templated("image.yaml", scaffold!("ruby", "image.yaml")),
            file("manifest.yaml", scaffold!("ruby", "manifest.yaml")),
            file("app.rb", scaffold!("ruby", "app.rb")),
            file("Gemfile", scaffold!("ruby", "Gemfile")),
            file("Gemfile.lock", scaffold!("ruby", "Gemfile.lock")),
        ],
        Family::Java => vec![
            templated("image.yaml", scaffold!("java", "image.yaml")),
            file("manifest.yaml", scaffold!("java", "manifest.yaml")),
            templated("pom.xml", scaffold!("java", "pom.xml")),
            file(
                "src/main/java/example/Handler.java",
                scaffold!("java", "src/main/java/example/Handler.java"),
            ),
        ],
        Family::Dotnet => vec![
            templated("image.yaml", scaffold!("dotnet", "image.yaml")),
            file("manifest.yaml", scaffold!("dotnet", "manifest.yaml")),
            templated("Hello.csproj", scaffold!("dotnet", "Hello.csproj")),
            file("Function.cs", scaffold!("dotnet", "Function.cs")),
        ],
        Family::Provided => vec![
            templated("image.yaml", scaffold!("provided", "image.yaml")),
            file("manifest.yaml", scaffold!("provided", "manifest.yaml")),
            File {
                path: "bootstrap",
                text: scaffold!("provided", "bootstrap"),
                executable: true,
                template: false,
            },
            file("function.sh", scaffold!("provided", "function.sh")),
        ],
    }
}

pub fn run(args: NewArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let dir = &args.dir;
    let runtime = spec::runtime::lookup(&args.runtime).ok_or_else(|| {
        anyhow::anyhow!(
            "--runtime: {}",
            spec::runtime::unknown_message(&args.runtime)
        )
    })?;
    refuse_existing(dir)?;
    let name_ok = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !n.starts_with('.')
    });
    if !name_ok {
        anyhow::bail!(
            "{}: the folder name is the image's name; use letters, digits, '-', '_' and '.'",
            dir.display()
        );
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".lambda-image-new-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a temporary folder in {}", parent.display()))?;
    let written = write_scaffold(staging.path(), runtime, dir, printer)?;

    // The scaffold must load and render, and its manifest load; this guards the built-in files.
    let spec = spec::load(staging.path())?;
    crate::render::render(&spec, &crate::render::Options::default())?;
    crate::verify::manifest::load(&staging.path().join("manifest.yaml"))?;
    printer.detail("lambda-image: checked: the spec loads and renders, and its manifest loads");

    refuse_existing(dir)?;
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("creating {}", dir.display()));
    }
    if !printer.quiet() {
        printer.line(&format!(
            "created {} ({}): {}",
            dir.display(),
            runtime.id,
            written.join(", ")
        ));
        printer.line(&format!(
            "next: lambda-image build {} (or lambda-image render {} to see its Dockerfile)",
            dir.display(),
            dir.display()
        ));
    }
    Ok(ExitStatus::Success)
}

fn refuse_existing(dir: &Path) -> anyhow::Result<()> {
    if dir.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{}: already exists; `new` creates a folder and never overwrites one",
            dir.display()
        );
    }
    Ok(())
}

/// Writes the runtime's scaffold files into `staging` (templates rendered, modes set) and
/// the folder itself readable by all; returns their paths. `dir` is where they will be, for
/// the `-v` lines.
fn write_scaffold(
    staging: &Path,
    runtime: &spec::Runtime,
    dir: &Path,
    printer: &Printer,
) -> anyhow::Result<Vec<&'static str>> {
    // The Java release and the .NET target framework are the base image's version (java21 →
    // 21, dotnet10 → net10.0); each family's scaffold uses only its own.
    let java_release = runtime.tag;
    let dotnet_framework = format!("net{}.0", runtime.tag);
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| anyhow::anyhow!("scaffold syntax settings: {e}"))?,
    );
    let ctx = minijinja::context! {
        runtime => runtime.id,
        java_release => java_release,
        dotnet_framework => dotnet_framework,
    };
    let mut written = Vec::new();
    for f in files(runtime.family) {
        let text = if f.template {
            env.render_str(f.text, &ctx)
                .map_err(|e| anyhow::anyhow!("scaffold {}: {e}", f.path))?
        } else {
            f.text.to_string()
        };
        let path = staging.join(f.path);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
        }
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        let mode: u32 = if f.executable { 0o755 } else { 0o644 };
        set_mode(&path, mode)?;
        printer.detail(format!(
            "lambda-image: {} ({:o}, {} bytes)",
            dir.join(f.path).display(),
            mode,
            text.len()
        ));
        written.push(f.path);
    }
    set_mode(staging, 0o755)?;
    Ok(written)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
