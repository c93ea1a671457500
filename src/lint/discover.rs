//! Which files `lint` reads and how: the Dockerfiles named on the command line or found under
//! a directory (by name, as BuildKit, Podman and common repositories name them), each with the
//! path as reported, and their bytes read (capped) and decoded to text, a binary file or invalid
//! UTF-8 refused with its position. Nothing here prints: problems come back as messages for the
//! command to report.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use crate::fs::io_message;

/// One input to lint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// The path as reported.
    pub display: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
}

/// What [`discover`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    /// The files to lint, sorted by reported path, without duplicates.
    pub inputs: Vec<Input>,
    /// Paths that could not be linted (missing, a device, a directory without Dockerfiles), one
    /// message each, in the order met.
    pub errors: Vec<String>,
}

/// Expands the command-line paths into the files to lint (`-` is standard input, reported as
/// `stdin_name`), walking directories for Dockerfiles.
pub fn discover(paths: &[PathBuf], stdin_name: &str) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input {
                display: stdin_name.to_string(),
                path: None,
            });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = found.inputs.len();
                walk(path, &mut found);
                if found.inputs.len() == before {
                    found.errors.push(format!(
                        "{}: no Dockerfiles found (looked for Dockerfile, Dockerfile.*, \
                         Dockerfile-*, Dockerfile_*, *.Dockerfile and the same with \
                         Containerfile, in any case)",
                        display_path(path)
                    ));
                }
            }
            Ok(meta) if is_device(&meta) => found.errors.push(format!(
                "{}: not a regular file (a device), not a Dockerfile",
                display_path(path)
            )),
            Ok(_) => found.inputs.push(Input {
                display: display_path(path),
                path: Some(path.clone()),
            }),
            Err(err) => found
                .errors
                .push(format!("{}: {}", display_path(path), io_message(&err))),
        }
    }
    found.inputs.sort();
    found.inputs.dedup();
    found
}

/// A character or block device, or a socket: never a Dockerfile (`/dev/zero` would never end).
/// Pipes are read (`lint <(generate-dockerfile)`).
fn is_device(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        t.is_char_device() || t.is_block_device() || t.is_socket()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Recursively adds the Dockerfiles under `dir`, skipping hidden directories, `target` and
/// `node_modules`, and not following symlinked directories.
fn walk(dir: &Path, found: &mut Discovered) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            found
                .errors
                .push(format!("{}: {}", display_path(dir), io_message(&err)));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                walk(&path, found);
            }
        } else if is_dockerfile_name(&name) {
            let is_file = file_type.is_file()
                || (file_type.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
            if is_file {
                found.inputs.push(Input {
                    display: display_path(&path),
                    path: Some(path),
                });
            }
        }
    }
}

/// Extensions after `Dockerfile.`/`Containerfile.` that mark something other than a Dockerfile:
/// BuildKit's per-Dockerfile ignore files, templates rendered into one, documentation, data,
/// scripts, and editor or merge leftovers.
const NOT_DOCKERFILE: &[&str] = &[
    "dockerignore",
    "j2",
    "jinja",
    "jinja2",
    "tmpl",
    "tpl",
    "template",
    "in",
    "erb",
    "mustache",
    "hbs",
    "md",
    "txt",
    "rst",
    "adoc",
    "html",
    "json",
    "yaml",
    "yml",
    "toml",
    "xml",
    "sh",
    "bash",
    "ps1",
    "py",
    "js",
    "ts",
    "lock",
    "log",
    "bak",
    "orig",
    "rej",
    "swp",
    "tmp",
    "old",
    "patch",
    "diff",
];

/// Last name parts (after `.`, `-` or `_`) of a copy kept aside: `Dockerfile-old`,
/// `Dockerfile_backup`, `Containerfile.orig`.
const BACKUP: &[&str] = &["old", "bak", "backup", "orig", "copy", "save", "tmp", "swp"];

/// The names BuildKit, Podman/Buildah and common repositories give Dockerfiles, in any case:
/// `Dockerfile` and `Containerfile`; with a suffix after `.`, `-` or `_` (`Dockerfile.al2`,
/// `Dockerfile-lambda`, `Containerfile_prod`); with a prefix before `.dockerfile` or
/// `.containerfile` (`api.Dockerfile`, `worker.Containerfile`). Not: BuildKit's
/// `*.dockerignore` files, nor names whose last extension marks a template, documentation,
/// data, a script or a backup (`Dockerfile.j2`, `Dockerfile.md`, `Containerfile.bak`,
/// `Dockerfile-old`).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let last_ext = lower.rsplit_once('.').map(|(_, ext)| ext);
    let last_part = lower.rsplit(['.', '-', '_']).next().unwrap_or("");
    if lower.ends_with('~')
        || last_ext.is_some_and(|ext| NOT_DOCKERFILE.contains(&ext))
        || (last_part.len() < lower.len() && BACKUP.contains(&last_part))
    {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower.ends_with(&format!(".{base}"))
            || lower
                .strip_prefix(base)
                .and_then(|rest| rest.strip_prefix(['.', '-', '_']))
                .is_some_and(|suffix| !suffix.is_empty())
    })
}

/// The path as the user wrote it, without a leading `./`, with `/` separators.
pub fn display_path(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut leading = true;
    let mut absolute = false;
    for component in path.components() {
        match component {
            Component::CurDir if leading => {}
            Component::RootDir => absolute = true,
            other => {
                leading = false;
                parts.push(other.as_os_str().to_string_lossy().into_owned());
            }
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The largest input read: Dockerfiles are kilobytes; this keeps `/dev/zero`-like inputs (or a
/// pipe that never ends) from exhausting memory.
pub const MAX_INPUT: u64 = 16 << 20;

/// Reads all of `reader`, or `None` when it holds more than [`MAX_INPUT`] bytes.
fn read_capped(reader: impl std::io::Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    reader.take(MAX_INPUT + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= MAX_INPUT).then_some(buf))
}

/// An input read.
#[derive(Debug)]
pub enum Read {
    /// Its text.
    Text(String),
    /// Read, but not text (binary, not UTF-8): the finding to report, at the end of `prefix`.
    NotText(Unreadable),
    /// Not read at all (missing, unreadable, too large): the message to report.
    Failed(String),
}

/// Reads one input (standard input for `-`), at most [`MAX_INPUT`] bytes, and decodes it.
pub fn read(input: &Input) -> Read {
    let read = match &input.path {
        None => read_capped(std::io::stdin().lock()),
        Some(path) => std::fs::File::open(path).and_then(read_capped),
    };
    match read {
        Ok(Some(bytes)) => match decode(bytes) {
            Ok(text) => Read::Text(text),
            Err(unreadable) => Read::NotText(unreadable),
        },
        Ok(None) => Read::Failed(format!(
            "{}: larger than {} MiB, not a Dockerfile",
            input.display,
            MAX_INPUT >> 20
        )),
        Err(err) => Read::Failed(format!("{}: {}", input.display, io_message(&err))),
    }
}

/// Why a file is not text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub message: String,
    /// The readable text before the offending byte (positions are computed over it).
    pub prefix: String,
}

/// Bytes → text: a NUL byte (binary file) or invalid UTF-8 is refused, with its position.
pub fn decode(bytes: Vec<u8>) -> Result<String, Unreadable> {
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let prefix = String::from_utf8_lossy(bytes.get(..nul).unwrap_or_default()).into_owned();
        let (line, column) = line_col(&prefix);
        return Err(Unreadable {
            message: format!(
                "binary file (NUL byte at line {line}, column {column}), not a Dockerfile"
            ),
            prefix,
        });
    }
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.into_bytes();
        let bad = bytes.get(valid).copied().unwrap_or(0);
        let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default()).into_owned();
        let (line, column) = line_col(&prefix);
        Unreadable {
            message: format!("not valid UTF-8 (byte 0x{bad:02X} at line {line}, column {column})"),
            prefix,
        }
    })
}

/// 1-based line and character column of the end of `text`.
fn line_col(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    let column = last.trim_start_matches('\u{feff}').chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "DOCKERFILE",
            "Containerfile",
            "containerfile",
            "api.Dockerfile",
            "x.dockerfile",
            "worker.Containerfile",
            "web.containerfile",
            "Dockerfile.al2",
            "dockerfile.dev",
            "Dockerfile-lambda",
            "Dockerfile_prod",
            "Containerfile.arm64",
            "Containerfile-worker",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            "dockerfile.txt",
            "Dockerfile.md",
            "Dockerfile.j2",
            "python.Dockerfile.j2",
            "Dockerfile.dockerignore",
            "api.Dockerfile.dockerignore",
            "Dockerfile~",
            "README.md",
            "Containerfile.bak",
            "Dockerfile-old",
            "dockerfile_backup",
            "Dockerfile.",
            "Dockerfile-",
            "Dockerfiles",
            "dockerfile_lint.json",
            "mydockerfile",
            "docker-compose.yml",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn display_paths_drop_leading_dot() {
        assert_eq!(display_path(Path::new("./a/Dockerfile")), "a/Dockerfile");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("/x/./y")), "/x/y");
    }

    #[test]
    fn decode_reports_positions() {
        let err = decode(b"FROM a\nRUN \xff".to_vec()).err();
        assert!(err.is_some_and(|e| e.message.contains("0xFF at line 2, column 5")));
        let err = decode(b"FROM a\n\0".to_vec()).err();
        assert!(err.is_some_and(|e| e.message.contains("line 2, column 1")));
    }
}
