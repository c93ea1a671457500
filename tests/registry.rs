//! The registry client against real and stand-in registries: Debian's `docker-registry` on
//! 127.0.0.1 (with and without htpasswd), and small stand-ins written here (a Bearer token
//! service and its registry, one that fails on purpose, one that never answers). Images are
//! crafted in the test (config and layer blobs uploaded, manifests put), no engine needed.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::fixtures::{gzip, sha};
use common::stand_in::{Reply, StandIn};
use common::Registry;
use lambda_image::image::oci;
use lambda_image::registry::manifest::{self as rm, Problem};
use lambda_image::registry::{credentials, Client, ErrorKind, Manifest, Options};

fn options() -> Options {
    Options {
        timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

/// Config and layer blobs uploaded (raw HTTP); the manifest returned, not put.
fn crafted(
    registry: &Registry,
    repo: &str,
    arch: &str,
    layers: &[&str],
    media_type: &str,
) -> Manifest {
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for (i, m) in layers.iter().enumerate() {
        let tar = format!("layer {i} of {arch}").into_bytes();
        diff_ids.push(sha(&tar));
        let bytes = if oci::LayerMedia::of(m) == oci::LayerMedia::Gzip {
            gzip(&tar)
        } else {
            tar
        };
        let digest = registry.put_blob(repo, &bytes);
        descriptors
            .push(serde_json::json!({"mediaType": m, "digest": digest, "size": bytes.len()}));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["app.handler"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("json");
    let config_digest = registry.put_blob(repo, &config);
    let config_type = if media_type == oci::OCI_MANIFEST {
        "application/vnd.oci.image.config.v1+json"
    } else {
        "application/vnd.docker.container.image.v1+json"
    };
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    });
    Manifest::new(media_type, serde_json::to_vec(&manifest).expect("json"))
}

/// Puts `manifest` under `tag` with raw HTTP.
fn put_raw(registry: &Registry, repo: &str, tag: &str, manifest: &Manifest) {
    let (status, _, body) = registry
        .request(
            "PUT",
            &format!("/v2/{repo}/manifests/{tag}"),
            &[("Content-Type", manifest.media_type.as_str())],
            &manifest.bytes,
        )
        .expect("the registry answers");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
}

fn config_digest(m: &Manifest) -> (String, u64) {
    let v: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    (
        v["config"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        v["config"]["size"].as_u64().unwrap_or_default(),
    )
}

/// A registry (with these credentials) holding a one-layer amd64 image as `orders:v1`.
fn orders_v1(auth: Option<(&str, &str)>) -> (Registry, Manifest) {
    let registry = Registry::start(auth);
    let m = crafted(
        &registry,
        "orders",
        "amd64",
        &[oci::DOCKER_LAYER_GZIP],
        oci::DOCKER_MANIFEST,
    );
    put_raw(&registry, "orders", "v1", &m);
    (registry, m)
}

#[test]
fn manifests_head_get_and_put_under_another_tag_and_blob_head() {
    let (registry, m) = orders_v1(None);
    let host = registry.host();
    let client = Client::new(&host, &options()).expect("client");
    assert_eq!(
        client.scheme(),
        "http",
        "loopback registries are plain HTTP"
    );

    let head = client
        .manifest_head("orders", "v1")
        .expect("head")
        .expect("there");
    assert_eq!(head.digest, m.digest);
    assert_eq!(head.media_type, oci::DOCKER_MANIFEST);
    assert_eq!(head.size, m.bytes.len() as u64);
    let got = client
        .manifest("orders", "v1")
        .expect("get")
        .expect("there");
    assert_eq!(got, m);
    let by_digest = client
        .manifest("orders", &m.digest)
        .expect("get")
        .expect("there");
    assert_eq!(by_digest.bytes, m.bytes);
    assert_eq!(client.manifest_head("orders", "nope").expect("head"), None);
    assert_eq!(client.manifest("nothing-here", "v1").expect("get"), None);

    // Another tag for the same manifest: no layer moves, the tag resolves to the digest.
    let digest = client.put_manifest("orders", "stable", &got).expect("put");
    assert_eq!(digest, m.digest);
    assert_eq!(
        registry.manifest("orders", "stable"),
        (oci::DOCKER_MANIFEST.to_string(), m.digest.clone())
    );

    // Blobs.
    let (config, size) = config_digest(&m);
    assert_eq!(
        client.blob_exists("orders", &config).expect("head"),
        Some(size)
    );
    assert_eq!(
        client.blob_exists("orders", &sha(b"absent")).expect("head"),
        None
    );
    let bytes = client.blob("orders", &config, 1 << 20).expect("blob");
    assert_eq!(sha(&bytes), config);
    let e = client.blob("orders", &config, 10).expect_err("too large");
    assert_eq!(
        e.to_string(),
        format!("reading blob orders@{config} from {host}: the blob is larger than 10 bytes")
    );
}

fn docker_config(dir: &std::path::Path, json: &str) -> std::path::PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, json).expect("write config");
    path
}

/// A client for `host` with the credentials a Docker config (`json`, written in `dir`) has.
fn client_with(dir: &std::path::Path, host: &str, json: &str) -> Client {
    let path = docker_config(dir, json);
    let found = credentials::for_registry_in(Some(path), host).expect("credentials");
    Client::new(host, &options())
        .expect("client")
        .with_credentials(found)
}

/// A Docker config whose `auths` has `user:password` for `host`.
fn auths(host: &str, user_password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(user_password);
    format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#)
}

#[test]
fn basic_auth_with_the_docker_configs_credentials() {
    let (registry, m) = orders_v1(Some(("ci", "s3cret")));
    let host = registry.host();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.json");

    let ok = client_with(dir.path(), &host, &auths(&host, "ci:s3cret"));
    assert_eq!(
        ok.manifest("orders", "v1")
            .expect("get")
            .expect("there")
            .digest,
        m.digest
    );
    // The Basic header is kept: the next request needs no new challenge.
    assert_eq!(
        ok.manifest_head("orders", "v1")
            .expect("head")
            .expect("there")
            .digest,
        m.digest
    );

    let wrong = client_with(dir.path(), &host, &auths(&host, "ci:wrong"));
    let e = wrong.manifest("orders", "v1").expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    let line = e.to_string();
    assert!(
        line.starts_with(&format!(
            "reading manifest orders:v1 from {host}: 401 Unauthorized"
        )) && line.ends_with(&format!(
            "(credentials from auths \"{host}\" in {} were refused)",
            path.display()
        )) && !line.contains('\n'),
        "{line}"
    );

    let none = client_with(dir.path(), &host, "{}");
    let line = none
        .manifest("orders", "v1")
        .expect_err("wants")
        .to_string();
    assert!(
        line.ends_with(&format!(
            "(the registry wants credentials; looked in no credentials for {host} in {})",
            path.display()
        )),
        "{line}"
    );
}

/// `/token?service=stand-in&scope=…` → `tok:<scope>` for ci:s3cret; 401 otherwise.
fn token_service() -> StandIn {
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("ci:s3cret")
    );
    StandIn::start(move |r| -> Reply {
        let scope = r
            .target
            .split_once("scope=")
            .map(|(_, s)| {
                s.split('&')
                    .next()
                    .unwrap_or(s)
                    .replace("%3A", ":")
                    .replace("%2C", ",")
            })
            .unwrap_or_default();
        // An identity token comes as an OAuth2 refresh-token grant.
        let body = String::from_utf8_lossy(&r.body);
        let refresh = r.method == "POST"
            && r.target == "/token"
            && body.contains("grant_type=refresh_token")
            && body.contains("refresh_token=id-tok")
            && body.contains("service=stand-in");
        let scope = if refresh {
            body.split('&')
                .find_map(|p| p.strip_prefix("scope="))
                .unwrap_or_default()
                .replace("%3A", ":")
                .replace("%2C", ",")
        } else {
            scope
        };
        if refresh
            || (r.header("authorization") == Some(good.as_str())
                && r.target.starts_with("/token?service=stand-in&"))
        {
            let body = serde_json::json!({"token": format!("tok:{scope}")}).to_string();
            Some((
                200,
                vec![("Content-Type".into(), "application/json".into())],
                body.into_bytes(),
            ))
        } else {
            Some((401, Vec::new(), b"{}".to_vec()))
        }
    })
}

/// A registry that wants `Bearer tok:repository:orders:pull` and serves one manifest.
fn bearer_registry(token_port: u16, manifest: Manifest) -> StandIn {
    StandIn::start(move |r| -> Reply {
        if r.header("authorization") != Some("Bearer tok:repository:orders:pull") {
            let challenge = format!(
                r#"Bearer realm="http://127.0.0.1:{token_port}/token",service="stand-in",scope="repository:orders:pull""#
            );
            return Some((
                401,
                vec![("WWW-Authenticate".into(), challenge)],
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                    .to_vec(),
            ));
        }
        if r.target == "/v2/orders/manifests/v1" {
            manifest_reply(&manifest)
        } else {
            Some((404, Vec::new(), Vec::new()))
        }
    })
}

#[test]
fn bearer_tokens_from_the_challenges_realm() {
    let tokens = token_service();
    let m = Manifest::new(oci::OCI_MANIFEST, br#"{"schemaVersion":2}"#.to_vec());
    let registry = bearer_registry(tokens.port, m.clone());
    let host = registry.host();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.json");
    let client = client_with(dir.path(), &host, &auths(&host, "ci:s3cret"));
    assert_eq!(
        client.manifest("orders", "v1").expect("get"),
        Some(m.clone())
    );
    // The token is reused for the same repository and actions.
    assert_eq!(
        client
            .manifest_head("orders", "v1")
            .expect("head")
            .map(|h| h.digest),
        Some(m.digest.clone())
    );
    let asked = tokens.requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(
        asked[0].target,
        "/token?service=stand-in&scope=repository%3Aorders%3Apull"
    );
    let seen = registry.requests();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].header("authorization"), None);
    assert!(
        seen.iter().all(|r| !r
            .header("authorization")
            .unwrap_or_default()
            .starts_with("Basic")),
        "the password goes to the token service only: {seen:?}"
    );

    // An identity token (a helper's `<token>` user, or `identitytoken`): posted to the realm.
    let with_id = format!(r#"{{"auths": {{"{host}": {{"identitytoken": "id-tok"}}}}}}"#);
    let client = client_with(dir.path(), &host, &with_id);
    assert_eq!(
        client.manifest("orders", "v1").expect("get"),
        Some(m.clone())
    );
    assert_eq!(
        tokens
            .requests()
            .last()
            .map(|r| r.method.clone())
            .as_deref(),
        Some("POST")
    );

    // A refused password: one line naming the registry, the token service and the source.
    let client = client_with(dir.path(), &host, &auths(&host, "ci:nope"));
    let e = client.manifest("orders", "v1").expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest orders:v1 from {host}: the token service {} answered 401 Unauthorized (credentials from auths \"{host}\" in {} were refused)",
            tokens.host(),
            path.display()
        )
    );
}

/// `m` as a registry serves a manifest: its bytes, media type and digest.
fn manifest_reply(m: &Manifest) -> Reply {
    Some((
        200,
        vec![
            ("Content-Type".into(), m.media_type.clone()),
            ("Docker-Content-Digest".into(), m.digest.clone()),
        ],
        m.bytes.clone(),
    ))
}

fn serves(m: &Manifest) -> impl Fn(&common::stand_in::Seen) -> Reply + Send + Sync + 'static {
    let m = m.clone();
    move |_| manifest_reply(&m)
}

#[test]
fn plain_http_only_for_loopback_and_insecure_registries() {
    let m = Manifest::new(oci::OCI_MANIFEST, br#"{"schemaVersion":2}"#.to_vec());
    let stand_in = StandIn::start(serves(&m));
    // 0.0.0.0 reaches this machine's listeners but is not a loopback address: HTTPS.
    let host = format!("0.0.0.0:{}", stand_in.port);
    let client = Client::new(&host, &options()).expect("client");
    assert_eq!(client.scheme(), "https");
    let e = client
        .manifest("orders", "v1")
        .expect_err("plain HTTP refused");
    assert_eq!(e.kind(), ErrorKind::Tls);
    assert_eq!(
        e.to_string(),
        format!("reading manifest orders:v1 from {host}: the registry answers plain HTTP, not HTTPS; lambda-image speaks plain HTTP only to loopback registries and to hosts given with --insecure-registry {host}")
    );
    let insecure = Options {
        insecure: vec![host.clone()],
        ..options()
    };
    let client = Client::new(&host, &insecure).expect("client");
    assert_eq!(client.manifest("orders", "v1").expect("get"), Some(m));
}

/// A registry that answers its first request with `status`, then serves `m`.
fn fails_once_then_serves(status: u16, m: &Manifest) -> StandIn {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let ok = serves(m);
    StandIn::start(move |r| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Some((status, Vec::new(), Vec::new()))
        } else {
            ok(r)
        }
    })
}

#[test]
fn server_errors_are_retried_client_errors_are_not() {
    let m = Manifest::new(oci::OCI_MANIFEST, br#"{"schemaVersion":2}"#.to_vec());
    let fast = Options {
        backoff: Duration::from_millis(50),
        ..options()
    };
    // 500, then 200.
    let flaky = fails_once_then_serves(500, &m);
    let client = Client::new(&flaky.host(), &fast).expect("client");
    assert_eq!(
        client.manifest("orders", "v1").expect("retried"),
        Some(m.clone())
    );
    assert_eq!(flaky.requests().len(), 2);

    // 429, then 200.
    let busy = fails_once_then_serves(429, &m);
    let client = Client::new(&busy.host(), &fast).expect("client");
    assert!(client.manifest("orders", "v1").expect("retried").is_some());

    // Always 503: three attempts, then one line.
    let down = StandIn::start(|_| {
        Some((
            503,
            Vec::new(),
            br#"{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}"#.to_vec(),
        ))
    });
    let client = Client::new(&down.host(), &fast).expect("client");
    let e = client.manifest("orders", "v1").expect_err("gives up");
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest orders:v1 from {}: 503 Service Unavailable: UNAVAILABLE maintenance (after 3 attempts)",
            down.host()
        )
    );
    assert_eq!(down.requests().len(), 3);

    // 400 and 404: once.
    let bad = StandIn::start(|r| {
        Some((
            if r.target.contains("gone") { 404 } else { 400 },
            Vec::new(),
            Vec::new(),
        ))
    });
    let client = Client::new(&bad.host(), &fast).expect("client");
    assert_eq!(client.manifest("orders", "gone").expect("absent"), None);
    let e = client.manifest("orders", "v1").expect_err("bad request");
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest orders:v1 from {}: 400 Bad Request",
            bad.host()
        )
    );
    assert_eq!(bad.requests().len(), 2);

    // Nothing listening: connection refused, retried, one line.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = Client::new(&format!("127.0.0.1:{port}"), &fast).expect("client");
    let e = client.manifest_head("orders", "v1").expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Unreachable);
    assert_eq!(
        e.to_string(),
        format!("reading manifest orders:v1 from 127.0.0.1:{port}: connection refused (after 3 attempts)")
    );
}

#[test]
fn a_registry_that_never_answers_stops_at_the_timeout() {
    let silent = StandIn::start(|_| None);
    let client = Client::new(
        &silent.host(),
        &Options {
            timeout: Duration::from_secs(1),
            ..Options::default()
        },
    )
    .expect("client");
    let started = Instant::now();
    let e = client.manifest("orders", "v1").expect_err("times out");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest orders:v1 from {}: no answer within 1 s",
            silent.host()
        )
    );
    assert_eq!(silent.requests().len(), 1, "a timeout is not retried");
}

#[test]
fn the_read_back_refuses_what_lambda_refuses() {
    let registry = Registry::start(None);
    let host = registry.host();
    let client = Client::new(&host, &options()).expect("client");
    let dest = |tag: &str| format!("{host}/fn:{tag}");

    // gzip layers, one architecture: nothing to say.
    let good = crafted(
        &registry,
        "fn",
        "amd64",
        &[oci::DOCKER_LAYER_GZIP, oci::OCI_LAYER_GZIP],
        oci::DOCKER_MANIFEST,
    );
    let digest = client.put_manifest("fn", "good", &good).expect("put");
    let read = rm::read_back(&client, "fn", &digest).expect("read back");
    assert_eq!(read.platforms, ["linux/amd64"]);
    assert_eq!(read.layers.len(), 2);
    assert_eq!(rm::check(&read, &digest, "amd64"), []);
    // … but not for an arm64 function.
    let problems = rm::check(&read, &digest, "arm64");
    assert_eq!(
        problems.iter().map(|p| p.message(&dest("good"), &digest)).collect::<Vec<_>>(),
        [format!("{} is for linux/amd64 in the registry, but the function uses linux/arm64; Lambda will fail to start it (exec format error): build it for arm64", dest("good"))]
    );

    // An uncompressed and a zstd layer.
    let bad = crafted(
        &registry,
        "fn",
        "amd64",
        &[oci::OCI_LAYER, oci::OCI_LAYER_GZIP, oci::OCI_LAYER_ZSTD],
        oci::OCI_MANIFEST,
    );
    let digest = client.put_manifest("fn", "layers", &bad).expect("put");
    let read = rm::read_back(&client, "fn", &digest).expect("read back");
    let problems = rm::check(&read, &digest, "amd64");
    let [p @ Problem::Layers { .. }] = problems.as_slice() else {
        panic!("{problems:?}");
    };
    let line = p.message(&dest("layers"), &digest);
    assert!(
        line.starts_with(&format!(
            "{} has 2 layers Lambda will not take: layer 1/3 application/vnd.oci.image.layer.v1.tar (uncompressed, {}), layer 3/3 application/vnd.oci.image.layer.v1.tar+zstd (zstd, {}); Lambda refuses the image: \"InvalidImage: ImageLayerFailure: UnsupportedImageLayerDetected - Layer Digest {}\".",
            dest("layers"),
            read.layers[0].digest,
            read.layers[2].digest,
            read.layers[0].digest
        )),
        "{line}"
    );

    // An index of two platforms.
    let arm = crafted(
        &registry,
        "fn",
        "arm64",
        &[oci::OCI_LAYER_GZIP],
        oci::OCI_MANIFEST,
    );
    let amd = crafted(
        &registry,
        "fn",
        "amd64",
        &[oci::OCI_LAYER_GZIP],
        oci::OCI_MANIFEST,
    );
    for m in [&arm, &amd] {
        client
            .put_manifest("fn", &m.digest, m)
            .expect("put by digest");
    }
    let entry = |m: &Manifest, arch: &str| serde_json::json!({"mediaType": m.media_type, "digest": m.digest, "size": m.bytes.len(), "platform": {"os": "linux", "architecture": arch}});
    let index = Manifest::new(
        oci::OCI_INDEX,
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": oci::OCI_INDEX, "manifests": [entry(&amd, "amd64"), entry(&arm, "arm64")]})).expect("json"),
    );
    let digest = client
        .put_manifest("fn", "multi", &index)
        .expect("put index");
    let head = client
        .manifest_head("fn", "multi")
        .expect("head")
        .expect("there");
    assert_eq!(
        (head.media_type.as_str(), head.digest.as_str()),
        (oci::OCI_INDEX, digest.as_str())
    );
    let read = rm::read_back(&client, "fn", &digest).expect("read back");
    let problems = rm::check(&read, &digest, "amd64");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].message(&dest("multi"), &digest),
        format!(
            "{d} is a application/vnd.oci.image.index.v1+json (2 platforms: linux/amd64, linux/arm64) in the registry, not a single-platform image manifest; Lambda will refuse it: \"The image manifest, config or layer media type for the source image {d} is not supported.\" Build one architecture per image, without attestations (lambda-image build does), and push it again",
            d = dest("multi")
        )
    );
}
