//! Starts Postfix's `smtp-sink` on a free loopback port for one test.
//!
//! The tests using it run when `smtp-sink` is installed (Debian package `postfix`);
//! without it they print a notice and pass, unless `TEMPFAIL_REQUIRE_SMTP_SINK=1`,
//! which makes its absence a failure.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `smtp-sink` binary, or `None` (after a notice) when it is not installed.
pub fn smtp_sink() -> Option<PathBuf> {
    for p in [
        "/usr/sbin/smtp-sink",
        "/usr/bin/smtp-sink",
        "/usr/local/sbin/smtp-sink",
    ] {
        let p = PathBuf::from(p);
        if p.exists() {
            return Some(p);
        }
    }
    if std::env::var("TEMPFAIL_REQUIRE_SMTP_SINK").as_deref() == Ok("1") {
        panic!(
            "TEMPFAIL_REQUIRE_SMTP_SINK=1 but smtp-sink is not installed (apt-get install postfix)"
        );
    }
    eprintln!(
        "notice: smtp-sink (Debian package postfix) is not installed: skipping this real-server test"
    );
    None
}

/// True when running as root (smtp-sink then needs `-u nobody`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running `smtp-sink`, killed on drop.
pub struct Sink {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Sink {
    /// Starts `smtp-sink FLAGS 127.0.0.1:PORT 50` and waits until it accepts
    /// connections; `None` when smtp-sink is not installed.
    #[allow(clippy::disallowed_methods)] // waiting for a real server to start
    pub fn start(flags: &[&str]) -> Option<Sink> {
        let bin = smtp_sink()?;
        // One start at a time in this process: two tests picking the same free port at
        // once would both spawn a sink on it, and the loser's readiness check could
        // connect to the winner's (another test's flags) before the loser exits.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = STARTING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for _attempt in 0..5 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let mut cmd = Command::new(&bin);
            if is_root() {
                cmd.args(["-u", "nobody"]);
            }
            cmd.args(flags)
                .arg(&addr)
                .arg("50")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = cmd.spawn().expect("spawn smtp-sink");
            let mut sink = Sink { child, addr };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = sink.child.try_wait() {
                    break; // exited: port taken or bad flags; try another port
                }
                if TcpStream::connect(&sink.addr).is_ok() {
                    return Some(sink);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("smtp-sink did not start");
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
