//! A registry stand-in whose blob uploads stall (or fail, or die): the push tests stop or
//! time out a push against it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A registry that answers the version check and "no such manifest", then never answers a
/// blob upload: a push to it hangs until it is stopped (or, [`StallingRegistry::failing`],
/// refuses it). Records each request line. Dropped, it closes the uploads it holds
/// (the engine would wait on them, and they take its slots).
pub struct StallingRegistry {
    pub port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stopped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What a [`StallingRegistry`] does with a blob upload.
#[derive(Clone, Copy, PartialEq)]
pub enum Uploads {
    Stall,
    /// `405 UNSUPPORTED`, which the engine does not retry (a 500 it retries for about 50 s,
    /// then fails the same way).
    Fail,
    /// The connection closed without an answer (a registry dying mid-upload), which the
    /// engine retries, saying `Retrying in N seconds` every second.
    Die,
}

impl Drop for StallingRegistry {
    fn drop(&mut self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl StallingRegistry {
    pub fn start() -> StallingRegistry {
        StallingRegistry::with(Uploads::Stall)
    }

    pub fn failing() -> StallingRegistry {
        StallingRegistry::with(Uploads::Fail)
    }

    pub fn dying() -> StallingRegistry {
        StallingRegistry::with(Uploads::Die)
    }

    pub fn with(uploads: Uploads) -> StallingRegistry {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("addr").port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = stopped.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let seen = seen.clone();
                let stop = stop.clone();
                std::thread::spawn(move || serve_stalling(stream, &seen, &stop, uploads));
            }
        });
        StallingRegistry {
            port,
            requests,
            stopped,
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn serve_stalling(
    mut stream: TcpStream,
    seen: &std::sync::Mutex<Vec<String>>,
    stopped: &std::sync::atomic::AtomicBool,
    uploads: Uploads,
) {
    let mut buf = [0u8; 8192];
    loop {
        let Ok(n) = stream.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        // The engine tries TLS first: an HTTP answer makes it fall back to plain HTTP.
        if buf[0] == 0x16 {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
            return;
        }
        let head = String::from_utf8_lossy(&buf[..n]).to_string();
        let line = head.lines().next().unwrap_or_default().to_string();
        if let Ok(mut s) = seen.lock() {
            s.push(line.clone());
        }
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let answer: &[u8] = if path == "/v2/" {
            b"HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        } else if path.contains("/manifests/") || path.contains("/blobs/sha256:") {
            b"HTTP/1.1 404 Not Found\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\nContent-Length: 53\r\n\r\n{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"x\"}]}"
        } else if uploads == Uploads::Die {
            return;
        } else if uploads == Uploads::Fail {
            b"HTTP/1.1 405 Method Not Allowed\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\nContent-Length: 49\r\n\r\n{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"x\"}]}"
        } else {
            // An upload: never answered (until the registry is dropped).
            let until = Instant::now() + Duration::from_secs(120);
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        };
        if stream.write_all(answer).is_err() {
            return;
        }
    }
}
