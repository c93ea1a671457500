//! `lambda-image build` on the engine's BuildKit (this machine's Docker 20.10, builtin
//! BuildKit v0.8), as a user runs it: a uv-guide Dockerfile (cache and bind mounts, a
//! stage used as a mount source, `COPY --chmod`), secrets that reach their `RUN` and
//! nowhere else, missing secrets, what the builtin frontend cannot run, `auto` choosing
//! BuildKit (the registry cache is in `buildkit_cache.rs`). Images are tagged under `lambda-image-test/`
//! and removed afterwards.

mod common;

use std::path::Path;

use common::*;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn every_file_under(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(every_file_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push(b);
        }
    }
    out
}

/// The uv guide's shape: a stage that only provides a binary, `RUN` with that stage, a
/// cache and a lock file mounted, `COPY --chmod`. The cache mount's id is the test's own
/// (the engine keeps cache mounts by id across builds).
fn uv_app(tree: &Tree, base: &str, lock: &str, cache: &str) {
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base} AS uv\n\
             COPY --chmod=755 uv.sh /uv\n\
             \n\
             FROM {base}\n\
             RUN --mount=from=uv,source=/uv,target=/bin/uv \\\n    \
             --mount=type=cache,id={cache},target=/root/.cache/uv \\\n    \
             --mount=type=bind,source=uv.lock,target=/tmp/uv.lock \\\n    \
             uv\n\
             COPY --chmod=0755 function.sh ${{LAMBDA_TASK_ROOT}}/\n\
             CMD [\"function.handler\"]\n"
        ),
    );
    tree.write(
        "app/uv.sh",
        "#!/bin/sh\nset -e\nmkdir -p /root/.cache/uv\necho run >> /root/.cache/uv/runs\n\
         cp /tmp/uv.lock \"$LAMBDA_TASK_ROOT/deps.txt\"\n\
         wc -l < /root/.cache/uv/runs | tr -d ' ' > \"$LAMBDA_TASK_ROOT/cache-runs\"\n",
    );
    tree.write("app/uv.lock", lock);
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    tree.write(
        "app/manifest.yaml",
        format!(
            "schemaVersion: lambda-image/v1\npaths:\n  \
             - {{path: \"${{LAMBDA_TASK_ROOT}}/deps.txt\", contains: '{lock}'}}\n  \
             - {{path: \"${{LAMBDA_TASK_ROOT}}/function.sh\", mode: \"0755\"}}\n  \
             - {{path: /bin/uv, absent: true}}\n"
        ),
    );
}

#[test]
fn a_uv_guide_dockerfile_builds_on_buildkit_and_verifies() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let cache = format!("uv-{}", unique());
    uv_app(&tree, &base, "pinned==1.0", &cache);
    let tag = images.track(&format!("lambda-image-test/uv-{}:1", unique()));
    let build = |tree: &Tree| {
        tree.run(&[
            "build",
            "--file",
            "app/Dockerfile",
            "-m",
            "app/manifest.yaml",
            "-t",
            &tag,
            "--no-lint",
            "--no-progress",
            "--report",
            "report.json",
        ])
    };
    let run = build(&tree);
    assert_eq!(run.code, 0, "{}", run.both());
    // `auto` chose BuildKit, and says so on the first line and in the report.
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("building 1 image (1 at a time) with BuildKit on the Docker Engine "),
        "{}",
        run.both()
    );
    let report: serde_json::Value =
        serde_json::from_str(&tree.read("report.json")).expect("report");
    assert_eq!(report["builder"], "buildkit", "{report}");
    assert_eq!(report["images"][0]["builder"], "buildkit", "{report}");
    assert_eq!(report["images"][0]["verify"]["fail"], 0, "{report}");
    assert_eq!(file_in_image(&tag, "var/task/cache-runs").trim(), "1");
    // A new lock re-runs the step; the cache mount kept what the first run left.
    uv_app(&tree, &base, "pinned==2.0", &cache);
    let run = build(&tree);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(file_in_image(&tag, "var/task/deps.txt"), "pinned==2.0");
    assert_eq!(file_in_image(&tag, "var/task/cache-runs").trim(), "2");
    // The classic builder refuses it, naming each line once and the way out.
    let run = tree.run(&[
        "build",
        "--file",
        "app/Dockerfile",
        "--no-lint",
        "--builder",
        "classic",
    ]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains("app/Dockerfile: the classic builder cannot run this Dockerfile (line 2: COPY --chmod, which only BuildKit runs; line 5: RUN --mount, which only BuildKit runs; line 9: COPY --chmod, which only BuildKit runs); build it with --builder buildkit"),
        "{}",
        run.both()
    );
}

#[test]
fn secrets_reach_their_run_and_nothing_else() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let id = unique();
    let file_value = format!("li-file-secret-{id}-c0ffee");
    let env_value = format!("li-env-secret-{id}-beef");
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base}\n\
             RUN --mount=type=secret,id=tok,required=true --mount=type=secret,id=envtok,required=true \\\n    \
             cat /run/secrets/tok /run/secrets/envtok | sha256sum | cut -d' ' -f1 > ${{LAMBDA_TASK_ROOT}}/secret.sha \\\n    \
             && echo run {id}\n\
             COPY function.sh ${{LAMBDA_TASK_ROOT}}/\n\
             CMD [\"function.handler\"]\n"
        ),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    tree.write("tok.txt", &file_value);
    let tag = images.track(&format!("lambda-image-test/secret-{id}:1"));
    let logs = tree.join("tmp");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let tmp = logs.to_str().expect("utf8").to_string();
    let build = |envtok: &str| {
        tree.build_app_env(
            &tag,
            &[
                "--no-lint",
                "--no-progress",
                "-v",
                "--secret",
                "id=tok,src=tok.txt",
                "--secret",
                "id=envtok,env=LI_TEST_ENVTOK",
                "--report",
                "report.json",
                "--format",
                "json",
            ],
            &[("LI_TEST_ENVTOK", envtok), ("TMPDIR", &tmp)],
        )
    };
    let run = build(&env_value);
    assert_eq!(run.code, 0, "{}", run.both());
    // The RUN saw both values.
    let seen = format!("{file_value}{env_value}");
    assert_eq!(
        file_in_image(&tag, "var/task/secret.sha").trim(),
        sha256_hex(seen.as_bytes())
    );
    // And they are nowhere else: layers, config, history, report, output, logs.
    let saved = docker(&["save", &tag]);
    let history = docker(&["history", "--no-trunc", &tag]);
    let inspect = docker(&["image", "inspect", &tag]);
    let mut places: Vec<(&str, Vec<u8>)> = vec![
        ("docker save", saved),
        ("docker history", history),
        ("docker image inspect", inspect),
        ("stdout", run.stdout.clone().into_bytes()),
        ("stderr", run.stderr.clone().into_bytes()),
        ("report", tree.read("report.json").into_bytes()),
    ];
    for log in every_file_under(&logs) {
        places.push(("a file under TMPDIR", log));
    }
    for (place, bytes) in &places {
        for value in [&file_value, &env_value] {
            assert!(!contains(bytes, value), "a secret value is in the {place}");
        }
    }
    // The hash takes the ids, not the values: a rotated token does not rebuild.
    let rotated = build(&format!("{env_value}-rotated"));
    assert_eq!(rotated.code, 0, "{}", rotated.both());
    assert_eq!(
        rotated.json()["images"][0]["status"],
        "unchanged",
        "{}",
        rotated.both()
    );
    assert!(!contains(rotated.both().as_bytes(), &env_value));
}

/// A registry cache BuildKit cannot read does not stop the build, and is not silent either:
/// a warning line for the image, in the report and, on GitHub, an annotation.
#[test]
fn a_cache_import_that_fails_is_a_warning_and_the_build_goes_on() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!("FROM {base}\nRUN echo built > /built\nCMD [\"x\"]\n"),
    );
    let tag = images.track(&format!("lambda-image-test/cache-warn-{}:1", unique()));
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let from = "127.0.0.1:1/lambda-image-test/nowhere:cache";
    let run = tree.build_app(
        &tag,
        &[
            "--no-lint",
            "--no-verify",
            "--no-progress",
            "--format",
            "json",
            "--cache-from",
            from,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let needle = format!(" | warning: importing cache manifest from {from}: ");
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no warning line: {}", run.both()));
    assert!(line.contains("connection refused"), "{}", run.both());
    let warning = line.split(" | warning: ").nth(1).unwrap_or_default();
    assert_eq!(
        run.json()["images"][0]["warnings"],
        serde_json::json!([warning])
    );
    assert!(images.exists(&tag));
    // On GitHub Actions, an annotation.
    let run = tree.build_app(
        &tag,
        &[
            "--no-lint",
            "--no-verify",
            "--no-progress",
            "--format",
            "github",
            "--force",
            "--cache-from",
            from,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("::warning title=lambda-image build (")
                && l.contains(&format!(")::importing cache manifest from {from}: "))),
        "{}",
        run.both()
    );
}

#[test]
fn a_missing_or_unreadable_secret_is_one_line_before_any_build() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base}\nRUN --mount=type=secret,id=npmrc,required=true cat /run/secrets/npmrc\nCMD [\"x\"]\n"
        ),
    );
    let tag = images.track(&format!("lambda-image-test/nosecret-{}:1", unique()));
    let args = ["build", "--file", "app/Dockerfile", "-t", &tag, "--no-lint"];
    let run = tree.run(&args);
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error("app/Dockerfile: line 2: RUN --mount=type=secret,id=npmrc is required and not given; pass --secret id=npmrc,src=FILE or id=npmrc,env=VAR");
    let run = tree.run(&[&args[..], &["--secret", "id=npmrc,src=missing.txt"]].concat());
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error("secret npmrc: missing.txt: No such file or directory");
    let run = tree.run_env(
        &[&args[..], &["--secret", "id=npmrc,env=LI_TEST_UNSET_VAR"]].concat(),
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error("secret npmrc: the environment variable LI_TEST_UNSET_VAR is not set");
    // A secret the Dockerfile does not mount is read too: a typo fails here, not in the build.
    let run = tree.run(
        &[
            &args[..],
            &[
                "--secret",
                "id=npmrc,env=PATH",
                "--secret",
                "id=extra,src=typo.txt",
            ],
        ]
        .concat(),
    );
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error("secret extra: typo.txt: No such file or directory");
    assert!(!run.both().contains("building 1 image"), "{}", run.both());
    let run = tree.run(&[&args[..], &["--secret", "npmrc"]].concat());
    assert_eq!(run.code, 2, "{}", run.both());
    let run = tree.run(&[&args[..], &["--secret", "id=npmrc,src=a,env=B"]].concat());
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error("--secret id=npmrc,src=a,env=B: give src or env, not both (expected id=ID,src=FILE or id=ID,env=VAR)");
    let run = tree.run(&[&args[..], &["--ssh", "default=/nonexistent/agent.sock"]].concat());
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error(
        "--ssh default=/nonexistent/agent.sock: /nonexistent/agent.sock: No such file or directory",
    );
    let run = tree.run(&[&args[..], &["--ssh", "default=app/Dockerfile"]].concat());
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error_starts(
        "--ssh default=app/Dockerfile: app/Dockerfile is not an agent's socket",
    );
    let run = tree.run(
        &[
            &args[..],
            &["--secret", "id=npmrc,src=x", "--builder", "classic"],
        ]
        .concat(),
    );
    assert_eq!(run.code, 2, "{}", run.both());
    run.assert_error("--secret needs BuildKit, and --builder classic (or build.builder: classic) asks for the classic builder");
    assert!(!images.exists(&tag));
}

#[test]
fn what_the_builtin_frontend_cannot_run_is_one_line_naming_the_engine() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let version = String::from_utf8_lossy(&docker(&["version", "--format", "{{.Server.Version}}"]))
        .trim()
        .to_string();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    tree.write(
        "heredoc/Dockerfile",
        format!("FROM {base}\nRUN <<EOF\necho hi\nEOF\nCMD [\"x\"]\n"),
    );
    tree.write(
        "syntax/Dockerfile",
        format!("# syntax=docker/dockerfile:1\nFROM {base}\nRUN true\nCMD [\"x\"]\n"),
    );
    let run = tree.run(&["build", "--file", "syntax/Dockerfile", "--no-lint"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains(&format!("syntax/Dockerfile: line 1: `# syntax=docker/dockerfile:1` makes BuildKit pull that frontend image from a registry before every build (impossible offline, rate-limited on Docker Hub); remove the line to use Docker Engine {version}'s builtin frontend")),
        "{}",
        run.both()
    );
    if major < 23 {
        let run = tree.run(&["build", "--file", "heredoc/Dockerfile", "--no-lint"]);
        assert_eq!(run.code, 1, "{}", run.both());
        assert!(
            run.stdout.contains(&format!("heredoc/Dockerfile: line 2: RUN uses a heredoc (<<EOF), which Docker Engine {version}'s builtin Dockerfile frontend cannot run (Docker Engine 23.0 or later can)")),
            "{}",
            run.both()
        );
    }
}

/// BuildKit keeps the context of the last build of a folder and asks only for the files
/// whose size or time differ: a file changed in place (same size, its old mtime put back, as
/// a checkout or `touch -r` can leave it) must still reach the next build, and a file the
/// `.dockerignore` leaves out must not reach any.
#[test]
fn a_file_changed_in_place_reaches_the_next_build_and_ignored_files_none() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let id = unique();
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base}\n\
             COPY . ${{LAMBDA_TASK_ROOT}}/\n\
             CMD [\"function.handler\"]\n"
        ),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    tree.write("app/data/value.txt", format!("one-{id}"));
    tree.write("app/secret.env", "TOKEN=do-not-send\n");
    tree.write("app/.dockerignore", "secret.env\n");
    let tag = images.track(&format!("lambda-image-test/sync-{id}:1"));
    let build = || {
        tree.build_app(
            &tag,
            &[
                "--no-lint",
                "--no-verify",
                "--no-progress",
                "--builder",
                "buildkit",
            ],
        )
    };
    let run = build();
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        file_in_image(&tag, "var/task/data/value.txt"),
        format!("one-{id}")
    );
    let listing = String::from_utf8_lossy(&docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--entrypoint",
        "/bin/sh",
        &tag,
        "-c",
        "ls -a /var/task",
    ]))
    .into_owned();
    assert!(!listing.contains("secret.env"), "{listing}");
    assert!(listing.contains("function.sh"), "{listing}");

    // The same size, the old modification time put back.
    let path = tree.join("app/data/value.txt");
    let before = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::write(&path, format!("two-{id}")).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(before))
        .expect("set mtime");
    let run = build();
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stderr.contains("built"), "{}", run.both());
    assert_eq!(
        file_in_image(&tag, "var/task/data/value.txt"),
        format!("two-{id}")
    );
}

/// `--ssh default`: a `RUN --mount=type=ssh` talks to the agent of `$SSH_AUTH_SOCK` (here a
/// static program asks it how many keys it holds); the key itself never leaves the agent,
/// so it is in no layer.
#[test]
fn an_ssh_agent_reaches_its_run_and_its_key_stays_in_the_agent() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let id = unique();
    let dir = tree.join("ssh");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let sock = dir.join("agent.sock");
    let agent = std::process::Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client) runs");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(agent);
    for _ in 0..50 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let key = dir.join("key");
    let ok = |c: &mut std::process::Command| c.status().map(|s| s.success()).unwrap_or(false);
    assert!(ok(std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            &format!("li-{id}"),
            "-f"
        ])
        .arg(&key)));
    assert!(ok(std::process::Command::new("ssh-add")
        .arg("-q")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &sock)));
    // A static client of the agent protocol: how many keys the agent holds.
    tree.write(
        "app/agent_count.c",
        r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void) {
    const char *path = getenv("SSH_AUTH_SOCK");
    if (!path) { puts("no SSH_AUTH_SOCK"); return 2; }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 3; }
    unsigned char req[5] = {0, 0, 0, 1, 11};
    if (write(fd, req, 5) != 5) { perror("write"); return 4; }
    unsigned char b[9]; size_t got = 0;
    while (got < 9) { ssize_t n = read(fd, b + got, 9 - got); if (n <= 0) { perror("read"); return 5; } got += n; }
    if (b[4] != 12) { printf("answer type %d\n", b[4]); return 6; }
    printf("agent keys: %u\n", (unsigned)((b[5] << 24) | (b[6] << 16) | (b[7] << 8) | b[8]));
    return 0;
}
"#,
    );
    assert!(ok(std::process::Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(tree.join("app/agent_count"))
        .arg(tree.join("app/agent_count.c"))));
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base}\n\
             COPY agent_count /usr/local/bin/agent_count\n\
             RUN --mount=type=ssh agent_count > ${{LAMBDA_TASK_ROOT}}/agent.txt && echo {id}\n\
             CMD [\"function.handler\"]\n"
        ),
    );
    let tag = images.track(&format!("lambda-image-test/ssh-{id}:1"));
    let sock_text = sock.to_str().expect("utf8").to_string();
    let run = tree.build_app_env(
        &tag,
        &[
            "--no-lint",
            "--no-verify",
            "--no-progress",
            "--ssh",
            "default",
        ],
        &[("SSH_AUTH_SOCK", &sock_text)],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(file_in_image(&tag, "var/task/agent.txt"), "agent keys: 1\n");
    let private = std::fs::read_to_string(&key).expect("key");
    let body = private
        .lines()
        .nth(1)
        .expect("the key's first line of base64")
        .to_string();
    assert!(!contains(&docker(&["save", &tag]), &body));
}
