//! A private `redis-server` on 127.0.0.1 for the tests, the example and the
//! benchmark: a free port, no snapshots, append-only file only when asked,
//! killed (and its directory removed) on drop.
//!
//! The server runs under a small `sh` watchdog that holds the read end of a
//! pipe: when the owning process exits by any path (including a static
//! server never dropped, or a panic), the pipe closes and the watchdog stops
//! the server.
//!
//! When `redis-server` is not installed, [`RedisServer::start`] answers
//! `None` after printing a notice, unless `TEMPFAIL_REQUIRE_SERVERS=1` (CI),
//! where it panics with a message saying what to install.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How the server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// `--save '' --appendonly no`: everything is lost when it stops.
    None,
    /// `--save '' --appendonly yes --appendfsync always`: every write is in
    /// the append-only file, fsynced, before the reply.
    AppendFsyncAlways,
}

/// A running `redis-server`; killed on drop.
pub struct RedisServer {
    child: Option<(Child, ChildStdin)>,
    port: u16,
    dir: PathBuf,
    persistence: Persistence,
}

fn binary() -> String {
    std::env::var("TEMPFAIL_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

fn required() -> bool {
    std::env::var("TEMPFAIL_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

fn installed() -> bool {
    Command::new(binary())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> Option<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    l.local_addr().ok().map(|a| a.port())
}

/// Whether `PING` on `port` answers `+PONG`.
fn pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl RedisServer {
    /// Starts a server without persistence, or `None` (after a notice) when
    /// `redis-server` is missing and servers are not required.
    pub fn start() -> Option<RedisServer> {
        Self::start_with(Persistence::None)
    }

    /// Starts a server with this persistence.
    pub fn start_with(persistence: Persistence) -> Option<RedisServer> {
        if !installed() {
            if required() {
                panic!(
                    "TEMPFAIL_REQUIRE_SERVERS=1 but `{}` cannot be run: install the Debian package \
                     `redis-server` (or set TEMPFAIL_REDIS_SERVER to its path)",
                    binary()
                );
            }
            eprintln!(
                "notice: `{}` is not installed; skipping this Redis test \
                 (install `redis-server`, or set TEMPFAIL_REQUIRE_SERVERS=1 to make this a failure)",
                binary()
            );
            return None;
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tempfail-redis-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        let mut last = String::new();
        for _ in 0..10 {
            let Some(port) = free_port() else { continue };
            let mut server = RedisServer {
                child: None,
                port,
                dir: dir.clone(),
                persistence,
            };
            match server.spawn() {
                Ok(()) => return Some(server),
                Err(e) => last = e,
            }
        }
        panic!("could not start redis-server: {last}");
    }

    fn spawn(&mut self) -> Result<(), String> {
        // $0 is the binary; the server's arguments follow. The subshell waits
        // for a signal name (or end of file: TERM) on the shell's stdin, kept
        // as fd 3 (a background job's own stdin is /dev/null).
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"exec 3<&0; s="$0"; "$s" "$@" & p=$!; (read sig <&3; kill -"${sig:-TERM}" $p 2>/dev/null) & wait $p"#)
            .arg(binary())
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--dir")
            .arg(&self.dir);
        match self.persistence {
            Persistence::None => cmd.args(["--appendonly", "no"]),
            Persistence::AppendFsyncAlways => {
                cmd.args(["--appendonly", "yes", "--appendfsync", "always"])
            }
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let Some(stdin) = child.stdin.take() else {
            return Err("no stdin pipe".to_owned());
        };
        let mut running = (child, stdin);
        for _ in 0..500 {
            if pong(self.port) {
                self.child = Some(running);
                return Ok(());
            }
            if let Ok(Some(status)) = running.0.try_wait() {
                return Err(format!("exited with {status} (port {} taken?)", self.port));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Self::stop(&mut running, "KILL");
        Err("did not answer PING within 5 s".to_owned())
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn stop(running: &mut (Child, ChildStdin), signal: &str) {
        let _ = writeln!(running.1, "{signal}");
        let _ = running.1.flush();
        let _ = running.0.wait();
    }

    /// Kills the server (SIGKILL: no shutdown, like a crash).
    pub fn kill(&mut self) {
        if let Some(mut running) = self.child.take() {
            Self::stop(&mut running, "KILL");
        }
    }

    /// Kills the server and starts it again on the same port and directory
    /// with the same persistence.
    pub fn restart(&mut self) {
        self.kill();
        let mut last = String::new();
        for _ in 0..50 {
            match self.spawn() {
                Ok(()) => return,
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("could not restart redis-server: {last}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
