//! `lambda-image invoke` as a user runs it, on this machine's Docker Engine: a
//! provided.al2023 stand-in image (nothing pulled) whose `/var/runtime/bootstrap` is a
//! shell custom runtime speaking the Runtime API with busybox `wget`, as AWS's
//! custom-runtime tutorial does with curl, started through the stand-in
//! `/lambda-entrypoint.sh` unchanged. `MODE` (an `--env`) picks what the function does.
//! Each test removes its containers and images (`lambda-image-test/…` tags only).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::*;

const DEAD: &str = "unix:///nonexistent/lambda-image-test.sock";

const BOOTSTRAP: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
# `quiet` writes nothing before the invocation, so its lines come in one order.
if [ "$MODE" != quiet ]; then
  echo "init: handler $_HANDLER mode $MODE"
  echo "env: $AWS_LAMBDA_FUNCTION_NAME $AWS_LAMBDA_FUNCTION_VERSION $AWS_LAMBDA_FUNCTION_MEMORY_SIZE $AWS_REGION $AWS_DEFAULT_REGION $AWS_LAMBDA_LOG_GROUP_NAME" >&2
fi
case "$MODE" in
  init-error)
    busybox wget -q -O /dev/null --post-data '{"errorMessage":"no config","errorType":"Init.Config"}' "$api/init/error"
    exit 1;;
  exit)
    echo "bye"
    exit 3;;
esac
busybox wget -q -S -O /tmp/event "$api/invocation/next" 2>/tmp/headers || exit 1
id=$(grep -i 'Lambda-Runtime-Aws-Request-Id' /tmp/headers | tr -d '\r' | sed 's/^[^:]*: *//')
deadline=$(grep -i 'Lambda-Runtime-Deadline-Ms' /tmp/headers | tr -d '\r' | sed 's/^[^:]*: *//')
arn=$(grep -i 'Lambda-Runtime-Invoked-Function-Arn' /tmp/headers | tr -d '\r' | sed 's/^[^:]*: *//')
trace=$(grep -i 'Lambda-Runtime-Trace-Id' /tmp/headers | tr -d '\r' | sed 's/^[^:]*: *//')
echo "invoked: $id"
case "$MODE" in
  echo|quiet)
    busybox wget -q -O /dev/null --post-file /tmp/event "$api/invocation/$id/response";;
  error)
    busybox wget -q -O /dev/null --post-data '{"errorMessage":"it broke","errorType":"Handler.Failed","stackTrace":["at line 1"]}' "$api/invocation/$id/error";;
  sleep)
    sleep 60;;
  big)
    head -c 7340032 /dev/zero | tr '\0' a > /tmp/big
    busybox wget -q -O /dev/null --post-file /tmp/big "$api/invocation/$id/response"
    echo "posted big";;
  sandbox)
    if touch /var/task/x 2>/dev/null; then task=written; else task=refused; fi
    if echo hi > /tmp/x && [ "$(cat /tmp/x)" = hi ]; then tmp=ok; else tmp=failed; fi
    if mkdir /tmp/b && cp /usr/bin/busybox /tmp/b/ && /tmp/b/busybox true; then exec=ok; else exec=failed; fi
    uid=$(id -u)
    busybox wget -q -O /dev/null --post-data "{\"task\":\"$task\",\"tmp\":\"$tmp\",\"exec\":\"$exec\",\"uid\":\"$uid\",\"gid\":\"$(id -g)\"}" "$api/invocation/$id/response";;
  probe)
    bad_id=$(busybox wget -q -O /dev/null --post-data '{}' "$api/invocation/not-$id/response" 2>&1 | grep -o 'HTTP/1.1 [0-9]*')
    bad_method=$(busybox wget -q -O- "$api/invocation/$id/response" 2>&1 | grep -o 'HTTP/1.1 [0-9]*')
    late_init=$(busybox wget -q -O /dev/null --post-data '{}' "$api/init/error" 2>&1 | grep -o 'HTTP/1.1 [0-9]*')
    now=$(date +%s)
    busybox wget -q -O /dev/null --post-data "{\"bad_id\":\"$bad_id\",\"bad_method\":\"$bad_method\",\"late_init\":\"$late_init\",\"deadline\":$deadline,\"now\":$now,\"arn\":\"$arn\",\"trace\":\"$trace\"}" "$api/invocation/$id/response";;
esac
# As a real runtime does: ask for the next event, which never comes.
busybox wget -q -O /dev/null "$api/invocation/next"
"#;

/// A built stand-in function image, removed (with its base) when dropped.
struct Function {
    tree: Tree,
    image: String,
    _images: Images,
}

fn function() -> Function {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "fn/Dockerfile",
        format!(
            "FROM {base}\nRUN chmod 755 /tmp\nCOPY bootstrap ${{LAMBDA_RUNTIME_DIR}}/bootstrap\nCMD [\"function.handler\"]\n"
        ),
    );
    let bootstrap = tree.write("fn/bootstrap", BOOTSTRAP);
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    tree.write("event.json", r#"{"hello": "world"}"#);
    let image = images.track(&format!("lambda-image-test/invoke-{}:latest", unique()));
    let run = tree.run(&["build", "--file", "fn/Dockerfile", "-t", &image, "-q"]);
    assert_eq!(run.code, 0, "{}", run.both());
    Function {
        tree,
        image,
        _images: images,
    }
}

impl Function {
    fn invoke(&self, mode: &str, extra: &[&str]) -> Run {
        let env = format!("MODE={mode}");
        let mut args = vec!["invoke", &self.image, "--env", &env];
        args.extend_from_slice(extra);
        let run = self.tree.run(&args);
        assert_eq!(
            containers_from(&self.image),
            Vec::<String>::new(),
            "the container is removed: {}",
            run.both()
        );
        run
    }
}

fn report_line(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("REPORT RequestId: "))
        .unwrap_or_else(|| panic!("no REPORT line: {}", run.both()))
}

#[test]
fn the_event_is_echoed_back_with_lambdas_environment_and_report() {
    let f = function();
    let run = f.invoke(
        "echo",
        &[
            "--event",
            "event.json",
            "--memory",
            "256",
            "-e",
            "AWS_REGION=eu-west-1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(run.stdout, "{\"hello\": \"world\"}\n", "{}", run.both());
    assert!(
        run.stderr
            .contains("init: handler function.handler mode echo"),
        "{}",
        run.both()
    );
    let name = f
        .image
        .trim_start_matches("lambda-image-test/")
        .trim_end_matches(":latest");
    assert!(
        run.stderr.contains(&format!(
            "env: {name} $LATEST 256 eu-west-1 us-east-1 /aws/lambda/{name}"
        )),
        "{}",
        run.both()
    );
    let report = report_line(&run);
    let fields: Vec<&str> = report.split('\t').collect();
    assert_eq!(fields.len(), 6, "{report}");
    assert!(fields[1].starts_with("Duration: ") && fields[1].ends_with(" ms"));
    assert!(fields[2].starts_with("Billed Duration: "));
    assert_eq!(fields[3], "Memory Size: 256 MB");
    assert!(fields[4].starts_with("Max Memory Used: "), "{report}");
    assert!(fields[5].starts_with("Init Duration: "), "{report}");
    let id = fields[0].trim_start_matches("REPORT RequestId: ");
    // Lambda's START and END lines around the invocation's own output (lines written
    // before START may arrive after it: the output and the Runtime API are two channels).
    let lines: Vec<&str> = run.stderr.lines().collect();
    let at = |l: &str| {
        lines
            .iter()
            .position(|x| *x == l)
            .unwrap_or_else(|| panic!("{l}: {}", run.both()))
    };
    let start = at(&format!("START RequestId: {id} Version: $LATEST"));
    let end = at(&format!("END RequestId: {id}"));
    assert!(start < at(&format!("invoked: {id}")));
    assert!(at(&format!("invoked: {id}")) < end);
    assert_eq!(end + 1, at(report));

    // The same, as one JSON object; the event from standard input.
    let mut cmd = std::process::Command::new(BIN);
    cmd.args([
        "invoke",
        &f.image,
        "--env",
        "MODE=echo",
        "--event",
        "-",
        "-f",
        "json",
    ])
    .current_dir(f.tree.path())
    .stdin(std::fs::File::open(f.tree.join("event.json")).expect("event"));
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["response"], serde_json::json!({"hello": "world"}));
    assert_eq!(json["error"], serde_json::Value::Null);
    assert_eq!(json["memory_size_mb"], 512);
    assert!(json["duration_ms"].is_f64());
    assert!(
        json["max_memory_used_mb"].as_u64().is_some_and(|m| m > 0),
        "{json}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(json["logs"].as_array().is_some_and(|l| l
        .iter()
        .any(|x| x == "init: handler function.handler mode echo")));
    assert_eq!(containers_from(&f.image), Vec::<String>::new());

    // -v: how the container is set up, with the values the user gave left out.
    let run = f.invoke(
        "echo",
        &["--event", "event.json", "-v", "-e", "TOKEN=s3cret"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let setup = run
        .stderr
        .lines()
        .find(|l| l.starts_with("lambda-image: container lambda-image-invoke-"))
        .unwrap_or_else(|| panic!("no setup line: {}", run.both()));
    assert!(
        setup.contains(&format!(
            " from {}: user 993:990, read-only root, /tmp a 512 MB tmpfs, memory 512 MB, host network, Runtime API at 127.0.0.1:",
            f.image
        )),
        "{setup}"
    );
    let env = run
        .stderr
        .lines()
        .find(|l| l.starts_with("lambda-image: environment: "))
        .unwrap_or_else(|| panic!("no environment line: {}", run.both()));
    assert!(
        env.contains(" AWS_LAMBDA_FUNCTION_VERSION=$LATEST "),
        "{env}"
    );
    assert!(
        env.contains(" MODE=(given)") && env.ends_with(" TOKEN=(given)"),
        "{env}"
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.both());
}

/// The whole text output of an invocation, as a user reads it: the response on stdout,
/// Lambda's lines and the function's on stderr; what differs from run to run (the request id,
/// the durations, the memory used, the image's name) redacted.
#[test]
fn the_text_output_as_a_whole() {
    let f = function();
    let run = f.invoke("quiet", &["--event", "event.json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let filters = vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[REQUEST-ID]",
        ),
        (r"\b\d+(\.\d+)? ms\b", "[N] ms"),
        (r"Max Memory Used: \d+ MB", "Max Memory Used: [N] MB"),
        (r"lambda-image-test/invoke-[^ :]+", "[IMAGE]"),
    ];
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!(format!("stdout:\n{}stderr:\n{}", run.stdout, run.stderr));
    });
}

#[test]
fn an_error_a_crash_an_init_error_and_a_large_answer_exit_1_each_named() {
    let f = function();

    let run = f.invoke("error", &[]);
    assert_eq!(run.code, 1, "{}", run.both());
    let payload: serde_json::Value = serde_json::from_str(&run.stdout).expect("error payload");
    assert_eq!(
        payload,
        serde_json::json!({"errorMessage": "it broke", "errorType": "Handler.Failed", "stackTrace": ["at line 1"]})
    );
    assert!(
        run.stderr
            .contains("lambda-image: the function returned an error: Handler.Failed: it broke"),
        "{}",
        run.both()
    );
    assert!(report_line(&run).ends_with("\tStatus: error\tError Type: Handler.Failed"));

    let run = f.invoke("init-error", &[]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr
            .contains("lambda-image: the function failed to initialise: Init.Config: no config"),
        "{}",
        run.both()
    );

    let run = f.invoke("exit", &[]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stderr.contains("\nbye\n"), "{}", run.both());
    assert!(
        run.stderr
            .contains("lambda-image: the container exited with code 3 without answering"),
        "{}",
        run.both()
    );
    assert!(run.stdout.contains("Runtime.ExitError"), "{}", run.both());

    let run = f.invoke("big", &[]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr.contains("Function.ResponseSizeTooLarge: Response payload size exceeded maximum allowed payload size (6291556 bytes)."),
        "{}",
        run.both()
    );

    // -q: the log lines are not streamed, so the last ones come with the failure.
    let run = f.invoke("exit", &["-q"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stderr.contains("  | bye\n"), "{}", run.both());
}

#[test]
fn the_timeout_ends_the_invocation_and_the_container() {
    let f = function();
    let started = Instant::now();
    // A function's run is not the engine's to bound: --engine-timeout shorter than it is fine.
    let run = f.invoke("sleep", &["--timeout", "2", "--engine-timeout", "1"]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert!(
        run.stderr
            .contains("lambda-image: the function timed out after 2.00 seconds"),
        "{}",
        run.both()
    );
    let report = report_line(&run);
    assert!(report.ends_with("\tStatus: timeout"), "{report}");
    assert!(report.contains("\tDuration: 2000.00 ms\t"), "{report}");
    assert!(run.stdout.contains("Task timed out after 2.00 seconds"));
}

#[test]
fn the_function_runs_as_a_user_on_a_read_only_root_with_a_writable_tmp() {
    // The image's /tmp is 0755 (see `function`): Lambda's /tmp is writable anyway.
    let f = function();
    let run = f.invoke("sandbox", &[]);
    assert_eq!(run.code, 0, "{}", run.both());
    let answer: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(answer["task"], "refused", "{}", run.both());
    assert_eq!(answer["tmp"], "ok", "{}", run.both());
    assert_eq!(answer["exec"], "ok", "{}", run.both());
    assert_ne!(answer["uid"], "0");
    assert_eq!(answer["uid"], "993");
    assert_eq!(answer["gid"], "990");
}

#[test]
fn the_runtime_api_answers_bad_requests_with_lambdas_codes() {
    let f = function();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let run = f.invoke("probe", &["--timeout", "20"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let answer: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(answer["bad_id"], "HTTP/1.1 400", "{answer}");
    assert_eq!(answer["bad_method"], "HTTP/1.1 405", "{answer}");
    assert_eq!(answer["late_init"], "HTTP/1.1 403", "{answer}");
    let deadline = answer["deadline"].as_u64().expect("deadline ms") / 1000;
    assert!(
        deadline >= before + 19 && deadline <= before + 40,
        "{deadline} vs {before}"
    );
    let arn = answer["arn"].as_str().expect("arn");
    assert!(
        arn.starts_with("arn:aws:lambda:us-east-1:000000000000:function:invoke-"),
        "{arn}"
    );
    assert!(
        answer["trace"]
            .as_str()
            .is_some_and(|t| t.starts_with("Root=1-") && t.contains(";Parent=")),
        "{answer}"
    );
}

/// Ctrl-C, SIGTERM (a cancelled CI job, `docker stop`) and SIGHUP while the function runs:
/// the container is removed at once and the exit code is the signal's (130, 143, 129).
#[test]
fn a_signal_removes_the_container_and_exits_with_its_code() {
    let f = function();
    for (signal, exit, last) in STOP_SIGNALS {
        let invoke = f.tree.spawn_env(
            &["invoke", &f.image, "--env", "MODE=sleep", "--timeout", "60"],
            &[],
        );
        // Wait for the container to be running.
        let started = Instant::now();
        while containers_from(&f.image).is_empty() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        let (code, took, stderr) = invoke.signal(signal);
        assert_eq!(code, Some(exit), "SIG{signal}: {stderr}");
        assert!(stderr.ends_with(last), "SIG{signal}: {stderr}");
        assert!(took < Duration::from_secs(10), "SIG{signal}: {took:?}");
        assert_eq!(
            containers_from(&f.image),
            Vec::<String>::new(),
            "SIG{signal}"
        );
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let tree = Tree::new();
    let dead = [("DOCKER_HOST", DEAD)];
    tree.write("bad.json", "{not json");
    tree.write("env", "OK=1\nnot ok\n");
    tree.run_env(&["invoke", "x:1", "--timeout", "0"], &dead)
        .assert_error("--timeout 0: Lambda's timeout is 1 to 900 seconds");
    tree.run_env(&["invoke", "x:1", "--timeout", "901"], &dead)
        .assert_error("--timeout 901: Lambda's timeout is 1 to 900 seconds");
    tree.run_env(&["invoke", "x:1", "--memory", "64"], &dead)
        .assert_error("--memory 64: Lambda's memory is 128 to 10240 MB");
    tree.run_env(&["invoke", "x:1", "--event", "bad.json"], &dead)
        .assert_error_starts("bad.json: the event is not JSON (key must be a string at line 1 column 2); Lambda accepts only JSON events");
    tree.run_env(&["invoke", "x:1", "--event", "missing.json"], &dead)
        .assert_error_starts("reading missing.json: ");
    tree.run_env(&["invoke", "x:1", "--env", "1A=b"], &dead)
        .assert_error("--env: `1A` is not an environment variable name (letters, digits, `_`)");
    tree.run_env(
        &["invoke", "x:1", "--env", "LAMBDA_IMAGE_TEST_UNSET_VARIABLE"],
        &dead,
    )
    .assert_error("--env: `LAMBDA_IMAGE_TEST_UNSET_VARIABLE` is not set in this environment");
    tree.run_env(&["invoke", "x:1", "--env-file", "env"], &dead)
        .assert_error("env:2: `not ok` is not an environment variable name (letters, digits, `_`)");
    tree.run_env(&["invoke", "x?all=1"], &dead).assert_error(
        "`x?all=1` is not an image reference (name[:tag], name@digest or an image id)",
    );
    tree.run_env(&["invoke", "x:1"], &dead).assert_error(&format!(
        "cannot reach the Docker Engine at {DEAD} (/nonexistent/lambda-image-test.sock does not exist); start Docker or set DOCKER_HOST"
    ));
    // A spec names the image `build` tagged.
    tree.write(
        "images/fn/image.yaml",
        "runtime: provided.al2023\narchitectures: [x86_64]\nbootstrap: {src: bootstrap}\ntags: [lambda-image-test/never-built-invoke:1]\n",
    );
    let bootstrap = tree.write("images/fn/bootstrap", "#!/bin/sh\n");
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    tree.run_env(&["invoke", "images/fn", "--arch", "arm64"], &dead)
        .assert_error(&format!(
            "{}: --arch arm64 is not one of the spec's architectures (x86_64)",
            std::path::Path::new("images/fn")
                .join("image.yaml")
                .display()
        ));
    tree.run(&["invoke", "images/fn"]).assert_error(
        "image `lambda-image-test/never-built-invoke:1` is not in the Docker Engine (docker images lists what is; lambda-image never pulls)",
    );
}

#[test]
fn a_failing_smoke_test_stops_build_and_leaves_no_tag() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let tag = images.track(&format!(
        "lambda-image-test/invoke-smoke-{}:latest",
        unique()
    ));
    let spec = |contains: &str| {
        format!(
            "runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: bootstrap}}\nenv: {{MODE: echo}}\ntags: [{tag}]\nsmoke:\n  - {{event: events/ping.json, expect: {{status: ok, contains: {contains}}}}}\n"
        )
    };
    tree.write("images/fn/image.yaml", spec("pong"));
    let bootstrap = tree.write("images/fn/bootstrap", BOOTSTRAP);
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    tree.write("images/fn/events/ping.json", r#"{"ping": 1}"#);

    let run = tree.run(&["build", "images/fn", "--report", "report.json"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains("failed at smoke") || run.stderr.contains("failed at smoke"),
        "{}",
        run.both()
    );
    assert!(
        run.both()
            .contains("smoke test events/ping.json: the response does not contain \"pong\"; the image is left untagged as sha256:"),
        "{}",
        run.both()
    );
    assert!(!images.exists(&tag), "no tag: {}", run.both());
    let report: serde_json::Value =
        serde_json::from_str(&tree.read("report.json")).expect("report");
    let image = &report["images"][0];
    assert_eq!(image["failed_at"], "smoke");
    assert_eq!(image["smoke"][0]["passed"], false);
    assert_eq!(image["smoke"][0]["status"], "ok");
    if let Some(id) = image["image_id"].as_str() {
        images.forget(id);
    }
    assert_eq!(containers_from(&base), Vec::<String>::new());

    // --no-smoke says so and tags; a passing smoke test tags too.
    let run = tree.run(&["build", "images/fn", "--no-smoke"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run
        .stderr
        .contains("--no-smoke: the specs' smoke tests will not be run"));
    assert!(images.exists(&tag));
    // push's gate runs them too: nothing is sent (the registry's port is closed).
    let run = tree.run(&[
        "push",
        "images/fn",
        "--to",
        "127.0.0.1:9/fn:1",
        "--timeout",
        "2",
    ]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.both().contains(
            "smoke test events/ping.json: the response does not contain \"pong\"; not pushed"
        ),
        "{}",
        run.both()
    );
    tree.write("images/fn/image.yaml", spec("ping"));
    let run = tree.run(&["build", "images/fn", "--report", "report.json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report: serde_json::Value =
        serde_json::from_str(&tree.read("report.json")).expect("report");
    assert_eq!(report["images"][0]["smoke"][0]["passed"], true, "{report}");
    assert!(images.exists(&tag));
    // The image passed its checks and its smoke tests: push's gate does not run them again
    // (the registry's port is closed, so the push itself fails).
    let run = tree.run(&[
        "push",
        "images/fn",
        "--to",
        "127.0.0.1:9/fn:1",
        "--timeout",
        "2",
    ]);
    assert!(run.stderr.contains("verified before"), "{}", run.both());
    assert!(!run.stderr.contains("| smoke tests"), "{}", run.both());
    assert!(!run.both().contains("not pushed"), "{}", run.both());
    // `invoke images/<name>` runs the image `build` tagged.
    let run = tree.run(&[
        "invoke",
        "images/fn",
        "--event",
        "images/fn/events/ping.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(run.stdout, "{\"ping\": 1}\n", "{}", run.both());
    assert!(run.stderr.contains("env: fn $LATEST"), "{}", run.both());

    // A bad smoke entry is a spec error.
    tree.write(
        "images/fn/image.yaml",
        format!("runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: bootstrap}}\nsmoke:\n  - {{event: events/ping.json, expect: {{status: maybe}}}}\n"),
    );
    tree.run(&["build", "images/fn"])
        .assert_error("images/fn/image.yaml:5:48: smoke.expect.status: 'maybe' is not ok or error");
    tree.write(
        "images/fn/image.yaml",
        format!("runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: bootstrap}}\nsmoke:\n  - {{event: events/missing.json}}\n"),
    );
    tree.run(&["build", "images/fn"])
        .assert_error_starts("images/fn/image.yaml:5:13: smoke.event: ");
    // An event that is not JSON is the spec's error, at its line, before any build.
    tree.write("images/fn/events/bad.json", "{not json");
    tree.write(
        "images/fn/image.yaml",
        format!("runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: bootstrap}}\nsmoke:\n  - {{event: events/bad.json}}\n"),
    );
    let run = tree.run(&["build", "images/fn"]);
    run.assert_error_starts("images/fn/image.yaml:5:13: smoke.event: ");
    assert!(
        run.stderr.contains("the event is not JSON"),
        "{}",
        run.both()
    );
}

/// An arm64 function with a RUN step, on this amd64 engine under QEMU: its smoke test
/// passes in `build` (the function reports `aarch64`), and `invoke` runs it as Lambda on
/// Graviton would.
#[test]
fn an_arm64_function_is_smoke_tested_and_invoked_under_emulation() {
    if host_arch() != "x86_64" {
        return;
    }
    require_arm64_emulation();
    let mut images = Images::new();
    let base = images.base_arm64("provided.al2023");
    let tree = Tree::new();
    let tag = images.track(&format!("lambda-image-test/invoke-arm64-{}:1", unique()));
    echo_spec(
        &tree,
        "fn",
        &base,
        &tag,
        "aarch64",
        "architectures: [arm64]\n",
    );
    let run = tree.run(&["build", "images/fn", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report = run.json();
    assert_eq!(report["images"][0]["platform"], "linux/arm64", "{report}");
    assert_eq!(report["images"][0]["status"], "built", "{report}");
    let smoke = &report["images"][0]["smoke"];
    assert_eq!(smoke[0]["passed"], true, "{report}");
    assert_eq!(smoke[0]["event"], "events/ping.json", "{report}");
    tree.write("event.json", r#"{"hello": "graviton"}"#);
    let run = tree.run(&["invoke", "images/fn", "--event", "event.json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.stdout.trim(),
        r#"{"arch": "aarch64", "event": {"hello": "graviton"}}"#,
        "{}",
        run.both()
    );
    assert_eq!(containers_from(&tag), Vec::<String>::new());
}
