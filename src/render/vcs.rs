//! Git provenance for the OCI labels: remote, commit and commit time (never the wall clock, so
//! a render of the same commit is the same text).

use std::path::Path;
use std::process::Command;

/// What git says about the spec's folder; each field is `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vcs {
    /// `org.opencontainers.image.source`: the `origin` remote as an https URL, credentials removed.
    pub source: Option<String>,
    /// `org.opencontainers.image.revision`: `HEAD`'s commit id.
    pub revision: Option<String>,
    /// `org.opencontainers.image.created`: `HEAD`'s commit time, RFC 3339 in UTC.
    pub created: Option<String>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("TZ", "UTC")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_control) {
        return None;
    }
    Some(text.to_string())
}

impl Vcs {
    /// Asks git about `dir`; anything git cannot answer (no git, no repository, no remote) is
    /// left out. A folder outside any repository costs no git process, and the folders of
    /// one repository ask git once (the answer is the repository's, not the folder's).
    pub fn from_git(dir: &Path) -> Vcs {
        let Some(root) = repository_of(dir) else {
            return Vcs::default();
        };
        static KNOWN: std::sync::Mutex<Vec<(std::path::PathBuf, Vcs)>> =
            std::sync::Mutex::new(Vec::new());
        if let Some(found) = KNOWN
            .lock()
            .ok()
            .and_then(|k| k.iter().find(|(r, _)| *r == root).map(|(_, v)| v.clone()))
        {
            return found;
        }
        let source = git(dir, &["remote", "get-url", "origin"]).and_then(|u| normalize_remote(&u));
        let head = git(
            dir,
            &[
                "log",
                "-1",
                "--format=%H %cd",
                "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
                "HEAD",
            ],
        );
        let (revision, created) = match head.as_deref().and_then(|h| h.split_once(' ')) {
            Some((r, t)) if r.len() >= 40 && r.chars().all(|c| c.is_ascii_hexdigit()) => (
                Some(r.to_string()),
                Some(t.to_string()).filter(|t| t.len() == 20 && t.ends_with('Z')),
            ),
            _ => (None, None),
        };
        let vcs = Vcs {
            source,
            revision,
            created,
        };
        if let Ok(mut known) = KNOWN.lock() {
            known.push((root, vcs.clone()));
        }
        vcs
    }
}

/// The folder holding `.git` (a folder, or a file for worktrees and submodules) at or
/// above `dir`, as git finds it.
fn repository_of(dir: &Path) -> Option<std::path::PathBuf> {
    let start = std::path::absolute(dir).ok()?;
    if std::env::var_os("GIT_DIR").is_some() {
        // git is told where the repository is: ask it.
        return Some(start);
    }
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `git@host:owner/repo.git`, `ssh://git@host/owner/repo`, `https://user:token@host/owner/repo.git`
/// → `https://host/owner/repo`. Local paths and unknown schemes give `None`.
pub fn normalize_remote(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, path) = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("ssh://"))
        .or_else(|| url.strip_prefix("git://"))
    {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        // ssh://host:22/… : drop an ssh port; keep an https one.
        let host = if url.starts_with("ssh://") || url.starts_with("git://") {
            host.split(':').next()?
        } else {
            host
        };
        (host.to_string(), path.to_string())
    } else if !url.contains("://") && url.contains(':') && !url.starts_with('/') {
        // scp-like: [user@]host:path
        let (authority, path) = url.split_once(':')?;
        let host = authority.rsplit('@').next()?;
        (host.to_string(), path.to_string())
    } else {
        return None;
    };
    let path = path.trim_start_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '~')
            })
    };
    if !ok(&host) || !ok(path) {
        return None;
    }
    Some(format!("https://{host}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::normalize_remote;

    #[test]
    fn remotes() {
        for (input, want) in [
            (
                "git@github.com:acme/orders.git",
                Some("https://github.com/acme/orders"),
            ),
            (
                "https://github.com/acme/orders.git",
                Some("https://github.com/acme/orders"),
            ),
            (
                "https://x-access-token:secret@github.com/acme/orders",
                Some("https://github.com/acme/orders"),
            ),
            (
                "ssh://git@gitlab.example.com:2222/team/orders.git",
                Some("https://gitlab.example.com/team/orders"),
            ),
            ("/srv/git/orders.git", None),
            ("file:///srv/git/orders.git", None),
            ("https://github.com/acme/\"orders", None),
        ] {
            assert_eq!(normalize_remote(input).as_deref(), want, "{input}");
        }
    }
}
