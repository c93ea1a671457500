//! lambda-image where users run it. The GitHub Action: action.yml's composite steps run as the
//! runner runs them (their `env` with the `${{ … }}` expressions filled in, `run` through
//! `bash -eo pipefail`, stand-in GITHUB_OUTPUT, GITHUB_PATH and GITHUB_STEP_SUMMARY files),
//! on lint fixtures, on a real build and push to Debian's `docker-registry`, and on a release
//! archive served from a folder. The pre-commit hooks, through `pre-commit try-repo`. The
//! workflows and the Action through actionlint, zizmor (offline) and shellcheck, and the
//! README's recipes. The tools come from `make test-deps` (target/test-tools, else PATH).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::registry::Registry;
use common::*;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A tool the tests run: target/test-tools/bin (`make test-deps`) first, then PATH.
fn tool(name: &str) -> PathBuf {
    let venv = Path::new(ROOT).join("target/test-tools/bin").join(name);
    if venv.is_file() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{name} is not installed: `make test-deps` installs it"))
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join(rel)).expect(rel);
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

// ---------------------------------------------------------------------------------------
// The Action, as the runner runs it.

/// What a composite step did: its exit code, output, the outputs it wrote, and the lines it
/// added to GITHUB_PATH.
struct Step {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    path: Vec<String>,
}

impl Step {
    fn both(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}--- outputs\n{:?}",
            self.code, self.stdout, self.stderr, self.outputs
        )
    }

    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output {name}: {}", self.both()))
    }
}

/// The runner's side of a run: the step outputs so far, the expression values, and the
/// environment every step gets.
struct Runner<'a> {
    tree: &'a Tree,
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    action_ref: String,
    env: Vec<(String, String)>,
}

impl<'a> Runner<'a> {
    fn new(tree: &'a Tree, inputs: &[(&str, &str)]) -> Runner<'a> {
        let action = yaml("action.yml");
        let mut values = BTreeMap::new();
        for (name, input) in action["inputs"].as_object().expect("inputs") {
            if let Some(default) = input["default"].as_str() {
                values.insert(name.clone(), default.to_string());
            }
        }
        for (k, v) in inputs {
            assert!(
                action["inputs"].get(*k).is_some(),
                "action.yml has no input {k}"
            );
            values.insert(k.to_string(), v.to_string());
        }
        std::fs::create_dir_all(tree.join("runner-temp")).expect("mkdir");
        Runner {
            tree,
            inputs: values,
            steps: BTreeMap::new(),
            action_ref: String::new(),
            env: Vec::new(),
        }
    }

    /// The value of one `${{ … }}` expression; an expression the test does not know fails it.
    fn eval(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.trim().split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            ["github", "action_ref"] => self.action_ref.clone(),
            _ => panic!("action.yml uses an expression this test does not know: {expr}"),
        }
    }

    fn fill(&self, text: &str) -> String {
        let re = regex::Regex::new(r"\$\{\{(.*?)\}\}").expect("regex");
        re.replace_all(text, |c: &regex::Captures| self.eval(&c[1]))
            .into_owned()
    }

    /// Runs the step `id` of action.yml in `dir` (relative to the tree).
    fn step(&mut self, id: &str, dir: &str) -> Step {
        let action = yaml("action.yml");
        let step = action["runs"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("action.yml has no step {id}"))
            .clone();
        assert_eq!(step["shell"], "bash", "step {id}");
        let script = step["run"].as_str().expect("run");
        assert!(
            !script.contains("${{"),
            "step {id} interpolates into its script: {script}"
        );
        let n = self.steps.len();
        let file = |name: &str| {
            let p = self.tree.join(&format!("runner-temp/{id}-{n}-{name}"));
            std::fs::write(&p, "").expect("write");
            p
        };
        let (output, path, script_file) = (file("output"), file("path"), file("script.sh"));
        std::fs::write(&script_file, script).expect("write");
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(self.tree.join(dir))
            .stdin(Stdio::null())
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_PATH", &path)
            .env("GITHUB_STEP_SUMMARY", self.tree.join("summary.md"))
            .env("RUNNER_TEMP", self.tree.join("runner-temp"))
            .env("RUNNER_OS", "Linux")
            .env(
                "RUNNER_ARCH",
                if host_arch() == "arm64" {
                    "ARM64"
                } else {
                    "X64"
                },
            )
            .env("NO_COLOR", "1")
            .env_remove("LAMBDA_IMAGE_COLOR")
            .env(
                "LAMBDA_IMAGE_CACHE_DIR",
                self.tree.join(".lambda-image-cache"),
            );
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            cmd.env(k, self.fill(v.as_str().expect("env value")));
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash");
        let outputs = parse_outputs(&std::fs::read_to_string(&output).expect("read"));
        self.steps.insert(id.to_string(), outputs.clone());
        Step {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
            path: std::fs::read_to_string(&path)
                .expect("read")
                .lines()
                .map(String::from)
                .collect(),
        }
    }

    /// The action's outputs, as its `outputs:` map them from the steps'.
    fn outputs(&self) -> BTreeMap<String, String> {
        let action = yaml("action.yml");
        action["outputs"]
            .as_object()
            .expect("outputs")
            .iter()
            .map(|(name, o)| (name.clone(), self.fill(o["value"].as_str().expect("value"))))
            .collect()
    }
}

/// GITHUB_OUTPUT's two forms: `name=value` and `name<<DELIMITER` … `DELIMITER`.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

/// The run step in the tree, with the binary of this build as the install step's `bin` and
/// `env` added; (the step, the action's outputs).
fn run_action(
    tree: &Tree,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
) -> (Step, BTreeMap<String, String>) {
    let mut runner = Runner::new(tree, inputs);
    runner.steps.insert(
        "install".into(),
        BTreeMap::from([("bin".to_string(), BIN.to_string())]),
    );
    runner.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let step = runner.step("run", ".");
    let outputs = runner.outputs();
    (step, outputs)
}

const YUM: &str =
    "FROM public.ecr.aws/lambda/python:3.12\nRUN yum install -y gcc\nCMD [\"app.handler\"]\n";
const CLEAN: &str = "FROM public.ecr.aws/lambda/python:3.12\nRUN dnf install -y gcc && dnf clean all\nCMD [\"app.handler\"]\n";

#[test]
fn a_lint_finding_is_an_annotation_and_fails_the_step() {
    let tree = Tree::new();
    tree.write("my app/Dockerfile", YUM);
    // Quotes keep a path with a space one word.
    let (step, outputs) = run_action(
        &tree,
        &[("command", "lint"), ("args", r#""my app/Dockerfile""#)],
        &[],
    );
    assert_eq!(step.code, 1, "{}", step.both());
    assert!(
        step.stdout.contains(
            "::error title=lambda-image (LI101),file=my app/Dockerfile,line=2,col=5,endLine=2,endColumn=8::"
        ),
        "{}",
        step.both()
    );
    assert_eq!(outputs["exit-code"], "1");
    assert_eq!(outputs["digests"], "[]");
    assert_eq!(outputs["report"], "");
}

#[test]
fn a_clean_file_passes_in_the_working_directory_with_the_format_given() {
    let tree = Tree::new();
    tree.write("svc/Dockerfile", CLEAN);
    tree.write("svc/worker.Dockerfile", YUM);
    let (step, outputs) = run_action(
        &tree,
        &[
            ("command", "lint"),
            ("args", "Dockerfile\n--format text"),
            ("working-directory", "svc"),
        ],
        &[],
    );
    assert_eq!(step.code, 0, "{}", step.both());
    assert!(
        step.stdout.contains("No findings. Checked 1 file."),
        "{}",
        step.both()
    );
    assert!(!step.stdout.contains("::"), "{}", step.both());
    assert_eq!(outputs["exit-code"], "0");
}

#[test]
fn bad_inputs_fail_the_step_before_anything_runs() {
    let tree = Tree::new();
    tree.write("Dockerfile", YUM);
    let (step, outputs) = run_action(&tree, &[("command", "render"), ("args", "--all")], &[]);
    assert_eq!(step.code, 2, "{}", step.both());
    assert_eq!(
        step.stdout,
        "::error title=lambda-image::input command must be build, lint, verify or push, not 'render'\n"
    );
    assert_eq!(outputs["exit-code"], "");

    let (step, outputs) = run_action(&tree, &[("command", "lint"), ("args", "\"Dockerfile")], &[]);
    assert_eq!(step.code, 2, "{}", step.both());
    assert!(
        step.stdout.contains(
            "::error title=lambda-image::input args could not be split into words (an unmatched quote?)"
        ),
        "{}",
        step.both()
    );
    assert_eq!(outputs["exit-code"], "");
}

/// A real build and push through the Action: the report, the job summary, and the digests the
/// registry holds, from build's report and from push's digest file (text and JSON).
#[test]
fn build_and_push_report_the_digests_the_registry_holds() {
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    tree.write(
        "app/Dockerfile",
        format!(
            "FROM {base}\nCOPY function.sh ${{LAMBDA_TASK_ROOT}}/\nCMD [\"function.handler\"]\n"
        ),
    );
    tree.write("app/function.sh", "function handler () { echo ok; }\n");
    tree.write("dockercfg/config.json", "{}");
    let cfg = tree.join("dockercfg");
    let env = [("DOCKER_CONFIG", cfg.to_str().expect("utf8"))];
    let local = images.track(&format!("lambda-image-test/action-{}:1", unique()));
    let host = registry.host();
    for tag in ["v1", "v2", "v3"] {
        images.track(&format!("{host}/action:{tag}"));
    }

    let args = format!("--file app/Dockerfile -t {local} --push --to {host}/action:v1");
    let (step, outputs) = run_action(&tree, &[("command", "build"), ("args", &args)], &env);
    assert_eq!(step.code, 0, "{}", step.both());
    let digest = registry.manifest("action", "v1").1;
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(outputs["exit-code"], "0");
    assert_eq!(
        serde_json::from_str::<Value>(&outputs["digests"]).expect("JSON"),
        serde_json::json!([format!("{host}/action@{digest}")])
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs["report"]).expect("the report"))
            .expect("JSON");
    assert_eq!(report["schema"], "lambda-image/build-report/v1");
    assert_eq!(report["images"][0]["status"], "built");
    let summary = tree.read("summary.md");
    assert!(
        summary.starts_with("### lambda-image build") && summary.contains(&format!("`{local}`")),
        "{summary}"
    );

    // push: the digest file, as text and (with --format json) as JSON.
    for (tag, extra) in [("v2", ""), ("v3", " --format json")] {
        let args = format!("{local} --to {host}/action:{tag}{extra}");
        let (step, outputs) = run_action(&tree, &[("command", "push"), ("args", &args)], &env);
        assert_eq!(step.code, 0, "{}", step.both());
        let digest = registry.manifest("action", tag).1;
        assert_eq!(
            serde_json::from_str::<Value>(&outputs["digests"]).expect("JSON"),
            serde_json::json!([format!("{host}/action@{digest}")]),
            "{}",
            step.both()
        );
        assert_eq!(outputs["report"], "");
    }
}

/// A release archive (served from a folder, as a mirror of the releases would) is installed
/// only when its SHA-256 is the published one.
#[test]
fn a_release_is_installed_only_with_its_checksum() {
    let tree = Tree::new();
    let target = if host_arch() == "arm64" {
        "aarch64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-musl"
    };
    let name = format!("lambda-image-{VERSION}-{target}");
    let releases = tree.join("releases");
    let dir = releases.join(format!("v{VERSION}"));
    std::fs::create_dir_all(dir.join(&name)).expect("mkdir");
    std::fs::copy(BIN, dir.join(&name).join("lambda-image")).expect("copy");
    let tar = Command::new("tar")
        .args(["-czf", &format!("{name}.tar.gz"), &name])
        .current_dir(&dir)
        .status()
        .expect("tar");
    assert!(tar.success());
    let sum = Command::new("sha256sum")
        .arg(format!("{name}.tar.gz"))
        .current_dir(&dir)
        .output()
        .expect("sha256sum");
    std::fs::write(dir.join(format!("{name}.tar.gz.sha256")), &sum.stdout).expect("write");
    let url = format!("file://{}", releases.display());

    let mut runner = Runner::new(&tree, &[("command", "lint"), ("version", VERSION)]);
    runner.env = vec![("LAMBDA_IMAGE_RELEASES_URL".into(), url.clone())];
    let plan = runner.step("plan", ".");
    assert_eq!(plan.code, 0, "{}", plan.both());
    assert_eq!(plan.output("mode"), "release");
    assert_eq!(plan.output("target"), target);
    let install = runner.step("install", ".");
    assert_eq!(install.code, 0, "{}", install.both());
    let bin = install.output("bin").to_string();
    assert_eq!(
        install.path,
        vec![bin.trim_end_matches("/lambda-image").to_string()]
    );
    let said = Command::new(&bin)
        .arg("--version")
        .output()
        .expect("run it");
    assert_eq!(
        String::from_utf8_lossy(&said.stdout).trim(),
        format!("lambda-image {VERSION}")
    );

    // The same archive with another checksum published: nothing is installed.
    std::fs::write(
        dir.join(format!("{name}.tar.gz.sha256")),
        format!("{}  {name}.tar.gz\n", "0".repeat(64)),
    )
    .expect("write");
    let tree = Tree::new();
    let mut runner = Runner::new(&tree, &[("command", "lint"), ("version", VERSION)]);
    runner.env = vec![("LAMBDA_IMAGE_RELEASES_URL".into(), url)];
    assert_eq!(runner.step("plan", ".").code, 0);
    let install = runner.step("install", ".");
    assert_eq!(install.code, 1, "{}", install.both());
    assert!(
        install.stdout.contains(&format!(
            "::error title=lambda-image::{name}.tar.gz has SHA-256 "
        )) && install.stdout.contains(&format!(
            "but its .sha256 says {}: not installed",
            "0".repeat(64)
        )),
        "{}",
        install.both()
    );
    assert!(!install.outputs.contains_key("bin"), "{}", install.both());
    assert!(install.path.is_empty());
}

/// Without `version`, the action builds its own checkout (cached by its sources), unless it
/// runs at the tag of the checkout's version, where the release is downloaded (and the
/// checkout built if that fails).
#[test]
fn the_plan_builds_the_checkout_unless_the_action_runs_at_its_release_tag() {
    let tree = Tree::new();
    let plan = |version: &str, action_ref: &str| {
        let mut runner = Runner::new(&tree, &[("command", "lint"), ("version", version)]);
        runner.action_ref = action_ref.to_string();
        runner.step("plan", ".")
    };
    let main = plan("", "main");
    assert_eq!(main.code, 0, "{}", main.both());
    assert_eq!(main.output("mode"), "source");
    let prefix = main.output("cache-prefix");
    assert!(prefix.starts_with("lambda-image-action-Linux-"), "{prefix}");
    assert!(main.output("cache-key").len() > prefix.len());
    assert!(main.output("cache-key").starts_with(prefix));
    assert!(main
        .output("target-dir")
        .ends_with("/lambda-image-action/target"));

    let tagged = plan("", &format!("v{VERSION}"));
    assert_eq!(tagged.output("mode"), "release");
    assert_eq!(tagged.output("version"), VERSION);
    assert_eq!(tagged.output("fallback"), "source");
    // The cache key names the same sources whatever the ref.
    assert_eq!(tagged.output("cache-key"), main.output("cache-key"));

    assert_eq!(plan("", "v0.0.0-other").output("mode"), "source");
    assert_eq!(
        plan("source", &format!("v{VERSION}")).output("mode"),
        "source"
    );
    let explicit = plan(&format!("v{VERSION}"), "main");
    assert_eq!(explicit.output("mode"), "release");
    assert_eq!(explicit.output("fallback"), "none");

    let bad = plan("latest", "main");
    assert_eq!(bad.code, 2, "{}", bad.both());
    assert!(
        bad.stdout
            .contains("::error title=lambda-image::input version must be empty"),
        "{}",
        bad.both()
    );
}

// ---------------------------------------------------------------------------------------
// pre-commit.

/// `files`/`exclude` of the lint hook pick exactly the files `lint .` finds: a tree of names
/// in several folders, each file with a finding, against what `lint --format json .` reports.
#[test]
fn the_lint_hook_takes_the_files_lint_finds() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hook = hooks
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["id"] == "lambda-image-lint")
        .expect("lambda-image-lint");
    let files = regex::Regex::new(hook["files"].as_str().expect("files")).expect("files");
    let exclude = regex::Regex::new(hook["exclude"].as_str().expect("exclude")).expect("exclude");
    let mut names: Vec<String> = Vec::new();
    for base in ["Dockerfile", "dockerfile", "CONTAINERFILE", "Containerfile"] {
        names.push(base.to_string());
        for suffix in [
            "al2",
            "dev",
            "arm64",
            "j2",
            "Jinja2",
            "tmpl",
            "md",
            "json",
            "yml",
            "sh",
            "py",
            "bak",
            "orig",
            "old",
            "backup",
            "copy",
            "swp",
            "dockerignore",
            "lambda",
            "",
        ] {
            for sep in ['.', '-', '_'] {
                names.push(format!("{base}{sep}{suffix}"));
            }
        }
        for prefix in ["api", "worker.arm64", "x"] {
            names.push(format!("{prefix}.{base}"));
            names.push(format!("{prefix}.{base}.j2"));
            names.push(format!("{prefix}.{base}.dockerignore"));
            names.push(format!("{prefix}-{base}"));
            names.push(format!("{prefix}{base}"));
        }
        names.extend([
            format!("{base}~"),
            format!("{base}s"),
            format!("{base}.al2~"),
        ]);
    }
    names.extend(["README.md", "docker-compose.yml", "dockerfile_lint.json"].map(String::from));
    let tree = Tree::new();
    let mut hook_takes = std::collections::BTreeSet::new();
    for dir in [
        "",
        "services/api.v2/",
        ".devcontainer/",
        "target/",
        "Target/",
        "web/node_modules/pkg/",
    ] {
        for name in &names {
            let path = format!("{dir}{name}");
            tree.write(&path, YUM);
            if files.is_match(&path) && !exclude.is_match(&path) {
                hook_takes.insert(path);
            }
        }
    }
    let run = tree.run(&["lint", "--format", "json", "--no-config", "."]);
    assert_eq!(run.code, 1, "{}", run.both());
    let lint_finds: std::collections::BTreeSet<String> = run
        .json()
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["file"].as_str().expect("file").to_string())
        .collect();
    assert!(lint_finds.len() > 100, "{}", lint_finds.len());
    let only_hook: Vec<_> = hook_takes.difference(&lint_finds).collect();
    let only_lint: Vec<_> = lint_finds.difference(&hook_takes).collect();
    assert!(
        only_hook.is_empty() && only_lint.is_empty(),
        "only the hook takes {only_hook:?}; only lint finds {only_lint:?}"
    );
}

/// `pre-commit try-repo` with this repository, in a repository of a user's. The hooks'
/// `language: rust` builds lambda-image with `cargo install` (a release build, over 3 minutes
/// on 2 cores): here unoptimised, into a target folder kept between runs.
fn try_repo(consumer: &Tree) -> Run {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = Command::new(tool("pre-commit"))
        .args(["try-repo", ROOT, "--all-files", "--color", "never"])
        .current_dir(consumer.path())
        .stdin(Stdio::null())
        .env("PRE_COMMIT_HOME", cache.join("pre-commit-home"))
        .env("CARGO_TARGET_DIR", cache.join("pre-commit-target"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("GIT_AUTHOR_NAME", "lambda-image tests")
        .env("GIT_AUTHOR_EMAIL", "tests@lambda-image.invalid")
        .env("GIT_COMMITTER_NAME", "lambda-image tests")
        .env("GIT_COMMITTER_EMAIL", "tests@lambda-image.invalid")
        .env("NO_COLOR", "1")
        .output()
        .expect("pre-commit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A repository of a user's: `Dockerfile` and a spec `images/orders` rendered by
/// `render --write`, everything staged (pre-commit stashes what is not).
fn consumer(dockerfile: &str, stale_spec: bool) -> Tree {
    let tree = Tree::new();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(tree.path())
            .stdout(Stdio::null())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    tree.write("Dockerfile", dockerfile);
    assert_eq!(
        tree.run(&["new", "images/orders", "--runtime", "python3.13"])
            .code,
        0
    );
    assert_eq!(tree.run(&["render", "--all", "--write"]).code, 0);
    if stale_spec {
        let spec = tree.read("images/orders/image.yaml");
        tree.write(
            "images/orders/image.yaml",
            spec.replace("packages: []", "packages: [libpq]"),
        );
    }
    git(&["add", "-A"]);
    tree
}

/// The status pre-commit prints for a hook: `Passed`, `Failed` or `Skipped`.
fn status<'r>(run: &'r Run, hook: &str) -> &'r str {
    run.stdout
        .lines()
        .find(|l| l.starts_with(hook) && l.contains("..."))
        .and_then(|l| l.rsplit('.').next())
        .unwrap_or_else(|| panic!("no status for {hook}: {}", run.both()))
}

#[test]
fn pre_commit_hooks_report_findings_and_stale_dockerfiles() {
    const LINT: &str = "lambda-image lint";
    const RENDER: &str = "lambda-image render --all --check";

    // Each try-repo installs the hooks anew (in a temporary store): two runs, not four.
    let run = try_repo(&consumer(YUM, true));
    assert_eq!(run.code, 1, "{}", run.both());
    assert_eq!(status(&run, LINT), "Failed", "{}", run.both());
    assert!(
        run.stdout.contains("error[LI101]") && run.stdout.contains("--> Dockerfile:2:5"),
        "{}",
        run.both()
    );
    assert_eq!(status(&run, RENDER), "Failed", "{}", run.both());
    assert!(
        run.stdout
            .contains("+RUN dnf install -y --setopt=install_weak_deps=0 --nodocs libpq"),
        "{}",
        run.both()
    );

    let run = try_repo(&consumer(CLEAN, false));
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(status(&run, LINT), "Passed", "{}", run.both());
    assert_eq!(status(&run, RENDER), "Passed", "{}", run.both());
}

// ---------------------------------------------------------------------------------------
// The workflow checks.

fn run_in_root(program: &Path, args: &[&str]) -> Run {
    let out = Command::new(program)
        .args(args)
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// actionlint checks every workflow (and, through `uses: ./`, the Action's inputs), with
/// shellcheck on their scripts.
#[test]
fn workflows_pass_actionlint() {
    let shellcheck = tool("shellcheck");
    let run = run_in_root(
        &tool("actionlint"),
        &["-shellcheck", shellcheck.to_str().expect("utf8")],
    );
    assert_eq!(run.code, 0, "{}", run.both());
}

#[test]
fn workflows_and_the_action_pass_zizmor() {
    let run = run_in_root(&tool("zizmor"), &["--offline", "--no-progress", "."]);
    assert_eq!(run.code, 0, "{}", run.both());
    for input in [
        "./action.yml",
        "./.github/workflows/ci.yml",
        "./.github/workflows/release.yml",
    ] {
        assert!(
            run.stderr.contains(&format!("completed {input}")),
            "{input} not audited: {}",
            run.both()
        );
    }
    assert!(
        run.stdout.contains("No findings to report."),
        "{}",
        run.both()
    );
}

/// The README's recipes, each a ```yaml block after a `<!-- checked: KIND -->` line.
fn readme_recipes(kind: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let marker = format!("<!-- checked: {kind} -->\n```yaml\n");
    readme
        .match_indices(&marker)
        .map(|(at, m)| {
            let body = &readme[at + m.len()..];
            body[..body.find("\n```\n").expect("a closing fence") + 1].to_string()
        })
        .collect()
}

#[test]
fn the_readme_recipes_are_valid() {
    let tree = Tree::new();
    let workflows = readme_recipes("actionlint");
    assert_eq!(workflows.len(), 1);
    let shellcheck = tool("shellcheck");
    for (i, w) in workflows.iter().enumerate() {
        let file = tree.write(&format!(".github/workflows/recipe-{i}.yml"), w);
        let out = Command::new(tool("actionlint"))
            .args(["-shellcheck", shellcheck.to_str().expect("utf8")])
            .arg(&file)
            .current_dir(tree.path())
            .output()
            .expect("actionlint");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let files = readme_recipes("yaml");
    assert_eq!(files.len(), 2);
    for file in &files {
        let value: Value = serde_saphyr::from_str(file).unwrap_or_else(|e| panic!("{e}: {file}"));
        assert!(value.is_object(), "{file}");
    }

    let configs = readme_recipes("pre-commit");
    assert_eq!(configs.len(), 1);
    tree.write(".pre-commit-config.yaml", &configs[0]);
    let out = Command::new(tool("pre-commit"))
        .args(["validate-config", ".pre-commit-config.yaml"])
        .current_dir(tree.path())
        .output()
        .expect("pre-commit");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_action_scripts_pass_shellcheck() {
    let run = run_in_root(
        &tool("shellcheck"),
        &[".github/action/run.sh", ".github/action/install.sh"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
}
