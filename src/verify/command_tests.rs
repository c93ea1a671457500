//! container-structure-test `commandTests`, run as container-structure-test's docker driver
//! runs them: each in a new container of the image (its ENTRYPOINT cleared, `command` and
//! `args` as the CMD, the image's user, `globalEnvVars` and the test's `envVars` over the
//! image's Env), its exit code, standard output and standard error checked against the test.
//! Only an image in the Docker Engine can be run; each container is removed afterwards.

use std::collections::BTreeMap;
use std::time::Duration;

use regex::Regex;

use super::manifest::{CommandTest, CstConfig};
use super::{expand, Check, Kind, Status};
use crate::cancel::Cancel;
use crate::docker::{ContainerSpec, Ended, Engine, Stream};

/// How long one command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs every commandTest of `config` in containers of `image`; `env` is the image's Env
/// (for `${VAR}` in the tests' values).
pub fn run(
    engine: &Engine,
    image: &str,
    config: &CstConfig,
    env: &BTreeMap<String, String>,
    cancel: &Cancel,
) -> anyhow::Result<Vec<Check>> {
    let mut out = Vec::new();
    for (n, test) in config.command_tests.iter().enumerate() {
        cancel.check()?;
        out.push(one(engine, image, config, test, n, env, cancel)?);
    }
    Ok(out)
}

fn one(
    engine: &Engine,
    image: &str,
    config: &CstConfig,
    test: &CommandTest,
    n: usize,
    env: &BTreeMap<String, String>,
    cancel: &Cancel,
) -> anyhow::Result<Check> {
    let check = |status: Status, message: String| {
        Check::new(Kind::StructureTest, &test.name, status, message)
    };
    if !test.setup.is_empty() {
        return Ok(check(
            Status::Fail,
            "setup commands are not supported (container-structure-test commits their result first); run them in the command".into(),
        ));
    }
    let mut vars: Vec<String> = Vec::new();
    for kv in config.global_env_vars.iter().chain(&test.env_vars) {
        let value = expand(&kv.value, env).unwrap_or_else(|_| kv.value.clone());
        vars.push(format!("{}={value}", kv.key));
    }
    let mut cmd = vec![test.command.clone()];
    cmd.extend(test.args.iter().cloned());
    let spec = ContainerSpec {
        image: image.to_string(),
        name: format!("lambda-image-verify-{}-{n}", std::process::id()),
        user: String::new(),
        env: vars,
        entrypoint: Some(Vec::new()),
        cmd: Some(cmd),
        memory_bytes: 0,
        tmpfs: Vec::new(),
        read_only_root: false,
        host_network: false,
        labels: vec![("lambda-image.verify".into(), test.name.clone())],
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    let finished = match engine.run_container(
        &spec,
        &mut |stream, line| {
            let to = match stream {
                Stream::Stdout => &mut stdout,
                Stream::Stderr => &mut stderr,
            };
            to.push_str(&line);
            to.push('\n');
        },
        &mut || {},
        async { tokio::time::sleep(COMMAND_TIMEOUT).await },
        cancel,
    ) {
        Ok(finished) => finished,
        Err(e) if crate::cancel::is_interrupted(&e) => return Err(e),
        // Such as an image of another architecture on an engine that cannot run it.
        Err(e) => {
            return Ok(check(
                Status::Fail,
                format!("could not run `{}`: {e:#}", test.command),
            ))
        }
    };
    let code = match finished.ended {
        Ended::Interrupted => return Err(cancel.interrupted().into()),
        Ended::Done(()) => {
            return Ok(check(
                Status::Fail,
                format!(
                    "`{}` did not finish within {} s",
                    test.command,
                    COMMAND_TIMEOUT.as_secs()
                ),
            ))
        }
        Ended::Exited(code) => code,
    };
    let mut problems = Vec::new();
    if code != test.exit_code {
        problems.push(format!("exit code {code}, expected {}", test.exit_code));
    }
    for (patterns, text, want, what) in [
        (&test.expected_output, &stdout, true, "output"),
        (&test.excluded_output, &stdout, false, "output"),
        (&test.expected_error, &stderr, true, "error"),
        (&test.excluded_error, &stderr, false, "error"),
    ] {
        for pattern in patterns {
            match Regex::new(pattern) {
                Err(e) => problems.push(format!("{pattern:?} is not a regular expression: {e}")),
                Ok(re) if re.is_match(text) != want => problems.push(if want {
                    format!("{what} does not match {pattern:?}")
                } else {
                    format!("{what} matches the excluded {pattern:?}")
                }),
                Ok(_) => {}
            }
        }
    }
    let shown = |text: &str| {
        let t = text.trim_end();
        let mut short: String = t.chars().take(200).collect();
        if short.len() < t.len() {
            short.push('…');
        }
        format!("{short:?}")
    };
    Ok(if problems.is_empty() {
        check(Status::Pass, format!("`{}` exited {code}", test.command))
    } else {
        check(
            Status::Fail,
            format!(
                "`{}`: {}; stdout {}, stderr {}",
                test.command,
                problems.join("; "),
                shown(&stdout),
                shown(&stderr)
            ),
        )
    })
}
