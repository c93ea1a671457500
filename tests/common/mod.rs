//! Shared test helpers, in the manner of ripgrep's `Dir`/`TestCommand`: a temporary tree
//! ([`Tree`]), a command runner ([`Tree::run`]) that returns what the user sees, the "one
//! line, exit 2, nothing written" assertion ([`Run::assert_error`]), and, for the Docker
//! Engine tests, stand-in AL2023 base images that are removed when dropped ([`Images`]).
//! Image and rootfs builders live in `tests/verify/common.rs` ([`fixtures`]).
#![allow(dead_code)]

pub mod engine26;
#[path = "../verify/common.rs"]
pub mod fixtures;
pub mod registry;
pub mod stalling;
pub mod stand_in;

#[allow(unused_imports)]
pub use registry::Registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lambda_image::docker::{self, Engine};

pub const BIN: &str = env!("CARGO_BIN_EXE_lambda-image");

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Both streams, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// A bad input: exit 2, nothing on stdout, exactly `lambda-image: error: <line>` on
    /// stderr.
    pub fn assert_error(&self, line: &str) {
        assert_eq!(self.code, 2, "{}", self.both());
        assert_eq!(self.stdout, "", "{}", self.both());
        assert_eq!(
            self.stderr.trim_end(),
            format!("lambda-image: error: {line}"),
            "{}",
            self.both()
        );
    }

    /// Like [`Run::assert_error`] for a message known by its start.
    pub fn assert_error_starts(&self, start: &str) {
        assert_eq!(self.code, 2, "{}", self.both());
        assert_eq!(self.stdout, "", "{}", self.both());
        assert_eq!(self.stderr.lines().count(), 1, "{}", self.both());
        assert!(
            self.stderr
                .starts_with(&format!("lambda-image: error: {start}")),
            "{}",
            self.both()
        );
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.both()))
    }
}

/// A temporary folder that tests write files into and run the binary in.
pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `rel` (creating folders).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, content).expect("write");
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Every path under the tree with its size and contents hash: equal before and after a
    /// command that must write nothing.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read_dir") {
                let e = e.expect("entry");
                let path = e.path();
                if e.file_type().expect("type").is_dir() {
                    stack.push(path.clone());
                    out.push((path, Vec::new()));
                } else {
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    out.push((path, bytes));
                }
            }
        }
        out.sort();
        out
    }

    /// Runs the binary in the tree with no colour, no config file lookup above it, and
    /// `envs` set.
    pub fn run_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        Run::from(self.command(args, envs).output().expect("run lambda-image"))
    }

    /// Starts the binary as [`Tree::run_env`] would, in the background, to be interrupted.
    pub fn spawn_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Background {
        let mut child = self
            .command(args, envs)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lambda-image");
        let stderr = child.stderr.take().expect("stderr");
        let mut stdout = child.stdout.take().expect("stdout");
        let out = std::thread::spawn(move || {
            use std::io::Read;
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut seen = Vec::new();
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line.clone());
                seen.push(line);
            }
            seen
        });
        Background {
            child,
            lines: rx,
            reader,
            out,
        }
    }

    fn command(&self, args: &[&str], envs: &[(&str, &str)]) -> Command {
        let mut cmd = command_in(self.path(), args);
        cmd.env("LAMBDA_IMAGE_CACHE_DIR", self.join(".lambda-image-cache"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// `build --file app/Dockerfile -t TAG` and `more`: how most build tests build.
    pub fn build_app(&self, tag: &str, more: &[&str]) -> Run {
        self.build_app_env(tag, more, &[])
    }

    /// [`Tree::build_app`] with `envs` set.
    pub fn build_app_env(&self, tag: &str, more: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut args = vec!["build", "--file", "app/Dockerfile", "-t", tag];
        args.extend_from_slice(more);
        self.run_env(&args, envs)
    }

    /// Runs the binary as [`Tree::run`] does, with `stdin` on its standard input.
    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        use std::io::Write as _;
        let mut child = self
            .command(args, &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lambda-image");
        {
            let mut pipe = child.stdin.take().expect("stdin");
            // The command may stop reading early (a too-large input): a broken pipe is fine.
            let _ = pipe.write_all(stdin);
        }
        Run::from(child.wait_with_output().expect("wait for lambda-image"))
    }
}

/// The binary in `dir`, with no colour and no GitHub step summary, standard input empty.
fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LAMBDA_IMAGE_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null());
    cmd
}

/// Runs the binary in the test's own folder (arguments name absolute paths) as [`run_in`] does.
pub fn run(args: &[&str]) -> Run {
    run_in(Path::new("."), args)
}

/// Runs the binary in `dir` (a folder inside a [`Tree`], or the repository itself) as
/// [`Tree::run`] does, but with the default cache folder.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(command_in(dir, args).output().expect("run lambda-image"))
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

/// The binary running in the background ([`Tree::spawn_env`]).
pub struct Background {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<Vec<String>>,
    out: std::thread::JoinHandle<String>,
}

impl Background {
    /// Waits until a line of stderr contains `needle`.
    pub fn wait_for(&self, needle: &str, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(line) => seen.push(line),
                Err(_) => panic!(
                    "no line with {needle:?} on stderr within {timeout:?}; seen:\n{}",
                    seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the run to end on its own: what it printed.
    pub fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait");
        let stderr = self.reader.join().unwrap_or_default().join("\n");
        let stdout = self.out.join().unwrap_or_default();
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits: (exit code, how long the exit took, all of stderr).
    pub fn interrupt(self) -> (Option<i32>, std::time::Duration, String) {
        self.signal("INT")
    }

    /// Sends the signal `name` (`INT`, `TERM`, `HUP`, `KILL`) and waits, as
    /// [`Background::interrupt`] does.
    pub fn signal(self, name: &str) -> (Option<i32>, std::time::Duration, String) {
        let (code, took, run) = self.stop(name);
        (code, took, run.stderr)
    }

    /// Sends the signal `name` and waits: (exit code, how long the exit took, what the run
    /// printed; `run.code` is -1 when the signal killed it).
    pub fn stop(mut self, name: &str) -> (Option<i32>, std::time::Duration, Run) {
        let sent = std::time::Instant::now();
        let kill = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        let status = self.child.wait().expect("wait");
        let took = sent.elapsed();
        let stderr = self.reader.join().unwrap_or_default().join("\n");
        let stdout = self.out.join().unwrap_or_default();
        let code = status.code();
        (
            code,
            took,
            Run {
                code: code.unwrap_or(-1),
                stdout,
                stderr,
            },
        )
    }
}

pub use fixtures::unique;

/// The signals that stop a run as Ctrl-C does, with the exit code and the last line each
/// gives (CI systems and `docker stop` send SIGTERM; a closed session SIGHUP).
pub const STOP_SIGNALS: [(&str, i32, &str); 3] = [
    ("INT", 130, "lambda-image: interrupted"),
    ("TERM", 143, "lambda-image: interrupted (SIGTERM)"),
    ("HUP", 129, "lambda-image: interrupted (SIGHUP)"),
];

/// This machine's architecture in Lambda's terms.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

/// Images a test made (bases, and tags it asked `build` for); removed, newest first, when
/// dropped, also when an assertion fails.
pub struct Images {
    pub engine: Engine,
    pub names: Vec<String>,
}

impl Images {
    pub fn new() -> Images {
        Images {
            engine: docker::connect()
                .unwrap_or_else(|e| panic!("this test needs the Docker Engine: {e:#}")),
            names: Vec::new(),
        }
    }

    /// Remembers `name` for removal.
    pub fn track(&mut self, name: &str) -> String {
        self.names.push(name.to_string());
        name.to_string()
    }

    /// Imports a stand-in AL2023 Lambda base for `runtime` (busybox, the Lambda paths and
    /// Env, the microdnf stand-in); returns its name.
    pub fn base(&mut self, runtime: &str) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let tar = fixtures::al2023_base_rootfs(dir.path(), runtime);
        let repo = format!(
            "lambda-image-test/base-{}-{}",
            runtime.replace('.', "-"),
            unique()
        );
        let changes: Vec<String> = fixtures::LAMBDA_BASE_CHANGES.map(String::from).to_vec();
        self.engine
            .import_rootfs(&tar, &repo, "latest", &changes)
            .unwrap_or_else(|e| panic!("import {repo}: {e:#}"));
        self.track(&format!("{repo}:latest"))
    }

    /// An arm64 stand-in AL2023 Lambda base for `runtime`, as [`Images::base`] makes one for
    /// this machine but with Debian's arm64 busybox ([`fixtures::busybox_arm64`]) and
    /// `architecture: arm64` in its config, loaded as a `docker save` archive (an import
    /// takes the engine's own architecture). Its `RUN` steps need QEMU registered with
    /// binfmt_misc ([`arm64_emulation`]).
    pub fn base_arm64(&mut self, runtime: &str) -> String {
        let repo = format!(
            "lambda-image-test/base-{}-arm64-{}",
            runtime.replace('.', "-"),
            unique()
        );
        let name = self.track(&format!("{repo}:latest"));
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = arm64_base_archive(dir.path(), runtime, &name);
        self.engine
            .load_archive(&archive)
            .unwrap_or_else(|e| panic!("load {name}: {e:#}"));
        name
    }

    pub fn exists(&self, name: &str) -> bool {
        self.engine.inspect_image(name).ok().flatten().is_some()
    }

    pub fn id(&self, name: &str) -> Option<String> {
        self.engine.inspect_image(name).ok().flatten().map(|i| i.id)
    }

    /// Remembers an image id (an image left untagged by a failed verify) for removal.
    pub fn forget(&mut self, id: &str) {
        self.names.push(id.to_string());
    }
}

impl Default for Images {
    fn default() -> Self {
        Images::new()
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        // A failed build leaves its committed steps as untagged children of the base
        // (the layer cache): they go first, newest first, then what was tracked.
        let ids: Vec<String> = self.names.iter().filter_map(|n| self.id(n)).collect();
        for child in descendants(&ids).iter().rev() {
            let _ = self.engine.remove_image(child);
        }
        for name in self.names.iter().rev() {
            let _ = self.engine.remove_image(name);
        }
        // An image pulled by digest keeps that reference once its tags are gone: remove
        // what is left by id (without force, so an image with another name stays).
        for id in ids.iter().rev() {
            let _ = Command::new("docker")
                .args(["image", "rm", id])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// Every image whose parent chain (classic builder) reaches one of `roots`, parents first.
fn descendants(roots: &[String]) -> Vec<String> {
    let all = Command::new("docker")
        .args(["image", "ls", "-a", "-q", "--no-trunc"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let ids: Vec<&str> = all.lines().filter(|l| !l.is_empty()).collect();
    if ids.is_empty() {
        return Vec::new();
    }
    let inspect = Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Id}} {{.Parent}}"])
        .args(&ids)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let pairs: Vec<(String, String)> = inspect
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, parent)| (id.to_string(), parent.trim().to_string()))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut frontier: Vec<String> = roots.to_vec();
    while let Some(parent) = frontier.pop() {
        for (id, p) in &pairs {
            if *p == parent && !out.contains(id) {
                out.push(id.clone());
                frontier.push(id.clone());
            }
        }
    }
    out
}

/// Containers (running or not) whose image descends from `base`: a build must leave none.
pub fn containers_from(base: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-a", "-q", "--filter", &format!("ancestor={base}")])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// Files in `dir` whose names start with `prefix` (temporary files left behind).
pub fn files_starting(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// `docker ARGS`, which must succeed; its stdout.
pub fn docker(args: &[&str]) -> Vec<u8> {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A file of the image, read from `docker save` (its layers are plain tars there).
pub fn file_in_image(image: &str, name: &str) -> String {
    let saved = docker(&["save", image]);
    let mut outer = tar::Archive::new(saved.as_slice());
    let mut found = None;
    for entry in outer.entries().expect("save tar").flatten() {
        let mut entry = entry;
        let path = entry.path().expect("path").to_string_lossy().to_string();
        if !path.ends_with("layer.tar") {
            continue;
        }
        let mut layer = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut layer).expect("layer");
        for f in tar::Archive::new(layer.as_slice())
            .entries()
            .expect("layer tar")
            .flatten()
        {
            let mut f = f;
            if f.path().expect("path").to_string_lossy() == name {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut f, &mut text).expect("read");
                found = Some(text);
            }
        }
    }
    found.unwrap_or_else(|| panic!("{name} is not in {image}"))
}

/// A provided.al2023 spec `images/<name>` on `base`, tagged `tag`: an executable shell
/// bootstrap and a `function.sh` that echoes the name; `extra` adds lines to the spec.
pub fn provided_spec(tree: &Tree, name: &str, base: &str, tag: &str, extra: &str) {
    tree.write(
        &format!("images/{name}/image.yaml"),
        format!("runtime: provided.al2023\nbase: {base}\n{extra}bootstrap: {{src: bootstrap}}\ncopy: [{{src: function.sh}}]\nhandler: function.handler\ntags: [{tag}]\n"),
    );
    tree.write(
        &format!("images/{name}/function.sh"),
        format!("function handler () {{ echo {name}; }}\n"),
    );
    let bootstrap = tree.write(
        &format!("images/{name}/bootstrap"),
        "#!/bin/sh\necho bootstrap\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A `docker save` archive (`dir/base-arm64.tar`) of an arm64 stand-in base for `runtime`
/// named `name`: see [`Images::base_arm64`].
pub fn arm64_base_archive(dir: &Path, runtime: &str, name: &str) -> PathBuf {
    let layer = fixtures::al2023_base_layer(runtime, &fixtures::busybox_arm64());
    let mut env = Vec::new();
    for change in fixtures::LAMBDA_BASE_CHANGES {
        if let Some(kv) = change.strip_prefix("ENV ") {
            env.push(kv.to_string());
        }
    }
    let spec = fixtures::Spec {
        layers: vec![layer],
        env,
        entrypoint: Some(vec!["/lambda-entrypoint.sh".into()]),
        cmd: None,
        workdir: Some("/var/task".into()),
        arch: "arm64".into(),
        labels: vec![],
    };
    let mut files = fixtures::docker_archive_files(&spec);
    for (file, data) in files.iter_mut() {
        if file == "manifest.json" {
            let text = String::from_utf8_lossy(data).replace("test/image:latest", name);
            *data = text.into_bytes();
        }
    }
    let archive = dir.join("base-arm64.tar");
    fixtures::write_tar(&archive, &files);
    archive
}

/// Whether this machine runs arm64 programs: natively, or through QEMU registered with
/// binfmt_misc (`make test-deps` registers Debian's qemu-user-static on amd64).
pub fn arm64_emulation() -> bool {
    host_arch() == "arm64"
        || std::fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64")
            .is_ok_and(|s| s.lines().next() == Some("enabled"))
}

/// Fails the test, saying what to do, when arm64 programs cannot run here.
pub fn require_arm64_emulation() {
    assert!(
        arm64_emulation(),
        "arm64 RUN steps need QEMU registered with binfmt_misc (qemu-aarch64 is not): run `make test-deps` as root, or see background/engines.md"
    );
}

/// A shell custom runtime (busybox `wget` on the Runtime API) that answers every event with
/// `{"arch": "<uname -m>", "event": <the event>}`: which machine ran the function, and
/// that it got the event.
pub const ECHO_RUNTIME: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while busybox wget -q -S -O /tmp/event "$api/invocation/next" 2>/tmp/headers; do
  id=$(grep -i 'Lambda-Runtime-Aws-Request-Id' /tmp/headers | tr -d '\r' | sed 's/^[^:]*: *//')
  printf '{"arch": "%s", "event": %s}' "$(uname -m)" "$(cat /tmp/event)" >/tmp/response
  busybox wget -q -O /dev/null --post-file /tmp/response "$api/invocation/$id/response"
done
"#;

/// A provided.al2023 spec `images/<name>` on `base` tagged `tag` that a user would deploy:
/// a `dnf install` (a RUN step), the [`ECHO_RUNTIME`] as its bootstrap, and a smoke test
/// whose response must contain `"arch": "<machine>"` (`x86_64`, `aarch64`); `extra` adds
/// lines (`architectures: [arm64]`).
pub fn echo_spec(tree: &Tree, name: &str, base: &str, tag: &str, machine: &str, extra: &str) {
    tree.write(
        &format!("images/{name}/image.yaml"),
        format!(
            "runtime: provided.al2023\nbase: {base}\n{extra}packages: [jq]\nbootstrap: {{src: bootstrap}}\nhandler: function.handler\ntags: [{tag}]\nsmoke:\n  - {{event: events/ping.json, expect: {{status: ok, contains: '\"arch\": \"{machine}\"'}}}}\n"
        ),
    );
    tree.write(&format!("images/{name}/events/ping.json"), r#"{"ping": 1}"#);
    let bootstrap = tree.write(&format!("images/{name}/bootstrap"), ECHO_RUNTIME);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
