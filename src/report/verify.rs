//! Renderers for `lambda-image verify`: text, JSON, JUnit, GitHub annotations.
//!
//! JSON schema (`"schema": "lambda-image/verify-report/v1"`), stable:
//! ```text
//! {
//!   "schema": "lambda-image/verify-report/v1",
//!   "image": {
//!     "source": "image.tar", "format": "docker-archive" | "docker-archive-oci" | "oci-archive" | "oci-layout",
//!     "digest": "sha256:…" | null,        // image manifest digest (null for classic docker-archive)
//!     "config_digest": "sha256:…",        // the image id
//!     "tags": ["name:tag"], "os": "linux", "architecture": "amd64",
//!     "size": 123,                        // uncompressed bytes, all layers
//!     "files": 456,                       // entries in the merged filesystem
//!     "layers": [{"digest", "diff_id", "media_type"?, "compression": "plain"|"gzip"|"zstd", "size", "uncompressed_size", "files"}],
//!     "platform": {"nested_index": false, "platforms": ["linux/amd64"], "attestations": 0}
//!   },
//!   "summary": {"total", "pass", "fail", "warn", "skip", "info"},
//!   "checks": [{"name", "kind": "digest"|"image"|"lambda"|"manifest"|"structure-test",
//!               "status": "pass"|"fail"|"warn"|"skip"|"info", "message", "path"?, "layer"? (1-based)}]
//! }
//! ```

use std::fmt::Write as _;

use anyhow::Result;
use serde::Serialize;

use crate::cli::VerifyFormat;
use crate::image::{Image, LayerInfo, PlatformInfo};
use crate::verify::{human_bytes, mentions, Check, Kind, Status};

pub const SCHEMA: &str = "lambda-image/verify-report/v1";

#[derive(Debug, Serialize)]
pub struct ImageSummary {
    pub source: String,
    pub format: &'static str,
    pub digest: Option<String>,
    pub config_digest: String,
    pub tags: Vec<String>,
    pub os: String,
    pub architecture: String,
    pub size: u64,
    pub files: usize,
    pub layers: Vec<LayerInfo>,
    pub platform: PlatformInfo,
}

impl ImageSummary {
    pub fn of(image: &Image) -> ImageSummary {
        ImageSummary {
            source: image.source.to_string(),
            format: image.format.name(),
            digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            tags: image.tags.clone(),
            os: image.config.os.clone(),
            architecture: image.config.architecture.clone(),
            size: image.size,
            files: image.index.len(),
            layers: image.layers.clone(),
            platform: image.platform.clone(),
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub info: usize,
}

impl Summary {
    pub fn of(checks: &[Check]) -> Summary {
        let mut s = Summary {
            total: checks.len(),
            ..Summary::default()
        };
        for c in checks {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Warn => s.warn += 1,
                Status::Skip => s.skip += 1,
                Status::Info => s.info += 1,
            }
        }
        s
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    image: ImageSummary,
    summary: Summary,
    checks: &'a [Check],
}

pub struct RenderOptions {
    pub color: bool,
    /// Text: only failures, warnings and the summary.
    pub quiet: bool,
}

pub fn render(
    format: VerifyFormat,
    image: &Image,
    checks: &[Check],
    options: &RenderOptions,
) -> Result<String> {
    match format {
        VerifyFormat::Text => Ok(text(image, checks, options)),
        VerifyFormat::Json => json(image, checks),
        VerifyFormat::Junit => junit(image, checks),
        VerifyFormat::Github => Ok(github(checks)),
    }
}

pub fn json(image: &Image, checks: &[Check]) -> Result<String> {
    let report = JsonReport {
        schema: SCHEMA,
        image: ImageSummary::of(image),
        summary: Summary::of(checks),
        checks,
    };
    let mut out = serde_json::to_string_pretty(&report)?;
    out.push('\n');
    Ok(out)
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn symbol(status: Status, color: bool) -> String {
    match status {
        Status::Pass => paint(color, "32", "✓"),
        Status::Fail => paint(color, "31;1", "✗"),
        Status::Warn => paint(color, "33", "!"),
        Status::Skip => paint(color, "2", "-"),
        Status::Info => paint(color, "36", "i"),
    }
}

/// Characters that can continue a path: a mention of `/var/task` inside
/// `/var/task/app.py` is not a mention of `/var/task`.
/// `<mark> <name>: <message> (<path>) [layer N]`; the path is left out when the message
/// already names it.
fn line(check: &Check, color: bool) -> String {
    let layer = check
        .layer
        .map(|l| paint(color, "2", &format!(" [layer {l}]")))
        .unwrap_or_default();
    format!(
        "  {} {}: {}{layer}",
        symbol(check.status, color),
        paint(color, "1", &check.name),
        check.located()
    )
}

pub fn text(image: &Image, checks: &[Check], options: &RenderOptions) -> String {
    let color = options.color;
    let mut out = String::new();
    let platform = format!("{}/{}", image.config.os, image.config.architecture);
    let _ = writeln!(
        out,
        "{} {} ({}, {platform}, {} layer{}, {} uncompressed, {} files)",
        paint(color, "1", "verify"),
        image.source,
        image.format.name(),
        image.layers.len(),
        crate::text::plural(image.layers.len(), "", "s"),
        human_bytes(image.size),
        image.index.len()
    );
    let mut kinds: Vec<Kind> = checks.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let shown: Vec<&Check> = checks
            .iter()
            .filter(|c| c.kind == kind)
            .filter(|c| !options.quiet || matches!(c.status, Status::Fail | Status::Warn))
            .collect();
        if shown.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", paint(color, "1", kind.title()));
        for c in shown {
            let _ = writeln!(out, "{}", line(c, color));
        }
    }
    let s = Summary::of(checks);
    let verdict = if s.fail > 0 {
        paint(color, "31;1", "FAIL")
    } else {
        paint(color, "32;1", "PASS")
    };
    let _ = writeln!(
        out,
        "\n{verdict}: {} checks: {} passed, {} failed, {} warnings, {} skipped, {} info",
        s.total, s.pass, s.fail, s.warn, s.skip, s.info
    );
    out
}

/// GitHub workflow command escaping: data.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow command escaping: properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn github(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let level = match c.status {
            Status::Fail => "error",
            Status::Warn => "warning",
            _ => continue,
        };
        let subject = match &c.path {
            Some(p) if !mentions(&c.message, p) => format!("{p}: "),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "::{level} title={}::{}",
            escape_property(&format!("lambda-image verify {}", c.name)),
            escape_data(&format!("{subject}{}", c.message))
        );
    }
    let s = Summary::of(checks);
    let _ = writeln!(
        out,
        "lambda-image verify: {} checks: {} passed, {} failed, {} warnings, {} skipped, {} info",
        s.total, s.pass, s.fail, s.warn, s.skip, s.info
    );
    out
}

pub fn junit(image: &Image, checks: &[Check]) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("lambda-image verify");
    let mut kinds: Vec<Kind> = checks.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let mut suite = TestSuite::new(format!("{} {}", image.source, kind.as_str()));
        for c in checks.iter().filter(|c| c.kind == kind) {
            let status = match c.status {
                Status::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(c.message.clone());
                    s
                }
                Status::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(c.message.clone());
                    s
                }
                _ => TestCaseStatus::success(),
            };
            let name = match &c.path {
                Some(p) => format!("{} {p}", c.name),
                None => c.name.clone(),
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("lambda-image.verify.{}", kind.as_str()));
            if matches!(c.status, Status::Pass | Status::Warn | Status::Info) {
                case.set_system_out(format!("{}: {}", c.status.as_str(), c.message));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    Ok(report.to_string()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_annotations_name_the_path_once() {
        let named = Check::new(
            Kind::Lambda,
            "permissions",
            Status::Fail,
            "others cannot reach /var/task/app.py: /var/task not searchable",
        )
        .at("/var/task/app.py");
        let unnamed = Check::new(
            Kind::Lambda,
            "permissions",
            Status::Fail,
            "not readable by others (needs o+r): mode 0600",
        )
        .at("/var/task/app.py");
        let out = github(&[named, unnamed]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some("::error title=lambda-image verify permissions::others cannot reach /var/task/app.py: /var/task not searchable")
        );
        assert_eq!(
            lines.get(1).copied(),
            Some("::error title=lambda-image verify permissions::/var/task/app.py: not readable by others (needs o+r): mode 0600")
        );
    }

    #[test]
    fn a_path_is_mentioned_only_as_a_whole() {
        assert!(mentions(
            "app.handler → /var/task/app.py (Python module)",
            "/var/task/app.py"
        ));
        assert!(mentions("/var/task/app.py is missing.", "/var/task/app.py"));
        assert!(!mentions("found /var/task/app.py", "/var/task"));
        assert!(!mentions("found /var/task/app.pyc", "/var/task/app.py"));
        assert!(!mentions("found /var/task/app.py.bak", "/var/task/app.py"));
        assert!(!mentions("found x/var/task", "/var/task"));
        assert!(!mentions("uid is 1000, not 0", "/var/task/data.txt"));
    }

    #[test]
    fn name_then_message_then_the_path_not_already_named() {
        let check = |message: &str| {
            Check::new(Kind::StructureTest, "owned by 0", Status::Fail, message)
                .at("/var/task/data.txt")
                .in_layer(Some(2))
        };
        assert_eq!(
            line(&check("uid is 1000, not 0"), false),
            "  ✗ owned by 0: uid is 1000, not 0 (/var/task/data.txt) [layer 2]"
        );
        assert_eq!(
            line(&check("/var/task/data.txt is not a file"), false),
            "  ✗ owned by 0: /var/task/data.txt is not a file [layer 2]"
        );
    }
}
