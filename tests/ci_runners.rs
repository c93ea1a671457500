//! The main job spread over CI runners: `--shard I/N` builds each image in exactly one
//! shard, and `plan` says beforehand what `build` will make, with the same inputs hashes
//! (JSON, and a GitHub Actions matrix). Images are built on a stand-in base under
//! `lambda-image-test/` and removed afterwards.

mod common;

use std::collections::BTreeSet;

use common::registry::Registry;
use common::*;

/// Three provided.al2023 specs (COPY only) tagged under `lambda-image-test/`.
fn three_specs(images: &mut Images, tree: &Tree, base: &str) -> Vec<String> {
    let run_id = unique();
    let mut tags = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        let tag = images.track(&format!("lambda-image-test/shard-{name}-{run_id}:latest"));
        provided_spec(tree, name, base, &tag, "");
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

/// Two fresh runners: the first builds, verifies and pushes three specs; the second, with
/// an empty engine (the bases stay) and an empty cache folder, builds nothing, sends no
/// layer and leaves every tag on its digest, because the registry remembers the inputs.
/// A changed file rebuilds that image only.
#[test]
fn a_fresh_runner_builds_nothing_the_registry_already_has() {
    let registry = Registry::start(None);
    let mut images = Images::new();
    let base = images.base("provided.al2023");
    let tree = Tree::new();
    let tags = three_specs(&mut images, &tree, &base);
    let remote = |tag: &str| format!("{}/{tag}", registry.host());
    for tag in &tags {
        images.track(&remote(tag));
    }
    let runner = |n: usize| {
        let cache = tree.join(&format!("cache-{n}"));
        let run = tree.run_env(
            &[
                "build",
                "--all",
                "--push",
                "--to",
                &registry.host(),
                "-f",
                "json",
            ],
            &[("LAMBDA_IMAGE_CACHE_DIR", cache.to_str().expect("utf8"))],
        );
        assert_eq!(run.code, 0, "runner {n}: {}", run.both());
        run
    };
    let fresh = |images: &Images| {
        for tag in &tags {
            let _ = images.engine.remove_image(tag);
            let _ = images.engine.remove_image(&remote(tag));
        }
    };
    let digests = || -> Vec<String> {
        tags.iter()
            .map(|t| {
                let (repo, tag) = t.rsplit_once(':').expect("tag");
                registry.manifest(repo, tag).1
            })
            .collect()
    };
    let statuses = |run: &Run| -> Vec<(String, String, String)> {
        run.json()["images"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                (
                    i["name"].as_str().unwrap_or_default().to_string(),
                    i["status"].as_str().unwrap_or_default().to_string(),
                    i["unchanged_in"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };

    let first = runner(1);
    assert!(
        statuses(&first).iter().all(|(_, s, _)| s == "built"),
        "{}",
        first.both()
    );
    let pushed = digests();
    let stored = registry.blobs();
    // Each repository remembers its image's inputs under `li-<16 hex>`.
    let reports = first.json()["images"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, (tag, image)) in tags.iter().zip(&reports).enumerate() {
        let hash = image["inputs_hash"].as_str().unwrap_or_default();
        let hex: String = hash
            .trim_start_matches("sha256:")
            .chars()
            .take(16)
            .collect();
        let repo = tag.rsplit_once(':').expect("tag").0;
        assert_eq!(registry.manifest(repo, &format!("li-{hex}")).1, pushed[i]);
    }

    // A fresh runner: nothing in the engine but the base, an empty cache folder.
    fresh(&images);
    let second = runner(2);
    assert_eq!(
        statuses(&second),
        ["alpha", "beta", "gamma"]
            .map(|n| (
                n.to_string(),
                "unchanged".to_string(),
                "registry".to_string()
            ))
            .to_vec(),
        "{}",
        second.both()
    );
    for (image, digest) in second.json()["images"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(&pushed)
    {
        assert!(
            image["registry_digest"]
                .as_str()
                .unwrap_or_default()
                .ends_with(digest.as_str()),
            "{image}"
        );
    }
    assert_eq!(digests(), pushed, "a tag moved");
    assert_eq!(registry.blobs(), stored, "a layer was sent");
    for tag in &tags {
        assert!(!images.exists(tag), "{tag} was built or pulled");
    }

    // One changed file: only that image is built and pushed.
    tree.write(
        "images/beta/function.sh",
        "function handler () { echo beta 2; }\n",
    );
    // plan, asked beforehand, knows which one needs a runner.
    let plan = tree.run(&["plan", "--all", "--to", &registry.host(), "-f", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.both());
    let in_registry: Vec<bool> = plan.json()["images"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["in_registry"].is_string())
        .collect();
    assert_eq!(in_registry, [true, false, true], "{}", plan.stdout);
    let matrix = tree.run(&[
        "plan",
        "--all",
        "--to",
        &registry.host(),
        "-f",
        "github-matrix",
    ]);
    let matrix: serde_json::Value = serde_json::from_str(&matrix.stdout).expect("json");
    assert_eq!(
        matrix["include"].as_array().map(Vec::len),
        Some(1),
        "{matrix}"
    );
    assert_eq!(matrix["include"][0]["name"], "beta", "{matrix}");
    fresh(&images);
    let third = runner(3);
    assert_eq!(
        statuses(&third),
        vec![
            (
                "alpha".to_string(),
                "unchanged".to_string(),
                "registry".to_string()
            ),
            ("beta".to_string(), "built".to_string(), String::new()),
            (
                "gamma".to_string(),
                "unchanged".to_string(),
                "registry".to_string()
            ),
        ],
        "{}",
        third.both()
    );
    let now = digests();
    assert_eq!((&now[0], &now[2]), (&pushed[0], &pushed[2]));
    assert_ne!(now[1], pushed[1]);

    // Without --push, `--reuse pull` takes the registry's images instead of building them.
    fresh(&images);
    let cache = tree.join("cache-4");
    let fourth = tree.run_env(
        &[
            "build",
            "--all",
            "--reuse",
            "pull",
            "--to",
            &registry.host(),
            "-f",
            "json",
        ],
        &[("LAMBDA_IMAGE_CACHE_DIR", cache.to_str().expect("utf8"))],
    );
    assert_eq!(fourth.code, 0, "{}", fourth.both());
    assert_eq!(
        statuses(&fourth),
        ["alpha", "beta", "gamma"]
            .map(|n| (
                n.to_string(),
                "unchanged".to_string(),
                "registry".to_string()
            ))
            .to_vec(),
        "{}",
        fourth.both()
    );
    assert!(
        !fourth.stderr.contains("COPY function.sh"),
        "{}",
        fourth.both()
    );
    for tag in &tags {
        assert!(images.exists(tag), "{tag} was not pulled and tagged");
    }
    assert_eq!(digests(), now, "a tag moved");
}

/// A base updated upstream behind the same tag is a changed input: the image is rebuilt,
/// though nothing in the checkout changed (an asset hash of the checkout would not see it).
#[test]
fn a_base_updated_behind_its_tag_is_rebuilt() {
    let registry = Registry::start(None);
    let mut images = Images::new();
    let first_base = images.base("provided.al2023");
    let second_base = images.base("provided.al2023");
    let tree = Tree::new();
    let upstream = images.track(&format!("{}/upstream-base:1", registry.host()));
    let tag = images.track(&format!("lambda-image-test/upstream-{}:latest", unique()));
    images.track(&format!("{}/{tag}", registry.host()));
    let publish = |base: &str| {
        let run = tree.run(&["push", base, "--to", &upstream, "--no-verify", "-q"]);
        assert_eq!(run.code, 0, "{}", run.both());
        // Only the registry has it: the build resolves it there.
        let _ = images.engine.remove_image(&upstream);
    };
    publish(&first_base);
    provided_spec(&tree, "fn", &upstream, &tag, "");
    let run = |n: usize| {
        let _ = images.engine.remove_image(&tag);
        let _ = images
            .engine
            .remove_image(&format!("{}/{tag}", registry.host()));
        let cache = tree.join(&format!("cache-{n}"));
        let run = tree.run_env(
            &[
                "build",
                "images/fn",
                "--push",
                "--to",
                &registry.host(),
                "-f",
                "json",
            ],
            &[("LAMBDA_IMAGE_CACHE_DIR", cache.to_str().expect("utf8"))],
        );
        assert_eq!(run.code, 0, "run {n}: {}", run.both());
        let image = run.json()["images"][0].clone();
        (
            image["status"].as_str().unwrap_or_default().to_string(),
            image["unchanged_in"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            image["inputs_hash"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let (status, _, hash) = run(1);
    assert_eq!(status, "built");
    assert_eq!(
        run(2),
        ("unchanged".into(), "registry".into(), hash.clone())
    );
    // The same tag upstream now names another image.
    publish(&second_base);
    let (status, _, changed) = run(3);
    assert_eq!(status, "built");
    assert_ne!(changed, hash);
}
