//! Build secrets: what `--secret` and a spec's `secrets:` say (an id and where its value
//! comes from, never the value), the secrets a Dockerfile's `RUN --mount=type=secret`
//! reads, the check before any build (a required secret that is not given, a given one
//! that cannot be read), and the values read for BuildKit's session at build time.
//!
//! Values live only in [`crate::docker::session::SecretValue`], which never shows them;
//! messages name ids, files and variables. The inputs hash takes the ids, so a rotated
//! token does not rebuild an image. Also `--ssh`: which SSH agents (their sockets, never a
//! key) `RUN --mount=type=ssh` may reach.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};

use crate::docker::buildkit::Secrets;
use crate::docker::session::SecretValue;
use crate::dockerfile::{self, Keyword};

/// BuildKit's limit on a secret's size.
pub const MAX_SECRET: u64 = 500 * 1024;

/// A secret to serve: its id and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub id: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Env(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// Reads `--secret` as buildx does: `id=ID,src=FILE`, `id=ID,env=VAR` (`source=` for `src=`,
/// `type=file|env` optional); `id=ID` alone reads the variable `ID` when it is set, else
/// the file `ID`.
pub fn parse(flag: &str) -> Result<Secret> {
    let bad =
        |why: &str| anyhow!("--secret {flag}: {why} (expected id=ID,src=FILE or id=ID,env=VAR)");
    let (mut id, mut src, mut env, mut kind) = (None, None, None, None);
    for field in flag.split(',') {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| bad(&format!("'{field}' is not key=value")))?;
        let value = value.to_string();
        match key.trim().to_ascii_lowercase().as_str() {
            "id" => id = Some(value),
            "src" | "source" => src = Some(value),
            "env" => env = Some(value),
            "type" => kind = Some(value),
            other => return Err(bad(&format!("unknown key '{other}'"))),
        }
    }
    let id = id.filter(|i| !i.is_empty()).ok_or_else(|| bad("no id"))?;
    check_id(&id).map_err(|m| bad(&m))?;
    let source = match (kind.as_deref(), src, env) {
        (_, Some(_), Some(_)) => return Err(bad("give src or env, not both")),
        (Some("env"), Some(v), None) | (_, None, Some(v)) => Source::Env(v),
        (None | Some("file"), Some(p), None) => Source::File(PathBuf::from(p)),
        (Some("file"), None, None) => Source::File(PathBuf::from(&id)),
        (Some("env"), None, None) => Source::Env(id.clone()),
        (None, None, None) => {
            if std::env::var_os(&id).is_some() {
                Source::Env(id.clone())
            } else {
                Source::File(PathBuf::from(&id))
            }
        }
        (Some(other), _, _) => return Err(bad(&format!("type '{other}' is not file or env"))),
    };
    if let Source::Env(v) = &source {
        if v.is_empty() {
            return Err(bad("env= names no variable"));
        }
    }
    Ok(Secret { id, source })
}

/// A secret id: what BuildKit accepts as a file name under `/run/secrets`.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !id.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{id}' is not a secret id (letters, digits, '-', '_', '.'; at most 128)"
        ))
    }
}

/// A `RUN --mount=type=secret` in a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: String,
    pub required: bool,
    /// 1-based line of the `RUN`.
    pub line: usize,
}

/// The secret mounts of `df`'s `RUN`s. The id defaults to the target's file name, as in
/// BuildKit.
pub fn mounts(df: &dockerfile::Dockerfile) -> Vec<Mount> {
    let mut out = Vec::new();
    for ins in df.instructions.iter().filter(|i| i.keyword == Keyword::Run) {
        let (line, _) = df.line_index.line_col(&df.source, ins.span.start);
        for flag in ins.flags.iter().filter(|f| f.name == "mount") {
            let Some(value) = &flag.value else { continue };
            let mut fields = std::collections::BTreeMap::new();
            for field in value.split(',') {
                let (k, v) = field.split_once('=').unwrap_or((field, "true"));
                fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
            if fields.get("type").map(String::as_str) != Some("secret") {
                continue;
            }
            let id = fields.get("id").cloned().or_else(|| {
                fields
                    .get("target")
                    .or(fields.get("dst"))
                    .or(fields.get("destination"))
                    .and_then(|t| t.rsplit('/').next().map(str::to_string))
            });
            let Some(id) = id.filter(|i| !i.is_empty()) else {
                continue;
            };
            let required = fields
                .get("required")
                .is_some_and(|v| matches!(v.as_str(), "true" | "1"));
            out.push(Mount { id, required, line });
        }
    }
    out
}

/// The secrets a build serves: a spec's first, then `--secret` (a later id wins).
pub fn merge(spec: &[Secret], flags: &[Secret]) -> Vec<Secret> {
    let mut out: Vec<Secret> = Vec::new();
    for s in spec.iter().chain(flags) {
        out.retain(|o| o.id != s.id);
        out.push(s.clone());
    }
    out
}

/// Before any build: every given secret can be read (so a typo in a path is not a silently
/// empty file, and one the Dockerfile does not mount fails here, not in each image's build),
/// and every required secret mount is given.
pub fn check(dockerfile_display: &str, mounts: &[Mount], given: &[Secret]) -> Result<()> {
    for s in given {
        read_one(s)?;
    }
    for m in mounts {
        match given.iter().find(|s| s.id == m.id) {
            Some(_) => {}
            None if m.required => bail!(
                "{dockerfile_display}: line {}: RUN --mount=type=secret,id={} is required and not given; pass --secret id={},src=FILE or id={},env=VAR",
                m.line,
                m.id,
                m.id,
                m.id
            ),
            None => {}
        }
    }
    Ok(())
}

/// The values of `secrets`, read now.
pub fn read(secrets: &[Secret]) -> Result<Secrets> {
    let mut out = Secrets::new();
    for s in secrets {
        out.insert(s.id.clone(), read_one(s)?);
    }
    Ok(out)
}

fn read_one(secret: &Secret) -> Result<SecretValue> {
    let bytes = match &secret.source {
        Source::Env(var) => match std::env::var_os(var) {
            Some(v) => v.into_encoded_bytes(),
            None => bail!(
                "secret {}: the environment variable {var} is not set",
                secret.id
            ),
        },
        Source::File(path) => {
            let io = |e: std::io::Error| {
                anyhow!(
                    "secret {}: {}: {}",
                    secret.id,
                    path.display(),
                    crate::config::io_message(&e)
                )
            };
            let len = std::fs::metadata(path).map_err(io)?.len();
            if len > MAX_SECRET {
                bail!(
                    "secret {}: {} is {len} bytes; BuildKit takes at most {MAX_SECRET}",
                    secret.id,
                    path.display()
                );
            }
            std::fs::read(path).map_err(io)?
        }
    };
    if bytes.len() as u64 > MAX_SECRET {
        bail!(
            "secret {}: {} is {} bytes; BuildKit takes at most {MAX_SECRET}",
            secret.id,
            secret.source,
            bytes.len()
        );
    }
    Ok(SecretValue::new(bytes))
}

/// One `--ssh` value (buildx's syntax, agents only): `default` or `ID` (the agent of
/// `$SSH_AUTH_SOCK`), `ID=SOCKET`. A key file is refused: load it into an agent.
pub fn parse_ssh(value: &str) -> Result<(String, std::path::PathBuf)> {
    let (id, path) = match value.split_once('=') {
        Some((id, path)) => (id, Some(path)),
        None => (value, None),
    };
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        bail!("--ssh {value}: `{id}` is not an ssh id (expected default, ID or ID=SOCKET)");
    }
    let path = match path {
        Some(p) if p.contains(',') => bail!(
            "--ssh {value}: key files are not supported, only an agent's socket; load the keys with ssh-add and pass the agent (--ssh {id})"
        ),
        Some(p) => std::path::PathBuf::from(p),
        None => match std::env::var_os("SSH_AUTH_SOCK").filter(|v| !v.is_empty()) {
            Some(p) => std::path::PathBuf::from(p),
            None => bail!(
                "--ssh {value}: SSH_AUTH_SOCK is not set; start an agent (eval \"$(ssh-agent)\"; ssh-add) or pass its socket (--ssh {id}=SOCKET)"
            ),
        },
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata(&path) {
            Ok(m) if m.file_type().is_socket() => {}
            Ok(_) => bail!(
                "--ssh {value}: {} is not an agent's socket (key files are not supported; load the key with ssh-add and pass the agent)",
                path.display()
            ),
            Err(e) => bail!("--ssh {value}: {}: {}", path.display(), crate::fs::io_message(&e)),
        }
    }
    Ok((id.to_string(), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildx_syntax_is_read_and_bad_flags_say_why() {
        assert_eq!(
            parse("id=npm,src=/tmp/npmrc").ok(),
            Some(Secret {
                id: "npm".into(),
                source: Source::File("/tmp/npmrc".into())
            })
        );
        assert_eq!(
            parse("id=tok,env=CODEARTIFACT_AUTH_TOKEN").ok(),
            Some(Secret {
                id: "tok".into(),
                source: Source::Env("CODEARTIFACT_AUTH_TOKEN".into())
            })
        );
        assert_eq!(
            parse("type=env,id=tok,source=T").ok().map(|s| s.source),
            Some(Source::Env("T".into()))
        );
        let err = |f: &str| parse(f).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err("src=/x"),
            "--secret src=/x: no id (expected id=ID,src=FILE or id=ID,env=VAR)"
        );
        assert!(err("id=a,src=x,env=Y").contains("not both"));
        assert!(err("id=a,mode=0400").contains("unknown key 'mode'"));
        assert!(err("id=../x,src=y").contains("is not a secret id"));
    }

    #[test]
    fn ssh_values_name_an_agent_socket() {
        let err = |v: &str| {
            parse_ssh(v)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err("bad id=/x").contains("is not an ssh id"));
        assert!(err("default=/no/such/socket")
            .starts_with("--ssh default=/no/such/socket: /no/such/socket: "));
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("id_ed25519");
        std::fs::write(&key, "key").expect("write");
        assert!(err(&format!("default={}", key.display())).contains("is not an agent's socket"));
        let sock = dir.path().join("agent.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        let (id, path) = parse_ssh(&format!("git={}", sock.display())).expect("socket");
        assert_eq!((id.as_str(), path), ("git", sock));
    }

    #[test]
    fn mounts_are_found_with_their_ids_and_requirement() {
        let df = dockerfile::parse(
            "FROM x\nRUN --mount=type=secret,id=a,required=true --mount=type=cache,target=/c \\\n  --mount=type=secret,target=/run/secrets/b cat /run/secrets/a\n",
        )
        .expect("parses");
        assert_eq!(
            mounts(&df),
            vec![
                Mount {
                    id: "a".into(),
                    required: true,
                    line: 2
                },
                Mount {
                    id: "b".into(),
                    required: false,
                    line: 2
                }
            ]
        );
        let missing = check("Dockerfile", &mounts(&df), &[]);
        assert_eq!(
            missing.err().map(|e| e.to_string()).unwrap_or_default(),
            "Dockerfile: line 2: RUN --mount=type=secret,id=a is required and not given; pass --secret id=a,src=FILE or id=a,env=VAR"
        );
        let unread = check(
            "Dockerfile",
            &mounts(&df),
            &[
                Secret {
                    id: "a".into(),
                    source: Source::File("/dev/null".into()),
                },
                Secret {
                    id: "b".into(),
                    source: Source::Env("LAMBDA_IMAGE_TEST_SURELY_UNSET".into()),
                },
            ],
        );
        assert_eq!(
            unread.err().map(|e| e.to_string()).unwrap_or_default(),
            "secret b: the environment variable LAMBDA_IMAGE_TEST_SURELY_UNSET is not set"
        );
    }
}
