//! Debian's `docker-registry`, started on 127.0.0.1 on a free port (with or without htpasswd
//! auth) and stopped when dropped, and plain-HTTP reads of what it stored: the push tests and
//! the Action's end-to-end test read back through it, not through lambda-image.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// An HTTP answer: status, headers (names lower-cased), body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// An HTTP answer with a byte body.
pub type RawAnswer = (u16, Vec<(String, String)>, Vec<u8>);

/// A `docker-registry` on 127.0.0.1, stopped when dropped.
pub struct Registry {
    child: Child,
    pub port: u16,
    auth: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("addr").port()
        };
        let mut config = format!(
            "version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("htpasswd (install Debian's apache2-utils)");
            assert!(out.status.success());
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth: {{htpasswd: {{realm: test, path: {}}}}}\n",
                file.display()
            ));
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).expect("write config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (install Debian's docker-registry)");
        let registry = Registry {
            child,
            port,
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while registry.get("/v2/", &[]).is_none() {
            assert!(Instant::now() < deadline, "the registry did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    /// The digests of the blobs the registry stores (read from its storage folder).
    pub fn blobs(&self) -> std::collections::BTreeSet<String> {
        let root = self
            ._dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256");
        let mut out = std::collections::BTreeSet::new();
        for prefix in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            for blob in std::fs::read_dir(prefix.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                out.insert(format!("sha256:{}", blob.file_name().to_string_lossy()));
            }
        }
        out
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A plain HTTP GET: (status, headers lower-cased, body), `None` when nothing answers.
    pub fn get(&self, path: &str, accept: &[&str]) -> Option<Answer> {
        let accept: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
        let (status, headers, body) = self.request("GET", path, &accept, &[])?;
        Some((status, headers, String::from_utf8_lossy(&body).to_string()))
    }

    /// A raw HTTP request (with the registry's Basic credentials, if any): (status,
    /// headers lower-cased, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<RawAnswer> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some((u, p)) = &self.auth {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            request.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).ok()?;
        stream.write_all(body).ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let at = response.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&response[..at]).to_string();
        let mut lines = head.lines();
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some((status, headers, response[at + 4..].to_vec()))
    }

    /// Uploads a blob (POST, then PUT with the digest); returns its digest.
    pub fn put_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = super::fixtures::sha(bytes);
        let (status, headers, body) = self
            .request("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], b"")
            .expect("the registry answers");
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
        let location = headers
            .iter()
            .find(|(k, _)| k == "location")
            .map(|(_, v)| v.clone())
            .expect("a Location");
        let path = location
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or(location);
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, _, body) = self
            .request(
                "PUT",
                &format!("{path}{sep}digest={digest}"),
                &[("Content-Type", "application/octet-stream")],
                bytes,
            )
            .expect("the registry answers");
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        digest
    }

    /// The repositories the registry holds.
    pub fn catalog(&self) -> String {
        self.get("/v2/_catalog", &[])
            .map(|(_, _, b)| b)
            .unwrap_or_default()
    }

    /// (media type, digest) of `repo:tag`, read directly.
    pub fn manifest(&self, repo: &str, tag: &str) -> (String, String) {
        let (status, headers, body) = self
            .get(
                &format!("/v2/{repo}/manifests/{tag}"),
                &[
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.oci.image.manifest.v1+json",
                ],
            )
            .expect("the registry answers");
        assert_eq!(status, 200, "{body}");
        let h = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        (h("content-type"), h("docker-content-digest"))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
