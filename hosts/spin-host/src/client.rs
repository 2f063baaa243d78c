//! What the tests need around the host: the built artifacts by repository path, and a plain
//! HTTP/1.0 GET over TCP. Invariant: nothing here interprets a response; the tests do.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

/// The bytes of `relative` (a path from the repository root); panics with `hint` (how to build
/// it) when it is missing.
pub fn artifact(relative: &str, hint: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; {hint}", path.display()))
}

/// The faas:cache component (`target/faas_cache.wasm`).
pub fn cache_component() -> Vec<u8> {
    artifact(
        "target/faas_cache.wasm",
        "build it with `cargo build -p faas-cache-artifact` at the repository root",
    )
}

/// A response: status, headers (lower-case names) and body (lossy UTF-8).
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The value of header `name`; panics when it is missing.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

/// Whether one instance served all of `replies`, in order: their `x-instance-requests` headers
/// (requests that instance had served) count up by one.
pub fn served_by_one_instance(replies: &[Reply]) -> bool {
    let served: Vec<u64> = replies
        .iter()
        .map(|r| r.header("x-instance-requests").parse().unwrap())
        .collect();
    served.windows(2).all(|w| w[1] == w[0] + 1)
}

/// One GET with a plain TCP client (blocking: call it from `spawn_blocking` in async tests).
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}
