//! `--engine-timeout`: an engine that answers the first contact (`/_ping`, `/version`,
//! image inspect, tag) but never the operation (a wedged storage driver) stops `verify`,
//! `invoke` and `build` within the bound, in one line naming the engine, exit 2. The engine
//! is a stand-in on a unix socket of the test's own; nothing reaches the real engine.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Tree;

const IMAGE: &str = "lambda-image-test/wedged:1";
const ID: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// The stand-in engine: answers the handshake and image inspects, holds every other
/// request open without a word until dropped. Records each request line.
struct WedgedEngine {
    path: std::path::PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    stopped: Arc<AtomicBool>,
}

impl WedgedEngine {
    fn start(tree: &Tree) -> WedgedEngine {
        // A short path: unix socket paths are limited to about 100 bytes.
        let path = std::env::temp_dir().join(format!(
            "li-wedged-{}-{}.sock",
            std::process::id(),
            common::unique()
        ));
        let _ = tree;
        let listener = UnixListener::bind(&path).expect("bind the stand-in engine");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (seen, stop) = (requests.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (seen, stop) = (seen.clone(), stop.clone());
                std::thread::spawn(move || serve(stream, &seen, &stop));
            }
        });
        WedgedEngine {
            path,
            requests,
            stopped,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for WedgedEngine {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(stream: UnixStream, seen: &Mutex<Vec<String>>, stopped: &AtomicBool) {
    let mut out = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_string();
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(v) = header.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if header.starts_with("transfer-encoding:") && header.contains("chunked") {
                chunked = true;
            }
        }
        if let Ok(mut s) = seen.lock() {
            s.push(line.clone());
        }
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let path = path.split('?').next().unwrap_or_default().to_string();
        // Strip the API version prefix.
        let path = match path.strip_prefix("/v") {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest
                .find('/')
                .map_or(String::new(), |i| rest[i..].to_string()),
            _ => path,
        };
        let body = if path == "/_ping" {
            Some("OK".to_string())
        } else if path == "/version" {
            Some(
                r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#
                    .to_string(),
            )
        } else if path == "/info" {
            Some(r#"{"Architecture":"x86_64","OSType":"linux"}"#.to_string())
        } else if path.starts_with("/images/") && path.ends_with("/json") {
            Some(format!(
                r#"{{"Id":"{ID}","RepoTags":["{IMAGE}"],"RepoDigests":[],"Architecture":"amd64","Os":"linux","Size":1000,
                "Config":{{"Env":["PATH=/usr/bin","LAMBDA_TASK_ROOT=/var/task","LAMBDA_RUNTIME_DIR=/var/runtime"],
                "Entrypoint":["/lambda-entrypoint.sh"],"Cmd":["function.handler"],"WorkingDir":"/var/task","Labels":{{}}}},
                "RootFS":{{"Type":"layers","Layers":[]}}}}"#
            ))
        } else {
            None
        };
        if line.starts_with("POST ") && path.ends_with("/tag") {
            if out
                .write_all(
                    b"HTTP/1.1 201 Created\r\nApi-Version: 1.41\r\nContent-Length: 0\r\n\r\n",
                )
                .is_err()
            {
                return;
            }
            continue;
        }
        match body {
            Some(body) => {
                // The request's own body (none for these) is not read.
                let _ = length;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if out.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            None => {
                // Wedged: the body is read (as the engine would), nothing is ever answered.
                let _ = chunked;
                let mut sink = [0u8; 65536];
                let until = Instant::now() + Duration::from_secs(120);
                let _ = reader
                    .get_mut()
                    .set_read_timeout(Some(Duration::from_millis(100)));
                while !stopped.load(Ordering::SeqCst) && Instant::now() < until {
                    match reader.read(&mut sink) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(_) => {}
                    }
                }
                return;
            }
        }
    }
}

/// Runs `args` against the wedged engine with `--engine-timeout 2`: exit 2 within the bound
/// (plus a margin), one line on stderr that names the engine and the flag.
fn stops_in_one_line(tree: &Tree, engine: &WedgedEngine, args: &[&str], waiting_on: &str) {
    stops_in_one_line_env(tree, engine, args, waiting_on, &[]);
}

fn stops_in_one_line_env(
    tree: &Tree,
    engine: &WedgedEngine,
    args: &[&str],
    waiting_on: &str,
    env: &[(&str, &str)],
) {
    let host = engine.host();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--engine-timeout", "2"]);
    let started = Instant::now();
    // Nothing left behind: an export's spool file is in this TMPDIR.
    let tmp = tree.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let tmp_dir = tmp.to_str().expect("utf8").to_string();
    let mut envs = vec![("DOCKER_HOST", host.as_str()), ("TMPDIR", tmp_dir.as_str())];
    envs.extend_from_slice(env);
    let run = tree.run_env(&all, &envs);
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .map_while(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{args:?}: left in TMPDIR: {left:?}");
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{args:?}: {}", run.both());
    assert!(
        took < Duration::from_secs(8),
        "{args:?}: took {took:?}: {}",
        run.both()
    );
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("error")).collect();
    assert!(
        run.both()
            .contains(&format!("the Docker Engine at {host} did not answer")),
        "{args:?}: {}",
        run.both()
    );
    assert!(
        run.both().contains("within 2 s (--engine-timeout)"),
        "{args:?}: {}",
        run.both()
    );
    assert!(errors.len() <= 1, "{args:?}: {}", run.both());
    assert!(
        engine.requests().iter().any(|r| r.contains(waiting_on)),
        "{args:?}: {:?}",
        engine.requests()
    );
}

#[test]
fn verify_stops_when_the_export_never_starts() {
    let tree = Tree::new();
    let engine = WedgedEngine::start(&tree);
    stops_in_one_line(&tree, &engine, &["verify", IMAGE], "/get");
}

#[test]
fn invoke_stops_when_the_container_is_never_created() {
    let tree = Tree::new();
    let engine = WedgedEngine::start(&tree);
    stops_in_one_line(&tree, &engine, &["invoke", IMAGE], "/containers/create");
}

#[test]
fn build_stops_when_the_build_never_answers() {
    // BuildKit's session is opened first: the wedged engine never answers that either.
    for (builder, waiting_on) in [("classic", "/build"), ("buildkit", "/session")] {
        let tree = Tree::new();
        let engine = WedgedEngine::start(&tree);
        tree.write(
            "app/Dockerfile",
            format!("FROM {IMAGE}\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"),
        );
        tree.write("app/function.sh", "function handler () { echo ok; }\n");
        stops_in_one_line(
            &tree,
            &engine,
            &[
                "build",
                "--file",
                "app/Dockerfile",
                "-t",
                "lambda-image-test/wedged-out:1",
                "--builder",
                builder,
            ],
            waiting_on,
        );
    }
}

/// A push the engine never starts names the engine, not the registry (which answers).
#[test]
fn push_names_the_engine_when_the_engine_never_starts_it() {
    let tree = Tree::new();
    let engine = WedgedEngine::start(&tree);
    let registry = common::registry::Registry::start(None);
    let dest = format!("127.0.0.1:{}/wedged:1", registry.port);
    let cfg = tree.write("docker/config.json", "{}");
    let cfg_dir = cfg
        .parent()
        .expect("dir")
        .to_str()
        .expect("utf8")
        .to_string();
    stops_in_one_line_env(
        &tree,
        &engine,
        &[
            "push",
            IMAGE,
            "--to",
            &dest,
            "--no-verify",
            "--timeout",
            "60",
        ],
        "/push",
        &[("DOCKER_CONFIG", &cfg_dir)],
    );
}
