//! `new`: every runtime scaffolds a spec that renders and lints clean; existing folders and
//! unknown runtimes are refused with one line, exit 2, nothing written.

mod common;

use common::*;

#[test]
fn every_runtime_scaffolds_a_spec_that_renders_and_lints_clean() {
    let tree = Tree::new();
    for rt in lambda_image::image_spec::RUNTIMES {
        let rel = format!("images/fn-{}", rt.id.replace('.', "-"));
        let dir = tree.join(&rel);
        let run = tree.run(&["new", "--runtime", rt.id, &rel]);
        assert_eq!(run.code, 0, "{}: {}", rt.id, run.both());
        assert!(dir.join("image.yaml").is_file());
        let spec = lambda_image::image_spec::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.runtime.id, rt.id);
        assert_eq!(spec.handler, rt.example_handler);
        if rt.family.installs_dependencies() {
            let req = spec.requirements.as_ref().expect("a dependency manifest");
            assert!(dir.join(&req.src).is_file());
            if let Some(lock) = &req.lock {
                assert!(dir.join(lock).is_file());
            }
        }
        let run = tree.run(&["render", &rel]);
        assert_eq!(run.code, 0, "{}", run.both());
        let df = lambda_image::dockerfile::parse(&run.stdout).unwrap_or_else(|e| panic!("{e:?}"));
        let findings: Vec<String> = lambda_image::lint::engine::check(&df)
            .into_iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        assert!(
            findings.is_empty(),
            "{}: {findings:?}\n{}",
            rt.id,
            run.stdout
        );
        // No staging folder is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(tree.join("images"))
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
    let tree = Tree::new();
    let run = tree.run(&["new", "--runtime", "provided.al2023", "hello"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let mode = |file: &str| {
        std::fs::metadata(tree.join("hello").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("bootstrap"), 0o755);
    assert_eq!(mode("function.sh"), 0o644);
}

#[test]
fn refuses_an_existing_folder() {
    let tree = Tree::new();
    tree.write("images/orders/app.py", "keep me");
    let before = tree.snapshot();
    tree.run(&["new", "images/orders", "--runtime", "python3.13"])
        .assert_error(
            "images/orders: already exists; `new` creates a folder and never overwrites one",
        );
    assert_eq!(tree.snapshot(), before, "nothing written");
}

#[test]
fn refuses_an_unknown_runtime() {
    let tree = Tree::new();
    let before = tree.snapshot();
    tree.run(&["new", "images/orders", "--runtime", "python3.9"])
        .assert_error_starts("--runtime: runtime 'python3.9' runs on Amazon Linux 2;");
    assert_eq!(tree.snapshot(), before, "nothing written");
}

#[test]
fn refuses_a_folder_name_that_cannot_be_an_image_name() {
    let tree = Tree::new();
    let before = tree.snapshot();
    tree.run(&["new", "images/a b", "--runtime", "python3.13"])
        .assert_error(
        "images/a b: the folder name is the image's name; use letters, digits, '-', '_' and '.'",
    );
    assert_eq!(tree.snapshot(), before, "nothing written");
}
