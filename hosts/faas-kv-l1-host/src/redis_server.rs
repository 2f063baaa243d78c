//! A private `redis-server` for tests, the demo and the benchmark: started on a free loopback
//! port with persistence off, stopped on drop. Invariant: while a `RedisServer` is running, its
//! port answers `PING`; `stop` and `start` keep the same port, so clients can reconnect after a
//! restart.

use std::io;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process on 127.0.0.1.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

/// Where `redis-server` is: `$REDIS_SERVER`, else the first one on `PATH`.
pub fn redis_server_binary() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("REDIS_SERVER") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> io::Result<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = RedisServer { port, child: None };
        server.restart()?;
        Ok(server)
    }

    /// The server's URL, `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A plain connection, for changing Redis behind the L1's back.
    pub fn connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(2))
    }

    /// Kills the server (like a crash or a network cut): clients get I/O errors.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: persistence is off).
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let binary = redis_server_binary().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "redis-server not found on PATH (Debian: apt-get install redis-server; \
                 `cargo xtask test` installs it when run as root)",
            )
        })?;
        let child = Command::new(&binary)
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting {}: {e}", binary.display())))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answered = self
                .connection()
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if answered.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("redis-server on port {} did not answer PING", self.port),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Polls `done` until it holds and returns how long that took; panics with `what` after 10 s.
/// For tests that measure how soon a change made elsewhere is seen, rather than sleep for it.
pub fn until(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    start.elapsed()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
