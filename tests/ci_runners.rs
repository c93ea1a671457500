//! The main job spread over CI runners: `--shard I/N` builds each image in exactly one
//! shard, and `plan` says beforehand what `build` will make, with the same inputs hashes
//! (JSON, and a GitHub Actions matrix). Images are built on a stand-in base under
//! `lambda-image-test/` and removed afterwards.

mod common;

use std::collections::BTreeSet;

use common::*;

/// Three provided.al2023 specs (COPY only) tagged under `lambda-image-test/`.
fn three_specs(images: &mut Images, tree: &Tree, base: &str) -> Vec<String> {
    let run_id = unique();
    let mut tags = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        let tag = images.track(&format!("lambda-image-test/shard-{name}-{run_id}:latest"));
        tree.write(
            &format!("images/{name}/image.yaml"),
            format!("runtime: provided.al2023\nbase: {base}\nbootstrap: {{src: bootstrap}}\ncopy: [{{src: function.sh}}]\nhandler: function.handler\ntags: [{tag}]\n"),
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
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        tags.push(tag);
    }
    tags
}

fn names(report: &serde_json::Value) -> BTreeSet<String> {
    report["images"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    format!(
                        "{}/{}",
                        i["name"].as_str().unwrap_or(""),
                        i["arch"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_shards_build_every_image_exactly_once_as_plan_said() {
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let tags = three_specs(&mut images, &tree, &base);

    // The plan of the whole job, and of each shard.
    let plan = tree.run(&["plan", "--all", "-f", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.both());
    let plan = plan.json();
    assert_eq!(plan["schema"], "lambda-image/plan/v1", "{plan}");
    let all = names(&plan);
    assert_eq!(
        all,
        ["alpha/x86_64", "beta/x86_64", "gamma/x86_64"]
            .map(String::from)
            .into(),
    );
    let mut built = Vec::new();
    for shard in ["1/2", "2/2"] {
        let planned = tree.run(&["plan", "--all", "--shard", shard, "-f", "json"]);
        assert_eq!(planned.code, 0, "{}", planned.both());
        let run = tree.run(&["build", "--all", "--shard", shard, "-f", "json"]);
        assert_eq!(run.code, 0, "{}", run.both());
        assert!(
            run.stderr.contains(&format!("shard {shard}: ")),
            "{}",
            run.both()
        );
        let report = run.json();
        // What plan said is what build did, hash for hash.
        assert_eq!(names(&report), names(&planned.json()), "{}", run.both());
        for (p, b) in planned.json()["images"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(report["images"].as_array().into_iter().flatten())
        {
            assert_eq!(b["status"], "built", "{report}");
            assert_eq!(p["inputs_hash"], b["inputs_hash"], "{p} vs {b}");
        }
        built.extend(names(&report));
    }
    // Every image once, none twice.
    let once: BTreeSet<String> = built.iter().cloned().collect();
    assert_eq!(built.len(), 3, "{built:?}");
    assert_eq!(once, all);
    for tag in &tags {
        assert!(images.exists(tag), "{tag}");
    }

    // The matrix for a CI job list: one entry per image, with what to build.
    let matrix = tree.run(&["plan", "--all", "-f", "github-matrix"]);
    assert_eq!(matrix.code, 0, "{}", matrix.both());
    assert_eq!(matrix.stdout.lines().count(), 1, "{}", matrix.stdout);
    let matrix: serde_json::Value = serde_json::from_str(&matrix.stdout).expect("json");
    let targets: BTreeSet<String> = matrix["include"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["target"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        targets,
        ["images/alpha", "images/beta", "images/gamma"]
            .map(String::from)
            .into()
    );
}

#[test]
fn a_bad_shard_is_one_line_and_nothing_is_built() {
    let tree = Tree::new();
    for bad in ["0/2", "3/2", "two"] {
        let run = tree.run(&["build", "--all", "--shard", bad]);
        assert_eq!(run.code, 2, "{}", run.both());
        run.assert_error(&format!(
            "--shard {bad}: expected I/N with 1 ≤ I ≤ N (such as 1/4)"
        ));
        let run = tree.run(&["plan", "--all", "--shard", bad]);
        assert_eq!(run.code, 2, "{}", run.both());
    }
}
