//! A second Docker Engine for the tests that can differ by engine: Debian trixie's dockerd
//! 26.1.5 with the containerd image store (what fresh Docker 28/29 installs on users' CI
//! runners use), and its own containerd 1.7, which `make test-deps` extracts into
//! target/engine26 (.ci/fetch-test-debs). background/engines.md has how and why.
//!
//! Started once per test binary ([`engine26`]), all its state in a temporary folder, with a
//! bridge of its own (never `"bridge": "none"`, which deletes the host's `docker0`),
//! `"iptables": false`, and the system's runc. A guard shell started with it holds a pipe
//! from the test process: when the process ends (the tests done, a failed assertion, a
//! signal), the pipe closes and the guard stops dockerd, then containerd, by their pid
//! files, removes the bridge and deletes the folder. The system's engine is never touched.
//!
//! When it cannot start (not root, the tree not fetched, no bridge), the tests that need it
//! fail in CI (`CI` set, or `LAMBDA_IMAGE_REQUIRE_ENGINE26=1`, which .ci/run exports) and
//! elsewhere print a loud skip line.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The running second engine.
pub struct Engine26 {
    /// The state folder (removed by the guard).
    pub dir: PathBuf,
    /// `unix://<dir>/docker.sock`, for `DOCKER_HOST`.
    pub host: String,
    /// The engine's version (`26.1.5+dfsg1`).
    pub version: String,
    /// The guard's end of the pipe: closed when the process exits.
    _guard: Mutex<(Child, ChildStdin)>,
}

/// What the guard runs: `sh -c GUARD sh DIR TREE BRIDGE ADDRESS`. It starts containerd and
/// dockerd, says `started`, waits for its standard input to close, then stops both and
/// cleans up. Signals sent to the test's process group do not reach it (its own group).
const GUARD: &str = r#"
D=$1 E=$2 BR=$3 ADDR=$4
stop() {
  for p in dockerd containerd; do
    if [ -s "$D/$p.pid" ]; then
      pid=$(cat "$D/$p.pid")
      kill "$pid" 2>/dev/null
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
      kill -9 "$pid" 2>/dev/null
    fi
  done
  ip link del "$BR" 2>/dev/null
  grep " $D/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$D"
}
trap '' INT HUP TERM
if ! { ip link add "$BR" type bridge && ip addr add "$ADDR" dev "$BR" && ip link set "$BR" up; }; then
  echo "cannot create the bridge $BR ($ADDR)" >&2
  stop
  exit 1
fi
cat >"$D/containerd.toml" <<TOML
version = 2
root = "$D/containerd-root"
state = "$D/containerd-state"
[grpc]
  address = "$D/containerd.sock"
[ttrpc]
  address = "$D/containerd-ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
TOML
cat >"$D/daemon.json" <<JSON
{"features": {"containerd-snapshotter": true}, "storage-driver": "native", "bridge": "$BR", "iptables": false, "ip6tables": false}
JSON
PATH="$E/usr/bin:$E/usr/sbin:$PATH"
export PATH
containerd --config "$D/containerd.toml" >"$D/containerd.log" 2>&1 &
echo $! >"$D/containerd.pid"
i=0
while ! [ -S "$D/containerd.sock" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
dockerd --config-file "$D/daemon.json" --data-root "$D/droot" --exec-root "$D/dexec" \
  -H "unix://$D/docker.sock" --pidfile "$D/dockerd.pid" --containerd "$D/containerd.sock" \
  >"$D/dockerd.log" 2>&1 &
echo started
# The test process reads neither stream once it is gone: nothing the cleanup says may stop it.
exec >/dev/null 2>&1
cat >/dev/null
stop
"#;

/// Whether the second engine must start (CI): a failure to start fails the test.
pub fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var("LAMBDA_IMAGE_REQUIRE_ENGINE26").is_ok_and(|v| v == "1")
}

/// The second engine, started on first use; `None` (after a loud line on stderr) when it
/// cannot start here and it is not [`required`]. In CI, a failure to start panics.
pub fn engine26() -> Option<&'static Engine26> {
    static ENGINE: OnceLock<Result<Engine26, String>> = OnceLock::new();
    match ENGINE.get_or_init(start) {
        Ok(engine) => Some(engine),
        Err(why) if required() => panic!(
            "the second engine (Docker 26, containerd image store) did not start, and CI needs it: {why}"
        ),
        Err(why) => {
            // Once, and past the test harness's capture of eprintln! (a passing test's
            // output is not shown).
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = write!(
                    std::io::stderr(),
                    "\n!!!!!!!! SKIPPED: the second engine (Docker 26, containerd image store) did not start: {why}\n\
                     !!!!!!!! the tests that differ by engine ran on the system's engine only (CI fails here)\n\n"
                );
            });
            None
        }
    }
}

fn start() -> Result<Engine26, String> {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/engine26");
    if !tree.join("usr/sbin/dockerd").is_file() || !tree.join("usr/bin/containerd").is_file() {
        return Err(format!(
            "{} has no dockerd and containerd: run `make test-deps` (.ci/fetch-test-debs fetches them)",
            tree.display()
        ));
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if uid != "0" {
        return Err("it runs as root (a daemon, a bridge), and these tests do not".into());
    }
    // Short: the sockets' paths must fit in 108 bytes.
    let dir = tempfile::Builder::new()
        .prefix("li26.")
        .tempdir_in("/tmp")
        .map_err(|e| format!("a state folder in /tmp: {e}"))?
        .keep();
    // A bridge and a /24 of this process's own, so that two test runs do not collide, in
    // 198.18.0.0/15 (set aside for network tests), which Docker's networks (172.17-31, 192.168)
    // and a machine's own do not use.
    let pid = std::process::id();
    let bridge = format!("li26-{}", pid % 100_000);
    let address = format!("198.18.{}.1/24", pid % 250 + 1);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(GUARD)
        .arg("sh")
        .arg(&dir)
        .arg(&tree)
        .arg(&bridge)
        .arg(&address)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting sh: {e}"))?;
    let stdin = child.stdin.take().ok_or("no pipe to the guard")?;
    let host = format!("unix://{}/docker.sock", dir.display());
    let log = |dir: &Path| {
        let tail = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map(|t| {
                    let lines: Vec<&str> = t.lines().collect();
                    lines[lines.len().saturating_sub(5)..].join(" | ")
                })
                .unwrap_or_default()
        };
        format!(
            "dockerd.log: {}; containerd.log: {}",
            tail("dockerd.log"),
            tail("containerd.log")
        )
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let version = loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return Err(format!("the guard exited ({status}): {}", err.trim()));
        }
        let out = Command::new("docker")
            .args(["-H", &host, "version", "--format", "{{.Server.Version}}"])
            .output();
        if let Ok(out) = out {
            if out.status.success() {
                break String::from_utf8_lossy(&out.stdout).trim().to_string();
            }
        }
        if Instant::now() > deadline {
            let why = format!("it did not answer at {host} within 60 s; {}", log(&dir));
            drop(stdin);
            let _ = child.wait();
            return Err(why);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let engine = Engine26 {
        dir,
        host,
        version,
        _guard: Mutex::new((child, stdin)),
    };
    let info = engine.docker_text(&["info", "--format", "{{json .DriverStatus}}"]);
    if !info.contains("io.containerd.snapshotter.v1") {
        return Err(format!(
            "Docker {} at {} does not use the containerd image store: {info}",
            engine.version, engine.host
        ));
    }
    eprintln!(
        "second engine: Docker {} (containerd image store) at {}",
        engine.version, engine.host
    );
    Ok(engine)
}

impl Engine26 {
    /// `docker -H <this engine> ARGS`, which must succeed; its stdout.
    pub fn docker(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("docker")
            .arg("-H")
            .arg(&self.host)
            .args(args)
            .output()
            .expect("docker");
        assert!(
            out.status.success(),
            "docker -H {} {args:?}: {}",
            self.host,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    pub fn docker_text(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.docker(args)).into_owned()
    }

    /// `image` from the system's engine into this one, as `docker save | docker load`
    /// moves it: its layers arrive uncompressed, as the containerd image store keeps them.
    pub fn load_from_system(&self, image: &str) {
        let saved = super::docker(&["save", image]);
        let mut child = Command::new("docker")
            .args(["-H", &self.host, "load", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker load");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(&saved).expect("docker load: write");
        }
        let out = child.wait_with_output().expect("docker load");
        assert!(
            out.status.success(),
            "docker -H {} load: {}",
            self.host,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `image` from the system's engine into this one through `registry`: pushed by the
    /// system's engine (gzip layers) and pulled here, as a base comes from ECR. Returns the
    /// name it has here (`127.0.0.1:<port>/<repo>:<tag>`). Images that share a layer must
    /// not come both ways: Docker 26 then skips the pulled blobs and saves the image without
    /// them (moby/moby#49473, fixed in 29).
    pub fn pull_from_system(&self, image: &str, registry: &super::Registry) -> String {
        let name = format!("{}/{image}", registry.host());
        super::docker(&["tag", image, &name]);
        let pushed = Command::new("docker")
            .args(["push", &name])
            .output()
            .expect("docker push");
        super::docker(&["rmi", &name]);
        assert!(
            pushed.status.success(),
            "docker push {name}: {}",
            String::from_utf8_lossy(&pushed.stderr)
        );
        self.docker(&["pull", "-q", &name]);
        name
    }

    /// The layer media types of `image` as this engine keeps them (its OCI manifest).
    pub fn layer_media_types(&self, image: &str) -> Vec<String> {
        let saved = self.docker(&["save", image]);
        let mut outer = tar::Archive::new(saved.as_slice());
        let mut blobs = std::collections::BTreeMap::new();
        let mut index = None;
        for entry in outer.entries().expect("save tar").flatten() {
            let mut entry = entry;
            let path = entry.path().expect("path").to_string_lossy().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
            if path == "index.json" {
                index = Some(bytes);
            } else if let Some(digest) = path.strip_prefix("blobs/sha256/") {
                blobs.insert(format!("sha256:{digest}"), bytes);
            }
        }
        let index: serde_json::Value =
            serde_json::from_slice(&index.expect("index.json")).expect("index.json");
        let digest = index["manifests"][0]["digest"]
            .as_str()
            .expect("a manifest");
        let manifest: serde_json::Value =
            serde_json::from_slice(blobs.get(digest).expect("the manifest blob")).expect("json");
        manifest["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|l| l["mediaType"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}
