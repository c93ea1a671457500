//! `lambda-image push --archive`: an image archive verified and its own bytes pushed through
//! lambda-image's registry client, to Debian's `docker-registry` on 127.0.0.1. What the
//! registry stored is read with plain HTTP and from its storage folder, not through
//! lambda-image. Archives are `docker save` output of a stand-in base, or written here.

mod common;

use std::process::Command;

use common::fixtures::{self, lambda_spec, oci_files, sha, write_dir, write_tar, Wrap};
use common::registry::Registry;
use common::*;

const SCHEMA2: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI: &str = "application/vnd.oci.image.manifest.v1+json";

/// The manifest document stored for `repo:tag`.
fn stored(registry: &Registry, repo: &str, tag: &str) -> serde_json::Value {
    let (status, _, body) = registry
        .get(&format!("/v2/{repo}/manifests/{tag}"), &[SCHEMA2, OCI])
        .expect("the registry answers");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn env(tree: &Tree) -> Vec<(&'static str, String)> {
    tree.write("dockercfg/config.json", "{}");
    vec![(
        "DOCKER_CONFIG",
        tree.join("dockercfg").display().to_string(),
    )]
}

fn run(tree: &Tree, args: &[&str]) -> Run {
    let env = env(tree);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tree.run_env(args, &env)
}

/// A `docker save` of an image on a stand-in base: a schema 2 manifest with gzip layers
/// lands, whose layer digests are those of the compressed bytes and whose config is the
/// archive's; the same archive pushed again is the same digest and sends nothing; to another
/// repository of the registry its blobs are mounted, not sent.
#[test]
fn a_docker_save_archive_lands_as_schema2_with_gzip_layers_and_again_sends_nothing() {
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
    let tag = images.track(&format!("lambda-image-test/push-archive-{}:1", unique()));
    let built = tree.run(&[
        "build",
        "--file",
        "app/Dockerfile",
        "-t",
        &tag,
        "--no-verify",
        "-q",
    ]);
    assert_eq!(built.code, 0, "{}", built.both());
    let archive = tree.join("image.tar");
    let saved = Command::new("docker")
        .args(["save", "-o", archive.to_str().expect("utf8"), &tag])
        .status()
        .expect("docker save");
    assert!(saved.success());

    let dest = format!("{}/orders:v1", registry.host());
    let first = run(
        &tree,
        &[
            "push",
            "--archive",
            "image.tar",
            "--to",
            &dest,
            "--digest-file",
            "d.txt",
        ],
    );
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(
        first.stderr.contains("image.tar | verifying"),
        "{}",
        first.both()
    );
    let (media_type, digest) = registry.manifest("orders", "v1");
    assert_eq!(media_type, SCHEMA2);
    assert_eq!(
        first.stdout,
        format!("{}/orders@{digest}\n", registry.host()),
        "{}",
        first.both()
    );
    assert_eq!(tree.read("d.txt"), first.stdout);
    let m = stored(&registry, "orders", "v1");
    let layers = m["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 2, "{m}");
    for l in layers {
        assert_eq!(
            l["mediaType"],
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
    }
    // The config is the archive's, byte for byte (its digest is the image id); its
    // diff_ids stay the uncompressed digests, the layers are the compressed ones.
    let id = images.id(&tag).expect("image id");
    assert_eq!(m["config"]["digest"], id.as_str(), "{m}");
    let (_, _, config) = registry
        .get(&format!("/v2/orders/blobs/{id}"), &[])
        .expect("config");
    let config: serde_json::Value = serde_json::from_str(&config).expect("config json");
    for (l, diff_id) in layers
        .iter()
        .zip(config["rootfs"]["diff_ids"].as_array().expect("diff_ids"))
    {
        assert_ne!(l["digest"], *diff_id);
    }
    for n in 1..=2 {
        assert!(
            first.stderr.contains(&format!("layer {n}/2 sent (")),
            "{}",
            first.both()
        );
    }
    let blobs = registry.blobs();

    // Again: the same digest, nothing sent.
    let again = run(&tree, &["push", "--archive", "image.tar", "--to", &dest]);
    assert_eq!(again.code, 0, "{}", again.both());
    assert_eq!(again.stdout, first.stdout);
    assert!(again.stderr.contains("already pushed"), "{}", again.both());
    assert_eq!(registry.blobs(), blobs);
    // Under another tag: every blob already there.
    let other_tag = format!("{}/orders:v2", registry.host());
    let tagged = run(
        &tree,
        &["push", "--archive", "image.tar", "--to", &other_tag],
    );
    assert_eq!(tagged.code, 0, "{}", tagged.both());
    assert!(
        tagged
            .stderr
            .contains("2 layers: 0 sent, 2 already in the registry, 0 mounted"),
        "{}",
        tagged.both()
    );
    assert_eq!(registry.manifest("orders", "v2").1, digest);
    // Another repository of the same registry: mounted from the first.
    let copy = format!("{}/orders-copy:v1", registry.host());
    let mounted = run(&tree, &["push", "--archive", "image.tar", "--to", &copy]);
    assert_eq!(mounted.code, 0, "{}", mounted.both());
    assert!(
        mounted.stderr.contains("layer 1/2 mounted from orders")
            && mounted
                .stderr
                .contains("2 layers: 0 sent, 0 already in the registry, 2 mounted"),
        "{}",
        mounted.both()
    );
    assert_eq!(registry.manifest("orders-copy", "v1").1, digest);
    assert_eq!(registry.blobs(), blobs, "no blob was stored twice");
}

/// An OCI layout whose layers are gzip lands as it is: the registry's digest is the digest
/// of the layout's own manifest bytes, as a folder and as a tar.
#[test]
fn an_oci_layout_with_gzip_layers_lands_with_its_own_manifest_digest() {
    let registry = Registry::start(None);
    let tree = Tree::new();
    let oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    write_dir(&tree.join("layout"), &oci.files);
    write_tar(&tree.join("layout.tar"), &oci.files);
    for (source, repo) in [("layout", "fromdir"), ("layout.tar", "fromtar")] {
        let dest = format!("{}/{repo}:1", registry.host());
        let r = run(
            &tree,
            &["push", "--archive", source, "--to", &dest, "-f", "json"],
        );
        assert_eq!(r.code, 0, "{}", r.both());
        let (media_type, digest) = registry.manifest(repo, "1");
        assert_eq!(media_type, OCI);
        assert_eq!(digest, oci.manifest_digest);
        let report = r.json();
        assert_eq!(report[0]["registry_digest"], oci.manifest_digest.as_str());
        assert_eq!(report[0]["status"], "pushed");
        assert_eq!(report[0]["verified"], true);
        for d in &oci.layer_digests {
            assert!(registry.blobs().contains(d), "{d}");
        }
    }
}

/// Uncompressed layers of an OCI layout are compressed on the way, the same bytes every
/// time: two registries get the same manifest digest, and the layers are gzip.
#[test]
fn uncompressed_layers_are_compressed_the_same_way_every_time() {
    let tree = Tree::new();
    let oci = oci_files(&lambda_spec(), false, Wrap::Plain);
    write_dir(&tree.join("layout"), &oci.files);
    let mut digests = Vec::new();
    for cache in ["one", "two"] {
        let registry = Registry::start(None);
        let dest = format!("{}/plain:1", registry.host());
        let env = env(&tree);
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // A cache each: the second run compresses again, it does not remember.
        let dir = tree.join(cache).display().to_string();
        env.push(("LAMBDA_IMAGE_CACHE_DIR", dir.as_str()));
        let r = tree.run_env(&["push", "--archive", "layout", "--to", &dest], &env);
        assert_eq!(r.code, 0, "{}", r.both());
        let m = stored(&registry, "plain", "1");
        for l in m["layers"].as_array().expect("layers") {
            assert_eq!(
                l["mediaType"],
                "application/vnd.oci.image.layer.v1.tar+gzip"
            );
            assert!(!oci
                .layer_digests
                .contains(&l["digest"].as_str().unwrap_or_default().to_string()));
        }
        digests.push(registry.manifest("plain", "1").1);
    }
    assert_eq!(digests[0], digests[1]);
    assert_ne!(digests[0], oci.manifest_digest);
}

/// A zstd layer is refused with Lambda's own error, exit 1, and nothing reaches the
/// registry.
#[test]
fn a_zstd_layer_is_refused_with_lambdas_error_and_nothing_is_pushed() {
    let registry = Registry::start(None);
    let tree = Tree::new();
    let mut oci = oci_files(&lambda_spec(), true, Wrap::Plain);
    // The second layer becomes a zstd blob (magic and media type), its manifest rewritten.
    let zstd = vec![0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0];
    let old = oci.layer_digests[1].clone();
    let new = sha(&zstd);
    oci.files
        .retain(|(n, _)| *n != format!("blobs/sha256/{}", fixtures::hex(&old)));
    oci.files.push((
        format!("blobs/sha256/{}", fixtures::hex(&new)),
        zstd.clone(),
    ));
    let manifest_name = format!("blobs/sha256/{}", fixtures::hex(&oci.manifest_digest));
    let (_, bytes) = oci
        .files
        .iter()
        .find(|(n, _)| *n == manifest_name)
        .expect("manifest")
        .clone();
    let mut m: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    m["layers"][1]["digest"] = serde_json::json!(new);
    m["layers"][1]["size"] = serde_json::json!(zstd.len());
    m["layers"][1]["mediaType"] = serde_json::json!("application/vnd.oci.image.layer.v1.tar+zstd");
    let bytes = serde_json::to_vec(&m).expect("json");
    let md = sha(&bytes);
    oci.files
        .retain(|(n, _)| *n != manifest_name && n != "index.json");
    oci.files.push((
        format!("blobs/sha256/{}", fixtures::hex(&md)),
        bytes.clone(),
    ));
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI, "digest": md, "size": bytes.len()}]});
    oci.files.push((
        "index.json".into(),
        serde_json::to_vec(&index).expect("json"),
    ));
    write_dir(&tree.join("layout"), &oci.files);

    let dest = format!("{}/zstd:1", registry.host());
    let before = registry.catalog();
    let r = run(&tree, &["push", "--archive", "layout", "--to", &dest]);
    assert_eq!(r.code, 1, "{}", r.both());
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(&format!(
            "layout: failed verify: 1 verify check failed: layer-media-type: layer 2/2 application/vnd.oci.image.layer.v1.tar+zstd (zstd): Lambda refuses the image with \"InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest {new}\""
        )),
        "{}",
        r.both()
    );
    assert_eq!(registry.catalog(), before);
    assert!(registry.blobs().is_empty(), "{:?}", registry.blobs());
}

/// A failed check is exit 1 and nothing is sent; bad archives and destinations are one
/// line, exit 2.
#[test]
fn a_failing_archive_is_not_pushed_and_bad_input_is_one_line() {
    let registry = Registry::start(None);
    let tree = Tree::new();
    let mut spec = lambda_spec();
    spec.cmd = Some(vec!["app.handler".into(), "extra".into()]);
    write_tar(
        &tree.join("bad.tar"),
        &fixtures::docker_archive_files(&spec),
    );
    let dest = format!("{}/bad:1", registry.host());
    let r = run(&tree, &["push", "--archive", "bad.tar", "--to", &dest]);
    assert_eq!(r.code, 1, "{}", r.both());
    assert!(
        r.stderr
            .contains("bad.tar: failed verify: 1 verify check failed: cmd-arity"),
        "{}",
        r.both()
    );
    assert!(registry.blobs().is_empty());

    run(&tree, &["push", "--archive", "nothere.tar", "--to", &dest])
        .assert_error_starts("reading nothere.tar: ");
    tree.write("junk.tar", vec![0u8; 1024]);
    run(&tree, &["push", "--archive", "junk.tar", "--to", &dest]).assert_error(&format!(
        "{} is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)",
        tree.join("junk.tar").display()
    ).replace(&format!("{}/", tree.path().display()), ""));
    write_tar(
        &tree.join("ok.tar"),
        &fixtures::docker_archive_files(&lambda_spec()),
    );
    run(&tree, &["push", "--archive", "ok.tar"]).assert_error(
        "push --archive ok.tar: say where with --to REGISTRY/REPO[:TAG] (or push.to in .lambda-image.yaml)",
    );
    run(
        &tree,
        &["push", "--archive", "ok.tar", "--to", &registry.host()],
    )
    .assert_error(&format!(
        "--to {0} names a registry only; give the repository too ({0}/REPO[:TAG]) for --archive",
        registry.host()
    ));
    let r = run(
        &tree,
        &["push", "--archive", "ok.tar", "x:1", "--to", &dest],
    );
    assert_eq!(r.code, 2, "{}", r.both());
    assert!(registry.blobs().is_empty());
}

/// A registry that wants credentials gets them on every request of the upload (the blob
/// HEAD, the upload's POST, its streamed PATCH and the final PUT), from the docker config.
#[test]
fn an_archive_is_pushed_with_the_docker_configs_credentials() {
    use base64::Engine as _;
    let registry = Registry::start(Some(("ci", "s3cret")));
    let tree = Tree::new();
    write_tar(
        &tree.join("ok.tar"),
        &fixtures::docker_archive_files(&lambda_spec()),
    );
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret");
    tree.write(
        "cfg/config.json",
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    );
    let cfg = tree.join("cfg").display().to_string();
    let dest = format!("{}/private:1", registry.host());
    let r = tree.run_env(
        &["push", "--archive", "ok.tar", "--to", &dest],
        &[("DOCKER_CONFIG", cfg.as_str())],
    );
    assert_eq!(r.code, 0, "{}", r.both());
    let (media_type, digest) = registry.manifest("private", "1");
    assert_eq!(media_type, SCHEMA2);
    assert_eq!(r.stdout, format!("{}/private@{digest}\n", registry.host()));

    tree.write("none/config.json", "{}");
    let none = tree.join("none").display().to_string();
    let r = tree.run_env(
        &[
            "push",
            "--archive",
            "ok.tar",
            "--to",
            &format!("{}/other:1", registry.host()),
            "-q",
        ],
        &[("DOCKER_CONFIG", none.as_str())],
    );
    r.assert_error_starts(&format!(
        "the registry {} wants credentials; looked in no credentials for",
        registry.host()
    ));
}

/// A layer that is not what its config's diff_id says: the gate fails it (exit 1); without
/// the gate, the upload notices while compressing it and stops (one line, exit 2), and no
/// manifest is stored.
#[test]
fn a_layer_that_is_not_its_diff_id_is_never_stored() {
    let registry = Registry::start(None);
    let tree = Tree::new();
    let mut files = fixtures::docker_archive_files(&lambda_spec());
    let layer = files
        .iter_mut()
        .find(|(n, _)| n.ends_with("/layer.tar"))
        .expect("a layer");
    layer.1.extend_from_slice(&[0u8; 512]);
    write_tar(&tree.join("changed.tar"), &files);
    let dest = format!("{}/changed:1", registry.host());
    let r = run(&tree, &["push", "--archive", "changed.tar", "--to", &dest]);
    assert_eq!(r.code, 1, "{}", r.both());
    assert!(r.stderr.contains("failed verify"), "{}", r.both());
    let r = run(
        &tree,
        &[
            "push",
            "--archive",
            "changed.tar",
            "--to",
            &dest,
            "--no-verify",
            "-q",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.both());
    assert!(
        r.stderr.contains("hashes to sha256:") && r.stderr.contains("not to its diff_id sha256:"),
        "{}",
        r.both()
    );
    assert_eq!(
        r.stderr.lines().count(),
        2,
        "the warning and the error: {}",
        r.both()
    );
    let (status, _, _) = registry
        .get("/v2/changed/manifests/1", &[SCHEMA2])
        .expect("the registry answers");
    assert_eq!(status, 404);
}
