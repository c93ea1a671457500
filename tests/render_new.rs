//! `new`: every runtime scaffolds a spec that renders and lints clean; existing folders and
//! unknown runtimes are refused with one line, exit 2, nothing written.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lambda-image");

#[test]
fn every_runtime_scaffolds_a_spec_that_renders_and_lints_clean() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for rt in lambda_image::spec::RUNTIMES {
        let name = format!("fn-{}", rt.id.replace('.', "-"));
        let dir = tmp.path().join("images").join(&name);
        let out = Command::new(BIN)
            .args(["new", "--runtime", rt.id])
            .arg(&dir)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            rt.id,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(dir.join("image.yaml").is_file());
        let spec = lambda_image::spec::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.runtime.id, rt.id);
        assert_eq!(spec.handler, rt.example_handler);
        if rt.family.installs_dependencies() {
            let req = spec.requirements.as_ref().expect("a dependency manifest");
            assert!(dir.join(&req.src).is_file());
            if let Some(lock) = &req.lock {
                assert!(dir.join(lock).is_file());
            }
        }
        let out = Command::new(BIN)
            .arg("render")
            .arg(&dir)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let df = lambda_image::dockerfile::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        let findings: Vec<String> = lambda_image::lint::engine::check(&df)
            .into_iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        assert!(findings.is_empty(), "{}: {findings:?}\n{text}", rt.id);
        // No staging folder is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("images"))
            .expect("read")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty());
    }
}

#[cfg(unix)]
#[test]
fn provided_bootstrap_is_executable() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("hello");
    let out = Command::new(BIN)
        .args(["new", "--runtime", "provided.al2023"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let mode = std::fs::metadata(dir.join("bootstrap"))
        .expect("bootstrap")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    let mode = std::fs::metadata(dir.join("function.sh"))
        .expect("function.sh")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
}

#[test]
fn refuses_an_existing_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("images/orders");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("app.py"), "keep me").expect("write");
    let out = Command::new(BIN)
        .args(["new", "images/orders", "--runtime", "python3.13"])
        .current_dir(tmp.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "lambda-image: error: images/orders: already exists; `new` creates a folder and never overwrites one\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app.py")).expect("read"),
        "keep me"
    );
    assert_eq!(std::fs::read_dir(&dir).expect("read").count(), 1);
    assert_eq!(
        std::fs::read_dir(tmp.path().join("images"))
            .expect("read")
            .count(),
        1
    );
}

#[test]
fn refuses_an_unknown_runtime() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["new", "images/orders", "--runtime", "python3.9"])
        .current_dir(tmp.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "lambda-image: error: --runtime: runtime 'python3.9' runs on Amazon Linux 2;"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("read").count(),
        0,
        "nothing written"
    );
}

#[test]
fn refuses_a_folder_name_that_cannot_be_an_image_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["new", "images/a b", "--runtime", "python3.13"])
        .current_dir(tmp.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "lambda-image: error: images/a b: the folder name is the image's name; use letters, digits, '-', '_' and '.'\n"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("read").count(),
        0,
        "nothing written"
    );
}
